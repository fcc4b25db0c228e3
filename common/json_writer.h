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
    std::string q = "\"";
    for (char c : s) {
      switch (c) {
        case '"': q += "\\\""; break;
        case '\\': q += "\\\\"; break;
        case '\n': q += "\\n"; break;
        case '\t': q += "\\t"; break;
        case '\r': q += "\\r"; break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            q += fmt::format("\\u{:04x}", static_cast<int>(c));
          } else {
            q += c;
          }
      }
    }
    return q + "\"";
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
