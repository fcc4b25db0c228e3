#include "sim/serve/serve_trace.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <queue>
#include <set>
#include <string>
#include <utility>

namespace tasim::serve {

namespace {

std::uint64_t to_ns(double seconds) { return static_cast<std::uint64_t>(std::llround(std::max(0.0, seconds) * 1e9)); }

int replica_count(const ServeResult& result) {
  int n = std::max(1, result.replicas);
  for (const RequestRecord& r : result.requests) n = std::max(n, r.replica + 1);
  for (const StepRecord& s : result.steps) n = std::max(n, s.replica + 1);
  return n;
}

// Requests in arrival order (ties by id): the order lanes are assigned and slices written in.
std::vector<int> arrival_order(const ServeResult& result) {
  std::vector<int> order;
  for (const RequestRecord& r : result.requests) order.push_back(r.request.id);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return result.requests[static_cast<std::size_t>(a)].request.arrival_s <
           result.requests[static_cast<std::size_t>(b)].request.arrival_s;
  });
  return order;
}

// When a request leaves its lane: its completion, or the last moment known of an unfinished one.
double lane_end_s(const RequestRecord& r) {
  return std::max({r.request.arrival_s, r.first_scheduled_s, r.first_token_s, r.completion_s});
}

const char* step_kind(const StepRecord& s) {
  if (s.prefill_tokens == 0) return "decode";
  return s.decodes == 0 ? "prefill" : "mixed";
}

struct ReplicaTracks {
  trace::TrackId steps = 0, waiting = 0, running = 0, kv_used = 0, tokens = 0;
  std::vector<trace::TrackId> lanes;
};

void write_steps(const std::vector<const StepRecord*>& steps, const ReplicaTracks& t, trace::TraceWriter& w) {
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const StepRecord& s = *steps[i];
    const std::uint64_t start = to_ns(s.start_s), end = to_ns(s.end_s);
    const trace::Arg args[] = {
        trace::Arg::integer("scheduled", s.scheduled),     trace::Arg::integer("decodes", s.decodes),
        trace::Arg::integer("prefill_tokens", s.prefill_tokens), trace::Arg::integer("tokens", s.tokens),
        trace::Arg::integer("preempted", s.preempted),     trace::Arg::integer("running", s.running),
        trace::Arg::integer("waiting", s.waiting),         trace::Arg::integer("kv_blocks_used", s.used_blocks),
        trace::Arg::real("draft_seconds", s.draft_s),      trace::Arg::real("energy_joules", s.energy_j),
    };
    w.begin(t.steps, start, step_kind(s), args, std::size(args));
    w.end(t.steps, end);
    // Queue and batch as the step scheduled them; the KV cache as the step left it.
    w.counter(t.waiting, start, s.waiting);
    w.counter(t.running, start, s.running);
    w.counter(t.tokens, start, static_cast<double>(s.tokens));
    w.counter(t.kv_used, end, s.used_blocks);
    // An idle gap follows (or the run ends): nothing runs, waits or computes until the next step.
    const bool gap = i + 1 == steps.size() || to_ns(steps[i + 1]->start_s) > end;
    if (gap) {
      w.counter(t.waiting, end, 0);
      w.counter(t.running, end, 0);
      w.counter(t.tokens, end, 0);
    }
  }
}

void write_request(const RequestRecord& r, trace::TrackId lane, trace::TraceWriter& w) {
  const trace::Arg args[] = {
      trace::Arg::integer("id", r.request.id),
      trace::Arg::integer("prompt_tokens", r.request.prompt_tokens),
      trace::Arg::integer("output_tokens", r.request.output_tokens),
      trace::Arg::integer("preemptions", r.preemptions),
      trace::Arg::integer("prefix_hit_tokens", r.prefix_hit_tokens),
      trace::Arg::integer("prefill_replica", r.prefill_replica >= 0 ? r.prefill_replica : r.replica),
  };
  // Each phase from its start to the next one's, if both are known and it lasts at least a ns.
  // Disaggregated, the request is drawn on its decode replica's lane whole (its queue and prefill
  // ran on prefill_replica, an argument of every slice), with its KV transfer before the decode.
  const double landed_s = r.first_token_s < 0 ? -1 : r.first_token_s + r.kv_transfer_s;
  const std::pair<const char*, std::pair<double, double>> phases[] = {
      {"queued", {r.request.arrival_s, r.first_scheduled_s}},
      {"prefill", {r.first_scheduled_s, r.first_token_s}},
      {"kv_transfer", {r.first_token_s, landed_s}},
      {"decode", {landed_s, r.completion_s}},
  };
  for (const auto& [name, span] : phases) {
    if (span.first < 0 || span.second < 0) continue;
    const std::uint64_t begin = to_ns(span.first), end = to_ns(span.second);
    if (end <= begin) continue;
    w.begin(lane, begin, name, args, std::size(args));
    w.end(lane, end);
  }
}

}  // namespace

