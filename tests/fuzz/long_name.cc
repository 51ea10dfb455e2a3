// tests/fuzz/long_name.cc — a long name form and its side file, as a copy holds them
// ("encfsr.long.HASH" and "encfsr.long.HASH.name"), checked and decrypted with the fixed test
// key the way the decrypt view and `encfsr path decrypt` do.
//
// Input: byte 0 picks the encoding (bit 0: base32); the rest is "LONGFORM\nSIDEFILE" (the side
// file's content keeps everything after the first newline; one trailing newline is dropped, as
// the readers do).
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
  const std::string_view text = fuzz::as_text(data + 1, size - 1);
  const std::size_t newline = text.find('\n');
  const std::string_view long_name = text.substr(0, newline);
  std::string_view full =
      newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
  if (!full.empty() && full.back() == '\n') full.remove_suffix(1);

  const bool is_long = crypto::NameCipher::is_long_form(long_name);
  const crypto::Status check = cipher.check_long_name(long_name, full);
  if (check != crypto::Status::kOk) return 0;
  ENCFSR_FUZZ_CHECK(is_long);
  ENCFSR_FUZZ_CHECK(full.size() > crypto::kMaxNameBytes);
  ENCFSR_FUZZ_CHECK(cipher.long_form_of(full) == long_name);
  std::string plain;
  if (cipher.decrypt(dir, full, plain) == crypto::Status::kOk) {
    const crypto::EncryptedName again = cipher.encrypt(dir, plain);
    ENCFSR_FUZZ_CHECK(again.is_long && again.name == long_name && again.full == full);
  }
  return 0;
}
