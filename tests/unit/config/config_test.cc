// tests/unit/config/config_test.cc — load_config: a complete good configuration, relative path
// resolution, and every kind of bad configuration with its exact "FILE:LINE:COL: KEY: message".
#include "config/config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "tests/unit/config/temp_dir.h"

namespace encfsr::config {
namespace {

namespace fs = std::filesystem;
using testing::TempDir;
using testing::write_text;

class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_.path() / "src/a/inner");
    fs::create_directories(dir_.path() / "src/b");
    fs::create_directories(dir_.path() / "src/c");
    fs::create_directories(dir_.path() / "src/d");
    write_text(dir_.path() / "host.key", "key\n", 0600);
    write_text(dir_.path() / "pass", "secret\n", 0600);
    write_text(dir_.path() / "plain", "not a directory\n");
  }

  // The text with every "@D" replaced by the temporary directory.
  std::string sub(std::string text) const {
    for (std::size_t at = text.find("@D"); at != std::string::npos; at = text.find("@D", at)) {
      text.replace(at, 2, dir_.str());
      at += dir_.str().size();
    }
    return text;
  }
  std::string file() const { return dir_.str() + "/c.yaml"; }
  // One expected message line.
  std::string at(int line, int column, const std::string& rest) const {
    return file() + ":" + std::to_string(line) + ":" + std::to_string(column) + ": " + sub(rest);
  }

  // Writes the configuration and loads it: the ConfigError text, or "OK".
  std::string load(const std::string& yaml) {
    write_text(file(), sub(yaml));
    try {
      load_config(file());
      return "OK";
    } catch (const ConfigError& e) {
      return e.what();
    }
  }

  TempDir dir_;
};

// The start every configuration below shares: a valid key and one valid source.
constexpr const char* kHead =
    "key: @D/host.key\n"
    "sources:\n"
    "  - name: a\n"
    "    path: @D/src/a\n";

TEST_F(ConfigTest, GoodConfigUsingEveryKey) {
  write_text(file(), sub("# every key\n"
                         "key: host.key\n"
                         "password_file: @D/pass\n"
                         "names: base32\n"
                         "sources:\n"
                         "  - name: home\n"
                         "    path: @D/src/a\n"
                         "    exclude: [\"**/.cache/\", \"*.tmp\", \"!keep.tmp\"]\n"
                         "    exclude_caches: true\n"
                         "  - name: docs\n"
                         "    paths:\n"
                         "      - @D/src/b\n"
                         "      - @D/src/c/\n"
                         "one_file_system: true\n"
                         "key_in_view: false\n"
                         "manifests: false\n"
                         "mount:\n"
                         "  entry_timeout: 2.5\n"
                         "  attr_timeout: 0\n"
                         "  allow_other: true\n"
                         "  threads: 8\n"));
  const Config config = load_config(file());
  EXPECT_EQ(config.file, fs::path(file()));
  EXPECT_EQ(config.key, dir_.path() / "host.key");
  ASSERT_TRUE(config.password_file.has_value());
  EXPECT_EQ(*config.password_file, dir_.path() / "pass");
  EXPECT_FALSE(config.password_command.has_value());
  EXPECT_EQ(config.names, crypto::NameEncoding::kBase32);
  ASSERT_EQ(config.sources.size(), 2u);
  EXPECT_EQ(config.sources[0].name, "home");
  ASSERT_EQ(config.sources[0].paths.size(), 1u);
  EXPECT_EQ(config.sources[0].paths[0], dir_.path() / "src/a");
  EXPECT_EQ(config.sources[0].exclude,
            (std::vector<std::string>{"**/.cache/", "*.tmp", "!keep.tmp"}));
  EXPECT_TRUE(config.sources[0].exclude_caches);
  EXPECT_EQ(config.sources[1].name, "docs");
  ASSERT_EQ(config.sources[1].paths.size(), 2u);
  EXPECT_EQ(config.sources[1].paths[0], dir_.path() / "src/b");
  EXPECT_EQ(config.sources[1].paths[1].string(), dir_.str() + "/src/c/");
  EXPECT_TRUE(config.sources[1].exclude.empty());
  EXPECT_FALSE(config.sources[1].exclude_caches);
  EXPECT_TRUE(config.one_file_system);
  EXPECT_FALSE(config.key_in_view);
  EXPECT_FALSE(config.manifests);
  EXPECT_DOUBLE_EQ(config.mount.entry_timeout, 2.5);
  EXPECT_DOUBLE_EQ(config.mount.attr_timeout, 0.0);
  EXPECT_TRUE(config.mount.allow_other);
  EXPECT_EQ(config.mount.threads, 8u);
}

