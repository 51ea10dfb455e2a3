// src/cli/report.h — what `restore` and `verify` tell the user: the damage they collected, the
// text and JSON forms of it, and the progress line of `restore` and `verify`.
//
// DamageReport collects every damage event (from the decrypt view's DamageSink and from the
// commands' own reads) as it happens and merges them for output: the same path + kind + block is
// listed once. Bad blocks are listed up to kMaxListedBlocks per file; further ones are only
// counted (one "more-blocks" line), so a huge damaged file in a copy costs a few records, not
// one per block. Paths in the output are plaintext view paths ("home/a/b.txt") when known, else
// paths inside the ciphertext copy. This is user-facing output the user asked for, not logging.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "src/fs/damage.h"

namespace encfsr::cli {

// One line of the damage list.
struct DamageRecord {
  std::string kind;         // "name", "side-file", "block", "size", "link", "unreadable",
                            // "key-file"
  std::string path;         // plaintext view path, empty when unknown
  std::string cipher_path;  // path in the copy, empty when unknown
  std::optional<std::uint64_t> block;  // for "block"; the first unchecked block for "unchecked"
  // For "more-blocks": how many further bad blocks were found but not listed; for "unchecked":
  // how many blocks were not read.
  std::optional<std::uint64_t> count;

  // What the text output names: the plaintext path, else the cipher path.
  const std::string& shown_path() const noexcept { return path.empty() ? cipher_path : path; }
};

// Bad blocks listed per file; the rest are counted.
inline constexpr std::size_t kMaxListedBlocks = 16;
// verify's read of a file stops after this many bad blocks in a row (read_file, OnDamage::kCheck):
// the rest is left unchecked ("unchecked" record), so a huge file of garbage costs 64 blocks of
// work, not its size. restore --salvage reads on (it keeps every good block after the run).
inline constexpr std::uint64_t kMaxDamagedRun = 64;
// Tokens of the summary records: further bad blocks counted but not listed, and blocks left
// unread after a run of bad ones (read_file).
inline constexpr const char* kMoreBlocksToken = "more-blocks";
inline constexpr const char* kUncheckedToken = "unchecked";

// The token of the "changed during backup" warning (fs::DamageKind::kChanged).
inline constexpr const char* kChangedToken = "changed";
// The stable token of a damage kind used in the text and JSON output.
const char* kind_token(fs::DamageKind kind) noexcept;

// Thread-safe collector. add() may be called from the view's threads.
class DamageReport {
 public:
  void add(const fs::Damage& damage);
  // A problem found outside the view (e.g. the copy's key file).
  void add(DamageRecord record);
  // A sink for fs::DecryptOptions::on_damage; this report must outlive the view.
  fs::DamageSink sink();

  // Number of events so far (a mark for damaged_since).
  std::size_t events() const;
  // Whether an event since `mark` concerns plaintext path `path` (other than "metadata": the
  // copy's own mode or owner differs, the entry is intact), or is a content problem (block,
  // size) whose plaintext path the view did not know.
  bool damaged_since(std::size_t mark, std::string_view path) const;
  // Whether any event other than "metadata" names plaintext path `path`.
  bool has_damage(std::string_view path) const;

  // The merged list of damage, in order of first appearance (warnings are not damage); a file
  // with more than kMaxListedBlocks bad blocks gets a "more-blocks" record after its last
  // listed block.
  std::vector<DamageRecord> records() const;
  // Paths that changed during the backup (warnings), in order, each once, leaving out paths
  // that are damaged.
  std::vector<std::string> changed_during_backup() const;
  // A copy that keeps no modes or owners at all (written by a user other than root, to FAT,
  // SMB or most cloud stores) differs from the manifests everywhere. If "metadata" damage names
  // more than half of the `entries` checked, it is dropped from the damage and its count
  // returned (0 otherwise): the caller prints one line instead. An adversary who hides one
  // planted mode this way must change most of the copy, and that line still shows.
  std::size_t collapse_metadata(std::uint64_t entries);

 private:
  // The bad blocks of one file: the listed ones and a count of the others.
  struct BlockTally {
    std::vector<std::uint64_t> listed;  // at most kMaxListedBlocks
    std::uint64_t more = 0;             // further distinct bad blocks seen
    std::uint64_t last_more = 0;        // the highest of them (a file is read in order)
  };
  // Whether a "block" event is to be kept in events_ (else it was counted).
  bool keep_block_event(const DamageRecord& record);

  mutable std::mutex mutex_;
  std::vector<DamageRecord> events_;
  std::vector<DamageRecord> warnings_;
  std::unordered_set<std::string> paths_;
  // By identity: "p:" + plaintext path, else "c:" + cipher path.
  std::unordered_map<std::string, BlockTally> blocks_;
};

// The line printed instead of per-entry "metadata" damage when collapse_metadata dropped it.
std::string metadata_collapsed_line(std::size_t differing, std::uint64_t entries);
// "damaged: <path>: <kind>[ block N]" (no newline); a bad block reads "damaged: <path>: block N".
// Control characters and backslashes in the path are escaped as \xNN so that every entry stays on
// one line.
std::string damage_line(const DamageRecord& record);
// Escapes a path for one-line text output (see damage_line).
std::string printable_path(std::string_view path);

// A JSON string literal (with the quotes). Valid UTF-8 is kept; bytes that are not valid UTF-8
// become U+FFFD, since JSON text must be UTF-8.
std::string json_string(std::string_view text);
// The "damaged" array: [{"path":..,"cipher_path":..,"kind":..,"block":N|null}, ...]; unknown
// paths are null.
std::string json_damage_array(const std::vector<DamageRecord>& records);

// "1.5 MiB" style sizes for the progress bar.
std::string human_bytes(double bytes);

// Whether to show progress on stderr: `choice` > 0 (--progress) yes, < 0 (--no-progress) no,
// 0 (neither) only when stderr is a terminal.
bool progress_wanted(int choice);

// Progress of a walk: entries and bytes done of the totals, rate and time left. On a terminal,
// one line redrawn at most ten times a second and erased by clear() / finish(). Elsewhere (when
// forced with --progress), one line per second plus a last one at finish(), each ending in a
// newline, for logs. Does nothing unless enabled.
class ProgressBar {
 public:
  ProgressBar(std::FILE* out, bool enabled, std::uint64_t total_entries, std::uint64_t total_bytes);
  ~ProgressBar() { finish(); }
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void update(std::uint64_t entries, std::uint64_t bytes);
  // Erases the line so that other output can follow (the next update redraws it).
  void clear();
  void finish();

 private:
  void draw(std::chrono::steady_clock::time_point now);

  std::FILE* out_;
  bool enabled_;
  bool terminal_;
  bool shown_ = false;
  bool drawn_last_ = false;  // the latest values are on the output
  std::uint64_t entries_ = 0;
  std::uint64_t bytes_ = 0;
  std::uint64_t total_entries_;
  std::uint64_t total_bytes_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
};

}  // namespace encfsr::cli
