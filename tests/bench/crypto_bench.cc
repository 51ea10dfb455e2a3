// tests/bench/crypto_bench.cc — throughput of the format library's hot paths: sealing and
// opening one 4 KiB content block, and encrypting / decrypting a typical 12-byte name.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <vector>

#include "crypto/content_cipher.h"
#include "crypto/name_cipher.h"
#include "crypto/size_math.h"

namespace encfsr::crypto {
namespace {

struct Fixture {
  Fixture() : keys(MasterKey::generate()), file(child_id(keys, root_id(keys), "file")) {}
  KeySet keys;
  NodeId file;
};

void BM_SealBlock(benchmark::State& state) {
  Fixture f;
  const ContentCipher cipher(f.keys);
  std::vector<std::uint8_t> plain(kBlockSize, 0x5a), out(kCipherBlockSize);
  std::uint64_t index = 0;
  for (auto _ : state) {
    cipher.seal(f.file, index++, false, plain, out);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kBlockSize));
}
BENCHMARK(BM_SealBlock);

void BM_OpenBlock(benchmark::State& state) {
  Fixture f;
  const ContentCipher cipher(f.keys);
  std::vector<std::uint8_t> plain(kBlockSize, 0x5a), sealed(kCipherBlockSize), out(kBlockSize);
  cipher.seal(f.file, 7, false, plain, sealed);
  for (auto _ : state) {
    const Status s = cipher.open(f.file, 7, false, sealed, out);
    if (s != Status::kOk) state.SkipWithError("open failed");
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kBlockSize));
}
BENCHMARK(BM_OpenBlock);

void BM_EncryptName(benchmark::State& state) {
  Fixture f;
  const NameCipher names(f.keys, NameEncoding::kBase64Url);
  for (auto _ : state) {
    EncryptedName n = names.encrypt(f.file, "report-2024.");
    benchmark::DoNotOptimize(n.name.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_EncryptName);

void BM_DecryptName(benchmark::State& state) {
  Fixture f;
  const NameCipher names(f.keys, NameEncoding::kBase64Url);
  const std::string full = names.encrypt(f.file, "report-2024.").full;
  std::string plain;
  for (auto _ : state) {
    if (names.decrypt(f.file, full, plain) != Status::kOk) state.SkipWithError("decrypt failed");
    benchmark::DoNotOptimize(plain.data());
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()));
}
BENCHMARK(BM_DecryptName);

}  // namespace
}  // namespace encfsr::crypto