TEST_F(ConfigTest, PasswordCommandTimeout) {
  write_text(file(), sub(std::string(kHead) + "password_command: pass show backup\n" +
                         "password_command_timeout: 2.5\n"));
  EXPECT_DOUBLE_EQ(load_config(file()).password_command_timeout, 2.5);
}

TEST_F(ConfigTest, DefaultsOfOptionalKeys) {
  write_text(file(), sub(std::string(kHead) + "password_command: pass show backup\n"));
  const Config config = load_config(file());
  EXPECT_FALSE(config.password_file.has_value());
  ASSERT_TRUE(config.password_command.has_value());
  EXPECT_EQ(*config.password_command, "pass show backup");
  EXPECT_DOUBLE_EQ(config.password_command_timeout, 60.0);
  EXPECT_EQ(config.names, crypto::NameEncoding::kBase64Url);
  EXPECT_FALSE(config.one_file_system);
  EXPECT_TRUE(config.key_in_view);
  EXPECT_TRUE(config.manifests);
  EXPECT_DOUBLE_EQ(config.mount.entry_timeout, 1.0);
  EXPECT_DOUBLE_EQ(config.mount.attr_timeout, 1.0);
  EXPECT_FALSE(config.mount.allow_other);
  EXPECT_EQ(config.mount.threads, 0u);
  EXPECT_FALSE(config.sources[0].exclude_caches);
}

TEST_F(ConfigTest, RelativeKeyAndPasswordFileResolveAgainstTheConfigDirectory) {
  fs::create_directories(dir_.path() / "etc/keys");
  write_text(dir_.path() / "etc/keys/k", "key\n", 0600);
  write_text(dir_.path() / "etc/pw", "pw\n", 0600);
  const fs::path config_file = dir_.path() / "etc/c.yaml";
  write_text(config_file, sub("key: keys/k\n"
                              "password_file: ./pw\n"
                              "sources:\n"
                              "  - name: a\n"
                              "    path: @D/src/a\n"));
  // Loaded through a relative path from another working directory: still absolute results.
  const fs::path old_cwd = fs::current_path();
  fs::current_path(dir_.path() / "src");
  Config config;
  try {
    config = load_config("../etc/c.yaml");
  } catch (...) {
    fs::current_path(old_cwd);
    throw;
  }
  fs::current_path(old_cwd);
  EXPECT_EQ(config.file, config_file);
  EXPECT_EQ(config.key, dir_.path() / "etc/keys/k");
  EXPECT_EQ(*config.password_file, dir_.path() / "etc/pw");
}

TEST_F(ConfigTest, RelativeKeyThatDoesNotExistIsReportedWithItsResolvedPath) {
  EXPECT_EQ(load("key: missing.key\n"
                 "sources:\n"
                 "  - name: a\n"
                 "    path: @D/src/a\n"),
            at(1, 6,
               "key: key file @D/missing.key does not exist (create it with encfsr init --key "
               "@D/missing.key)"));
}

TEST_F(ConfigTest, MissingFile) {
  try {
    load_config(dir_.path() / "nope.yaml");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()),
              dir_.str() + "/nope.yaml: cannot read: No such file or directory");
  }
}

TEST_F(ConfigTest, FileIsADirectory) {
  try {
    load_config(dir_.path() / "src");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), dir_.str() + "/src: cannot read: Is a directory");
  }
}

TEST_F(ConfigTest, SyntaxError) {
  EXPECT_EQ(load("key: @D/host.key\n"
                 "sources: [a, b\n"),
            at(3, 1, "syntax error: end of sequence flow not found"));
}

TEST_F(ConfigTest, SyntaxErrorBadIndentation) {
  EXPECT_EQ(load("key: @D/host.key\n"
                 "  sources: x\n"),
            at(2, 10, "syntax error: illegal map value"));
}

TEST_F(ConfigTest, EmptyFile) {
  EXPECT_EQ(load(""), at(1, 1, "the file is empty (expected a map of keys)"));
}

TEST_F(ConfigTest, TopLevelNotAMap) {
  EXPECT_EQ(load("- key\n- sources\n"), at(1, 1, "the top level must be a map of keys"));
  EXPECT_EQ(load("just text\n"), at(1, 1, "the top level must be a map of keys"));
}

