// crypto/status.cc — English descriptions of the format library's status codes.
#include "crypto/status.h"

namespace encfsr::crypto {

const char* describe(Status status) noexcept {
  switch (status) {
    case Status::kOk:
      return "ok";
    case Status::kAuthFailed:
      return "authentication failed";
    case Status::kBadSize:
      return "invalid size";
    case Status::kBadEncoding:
      return "invalid encoding";
    case Status::kBadFormat:
      return "invalid format";
    case Status::kTooLong:
      return "too long";
    case Status::kWrongPassword:
      return "wrong password";
    case Status::kInternal:
      return "internal cryptographic error";
  }
  return "unknown error";
}

}  // namespace encfsr::crypto
