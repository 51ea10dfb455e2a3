// src/fs/decrypt_view.cc — the plaintext view of a ciphertext copy (see decrypt_view.h).
//
// Lookups go plaintext -> ciphertext: the name asked for is encrypted with its directory's ID
// and looked for in the copy, so a renamed or moved ciphertext entry is simply not found under
// any name (and is reported by the listing, whose names fail authentication). Listings go the
// other way and hide, and report, every name that does not authenticate.
#include "src/fs/decrypt_view.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <list>
#include <mutex>
#include <unordered_map>

#include "crypto/content_cipher.h"
#include "crypto/manifest.h"
#include "crypto/size_math.h"
#include "src/fs/backing_io.h"
#include "src/fs/dir_fd_cache.h"
#include "src/fs/inode_table.h"
#include "src/fs/parallel_blocks.h"
#include "src/util/log.h"
#include "src/util/open_file.h"
#include "src/util/worker_pool.h"

namespace encfsr::fs {
namespace {

using util::Errno;
using util::Result;

constexpr std::size_t kManifestCacheDirs = 256;

// A directory's manifest as read from the copy.
struct DirManifest {
  enum class State { kNone, kDamaged, kPresent };
  State state = State::kNone;
  std::vector<crypto::ManifestRecord> records;  // sorted by name

  const crypto::ManifestRecord* find(std::string_view name) const {
    auto it = std::lower_bound(
        records.begin(), records.end(), name,
        [](const crypto::ManifestRecord& r, std::string_view n) { return r.name < n; });
    return it != records.end() && it->name == name ? &*it : nullptr;
  }
};
using ManifestPtr = std::shared_ptr<const DirManifest>;

mode_t type_bits(crypto::EntryType type) {
  switch (type) {
    case crypto::EntryType::kDirectory:
      return S_IFDIR;
    case crypto::EntryType::kSymlink:
      return S_IFLNK;
    case crypto::EntryType::kRegular:
      break;
  }
  return S_IFREG;
}

// Whether the copy's mtime is the manifest's, at the precision the copy evidently keeps: its
// nanoseconds' trailing zeros tell (100 ns on NTFS, 10 ms on exFAT, ...); a copy with none kept
// whole seconds, or 2-second steps (FAT), so one second either way is the same time.
bool same_mtime(const struct timespec& copy, const crypto::ManifestRecord& r) {
  if (copy.tv_nsec == 0) {
    const std::int64_t delta = static_cast<std::int64_t>(copy.tv_sec) - r.mtime_sec;
    return delta >= -1 && delta <= 1;
  }
  if (copy.tv_sec != r.mtime_sec) return false;
  long step = 1;
  while (step < 100000000 && copy.tv_nsec % (step * 10) == 0) step *= 10;
  const long recorded = static_cast<long>(r.mtime_nsec);
  return copy.tv_nsec == recorded - recorded % step;
}

class Reporter {
 public:
  explicit Reporter(DamageSink sink) : sink_(std::move(sink)) {}
  // With a sink (restore, verify) the caller reports; without one (a mount) the log does.
  void operator()(const Damage& d) const {
    if (sink_) {
      sink_(d);
      return;
    }
    std::string line = "damaged: " + d.cipher_path + ": " + describe(d.kind);
    if (d.kind == DamageKind::kBlock) line += " (block " + std::to_string(d.block) + ")";
    if (!d.plain_path.empty()) line += " [" + util::log::name(d.plain_path) + "]";
    util::log::warning(line);
  }

 private:
  DamageSink sink_;
};

class DecryptingFile final : public OpenFile {
 public:
  DecryptingFile(util::UniqueFd fd, std::uint64_t cipher_size, const crypto::NodeId& id,
                 const crypto::ContentCipher& cipher, util::WorkerPool& pool,
                 const Reporter& report, Damage where, InodeTable& table, Ino ino)
      : fd_(std::move(fd)),
        cipher_size_(cipher_size),
        plain_size_(crypto::plain_size_lenient(cipher_size)),
        blocks_((cipher_size + crypto::kCipherBlockSize - 1) / crypto::kCipherBlockSize),
        id_(id),
        cipher_(cipher),
        pool_(pool),
        report_(report),
        where_(std::move(where)),
        table_(table),
        ino_(ino) {
    table_.note_open_unsized(ino_);  // never offered for eviction while open
  }
  DecryptingFile(const DecryptingFile&) = delete;
  DecryptingFile& operator=(const DecryptingFile&) = delete;
  ~DecryptingFile() override { table_.note_close(ino_); }

