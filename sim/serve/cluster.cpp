#include "sim/serve/cluster.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>

#include "common/error.h"
#include "sim/serve/replica.h"

namespace tasim::serve {

namespace {

using Routing = ClusterConfig::Routing;

bool disaggregated(const ClusterConfig& c) { return c.disaggregation.prefill_replicas > 0; }

int replica_count(const ClusterConfig& c) {
  return disaggregated(c) ? c.disaggregation.prefill_replicas + c.disaggregation.decode_replicas : c.replicas;
}

void validate_cluster(const ClusterConfig& c) {
  if (c.replicas < 1) throw Error(fmt::format("--replicas {} must be >= 1", c.replicas));
  const ClusterConfig::Disaggregation& d = c.disaggregation;
  if (d.prefill_replicas < 0 || d.decode_replicas < 0 ||
      (d.prefill_replicas > 0) != (d.decode_replicas > 0)) {
    throw Error(
        fmt::format("disaggregation with {} prefill and {} decode replicas: both must be >= 1 (or both 0)",
                    d.prefill_replicas, d.decode_replicas));
  }
  if (!disaggregated(c)) return;
  if (!(d.link_bytes_per_s > 0) || !std::isfinite(d.link_bytes_per_s)) {
    throw Error(fmt::format("KV transfer link bandwidth {} bytes/s must be > 0", d.link_bytes_per_s));
  }
  if (!(d.link_latency_s >= 0) || !std::isfinite(d.link_latency_s)) {
    throw Error(fmt::format("KV transfer link latency {} s must be >= 0", d.link_latency_s));
  }
  if (!(d.kv_bytes_per_token >= 0) || !std::isfinite(d.kv_bytes_per_token)) {
    throw Error(fmt::format("KV bytes per token {} must be >= 0", d.kv_bytes_per_token));
  }
}

// Events at one time happen in this order: steps finish (so routing sees their results), requests
// arrive, transferred KV lands, steps start (with every request that has come by then).
enum EventRank { kStepFinish = 0, kArrival = 1, kTransferLands = 2, kStepStart = 3 };

class Cluster {
 public:
  Cluster(const std::vector<Request>& requests, const SchedulerConfig& config, const ClusterConfig& cluster,
          std::vector<KvBlockManager> caches, const ReplicaStepTimeFn& step_time)
      : requests_(requests),
        cluster_(cluster),
        state_(requests, config, caches.front()),
        total_blocks_(caches.front().total_blocks()) {
    const int r_count = static_cast<int>(caches.size());
    replicas_.reserve(caches.size());
    for (int r = 0; r < r_count; ++r) {
      replicas_.emplace_back(r, state_, std::move(caches[static_cast<std::size_t>(r)]),
                             [&step_time, r](const StepShape& s) { return step_time(r, s); });
    }
    inbound_.assign(caches.size(), 0);
    if (disaggregated(cluster)) {
      prefill_ = cluster.disaggregation.prefill_replicas;
      link_free_s_.assign(static_cast<std::size_t>(prefill_ * cluster.disaggregation.decode_replicas), 0.0);
      for (int p = 0; p < prefill_; ++p) {
        replicas_[static_cast<std::size_t>(p)].set_handoff(
            [this, p](int id, double at) { hand_off(p, id, at); });
      }
    } else {
      prefill_ = r_count;
    }
  }

  ServeResult run() {
    while (state_.finished < requests_.size()) step_to_next_event();
    ServeResult out = std::move(state_.out);
    out.replicas = static_cast<int>(replicas_.size());
    out.total_blocks = total_blocks_;
    out.final_used_blocks = 0;
    for (const Replica& r : replicas_) out.final_used_blocks += r.kv().used_blocks();
    out.duration_s = 0;
    for (const RequestRecord& rec : out.requests) out.duration_s = std::max(out.duration_s, rec.completion_s);
    return out;
  }

 private:
  struct Transfer {
    double lands_s;
    long long order;  // FIFO among equal times
    int request, decode;
    bool operator<(const Transfer& o) const {
      return std::tie(lands_s, order) < std::tie(o.lands_s, o.order);
    }
  };

  void step_to_next_event() {
    using Event = std::tuple<double, int, int>;  // time, rank, replica (or -1)
    Event next{Replica::kNever, 0, -1};
    if (next_arrival_ < requests_.size())
      next = std::min(next, Event{requests_[next_arrival_].arrival_s, kArrival, -1});
    if (!transfers_.empty()) next = std::min(next, Event{transfers_.begin()->lands_s, kTransferLands, -1});
    for (const Replica& r : replicas_) {
      const int rank = r.step_in_flight() ? kStepFinish : kStepStart;
      next = std::min(next, Event{r.next_event_time(), rank, r.index()});
    }
    const auto [time_s, rank, replica] = next;
    if (!std::isfinite(time_s)) throw Error("internal: requests left but no event to come");
    if (rank == kArrival) {
      arrive();
    } else if (rank == kTransferLands) {
      land();
    } else {
      replicas_[static_cast<std::size_t>(replica)].advance();
    }
  }

  int outstanding(int r) const {
    return replicas_[static_cast<std::size_t>(r)].outstanding() + inbound_[static_cast<std::size_t>(r)];
  }

