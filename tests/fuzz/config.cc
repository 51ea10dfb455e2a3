// tests/fuzz/config.cc — the YAML configuration (config/config.h) as the user writes it: the
// input is written to a temporary file and loaded; a configuration that loads has its
// exclusion patterns compiled (config/exclude_rules.h) and asked about a few paths.
//
// load_config reports every problem as ConfigError; any other exception escaping it is a bug
// (the CLI would die with "terminate called ..."), and libFuzzer reports it as a crash.
// Source paths must be existing directories: the corpus uses /, /tmp, /usr and /etc.
#include "config/config.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "config/exclude_rules.h"
#include "src/util/unique_fd.h"
#include "src/util/write_all.h"
#include "tests/fuzz/fuzz_common.h"

namespace {

using namespace encfsr;

// A temporary directory holding the configuration file, removed at exit.
class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/encfsr-fuzz-config.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const TempDir dir;
  const std::filesystem::path file = dir.path() / "backup.yaml";
  {
    util::UniqueFd fd(::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    ENCFSR_FUZZ_CHECK(fd);
    ENCFSR_FUZZ_CHECK(util::write_all(fd.get(), data, size) == 0);
  }
  config::Config loaded;
  try {
    loaded = config::load_config(file);
  } catch (const config::ConfigError& e) {
    ENCFSR_FUZZ_CHECK(*e.what() != '\0');
    return 0;
  }
  ENCFSR_FUZZ_CHECK(!loaded.sources.empty());
  ENCFSR_FUZZ_CHECK(loaded.key.is_absolute());
  for (const config::Source& source : loaded.sources) {
    ENCFSR_FUZZ_CHECK(!source.name.empty() && !source.paths.empty());
    for (const std::string& pattern : source.exclude) {
      ENCFSR_FUZZ_CHECK(config::check_exclude_pattern(pattern).empty());
    }
    const config::ExcludeRules rules(source.exclude);
    for (const std::string& pattern : source.exclude) {
      // The pattern's own text as a path (without a leading '/', never empty).
      std::string path = pattern;
      while (!path.empty() && (path.front() == '/' || path.front() == '!')) path.erase(0, 1);
      if (path.empty()) continue;
      (void)rules.excluded(path, false);
      (void)rules.excluded(path + "/a/b.txt", true);
    }
    (void)rules.excluded(source.name, true);
  }
  return 0;
}
