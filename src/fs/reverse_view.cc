// src/fs/reverse_view.cc — the ciphertext view of plaintext sources (see reverse_view.h).
//
// Consistency over a live tree: nothing is cached but what the kernel looked up (parent +
// relative path per inode) and a few directory fds that expire after a second. Every answer is
// computed from the source as it is now, with three exceptions that keep what a backup tool
// copies authentic:
// - an open file is sealed at one size for its whole life: the size last reported to the kernel
//   (a file that grew since the tool's stat is served whole at the size the tool saw), and
//   attribute replies show that size while it is open, so the kernel never cuts a block;
// - every block an open file hands out comes from one seal (served_blocks.h): a request for the
//   rest of a block cut by an earlier request gets that earlier seal, and a block that would
//   differ from one handed out before gives EIO;
// - the kernel keeps its page cache only for a file provably unchanged since the last open
//   (device, inode, size, mtime, ctime), and generation numbers change with the backing inode.
// No open can block (FIFOs: util/open_file.h) and the view never enters its own mountpoint or
// another encfsr view (mount_guard.h). An entry the daemon cannot read is still listed, so the
// tool gets the errno for it instead of silently missing it.
#include "src/fs/reverse_view.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "config/exclude_rules.h"
#include "crypto/content_cipher.h"
#include "crypto/manifest.h"
#include "crypto/name_cipher.h"
#include "crypto/size_math.h"
#include "src/fs/backing_io.h"
#include "src/fs/dir_fd_cache.h"
#include "src/fs/inode_table.h"
#include "src/fs/long_name_index.h"
#include "src/fs/manifest_cache.h"
#include "src/fs/mount_guard.h"
#include "src/fs/parallel_blocks.h"
#include "src/fs/served_blocks.h"
#include "src/util/log.h"
#include "src/util/open_file.h"
#include "src/util/quiet_thread.h"
#include "src/util/worker_pool.h"

namespace encfsr::fs {
namespace {

using util::Errno;
using util::Result;

// Node-ID names of virtual files: they contain '/', which no real name can.
constexpr std::string_view kKeyFileIdName = "/key";
constexpr std::string_view kSideFileIdName = "/side";
constexpr std::string_view kManifestIdName = "/dir";
// How long a directory's snapshot (listing + manifest) is reused, and how many are kept.
constexpr auto kSnapshotTtl = std::chrono::seconds(1);
constexpr std::size_t kSnapshotDirs = 1024;
// 16 MiB: 128 directories of 1,000 entries, or all 1,024 of ~20 (a whole walk's worth of
// directories being listed and copied at once, at a bounded cost in memory).
constexpr std::size_t kSnapshotBytes = std::size_t{16} << 20;
// Long names remembered for lookups (a pair is at most about 330 bytes of strings: 5 MiB).
constexpr std::size_t kLongNameIndexNames = 16384;
// Directories queued for the walk-ahead thread at most (the oldest beyond are dropped): more
// than a walk gets ahead within the snapshots' ttl.
constexpr std::size_t kAheadDirs = 256;

struct Tier {
  SharedFd root;
  dev_t dev = 0;
  std::string tag;  // distinguishes tiers in the directory fd cache
};

struct SourceState {
  std::string name;
  std::vector<Tier> tiers;
  config::ExcludeRules rules;
  bool exclude_caches = false;
  crypto::NodeId id{};
};

// A plaintext child of a directory, as found in its first tier.
struct Child {
  std::string name;
  mode_t type = 0;
  std::uint32_t tier = 0;
};

// Whether this thread is a view's walk-ahead thread (for PassCounts::ahead).
thread_local bool t_walking_ahead = false;

// Blocks one preadv of the read path fills at most (one iovec each).
constexpr std::size_t kMaxRangeBlocks = 64;

// Generation of an entry bound to backing inode `st` (see Entry::generation).
std::uint32_t generation_of(const struct stat& st) {
  std::uint64_t x = (static_cast<std::uint64_t>(st.st_dev) << 32) ^ st.st_ino;
  x = (x ^ (x >> 31)) * 0x9e3779b97f4a7c15ULL;  // mix, so that nearby inodes differ widely
  return static_cast<std::uint32_t>(x ^ (x >> 32));
}

// A regular source file, sealed on read at the size fixed at open (see the file comment).
class EncryptingFile final : public OpenFile {
 public:
  EncryptingFile(util::OpenedFile file, std::uint64_t size, const crypto::NodeId& id,
                 const crypto::ContentCipher* cipher, util::WorkerPool& pool, bool keep,
                 InodeTable& table, Ino ino)
      : fd_(std::move(file.fd)),
        opened_(file.st),
        size_(size),
        id_(id),
        cipher_(cipher),
        pool_(pool),
        keep_(keep),
        table_(table),
        ino_(ino) {}
  EncryptingFile(const EncryptingFile&) = delete;
  EncryptingFile& operator=(const EncryptingFile&) = delete;
  ~EncryptingFile() override { table_.note_close(ino_); }

  Result<std::size_t> read(std::uint64_t offset, std::span<std::uint8_t> buf) override {
    if (cipher_ == nullptr) {  // --plain: the bytes as they are, up to the size fixed at open
      if (offset >= size_) return std::size_t{0};
      return pread_full(fd_.get(), buf.first(std::min<std::uint64_t>(buf.size(), size_ - offset)),
                        offset);
    }
    auto sealed = seal(offset, buf.size());
    if (!sealed) return Errno{sealed.error()};
    if (!sealed->empty()) std::memcpy(buf.data(), sealed->data(), sealed->size());
    return sealed->size();
  }

  // The sealed bytes are handed out from the thread's scratch buffer they were sealed in.
  Result<std::span<const std::uint8_t>> read_shared(std::uint64_t offset,
                                                    std::size_t size) override {
    if (cipher_ == nullptr) return OpenFile::read_shared(offset, size);
    return seal(offset, size);
  }
  bool keep_cache() const noexcept override { return keep_; }

