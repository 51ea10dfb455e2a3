// tests/fuzz/symlink_target.cc — encrypted symlink targets as a copy holds them (the link's
// content), decrypted with the fixed test key (crypto/name_cipher.h, decrypt_link).
//
// Input: byte 0 picks the mode, the rest is the data.
//   even: the data is an encrypted target: decrypt; on success encrypting again gives it back.
//   odd:  the data is a plaintext target: encrypt (empty if too long), check the size the view
//         announces, decrypt it back.
#include <cstdint>
#include <string>

#include "crypto/name_cipher.h"
#include "tests/fuzz/fuzz_common.h"

using namespace encfsr;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static const crypto::NameCipher cipher(fuzz::test_keys(), crypto::NameEncoding::kBase64Url);
  static const crypto::NodeId link = fuzz::test_file_id();
  const std::string_view text = fuzz::as_text(data + 1, size - 1);
  std::string target;
  if ((data[0] & 1) == 0) {
    if (cipher.decrypt_link(link, text, target) == crypto::Status::kOk) {
      ENCFSR_FUZZ_CHECK(target.size() <= crypto::max_link_target());
      ENCFSR_FUZZ_CHECK(target.find('\0') == std::string::npos);
      ENCFSR_FUZZ_CHECK(cipher.encrypt_link(link, target) == text);
      ENCFSR_FUZZ_CHECK(crypto::encrypted_link_size(target.size()) == text.size());
    } else {
      ENCFSR_FUZZ_CHECK(target.empty());
    }
    return 0;
  }
  if (text.find('\0') != std::string_view::npos) return 0;  // no real target holds a NUL
  const std::string encrypted = cipher.encrypt_link(link, text);
  if (text.size() > crypto::max_link_target()) {
    ENCFSR_FUZZ_CHECK(encrypted.empty());
    return 0;
  }
  ENCFSR_FUZZ_CHECK(encrypted.size() == crypto::encrypted_link_size(text.size()));
  ENCFSR_FUZZ_CHECK(cipher.decrypt_link(link, encrypted, target) == crypto::Status::kOk);
  ENCFSR_FUZZ_CHECK(target == text);
  return 0;
}
