// tests/unit/crypto/bad_input_test.cc — every decrypt/decode function fed random input of every
// length 0..9000 returns an error (never kOk, never a crash; ASan builds check the memory).
#include <gtest/gtest.h>

#include <random>

#include "crypto/content_cipher.h"
#include "crypto/encoding.h"
#include "crypto/name_cipher.h"
#include "crypto/paper_key.h"
#include "crypto/password_wrap.h"
#include "tests/unit/crypto/test_util.h"

namespace encfsr::crypto {
namespace {

using test::Bytes;

constexpr std::size_t kMaxLength = 9000;
constexpr std::string_view kB64 =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr std::string_view kB32 = "abcdefghijklmnopqrstuvwxyz234567";

std::string as_text(const Bytes& b) { return std::string(b.begin(), b.end()); }

// Inputs of each length are cut at a random offset from pools of random text, which keeps the
// 9,000 lengths cheap.
class BadInputTest : public ::testing::Test {
 protected:
  BadInputTest()
      : keys_(test::vector_master_key()),
        dir_(root_id(keys_)),
        rng_(99),
        raw_pool_(as_text(test::random_bytes(rng_, 2 * kMaxLength))),
        b64_pool_(test::random_string(rng_, 2 * kMaxLength, kB64)),
        b32_pool_(test::random_string(rng_, 2 * kMaxLength, kB32)) {}

  // Well-formed text is decoded in full, which is slow in sanitizer builds: every length up to
  // 2,000, then every 7th.
  static std::size_t step(std::size_t n) { return n < 2000 ? 1 : 7; }

  std::string cut(const std::string& pool, std::size_t n) {
    return pool.substr(rng_() % kMaxLength, n);
  }

  KeySet keys_;
  NodeId dir_;
  std::mt19937_64 rng_;
  std::string raw_pool_;
  std::string b64_pool_;
  std::string b32_pool_;
};

TEST_F(BadInputTest, Decoders) {
  Bytes out;
  for (std::size_t n = 1; n <= kMaxLength; ++n) {
    // Random bytes are almost never valid text; force one invalid byte to make it certain.
    std::string t = cut(raw_pool_, n);
    t[rng_() % n] = '\x80';
    ASSERT_EQ(base64url_decode(t, out), Status::kBadEncoding) << n;
    ASSERT_TRUE(out.empty());
    ASSERT_EQ(base32_decode(t, out), Status::kBadEncoding) << n;
    ASSERT_EQ(hex_decode(t, out), Status::kBadEncoding) << n;
    MasterKey key;
    ASSERT_NE(parse_paper_key(t, key), Status::kOk) << n;
  }
  // Text in the right alphabet: accepted exactly when the length and trailing bits allow it.
  for (std::size_t n = 0; n <= kMaxLength; n += step(n)) {
    const std::string t64 = cut(b64_pool_, n);
    if (base64url_decode(t64, out) == Status::kOk) {
      ASSERT_EQ(base64url_encode(out), t64);
    } else {
      ASSERT_TRUE(out.empty());
    }
    const std::string t32 = cut(b32_pool_, n);
    if (base32_decode(t32, out) == Status::kOk) {
      ASSERT_EQ(base32_encode(out), t32);
    }
  }
}

TEST_F(BadInputTest, ContentOpen) {
  const ContentCipher cipher(keys_);
  Bytes out(kMaxLength);
  for (std::size_t n = 0; n <= kMaxLength; ++n) {
    const std::string text = cut(raw_pool_, n);
    const Bytes ct(text.begin(), text.end());
    const std::size_t out_size = n >= kTagSize ? n - kTagSize : 0;
    const Status s = cipher.open(dir_, n, n % 2 == 0, ct, std::span(out).first(out_size));
    if (n < kTagSize || n > kCipherBlockSize) {
      ASSERT_EQ(s, Status::kBadSize) << n;
    } else {
      ASSERT_EQ(s, Status::kAuthFailed) << n;
    }
  }
}

TEST_F(BadInputTest, Names) {
  const NameCipher b64(keys_, NameEncoding::kBase64Url);
  const NameCipher b32(keys_, NameEncoding::kBase32);
  std::string plain;
  for (std::size_t n = 0; n <= kMaxLength; ++n) {
    // Random bytes at every length; text in the names' alphabets at the lengths of step().
    const std::string raw = cut(raw_pool_, n);
    const bool texts = n < 2000 || n % 7 == 0;
    const std::string t64 = texts ? cut(b64_pool_, n) : raw;
    const std::string t32 = texts ? cut(b32_pool_, n) : raw;
    for (const NameCipher* c : {&b64, &b32}) {
      for (const std::string* t : {&raw, c == &b64 ? &t64 : &t32}) {
        ASSERT_NE(c->decrypt(dir_, *t, plain), Status::kOk) << n;
        ASSERT_TRUE(plain.empty());
        ASSERT_NE(c->decrypt_link(dir_, *t, plain), Status::kOk) << n;
        ASSERT_TRUE(plain.empty());
        // Random text can be well-formed side-file content (the tag is checked by decrypt).
        if (c->check_long_name(c->long_form_of(*t), *t) == Status::kOk) {
          ASSERT_GT(t->size(), kMaxNameBytes);
        }
        ASSERT_NE(c->check_long_name(*t, *t), Status::kOk) << n;
        ASSERT_FALSE(NameCipher::is_side_file(*t));
      }
    }
    // Only 43 (base64url) or 52 (base32) characters after the prefix can be a long form.
    ASSERT_EQ(NameCipher::is_long_form(std::string(kLongNamePrefix) + raw), false) << n;
  }
}

TEST_F(BadInputTest, SizesAndWrappedKeys) {
  for (std::size_t n = 0; n <= kMaxLength; ++n) {
    const auto p = plain_size(n);
    if (p) {
      ASSERT_EQ(cipher_size(*p), n);
    }
    ASSERT_LE(plain_size_lenient(n), n);
  }
  // A few random wrapped keys (Argon2 is slow, so not 9000 of them).
  const KdfParams fast{1, 8ull * 1024 * 1024};
  for (int i = 0; i < 3; ++i) {
    WrappedKey w;
    const Bytes r = test::random_bytes(rng_, sizeof w.salt + sizeof w.nonce + sizeof w.box);
    std::copy_n(r.begin(), w.salt.size(), w.salt.begin());
    std::copy_n(r.begin() + 16, w.nonce.size(), w.nonce.begin());
    std::copy_n(r.begin() + 40, w.box.size(), w.box.begin());
    MasterKey out;
    ASSERT_EQ(unwrap_master_key(w, "password", fast, r, out), Status::kWrongPassword);
  }
}

}  // namespace
}  // namespace encfsr::crypto
