// crypto/manifest.cc — sealing and opening directory manifests (see manifest.h and
// docs/FORMAT.md, "Directory manifests").
#include "crypto/manifest.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <stdexcept>

namespace encfsr::crypto {
namespace {

constexpr std::size_t kTagBytes = 16;
constexpr std::uint8_t kChunkDomain = 0x01;
constexpr std::uint8_t kTrailerDomain = 0x02;
constexpr std::uint8_t kSoleChunkDomain = 0x03;
constexpr std::uint8_t kGroupDomain = 0x01;
constexpr std::uint8_t kCutDomain = 0x02;
constexpr std::uint32_t kCutMask = 31;        // a content-defined cut after 1 name in 32...
constexpr std::size_t kMinChunkRecords = 32;  // ...once the chunk holds this many records
constexpr std::size_t kMaxXattrValue = 65536;
constexpr std::uint32_t kMaxMode = 07777;
constexpr std::uint32_t kNanos = 1000000000;

// Record flags (one byte).
constexpr std::uint8_t kTypeMask = 0x03;
constexpr std::uint8_t kAttrsUnknown = 0x04;
constexpr std::uint8_t kSameMode = 0x08;
constexpr std::uint8_t kSameOwner = 0x10;
constexpr std::uint8_t kHasNsec = 0x20;
constexpr std::uint8_t kHasGroup = 0x40;
constexpr std::uint8_t kHasXattrs = 0x80;

using Tag = std::array<std::uint8_t, kTagBytes>;

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

void put_le(std::string& out, std::uint64_t v, std::size_t bytes) {
  for (std::size_t i = 0; i < bytes; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

std::uint64_t get_le(const std::uint8_t* p, std::size_t bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < bytes; ++i) v |= static_cast<std::uint64_t>(p[i]) << (8 * i);
  return v;
}

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}
std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

// mtime seconds are stored as the difference to the previous record's (0 for a chunk's first),
// computed modulo 2^64 so that every pair of values has one.
std::int64_t mtime_delta(std::int64_t mtime, std::int64_t prev) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(mtime) -
                                   static_cast<std::uint64_t>(prev));
}
std::int64_t mtime_add(std::int64_t prev, std::int64_t delta) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(prev) +
                                   static_cast<std::uint64_t>(delta));
}

// Names are packed 6 bits a byte when that is shorter: the 63 bytes of kNameSymbols have codes
// 0..62 (their index), any other byte is code 63 followed by its 8 bits; most significant bit
// first, zero bits to the end of the last byte.
constexpr std::string_view kNameSymbols =
    "-.0123456789ABCDEFGHIJKLMNOPRSTUVWXY_abcdefghijklmnopqrstuvwxyz";
constexpr unsigned kNameEscape = 63;
static_assert(kNameSymbols.size() == kNameEscape);

// code + 1 of each byte value, 0 for a byte that is not in kNameSymbols.
constexpr std::array<std::uint8_t, 256> kSymbolCodes = [] {
  std::array<std::uint8_t, 256> codes{};
  for (std::size_t i = 0; i < kNameSymbols.size(); ++i) {
    codes[static_cast<std::uint8_t>(kNameSymbols[i])] = static_cast<std::uint8_t>(i + 1);
  }
  return codes;
}();

int symbol_code(char c) { return kSymbolCodes[static_cast<std::uint8_t>(c)] - 1; }

std::size_t packed_bits(std::string_view name) {
  std::size_t bits = 0;
  for (char c : name) bits += symbol_code(c) < 0 ? 14u : 6u;
  return bits;
}

