// crypto/encoding.cc — strict base64url (libsodium), base32 (by hand, lowercase) and hex codecs.
#include "crypto/encoding.h"

#include <sodium.h>

#include <array>

namespace encfsr::crypto {
namespace {

constexpr int kB64Variant = sodium_base64_VARIANT_URLSAFE_NO_PADDING;
constexpr std::string_view kBase32Alphabet = "abcdefghijklmnopqrstuvwxyz234567";
constexpr std::string_view kHexDigits = "0123456789abcdef";

// Value of a lowercase base32 character, or -1.
int base32_value(char c) noexcept {
  if (c >= 'a' && c <= 'z') return c - 'a';
  if (c >= '2' && c <= '7') return c - '2' + 26;
  return -1;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

bool base64url_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_';
}

}  // namespace

std::string base64url_encode(std::span<const std::uint8_t> bytes) {
  const std::size_t len = sodium_base64_ENCODED_LEN(bytes.size(), kB64Variant);  // with NUL
  std::string out(len, '\0');
  sodium_bin2base64(out.data(), len, bytes.data(), bytes.size(), kB64Variant);
  out.resize(len - 1);
  return out;
}

Status base64url_decode(std::string_view text, std::vector<std::uint8_t>& out) {
  out.clear();
  // Only full 4-character groups, or a tail of 2 or 3 characters, encode whole bytes.
  if (text.size() % 4 == 1) return Status::kBadEncoding;
  for (char c : text) {
    if (!base64url_char(c)) return Status::kBadEncoding;
  }
  out.resize(text.size() / 4 * 3 + 3);
  std::size_t bin_len = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), text.data(), text.size(), nullptr, &bin_len, &end,
                        kB64Variant) != 0 ||
      end != text.data() + text.size()) {
    out.clear();
    return Status::kBadEncoding;
  }
  out.resize(bin_len);
  // Canonical: reject non-zero trailing bits (two texts decoding to the same bytes).
  if (base64url_encode(out) != text) {
    out.clear();
    return Status::kBadEncoding;
  }
  return Status::kOk;
}

std::string base32_encode(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve((bytes.size() * 8 + 4) / 5);
  std::uint32_t acc = 0;
  int bits = 0;
  for (std::uint8_t b : bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out.push_back(kBase32Alphabet[(acc >> bits) & 31u]);
    }
    acc &= (1u << bits) - 1u;
  }
  if (bits > 0) out.push_back(kBase32Alphabet[(acc << (5 - bits)) & 31u]);
  return out;
}

Status base32_decode(std::string_view text, std::vector<std::uint8_t>& out) {
  out.clear();
  // Lengths mod 8 of 1, 3 and 6 characters are never produced by the encoder.
  const std::size_t tail = text.size() % 8;
  if (tail == 1 || tail == 3 || tail == 6) return Status::kBadEncoding;
  out.reserve(text.size() * 5 / 8);
  std::uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    const int v = base32_value(c);
    if (v < 0) {
      out.clear();
      return Status::kBadEncoding;
    }
    acc = (acc << 5) | static_cast<std::uint32_t>(v);
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>(acc >> bits));
      acc &= (1u << bits) - 1u;
    }
  }
  if (acc != 0) {  // the left-over bits (< 5 of them) must be zero
    out.clear();
    return Status::kBadEncoding;
  }
  return Status::kOk;
}

std::string hex_encode(std::span<const std::uint8_t> bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kHexDigits[b >> 4]);
    out.push_back(kHexDigits[b & 15]);
  }
  return out;
}

Status hex_decode(std::string_view text, std::vector<std::uint8_t>& out) {
  out.clear();
  if (text.size() % 2 != 0) return Status::kBadEncoding;
  out.reserve(text.size() / 2);
  for (std::size_t i = 0; i < text.size(); i += 2) {
    const int hi = hex_value(text[i]);
    const int lo = hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) {
      out.clear();
      return Status::kBadEncoding;
    }
    out.push_back(static_cast<std::uint8_t>((hi << 4) | lo));
  }
  return Status::kOk;
}

}  // namespace encfsr::crypto
