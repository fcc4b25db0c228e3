#include "sim/report/op_profile.h"

#include <algorithm>
#include <cctype>

namespace tasim {

OpProfiler::OpProfiler(const isa::Program& program) : spans_(program.tags.size() + 1) {}

void OpProfiler::on_instruction(int, const isa::Instruction& inst, std::uint64_t start, std::uint64_t end,
                                const Activity& activity) {
  // Waiting is not work: semaphore waits and barriers would stretch an op over the time it
  // spent blocked on the previous one.
  const isa::Category category = isa::category_of(inst.op);
  if (category == isa::Category::semaphore || category == isa::Category::control) return;
  if (inst.tag >= spans_.size()) spans_.resize(inst.tag + 1);
  OpSpan& s = spans_[inst.tag];
  s.first_cycle = std::min(s.first_cycle, start);
  s.last_cycle = std::max(s.last_cycle, end);
  s.flops += isa::matmul_flops(inst);
  s.hbm_bytes += activity.hbm_bytes();
  ++s.instructions;
}

std::vector<double> OpProfiler::attributed_cycles() const {
  struct Edge {
    std::uint64_t cycle;
    int delta;
    std::size_t tag;
  };
  std::vector<Edge> edges;
  for (std::size_t t = 0; t < spans_.size(); ++t) {
    if (!spans_[t].seen() || spans_[t].last_cycle <= spans_[t].first_cycle) continue;
    edges.push_back({spans_[t].first_cycle, +1, t});
    edges.push_back({spans_[t].last_cycle, -1, t});
  }
  std::sort(edges.begin(), edges.end(), [](const Edge& a, const Edge& b) {
    return a.cycle != b.cycle ? a.cycle < b.cycle : (a.delta != b.delta ? a.delta < b.delta : a.tag < b.tag);
  });
  std::vector<double> out(spans_.size(), 0.0);
  std::vector<std::size_t> active;
  std::uint64_t prev = 0;
  for (const Edge& e : edges) {
    if (!active.empty() && e.cycle > prev) {
      const double share = static_cast<double>(e.cycle - prev) / static_cast<double>(active.size());
      for (std::size_t t : active) out[t] += share;
    }
    prev = e.cycle;
    if (e.delta > 0) {
      active.push_back(e.tag);
    } else {
      active.erase(std::find(active.begin(), active.end(), e.tag));
    }
  }
  return out;
}

std::string layer_of_tag(std::string_view tag) {
  if (tag.rfind("layer", 0) != 0) return {};
  std::size_t i = 5;
  while (i < tag.size() && std::isdigit(static_cast<unsigned char>(tag[i]))) ++i;
  if (i == 5 || i >= tag.size() || tag[i] != '.') return {};
  return std::string(tag.substr(0, i));
}

int layer_index_of_tag(std::string_view tag) {
  const std::string layer = layer_of_tag(tag);
  if (layer.empty() || layer.size() > 5 + 9) return -1;  // "layer" and at most 9 digits: an int
  return std::stoi(layer.substr(5));
}

std::string op_kind_of_tag(std::string_view tag) {
  const std::string layer = layer_of_tag(tag);
  return layer.empty() ? std::string(tag) : std::string(tag.substr(layer.size() + 1));
}

}  // namespace tasim