TEST_F(ConfigTest, UnknownKeys) {
  EXPECT_EQ(load(std::string(kHead) + "colour: red\n"), at(5, 1, "colour: unknown key"));
  EXPECT_EQ(load(std::string(kHead) + "    exclude_cache: true\n"),
            at(5, 5, "sources[0].exclude_cache: unknown key"));
  EXPECT_EQ(load(std::string(kHead) + "mount:\n  thread: 4\n"),
            at(6, 3, "mount.thread: unknown key"));
}

TEST_F(ConfigTest, DuplicateKey) {
  EXPECT_EQ(load(std::string(kHead) + "names: base32\nnames: base64url\n"),
            at(6, 1, "names: duplicate key"));
}

TEST_F(ConfigTest, WrongTypes) {
  EXPECT_EQ(load(std::string(kHead) + "one_file_system: yes please\n"),
            at(5, 18, "one_file_system: expected a boolean (true or false)"));
  EXPECT_EQ(load(std::string(kHead) + "key_in_view: [true]\n"),
            at(5, 14, "key_in_view: expected a boolean (true or false)"));
  EXPECT_EQ(load(std::string(kHead) + "    exclude_caches: 1\n"),
            at(5, 21, "sources[0].exclude_caches: expected a boolean (true or false)"));
  EXPECT_EQ(load(std::string(kHead) + "password_command: {a: b}\n"),
            at(5, 19, "password_command: expected a string"));
  EXPECT_EQ(load(std::string(kHead) + "mount: 3\n"), at(5, 8, "mount: expected a map"));
  EXPECT_EQ(load(std::string(kHead) + "password_command_timeout: soon\n"),
            at(5, 27, "password_command_timeout: expected a number of seconds"));
  EXPECT_EQ(load(std::string(kHead) + "password_command_timeout: 0\n"),
            at(5, 27, "password_command_timeout: must be more than 0 seconds"));
  EXPECT_EQ(load("key: @D/host.key\nsources: home\n"),
            at(2, 10, "sources: expected a list of sources"));
  EXPECT_EQ(load("key: @D/host.key\nsources:\n  - home\n"),
            at(3, 5, "sources[0]: expected a map (name, path or paths, exclude, exclude_caches)"));
  EXPECT_EQ(load(std::string(kHead) + "    exclude: \"*.tmp\"\n"),
            at(5, 14, "sources[0].exclude: expected a list of patterns"));
}

TEST_F(ConfigTest, MissingRequiredKeys) {
  EXPECT_EQ(load("sources:\n  - name: a\n    path: @D/src/a\n"),
            at(1, 1, "key: missing required key"));
  EXPECT_EQ(load("key: @D/host.key\n"), at(1, 1, "sources: missing required key"));
  EXPECT_EQ(load("key: @D/host.key\nsources:\n  - path: @D/src/a\n"),
            at(3, 5, "sources[0].name: missing required key"));
}

TEST_F(ConfigTest, EmptySources) {
  EXPECT_EQ(load("key: @D/host.key\nsources: []\n"), at(2, 10, "sources: must not be empty"));
}

TEST_F(ConfigTest, RelativeSourcePath) {
  EXPECT_EQ(load("key: @D/host.key\nsources:\n  - name: a\n    path: src/a\n"),
            at(4, 11,
               "sources[0].path: 'src/a' is not an absolute path (source paths must be absolute)"));
}

TEST_F(ConfigTest, SourcePathMissing) {
  EXPECT_EQ(load(std::string(kHead) + "  - name: b\n    path: @D/src/nothing\n"),
            at(6, 11, "sources[1].path: @D/src/nothing does not exist"));
}

TEST_F(ConfigTest, SourcePathNotADirectory) {
  EXPECT_EQ(load(std::string(kHead) + "  - name: b\n    paths: [@D/src/b, @D/plain]\n"),
            at(6, 21 + static_cast<int>(dir_.str().size()),
               "sources[1].paths[1]: @D/plain is not a directory"));
}

TEST_F(ConfigTest, BothPathAndPaths) {
  EXPECT_EQ(load(std::string(kHead) + "    paths: [@D/src/b]\n"),
            at(5, 5, "sources[0].paths: path and paths exclude each other (give one)"));
}