// varint(2 * length + packed), then the name packed or as it is.
void put_name(std::string& out, std::string_view name) {
  const std::size_t packed_bytes = (packed_bits(name) + 7) / 8;
  const bool packed = packed_bytes < name.size();
  put_varint(out, 2 * name.size() + (packed ? 1 : 0));
  if (!packed) {
    out += name;
    return;
  }
  std::uint32_t acc = 0;
  unsigned have = 0;
  auto put_bits = [&](std::uint32_t v, unsigned n) {
    acc = (acc << n) | v;
    have += n;
    while (have >= 8) {
      have -= 8;
      out.push_back(static_cast<char>((acc >> have) & 0xff));
    }
  };
  for (char c : name) {
    const int code = symbol_code(c);
    if (code >= 0) {
      put_bits(static_cast<std::uint32_t>(code), 6);
    } else {
      put_bits(kNameEscape, 6);
      put_bits(static_cast<std::uint8_t>(c), 8);
    }
  }
  if (have > 0) put_bits(0, 8 - have);
}

// A reader over untrusted bytes; every getter fails (returns false) rather than read past the end.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  bool done() const noexcept { return pos_ == data_.size(); }
  std::size_t position() const noexcept { return pos_; }
  bool byte(std::uint8_t& v) {
    if (pos_ >= data_.size()) return false;
    v = static_cast<std::uint8_t>(data_[pos_++]);
    return true;
  }
  // Canonical LEB128: at most 10 bytes, no superfluous final zero group, value <= max.
  bool varint(std::uint64_t& v, std::uint64_t max) {
    v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      std::uint8_t b = 0;
      if (!byte(b)) return false;
      const std::uint64_t part = b & 0x7f;
      if (shift == 63 && part > 1) return false;
      v |= part << shift;
      if ((b & 0x80) == 0) return (b != 0 || shift == 0) && v <= max;
    }
    return false;
  }
  bool bytes(std::size_t n, std::string& out) {
    if (data_.size() - pos_ < n) return false;
    out.assign(data_.substr(pos_, n));
    pos_ += n;
    return true;
  }
  // A name as put_name() writes it; packed names must be canonical (no escaped symbol, zero
  // padding).
  bool name(std::string& out) {
    std::uint64_t v = 0;
    if (!varint(v, 2 * 255 + 1)) return false;
    const auto length = static_cast<std::size_t>(v / 2);
    if ((v & 1) == 0) return bytes(length, out);
    out.clear();
    std::uint32_t acc = 0;
    unsigned have = 0;
    auto get_bits = [&](unsigned n, std::uint32_t& bits) {
      while (have < n) {
        std::uint8_t b = 0;
        if (!byte(b)) return false;
        acc = (acc << 8) | b;
        have += 8;
      }
      have -= n;
      bits = (acc >> have) & ((1u << n) - 1);
      acc &= (1u << have) - 1;
      return true;
    };
    while (out.size() < length) {
      std::uint32_t code = 0;
      if (!get_bits(6, code)) return false;
      if (code != kNameEscape) {
        out.push_back(kNameSymbols[code]);
        continue;
      }
      if (!get_bits(8, code) || symbol_code(static_cast<char>(code)) >= 0) return false;
      out.push_back(static_cast<char>(code));
    }
    return acc == 0;  // the padding bits are zero
  }
  bool le64(std::uint64_t& v) {
    if (data_.size() - pos_ < 8) return false;
    v = get_le(reinterpret_cast<const std::uint8_t*>(data_.data()) + pos_, 8);
    pos_ += 8;
    return true;
  }

 private:
  std::string_view data_;
  std::size_t pos_ = 0;
};

bool valid_name(std::string_view name) {
  return !name.empty() && name.size() <= 255 && name != "." && name != ".." &&
         name.find('/') == std::string_view::npos && name.find('\0') == std::string_view::npos;
}

// BLAKE2b-128 keyed with `key` over dir || domain || parts...
Tag mac(std::span<const std::uint8_t> key, const NodeId& dir, std::uint8_t domain,
        std::initializer_list<std::string_view> parts) {
  crypto_generichash_state state;
  crypto_generichash_init(&state, key.data(), key.size(), kTagBytes);
  crypto_generichash_update(&state, dir.data(), dir.size());
  crypto_generichash_update(&state, &domain, 1);
  for (std::string_view part : parts) {
    crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(part.data()),
                              part.size());
  }
  Tag tag{};
  crypto_generichash_final(&state, tag.data(), tag.size());
  return tag;
}

