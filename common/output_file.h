// The one output policy of tasim, for every file it writes (reports, traces, programs, sweep
// results):
//  - a regular file (new or existing) is written beside its final name and renamed over it only
//    when complete, so a failed or interrupted write never leaves half a file or destroys the old
//    one;
//  - a symbolic link is followed: the file it names is replaced that way, the link itself kept;
//  - anything else that can be written (a FIFO, a character device such as /dev/null, standard
//    output as "-") is written through, in order, never replaced;
//  - a directory, or a folder that does not exist or cannot be written, is refused up front,
//    before any long work (check_output);
//  - every write, flush and close is checked, standard output included; a failure is one Error
//    naming the path and the system's reason, and the command exits non-zero.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

namespace tasim {

// Throws Error when `path` ("-": standard output) cannot be written as above. `what` names the
// output in errors ("JSON report", "trace").
void check_output(const std::string& path, const char* what);

// True when `path` is, or will be, a regular file (after following links): outputs that are read
// back or appended to (sweep results) must be.
bool is_regular_output(const std::string& path);

// A file being written, by the policy above.
class OutputFile {
 public:
  OutputFile(const std::string& path, const char* what);  // throws Error naming the path
  ~OutputFile();  // not committed: the partial file is removed (the target is untouched)
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  void write(const void* data, std::size_t n);  // throws Error on a short write
  void write(std::string_view text) { write(text.data(), text.size()); }
  // Flushes, closes and (regular files) renames over the target; throws Error on failure.
  void commit();
  const std::string& path() const { return path_; }

 private:
  [[noreturn]] void fail(const char* doing) const;

  std::string path_;      // as the user gave it
  std::string target_;    // links followed
  std::string temp_;      // regular files: the file being written; else empty
  const char* what_;
  std::FILE* file_ = nullptr;
  bool is_stdout_ = false;
  bool committed_ = false;
};

// Writes a whole output (path "-": standard output) by the policy above.
void write_output(const std::string& path, std::string_view text, const char* what);

// Flushes standard output and throws Error if anything written to it was lost (a full disk,
// a closed pipe).
void check_stdout();

}  // namespace tasim
