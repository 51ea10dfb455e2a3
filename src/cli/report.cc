// src/cli/report.cc — damage collection, its text and JSON forms, and the progress bar of
// `restore` and `verify` (see report.h).
#include "src/cli/report.h"

#include <unistd.h>

#include <algorithm>
#include <cinttypes>
#include <map>
#include <tuple>
#include <utility>

namespace encfsr::cli {
namespace {

std::string strip_leading_slashes(std::string path) {
  std::size_t n = 0;
  while (n < path.size() && path[n] == '/') ++n;
  path.erase(0, n);
  return path;
}

constexpr char kHex[] = "0123456789abcdef";

// Length of the valid UTF-8 sequence starting at text[i], or 0 if it is not one.
std::size_t utf8_sequence(std::string_view text, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char c = byte(i);
  std::size_t len = 0;
  std::uint32_t code = 0;
  if (c < 0x80) return 1;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
    code = c & 0x1fu;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    code = c & 0x0fu;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    code = c & 0x07u;
  } else {
    return 0;
  }
  if (i + len > text.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const unsigned char cont = byte(i + k);
    if ((cont & 0xc0u) != 0x80u) return 0;
    code = (code << 6) | (cont & 0x3fu);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8.
  if ((len == 3 && code < 0x800) || (len == 4 && code < 0x10000) || code > 0x10ffff ||
      (code >= 0xd800 && code <= 0xdfff)) {
    return 0;
  }
  return len;
}

}  // namespace

const char* kind_token(fs::DamageKind kind) noexcept {
  switch (kind) {
    case fs::DamageKind::kName:
      return "name";
    case fs::DamageKind::kSideFile:
      return "side-file";
    case fs::DamageKind::kBlock:
      return "block";
    case fs::DamageKind::kSize:
      return "size";
    case fs::DamageKind::kLink:
      return "link";
    case fs::DamageKind::kUnreadable:
      return "unreadable";
    case fs::DamageKind::kType:
      return "type";
    case fs::DamageKind::kManifest:
      return "manifest";
    case fs::DamageKind::kMissing:
      return "missing";
    case fs::DamageKind::kUnexpected:
      return "unexpected";
    case fs::DamageKind::kMetadata:
      return "metadata";
    case fs::DamageKind::kChanged:
      return kChangedToken;
  }
  return "unknown";
}

void DamageReport::add(const fs::Damage& damage) {
  DamageRecord record;
  record.kind = kind_token(damage.kind);
  record.path = strip_leading_slashes(damage.plain_path);
  record.cipher_path = strip_leading_slashes(damage.cipher_path);
  if (damage.kind == fs::DamageKind::kBlock) record.block = damage.block;
  add(std::move(record));
}

namespace {

std::string identity_of(const DamageRecord& record) {
  return record.path.empty() ? "c:" + record.cipher_path : "p:" + record.path;
}

}  // namespace

bool DamageReport::keep_block_event(const DamageRecord& record) {
  BlockTally& tally = blocks_[identity_of(record)];
  const std::uint64_t block = *record.block;
  if (std::find(tally.listed.begin(), tally.listed.end(), block) != tally.listed.end()) {
    return true;  // the same block again (the view's report and the command's): merged later
  }
  if (tally.listed.size() < kMaxListedBlocks) {
    tally.listed.push_back(block);
    return true;
  }
  if (tally.more == 0 || block > tally.last_more) {
    ++tally.more;
    tally.last_more = block;
  }
  return false;
}

void DamageReport::add(DamageRecord record) {
  std::lock_guard lock(mutex_);
  if (record.kind == kChangedToken) {
    warnings_.push_back(std::move(record));
    return;
  }
  if (record.kind == "block" && record.block && !keep_block_event(record)) return;
  // "metadata" says the copy's own inode differs; the entry itself is intact and restorable.
  if (!record.path.empty() && record.kind != "metadata") paths_.insert(record.path);
  events_.push_back(std::move(record));
}

fs::DamageSink DamageReport::sink() {
  return [this](const fs::Damage& damage) { add(damage); };
}

std::size_t DamageReport::events() const {
  std::lock_guard lock(mutex_);
  return events_.size();
}

bool DamageReport::damaged_since(std::size_t mark, std::string_view path) const {
  std::lock_guard lock(mutex_);
  for (std::size_t i = mark; i < events_.size(); ++i) {
    const DamageRecord& event = events_[i];
    if (event.path == path && event.kind != "metadata") return true;
    if (event.path.empty() && (event.kind == "block" || event.kind == "size")) return true;
  }
  return false;
}

bool DamageReport::has_damage(std::string_view path) const {
  std::lock_guard lock(mutex_);
  return paths_.count(std::string(path)) != 0;
}

std::vector<DamageRecord> DamageReport::records() const {
  std::lock_guard lock(mutex_);
  std::vector<DamageRecord> merged;
  // (identity, kind, block) -> index in merged. The identity is the plaintext path when known
  // (so the view's report and the command's own EIO of the same block meet), else the cipher
  // path.
  std::map<std::tuple<std::string, std::string, std::uint64_t, bool>, std::size_t> index;
  // identity -> index in merged of its last "block" record, for files with unlisted blocks.
  std::map<std::string, std::size_t> last_block;
  for (const DamageRecord& event : events_) {
    std::string identity = identity_of(event);
    auto key =
        std::make_tuple(identity, event.kind, event.block.value_or(0), event.block.has_value());
    auto [it, inserted] = index.emplace(std::move(key), merged.size());
    if (inserted) {
      if (event.kind == "block") {
        auto tally = blocks_.find(identity);
        if (tally != blocks_.end() && tally->second.more > 0) {
          last_block[std::move(identity)] = merged.size();
        }
      }
      merged.push_back(event);
      continue;
    }
    DamageRecord& kept = merged[it->second];
    if (kept.cipher_path.empty()) kept.cipher_path = event.cipher_path;
  }
  if (last_block.empty()) return merged;
  // Each file's "more-blocks" record right after its last listed block.
  std::vector<std::size_t> after(merged.size(), 0);  // 1 + index into `mores`, or 0
  std::vector<DamageRecord> mores;
  for (const auto& [identity, at] : last_block) {
    DamageRecord more;
    more.kind = kMoreBlocksToken;
    more.path = merged[at].path;
    more.cipher_path = merged[at].cipher_path;
    more.count = blocks_.at(identity).more;
    mores.push_back(std::move(more));
    after[at] = mores.size();
  }
  std::vector<DamageRecord> out;
  out.reserve(merged.size() + mores.size());
  for (std::size_t i = 0; i < merged.size(); ++i) {
    out.push_back(std::move(merged[i]));
    if (after[i] != 0) out.push_back(std::move(mores[after[i] - 1]));
  }
  return out;
}

std::size_t DamageReport::collapse_metadata(std::uint64_t entries) {
  std::lock_guard lock(mutex_);
  std::unordered_set<std::string> paths;
  for (const DamageRecord& e : events_) {
    if (e.kind == "metadata") paths.insert(e.shown_path());
  }
  if (paths.empty() || paths.size() * 2 <= entries) return 0;
  std::erase_if(events_, [](const DamageRecord& e) { return e.kind == "metadata"; });
  return paths.size();
}

std::string metadata_collapsed_line(std::size_t differing, std::uint64_t entries) {
  return "metadata not compared: the copy's own modes or owners differ from the manifests for " +
         std::to_string(differing) + " of " + std::to_string(entries) +
         " entries (a copy that keeps none, such as one written by a user other than root or to "
         "FAT or SMB; or tampered with). Restore uses the manifests.";
}

std::vector<std::string> DamageReport::changed_during_backup() const {
  std::lock_guard lock(mutex_);
  std::vector<std::string> out;
  std::unordered_set<std::string> seen;
  for (const DamageRecord& w : warnings_) {
    const std::string& path = w.shown_path();
    if (paths_.count(w.path) != 0 || !seen.insert(path).second) continue;  // damage says more
    out.push_back(path);
  }
  return out;
}

std::string printable_path(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (const char ch : path) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f || c == '\\') {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0x0f];
    } else {
      out += ch;
    }
  }
  return out;
}

