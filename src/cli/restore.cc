// src/cli/restore.cc — `encfsr restore [--key FILE] [key options] [--names ...] [--overwrite]
// [--salvage] CIPHERDIR [PATH...] DEST`: decrypts entries of a ciphertext copy into DEST
// without FUSE (see restore.h for the rules it keeps).
#include "src/cli/restore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <utility>
#include <vector>

#include "src/cli/cli_error.h"
#include "src/cli/commands.h"
#include "src/cli/copy_setup.h"
#include "src/cli/tree_walk.h"
#include "src/fs/decrypt_view.h"
#include "src/util/beneath.h"
#include "src/util/chunk_writer.h"
#include "src/util/exit_codes.h"
#include "src/util/signal_cleanup.h"
#include "src/util/unique_fd.h"
#include "src/util/write_all.h"

namespace encfsr::cli {
namespace {

constexpr std::size_t kChunkSize = std::size_t{1024} * 1024;
constexpr std::string_view kSalvageSuffix = ".damaged";

class Restorer : public TreeVisitor {
 public:
  Restorer(fs::View& view, DamageReport& report, int dest_fd, const RestoreOptions& options,
           ProgressBar& progress)
      : view_(view),
        report_(report),
        dest_fd_(dest_fd),
        options_(options),
        progress_(progress),
        as_root_(::geteuid() == 0),
        buffer_(kChunkSize) {}

  RestoreStats& stats() noexcept { return stats_; }

  // --- the walk ---

  bool enter_directory(const WalkNode& dir) override {
    if (dir.path.empty()) {  // the view's root is DEST itself
      const int fd = ::fcntl(dest_fd_, F_DUPFD_CLOEXEC, 0);
      if (fd < 0) {
        error(dir.path, "cannot open the destination", errno);
        return false;
      }
      dirs_.push_back({util::UniqueFd(fd), false, {}});
      return true;
    }
    bool created = false;
    progress_.update(++progress_entries_, progress_bytes_);
    util::UniqueFd fd = open_or_create_dir(current_dir(), dir.path, created);
    if (!fd) return false;
    ++stats_.directories;
    dirs_.push_back({std::move(fd), created, extra_of(dir)});
    return true;
  }

  void leave_directory(const WalkNode& dir) override {
    OpenDir top = std::move(dirs_.back());
    dirs_.pop_back();
    if (dir.path.empty()) return;
    if (top.created || options_.overwrite) {
      if (const int err = apply_attributes(top.fd.get(), dir, top.extra); err != 0) {
        error(dir.path, "cannot set mode, owner or times of", err);
      }
    }
  }

