#include "sim/serve/replica.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "common/error.h"

namespace tasim::serve {

using Kind = SchedulerConfig::Kind;

ServingState::ServingState(const std::vector<Request>& requests_in, const SchedulerConfig& config_in,
                           const KvBlockManager& kv)
    : requests(requests_in),
      config(config_in),
      live(requests_in.size()),
      hashes(requests_in.size()),
      partial_names(requests_in.size()),
      accept_rng(config_in.speculative.seed) {
  out.requests.resize(requests.size());
  for (std::size_t i = 0; i < requests.size(); ++i) out.requests[i].request = requests[i];
  if (!kv.prefix_caching()) return;
  const bool token = kv.prefix_match() == PrefixMatch::token;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    hashes[i] = cached_block_hashes(requests[i], kv.block_size());
    if (!token) continue;
    partial_names[i] = [&r = requests[i], &h = hashes[i], bs = kv.block_size()](std::size_t block, int t) {
      return partial_block_hash(r, bs, block == 0 ? 0 : h[block - 1], static_cast<int>(block), t);
    };
  }
}

long long ServingState::known(int id) const {
  return requests[static_cast<std::size_t>(id)].prompt_tokens + live[static_cast<std::size_t>(id)].generated;
}

SchedulingRules scheduling_rules(Kind kind) {
  //                       decodes first, whole prompts, reserve outputs, admit when empty only
  switch (kind) {
    case Kind::vllm:
      return {false, false, false, false};
    case Kind::sarathi:
      return {true, false, false, false};
    case Kind::orca:
      return {false, true, true, false};
    case Kind::static_batch:
      return {false, true, true, true};
  }
  throw Error("internal: an unknown scheduler kind");
}

Replica::Replica(int index, ServingState& state, KvBlockManager kv, StepTimeFn step_time)
    : index_(index),
      s_(state),
      rules_(scheduling_rules(state.config.kind)),
      kv_(std::move(kv)),
      step_time_(std::move(step_time)) {}

long long Replica::cached_prefix_tokens(int request) const {
  const auto i = static_cast<std::size_t>(request);
  if (s_.live[i].computed > 0) return 0;  // a transferred request brings its own KV
  return kv_.cached_prefix_tokens(s_.hashes[i], s_.known(request), s_.partial_names[i]);
}

Replica::WaitKey Replica::wait_key(int id, long long order) const {
  const int prio = s_.config.policy == SchedulerConfig::Policy::priority
                       ? s_.requests[static_cast<std::size_t>(id)].priority
                       : 0;
  return WaitKey{prio, order, id};
}

void Replica::enqueue(int request, double at) {
  waiting_.insert(wait_key(request, request));  // arrival order is id order
  s_.out.requests[static_cast<std::size_t>(request)].replica = index_;
  if (!in_flight_) t_ = std::max(t_, at);
}

double Replica::next_event_time() const {
  if (in_flight_) return t_;
  return running_.empty() && waiting_.empty() ? kNever : t_;
}

void Replica::advance() {
  if (in_flight_) {
    finish_step();
  } else {
    start_step();
  }
}

// A request decodes when it has computed everything but its last output token.
bool Replica::decoding(int id) const {
  const Request& r = s_.requests[static_cast<std::size_t>(id)];
  const ServingState::Live& l = s_.live[static_cast<std::size_t>(id)];
  return l.computed >= r.prompt_tokens && s_.known(id) - l.computed == 1;
}

// The tokens `id` would compute in this step with `budget` left. Whole-prompt schedulers return
// the whole rest even past the budget: the caller decides whether it may go alone.
long long Replica::chunk(int id, long long budget) const {
  const Request& r = s_.requests[static_cast<std::size_t>(id)];
  const ServingState::Live& l = s_.live[static_cast<std::size_t>(id)];
  const SchedulerConfig::Speculative& spec = s_.config.speculative;
  if (spec.k > 0 && decoding(id)) {
    // Verify up to k drafts, no more than the outputs still to come.
    return std::min<long long>({spec.k + 1, r.output_tokens - l.generated, budget});
  }
  const long long rest = s_.known(id) - l.computed;
  if (rules_.whole_prompts) return rest;
  long long n = std::min(rest, budget);
  const bool prefill = rest > 1 || l.computed < r.prompt_tokens;
  if (prefill && s_.config.long_prefill_token_threshold > 0) {
    n = std::min<long long>(n, s_.config.long_prefill_token_threshold);
  }
  return n;
}

