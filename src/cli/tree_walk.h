// src/cli/tree_walk.h — walking a view without FUSE, for `restore` and `verify`.
//
// The walk is depth first, in the view's listing order. Every entry is looked up (so the view's
// lookup count grows) and forgotten again once its subtree is done, so the view's inode table
// holds only the current path: memory stays bounded by depth x directory size. Paths are
// plaintext view paths ("home/a/b.txt"; the root is ""). Single-threaded.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "src/cli/report.h"
#include "src/fs/view.h"
#include "src/util/result.h"

namespace encfsr::cli {

struct WalkNode {
  std::string path;  // "" for the root
  fs::Ino ino = 0;
  struct stat attr {};
  std::size_t damage_mark = 0;  // DamageReport::events() just before the node's lookup
};

// The last component of a view path ("" for the root).
std::string_view base_name(std::string_view path) noexcept;
// Whether a name from a listing is one component (not empty, ".", "..", no '/' or NUL).
bool is_plain_component(std::string_view name) noexcept;

class TreeVisitor {
 public:
  virtual ~TreeVisitor() = default;
  // Before the contents of a directory; false skips them (leave_directory is then not called).
  virtual bool enter_directory(const WalkNode& dir) = 0;
  // After the contents of a directory entered with true.
  virtual void leave_directory(const WalkNode& dir) = 0;
  virtual void file(const WalkNode& file) = 0;
  virtual void symlink(const WalkNode& link) = 0;
  // A listing or lookup failed with errno `error` (the view reports damage itself through its
  // DamageSink; this is the walk's own view of the failure).
  virtual void walk_error(std::string_view path, int error) = 0;
};

// Walks the subtree of `node` (already looked up by the caller; forgetting it is the caller's
// job), visiting `node` itself first. `report` (may be null) provides the damage marks.
void walk(fs::View& view, const WalkNode& node, TreeVisitor& visitor, const DamageReport* report);

// What a walk of a subtree will visit, for the progress line: entries (the subtree's root
// counted unless it is the view's root) and the files' st_size. Lookups and getattr only.
struct TreeTotals {
  std::uint64_t entries = 0;
  std::uint64_t bytes = 0;
};
void add_tree_totals(fs::View& view, const WalkNode& node, TreeTotals& totals);

// The root directory as a node (getattr of fs::kRootIno).
util::Result<WalkNode> root_node(fs::View& view);

// A view path resolved by lookups from the root; forgets every lookup when destroyed.
class ResolvedPath {
 public:
  ResolvedPath(fs::View& view) : view_(&view) {}  // NOLINT(google-explicit-constructor)
  ResolvedPath(ResolvedPath&& other) noexcept;
  ResolvedPath& operator=(ResolvedPath&&) = delete;
  ResolvedPath(const ResolvedPath&) = delete;
  ResolvedPath& operator=(const ResolvedPath&) = delete;
  ~ResolvedPath();

  // The looked-up components, root first (excluding the root); the last is the target.
  const std::vector<WalkNode>& chain() const noexcept { return chain_; }
  void push(WalkNode node) { chain_.push_back(std::move(node)); }

 private:
  fs::View* view_;
  std::vector<WalkNode> chain_;
};

// Normalises a user's view path: components split on '/', empty and "." dropped; ".." is
// refused (returns false).
bool split_view_path(std::string_view path, std::vector<std::string>& components);

// Resolves a normalised, non-empty component list. ENOENT (or the lookup's errno) on failure.
util::Result<ResolvedPath> resolve(fs::View& view, const std::vector<std::string>& components,
                                   const DamageReport* report);

// Outcome of reading one file of the view.
struct ReadOutcome {
  std::uint64_t bytes = 0;  // bytes handed to the consumer (zero-filled blocks included)
  bool damaged = false;     // a block failed, or the file was shorter than its size
  int consumer_error = 0;   // the consumer's errno that stopped the read, else 0
};

// What read_file does after a bad block.
enum class OnDamage : std::uint8_t {
  kStop,      // stops the read (restore: the file is left out)
  kCheck,     // goes on, zeros handed over; after kMaxDamagedRun bad blocks in a row the rest of
              // the file is one "unchecked" record and is not read (verify: bounded work)
  kSalvage,   // goes on to the end of the file, every bad block handed over as zeros (restore
              // --salvage: every good block after a bad region is kept, at its offset)
};

// Reads a whole file of the view in 1 MiB chunks (`buffer`, at least 4,096 bytes; a multiple of
// 4,096) and hands the bytes in order to `consume` (returns 0 or an errno; an errno stops the
// read). A chunk that fails with EIO is read again block by block: each failing 4,096-byte block
// is added to `report` as "block" damage of `node.path` (the report lists a few per file and
// counts the rest) and, as `on_damage` says, the read stops or the block is handed to the
// consumer as zeros (so the output keeps its offsets) before the next block is read.
// A file shorter than its st_size is "size" damage; another errno is "unreadable" damage.
ReadOutcome read_file(fs::View& view, const WalkNode& node, std::span<std::uint8_t> buffer,
                      DamageReport& report, OnDamage on_damage,
                      const std::function<int(std::span<const std::uint8_t>)>& consume);

}  // namespace encfsr::cli
