// Collective algorithms as plain data: which participant sends how many bytes to whom at each step.
// The collective engine (models/collective_engine.h) executes these schedules over the links of
// an Interconnect; `tasim collective` and the chips' coll.* instructions drive it.

// Algorithms (P participants, `bytes` in nccl-tests' sense, shards bytes/P, the first
// bytes % P shards one byte larger):
//  - all_reduce ring: reduce-scatter then all-gather on a unidirectional ring (participant i
//    sends to i + 1 in `chips` order): 2(P-1) steps, each one shard to the next chip.
//  - all_reduce direct: step 0 every chip sends shard j to chip j (P-1 concurrent sends, a
//    reduce-scatter), step 1 every chip sends its reduced shard to every other chip.
//  - all_gather / reduce_scatter ring: the P-1 steps of the corresponding all-reduce phase;
//    direct: the corresponding single step of direct all-reduce.
//  - all_to_all: one step, every chip sends shard j to chip j, all pairs concurrently
//    (chip i issues to i+1, i+2, ... so that not every chip queues on chip 0 first). Direct only.
//  - send_recv: chips[0] sends `bytes` to chips[1] (point to point). Direct only.
// The ring order is the order of `chips`; Interconnect::ring_order() gives one in which
// consecutive chips are neighbours. Reductions are assumed free (no compute time) and receive
// buffers always posted (no rendezvous handshake).
#pragma once

#include <cstdint>
#include <vector>

namespace tasim {

enum class CollectiveOp { all_reduce, all_gather, reduce_scatter, all_to_all, send_recv };
enum class CollectiveAlgo { ring, direct };

// "allreduce", "allgather", "reducescatter", "alltoall", "sendrecv" (nccl-tests' names).
const char* collective_op_name(CollectiveOp op);
// "ring", "direct".
const char* collective_algo_name(CollectiveAlgo algo);

struct CollectiveSpec {
  CollectiveOp op = CollectiveOp::all_reduce;
  CollectiveAlgo algo = CollectiveAlgo::ring;  // all_to_all and send_recv are always direct
  // nccl-tests' size: all_reduce the buffer of each chip; all_gather the gathered output of each
  // chip (each contributes bytes/P); reduce_scatter the input of each chip (each keeps bytes/P);
  // all_to_all the send buffer of each chip (bytes/P to each peer); send_recv the message.
  std::uint64_t bytes = 0;
  std::vector<int> chips;  // participants (distinct chip ids), in ring order; send_recv: {src, dst}
};

// The algorithm a spec actually runs (direct for all_to_all and send_recv).
CollectiveAlgo effective_algo(const CollectiveSpec& spec);

// Step schedules, plain data: built once per collective, executed by the engine.
struct ScheduledSend {
  int to = 0;  // participant index (into CollectiveSpec::chips)
  std::uint64_t bytes = 0;
};
struct CollectiveStep {
  const char* phase = "";  // "reduce_scatter", "all_gather", "all_to_all", "send", "recv"
  std::vector<ScheduledSend> sends;
  int receives = 0;  // transfers of this step addressed to this participant
};
struct CollectiveSchedule {
  std::vector<std::vector<CollectiveStep>> steps;  // [participant][step]
};

// Throws tasim::Error for an invalid spec (fewer than 2 chips, a repeated chip, send_recv
// without exactly 2 chips, bytes < 1). chip ids are checked against the system by the engine.
CollectiveSchedule build_schedule(const CollectiveSpec& spec);
// Shard k of bytes split over p parts (the first bytes % p shards one byte larger).
std::uint64_t shard_bytes(std::uint64_t bytes, int p, int k);

}  // namespace tasim
