// tests/fuzz/key_file.cc — the key file ("encfsr.key", config/key_file.h) as a copy or the user
// hands it over: parsed, and when it parses, unwrapped with the corpus's password, the way
// `mount --decrypt`, `restore` and `verify` use it.
//
// Argon2id runs with whatever parameters the file asks for. parse_key_file accepts up to
// 4 GiB x 64 passes (the cap on what a copy may ask for is config/key_file.cc's job, not this
// target's), so inputs asking for more than kMaxOps passes or kMaxMem bytes are parsed but
// never unwrapped here: one such input would otherwise take minutes and gigabytes per run.
#include "config/key_file.h"

#include <cstdint>
#include <string>

#include "tests/fuzz/fuzz_common.h"

namespace {

using namespace encfsr;

constexpr std::uint64_t kMaxOps = 2;
constexpr std::uint64_t kMaxMem = 64 * 1024;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  config::KeyFile key_file;
  std::string error;
  if (!config::parse_key_file(text, key_file, error)) {
    ENCFSR_FUZZ_CHECK(error.starts_with("line "));
    return 0;
  }
  ENCFSR_FUZZ_CHECK(crypto::kdf_params_valid(key_file.kdf));

  // The canonical text of what was parsed parses to the same values.
  config::KeyFile again;
  ENCFSR_FUZZ_CHECK(config::parse_key_file(config::serialize_key_file(key_file), again, error));
  ENCFSR_FUZZ_CHECK(again.kdf.ops == key_file.kdf.ops && again.kdf.mem == key_file.kdf.mem);
  ENCFSR_FUZZ_CHECK(again.wrapped.salt == key_file.wrapped.salt);
  ENCFSR_FUZZ_CHECK(again.wrapped.nonce == key_file.wrapped.nonce);
  ENCFSR_FUZZ_CHECK(again.wrapped.box == key_file.wrapped.box);
  ENCFSR_FUZZ_CHECK(again.check == key_file.check);

  const crypto::KeySet& keys = fuzz::test_keys();
  (void)config::master_key_matches(key_file, fuzz::test_master());
  (void)config::view_section_valid(key_file, keys);

  if (key_file.kdf.ops > kMaxOps || key_file.kdf.mem > kMaxMem) return 0;  // see the header
  crypto::MasterKey master;
  const crypto::Status status = config::open_key_file(key_file, fuzz::kTestPassword, master);
  if (status == crypto::Status::kOk) {
    // Only the corpus's own key opens with its password (the box is authenticated).
    ENCFSR_FUZZ_CHECK(config::master_key_matches(key_file, master));
    const crypto::KeySet opened(master);
    if (key_file.names) (void)config::view_section_valid(key_file, opened);
  } else {
    ENCFSR_FUZZ_CHECK(status == crypto::Status::kWrongPassword ||
                      status == crypto::Status::kAuthFailed);
  }
  return 0;
}