TEST_F(ConfigTest, NeitherPathNorPaths) {
  EXPECT_EQ(load("key: @D/host.key\nsources:\n  - name: a\n    exclude_caches: true\n"),
            at(3, 5, "sources[0]: needs path (a directory) or paths (a list of tier directories)"));
}

TEST_F(ConfigTest, EmptyPathsList) {
  EXPECT_EQ(load("key: @D/host.key\nsources:\n  - name: a\n    paths: []\n"),
            at(4, 12, "sources[0].paths: must not be empty"));
}

TEST_F(ConfigTest, DuplicateSourceName) {
  EXPECT_EQ(load(std::string(kHead) + "  - name: a\n    path: @D/src/b\n"),
            at(5, 11, "sources[1].name: duplicate source name 'a' (also sources[0].name)"));
}

TEST_F(ConfigTest, InvalidSourceNames) {
  const std::string tail = "\n    path: @D/src/b\n";
  EXPECT_EQ(load(std::string(kHead) + "  - name: \"\"" + tail),
            at(5, 11, "sources[1].name: invalid source name (empty)"));
  EXPECT_EQ(load(std::string(kHead) + "  - name: a/b" + tail),
            at(5, 11, "sources[1].name: invalid source name 'a/b' (contains '/')"));
  EXPECT_EQ(load(std::string(kHead) + "  - name: ." + tail),
            at(5, 11, "sources[1].name: invalid source name '.'"));
  EXPECT_EQ(load(std::string(kHead) + "  - name: .." + tail),
            at(5, 11, "sources[1].name: invalid source name '..'"));
  EXPECT_EQ(load(std::string(kHead) + "  - name: \"x\\0y\"" + tail),
            at(5, 11, "sources[1].name: invalid source name (contains a NUL byte)"));
  EXPECT_EQ(load(std::string(kHead) + "  - name: " + std::string(256, 'n') + tail),
            at(5, 11, "sources[1].name: invalid source name (longer than 255 bytes)"));
  // 255 bytes is fine.
  EXPECT_EQ(load(std::string(kHead) + "  - name: " + std::string(255, 'n') + tail), "OK");
}

TEST_F(ConfigTest, OverlappingSources) {
  // Inside another source.
  EXPECT_EQ(load(std::string(kHead) + "  - name: b\n    path: @D/src/a/inner\n"),
            at(6, 11, "sources[1].path: @D/src/a/inner is inside sources[0].path (@D/src/a)"));
  // Containing an earlier source.
  EXPECT_EQ(load(std::string(kHead) + "  - name: b\n    path: @D/src\n"),
            at(6, 11, "sources[1].path: @D/src contains sources[0].path (@D/src/a)"));
  // The same directory spelled differently (compared canonically).
  EXPECT_EQ(load(std::string(kHead) + "  - name: b\n    path: @D/src/b/../a/\n"),
            at(6, 11, "sources[1].path: @D/src/a is the same directory as sources[0].path"));
  // A sibling whose name extends the other's is not inside it.
  fs::create_directories(dir_.path() / "src/ab");
  EXPECT_EQ(load(std::string(kHead) + "  - name: b\n    path: @D/src/ab\n"), "OK");
}

TEST_F(ConfigTest, OverlappingTiers) {
  // Two tiers of one source.
  EXPECT_EQ(
      load("key: @D/host.key\n"
           "sources:\n"
           "  - name: a\n"
           "    paths:\n"
           "      - @D/src/a\n"
           "      - @D/src/a/inner\n"),
      at(6, 9, "sources[0].paths[1]: @D/src/a/inner is inside sources[0].paths[0] (@D/src/a)"));
  // A tier of one source and a tier of another, through a symlink.
  fs::create_symlink(dir_.path() / "src/c", dir_.path() / "link");
  EXPECT_EQ(
      load("key: @D/host.key\n"
           "sources:\n"
           "  - name: a\n"
           "    paths:\n"
           "      - @D/src/b\n"
           "      - @D/src/c\n"
           "  - name: b\n"
           "    paths:\n"
           "      - @D/src/d\n"
           "      - @D/link\n"),
      at(10, 9, "sources[1].paths[1]: @D/src/c is the same directory as sources[0].paths[1]"));
}

TEST_F(ConfigTest, PasswordFileAndCommandExcludeEachOther) {
  EXPECT_EQ(load(std::string(kHead) + "password_file: @D/pass\npassword_command: echo x\n"),
            at(6, 1,
               "password_command: password_file and password_command exclude each other (give "
               "one)"));
}

