#include "sim/serve/request_trace.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>

#include "common/error.h"
#include "common/file_io.h"
#include "common/printable.h"

namespace tasim::serve {

namespace {

constexpr int kMooncakeBlockTokens = 512;  // the tokens each of a Mooncake request's hash_ids covers

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> csv_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::string cell;
  for (char c : line) {
    if (c == ',') {
      cells.push_back(cell);
      cell.clear();
    } else {
      cell += c;
    }
  }
  cells.push_back(cell);
  for (std::string& c : cells) {  // trim spaces
    const auto b = c.find_first_not_of(' '), e = c.find_last_not_of(' ');
    c = b == std::string::npos ? std::string() : c.substr(b, e - b + 1);
  }
  return cells;
}

struct Place {
  const std::string& source;
  std::size_t line;  // 1-based
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(fmt::format("{}:{}: {}", source, line, what));
  }
};

double number(const Place& at, const std::string& text, const char* what) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v)) {
    at.fail(fmt::format("{} '{}' is not a number", what, printable(text)));
  }
  return v;
}

int whole(const Place& at, double v, const char* what) {
  if (v != std::floor(v) || v < std::numeric_limits<int>::min() || v > std::numeric_limits<int>::max()) {
    at.fail(fmt::format("{} {} must be a whole number", what, v));
  }
  return static_cast<int>(v);
}

int tokens(const Place& at, double v, const char* what, int min) {
  if (v != std::floor(v) || v < min || v > std::numeric_limits<int>::max()) {
    at.fail(fmt::format("{} {} must be a whole number >= {}", what, v, min));
  }
  return static_cast<int>(v);
}

// "2023-11-16 18:15:46.6805900" -> seconds since 1970-01-01 (UTC; only differences matter).
double azure_seconds(const Place& at, const std::string& text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, consumed = 0;
  double s = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d %2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &s, &consumed) != 6 ||
      consumed != static_cast<int>(text.size()) || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
      s < 0 || s >= 61) {
    at.fail(fmt::format("TIMESTAMP '{}' is not YYYY-MM-DD HH:MM:SS[.fraction]", printable(text)));
  }
  // Days from the civil date (Howard Hinnant's algorithm).
  const int yy = y - (mo <= 2);
  const int era = (yy >= 0 ? yy : yy - 399) / 400;
  const int yoe = yy - era * 400;
  const int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const long long days = static_cast<long long>(era) * 146097 + doe - 719468;
  return static_cast<double>(days) * 86400.0 + h * 3600.0 + mi * 60.0 + s;
}

