// Vector unit timing: a pipeline of `lanes` lanes; an op over rows x cols elements takes the
// pipeline fill latency once plus ceil(elements / lanes) beats at the op's cycles per element
// (transcendentals such as exp and rsqrt cost more than add; multi-pass row ops such as
// softmax and layernorm cost several passes).
#pragma once

#include <cstdint>

#include "isa/isa.h"
#include "arch/arch_config.h"

namespace tasim::timing {

std::uint64_t vector_op_cycles(const VectorUnitConfig& vpu, isa::Opcode op, std::uint64_t rows, std::uint64_t cols);

}  // namespace tasim::timing
