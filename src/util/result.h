// src/util/result.h — a value or an errno, for the FUSE-free model.
//
// Model functions return Result<T>; the FUSE glue turns the errno into its reply. Nothing in
// the model throws to report a filesystem error.
#pragma once

#include <cerrno>
#include <utility>
#include <variant>

namespace encfsr::util {

struct Errno {
  int value;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Errno err) : v_(err) {}             // NOLINT(google-explicit-constructor)

  bool ok() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return ok(); }
  int error() const noexcept {
    const Errno* err = std::get_if<1>(&v_);
    return err != nullptr ? err->value : 0;
  }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Errno> v_;
};

// For functions with no value.
struct Unit {};
using Status = Result<Unit>;
inline Status ok_status() { return Unit{}; }

// errno of the last failed call as an Errno.
inline Errno last_errno() noexcept { return Errno{errno}; }

}  // namespace encfsr::util
