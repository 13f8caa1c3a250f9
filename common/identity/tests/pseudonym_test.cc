#include "inbeeld/identity/pseudonym.h"

#include <atomic>
#include <thread>
#include <vector>

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

// The pseudonymizer keys its HMAC once and copies the keyed context per call: the pseudonyms must stay
// HMAC-SHA256(secret, identity key) exactly (stored keys, changelogs and subscribers depend on them), for copies
// of the pseudonymizer and for concurrent callers.
TEST(PseudonymTest, PseudonymIsTheHmacOfTheIdentityKeyForCopiesAndConcurrentCallers) {
  const std::string secret = "0123456789abcdef-secret-a";
  auto a = Pseudonymizer::Create(secret);
  ASSERT_TRUE(a.ok());
  const Pseudonymizer copy = *a;
  std::vector<std::string> keys;
  for (int i = 0; i < 200; ++i) {
    v1::Leerling l;
    if (i % 2) {
      l.set_bsn(std::to_string(100000000 + i * 7919));
    } else {
      l.set_onderwijsnummer(std::to_string(200000000 + i * 104729));
    }
    keys.push_back(IdentityKey(l));
  }
  for (const std::string& k : keys) {
    EXPECT_EQ(a->OfKey(k), HmacSha256Hex(secret, k));
    EXPECT_EQ(copy.OfKey(k), HmacSha256Hex(secret, k));
  }
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int round = 0; round < 50; ++round) {
        for (const std::string& k : keys) wrong += a->OfKey(k) != HmacSha256Hex(secret, k) ? 1 : 0;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(wrong.load(), 0);
}

// The keyed states follow RFC 2104 for every secret length: padded below the
// block size (64 bytes), hashed first above it.
TEST(PseudonymTest, KeyedHmacEqualsOneShotHmacForSecretsAroundTheBlockSize) {
  for (size_t secret_len : {16u, 32u, 63u, 64u, 65u, 131u, 300u}) {
    std::string secret;
    for (size_t i = 0; i < secret_len; ++i) secret.push_back(static_cast<char>('!' + (i * 37) % 90));
    auto p = Pseudonymizer::Create(secret);
    ASSERT_TRUE(p.ok());
    for (size_t data_len = 0; data_len <= 130; ++data_len) {
      const std::string data(data_len, static_cast<char>('a' + data_len % 26));
      ASSERT_EQ(p->OfKey(data), HmacSha256Hex(secret, data)) << "secret " << secret_len << ", data " << data_len;
    }
  }
}

TEST(PseudonymTest, KeyedHmacMatchesRfc4231Vectors) {
  // Test case 4 (a 25-byte key) and test case 6 (131 bytes: hashed first).
  std::string key4;
  for (int i = 1; i <= 25; ++i) key4.push_back(static_cast<char>(i));
  EXPECT_EQ(Pseudonymizer::Create(key4)->OfKey(std::string(50, '\xcd')),
            "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b");
  EXPECT_EQ(Pseudonymizer::Create(std::string(131, '\xaa'))->OfKey("Test Using Larger Than Block-Size Key - Hash Key First"),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST(PseudonymTest, Sha256MatchesFips180Vectors) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // The digest itself, from the same reused context of this thread.
  const Sha256Digest abc = Sha256("abc");
  EXPECT_EQ(abc.front(), 0xba);
  EXPECT_EQ(abc.back(), 0xad);
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(PseudonymTest, ShortSecretRejected) {
  EXPECT_FALSE(Pseudonymizer::Create("short").ok());
}

}  // namespace
}  // namespace inbeeld::identity
