// Tests of src/cli/path_map: the path mapping of `encfsr path encrypt|decrypt`.
#include "src/cli/path_map.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "crypto/node_id.h"
#include "src/cli/cli_error.h"

namespace encfsr::cli {
namespace {

using Parts = std::vector<std::string>;

// Found by the path_map fuzz target: libstdc++ iterates "/////" as one element "/////", which
// was taken for a name holding '/'.
TEST(PathComponents, APathOfOnlySlashesIsEmpty) {
  EXPECT_THROW(path_components("/////", "/////"), CliError);
  EXPECT_THROW(path_components("//", "//"), CliError);
  EXPECT_EQ(path_components("///data//a/", "p"), (Parts{"data", "a"}));
}

TEST(PathComponents, RefusesDotsAndLongNames) {
  EXPECT_THROW(path_components("a/../b", "p"), CliError);
  EXPECT_THROW(path_components("a/./b", "p"), CliError);
  EXPECT_THROW(path_components("a/" + std::string(256, 'x'), "p"), CliError);
  EXPECT_EQ(path_components("a/" + std::string(255, 'x'), "p"),
            (Parts{"a", std::string(255, 'x')}));
}

TEST(PathMap, EncryptsAndDecryptsLongAndShortNames) {
  const crypto::MasterKey master = crypto::MasterKey::generate();
  const crypto::KeySet keys(master);
  for (auto encoding : {crypto::NameEncoding::kBase64Url, crypto::NameEncoding::kBase32}) {
    const crypto::NameCipher cipher(keys, encoding);
    const Parts plain{"data", std::string(200, 'L'), "b.txt"};
    const std::string encrypted = encrypt_view_path(keys, cipher, plain);
    const Parts cipher_parts = path_components(encrypted, encrypted);
    ASSERT_EQ(cipher_parts.size(), 3u);
    EXPECT_TRUE(crypto::NameCipher::is_long_form(cipher_parts[1]));
    const std::string full =
        cipher.encrypt(crypto::child_id(keys, crypto::root_id(keys), "data"), plain[1]).full;
    std::vector<std::string> asked;
    const std::string decrypted = decrypt_cipher_path(
        keys, cipher, cipher_parts, [&](const std::string& dir, const std::string& name) {
          asked.push_back(dir + "|" + name);
          return full;
        });
    EXPECT_EQ(decrypted, "data/" + plain[1] + "/b.txt");
    EXPECT_EQ(asked, (Parts{cipher_parts[0] + "|" + cipher_parts[1]}));
    // A side file that belongs to another long form is damage.
    EXPECT_THROW(decrypt_cipher_path(
                     keys, cipher, cipher_parts,
                     [](const std::string&, const std::string&) { return std::string(300, 'A'); }),
                 CliError);
  }
}

}  // namespace
}  // namespace encfsr::cli
