// The vector unit's default cost of each vector op, with the reason for it: the one table behind
// VectorUnitConfig's defaults and the architecture schema's (core.vector.cycles_per_element.*).
#pragma once

#include <array>

#include "isa/isa.h"

namespace tasim {

struct VectorOpCost {
  const char* op;             // the mnemonic without "vec." (isa::vector_op_name)
  double cycles_per_element;  // per lane
  const char* why;
};

// Cycles per element per lane, relative to one ALU operation (add) = 1. Transcendentals run on
// a narrower special-function path; composite row ops pay one pass per sweep over the row.
inline constexpr std::array<VectorOpCost, isa::kNumVectorOps> kVectorOpCosts = {{
    {"add", 1, "one ALU operation per element: the unit's base rate"},
    {"mul", 1, "one multiply per element, same pipeline as add"},
    {"exp", 4,
     "transcendental: a special-function path at a quarter of the ALU rate (GPUs issue "
     "special-function ops at 1/4 to 1/8 of their FMA rate; otherwise range reduction plus a "
     "polynomial of a few FMAs)"},
    {"recip", 4,
     "a table seed plus Newton-Raphson steps (about two steps of two FMAs), or the "
     "special-function path at a quarter rate"},
    {"rsqrt", 4, "like recip: a table seed plus Newton-Raphson steps"},
    {"rowmax", 1,
     "one compare per element; the cross-lane reduction tree is part of the pipeline latency"},
    {"rowsum", 1,
     "one add per element; the cross-lane reduction tree is part of the pipeline latency"},
    {"softmax", 7,
     "three passes over the row: max (1), exp(x - max) with a running sum (4 + 1), scale by "
     "1/sum (1); the one reciprocal per row is negligible"},
    {"rmsnorm", 3,
     "two passes: sum of squares (1 FMA), then x * rsqrt(mean) * gamma (2 multiplies); the "
     "one rsqrt per row is negligible"},
    {"layernorm", 5,
     "three passes: mean (1), variance as (x - mean)^2 accumulated (2), then (x - mean) * r "
     "and * gamma + beta (2); the one rsqrt per row is negligible"},
    {"silu", 10, "x / (1 + exp(-x)): exp (4) + add (1) + reciprocal (4) + multiply (1)"},
    {"gelu", 14,
     "tanh approximation 0.5x(1 + tanh(c(x + 0.044715x^3))): the cubic polynomial (3), tanh "
     "from exp and a reciprocal (4 + 1 + 4), the outer multiply-add (2)"},
    {"rope", 3,
     "x * cos - rotate(x) * sin: two multiplies and an add per element, cos/sin from the table"},
}};

// The cycles column, in vector op order: VectorUnitConfig's default.
constexpr std::array<double, isa::kNumVectorOps> default_vector_cycles() {
  std::array<double, isa::kNumVectorOps> cycles{};
  for (std::size_t i = 0; i < cycles.size(); ++i) cycles[i] = kVectorOpCosts[i].cycles_per_element;
  return cycles;
}

}  // namespace tasim
