// tests/fuzz/decrypt_view.cc — the decrypt view (src/fs/decrypt_view.h) over a fuzzed copy:
// the input, a small archive (tests/fuzz/tree_archive.h), is written as a tree into a fresh
// temporary directory, opened as a ciphertext copy with the fixed test key, and walked as
// `restore` and the FUSE mount would: every listing, lookup, getattr, readlink, extra_attrs and
// read (whole files, and at an offset inside a block), then every lookup forgotten.
//
// The archive's flags byte picks the options: bit 0 base32 names, bit 1 manifests, bit 2
// lenient sizes (restore --salvage), bit 3 compare owners.
#include "src/fs/decrypt_view.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "src/util/unique_fd.h"
#include "src/util/write_all.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/tree_archive.h"

namespace {

using namespace encfsr;
namespace stdfs = std::filesystem;

constexpr std::size_t kMaxEntries = 64;
constexpr int kMaxDepth = 16;

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/encfsr-fuzz-view.XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) std::abort();
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    stdfs::remove_all(path_, ec);
  }
  const stdfs::path& path() const { return path_; }

 private:
  stdfs::path path_;
};

void create_parents(const stdfs::path& root, const std::string& rel) {
  std::size_t slash = rel.find('/');
  while (slash != std::string::npos) {
    (void)::mkdir((root / rel.substr(0, slash)).c_str(), 0755);
    slash = rel.find('/', slash + 1);
  }
}

void write_tree(const stdfs::path& root, const std::vector<fuzz::ArchiveEntry>& entries) {
  for (const fuzz::ArchiveEntry& e : entries) {
    if (!fuzz::valid_relative_path(e.path)) continue;
    create_parents(root, e.path);
    const stdfs::path p = root / e.path;
    switch (static_cast<fuzz::ArchiveType>(e.type)) {
      case fuzz::ArchiveType::kDir:
        (void)::mkdir(p.c_str(), 0755);
        break;
      case fuzz::ArchiveType::kFile: {
        util::UniqueFd fd(::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
        if (fd) (void)util::write_all(fd.get(), e.content);
        break;
      }
      case fuzz::ArchiveType::kSymlink:
        if (!e.content.empty() && e.content.find('\0') == std::string::npos) {
          (void)::symlink(e.content.c_str(), p.c_str());
        }
        break;
      case fuzz::ArchiveType::kFifo:
        (void)::mkfifo(p.c_str(), 0644);
        break;
    }
  }
}

void read_whole(fs::OpenFile& file, std::uint64_t size) {
  std::vector<std::uint8_t> buf(70000);  // not a multiple of the block size
  std::uint64_t offset = 0;
  for (int i = 0; i < 64; ++i) {
    auto n = file.read(offset, buf);
    if (!n) {
      ENCFSR_FUZZ_CHECK(n.error() == EIO);
      break;
    }
    ENCFSR_FUZZ_CHECK(*n <= buf.size());
    if (*n == 0) break;
    offset += *n;
  }
  ENCFSR_FUZZ_CHECK(offset <= size);
  // A short read inside a block, and one past the end.
  std::span<std::uint8_t> small(buf.data(), 100);
  if (auto n = file.read(size / 2 + 1, small)) ENCFSR_FUZZ_CHECK(*n <= small.size());
  if (auto n = file.read(size + 5000, small)) ENCFSR_FUZZ_CHECK(*n == 0);
}

void walk(fs::View& view, fs::Ino dir, int depth) {
  auto entries = view.list(dir);
  if (!entries) return;
  for (const fs::DirEntry& d : *entries) {
    ENCFSR_FUZZ_CHECK(!d.name.empty() && d.name.size() <= 255);
    ENCFSR_FUZZ_CHECK(d.name.find('/') == std::string::npos && d.name != "." && d.name != "..");
    auto entry = view.lookup(dir, d.name);
    if (!entry) continue;  // changed or damaged: reported through the sink
    const fs::Ino ino = entry->ino;
    (void)view.getattr(ino);
    (void)view.extra_attrs(ino);
    const mode_t type = entry->attr.st_mode & S_IFMT;
    if (type == S_IFDIR) {
      if (depth < kMaxDepth) walk(view, ino, depth + 1);
    } else if (type == S_IFLNK) {
      if (auto target = view.readlink(ino)) {
        ENCFSR_FUZZ_CHECK(static_cast<off_t>(target->size()) == entry->attr.st_size);
      }
    } else if (type == S_IFREG) {
      if (auto file = view.open(ino)) {
        read_whole(**file, static_cast<std::uint64_t>(entry->attr.st_size));
      }
    }
    view.forget(ino, 1);
  }
  // Names that are not in the listing: the key file, a manifest, a long form's side file.
  for (const char* name : {"encfsr.key", "encfsr.dir", "missing", "a.name"}) {
    if (auto entry = view.lookup(dir, name)) view.forget(entry->ino, 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static const TempDir temp;
  const stdfs::path root = temp.path() / "copy";
  std::error_code ec;
  stdfs::remove_all(root, ec);
  ENCFSR_FUZZ_CHECK(::mkdir(root.c_str(), 0755) == 0);
  const std::uint8_t flags = data[0];
  write_tree(root, fuzz::read_entries(fuzz::as_text(data + 1, size - 1), kMaxEntries));

  util::UniqueFd fd(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ENCFSR_FUZZ_CHECK(fd);
  fs::DecryptOptions options;
  options.names = (flags & 1) ? crypto::NameEncoding::kBase32 : crypto::NameEncoding::kBase64Url;
  options.manifests = (flags & 2) != 0;
  options.lenient_sizes = (flags & 4) != 0;
  options.compare_owners = (flags & 8) != 0;
  std::size_t damage = 0;
  options.on_damage = [&damage](const fs::Damage&) { ++damage; };
  auto view = fs::make_decrypt_view(std::move(fd), fuzz::test_master(), std::move(options));
  if (auto root_attr = view->getattr(fs::kRootIno)) {
    ENCFSR_FUZZ_CHECK((root_attr->st_mode & S_IFMT) == S_IFDIR);
  }
  walk(*view, fs::kRootIno, 0);
  return 0;
}
