// tests/fuzz/make_seeds.cc — writes the seed corpora of the fuzz targets from the real format,
// with the fixed test key: `encfsr_fuzz_seeds DIR` fills DIR/<target>/ (tests/fuzz/corpus is
// its checked-in output; re-run it after a format change and commit what changed). Key files
// hold a random salt and nonce, so they differ at every run.
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/key_file.h"
#include "crypto/content_cipher.h"
#include "crypto/manifest.h"
#include "crypto/name_cipher.h"
#include "src/fs/reverse_view.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/tree_archive.h"

namespace {

using namespace encfsr;
namespace stdfs = std::filesystem;

stdfs::path g_out;

void seed(const std::string& target, const std::string& name, const std::string& bytes) {
  const stdfs::path dir = g_out / target;
  stdfs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

std::string bytes_of(std::uint8_t first, std::string_view rest) {
  return std::string(1, static_cast<char>(first)) + std::string(rest);
}

std::string pattern(std::size_t n, unsigned salt) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + salt * 7) & 0xff);
  return s;
}

std::string seal_file(std::string_view plain) {
  static const crypto::ContentCipher cipher(fuzz::test_keys());
  const auto* p = reinterpret_cast<const std::uint8_t*>(plain.data());
  std::string out(crypto::cipher_size(plain.size()), '\0');
  const std::uint64_t blocks = crypto::block_count(plain.size());
  for (std::uint64_t i = 0; i < blocks; ++i) {
    const std::size_t at = i * crypto::kBlockSize;
    const std::size_t len = std::min<std::size_t>(crypto::kBlockSize, plain.size() - at);
    cipher.seal(fuzz::test_file_id(), i, i + 1 == blocks, {p + at, len},
                {reinterpret_cast<std::uint8_t*>(out.data()) + i * crypto::kCipherBlockSize,
                 len + crypto::kTagSize});
  }
  return out;
}

std::string le64(std::uint64_t v) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return s;
}

void content_blocks() {
  for (std::size_t size : {0, 1, 100, 4096, 4097, 9000}) {
    seed("content_blocks", "sealed-" + std::to_string(size),
         bytes_of(0, seal_file(pattern(size, 1))));
  }
  seed("content_blocks", "damaged-tail", bytes_of(0, seal_file(pattern(5000, 2)).substr(0, 4120)));
  seed("content_blocks", "edit-none", bytes_of(1, le64(0) + pattern(5000, 3)));
  seed("content_blocks", "edit-flip", bytes_of(1, le64(0x0000000004000007) + pattern(5000, 3)));
  seed("content_blocks", "edit-cut", bytes_of(1, le64(0x0000100100000000) + pattern(9000, 4)));
  seed("content_blocks", "edit-swap", bytes_of(1, le64(0x0000000200000000) + pattern(9000, 5)));
}

void encoding() {
  seed("encoding", "base64url", "SGVsbG8sIHdvcmxkIQ");
  seed("encoding", "base32", "nbswy3dpeb3w64tmmq");
  seed("encoding", "hex", "00ff10a5");
  seed("encoding", "bytes", pattern(40, 9));
}

const std::vector<std::string>& sample_names() {
  static const std::vector<std::string> names = {"a",
                                                 "file.txt",
                                                 "\xc3\xa9t\xc3\xa9 notes.md",
                                                 std::string(120, 'n'),
                                                 std::string(200, 'L'),
                                                 std::string(255, 'z')};
  return names;
}

void names_and_long_names() {
  const crypto::NameCipher base64(fuzz::test_keys(), crypto::NameEncoding::kBase64Url);
  const crypto::NameCipher base32(fuzz::test_keys(), crypto::NameEncoding::kBase32);
  int i = 0;
  for (const std::string& plain : sample_names()) {
    for (int enc = 0; enc < 2; ++enc) {
      const crypto::NameCipher& cipher = enc ? base32 : base64;
      const auto name = cipher.encrypt(fuzz::test_dir_id(), plain);
      const std::string tag = std::to_string(i) + (enc ? "-base32" : "-base64");
      if (name.is_long) {
        seed("long_name", tag,
             bytes_of(static_cast<std::uint8_t>(enc), name.name + "\n" + name.full + "\n"));
      } else {
        seed("name", "cipher-" + tag, bytes_of(static_cast<std::uint8_t>(enc), name.full));
      }
      if (i % 2 == 0)
        seed("name", "plain-" + tag, bytes_of(static_cast<std::uint8_t>(2 | enc), plain));
    }
    ++i;
  }
}