TEST_F(ConfigTest, PasswordFileUnreadable) {
  EXPECT_EQ(
      load(std::string(kHead) + "password_file: nopass\n"),
      at(5, 16, "password_file: cannot read password file @D/nopass: No such file or directory"));
  EXPECT_EQ(load(std::string(kHead) + "password_file: src\n"),
            at(5, 16, "password_file: password file @D/src is a directory"));
}

TEST_F(ConfigTest, KeyFileAccessibleByOthers) {
  ::chmod((dir_.path() / "host.key").c_str(), 0640);
  EXPECT_EQ(load(kHead),
            at(1, 6, "key: key file @D/host.key is accessible by group or others (chmod 600 it)"));
  ::chmod((dir_.path() / "host.key").c_str(), 0604);
  EXPECT_EQ(load(kHead),
            at(1, 6, "key: key file @D/host.key is accessible by group or others (chmod 600 it)"));
  ::chmod((dir_.path() / "host.key").c_str(), 0400);
  EXPECT_EQ(load(kHead), "OK");
}

TEST_F(ConfigTest, KeyFileMissingOrNotAFile) {
  EXPECT_EQ(load("key: @D/other.key\nsources:\n  - name: a\n    path: @D/src/a\n"),
            at(1, 6,
               "key: key file @D/other.key does not exist (create it with encfsr init --key "
               "@D/other.key)"));
  EXPECT_EQ(load("key: @D/src\nsources:\n  - name: a\n    path: @D/src/a\n"),
            at(1, 6, "key: key file @D/src is not a regular file"));
}

TEST_F(ConfigTest, BadExcludePatterns) {
  EXPECT_EQ(load(std::string(kHead) + "    exclude: [\"*.tmp\", \"[abc\", \"x\\\\\"]\n"),
            at(5, 24, "sources[0].exclude[1]: bad exclude pattern '[abc': unclosed '['") + "\n" +
                at(5, 32,
                   "sources[0].exclude[2]: bad exclude pattern 'x\\': ends with an unescaped "
                   "backslash"));
}

TEST_F(ConfigTest, BadNames) {
  EXPECT_EQ(load(std::string(kHead) + "names: base16\n"),
            at(5, 8, "names: expected base64url or base32"));
}

TEST_F(ConfigTest, BadMountOptions) {
  EXPECT_EQ(load(std::string(kHead) + "mount:\n"
                                      "  entry_timeout: -1\n"
                                      "  attr_timeout: 1e9\n"
                                      "  allow_other: maybe\n"
                                      "  threads: 65\n"),
            at(6, 18, "mount.entry_timeout: must be between 0 and 86400 seconds") + "\n" +
                at(7, 17, "mount.attr_timeout: must be between 0 and 86400 seconds") + "\n" +
                at(8, 16, "mount.allow_other: expected a boolean (true or false)") + "\n" +
                at(9, 12, "mount.threads: must be between 0 and 64"));
  EXPECT_EQ(load(std::string(kHead) + "mount:\n"
                                      "  entry_timeout: soon\n"
                                      "  attr_timeout: .nan\n"
                                      "  threads: 2.5\n"),
            at(6, 18, "mount.entry_timeout: expected a number of seconds") + "\n" +
                at(7, 17, "mount.attr_timeout: expected a number of seconds") + "\n" +
                at(8, 12, "mount.threads: expected an integer"));
}

TEST_F(ConfigTest, EveryProblemIsReportedInFileOrder) {
  EXPECT_EQ(load("names: rot13\n"
                 "key: @D/none.key\n"
                 "sources:\n"
                 "  - name: a\n"
                 "    path: @D/src/a\n"
                 "    color: blue\n"
                 "  - name: a\n"
                 "    path: relative\n"
                 "one_file_system: 2\n"),
            at(1, 8, "names: expected base64url or base32") + "\n" +
                at(2, 6,
                   "key: key file @D/none.key does not exist (create it with encfsr init --key "
                   "@D/none.key)") +
                "\n" + at(6, 5, "sources[0].color: unknown key") + "\n" +
                at(7, 11, "sources[1].name: duplicate source name 'a' (also sources[0].name)") +
                "\n" +
                at(8, 11,
                   "sources[1].path: 'relative' is not an absolute path (source paths must be "
                   "absolute)") +
                "\n" + at(9, 18, "one_file_system: expected a boolean (true or false)"));
}

}  // namespace
}  // namespace encfsr::config
