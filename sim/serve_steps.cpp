#include "sim/serve_steps.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>
#include <sys/stat.h>
#include <thread>

#include "common/error.h"
#include "common/output_file.h"
#include "sim/serve/workload.h"
#include "sim/sweep/child.h"

extern char** environ;

namespace tasim {

namespace {

constexpr const char* kTableHeader = "tasim step table 1";

// FNV-1a, 64 bits: the cache key (a fingerprint, not a security measure).
std::uint64_t fnv1a(std::uint64_t h, const void* data, std::size_t n) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}
constexpr std::uint64_t kFnvOffset = 0xcbf29ce484222325ull;

// The simulator's own bytes: another build of tasim may time the same step differently.
std::uint64_t executable_fingerprint() {
  static const std::uint64_t h = [] {
    std::ifstream in(sweep::self_executable(), std::ios::binary);
    std::uint64_t x = kFnvOffset;
    std::vector<char> buf(1 << 20);
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      x = fnv1a(x, buf.data(), static_cast<std::size_t>(in.gcount()));
    }
    return x;
  }();
  return h;
}

StepValues run_one(const std::vector<std::string>& deployment, const std::string& sequences) {
  static const std::string exe = sweep::self_executable();
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.push_back(*e);
  std::vector<std::string> args = {"run"};
  args.insert(args.end(), deployment.begin(), deployment.end());
  args.insert(args.end(), {"--sequences", sequences, "--json", "-"});
  const sweep::ChildResult r = sweep::run_child(exe, args, env, 0);
  if (r.exit_status != 0) {
    throw Error(fmt::format("simulating the step --sequences {}: {}", sequences, sweep::child_error(r, 0)));
  }
  const YAML::Node report = YAML::Load(r.out);
  return {report["step_seconds"].as<double>(), report["energy_j"].as<double>()};
}

// Values as exact text (hex floats read back bit for bit), so a cached table gives the same
// results as a fresh one.
std::string table_text(const std::string& key, const StepTable& t) {
  std::string out = fmt::format("{}\nkey {}\n", kTableHeader, key);
  for (std::size_t i = 0; i < t.probes.size(); ++i) {
    out += fmt::format("{} {:a} {:a}\n", t.probes[i].sequences, t.values[i].seconds, t.values[i].joules);
  }
  return out;
}

// The values of `t.probes` from a cache file; false if it is missing, unreadable, of another key
// or of other probes.
bool read_table(const std::string& path, const std::string& key, StepTable& t) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line) || line != kTableHeader) return false;
  if (!std::getline(in, line) || line != "key " + key) return false;
  std::vector<StepValues> values;
  for (const serve::StepProbe& p : t.probes) {
    if (!std::getline(in, line)) return false;
    std::istringstream fields(line);
    std::string sequences, seconds, joules;
    if (!(fields >> sequences >> seconds >> joules) || sequences != p.sequences) return false;
    char* end = nullptr;
    const double s = std::strtod(seconds.c_str(), &end);
    if (*end != '\0' || !(s > 0)) return false;
    const double j = std::strtod(joules.c_str(), &end);
    if (*end != '\0' || !(j >= 0)) return false;
    values.push_back({s, j});
  }
  if (std::getline(in, line)) return false;  // more than the probes
  t.values = std::move(values);
  return true;
}

void make_dirs(const std::string& dir) {
  for (std::size_t i = 1; i <= dir.size(); ++i) {
    if (i == dir.size() || dir[i] == '/') {
      const std::string prefix = dir.substr(0, i);
      if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
        throw Error(fmt::format("step cache folder {}: cannot create {}: {}", dir, prefix, std::strerror(errno)));
      }
    }
  }
}

}  // namespace

StepRunner::StepRunner(std::vector<std::string> deployment, int jobs)
    : deployment_(std::move(deployment)), jobs_(std::max(1, jobs)) {}

std::vector<StepValues> StepRunner::run(const std::vector<std::string>& sequences) const {
  std::vector<StepValues> out(sequences.size());
  std::vector<std::string> errors(sequences.size());
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i = next++; i < sequences.size(); i = next++) {
      try {
        out[i] = run_one(deployment_, sequences[i]);
      } catch (const Error& e) {
        errors[i] = e.what();
      }
    }
  };
  std::vector<std::thread> threads;
  const int n = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(jobs_), sequences.size()));
  for (int i = 1; i < n; ++i) threads.emplace_back(work);
  work();
  for (std::thread& t : threads) t.join();
  for (const std::string& e : errors) {
    if (!e.empty()) throw Error(e);
  }
  return out;
}

