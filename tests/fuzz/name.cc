// tests/fuzz/name.cc — entry names of a copy in both encodings (crypto/name_cipher.h, through
// crypto/encoding.h), decrypted with the fixed test key in the test directory.
//
// Input: byte 0 picks the encoding (bit 0: base32) and the mode (bit 1), the rest is the data.
//   mode 0: the data is an encoded name as a directory of a copy holds it: decrypt it; if that
//           succeeds, encrypting the plaintext again gives the same full name.
//   mode 1: the data is a plaintext name (as a source holds it): encrypt, then the name shown
//           must fit in 255 bytes, and decrypting (through the long form's check if long) must
//           give the name back.
#include <cstdint>
#include <string>

#include "crypto/name_cipher.h"
#include "tests/fuzz/fuzz_common.h"

using namespace encfsr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static const crypto::NameCipher base64(fuzz::test_keys(), crypto::NameEncoding::kBase64Url);
  static const crypto::NameCipher base32(fuzz::test_keys(), crypto::NameEncoding::kBase32);
  static const crypto::NodeId dir = fuzz::test_dir_id();
  const crypto::NameCipher& cipher = (data[0] & 1) ? base32 : base64;
  const bool from_plain = (data[0] & 2) != 0;
  const std::string_view text = fuzz::as_text(data + 1, size - 1);

  // Classification of what a directory listing holds never fails.
  const bool long_form = crypto::NameCipher::is_long_form(text);
  const bool side_file = crypto::NameCipher::is_side_file(text);
  ENCFSR_FUZZ_CHECK(!(long_form && side_file));

  std::string plain;
  if (!from_plain) {
    if (cipher.decrypt(dir, text, plain) == crypto::Status::kOk) {
      ENCFSR_FUZZ_CHECK(!plain.empty() && plain.size() <= crypto::kMaxNameBytes);
      ENCFSR_FUZZ_CHECK(plain.find('/') == std::string::npos);
      ENCFSR_FUZZ_CHECK(plain.find('\0') == std::string::npos);
      ENCFSR_FUZZ_CHECK(plain != "." && plain != "..");
      ENCFSR_FUZZ_CHECK(cipher.encrypt(dir, plain).full == text);
    } else {
      ENCFSR_FUZZ_CHECK(plain.empty());
    }
    return 0;
  }

  // A real name: 1..255 bytes, no '/' or NUL, not "." or "..".
  if (text.empty() || text.size() > crypto::kMaxNameBytes || text == "." || text == ".." ||
      text.find('/') != std::string_view::npos || text.find('\0') != std::string_view::npos) {
    return 0;
  }
  const crypto::EncryptedName encrypted = cipher.encrypt(dir, text);
  ENCFSR_FUZZ_CHECK(encrypted.name.size() <= crypto::kMaxNameBytes);
  ENCFSR_FUZZ_CHECK(encrypted.is_long ==
                    (text.size() > crypto::longest_short_name(cipher.encoding())));
  if (encrypted.is_long) {
    ENCFSR_FUZZ_CHECK(crypto::NameCipher::is_long_form(encrypted.name));
    ENCFSR_FUZZ_CHECK(cipher.check_long_name(encrypted.name, encrypted.full) ==
                      crypto::Status::kOk);
  } else {
    ENCFSR_FUZZ_CHECK(encrypted.name == encrypted.full);
    ENCFSR_FUZZ_CHECK(!crypto::NameCipher::is_long_form(encrypted.name));
  }
  ENCFSR_FUZZ_CHECK(!crypto::NameCipher::is_side_file(encrypted.name));
  ENCFSR_FUZZ_CHECK(cipher.decrypt(dir, encrypted.full, plain) == crypto::Status::kOk);
  ENCFSR_FUZZ_CHECK(plain == text);
  return 0;
}
