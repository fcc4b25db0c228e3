#include "sim/sweep/table.h"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/error.h"
#include "common/file_io.h"
#include "common/output_file.h"
#include "common/json_writer.h"

namespace tasim::sweep {

std::optional<std::size_t> Table::column(const std::string& name) const {
  const auto it = std::find(header.begin(), header.end(), name);
  if (it == header.end()) return std::nullopt;
  return static_cast<std::size_t>(it - header.begin());
}

std::optional<double> parse_number(const std::string& text) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text.front()))) return std::nullopt;
  const char* begin = text.c_str();
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(begin, &end);
  // strtod also reads hex floats, "inf" and "nan"; a sweep's numbers are plain decimals.
  if (end != begin + text.size() || errno == ERANGE || !std::isfinite(v)) return std::nullopt;
  if (text.find_first_of("xXnN") != std::string::npos) return std::nullopt;
  return v;
}

bool is_json_number(const std::string& text) {
  std::size_t i = 0;
  const std::size_t n = text.size();
  auto digits = [&]() {
    const std::size_t start = i;
    while (i < n && text[i] >= '0' && text[i] <= '9') ++i;
    return i - start;
  };
  if (i < n && text[i] == '-') ++i;
  if (i < n && text[i] == '0') {
    ++i;
  } else if (digits() == 0) {
    return false;
  }
  if (i < n && text[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  }
  if (i < n && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < n && (text[i] == '+' || text[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == n;
}

std::string single_line(const std::string& text) {
  std::string out = text;
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  const auto first = out.find_first_not_of(' ');
  if (first == std::string::npos) return "";
  return out.substr(first, out.find_last_not_of(' ') - first + 1);
}

std::string csv_line(const Cells& cells) {
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) line += ',';
    const std::string& c = cells[i];
    if (c.find_first_of(",\"\r\n") == std::string::npos) {
      line += c;
      continue;
    }
    line += '"';
    for (char ch : c) {
      if (ch == '"') line += '"';
      line += ch;
    }
    line += '"';
  }
  line += '\n';
  return line;
}

std::string jsonl_line(const Cells& header, const Cells& cells) {
  std::string line = "{";
  for (std::size_t i = 0; i < header.size() && i < cells.size(); ++i) {
    if (i > 0) line += ", ";
    line += JsonWriter::quote(header[i]);
    line += ": ";
    const std::string& c = cells[i];
    const bool text_column = header[i] == kStatusColumn || header[i] == kErrorColumn;
    if (c.empty()) {
      line += "null";
    } else if (!text_column && is_json_number(c)) {
      line += c;
    } else {
      line += JsonWriter::quote(c);
    }
  }
  line += "}\n";
  return line;
}

std::string jsonl_path(const std::string& csv_path) {
  const std::string ext = ".csv";
  if (csv_path.size() > ext.size() && csv_path.compare(csv_path.size() - ext.size(), ext.size(), ext) == 0) {
    return csv_path.substr(0, csv_path.size() - ext.size()) + ".jsonl";
  }
  return csv_path + ".jsonl";
}

namespace {

// One CSV record (its '\n' removed); false on unbalanced quotes. Our files never hold a newline
// inside a cell (errors are single-lined), so a record is one line.
bool parse_csv_record(const std::string& line, Cells& cells) {
  cells.clear();
  std::string cell;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c != '"') {
        cell += c;
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        cell += '"';
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.push_back(cell);
      cell.clear();
    } else {
      cell += c;
    }
  }
  cells.push_back(cell);
  return !quoted;
}

std::FILE* open_append(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "ab");
  if (!f) throw Error(fmt::format("{}: cannot open for appending ({})", path, std::strerror(errno)));
  return f;
}

void write_flushed(std::FILE* f, const std::string& text, const std::string& path) {
  if (std::fwrite(text.data(), 1, text.size(), f) != text.size() || std::fflush(f) != 0) {
    throw Error(fmt::format("{}: cannot write ({})", path, std::strerror(errno)));
  }
}

}  // namespace

CsvFile read_results_csv(const std::string& path) { return parse_results_csv(read_file_bytes(path, "results file"), path); }

CsvFile parse_results_csv(const std::string& text, const std::string& path) {
  CsvFile file;
  std::size_t pos = 0;
  std::size_t line_number = 0;
  Cells cells;
  while (pos < text.size()) {
    const std::size_t nl = text.find('\n', pos);
    ++line_number;
    if (nl == std::string::npos) {
      file.partial_lines = 1;  // the row being written when the sweep was killed
      break;
    }
    const std::string line = text.substr(pos, nl - pos);
    pos = nl + 1;
    if (!parse_csv_record(line, cells)) {
      throw Error(fmt::format("{}:{}: unbalanced quotes in a CSV row", path, line_number));
    }
    if (line_number == 1) {
      file.table.header = cells;
      continue;
    }
    if (cells.size() != file.table.header.size()) {
      throw Error(fmt::format("{}:{}: {} cells, but the header has {} columns", path, line_number,
                              cells.size(), file.table.header.size()));
    }
    const auto& point = cells.front();
    if (point.empty() || point.find_first_not_of("0123456789") != std::string::npos) {
      throw Error(fmt::format("{}:{}: point '{}' is not a point index", path, line_number, point));
    }
    // At most 18 digits: any index fits 64 bits, and no sweep has 10^18 points.
    if (point.size() > 18) {
      throw Error(fmt::format("{}:{}: point {} is too large for a point index (at most 18 digits)", path,
                              line_number, point));
    }
    file.table.rows.push_back(cells);
  }
  if (file.table.header.empty() || file.table.header.front() != kPointColumn) {
    throw Error(
        fmt::format("{}: not a sweep results file (no header starting with '{}')", path, kPointColumn));
  }
  return file;
}

void write_results(const std::string& csv_path, const Table& table) {
  std::string csv = csv_line(table.header);
  std::string jsonl;
  for (const auto& row : table.rows) {
    csv += csv_line(row);
    jsonl += jsonl_line(table.header, row);
  }
  write_output(csv_path, csv, "results CSV");
  write_output(jsonl_path(csv_path), jsonl, "results JSONL");
}

ResultsAppender::ResultsAppender(const std::string& csv_path, Cells header)
    : csv_path_(csv_path), header_(std::move(header)) {
  csv_ = open_append(csv_path_);
  jsonl_ = open_append(jsonl_path(csv_path_));
}

ResultsAppender::~ResultsAppender() {
  if (csv_) std::fclose(csv_);
  if (jsonl_) std::fclose(jsonl_);
}

void ResultsAppender::append(const Cells& row) {
  write_flushed(csv_, csv_line(row), csv_path_);
  write_flushed(jsonl_, jsonl_line(header_, row), jsonl_path(csv_path_));
}

void sort_by_point(std::vector<Cells>& rows) {
  std::stable_sort(rows.begin(), rows.end(), [](const Cells& a, const Cells& b) {
    return std::stoull(a.front()) < std::stoull(b.front());
  });
}

}  // namespace tasim::sweep