// The tokens whose KV `id` must hold to compute n more: Orca and static batching hold the whole
// request's (prompt + every output) from admission, so their requests never grow nor preempt.
long long Replica::admission_tokens(int id, long long n) const {
  const ServingState::Live& l = s_.live[static_cast<std::size_t>(id)];
  if (!rules_.reserve_outputs) return l.computed + n;
  const Request& r = s_.requests[static_cast<std::size_t>(id)];
  return std::max<long long>(l.computed + n, static_cast<long long>(r.prompt_tokens) + r.output_tokens);
}

// The lowest-priority running request: the last one under fcfs; the largest (priority, arrival)
// under policy priority.
std::size_t Replica::preemption_victim() const {
  std::size_t victim = running_.size() - 1;
  if (s_.config.policy == SchedulerConfig::Policy::priority) {
    for (std::size_t j = 0; j < running_.size(); ++j) {
      const Request& a = s_.requests[static_cast<std::size_t>(running_[j])];
      const Request& b = s_.requests[static_cast<std::size_t>(running_[victim])];
      if (std::tie(a.priority, a.arrival_s, a.id) > std::tie(b.priority, b.arrival_s, b.id)) victim = j;
    }
  }
  return victim;
}

// Preemption by recompute: the victim's blocks are freed, it computes its tokens again later, and
// if it was already scheduled in this step it gives its tokens back to the budget.
void Replica::preempt(std::size_t victim) {
  const int v = running_[victim];
  kv_.release(v);
  ServingState::Live& lv = s_.live[static_cast<std::size_t>(v)];
  RequestRecord& rec = s_.out.requests[static_cast<std::size_t>(v)];
  rec.recomputed_tokens += lv.computed;
  lv.computed = 0;
  ++rec.preemptions;
  ++preempted_;
  for (auto s = scheduled_.begin(); s != scheduled_.end(); ++s) {
    if (s->first == v) {
      budget_ += s->second;
      scheduled_.erase(s);
      break;
    }
  }
  running_.erase(running_.begin() + static_cast<std::ptrdiff_t>(victim));
  waiting_.insert(wait_key(v, --front_order_));
}

// The running requests first, in order (Sarathi-Serve: the decodes before the prefill chunks). A
// request whose blocks cannot grow preempts the lowest-priority running request, itself included.
void Replica::schedule_running() {
  if (rules_.decodes_first) {
    std::stable_partition(running_.begin(), running_.end(), [&](int id) { return decoding(id); });
  }
  for (std::size_t i = 0; i < running_.size() && budget_ > 0;) {
    const int id = running_[i];
    const long long n = chunk(id, budget_);
    if (n > budget_) {  // a whole prompt that does not fit what is left (Orca, static): next step
      ++i;
      continue;
    }
    // Past the whole cache it would preempt itself and recompute forever.
    const long long computed = s_.live[static_cast<std::size_t>(id)].computed;
    if (kv_.blocks_needed(admission_tokens(id, n), computed) > kv_.total_blocks()) throw_unschedulable(id);
    bool self_preempted = false;
    while (!kv_.reserve(id, admission_tokens(id, n), computed)) {
      const std::size_t victim = preemption_victim();
      const int v = running_[victim];
      preempt(victim);
      if (v == id) {
        self_preempted = true;
        break;
      }
      if (victim < i) --i;
    }
    if (self_preempted) continue;  // running_[i] is now the next request
    scheduled_.emplace_back(id, n);
    budget_ -= n;
    ++i;
  }
}

