#include "src/fs/damage.h"

namespace encfsr::fs {

const char* describe(DamageKind kind) noexcept {
  switch (kind) {
    case DamageKind::kName:
      return "name fails authentication";
    case DamageKind::kSideFile:
      return "long-name side file missing or wrong";
    case DamageKind::kBlock:
      return "block fails authentication";
    case DamageKind::kSize:
      return "impossible ciphertext size (truncated or extended)";
    case DamageKind::kLink:
      return "symlink target fails authentication";
    case DamageKind::kUnreadable:
      return "unreadable";
    case DamageKind::kType:
      return "not a file, directory or symlink";
  }
  return "damaged";
}

}  // namespace encfsr::fs
