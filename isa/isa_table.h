// THE table of the tasim ISA. Every instruction and every field is defined here once; the
// encoder, decoder, assembler, disassembler, validator and docs/isa.md all follow from it.
// Adding an instruction is one TASIM_OPCODE line (plus its timing in the unit that runs it).
//
// TASIM_FIELD(id, bits, kind, unit, description)
//   kind: uint (plain number), addr (printed in hex), dtype (bf16|fp8|int8), unitref (dma0, mxu1, vpu0).
#define TASIM_ISA_FIELDS(F)                                                                           \
  F(core, 8, uint, "index", "core that executes the instruction")                                    \
  F(engine, 4, uint, "index", "DMA engine within the core")                                          \
  F(mxu, 4, uint, "index", "matrix unit within the core")                                            \
  F(vpu, 4, uint, "index", "vector unit within the core")                                            \
  F(unit, 8, unitref, "unit", "unit whose queue executes the semaphore op: dmaN, mxuN or vpuN")      \
  F(hbm_addr, 40, addr, "bytes", "HBM byte address of the first row")                                \
  F(sram_addr, 32, addr, "bytes", "SRAM byte address (of this core) of the first row")               \
  F(src_addr, 32, addr, "bytes", "source SRAM byte address")                                         \
  F(src2_addr, 32, addr, "bytes", "second source SRAM byte address (operand, gamma or cos/sin table)") \
  F(dst_addr, 32, addr, "bytes", "destination SRAM byte address")                                    \
  F(dst_core, 8, uint, "index", "core whose SRAM receives an SRAM->SRAM copy")                       \
  F(rows, 16, uint, "count", "rows of the tile")                                                     \
  F(row_bytes, 24, uint, "bytes", "bytes per row of a DMA tile")                                     \
  F(cols, 16, uint, "elements", "elements per row of a vector tile (row ops reduce along it)")       \
  F(hbm_stride, 40, uint, "bytes", "HBM bytes between row starts; 0 = contiguous (row_bytes)")        \
  F(sram_stride, 32, uint, "bytes", "SRAM bytes between row starts; 0 = contiguous (row_bytes)")      \
  F(src_stride, 32, uint, "bytes", "source bytes between row starts; 0 = contiguous (row_bytes)")     \
  F(dst_stride, 32, uint, "bytes", "destination bytes between row starts; 0 = contiguous")            \
  F(a_addr, 32, addr, "bytes", "SRAM address of A (M x K, row-major, input dtype)")                  \
  F(b_addr, 32, addr, "bytes", "SRAM address of B (K x N, row-major, input dtype)")                  \
  F(c_addr, 32, addr, "bytes", "SRAM address of C (M x N, row-major, 4-byte accumulators)")          \
  F(m, 16, uint, "elements", "rows of A and C")                                                      \
  F(n, 16, uint, "elements", "columns of B and C")                                                   \
  F(k, 16, uint, "elements", "reduction length: columns of A, rows of B")                            \
  F(acc, 1, uint, "flag", "1 = add into C instead of overwriting it")                                \
  F(dtype, 2, dtype, "-", "element type: bf16 (2 bytes), fp8 (1), int8 (1)")                         \
  F(sem, 12, uint, "index", "counting semaphore of the chip")                                        \
  F(chip, 8, uint, "index", "peer chip of a chip-to-chip transfer")                                  \
  F(bytes, 32, uint, "bytes", "bytes of a chip-to-chip transfer")                                    \
  F(tag, 16, uint, "id", "matches a dma.send with its dma.recv; numbers a collective (same on every chip)") \
  F(algo, 1, uint, "-", "collective algorithm: 0 = ring, 1 = direct")                             \
  F(group, 8, uint, "chips", "chips per collective group, consecutive from a multiple of it; 0 = every chip")