std::string damage_line(const DamageRecord& record) {
  std::string line = "damaged: " + printable_path(record.shown_path()) + ": ";
  if (record.kind == kMoreBlocksToken) {
    return line + "and " + std::to_string(record.count.value_or(0)) +
           " more damaged blocks (not listed)";
  }
  if (record.kind == kUncheckedToken) {
    return line + "and " + std::to_string(record.count.value_or(0)) +
           " more blocks unchecked from block " + std::to_string(record.block.value_or(0)) +
           " (stopped after " + std::to_string(kMaxDamagedRun) + " damaged blocks in a row)";
  }
  // "block 12" rather than "block block 12"; any other kind with a block number gets
  // " block N" after it.
  if (record.kind != "block") line += record.kind;
  if (record.block)
    line += (record.kind != "block" ? " block " : "block ") + std::to_string(*record.block);
  else if (record.kind == "block")
    line += record.kind;
  return line;
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
      ++i;
    } else if (c < 0x20 || c == 0x7f) {
      switch (c) {
        case '\n':
          out += "\\n";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\r':
          out += "\\r";
          break;
        default:
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 0x0f];
      }
      ++i;
    } else {
      const std::size_t len = utf8_sequence(text, i);
      if (len == 0) {
        out += "\\ufffd";
        ++i;
      } else {
        out.append(text.substr(i, len));
        i += len;
      }
    }
  }
  out += '"';
  return out;
}