void symlink_targets() {
  const crypto::NameCipher cipher(fuzz::test_keys(), crypto::NameEncoding::kBase64Url);
  int i = 0;
  for (const std::string& target :
       std::vector<std::string>{"../a/b.txt", "/etc/passwd", std::string(300, 't')}) {
    seed("symlink_target", "cipher-" + std::to_string(i),
         bytes_of(0, cipher.encrypt_link(fuzz::test_file_id(), target)));
    seed("symlink_target", "plain-" + std::to_string(i), bytes_of(1, target));
    ++i;
  }
}

std::vector<crypto::ManifestRecord> sample_records(std::size_t count) {
  std::vector<crypto::ManifestRecord> out;
  for (std::size_t i = 0; i < count; ++i) {
    crypto::ManifestRecord r;
    char name[32];
    std::snprintf(name, sizeof name, "entry-%04zu%s", i, i % 7 == 3 ? "\xe2\x82\xac" : ".txt");
    r.name = name;
    r.type = static_cast<crypto::EntryType>(1 + i % 3);
    r.attrs_known = i % 11 != 5;
    if (r.attrs_known) {
      r.mode = static_cast<std::uint16_t>(i % 5 == 0 ? 04755 : 0644);
      r.uid = i % 4 == 0 ? 1000 : 0;
      r.gid = r.uid;
      r.mtime_sec = 1700000000 + static_cast<std::int64_t>(i) * 37;
      r.mtime_nsec = i % 3 == 0 ? 0 : static_cast<std::uint32_t>(i * 1000 + 1);
      r.size = r.type == crypto::EntryType::kDirectory ? 0 : i * 4097;
      if (r.type == crypto::EntryType::kRegular && i % 6 == 2) r.link_group = 0x1234 + i;
      if (i % 9 == 1) r.xattrs = {{"security.capability", "\x01\x02"}, {"user.note", "hello"}};
    }
    out.push_back(std::move(r));
  }
  return out;
}

void manifests() {
  const crypto::ManifestCipher cipher(fuzz::test_keys());
  for (std::size_t count : {1, 5, 100}) {
    const auto records = sample_records(count);
    const std::string tag = std::to_string(count);
    seed("manifest", "sealed-" + tag, bytes_of(0, cipher.seal(fuzz::test_dir_id(), records)));
    if (count <= 5) {
      seed("manifest", "records-" + tag, bytes_of(1, crypto::encode_records(records)));
      seed("manifest", "chunks-" + tag, bytes_of(2, crypto::encode_records(records)));
    }
  }
}

void key_files() {
  config::KeyFile key_file;
  if (config::make_key_file(fuzz::test_master(), fuzz::kTestPassword, {1, 8192}, key_file) !=
      crypto::Status::kOk) {
    std::abort();
  }
  seed("key_file", "plain", config::serialize_key_file(key_file));
  seed("key_file", "view-base64",
       config::serialize_key_file_with_view(key_file, crypto::NameEncoding::kBase64Url, true,
                                            fuzz::test_keys()));
  seed("key_file", "view-base32",
       config::serialize_key_file_with_view(key_file, crypto::NameEncoding::kBase32, false,
                                            fuzz::test_keys()));
  // Costs no cheap target may pay: parsed, never unwrapped (see key_file.cc).
  config::KeyFile costly = key_file;
  costly.kdf = {64, 4ull << 30};
  seed("key_file", "costly", config::serialize_key_file(costly));
}

void configs() {
  seed("config", "minimal", "key: host.key\nsources:\n  - name: tmp\n    path: /tmp\n");
  seed("config", "full",
       "key: /etc/encfsr/host.key\n"
       "password_file: /etc/encfsr/host.pass\n"
       "names: base32\n"
       "sources:\n"
       "  - name: home\n"
       "    path: /tmp\n"
       "    exclude:\n"
       "      - \"**/.cache/\"\n"
       "      - \"*.tmp\"\n"
       "      - \"!keep.tmp\"\n"
       "      - \"/a/**/b/[a-c]?.txt\"\n"
       "    exclude_caches: true\n"
       "  - name: usr\n"
       "    paths: [/usr, /etc]\n"
       "one_file_system: true\n"
       "key_in_view: false\n"
       "manifests: true\n"
       "mount:\n"
       "  entry_timeout: 1.5\n"
       "  attr_timeout: 1\n"
       "  allow_other: false\n"
       "  threads: 4\n");
  seed("config", "command",
       "key: k\npassword_command: \"pass show backup\"\nsources: [{name: r, path: /}]\n");
  seed("config", "errors",
       "key: 3\nnames: rot13\nsources:\n  - name: a/b\n    path: relative\n  - {}\nbogus: [\n");
}

