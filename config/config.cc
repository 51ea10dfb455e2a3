// config/config.cc — load_config: reads the YAML configuration with yaml-cpp, validates every
// key, path and cross-source rule, and reports all problems at once as
// "FILE:LINE:COL: KEY: message" lines (ConfigError).
#include "config/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <initializer_list>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "config/exclude_rules.h"
#include "src/util/unique_fd.h"

namespace encfsr::config {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kMaxConfigBytes = std::size_t{1024} * 1024;
constexpr double kMaxTimeout = 86400.0;
constexpr long long kMaxThreads = 64;

struct Problem {
  int line = 0;  // 1-based; 0 for problems of the whole file without a position
  int column = 0;
  std::string text;
};

// One known key of a map and its value.
struct Entry {
  YAML::Mark key_mark;
  YAML::Node value;
};
using Entries = std::map<std::string, Entry, std::less<>>;

// A source directory (one tier) that passed its own checks, for the overlap check.
struct Tier {
  std::string key;  // e.g. "sources[2].paths[1]"
  YAML::Mark mark;
  fs::path canonical;
};

std::string errno_text(int err) { return std::strerror(err); }

bool is_within(const fs::path& child, const fs::path& parent) {
  auto c = child.begin();
  for (auto p = parent.begin(); p != parent.end(); ++p, ++c) {
    if (p->empty()) continue;  // a trailing separator
    if (c == child.end() || *c != *p) return false;
  }
  return true;
}

class Loader {
 public:
  Loader(std::string display, fs::path absolute)
      : display_(std::move(display)), file_(std::move(absolute)) {}

  [[nodiscard]] const std::vector<Problem>& problems() const { return problems_; }

  void file_problem(const std::string& message) {
    problems_.push_back({0, 0, display_ + ": " + message});
  }

  void syntax_problem(const YAML::Mark& mark, const std::string& message) {
    if (mark.is_null()) {
      file_problem("syntax error: " + message);
      return;
    }
    problems_.push_back({mark.line + 1, mark.column + 1,
                         display_ + ":" + std::to_string(mark.line + 1) + ":" +
                             std::to_string(mark.column + 1) + ": syntax error: " + message});
  }

  Config load(const YAML::Node& root) {
    Config config;
    config.file = file_;
    const YAML::Mark root_mark = position(root, YAML::Mark());
    if (!root.IsMap()) {
      add(root_mark, "",
          root.IsNull() ? "the file is empty (expected a map of keys)"
                        : "the top level must be a map of keys");
      return config;
    }
    Entries entries =
        read_map(root, "",
                 {"key", "password_file", "password_command", "password_command_timeout", "names",
                  "sources", "one_file_system", "key_in_view", "manifests", "mount"});

    if (const Entry* e = find(entries, "key")) {
      if (auto text = string_value(*e, "key")) {
        if (text->empty()) {
          add(position(e->value, e->key_mark), "key", "must not be empty");
        } else {
          config.key = resolve(*text);
          check_key_file(config.key, position(e->value, e->key_mark));
        }
      }
    } else {
      add(root_mark, "key", "missing required key");
    }

    const Entry* password_file = find(entries, "password_file");
    const Entry* password_command = find(entries, "password_command");
    if (password_file) {
      if (auto text = string_value(*password_file, "password_file")) {
        if (text->empty()) {
          add(position(password_file->value, password_file->key_mark), "password_file",
              "must not be empty");
        } else {
          config.password_file = resolve(*text);
          check_password_file(*config.password_file,
                              position(password_file->value, password_file->key_mark));
        }
      }
    }
    if (password_command) {
      if (auto text = string_value(*password_command, "password_command")) {
        if (text->empty()) {
          add(position(password_command->value, password_command->key_mark), "password_command",
              "must not be empty");
        } else {
          config.password_command = *text;
        }
      }
    }
    if (const Entry* e = find(entries, "password_command_timeout")) {
      timeout_value(*e, "password_command_timeout", config.password_command_timeout);
      if (config.password_command_timeout <= 0) {
        add(position(e->value, e->key_mark), "password_command_timeout",
            "must be more than 0 seconds");
      }
    }
    if (password_file && password_command) {
      const Entry* later = before(password_file->key_mark, password_command->key_mark)
                               ? password_command
                               : password_file;
      add(later->key_mark, later == password_command ? "password_command" : "password_file",
          "password_file and password_command exclude each other (give one)");
    }

    if (const Entry* e = find(entries, "names")) {
      if (auto text = string_value(*e, "names")) {
        if (*text == "base64url") {
          config.names = crypto::NameEncoding::kBase64Url;
        } else if (*text == "base32") {
          config.names = crypto::NameEncoding::kBase32;
        } else {
          add(position(e->value, e->key_mark), "names", "expected base64url or base32");
        }
      }
    }

    if (const Entry* e = find(entries, "sources")) {
      load_sources(*e, config);
    } else {
      add(root_mark, "sources", "missing required key");
    }

    if (const Entry* e = find(entries, "one_file_system")) {
      bool_value(*e, "one_file_system", config.one_file_system);
    }
    if (const Entry* e = find(entries, "key_in_view")) {
      bool_value(*e, "key_in_view", config.key_in_view);
    }
    if (const Entry* e = find(entries, "manifests")) {
      bool_value(*e, "manifests", config.manifests);
    }
    if (const Entry* e = find(entries, "mount")) load_mount(*e, config.mount);
    return config;
  }

