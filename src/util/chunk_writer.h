// src/util/chunk_writer.h — writes a stream of chunks to a file on a thread of its own, one
// chunk behind the caller, so that producing the next chunk (restore: reading and opening
// blocks on every core) overlaps with writing the last one into the page cache.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

namespace encfsr::util {

class ChunkWriter {
 public:
  // Starts the writing thread, which takes no signals (they stay with the caller's threads).
  // Throws std::system_error when no thread can be made.
  ChunkWriter();
  ~ChunkWriter();
  ChunkWriter(const ChunkWriter&) = delete;
  ChunkWriter& operator=(const ChunkWriter&) = delete;

  // Waits for the chunk before, then queues a copy of `data` to be written to `fd` (the caller
  // may reuse its buffer at once). Returns the errno of an earlier chunk's write that failed
  // (`data` is then not queued), else 0.
  int write(int fd, std::span<const std::uint8_t> data);
  // Waits until every queued chunk is written: 0, or the errno of the first write that failed
  // since the last finish(). Call it before closing, renaming or removing the file.
  int finish();

 private:
  void loop();

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::uint8_t> chunk_;
  int fd_ = -1;
  bool queued_ = false;
  bool stopping_ = false;
  int error_ = 0;
  std::thread thread_;
};

}  // namespace encfsr::util