// The waiting queue in admission order: its key order, or under lpm the longest cached prefix
// first (SGLang), equal matches in key order.
std::vector<Replica::WaitKey> Replica::admission_order() const {
  std::vector<WaitKey> order(waiting_.begin(), waiting_.end());
  if (s_.config.ordering == SchedulerConfig::Ordering::lpm) {
    std::vector<std::pair<long long, WaitKey>> by_match;
    for (const WaitKey& k : order) by_match.emplace_back(cached_prefix_tokens(std::get<2>(k)), k);
    std::stable_sort(by_match.begin(), by_match.end(), [](const auto& a, const auto& b) {
      if (std::get<0>(a.second) != std::get<0>(b.second))
        return std::get<0>(a.second) < std::get<0>(b.second);
      return a.first > b.first;
    });
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = by_match[i].second;
  }
  return order;
}

// Admission, in queue order: never preempts and stops at the first request it cannot place.
// Static batching admits only into an empty replica, and a batch whose prompts fit the budget
// together (or one prompt alone).
void Replica::admit() {
  if (rules_.admit_when_empty_only && !running_.empty()) return;
  // (Before sorting the queue, which lpm does by probing the cache for every waiting request.)
  if (waiting_.empty() || budget_ <= 0 || static_cast<int>(running_.size()) >= s_.config.max_num_seqs) return;
  for (const WaitKey& key : admission_order()) {
    if (budget_ <= 0 || static_cast<int>(running_.size()) >= s_.config.max_num_seqs) break;
    const int id = std::get<2>(key);
    ServingState::Live& l = s_.live[static_cast<std::size_t>(id)];
    // A request starting from scratch first takes the cached blocks its prompt begins with (a
    // waiting request holds no blocks: new, preempted, or with its KV just transferred).
    long long hit = 0;
    if (l.computed == 0) {
      const auto i = static_cast<std::size_t>(id);
      hit = kv_.take_cached_prefix(id, s_.hashes[i], s_.known(id), s_.partial_names[i]);
      l.computed = hit;
    }
    const long long n = chunk(id, budget_);
    const bool alone = scheduled_.empty() && budget_ == s_.config.max_num_batched_tokens;
    if ((n > budget_ && !alone) || !kv_.reserve(id, admission_tokens(id, n), l.computed)) {
      kv_.release(id);
      l.computed -= hit;
      break;
    }
    RequestRecord& rec = s_.out.requests[static_cast<std::size_t>(id)];
    rec.prefix_hit_tokens += hit;
    waiting_.erase(key);
    running_.push_back(id);
    scheduled_.emplace_back(id, n);
    budget_ -= n;
    if (rec.first_scheduled_s < 0) rec.first_scheduled_s = t_;
  }
}

// Request `id` alone needs more blocks than the cache holds.
void Replica::throw_unschedulable(int id) const {
  const Request& r = s_.requests[static_cast<std::size_t>(id)];
  const ServingState::Live& l = s_.live[static_cast<std::size_t>(id)];
  throw Error(
      fmt::format("request {} ({} prompt tokens, {} output so far) needs {} KV blocks of {} tokens to go on "
                  "but the cache has {} in all (a larger HBM or memory utilization, or shorter requests)",
                  id, r.prompt_tokens, l.generated,
                  kv_.blocks_needed(admission_tokens(id, chunk(id, s_.config.max_num_batched_tokens)), l.computed),
                  kv_.block_size(), kv_.total_blocks()));
}