 private:
  static YAML::Mark position(const YAML::Node& node, const YAML::Mark& fallback) {
    YAML::Mark mark = node.Mark();
    if (mark.is_null() || mark.line < 0 || mark.column < 0) return fallback;
    return mark;
  }

  static bool before(const YAML::Mark& a, const YAML::Mark& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  }

  static const Entry* find(const Entries& entries, std::string_view key) {
    auto it = entries.find(key);
    return it == entries.end() ? nullptr : &it->second;
  }

  void add(const YAML::Mark& mark, const std::string& key, const std::string& message) {
    const int line = mark.is_null() ? 1 : mark.line + 1;
    const int column = mark.is_null() ? 1 : mark.column + 1;
    std::string text = display_ + ":" + std::to_string(line) + ":" + std::to_string(column) + ": ";
    if (!key.empty()) text += key + ": ";
    text += message;
    problems_.push_back({line, column, std::move(text)});
  }

  // The known keys of a map; reports unknown, duplicate and non-string keys.
  Entries read_map(const YAML::Node& map, const std::string& prefix,
                   std::initializer_list<std::string_view> known) {
    Entries entries;
    for (auto it = map.begin(); it != map.end(); ++it) {
      const YAML::Node key = it->first;  // a copy: `it->` yields a temporary
      const YAML::Mark key_mark = position(key, position(map, YAML::Mark()));
      if (!key.IsScalar()) {
        add(key_mark, prefix.empty() ? std::string("(key)") : prefix + "(key)",
            "expected a plain key name");
        continue;
      }
      const std::string& name = key.Scalar();
      std::string path = prefix;
      if (!path.empty()) path += '.';
      path += name;
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        add(key_mark, path, "unknown key");
        continue;
      }
      if (entries.count(name) != 0) {
        add(key_mark, path, "duplicate key");
        continue;
      }
      entries.emplace(name, Entry{key_mark, it->second});
    }
    return entries;
  }

  std::optional<std::string> string_value(const Entry& entry, const std::string& key) {
    if (!entry.value.IsScalar()) {
      add(position(entry.value, entry.key_mark), key, "expected a string");
      return std::nullopt;
    }
    return entry.value.Scalar();
  }

  void bool_value(const Entry& entry, const std::string& key, bool& out) {
    if (entry.value.IsScalar()) {
      const std::string& text = entry.value.Scalar();
      if (text == "true" || text == "True" || text == "TRUE") {
        out = true;
        return;
      }
      if (text == "false" || text == "False" || text == "FALSE") {
        out = false;
        return;
      }
    }
    add(position(entry.value, entry.key_mark), key, "expected a boolean (true or false)");
  }

