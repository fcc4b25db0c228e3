// A small streaming JSON writer with deterministic output: keys in insertion order, numbers
// printed by fmt's shortest round-trip formatting, two-space indentation.
#pragma once

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tasim {

// The most bytes write_json_quoted writes for `s`.
inline std::size_t json_quoted_max_bytes(std::string_view s) { return 6 * s.size() + 2; }

// Writes `s` as a JSON string literal at `out` (room for json_quoted_max_bytes): quotes,
// backslashes and control characters escaped, other bytes (UTF-8 included) as they are. Returns
// the end of what it wrote. The one escaping of every JSON tasim writes (reports, Chrome traces).
inline char* write_json_quoted(std::string_view s, char* out) {
  char* q = out;
  *q++ = '"';
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u >= 0x20 && c != '"' && c != '\\') {
      *q++ = c;
      continue;
    }
    *q++ = '\\';
    switch (c) {
      case '"': *q++ = '"'; break;
      case '\\': *q++ = '\\'; break;
      case '\n': *q++ = 'n'; break;
      case '\r': *q++ = 'r'; break;
      case '\t': *q++ = 't'; break;
      case '\b': *q++ = 'b'; break;
      case '\f': *q++ = 'f'; break;
      default: {
        static constexpr char kHex[] = "0123456789abcdef";
        *q++ = 'u';
        *q++ = '0';
        *q++ = '0';
        *q++ = kHex[u >> 4];
        *q++ = kHex[u & 0xf];
      }
    }
  }
  *q++ = '"';
  return q;
}

class JsonWriter {
 public:
  JsonWriter& begin_object(std::string_view key = {}) { return open(key, '{'); }
  JsonWriter& end_object() { return close('}'); }
  JsonWriter& begin_array(std::string_view key = {}) { return open(key, '['); }
  JsonWriter& end_array() { return close(']'); }

  JsonWriter& value(std::string_view key, std::string_view v) { return raw(key, quote(v)); }
  JsonWriter& value(std::string_view key, const char* v) { return raw(key, quote(v)); }
  JsonWriter& value(std::string_view key, const std::string& v) { return raw(key, quote(v)); }
  JsonWriter& value(std::string_view key, bool v) { return raw(key, v ? "true" : "false"); }
  JsonWriter& value(std::string_view key, std::uint64_t v) { return raw(key, fmt::format("{}", v)); }
  JsonWriter& value(std::string_view key, std::int64_t v) { return raw(key, fmt::format("{}", v)); }
  JsonWriter& value(std::string_view key, int v) { return raw(key, fmt::format("{}", v)); }
  JsonWriter& value(std::string_view key, double v) {
    // JSON has no NaN/Inf; a non-finite figure is reported as null rather than a broken file.
    return raw(key, std::isfinite(v) ? fmt::format("{}", v) : std::string("null"));
  }

  const std::string& str() const { return out_; }

  static std::string quote(std::string_view s) {
    std::string q(json_quoted_max_bytes(s), '\0');
    q.resize(static_cast<std::size_t>(write_json_quoted(s, q.data()) - q.data()));
    return q;
  }

 private:
  JsonWriter& open(std::string_view key, char bracket) {
    prefix(key);
    out_ += bracket;
    first_.push_back(true);
    return *this;
  }
  JsonWriter& close(char bracket) {
    const bool empty = first_.back();
    first_.pop_back();
    if (!empty) {
      out_ += '\n';
      out_.append(2 * first_.size(), ' ');
    }
    out_ += bracket;
    if (first_.empty()) out_ += '\n';
    return *this;
  }
  JsonWriter& raw(std::string_view key, const std::string& text) {
    prefix(key);
    out_ += text;
    return *this;
  }
  void prefix(std::string_view key) {
    if (!first_.empty()) {
      if (!first_.back()) out_ += ',';
      first_.back() = false;
      out_ += '\n';
      out_.append(2 * first_.size(), ' ');
    }
    if (!key.empty()) {
      out_ += quote(key);
      out_ += ": ";
    }
  }

  std::string out_;
  std::vector<bool> first_;
};

}  // namespace tasim
