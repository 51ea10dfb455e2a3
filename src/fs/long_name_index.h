// src/fs/long_name_index.h — the reverse view's memory of the plaintext name behind each long
// name form (encfsr.long.HASH) of a directory.
//
// A long form is a hash and cannot be decrypted: without this index, a lookup would encrypt
// every sibling's name to find the one that hashes to it. A listing encrypts them all anyway,
// so it stores the long ones here, and a lookup afterwards costs one binary search, however
// large the directory. A hit is always right (the same name in the same directory always has
// the same form); a miss may be a name created since, so the caller then scans the directory
// and stores the result. Bounded: at most `max_names` pairs in all, least recently used
// directories first out; a directory with more long names than that is not kept. Thread-safe.
#pragma once

#include <cstddef>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "src/fs/view.h"

namespace encfsr::fs {

class LongNameIndex {
 public:
  struct Pair {
    std::string form;   // the name the view shows (without a side-file suffix)
    std::string plain;  // the plaintext name behind it
  };

  explicit LongNameIndex(std::size_t max_names);

  // The plaintext name behind `form` in directory `dir`, if the index holds it.
  std::optional<std::string> find(Ino dir, std::string_view form);
  // Replaces what the index holds for `dir` by `pairs` (any order).
  void store(Ino dir, std::vector<Pair> pairs);

  std::size_t names() const;

 private:
  struct Slot {
    std::vector<Pair> pairs;  // sorted by form
    std::list<Ino>::iterator lru;
  };
  void drop(std::unordered_map<Ino, Slot>::iterator it);  // Locked.

  const std::size_t max_names_;
  mutable std::mutex mutex_;
  std::unordered_map<Ino, Slot> slots_;
  std::list<Ino> lru_;  // most recent first
  std::size_t names_ = 0;
};

}  // namespace encfsr::fs