std::vector<Request> parse_csv(const std::vector<std::string>& lines, const std::string& source, TraceFormat format) {
  const std::vector<std::string> header = csv_cells(lines.front());
  const char* const* names = nullptr;
  static const char* const kAzure[] = {"TIMESTAMP", "ContextTokens", "GeneratedTokens"};
  static const char* const kVidur[] = {"arrived_at", "num_prefill_tokens", "num_decode_tokens"};
  names = format == TraceFormat::azure ? kAzure : kVidur;
  int col[3];
  for (int k = 0; k < 3; ++k) {
    const auto it = std::find(header.begin(), header.end(), names[k]);
    if (it == header.end()) {
      Place{source, 1}.fail(fmt::format("the {} header has no column {}", trace_format_name(format), names[k]));
    }
    col[k] = static_cast<int>(it - header.begin());
  }
  std::vector<Request> out;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    const Place at{source, i + 1};
    const std::vector<std::string> cells = csv_cells(lines[i]);
    if (cells.size() != header.size()) {
      at.fail(fmt::format("{} cells, the header has {}", cells.size(), header.size()));
    }
    Request r;
    r.arrival_s = format == TraceFormat::azure ? azure_seconds(at, cells[static_cast<std::size_t>(col[0])])
                                               : number(at, cells[static_cast<std::size_t>(col[0])], names[0]);
    r.prompt_tokens = tokens(at, number(at, cells[static_cast<std::size_t>(col[1])], names[1]), names[1], 1);
    r.output_tokens = tokens(at, number(at, cells[static_cast<std::size_t>(col[2])], names[2]), names[2], 1);
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<Request> parse_jsonl(const std::vector<std::string>& lines, const std::string& source, TraceFormat format) {
  std::vector<Request> out;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find_first_not_of(" \t") == std::string::npos) continue;
    const Place at{source, i + 1};
    YAML::Node j;
    try {
      j = YAML::Load(lines[i]);
    } catch (const YAML::Exception& e) {
      at.fail(fmt::format("not a JSON object: {}", e.msg));
    }
    if (!j.IsMap()) at.fail("not a JSON object");
    const auto field = [&](const char* key, bool required) -> YAML::Node {
      const YAML::Node v = j[key];
      if (!v && required) at.fail(fmt::format("no \"{}\"", key));
      if (v && !v.IsScalar()) at.fail(fmt::format("\"{}\" is not a number", key));
      return v;
    };
    const auto num = [&](const char* key) { return number(at, field(key, true).Scalar(), key); };
    Request r;
    if (format == TraceFormat::mooncake) {
      r.arrival_s = num("timestamp") / 1000.0;  // milliseconds
      r.prompt_tokens = tokens(at, num("input_length"), "input_length", 1);
      r.output_tokens = tokens(at, num("output_length"), "output_length", 1);
      if (const YAML::Node ids = j["hash_ids"]) {
        if (!ids.IsSequence()) at.fail("\"hash_ids\" is not a list");
        for (const YAML::Node& id : ids) {
          if (!id.IsScalar()) at.fail("a hash id is not a number");
          r.content_ids.push_back(static_cast<std::uint64_t>(tokens(at, number(at, id.Scalar(), "hash id"), "hash id", 0)));
        }
        r.content_block_tokens = kMooncakeBlockTokens;
      }
    } else {
      r.arrival_s = num("arrival_s");
      r.prompt_tokens = tokens(at, num("prompt_tokens"), "prompt_tokens", 1);
      r.output_tokens = tokens(at, num("output_tokens"), "output_tokens", 1);
      if (field("priority", false)) r.priority = whole(at, num("priority"), "priority");
      if (field("prefix_group", false)) {
        r.prefix_group = tokens(at, num("prefix_group"), "prefix_group", 0);
        r.prefix_tokens = tokens(at, num("prefix_tokens"), "prefix_tokens", 0);
      }
      for (const auto& kv : j) {
        const std::string key = kv.first.as<std::string>();
        static const char* const kKeys[] = {"arrival_s", "prompt_tokens", "output_tokens", "priority", "prefix_group",
                                            "prefix_tokens"};
        if (std::find(std::begin(kKeys), std::end(kKeys), key) == std::end(kKeys)) {
          at.fail(fmt::format("unknown key \"{}\" (arrival_s, prompt_tokens, output_tokens, priority, prefix_group, "
                              "prefix_tokens)",
                              printable(key)));
        }
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

const char* trace_format_name(TraceFormat format) {
  switch (format) {
    case TraceFormat::azure: return "Azure LLM inference trace";
    case TraceFormat::mooncake: return "Mooncake trace";
    case TraceFormat::vidur: return "Vidur trace";
    case TraceFormat::tasim: return "tasim request trace";
  }
  return "?";
}

TraceFormat detect_trace_format(const std::string& text, const std::string& source) {
  const std::vector<std::string> lines = lines_of(text);
  const auto first = std::find_if(lines.begin(), lines.end(),
                                  [](const std::string& l) { return l.find_first_not_of(" \t") != std::string::npos; });
  if (first == lines.end()) throw Error(fmt::format("{}: an empty request trace", source));
  if (first->find('{') != std::string::npos) {
    if (first->find("\"input_length\"") != std::string::npos) return TraceFormat::mooncake;
    if (first->find("\"arrival_s\"") != std::string::npos) return TraceFormat::tasim;
  } else {
    const std::vector<std::string> header = csv_cells(*first);
    if (std::find(header.begin(), header.end(), "TIMESTAMP") != header.end()) return TraceFormat::azure;
    if (std::find(header.begin(), header.end(), "arrived_at") != header.end()) return TraceFormat::vidur;
  }
  throw Error(fmt::format("{}: not a request trace tasim reads: a CSV with TIMESTAMP (Azure) or arrived_at (Vidur) "
                          "in its header, or JSON lines with \"input_length\" (Mooncake) or \"arrival_s\" (tasim)",
                          source));
}

std::vector<Request> parse_request_trace(const std::string& text, const std::string& source) {
  const TraceFormat format = detect_trace_format(text, source);
  std::vector<std::string> lines = lines_of(text);
  while (!lines.empty() && lines.front().find_first_not_of(" \t") == std::string::npos) lines.erase(lines.begin());
  std::vector<Request> out = format == TraceFormat::azure || format == TraceFormat::vidur
                                 ? parse_csv(lines, source, format)
                                 : parse_jsonl(lines, source, format);
  if (out.empty()) throw Error(fmt::format("{}: no requests", source));
  // Arrival order (stable: ties keep the file's order), times from the first arrival.
  std::stable_sort(out.begin(), out.end(), [](const Request& a, const Request& b) { return a.arrival_s < b.arrival_s; });
  const double t0 = out.front().arrival_s;
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i].id = static_cast<int>(i);
    out[i].arrival_s -= t0;
  }
  return out;
}

std::vector<Request> read_request_trace(const std::string& path) {
  return parse_request_trace(read_file_bytes(path, "request trace"), path);
}

}  // namespace tasim::serve
