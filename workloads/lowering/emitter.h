// Instruction emission for the step compiler: per-core instruction streams, cut into steps and
// merged round-robin into the program (so that the in-order sequencer hands every core its next
// step before any core its one after), plus helpers that split transfers and matmuls to fit the
// ISA's field widths. Knows nothing of ops or SRAM plans.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "arch/arch_config.h"
#include "isa/isa.h"

namespace tasim::workloads::lowering {

constexpr std::uint64_t kMaxDim = 65535;                // m/n/k/rows/cols field width
constexpr std::uint64_t kMaxRowBytes = (1u << 24) - 1;  // row_bytes field width

inline isa::UnitRef dma(int engine) { return {isa::UnitKind::dma, engine}; }
inline isa::UnitRef mxu(int index) { return {isa::UnitKind::mxu, index}; }
inline isa::UnitRef vpu() { return {isa::UnitKind::vpu, 0}; }

class Emitter {
 public:
  // Semaphore `local` of core c is global number c * semaphores_per_core + local. Every
  // instruction is checked against the chip's SRAM and HBM as it is emitted, so the compiler never
  // hands out a program that does not fit (the error names the op and the key to change).
  Emitter(const ChipConfig& chip, int semaphores_per_core, std::string source_name);

  // The op the instructions emitted from now on belong to (their tag).
  void begin_op(const std::string& name);
  std::uint32_t tag() const { return tag_; }

  // Into core `core`'s stream.
  void emit(int core, isa::Opcode op, std::initializer_list<std::pair<isa::Field, std::uint64_t>> fields);
  void signal(int core, isa::UnitRef unit, int local) { signal_core(core, unit, core, local); }
  // Signals a semaphore of another core (`target`) from core `core`'s unit.
  void signal_core(int core, isa::UnitRef unit, int target, int local);
  void wait(int core, isa::UnitRef unit, int local);
  // A 2-D tile HBM <-> SRAM; contiguous rows become one long row, and transfers are split so
  // every field fits its width.
  void load(int core, int engine, std::uint64_t hbm, std::uint64_t sram, std::uint64_t rows, std::uint64_t row_bytes,
            std::uint64_t hbm_stride = 0);
  void store(int core, int engine, std::uint64_t sram, std::uint64_t hbm, std::uint64_t rows, std::uint64_t row_bytes,
             std::uint64_t hbm_stride = 0);
  // C (+)= A B; rows beyond the field width become more instructions.
  void matmul(int core, int unit, std::uint64_t a, std::uint64_t b, std::uint64_t c, std::uint64_t m,
              std::uint64_t n, std::uint64_t k, bool acc, isa::DType dtype);
  // C = A B as written or as C^T = B^T A^T, whichever the array does faster: with few rows
  // (decode attention's query group) streaming the long operand beats loading it as the
  // stationary one fold after fold. The DMA engines lay operands out either way.
  void oriented_matmul(int core, int unit, std::uint64_t a, std::uint64_t b, std::uint64_t c, std::uint64_t m,
                       std::uint64_t n, std::uint64_t k, bool acc, isa::DType dtype);
  // A vector op over rows x cols; wide rows and many rows become chunks within the field widths.
  void vec(int core, isa::Opcode op, std::uint64_t src, std::uint64_t src2, std::uint64_t dst, std::uint64_t rows,
           std::uint64_t cols, isa::DType dtype);
  // Ends the core's current step (a no-op when it is empty).
  void end_step(int core);
  // Merges every core's steps into the program round-robin and empties the streams.
  void flush();
  // Straight into the program, after what flush() merged (barriers, halt).
  void push(isa::Instruction inst);

  int semaphore(int core, int local) const { return core * semaphores_per_core_ + local; }
  isa::Program take_program() { return std::move(program_); }
  // The instructions so far, taken out (the tag table stays): a program handed out in pieces.
  std::vector<isa::Instruction> take_instructions() {
    std::vector<isa::Instruction> taken;
    taken.swap(program_.instructions);
    taken_ += taken.size();
    return taken;
  }
  const isa::Program& program() const { return program_; }

 private:
  struct CoreStream {
    std::vector<isa::Instruction> insts;
    std::vector<std::size_t> step_ends;
  };
  void dma2d(int core, int engine, isa::Opcode op, std::uint64_t hbm, std::uint64_t sram, std::uint64_t rows,
             std::uint64_t row_bytes, std::uint64_t hbm_stride);
  void append(int core, const isa::Instruction& inst);  // checks that its operands fit, then queues it

  std::vector<CoreStream> streams_;
  int semaphores_per_core_;
  MatrixUnitConfig matrix_;
  std::string chip_name_;
  std::uint64_t sram_bytes_, hbm_bytes_;
  isa::Program program_;
  std::uint32_t tag_ = 0;
  std::uint64_t taken_ = 0;  // instructions taken out so far (take_instructions)
};

}  // namespace tasim::workloads::lowering
