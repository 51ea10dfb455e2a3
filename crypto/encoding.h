// crypto/encoding.h — the text encodings of the format: base64url (RFC 4648 §5, no padding),
// lowercase base32 (RFC 4648 §6 alphabet, no padding) and lowercase hex. Decoders are strict:
// only the canonical encoding of some byte string is accepted.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/status.h"

namespace encfsr::crypto {

std::string base64url_encode(std::span<const std::uint8_t> bytes);
Status base64url_decode(std::string_view text, std::vector<std::uint8_t>& out);
std::string base32_encode(std::span<const std::uint8_t> bytes);
Status base32_decode(std::string_view text, std::vector<std::uint8_t>& out);
std::string hex_encode(std::span<const std::uint8_t> bytes);
Status hex_decode(std::string_view text, std::vector<std::uint8_t>& out);

}  // namespace encfsr::crypto
