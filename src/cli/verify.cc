// src/cli/verify.cc — `encfsr verify [--key FILE] [key options] [--names ...] [--json] [-q]
// CIPHERDIR`: checks every name, block, link and side file of a ciphertext copy (and the
// copy's own key file when another key file was given) without FUSE.
#include "src/cli/verify.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include "config/key_file.h"
#include "crypto/keys.h"
#include "crypto/name_cipher.h"
#include "src/cli/cli_error.h"
#include "src/cli/commands.h"
#include "src/cli/copy_setup.h"
#include "src/cli/tree_walk.h"
#include "src/fs/backing_io.h"
#include "src/fs/decrypt_view.h"
#include "src/util/exit_codes.h"

namespace encfsr::cli {
namespace {

constexpr std::size_t kChunkSize = std::size_t{1024} * 1024;

class Verifier : public TreeVisitor {
 public:
  Verifier(fs::View& view, DamageReport& report, ProgressBar& progress)
      : view_(view), report_(report), progress_(progress), buffer_(kChunkSize) {}

  bool enter_directory(const WalkNode& dir) override {
    if (!dir.path.empty()) count(stats_.directories);
    return true;
  }
  void leave_directory(const WalkNode&) override {}

  void file(const WalkNode& node) override {
    count(stats_.files);
    stats_.bytes += static_cast<std::uint64_t>(std::max<off_t>(node.attr.st_size, 0));
    (void)read_file(view_, node, buffer_, report_, OnDamage::kCheck,
                    [this](std::span<const std::uint8_t> data) {
                      progress_bytes_ += data.size();
                      progress_.update(stats_.entries, progress_bytes_);
                      return 0;
                    });
    progress_.update(stats_.entries, progress_bytes_);
  }

  void symlink(const WalkNode& node) override {
    count(stats_.symlinks);
    auto target = view_.readlink(node.ino);
    if (!target && !report_.has_damage(node.path)) {
      DamageRecord damage;
      damage.kind = target.error() == EIO ? "link" : "unreadable";
      damage.path = node.path;
      report_.add(std::move(damage));
    }
  }

  void walk_error(std::string_view path, int) override {
    if (report_.has_damage(path)) return;
    DamageRecord damage;
    damage.kind = "unreadable";
    damage.path = std::string(path);
    report_.add(std::move(damage));
  }

  const VerifyStats& stats() const noexcept { return stats_; }

 private:
  void count(std::uint64_t& kind) {
    ++kind;
    ++stats_.entries;
    progress_.update(stats_.entries, progress_bytes_);
  }

