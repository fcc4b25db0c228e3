#include "models/collective_hub.h"

#include <fmt/format.h>

namespace tasim {

CollectiveHub::CollectiveHub(CollectiveEngine& engine, std::vector<int> ring_order)
    : engine_(engine),
      ring_order_(std::move(ring_order)),
      uses_(ring_order_.size()),
      current_(ring_order_.size(), -1) {}

static CollectiveOp op_of(isa::Opcode op) {
  switch (op) {
    case isa::Opcode::coll_allreduce: return CollectiveOp::all_reduce;
    case isa::Opcode::coll_allgather: return CollectiveOp::all_gather;
    case isa::Opcode::coll_reducescatter: return CollectiveOp::reduce_scatter;
    default: return CollectiveOp::all_to_all;
  }
}

std::string InstructionSite::text() const {
  return fmt::format("{}:{} ({})", source ? *source : std::string("<program>"), line, isa::mnemonic(op));
}

int CollectiveHub::run(int chip, const isa::Instruction& inst, InstructionSite where) {
  const int id = ids_[static_cast<std::size_t>(join(chip, inst, where))];
  engine_.run(id, chip);  // waits: owns no memory here
  current_[static_cast<std::size_t>(chip)] = -1;
  return id;
}

int CollectiveHub::join(int chip, const isa::Instruction& inst, InstructionSite where) {
  const Entry mine{inst.op, inst.get(isa::Field::bytes), inst.get(isa::Field::tag), inst.get(isa::Field::algo), where};
  const int use = uses_[static_cast<std::size_t>(chip)][mine.tag]++;
  // The group: every chip, or the `group` consecutive chips from a multiple of it (a tensor
  // parallel group inside a pipeline stage).
  const int group = static_cast<int>(inst.get(isa::Field::group));
  std::vector<int> members = ring_order_;
  int base = 0;
  if (group > 1) {
    base = chip - chip % group;
    members.clear();
    for (int c = base; c < base + group; ++c) members.push_back(c);
  }
  auto [it, fresh] = index_.emplace(std::make_tuple(mine.tag, use, base), static_cast<int>(ids_.size()));
  const int k = it->second;
  if (fresh) {
    CollectiveSpec spec;
    spec.op = op_of(inst.op);
    spec.algo = mine.algo ? CollectiveAlgo::direct : CollectiveAlgo::ring;
    if (spec.op == CollectiveOp::all_to_all) spec.algo = CollectiveAlgo::direct;
    spec.bytes = mine.bytes;
    spec.chips = members;
    ids_.push_back(engine_.add(spec));
    entries_.push_back(mine);
    joined_.push_back(0);
    group_size_.push_back(static_cast<int>(members.size()));
  } else {
    const Entry& first = entries_[static_cast<std::size_t>(k)];
    if (first.op != mine.op || first.bytes != mine.bytes || first.tag != mine.tag || first.algo != mine.algo) {
      throw Error(fmt::format("{}: chip {}'s collective tag={} ({} bytes={}) differs from the one another chip "
                              "issued with that tag at {} ({} bytes={}): every chip must issue the same "
                              "collectives with the same tags",
                              where.text(), chip, mine.tag, isa::mnemonic(mine.op), mine.bytes, first.where.text(),
                              isa::mnemonic(first.op), first.bytes));
    }
  }
  ++joined_[static_cast<std::size_t>(k)];
  current_[static_cast<std::size_t>(chip)] = k;
  return k;
}

int CollectiveHub::point_to_point(int chip, const isa::Instruction& inst, InstructionSite where) {
  const bool sending = inst.op == isa::Opcode::dma_send;
  const int peer = static_cast<int>(inst.get(isa::Field::chip));
  const int src = sending ? chip : peer, dst = sending ? peer : chip;
  const std::uint64_t tag = inst.get(isa::Field::tag), bytes = inst.get(isa::Field::bytes);
  const int use = p2p_uses_[std::make_tuple(src, dst, tag, sending)]++;
  std::vector<int>& ids = p2p_ids_[std::make_tuple(src, dst, tag)];
  if (use == static_cast<int>(ids.size())) {
    CollectiveSpec spec;
    spec.op = CollectiveOp::send_recv;
    spec.algo = CollectiveAlgo::direct;
    spec.bytes = bytes;
    spec.chips = {src, dst};
    ids.push_back(engine_.add(spec));
  } else if (engine_.spec(ids[static_cast<std::size_t>(use)]).bytes != bytes) {
    throw Error(fmt::format("{}: chip {}'s {} of {} bytes (tag {}) does not match its peer's {} bytes", where.text(), chip,
                            isa::mnemonic(inst.op), bytes, tag, engine_.spec(ids[static_cast<std::size_t>(use)]).bytes));
  }
  const int id = ids[static_cast<std::size_t>(use)];
  engine_.run(id, chip);
  return id;
}

std::string CollectiveHub::describe_waiting(int chip) const {
  const int k = current_[static_cast<std::size_t>(chip)];
  if (k < 0) return {};
  const Entry& e = entries_[static_cast<std::size_t>(k)];
  const int missing = group_size_[static_cast<std::size_t>(k)] - joined_[static_cast<std::size_t>(k)];
  return fmt::format("collective {} tag={}{}", isa::mnemonic(e.op), e.tag,
                     missing > 0 ? fmt::format(" ({} chips have not reached it)", missing) : std::string());
}

}  // namespace tasim
