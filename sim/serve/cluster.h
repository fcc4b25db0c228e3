// Several replicas on one global clock (docs/serving.md, "Replicas and routing" and
// "Disaggregation"): each its own scheduler and KV cache of the same size; a request is routed to
// one at its arrival, from the replicas' state at that time. With disaggregation (DistServe,
// Splitwise) requests are prefilled on prefill replicas and decoded on decode replicas, their KV
// sent over a link in between.
#pragma once

#include <functional>
#include <vector>

#include "sim/serve/engine.h"

namespace tasim::serve {

struct ClusterConfig {
  int replicas = 1;  // R, without disaggregation (with it, the replicas are P + D)
  // Where a request goes at its arrival (among the prefill replicas under disaggregation):
  //   round_robin        the k-th arrival to replica k mod R;
  //   least_outstanding  the fewest requests there and not finished (ties: the lowest index);
  //   least_kv           the fewest KV blocks in use (ties: least outstanding, then index);
  //   prefix_aware       the longest prefix of its prompt cached there (ties: least outstanding,
  //                      then index).
  enum class Routing {
    round_robin,
    least_outstanding,
    least_kv,
    prefix_aware
  } routing = Routing::round_robin;

  // Prefill/decode disaggregation, on when prefill_replicas > 0: replicas 0..P-1 prefill (each
  // request until its first token), P..P+D-1 decode. A prefilled request's KV goes over the link
  // from its prefill replica to the decode replica with the fewest outstanding requests (counting
  // those on the way), one link per (prefill, decode) pair, transfers on a link one at a time in
  // FIFO order, each taking link_latency_s + bytes / link_bytes_per_s. Its bytes:
  // kv_bytes_per_token (every layer's K and V per token) x its prompt tokens; with KV groups
  // (kv_cache.h), each group's equal share of kv_bytes_per_token x the prompt tokens its first
  // decode step attends (attended_tokens: a sliding group's window, not the whole prompt).
  struct Disaggregation {
    int prefill_replicas = 0;  // P
    int decode_replicas = 0;   // D
    double kv_bytes_per_token = 0;
    double link_bytes_per_s = 0;
    double link_latency_s = 0;
  } disaggregation;
};

// The step time of a step on a replica (replicas may differ: Splitwise's prefill and decode
// machines), seconds > 0.
using ReplicaStepTimeFn = std::function<double(int replica, const StepShape&)>;

// Serves `requests` (in arrival order, ids 0..n-1) on the cluster, each replica with a copy of
// `kv` (empty) and `config`. StepRecord::replica names each step's replica, RequestRecord::replica
// the replica that served (decoded) the request; steps are listed in the order they finished,
// in_system in time order. Throws tasim::Error for a bad configuration and for a request that can
// never be scheduled.
ServeResult run_cluster(const std::vector<Request>& requests, const SchedulerConfig& config,
                        const ClusterConfig& cluster, const KvBlockManager& kv,
                        const ReplicaStepTimeFn& step_time);
// The same step time on every replica.
ServeResult run_cluster(const std::vector<Request>& requests, const SchedulerConfig& config,
                        const ClusterConfig& cluster, const KvBlockManager& kv, const StepTimeFn& step_time);

}  // namespace tasim::serve

namespace tasim::serve::detail {
// run_cluster with the replicas' caches given (one each, moved in as they are): run_serving
// passes its own.
ServeResult run_replicas(const std::vector<Request>& requests, const SchedulerConfig& config,
                         const ClusterConfig& cluster, std::vector<KvBlockManager> caches,
                         const ReplicaStepTimeFn& step_time);
}  // namespace tasim::serve::detail
