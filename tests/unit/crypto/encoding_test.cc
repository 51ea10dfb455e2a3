// tests/unit/crypto/encoding_test.cc — base64url, base32 and hex: RFC 4648 vectors, round
// trips, and strict rejection of every non-canonical text.
#include "crypto/encoding.h"

#include <gtest/gtest.h>

#include <random>

#include "tests/unit/crypto/test_util.h"

namespace encfsr::crypto {
namespace {

using test::Bytes;

Bytes bytes_of(std::string_view s) { return Bytes(s.begin(), s.end()); }

TEST(Encoding, Rfc4648Vectors) {
  const std::pair<std::string_view, std::string_view> b64[] = {
      {"", ""},           {"f", "Zg"},          {"fo", "Zm8"},         {"foo", "Zm9v"},
      {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  const std::pair<std::string_view, std::string_view> b32[] = {{"", ""},
                                                               {"f", "my"},
                                                               {"fo", "mzxq"},
                                                               {"foo", "mzxw6"},
                                                               {"foob", "mzxw6yq"},
                                                               {"fooba", "mzxw6ytb"},
                                                               {"foobar", "mzxw6ytboi"}};
  Bytes out;
  for (auto [plain, text] : b64) {
    EXPECT_EQ(base64url_encode(bytes_of(plain)), text);
    ASSERT_EQ(base64url_decode(text, out), Status::kOk) << text;
    EXPECT_EQ(out, bytes_of(plain));
  }
  for (auto [plain, text] : b32) {
    EXPECT_EQ(base32_encode(bytes_of(plain)), text);
    ASSERT_EQ(base32_decode(text, out), Status::kOk) << text;
    EXPECT_EQ(out, bytes_of(plain));
  }
  EXPECT_EQ(base64url_encode(Bytes{0xfb, 0xff}), "-_8");  // the URL-safe characters
  EXPECT_EQ(hex_encode(Bytes{0x00, 0x1f, 0xa0, 0xff}), "001fa0ff");
  ASSERT_EQ(hex_decode("001fa0ff", out), Status::kOk);
  EXPECT_EQ(out, (Bytes{0x00, 0x1f, 0xa0, 0xff}));
}

TEST(Encoding, RandomRoundTrips) {
  std::mt19937_64 rng(3);
  Bytes out;
  for (std::size_t n = 0; n < 300; ++n) {
    const Bytes b = test::random_bytes(rng, n);
    const std::string t64 = base64url_encode(b);
    EXPECT_EQ(t64.size(), (n * 4 + 2) / 3);
    ASSERT_EQ(base64url_decode(t64, out), Status::kOk);
    ASSERT_EQ(out, b);
    const std::string t32 = base32_encode(b);
    EXPECT_EQ(t32.size(), (n * 8 + 4) / 5);
    for (char c : t32) ASSERT_TRUE((c >= 'a' && c <= 'z') || (c >= '2' && c <= '7')) << t32;
    ASSERT_EQ(base32_decode(t32, out), Status::kOk);
    ASSERT_EQ(out, b);
    const std::string th = hex_encode(b);
    ASSERT_EQ(hex_decode(th, out), Status::kOk);
    ASSERT_EQ(out, b);
  }
}

TEST(Encoding, Base64UrlStrict) {
  Bytes out;
  for (std::string_view bad : {"Z", "Zh", "Zm9", "Zm9vYh", "Zg==", "Zg=", "Zm+v", "Zm/v", "Zm9 v",
                               " Zm9v", "Zm9v\n", "Zm9vZ", "Zm9vY.", "Z\xc3\xa9"}) {
    EXPECT_EQ(base64url_decode(bad, out), Status::kBadEncoding) << bad;
    EXPECT_TRUE(out.empty());
  }
  EXPECT_EQ(base64url_decode(std::string_view("Zm\0v", 4), out), Status::kBadEncoding);
  EXPECT_EQ(base32_decode(std::string_view("mz\0w", 4), out), Status::kBadEncoding);
  EXPECT_EQ(hex_decode(std::string_view("0\0", 2), out), Status::kBadEncoding);
  // Exhaustively: of the 64 second characters after 'Z', only those with zero low bits decode.
  int accepted = 0;
  const std::string_view alphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (char c : alphabet) {
    const std::string text = std::string("Z") + c;
    if (base64url_decode(text, out) == Status::kOk) {
      ++accepted;
      EXPECT_EQ(base64url_encode(out), text);
    }
  }
  EXPECT_EQ(accepted, 4);
}

TEST(Encoding, Base32Strict) {
  Bytes out;
  for (std::string_view bad : {"m", "mzx", "mzxw6y", "MY", "My", "mY", "mz", "my=", "my======",
                               "m1", "m8", "m0", "my ", "mzxw6ytboj", "mzxw6yr", "\xffy"}) {
    EXPECT_EQ(base32_decode(bad, out), Status::kBadEncoding) << bad;
    EXPECT_TRUE(out.empty());
  }
  int accepted = 0;
  const std::string_view alphabet = "abcdefghijklmnopqrstuvwxyz234567";
  for (char c : alphabet) {
    const std::string text = std::string("m") + c;  // 10 bits, the last 2 must be zero
    if (base32_decode(text, out) == Status::kOk) {
      ++accepted;
      EXPECT_EQ(base32_encode(out), text);
    }
  }
  EXPECT_EQ(accepted, 8);
}

TEST(Encoding, HexStrict) {
  Bytes out;
  for (std::string_view bad : {"0", "abc", "0A", "AB", "zz", "0x00", " 00", "00 ", "g0", "-1"}) {
    EXPECT_EQ(hex_decode(bad, out), Status::kBadEncoding) << bad;
    EXPECT_TRUE(out.empty());
  }
}

}  // namespace
}  // namespace encfsr::crypto
