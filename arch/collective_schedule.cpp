#include "arch/collective_schedule.h"

#include <fmt/format.h>

#include <set>

#include "common/error.h"

namespace tasim {


const char* collective_op_name(CollectiveOp op) {
  switch (op) {
    case CollectiveOp::all_reduce:
      return "allreduce";
    case CollectiveOp::all_gather:
      return "allgather";
    case CollectiveOp::reduce_scatter:
      return "reducescatter";
    case CollectiveOp::all_to_all:
      return "alltoall";
    case CollectiveOp::send_recv:
      return "sendrecv";
  }
  return "?";
}

const char* collective_algo_name(CollectiveAlgo algo) {
  return algo == CollectiveAlgo::ring ? "ring" : "direct";
}

CollectiveAlgo effective_algo(const CollectiveSpec& spec) {
  if (spec.op == CollectiveOp::all_to_all || spec.op == CollectiveOp::send_recv)
    return CollectiveAlgo::direct;
  return spec.algo;
}

std::uint64_t shard_bytes(std::uint64_t bytes, int p, int k) {
  const auto n = static_cast<std::uint64_t>(p);
  return bytes / n + (static_cast<std::uint64_t>(k) < bytes % n ? 1 : 0);
}

namespace {

int mod(int a, int n) { return (a % n + n) % n; }

constexpr const char* kReduceScatter = "reduce_scatter";
constexpr const char* kAllGather = "all_gather";

// Ring steps: participant i sends shard chunk(i, s) to i + 1 and receives one shard.
template <typename Chunk>
void add_ring_steps(CollectiveSchedule& sched, std::uint64_t bytes, int steps, const char* phase,
                    Chunk chunk) {
  const int p = static_cast<int>(sched.steps.size());
  for (int i = 0; i < p; ++i) {
    for (int s = 0; s < steps; ++s) {
      CollectiveStep step;
      step.phase = phase;
      step.sends.push_back({mod(i + 1, p), shard_bytes(bytes, p, chunk(i, s))});
      step.receives = 1;
      sched.steps[static_cast<std::size_t>(i)].push_back(std::move(step));
    }
  }
}

// One direct step: participant i sends to every other participant j (issued i+1, i+2, ...)
// the shard chunk(i, j).
template <typename Chunk>
void add_direct_step(CollectiveSchedule& sched, std::uint64_t bytes, const char* phase, Chunk chunk) {
  const int p = static_cast<int>(sched.steps.size());
  for (int i = 0; i < p; ++i) {
    CollectiveStep step;
    step.phase = phase;
    for (int k = 1; k < p; ++k) {
      const int j = mod(i + k, p);
      step.sends.push_back({j, shard_bytes(bytes, p, chunk(i, j))});
    }
    step.receives = p - 1;
    sched.steps[static_cast<std::size_t>(i)].push_back(std::move(step));
  }
}

}  // namespace

CollectiveSchedule build_schedule(const CollectiveSpec& spec) {
  const int p = static_cast<int>(spec.chips.size());
  const char* name = collective_op_name(spec.op);
  if (p < 2) throw Error(fmt::format("{}: needs at least 2 chips, got {}", name, p));
  if (std::set<int>(spec.chips.begin(), spec.chips.end()).size() != spec.chips.size()) {
    throw Error(fmt::format("{}: a chip appears twice among the participants", name));
  }
  if (spec.op == CollectiveOp::send_recv && p != 2) {
    throw Error(fmt::format("sendrecv: needs exactly 2 chips (source, destination), got {}", p));
  }
  if (spec.bytes < 1) throw Error(fmt::format("{}: bytes must be >= 1", name));

  CollectiveSchedule sched;
  sched.steps.resize(static_cast<std::size_t>(p));
  const std::uint64_t b = spec.bytes;
  const bool ring = effective_algo(spec) == CollectiveAlgo::ring;
  // Ring chunk indices (nccl's): reduce-scatter step s sends chunk i - s - 1, leaving participant
  // i with chunk i reduced; all-gather step s sends chunk i - s, starting from chunk i.
  auto rs_chunk = [p](int i, int s) { return mod(i - s - 1, p); };
  auto ag_chunk = [p](int i, int s) { return mod(i - s, p); };
  auto to_receiver = [](int, int j) { return j; };  // shard j goes to j (reduce-scatter, all-to-all)
  auto own = [](int i, int) { return i; };          // one's own shard to everyone (all-gather)
  switch (spec.op) {
    case CollectiveOp::all_reduce:
      if (ring) {
        add_ring_steps(sched, b, p - 1, kReduceScatter, rs_chunk);
        add_ring_steps(sched, b, p - 1, kAllGather, ag_chunk);
      } else {
        add_direct_step(sched, b, kReduceScatter, to_receiver);
        add_direct_step(sched, b, kAllGather, own);
      }
      break;
    case CollectiveOp::all_gather:
      if (ring) {
        add_ring_steps(sched, b, p - 1, kAllGather, ag_chunk);
      } else {
        add_direct_step(sched, b, kAllGather, own);
      }
      break;
    case CollectiveOp::reduce_scatter:
      if (ring) {
        add_ring_steps(sched, b, p - 1, kReduceScatter, rs_chunk);
      } else {
        add_direct_step(sched, b, kReduceScatter, to_receiver);
      }
      break;
    case CollectiveOp::all_to_all:
      add_direct_step(sched, b, "all_to_all", to_receiver);
      break;
    case CollectiveOp::send_recv: {
      CollectiveStep send;
      send.phase = "send";
      send.sends.push_back({1, b});
      sched.steps[0].push_back(std::move(send));
      CollectiveStep recv;
      recv.phase = "recv";
      recv.receives = 1;
      sched.steps[1].push_back(std::move(recv));
      break;
    }
  }
  return sched;
}

}  // namespace tasim