std::vector<int> request_lanes(const ServeResult& result, int max_lanes) {
  std::vector<int> lanes(result.requests.size(), -1);
  const int replicas = replica_count(result);
  // Per replica: lanes free now (lowest first), and busy ones by the ns they free up.
  using Busy = std::pair<std::uint64_t, int>;  // end ns, lane
  std::vector<std::set<int>> free(static_cast<std::size_t>(replicas));
  std::vector<std::priority_queue<Busy, std::vector<Busy>, std::greater<Busy>>> busy(free.size());
  std::vector<int> count(free.size(), 0);
  for (const int id : arrival_order(result)) {
    const RequestRecord& r = result.requests[static_cast<std::size_t>(id)];
    if (r.first_scheduled_s < 0) continue;
    const auto rep = static_cast<std::size_t>(r.replica);
    // Compared in ns, as written: a lane whose last request ends at this one's arrival is free.
    const std::uint64_t arrival = to_ns(r.request.arrival_s);
    while (!busy[rep].empty() && busy[rep].top().first <= arrival) {
      free[rep].insert(busy[rep].top().second);
      busy[rep].pop();
    }
    int lane;
    if (free[rep].empty()) {
      if (count[rep] >= max_lanes) continue;  // left out
      lane = count[rep]++;
    } else {
      lane = *free[rep].begin();
      free[rep].erase(free[rep].begin());
    }
    lanes[static_cast<std::size_t>(id)] = lane;
    busy[rep].push({to_ns(lane_end_s(r)), lane});
  }
  return lanes;
}

int write_serve_trace(const ServeResult& result, trace::TraceWriter& w, int max_lanes) {
  const int replicas = replica_count(result);
  const std::vector<int> lanes = request_lanes(result, max_lanes);
  std::vector<int> lane_count(static_cast<std::size_t>(replicas), 0);
  int left_out = 0;
  for (std::size_t i = 0; i < lanes.size(); ++i) {
    left_out += lanes[i] < 0 && result.requests[i].first_scheduled_s >= 0;
    auto& n = lane_count[static_cast<std::size_t>(result.requests[i].replica)];
    n = std::max(n, lanes[i] + 1);
  }
  // Every track first, replica by replica, so the UI lists them in this order.
  std::vector<ReplicaTracks> tracks(static_cast<std::size_t>(replicas));
  for (int rep = 0; rep < replicas; ++rep) {
    ReplicaTracks& t = tracks[static_cast<std::size_t>(rep)];
    const trace::TrackId process = w.add_process(rep + 1, "replica " + std::to_string(rep));
    t.steps = w.add_thread(process, "steps");
    t.waiting = w.add_counter(process, "waiting", "requests");
    t.running = w.add_counter(process, "running", "requests");
    t.kv_used = w.add_counter(process, "kv_blocks_used", "blocks");
    t.tokens = w.add_counter(process, "tokens_per_step", "tokens");
    for (int lane = 0; lane < lane_count[static_cast<std::size_t>(rep)]; ++lane) {
      t.lanes.push_back(w.add_thread(process, "requests " + std::to_string(lane)));
    }
  }
  for (int rep = 0; rep < replicas; ++rep) {
    std::vector<const StepRecord*> steps;
    for (const StepRecord& s : result.steps) {
      if (s.replica == rep) steps.push_back(&s);
    }
    std::stable_sort(steps.begin(), steps.end(),
                     [](const StepRecord* a, const StepRecord* b) { return a->start_s < b->start_s; });
    write_steps(steps, tracks[static_cast<std::size_t>(rep)], w);
  }
  // In arrival order, so each lane's slices come in time order.
  for (const int id : arrival_order(result)) {
    const RequestRecord& r = result.requests[static_cast<std::size_t>(id)];
    const int lane = lanes[static_cast<std::size_t>(id)];
    if (lane < 0) continue;
    write_request(r, tracks[static_cast<std::size_t>(r.replica)].lanes[static_cast<std::size_t>(lane)], w);
  }
  return left_out;
}

}  // namespace tasim::serve
