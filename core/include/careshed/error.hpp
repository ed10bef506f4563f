// careshed/error.hpp — the one exception hierarchy every careshed function throws.
//
// Every error message names what was wrong (file, layer, field, row, argument) and what to do about it.
// The Python bindings translate these in one place (bindings/errors.cpp) into classes that derive from
// both careshed.CareshedError and the matching builtin:
//   careshed::InputError  -> careshed.InputError (ValueError)   bad argument values, bad data in a file
//   careshed::CrsError    -> careshed.CRSError   (ValueError)   missing / unusable / mismatched CRS
//   careshed::DataIOError -> careshed.DataIOError (OSError)     missing file, unreadable layer, write failure
//   careshed::MemoryLimitError -> careshed.MemoryLimitError (MemoryError)  a run refused before allocating
//                                                                (memory.hpp); also any escaping std::bad_alloc
//   careshed::SolverError -> careshed.SolverError (RuntimeError) a solver's child process (CBC / CLP) died in both
//                                                                attempts and no answer exists without it
//   careshed::Error       -> careshed.CareshedError             anything else (internal, library failures)
// Thread-safety: the classes are plain values, safe to copy across threads.
#pragma once

#include <stdexcept>
#include <string>

namespace careshed {

/// Base of every careshed exception.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// A value supplied by the caller, or read from the caller's data, is not acceptable.
class InputError : public Error {
 public:
  explicit InputError(const std::string& message) : Error(message) {}
};

/// A coordinate reference system is missing, unusable or inconsistent with the coordinates.
class CrsError : public InputError {
 public:
  explicit CrsError(const std::string& message) : InputError(message) {}
};

/// A file, layer or data source could not be opened, read or written.
class DataIOError : public Error {
 public:
  explicit DataIOError(const std::string& message) : Error(message) {}
};

/// A run would need more memory than is available or than the caller allowed (careshed/memory.hpp); thrown
/// before the big allocations, with the estimate, the limit and what to change.
class MemoryLimitError : public Error {
 public:
  explicit MemoryLimitError(const std::string& message) : Error(message) {}
};

/// A solve could not give its answer because the solver's child process (CBC / CLP, see optimize.hpp) died in both
/// attempts and nothing could stand in for it: neither bad input nor IO. The message says how the process died and
/// what the caller can change (e.g. free memory when it was killed for lack of it).
class SolverError : public Error {
 public:
  explicit SolverError(const std::string& message) : Error(message) {}
};

}  // namespace careshed