  void timeout_value(const Entry& entry, const std::string& key, double& out) {
    const YAML::Mark mark = position(entry.value, entry.key_mark);
    double value = 0;
    bool parsed = false;
    if (entry.value.IsScalar()) {
      const std::string& text = entry.value.Scalar();
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      parsed = ec == std::errc() && end == text.data() + text.size() && !text.empty() &&
               std::isfinite(value);
    }
    if (!parsed) {
      add(mark, key, "expected a number of seconds");
    } else if (value < 0 || value > kMaxTimeout) {
      add(mark, key, "must be between 0 and 86400 seconds");
    } else {
      out = value;
    }
  }

  void threads_value(const Entry& entry, const std::string& key, unsigned& out) {
    const YAML::Mark mark = position(entry.value, entry.key_mark);
    long long value = 0;
    bool parsed = false;
    if (entry.value.IsScalar()) {
      const std::string& text = entry.value.Scalar();
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      parsed = ec == std::errc() && end == text.data() + text.size() && !text.empty();
    }
    if (!parsed) {
      add(mark, key, "expected an integer");
    } else if (value < 0 || value > kMaxThreads) {
      add(mark, key, "must be between 0 and 64");
    } else {
      out = static_cast<unsigned>(value);
    }
  }

  // Relative paths resolve against the configuration file's directory.
  [[nodiscard]] fs::path resolve(const std::string& text) const {
    fs::path path(text);
    if (path.is_relative()) path = file_.parent_path() / path;
    return path.lexically_normal();
  }