void paths() {
  seed("path_map", "relative", bytes_of(0, "data/a/b.txt"));
  seed("path_map", "absolute", bytes_of(0, "/srv/data/x/./y/../z"));
  seed("path_map", "long", bytes_of(1, "tmp/" + std::string(200, 'L') + "/c"));
  seed("path_map", "dots", bytes_of(0, "a//b/./c/../d/"));
}

// A real copy: the reverse view of a small tree, copied out through the View interface.
void copy_out(fs::View& view, fs::Ino dir, const std::string& prefix, std::string& archive) {
  auto entries = view.list(dir);
  if (!entries) std::abort();
  for (const fs::DirEntry& e : *entries) {
    auto entry = view.lookup(dir, e.name);
    if (!entry) std::abort();
    const std::string path = prefix.empty() ? e.name : prefix + "/" + e.name;
    fuzz::ArchiveEntry out;
    out.path = path;
    if (e.type == S_IFDIR) {
      out.type = static_cast<std::uint8_t>(fuzz::ArchiveType::kDir);
      fuzz::append_entry(archive, out);
      copy_out(view, entry->ino, path, archive);
    } else if (e.type == S_IFLNK) {
      out.type = static_cast<std::uint8_t>(fuzz::ArchiveType::kSymlink);
      out.content = *view.readlink(entry->ino);
      fuzz::append_entry(archive, out);
    } else {
      out.type = static_cast<std::uint8_t>(fuzz::ArchiveType::kFile);
      auto file = view.open(entry->ino);
      if (!file) std::abort();
      std::vector<std::uint8_t> buf(static_cast<std::size_t>(entry->attr.st_size));
      auto n = (*file)->read(0, buf);
      if (!n || *n != buf.size()) std::abort();
      out.content.assign(buf.begin(), buf.end());
      fuzz::append_entry(archive, out);
    }
    view.forget(entry->ino, 1);
  }
}

void decrypt_views() {
  char tmpl[] = "/tmp/encfsr-fuzz-seeds.XXXXXX";
  if (::mkdtemp(tmpl) == nullptr) std::abort();
  const stdfs::path src = tmpl;
  std::ofstream(src / "empty");
  std::ofstream(src / "small.txt") << "hello, world\n";
  std::ofstream(src / "two-blocks.bin", std::ios::binary) << pattern(5000, 7);
  stdfs::create_directories(src / "dir/sub");
  std::ofstream(src / "dir/sub/deep.txt") << "deep";
  std::ofstream(src / ("dir/" + std::string(180, 'L'))) << "long name";
  stdfs::create_symlink("sub/deep.txt", src / "dir/link");
  for (int flags : {0, 1, 2, 3, 6}) {
    config::Config config;
    config.sources.push_back(config::Source{"data", {src}, {}, false});
    config.names = (flags & 1) ? crypto::NameEncoding::kBase32 : crypto::NameEncoding::kBase64Url;
    config.manifests = (flags & 2) != 0;
    fs::ReverseOptions options;
    options.key_file_text = "not a key file\n";
    auto view = fs::make_reverse_view(config, fuzz::test_master(), std::move(options));
    std::string archive(1, static_cast<char>(flags));
    copy_out(*view, fs::kRootIno, "", archive);
    seed("decrypt_view", "copy-" + std::to_string(flags), archive);
  }
  // A FIFO where a file belongs, next to a cut file.
  std::string odd(1, '\0');
  fuzz::append_entry(odd, {static_cast<std::uint8_t>(fuzz::ArchiveType::kFifo), "fifo", ""});
  fuzz::append_entry(odd, {static_cast<std::uint8_t>(fuzz::ArchiveType::kFile), "x/cut", "short"});
  seed("decrypt_view", "odd", odd);
  stdfs::remove_all(src);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: encfsr_fuzz_seeds DIR\n");
    return 2;
  }
  g_out = argv[1];
  content_blocks();
  encoding();
  names_and_long_names();
  symlink_targets();
  manifests();
  key_files();
  configs();
  paths();
  decrypt_views();
  return 0;
}
