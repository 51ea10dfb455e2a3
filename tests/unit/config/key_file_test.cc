// tests/unit/config/key_file_test.cc — the key file: canonical text, strict parsing, round trip,
// every single-byte change rejected, wrong password, check mismatch, view section, reading
// and atomic writing.
#include "config/key_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "crypto/encoding.h"
#include "crypto/keys.h"
#include "tests/unit/config/temp_dir.h"

namespace encfsr::config {
namespace {

namespace fs = std::filesystem;
using crypto::Status;
using testing::TempDir;

const crypto::KdfParams kTestKdf{1, 8ull * 1024 * 1024};

crypto::MasterKey fixed_master(std::uint8_t first = 0) {
  std::vector<std::uint8_t> bytes(32);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(first + i);
  crypto::MasterKey key;
  EXPECT_EQ(crypto::MasterKey::from_bytes(bytes, key), Status::kOk);
  return key;
}

bool same_key(const crypto::MasterKey& a, const crypto::MasterKey& b) {
  return std::equal(a.bytes().begin(), a.bytes().end(), b.bytes().begin(), b.bytes().end());
}

class KeyFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(make_key_file(master_, "correct horse", kTestKdf, key_file_), Status::kOk);
    text_ = serialize_key_file(key_file_);
  }
  crypto::MasterKey master_ = fixed_master();
  KeyFile key_file_;
  std::string text_;
};

std::string parse_error(const std::string& text) {
  KeyFile out;
  std::string error;
  if (parse_key_file(text, out, error)) return "OK";
  return error;
}

TEST_F(KeyFileTest, CanonicalText) {
  EXPECT_EQ(text_,
            "encfsr-key: 1\nformat: siv-blake2b-xchacha20-4096\nkdf: argon2id13\n"
            "ops_limit: 1\nmem_limit: 8388608\nsalt: " +
                crypto::hex_encode(key_file_.wrapped.salt) +
                "\nnonce: " + crypto::hex_encode(key_file_.wrapped.nonce) +
                "\nwrapped: " + crypto::hex_encode(key_file_.wrapped.box) +
                "\ncheck: " + crypto::hex_encode(key_file_.check) + "\n");
  EXPECT_EQ(key_file_.check, crypto::key_check(crypto::KeySet(master_)));
}

TEST_F(KeyFileTest, AssociatedDataIsTheParameterLinesAndTheCheckLine) {
  const std::vector<std::uint8_t> ad = key_file_associated_data(key_file_);
  const std::string expected =
      text_.substr(0, text_.find("nonce: ")) + text_.substr(text_.find("check: "));
  EXPECT_EQ(std::string(ad.begin(), ad.end()), expected);
}

TEST_F(KeyFileTest, RoundTrip) {
  KeyFile parsed;
  std::string error;
  ASSERT_TRUE(parse_key_file(text_, parsed, error)) << error;
  EXPECT_EQ(serialize_key_file(parsed), text_);
  EXPECT_FALSE(parsed.names.has_value());
  crypto::MasterKey opened;
  ASSERT_EQ(open_key_file(parsed, "correct horse", opened), Status::kOk);
  EXPECT_TRUE(same_key(opened, master_));
  EXPECT_TRUE(master_key_matches(parsed, master_));
  EXPECT_FALSE(master_key_matches(parsed, fixed_master(1)));
}

TEST_F(KeyFileTest, FreshSaltAndNonceEveryTime) {
  KeyFile other;
  ASSERT_EQ(make_key_file(master_, "correct horse", kTestKdf, other), Status::kOk);
  EXPECT_NE(other.wrapped.salt, key_file_.wrapped.salt);
  EXPECT_NE(other.wrapped.nonce, key_file_.wrapped.nonce);
  EXPECT_EQ(other.check, key_file_.check);
}

TEST_F(KeyFileTest, WrongPassword) {
  crypto::MasterKey opened;
  EXPECT_EQ(open_key_file(key_file_, "correct horsf", opened), Status::kWrongPassword);
  EXPECT_EQ(open_key_file(key_file_, "", opened), Status::kWrongPassword);
}

TEST_F(KeyFileTest, InvalidKdfParametersAreRefused) {
  KeyFile out;
  EXPECT_NE(make_key_file(master_, "pw", crypto::KdfParams{0, 8ull * 1024 * 1024}, out),
            Status::kOk);
}

