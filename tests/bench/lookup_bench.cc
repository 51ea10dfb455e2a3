// tests/bench/lookup_bench.cc — the reverse view's lookup cost against directory size: a short
// and a long name, in directories of 30 and 30,000 entries (one in ten with a long name), after
// the directory was listed, as a backup tool does (readdir, then lstat of each entry).
// Run by hand: build/<dir>/tests/bench/encfsr_lookup_bench
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "crypto/keys.h"
#include "src/fs/reverse_view.h"

namespace encfsr::fs {
namespace {

namespace stdfs = std::filesystem;

// A source directory of n entries and a reverse view of it, made once per size.
struct Fixture {
  explicit Fixture(std::size_t n) : master(crypto::MasterKey::generate()) {
    char tmpl[] = "/tmp/encfsr-lookup-bench.XXXXXX";
    root = ::mkdtemp(tmpl);
    stdfs::create_directories(root / "d");
    for (std::size_t i = 0; i < n; ++i) {
      const std::string name = i % 10 == 0 ? std::string(180, 'l') + std::to_string(i)
                                           : "file-" + std::to_string(i) + ".txt";
      std::ofstream(root / "d" / name) << i;
    }
    config.sources.push_back(config::Source{"src", {root}, {}, false});
    ReverseOptions options;
    options.key_file_text = "K\n";
    view = make_reverse_view(config, master, std::move(options));
    src = only_subdirectory(kRootIno);
    dir = only_subdirectory(src);
    const auto listing = view->list(dir);
    if (!listing) throw std::runtime_error("cannot list the benchmark directory");
    for (const DirEntry& e : *listing) {
      if (e.name.starts_with("encfsr.long.") && !e.name.ends_with(".name")) long_name = e.name;
      if (e.name.size() < 100 && e.name.find('.') == std::string::npos) short_name = e.name;
    }
  }
  ~Fixture() { stdfs::remove_all(root); }

  Ino only_subdirectory(Ino parent) {
    const auto listing = view->list(parent);
    if (!listing) throw std::runtime_error("cannot list a benchmark directory");
    for (const DirEntry& e : *listing) {
      if (e.type != S_IFDIR) continue;
      auto entry = view->lookup(parent, e.name);
      if (entry) return entry->ino;
    }
    throw std::runtime_error("no subdirectory");
  }

  crypto::MasterKey master;
  stdfs::path root;
  config::Config config;
  std::unique_ptr<View> view;
  Ino src = 0, dir = 0;
  std::string long_name, short_name;
};

Fixture& fixture(std::size_t n) {
  static std::map<std::size_t, std::unique_ptr<Fixture>> made;
  auto& f = made[n];
  if (!f) f = std::make_unique<Fixture>(n);
  return *f;
}

void lookup(benchmark::State& state, bool long_name) {
  Fixture& f = fixture(static_cast<std::size_t>(state.range(0)));
  const std::string& name = long_name ? f.long_name : f.short_name;
  for (auto _ : state) {
    auto e = f.view->lookup(f.dir, name);
    if (!e) state.SkipWithError("lookup failed");
    benchmark::DoNotOptimize(e);
    f.view->forget(e->ino, 1);
  }
}

void BM_LookupShortName(benchmark::State& state) { lookup(state, false); }
void BM_LookupLongName(benchmark::State& state) { lookup(state, true); }
BENCHMARK(BM_LookupShortName)->Arg(30)->Arg(30000);
BENCHMARK(BM_LookupLongName)->Arg(30)->Arg(30000);

}  // namespace
}  // namespace encfsr::fs