void Replica::start_step() {
  budget_ = s_.config.max_num_batched_tokens;
  scheduled_.clear();
  preempted_ = 0;
  schedule_running();
  if (preempted_ == 0) admit();
  if (scheduled_.empty()) {
    if (preempted_ > 0) {  // everything was preempted: admit again, with the cache empty
      s_.out.preemptions += preempted_;
      return;
    }
    // Nothing fits in an empty cache: the queue's first request alone needs more than it holds.
    throw_unschedulable(std::get<2>(*waiting_.begin()));
  }

  const SchedulerConfig::Speculative& spec = s_.config.speculative;
  StepShape draft_decodes, draft_prefills;
  shape_ = StepShape{};
  for (const auto& [id, n] : scheduled_) {
    const ServingState::Live& l = s_.live[static_cast<std::size_t>(id)];
    const bool dec = decoding(id);
    shape_.seqs.push_back({id, static_cast<int>(n), l.computed, dec});
    if (spec.k > 0) {
      (dec ? draft_decodes : draft_prefills)
          .seqs.push_back({id, dec ? 1 : static_cast<int>(n), l.computed, dec});
    }
  }
  double draft_s = 0, draft_j = 0;
  if (spec.k > 0) {
    if (!draft_decodes.seqs.empty()) draft_s += spec.k * spec.draft_step_time(draft_decodes);
    if (!draft_prefills.seqs.empty()) draft_s += spec.draft_step_time(draft_prefills);
    if (spec.draft_step_energy) {
      if (!draft_decodes.seqs.empty()) draft_j += spec.k * spec.draft_step_energy(draft_decodes);
      if (!draft_prefills.seqs.empty()) draft_j += spec.draft_step_energy(draft_prefills);
    }
  }
  const double dt = step_time_(shape_) + draft_s;
  if (!(dt > 0) || !std::isfinite(dt)) throw Error(fmt::format("internal: a step took {} s", dt));
  step_ = StepRecord{};
  step_.replica = index_;
  step_.start_s = t_;
  step_.end_s = t_ + dt;
  step_.scheduled = static_cast<int>(scheduled_.size());
  step_.running = static_cast<int>(running_.size());
  step_.waiting = static_cast<int>(waiting_.size());  // before the arrivals during the step
  step_.tokens = shape_.tokens();
  step_.decodes = shape_.decodes();
  step_.prefill_tokens = step_.tokens - step_.decodes;
  step_.preempted = preempted_;
  step_.draft_s = draft_s;
  if (s_.config.step_energy) step_.energy_j = s_.config.step_energy(shape_) + draft_j;
  s_.out.preemptions += preempted_;
  t_ += dt;
  in_flight_ = true;
}

void Replica::complete(int id) {
  RequestRecord& rec = s_.out.requests[static_cast<std::size_t>(id)];
  rec.completion_s = t_;
  kv_.release(id);
  running_.erase(std::find(running_.begin(), running_.end(), id));
  ++s_.finished;
  s_.out.in_system.emplace_back(t_, --s_.in_system);
}

// The step's results: tokens computed, an output token for each sequence that caught up (and the
// accepted drafts of a verified one).
void Replica::finish_step() {
  in_flight_ = false;
  const SchedulerConfig::Speculative& spec = s_.config.speculative;
  for (std::size_t i = 0; i < scheduled_.size(); ++i) {
    const auto [id, n] = scheduled_[i];
    const Request& r = s_.requests[static_cast<std::size_t>(id)];
    ServingState::Live& l = s_.live[static_cast<std::size_t>(id)];
    RequestRecord& rec = s_.out.requests[static_cast<std::size_t>(id)];
    int emitted = 1;
    if (spec.k > 0 && shape_.seqs[i].decode) {
      // n - 1 drafts verified: the accepted ones (a run from the first) and the step's own token.
      int accepted = 0;
      while (accepted < n - 1) {
        const double a = spec.acceptance[std::min<std::size_t>(static_cast<std::size_t>(accepted),
                                                               spec.acceptance.size() - 1)];
        if (!(s_.accept_rng.uniform() < a)) break;
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
    kv_.cache_full_blocks(id, s_.hashes[static_cast<std::size_t>(id)], l.computed,
                          s_.partial_names[static_cast<std::size_t>(id)]);
    if (l.computed < s_.known(id)) continue;  // a prefill chunk with more to come
    l.generated += emitted;
    for (int e = 0; e < emitted; ++e) rec.token_s.push_back(t_);
    if (rec.first_token_s < 0) rec.first_token_s = t_;
    if (l.generated == r.output_tokens) {
      complete(id);
    } else if (handoff_ && l.generated == 1) {
      // Prefilled here, decoded elsewhere: its KV leaves with it (the blocks here are freed;
      // with prefix caching its prompt's blocks stay cached).
      kv_.release(id);
      running_.erase(std::find(running_.begin(), running_.end(), id));
      handoff_(id, t_);
    }
  }
  step_.used_blocks = kv_.used_blocks();
  s_.out.steps.push_back(step_);
}

}  // namespace tasim::serve