  // The replica among [0, prefill_) that the routing policy picks for request `id` now.
  int route(int id) {
    const Routing routing = cluster_.routing;
    if (routing == Routing::round_robin)
      return static_cast<int>(routed_++ % static_cast<long long>(prefill_));
    // The smallest key wins; every key ends with the index, so there are no ties.
    using Key = std::tuple<long long, long long, int>;
    Key best{0, 0, -1};
    for (int r = 0; r < prefill_; ++r) {
      const Replica& rep = replicas_[static_cast<std::size_t>(r)];
      Key key{outstanding(r), 0, r};
      if (routing == Routing::least_kv) key = Key{rep.kv().used_blocks(), outstanding(r), r};
      if (routing == Routing::prefix_aware) key = Key{-rep.cached_prefix_tokens(id), outstanding(r), r};
      if (std::get<2>(best) < 0 || key < best) best = key;
    }
    return std::get<2>(best);
  }

  void arrive() {
    const int id = static_cast<int>(next_arrival_++);
    const double at = requests_[static_cast<std::size_t>(id)].arrival_s;
    state_.out.in_system.emplace_back(at, ++state_.in_system);
    replicas_[static_cast<std::size_t>(route(id))].enqueue(id, at);
  }

  // Prefilled on replica p at `at`: to the decode replica with the fewest outstanding requests,
  // its KV over their link after the transfers before it.
  void hand_off(int p, int id, double at) {
    int best = prefill_;
    for (int d = prefill_; d < static_cast<int>(replicas_.size()); ++d) {
      if (outstanding(d) < outstanding(best)) best = d;
    }
    const ClusterConfig::Disaggregation& dis = cluster_.disaggregation;
    const std::size_t link = static_cast<std::size_t>(p * dis.decode_replicas + (best - prefill_));
    // Every group holds kv_bytes_per_token / groups per token; each hands over what the first
    // decode step attends (a sliding group its window, not the whole prompt).
    const std::vector<KvGroup>& groups = replicas_[static_cast<std::size_t>(best)].kv().groups();
    const long long prompt = requests_[static_cast<std::size_t>(id)].prompt_tokens;
    double tokens = 0;
    for (const KvGroup& g : groups) tokens += static_cast<double>(attended_tokens(g, prompt));
    const double bytes = dis.kv_bytes_per_token * tokens / static_cast<double>(groups.size());
    const double start_s = std::max(at, link_free_s_[link]);
    const double lands_s = start_s + dis.link_latency_s + bytes / dis.link_bytes_per_s;
    link_free_s_[link] = lands_s;
    RequestRecord& rec = state_.out.requests[static_cast<std::size_t>(id)];
    rec.kv_transfer_s = lands_s - at;
    rec.prefill_replica = p;
    ++inbound_[static_cast<std::size_t>(best)];
    transfers_.insert(Transfer{lands_s, transfer_order_++, id, best});
  }

  void land() {
    const Transfer t = *transfers_.begin();
    transfers_.erase(transfers_.begin());
    --inbound_[static_cast<std::size_t>(t.decode)];
    replicas_[static_cast<std::size_t>(t.decode)].enqueue(t.request, t.lands_s);
  }

  const std::vector<Request>& requests_;
  const ClusterConfig& cluster_;
  ServingState state_;
  int total_blocks_;
  std::vector<Replica> replicas_;
  int prefill_ = 1;  // the replicas arrivals are routed to: 0..prefill_-1
  std::size_t next_arrival_ = 0;
  long long routed_ = 0;
  std::vector<int> inbound_;         // transfers on their way to each replica
  std::vector<double> link_free_s_;  // (prefill, decode) link: when its last transfer lands
  std::set<Transfer> transfers_;
  long long transfer_order_ = 0;
};

}  // namespace

namespace detail {

ServeResult run_replicas(const std::vector<Request>& requests, const SchedulerConfig& config,
                         const ClusterConfig& cluster, std::vector<KvBlockManager> caches,
                         const ReplicaStepTimeFn& step_time) {
  validate_scheduler(config);
  validate_requests(requests);
  validate_cluster(cluster);
  if (static_cast<int>(caches.size()) != replica_count(cluster)) {
    throw Error(fmt::format("internal: {} KV caches for {} replicas", caches.size(), replica_count(cluster)));
  }
  return Cluster(requests, config, cluster, std::move(caches), step_time).run();
}

}  // namespace detail

ServeResult run_cluster(const std::vector<Request>& requests, const SchedulerConfig& config,
                        const ClusterConfig& cluster, const KvBlockManager& kv,
                        const ReplicaStepTimeFn& step_time) {
  validate_cluster(cluster);
  // Fresh caches of kv's size (a KvBlockManager is not copied: its free list is its own).
  std::vector<KvBlockManager> caches;
  caches.reserve(static_cast<std::size_t>(replica_count(cluster)));
  for (int r = 0; r < replica_count(cluster); ++r) {
    caches.emplace_back(kv.total_blocks(), kv.block_size(), kv.prefix_caching(), kv.prefix_match(), kv.groups());
  }
  return detail::run_replicas(requests, config, cluster, std::move(caches), step_time);
}

ServeResult run_cluster(const std::vector<Request>& requests, const SchedulerConfig& config,
                        const ClusterConfig& cluster, const KvBlockManager& kv, const StepTimeFn& step_time) {
  return run_cluster(requests, config, cluster, kv,
                     [&step_time](int, const StepShape& s) { return step_time(s); });
}

}  // namespace tasim::serve
