// src/fs/decrypt_view.h — the read-only plaintext view of a ciphertext copy (restore side).
//
// The copy's root holds the encrypted source directories and usually "encfsr.key" (never
// shown). Names that fail authentication are hidden and reported; long-name side files are
// consumed; a damaged block makes reads touching it fail with EIO and is reported, the other
// blocks stay readable. A file of impossible size, or a FIFO or device where a file belongs,
// fails to open with EIO. No open blocks.
#pragma once

#include <memory>
#include <optional>

#include "crypto/keys.h"
#include "crypto/name_cipher.h"
#include "src/fs/damage.h"
#include "src/fs/view.h"
#include "src/util/unique_fd.h"

namespace encfsr::fs {

struct DecryptOptions {
  crypto::NameEncoding names = crypto::NameEncoding::kBase64Url;
  double timeout = 3600.0;  // entry and attribute cache timeout: the copy is static
  DamageSink on_damage;     // receives every damage found; if empty, damage is logged
  // A file of a size no encoder produces (cut, extended, empty) is opened with its whole
  // blocks readable (restore --salvage); otherwise its open fails with EIO.
  bool lenient_sizes = false;
  // Whether every directory of the copy has a manifest (copy_has_manifests). With manifests,
  // metadata and xattrs come from them and completeness is checked; without, the setuid,
  // setgid and sticky bits are dropped.
  bool manifests = false;
  // Compare the owners of the copy's own inodes with the manifests ("metadata" damage): only
  // meaningful when the copy could keep owners, i.e. for root.
  bool compare_owners = false;
};

// Whether a copy is read with manifests: as the view section of its key file declares
// (`declared`), else whether its root holds encfsr.dir.
bool copy_has_manifests(int cipher_root, std::optional<bool> declared);

std::unique_ptr<View> make_decrypt_view(util::UniqueFd cipher_root, const crypto::MasterKey& master,
                                        DecryptOptions options);

}  // namespace encfsr::fs
