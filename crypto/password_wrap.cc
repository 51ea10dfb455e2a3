// crypto/password_wrap.cc — the master key wrapped with Argon2id + XChaCha20-Poly1305-IETF.
#include "crypto/password_wrap.h"

#include <sodium.h>

#include <new>

namespace encfsr::crypto {
namespace {

constexpr std::size_t kKekBytes = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
static_assert(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == 24);
static_assert(crypto_aead_xchacha20poly1305_ietf_ABYTES == 16);
static_assert(crypto_pwhash_argon2id_SALTBYTES == 16);

// kek = Argon2id(password, salt, ops, mem); kInternal if libsodium fails (out of memory).
Status derive_kek(std::string_view password, const KdfParams& params,
                  const std::array<std::uint8_t, 16>& salt, SecureBuffer& kek) {
  if (!ensure_sodium()) return Status::kInternal;
  if (!kdf_params_valid(params)) return Status::kBadFormat;
  if (!kdf_params_affordable(params)) return Status::kTooLong;
  kek = SecureBuffer(kKekBytes);
  if (crypto_pwhash(kek.data(), kek.size(), password.data(), password.size(), salt.data(),
                    params.ops, static_cast<std::size_t>(params.mem),
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Status::kInternal;
  }
  return Status::kOk;
}

}  // namespace

bool kdf_params_valid(const KdfParams& params) noexcept {
  return params.ops >= 1 && params.ops <= 64 && params.mem >= 8ull * 1024 &&
         params.mem <= 4ull * 1024 * 1024 * 1024;
}

bool kdf_params_affordable(const KdfParams& params) noexcept {
  return kdf_params_valid(params) && params.ops <= kMaxAffordableOps &&
         params.mem <= kMaxAffordableMem;
}

std::uint64_t kdf_interactive_ops() noexcept { return crypto_pwhash_OPSLIMIT_INTERACTIVE; }
std::uint64_t kdf_interactive_mem() noexcept { return crypto_pwhash_MEMLIMIT_INTERACTIVE; }

bool kdf_params_below_interactive(const KdfParams& params) noexcept {
  return params.ops < kdf_interactive_ops() || params.mem < kdf_interactive_mem();
}

std::array<std::uint8_t, 16> random_salt() {
  ensure_sodium();
  std::array<std::uint8_t, 16> salt{};
  randombytes_buf(salt.data(), salt.size());
  return salt;
}

Status wrap_master_key(const MasterKey& master, std::string_view password, const KdfParams& params,
                       const std::array<std::uint8_t, 16>& salt,
                       std::span<const std::uint8_t> associated_data, WrappedKey& out) {
  try {
    SecureBuffer kek;
    if (const Status s = derive_kek(password, params, salt, kek); s != Status::kOk) return s;
    out.salt = salt;
    randombytes_buf(out.nonce.data(), out.nonce.size());
    unsigned long long box_len = 0;
    if (crypto_aead_xchacha20poly1305_ietf_encrypt(out.box.data(), &box_len, master.bytes().data(),
                                                   master.bytes().size(), associated_data.data(),
                                                   associated_data.size(), nullptr,
                                                   out.nonce.data(), kek.data()) != 0 ||
        box_len != out.box.size()) {
      return Status::kInternal;
    }
    return Status::kOk;
  } catch (const std::bad_alloc&) {
    return Status::kInternal;
  }
}

Status unwrap_master_key(const WrappedKey& wrapped, std::string_view password,
                         const KdfParams& params, std::span<const std::uint8_t> associated_data,
                         MasterKey& out) {
  try {
    SecureBuffer kek;
    if (const Status s = derive_kek(password, params, wrapped.salt, kek); s != Status::kOk) {
      return s;
    }
    SecureBuffer plain(kMasterKeyBytes);
    unsigned long long plain_len = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(plain.data(), &plain_len, nullptr,
                                                   wrapped.box.data(), wrapped.box.size(),
                                                   associated_data.data(), associated_data.size(),
                                                   wrapped.nonce.data(), kek.data()) != 0 ||
        plain_len != kMasterKeyBytes) {
      return Status::kWrongPassword;
    }
    return MasterKey::from_bytes(plain.span(), out);
  } catch (const std::bad_alloc&) {
    return Status::kInternal;
  }
}

}  // namespace encfsr::crypto
