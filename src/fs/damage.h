// src/fs/damage.h — how the decrypt view reports damage it finds in a ciphertext copy.
//
// The view logs each problem and hands it to a DamageSink; `restore` and `verify` collect them
// into their report, the FUSE mount only logs them.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace encfsr::fs {

enum class DamageKind {
  kName,        // a name failed authentication (entry hidden)
  kSideFile,    // a long name's side file is missing, unreadable or does not match
  kBlock,       // a content block failed authentication
  kSize,        // a ciphertext size no encoder produces (truncated or extended)
  kLink,        // a symlink target failed authentication
  kUnreadable,  // an I/O error reading the copy
  kType,        // a FIFO, socket or device where a file, directory or symlink belongs, or an
                // entry whose type differs from its directory's manifest (entry hidden)
  kManifest,    // a directory's manifest is missing (where one is expected) or fails
  kMissing,     // an entry of a directory's manifest is not in the copy
  kUnexpected,  // an entry of the copy is not in its directory's manifest (entry hidden)
  kMetadata,    // the copy's own mode or owner of an entry differs from the manifest
  kChanged,     // a warning, not damage: size or mtime differs from the manifest because the
                // source changed while the backup read it
};
// Whether a kind is a warning rather than damage.
constexpr bool is_warning(DamageKind kind) noexcept { return kind == DamageKind::kChanged; }
const char* describe(DamageKind kind) noexcept;

struct Damage {
  DamageKind kind;
  std::string cipher_path;  // path of the entry in the copy, relative to its root
  std::string plain_path;   // plaintext path inside the view, when known (else empty)
  std::uint64_t block = 0;  // for kBlock
};

using DamageSink = std::function<void(const Damage&)>;

}  // namespace encfsr::fs
