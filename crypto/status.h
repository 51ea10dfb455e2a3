// crypto/status.h — the error codes every decrypt/decode function of the format returns.
//
// The format library never throws and never aborts on bad input: each function that reads
// untrusted bytes returns one of these codes. kOk is the only success value.
#pragma once

namespace encfsr::crypto {

enum class [[nodiscard]] Status {
  kOk = 0,
  kAuthFailed,     // a tag did not verify: tampered, moved, reordered or wrong key
  kBadSize,        // a length no encoder produces (ciphertext size, name length, ...)
  kBadEncoding,    // not canonical base64url / base32 / hex / paper-key text
  kBadFormat,      // structurally wrong (unknown version, missing field, bad long-name form)
  kTooLong,        // input longer than the format allows (e.g. a symlink target)
  kWrongPassword,  // the password-wrapped master key did not open
  kInternal,       // libsodium failed (out of memory, sodium_init failed)
};

// A short English description ("authentication failed", ...), never null.
const char* describe(Status status) noexcept;

}  // namespace encfsr::crypto