// TASIM_OPCODE(id, mnemonic, unit kind, description, fields...)
//   unit kind: dma | mxu | vpu | sync (semaphore ops run in the named unit's queue) | seq (sequencer)
#define TASIM_ISA_OPCODES(OP)                                                                          \
  OP(dma_load, "dma.load", dma, "copy a 2-D tile HBM -> SRAM", core, engine, hbm_addr, sram_addr, rows, \
     row_bytes, hbm_stride, sram_stride)                                                               \
  OP(dma_store, "dma.store", dma, "copy a 2-D tile SRAM -> HBM", core, engine, sram_addr, hbm_addr,    \
     rows, row_bytes, sram_stride, hbm_stride)                                                         \
  OP(dma_copy, "dma.copy", dma, "copy a 2-D tile SRAM -> SRAM (same or another core)", core, engine,  \
     src_addr, dst_core, dst_addr, rows, row_bytes, src_stride, dst_stride)                            \
  OP(dma_send, "dma.send", dma, "send bytes from SRAM to a peer chip (timed by the multi-chip model)", \
     core, engine, chip, sram_addr, bytes, tag)                                                        \
  OP(dma_recv, "dma.recv", dma, "receive bytes from a peer chip into SRAM", core, engine, chip,       \
     sram_addr, bytes, tag)                                                                            \
  OP(coll_allreduce, "coll.allreduce", dma, "all-reduce `bytes` at sram_addr across every chip (timed over the links)", \
     core, engine, sram_addr, bytes, tag, algo, group)                                                        \
  OP(coll_allgather, "coll.allgather", dma, "all-gather: every chip ends with all chips' `bytes`/chips shards",     \
     core, engine, sram_addr, bytes, tag, algo, group)                                                        \
  OP(coll_reducescatter, "coll.reducescatter", dma, "reduce-scatter: each chip ends with its reduced shard", \
     core, engine, sram_addr, bytes, tag, algo, group)                                                        \
  OP(coll_alltoall, "coll.alltoall", dma, "all-to-all: each chip sends `bytes`/chips to every chip",  \
     core, engine, sram_addr, bytes, tag, algo, group)                                                        \
  OP(matmul, "matmul", mxu, "C (+)= A x B on a systolic matrix unit", core, mxu, a_addr, b_addr,      \
     c_addr, m, n, k, acc, dtype)                                                                      \
  OP(vec_add, "vec.add", vpu, "elementwise dst = src + src2", core, vpu, src_addr, src2_addr,         \
     dst_addr, rows, cols, dtype)                                                                      \
  OP(vec_mul, "vec.mul", vpu, "elementwise dst = src * src2", core, vpu, src_addr, src2_addr,         \
     dst_addr, rows, cols, dtype)                                                                      \
  OP(vec_exp, "vec.exp", vpu, "elementwise dst = exp(src)", core, vpu, src_addr, dst_addr, rows, cols, \
     dtype)                                                                                            \
  OP(vec_recip, "vec.recip", vpu, "elementwise dst = 1 / src", core, vpu, src_addr, dst_addr, rows,   \
     cols, dtype)                                                                                      \
  OP(vec_rsqrt, "vec.rsqrt", vpu, "elementwise dst = 1 / sqrt(src)", core, vpu, src_addr, dst_addr,   \
     rows, cols, dtype)                                                                                \
  OP(vec_rowmax, "vec.rowmax", vpu, "dst[r] = max over the row of src", core, vpu, src_addr,          \
     dst_addr, rows, cols, dtype)                                                                      \
  OP(vec_rowsum, "vec.rowsum", vpu, "dst[r] = sum over the row of src", core, vpu, src_addr,          \
     dst_addr, rows, cols, dtype)                                                                      \
  OP(vec_softmax, "vec.softmax", vpu, "row-wise softmax (max, exp-sum, scale)", core, vpu, src_addr,  \
     dst_addr, rows, cols, dtype)                                                                      \
  OP(vec_rmsnorm, "vec.rmsnorm", vpu, "row-wise RMSNorm, gamma at src2", core, vpu, src_addr,         \
     src2_addr, dst_addr, rows, cols, dtype)                                                           \
  OP(vec_layernorm, "vec.layernorm", vpu, "row-wise LayerNorm, gamma/beta at src2", core, vpu,        \
     src_addr, src2_addr, dst_addr, rows, cols, dtype)                                                 \
  OP(vec_silu, "vec.silu", vpu, "elementwise dst = src * sigmoid(src)", core, vpu, src_addr,          \
     dst_addr, rows, cols, dtype)                                                                      \
  OP(vec_gelu, "vec.gelu", vpu, "elementwise GELU (tanh approximation)", core, vpu, src_addr,         \
     dst_addr, rows, cols, dtype)                                                                      \
  OP(vec_rope, "vec.rope", vpu, "rotary position embedding, cos/sin table at src2", core, vpu,        \
     src_addr, src2_addr, dst_addr, rows, cols, dtype)                                                 \
  OP(sem_signal, "sem.signal", sync, "increment a semaphore once the unit's earlier work is done",    \
     core, unit, sem)                                                                                  \
  OP(sem_wait, "sem.wait", sync, "block the unit until a semaphore is positive, then decrement it",   \
     core, unit, sem)                                                                                  \
  OP(barrier, "barrier", seq, "every unit of the chip waits until all have reached it")               \
  OP(halt, "halt", seq, "end of program: the run ends when every unit has drained")
