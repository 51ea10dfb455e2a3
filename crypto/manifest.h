// crypto/manifest.h — directory manifests: the authenticated list of a directory's entries with
// their metadata (docs/FORMAT.md, "Directory manifests").
//
// One record per child, sorted by plaintext name: name, type, the 12 mode bits, owner, mtime,
// size, hard-link group and xattrs. Records are grouped into chunks whose ends depend only on
// the names (a keyed hash, once a chunk has 32 records) or a size cap, so one changed entry
// changes about one chunk. Each chunk is sealed on its own, SIV style, bound to the directory's
// ID but not to its position:
//   tag = BLAKE2b-128(key = K_mmac, dir_id || 0x01 || P), ct = XChaCha20(K_mstr, tag || 0^8, P)
//   chunk = varint(|P|) || tag || ct
// and a 16-byte trailer binds their number and order (completeness):
//   trailer = BLAKE2b-128(key = K_mmac, dir_id || 0x02 || LE64(n) || tag_0 || ... || tag_n-1)
// A manifest of exactly one chunk has no trailer: its tag is computed with domain 0x03 instead
// of 0x01, which binds it to being the whole manifest.
// Thread-safe; no I/O.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <ctime>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/keys.h"
#include "crypto/node_id.h"
#include "crypto/status.h"

namespace encfsr::crypto {

// The name of a directory's manifest in a view (contains '.', so never an encrypted name; not
// a long form or side file).
inline constexpr std::string_view kManifestName = "encfsr.dir";
// Readers refuse manifests larger than this (a hostile copy must not exhaust memory).
inline constexpr std::size_t kMaxManifestBytes = std::size_t{256} << 20;
// Writers cut a chunk once it reaches this many bytes (or earlier, see manifest.cc); readers refuse
// chunks over kMaxChunk.
inline constexpr std::size_t kChunkTarget = 4096;
inline constexpr std::size_t kMaxChunk = std::size_t{16} << 20;
// Xattrs of one entry kept in a record: at most this many bytes of names and values (more is
// left out by the writer and refused by the reader).
inline constexpr std::size_t kMaxXattrBytes = std::size_t{1} << 20;

enum class EntryType : std::uint8_t { kDirectory = 1, kRegular = 2, kSymlink = 3 };

struct Xattr {
  std::string name;
  std::string value;
  bool operator==(const Xattr&) const = default;
};

struct ManifestRecord {
  std::string name;  // plaintext name (1..255 bytes, no '/' or NUL, not "." or "..")
  EntryType type = EntryType::kRegular;
  // False when the entry could not be inspected when the manifest was made: only name and type
  // are then known (the other fields are zero).
  bool attrs_known = true;
  std::uint16_t mode = 0;  // the 12 permission bits (07777)
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::int64_t mtime_sec = 0;
  std::uint32_t mtime_nsec = 0;  // < 1,000,000,000
  std::uint64_t size = 0;        // regular file: plaintext bytes; symlink: target bytes; dir: 0
  std::uint64_t link_group = 0;  // non-zero for a regular file with other hard links
  std::vector<Xattr> xattrs;     // sorted by name, names unique
  bool operator==(const ManifestRecord&) const = default;
};

class ManifestCipher {
 public:
  explicit ManifestCipher(const KeySet& keys);

  // The sealed manifest of directory `dir`. `records` must be sorted by name with unique names,
  // and every field within what open() accepts (violations are the caller's bug:
  // std::invalid_argument).
  std::string seal(const NodeId& dir, std::span<const ManifestRecord> records) const;

  // Opens a sealed manifest of directory `dir`: kAuthFailed if any chunk or the trailer fails
  // (tampered, cut, reordered, or moved from another directory), kBadFormat/kBadSize for
  // structure that no writer produces, kTooLong over kMaxManifestBytes. `out` is filled only on
  // kOk.
  Status open(const NodeId& dir, std::string_view sealed, std::vector<ManifestRecord>& out) const;

  // The hard-link group of backing inode (dev, ino): a keyed hash, never 0.
  std::uint64_t link_group(std::uint64_t dev, std::uint64_t ino) const noexcept;

  // The mtime a view shows for a sealed manifest: 2000-01-01 plus the first 8 bytes (little
  // endian) of its final MAC (the trailer, or a sole chunk's tag) modulo 2^28 seconds; it
  // changes whenever the content does.
  static struct timespec mtime_of(std::string_view sealed) noexcept;

 private:
  bool cut_after(std::string_view name) const noexcept;

  const KeySet& keys_;
};

// The plaintext encoding of one chunk's records, exposed for tests and the reference
// decryptor's vectors: records as in a chunk (the first record has no predecessor).
std::string encode_records(std::span<const ManifestRecord> records);
Status decode_records(std::string_view chunk, std::vector<ManifestRecord>& out);

}  // namespace encfsr::crypto
