// crypto/node_id.h — path-bound identifiers of the entries of a view.
//
// Every entry has a 16-byte ID derived from its parent's ID and its plaintext name:
//   id(root) = BLAKE2b-128(key = K_path, "encfsr root")
//   id(child) = BLAKE2b-128(key = K_path, id(parent) || name)
// A file's ID binds its content blocks to its path; a directory's ID is the tweak of the
// names inside it. Inode numbers of both views are derived from IDs, so they are stable
// across mounts and machines.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "crypto/keys.h"

namespace encfsr::crypto {

using NodeId = std::array<std::uint8_t, 16>;

NodeId root_id(const KeySet& keys);
NodeId child_id(const KeySet& keys, const NodeId& parent, std::string_view plain_name);

// A 64-bit inode number from an ID: first 8 bytes little-endian, never 0 or 1 (FUSE root).
std::uint64_t inode_of(const NodeId& id) noexcept;

}  // namespace encfsr::crypto