std::string_view as_view(const Tag& tag) {
  return {reinterpret_cast<const char*>(tag.data()), tag.size()};
}

void xor_stream(std::span<const std::uint8_t> key, const Tag& tag, std::uint8_t* data,
                std::size_t size) {
  std::array<std::uint8_t, crypto_stream_xchacha20_NONCEBYTES> nonce{};
  std::memcpy(nonce.data(), tag.data(), tag.size());
  crypto_stream_xchacha20_xor(data, data, size, nonce.data(), key.data());
}

// Appends records to a chunk's plaintext; a fresh encoder starts each chunk (the first record
// of a chunk has no predecessor, so chunks decode on their own).
class RecordEncoder {
 public:
  explicit RecordEncoder(std::string& out) : out_(out) {}
  void add(const ManifestRecord& r) {
    auto flags = static_cast<std::uint8_t>(r.type);
    if (!r.attrs_known) {
      out_.push_back(static_cast<char>(flags | kAttrsUnknown));
      put_name(out_, r.name);
      return;
    }
    const bool same_mode = have_prev_ && r.mode == prev_mode_;
    const bool same_owner = have_prev_ && r.uid == prev_uid_ && r.gid == prev_gid_;
    if (same_mode) flags |= kSameMode;
    if (same_owner) flags |= kSameOwner;
    if (r.mtime_nsec != 0) flags |= kHasNsec;
    if (r.link_group != 0) flags |= kHasGroup;
    if (!r.xattrs.empty()) flags |= kHasXattrs;
    out_.push_back(static_cast<char>(flags));
    put_name(out_, r.name);
    if (!same_mode) put_varint(out_, r.mode);
    if (!same_owner) {
      put_varint(out_, r.uid);
      put_varint(out_, r.gid);
    }
    put_varint(out_, zigzag(mtime_delta(r.mtime_sec, prev_mtime_)));
    if (r.mtime_nsec != 0) put_varint(out_, r.mtime_nsec);
    if (r.type != EntryType::kDirectory) put_varint(out_, r.size);
    if (r.link_group != 0) put_le(out_, r.link_group, 8);
    if (!r.xattrs.empty()) {
      put_varint(out_, r.xattrs.size());
      for (const Xattr& x : r.xattrs) {
        put_varint(out_, x.name.size());
        out_ += x.name;
        put_varint(out_, x.value.size());
        out_ += x.value;
      }
    }
    have_prev_ = true;
    prev_mode_ = r.mode;
    prev_uid_ = r.uid;
    prev_gid_ = r.gid;
    prev_mtime_ = r.mtime_sec;
  }

 private:
  std::string& out_;
  bool have_prev_ = false;
  std::uint16_t prev_mode_ = 0;
  std::uint32_t prev_uid_ = 0;
  std::uint32_t prev_gid_ = 0;
  std::int64_t prev_mtime_ = 0;
};

}  // namespace

std::string encode_records(std::span<const ManifestRecord> records) {
  std::string out;
  RecordEncoder encoder(out);
  for (const ManifestRecord& r : records) encoder.add(r);
  return out;
}