  void check_key_file(const fs::path& key, const YAML::Mark& mark) {
    const std::string name = key.string();
    struct stat st {};
    if (::stat(key.c_str(), &st) != 0) {
      const int err = errno;
      if (err == ENOENT) {
        add(mark, "key",
            "key file " + name + " does not exist (create it with encfsr init --key " + name + ")");
      } else {
        add(mark, "key", "cannot access key file " + name + ": " + errno_text(err));
      }
      return;
    }
    if (!S_ISREG(st.st_mode)) {
      add(mark, "key", "key file " + name + " is not a regular file");
      return;
    }
    if ((st.st_mode & 077) != 0) {
      add(mark, "key", "key file " + name + " is accessible by group or others (chmod 600 it)");
      return;
    }
    util::UniqueFd fd(::open(key.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (!fd) add(mark, "key", "cannot read key file " + name + ": " + errno_text(errno));
  }

  void check_password_file(const fs::path& file, const YAML::Mark& mark) {
    const std::string name = file.string();
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) {
      add(mark, "password_file", "cannot read password file " + name + ": " + errno_text(errno));
      return;
    }
    if (S_ISDIR(st.st_mode)) {
      add(mark, "password_file", "password file " + name + " is a directory");
      return;
    }
    util::UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK));
    if (!fd) {
      add(mark, "password_file", "cannot read password file " + name + ": " + errno_text(errno));
    }
  }

  // Checks one source directory; returns its canonical path if it is usable.
  std::optional<fs::path> check_source_dir(const Entry& entry, const YAML::Node& node,
                                           const std::string& key) {
    const YAML::Mark mark = position(node, entry.key_mark);
    if (!node.IsScalar()) {
      add(mark, key, "expected a string (an absolute path)");
      return std::nullopt;
    }
    const std::string& text = node.Scalar();
    const fs::path path(text);
    if (!path.is_absolute()) {
      add(mark, key, "'" + text + "' is not an absolute path (source paths must be absolute)");
      return std::nullopt;
    }
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      const int err = errno;
      if (err == ENOENT) {
        add(mark, key, text + " does not exist");
      } else {
        add(mark, key, "cannot access " + text + ": " + errno_text(err));
      }
      return std::nullopt;
    }
    if (!S_ISDIR(st.st_mode)) {
      add(mark, key, text + " is not a directory");
      return std::nullopt;
    }
    std::error_code ec;
    fs::path canonical = fs::canonical(path, ec);
    if (ec) {
      add(mark, key, "cannot resolve " + text + ": " + ec.message());
      return std::nullopt;
    }
    return canonical;
  }

  void check_source_name(const std::string& name, const YAML::Mark& mark, const std::string& key) {
    std::string problem;
    if (name.empty()) {
      problem = "invalid source name (empty)";
    } else if (name.find('\0') != std::string::npos) {
      problem = "invalid source name (contains a NUL byte)";
    } else if (name.size() > 255) {
      problem = "invalid source name (longer than 255 bytes)";
    } else if (name == "." || name == "..") {
      problem = "invalid source name '" + name + "'";
    } else if (name.find('/') != std::string::npos) {
      problem = "invalid source name '" + name + "' (contains '/')";
    }
    if (!problem.empty()) add(mark, key, problem);
  }

  void load_sources(const Entry& entry, Config& config) {
    const YAML::Mark list_mark = position(entry.value, entry.key_mark);
    if (!entry.value.IsSequence()) {
      add(list_mark, "sources", "expected a list of sources");
      return;
    }
    if (entry.value.size() == 0) {
      add(list_mark, "sources", "must not be empty");
      return;
    }
    std::vector<Tier> tiers;
    std::map<std::string, std::string> names;  // name -> key of its first occurrence
    std::size_t index = 0;
    for (auto it = entry.value.begin(); it != entry.value.end(); ++it, ++index) {
      const YAML::Node node = *it;
      const std::string prefix = "sources[" + std::to_string(index) + "]";
      const YAML::Mark mark = position(node, list_mark);
      if (!node.IsMap()) {
        add(mark, prefix, "expected a map (name, path or paths, exclude, exclude_caches)");
        continue;
      }
      Source source;
      Entries entries =
          read_map(node, prefix, {"name", "path", "paths", "exclude", "exclude_caches"});

      if (const Entry* e = find(entries, "name")) {
        const std::string key = prefix + ".name";
        if (auto name = string_value(*e, key)) {
          source.name = *name;
          const YAML::Mark name_mark = position(e->value, e->key_mark);
          const std::size_t before_count = problems_.size();
          check_source_name(*name, name_mark, key);
          if (problems_.size() == before_count) {
            auto [first, inserted] = names.emplace(*name, key);
            if (!inserted) {
              add(name_mark, key,
                  "duplicate source name '" + *name + "' (also " + first->second + ")");
            }
          }
        }
      } else {
        add(mark, prefix + ".name", "missing required key");
      }

      const Entry* path = find(entries, "path");
      const Entry* paths = find(entries, "paths");
      if (path && paths) {
        const Entry* later = before(path->key_mark, paths->key_mark) ? paths : path;
        add(later->key_mark, prefix + (later == paths ? ".paths" : ".path"),
            "path and paths exclude each other (give one)");
      } else if (!path && !paths) {
        add(mark, prefix, "needs path (a directory) or paths (a list of tier directories)");
      } else if (path) {
        const std::string key = prefix + ".path";
        source.paths.emplace_back(path->value.IsScalar() ? path->value.Scalar() : "");
        if (auto canonical = check_source_dir(*path, path->value, key)) {
          tiers.push_back({key, position(path->value, path->key_mark), *canonical});
        }
      } else {
        const std::string key = prefix + ".paths";
        const YAML::Mark paths_mark = position(paths->value, paths->key_mark);
        if (!paths->value.IsSequence()) {
          add(paths_mark, key, "expected a list of directories");
        } else if (paths->value.size() == 0) {
          add(paths_mark, key, "must not be empty");
        } else {
          std::size_t tier = 0;
          for (auto p = paths->value.begin(); p != paths->value.end(); ++p, ++tier) {
            const std::string tier_key = key + "[" + std::to_string(tier) + "]";
            source.paths.emplace_back(p->IsScalar() ? p->Scalar() : "");
            if (auto canonical = check_source_dir(*paths, *p, tier_key)) {
              tiers.push_back({tier_key, position(*p, paths_mark), *canonical});
            }
          }
        }
      }

      if (const Entry* e = find(entries, "exclude")) {
        const std::string key = prefix + ".exclude";
        const YAML::Mark exclude_mark = position(e->value, e->key_mark);
        if (!e->value.IsSequence()) {
          add(exclude_mark, key, "expected a list of patterns");
        } else {
          std::size_t n = 0;
          for (auto p = e->value.begin(); p != e->value.end(); ++p, ++n) {
            const std::string item_key = key + "[" + std::to_string(n) + "]";
            const YAML::Mark item_mark = position(*p, exclude_mark);
            if (!p->IsScalar()) {
              add(item_mark, item_key, "expected a string (a pattern)");
              continue;
            }
            std::string error = check_exclude_pattern(p->Scalar());
            if (!error.empty()) {
              add(item_mark, item_key, "bad exclude pattern '" + p->Scalar() + "': " + error);
              continue;
            }
            source.exclude.push_back(p->Scalar());
          }
        }
      }
      if (const Entry* e = find(entries, "exclude_caches")) {
        bool_value(*e, prefix + ".exclude_caches", source.exclude_caches);
      }
      config.sources.push_back(std::move(source));
    }

    // No directory may be inside or equal to another (across sources and tiers).
    for (std::size_t j = 0; j < tiers.size(); ++j) {
      for (std::size_t i = 0; i < j; ++i) {
        const Tier& a = tiers[i];
        const Tier& b = tiers[j];
        if (a.canonical == b.canonical) {
          add(b.mark, b.key, b.canonical.string() + " is the same directory as " + a.key);
        } else if (is_within(b.canonical, a.canonical)) {
          add(b.mark, b.key,
              b.canonical.string() + " is inside " + a.key + " (" + a.canonical.string() + ")");
        } else if (is_within(a.canonical, b.canonical)) {
          add(b.mark, b.key,
              b.canonical.string() + " contains " + a.key + " (" + a.canonical.string() + ")");
        }
      }
    }
  }

  void load_mount(const Entry& entry, MountOptions& mount) {
    if (!entry.value.IsMap()) {
      add(position(entry.value, entry.key_mark), "mount", "expected a map");
      return;
    }
    Entries entries =
        read_map(entry.value, "mount", {"entry_timeout", "attr_timeout", "allow_other", "threads"});
    if (const Entry* e = find(entries, "entry_timeout")) {
      timeout_value(*e, "mount.entry_timeout", mount.entry_timeout);
    }
    if (const Entry* e = find(entries, "attr_timeout")) {
      timeout_value(*e, "mount.attr_timeout", mount.attr_timeout);
    }
    if (const Entry* e = find(entries, "allow_other")) {
      bool_value(*e, "mount.allow_other", mount.allow_other);
    }
    if (const Entry* e = find(entries, "threads"))
      threads_value(*e, "mount.threads", mount.threads);
  }

  std::string display_;
  fs::path file_;
  std::vector<Problem> problems_;
};

