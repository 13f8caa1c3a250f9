#include "inbeeld/delivery/cursor.h"

#include "gtest/gtest.h"

namespace inbeeld::delivery {
namespace {

TEST(CursorTest, EmptyMeansFromTheBeginning) {
  absl::StatusOr<Cursor> cursor = DecodeCursor("");
  ASSERT_TRUE(cursor.ok());
  EXPECT_TRUE(cursor->next_offsets.empty());
  EXPECT_EQ(EncodeCursor(Cursor{}), "");
}

TEST(CursorTest, RoundTrips) {
  const Cursor cases[] = {
      Cursor{{{0, 0}}},
      Cursor{{{0, 15}}},
      Cursor{{{0, 15}, {1, 3}, {7, 9000000000}}},
  };
  for (const Cursor& c : cases) {
    std::string text = EncodeCursor(c);
    absl::StatusOr<Cursor> back = DecodeCursor(text);
    ASSERT_TRUE(back.ok()) << text;
    EXPECT_EQ(*back, c) << text;
  }
}

TEST(CursorTest, EncodesPartitionColonOffset) {
  EXPECT_EQ(EncodeCursor(Cursor{{{0, 15}}}), "0:15");
  EXPECT_EQ(EncodeCursor(Cursor{{{1, 3}, {0, 15}}}), "0:15,1:3");
}

TEST(CursorTest, RejectsMalformed) {
  const char* cases[] = {
      "x",        "0",         "0:",         ":5",          "0:5,",      ",0:5",
      "0:5:6",    "-1:5",      "0:-5",       "0:5,0:6",     "0:5;1:6",   " 0:5",
      "0x1:5",    "0:1e3",     "99999999999:1", "0:99999999999999999999", "0:5,,1:6",
  };
  for (const char* text : cases) {
    absl::StatusOr<Cursor> cursor = DecodeCursor(text);
    EXPECT_EQ(cursor.status().code(), absl::StatusCode::kInvalidArgument) << text;
  }
}

TEST(CursorTest, ErrorDoesNotEchoInput) {
  absl::StatusOr<Cursor> cursor = DecodeCursor("secret-looking-input");
  ASSERT_FALSE(cursor.ok());
  EXPECT_EQ(cursor.status().message().find("secret"), std::string_view::npos);
}

}  // namespace
}  // namespace inbeeld::delivery