std::string default_step_cache_dir() {
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return std::string(xdg) + "/tasim";
  if (const char* home = std::getenv("HOME"); home && *home) return std::string(home) + "/.cache/tasim";
  return "";
}

StepTable build_step_table(std::vector<serve::StepProbe> probes, const StepRunner& runner, const std::string& cache_dir,
                           const std::string& key_text) {
  StepTable t;
  t.probes = std::move(probes);
  std::string key_input = key_text;
  for (const std::string& a : runner.deployment()) key_input += "\n" + a;
  for (const serve::StepProbe& p : t.probes) key_input += "\n" + p.sequences;
  const std::uint64_t exe = executable_fingerprint();
  const std::string key = fmt::format("{:016x}", fnv1a(fnv1a(kFnvOffset, &exe, sizeof exe), key_input.data(), key_input.size()));
  if (!cache_dir.empty()) {
    t.cache_file = cache_dir + "/steps-" + key + ".txt";
    if (read_table(t.cache_file, key, t)) {
      t.from_cache = true;
      return t;
    }
  }
  std::vector<std::string> sequences;
  for (const serve::StepProbe& p : t.probes) sequences.push_back(p.sequences);
  t.values = runner.run(sequences);
  if (!cache_dir.empty()) {
    make_dirs(cache_dir);
    write_output(t.cache_file, table_text(key, t), "step table cache");
  }
  return t;
}

const StepValues& ExactSteps::at(const serve::StepShape& shape) {
  const std::string sequences = serve::sequences_text(shape);
  auto it = memo_.find(sequences);
  if (it == memo_.end()) it = memo_.emplace(sequences, runner_.run({sequences}).front()).first;
  return it->second;
}

StepCheck check_step_model(const serve::StepTimeModel& model, const StepRunner& runner, int steps, int max_tokens,
                           int max_seqs, long long max_context, double cache_tokens, std::uint64_t seed) {
  StepCheck check;
  if (steps <= 0) return check;
  serve::Rng rng(seed ^ 0x5354455043484bull);
  std::vector<serve::StepShape> shapes;
  for (int i = 0; i < steps; ++i) {
    // 1 to max_seqs decodes (log-uniform: small and large batches alike) whose contexts, spread
    // uniformly up to a mean the cache could hold; every other step a chunk after some cached tokens.
    serve::StepShape shape;
    const int cap = std::min(max_seqs, max_tokens - 16);
    const int decodes = std::max(1, std::min(cap, static_cast<int>(std::exp(rng.uniform() * std::log(cap + 1.0)))));
    const double most = std::min(static_cast<double>(max_context) / 2, 0.8 * cache_tokens / (decodes + 1));
    for (int d = 0; d < decodes; ++d) shape.seqs.push_back({d, 1, 1 + static_cast<long long>(rng.uniform() * most), true});
    const long long room = std::min<long long>({4096, max_tokens - decodes - 16, max_context - 17});
    if (i % 2 == 1 && room >= 0) {
      const int n = 16 + static_cast<int>(rng.uniform() * static_cast<double>(room));
      const double before = rng.uniform() * std::min(most, static_cast<double>(max_context - n) / 2);
      shape.seqs.push_back({decodes, n, static_cast<long long>(before), false});
    }
    shapes.push_back(std::move(shape));
  }
  std::vector<std::string> sequences;
  for (const serve::StepShape& s : shapes) sequences.push_back(serve::sequences_text(s));
  const std::vector<StepValues> simulated = runner.run(sequences);
  std::vector<double> errors;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    errors.push_back(std::abs(model.seconds(shapes[i]) - simulated[i].seconds) / simulated[i].seconds);
  }
  check.steps = steps;
  for (const double e : errors) check.mean_error += e / steps;
  std::sort(errors.begin(), errors.end());
  check.max_error = errors.back();
  check.p90_error = errors[static_cast<std::size_t>(std::ceil(0.9 * steps)) - 1];
  return check;
}

}  // namespace tasim