Status decode_records(std::string_view chunk, std::vector<ManifestRecord>& out) {
  Reader in(chunk);
  bool have_prev = false;
  std::uint16_t prev_mode = 0;
  std::uint32_t prev_uid = 0, prev_gid = 0;
  std::int64_t prev_mtime = 0;
  std::uint64_t v = 0;
  while (!in.done()) {
    ManifestRecord r;
    std::uint8_t flags = 0;
    if (!in.byte(flags)) return Status::kBadFormat;
    const std::uint8_t type = flags & kTypeMask;
    if (type == 0) return Status::kBadFormat;
    r.type = static_cast<EntryType>(type);
    if (!in.name(r.name) || !valid_name(r.name)) return Status::kBadFormat;
    if ((flags & kAttrsUnknown) != 0) {
      if ((flags & ~(kTypeMask | kAttrsUnknown)) != 0) return Status::kBadFormat;
      r.attrs_known = false;
      out.push_back(std::move(r));
      continue;
    }
    if ((flags & (kSameMode | kSameOwner)) != 0 && !have_prev) return Status::kBadFormat;
    if ((flags & kSameMode) != 0) {
      r.mode = prev_mode;
    } else {
      if (!in.varint(v, kMaxMode)) return Status::kBadFormat;
      r.mode = static_cast<std::uint16_t>(v);
    }
    if ((flags & kSameOwner) != 0) {
      r.uid = prev_uid;
      r.gid = prev_gid;
    } else {
      if (!in.varint(v, UINT32_MAX)) return Status::kBadFormat;
      r.uid = static_cast<std::uint32_t>(v);
      if (!in.varint(v, UINT32_MAX)) return Status::kBadFormat;
      r.gid = static_cast<std::uint32_t>(v);
    }
    if (!in.varint(v, UINT64_MAX)) return Status::kBadFormat;
    r.mtime_sec = mtime_add(prev_mtime, unzigzag(v));
    if ((flags & kHasNsec) != 0) {
      if (!in.varint(v, kNanos - 1) || v == 0) return Status::kBadFormat;
      r.mtime_nsec = static_cast<std::uint32_t>(v);
    }
    if (r.type != EntryType::kDirectory && !in.varint(r.size, UINT64_MAX)) {
      return Status::kBadFormat;
    }
    if ((flags & kHasGroup) != 0) {
      if (r.type != EntryType::kRegular || !in.le64(r.link_group) || r.link_group == 0) {
        return Status::kBadFormat;
      }
    }
    if ((flags & kHasXattrs) != 0) {
      std::uint64_t count = 0;
      if (!in.varint(count, kMaxXattrBytes) || count == 0) return Status::kBadFormat;
      std::size_t total = 0;
      for (std::uint64_t i = 0; i < count; ++i) {
        Xattr x;
        if (!in.varint(v, 255) || v == 0 || !in.bytes(static_cast<std::size_t>(v), x.name) ||
            x.name.find('\0') != std::string::npos) {
          return Status::kBadFormat;
        }
        if (!in.varint(v, kMaxXattrValue) || !in.bytes(static_cast<std::size_t>(v), x.value)) {
          return Status::kBadFormat;
        }
        total += x.name.size() + x.value.size();
        if (total > kMaxXattrBytes) return Status::kBadFormat;
        if (!r.xattrs.empty() && !(r.xattrs.back().name < x.name)) return Status::kBadFormat;
        r.xattrs.push_back(std::move(x));
      }
    }
    have_prev = true;
    prev_mode = r.mode;
    prev_uid = r.uid;
    prev_gid = r.gid;
    prev_mtime = r.mtime_sec;
    out.push_back(std::move(r));
  }
  return Status::kOk;
}

// Whether a record holds only what a reader accepts (decode_records' checks).
bool record_valid(const ManifestRecord& r) {
  if (!valid_name(r.name) || static_cast<std::uint8_t>(r.type) < 1 ||
      static_cast<std::uint8_t>(r.type) > 3) {
    return false;
  }
  if (!r.attrs_known) return true;
  if (r.mode > kMaxMode || r.mtime_nsec >= kNanos) return false;
  if (r.type == EntryType::kDirectory && r.size != 0) return false;
  if (r.link_group != 0 && r.type != EntryType::kRegular) return false;
  std::size_t total = 0;
  for (std::size_t i = 0; i < r.xattrs.size(); ++i) {
    const Xattr& x = r.xattrs[i];
    if (x.name.empty() || x.name.size() > 255 || x.name.find('\0') != std::string::npos ||
        x.value.size() > kMaxXattrValue || (i > 0 && !(r.xattrs[i - 1].name < x.name))) {
      return false;
    }
    total += x.name.size() + x.value.size();
  }
  return total <= kMaxXattrBytes;
}