  fs::View& view_;
  DamageReport& report_;
  ProgressBar& progress_;
  std::uint64_t progress_bytes_ = 0;
  std::vector<std::uint8_t> buffer_;
  VerifyStats stats_;
};

void key_file_damage(DamageReport& report) {
  DamageRecord damage;
  damage.kind = "key-file";
  damage.cipher_path = std::string(crypto::kKeyFileName);
  report.add(std::move(damage));
}

// The copy's own encfsr.key must open with the password given, so that the copy plus that
// password is enough to restore. Without --key, open_copy unwrapped it already. With --key, it
// must parse, belong to the same master key, carry a valid view section if it has one, be the
// given file byte for byte in its canonical part when it shares its salt and nonce (the same
// wrap), and otherwise unwrap with the password (in a child, costs capped as for any key file).
// Problems are "key-file" damage. Returns the line to print when it was not checked against a
// password (the paper key unlocked, or the copy keeps no key file), or a note on the damage;
// empty when it was checked and is fine. `checked` says whether a password check happened.
std::string check_copy_key_file(const OpenedCopy& copy, const CopyOptions& options,
                                DamageReport& report, bool& checked) {
  checked = false;
  std::string not_checked =
      "key file: the copy's encfsr.key was not checked against a password (unlocked with the "
      "paper key)";
  if (!options.key) {  // the key was read from the copy's own file and opened
    checked = !copy.password.empty();
    return checked ? std::string() : not_checked;
  }
  auto own = fs::read_small_file(copy.root.get(), std::string(crypto::kKeyFileName),
                                 config::kMaxKeyFileBytes);
  if (!own && own.error() == ENOENT) {
    return "key file: the copy has no encfsr.key (key_in_view: false); restoring it needs the "
           "key file kept elsewhere";
  }
  if (!own) {  // not a regular file (a symlink, a device, a FIFO), too large, unreadable
    key_file_damage(report);
    return std::string("key file: the copy's encfsr.key cannot be read as a key file: ") +
           (own.error() == EINVAL  ? "not a regular file"
            : own.error() == EFBIG ? "larger than 64 KiB"
                                   : std::strerror(own.error()));
  }
  config::KeyFile copy_key;
  std::string error;
  if (!config::parse_key_file(*own, copy_key, error)) {
    key_file_damage(report);
    return "key file: the copy's encfsr.key: " + error;
  }
  const crypto::KeySet keys(copy.master);
  if (!config::master_key_matches(copy_key, copy.master) ||
      (copy_key.names && !config::view_section_valid(copy_key, keys))) {
    key_file_damage(report);
    return std::string();
  }
  bool same_wrap = false;
  try {
    const config::KeyFile given = config::read_key_file(*options.key);
    if (given.wrapped.salt == copy_key.wrapped.salt &&
        given.wrapped.nonce == copy_key.wrapped.nonce) {
      if (config::serialize_key_file(given) != config::serialize_key_file(copy_key)) {
        key_file_damage(report);
        return "key file: the copy's encfsr.key is the wrap of " + *options.key +
               " with other parameters (tampered with)";
      }
      same_wrap = true;
    }
  } catch (const config::KeyFileError&) {
    // open_copy read it a moment ago; unwrap the copy's own below.
  }
  if (copy.password.empty()) return not_checked;
  if (same_wrap) {  // the very wrap the password opened a moment ago
    checked = true;
    return std::string();
  }
  const std::string where = "encfsr.key of the copy";
  crypto::MasterKey opened;
  switch (unwrap_in_child(copy_key, copy.password.view(), where, opened)) {
    case crypto::Status::kOk:
      checked = true;
      return std::string();
    case crypto::Status::kTooLong:
      key_file_damage(report);
      return unaffordable_kdf_message(copy_key, where);
    case crypto::Status::kWrongPassword:
      checked = true;
      key_file_damage(report);
      return "key file: the copy's encfsr.key does not open with the given password (changed "
             "since this backup, or tampered with): restoring from this copy alone needs its "
             "password or the paper key";
    default:
      key_file_damage(report);
      return std::string();
  }
}

}  // namespace

VerifyStats verify_view(fs::View& view, DamageReport& report, ProgressBar& progress) {
  Verifier verifier(view, report, progress);
  auto root = root_node(view);
  if (!root) {
    DamageRecord damage;
    damage.kind = "unreadable";
    damage.cipher_path = ".";
    report.add(std::move(damage));
    return verifier.stats();
  }
  walk(view, *root, verifier, &report);
  progress.finish();
  return verifier.stats();
}

VerifyStats verify_view(fs::View& view, DamageReport& report) {
  ProgressBar none(stderr, false, 0, 0);
  return verify_view(view, report, none);
}

std::string verify_summary(const VerifyStats& stats, std::size_t damaged, std::size_t changed) {
  std::string text =
      "entries " + std::to_string(stats.entries) + " (files " + std::to_string(stats.files) +
      ", directories " + std::to_string(stats.directories) + ", symlinks " +
      std::to_string(stats.symlinks) + "), " + std::to_string(stats.bytes) + " bytes: ";
  text += damaged == 0 ? std::string("clean") : std::to_string(damaged) + " damaged";
  if (changed > 0) text += "; " + std::to_string(changed) + " changed during backup";
  return text;
}

std::string verify_json(const VerifyStats& stats, const std::vector<DamageRecord>& damaged,
                        const std::vector<std::string>& changed, bool completeness_checked,
                        std::size_t metadata_collapsed, std::optional<bool> key_file_checked) {
  std::string changed_json = "[";
  for (const std::string& path : changed) {
    if (changed_json.size() > 1) changed_json += ",";
    changed_json += json_string(path);
  }
  changed_json += "]";
  return "{\"entries\":" + std::to_string(stats.entries) +
         ",\"files\":" + std::to_string(stats.files) +
         ",\"directories\":" + std::to_string(stats.directories) +
         ",\"symlinks\":" + std::to_string(stats.symlinks) +
         ",\"bytes\":" + std::to_string(stats.bytes) +
         ",\"damaged\":" + json_damage_array(damaged) +
         ",\"changed_during_backup\":" + changed_json +
         ",\"completeness_checked\":" + (completeness_checked ? "true" : "false") +
         (metadata_collapsed > 0
              ? ",\"metadata_not_compared\":" + std::to_string(metadata_collapsed)
              : std::string()) +
         (key_file_checked
              ? std::string(",\"key_file_checked\":") + (*key_file_checked ? "true" : "false")
              : std::string()) +
         "}";
}

CommandRunner add_verify(CLI::App& app) {
  struct State {
    CopyOptions copy;
    std::string cipher_dir;
    bool json = false;
    bool quiet = false;
    int progress = 0;  // --progress 1, --no-progress -1
  };
  auto state = std::make_shared<State>();
  CLI::App* command = app.add_subcommand(
      "verify",
      "Check every name, block, symlink, side file and directory manifest of a ciphertext copy "
      "without FUSE: missing, unexpected and retyped entries, and metadata that differs from the "
      "manifests. Prints a summary, one line per damaged entry and one per entry that changed "
      "while the backup read it. Exit 0: clean (changes during the backup are warnings); 8: "
      "damage found.");
  add_copy_options(*command, state->copy);
  command->add_flag("--json", state->json,
                    "Print one JSON object: entries, files, directories, symlinks, bytes and the "
                    "damaged entries (path, cipher_path, kind, block)");
  command->add_flag("-q,--quiet", state->quiet,
                    "Print nothing (not even progress unless --progress); the exit status tells");
  command->add_flag("--progress,!--no-progress", state->progress,
                    "Show progress on stderr (entries and bytes checked, rate, time left); "
                    "default: only when stderr is a terminal");
  command->add_option("CIPHERDIR", state->cipher_dir, "The ciphertext copy")->required();

  return [state]() -> int {
    const std::filesystem::path cipher_dir = state->cipher_dir;
    state->copy.keep_password = true;
    OpenedCopy copy = open_copy(cipher_dir, state->copy);

    DamageReport report;
    bool key_file_checked = false;
    const std::string key_file_note =
        check_copy_key_file(copy, state->copy, report, key_file_checked);
    copy.password = crypto::SecureBuffer();  // not needed any more
    fs::DecryptOptions view_options;
    view_options.names = copy.names;
    view_options.manifests = copy.manifests;
    const bool manifests = copy.manifests;
    view_options.compare_owners = ::geteuid() == 0;
    view_options.on_damage = report.sink();
    std::unique_ptr<fs::View> view =
        fs::make_decrypt_view(std::move(copy.root), copy.master, view_options);
    const bool show_progress =
        state->progress > 0 || (!state->quiet && progress_wanted(state->progress));
    TreeTotals totals;
    if (show_progress) {
      auto root = root_node(*view);
      if (root) add_tree_totals(*view, *root, totals);
    }
    ProgressBar progress(stderr, show_progress, totals.entries, totals.bytes);
    const VerifyStats stats = verify_view(*view, report, progress);
    view.reset();

    const std::size_t collapsed = report.collapse_metadata(stats.entries);
    const std::vector<DamageRecord> damaged = report.records();
    const std::vector<std::string> changed = report.changed_during_backup();
    if (state->json) {
      std::printf(
          "%s\n",
          verify_json(stats, damaged, changed, manifests, collapsed, key_file_checked).c_str());
    } else if (!state->quiet) {
      std::printf("%s\n", verify_summary(stats, damaged.size(), changed.size()).c_str());
      for (const DamageRecord& record : damaged) std::printf("%s\n", damage_line(record).c_str());
      for (const std::string& path : changed) {
        std::printf("changed during backup: %s\n", printable_path(path).c_str());
      }
      if (!manifests) std::printf("%s\n", kNoManifestsLine);
      if (!key_file_note.empty()) std::printf("%s\n", key_file_note.c_str());
      if (collapsed > 0) {
        std::printf("%s\n", metadata_collapsed_line(collapsed, stats.entries).c_str());
      }
    }
    std::fflush(stdout);
    return damaged.empty() ? util::kExitOk : util::kExitDamage;
  };
}

}  // namespace encfsr::cli
