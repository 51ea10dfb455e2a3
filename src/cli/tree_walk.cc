// src/cli/tree_walk.cc — depth-first walk, path resolution and whole-file reads over a view,
// without FUSE (see tree_walk.h).
#include "src/cli/tree_walk.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "crypto/size_math.h"

namespace encfsr::cli {
namespace {

std::string child_path(std::string_view parent, std::string_view name) {
  std::string path;
  path.reserve(parent.size() + 1 + name.size());
  path.append(parent);
  if (!path.empty()) path += '/';
  path.append(name);
  return path;
}

// Forgets one lookup when it goes out of scope.
class LookupGuard {
 public:
  LookupGuard(fs::View& view, fs::Ino ino) : view_(view), ino_(ino) {}
  LookupGuard(const LookupGuard&) = delete;
  LookupGuard& operator=(const LookupGuard&) = delete;
  ~LookupGuard() { view_.forget(ino_, 1); }

 private:
  fs::View& view_;
  fs::Ino ino_;
};

void walk_directory(fs::View& view, const WalkNode& dir, TreeVisitor& visitor,
                    const DamageReport* report) {
  if (!visitor.enter_directory(dir)) return;
  auto listing = view.list(dir.ino);
  if (!listing) {
    visitor.walk_error(dir.path, listing.error());
    visitor.leave_directory(dir);
    return;
  }
  for (const fs::DirEntry& entry : *listing) {
    std::string path = child_path(dir.path, entry.name);
    if (!is_plain_component(entry.name)) {
      visitor.walk_error(path, EINVAL);
      continue;
    }
    WalkNode node;
    node.damage_mark = report != nullptr ? report->events() : 0;
    auto found = view.lookup(dir.ino, entry.name);
    if (!found) {
      visitor.walk_error(path, found.error());
      continue;
    }
    LookupGuard guard(view, found->ino);
    node.path = std::move(path);
    node.ino = found->ino;
    node.attr = found->attr;
    walk(view, node, visitor, report);
  }
  visitor.leave_directory(dir);
}

}  // namespace

std::string_view base_name(std::string_view path) noexcept {
  const auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

bool is_plain_component(std::string_view name) noexcept {
  return !name.empty() && name != "." && name != ".." &&
         name.find_first_of(std::string_view("/\0", 2)) == std::string_view::npos;
}

void walk(fs::View& view, const WalkNode& node, TreeVisitor& visitor, const DamageReport* report) {
  switch (node.attr.st_mode & S_IFMT) {
    case S_IFDIR:
      walk_directory(view, node, visitor, report);
      break;
    case S_IFREG:
      visitor.file(node);
      break;
    case S_IFLNK:
      visitor.symlink(node);
      break;
    default:
      visitor.walk_error(node.path, EINVAL);
      break;  // views show no other types
  }
}

namespace {

class TotalsCounter : public TreeVisitor {
 public:
  explicit TotalsCounter(TreeTotals& totals) : totals_(totals) {}
  bool enter_directory(const WalkNode& dir) override {
    if (!dir.path.empty()) ++totals_.entries;
    return true;
  }
  void leave_directory(const WalkNode&) override {}
  void file(const WalkNode& node) override {
    ++totals_.entries;
    totals_.bytes += static_cast<std::uint64_t>(std::max<off_t>(node.attr.st_size, 0));
  }
  void symlink(const WalkNode&) override { ++totals_.entries; }
  void walk_error(std::string_view, int) override {}

 private:
  TreeTotals& totals_;
};

}  // namespace

void add_tree_totals(fs::View& view, const WalkNode& node, TreeTotals& totals) {
  TotalsCounter counter(totals);
  walk(view, node, counter, nullptr);
}

util::Result<WalkNode> root_node(fs::View& view) {
  auto attr = view.getattr(fs::kRootIno);
  if (!attr) return util::Errno{attr.error()};
  WalkNode node;
  node.ino = fs::kRootIno;
  node.attr = *attr;
  return node;
}

ResolvedPath::ResolvedPath(ResolvedPath&& other) noexcept
    : view_(other.view_), chain_(std::move(other.chain_)) {
  other.chain_.clear();
}

ResolvedPath::~ResolvedPath() {
  // Innermost first. (std::views::reverse: clang 14 cannot compile it with libstdc++ 12.)
  for (auto it = chain_.rbegin(); it != chain_.rend(); ++it) {  // NOLINT(modernize-loop-convert)
    view_->forget(it->ino, 1);
  }
}

bool split_view_path(std::string_view path, std::vector<std::string>& components) {
  components.clear();
  while (!path.empty()) {
    const auto slash = path.find('/');
    const std::string_view part = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") return false;
    components.emplace_back(part);
  }
  return true;
}

util::Result<ResolvedPath> resolve(fs::View& view, const std::vector<std::string>& components,
                                   const DamageReport* report) {
  ResolvedPath resolved(view);
  fs::Ino parent = fs::kRootIno;
  std::string path;
  for (const std::string& name : components) {
    WalkNode node;
    node.damage_mark = report != nullptr ? report->events() : 0;
    if (!resolved.chain().empty() && !S_ISDIR(resolved.chain().back().attr.st_mode)) {
      return util::Errno{ENOTDIR};
    }
    auto found = view.lookup(parent, name);
    if (!found) return util::Errno{found.error()};
    path = child_path(path, name);
    node.path = path;
    node.ino = found->ino;
    node.attr = found->attr;
    resolved.push(std::move(node));
    parent = found->ino;
  }
  if (resolved.chain().empty()) return util::Errno{ENOENT};
  return resolved;
}

ReadOutcome read_file(fs::View& view, const WalkNode& node, std::span<std::uint8_t> buffer,
                      DamageReport& report, OnDamage on_damage,
                      const std::function<int(std::span<const std::uint8_t>)>& consume) {
  ReadOutcome outcome;
  const auto record = [&](const char* kind, std::optional<std::uint64_t> block) {
    DamageRecord damage;
    damage.kind = kind;
    damage.path = node.path;
    damage.block = block;
    report.add(std::move(damage));
    outcome.damaged = true;
  };
  const auto hand_over = [&](std::span<const std::uint8_t> data) {
    if (data.empty()) return true;
    outcome.bytes += data.size();
    outcome.consumer_error = consume(data);
    return outcome.consumer_error == 0;
  };

  const std::size_t mark = report.events();
  auto opened = view.open(node.ino);
  if (!opened) {
    // The view reports what it finds wrong itself (size, type, an empty file's block).
    if (opened.error() != EIO || !report.damaged_since(mark, node.path)) {
      record("unreadable", std::nullopt);
    }
    outcome.damaged = true;
    return outcome;
  }
  fs::OpenFile& file = **opened;
  const auto size = static_cast<std::uint64_t>(std::max<off_t>(node.attr.st_size, 0));
  const std::uint64_t blocks = (size + crypto::kBlockSize - 1) / crypto::kBlockSize;
  std::uint64_t bad_run = 0;  // failing blocks in a row
  std::uint64_t offset = 0;
  while (offset < size) {
    const std::uint64_t want = std::min<std::uint64_t>(buffer.size(), size - offset);
    auto got = file.read(offset, buffer.first(want));
    if (got) {
      if (*got == 0) {  // shorter than its size
        record("size", std::nullopt);
        return outcome;
      }
      if (!hand_over(buffer.first(*got))) return outcome;
      offset += *got;
      bad_run = 0;
      continue;
    }
    if (got.error() != EIO) {
      record("unreadable", std::nullopt);
      return outcome;
    }
    // Find the bad blocks of this chunk one by one; the others are still good.
    const std::uint64_t chunk_end = offset + want;
    for (std::uint64_t at = offset; at < chunk_end;) {
      const std::uint64_t block_end =
          std::min<std::uint64_t>((at / crypto::kBlockSize + 1) * crypto::kBlockSize, chunk_end);
      const std::uint64_t len = block_end - at;
      auto part = file.read(at, buffer.first(len));
      if (part) {
        if (*part == 0) {
          record("size", std::nullopt);
          return outcome;
        }
        if (!hand_over(buffer.first(*part))) return outcome;
        at += *part;
        bad_run = 0;
        continue;
      }
      if (part.error() != EIO) {
        record("unreadable", std::nullopt);
        return outcome;
      }
      record("block", at / crypto::kBlockSize);
      if (on_damage == OnDamage::kStop) return outcome;
      if (++bad_run >= kMaxDamagedRun && on_damage == OnDamage::kCheck) {
        const std::uint64_t next = at / crypto::kBlockSize + 1;
        if (next < blocks) {
          DamageRecord rest;
          rest.kind = kUncheckedToken;
          rest.path = node.path;
          rest.block = next;
          rest.count = blocks - next;
          report.add(std::move(rest));
        }
        return outcome;
      }
      std::fill_n(buffer.begin(), len, std::uint8_t{0});
      if (!hand_over(buffer.first(len))) return outcome;
      at = block_end;
    }
    offset = chunk_end;
  }
  return outcome;
}

}  // namespace encfsr::cli