ManifestCipher::ManifestCipher(const KeySet& keys) : keys_(keys) {}

bool ManifestCipher::cut_after(std::string_view name) const noexcept {
  const auto key = keys_.get(Subkey::kManifestGroup);
  std::array<std::uint8_t, 8> h{};
  crypto_generichash_state state;
  crypto_generichash_init(&state, key.data(), key.size(), h.size());
  crypto_generichash_update(&state, &kCutDomain, 1);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(name.data()),
                            name.size());
  crypto_generichash_final(&state, h.data(), h.size());
  return (h[0] & kCutMask) == 0;
}

std::uint64_t ManifestCipher::link_group(std::uint64_t dev, std::uint64_t ino) const noexcept {
  const auto key = keys_.get(Subkey::kManifestGroup);
  std::array<std::uint8_t, 17> in{};
  in[0] = kGroupDomain;
  for (std::size_t i = 0; i < 8; ++i) {
    in[1 + i] = static_cast<std::uint8_t>(dev >> (8 * i));
    in[9 + i] = static_cast<std::uint8_t>(ino >> (8 * i));
  }
  std::array<std::uint8_t, 8> h{};
  crypto_generichash(h.data(), h.size(), in.data(), in.size(), key.data(), key.size());
  const std::uint64_t group = get_le(h.data(), 8);
  return group == 0 ? 1 : group;
}

std::string ManifestCipher::seal(const NodeId& dir, std::span<const ManifestRecord> records) const {
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i > 0 && !(records[i - 1].name < records[i].name)) {
      throw std::invalid_argument("manifest records must be sorted by unique name");
    }
    if (!record_valid(records[i])) throw std::invalid_argument("manifest record out of range");
  }
  // The chunks' plaintexts: a cut after a record once the chunk holds kMinChunkRecords and the
  // name's keyed hash says so, or once it reaches kChunkTarget bytes.
  std::vector<std::string> plains;
  std::string plain;
  std::size_t in_chunk = 0;
  auto encoder = std::make_unique<RecordEncoder>(plain);
  for (std::size_t i = 0; i < records.size(); ++i) {
    encoder->add(records[i]);
    ++in_chunk;
    const bool end = i + 1 == records.size();
    if (!end && plain.size() < kChunkTarget &&
        !(in_chunk >= kMinChunkRecords && cut_after(records[i].name))) {
      continue;
    }
    if (plain.size() > kMaxChunk) throw std::invalid_argument("manifest record too large");
    plains.push_back(std::move(plain));
    plain.clear();
    in_chunk = 0;
    encoder = std::make_unique<RecordEncoder>(plain);
  }
  const auto mac_key = keys_.get(Subkey::kManifestMac);
  const auto stream_key = keys_.get(Subkey::kManifestStream);
  // A sole chunk's tag is bound to being the whole manifest and no trailer follows.
  const std::uint8_t domain = plains.size() == 1 ? kSoleChunkDomain : kChunkDomain;
  std::string out;
  std::string tags;
  for (const std::string& p : plains) {
    const Tag tag = mac(mac_key, dir, domain, {p});
    put_varint(out, p.size());
    out += as_view(tag);
    const std::size_t at = out.size();
    out += p;
    xor_stream(stream_key, tag, reinterpret_cast<std::uint8_t*>(out.data() + at), p.size());
    tags += as_view(tag);
  }
  if (plains.size() != 1) {
    std::string count;
    put_le(count, plains.size(), 8);
    out += as_view(mac(mac_key, dir, kTrailerDomain, {count, tags}));
  }
  for (std::string& p : plains) sodium_memzero(p.data(), p.size());
  return out;
}