  Result<std::size_t> read(std::uint64_t offset, std::span<std::uint8_t> buf) override {
    if (offset >= plain_size_ || buf.empty()) return std::size_t{0};
    const std::uint64_t length = std::min<std::uint64_t>(buf.size(), plain_size_ - offset);
    const auto range = crypto::blocks_of_plain_range(offset, length);
    const std::uint64_t begin = range.first * crypto::kCipherBlockSize;
    const std::uint64_t end = std::min(cipher_size_, (range.last + 1) * crypto::kCipherBlockSize);
    auto sealed = scratch(Scratch::kCipher, end - begin);
    // Opened straight into `buf` when the request starts at a block and `buf` holds all of
    // its blocks (page-aligned reads), else into scratch and copied.
    const auto skip = static_cast<std::size_t>(offset - range.first * crypto::kBlockSize);
    const std::size_t plain_bytes =
        sealed.size() - static_cast<std::size_t>(request_blocks(range)) * crypto::kTagSize;
    const bool direct = skip == 0 && buf.size() >= plain_bytes;
    auto plain = direct ? buf.first(plain_bytes) : scratch(Scratch::kPlain, sealed.size());
    // Block k of the request: sealed at k * kCipherBlockSize, plaintext at k * kBlockSize;
    // only the last one may be shorter. Ranges of blocks are read and opened in parallel (the
    // copies out of the page cache, and cold disk reads, spread over the cores too); the first
    // block that fails is reported.
    const std::uint64_t kNone = ~std::uint64_t{0};
    std::atomic<std::uint64_t> first_bad{kNone};
    std::atomic<int> failure{0};
    const auto open_range = [&](std::size_t first, std::size_t last) {
      const std::size_t in_begin = first * crypto::kCipherBlockSize;
      const std::size_t in_end = std::min(last * crypto::kCipherBlockSize, sealed.size());
      const auto part = sealed.subspan(in_begin, in_end - in_begin);
      auto got = pread_full(fd_.get(), part, begin + in_begin);
      if (!got || *got != part.size()) {  // short: the copy changed size under us
        failure.store(got ? EIO : got.error(), std::memory_order_relaxed);
        return;
      }
      for (std::size_t k = first; k < last; ++k) {
        const std::size_t in = k * crypto::kCipherBlockSize;
        const std::size_t n = std::min(crypto::kCipherBlockSize, sealed.size() - in);
        const std::uint64_t i = range.first + k;
        if (n < crypto::kTagSize ||
            cipher_.open(id_, i, i + 1 == blocks_, sealed.subspan(in, n),
                         plain.subspan(k * crypto::kBlockSize, n - crypto::kTagSize)) !=
                crypto::Status::kOk) {
          std::uint64_t seen = first_bad.load(std::memory_order_relaxed);
          while (i < seen && !first_bad.compare_exchange_weak(seen, i)) {
          }
          return;
        }
      }
    };
    if (!for_block_ranges(&pool_, request_blocks(range), open_range)) return Errno{EIO};
    if (const int err = failure.load(std::memory_order_relaxed); err != 0) {
      if (direct) std::fill(plain.begin(), plain.end(), std::uint8_t{0});
      return Errno{err};
    }
    if (const std::uint64_t bad = first_bad.load(); bad != kNone) {
      // Opened into the caller's buffer: leave it no plaintext of a block that failed.
      if (direct) std::fill(plain.begin(), plain.end(), std::uint8_t{0});
      Damage d = where_;
      d.kind = DamageKind::kBlock;
      d.block = bad;
      report_(d);
      return Errno{EIO};
    }
    const auto n = static_cast<std::size_t>(length);
    if (!direct) std::memcpy(buf.data(), plain.data() + skip, n);
    return n;
  }
  bool keep_cache() const noexcept override { return true; }  // the copy is static

 private:
  template <typename Range>
  static std::size_t request_blocks(const Range& range) {
    return static_cast<std::size_t>(range.last - range.first + 1);
  }

