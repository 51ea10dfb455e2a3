// src/fs/reverse_view.cc — the ciphertext view of plaintext sources (see reverse_view.h).
//
// Consistency over a live tree: nothing is cached but what the kernel looked up (parent +
// relative path per inode) and a few directory fds that expire after a second. Every answer is
// computed from the source as it is now; a file is sealed block by block from the bytes read
// in that same request, so a block always authenticates exactly the plaintext it carries.
#include "src/fs/reverse_view.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <stdexcept>

#include "config/exclude_rules.h"
#include "crypto/content_cipher.h"
#include "crypto/name_cipher.h"
#include "crypto/size_math.h"
#include "src/fs/backing_io.h"
#include "src/fs/dir_fd_cache.h"
#include "src/fs/inode_table.h"
#include "src/util/log.h"

namespace encfsr::fs {
namespace {

using util::Errno;
using util::Result;

constexpr std::string_view kCacheDirTag = "CACHEDIR.TAG";
constexpr std::string_view kCacheDirSignature = "Signature: 8a477f597d28d172789f06886806bc55";
// Node-ID names of virtual files: they contain '/', which no real name can.
constexpr std::string_view kKeyFileIdName = "/key";
constexpr std::string_view kSideFileIdName = "/side";

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

// A regular source file, sealed on read.
class EncryptingFile final : public OpenFile {
 public:
  EncryptingFile(util::UniqueFd fd, std::uint64_t size, const crypto::NodeId& id,
                 const crypto::ContentCipher* cipher, bool keep)
      : fd_(std::move(fd)), size_(size), id_(id), cipher_(cipher), keep_(keep) {}

  Result<std::size_t> read(std::uint64_t offset, std::span<std::uint8_t> buf) override {
    if (cipher_ == nullptr) return pread_full(fd_.get(), buf, offset);  // --plain
    const std::uint64_t total = crypto::cipher_size(size_);
    if (offset >= total || buf.empty()) return std::size_t{0};
    const std::uint64_t length = std::min<std::uint64_t>(buf.size(), total - offset);
    const auto blocks = crypto::blocks_of_cipher_range(offset, length);
    const std::uint64_t count = crypto::block_count(size_);
    const std::uint64_t plain_begin = blocks.first * crypto::kBlockSize;
    const std::uint64_t plain_end = std::min(size_, (blocks.last + 1) * crypto::kBlockSize);
    auto plain = scratch(Scratch::kPlain, plain_end - plain_begin);
    auto got = pread_full(fd_.get(), plain, plain_begin);
    if (!got) return Errno{got.error()};
    // The file shrank under us: never seal a block we could not read whole.
    if (*got != plain.size()) return Errno{EIO};

    const std::uint64_t cipher_begin = blocks.first * crypto::kCipherBlockSize;
    auto sealed = scratch(Scratch::kCipher, crypto::cipher_size(plain.size()));
    std::size_t in = 0, out = 0;
    for (std::uint64_t i = blocks.first; i <= blocks.last; ++i) {
      const std::size_t n =
          static_cast<std::size_t>(std::min<std::uint64_t>(crypto::kBlockSize, plain.size() - in));
      cipher_->seal(id_, i, i + 1 == count, plain.subspan(in, n),
                    sealed.subspan(out, n + crypto::kTagSize));
      in += n;
      out += n + crypto::kTagSize;
    }
    const std::size_t skip = static_cast<std::size_t>(offset - cipher_begin);
    const std::size_t n = static_cast<std::size_t>(length);
    std::memcpy(buf.data(), sealed.data() + skip, n);
    return n;
  }
  bool keep_cache() const noexcept override { return keep_; }

