// config/exclude_rules.cc — gitignore-style exclusion: pattern parsing (comments, '!', trailing
// '/', anchoring, trailing spaces) and a glob matcher with gitignore's pathname semantics
// ('*', '?', '[...]' never match '/'; "**/", "/**" and "/**/" cross directories).
#include "config/exclude_rules.h"

#include <array>
#include <cctype>
#include <stdexcept>
#include <string>

namespace encfsr::config {
namespace {

// Outcome of matching a pattern suffix against a text suffix. The two abort values prune the
// search: kAbortAll when the text ran out (no longer split can help), kAbortToDoubleStar when
// a single '*' would have to cross a '/' (only an enclosing '**' can still help).
enum class Match { kMatch, kNoMatch, kAbortAll, kAbortToDoubleStar };

constexpr std::array<std::string_view, 12> kClassNames = {"alnum", "alpha", "blank", "cntrl",
                                                          "digit", "graph", "lower", "print",
                                                          "punct", "space", "upper", "xdigit"};

bool in_named_class(std::string_view name, unsigned char c) {
  if (name == "alnum") return std::isalnum(c) != 0;
  if (name == "alpha") return std::isalpha(c) != 0;
  if (name == "blank") return c == ' ' || c == '\t';
  if (name == "cntrl") return std::iscntrl(c) != 0;
  if (name == "digit") return std::isdigit(c) != 0;
  if (name == "graph") return std::isgraph(c) != 0;
  if (name == "lower") return std::islower(c) != 0;
  if (name == "print") return std::isprint(c) != 0;
  if (name == "punct") return std::ispunct(c) != 0;
  if (name == "space") return std::isspace(c) != 0;
  if (name == "upper") return std::isupper(c) != 0;
  if (name == "xdigit") return std::isxdigit(c) != 0;
  return false;
}

bool known_class_name(std::string_view name) {
  for (std::string_view known : kClassNames) {
    if (name == known) return true;
  }
  return false;
}

// Parses the bracket expression starting at glob[i] == '['. On success sets `end` to the index
// of the closing ']' and, if `c` is given, `matched` to whether the class holds *c (before
// negation is applied, which is returned in `negated`). Returns an error message or "".
std::string scan_class(std::string_view glob, std::size_t i, const unsigned char* c,
                       std::size_t& end, bool& matched, bool& negated) {
  matched = false;
  negated = false;
  ++i;
  if (i < glob.size() && (glob[i] == '!' || glob[i] == '^')) {
    negated = true;
    ++i;
  }
  bool first = true;
  for (;; first = false) {
    if (i >= glob.size()) return "unclosed '['";
    if (glob[i] == ']' && !first) break;
    if (glob[i] == '[' && i + 1 < glob.size() && glob[i + 1] == ':') {
      std::size_t close = glob.find(":]", i + 2);
      if (close != std::string_view::npos) {
        std::string_view name = glob.substr(i + 2, close - (i + 2));
        if (!known_class_name(name)) {
          return "unknown character class '[:" + std::string(name) + ":]'";
        }
        if (c != nullptr && in_named_class(name, *c)) matched = true;
        i = close + 2;
        continue;
      }
    }
    auto lo = static_cast<unsigned char>(glob[i]);
    if (lo == '\\') {
      if (++i >= glob.size()) return "unclosed '['";
      lo = static_cast<unsigned char>(glob[i]);
    }
    ++i;
    unsigned char hi = lo;
    if (i + 1 < glob.size() && glob[i] == '-' && glob[i + 1] != ']') {
      i += 1;
      hi = static_cast<unsigned char>(glob[i]);
      if (hi == '\\') {
        if (++i >= glob.size()) return "unclosed '['";
        hi = static_cast<unsigned char>(glob[i]);
      }
      ++i;
    }
    if (c != nullptr && *c >= lo && *c <= hi) matched = true;
  }
  end = i;
  return "";
}

// Matches glob[pi..] against text[ti..]. The glob has been validated by check_glob.
Match match_from(std::string_view glob, std::size_t pi, std::string_view text, std::size_t ti) {
  for (; pi < glob.size(); ++pi, ++ti) {
    const char pc = glob[pi];
    if (ti >= text.size() && pc != '*') return Match::kAbortAll;
    switch (pc) {
      case '\\':
        ++pi;
        if (text[ti] != glob[pi]) return Match::kNoMatch;
        break;
      case '?':
        if (text[ti] == '/') return Match::kNoMatch;
        break;
      case '[': {
        const auto c = static_cast<unsigned char>(text[ti]);
        std::size_t end = 0;
        bool matched = false;
        bool negated = false;
        if (!scan_class(glob, pi, &c, end, matched, negated).empty()) return Match::kAbortAll;
        if (matched == negated || c == '/') return Match::kNoMatch;
        pi = end;
        break;
      }
      case '*': {
        const std::size_t first_star = pi;
        while (pi + 1 < glob.size() && glob[pi + 1] == '*') ++pi;
        bool cross_slash = false;
        if (pi > first_star) {
          const bool starts_segment = first_star == 0 || glob[first_star - 1] == '/';
          const bool at_end = pi + 1 == glob.size();
          const bool before_slash = !at_end && glob[pi + 1] == '/';
          if (starts_segment && (at_end || before_slash)) {
            // "**/" also matches zero directories.
            if (before_slash && match_from(glob, pi + 2, text, ti) == Match::kMatch) {
              return Match::kMatch;
            }
            cross_slash = true;
          }
          // Otherwise "**" is an ordinary '*'.
        }
        ++pi;  // first glob char after the stars
        if (pi == glob.size()) {
          if (!cross_slash && text.find('/', ti) != std::string_view::npos) {
            return Match::kNoMatch;
          }
          return Match::kMatch;
        }
        for (;; ++ti) {
          Match rest = match_from(glob, pi, text, ti);
          if (rest != Match::kNoMatch && !(cross_slash && rest == Match::kAbortToDoubleStar)) {
            return rest;
          }
          if (ti >= text.size()) break;
          if (!cross_slash && text[ti] == '/') return Match::kAbortToDoubleStar;
        }
        return Match::kAbortAll;
      }
      default:
        if (text[ti] != pc) return Match::kNoMatch;
        break;
    }
  }
  return ti == text.size() ? Match::kMatch : Match::kNoMatch;
}

bool glob_matches(std::string_view glob, std::string_view text) {
  return match_from(glob, 0, text, 0) == Match::kMatch;
}

// Syntax of a glob: escapes complete, brackets closed, class names known.
std::string check_glob(std::string_view glob) {
  for (std::size_t i = 0; i < glob.size(); ++i) {
    if (glob[i] == '\\') {
      if (i + 1 >= glob.size()) return "ends with an unescaped backslash";
      ++i;
    } else if (glob[i] == '[') {
      std::size_t end = 0;
      bool matched = false;
      bool negated = false;
      std::string error = scan_class(glob, i, nullptr, end, matched, negated);
      if (!error.empty()) return error;
      i = end;
    }
  }
  return "";
}

// Removes trailing spaces that are not escaped with a backslash (gitignore(5)).
std::string_view trim_trailing_spaces(std::string_view pattern) {
  std::size_t end = pattern.size();
  while (end > 0 && pattern[end - 1] == ' ') {
    // Count the backslashes before this space: an odd number escapes it.
    std::size_t backslashes = 0;
    while (backslashes < end - 1 && pattern[end - 2 - backslashes] == '\\') ++backslashes;
    if (backslashes % 2 == 1) break;
    --end;
  }
  return pattern.substr(0, end);
}

struct Parsed {
  bool ignored = false;  // blank line or comment
  std::string glob;
  bool negate = false;
  bool dir_only = false;
  bool anchored = false;
};

Parsed parse_pattern(std::string_view pattern) {
  Parsed parsed;
  if (!pattern.empty() && pattern[0] == '#') {
    parsed.ignored = true;
    return parsed;
  }
  pattern = trim_trailing_spaces(pattern);
  if (pattern.empty()) {
    parsed.ignored = true;
    return parsed;
  }
  if (pattern[0] == '!') {
    parsed.negate = true;
    pattern.remove_prefix(1);
  }
  if (!pattern.empty() && pattern.back() == '/') {
    parsed.dir_only = true;
    pattern.remove_suffix(1);
  }
  parsed.anchored = pattern.find('/') != std::string_view::npos;
  if (!pattern.empty() && pattern[0] == '/') pattern.remove_prefix(1);
  parsed.glob = std::string(pattern);
  return parsed;
}

}  // namespace

std::string check_exclude_pattern(std::string_view pattern) {
  if (pattern.find('\0') != std::string_view::npos) return "contains a NUL byte";
  Parsed parsed = parse_pattern(pattern);
  if (parsed.ignored) return "";
  if (parsed.glob.empty()) return "matches nothing";
  return check_glob(parsed.glob);
}

ExcludeRules::ExcludeRules(const std::vector<std::string>& patterns) {
  for (std::size_t index = 0; index < patterns.size(); ++index) {
    const std::string& pattern = patterns[index];
    std::string error = check_exclude_pattern(pattern);
    if (!error.empty()) {
      std::string message = "bad exclude pattern '";
      message += pattern;
      message += "': ";
      message += error;
      throw std::invalid_argument(message);
    }
    Parsed parsed = parse_pattern(pattern);
    if (parsed.ignored) continue;
    rules_.push_back(
        Rule{std::move(parsed.glob), parsed.negate, parsed.dir_only, parsed.anchored, index});
  }
}

bool ExcludeRules::excluded(std::string_view rel_path, bool is_dir) const {
  const std::optional<std::size_t> rule = deciding_rule(rel_path, is_dir);
  return rule && !rules_[*rule].negate;
}

std::optional<std::size_t> ExcludeRules::deciding_pattern(std::string_view rel_path,
                                                          bool is_dir) const {
  const std::optional<std::size_t> rule = deciding_rule(rel_path, is_dir);
  if (!rule) return std::nullopt;
  return rules_[*rule].index;
}

std::optional<std::size_t> ExcludeRules::deciding_rule(std::string_view rel_path,
                                                       bool is_dir) const {
  std::size_t slash = rel_path.rfind('/');
  std::string_view base = slash == std::string_view::npos ? rel_path : rel_path.substr(slash + 1);
  // The last matching rule decides.
  for (std::size_t i = rules_.size(); i-- > 0;) {
    const Rule& rule = rules_[i];
    if (rule.dir_only && !is_dir) continue;
    if (glob_matches(rule.glob, rule.anchored ? rel_path : base)) return i;
  }
  return std::nullopt;
}

}  // namespace encfsr::config
