// A serving run as a trace (Perfetto or Chrome JSON, sim/trace): what the scheduler did step by
// step and where each request spent its time, for ui.perfetto.dev. The layout (docs/serving.md):
//  - a process per replica ("replica N");
//  - its thread "steps": one slice per step, named by its kind (prefill, decode, mixed), with the
//    step's figures as args;
//  - its counters: waiting and running requests, KV blocks used, tokens per step;
//  - its threads "requests 0", "requests 1", ...: each request as up to three consecutive slices,
//    queued (arrival to first scheduled), prefill (to the first token), decode (to completion).
// The writers have no async tracks, and slices on one thread must nest, so requests, which
// overlap in time, are laid on lanes: each request goes to the lowest-numbered lane of its
// replica that is free at its arrival, so a lane's requests never overlap and the lanes are as
// few as the most requests in that replica's system at once. A saturated run can hold thousands
// at once: lanes stop at max_lanes per replica (the writers number a process's threads below
// 1000, and a UI with thousands of rows helps no one), and a request that finds every lane busy
// is left out of the lanes (its steps and the queue counters still show it).
// Timestamps: seconds x 1e9 rounded to the nearest ns (one rounding for every time, so slices that
// touch in seconds touch in ns). Deterministic: the same run gives the same bytes.
#pragma once

#include <vector>

#include "sim/serve/engine.h"
#include "sim/trace/trace_writer.h"

namespace tasim::serve {

constexpr int kDefaultMaxLanes = 256;

// The lane of each request (by id) among its replica's lanes; -1 for a request never scheduled
// or left out (every one of max_lanes busy).
std::vector<int> request_lanes(const ServeResult& result, int max_lanes = kDefaultMaxLanes);

// Writes the whole run to `writer` (the caller closes it) and returns the number of requests left
// out of the lanes. Throws tasim::Error from the writer.
int write_serve_trace(const ServeResult& result, trace::TraceWriter& writer, int max_lanes = kDefaultMaxLanes);

}  // namespace tasim::serve
