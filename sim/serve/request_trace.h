// Request traces from files: the Azure LLM inference trace CSV, the Mooncake JSONL, Vidur's CSV
// and tasim's own JSONL (docs/serving.md, "Request traces"). Arrivals are made relative to the
// first request and the requests sorted by arrival (ties in file order), ids 0..n-1.
#pragma once

#include <string>
#include <vector>

#include "sim/serve/request.h"

namespace tasim::serve {

enum class TraceFormat { azure, mooncake, vidur, tasim };
const char* trace_format_name(TraceFormat format);

// Which format a file's text is: a CSV header with TIMESTAMP (Azure) or arrived_at (Vidur), or
// JSON lines with timestamp/input_length (Mooncake) or arrival_s (tasim). Throws Error naming the
// file otherwise.
TraceFormat detect_trace_format(const std::string& text, const std::string& source);

// Parses a trace; every problem is an Error naming "source:line". Mooncake's hash_ids become the
// requests' content blocks of 512 tokens (equal ids, equal tokens: prefix caching shares them).
std::vector<Request> parse_request_trace(const std::string& text, const std::string& source);
// Reads and parses a file.
std::vector<Request> read_request_trace(const std::string& path);

}  // namespace tasim::serve