 private:
  util::UniqueFd fd_;
  std::uint64_t size_;
  crypto::NodeId id_;
  const crypto::ContentCipher* cipher_;
  bool keep_;
};

class ReverseView final : public View {
 public:
  ReverseView(const config::Config& config, const crypto::MasterKey& master, ReverseOptions options)
      : plain_(options.plain),
        key_in_view_(config.key_in_view && !options.plain && !options.key_file_text.empty()),
        key_text_(std::move(options.key_file_text)),
        one_file_system_(config.one_file_system),
        entry_timeout_(config.mount.entry_timeout),
        attr_timeout_(config.mount.attr_timeout),
        keys_(options.plain ? std::make_unique<crypto::KeySet>(crypto::MasterKey::zero())
                            : std::make_unique<crypto::KeySet>(master)),
        root_id_(crypto::root_id(*keys_)),
        table_(root_id_),
        dirs_(32, std::chrono::seconds(1)) {
    content_ = std::make_unique<crypto::ContentCipher>(*keys_);
    names_ = std::make_unique<crypto::NameCipher>(*keys_, config.names);
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
  }

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
    bool side = false;
    auto plain = plain_name(*dir, name, side);
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
    file.extra = names_->encrypt(dir->id, *plain).full;
    return remember(file);
  }

  void forget(Ino ino, std::uint64_t count) noexcept override { table_.forget(ino, count); }

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
    auto children = children_of(*dir);
    if (!children) return Errno{children.error()};
    std::vector<DirEntry> out;
    out.reserve(children->size() + 1);
    for (const Child& c : *children) {
      const crypto::NodeId id = crypto::child_id(*keys_, dir->id, c.name);
      if (plain_) {
        out.push_back(DirEntry{c.name, crypto::inode_of(id), c.type});
        continue;
      }
      crypto::EncryptedName en = names_->encrypt(dir->id, c.name);
      if (en.is_long) {
        const crypto::NodeId side = crypto::child_id(*keys_, id, kSideFileIdName);
        out.push_back(DirEntry{en.name + std::string(crypto::kSideFileSuffix),
                               crypto::inode_of(side), S_IFREG});
      }
      out.push_back(DirEntry{std::move(en.name), crypto::inode_of(id), c.type});
    }
    if (dir->kind == NodeKind::kRoot && key_in_view_) {
      out.push_back(DirEntry{std::string(crypto::kKeyFileName),
                             crypto::inode_of(crypto::child_id(*keys_, root_id_, kKeyFileIdName)),
                             S_IFREG});
    }
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
      case NodeKind::kRoot:
      case NodeKind::kSource:
        return Errno{EISDIR};
      case NodeKind::kBacked:
        break;
    }
    if (n->type != S_IFREG) return Errno{n->type == S_IFDIR ? EISDIR : ELOOP};
    auto dir = parent_fd(*n);
    if (!dir) return Errno{dir.error()};
    int fd =
        ::openat((*dir)->get(), n->name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOATIME);
    if (fd < 0 && errno == EPERM) {
      fd = ::openat((*dir)->get(), n->name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) return Errno{errno == ELOOP ? ENOENT : errno};
    util::UniqueFd owned(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) return util::last_errno();
    if (!S_ISREG(st.st_mode)) return Errno{ENOENT};  // replaced since the lookup
    const std::int64_t mtime_ns =
        static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    const bool keep = table_.note_open(ino, static_cast<std::uint64_t>(st.st_size), mtime_ns);
    return std::unique_ptr<OpenFile>(
        std::make_unique<EncryptingFile>(std::move(owned), static_cast<std::uint64_t>(st.st_size),
                                         n->id, plain_ ? nullptr : content_.get(), keep));
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
    return Entry{*ino, *st};
  }

