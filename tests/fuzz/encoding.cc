// tests/fuzz/encoding.cc — the text decoders names go through (crypto/encoding.h): base64url,
// base32 and hex, each fed the whole input. The decoders are strict, so whatever one accepts
// must encode back to exactly the same text; and any bytes must survive encode + decode.
#include "crypto/encoding.h"

#include <cstdint>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_common.h"

namespace {

using namespace encfsr;

using Decoder = crypto::Status (*)(std::string_view, std::vector<std::uint8_t>&);
using Encoder = std::string (*)(std::span<const std::uint8_t>);

void check(Decoder decode, Encoder encode, std::string_view text,
           std::span<const std::uint8_t> bytes) {
  std::vector<std::uint8_t> out;
  if (decode(text, out) == crypto::Status::kOk) {
    ENCFSR_FUZZ_CHECK(encode(out) == text);
  }
  const std::string encoded = encode(bytes);
  out.clear();
  ENCFSR_FUZZ_CHECK(decode(encoded, out) == crypto::Status::kOk);
  ENCFSR_FUZZ_CHECK(std::equal(out.begin(), out.end(), bytes.begin(), bytes.end()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::as_text(data, size);
  const std::span<const std::uint8_t> bytes(data, size);
  check(crypto::base64url_decode, crypto::base64url_encode, text, bytes);
  check(crypto::base32_decode, crypto::base32_encode, text, bytes);
  check(crypto::hex_decode, crypto::hex_encode, text, bytes);
  return 0;
}
