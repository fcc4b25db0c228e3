// THE table of the tasim ISA. Every instruction and every field is defined here once, with what
// each instruction reads and writes; the encoder, decoder, assembler, disassembler, validator,
// activity counts, trace arguments and docs/isa.md all follow from it. Adding an instruction is
// one TASIM_OPCODE row (plus its timing in the unit model that runs it: docs/architecture.md).
//
// TASIM_FIELD(id, bits, kind, unit, description)
//   kind: uint (plain number), addr (printed in hex), dtype (bf16|fp8|int8|fp4), unitref (dma0, mxu1, vpu0).
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
  F(dtype, 2, dtype, "-", "element type: bf16 (2 bytes), fp8 (1), int8 (1), fp4 (1/2: matmul only)")  \
  F(sem, 12, uint, "index", "counting semaphore of the chip")                                        \
  F(chip, 8, uint, "index", "peer chip of a chip-to-chip transfer")                                  \
  F(bytes, 32, uint, "bytes", "bytes of a chip-to-chip transfer")                                    \
  F(tag, 16, uint, "id", "matches a dma.send with its dma.recv; numbers a collective (same on every chip)") \
  F(algo, 1, uint, "-", "collective algorithm: 0 = ring, 1 = direct")                             \
  F(group, 8, uint, "chips", "chips per collective group, consecutive from a multiple of it; 0 = every chip") \
  F(cycles, 32, uint, "cycles", "cycles every unit waits after the last one reaches a kernel boundary")

