#include "isa/instruction_source.h"

#include <algorithm>

namespace tasim::isa {

bool ProgramSource::next(const Instruction*& first, std::size_t& count) {
  if (given_ || program_.instructions.empty()) return false;
  given_ = true;
  first = program_.instructions.data();
  count = program_.instructions.size();
  return true;
}

SharedInstructionSource::SharedInstructionSource(InstructionSource& upstream, int readers)
    : upstream_(upstream), position_(static_cast<std::size_t>(std::max(1, readers)), 0) {
  for (int i = 0; i < std::max(1, readers); ++i) readers_.push_back(std::make_unique<Reader>(*this, i));
}

bool SharedInstructionSource::next(int reader, const Instruction*& first, std::size_t& count) {
  std::size_t& pos = position_[static_cast<std::size_t>(reader)];
  if (pos == first_chunk_ + chunks_.size()) {  // this reader leads: one more chunk from upstream
    const Instruction* up = nullptr;
    std::size_t n = 0;
    if (upstream_done_ || !upstream_.next(up, n)) {
      upstream_done_ = true;
      return false;
    }
    chunks_.emplace_back(up, up + n);
  }
  const std::vector<Instruction>& chunk = chunks_[pos - first_chunk_];
  first = chunk.data();
  count = chunk.size();
  ++pos;
  // A reader still uses the chunk it was handed last (index position - 1): free those before it.
  const std::size_t slowest = *std::min_element(position_.begin(), position_.end());
  while (!chunks_.empty() && first_chunk_ + 1 < slowest) {
    chunks_.pop_front();
    ++first_chunk_;
  }
  return true;
}

}  // namespace tasim::isa
