// src/fs/backing_io.h — the few system calls both views make on their backing trees, with
// EINTR and short transfers handled: whole preads, directory listings, small files, links.
// Everything is relative to a directory fd and never follows a symlink.
#pragma once

#include <sys/types.h>
#include <sys/uio.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/manifest.h"
#include "src/fs/view.h"
#include "src/util/result.h"

namespace encfsr::fs {

// Reads until buf is full or end of file; returns the count.
util::Result<std::size_t> pread_full(int fd, std::span<std::uint8_t> buf, std::uint64_t offset);
// As pread_full, into the buffers of `slots` in turn (at most IOV_MAX; their iov_base and
// iov_len may be changed): the bytes read, short only at the end of the file.
util::Result<std::size_t> preadv_full(int fd, std::span<struct iovec> slots, std::uint64_t offset);

struct RawEntry {
  std::string name;
  unsigned char d_type;  // DT_* (DT_UNKNOWN possible)
};
// The entries of directory `dir_fd` (not consumed; "." and ".." left out).
util::Result<std::vector<RawEntry>> read_dir(int dir_fd);

// The S_IFMT type of an entry from its d_type, asking fstatat when the fs does not say; 0 for
// an entry that is not part of a view (socket, FIFO, device) or is gone; S_IFREG when fstatat
// fails otherwise (the entry stays listed and its lookup reports the error).
mode_t entry_type(int dir_fd, const RawEntry& entry);

// A regular file's contents, at most `limit` bytes (EFBIG if larger; EINVAL for anything but a
// regular file, a symlink included). Never blocks on a FIFO.
util::Result<std::string> read_small_file(int dir_fd, const std::string& name, std::size_t limit);

// A full encoded name is a few hundred bytes; a side file larger than this is damage.
inline constexpr std::size_t kMaxSideFileBytes = 4096;
// The content of the side file of long form `long_form` (a name in `dir_fd`, or a relative path
// below it), exactly as stored (FORMAT.md: the full encoded name, no newline): what the
// decrypt view and `encfsr path decrypt` both read. Errors as read_small_file's.
util::Result<std::string> read_side_file(int dir_fd, const std::string& long_form);
util::Result<std::string> read_link(int dir_fd, const std::string& name);

// Whether directory `dir_fd` is marked as a cache (https://bford.info/cachedir/): it holds a
// regular file CACHEDIR.TAG starting with the standard signature. A tag that is not a regular
// file (a FIFO, say) never marks a cache, and reading it never blocks.
bool is_cache_directory(int dir_fd);
// The same, telling a directory without CACHEDIR.TAG (kNone) from one whose CACHEDIR.TAG does
// not mark it (kOther: not a regular file, no signature, unreadable). Rewriting an existing tag
// changes nothing in the directory's own lstat; creating one changes its mtime.
enum class CacheTag : std::uint8_t { kNone, kOther, kCache };
CacheTag cache_tag(int dir_fd);

// The extended attributes of entry `name` of directory `dir_fd` (of `dir_fd` itself when `name`
// is empty), sorted by name, symlinks not followed. A filesystem without xattrs gives none; so
// does an entry whose xattrs exceed crypto::kMaxXattrBytes in all (logged). Errors (EACCES, ...)
// are returned.
util::Result<std::vector<crypto::Xattr>> read_xattrs(int dir_fd, const std::string& name);
// Whether read_xattrs may use listxattrat/getxattrat (Linux 6.13); it stops by itself where
// they are missing. Tests turn them off to check the older path.
void use_xattrat_calls(bool on) noexcept;

// Per-thread scratch buffers of the read path (no allocation per request once grown).
enum class Scratch { kPlain, kCipher };
std::span<std::uint8_t> scratch(Scratch which, std::size_t size);

// Sorts a listing by name: the stable order View::list promises.
void sort_by_name(std::vector<DirEntry>& entries);

// An open file whose contents are a string in memory (virtual files).
class MemoryFile final : public OpenFile {
 public:
  explicit MemoryFile(std::string contents) : contents_(std::move(contents)) {}
  util::Result<std::size_t> read(std::uint64_t offset, std::span<std::uint8_t> buf) override;
  bool keep_cache() const noexcept override { return true; }

 private:
  std::string contents_;
};

// Attributes of a virtual read-only file or directory with a fixed mtime (2000-01-01).
struct stat virtual_attr(mode_t type_and_mode, std::uint64_t size);
inline constexpr time_t kVirtualMtime = 946684800;

}  // namespace encfsr::fs
