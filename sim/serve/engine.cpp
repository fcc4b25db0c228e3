#include "sim/serve/engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>

#include "common/error.h"
#include "sim/serve/workload.h"

namespace tasim::serve {

long long StepShape::tokens() const {
  long long n = 0;
  for (const ScheduledSeq& s : seqs) n += s.new_tokens;
  return n;
}

int StepShape::decodes() const {
  return static_cast<int>(std::count_if(seqs.begin(), seqs.end(), [](const ScheduledSeq& s) { return s.decode; }));
}

double RequestRecord::tpot_s() const {
  if (request.output_tokens <= 1) return 0.0;
  return (completion_s - first_token_s) / (request.output_tokens - 1);
}

namespace {

// A request's progress. Its known tokens are the prompt and the outputs so far; it has computed
// (holds the KV of) `computed` of them; when computed reaches known, the step emits its next
// output token. Preemption by recompute sets computed back to 0.
struct Live {
  long long computed = 0;
  int generated = 0;
  long long known(const Request& r) const { return r.prompt_tokens + generated; }
};

// The waiting queue: ordered by (priority, order); fcfs uses priority 0 and arrival order, and a
// preempted request goes back to the front (a smaller order than any).
using WaitKey = std::tuple<int, long long, int>;  // priority, order, id

}  // namespace

ServeResult run_serving(const std::vector<Request>& requests, const SchedulerConfig& config, KvBlockManager kv,
                  const StepTimeFn& step_time) {
  if (config.max_num_batched_tokens < 1) {
    throw Error(fmt::format("--max-num-batched-tokens {} must be >= 1", config.max_num_batched_tokens));
  }
  if (config.max_num_seqs < 1) throw Error(fmt::format("--max-num-seqs {} must be >= 1", config.max_num_seqs));
  const SchedulerConfig::Speculative& spec = config.speculative;
  if (spec.k < 0) throw Error(fmt::format("speculative k {} must be >= 0", spec.k));
  if (spec.k > 0) {
    if (spec.acceptance.empty()) throw Error("speculative decoding needs an acceptance rate");
    for (const double a : spec.acceptance) {
      if (!(a >= 0 && a <= 1)) throw Error(fmt::format("acceptance rate {} must be from 0 to 1", a));
    }
    if (!spec.draft_step_time) throw Error("internal: speculative decoding without a draft step time");
  }
  Rng accept_rng(spec.seed);
  if (config.long_prefill_token_threshold < 0) {
    throw Error(fmt::format("--long-prefill-token-threshold {} must be >= 0", config.long_prefill_token_threshold));
  }
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const Request& r = requests[i];
    if (r.id != static_cast<int>(i)) throw Error(fmt::format("request {} has id {}: ids are 0, 1, ... in order", i, r.id));
    if (i > 0 && r.arrival_s < requests[i - 1].arrival_s) {
      throw Error(fmt::format("request {} arrives at {} s, before request {} ({} s): requests come in arrival order", i,
                              r.arrival_s, i - 1, requests[i - 1].arrival_s));
    }
    if (r.prompt_tokens < 1 || r.output_tokens < 1 || !(r.arrival_s >= 0)) {
      throw Error(fmt::format("request {}: {} prompt and {} output tokens at {} s: each must be >= 1, the time >= 0", i,
                              r.prompt_tokens, r.output_tokens, r.arrival_s));
    }
  }

  ServeResult out;
  out.total_blocks = kv.total_blocks();
  out.requests.resize(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) out.requests[i].request = requests[i];
  std::vector<Live> live(requests.size());
  std::vector<std::vector<std::uint64_t>> hashes(requests.size());
  if (kv.prefix_caching()) {
    for (std::size_t i = 0; i < requests.size(); ++i) hashes[i] = prompt_block_hashes(requests[i], kv.block_size());
  }
  std::set<WaitKey> waiting;
  std::vector<int> running;  // in scheduling order
  long long front_order = 0;  // preempted requests go before every arrival (orders >= 0)
  std::size_t next_arrival = 0, finished = 0;
  int in_system = 0;
  double t = 0;

