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
      return "not the type its directory's manifest lists";
    case DamageKind::kManifest:
      return "directory manifest missing or fails authentication";
    case DamageKind::kMissing:
      return "listed in the directory's manifest but missing from the copy";
    case DamageKind::kUnexpected:
      return "not listed in the directory's manifest";
    case DamageKind::kMetadata:
      return "mode or owner in the copy differs from the manifest";
    case DamageKind::kChanged:
      return "changed during backup";
  }
  return "damaged";
}

}  // namespace encfsr::fs