 private:
  // Seals the blocks under ciphertext bytes [offset, offset + size) and returns those bytes,
  // in the thread's cipher scratch buffer.
  Result<std::span<const std::uint8_t>> seal(std::uint64_t offset, std::size_t size) {
    const std::uint64_t total = crypto::cipher_size(size_);
    if (offset >= total || size == 0) return std::span<const std::uint8_t>{};
    const std::uint64_t length = std::min<std::uint64_t>(size, total - offset);
    const auto blocks = crypto::blocks_of_cipher_range(offset, length);
    const std::uint64_t count = crypto::block_count(size_);
    const std::uint64_t plain_begin = blocks.first * crypto::kBlockSize;
    const std::uint64_t plain_end = std::min(size_, (blocks.last + 1) * crypto::kBlockSize);
    const std::uint64_t plain_size = plain_end - plain_begin;
    const std::uint64_t cipher_begin = blocks.first * crypto::kCipherBlockSize;
    auto sealed = scratch(Scratch::kCipher, crypto::cipher_size(plain_size));
    // Block k of the request: plaintext at k * kBlockSize of the source, sealed in place at
    // k * kCipherBlockSize (its tag first, then its bytes: read straight into their slot, then
    // encrypted where they lie); only the last one may be shorter. Ranges of blocks are read and
    // sealed in parallel, so that the copies out of the page cache (and, cold, the disk reads)
    // are spread over the cores too.
    std::atomic<int> failure{0};
    const auto seal_range = [&](std::size_t begin, std::size_t end) {
      std::array<struct iovec, kMaxRangeBlocks> slots{};
      const auto block_bytes = [&](std::size_t k) {
        return static_cast<std::size_t>(
            std::min<std::uint64_t>(crypto::kBlockSize, plain_size - k * crypto::kBlockSize));
      };
      for (std::size_t first = begin; first < end; first += slots.size()) {
        const std::size_t last = std::min(end, first + slots.size());
        std::size_t want = 0;
        for (std::size_t k = first; k < last; ++k) {
          slots[k - first].iov_base =
              sealed.data() + k * crypto::kCipherBlockSize + crypto::kTagSize;
          slots[k - first].iov_len = block_bytes(k);
          want += block_bytes(k);
        }
        auto got = preadv_full(fd_.get(), std::span(slots.data(), last - first),
                               plain_begin + first * crypto::kBlockSize);
        // The file shrank under us: never seal a block we could not read whole.
        if (!got || *got != want) {
          failure.store(got ? EIO : got.error(), std::memory_order_relaxed);
          return;
        }
        for (std::size_t k = first; k < last; ++k) {
          const std::size_t n = block_bytes(k);
          const std::uint64_t i = blocks.first + k;
          const auto slot = sealed.subspan(k * crypto::kCipherBlockSize, n + crypto::kTagSize);
          cipher_->seal(id_, i, i + 1 == count, slot.subspan(crypto::kTagSize), slot);
        }
      }
    };
    const auto request_blocks = static_cast<std::size_t>(blocks.last - blocks.first + 1);
    if (!for_block_ranges(&pool_, request_blocks, seal_range)) return Errno{EIO};
    if (const int err = failure.load(std::memory_order_relaxed); err != 0) return Errno{err};
    const auto skip = static_cast<std::size_t>(offset - cipher_begin);
    const auto n = static_cast<std::size_t>(length);
    if (!served_.reconcile(blocks.first, sealed, skip, skip + n, [this] { return changed(); })) {
      util::log::debug("read: a block changed since this open handed it out; EIO");
      return Errno{EIO};
    }
    return std::span<const std::uint8_t>(sealed.subspan(skip, n));
  }

  // Whether the source file may have changed since the open.
  bool changed() const {
    struct stat now {};
    if (::fstat(fd_.get(), &now) != 0) return true;
    return now.st_size != opened_.st_size || now.st_mtim.tv_sec != opened_.st_mtim.tv_sec ||
           now.st_mtim.tv_nsec != opened_.st_mtim.tv_nsec ||
           now.st_ctim.tv_sec != opened_.st_ctim.tv_sec ||
           now.st_ctim.tv_nsec != opened_.st_ctim.tv_nsec;
  }

  util::UniqueFd fd_;
  struct stat opened_;
  std::uint64_t size_;
  crypto::NodeId id_;
  const crypto::ContentCipher* cipher_;
  util::WorkerPool& pool_;
  bool keep_;
  InodeTable& table_;
  Ino ino_;
  ServedBlocks served_;
};

// An open encfsr.dir: the snapshot it was opened on, held until release.
class ManifestFile final : public OpenFile {
 public:
  ManifestFile(SnapshotPtr snapshot, ManifestCache& cache, Ino dir)
      : snapshot_(std::move(snapshot)), cache_(cache), dir_(dir) {}
  ManifestFile(const ManifestFile&) = delete;
  ManifestFile& operator=(const ManifestFile&) = delete;
  ~ManifestFile() override { cache_.release(dir_); }
  Result<std::size_t> read(std::uint64_t offset, std::span<std::uint8_t> buf) override {
    const std::string& data = snapshot_->manifest;
    if (offset >= data.size()) return std::size_t{0};
    const std::size_t n = std::min(buf.size(), data.size() - static_cast<std::size_t>(offset));
    std::memcpy(buf.data(), data.data() + offset, n);
    return n;
  }