  // The plaintext name behind a name of the view, in directory `dir`.
  Result<std::string> plain_name(const Node& dir, std::string_view name, bool& side) {
    side = false;
    if (plain_) return std::string(name);
    std::string_view form = name;
    if (crypto::NameCipher::is_side_file(name)) {
      side = true;
      form.remove_suffix(crypto::kSideFileSuffix.size());
    }
    if (crypto::NameCipher::is_long_form(form)) {
      // Long forms cannot be decrypted: find the child whose name hashes to it.
      auto children = children_of(dir);
      if (!children) return Errno{children.error()};
      const std::size_t shortest = crypto::longest_short_name(names_->encoding()) + 1;
      for (const Child& c : *children) {
        if (c.name.size() < shortest) continue;
        if (names_->encrypt(dir.id, c.name).name == form) return c.name;
      }
      return Errno{ENOENT};
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

  // Whether an entry of a source is part of the view.
  bool admitted(const SourceState& src, const Tier& tier, int dir_fd, const std::string& rel,
                const std::string& name, mode_t type) const {
    if (type != S_IFDIR && type != S_IFREG && type != S_IFLNK) return false;
    if (!src.rules.empty() && src.rules.excluded(rel, type == S_IFDIR)) return false;
    if (type == S_IFDIR && (one_file_system_ || src.exclude_caches)) {
      util::UniqueFd sub(
          ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) return false;
      if (one_file_system_) {
        struct stat st {};
        if (::fstat(sub.get(), &st) != 0 || st.st_dev != tier.dev) return false;
      }
      if (src.exclude_caches) {
        auto tag = read_small_file(sub.get(), std::string(kCacheDirTag), 4096);
        if (tag && tag->compare(0, kCacheDirSignature.size(), kCacheDirSignature) == 0) {
          return false;
        }
      }
    }
    if (type == S_IFLNK && !plain_) {
      auto target = read_link(dir_fd, name);
      if (!target) return false;
      if (target->size() > crypto::max_link_target()) {
        util::log::warning("symlink " + util::log::name(rel) +
                           ": target too long to encrypt; left out of the view");
        return false;
      }
    }
    return true;
  }

  // The plaintext children of a directory node: sources at the root, else the union of the
  // directory's tiers (first tier wins on a clash), filtered.
  Result<std::vector<Child>> children_of(const Node& dir) {
    std::vector<Child> out;
    if (dir.kind == NodeKind::kRoot) {
      for (const auto& src : sources_) out.push_back(Child{src.name, S_IFDIR, 0});
      return out;
    }
    const SourceState& src = sources_[dir.source];
    std::map<std::string, Child> merged;
    bool any = false;
    int last_error = ENOENT;
    for (std::uint32_t t = 0; t < src.tiers.size(); ++t) {
      const Tier& tier = src.tiers[t];
      auto fd = dirs_.open(tier.root, tier.tag, dir.rel, one_file_system_ ? &tier.dev : nullptr);
      if (!fd) {
        last_error = fd.error();
        continue;
      }
      auto entries = read_dir((*fd)->get());
      if (!entries) {
        last_error = entries.error();
        continue;
      }
      any = true;
      for (auto& e : *entries) {
        if (merged.count(e.name) != 0) continue;
        const mode_t type = entry_type((*fd)->get(), e);
        const std::string rel = join_rel(dir.rel, e.name);
        if (!admitted(src, tier, (*fd)->get(), rel, e.name, type)) continue;
        merged.emplace(e.name, Child{e.name, type, t});
      }
    }
    if (!any) return Errno{last_error};
    out.reserve(merged.size());
    for (auto& [name, child] : merged) out.push_back(std::move(child));
    return out;
  }

  // Finds plaintext `name` in directory `dir` (inode `dir_ino`); `st` gets a backed entry's
  // lstat.
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
      auto fd = dirs_.open(tier.root, tier.tag, dir.rel, one_file_system_ ? &tier.dev : nullptr);
      if (!fd) continue;
      if (::fstatat((*fd)->get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT || errno == ENOTDIR) continue;
        return util::last_errno();
      }
      const mode_t type = st.st_mode & S_IFMT;
      if (!admitted(src, tier, (*fd)->get(), rel, name, type)) return Errno{ENOENT};
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
        st = virtual_attr(S_IFREG | 0444, key_text_.size());
        break;
      case NodeKind::kSideFile:
        st = virtual_attr(S_IFREG | 0444, n.extra.size());
        break;
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
  struct stat backed_attr(struct stat st, Ino ino) const {
    if (!plain_ && S_ISREG(st.st_mode)) {
      st.st_size = static_cast<off_t>(crypto::cipher_size(static_cast<std::uint64_t>(st.st_size)));
      st.st_blocks = (st.st_size + 511) / 512;
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
};

}  // namespace

std::unique_ptr<View> make_reverse_view(const config::Config& config,
                                        const crypto::MasterKey& master, ReverseOptions options) {
  return std::make_unique<ReverseView>(config, master, std::move(options));
}

}  // namespace encfsr::fs
