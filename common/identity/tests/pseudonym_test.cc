#include "inbeeld/identity/pseudonym.h"

#include "gtest/gtest.h"
#include "inbeeld/identity/validation.h"

namespace inbeeld::identity {
namespace {

TEST(PseudonymTest, HmacMatchesRfc4231Vector) {
  // RFC 4231 test case 2.
  EXPECT_EQ(HmacSha256Hex("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(PseudonymTest, StableKeyedAndNotTheBsn) {
  auto a = Pseudonymizer::Create("0123456789abcdef-secret-a");
  auto b = Pseudonymizer::Create("0123456789abcdef-secret-b");
  ASSERT_TRUE(a.ok() && b.ok());
  v1::Leerling l;
  l.set_bsn("111222333");
  EXPECT_EQ(a->Of(l), a->Of(l));
  EXPECT_NE(a->Of(l), b->Of(l));
  EXPECT_EQ(a->Of(l).size(), 64u);
  EXPECT_EQ(a->Of(l).find("111222333"), std::string::npos);
  // The same digits as onderwijsnummer are a different identity.
  v1::Leerling o;
  o.set_onderwijsnummer("111222333");
  EXPECT_NE(a->Of(l), a->Of(o));
}

TEST(PseudonymTest, ShortSecretRejected) {
  EXPECT_FALSE(Pseudonymizer::Create("short").ok());
}

}  // namespace
}  // namespace inbeeld::identity
