// crypto/password_wrap.h — the master key wrapped with a password.
//
// kek = Argon2id(password, salt, ops, mem) (crypto_pwhash, 32 bytes)
// box = XChaCha20-Poly1305-IETF(kek, nonce, master key, ad = associated data)
// The caller passes the key file's parameter text as associated data, so no parameter can be
// changed without the unwrap failing.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "crypto/keys.h"
#include "crypto/status.h"

namespace encfsr::crypto {

struct KdfParams {
  std::uint64_t ops = 3;                      // Argon2id passes (1..64)
  std::uint64_t mem = 256ull * 1024 * 1024;   // bytes (8 KiB .. 4 GiB)
};
bool kdf_params_valid(const KdfParams& params) noexcept;

struct WrappedKey {
  std::array<std::uint8_t, 16> salt{};
  std::array<std::uint8_t, 24> nonce{};
  std::array<std::uint8_t, kMasterKeyBytes + 16> box{};
};

// Fresh random salt and nonce; the salt must be chosen before the AD is built, so the caller
// passes it (random_salt()).
std::array<std::uint8_t, 16> random_salt();
Status wrap_master_key(const MasterKey& master, std::string_view password, const KdfParams& params,
                       const std::array<std::uint8_t, 16>& salt,
                       std::span<const std::uint8_t> associated_data, WrappedKey& out);
// kWrongPassword if the box does not open (wrong password or altered parameters).
Status unwrap_master_key(const WrappedKey& wrapped, std::string_view password,
                         const KdfParams& params, std::span<const std::uint8_t> associated_data,
                         MasterKey& out);

}  // namespace encfsr::crypto