  void file(const WalkNode& node) override {
    const int dir = current_dir();
    const std::string name(base_name(node.path));
    const std::uint64_t entries_done = progress_entries_++;
    if (!options_.overwrite && exists(dir, name)) {
      report_exists(node.path);
      return;
    }
    const fs::ExtraAttrs extra = extra_of(node);
    if (extra.link_group != 0) {
      auto first = link_groups_.find(extra.link_group);
      // A link that cannot be made (a filesystem without hard links, the first member gone)
      // is reported, and the member is restored as a copy of its own: no content is lost.
      if (first != link_groups_.end() && link_to(first->second, dir, name, node.path)) return;
    }
    std::string temp;
    TempEntry registration;
    util::UniqueFd out;
    if (const int err = make_temp(
            dir, temp, registration,
            [&](const char* temp_name) {
              out.reset(::openat(dir, temp_name,
                                 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
              return out ? 0 : -1;
            });
        err != 0) {
      error(node.path, "cannot create a temporary file for", err);
      return;
    }
    // A file of more than one chunk is written by the writer's thread, one chunk behind the
    // reading, so that writing overlaps with opening the next chunk's blocks.
    const bool behind = node.attr.st_size > static_cast<off_t>(kChunkSize) && writer();
    ReadOutcome outcome = read_file(view_, node, buffer_, report_,
                                    options_.salvage ? OnDamage::kSalvage : OnDamage::kStop,
                                    [&](std::span<const std::uint8_t> data) {
                                      const int err = behind ? writer_->write(out.get(), data)
                                                             : util::write_all(out.get(), data);
                                      progress_bytes_ += data.size();
                                      progress_.update(entries_done, progress_bytes_);
                                      return err;
                                    });
    if (behind) {
      const int err = writer_->finish();
      if (outcome.consumer_error == 0) outcome.consumer_error = err;
    }
    const bool damaged = outcome.damaged || report_.damaged_since(node.damage_mark, node.path);
    if (outcome.consumer_error != 0) {
      ::unlinkat(dir, temp.c_str(), 0);
      error(node.path, "cannot write", outcome.consumer_error);
      return;
    }
    if (damaged && !options_.salvage) {
      ::unlinkat(dir, temp.c_str(), 0);
      return;
    }
    std::string final_name = name;
    if (damaged) final_name += kSalvageSuffix;
    int err = apply_attributes(out.get(), node, extra);
    struct stat written {};
    if (err == 0 && ::fstat(out.get(), &written) != 0) err = errno;
    if (err == 0 && ::close(out.release()) != 0) err = errno;
    if (err != 0) {
      ::unlinkat(dir, temp.c_str(), 0);
      error(node.path, "cannot write", err);
      return;
    }
    if (!commit(dir, temp, final_name,
                damaged ? node.path + std::string(kSalvageSuffix) : node.path)) {
      return;
    }
    if (damaged) {
      ++stats_.salvaged;
    } else {
      ++stats_.files;
      stats_.bytes += outcome.bytes;
      if (extra.link_group != 0) {
        link_groups_.emplace(extra.link_group, LinkTarget{node.path, written});
      }
    }
    progress_.update(progress_entries_, progress_bytes_);
  }

  void symlink(const WalkNode& node) override {
    progress_.update(++progress_entries_, progress_bytes_);
    const int dir = current_dir();
    const std::string name(base_name(node.path));
    if (!options_.overwrite && exists(dir, name)) {
      report_exists(node.path);
      return;
    }
    auto target = view_.readlink(node.ino);
    if (!target) {
      if (!report_.has_damage(node.path)) {
        DamageRecord damage;
        damage.kind = target.error() == EIO ? "link" : "unreadable";
        damage.path = node.path;
        report_.add(std::move(damage));
      }
      return;
    }
    std::string temp;
    TempEntry registration;
    if (const int err = make_temp(
            dir, temp, registration,
            [&](const char* temp_name) { return ::symlinkat(target->c_str(), dir, temp_name); });
        err != 0) {
      error(node.path, "cannot create symlink", err);
      return;
    }
    int err = 0;
    if (chown_wanted() && ::fchownat(dir, temp.c_str(), node.attr.st_uid, node.attr.st_gid,
                                     AT_SYMLINK_NOFOLLOW) != 0) {
      err = errno;
    }
    const fs::ExtraAttrs extra = extra_of(node);
    if (!extra.authenticated) ++stats_.unauthenticated;
    if (err == 0) {
      const std::string path = "/proc/self/fd/" + std::to_string(dir) + "/" + temp;
      err = set_xattrs(node.path, extra, [&](const crypto::Xattr& x) {
        return ::lsetxattr(path.c_str(), x.name.c_str(), x.value.data(), x.value.size(), 0);
      });
    }
    const struct timespec times[2] = {node.attr.st_atim, node.attr.st_mtim};
    if (err == 0 && ::utimensat(dir, temp.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) err = errno;
    if (err != 0) {
      ::unlinkat(dir, temp.c_str(), 0);
      error(node.path, "cannot set owner or times of symlink", err);
      return;
    }
    if (commit(dir, temp, name, node.path)) ++stats_.symlinks;
  }

  void walk_error(std::string_view path, int err) override {
    // The view reports what it finds through the sink; make sure the entry is listed even if
    // it did not.
    if (report_.has_damage(path)) return;
    DamageRecord damage;
    damage.kind = "unreadable";
    damage.path = std::string(path);
    report_.add(std::move(damage));
    (void)err;
  }

  // --- ancestors of a PATH argument ---

  // Opens (creating if needed) DEST/<dir.path> as the next directory of the walk; a created one
  // is remembered so that its attributes are set at the end. False on failure (reported).
  bool push_ancestor(const WalkNode& dir) {
    bool created = false;
    util::UniqueFd fd = open_or_create_dir(current_dir(), dir.path, created);
    if (!fd) return false;
    if (created) {
      ++stats_.directories;
      deferred_.emplace_back(dir, extra_of(dir));
    }
    dirs_.push_back({std::move(fd), false, {}});
    return true;
  }
  void pop_ancestors() { dirs_.clear(); }

  // Sets the attributes of the created ancestors, deepest first.
  void finish_ancestors() {
    using Deferred = std::pair<WalkNode, fs::ExtraAttrs>;
    std::stable_sort(deferred_.begin(), deferred_.end(), [](const Deferred& a, const Deferred& b) {
      return std::count(a.first.path.begin(), a.first.path.end(), '/') >
             std::count(b.first.path.begin(), b.first.path.end(), '/');
    });
    for (const auto& [dir, extra] : deferred_) {
      // Walked again from DEST one component at a time: a symlink put in the place of any
      // ancestor meanwhile is not followed.
      auto fd = util::open_dir_beneath(dest_fd_, dir.path);
      const int err = fd ? apply_attributes(fd->get(), dir, extra) : fd.error();
      if (err != 0) error(dir.path, "cannot set mode, owner or times of", err);
    }
    deferred_.clear();
  }

  void message(const std::string& line) {
    progress_.clear();
    std::fprintf(options_.messages, "%s\n", line.c_str());
  }

 private:
  // The writer of large files, started at the first one; false (files are then written by the
  // walking thread) when no thread can be made.
  bool writer() {
    if (!writer_ && !writer_failed_) {
      try {
        writer_.emplace();
      } catch (const std::system_error&) {
        writer_failed_ = true;
      }
    }
    return writer_.has_value();
  }

  struct OpenDir {
    util::UniqueFd fd;
    bool created = false;
    fs::ExtraAttrs extra;
  };
  // The first restored member of a hard-link group: its path under DEST and its fstat once
  // restored (device, inode, size and mtime identify it: an inode number alone may be reused
  // by a file made after the restored one was removed).
  struct LinkTarget {
    std::string path;
    struct stat st {};
    bool same_file(const struct stat& other) const noexcept {
      return other.st_dev == st.st_dev && other.st_ino == st.st_ino &&
             other.st_size == st.st_size && other.st_mtim.tv_sec == st.st_mtim.tv_sec &&
             other.st_mtim.tv_nsec == st.st_mtim.tv_nsec && S_ISREG(other.st_mode);
    }
  };

  bool chown_wanted() const { return as_root_ && options_.same_owner; }

  // The entry's hard-link group and xattrs (none if the view cannot say).
  fs::ExtraAttrs extra_of(const WalkNode& node) {
    auto extra = view_.extra_attrs(node.ino);
    return extra ? std::move(*extra) : fs::ExtraAttrs{};
  }

  // Sets xattrs with `set` (0 or -1 and errno). A restore that is not root may not set trusted.*
  // or security.* xattrs: those are counted, not errors. Returns 0 or the first other errno.
  template <typename Set>
  int set_xattrs(const std::string& path, const fs::ExtraAttrs& extra, Set&& set) {
    for (const crypto::Xattr& x : extra.xattrs) {
      if (set(x) == 0) continue;
      const int err = errno;
      if (!as_root_ && (err == EPERM || err == EACCES) && x.name.rfind("user.", 0) != 0) {
        ++stats_.xattrs_skipped;
        continue;
      }
      error(path, ("cannot set xattr " + x.name + " of").c_str(), err);
    }
    return 0;
  }

  // Makes `name` in directory `dir` a hard link to the group's first member (restored
  // earlier). Its directory is walked from DEST one component at a time (no symlink followed),
  // and the new link must be the very file restored then (LinkTarget::same_file), not whatever
  // was put under its name meanwhile. False, with an error reported, when no link was made (the
  // caller then restores the member's own content).
  bool link_to(const LinkTarget& first, int dir, const std::string& name, const std::string& path) {
    const auto no_link = [&](const std::string& why) {
      failed(path, "cannot create hard link", why + "; restored as a separate copy");
      return false;
    };
    auto first_dir = util::open_dir_beneath(dest_fd_, util::parent_path_of(first.path));
    if (!first_dir) {
      return no_link("the directory of " + printable_path(first.path) + ": " +
                     std::strerror(first_dir.error()));
    }
    const std::string first_name(base_name(first.path));
    std::string temp;
    TempEntry registration;
    if (const int err = make_temp(dir, temp, registration,
                                  [&](const char* temp_name) {
                                    return ::linkat(first_dir->get(), first_name.c_str(), dir,
                                                    temp_name, 0);
                                  });
        err != 0) {
      return no_link(std::strerror(err));
    }
    struct stat linked {};
    if (::fstatat(dir, temp.c_str(), &linked, AT_SYMLINK_NOFOLLOW) != 0 ||
        !first.same_file(linked)) {
      ::unlinkat(dir, temp.c_str(), 0);
      return no_link(printable_path(first.path) + " was replaced since it was restored");
    }
    progress_.update(progress_entries_, progress_bytes_);
    if (commit(dir, temp, name, path)) ++stats_.links;
    return true;
  }

  int current_dir() const { return dirs_.empty() ? dest_fd_ : dirs_.back().fd.get(); }

  util::UniqueFd open_or_create_dir(int parent, const std::string& path, bool& created) {
    const std::string name(base_name(path));
    created = false;
    if (::mkdirat(parent, name.c_str(), 0700) == 0) {
      created = true;
    } else if (errno != EEXIST) {
      error(path, "cannot create directory", errno);
      return {};
    }
    util::UniqueFd fd(
        ::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd) {
      if (errno == ENOTDIR || errno == ELOOP) {
        // Something that is not a directory is in the way; a symlink is never followed.
        struct stat st {};
        const bool link =
            ::fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode);
        report_exists(path, link ? " (a symlink, not followed)" : " (not a directory)");
      } else {
        error(path, "cannot open directory", errno);
      }
    }
    return fd;
  }

  static bool exists(int dir, const std::string& name) {
    struct stat st {};
    return ::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
  }

  std::string next_temp_name() {
    return ".encfsr-restore." + std::to_string(::getpid()) + "." + std::to_string(temp_counter_++);
  }

  // A temporary entry's registration for removal on SIGINT/SIGTERM/SIGHUP (util::SignalCleanup).
  using TempEntry = std::optional<util::TempRegistration>;

  // Creates a temporary entry in `dir` with make(name) (0, or -1 and errno), under a fresh name
  // while one exists (EEXIST). The name is registered before the entry is created (a signal in
  // between finds nothing to remove) and stays registered while `registration` lives: until
  // the entry has been renamed into place or removed. Returns 0 or the errno.
  template <typename Make>
  int make_temp(int dir, std::string& temp, TempEntry& registration, Make&& make) {
    for (int attempt = 0;; ++attempt) {
      temp = next_temp_name();
      registration.reset();
      registration.emplace(dir, temp);
      if (make(temp.c_str()) == 0) return 0;
      const int err = errno;
      registration.reset();
      if (err != EEXIST || attempt >= 100) return err;
    }
  }

  // Owner (as root), mode, xattrs and times, in that order: chown clears setuid bits and file
  // capabilities, so mode and xattrs come after it. 0 or an errno. Without an authenticated
  // record the view's mode has no setuid, setgid or sticky bit (so whoever holds the storage
  // cannot plant a setuid-root file); such entries are counted for the summary.
  int apply_attributes(int fd, const WalkNode& node, const fs::ExtraAttrs& extra) {
    const struct stat& attr = node.attr;
    if (chown_wanted() && ::fchown(fd, attr.st_uid, attr.st_gid) != 0) return errno;
    if (!extra.authenticated) ++stats_.unauthenticated;
    mode_t mode = attr.st_mode & (extra.authenticated ? 07777 : 0777);
    if (!chown_wanted() && (mode & (S_ISUID | S_ISGID)) != 0) {
      // Not restoring owners: a setuid (setgid) bit must not be given to another owner (group)
      // than the recorded one, such as root's restore with --no-same-owner.
      struct stat now {};
      if (::fstat(fd, &now) != 0) return errno;
      const mode_t before = mode;
      if (now.st_uid != attr.st_uid) mode &= ~static_cast<mode_t>(S_ISUID);
      if (now.st_gid != attr.st_gid) mode &= ~static_cast<mode_t>(S_ISGID);
      if (mode != before) ++stats_.owner_bits_dropped;
    }
    if (::fchmod(fd, mode) != 0) return errno;
    set_xattrs(node.path, extra, [&](const crypto::Xattr& x) {
      return ::fsetxattr(fd, x.name.c_str(), x.value.data(), x.value.size(), 0);
    });
    const struct timespec times[2] = {attr.st_atim, attr.st_mtim};
    if (::futimens(fd, times) != 0) return errno;
    return 0;
  }

  // Renames temp to name in dir (never replacing unless --overwrite). False on failure
  // (reported; temp removed).
  bool commit(int dir, const std::string& temp, const std::string& name, const std::string& path) {
    int rc = 0;
    if (options_.overwrite) {
      rc = ::renameat(dir, temp.c_str(), dir, name.c_str());
    } else {
      rc = ::renameat2(dir, temp.c_str(), dir, name.c_str(), RENAME_NOREPLACE);
      if (rc != 0 && (errno == EINVAL || errno == ENOSYS)) {
        // A filesystem without RENAME_NOREPLACE: link() never replaces either.
        rc = ::linkat(dir, temp.c_str(), dir, name.c_str(), 0);
        if (rc == 0) ::unlinkat(dir, temp.c_str(), 0);
      }
    }
    if (rc == 0) return true;
    const int err = errno;
    ::unlinkat(dir, temp.c_str(), 0);
    if (err == EEXIST) {
      report_exists(path);
    } else {
      error(path, "cannot rename into place", err);
    }
    return false;
  }

  void report_exists(const std::string& path, const char* detail = "") {
    ++stats_.errors;
    message("exists: " + printable_path(path) + detail);
  }

  void error(std::string_view path, const char* what, int err) {
    failed(path, what, std::strerror(err));
  }
  // "encfsr: error: WHAT PATH: WHY"
  void failed(std::string_view path, const char* what, const std::string& why) {
    ++stats_.errors;
    message("encfsr: error: " + std::string(what) + " " +
            printable_path(path.empty() ? std::string_view(".") : path) + ": " + why);
  }

  fs::View& view_;
  DamageReport& report_;
  int dest_fd_;
  const RestoreOptions& options_;
  ProgressBar& progress_;
  bool as_root_;
  std::vector<std::uint8_t> buffer_;
  std::optional<util::ChunkWriter> writer_;
  bool writer_failed_ = false;
  std::vector<OpenDir> dirs_;
  std::vector<std::pair<WalkNode, fs::ExtraAttrs>> deferred_;
  std::unordered_map<std::uint64_t, LinkTarget> link_groups_;  // group -> first restored member
  std::uint64_t temp_counter_ = 0;
  std::uint64_t progress_bytes_ = 0;
  std::uint64_t progress_entries_ = 0;
  RestoreStats stats_;
};

// The PATH arguments split into components; nullopt-like empty optional for a refused path.
struct Target {
  std::string text;
  std::vector<std::string> components;  // empty = everything
  bool valid = true;
};

}  // namespace

RestoreStats restore_view(fs::View& view, DamageReport& report,
                          const std::vector<std::string>& paths, int dest_fd,
                          const RestoreOptions& options) {
  std::vector<Target> targets;
  if (paths.empty()) targets.push_back({"", {}, true});
  for (const std::string& path : paths) {
    Target target{path, {}, true};
    target.valid = split_view_path(path, target.components);
    targets.push_back(std::move(target));
  }

  TreeTotals totals;
  if (options.progress) {
    for (const Target& target : targets) {
      if (!target.valid) continue;
      if (target.components.empty()) {
        auto root = root_node(view);
        if (root) add_tree_totals(view, *root, totals);
        continue;
      }
      auto resolved = resolve(view, target.components, nullptr);
      if (resolved) add_tree_totals(view, resolved->chain().back(), totals);
    }
  }

  ProgressBar progress(options.messages, options.progress, totals.entries, totals.bytes);
  Restorer restorer(view, report, dest_fd, options, progress);
  for (const Target& target : targets) {
    if (!target.valid) {
      ++restorer.stats().missing;
      restorer.message("encfsr: error: no such entry in the copy: " + printable_path(target.text));
      continue;
    }
    if (target.components.empty()) {
      auto root = root_node(view);
      if (!root) {
        ++restorer.stats().errors;
        restorer.message(std::string("encfsr: error: cannot read the root of the copy: ") +
                         std::strerror(root.error()));
        continue;
      }
      walk(view, *root, restorer, &report);
      continue;
    }
    auto resolved = resolve(view, target.components, &report);
    if (!resolved) {
      ++restorer.stats().missing;
      std::string line = "encfsr: error: no such entry in the copy: " + printable_path(target.text);
      if (resolved.error() != ENOENT)
        line += std::string(" (") + std::strerror(resolved.error()) + ")";
      restorer.message(line);
      continue;
    }
    const std::vector<WalkNode>& chain = resolved->chain();
    bool ancestors_ok = true;
    for (std::size_t i = 0; i + 1 < chain.size() && ancestors_ok; ++i) {
      ancestors_ok = restorer.push_ancestor(chain[i]);
    }
    if (ancestors_ok) walk(view, chain.back(), restorer, &report);
    restorer.pop_ancestors();
  }
  restorer.finish_ancestors();
  progress.finish();
  return restorer.stats();
}

std::string restore_summary(const RestoreStats& stats, double seconds, std::size_t damaged) {
  char text[256];
  std::snprintf(text, sizeof text,
                "restored %" PRIu64 " files, %" PRIu64 " directories, %" PRIu64
                " symlinks, %" PRIu64 " bytes in %.1f s; %zu damaged, %" PRIu64 " errors",
                stats.files, stats.directories, stats.symlinks, stats.bytes, seconds, damaged,
                stats.errors + stats.missing);
  std::string summary = text;
  if (stats.links > 0) summary += "; " + std::to_string(stats.links) + " hard links";
  if (stats.salvaged > 0) {
    summary +=
        "; " + std::to_string(stats.salvaged) + " salvaged as *" + std::string(kSalvageSuffix);
  }
  if (stats.unauthenticated > 0) {
    summary += "; " + std::to_string(stats.unauthenticated) +
               " entries without an authenticated manifest record: their setuid, setgid and "
               "sticky bits were not restored";
  }
  if (stats.owner_bits_dropped > 0) {
    summary += "; setuid/setgid bits of " + std::to_string(stats.owner_bits_dropped) +
               " entries dropped (their owner or group was not restored)";
  }
  if (stats.xattrs_skipped > 0) {
    summary += "; " + std::to_string(stats.xattrs_skipped) +
               " trusted/security xattrs not set (restore as root to set them)";
  }
  return summary;
}

CommandRunner add_restore(CLI::App& app) {
  struct State {
    CopyOptions copy;
    std::vector<std::string> args;
    bool overwrite = false;
    bool salvage = false;
    bool no_same_owner = false;
    int progress = 0;  // --progress 1, --no-progress -1
  };
  auto state = std::make_shared<State>();
  CLI::App* command = app.add_subcommand(
      "restore",
      "Decrypt entries of a ciphertext copy into DEST without FUSE, keeping modes, times and "
      "symlinks. PATH is a plaintext path inside the view (\"home/a/b.txt\"; the first component "
      "is the source name); none restores everything. Entries land under DEST with their view "
      "paths. Exit 0: clean; 8: damaged entries were left out (the rest was restored); 9: "
      "errors at DEST (a full disk included), existing entries, or a PATH not in the copy; "
      "130/143/129: interrupted by SIGINT/SIGTERM/SIGHUP (the file being written is removed; "
      "no file is ever left partly written under its name).");
  add_copy_options(*command, state->copy);
  command->add_flag("--overwrite", state->overwrite,
                    "Replace existing files and symlinks in DEST (default: list them as "
                    "\"exists: PATH\" and leave them)");
  command->add_flag("--salvage", state->salvage,
                    "Also write damaged files, as NAME.damaged, with their bad 4 KiB blocks "
                    "zero-filled");
  command->add_flag("--no-same-owner", state->no_same_owner,
                    "As root, leave restored entries owned by root instead of giving them the "
                    "owners recorded in the copy (as tar's option of that name)");
  command->add_flag("--progress,!--no-progress", state->progress,
                    "Show progress on stderr (entries and bytes done, rate, time left); default: "
                    "only when stderr is a terminal");
  command
      ->add_option("CIPHERDIR PATH... DEST", state->args,
                   "The ciphertext copy, the plaintext view paths to restore (optional), and the "
                   "destination directory (created if missing)")
      ->required()
      ->expected(2, -1)
      ->type_name("");

  return [state]() -> int {
    const auto started = std::chrono::steady_clock::now();
    const std::vector<std::string>& args = state->args;
    if (args.size() < 2) throw CliError(util::kExitUsage, "restore needs CIPHERDIR and DEST");
    const std::filesystem::path cipher_dir = args.front();
    const std::filesystem::path dest = args.back();
    const std::vector<std::string> paths(args.begin() + 1, args.end() - 1);

    OpenedCopy copy = open_copy(cipher_dir, state->copy);

    std::error_code ec;
    std::filesystem::create_directories(dest, ec);
    if (ec) throw CliError(util::kExitIo, "cannot create " + dest.string() + ": " + ec.message());
    util::UniqueFd dest_fd(::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dest_fd) {
      throw CliError(util::kExitIo, "cannot open " + dest.string() + ": " + std::strerror(errno));
    }

    DamageReport report;
    fs::DecryptOptions view_options;
    view_options.names = copy.names;
    view_options.manifests = copy.manifests;
    view_options.compare_owners = ::geteuid() == 0;
    view_options.on_damage = report.sink();
    view_options.lenient_sizes = state->salvage;
    std::unique_ptr<fs::View> view =
        fs::make_decrypt_view(std::move(copy.root), copy.master, view_options);

    RestoreOptions options;
    options.overwrite = state->overwrite;
    options.salvage = state->salvage;
    options.same_owner = !state->no_same_owner;
    options.progress = progress_wanted(state->progress);
    options.messages = stderr;
    RestoreStats stats;
    {
      // SIGINT, SIGTERM or SIGHUP: the temporary file being written is removed, exit 128 + N.
      const util::SignalCleanup remove_temporaries_on_signal;
      stats = restore_view(*view, report, paths, dest_fd.get(), options);
    }
    view.reset();

    const std::uint64_t entries =
        stats.files + stats.directories + stats.symlinks + stats.links + stats.salvaged;
    const std::size_t collapsed = report.collapse_metadata(entries);
    const std::vector<DamageRecord> damaged = report.records();
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::fprintf(stderr, "%s\n", restore_summary(stats, seconds, damaged.size()).c_str());
    for (const DamageRecord& record : damaged)
      std::fprintf(stderr, "%s\n", damage_line(record).c_str());
    if (collapsed > 0) {
      std::fprintf(stderr, "%s\n", metadata_collapsed_line(collapsed, entries).c_str());
    }
    if (stats.errors + stats.missing > 0) return util::kExitIo;
    if (!damaged.empty()) return util::kExitDamage;
    return util::kExitOk;
  };
}

}  // namespace encfsr::cli