std::string json_damage_array(const std::vector<DamageRecord>& records) {
  std::string out = "[";
  bool first = true;
  for (const DamageRecord& record : records) {
    if (!first) out += ',';
    first = false;
    out += "{\"path\":";
    out += record.path.empty() ? "null" : json_string(record.path);
    out += ",\"cipher_path\":";
    out += record.cipher_path.empty() ? "null" : json_string(record.cipher_path);
    out += ",\"kind\":" + json_string(record.kind);
    out += ",\"block\":";
    out += record.block ? std::to_string(*record.block) : "null";
    if (record.count) out += ",\"count\":" + std::to_string(*record.count);
    out += '}';
  }
  out += ']';
  return out;
}

std::string human_bytes(double bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
  std::size_t unit = 0;
  while (bytes >= 1024.0 && unit + 1 < std::size(kUnits)) {
    bytes /= 1024.0;
    ++unit;
  }
  char text[32];
  if (unit == 0) {
    std::snprintf(text, sizeof text, "%.0f %s", bytes, kUnits[unit]);
  } else {
    std::snprintf(text, sizeof text, "%.1f %s", bytes, kUnits[unit]);
  }
  return text;
}

bool progress_wanted(int choice) {
  if (choice != 0) return choice > 0;
  return ::isatty(STDERR_FILENO) == 1;
}

ProgressBar::ProgressBar(std::FILE* out, bool enabled, std::uint64_t total_entries,
                         std::uint64_t total_bytes)
    : out_(out),
      enabled_(enabled),
      terminal_(::isatty(::fileno(out)) == 1),
      total_entries_(total_entries),
      total_bytes_(total_bytes),
      start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(std::uint64_t entries, std::uint64_t bytes) {
  if (!enabled_) return;
  entries_ = entries;
  bytes_ = bytes;
  drawn_last_ = false;
  const auto now = std::chrono::steady_clock::now();
  const auto every = terminal_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(1000);
  if (shown_ && now - last_draw_ < every) return;
  draw(now);
}

void ProgressBar::draw(std::chrono::steady_clock::time_point now) {
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double rate = elapsed > 0.0 ? static_cast<double>(bytes_) / elapsed : 0.0;
  std::string eta = "--:--";
  if (rate > 0.0 && total_bytes_ >= bytes_) {
    const auto seconds =
        static_cast<std::uint64_t>(static_cast<double>(total_bytes_ - bytes_) / rate);
    char text[32];
    std::snprintf(text, sizeof text, "%" PRIu64 ":%02" PRIu64 ":%02" PRIu64, seconds / 3600,
                  seconds / 60 % 60, seconds % 60);
    eta = text;
  }
  const int percent =
      total_bytes_ == 0
          ? 100
          : static_cast<int>(std::min<std::uint64_t>(100, bytes_ * 100 / total_bytes_));
  std::fprintf(out_, "%s%3d%%  entries %" PRIu64 "/%" PRIu64 "  %s/%s  %s/s  ETA %s%s",
               terminal_ ? "\r\033[K" : "", percent, entries_, total_entries_,
               human_bytes(static_cast<double>(bytes_)).c_str(),
               human_bytes(static_cast<double>(total_bytes_)).c_str(), human_bytes(rate).c_str(),
               eta.c_str(), terminal_ ? "" : "\n");
  std::fflush(out_);
  shown_ = true;
  drawn_last_ = true;
}

void ProgressBar::clear() {
  if (!enabled_ || !shown_ || !terminal_) return;
  std::fputs("\r\033[K", out_);
  std::fflush(out_);
  shown_ = false;
}

void ProgressBar::finish() {
  if (enabled_ && !terminal_ && !drawn_last_) draw(std::chrono::steady_clock::now());
  clear();
  enabled_ = false;
}

}  // namespace encfsr::cli
