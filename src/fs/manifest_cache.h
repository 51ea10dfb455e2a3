// src/fs/manifest_cache.h — the reverse view's snapshots of directories: a listing and the
// sealed manifest (encfsr.dir) made from it, taken together.
//
// A listing reuses a snapshot younger than `ttl`, so that one walk of a directory (a listing,
// then lookups of its entries and of its manifest) costs one pass over the source directory.
// An older one is served again only if the directory and each of its children show the same
// lstat as at that pass (ReverseView::still_holds): a pass then costs one lstat per child.
// The manifest shown is that of the directory's last listing, however old: it lists exactly the
// entries the tool was shown, so an entry created after the listing is neither copied nor
// listed (only one deleted after the listing can be missing from a copy). An attribute reply
// picks the snapshot whose size and mtime it shows, an open serves that snapshot, and while any
// open of it lasts attribute replies keep showing it. So a tool never reads a manifest of another
// size than the one it was told. Bounded: at most `max_dirs` directories and `max_bytes` of
// manifests are kept, least recently used first out, never one that is open. Thread-safe.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <ctime>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "crypto/manifest.h"
#include "crypto/name_cipher.h"
#include "crypto/node_id.h"
#include "src/fs/view.h"
#include "src/util/result.h"

namespace encfsr::fs {

// What a listing saw of one backed child: its manifest record came from this lstat and these
// xattrs. The next pass over the directory reuses what cannot have changed (see
// ReverseView::build_snapshot).
struct ListedChild {
  std::string name;  // plaintext
  crypto::NodeId id{};
  struct stat st {};
  std::uint32_t source = 0;
  std::uint32_t tier = 0;
  std::vector<crypto::Xattr> xattrs;
  crypto::EncryptedName shown;  // empty in a --plain view
};

// What a pass saw of the directory itself in one tier of its source, before reading it.
struct TierDirStamp {
  bool present = false;  // the tier has the directory
  dev_t dev = 0;
  ino_t ino = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  struct timespec mtime {};
  struct timespec ctime {};
  bool operator==(const TierDirStamp& o) const noexcept;
};

struct DirSnapshot {
  static constexpr std::uint32_t kNoChild = ~std::uint32_t{0};
  std::vector<DirEntry> entries;  // the listing as the view shows it, sorted
  // entries[i] is the backed child children[child_of[i]], or (kNoChild) a virtual entry, a
  // side file, a source or a child whose lstat failed.
  std::vector<ListedChild> children;  // in plaintext name order
  std::vector<std::uint32_t> child_of;
  struct timespec started {};  // CLOCK_REALTIME when the pass began
  // Whether the next pass may be this one again (ReverseView::still_holds): every record is a
  // listed child's, and no entry's admission rested on anything its lstat and the directory's
  // do not show (a CACHEDIR.TAG's contents, a mount over an excluded directory, an error).
  bool settled = false;
  std::vector<TierDirStamp> tier_dirs;  // one per tier of the source, when settled
  std::string manifest;                 // the sealed manifest of these entries
  struct timespec mtime {};             // the manifest's mtime (from its trailer)
  uid_t uid = 0;                        // owner of encfsr.dir: the directory's owner
  gid_t gid = 0;
};
using SnapshotPtr = std::shared_ptr<const DirSnapshot>;
using SnapshotBuilder = std::function<util::Result<SnapshotPtr>()>;

class ManifestCache {
 public:
  ManifestCache(std::chrono::steady_clock::duration ttl, std::size_t max_dirs,
                std::size_t max_bytes);

  // For a listing: the latest snapshot if younger than ttl, else what `build` gives (a new
  // snapshot, or the latest again, which is then as young as a new one). While one thread
  // builds a directory's snapshot, others listing it wait for that one. `first` (if given) is
  // set when no listing was served this snapshot since it was made (or served again).
  util::Result<SnapshotPtr> for_listing(Ino dir, const SnapshotBuilder& build,
                                        bool* first = nullptr);
  // A pass ahead of a listing: as for_listing, but nothing is done (and none waits) when the
  // directory's snapshot is younger than ttl or being built.
  void make_ahead(Ino dir, const SnapshotBuilder& build);
  // Whether `dir` has a snapshot younger than ttl or one being built.
  bool fresh_or_building(Ino dir);
  // For an attribute reply of encfsr.dir: the snapshot it shows (see the file comment); made
  // now only if the directory has none.
  util::Result<SnapshotPtr> for_attr(Ino dir, const SnapshotBuilder& build);
  // For an open of encfsr.dir: the snapshot last shown (made now if none), held until release.
  util::Result<SnapshotPtr> open(Ino dir, const SnapshotBuilder& build);
  void release(Ino dir) noexcept;
  // The latest snapshot of `dir`, however old, or null; not counted as a use.
  SnapshotPtr latest(Ino dir);

 private:
  struct Slot {
    SnapshotPtr latest;
    std::chrono::steady_clock::time_point made{};
    bool listed = false;  // a listing was served `latest` since `made`
    SnapshotPtr reported;
    std::uint32_t opens = 0;
    std::size_t bytes = 0;  // weight of latest and reported, counted in bytes_
    std::list<Ino>::iterator lru;
  };

  // The slot of `dir`, created if needed and moved to the front of the LRU list. Locked.
  Slot& touch(Ino dir);
  // Recounts a slot's bytes after its snapshots changed. Locked.
  void recount(Slot& slot);
  // Evicts least recently used slots over the bounds, never `keep` or an open one. Locked.
  void evict(Ino keep);
  bool fresh(const Slot& slot) const;
  // Builds and stores `dir`'s snapshot, for a listing or not; `building_` holds `dir` already.
  // Unlocked.
  util::Result<SnapshotPtr> build_and_store(Ino dir, const SnapshotBuilder& build, bool listing);

  const std::chrono::steady_clock::duration ttl_;
  const std::size_t max_dirs_;
  const std::size_t max_bytes_;
  std::mutex mutex_;
  std::unordered_map<Ino, Slot> slots_;
  std::unordered_set<Ino> building_;  // directories whose snapshot a thread is building
  std::condition_variable built_;     // notified when one is done
  std::list<Ino> lru_;                // most recent first
  std::size_t bytes_ = 0;
};

}  // namespace encfsr::fs
