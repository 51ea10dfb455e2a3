// tests/unit/crypto/name_cipher_test.cc — entry names (both encodings, every byte value, every
// length, long forms and side files, directory binding) and symlink targets.
#include "crypto/name_cipher.h"

#include <gtest/gtest.h>

#include <cctype>
#include <random>
#include <set>

#include "crypto/encoding.h"
#include "tests/unit/crypto/test_util.h"

namespace encfsr::crypto {
namespace {

class NameCipherTest : public ::testing::TestWithParam<NameEncoding> {
 protected:
  NameCipherTest()
      : keys_(test::vector_master_key()),
        names_(keys_, GetParam()),
        root_(root_id(keys_)),
        dir_(child_id(keys_, root_, "dir")),
        rng_(11) {}

  bool in_alphabet(std::string_view s) const {
    for (char c : s) {
      const bool lower = c >= 'a' && c <= 'z';
      const bool digit = c >= '0' && c <= '9';
      if (GetParam() == NameEncoding::kBase32) {
        if (!lower && !(c >= '2' && c <= '7')) return false;
      } else if (!lower && !digit && !(c >= 'A' && c <= 'Z') && c != '-' && c != '_') {
        return false;
      }
    }
    return true;
  }

  KeySet keys_;
  NameCipher names_;
  NodeId root_;
  NodeId dir_;
  std::mt19937_64 rng_;
};

TEST_P(NameCipherTest, EveryByteValueRoundTrips) {
  std::string all;
  for (int b = 1; b < 256; ++b) {
    if (b == '/') continue;
    const std::string one(1, static_cast<char>(b));
    all += one;
    const EncryptedName enc = names_.encrypt(dir_, one);
    EXPECT_FALSE(enc.is_long);
    std::string back;
    if (b == '.') {  // "." is no entry name: refused even with a valid tag
      EXPECT_EQ(names_.decrypt(dir_, enc.full, back), Status::kBadFormat);
      continue;
    }
    ASSERT_EQ(names_.decrypt(dir_, enc.full, back), Status::kOk) << b;
    EXPECT_EQ(back, one);
  }
  ASSERT_EQ(all.size(), 254u);
  const EncryptedName enc = names_.encrypt(dir_, all);
  EXPECT_TRUE(enc.is_long);
  std::string back;
  ASSERT_EQ(names_.decrypt(dir_, enc.full, back), Status::kOk);
  EXPECT_EQ(back, all);
}

TEST_P(NameCipherTest, EveryLengthRoundTripsAndFits) {
  const std::size_t longest = longest_short_name(GetParam());
  for (std::size_t len = 1; len <= kMaxNameBytes; ++len) {
    std::string plain = test::random_string(rng_, len, "abcdefghijklmnopqrstuvwxyz.-_ ABC\x01\xff");
    const EncryptedName enc = names_.encrypt(dir_, plain);
    ASSERT_LE(enc.name.size(), kMaxNameBytes) << len;
    ASSERT_FALSE(enc.name.empty());
    EXPECT_TRUE(in_alphabet(enc.full)) << enc.full;
    EXPECT_EQ(enc.is_long, len > longest) << len;
    if (enc.is_long) {
      EXPECT_GT(enc.full.size(), kMaxNameBytes);
      EXPECT_TRUE(enc.name.starts_with(kLongNamePrefix));
      EXPECT_TRUE(NameCipher::is_long_form(enc.name));
      EXPECT_TRUE(NameCipher::is_side_file(enc.name + std::string(kSideFileSuffix)));
      EXPECT_FALSE(NameCipher::is_side_file(enc.name));
      EXPECT_EQ(names_.long_form_of(enc.full), enc.name);
      EXPECT_EQ(names_.check_long_name(enc.name, enc.full), Status::kOk);
      EXPECT_TRUE(in_alphabet(enc.name.substr(kLongNamePrefix.size())));
    } else {
      EXPECT_EQ(enc.name, enc.full);
      EXPECT_FALSE(NameCipher::is_long_form(enc.name));
    }
    std::string back;
    ASSERT_EQ(names_.decrypt(dir_, enc.full, back), Status::kOk) << len;
    ASSERT_EQ(back, plain);
  }
}

TEST_P(NameCipherTest, LongestShortName) {
  const std::size_t longest = longest_short_name(GetParam());
  EXPECT_EQ(longest, GetParam() == NameEncoding::kBase64Url ? 160u : 128u);
  EXPECT_LE(names_.encrypt(dir_, std::string(longest, 'x')).full.size(), kMaxNameBytes);
  EXPECT_GT(names_.encrypt(dir_, std::string(longest + 1, 'x')).full.size(), kMaxNameBytes);
}

TEST_P(NameCipherTest, PaddingHidesLengthWithinSixteen) {
  const auto len_of = [&](std::size_t n) {
    return names_.encrypt(dir_, std::string(n, 'q')).full.size();
  };
  EXPECT_EQ(len_of(1), len_of(16));
  EXPECT_LT(len_of(16), len_of(17));
  EXPECT_EQ(len_of(17), len_of(32));
  EXPECT_EQ(len_of(1), GetParam() == NameEncoding::kBase64Url ? 43u : 52u);
}

TEST_P(NameCipherTest, DeterministicAndDirectoryBound) {
  const EncryptedName a = names_.encrypt(dir_, "report.pdf");
  EXPECT_EQ(a.full, names_.encrypt(dir_, "report.pdf").full);
  EXPECT_NE(a.full, names_.encrypt(root_, "report.pdf").full);
  EXPECT_NE(a.full, names_.encrypt(dir_, "report.pdg").full);
  std::string back;
  EXPECT_EQ(names_.decrypt(root_, a.full, back), Status::kAuthFailed);
  EXPECT_TRUE(back.empty());
  const KeySet other(MasterKey::generate());
  EXPECT_EQ(NameCipher(other, GetParam()).decrypt(dir_, a.full, back), Status::kAuthFailed);
  const std::string long_plain(200, 'L');
  const EncryptedName l = names_.encrypt(dir_, long_plain);
  ASSERT_TRUE(l.is_long);
  EXPECT_EQ(names_.decrypt(root_, l.full, back), Status::kAuthFailed);
}

TEST_P(NameCipherTest, TamperedNamesRejected) {
  const EncryptedName a = names_.encrypt(dir_, "a rather ordinary file name.txt");
  std::string back;
  for (std::size_t i = 0; i < a.full.size(); ++i) {
    std::string bad = a.full;
    bad[i] = bad[i] == 'a' ? 'b' : 'a';
    EXPECT_NE(names_.decrypt(dir_, bad, back), Status::kOk) << i;
  }
  EXPECT_NE(names_.decrypt(dir_, a.full.substr(1), back), Status::kOk);
  EXPECT_NE(names_.decrypt(dir_, a.full + "a", back), Status::kOk);
  EXPECT_NE(names_.decrypt(dir_, "", back), Status::kOk);
  // The other encoding's text of the same bytes is not accepted.
  const NameCipher other(keys_, GetParam() == NameEncoding::kBase32 ? NameEncoding::kBase64Url
                                                                    : NameEncoding::kBase32);
  EXPECT_NE(other.decrypt(dir_, a.full, back), Status::kOk);
}

TEST_P(NameCipherTest, UnsafeDecryptedNamesRejected) {
  // Names no real directory holds are refused even when their tag verifies.
  std::string back;
  for (std::string_view bad : {".", "..", "a/b", "/"}) {
    EXPECT_EQ(names_.decrypt(dir_, names_.encrypt(dir_, bad).full, back), Status::kBadFormat)
        << bad;
  }
  EXPECT_EQ(names_.decrypt(dir_, names_.encrypt(dir_, std::string_view("a\0b", 3)).full, back),
            Status::kBadFormat);
  EXPECT_EQ(names_.decrypt(dir_, names_.encrypt(dir_, "...").full, back), Status::kOk);
}

TEST_P(NameCipherTest, LongNameChecks) {
  const EncryptedName l = names_.encrypt(dir_, std::string(250, 'z'));
  ASSERT_TRUE(l.is_long);
  const EncryptedName m = names_.encrypt(dir_, std::string(251, 'z'));
  EXPECT_EQ(names_.check_long_name(l.name, m.full), Status::kBadFormat);
  const EncryptedName s = names_.encrypt(dir_, "short");
  EXPECT_EQ(names_.check_long_name(names_.long_form_of(s.full), s.full), Status::kBadFormat);
  EXPECT_EQ(names_.check_long_name("not a long name", l.full), Status::kBadFormat);
  std::string garbage = l.full;
  garbage[10] = '!';
  EXPECT_EQ(names_.check_long_name(names_.long_form_of(garbage), garbage), Status::kBadEncoding);
  EXPECT_FALSE(NameCipher::is_long_form("encfsr.long."));
  EXPECT_FALSE(NameCipher::is_long_form("encfsr.long.abc"));
  EXPECT_FALSE(NameCipher::is_long_form(l.name + "a"));
  EXPECT_FALSE(NameCipher::is_long_form("xencfsr.long." + l.name.substr(12)));
  EXPECT_FALSE(NameCipher::is_side_file(l.name + ".nam"));
  EXPECT_FALSE(NameCipher::is_side_file("encfsr.long..name"));
  EXPECT_FALSE(NameCipher::is_long_form(std::string(kKeyFileName)));
  // Long forms of both encodings are recognised by the static predicates.
  const NameCipher b64(keys_, NameEncoding::kBase64Url);
  const NameCipher b32(keys_, NameEncoding::kBase32);
  EXPECT_TRUE(NameCipher::is_long_form(b64.long_form_of("x")));
  EXPECT_TRUE(NameCipher::is_long_form(b32.long_form_of("x")));
}

TEST_P(NameCipherTest, LinkTargets) {
  const NodeId link = child_id(keys_, dir_, "link");
  const NodeId other = child_id(keys_, dir_, "link2");
  const std::size_t max = max_link_target();
  EXPECT_EQ(max, 3055u);
  for (std::size_t len : {1u, 2u, 15u, 16u, 100u, 1000u, 3055u}) {
    const std::string target = test::random_string(rng_, len, "abc/./..XYZ \x01\xfe");
    const std::string enc = names_.encrypt_link(link, target);
    ASSERT_FALSE(enc.empty());
    EXPECT_LE(enc.size(), 4095u);
    EXPECT_EQ(enc.size(), encrypted_link_size(len));  // st_size of a link in the view
    for (char c : enc) {
      ASSERT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_');
    }
    std::string back;
    ASSERT_EQ(names_.decrypt_link(link, enc, back), Status::kOk) << len;
    EXPECT_EQ(back, target);
    EXPECT_EQ(names_.decrypt_link(other, enc, back), Status::kAuthFailed);
    EXPECT_TRUE(back.empty());
    EXPECT_EQ(enc, names_.encrypt_link(link, target));
  }
  EXPECT_TRUE(names_.encrypt_link(link, std::string(max + 1, 'a')).empty());
  const std::string enc = names_.encrypt_link(link, "../some/where");
  std::string back;
  for (std::size_t i = 0; i < enc.size(); ++i) {
    std::string bad = enc;
    bad[i] = bad[i] == 'A' ? 'B' : 'A';
    EXPECT_NE(names_.decrypt_link(link, bad, back), Status::kOk) << i;
  }
  EXPECT_EQ(names_.decrypt_link(link, std::string(4096, 'A'), back), Status::kTooLong);
  EXPECT_NE(names_.decrypt_link(link, "", back), Status::kOk);
  EXPECT_NE(names_.decrypt_link(link, enc.substr(0, 20), back), Status::kOk);
  // A link target is not a name: the name key does not open it.
  EXPECT_NE(names_.decrypt(link, enc, back), Status::kOk);
}

INSTANTIATE_TEST_SUITE_P(Encodings, NameCipherTest,
                         ::testing::Values(NameEncoding::kBase64Url, NameEncoding::kBase32),
                         [](const auto& param_info) {
                           return param_info.param == NameEncoding::kBase64Url ? "base64url"
                                                                               : "base32";
                         });

}  // namespace
}  // namespace encfsr::crypto
