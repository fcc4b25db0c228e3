// A serving run's outputs, as text: the summary (JSON keys and the text block), one CSV row per
// request, and one JSON line per request with its every inter-token gap. The command line adds
// what only it knows (model, architecture, step model) around them. Formats: docs/serving.md.
// Every function is deterministic: the same run gives the same bytes.
#pragma once

#include <string>

#include "common/json_writer.h"
#include "sim/serve/engine.h"
#include "sim/serve/metrics.h"

namespace tasim::serve {

// Writes the summary's keys into the JSON object `j` has open (completed, preemptions,
// duration_seconds, throughput, the latency distributions, steps, batch and KV figures, prefix
// hits, speculative decoding, energy, and with SLOs the goodput).
void summary_json(JsonWriter& j, const ServeSummary& s);
// `key`: {mean, p50, p90, p99, max}, as every distribution of the summary is written.
void distribution_json(JsonWriter& j, const char* key, const Distribution& d);

// The summary as aligned text lines ("  TTFT   mean ..."), each ending in a newline; lines of
// features the run did not use (SLOs, speculative decoding, energy) are left out.
std::string summary_text(const ServeSummary& s);

// One row per request, by id: id, arrival_s, first_scheduled_s, first_token_s, completion_s,
// prompt_tokens, output_tokens, ttft_s, tpot_s, e2e_s, preemptions, prefix_hit_tokens, replica,
// drafts_proposed, drafts_accepted (new columns go at the end: scripts read the old ones).
std::string requests_csv(const ServeResult& result);

// One JSON object per line per request, by id (docs/serving.md lists the keys).
std::string requests_jsonl(const ServeResult& result);

}  // namespace tasim::serve