 private:
  SnapshotPtr snapshot_;
  ManifestCache& cache_;
  Ino dir_;
};

// Whether an entry whose lstat was `before` in a pass that began at `pass` and is `now` still has
// the xattrs that pass read: same inode, same ctime (any xattr change sets it), and that ctime
// over a second older than the pass, so that a change in the same tick of a coarse clock as the
// pass's lstat cannot leave it unchanged.
bool same_xattrs(const struct stat& before, const struct stat& now, const struct timespec& pass) {
  return before.st_dev == now.st_dev && before.st_ino == now.st_ino &&
         before.st_ctim.tv_sec == now.st_ctim.tv_sec &&
         before.st_ctim.tv_nsec == now.st_ctim.tv_nsec && now.st_ctim.tv_sec + 1 < pass.tv_sec;
}

// Whether two lstats of an entry show the same: everything a record or an attribute reply
// takes from them.
bool same_lstat(const struct stat& a, const struct stat& b) {
  const auto same_time = [](const struct timespec& x, const struct timespec& y) {
    return x.tv_sec == y.tv_sec && x.tv_nsec == y.tv_nsec;
  };
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_mode == b.st_mode &&
         a.st_nlink == b.st_nlink && a.st_uid == b.st_uid && a.st_gid == b.st_gid &&
         a.st_rdev == b.st_rdev && a.st_size == b.st_size && a.st_blksize == b.st_blksize &&
         a.st_blocks == b.st_blocks && same_time(a.st_atim, b.st_atim) &&
         same_time(a.st_mtim, b.st_mtim) && same_time(a.st_ctim, b.st_ctim);
}

// The stamp of the directory open as `fd` (false if fstat fails).
bool stamp_of(int fd, TierDirStamp& out) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return false;
  out.present = true;
  out.dev = st.st_dev;
  out.ino = st.st_ino;
  out.uid = st.st_uid;
  out.gid = st.st_gid;
  out.mtime = st.st_mtim;
  out.ctime = st.st_ctim;
  return true;
}

// A manifest record of an entry from its lstat and xattrs.
crypto::ManifestRecord record_of(const std::string& name, const struct stat& st,
                                 std::vector<crypto::Xattr> xattrs,
                                 const crypto::ManifestCipher& cipher) {
  crypto::ManifestRecord r;
  r.name = name;
  r.type = S_ISDIR(st.st_mode)   ? crypto::EntryType::kDirectory
           : S_ISLNK(st.st_mode) ? crypto::EntryType::kSymlink
                                 : crypto::EntryType::kRegular;
  r.mode = static_cast<std::uint16_t>(st.st_mode & 07777);
  r.uid = st.st_uid;
  r.gid = st.st_gid;
  r.mtime_sec = st.st_mtim.tv_sec;
  r.mtime_nsec = static_cast<std::uint32_t>(st.st_mtim.tv_nsec);
  if (!S_ISDIR(st.st_mode)) r.size = static_cast<std::uint64_t>(st.st_size);
  if (S_ISREG(st.st_mode) && st.st_nlink > 1) {
    r.link_group = cipher.link_group(static_cast<std::uint64_t>(st.st_dev),
                                     static_cast<std::uint64_t>(st.st_ino));
  }
  r.xattrs = std::move(xattrs);
  return r;
}

class ReverseView final : public View {
 public:
  ReverseView(const config::Config& config, const crypto::MasterKey& master, ReverseOptions options)
      : plain_(options.plain),
        key_in_view_(config.key_in_view && !options.plain && !options.key_file_text.empty()),
        key_text_(std::move(options.key_file_text)),
        key_uid_(options.key_uid),
        key_gid_(options.key_gid),
        one_file_system_(config.one_file_system),
        entry_timeout_(config.mount.entry_timeout),
        attr_timeout_(config.mount.attr_timeout),
        keys_(options.plain ? std::make_unique<crypto::KeySet>(crypto::MasterKey::zero())
                            : std::make_unique<crypto::KeySet>(master)),
        root_id_(crypto::root_id(*keys_)),
        table_(root_id_),
        dirs_(32, std::chrono::seconds(1)),
        guard_(options.mountpoint),
        manifests_(config.manifests && !options.plain),
        snapshots_(kSnapshotTtl, kSnapshotDirs, kSnapshotBytes),
        long_names_(kLongNameIndexNames),
        pool_(options.plain ? 0U : util::WorkerPool::usable_cpus() - 1U),
        counts_(options.counts) {
    content_ = std::make_unique<crypto::ContentCipher>(*keys_);
    names_ = std::make_unique<crypto::NameCipher>(*keys_, config.names);
    manifest_ = std::make_unique<crypto::ManifestCipher>(*keys_);
    std::uint32_t index = 0;
    for (const auto& src : config.sources) {
      SourceState state;
      state.name = src.name;
      state.rules = config::ExcludeRules(src.exclude);
      state.exclude_caches = src.exclude_caches;
      state.id = crypto::child_id(*keys_, root_id_, src.name);
      std::uint32_t tier = 0;
      for (const auto& path : src.paths) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
          throw std::runtime_error("cannot open source directory " + path.string() + ": " +
                                   std::strerror(errno));
        }
        Tier t;
        t.root = std::make_shared<const util::UniqueFd>(fd);
        struct stat st {};
        if (::fstat(fd, &st) != 0) throw std::runtime_error("cannot stat " + path.string());
        t.dev = st.st_dev;
        t.tag = std::to_string(index) + ":" + std::to_string(tier++);
        state.tiers.push_back(std::move(t));
      }
      sources_.push_back(std::move(state));
      ++index;
    }
    if (options.walk_ahead && manifests_) {
      try {
        ahead_thread_ = util::start_quiet_thread([this] { run_ahead(); });
      } catch (const std::system_error& e) {
        util::log::warning(std::string("no walk-ahead thread: ") + e.what());
      }
    }
  }

  ~ReverseView() override {
    {
      std::lock_guard lock(ahead_mutex_);
      ahead_stop_ = true;
    }
    ahead_wake_.notify_all();
    if (ahead_thread_.joinable()) ahead_thread_.join();
  }
  ReverseView(const ReverseView&) = delete;
  ReverseView& operator=(const ReverseView&) = delete;

  double entry_timeout() const noexcept override { return entry_timeout_; }
  double attr_timeout() const noexcept override { return attr_timeout_; }

  Result<Entry> lookup(Ino parent, std::string_view name) override {
    auto dir = table_.find(parent);
    if (!dir) return Errno{dir.error()};
    if (dir->type != S_IFDIR) return Errno{ENOTDIR};
    if (dir->kind == NodeKind::kRoot && key_in_view_ && name == crypto::kKeyFileName) {
      Node key;
      key.kind = NodeKind::kKeyFile;
      key.type = S_IFREG;
      key.parent = kRootIno;
      key.id = crypto::child_id(*keys_, root_id_, kKeyFileIdName);
      return remember(key);
    }
    if (manifests_ && name == crypto::kManifestName) {
      Node manifest;
      manifest.kind = NodeKind::kManifest;
      manifest.type = S_IFREG;
      manifest.parent = parent;
      manifest.id = crypto::child_id(*keys_, dir->id, kManifestIdName);
      return remember(manifest);
    }
    bool side = false;
    auto plain = plain_name(parent, *dir, name, side);
    if (!plain) return Errno{plain.error()};
    struct stat st {};
    auto child = find_child(*dir, parent, *plain, st);
    if (!child) return Errno{child.error()};
    if (!side) return remember(*child, child->kind == NodeKind::kBacked ? &st : nullptr);
    Node file;
    file.kind = NodeKind::kSideFile;
    file.type = S_IFREG;
    file.parent = parent;
    file.id = crypto::child_id(*keys_, child->id, kSideFileIdName);
    file.name = *plain;  // the long name's own: its side file's name is derived from it
    file.extra = names_->encrypt(dir->id, *plain).full;
    return remember(file);
  }

  // A backed entry of the listing is answered from what the listing's pass saw: the same lstat
  // its manifest record came from (so the attributes shown match the manifest), with no
  // decryption of its name and no second pass over the source.
  Result<Entry> lookup_listed(Ino parent, const DirEntry& entry) override {
    if (!entry.listed) return lookup(parent, entry.name);
    const auto& c = *static_cast<const ListedChild*>(entry.listed.get());
    Node n;
    n.kind = NodeKind::kBacked;
    n.type = c.st.st_mode & S_IFMT;
    n.parent = parent;
    n.id = c.id;
    n.source = c.source;
    n.tier = c.tier;
    n.name = c.name;
    return remember(n, &c.st);
  }

  void forget(Ino ino, std::uint64_t count) noexcept override { table_.forget(ino, count); }

  std::size_t remembered() const noexcept override { return table_.size(); }

  std::vector<ShownName> least_recently_used(std::size_t count) override {
    std::vector<ShownName> out;
    for (const Ino ino : table_.least_recently_used(count)) {
      auto n = table_.get(ino);
      if (!n) continue;
      auto dir = table_.get(n->parent);
      if (!dir) continue;
      switch (n->kind) {
        case NodeKind::kKeyFile:
          out.push_back({n->parent, std::string(crypto::kKeyFileName)});
          break;
        case NodeKind::kManifest:
          out.push_back({n->parent, std::string(crypto::kManifestName)});
          break;
        case NodeKind::kSource:
          out.push_back({n->parent, shown_name(*dir, sources_[n->source].name)});
          break;
        case NodeKind::kBacked:
          out.push_back({n->parent, shown_name(*dir, n->name)});
          break;
        case NodeKind::kSideFile:
          out.push_back(
              {n->parent, shown_name(*dir, n->name) + std::string(crypto::kSideFileSuffix)});
          break;
        case NodeKind::kRoot:
          break;
      }
    }
    return out;
  }

  Result<struct stat> getattr(Ino ino) override {
    auto n = table_.find(ino);
    if (!n) return Errno{n.error()};
    return attr_of(*n, ino);
  }

  Result<std::string> readlink(Ino ino) override {
    auto n = table_.find(ino);
    if (!n) return Errno{n.error()};
    if (n->type != S_IFLNK) return Errno{EINVAL};
    auto dir = parent_fd(*n);
    if (!dir) return Errno{dir.error()};
    auto target = read_link((*dir)->get(), n->name);
    if (!target || plain_) return target;
    std::string sealed = names_->encrypt_link(n->id, *target);
    if (sealed.empty()) return Errno{ENAMETOOLONG};
    return sealed;
  }

  Result<std::vector<DirEntry>> list(Ino ino) override {
    auto dir = table_.find(ino);
    if (!dir) return Errno{dir.error()};
    if (dir->type != S_IFDIR) return Errno{ENOTDIR};
    if (manifests_) {
      bool first = false;
      auto snapshot = snapshots_.for_listing(ino, snapshot_builder(ino), &first);
      if (!snapshot) return Errno{snapshot.error()};
      const DirSnapshot& s = **snapshot;
      if (first) plan_ahead(ino, *dir, s);  // later listings of it would queue nothing new
      std::vector<DirEntry> out = s.entries;
      for (std::size_t i = 0; i < out.size(); ++i) {
        if (s.child_of[i] == DirSnapshot::kNoChild) continue;
        // Shares the snapshot's ownership: the record lives as long as the entry.
        out[i].listed = std::shared_ptr<const void>(*snapshot, &s.children[s.child_of[i]]);
      }
      return out;
    }
    auto children = children_of(*dir);
    if (!children) return Errno{children.error()};
    std::vector<DirEntry> out;
    out.reserve(children->size() + 1);
    std::vector<LongNameIndex::Pair> longs;
    for (const Child& c : *children) add_entry(*dir, c.name, c.type, out, &longs);
    long_names_.store(ino, std::move(longs));
    add_virtual_entries(*dir, out);
    sort_by_name(out);
    return out;
  }

  Result<std::unique_ptr<OpenFile>> open(Ino ino) override {
    auto n = table_.find(ino);
    if (!n) return Errno{n.error()};
    switch (n->kind) {
      case NodeKind::kKeyFile:
        return std::unique_ptr<OpenFile>(std::make_unique<MemoryFile>(key_text_));
      case NodeKind::kSideFile:
        return std::unique_ptr<OpenFile>(std::make_unique<MemoryFile>(n->extra));
      case NodeKind::kManifest: {
        auto snapshot = snapshots_.open(n->parent, snapshot_builder(n->parent));
        if (!snapshot) return Errno{snapshot.error()};
        return std::unique_ptr<OpenFile>(
            std::make_unique<ManifestFile>(std::move(*snapshot), snapshots_, n->parent));
      }
      case NodeKind::kRoot:
      case NodeKind::kSource:
        return Errno{EISDIR};
      case NodeKind::kBacked:
        break;
    }
    if (n->type != S_IFREG) return Errno{n->type == S_IFDIR ? EISDIR : ELOOP};
    auto dir = parent_fd(*n);
    if (!dir) return Errno{dir.error()};
    // Replaced since the lookup by something else (a FIFO, a directory, a link): ENOENT, and
    // the kernel looks the name up again.
    auto file = util::open_regular((*dir)->get(), n->name.c_str(), O_NOFOLLOW | O_NOATIME, ENOENT);
    if (!file && file.error() == EPERM) {  // O_NOATIME on a file we do not own
      file = util::open_regular((*dir)->get(), n->name.c_str(), O_NOFOLLOW, ENOENT);
    }
    if (!file) return Errno{file.error() == ELOOP ? ENOENT : file.error()};
    const InodeTable::OpenPlan plan = table_.note_open(ino, file->st);
    try {  // the file's destructor ends the open; without a file, end it here
      return std::unique_ptr<OpenFile>(std::make_unique<EncryptingFile>(
          std::move(*file), plan.seal_size, n->id, plain_ ? nullptr : content_.get(), pool_,
          plan.keep_cache, table_, ino));
    } catch (...) {
      table_.note_close(ino);
      throw;
    }
  }

 private:
  // Adds a lookup of `n`; `known` is the backed entry's lstat when the caller has it.
  Result<Entry> remember(const Node& n, const struct stat* known = nullptr) {
    auto ino = table_.ref(n);
    if (!ino) {
      util::log::error("inode number collision; entry hidden");
      return Errno{EIO};
    }
    auto st = known != nullptr ? backed_attr(*known, *ino) : attr_of(n, *ino);
    if (!st) {
      table_.forget(*ino, 1);
      return Errno{st.error()};
    }
    return Entry{*ino, known != nullptr ? generation_of(*known) : 0, *st};
  }

  // Appends the view's entries for plaintext child `name` of `dir`: its (encrypted) name and,
  // for a long name, its side file (and the long form with its name to `longs`).
  // `listed`: what the listing's pass computed of the child (its node ID and shown name).
  void add_entry(const Node& dir, const std::string& name, mode_t type, std::vector<DirEntry>& out,
                 std::vector<LongNameIndex::Pair>* longs,
                 const ListedChild* listed = nullptr) const {
    const crypto::NodeId id =
        listed != nullptr ? listed->id : crypto::child_id(*keys_, dir.id, name);
    if (plain_) {
      out.push_back(DirEntry{name, crypto::inode_of(id), type, {}});
      return;
    }
    crypto::EncryptedName en = listed != nullptr ? listed->shown : names_->encrypt(dir.id, name);
    if (en.is_long) {
      if (longs != nullptr) longs->push_back({en.name, name});
      const crypto::NodeId side = crypto::child_id(*keys_, id, kSideFileIdName);
      out.push_back(DirEntry{
          en.name + std::string(crypto::kSideFileSuffix), crypto::inode_of(side), S_IFREG, {}});
    }
    out.push_back(DirEntry{std::move(en.name), crypto::inode_of(id), type, {}});
  }

  // The name the view shows plaintext child `name` of `dir` by (a long name's short form).
  std::string shown_name(const Node& dir, const std::string& name) const {
    if (plain_) return name;
    return names_->encrypt(dir.id, name).name;
  }

  // Appends the virtual files of directory `dir`: encfsr.key at the root, encfsr.dir.
  void add_virtual_entries(const Node& dir, std::vector<DirEntry>& out) const {
    if (dir.kind == NodeKind::kRoot && key_in_view_) {
      out.push_back(DirEntry{std::string(crypto::kKeyFileName),
                             crypto::inode_of(crypto::child_id(*keys_, root_id_, kKeyFileIdName)),
                             S_IFREG,
                             {}});
    }
    if (manifests_) {
      out.push_back(DirEntry{std::string(crypto::kManifestName),
                             crypto::inode_of(crypto::child_id(*keys_, dir.id, kManifestIdName)),
                             S_IFREG,
                             {}});
    }
  }

  SnapshotBuilder snapshot_builder(Ino dir_ino) {
    return [this, dir_ino]() -> Result<SnapshotPtr> {
      auto dir = table_.find(dir_ino);
      if (!dir) return Errno{dir.error()};
      if (dir->type != S_IFDIR) return Errno{ENOTDIR};
      return build_snapshot(dir_ino, *dir);
    };
  }

  // A directory's listing and manifest, from one pass over the source (see manifest_cache.h).
  // An entry gone since the listing is left out of both; one that cannot be inspected is listed,
  // and recorded with its type only. What the pass saw of each entry is kept with the listing
  // (DirSnapshot::children), for lookup_listed.
  Result<SnapshotPtr> build_snapshot(Ino dir_ino, const Node& dir) {
    // The directory's previous pass: the whole of it again if nothing it saw has changed, else
    // what of each child cannot have changed (below).
    const SnapshotPtr previous = snapshots_.latest(dir_ino);
    if (previous && dir.kind != NodeKind::kRoot && still_holds(*previous, dir)) {
      restore_long_names(dir_ino, *previous);
      count_pass(&PassCounts::reused);
      return previous;
    }
    count_pass(&PassCounts::made);
    auto snapshot = std::make_shared<DirSnapshot>();
    ::clock_gettime(CLOCK_REALTIME, &snapshot->started);
    bool settled = dir.kind != NodeKind::kRoot;
    std::vector<crypto::ManifestRecord> records;
    // listed[k]: records[k]'s entry in snapshot->children, or kNoChild.
    std::vector<std::uint32_t> listed;
    if (dir.kind == NodeKind::kRoot) {
      snapshot->uid = key_uid_;
      snapshot->gid = key_gid_;
      for (const SourceState& src : sources_) {
        const int fd = src.tiers.front().root->get();
        struct stat st {};
        if (::fstat(fd, &st) != 0) return util::last_errno();
        auto xattrs = read_xattrs(fd, "");
        if (!xattrs) return Errno{xattrs.error()};
        records.push_back(record_of(src.name, st, std::move(*xattrs), *manifest_));
        listed.push_back(DirSnapshot::kNoChild);
      }
    } else {
      const SourceState& src = sources_[dir.source];
      // Each tier's directory is stamped before it is read: a change after the stamp shows as
      // a different stamp at the next pass.
      bool owner_known = false;
      std::vector<SharedFd> tier_fds(src.tiers.size());
      snapshot->tier_dirs.resize(src.tiers.size());
      for (std::uint32_t t = 0; t < src.tiers.size(); ++t) {
        auto fd = tier_dir(src.tiers[t], dir.rel);
        if (!fd) return Errno{fd.error()};
        tier_fds[t] = std::move(*fd);
        if (!tier_fds[t]) continue;
        if (!stamp_of(tier_fds[t]->get(), snapshot->tier_dirs[t])) {
          settled = false;
          continue;
        }
        if (!owner_known) {
          snapshot->uid = snapshot->tier_dirs[t].uid;
          snapshot->gid = snapshot->tier_dirs[t].gid;
          owner_known = true;
        }
      }
      auto children = children_of(dir, &settled);
      if (!children) return Errno{children.error()};
      records.reserve(children->size());
      listed.reserve(children->size());
      snapshot->children.reserve(children->size());
      // The previous pass's children are in name order as these are: a child of the same name
      // has the same node ID and shown name (both derive from the name), and the same xattrs
      // if same_xattrs() says so.
      std::size_t next_previous = 0;
      const auto previous_child = [&](const std::string& name) -> const ListedChild* {
        if (!previous) return nullptr;
        const auto& old = previous->children;
        while (next_previous < old.size() && old[next_previous].name < name) ++next_previous;
        return next_previous < old.size() && old[next_previous].name == name ? &old[next_previous]
                                                                             : nullptr;
      };
      for (const Child& c : *children) {
        const SharedFd& fd = tier_fds[c.tier];
        crypto::ManifestRecord unknown;
        unknown.name = c.name;
        unknown.type = c.type == S_IFDIR   ? crypto::EntryType::kDirectory
                       : c.type == S_IFLNK ? crypto::EntryType::kSymlink
                                           : crypto::EntryType::kRegular;
        unknown.attrs_known = false;
        struct stat st {};
        if (!fd || ::fstatat(fd->get(), c.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
          settled = false;
          if (!fd || errno == ENOENT || errno == ENOTDIR) continue;  // gone
          records.push_back(std::move(unknown));
          listed.push_back(DirSnapshot::kNoChild);
          continue;
        }
        const mode_t type = st.st_mode & S_IFMT;
        if (type != S_IFDIR && type != S_IFREG && type != S_IFLNK) {  // replaced
          settled = false;
          continue;
        }
        const ListedChild* before = previous_child(c.name);
        auto xattrs = before != nullptr && same_xattrs(before->st, st, previous->started)
                          ? Result<std::vector<crypto::Xattr>>(before->xattrs)
                          : read_xattrs(fd->get(), c.name);
        if (!xattrs) {
          if (xattrs.error() == ENOENT) continue;
          records.push_back(std::move(unknown));
          listed.push_back(DirSnapshot::kNoChild);
          continue;
        }
        if (type != c.type) {  // replaced since the listing admitted it: looked up afresh
          records.push_back(record_of(c.name, st, std::move(*xattrs), *manifest_));
          listed.push_back(DirSnapshot::kNoChild);
          continue;
        }
        ListedChild child;
        child.name = c.name;
        child.st = st;
        child.source = dir.source;
        child.tier = c.tier;
        child.xattrs = *xattrs;
        if (before != nullptr) {
          child.id = before->id;
          child.shown = before->shown;
        } else {
          child.id = crypto::child_id(*keys_, dir.id, c.name);
          if (!plain_) child.shown = names_->encrypt(dir.id, c.name);
        }
        records.push_back(record_of(c.name, st, std::move(*xattrs), *manifest_));
        listed.push_back(static_cast<std::uint32_t>(snapshot->children.size()));
        snapshot->children.push_back(std::move(child));
      }
    }
    // Settled only if every record is a listed child's (none unknown, replaced or a source).
    snapshot->settled = settled && snapshot->children.size() == records.size();
    if (!snapshot->settled) snapshot->tier_dirs.clear();
    // Records in name order, and the listing in the view's name order; listed[] follows.
    std::vector<std::uint32_t> order(records.size());
    for (std::uint32_t k = 0; k < order.size(); ++k) order[k] = k;
    std::sort(order.begin(), order.end(),
              [&](std::uint32_t a, std::uint32_t b) { return records[a].name < records[b].name; });
    std::vector<crypto::ManifestRecord> sorted;
    sorted.reserve(records.size());
    std::vector<std::uint32_t> sorted_listed;
    sorted_listed.reserve(records.size());
    for (const std::uint32_t k : order) {
      sorted.push_back(std::move(records[k]));
      sorted_listed.push_back(listed[k]);
    }
    snapshot->manifest = manifest_->seal(dir.id, sorted);
    snapshot->mtime = crypto::ManifestCipher::mtime_of(snapshot->manifest);
    std::vector<DirEntry> entries;
    entries.reserve(sorted.size() + 2);
    std::vector<std::uint32_t> child_of;
    child_of.reserve(sorted.size() + 2);
    std::vector<LongNameIndex::Pair> longs;
    for (std::size_t k = 0; k < sorted.size(); ++k) {
      const crypto::ManifestRecord& r = sorted[k];
      const mode_t type = r.type == crypto::EntryType::kDirectory ? S_IFDIR
                          : r.type == crypto::EntryType::kSymlink ? S_IFLNK
                                                                  : S_IFREG;
      const std::uint32_t child = sorted_listed[k];
      const std::size_t before = entries.size();
      add_entry(dir, r.name, type, entries, &longs,
                child == DirSnapshot::kNoChild ? nullptr : &snapshot->children[child]);
      // add_entry appends a long name's side file first, then the entry itself.
      child_of.resize(entries.size(), DirSnapshot::kNoChild);
      if (entries.size() > before) child_of.back() = child;
    }
    long_names_.store(dir_ino, std::move(longs));
    add_virtual_entries(dir, entries);
    child_of.resize(entries.size(), DirSnapshot::kNoChild);
    std::vector<std::uint32_t> shown(entries.size());
    for (std::uint32_t i = 0; i < shown.size(); ++i) shown[i] = i;
    std::sort(shown.begin(), shown.end(),
              [&](std::uint32_t a, std::uint32_t b) { return entries[a].name < entries[b].name; });
    snapshot->entries.reserve(entries.size());
    snapshot->child_of.reserve(entries.size());
    for (const std::uint32_t i : shown) {
      snapshot->entries.push_back(std::move(entries[i]));
      snapshot->child_of.push_back(child_of[i]);
    }
    return SnapshotPtr(std::move(snapshot));
  }

  // Counts a pass (made or served again) for tests, and the walk-ahead thread's apart.
  void count_pass(std::atomic<std::uint64_t> PassCounts::*which) const {
    if (counts_ == nullptr) return;
    (counts_->*which).fetch_add(1, std::memory_order_relaxed);
    if (t_walking_ahead) counts_->ahead.fetch_add(1, std::memory_order_relaxed);
  }

  // Queues the subdirectories listed in `s` (of directory `dir`, inode `dir_ino`) that have no
  // fresh snapshot for the walk-ahead thread, in the listing's order and ahead of those queued
  // before: a walk goes depth first, into the first one next. Called for the first listing
  // served from a pass, so repeated listings of a directory cost nothing here.
  void plan_ahead(Ino dir_ino, const Node& dir, const DirSnapshot& s) {
    if (!ahead_thread_.joinable()) return;
    std::vector<AheadDir> next;
    for (std::size_t i = 0; i < s.entries.size(); ++i) {
      if (s.child_of[i] == DirSnapshot::kNoChild || s.entries[i].type != S_IFDIR) continue;
      const ListedChild& c = s.children[s.child_of[i]];
      const Ino ino = crypto::inode_of(c.id);
      if (snapshots_.fresh_or_building(ino)) continue;
      if (next.size() == kAheadDirs) break;
      AheadDir d;
      d.ino = ino;
      d.node.kind = NodeKind::kBacked;
      d.node.type = S_IFDIR;
      d.node.parent = dir_ino;
      d.node.id = c.id;
      d.node.source = c.source;
      d.node.tier = c.tier;
      d.node.rel = join_rel(dir.rel, c.name);
      d.node.name = c.name;
      next.push_back(std::move(d));
    }
    if (next.empty()) return;
    {
      std::lock_guard lock(ahead_mutex_);
      ahead_.insert(ahead_.begin(), std::make_move_iterator(next.begin()),
                    std::make_move_iterator(next.end()));
      if (ahead_.size() > kAheadDirs) ahead_.resize(kAheadDirs);
    }
    ahead_wake_.notify_one();
  }

  // The walk-ahead thread: passes over queued directories until the view goes.
  void run_ahead() noexcept {
    t_walking_ahead = true;
    for (;;) {
      AheadDir next;
      {
        std::unique_lock lock(ahead_mutex_);
        ahead_wake_.wait(lock, [this] { return ahead_stop_ || !ahead_.empty(); });
        if (ahead_stop_) return;
        next = std::move(ahead_.front());
        ahead_.pop_front();
      }
      try {
        snapshots_.make_ahead(
            next.ino, [&]() -> Result<SnapshotPtr> { return build_snapshot(next.ino, next.node); });
      } catch (...) {
        // Only a guess: a listing of the directory makes its own pass, and reports its errors.
      }
    }
  }

  // Whether `prev`, the last pass over directory `dir`, is what a pass now would give. It must
  // have settled. Each tier's directory must have the stamp it had: then no name in it changed,
  // since any change sets the ctime, which was over a second older than the pass began (so no
  // change hid within a tick of a coarse clock). And each listed child's lstat must be as it
  // was: its record and attributes derive from that alone, its xattrs too (same_xattrs).
  bool still_holds(const DirSnapshot& prev, const Node& dir) {
    if (!prev.settled) return false;
    const SourceState& src = sources_[dir.source];
    if (prev.tier_dirs.size() != src.tiers.size()) return false;
    std::vector<SharedFd> fds(src.tiers.size());
    for (std::uint32_t t = 0; t < src.tiers.size(); ++t) {
      auto fd = tier_dir(src.tiers[t], dir.rel);
      if (!fd) return false;
      TierDirStamp now;
      if (*fd && !stamp_of((*fd)->get(), now)) return false;
      if (!(now == prev.tier_dirs[t])) return false;
      if (now.present && now.ctime.tv_sec + 1 >= prev.started.tv_sec) return false;
      fds[t] = std::move(*fd);
    }
    for (const ListedChild& c : prev.children) {
      struct stat st {};
      if (!fds[c.tier] ||
          ::fstatat(fds[c.tier]->get(), c.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return false;
      }
      if (!same_lstat(c.st, st) || !same_xattrs(c.st, st, prev.started)) return false;
    }
    return true;
  }

  // Gives the long-name index the long names of a pass used again (the index may have dropped
  // them since).
  void restore_long_names(Ino dir_ino, const DirSnapshot& s) {
    std::vector<LongNameIndex::Pair> longs;
    for (const ListedChild& c : s.children) {
      if (c.shown.is_long) longs.push_back({c.shown.name, c.name});
    }
    if (!longs.empty()) long_names_.store(dir_ino, std::move(longs));
  }

  // The plaintext name behind a name of the view, in directory `dir` (inode `dir_ino`).
  Result<std::string> plain_name(Ino dir_ino, const Node& dir, std::string_view name, bool& side) {
    side = false;
    if (plain_) return std::string(name);
    std::string_view form = name;
    if (crypto::NameCipher::is_side_file(name)) {
      side = true;
      form.remove_suffix(crypto::kSideFileSuffix.size());
    }
    if (crypto::NameCipher::is_long_form(form)) {
      // Long forms cannot be decrypted: the index of the directory's last listing says which
      // child hashes to it; failing that (a name created since), every long child's name is
      // encrypted once, and the index keeps them for the next lookups.
      if (auto known = long_names_.find(dir_ino, form)) return std::move(*known);
      auto children = children_of(dir);
      if (!children) return Errno{children.error()};
      const std::size_t shortest = crypto::longest_short_name(names_->encoding()) + 1;
      std::vector<LongNameIndex::Pair> longs;
      std::optional<std::string> found;
      for (const Child& c : *children) {
        if (c.name.size() < shortest) continue;
        crypto::EncryptedName en = names_->encrypt(dir.id, c.name);
        if (!en.is_long) continue;
        if (en.name == form) found = c.name;
        longs.push_back({std::move(en.name), c.name});
      }
      long_names_.store(dir_ino, std::move(longs));
      if (!found) return Errno{ENOENT};
      return std::move(*found);
    }
    if (side) return Errno{ENOENT};
    std::string plain;
    if (names_->decrypt(dir.id, name, plain) != crypto::Status::kOk) return Errno{ENOENT};
    return plain;
  }

  // The directory fd holding backed node `n`, in its tier.
  Result<SharedFd> parent_fd(const Node& n) {
    const Tier& tier = sources_[n.source].tiers[n.tier];
    return dirs_.open(tier.root, tier.tag, split_parent(n.rel).first,
                      one_file_system_ ? &tier.dev : nullptr);
  }

  // Whether an entry of a source is part of the view. `st` is the entry's lstat when the
  // caller has it. An entry the daemon cannot inspect (permissions, I/O errors) is admitted:
  // the tool then gets the errno when it looks closer, instead of silently missing the entry.
  // `settled` (if given) is cleared when the answer rests on more than the entry's lstat and
  // the path: on a CACHEDIR.TAG inside it (rewritten in place, it changes no lstat), on a mount
  // over it (an unmount changes no lstat the view sees), or on an error.
  bool admitted(const SourceState& src, const Tier& tier, int dir_fd, const std::string& rel,
                const std::string& name, mode_t type, const struct stat* st,
                bool* settled = nullptr) const {
    const auto unsettle = [settled] {
      if (settled != nullptr) *settled = false;
    };
    if (type != S_IFDIR && type != S_IFREG && type != S_IFLNK) return false;
    if (!src.rules.empty() && src.rules.excluded(rel, type == S_IFDIR)) return false;
    if (type == S_IFDIR && one_file_system_) {
      struct stat own {};
      if (st == nullptr) {
        if (::fstatat(dir_fd, name.c_str(), &own, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) != 0) {
          unsettle();
          return errno != ENOENT;
        }
        st = &own;
      }
      if (st->st_dev != tier.dev) {
        unsettle();
        return false;
      }
    }
    if (type == S_IFDIR && src.exclude_caches) {
      util::UniqueFd sub(
          ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) {
        unsettle();
        return errno != ENOENT && errno != ENOTDIR;
      }
      const CacheTag tag = cache_tag(sub.get());
      if (tag != CacheTag::kNone) unsettle();
      if (tag == CacheTag::kCache) return false;
    }
    if (type == S_IFLNK && !plain_) {
      auto target = read_link(dir_fd, name);
      if (!target) {
        unsettle();
        return target.error() != ENOENT && target.error() != EINVAL;
      }
      if (target->size() > crypto::max_link_target()) {
        util::log::warning("symlink " + util::log::name(rel) +
                           ": target too long to encrypt; left out of the view");
        return false;
      }
    }
    return true;
  }

  // The directory `rel` of one tier; nullptr when the tier lacks it (ENOENT, ENOTDIR), an
  // errno for any other failure (reported, never taken for an absent directory).
  Result<SharedFd> tier_dir(const Tier& tier, const std::string& rel) {
    auto fd = dirs_.open(tier.root, tier.tag, rel, one_file_system_ ? &tier.dev : nullptr);
    if (!fd) {
      if (fd.error() == ENOENT || fd.error() == ENOTDIR || fd.error() == EXDEV) {
        return SharedFd{};
      }
      return Errno{fd.error()};
    }
    return fd;
  }

  // The plaintext children of a directory node: sources at the root, else the union of the
  // directory's tiers, filtered. The first tier holding a name decides for it: a name that
  // tier does not admit is not in the view, whatever later tiers hold (lookups agree).
  // `settled` (if given) is cleared as admitted() says.
  Result<std::vector<Child>> children_of(const Node& dir, bool* settled = nullptr) {
    std::vector<Child> out;
    if (dir.kind == NodeKind::kRoot) {
      for (const auto& src : sources_) out.push_back(Child{src.name, S_IFDIR, 0});
      return out;
    }
    const SourceState& src = sources_[dir.source];
    std::map<std::string, Child> merged;
    std::set<std::string> shadowed;  // held by an earlier tier, not admitted there
    bool any = false;
    for (std::uint32_t t = 0; t < src.tiers.size(); ++t) {
      const Tier& tier = src.tiers[t];
      auto fd = tier_dir(tier, dir.rel);
      if (!fd) return Errno{fd.error()};
      if (!*fd) continue;
      auto entries = read_dir((*fd)->get());
      if (!entries) return Errno{entries.error()};
      any = true;
      for (auto& e : *entries) {
        if (merged.count(e.name) != 0 || shadowed.count(e.name) != 0) continue;
        const std::string rel = join_rel(dir.rel, e.name);
        const mode_t type = guard_.hides((*fd)->get(), e.name) ? 0 : entry_type((*fd)->get(), e);
        if (!admitted(src, tier, (*fd)->get(), rel, e.name, type, nullptr, settled)) {
          if (src.tiers.size() > 1) shadowed.insert(e.name);
          continue;
        }
        merged.emplace(e.name, Child{e.name, type, t});
      }
    }
    if (!any) return Errno{ENOENT};
    out.reserve(merged.size());
    for (auto& [name, child] : merged) out.push_back(std::move(child));
    return out;
  }

  // Finds plaintext `name` in directory `dir` (inode `dir_ino`); `st` gets a backed entry's
  // lstat. The first tier holding the name decides, as in children_of.
  Result<Node> find_child(const Node& dir, Ino dir_ino, const std::string& name, struct stat& st) {
    if (dir.kind == NodeKind::kRoot) {
      for (std::uint32_t i = 0; i < sources_.size(); ++i) {
        if (sources_[i].name != name) continue;
        Node n;
        n.kind = NodeKind::kSource;
        n.type = S_IFDIR;
        n.parent = kRootIno;
        n.id = sources_[i].id;
        n.source = i;
        return n;
      }
      return Errno{ENOENT};
    }
    const SourceState& src = sources_[dir.source];
    const std::string rel = join_rel(dir.rel, name);
    for (std::uint32_t t = 0; t < src.tiers.size(); ++t) {
      const Tier& tier = src.tiers[t];
      auto fd = tier_dir(tier, dir.rel);
      if (!fd) return Errno{fd.error()};
      if (!*fd) continue;
      if (guard_.hides((*fd)->get(), name)) return Errno{ENOENT};
      if (::fstatat((*fd)->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) continue;
        return util::last_errno();
      }
      const mode_t type = st.st_mode & S_IFMT;
      if (!admitted(src, tier, (*fd)->get(), rel, name, type, &st)) return Errno{ENOENT};
      Node n;
      n.kind = NodeKind::kBacked;
      n.type = type;
      n.parent = dir_ino;
      n.id = crypto::child_id(*keys_, dir.id, name);
      n.source = dir.source;
      n.tier = t;
      n.rel = rel;
      n.name = name;
      return n;
    }
    return Errno{ENOENT};
  }

  Result<struct stat> attr_of(const Node& n, Ino ino) {
    struct stat st {};
    switch (n.kind) {
      case NodeKind::kRoot:
        st = virtual_attr(S_IFDIR | 0555, 4096);
        break;
      case NodeKind::kKeyFile:
        // Only its owner may read the wrapped master key, also with allow_other.
        st = virtual_attr(S_IFREG | 0400, key_text_.size());
        st.st_uid = key_uid_;
        st.st_gid = key_gid_;
        break;
      case NodeKind::kSideFile:
        st = virtual_attr(S_IFREG | 0444, n.extra.size());
        break;
      case NodeKind::kManifest: {
        auto snapshot = snapshots_.for_attr(n.parent, snapshot_builder(n.parent));
        if (!snapshot) return Errno{snapshot.error()};
        st = virtual_attr(S_IFREG | 0444, (*snapshot)->manifest.size());
        st.st_mtim = st.st_atim = st.st_ctim = (*snapshot)->mtime;
        st.st_uid = (*snapshot)->uid;
        st.st_gid = (*snapshot)->gid;
        break;
      }
      case NodeKind::kSource: {
        const Tier& tier = sources_[n.source].tiers.front();
        if (::fstat(tier.root->get(), &st) != 0) return util::last_errno();
        break;
      }
      case NodeKind::kBacked: {
        auto dir = parent_fd(n);
        if (!dir) return Errno{dir.error()};
        if (::fstatat((*dir)->get(), n.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
          return util::last_errno();
        }
        if ((st.st_mode & S_IFMT) != n.type) return Errno{ENOENT};  // replaced: look up again
        return backed_attr(st, ino);
      }
    }
    st.st_ino = ino;
    st.st_nlink = 1;
    return st;
  }

  // The view's attributes of a backed entry, from its lstat in the source: sizes of files and
  // links are those of their ciphertext, computed (never read); hard links show as one link.
  // A regular file shows the size its open files are sealed at while it is open.
  struct stat backed_attr(struct stat st, Ino ino) {
    if (S_ISREG(st.st_mode)) {
      const std::uint64_t size = table_.reply_size(ino, static_cast<std::uint64_t>(st.st_size));
      if (!plain_) {
        st.st_size = static_cast<off_t>(crypto::cipher_size(size));
        st.st_blocks = (st.st_size + 511) / 512;
      } else {
        st.st_size = static_cast<off_t>(size);
      }
    } else if (!plain_ && S_ISLNK(st.st_mode)) {
      st.st_size =
          static_cast<off_t>(crypto::encrypted_link_size(static_cast<std::size_t>(st.st_size)));
    }
    st.st_ino = ino;
    st.st_nlink = 1;
    return st;
  }

  const bool plain_;
  const bool key_in_view_;
  const std::string key_text_;
  const uid_t key_uid_;
  const gid_t key_gid_;
  const bool one_file_system_;
  const double entry_timeout_;
  const double attr_timeout_;
  std::unique_ptr<crypto::KeySet> keys_;
  std::unique_ptr<crypto::ContentCipher> content_;
  std::unique_ptr<crypto::NameCipher> names_;
  crypto::NodeId root_id_{};
  std::vector<SourceState> sources_;
  InodeTable table_;
  DirFdCache dirs_;
  MountGuard guard_;
  const bool manifests_;
  std::unique_ptr<crypto::ManifestCipher> manifest_;
  ManifestCache snapshots_;
  LongNameIndex long_names_;
  // Helps seal the blocks of large reads: one thread per usable CPU besides the one serving
  // the request (none with --plain).
  util::WorkerPool pool_;
  PassCounts* const counts_;
  // The walk-ahead thread (see ReverseOptions::walk_ahead) and its queue of directories, the
  // next first. Declared last: it stops before anything it uses goes.
  struct AheadDir {
    Ino ino = 0;
    Node node;
  };
  std::mutex ahead_mutex_;
  std::condition_variable ahead_wake_;
  std::deque<AheadDir> ahead_;
  bool ahead_stop_ = false;
  std::thread ahead_thread_;
};

}  // namespace

std::unique_ptr<View> make_reverse_view(const config::Config& config,
                                        const crypto::MasterKey& master, ReverseOptions options) {
  return std::make_unique<ReverseView>(config, master, std::move(options));
}

}  // namespace encfsr::fs
