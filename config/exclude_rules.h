// config/exclude_rules.h — gitignore-style exclusion patterns of one source.
//
// Semantics follow gitignore(5): blank lines and '#' comments ignored; '!' negates; a trailing
// '/' matches directories only; a pattern with a '/' at the start or in the middle is anchored
// at the source root, else it matches at any depth; '*' and '?' and [...] do not match '/';
// '**/' , '/**' and '/**/' match any number of directories. The last matching pattern wins.
// A path below an excluded directory is never asked about: the walk does not descend.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace encfsr::config {

class ExcludeRules {
 public:
  ExcludeRules() = default;
  // Throws std::invalid_argument with a message naming the bad pattern (e.g. unclosed '[').
  explicit ExcludeRules(const std::vector<std::string>& patterns);

  bool empty() const noexcept { return rules_.empty(); }
  // rel_path: path relative to the source root, '/'-separated, no leading '/', not empty.
  bool excluded(std::string_view rel_path, bool is_dir) const;
  // The pattern that decides about rel_path (the last one matching it), as an index into the
  // constructor's `patterns`, or nullopt when none matches. The path is excluded exactly when
  // that pattern is not a '!' pattern (`encfsr check` counts what each pattern excludes).
  std::optional<std::size_t> deciding_pattern(std::string_view rel_path, bool is_dir) const;

 private:
  struct Rule {
    std::string glob;  // the pattern, without '!', trailing '/' and leading '/'
    bool negate = false;
    bool dir_only = false;
    bool anchored = false;
    std::size_t index = 0;  // in the constructor's patterns
  };
  // Index into rules_ of the last rule matching rel_path.
  std::optional<std::size_t> deciding_rule(std::string_view rel_path, bool is_dir) const;

  std::vector<Rule> rules_;
};

// Checks one pattern; empty string if fine, else a message. Used by config validation.
std::string check_exclude_pattern(std::string_view pattern);

}  // namespace encfsr::config
