// crypto/paper_key.h — the master key as text for a paper backup.
//
// Upper-case base32 of the 32 key bytes followed by 3 check bytes (the first 3 bytes of
// BLAKE2b-256("encfsr paper key" || key)), 56 characters printed as 14 groups of 4 separated by
// '-'. Parsing ignores case, spaces, dashes and newlines.
#pragma once

#include <string>
#include <string_view>

#include "crypto/keys.h"
#include "crypto/secure_buffer.h"

namespace encfsr::crypto {

SecureBuffer format_paper_key(const MasterKey& key);
// kBadEncoding for bad characters or length, kAuthFailed for a wrong checksum (a typo).
Status parse_paper_key(std::string_view text, MasterKey& out);

}  // namespace encfsr::crypto