TEST_F(KeyFileTest, BoxThatOpensButDoesNotMatchTheCheckIsRejected) {
  // A key file whose box holds a different key than its check value describes.
  KeyFile forged = key_file_;
  const crypto::MasterKey other = fixed_master(7);
  const std::vector<std::uint8_t> ad = key_file_associated_data(forged);
  const auto salt = forged.wrapped.salt;
  crypto::WrappedKey wrapped;
  ASSERT_EQ(crypto::wrap_master_key(other, "pw", kTestKdf, salt, ad, wrapped), Status::kOk);
  ASSERT_EQ(wrapped.salt, salt);
  forged.wrapped = wrapped;
  crypto::MasterKey opened;
  EXPECT_EQ(open_key_file(forged, "pw", opened), Status::kAuthFailed);
}

TEST_F(KeyFileTest, EverySingleByteChangeIsRejected) {
  // Hundreds of variants parse and need an Argon2 run each: use the smallest memory cost.
  KeyFile cheap;
  ASSERT_EQ(make_key_file(master_, "correct horse", crypto::KdfParams{1, 64 * 1024}, cheap),
            Status::kOk);
  const std::string text = serialize_key_file(cheap);
  {
    crypto::MasterKey opened;
    ASSERT_EQ(open_key_file(cheap, "correct horse", opened), Status::kOk);
  }
  std::size_t parsed_ok = 0;
  std::size_t variants = 0;
  for (std::size_t pos = 0; pos < text.size(); ++pos) {
    const char original = text[pos];
    std::vector<char> replacements = {static_cast<char>(original ^ 0x01),
                                      static_cast<char>(original ^ 0x20),
                                      original == '0' ? 'f' : '0', '\n', ' '};
    for (char replacement : replacements) {
      if (replacement == original) continue;
      std::string changed = text;
      changed[pos] = replacement;
      ++variants;
      KeyFile parsed;
      std::string error;
      if (!parse_key_file(changed, parsed, error)) {
        EXPECT_EQ(error.rfind("line ", 0), 0u) << error;
        continue;
      }
      ++parsed_ok;
      crypto::MasterKey opened;
      EXPECT_NE(open_key_file(parsed, "correct horse", opened), Status::kOk)
          << "byte " << pos << " changed to " << int(replacement) << " still opens";
    }
  }
  // Also every truncation and one extra byte at the end.
  for (std::size_t len = 0; len < text.size(); ++len) {
    EXPECT_NE(parse_error(text.substr(0, len)), "OK") << "truncated to " << len;
  }
  EXPECT_NE(parse_error(text + "x"), "OK");
  EXPECT_NE(parse_error(text + "\n"), "OK");
  EXPECT_GT(variants, 1000u);
  EXPECT_GT(parsed_ok, 200u);  // the hex changes parse and must fail in the unwrap
}

