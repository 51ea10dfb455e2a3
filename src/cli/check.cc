// src/cli/check.cc — `encfsr check CONFIG`: validates a configuration the way `mount` does
// (the same messages, exit 3) and shows what the view will contain, without mounting and
// without the password.
//
// Entry counts come from walking the --plain reverse view itself (tiers, exclusions,
// CACHEDIR.TAG, one_file_system and left-out types exactly as a mount applies them). What each
// exclusion pattern excludes comes from a second walk of the source directories that asks the
// same config::ExcludeRules which pattern decides about each entry; it does not descend into
// excluded directories, so a pattern is credited with the excluded entry, not its contents.
#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "config/exclude_rules.h"
#include "config/key_file.h"
#include "crypto/keys.h"
#include "src/cli/cli_error.h"
#include "src/cli/commands.h"
#include "src/cli/report.h"
#include "src/cli/tree_walk.h"
#include "src/fs/backing_io.h"
#include "src/fs/reverse_view.h"
#include "src/util/exit_codes.h"
#include "src/util/unique_fd.h"

namespace encfsr::cli {
namespace {


struct SourceCounts {
  std::uint64_t entries = 0;
  std::uint64_t files = 0;
  std::uint64_t directories = 0;
  std::uint64_t symlinks = 0;
  std::uint64_t bytes = 0;
  std::uint64_t unreadable = 0;  // entries the walk could not look up or list
};

// Counts the entries of the view per source (the first component of each path).
class ViewCounter : public TreeVisitor {
 public:
  bool enter_directory(const WalkNode& dir) override {
    if (dir.path.empty()) return true;
    if (dir.path.find('/') == std::string::npos) return true;  // a source's root
    SourceCounts& c = of(dir.path);
    ++c.entries;
    ++c.directories;
    return true;
  }
  void leave_directory(const WalkNode&) override {}
  void file(const WalkNode& node) override {
    SourceCounts& c = of(node.path);
    ++c.entries;
    ++c.files;
    c.bytes += static_cast<std::uint64_t>(std::max<off_t>(node.attr.st_size, 0));
  }
  void symlink(const WalkNode& node) override {
    SourceCounts& c = of(node.path);
    ++c.entries;
    ++c.symlinks;
  }
  void walk_error(std::string_view path, int) override { ++of(path).unreadable; }

  std::map<std::string, SourceCounts, std::less<>> counts;

 private:
  SourceCounts& of(std::string_view path) {
    const std::string_view source = path.substr(0, path.find('/'));
    auto it = counts.find(source);
    if (it == counts.end()) it = counts.emplace(std::string(source), SourceCounts{}).first;
    return it->second;
  }
};

// What the rules and checks of one source leave out, over all its tiers (a path present in two
// tiers counts once).
struct Exclusions {
  std::vector<std::set<std::string>> by_pattern;  // index: the source's exclude list
  std::set<std::string> caches;                   // directories with a valid CACHEDIR.TAG
  std::set<std::string> other_filesystems;        // directories on another filesystem
  std::set<std::string> other_types;              // sockets, FIFOs, devices
};

class ExclusionWalk {
 public:
  ExclusionWalk(const config::Source& source, bool one_file_system)
      : rules_(source.exclude), source_(source), one_file_system_(one_file_system) {
    found_.by_pattern.resize(source.exclude.size());
  }

  void walk_tier(const std::filesystem::path& root) {
    util::UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!fd) return;  // the view walk reports the source as unreadable
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return;
    dev_ = st.st_dev;
    walk_dir(fd.get(), "");
  }

  const Exclusions& found() const noexcept { return found_; }

