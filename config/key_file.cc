// config/key_file.cc — the key file: canonical text, strict parser, reading and atomic writing,
// creation (wrap) and opening (unwrap + check) of the master key. See key_file.h for the format.
#include "config/key_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <span>
#include <string>
#include <vector>

#include "crypto/encoding.h"
#include "src/util/atomic_file.h"
#include "src/util/open_file.h"
#include "src/util/unique_fd.h"

namespace encfsr::config {
namespace {

constexpr std::string_view kVersionLine = "encfsr-key: 1\n";
constexpr std::string_view kFormatValue = kFormatName;
constexpr std::string_view kKdfValue = "argon2id13";

std::string hex(std::span<const std::uint8_t> bytes) { return crypto::hex_encode(bytes); }

const char* names_text(crypto::NameEncoding names) {
  return names == crypto::NameEncoding::kBase32 ? "base32" : "base64url";
}

// The text the view tag covers: "names: X\n", then (format 2) "manifests: yes|no\n".
std::string view_lines(crypto::NameEncoding names, std::optional<bool> manifests) {
  std::string text = std::string("names: ") + names_text(names) + "\n";
  if (manifests) text += std::string("manifests: ") + (*manifests ? "yes" : "no") + "\n";
  return text;
}

// The lines "encfsr-key" .. "salt" (the parameters fixed before the wrap).
std::string parameter_lines(const KeyFile& key_file) {
  std::string text(kVersionLine);
  text += "format: ";
  text += kFormatValue;
  text += "\nkdf: ";
  text += kKdfValue;
  text += "\nops_limit: " + std::to_string(key_file.kdf.ops);
  text += "\nmem_limit: " + std::to_string(key_file.kdf.mem);
  text += "\nsalt: " + hex(key_file.wrapped.salt) + "\n";
  return text;
}

std::string nonce_line(const KeyFile& key_file) {
  return "nonce: " + hex(key_file.wrapped.nonce) + "\n";
}

std::string check_line(const KeyFile& key_file) { return "check: " + hex(key_file.check) + "\n"; }

// Parses the decimal text of a canonical unsigned number (no sign, no leading zero).
bool parse_decimal(std::string_view text, std::uint64_t& out) {
  if (text.empty() || text.size() > 20) return false;
  if (text.size() > 1 && text[0] == '0') return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Decodes exactly out.size() bytes of strict lowercase hex.
template <std::size_t N>
bool parse_hex(std::string_view text, std::array<std::uint8_t, N>& out) {
  if (text.size() != 2 * N) return false;
  std::vector<std::uint8_t> bytes;
  if (crypto::hex_decode(text, bytes) != crypto::Status::kOk || bytes.size() != N) return false;
  std::memcpy(out.data(), bytes.data(), N);
  return true;
}

// Splits text into lines; every line must end with '\n'.
class LineReader {
 public:
  explicit LineReader(std::string_view text) : rest_(text) {}
  [[nodiscard]] bool at_end() const { return rest_.empty(); }
  [[nodiscard]] std::size_t number() const { return number_; }
  [[nodiscard]] bool peek_starts_with(std::string_view prefix) const {
    return rest_.substr(0, prefix.size()) == prefix;
  }
  // The next line without its '\n'; false (and `error`) if the text ends without a newline.
  bool next(std::string_view& line, std::string& error) {
    ++number_;
    std::size_t nl = rest_.find('\n');
    if (nl == std::string_view::npos) {
      error = message("missing newline at end of line");
      return false;
    }
    line = rest_.substr(0, nl);
    rest_.remove_prefix(nl + 1);
    return true;
  }
  [[nodiscard]] std::string message(std::string_view what) const {
    return "line " + std::to_string(number_) + ": " + std::string(what);
  }

 private:
  std::string_view rest_;
  std::size_t number_ = 0;
};

// Reads the next line, which must be "NAME: VALUE" (exactly one space, value not empty and
// without surrounding whitespace). Sets value.
bool field(LineReader& reader, std::string_view name, std::string_view& value, std::string& error) {
  if (reader.at_end()) {
    error = "line " + std::to_string(reader.number() + 1) + ": missing '" + std::string(name) +
            ":' line (file truncated)";
    return false;
  }
  std::string_view line;
  if (!reader.next(line, error)) return false;
  std::string prefix = std::string(name) + ": ";
  if (line.substr(0, prefix.size()) != prefix) {
    error = reader.message("expected '" + std::string(name) + ":'");
    return false;
  }
  value = line.substr(prefix.size());
  if (value.empty()) {
    error = reader.message(std::string(name) + " is empty");
    return false;
  }
  for (char c : value) {
    if (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f') {
      error = reader.message(std::string(name) + " contains whitespace");
      return false;
    }
  }
  return true;
}

template <std::size_t N>
bool hex_field(LineReader& reader, std::string_view name, std::array<std::uint8_t, N>& out,
               std::string& error) {
  std::string_view value;
  if (!field(reader, name, value, error)) return false;
  if (!parse_hex(value, out)) {
    error = reader.message(std::string(name) + " must be " + std::to_string(2 * N) +
                           " lowercase hex digits");
    return false;
  }
  return true;
}

bool constant_time_equal(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::string serialize_key_file(const KeyFile& key_file) {
  return parameter_lines(key_file) + nonce_line(key_file) +
         "wrapped: " + hex(key_file.wrapped.box) + "\n" + check_line(key_file);
}

std::string serialize_key_file_with_view(const KeyFile& key_file, crypto::NameEncoding names,
                                         bool manifests, const crypto::KeySet& keys) {
  std::string section = view_lines(names, manifests);
  std::array<std::uint8_t, 32> tag = crypto::view_params_tag(keys, section);
  return serialize_key_file(key_file) + section + "view: " + hex(tag) + "\n";
}

// The nonce is generated inside the wrap (crypto::wrap_master_key), after the associated data
// is fixed, so it cannot be part of it; it is authenticated by the AEAD itself (a different
// nonce gives a different Poly1305 key, and the box fails to open).
std::vector<std::uint8_t> key_file_associated_data(const KeyFile& key_file) {
  std::string text = parameter_lines(key_file) + check_line(key_file);
  return std::vector<std::uint8_t>(text.begin(), text.end());
}

bool parse_key_file(std::string_view text, KeyFile& out, std::string& error) {
  KeyFile result;
  LineReader reader(text);
  std::string_view value;

  if (!field(reader, "encfsr-key", value, error)) return false;
  if (value != "1") {
    error = reader.message("unsupported key file version '" + std::string(value) +
                           "' (this encfsr reads version 1)");
    return false;
  }
  if (!field(reader, "format", value, error)) return false;
  if (value != kFormatValue) {
    error = reader.message("unsupported format '" + std::string(value) + "'");
    return false;
  }
  if (!field(reader, "kdf", value, error)) return false;
  if (value != kKdfValue) {
    error = reader.message("unsupported kdf '" + std::string(value) + "'");
    return false;
  }
  if (!field(reader, "ops_limit", value, error)) return false;
  crypto::KdfParams ops_only;  // default mem: validates ops alone
  if (!parse_decimal(value, result.kdf.ops) ||
      !crypto::kdf_params_valid({result.kdf.ops, ops_only.mem})) {
    error = reader.message("ops_limit must be a decimal number in the valid Argon2id range");
    return false;
  }
  if (!field(reader, "mem_limit", value, error)) return false;
  if (!parse_decimal(value, result.kdf.mem) || !crypto::kdf_params_valid(result.kdf)) {
    error = reader.message("mem_limit must be a decimal number in the valid Argon2id range");
    return false;
  }
  if (!hex_field(reader, "salt", result.wrapped.salt, error)) return false;
  if (!hex_field(reader, "nonce", result.wrapped.nonce, error)) return false;
  if (!hex_field(reader, "wrapped", result.wrapped.box, error)) return false;
  if (!hex_field(reader, "check", result.check, error)) return false;

  if (!reader.at_end()) {
    if (!field(reader, "names", value, error)) return false;
    if (value == "base64url") {
      result.names = crypto::NameEncoding::kBase64Url;
    } else if (value == "base32") {
      result.names = crypto::NameEncoding::kBase32;
    } else {
      error = reader.message("names must be base64url or base32");
      return false;
    }
    if (reader.peek_starts_with("manifests: ")) {
      if (!field(reader, "manifests", value, error)) return false;
      if (value == "yes" || value == "no") {
        result.manifests = value == "yes";
      } else {
        error = reader.message("manifests must be yes or no");
        return false;
      }
    }
    if (!hex_field(reader, "view", result.view_tag, error)) return false;
    if (!reader.at_end()) {
      std::string_view line;
      std::string ignored;
      reader.next(line, ignored);
      error = reader.message("unexpected text after the view section");
      return false;
    }
  }
  out = result;
  return true;
}

KeyFile read_key_file(const std::filesystem::path& file) {
  const std::string name = file.string();
  // Never blocks: a FIFO planted in a copy as its key file is an error, not a hang; a device
  // (a symlink to /dev/zero) is refused before anything is read.
  auto read = util::read_regular_file(AT_FDCWD, file.c_str(), 0, EINVAL, kMaxKeyFileBytes);
  if (!read) {
    if (read.error() == EINVAL) throw KeyFileError(name + ": not a regular file");
    if (read.error() == EFBIG) throw KeyFileError(name + ": not a key file (larger than 64 KiB)");
    throw KeyFileError(name + ": cannot read: " + std::strerror(read.error()));
  }
  const std::string& text = *read;
  KeyFile key_file;
  std::string error;
  if (!parse_key_file(text, key_file, error)) throw KeyFileError(name + ": " + error);
  return key_file;
}

void write_key_file(const std::filesystem::path& file, std::string_view text, bool must_not_exist) {
  int err = util::write_file_atomically(file, text, 0600, must_not_exist);
  if (err == EEXIST && must_not_exist) throw KeyFileError(file.string() + ": already exists");
  if (err != 0) throw KeyFileError(file.string() + ": cannot write: " + std::strerror(err));
}

crypto::Status make_key_file(const crypto::MasterKey& master, std::string_view password,
                             const crypto::KdfParams& kdf, KeyFile& out) {
  if (!crypto::kdf_params_valid(kdf)) return crypto::Status::kBadFormat;
  KeyFile result;
  result.kdf = kdf;
  const std::array<std::uint8_t, 16> salt = crypto::random_salt();
  result.wrapped.salt = salt;
  result.check = crypto::key_check(crypto::KeySet(master));
  std::vector<std::uint8_t> ad = key_file_associated_data(result);
  crypto::WrappedKey wrapped;
  crypto::Status status = crypto::wrap_master_key(master, password, kdf, salt, ad, wrapped);
  if (status != crypto::Status::kOk) return status;
  if (wrapped.salt != salt) return crypto::Status::kInternal;
  result.wrapped = wrapped;
  out = result;
  return crypto::Status::kOk;
}

crypto::Status open_key_file(const KeyFile& key_file, std::string_view password,
                             crypto::MasterKey& out) {
  std::vector<std::uint8_t> ad = key_file_associated_data(key_file);
  crypto::MasterKey master;
  crypto::Status status =
      crypto::unwrap_master_key(key_file.wrapped, password, key_file.kdf, ad, master);
  if (status != crypto::Status::kOk) return status;
  if (!master_key_matches(key_file, master)) return crypto::Status::kAuthFailed;
  out = std::move(master);
  return crypto::Status::kOk;
}

bool master_key_matches(const KeyFile& key_file, const crypto::MasterKey& master) {
  std::array<std::uint8_t, 32> check = crypto::key_check(crypto::KeySet(master));
  return constant_time_equal(check, key_file.check);
}

bool view_section_valid(const KeyFile& key_file, const crypto::KeySet& keys) {
  if (!key_file.names) return false;
  std::array<std::uint8_t, 32> tag =
      crypto::view_params_tag(keys, view_lines(*key_file.names, key_file.manifests));
  return constant_time_equal(tag, key_file.view_tag);
}

}  // namespace encfsr::config
