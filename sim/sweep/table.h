// The results of a sweep as a table of text cells, and its two files: CSV (RFC 4180 quoting,
// LF line ends) and JSONL (one object per row, the same keys in the same order). Cells are kept
// as text exactly as they will be written, so numbers copied from a report keep their shortest
// round-trip form and files read back (--resume, sweep-merge) are rewritten byte for byte.
#pragma once

#include <cstddef>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace tasim::sweep {

using Cells = std::vector<std::string>;

// The fixed columns around the axes: `point`, the axes, `status`, `error`, the metrics, `pareto`.
inline constexpr const char* kPointColumn = "point";
inline constexpr const char* kStatusColumn = "status";
inline constexpr const char* kErrorColumn = "error";
inline constexpr const char* kParetoColumn = "pareto";

struct Table {
  Cells header;
  std::vector<Cells> rows;

  // Index of a column, or nullopt.
  std::optional<std::size_t> column(const std::string& name) const;
};

// A finite number written as text ("64", "1.5e-3"); nullopt for anything else, "inf" and "nan"
// included.
std::optional<double> parse_number(const std::string& text);
// True when `text` is a number in JSON's grammar (no leading zeros, no '+', no hex).
bool is_json_number(const std::string& text);
// Control characters (newlines, tabs) replaced by spaces and the ends trimmed: an error message
// as one CSV cell.
std::string single_line(const std::string& text);

// One CSV record with its '\n'; a cell is quoted only when it holds ',', '"', CR or LF.
std::string csv_line(const Cells& cells);
// One JSONL record with its '\n': `status` and `error` as strings, other cells as JSON numbers
// when they are one, else strings; empty cells as null.
std::string jsonl_line(const Cells& header, const Cells& cells);

// The CSV file's JSONL companion: `results.csv` -> `results.jsonl` (`.jsonl` appended when the
// name does not end in `.csv`).
std::string jsonl_path(const std::string& csv_path);

// A results CSV as read back. A final line without its '\n' (a run killed while writing it) is
// left out of `rows` and counted in `partial_lines`.
struct CsvFile {
  Table table;
  std::size_t partial_lines = 0;
};
// Throws tasim::Error naming the file and line for unreadable files, bad quoting and rows whose
// cell count differs from the header's.
CsvFile read_results_csv(const std::string& path);
// The same from the file's text; `path` names it in errors.
CsvFile parse_results_csv(const std::string& text, const std::string& path);

// Writes `table` to `csv_path` and its JSONL, each through a temporary file renamed over the
// target, so a reader never sees half a file.
void write_results(const std::string& csv_path, const Table& table);

// Appends rows to both files as they finish, flushing each one, so an interrupted sweep keeps
// every finished row. The files must exist with their header (write_results).
class ResultsAppender {
 public:
  ResultsAppender(const std::string& csv_path, Cells header);
  ~ResultsAppender();
  ResultsAppender(const ResultsAppender&) = delete;
  ResultsAppender& operator=(const ResultsAppender&) = delete;
  void append(const Cells& row);

 private:
  std::string csv_path_;
  Cells header_;
  std::FILE* csv_ = nullptr;
  std::FILE* jsonl_ = nullptr;
};

// Rows in ascending order of their `point` cell (column 0).
void sort_by_point(std::vector<Cells>& rows);

}  // namespace tasim::sweep