// Reads the whole file; returns an errno (0 on success) or -1 if it is too large.
int read_file(const fs::path& file, std::string& text) {
  util::UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return errno;
  char buffer[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return 0;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > kMaxConfigBytes) return -1;
  }
}

[[noreturn]] void fail(const std::vector<Problem>& problems) {
  std::vector<Problem> sorted = problems;
  std::stable_sort(sorted.begin(), sorted.end(), [](const Problem& a, const Problem& b) {
    return a.line != b.line ? a.line < b.line : a.column < b.column;
  });
  std::string message;
  for (const Problem& problem : sorted) {
    if (!message.empty()) message += '\n';
    message += problem.text;
  }
  throw ConfigError(message);
}

}  // namespace

Config load_config(const fs::path& file) {
  const fs::path absolute = fs::absolute(file).lexically_normal();
  Loader loader(file.string(), absolute);

  std::string text;
  const int err = read_file(file, text);
  if (err != 0) {
    loader.file_problem(err < 0 ? "too large for a configuration file (over 1 MiB)"
                                : "cannot read: " + errno_text(err));
    fail(loader.problems());
  }

  Config config;
  try {
    const YAML::Node root = YAML::Load(text);
    config = loader.load(root);
  } catch (const YAML::Exception& e) {
    loader.syntax_problem(e.mark, e.msg);
  }
  if (!loader.problems().empty()) fail(loader.problems());
  return config;
}

}  // namespace encfsr::config
