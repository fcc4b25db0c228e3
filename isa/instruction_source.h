// A program's instructions in order, a chunk at a time, so the simulator need not hold a whole
// program: a materialized program (ProgramSource), a step compiled op by op as the chip drains it
// (workloads' LoweringStream), or one stream read by several chips at their own pace
// (SharedInstructionSource: a tensor-parallel step's chips all run the same program).
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "isa/isa.h"

namespace tasim::isa {

class InstructionSource {
 public:
  virtual ~InstructionSource() = default;
  // The next instructions in [first, first + count), count >= 1, valid until the next call; false
  // at the end of the program.
  virtual bool next(const Instruction*& first, std::size_t& count) = 0;
  // For messages ("file:line").
  virtual const std::string& source_name() const = 0;
  // The tag table so far (Program::tags): it may grow as chunks come, never changes what it has.
  virtual const std::vector<std::string>& tags() const = 0;
};

// A whole program, in one chunk.
class ProgramSource : public InstructionSource {
 public:
  explicit ProgramSource(const Program& program) : program_(program) {}
  bool next(const Instruction*& first, std::size_t& count) override;
  const std::string& source_name() const override { return program_.source_name; }
  const std::vector<std::string>& tags() const override { return program_.tags; }

 private:
  const Program& program_;
  bool given_ = false;
};

// One upstream source read by `readers` readers, each at its own pace; a chunk is freed once every
// reader has gone past it, so memory holds what lies between the slowest and the fastest reader.
class SharedInstructionSource {
 public:
  SharedInstructionSource(InstructionSource& upstream, int readers);
  SharedInstructionSource(const SharedInstructionSource&) = delete;
  SharedInstructionSource& operator=(const SharedInstructionSource&) = delete;
  InstructionSource& reader(int i) { return *readers_.at(static_cast<std::size_t>(i)); }
  std::size_t chunks_held() const { return chunks_.size(); }

 private:
  class Reader : public InstructionSource {
   public:
    Reader(SharedInstructionSource& shared, int index) : shared_(shared), index_(index) {}
    bool next(const Instruction*& first, std::size_t& count) override { return shared_.next(index_, first, count); }
    const std::string& source_name() const override { return shared_.upstream_.source_name(); }
    const std::vector<std::string>& tags() const override { return shared_.upstream_.tags(); }

   private:
    SharedInstructionSource& shared_;
    int index_;
  };
  bool next(int reader, const Instruction*& first, std::size_t& count);

  InstructionSource& upstream_;
  std::vector<std::unique_ptr<Reader>> readers_;
  std::vector<std::size_t> position_;  // per reader: chunks handed to it so far
  std::deque<std::vector<Instruction>> chunks_;
  std::size_t first_chunk_ = 0;  // index of chunks_.front()
  bool upstream_done_ = false;
};

}  // namespace tasim::isa