// TASIM_OPCODE(id, code, mnemonic, unit kind, category, (operands...), description, fields...)
//   code: the opcode byte of the binary format, fixed forever once released: a new opcode takes a
//     free code (each category has a range with room to grow), so existing binaries keep decoding.
//   unit kind: dma | mxu | vpu | sync (semaphore ops run in the named unit's queue) | seq (sequencer)
//   category: what the instruction does, which decides how it is timed, counted and traced:
//     hbm_transfer | sram_copy | chip_transfer | collective | matrix | vector | semaphore | control
//   operands: every memory access, each READ/WRITE(space, "name", address field, size) where space
//     is sram or hbm and size one of (isa.h, OperandSize): tile (rows x row_bytes, rows a stride
//     apart; the _TILE forms name the stride field), bytes (the `bytes` field), a_tile, b_tile,
//     c_tile (matmul A, B, fp32 C), elems (rows x cols of dtype), row_param (cols of dtype),
//     two_row_params (2 x cols), per_row (rows of dtype). _AT forms name the field of the core whose
//     SRAM is accessed (default: `core`); ACC_READ reads only when acc=1; LINK_ forms are the SRAM
//     side of a chip-to-chip transfer, which the interconnect times and prices (as link bytes).
//   The validator's range checks, the activity counts behind energy and SRAM timing, byte and FLOP
//   counts, the trace's arguments and docs/isa.md all follow from these columns.
#define TASIM_ISA_OPCODES(OP)                                                                          \
  OP(dma_load, 0x01, "dma.load", dma, hbm_transfer,                                                    \
     (WRITE_TILE(sram, "SRAM", sram_addr, sram_stride), READ_TILE(hbm, "HBM", hbm_addr, hbm_stride)),  \
     "copy a 2-D tile HBM -> SRAM", core, engine, hbm_addr, sram_addr, rows, row_bytes, hbm_stride,    \
     sram_stride)                                                                                      \
  OP(dma_store, 0x02, "dma.store", dma, hbm_transfer,                                                  \
     (READ_TILE(sram, "SRAM", sram_addr, sram_stride), WRITE_TILE(hbm, "HBM", hbm_addr, hbm_stride)),  \
     "copy a 2-D tile SRAM -> HBM", core, engine, sram_addr, hbm_addr, rows, row_bytes, sram_stride,   \
     hbm_stride)                                                                                       \
  OP(dma_copy, 0x03, "dma.copy", dma, sram_copy,                                                       \
     (READ_TILE(sram, "source", src_addr, src_stride),                                                 \
      WRITE_TILE_AT(sram, "destination", dst_addr, dst_stride, dst_core)),                             \
     "copy a 2-D tile SRAM -> SRAM (same or another core)", core, engine, src_addr, dst_core,          \
     dst_addr, rows, row_bytes, src_stride, dst_stride)                                                \
  OP(dma_send, 0x04, "dma.send", dma, chip_transfer, (LINK_READ(sram, "SRAM", sram_addr, bytes)),     \
     "send bytes from SRAM to a peer chip (timed by the multi-chip model)", core, engine, chip,         \
     sram_addr, bytes, tag)                                                                            \
  OP(dma_recv, 0x05, "dma.recv", dma, chip_transfer, (LINK_WRITE(sram, "SRAM", sram_addr, bytes)),    \
     "receive bytes from a peer chip into SRAM", core, engine, chip, sram_addr, bytes, tag)            \
  OP(coll_allreduce, 0x10, "coll.allreduce", dma, collective,                                          \
     (LINK_READ(sram, "SRAM", sram_addr, bytes), LINK_WRITE(sram, "SRAM", sram_addr, bytes)),          \
     "all-reduce `bytes` at sram_addr across every chip (timed over the links)", core, engine,          \
     sram_addr, bytes, tag, algo, group)                                                               \
  OP(coll_allgather, 0x11, "coll.allgather", dma, collective,                                          \
     (LINK_READ(sram, "SRAM", sram_addr, bytes), LINK_WRITE(sram, "SRAM", sram_addr, bytes)),          \
     "all-gather: every chip ends with all chips' `bytes`/chips shards", core, engine, sram_addr,      \
     bytes, tag, algo, group)                                                                          \
  OP(coll_reducescatter, 0x12, "coll.reducescatter", dma, collective,                                  \
     (LINK_READ(sram, "SRAM", sram_addr, bytes), LINK_WRITE(sram, "SRAM", sram_addr, bytes)),          \
     "reduce-scatter: each chip ends with its reduced shard", core, engine, sram_addr, bytes, tag,     \
     algo, group)                                                                                      \
  OP(coll_alltoall, 0x13, "coll.alltoall", dma, collective,                                            \
     (LINK_READ(sram, "SRAM", sram_addr, bytes), LINK_WRITE(sram, "SRAM", sram_addr, bytes)),          \
     "all-to-all: each chip sends `bytes`/chips to every chip", core, engine, sram_addr, bytes, tag,   \
     algo, group)                                                                                      \
  OP(matmul, 0x20, "matmul", mxu, matrix,                                                              \
     (READ(sram, "A", a_addr, a_tile), READ(sram, "B", b_addr, b_tile),                                \
      ACC_READ(sram, "C", c_addr, c_tile), WRITE(sram, "C", c_addr, c_tile)),                          \
     "C (+)= A x B on a systolic matrix unit", core, mxu, a_addr, b_addr, c_addr, m, n, k, acc, dtype) \
  OP(vec_add, 0x30, "vec.add", vpu, vector,                                                            \
     (READ(sram, "src", src_addr, elems), READ(sram, "src2", src2_addr, elems),                        \
      WRITE(sram, "dst", dst_addr, elems)),                                                            \
     "elementwise dst = src + src2", core, vpu, src_addr, src2_addr, dst_addr, rows, cols, dtype)      \
  OP(vec_mul, 0x31, "vec.mul", vpu, vector,                                                            \
     (READ(sram, "src", src_addr, elems), READ(sram, "src2", src2_addr, elems),                        \
      WRITE(sram, "dst", dst_addr, elems)),                                                            \
     "elementwise dst = src * src2", core, vpu, src_addr, src2_addr, dst_addr, rows, cols, dtype)      \
  OP(vec_exp, 0x32, "vec.exp", vpu, vector,                                                            \
     (READ(sram, "src", src_addr, elems), WRITE(sram, "dst", dst_addr, elems)),                        \
     "elementwise dst = exp(src)", core, vpu, src_addr, dst_addr, rows, cols, dtype)                   \
  OP(vec_recip, 0x33, "vec.recip", vpu, vector,                                                        \
     (READ(sram, "src", src_addr, elems), WRITE(sram, "dst", dst_addr, elems)),                        \
     "elementwise dst = 1 / src", core, vpu, src_addr, dst_addr, rows, cols, dtype)                    \
  OP(vec_rsqrt, 0x34, "vec.rsqrt", vpu, vector,                                                        \
     (READ(sram, "src", src_addr, elems), WRITE(sram, "dst", dst_addr, elems)),                        \
     "elementwise dst = 1 / sqrt(src)", core, vpu, src_addr, dst_addr, rows, cols, dtype)              \
  OP(vec_rowmax, 0x35, "vec.rowmax", vpu, vector,                                                      \
     (READ(sram, "src", src_addr, elems), WRITE(sram, "dst", dst_addr, per_row)),                      \
     "dst[r] = max over the row of src", core, vpu, src_addr, dst_addr, rows, cols, dtype)             \
  OP(vec_rowsum, 0x36, "vec.rowsum", vpu, vector,                                                      \
     (READ(sram, "src", src_addr, elems), WRITE(sram, "dst", dst_addr, per_row)),                      \
     "dst[r] = sum over the row of src", core, vpu, src_addr, dst_addr, rows, cols, dtype)             \
  OP(vec_softmax, 0x37, "vec.softmax", vpu, vector,                                                    \
     (READ(sram, "src", src_addr, elems), WRITE(sram, "dst", dst_addr, elems)),                        \
     "row-wise softmax (max, exp-sum, scale)", core, vpu, src_addr, dst_addr, rows, cols, dtype)       \
  OP(vec_rmsnorm, 0x38, "vec.rmsnorm", vpu, vector,                                                    \
     (READ(sram, "src", src_addr, elems), READ(sram, "src2", src2_addr, row_param),                    \
      WRITE(sram, "dst", dst_addr, elems)),                                                            \
     "row-wise RMSNorm, gamma at src2", core, vpu, src_addr, src2_addr, dst_addr, rows, cols, dtype)   \
  OP(vec_layernorm, 0x39, "vec.layernorm", vpu, vector,                                                \
     (READ(sram, "src", src_addr, elems), READ(sram, "src2", src2_addr, two_row_params),               \
      WRITE(sram, "dst", dst_addr, elems)),                                                            \
     "row-wise LayerNorm, gamma/beta at src2", core, vpu, src_addr, src2_addr, dst_addr, rows, cols,   \
     dtype)                                                                                            \
  OP(vec_silu, 0x3a, "vec.silu", vpu, vector,                                                          \
     (READ(sram, "src", src_addr, elems), WRITE(sram, "dst", dst_addr, elems)),                        \
     "elementwise dst = src * sigmoid(src)", core, vpu, src_addr, dst_addr, rows, cols, dtype)         \
  OP(vec_gelu, 0x3b, "vec.gelu", vpu, vector,                                                          \
     (READ(sram, "src", src_addr, elems), WRITE(sram, "dst", dst_addr, elems)),                        \
     "elementwise GELU (tanh approximation)", core, vpu, src_addr, dst_addr, rows, cols, dtype)        \
  OP(vec_rope, 0x3c, "vec.rope", vpu, vector,                                                          \
     (READ(sram, "src", src_addr, elems), READ(sram, "src2", src2_addr, elems),                        \
      WRITE(sram, "dst", dst_addr, elems)),                                                            \
     "rotary position embedding, cos/sin table at src2", core, vpu, src_addr, src2_addr, dst_addr,     \
     rows, cols, dtype)                                                                                \
  OP(sem_signal, 0x60, "sem.signal", sync, semaphore, (),                                              \
     "increment a semaphore once the unit's earlier work is done", core, unit, sem)                    \
  OP(sem_wait, 0x61, "sem.wait", sync, semaphore, (),                                                  \
     "block the unit until a semaphore is positive, then decrement it", core, unit, sem)               \
  OP(barrier, 0x70, "barrier", seq, control, (), "every unit of the chip waits until all have reached it") \
  OP(kernel_boundary, 0x72, "barrier.kernel", seq, control, (),                                        \
     "a barrier that releases `cycles` after the last unit reaches it (a GPU-like kernel boundary)", cycles) \
  OP(halt, 0x71, "halt", seq, control, (), "end of program: the run ends when every unit has drained")