  util::UniqueFd fd_;
  std::uint64_t cipher_size_;
  std::uint64_t plain_size_;
  std::uint64_t blocks_;
  crypto::NodeId id_;
  const crypto::ContentCipher& cipher_;
  util::WorkerPool& pool_;
  const Reporter& report_;
  Damage where_;
  InodeTable& table_;
  Ino ino_;
};

class DecryptView final : public View {
 public:
  DecryptView(util::UniqueFd root, const crypto::MasterKey& master, DecryptOptions options)
      : root_(std::make_shared<const util::UniqueFd>(std::move(root))),
        keys_(master),
        content_(keys_),
        names_(keys_, options.names),
        timeout_(options.timeout),
        lenient_sizes_(options.lenient_sizes),
        report_(std::move(options.on_damage)),
        table_(crypto::root_id(keys_), ExtraKind::kJoinedPath),
        dirs_(32, std::chrono::hours(24 * 365)),
        manifest_cipher_(keys_),
        manifests_(options.manifests),
        check_owners_(options.compare_owners),
        pool_(util::WorkerPool::usable_cpus() - 1U) {}

  double entry_timeout() const noexcept override { return timeout_; }
  double attr_timeout() const noexcept override { return timeout_; }

  Result<Entry> lookup(Ino parent, std::string_view name) override {
    auto dir = table_.find(parent);
    if (!dir) return Errno{dir.error()};
    if (dir->type != S_IFDIR) return Errno{ENOTDIR};
    if (name.empty() || name.size() > crypto::kMaxNameBytes ||
        name.find('/') != std::string_view::npos) {
      return Errno{ENOENT};
    }
    auto fd = dirs_.open(root_, "", dir->rel);
    if (!fd) return Errno{fd.error()};
    const std::string cipher_name = names_.encrypt(dir->id, name).name;
    struct stat st {};
    if (::fstatat((*fd)->get(), cipher_name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return util::last_errno();
    }
    const mode_t type = st.st_mode & S_IFMT;
    if (type != S_IFDIR && type != S_IFREG && type != S_IFLNK) return Errno{ENOENT};
    Node n;
    n.kind = NodeKind::kBacked;
    n.type = type;
    n.parent = parent;
    n.id = crypto::child_id(keys_, dir->id, name);
    n.rel = join_rel(dir->rel, cipher_name);
    n.name = cipher_name;
    n.extra = join_rel(dir->extra, name);
    auto ino = table_.ref(n);
    if (!ino) return Errno{EIO};
    auto attr = attributes(n, *dir, *ino, st, (*fd)->get(), true);
    if (!attr) {
      table_.forget(*ino, 1);
      return Errno{attr.error()};
    }
    return Entry{*ino, 0, *attr};
  }

  void forget(Ino ino, std::uint64_t count) noexcept override { table_.forget(ino, count); }

  std::size_t remembered() const noexcept override { return table_.size(); }

  std::vector<ShownName> least_recently_used(std::size_t count) override {
    std::vector<ShownName> out;
    for (const Ino ino : table_.least_recently_used(count)) {
      auto n = table_.get(ino);
      if (!n || n->kind != NodeKind::kBacked) continue;
      out.push_back({n->parent, std::string(split_parent(n->extra).second)});
    }
    return out;
  }

  Result<struct stat> getattr(Ino ino) override {
    auto n = table_.find(ino);
    if (!n) return Errno{n.error()};
    if (n->kind == NodeKind::kRoot) {
      struct stat st {};
      if (::fstat(root_->get(), &st) != 0) return util::last_errno();
      st.st_ino = kRootIno;
      return st;
    }
    auto fd = dirs_.open(root_, "", split_parent(n->rel).first);
    if (!fd) return Errno{fd.error()};
    struct stat st {};
    if (::fstatat((*fd)->get(), n->name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return util::last_errno();
    }
    auto parent = table_.find(n->parent);
    if (!parent) return transform(*n, ino, st, (*fd)->get(), nullptr);
    return attributes(*n, *parent, ino, st, (*fd)->get(), false);
  }

  // Only manifests carry xattrs.
  bool serves_xattrs() const noexcept override { return manifests_; }

  Result<ExtraAttrs> extra_attrs(Ino ino) override {
    auto n = table_.find(ino);
    if (!n) return Errno{n.error()};
    ExtraAttrs extra;
    if (n->kind == NodeKind::kRoot) return extra;
    auto parent = table_.find(n->parent);
    if (!parent) return extra;
    auto fd = dirs_.open(root_, "", parent->rel);
    if (!fd) return Errno{fd.error()};
    const ManifestPtr manifest = manifest_of(n->parent, *parent, (*fd)->get());
    if (manifest->state != DirManifest::State::kPresent) return extra;
    const crypto::ManifestRecord* r = manifest->find(plain_base(*n));
    if (r == nullptr || !r->attrs_known || type_bits(r->type) != n->type) return extra;
    extra.authenticated = true;
    extra.link_group = r->link_group;
    extra.xattrs = r->xattrs;
    return extra;
  }

  Result<std::string> readlink(Ino ino) override {
    auto n = table_.find(ino);
    if (!n) return Errno{n.error()};
    if (n->type != S_IFLNK) return Errno{EINVAL};
    auto fd = dirs_.open(root_, "", split_parent(n->rel).first);
    if (!fd) return Errno{fd.error()};
    return target_of(*n, (*fd)->get(), true);
  }

  Result<std::vector<DirEntry>> list(Ino ino) override {
    auto dir = table_.find(ino);
    if (!dir) return Errno{dir.error()};
    if (dir->type != S_IFDIR) return Errno{ENOTDIR};
    auto fd = dirs_.open(root_, "", dir->rel);
    if (!fd) return Errno{fd.error()};
    auto entries = read_dir((*fd)->get());
    if (!entries) return Errno{entries.error()};
    std::vector<DirEntry> out;
    out.reserve(entries->size());
    for (const RawEntry& e : *entries) {
      if (dir->kind == NodeKind::kRoot && e.name == crypto::kKeyFileName) continue;
      if (crypto::NameCipher::is_side_file(e.name) || e.name == crypto::kManifestName) continue;
      const mode_t type = entry_type((*fd)->get(), e);
      std::string full = e.name;
      if (crypto::NameCipher::is_long_form(e.name)) {
        auto side = read_side_file((*fd)->get(), e.name);
        if (!side || names_.check_long_name(e.name, *side) != crypto::Status::kOk) {
          report_(Damage{DamageKind::kSideFile, join_rel(dir->rel, e.name), {}, 0});
          continue;
        }
        full = std::move(*side);
      }
      std::string plain;
      if (names_.decrypt(dir->id, full, plain) != crypto::Status::kOk) {
        report_(Damage{DamageKind::kName, join_rel(dir->rel, e.name), {}, 0});
        continue;
      }
      if (type == 0) {  // a FIFO, socket or device under a valid name: never opened
        report_(
            Damage{DamageKind::kType, join_rel(dir->rel, e.name), join_rel(dir->extra, plain), 0});
        continue;
      }
      const crypto::NodeId id = crypto::child_id(keys_, dir->id, plain);
      out.push_back(DirEntry{std::move(plain), crypto::inode_of(id), type, {}});
    }
    sort_by_name(out);
    const ManifestPtr manifest = manifest_of(ino, *dir, (*fd)->get());
    if (manifest->state == DirManifest::State::kPresent) check_listing(*dir, *manifest, out);
    return out;
  }

  Result<std::unique_ptr<OpenFile>> open(Ino ino) override {
    auto n = table_.find(ino);
    if (!n) return Errno{n.error()};
    if (n->type != S_IFREG) return Errno{n->type == S_IFDIR ? EISDIR : ELOOP};
    auto dir = dirs_.open(root_, "", split_parent(n->rel).first);
    if (!dir) return Errno{dir.error()};
    Damage where{DamageKind::kBlock, n->rel, n->extra, 0};
    // Never blocks: a FIFO or device planted in the copy is damage, not a hang.
    auto file = util::open_regular((*dir)->get(), n->name.c_str(), O_NOFOLLOW, EIO);
    if (!file) {
      if (file.error() == EIO) {
        Damage d = where;
        d.kind = DamageKind::kType;
        report_(d);
      }
      return Errno{file.error()};
    }
    util::UniqueFd fd = std::move(file->fd);
    const auto size = static_cast<std::uint64_t>(file->st.st_size);
    if (!crypto::plain_size(size)) {
      // A size no encoder produces: cut or extended. Only a salvage reads what is left.
      Damage d = where;
      d.kind = DamageKind::kSize;
      report_(d);
      if (!lenient_sizes_) return Errno{EIO};
    } else if (size == crypto::kTagSize) {
      // An empty file is one empty last block. Nobody ever reads it (st_size is 0), so check it
      // here: an empty file swapped in from another path must not pass as this one.
      std::array<std::uint8_t, crypto::kTagSize> tag{};
      auto got = pread_full(fd.get(), tag, 0);
      if (!got || *got != tag.size() ||
          content_.open(n->id, 0, true, tag, std::span<std::uint8_t>{}) != crypto::Status::kOk) {
        report_(where);
        return Errno{EIO};
      }
    }
    return std::unique_ptr<OpenFile>(std::make_unique<DecryptingFile>(
        std::move(fd), size, n->id, content_, pool_, report_, where, table_, ino));
  }

 private:
  Result<std::string> target_of(const Node& n, int dir_fd, bool report) {
    auto sealed = read_link(dir_fd, n.name);
    if (!sealed) return sealed;
    std::string target;
    if (names_.decrypt_link(n.id, *sealed, target) != crypto::Status::kOk) {
      if (report) report_(Damage{DamageKind::kLink, n.rel, n.extra, 0});
      return Errno{EIO};
    }
    return target;
  }

  // The plaintext name of a backed node (last component of its view path).
  static std::string_view plain_base(const Node& n) {
    std::string_view path = n.extra;
    const std::size_t slash = path.rfind('/');
    return slash == std::string_view::npos ? path : path.substr(slash + 1);
  }

  // The manifest of directory `dir` (inode `dir_ino`, open as `dir_fd`), read and checked once
  // and then kept in a small LRU cache. A missing or failing manifest is reported when read.
  ManifestPtr manifest_of(Ino dir_ino, const Node& dir, int dir_fd) {
    if (!manifests_) {
      static const ManifestPtr kNone = std::make_shared<const DirManifest>();
      return kNone;
    }
    {
      std::lock_guard lock(manifest_mutex_);
      auto it = manifest_cache_.find(dir_ino);
      if (it != manifest_cache_.end()) {
        manifest_lru_.splice(manifest_lru_.begin(), manifest_lru_, it->second.second);
        return it->second.first;
      }
    }
    auto loaded = std::make_shared<DirManifest>();
    auto text =
        read_small_file(dir_fd, std::string(crypto::kManifestName), crypto::kMaxManifestBytes);
    if (text && manifest_cipher_.open(dir.id, *text, loaded->records) == crypto::Status::kOk) {
      loaded->state = DirManifest::State::kPresent;
    } else {
      loaded->state = DirManifest::State::kDamaged;
      report_(Damage{DamageKind::kManifest, join_rel(dir.rel, std::string(crypto::kManifestName)),
                     dir.extra, 0});
    }
    std::lock_guard lock(manifest_mutex_);
    auto [it, inserted] = manifest_cache_.try_emplace(dir_ino);
    if (inserted) {
      manifest_lru_.push_front(dir_ino);
      it->second = {std::move(loaded), manifest_lru_.begin()};
      if (manifest_cache_.size() > kManifestCacheDirs) {
        manifest_cache_.erase(manifest_lru_.back());
        manifest_lru_.pop_back();
      }
    }
    return it->second.first;
  }

  // Holds a directory's listing against its manifest: entries the manifest does not list, or
  // lists with another type, are reported and left out; entries it lists that the copy lacks
  // are reported as missing.
  void check_listing(const Node& dir, const DirManifest& manifest, std::vector<DirEntry>& out) {
    std::vector<bool> seen(manifest.records.size(), false);
    std::vector<DirEntry> kept;
    kept.reserve(out.size());
    for (DirEntry& e : out) {
      const crypto::ManifestRecord* r = manifest.find(e.name);
      // The copy's name, only for a report (encrypting every listed name would be wasted).
      auto cipher = [&] { return join_rel(dir.rel, names_.encrypt(dir.id, e.name).name); };
      if (r == nullptr) {
        report_(Damage{DamageKind::kUnexpected, cipher(), join_rel(dir.extra, e.name), 0});
        continue;
      }
      seen[static_cast<std::size_t>(r - manifest.records.data())] = true;
      if (type_bits(r->type) != e.type) {
        report_(Damage{DamageKind::kType, cipher(), join_rel(dir.extra, e.name), 0});
        continue;
      }
      kept.push_back(std::move(e));
    }
    for (std::size_t i = 0; i < seen.size(); ++i) {
      if (seen[i]) continue;
      const std::string& name = manifest.records[i].name;
      report_(Damage{DamageKind::kMissing, join_rel(dir.rel, names_.encrypt(dir.id, name).name),
                     join_rel(dir.extra, name), 0});
    }
    out = std::move(kept);
  }

  // The view's attributes of backed node `n` (inode `ino`) in directory `dir`, from the copy's
  // lstat `st` and the directory's manifest: mode, owner and times from the manifest, sizes from
  // the copy. An entry the manifest does not list is ENOENT, one of another type EIO. Without an
  // authenticated record the copy's own metadata is shown without setuid, setgid and sticky
  // bits. With `check`, what differs between the copy and the manifest is reported.
  Result<struct stat> attributes(const Node& n, const Node& dir, Ino ino, const struct stat& st,
                                 int dir_fd, bool check) {
    const ManifestPtr manifest = manifest_of(n.parent, dir, dir_fd);
    const crypto::ManifestRecord* r = nullptr;
    if (manifest->state == DirManifest::State::kPresent) {
      r = manifest->find(plain_base(n));
      if (r == nullptr) {
        if (check) report_(Damage{DamageKind::kUnexpected, n.rel, n.extra, 0});
        return Errno{ENOENT};
      }
      if (type_bits(r->type) != n.type) {
        if (check) report_(Damage{DamageKind::kType, n.rel, n.extra, 0});
        return Errno{EIO};
      }
      if (!r->attrs_known) r = nullptr;
    }
    return transform(n, ino, st, dir_fd, r, check);
  }

  Result<struct stat> transform(const Node& n, Ino ino, struct stat st, int dir_fd,
                                const crypto::ManifestRecord* r, bool check = false) {
    const struct stat copy = st;
    auto shown = transform(n, ino, st, dir_fd);
    if (!shown) return shown;
    st = *shown;
    if (r == nullptr) {
      st.st_mode &= ~static_cast<mode_t>(07000);
      return st;
    }
    if (check) {
      const bool mode_differs = !S_ISLNK(copy.st_mode) && (copy.st_mode & 07777) != r->mode;
      const bool owner_differs = check_owners_ && (copy.st_uid != r->uid || copy.st_gid != r->gid);
      if (mode_differs || owner_differs) {
        report_(Damage{DamageKind::kMetadata, n.rel, n.extra, 0});
      }
      bool changed = false;
      if (S_ISREG(copy.st_mode)) {
        const auto size = crypto::plain_size(static_cast<std::uint64_t>(copy.st_size));
        changed = (size && *size != r->size) || !same_mtime(copy.st_mtim, *r);
      } else if (S_ISLNK(copy.st_mode)) {
        changed = st.st_size != copy.st_size && static_cast<std::uint64_t>(st.st_size) != r->size;
      }
      if (changed) report_(Damage{DamageKind::kChanged, n.rel, n.extra, 0});
    }
    st.st_mode = (st.st_mode & S_IFMT) | r->mode;
    st.st_uid = r->uid;
    st.st_gid = r->gid;
    st.st_mtim.tv_sec = static_cast<time_t>(r->mtime_sec);
    st.st_mtim.tv_nsec = static_cast<long>(r->mtime_nsec);
    st.st_atim = st.st_mtim;
    st.st_ctim = st.st_mtim;
    return st;
  }

  Result<struct stat> transform(const Node& n, Ino ino, struct stat st, int dir_fd) {
    st.st_ino = ino;
    st.st_nlink = 1;
    if (S_ISREG(st.st_mode)) {
      st.st_size =
          static_cast<off_t>(crypto::plain_size_lenient(static_cast<std::uint64_t>(st.st_size)));
      st.st_blocks = (st.st_size + 511) / 512;
    } else if (S_ISLNK(st.st_mode)) {
      auto target = target_of(n, dir_fd, false);
      if (target) st.st_size = static_cast<off_t>(target->size());
    }
    return st;
  }

  SharedFd root_;
  crypto::KeySet keys_;
  crypto::ContentCipher content_;
  crypto::NameCipher names_;
  double timeout_;
  bool lenient_sizes_;
  Reporter report_;
  InodeTable table_;
  DirFdCache dirs_;
  crypto::ManifestCipher manifest_cipher_;
  const bool manifests_;
  const bool check_owners_;
  std::mutex manifest_mutex_;
  std::list<Ino> manifest_lru_;
  std::unordered_map<Ino, std::pair<ManifestPtr, std::list<Ino>::iterator>> manifest_cache_;
  // Helps open the blocks of large reads: one thread per usable CPU besides the one serving
  // the request.
  util::WorkerPool pool_;
};

}  // namespace

bool copy_has_manifests(int cipher_root, std::optional<bool> declared) {
  if (declared) return *declared;
  struct stat st {};
  return ::fstatat(cipher_root, std::string(crypto::kManifestName).c_str(), &st,
                   AT_SYMLINK_NOFOLLOW) == 0;
}

std::unique_ptr<View> make_decrypt_view(util::UniqueFd cipher_root, const crypto::MasterKey& master,
                                        DecryptOptions options) {
  return std::make_unique<DecryptView>(std::move(cipher_root), master, std::move(options));
}

}  // namespace encfsr::fs
