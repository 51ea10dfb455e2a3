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
  std::uint64_t ops = 3;                     // Argon2id passes (1..64)
  std::uint64_t mem = 256ull * 1024 * 1024;  // bytes (8 KiB .. 4 GiB)
};
// Whether the costs are in the range the key file format can express (ops 1..64, mem 8 KiB ..
// 4 GiB). A key file outside it does not parse.
bool kdf_params_valid(const KdfParams& params) noexcept;

// The most a key file may ask for before this encfsr derives a key from it: a copy's key file
// is written by whoever holds the storage, and Argon2id does exactly the work it asks for.
// libsodium's SENSITIVE level is 4 passes over 1 GiB (a few seconds on one core); the caps allow
// twice its memory and four times its passes, so at most 8 times SENSITIVE's work (under a
// minute on a current core) and 2 GiB of memory, in a short-lived child process. `init` and
// `passwd` never write more. A file that asks for more is refused before any hashing
// (unwrap_master_key says kTooLong; the CLI names the file and its costs).
inline constexpr std::uint64_t kMaxAffordableOps = 16;
inline constexpr std::uint64_t kMaxAffordableMem = 2ull * 1024 * 1024 * 1024;
bool kdf_params_affordable(const KdfParams& params) noexcept;
// Whether the costs are below libsodium's INTERACTIVE level (crypto_pwhash_OPSLIMIT_INTERACTIVE
// passes, crypto_pwhash_MEMLIMIT_INTERACTIVE bytes): too cheap for a password that protects
// backups kept by someone else. `init` and `passwd` refuse them unless --insecure-kdf.
bool kdf_params_below_interactive(const KdfParams& params) noexcept;
std::uint64_t kdf_interactive_ops() noexcept;
std::uint64_t kdf_interactive_mem() noexcept;

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
// kWrongPassword if the box does not open (wrong password or altered parameters); kTooLong,
// before any hashing, if the costs are not kdf_params_affordable.
Status unwrap_master_key(const WrappedKey& wrapped, std::string_view password,
                         const KdfParams& params, std::span<const std::uint8_t> associated_data,
                         MasterKey& out);

}  // namespace encfsr::crypto
