// The paged KV cache of a replica (vLLM's block manager, without prefix sharing yet): the cache
// is `total_blocks` blocks of `block_size` tokens; a request holds ceil(tokens / block_size) blocks
// for the tokens it has computed, grows block by block and gives them all back when it finishes or
// is preempted. used + free = total at all times.
#pragma once

#include <map>

namespace tasim::serve {

class KvBlockManager {
 public:
  // Throws tasim::Error for block_size < 1 or total_blocks < 1.
  KvBlockManager(int total_blocks, int block_size);

  int block_size() const { return block_size_; }
  int total_blocks() const { return total_; }
  int used_blocks() const { return used_; }
  int free_blocks() const { return total_ - used_; }
  int blocks_for(long long tokens) const;  // ceil(tokens / block_size)
  int held(int request) const;             // blocks the request holds

  // Grows the request's blocks to hold `tokens` tokens; false (and nothing changed) when the free
  // blocks do not suffice.
  bool reserve(int request, long long tokens);
  void release(int request);  // every block of the request back to the free pool

 private:
  int total_, block_size_;
  int used_ = 0;
  std::map<int, int> held_;  // request -> blocks
};

}  // namespace tasim::serve