  const auto wait_key = [&](int id, long long order) {
    const int prio = config.policy == SchedulerConfig::Policy::priority ? requests[static_cast<std::size_t>(id)].priority : 0;
    return WaitKey{prio, order, id};
  };
  // A request decodes when it has computed everything but its last output token.
  const auto decoding = [&](int id) {
    const Request& r = requests[static_cast<std::size_t>(id)];
    const Live& l = live[static_cast<std::size_t>(id)];
    return l.computed >= r.prompt_tokens && l.known(r) - l.computed == 1;
  };
  const auto chunk = [&](int id, long long budget) {
    const Request& r = requests[static_cast<std::size_t>(id)];
    const Live& l = live[static_cast<std::size_t>(id)];
    if (spec.k > 0 && decoding(id)) {
      // Verify up to k drafts, no more than the outputs still to come.
      return std::min<long long>({spec.k + 1, r.output_tokens - l.generated, budget});
    }
    long long n = std::min(l.known(r) - l.computed, budget);
    const bool prefill = l.known(r) - l.computed > 1 || l.computed < r.prompt_tokens;
    if (prefill && config.long_prefill_token_threshold > 0) {
      n = std::min<long long>(n, config.long_prefill_token_threshold);
    }
    return n;
  };

  while (finished < requests.size()) {
    // Arrivals up to now.
    while (next_arrival < requests.size() && requests[next_arrival].arrival_s <= t) {
      waiting.insert(wait_key(static_cast<int>(next_arrival), static_cast<long long>(next_arrival)));
      out.in_system.emplace_back(requests[next_arrival].arrival_s, ++in_system);
      ++next_arrival;
    }
    if (running.empty() && waiting.empty()) {
      t = requests[next_arrival].arrival_s;  // idle until the next arrival
      continue;
    }

    // Schedule one step (vLLM V1): the running requests first, in order, then waiting ones.
    long long budget = config.max_num_batched_tokens;
    std::vector<std::pair<int, long long>> scheduled;  // request, new tokens
    int preempted = 0;
    for (std::size_t i = 0; i < running.size() && budget > 0;) {
      const int id = running[i];
      const long long n = chunk(id, budget);
      bool self_preempted = false;
      while (!kv.reserve(id, live[static_cast<std::size_t>(id)].computed + n)) {
        // Preempt the lowest-priority running request (the last one under fcfs): its blocks are
        // freed and it will compute its tokens again.
        std::size_t victim = running.size() - 1;
        if (config.policy == SchedulerConfig::Policy::priority) {
          for (std::size_t j = 0; j < running.size(); ++j) {
            const Request& a = requests[static_cast<std::size_t>(running[j])];
            const Request& b = requests[static_cast<std::size_t>(running[victim])];
            if (std::tie(a.priority, a.arrival_s, a.id) > std::tie(b.priority, b.arrival_s, b.id)) victim = j;
          }
        }
        const int v = running[victim];
        kv.release(v);
        Live& lv = live[static_cast<std::size_t>(v)];
        out.requests[static_cast<std::size_t>(v)].recomputed_tokens += lv.computed;
        lv.computed = 0;
        ++out.requests[static_cast<std::size_t>(v)].preemptions;
        ++preempted;
        // If it was already scheduled in this step, it gives its tokens back.
        for (auto s = scheduled.begin(); s != scheduled.end(); ++s) {
          if (s->first == v) {
            budget += s->second;
            scheduled.erase(s);
            break;
          }
        }
        running.erase(running.begin() + static_cast<std::ptrdiff_t>(victim));
        waiting.insert(wait_key(v, --front_order));
        if (v == id) {
          self_preempted = true;
          break;
        }
        if (victim < i) --i;
      }
      if (self_preempted) continue;  // running[i] is now the next request
      scheduled.emplace_back(id, n);
      budget -= n;
      ++i;
    }
    if (preempted == 0) {
      // Admission: in queue order; it never preempts and stops at the first request it cannot place.
      while (!waiting.empty() && budget > 0 && static_cast<int>(running.size()) < config.max_num_seqs) {
        const WaitKey key = *waiting.begin();
        const int id = std::get<2>(key);
        Live& l = live[static_cast<std::size_t>(id)];
        const Request& r = requests[static_cast<std::size_t>(id)];
        // A request starting from scratch first takes the cached blocks its prompt begins with.
        long long hit = 0;  // (a waiting request holds no blocks: new, or preempted)
        if (l.computed == 0) {
          hit = kv.take_cached_prefix(id, hashes[static_cast<std::size_t>(id)], l.known(r));
          l.computed = hit;
        }
        const long long n = chunk(id, budget);
        if (!kv.reserve(id, l.computed + n)) {
          kv.release(id);
          l.computed = 0;
          break;
        }
        out.requests[static_cast<std::size_t>(id)].prefix_hit_tokens += hit;
        waiting.erase(waiting.begin());
        running.push_back(id);
        scheduled.emplace_back(id, n);
        budget -= n;
        RequestRecord& rec = out.requests[static_cast<std::size_t>(id)];
        if (rec.first_scheduled_s < 0) rec.first_scheduled_s = t;
      }
    }
    if (scheduled.empty()) {
      if (preempted > 0) continue;  // everything was preempted: admit again, with the cache empty
      // Nothing fits in an empty cache: the queue's first request alone needs more than it holds.
      const int id = std::get<2>(*waiting.begin());
      const Request& r = requests[static_cast<std::size_t>(id)];
      const Live& l = live[static_cast<std::size_t>(id)];
      throw Error(fmt::format("request {} ({} prompt tokens, {} output so far) needs {} KV blocks of {} tokens to go on "
                              "but the cache has {} in all (a larger HBM or memory utilization, or shorter requests)",
                              id, r.prompt_tokens, l.generated,
                              kv.blocks_for(l.computed + chunk(id, config.max_num_batched_tokens)), kv.block_size(),
                              kv.total_blocks()));
    }

    StepShape shape, draft_decodes, draft_prefills;
    for (const auto& [id, n] : scheduled) {
      const Live& l = live[static_cast<std::size_t>(id)];
      const bool dec = decoding(id);
      shape.seqs.push_back({id, static_cast<int>(n), l.computed, dec});
      if (spec.k > 0) (dec ? draft_decodes : draft_prefills).seqs.push_back({id, dec ? 1 : static_cast<int>(n), l.computed, dec});
    }
    double draft_s = 0;
    if (spec.k > 0) {
      if (!draft_decodes.seqs.empty()) draft_s += spec.k * spec.draft_step_time(draft_decodes);
      if (!draft_prefills.seqs.empty()) draft_s += spec.draft_step_time(draft_prefills);
    }
    const double dt = step_time(shape) + draft_s;
    if (!(dt > 0) || !std::isfinite(dt)) throw Error(fmt::format("internal: a step took {} s", dt));
    StepRecord step;
    step.start_s = t;
    step.end_s = t + dt;
    step.scheduled = static_cast<int>(scheduled.size());
    step.running = static_cast<int>(running.size());
    step.tokens = shape.tokens();
    step.decodes = shape.decodes();
    step.prefill_tokens = step.tokens - step.decodes;
    step.preempted = preempted;
    step.draft_s = draft_s;
    if (config.step_energy) step.energy_j = config.step_energy(shape);
    out.preemptions += preempted;
    t += dt;

    // The step's results: tokens computed, an output token for each sequence that caught up (and
    // the accepted drafts of a verified one).
    for (std::size_t s = 0; s < scheduled.size(); ++s) {
      const auto [id, n] = scheduled[s];
      const Request& r = requests[static_cast<std::size_t>(id)];
      Live& l = live[static_cast<std::size_t>(id)];
      RequestRecord& rec = out.requests[static_cast<std::size_t>(id)];
      int emitted = 1;
      if (spec.k > 0 && shape.seqs[s].decode) {
        // n - 1 drafts verified: the accepted ones (a run from the first) and the step's own token.
        int accepted = 0;
        while (accepted < n - 1) {
          const double a = spec.acceptance[std::min<std::size_t>(static_cast<std::size_t>(accepted),
                                                                 spec.acceptance.size() - 1)];
          if (!(accept_rng.uniform() < a)) break;
          ++accepted;
        }
        rec.drafts_proposed += n - 1;
        rec.drafts_accepted += accepted;
        ++rec.verify_steps;
        emitted = accepted + 1;
        l.computed += emitted;  // the last token and the accepted drafts; the rejected ones are dropped
      } else {
        l.computed += n;
      }
      kv.cache_full_blocks(id, hashes[static_cast<std::size_t>(id)], l.computed);
      if (l.computed < l.known(r)) continue;  // a prefill chunk with more to come
      l.generated += emitted;
      for (int e = 0; e < emitted; ++e) rec.token_s.push_back(t);
      if (rec.first_token_s < 0) rec.first_token_s = t;
      if (l.generated == r.output_tokens) {
        rec.completion_s = t;
        kv.release(id);
        running.erase(std::find(running.begin(), running.end(), id));
        ++finished;
        out.in_system.emplace_back(t, --in_system);
      }
    }
    step.waiting = static_cast<int>(waiting.size());
    step.used_blocks = kv.used_blocks();
    out.steps.push_back(step);
  }
  out.duration_s = t;
  out.final_used_blocks = kv.used_blocks();
  return out;
}

}  // namespace tasim::serve
