// tests/unit/config/exclude_rules_test.cc — gitignore-style exclusion rules: hand-written cases
// for every pattern feature, pattern validation, and `git check-ignore` as an oracle over a real
// tree of files and directories and many patterns.
#include "config/exclude_rules.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/unit/config/temp_dir.h"

namespace encfsr::config {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::write_text;

bool file_excluded(const std::vector<std::string>& patterns, const std::string& path) {
  return ExcludeRules(patterns).excluded(path, false);
}
bool dir_excluded(const std::vector<std::string>& patterns, const std::string& path) {
  return ExcludeRules(patterns).excluded(path, true);
}

TEST(ExcludeRules, EmptyRulesExcludeNothing) {
  ExcludeRules none;
  EXPECT_TRUE(none.empty());
  EXPECT_FALSE(none.excluded("a", false));
  ExcludeRules comments({"# a comment", "", "   "});
  EXPECT_TRUE(comments.empty());
  EXPECT_FALSE(comments.excluded("# a comment", false));
  EXPECT_FALSE(ExcludeRules({"x"}).empty());
}

TEST(ExcludeRules, UnanchoredPatternMatchesTheNameAtAnyDepth) {
  EXPECT_TRUE(file_excluded({"*.tmp"}, "a.tmp"));
  EXPECT_TRUE(file_excluded({"*.tmp"}, "x/y/a.tmp"));
  EXPECT_TRUE(dir_excluded({"*.tmp"}, "x/d.tmp"));
  EXPECT_FALSE(file_excluded({"*.tmp"}, "a.tmpx"));
  EXPECT_FALSE(file_excluded({"*.tmp"}, "a.tmp/b"));
  EXPECT_TRUE(file_excluded({"core"}, "core"));
  EXPECT_TRUE(file_excluded({"core"}, "a/b/core"));
  EXPECT_FALSE(file_excluded({"core"}, "a/core.1"));
  EXPECT_FALSE(file_excluded({"core"}, "xcore"));
}

TEST(ExcludeRules, TrailingSlashMatchesDirectoriesOnly) {
  EXPECT_TRUE(dir_excluded({"build/"}, "build"));
  EXPECT_TRUE(dir_excluded({"build/"}, "src/build"));
  EXPECT_FALSE(file_excluded({"build/"}, "build"));
  EXPECT_FALSE(file_excluded({"build/"}, "src/build"));
  EXPECT_TRUE(dir_excluded({"/build/"}, "build"));
  EXPECT_FALSE(dir_excluded({"/build/"}, "src/build"));
}

TEST(ExcludeRules, LeadingOrMiddleSlashAnchorsAtTheRoot) {
  EXPECT_TRUE(file_excluded({"/build"}, "build"));
  EXPECT_FALSE(file_excluded({"/build"}, "a/build"));
  EXPECT_TRUE(file_excluded({"doc/*.txt"}, "doc/a.txt"));
  EXPECT_FALSE(file_excluded({"doc/*.txt"}, "doc/x/a.txt"));
  EXPECT_FALSE(file_excluded({"doc/*.txt"}, "a/doc/a.txt"));
  EXPECT_TRUE(file_excluded({"a/*"}, "a/b"));
  EXPECT_FALSE(file_excluded({"a/*"}, "a/b/c"));
  EXPECT_FALSE(file_excluded({"a/*"}, "a"));
}

TEST(ExcludeRules, DoubleStarForms) {
  // Leading "**/": in every directory, including the root.
  EXPECT_TRUE(file_excluded({"**/foo"}, "foo"));
  EXPECT_TRUE(file_excluded({"**/foo"}, "a/foo"));
  EXPECT_TRUE(file_excluded({"**/foo"}, "a/b/foo"));
  EXPECT_FALSE(file_excluded({"**/foo"}, "a/xfoo"));
  EXPECT_TRUE(file_excluded({"**/foo/bar"}, "foo/bar"));
  EXPECT_TRUE(file_excluded({"**/foo/bar"}, "x/y/foo/bar"));
  EXPECT_FALSE(file_excluded({"**/foo/bar"}, "foo/x/bar"));
  // Trailing "/**": everything inside, not the directory itself.
  EXPECT_TRUE(file_excluded({"abc/**"}, "abc/x"));
  EXPECT_TRUE(file_excluded({"abc/**"}, "abc/x/y"));
  EXPECT_FALSE(dir_excluded({"abc/**"}, "abc"));
  EXPECT_FALSE(file_excluded({"abc/**"}, "x/abc/y"));
  // "/**/": zero or more directories.
  EXPECT_TRUE(file_excluded({"a/**/b"}, "a/b"));
  EXPECT_TRUE(file_excluded({"a/**/b"}, "a/x/b"));
  EXPECT_TRUE(file_excluded({"a/**/b"}, "a/x/y/b"));
  EXPECT_FALSE(file_excluded({"a/**/b"}, "a/xb"));
  EXPECT_FALSE(file_excluded({"a/**/b"}, "b"));
  EXPECT_TRUE(dir_excluded({"**/.cache/"}, "home/.cache"));
  EXPECT_FALSE(file_excluded({"**/.cache/"}, "home/.cache"));
  // "**" alone: everything.
  EXPECT_TRUE(file_excluded({"**"}, "a/b/c"));
  // "**" not between slashes is an ordinary '*'.
  EXPECT_TRUE(file_excluded({"foo**bar"}, "fooxbar"));
  EXPECT_TRUE(file_excluded({"a/foo**bar"}, "a/fooxbar"));
  EXPECT_FALSE(file_excluded({"a/foo**bar"}, "a/foo/bar"));
  EXPECT_FALSE(file_excluded({"a**/b"}, "ax/y/b"));
  EXPECT_TRUE(file_excluded({"a**/b"}, "ax/b"));
}

TEST(ExcludeRules, WildcardsDoNotMatchSlash) {
  EXPECT_FALSE(file_excluded({"a?b"}, "a/b"));
  EXPECT_FALSE(file_excluded({"a*b"}, "a/b"));
  EXPECT_FALSE(file_excluded({"a[/]b"}, "a/b"));
  EXPECT_FALSE(file_excluded({"a[!x]b"}, "a/b"));
  EXPECT_TRUE(file_excluded({"a?b"}, "x/a.b"));
  EXPECT_TRUE(file_excluded({"?"}, "x/y"));
  EXPECT_FALSE(file_excluded({"?"}, "xy"));
}

TEST(ExcludeRules, CharacterClasses) {
  EXPECT_TRUE(file_excluded({"[abc]x"}, "bx"));
  EXPECT_FALSE(file_excluded({"[abc]x"}, "dx"));
  EXPECT_TRUE(file_excluded({"[!abc]x"}, "dx"));
  EXPECT_FALSE(file_excluded({"[!abc]x"}, "ax"));
  EXPECT_TRUE(file_excluded({"[^abc]x"}, "dx"));
  EXPECT_TRUE(file_excluded({"file[0-9]"}, "file7"));
  EXPECT_FALSE(file_excluded({"file[0-9]"}, "filex"));
  EXPECT_TRUE(file_excluded({"[a-cx-z]"}, "y"));
  EXPECT_FALSE(file_excluded({"[a-cx-z]"}, "m"));
  EXPECT_TRUE(file_excluded({"[]]"}, "]"));
  EXPECT_TRUE(file_excluded({"[!]]"}, "a"));
  EXPECT_FALSE(file_excluded({"[!]]"}, "]"));
  EXPECT_TRUE(file_excluded({"[a-]"}, "-"));
  EXPECT_TRUE(file_excluded({"[[:digit:]]x"}, "5x"));
  EXPECT_FALSE(file_excluded({"[[:digit:]]x"}, "ax"));
  EXPECT_TRUE(file_excluded({"[[:upper:][:digit:]]"}, "Q"));
  EXPECT_TRUE(file_excluded({"[\\]]"}, "]"));
  EXPECT_TRUE(file_excluded({"[\\!]"}, "!"));
}

TEST(ExcludeRules, EscapesAndSpecialLeadingCharacters) {
  EXPECT_TRUE(file_excluded({"\\*"}, "*"));
  EXPECT_FALSE(file_excluded({"\\*"}, "a"));
  EXPECT_TRUE(file_excluded({"a\\?"}, "a?"));
  EXPECT_FALSE(file_excluded({"a\\?"}, "ab"));
  EXPECT_TRUE(file_excluded({"\\#foo"}, "#foo"));
  EXPECT_FALSE(file_excluded({"#foo"}, "#foo"));  // a comment
  EXPECT_TRUE(file_excluded({"\\!foo"}, "!foo"));
  EXPECT_TRUE(file_excluded({"\\[x]"}, "[x]"));
}

TEST(ExcludeRules, TrailingSpaces) {
  EXPECT_TRUE(file_excluded({"foo  "}, "foo"));
  EXPECT_FALSE(file_excluded({"foo  "}, "foo  "));
  EXPECT_TRUE(file_excluded({"foo\\ "}, "foo "));
  EXPECT_FALSE(file_excluded({"foo\\ "}, "foo"));
}

TEST(ExcludeRules, NegationAndLastMatchWins) {
  const std::vector<std::string> keep = {"*.log", "!keep.log"};
  EXPECT_TRUE(file_excluded(keep, "a.log"));
  EXPECT_FALSE(file_excluded(keep, "keep.log"));
  EXPECT_FALSE(file_excluded(keep, "x/keep.log"));
  const std::vector<std::string> reversed = {"!keep.log", "*.log"};
  EXPECT_TRUE(file_excluded(reversed, "keep.log"));
  const std::vector<std::string> dirs = {"/*", "!/src", "!/docs/"};
  EXPECT_TRUE(file_excluded(dirs, "README"));
  EXPECT_FALSE(dir_excluded(dirs, "src"));
  EXPECT_FALSE(file_excluded(dirs, "src"));
  EXPECT_FALSE(dir_excluded(dirs, "docs"));
  EXPECT_TRUE(file_excluded(dirs, "docs"));
  EXPECT_FALSE(file_excluded(dirs, "src/a"));  // not matched by "/*" at all
}

TEST(ExcludeRules, PathologicalPatternsStayFast) {
  const auto start = std::chrono::steady_clock::now();
  const std::string text(200, 'a');
  EXPECT_FALSE(file_excluded({"*a*a*a*a*a*a*a*a*a*a*a*a*b"}, text));
  EXPECT_FALSE(file_excluded({"**/*a*a*a*a*a*a*a*a*a*a*b"}, text + "/" + text + "/" + text));
  EXPECT_FALSE(file_excluded({"a/**/**/**/**/**/**/**/**/b"}, "a/" + std::string(100, 'x') + "/c"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(ExcludeRules, BadPatternsAreRejectedWithAMessage) {
  EXPECT_EQ(check_exclude_pattern("*.tmp"), "");
  EXPECT_EQ(check_exclude_pattern("# comment ["), "");
  EXPECT_EQ(check_exclude_pattern(""), "");
  EXPECT_EQ(check_exclude_pattern("[abc"), "unclosed '['");
  EXPECT_EQ(check_exclude_pattern("a[!"), "unclosed '['");
  EXPECT_EQ(check_exclude_pattern("[]"), "unclosed '['");
  EXPECT_EQ(check_exclude_pattern("x\\"), "ends with an unescaped backslash");
  EXPECT_EQ(check_exclude_pattern("[[:word:]]"), "unknown character class '[:word:]'");
  EXPECT_EQ(check_exclude_pattern("/"), "matches nothing");
  EXPECT_EQ(check_exclude_pattern("!"), "matches nothing");
  EXPECT_EQ(check_exclude_pattern(std::string("a\0b", 3)), "contains a NUL byte");
  try {
    ExcludeRules rules({"ok", "[abc"});
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "bad exclude pattern '[abc': unclosed '['");
  }
}

// ---- git check-ignore as an oracle ------------------------------------------------------

// The walk's view: a path is excluded if it or any directory above it is.
bool walk_excluded(const ExcludeRules& rules, const std::string& path, bool is_dir) {
  for (std::size_t slash = path.find('/'); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    if (rules.excluded(path.substr(0, slash), true)) return true;
  }
  return rules.excluded(path, is_dir);
}

std::string shell_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

class GitOracle {
 public:
  explicit GitOracle(const fs::path& repo) : repo_(repo) {
    env_ = "cd " + shell_quote(repo_.string()) + " && HOME=" + shell_quote(repo_.string()) +
           " XDG_CONFIG_HOME=" + shell_quote(repo_.string()) + " GIT_CONFIG_NOSYSTEM=1 ";
  }
  bool init() { return std::system((env_ + "git init -q . >/dev/null 2>&1").c_str()) == 0; }
  // The set of paths git reports as ignored under these patterns.
  std::set<std::string> ignored(const std::vector<std::string>& patterns,
                                const std::vector<std::string>& paths) {
    std::string gitignore;
    for (const std::string& p : patterns) gitignore += p + "\n";
    write_text(repo_ / ".gitignore", gitignore);
    std::string input;
    for (const std::string& p : paths) input += p + '\0';
    const fs::path in = repo_ / ".git/oracle-in";
    const fs::path out = repo_ / ".git/oracle-out";
    write_text(in, input);
    const int rc = std::system((env_ + "git check-ignore --no-index -z --stdin < " +
                                shell_quote(in.string()) + " > " + shell_quote(out.string()))
                                   .c_str());
    // 0: some ignored, 1: none ignored; anything else is a failure of git.
    if (!WIFEXITED(rc) || WEXITSTATUS(rc) > 1) throw std::runtime_error("git check-ignore failed");
    std::set<std::string> result;
    const std::string text = testing::read_text(out);
    std::size_t start = 0;
    for (std::size_t nul = text.find('\0'); nul != std::string::npos;
         nul = text.find('\0', start)) {
      result.insert(text.substr(start, nul - start));
      start = nul + 1;
    }
    return result;
  }

 private:
  fs::path repo_;
  std::string env_;
};

TEST(ExcludeRulesGitOracle, AgreesWithGitCheckIgnore) {
  if (std::system("git --version >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "git is not installed";
  }
  TempDir dir;
  const fs::path repo = dir.path() / "repo";
  fs::create_directories(repo);
  GitOracle git(repo);
  ASSERT_TRUE(git.init());

  // The tree: directories (trailing '/') and files.
  const std::vector<std::string> tree = {"a/",
                                         "a/b/",
                                         "a/b/c/",
                                         "a/b/c/foo",
                                         "a/b/foo",
                                         "a/foo",
                                         "a/x.tmp",
                                         "a/b/y.log",
                                         "build/",
                                         "build/out.o",
                                         "src/",
                                         "src/build/",
                                         "src/build/gen.c",
                                         "src/main.c",
                                         "src/util.h",
                                         "src/build.c",
                                         "doc/",
                                         "doc/a.txt",
                                         "doc/x/",
                                         "doc/x/b.txt",
                                         "doc/readme",
                                         "foo/",
                                         "foo/bar",
                                         "foo/baz/",
                                         "foo/baz/bar",
                                         "x/",
                                         "x/foo/",
                                         "x/foo/bar",
                                         "x/abc",
                                         ".cache/",
                                         ".cache/blob",
                                         "home/",
                                         "home/.cache/",
                                         "home/.cache/f",
                                         "home/.bashrc",
                                         "node_modules/",
                                         "node_modules/pkg/",
                                         "node_modules/pkg/index.js",
                                         "a/node_modules/",
                                         "a/node_modules/m.js",
                                         "keep.log",
                                         "drop.log",
                                         "sub/",
                                         "sub/keep.log",
                                         "sub/drop.log",
                                         "x.tmp",
                                         "x.tmpx",
                                         "core",
                                         "core.1",
                                         "file1",
                                         "file2",
                                         "fileA",
                                         "filex",
                                         "[x]",
                                         "#foo",
                                         "!foo",
                                         "a b",
                                         "abc/",
                                         "abc/def",
                                         "abc/d/",
                                         "abc/d/e",
                                         "q",
                                         "Q",
                                         "5x",
                                         "ax",
                                         "dx",
                                         "]",
                                         "-",
                                         "aXb",
                                         "axyb",
                                         "fooxbar",
                                         "weird*name",
                                         "ques?tion",
                                         "foo ",
                                         "trail\\"};

  std::vector<std::string> paths;
  std::map<std::string, bool> is_dir;
  for (const std::string& entry : tree) {
    const bool dir_entry = entry.back() == '/';
    const std::string path = dir_entry ? entry.substr(0, entry.size() - 1) : entry;
    if (dir_entry) {
      fs::create_directories(repo / path);
    } else {
      write_text(repo / path, "x");
    }
    paths.push_back(path);
    is_dir[path] = dir_entry;
  }

  // Pattern sets: every single pattern alone, then combinations with negations.
  const std::vector<std::string> singles = {"*.tmp",
                                            "*.log",
                                            "foo",
                                            "/foo",
                                            "foo/",
                                            "/foo/",
                                            "bar",
                                            "foo/bar",
                                            "/foo/bar",
                                            "**/foo",
                                            "**/foo/",
                                            "**/foo/bar",
                                            "foo/**",
                                            "foo/**/bar",
                                            "a/**/foo",
                                            "a/**",
                                            "**/b",
                                            "**",
                                            "*",
                                            "*/",
                                            "/*",
                                            "/*/",
                                            "*/*",
                                            "a/*",
                                            "a/*/foo",
                                            "a/b/*",
                                            "build",
                                            "build/",
                                            "/build",
                                            "/build/",
                                            "src/build",
                                            "src/build/",
                                            "build*",
                                            "build.?",
                                            "doc/*.txt",
                                            "doc/**/*.txt",
                                            "**/*.txt",
                                            "*.txt",
                                            "doc/",
                                            "x/*/bar",
                                            ".cache/",
                                            "**/.cache/",
                                            ".cache",
                                            "node_modules/",
                                            "**/node_modules/**",
                                            "node_modules",
                                            "a/node_modules",
                                            "core",
                                            "core*",
                                            "core.?",
                                            "file[0-9]",
                                            "file[!0-9]",
                                            "file[^a-z]",
                                            "file[a-zA-Z]",
                                            "[abc]x",
                                            "[!abc]x",
                                            "[]]",
                                            "[!]]",
                                            "[a-]",
                                            "[[:digit:]]x",
                                            "[[:upper:]]",
                                            "[[:alpha:][:digit:]]",
                                            "?",
                                            "??",
                                            "a?b",
                                            "a*b",
                                            "a**b",
                                            "foo**bar",
                                            "\\[x]",
                                            "\\#foo",
                                            "#foo",
                                            "\\!foo",
                                            "a\\ b",
                                            "a b",
                                            "foo ",
                                            "foo\\ ",
                                            "weird\\*name",
                                            "ques\\?tion",
                                            "weird*",
                                            "*\\*name",
                                            "abc/**",
                                            "abc/**/e",
                                            "abc/d/**",
                                            "**/d/e",
                                            "**/abc",
                                            "/abc/d/",
                                            "x/foo",
                                            "x/foo/",
                                            "*/foo",
                                            "*/foo/",
                                            "a/b",
                                            "/a/b/c",
                                            "a/b/c/",
                                            "**/c/**",
                                            "b/",
                                            "sub/*.log",
                                            "sub/",
                                            "trail\\\\",
                                            "[x]",
                                            "\\]",
                                            "-",
                                            "[-]",
                                            "[a-c]x"};
  std::vector<std::vector<std::string>> sets;
  for (const std::string& single : singles) sets.push_back({single});
  sets.push_back({"*.log", "!keep.log"});
  sets.push_back({"!keep.log", "*.log"});
  sets.push_back({"*.log", "!sub/keep.log"});
  sets.push_back({"sub/", "!sub/keep.log"});  // cannot re-include inside an excluded dir
  sets.push_back({"/*", "!/src/", "!/doc"});
  sets.push_back({"*", "!*/", "!*.c"});
  sets.push_back({"foo/", "!x/foo/"});
  sets.push_back({"**/foo", "!a/**/foo", "a/b/c/foo"});
  sets.push_back({"# comment", "", "*.tmp", "  ", "!x.tmp"});
  sets.push_back({"abc/**", "!abc/d/", "!abc/d/e"});
  sets.push_back({"*", "!a/", "!a/b/", "a/b/*", "!a/b/foo"});
  sets.push_back({"file*", "!file[12]", "file2"});

  std::size_t compared = 0;
  for (const auto& patterns : sets) {
    const std::set<std::string> expected = git.ignored(patterns, paths);
    const ExcludeRules rules(patterns);
    std::string joined;
    for (const std::string& p : patterns) joined += "[" + p + "] ";
    for (const std::string& path : paths) {
      const bool ours = walk_excluded(rules, path, is_dir[path]);
      EXPECT_EQ(ours, expected.count(path) == 1) << "patterns " << joined << "path '" << path
                                                 << "' (" << (is_dir[path] ? "dir" : "file") << ")";
      ++compared;
    }
  }
  EXPECT_GT(compared, 8000u);
}

TEST(ExcludeRules, DecidingPatternIsTheLastMatchIndexedInTheGivenList) {
  // Index 1 is a comment and index 3 blank: indices still count them.
  const ExcludeRules rules({"*.log", "# comment", "!keep.log", "", "build/"});
  EXPECT_EQ(rules.deciding_pattern("a/b.log", false), std::optional<std::size_t>(0));
  EXPECT_EQ(rules.deciding_pattern("a/keep.log", false), std::optional<std::size_t>(2));
  EXPECT_FALSE(rules.excluded("a/keep.log", false));
  EXPECT_EQ(rules.deciding_pattern("x/build", true), std::optional<std::size_t>(4));
  EXPECT_EQ(rules.deciding_pattern("x/build", false), std::nullopt);
  EXPECT_EQ(rules.deciding_pattern("readme.txt", false), std::nullopt);
}

}  // namespace
}  // namespace encfsr::config
