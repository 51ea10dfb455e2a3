// src/util/chunk_writer.cc — see chunk_writer.h.
#include "src/util/chunk_writer.h"

#include "src/util/quiet_thread.h"
#include "src/util/write_all.h"

namespace encfsr::util {

ChunkWriter::ChunkWriter() : thread_(start_quiet_thread([this] { loop(); })) {}

ChunkWriter::~ChunkWriter() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

int ChunkWriter::write(int fd, std::span<const std::uint8_t> data) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return !queued_; });
  if (error_ != 0) return error_;
  chunk_.assign(data.begin(), data.end());  // the capacity stays: no allocation per chunk
  fd_ = fd;
  queued_ = true;
  lock.unlock();
  changed_.notify_all();
  return 0;
}

int ChunkWriter::finish() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return !queued_; });
  const int err = error_;
  error_ = 0;
  return err;
}

void ChunkWriter::loop() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return queued_ || stopping_; });
    if (!queued_) return;  // stopping, nothing left to write
    // The caller waits for queued_ to clear before touching chunk_ or fd_ again.
    lock.unlock();
    const int err = write_all(fd_, chunk_);
    lock.lock();
    if (error_ == 0) error_ = err;
    queued_ = false;
    changed_.notify_all();
  }
}

}  // namespace encfsr::util
