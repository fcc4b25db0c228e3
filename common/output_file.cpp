#include "common/output_file.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "common/error.h"

namespace tasim {

namespace fs = std::filesystem;

namespace {

// The file a path names once links are followed (a dangling link names the file it would create).
std::string follow_links(const std::string& path) {
  std::error_code ec;
  fs::path p = path;
  for (int depth = 0; depth < 40 && fs::is_symlink(fs::symlink_status(p, ec)); ++depth) {
    const fs::path link = fs::read_symlink(p, ec);
    if (ec) break;
    p = link.is_absolute() ? link : p.parent_path() / link;
  }
  return p.string();
}

std::string folder_of(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  return parent.empty() ? std::string(".") : parent.string();
}

}  // namespace

// What `path` names, links followed by the system: /dev/stdout and /dev/fd/N are links that name
// no path when they stand for a pipe, so following them by their text would not do.
fs::file_status status_of(const std::string& path) {
  std::error_code ec;
  return fs::status(path, ec);
}

bool is_regular_output(const std::string& path) {
  if (path == "-") return false;
  const fs::file_status s = status_of(path);
  return !fs::exists(s) || fs::is_regular_file(s);
}

void check_output(const std::string& path, const char* what) {
  if (path == "-") return;
  if (path.empty()) throw Error(fmt::format("the {} path is empty", what));
  const fs::file_status s = status_of(path);
  if (fs::is_directory(s)) throw Error(fmt::format("{}: is a directory, not a file for the {}", path, what));
  if (fs::exists(s) && !fs::is_regular_file(s)) {  // a FIFO, a pipe or a device: written through
    if (::access(path.c_str(), W_OK) != 0) {
      throw Error(fmt::format("{}: cannot write the {}: {}", path, what, std::strerror(errno)));
    }
    return;
  }
  const std::string folder = folder_of(follow_links(path));
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) {
    throw Error(fmt::format("{}: cannot write the {}: folder {} does not exist", path, what, folder));
  }
  if (::access(folder.c_str(), W_OK) != 0) {
    throw Error(fmt::format("{}: cannot write the {}: folder {}: {}", path, what, folder, std::strerror(errno)));
  }
}

OutputFile::OutputFile(const std::string& path, const char* what) : path_(path), what_(what) {
  if (path == "-") {
    is_stdout_ = true;
    file_ = stdout;
    return;
  }
  check_output(path, what);
  if (is_regular_output(path)) {
    target_ = follow_links(path);
    // Named by the process, so processes writing the same file at once (sweep points sharing a
    // step-table cache) each rename a whole file of their own over it.
    temp_ = target_ + ".tmp." + std::to_string(::getpid());
  } else {
    target_ = path;  // written through: opened by the name given, the system following any link
  }
  file_ = std::fopen(temp_.empty() ? target_.c_str() : temp_.c_str(), "wb");
  if (!file_) fail("open");
}

OutputFile::~OutputFile() {
  if (committed_ || is_stdout_) return;
  if (file_) std::fclose(file_);
  std::error_code ec;
  if (!temp_.empty()) fs::remove(temp_, ec);
}

void OutputFile::fail(const char* doing) const {
  throw Error(fmt::format("{}: cannot {} the {}: {}", is_stdout_ ? "standard output" : path_, doing, what_,
                          std::strerror(errno)));
}

void OutputFile::write(const void* data, std::size_t n) {
  if (n > 0 && std::fwrite(data, 1, n, file_) != n) fail("write");
}

void OutputFile::commit() {
  if (committed_) return;
  if (is_stdout_) {
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) fail("write");
    committed_ = true;
    return;
  }
  std::FILE* f = file_;
  file_ = nullptr;
  if (std::fflush(f) != 0 || std::ferror(f)) {
    const int err = errno;
    std::fclose(f);
    errno = err;
    fail("write");
  }
  if (std::fclose(f) != 0) fail("write");
  if (!temp_.empty() && std::rename(temp_.c_str(), target_.c_str()) != 0) fail("replace");
  committed_ = true;
}

void write_output(const std::string& path, std::string_view text, const char* what) {
  OutputFile out(path, what);
  out.write(text);
  out.commit();
}

void check_stdout() {
  std::cout.flush();
  if (std::fflush(stdout) != 0 || std::ferror(stdout) || !std::cout) {
    throw Error(fmt::format("cannot write to standard output: {}", std::strerror(errno ? errno : EIO)));
  }
}

}  // namespace tasim