TEST_F(KeyFileTest, StrictParserMessages) {
  auto replace_line = [&](int line, const std::string& with) {
    std::string out;
    std::size_t start = 0;
    for (int n = 1; start < text_.size(); ++n) {
      std::size_t nl = text_.find('\n', start);
      out += n == line ? with : text_.substr(start, nl - start);
      out += '\n';
      start = nl + 1;
    }
    return out;
  };
  EXPECT_EQ(parse_error(replace_line(1, "encfsr-key: 2")),
            "line 1: unsupported key file version '2' (this encfsr reads version 1)");
  EXPECT_EQ(parse_error(replace_line(1, "encfsr-key:1")), "line 1: expected 'encfsr-key:'");
  EXPECT_EQ(parse_error(replace_line(2, "format: siv-aes")),
            "line 2: unsupported format 'siv-aes'");
  EXPECT_EQ(parse_error(replace_line(3, "kdf: scrypt")), "line 3: unsupported kdf 'scrypt'");
  EXPECT_EQ(parse_error(replace_line(4, "ops_limit: 01")),
            "line 4: ops_limit must be a decimal number in the valid Argon2id range");
  EXPECT_EQ(parse_error(replace_line(4, "ops_limit: 0")),
            "line 4: ops_limit must be a decimal number in the valid Argon2id range");
  EXPECT_EQ(parse_error(replace_line(4, "ops_limit: 65")),
            "line 4: ops_limit must be a decimal number in the valid Argon2id range");
  EXPECT_EQ(parse_error(replace_line(5, "mem_limit: 1024")),
            "line 5: mem_limit must be a decimal number in the valid Argon2id range");
  EXPECT_EQ(parse_error(replace_line(5, "mem_limit: +8388608")),
            "line 5: mem_limit must be a decimal number in the valid Argon2id range");
  EXPECT_EQ(parse_error(replace_line(5, "mem_limit: 99999999999999999999999")),
            "line 5: mem_limit must be a decimal number in the valid Argon2id range");
  EXPECT_EQ(parse_error(replace_line(6, "salt:  00")), "line 6: salt contains whitespace");
  EXPECT_EQ(parse_error(replace_line(6, "salt: " + std::string(32, 'A'))),
            "line 6: salt must be 32 lowercase hex digits");
  EXPECT_EQ(parse_error(replace_line(6, "salt: " + std::string(30, 'a'))),
            "line 6: salt must be 32 lowercase hex digits");
  EXPECT_EQ(parse_error(replace_line(7, "salt: " + std::string(32, 'a'))),
            "line 7: expected 'nonce:'");
  EXPECT_EQ(parse_error(replace_line(8, "wrapped: ")), "line 8: wrapped is empty");
  EXPECT_EQ(parse_error(replace_line(9, "check: " + std::string(64, 'a') + " ")),
            "line 9: check contains whitespace");
  EXPECT_EQ(parse_error(replace_line(9, "check: " + std::string(64, 'a') + "\r")),
            "line 9: check contains whitespace");
  EXPECT_EQ(parse_error(text_.substr(0, text_.size() - 1)),
            "line 9: missing newline at end of line");
  EXPECT_EQ(parse_error(text_.substr(0, text_.find("check: "))),
            "line 9: missing 'check:' line (file truncated)");
  EXPECT_EQ(parse_error(text_ + "check: " + std::string(64, 'a') + "\n"),
            "line 10: expected 'names:'");
  EXPECT_EQ(parse_error(text_ + "names: base16\n"), "line 10: names must be base64url or base32");
  EXPECT_EQ(parse_error(text_ + "names: base32\n"),
            "line 11: missing 'view:' line (file truncated)");
  EXPECT_EQ(parse_error(text_ + "names: base32\nview: " + std::string(64, 'a') + "\n\n"),
            "line 12: unexpected text after the view section");
  EXPECT_EQ(parse_error(""), "line 1: missing 'encfsr-key:' line (file truncated)");
  EXPECT_EQ(parse_error("\n" + text_), "line 1: expected 'encfsr-key:'");
}

TEST_F(KeyFileTest, ViewSectionRoundTripAndTamper) {
  const crypto::KeySet keys(master_);
  for (auto names : {crypto::NameEncoding::kBase64Url, crypto::NameEncoding::kBase32}) {
    const std::string with_view = serialize_key_file_with_view(key_file_, names, true, keys);
    const std::string names_text = names == crypto::NameEncoding::kBase32 ? "base32" : "base64url";
    const std::string lines = "names: " + names_text + "\nmanifests: yes\n";
    const std::array<std::uint8_t, 32> tag = crypto::view_params_tag(keys, lines);
    EXPECT_EQ(with_view, text_ + lines + "view: " + crypto::hex_encode(tag) + "\n");
    KeyFile parsed;
    std::string error;
    ASSERT_TRUE(parse_key_file(with_view, parsed, error)) << error;
    ASSERT_TRUE(parsed.names.has_value());
    EXPECT_EQ(*parsed.names, names);
    EXPECT_EQ(parsed.manifests, std::optional<bool>(true));
    EXPECT_TRUE(view_section_valid(parsed, keys));
    EXPECT_EQ(serialize_key_file_with_view(parsed, *parsed.names, true, keys), with_view);
    // Turning manifests off (or dropping the line, as in format 1) keeping the tag is detected.
    KeyFile off = parsed;
    off.manifests = false;
    EXPECT_FALSE(view_section_valid(off, keys));
    off.manifests.reset();
    EXPECT_FALSE(view_section_valid(off, keys));
    // The key still opens; the view section is not part of the wrap.
    crypto::MasterKey opened;
    EXPECT_EQ(open_key_file(parsed, "correct horse", opened), Status::kOk);
    // Another key does not validate it.
    EXPECT_FALSE(view_section_valid(parsed, crypto::KeySet(fixed_master(9))));
    // Switching the encoding but keeping the tag is detected.
    KeyFile switched = parsed;
    switched.names = names == crypto::NameEncoding::kBase32 ? crypto::NameEncoding::kBase64Url
                                                            : crypto::NameEncoding::kBase32;
    EXPECT_FALSE(view_section_valid(switched, keys));
    // Any changed byte of the tag is detected.
    for (std::size_t i = 0; i < parsed.view_tag.size(); ++i) {
      KeyFile changed = parsed;
      changed.view_tag[i] ^= 0x40;
      EXPECT_FALSE(view_section_valid(changed, keys)) << i;
    }
  }
  // A format-1 view section (no manifests line) still parses and validates.
  const std::string v1 = text_ + "names: base64url\nview: " +
                         crypto::hex_encode(crypto::view_params_tag(keys, "names: base64url\n")) +
                         "\n";
  KeyFile old;
  std::string error;
  ASSERT_TRUE(parse_key_file(v1, old, error)) << error;
  EXPECT_FALSE(old.manifests.has_value());
  EXPECT_TRUE(view_section_valid(old, keys));
  EXPECT_EQ(parse_error(text_ + "names: base64url\nmanifests: maybe\nview: " +
                        std::string(64, 'a') + "\n"),
            "line 11: manifests must be yes or no");
  // No view section: never valid.
  EXPECT_FALSE(view_section_valid(key_file_, keys));
}

