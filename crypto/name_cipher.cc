// crypto/name_cipher.cc — SIV encryption of entry names (padded, directory-bound), long names
// and symlink targets (link-bound, base64url).
#include "crypto/name_cipher.h"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <new>
#include <vector>

#include "crypto/encoding.h"

namespace encfsr::crypto {
namespace {

constexpr std::size_t kNameTag = 16;
constexpr std::size_t kNamePad = 16;
constexpr std::size_t kLongHashBytes = 32;
constexpr std::size_t kMaxLinkEncoded = 4095;  // PATH_MAX - 1

// Never null (libsodium's declarations forbid null pointers even for empty input).
const std::uint8_t* bytes_of(std::string_view s) noexcept {
  static constexpr std::uint8_t kEmpty[1] = {0};
  return s.empty() ? kEmpty : reinterpret_cast<const std::uint8_t*>(s.data());
}

std::size_t padded_length(std::size_t n) noexcept {
  return std::max(kNamePad, (n + kNamePad - 1) / kNamePad * kNamePad);
}

std::size_t base64url_length(std::size_t n) noexcept { return (n * 4 + 2) / 3; }
std::size_t base32_length(std::size_t n) noexcept { return (n * 8 + 4) / 5; }

std::size_t encoded_length(NameEncoding encoding, std::size_t n) noexcept {
  return encoding == NameEncoding::kBase64Url ? base64url_length(n) : base32_length(n);
}

std::string encode(NameEncoding encoding, std::span<const std::uint8_t> bytes) {
  return encoding == NameEncoding::kBase64Url ? base64url_encode(bytes) : base32_encode(bytes);
}

Status decode(NameEncoding encoding, std::string_view text, std::vector<std::uint8_t>& out) {
  return encoding == NameEncoding::kBase64Url ? base64url_decode(text, out)
                                              : base32_decode(text, out);
}

// tag = BLAKE2b-128(mac_key, id || data)
void siv_tag(std::span<const std::uint8_t> mac_key, const NodeId& id, const std::uint8_t* data,
             std::size_t size, std::uint8_t* tag) noexcept {
  crypto_generichash_blake2b_state st;
  crypto_generichash_blake2b_init(&st, mac_key.data(), mac_key.size(), kNameTag);
  crypto_generichash_blake2b_update(&st, id.data(), id.size());
  if (size > 0) crypto_generichash_blake2b_update(&st, data, size);
  crypto_generichash_blake2b_final(&st, tag, kNameTag);
  sodium_memzero(&st, sizeof st);
}

// Returns tag || XChaCha20(stream_key, tag || 0^8, data).
std::vector<std::uint8_t> siv_seal(std::span<const std::uint8_t> mac_key,
                                   std::span<const std::uint8_t> stream_key, const NodeId& id,
                                   const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> out(kNameTag + size);
  std::uint8_t nonce[crypto_stream_xchacha20_NONCEBYTES] = {};
  siv_tag(mac_key, id, data, size, nonce);
  std::memcpy(out.data(), nonce, kNameTag);
  if (size > 0) {
    crypto_stream_xchacha20_xor(out.data() + kNameTag, data, size, nonce, stream_key.data());
  }
  return out;
}

// Opens tag || ct (sealed.size() >= kNameTag) into plain; kAuthFailed if the tag is wrong.
Status siv_open(std::span<const std::uint8_t> mac_key, std::span<const std::uint8_t> stream_key,
                const NodeId& id, std::span<const std::uint8_t> sealed,
                std::vector<std::uint8_t>& plain) {
  plain.resize(sealed.size() - kNameTag);
  std::uint8_t nonce[crypto_stream_xchacha20_NONCEBYTES] = {};
  std::memcpy(nonce, sealed.data(), kNameTag);
  if (!plain.empty()) {
    crypto_stream_xchacha20_xor(plain.data(), sealed.data() + kNameTag, plain.size(), nonce,
                                stream_key.data());
  }
  std::uint8_t tag[kNameTag];
  siv_tag(mac_key, id, plain.data(), plain.size(), tag);
  if (sodium_memcmp(tag, nonce, kNameTag) != 0) {
    if (!plain.empty()) sodium_memzero(plain.data(), plain.size());
    plain.clear();
    return Status::kAuthFailed;
  }
  return Status::kOk;
}

// Whether `rest` is the encoding of 32 bytes in base64url or base32.
bool is_hash_encoding(std::string_view rest) {
  std::vector<std::uint8_t> bytes;
  if (rest.size() == base64url_length(kLongHashBytes) &&
      base64url_decode(rest, bytes) == Status::kOk && bytes.size() == kLongHashBytes) {
    return true;
  }
  return rest.size() == base32_length(kLongHashBytes) &&
         base32_decode(rest, bytes) == Status::kOk && bytes.size() == kLongHashBytes;
}

}  // namespace

std::size_t max_link_target() noexcept {
  std::size_t n = 0;
  while (base64url_length(n + 1 + kNameTag) <= kMaxLinkEncoded) ++n;
  return n;
}

std::size_t encrypted_link_size(std::size_t target_size) noexcept {
  return base64url_length(target_size + kNameTag);
}

std::size_t longest_short_name(NameEncoding encoding) noexcept {
  std::size_t best = 0;
  for (std::size_t n = 1; n <= kMaxNameBytes; ++n) {
    if (encoded_length(encoding, kNameTag + padded_length(n)) <= kMaxNameBytes) best = n;
  }
  return best;
}

NameCipher::NameCipher(const KeySet& keys, NameEncoding encoding)
    : keys_(keys), encoding_(encoding) {}

EncryptedName NameCipher::encrypt(const NodeId& dir, std::string_view plain) const {
  std::vector<std::uint8_t> padded(padded_length(plain.size()), 0);
  std::memcpy(padded.data(), plain.data(), plain.size());
  const auto sealed = siv_seal(keys_.get(Subkey::kNameMac), keys_.get(Subkey::kNameStream), dir,
                               padded.data(), padded.size());
  EncryptedName out;
  out.full = encode(encoding_, sealed);
  if (out.full.size() > kMaxNameBytes) {
    out.name = long_form_of(out.full);
    out.is_long = true;
  } else {
    out.name = out.full;
  }
  return out;
}

Status NameCipher::decrypt(const NodeId& dir, std::string_view full, std::string& plain) const {
  plain.clear();
  try {
    std::vector<std::uint8_t> sealed;
    if (const Status s = decode(encoding_, full, sealed); s != Status::kOk) return s;
    if (sealed.size() < kNameTag + kNamePad || (sealed.size() - kNameTag) % kNamePad != 0 ||
        sealed.size() - kNameTag > padded_length(kMaxNameBytes)) {
      return Status::kBadSize;
    }
    std::vector<std::uint8_t> padded;
    if (const Status s = siv_open(keys_.get(Subkey::kNameMac), keys_.get(Subkey::kNameStream), dir,
                                  sealed, padded);
        s != Status::kOk) {
      return s;
    }
    const auto first_nul = std::find(padded.begin(), padded.end(), std::uint8_t{0});
    const auto length = static_cast<std::size_t>(first_nul - padded.begin());
    const bool padding_ok =
        std::all_of(first_nul, padded.end(), [](std::uint8_t b) { return b == 0; });
    const bool name_ok = length > 0 && length <= kMaxNameBytes &&
                         padded_length(length) == padded.size() &&
                         std::find(padded.begin(), first_nul, std::uint8_t{'/'}) == first_nul;
    if (!padding_ok || !name_ok) {
      sodium_memzero(padded.data(), padded.size());
      return Status::kBadFormat;
    }
    plain.assign(reinterpret_cast<const char*>(padded.data()), length);
    if (plain == "." || plain == "..") {
      plain.clear();
      return Status::kBadFormat;
    }
    sodium_memzero(padded.data(), padded.size());
    return Status::kOk;
  } catch (const std::bad_alloc&) {
    plain.clear();
    return Status::kInternal;
  }
}

bool NameCipher::is_long_form(std::string_view name) noexcept {
  if (!name.starts_with(kLongNamePrefix)) return false;
  try {
    return is_hash_encoding(name.substr(kLongNamePrefix.size()));
  } catch (const std::bad_alloc&) {
    return false;
  }
}

bool NameCipher::is_side_file(std::string_view name) noexcept {
  if (!name.ends_with(kSideFileSuffix)) return false;
  return is_long_form(name.substr(0, name.size() - kSideFileSuffix.size()));
}

std::string NameCipher::long_form_of(std::string_view full) const {
  std::uint8_t hash[kLongHashBytes];
  crypto_generichash(hash, sizeof hash, bytes_of(full), full.size(), nullptr, 0);
  return std::string(kLongNamePrefix) + encode(encoding_, hash);
}

Status NameCipher::check_long_name(std::string_view long_name, std::string_view full) const {
  try {
    if (!is_long_form(long_name)) return Status::kBadFormat;
    if (full.size() <= kMaxNameBytes) return Status::kBadFormat;
    std::vector<std::uint8_t> sealed;
    if (decode(encoding_, full, sealed) != Status::kOk) return Status::kBadEncoding;
    if (sealed.size() < kNameTag + kNamePad || (sealed.size() - kNameTag) % kNamePad != 0 ||
        sealed.size() - kNameTag > padded_length(kMaxNameBytes)) {
      return Status::kBadFormat;
    }
    if (long_form_of(full) != long_name) return Status::kBadFormat;
    return Status::kOk;
  } catch (const std::bad_alloc&) {
    return Status::kInternal;
  }
}

std::string NameCipher::encrypt_link(const NodeId& link, std::string_view target) const {
  if (target.size() > max_link_target()) return {};
  const auto sealed = siv_seal(keys_.get(Subkey::kLinkMac), keys_.get(Subkey::kLinkStream), link,
                               bytes_of(target), target.size());
  return base64url_encode(sealed);
}

Status NameCipher::decrypt_link(const NodeId& link, std::string_view encoded,
                                std::string& target) const {
  target.clear();
  try {
    if (encoded.size() > kMaxLinkEncoded) return Status::kTooLong;
    std::vector<std::uint8_t> sealed;
    if (const Status s = base64url_decode(encoded, sealed); s != Status::kOk) return s;
    if (sealed.size() < kNameTag) return Status::kBadSize;
    std::vector<std::uint8_t> plain;
    if (const Status s = siv_open(keys_.get(Subkey::kLinkMac), keys_.get(Subkey::kLinkStream), link,
                                  sealed, plain);
        s != Status::kOk) {
      return s;
    }
    if (std::find(plain.begin(), plain.end(), std::uint8_t{0}) != plain.end()) {
      return Status::kBadFormat;  // no real symlink target holds a NUL
    }
    target.assign(reinterpret_cast<const char*>(plain.data()), plain.size());
    return Status::kOk;
  } catch (const std::bad_alloc&) {
    target.clear();
    return Status::kInternal;
  }
}

}  // namespace encfsr::crypto
