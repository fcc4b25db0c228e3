// The output policy (common/output_file.h), on files in a temporary folder: regular files replaced
// only when complete, links followed, FIFOs written through, bad targets refused up front.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <thread>

#include "common/error.h"
#include "common/output_file.h"
#include "error_of.h"

namespace fs = std::filesystem;

namespace {
// No "<path>.tmp.<pid>" (or any "<path>.tmp...") left in the folder.
bool no_temporary_beside(const std::string& path) {
  const fs::path p(path);
  for (const auto& e : fs::directory_iterator(p.parent_path())) {
    if (e.path().filename().string().rfind(p.filename().string() + ".tmp", 0) == 0) return false;
  }
  return true;
}
}  // namespace
using tasim::OutputFile;
using tasim::testing::error_of;

namespace {

struct TempDir {
  fs::path dir;
  explicit TempDir(const std::string& name) : dir(fs::temp_directory_path() / ("tasim-output-" + name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  std::string operator/(const std::string& name) const { return (dir / name).string(); }
};

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

}  // namespace

TEST_CASE("a regular file is replaced only once complete", "[output]") {
  const TempDir d("regular");
  const std::string path = d / "report.json";
  tasim::write_output(path, "first\n", "JSON report");
  CHECK(read(path) == "first\n");
  {
    OutputFile out(path, "JSON report");
    out.write("second, half");
    CHECK(read(path) == "first\n");  // the old file stands while the new one is written
  }  // destroyed without commit: a failed run
  CHECK(read(path) == "first\n");
  CHECK(no_temporary_beside(path));
  OutputFile out(path, "JSON report");
  out.write("second\n");
  out.commit();
  CHECK(read(path) == "second\n");
  CHECK(no_temporary_beside(path));
}

TEST_CASE("a symbolic link is followed and kept", "[output]") {
  const TempDir d("link");
  write(d / "target.csv", "old\n");
  fs::create_symlink("target.csv", d / "link.csv");
  tasim::write_output(d / "link.csv", "new\n", "results CSV");
  CHECK(fs::is_symlink(fs::symlink_status(d / "link.csv")));
  CHECK(read(d / "target.csv") == "new\n");
  CHECK(tasim::is_regular_output(d / "link.csv"));
  // A dangling link creates the file it names.
  fs::create_symlink("made.csv", d / "dangling.csv");
  tasim::write_output(d / "dangling.csv", "made\n", "results CSV");
  CHECK(read(d / "made.csv") == "made\n");
}

TEST_CASE("a FIFO is written through, never replaced", "[output]") {
  const TempDir d("fifo");
  const std::string fifo = d / "pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_FALSE(tasim::is_regular_output(fifo));
  std::string received;
  std::thread reader([&] { received = read(fifo); });
  tasim::write_output(fifo, "through the pipe\n", "trace");
  reader.join();
  CHECK(received == "through the pipe\n");
  struct stat st {};
  REQUIRE(::stat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
}

TEST_CASE("a pipe named by /dev/fd/N, a link that names no path, is written through", "[output]") {
  // `--json /dev/stdout | jq` and `--trace >(gzip > t.gz)`: following such a link by its text
  // gives "pipe:[inode]", which is no file.
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const std::string path = "/dev/fd/" + std::to_string(fds[1]);
  CHECK_FALSE(tasim::is_regular_output(path));
  CHECK_NOTHROW(tasim::check_output(path, "JSON report"));
  tasim::write_output(path, "{}\n", "JSON report");
  ::close(fds[1]);
  char buf[16] = {};
  CHECK(::read(fds[0], buf, sizeof buf) == 3);
  CHECK(std::string(buf) == "{}\n");
  ::close(fds[0]);
  // A regular file named that way is still replaced whole, through the link's target.
  const TempDir d("fd");
  const std::string file = d / "report.json";
  std::ofstream(file) << "old\n";
  const int fd = ::open(file.c_str(), O_RDONLY);
  REQUIRE(fd >= 0);
  CHECK(tasim::is_regular_output("/dev/fd/" + std::to_string(fd)));
  tasim::write_output("/dev/fd/" + std::to_string(fd), "new\n", "JSON report");
  ::close(fd);
  CHECK(read(file) == "new\n");
}

TEST_CASE("outputs that cannot be written are refused before any work", "[output][errors]") {
  const TempDir d("refused");
  CHECK(error_of([&] { tasim::check_output(d / "no-folder/x.json", "JSON report"); }) ==
        (d / "no-folder/x.json") + ": cannot write the JSON report: folder " + (d / "no-folder") + " does not exist");
  CHECK(error_of([&] { tasim::check_output(d.dir.string(), "trace"); }) ==
        d.dir.string() + ": is a directory, not a file for the trace");
  CHECK(error_of([&] { tasim::check_output("", "trace"); }) == "the trace path is empty");
  CHECK(error_of([&] { tasim::check_output(d / "fine.json", "JSON report"); }) == "<no error>");
  CHECK(error_of([&] { tasim::check_output("-", "JSON report"); }) == "<no error>");
  if (::geteuid() != 0) {  // root writes anywhere
    fs::create_directories(d / "locked");
    fs::permissions(d / "locked", fs::perms::owner_read | fs::perms::owner_exec);
    CHECK_THAT(error_of([&] { tasim::check_output(d / "locked/x.json", "JSON report"); }),
               Catch::Contains("Permission denied"));
    fs::permissions(d / "locked", fs::perms::owner_all);
  }
}