 private:
  void walk_dir(int dir_fd, const std::string& rel_dir) {
    auto entries = fs::read_dir(dir_fd);
    if (!entries) return;
    for (const fs::RawEntry& entry : *entries) {
      const std::string rel = rel_dir.empty() ? entry.name : rel_dir + "/" + entry.name;
      const mode_t type = fs::entry_type(dir_fd, entry);
      if (type != S_IFDIR && type != S_IFREG && type != S_IFLNK) {
        found_.other_types.insert(rel);
        continue;
      }
      const auto pattern = rules_.deciding_pattern(rel, type == S_IFDIR);
      if (pattern) {
        found_.by_pattern[*pattern].insert(rel);
        if (rules_.excluded(rel, type == S_IFDIR)) continue;
      }
      if (type != S_IFDIR) continue;
      util::UniqueFd sub(
          ::openat(dir_fd, entry.name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) continue;
      if (one_file_system_) {
        struct stat st {};
        if (::fstat(sub.get(), &st) != 0 || st.st_dev != dev_) {
          found_.other_filesystems.insert(rel);
          continue;
        }
      }
      if (source_.exclude_caches) {
        if (fs::is_cache_directory(sub.get())) {
          found_.caches.insert(rel);
          continue;
        }
      }
      walk_dir(sub.get(), rel);
    }
  }

  config::ExcludeRules rules_;
  const config::Source& source_;
  bool one_file_system_;
  dev_t dev_ = 0;
  Exclusions found_;
};

std::string plural(std::uint64_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// A name or pattern in the output: in double quotes, control characters and backslashes as
// \xNN (printable_path).
std::string in_quotes(std::string_view text) { return "\"" + printable_path(text) + "\""; }

std::string password_source(const config::Config& config) {
  if (config.password_file)
    return "password_file " + printable_path(config.password_file->string());
  if (config.password_command) return "password_command (run at mount)";
  return "none in the config: asked at mount (a terminal is needed)";
}

int run_check(const std::string& config_path) {
  // ConfigError: every problem on its own line, exit 3 (main.cc), as for mount.
  const config::Config config = config::load_config(config_path);
  config::KeyFile key_file;
  try {
    key_file = config::read_key_file(config.key);
  } catch (const config::KeyFileError& e) {
    throw CliError(util::kExitKeyFile, std::string("key file ") + e.what());
  }
  if (config.password_file) {
    const util::UniqueFd fd(::open(config.password_file->c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) {
      throw CliError(util::kExitPassword, "password_file " + config.password_file->string() +
                                              " cannot be read: " + std::strerror(errno));
    }
  }

  fs::ReverseOptions options;
  options.plain = true;
  std::unique_ptr<fs::View> view;
  try {
    view = fs::make_reverse_view(config, crypto::MasterKey::zero(), std::move(options));
  } catch (const std::runtime_error& e) {
    throw CliError(util::kExitIo, e.what());
  }
  ViewCounter counter;
  auto root = root_node(*view);
  if (!root) throw CliError(util::kExitIo, "cannot read the root of the view");
  walk(*view, *root, counter, nullptr);

  std::printf("config %s: valid\n", printable_path(config.file.string()).c_str());
  std::printf("key file %s: argon2id, %" PRIu64 " passes, %" PRIu64 " MiB\n",
              printable_path(config.key.string()).c_str(), key_file.kdf.ops,
              key_file.kdf.mem / (std::uint64_t{1024} * 1024));
  std::printf("password: %s\n", password_source(config).c_str());
  std::printf("names: %s; key_in_view: %s; one_file_system: %s\n",
              config.names == crypto::NameEncoding::kBase32 ? "base32" : "base64url",
              config.key_in_view ? "yes" : "no", config.one_file_system ? "yes" : "no");

  SourceCounts total;
  for (const config::Source& source : config.sources) {
    auto it = counter.counts.find(source.name);
    const SourceCounts c = it == counter.counts.end() ? SourceCounts{} : it->second;
    total.entries += c.entries;
    total.bytes += c.bytes;
    std::printf("source %s: %s (%s, %s, %s), %" PRIu64 " bytes (%s)\n",
                in_quotes(source.name).c_str(), plural(c.entries, "entry", "entries").c_str(),
                plural(c.files, "file", "files").c_str(),
                plural(c.directories, "directory", "directories").c_str(),
                plural(c.symlinks, "symlink", "symlinks").c_str(), c.bytes,
                human_bytes(static_cast<double>(c.bytes)).c_str());
    for (std::size_t t = 0; t < source.paths.size(); ++t) {
      std::printf("  path %s%s\n", printable_path(source.paths[t].string()).c_str(),
                  source.paths.size() > 1 ? (" (tier " + std::to_string(t + 1) + ")").c_str() : "");
    }
    if (c.unreadable > 0) {
      std::printf("  unreadable: %s\n", plural(c.unreadable, "entry", "entries").c_str());
    }
    ExclusionWalk exclusions(source, config.one_file_system);
    for (const auto& path : source.paths) exclusions.walk_tier(path);
    const Exclusions& found = exclusions.found();
    for (std::size_t i = 0; i < source.exclude.size(); ++i) {
      const std::string& pattern = source.exclude[i];
      if (pattern.empty() || pattern[0] == '#' ||
          pattern.find_first_not_of(' ') == std::string::npos) {
        continue;  // a comment or a blank pattern: never decides
      }
      const std::uint64_t n = found.by_pattern[i].size();
      const bool keeps = !pattern.empty() && pattern[0] == '!';
      std::printf("  exclude %s: %s %s\n", in_quotes(pattern).c_str(), keeps ? "keeps" : "excludes",
                  plural(n, "entry", "entries").c_str());
    }
    if (source.exclude_caches) {
      std::printf("  exclude_caches: excludes %s\n",
                  plural(found.caches.size(), "directory", "directories").c_str());
    }
    if (config.one_file_system) {
      std::printf("  one_file_system: excludes %s\n",
                  plural(found.other_filesystems.size(), "directory", "directories").c_str());
    }
    if (!found.other_types.empty()) {
      std::printf("  left out: %s (sockets, FIFOs, devices)\n",
                  plural(found.other_types.size(), "entry", "entries").c_str());
    }
  }
  std::printf("total: %s, %" PRIu64 " bytes (%s)\n",
              plural(total.entries, "entry", "entries").c_str(), total.bytes,
              human_bytes(static_cast<double>(total.bytes)).c_str());
  std::fflush(stdout);
  return util::kExitOk;
}

}  // namespace

CommandRunner add_check(CLI::App& app) {
  auto config_path = std::make_shared<std::string>();
  CLI::App* command = app.add_subcommand(
      "check",
      "Validate CONFIG (the same messages and exit code 3 as mount) and its key file, and show "
      "what the view will contain: each source with its paths (tiers), how many entries it "
      "has, and how many entries each exclude pattern, exclude_caches and one_file_system "
      "leave out (an excluded directory counts once; its contents are not walked). Needs no "
      "password and mounts nothing.");
  command->add_option("CONFIG", *config_path, "configuration file")->required();
  return [config_path]() { return run_check(*config_path); };
}

}  // namespace encfsr::cli
