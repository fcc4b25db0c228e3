// Runs build/tasim as a subprocess for end-to-end tests.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

namespace tasim::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout (and stderr when merged)
};

// Runs a shell command line as given; the caller redirects stderr as it wants.
inline CommandResult run_command(const std::string& cmd) {
  CommandResult r;
  FILE* pipe = popen(cmd.c_str(), "r");
  if (!pipe) return r;
  std::array<char, 4096> buf;
  std::size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) r.output.append(buf.data(), n);
  const int status = pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// Runs `tasim <args>` from the build directory; stderr is merged into output unless
// stdout_only (then stderr is discarded).
inline CommandResult run_tasim(const std::string& args, bool stdout_only = false) {
  return run_command(std::string("cd '") + TASIM_BINARY_DIR + "' && SYSTEMC_DISABLE_COPYRIGHT_MESSAGE=1 ./tasim " +
                     args + (stdout_only ? " 2>/dev/null" : " 2>&1"));
}

// `tasim run <args> --json -` must succeed; its JSON report (JSON is valid YAML for yaml-cpp).
inline YAML::Node run_json(const std::string& args) {
  const auto r = run_tasim("run " + args + " --json -", true);
  REQUIRE(r.exit_code == 0);
  return YAML::Load(r.output);
}

inline std::string source_path(const std::string& rel) { return std::string(TASIM_SOURCE_DIR) + "/" + rel; }
inline std::string build_path(const std::string& rel) { return std::string(TASIM_BINARY_DIR) + "/" + rel; }

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
}

// The lines of `text`, without their newlines.
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace tasim::testing
