// The chip's main memory (HBM) as the DMA engines see it: a model takes 2-D transfers and says
// when each one's last byte arrives. Implementations are registered by name, the way Ramulator 2
// registers its implementations, and an architecture picks one with `hbm.model` (docs/configs.md).
// Adding a model is a class deriving from MemoryModel in its own file plus one line in
// builtin_memory_models() (arch/memory_model.cpp); tests and studies may register more at run time.
//
// Time is in chip cycles (fractional); bandwidth in bytes per cycle.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "arch/arch_config.h"

namespace tasim {

class MemoryModel {
 public:
  virtual ~MemoryModel() = default;

  // A transfer of `rows` rows of `row_bytes` from `addr`, rows `stride_bytes` apart (0 =
  // contiguous), requested at `now_cycle`. Returns the cycle its last byte arrives. Counts the
  // bytes, then lets the model time them.
  double transfer(double now_cycle, std::uint64_t addr, std::uint64_t rows, std::uint64_t row_bytes,
                  std::uint64_t stride_bytes, bool is_write) {
    (is_write ? bytes_written_ : bytes_read_) += rows * row_bytes;
    return time_transfer(now_cycle, addr, rows, row_bytes, stride_bytes, is_write);
  }
  // When a transfer of `bytes` requested at `now_cycle` would end with the memory otherwise idle:
  // the time a transfer takes beyond it is booked as an HBM stall.
  virtual double unloaded_end_cycle(double now_cycle, std::uint64_t bytes) const = 0;
  // Peak bandwidth of the whole memory (bytes per cycle), for utilization figures.
  virtual double peak_bytes_per_cycle() const = 0;

  std::uint64_t bytes_read() const { return bytes_read_; }
  std::uint64_t bytes_written() const { return bytes_written_; }

 protected:
  virtual double time_transfer(double now_cycle, std::uint64_t addr, std::uint64_t rows, std::uint64_t row_bytes,
                               std::uint64_t stride_bytes, bool is_write) = 0;

 private:
  std::uint64_t bytes_read_ = 0;
  std::uint64_t bytes_written_ = 0;
};

// Builds a model for one chip from the architecture's HBM section and the chip's clock.
using MemoryModelFactory = std::function<std::unique_ptr<MemoryModel>(const HbmConfig& hbm, double clock_ghz)>;

struct MemoryModelEntry {
  std::string name;         // the value of hbm.model
  std::string description;  // one line for docs/configs.md
  MemoryModelFactory make;
};

// The models tasim ships: "bandwidth" (arch/hbm.h) and "ideal".
std::vector<MemoryModelEntry> builtin_memory_models();
// Adds a model; throws Error when its name is taken.
void register_memory_model(MemoryModelEntry entry);
// Registered names, built-ins first, then in registration order.
std::vector<std::string> memory_model_names();
const MemoryModelEntry* find_memory_model(const std::string& name);
// Throws Error naming the registered models when `name` is none of them.
std::unique_ptr<MemoryModel> make_memory_model(const std::string& name, const HbmConfig& hbm, double clock_ghz);

// Unlimited bandwidth, no latency: every transfer is done when it is requested (compute-only
// studies; what --ideal-memory uses).
class IdealMemory : public MemoryModel {
 public:
  double unloaded_end_cycle(double now_cycle, std::uint64_t) const override { return now_cycle; }
  double peak_bytes_per_cycle() const override { return peak_bytes_per_cycle_; }
  explicit IdealMemory(double peak_bytes_per_cycle) : peak_bytes_per_cycle_(peak_bytes_per_cycle) {}

 protected:
  double time_transfer(double now_cycle, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                       bool) override {
    return now_cycle;
  }

 private:
  double peak_bytes_per_cycle_;  // the configured peak, still the reference for utilization
};

}  // namespace tasim
