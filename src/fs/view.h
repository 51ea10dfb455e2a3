// src/fs/view.h — the FUSE-free model of a read-only view, as the FUSE glue, `restore` and
// `verify` see it.
//
// Two implementations: ReverseView (plaintext sources -> ciphertext, or --plain) and
// DecryptView (ciphertext copy -> plaintext). Inode numbers are derived from node IDs
// (crypto/node_id.h): stable across mounts and unique in the view; kRootIno is the root.
// Every method is thread-safe and reports filesystem errors as an errno in a Result; none
// throws.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "crypto/manifest.h"
#include "src/util/result.h"

namespace encfsr::fs {

using Ino = std::uint64_t;
inline constexpr Ino kRootIno = 1;

struct Entry {
  Ino ino = 0;
  // Changes when the name is bound to a different backing inode, so that the kernel drops
  // what it cached of the old one (same inode number, different file).
  std::uint32_t generation = 0;
  struct stat attr {};
};

struct DirEntry {
  std::string name;  // as the view shows it
  Ino ino = 0;
  mode_t type = 0;  // S_IFDIR, S_IFREG or S_IFLNK
  // The view's own record of what its listing saw of the entry, if it keeps one: handed back
  // to lookup_listed(), which then answers without going back to the backing tree.
  std::shared_ptr<const void> listed;
};

// An entry as the kernel knows it: its directory and the name the view shows it by.
struct ShownName {
  Ino parent = 0;
  std::string name;
};

// What a view knows of an entry beyond its struct stat: the decrypt view's entries carry their
// directory manifest's hard-link group and xattrs.
struct ExtraAttrs {
  // Mode (all 12 bits), owner, mtime and xattrs come from an authenticated manifest. When
  // false, getattr's mode has no setuid, setgid or sticky bit.
  bool authenticated = false;
  std::uint64_t link_group = 0;  // non-zero: a hard link of every entry with the same group
  std::vector<crypto::Xattr> xattrs;
};

// An open regular file of a view. read() may be called from several threads at once.
class OpenFile {
 public:
  virtual ~OpenFile() = default;
  // Reads up to buf.size() bytes at offset into buf; returns the count (short only at the end of
  // the file). EIO for a block that fails authentication (decrypt view) or a source file that
  // changed size under the read (reverse view).
  virtual util::Result<std::size_t> read(std::uint64_t offset, std::span<std::uint8_t> buf) = 0;
  // Reads up to `size` bytes at offset, as read() does, into memory the file or the calling
  // thread owns, valid until the thread's next read of any file: a file that produces its bytes
  // in a buffer of its own (the reverse view seals a whole run of blocks) hands that out
  // without a copy. The default reads into a per-thread buffer.
  virtual util::Result<std::span<const std::uint8_t>> read_shared(std::uint64_t offset,
                                                                  std::size_t size);
  // Whether the kernel may keep its page cache of this file (provably unchanged since the last
  // open).
  virtual bool keep_cache() const noexcept { return false; }
};

class View {
 public:
  virtual ~View() = default;

  // Looks `name` up in directory `parent`; on success the inode's lookup count grows by one.
  virtual util::Result<Entry> lookup(Ino parent, std::string_view name) = 0;
  // lookup() of an entry of list(parent)'s result, on behalf of readdirplus: a view that
  // recorded what its listing saw of the entry (DirEntry::listed) answers from that record,
  // as of the listing, instead of looking the name up again.
  virtual util::Result<Entry> lookup_listed(Ino parent, const DirEntry& entry) {
    return lookup(parent, entry.name);
  }
  // Drops `count` lookups (FUSE forget); an inode with none left is dropped from the table.
  virtual void forget(Ino ino, std::uint64_t count) noexcept = 0;
  virtual util::Result<struct stat> getattr(Ino ino) = 0;
  virtual util::Result<std::string> readlink(Ino ino) = 0;
  // The entries of a directory, without "." and "..", in a stable order.
  virtual util::Result<std::vector<DirEntry>> list(Ino dir) = 0;
  virtual util::Result<std::unique_ptr<OpenFile>> open(Ino ino) = 0;
  // Hard-link group and xattrs of an entry (none unless the view knows them).
  virtual util::Result<ExtraAttrs> extra_attrs(Ino ino) {
    (void)ino;
    return ExtraAttrs{};
  }
  // Whether extra_attrs() may give an entry xattrs. A view that never does (the reverse view:
  // its manifests carry the sources' xattrs) lets the FUSE glue answer getxattr / listxattr
  // with ENOSYS, after which the kernel stops asking for the whole mount: every tool that
  // reads xattrs (restic, borg, rsync -X, cp -a) then walks the view 2-4x faster.
  virtual bool serves_xattrs() const noexcept { return false; }

  // How many inodes the view remembers (looked up and not forgotten), and up to `count` of them
  // that the kernel may be asked to drop from its cache, least recently used first: a walk of
  // a million-entry tree would otherwise leave a million remembered (see fuse::Session).
  virtual std::size_t remembered() const noexcept { return 0; }
  virtual std::vector<ShownName> least_recently_used(std::size_t count) {
    (void)count;
    return {};
  }

  // Seconds the kernel may cache entries and attributes.
  virtual double entry_timeout() const noexcept = 0;
  virtual double attr_timeout() const noexcept = 0;
};

}  // namespace encfsr::fs
