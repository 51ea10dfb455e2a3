// tests/fuzz/path_map.cc — the paths a user hands to `encfsr path encrypt|decrypt`,
// `restore` and `verify`, mapped with the fixed test key (src/cli/path_map.h and
// split_view_path of src/cli/tree_walk.h).
//
// Input: byte 0 picks the names' encoding (bit 0: base32), the rest is the path. Paths come
// from the command line, so a path holding a NUL byte is skipped (argv cannot hold one).
//   - split_view_path: components are never empty, ".", ".." or hold a '/'.
//   - as a plaintext path: its components encrypt to a ciphertext path of names of at most 255
//     bytes, which decrypts back (long forms through their side files' contents) to them.
//   - as a ciphertext path: decrypting it either throws CliError or gives a valid path.
//   - as an absolute path: mapped into a configuration's sources.
#include "src/cli/path_map.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "src/cli/cli_error.h"
#include "src/cli/tree_walk.h"
#include "tests/fuzz/fuzz_common.h"

namespace {

using namespace encfsr;
namespace stdfs = std::filesystem;

bool valid_component(const std::string& name) {
  return !name.empty() && name.size() <= crypto::kMaxNameBytes && name != "." && name != ".." &&
         name.find('/') == std::string::npos;
}

std::vector<std::string> split(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = path.find('/', start);
    out.push_back(path.substr(start, slash == std::string::npos ? slash : slash - start));
    if (slash == std::string::npos) return out;
    start = slash + 1;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static const crypto::NameCipher base64(fuzz::test_keys(), crypto::NameEncoding::kBase64Url);
  static const crypto::NameCipher base32(fuzz::test_keys(), crypto::NameEncoding::kBase32);
  const crypto::NameCipher& cipher = (data[0] & 1) ? base32 : base64;
  const crypto::KeySet& keys = fuzz::test_keys();
  const std::string text(fuzz::as_text(data + 1, size - 1));
  if (text.find('\0') != std::string::npos) return 0;

  std::vector<std::string> parts;
  if (cli::split_view_path(text, parts)) {
    for (const std::string& part : parts)
      ENCFSR_FUZZ_CHECK(!part.empty() && part != "." && part != ".." &&
                        part.find('/') == std::string::npos);
  }

  // Plaintext -> ciphertext -> plaintext.
  try {
    parts = cli::path_components(stdfs::path(text), text);
  } catch (const cli::CliError&) {
    parts.clear();
  }
  if (!parts.empty()) {
    std::string joined;
    for (const std::string& part : parts) {
      ENCFSR_FUZZ_CHECK(valid_component(part));
      joined += (joined.empty() ? "" : "/") + part;
    }
    const std::string encrypted = cli::encrypt_view_path(keys, cipher, parts);
    std::map<std::string, std::string> side_files;  // long form -> full name
    crypto::NodeId dir = crypto::root_id(keys);
    for (const std::string& part : parts) {
      const crypto::EncryptedName name = cipher.encrypt(dir, part);
      if (name.is_long) side_files[name.name] = name.full;
      dir = crypto::child_id(keys, dir, part);
    }
    const std::vector<std::string> cipher_parts = split(encrypted);
    ENCFSR_FUZZ_CHECK(cipher_parts.size() == parts.size());
    for (const std::string& part : cipher_parts) ENCFSR_FUZZ_CHECK(valid_component(part));
    const std::string decrypted = cli::decrypt_cipher_path(
        keys, cipher, cipher_parts, [&side_files](const std::string&, const std::string& name) {
          auto it = side_files.find(name);
          ENCFSR_FUZZ_CHECK(it != side_files.end());
          return it->second;
        });
    ENCFSR_FUZZ_CHECK(decrypted == joined);
  }

  // The input as a ciphertext path (a side file's content: the path itself).
  try {
    const std::vector<std::string> cipher_parts = cli::path_components(stdfs::path(text), text);
    const std::string plain =
        cli::decrypt_cipher_path(keys, cipher, cipher_parts,
                                 [&text](const std::string&, const std::string&) { return text; });
    for (const std::string& part : split(plain)) ENCFSR_FUZZ_CHECK(valid_component(part));
  } catch (const cli::CliError& e) {
    ENCFSR_FUZZ_CHECK(e.exit_code() != 0);
  }

  // Absolute paths into a configuration's sources.
  static const config::Config config = [] {
    config::Config c;
    c.sources.push_back(config::Source{"data", {"/srv/data", "/srv/more/"}, {}, false});
    c.sources.push_back(config::Source{"tmp", {"/tmp"}, {}, false});
    return c;
  }();
  const stdfs::path path(text);
  if (path.is_absolute()) {
    if (auto found = cli::view_path_of_absolute(config, path)) {
      ENCFSR_FUZZ_CHECK(!found->empty());
      ENCFSR_FUZZ_CHECK((*found)[0] == "data" || (*found)[0] == "tmp");
    }
  }
  (void)cli::path_inside(path, "/srv/data/");
  return 0;
}