TEST_F(KeyFileTest, WriteIsMode0600AndRefusesToOverwrite) {
  TempDir dir;
  const fs::path file = dir.path() / "k.key";
  const mode_t old_umask = ::umask(0);
  write_key_file(file, text_, true);
  ::umask(old_umask);
  struct stat st {};
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(testing::read_text(file), text_);

  try {
    write_key_file(file, "other", true);
    FAIL() << "overwrote";
  } catch (const KeyFileError& e) {
    EXPECT_EQ(std::string(e.what()), file.string() + ": already exists");
  }
  EXPECT_EQ(testing::read_text(file), text_);
  // No temporary file is left behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);

  // Replacing is allowed when asked.
  write_key_file(file, "new\n", false);
  EXPECT_EQ(testing::read_text(file), "new\n");
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  try {
    write_key_file(dir.path() / "no/such/dir/k", text_, true);
    FAIL() << "wrote into a missing directory";
  } catch (const KeyFileError& e) {
    EXPECT_EQ(std::string(e.what()), (dir.path() / "no/such/dir/k").string() +
                                         ": cannot write: No such file or directory");
  }
}

TEST_F(KeyFileTest, ReadKeyFile) {
  TempDir dir;
  const fs::path file = dir.path() / "k.key";
  write_key_file(file, text_, true);
  const KeyFile read = read_key_file(file);
  EXPECT_EQ(serialize_key_file(read), text_);

  try {
    read_key_file(dir.path() / "missing");
    FAIL();
  } catch (const KeyFileError& e) {
    EXPECT_EQ(std::string(e.what()),
              (dir.path() / "missing").string() + ": cannot read: No such file or directory");
  }
  testing::write_text(dir.path() / "bad", "encfsr-key: 7\n");
  try {
    read_key_file(dir.path() / "bad");
    FAIL();
  } catch (const KeyFileError& e) {
    EXPECT_EQ(std::string(e.what()),
              (dir.path() / "bad").string() +
                  ": line 1: unsupported key file version '7' (this encfsr reads version 1)");
  }
  testing::write_text(dir.path() / "big", std::string(64 * 1024 + 1, 'x'));
  try {
    read_key_file(dir.path() / "big");
    FAIL();
  } catch (const KeyFileError& e) {
    EXPECT_EQ(std::string(e.what()),
              (dir.path() / "big").string() + ": not a key file (larger than 64 KiB)");
  }
  try {
    read_key_file(dir.path());
    FAIL();
  } catch (const KeyFileError& e) {
    EXPECT_EQ(std::string(e.what()), dir.str() + ": not a regular file");
  }
}

// A FIFO planted as the key file of a copy is refused at once, never waited on.
TEST_F(KeyFileTest, FifoIsRefusedWithoutBlocking) {
  TempDir dir;
  const auto fifo = dir.path() / "encfsr.key";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  try {
    read_key_file(fifo);
    FAIL();
  } catch (const KeyFileError& e) {
    EXPECT_EQ(std::string(e.what()), fifo.string() + ": not a regular file");
  }
}

}  // namespace
}  // namespace encfsr::config
