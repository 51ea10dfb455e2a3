// src/fs/reverse_view.h — the main job: the read-only ciphertext view of configured sources.
//
// Root: one directory per source (name encrypted with the root's ID as tweak) plus the virtual
// key file "encfsr.key" (unless key_in_view is false). Below: directories, regular files
// (content sealed block by block on read, st_size computed) and symlinks (targets encrypted).
// Sockets, FIFOs and devices are left out; hard links appear as separate files. Exclusions,
// CACHEDIR.TAG, one_file_system and tiers as in config/config.h. With `plain`, the same view
// with names, contents and targets as they are (the pass-through reference).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "config/config.h"
#include "crypto/keys.h"
#include "src/fs/view.h"

namespace encfsr::fs {

// How the reverse view answered listings that were not fresh (see manifest_cache.h).
struct PassCounts {
  std::atomic<std::uint64_t> made{0};    // new passes over a source directory
  std::atomic<std::uint64_t> reused{0};  // the previous pass served again (still_holds)
  std::atomic<std::uint64_t> ahead{0};   // of both, those made by the walk-ahead thread
};

struct ReverseOptions {
  bool plain = false;
  // Served as "encfsr.key" at the root when the config's key_in_view is true (ignored in
  // plain mode). Must already contain the view section.
  std::string key_file_text;
  // Owner of encfsr.key in the view (mode 0400): the config's key file's owner, so that with
  // allow_other no other user can read the wrapped key.
  uid_t key_uid = 0;
  gid_t key_gid = 0;
  // The view's own mountpoint (absolute; empty if none): never descended into, nor into any
  // other encfsr view mounted inside a source.
  std::string mountpoint;
  // Passes over the directories a listing shows, made on a thread of their own before the
  // tool asks (a walk descends into them next): while the tool waits on the daemon for one
  // directory, the next ones are read from the disk.
  bool walk_ahead = true;
  // For tests: counts the passes over directories.
  PassCounts* counts = nullptr;
};

// Opens every source root (throws std::runtime_error naming the path if one cannot be opened).
std::unique_ptr<View> make_reverse_view(const config::Config& config,
                                        const crypto::MasterKey& master, ReverseOptions options);

}  // namespace encfsr::fs