namespace {

// A sealed manifest's chunk boundaries: where each chunk's length, tag and ciphertext are.
struct ChunkSpan {
  std::size_t tag_at = 0;
  std::size_t data_at = 0;
  std::size_t length = 0;
};

// Splits `sealed` into chunks and finds its final MAC (the trailer, or a sole chunk's tag):
// false for any structure no writer produces.
bool split_manifest(std::string_view sealed, std::vector<ChunkSpan>& chunks,
                    std::size_t& final_mac_at) {
  chunks.clear();
  std::size_t pos = 0;
  while (sealed.size() - pos != kTagBytes) {
    std::uint64_t length = 0;
    Reader header(sealed.substr(pos));
    if (!header.varint(length, kMaxChunk) || length == 0) return false;
    const std::size_t at = pos + header.position();
    if (sealed.size() - at < kTagBytes + length) return false;
    chunks.push_back({at, at + kTagBytes, static_cast<std::size_t>(length)});
    pos = at + kTagBytes + static_cast<std::size_t>(length);
    if (pos == sealed.size()) {
      if (chunks.size() != 1) return false;  // only a sole chunk has no trailer
      final_mac_at = chunks.front().tag_at;
      return true;
    }
    if (sealed.size() - pos < kTagBytes) return false;
  }
  if (chunks.size() == 1) return false;  // a sole chunk has no trailer
  final_mac_at = pos;
  return true;
}

}  // namespace

Status ManifestCipher::open(const NodeId& dir, std::string_view sealed,
                            std::vector<ManifestRecord>& out) const {
  if (sealed.size() < kTagBytes) return Status::kBadSize;
  if (sealed.size() > kMaxManifestBytes) return Status::kTooLong;
  std::vector<ChunkSpan> chunks;
  std::size_t final_mac_at = 0;
  if (!split_manifest(sealed, chunks, final_mac_at)) return Status::kBadFormat;
  const auto mac_key = keys_.get(Subkey::kManifestMac);
  const auto stream_key = keys_.get(Subkey::kManifestStream);
  const std::uint8_t domain = chunks.size() == 1 ? kSoleChunkDomain : kChunkDomain;
  std::vector<ManifestRecord> records;
  std::string tags;
  std::string plain;
  for (const ChunkSpan& c : chunks) {
    Tag tag{};
    std::memcpy(tag.data(), sealed.data() + c.tag_at, kTagBytes);
    plain.assign(sealed.substr(c.data_at, c.length));
    xor_stream(stream_key, tag, reinterpret_cast<std::uint8_t*>(plain.data()), plain.size());
    const Tag expected = mac(mac_key, dir, domain, {plain});
    if (sodium_memcmp(tag.data(), expected.data(), kTagBytes) != 0) {
      sodium_memzero(plain.data(), plain.size());
      return Status::kAuthFailed;
    }
    const Status s = decode_records(plain, records);
    sodium_memzero(plain.data(), plain.size());
    if (s != Status::kOk) return s;
    tags += as_view(tag);
  }
  if (chunks.size() != 1) {
    std::string count;
    put_le(count, chunks.size(), 8);
    const Tag expected = mac(mac_key, dir, kTrailerDomain, {count, tags});
    if (sodium_memcmp(expected.data(), sealed.data() + final_mac_at, kTagBytes) != 0) {
      return Status::kAuthFailed;
    }
  }
  for (std::size_t i = 1; i < records.size(); ++i) {
    if (!(records[i - 1].name < records[i].name)) return Status::kBadFormat;
  }
  out = std::move(records);
  return Status::kOk;
}

struct timespec ManifestCipher::mtime_of(std::string_view sealed) noexcept {
  struct timespec ts {};
  ts.tv_sec = 946684800;  // 2000-01-01T00:00:00Z
  std::vector<ChunkSpan> chunks;
  std::size_t final_mac_at = 0;
  try {
    if (!split_manifest(sealed, chunks, final_mac_at)) return ts;
  } catch (const std::bad_alloc&) {
    return ts;
  }
  const auto* mac = reinterpret_cast<const std::uint8_t*>(sealed.data() + final_mac_at);
  ts.tv_sec += static_cast<time_t>(get_le(mac, 8) & ((std::uint64_t{1} << 28) - 1));
  return ts;
}

}  // namespace encfsr::crypto
