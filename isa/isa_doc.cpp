// docs/isa.md, generated from the table so that the reference cannot drift from the code.
// tests/isa/docs_test.cpp fails when the checked-in file differs from this text.
#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <string_view>

#include "isa/isa.h"
#include "isa/isa_internal.h"

namespace tasim::isa {
namespace {

constexpr const char* kIntro = R"(# tasim ISA reference

<!-- Generated from isa/isa_table.h by tasim::isa::reference_markdown(); do not edit by hand.
     Regenerate with: TASIM_REGENERATE_DOCS=1 build/isa_tests '[docs]' -->

The tasim instruction set is the contract between the compiler (`workloads/` lowers a model into a program)
and the hardware models (`models/` execute it). It is **tile-granular**: one instruction moves a 2-D tile
between HBM and SRAM, multiplies two tiles on a systolic matrix unit, or applies an elementwise or row-wise
function to a tile on a vector unit. There are no scalar instructions, registers or branches: a program is a
straight-line list of tile operations, as a compiler emits it for one inference step.

## Units

Every core of a chip has its own SRAM and three kinds of units, each numbered from 0 within the core:

- **DMA engines** (`engine=N`, or `dmaN` in a `unit` field) move tiles HBM <-> SRAM, SRAM <-> SRAM (also to
  another core) and chip <-> chip.
- **Matrix units** (`mxu=N`, `mxuN`) are systolic arrays computing `C (+)= A x B` on tiles in SRAM.
- **Vector units** (`vpu=N`, `vpuN`) apply elementwise and row-wise functions to tiles in SRAM.

The `core` field picks the core. How many of each unit there are, and their speeds, come from the
architecture; the validator checks every index against it.

## Execution model

A sequencer reads the program in order and issues each instruction into the queue of the unit it names: the
DMA engine, matrix unit or vector unit of the instruction's core, or for `sem.signal` and `sem.wait` the unit
in their `unit` field. Each unit executes its own queue in order, one instruction after another; different
units run concurrently. Nothing else orders instructions of different units: a `matmul` that reads a tile
brought in by a `dma.load` must wait on a semaphore that the DMA engine signals after the load.

## Semaphores

Semaphores are counting semaphores shared by the whole chip, numbered from 0 (the architecture sets how many,
typically 256), and all start at 0.

- `sem.signal unit=U sem=S` sits in the queue of unit U. It increments S once all of U's earlier instructions
  have completed, so it publishes "everything U was asked to do before this point is done".
- `sem.wait unit=U sem=S` sits in the queue of unit U. U blocks until S is positive, then decrements it and
  goes on with its next instruction.

Each signal releases exactly one wait. Several producers may signal one semaphore, and the consumer then waits
once per producer. Give each semaphore a single consuming unit, though: waits in different units compete for
the same signals, so one consumer could take a signal meant for another (`isa/examples/gemm_tile.tasm` shows
the pattern). The validator rejects a wait on a semaphore that no instruction signals, and a semaphore waited
on more often than it is signalled: either is a certain deadlock.

## Barrier and halt

- `barrier` stops every unit of the chip until all of them have completed their earlier instructions and
  reached it; then all go on. It is the simple way to separate phases that reuse buffers when pairwise
  semaphores would be many.
- `barrier.kernel cycles=N` is a barrier whose units all resume N cycles after the last one reaches it: the
  boundary between two kernels of a GPU-like software stack (launch, prologue, tail), which the step compiler
  puts between ops when the architecture sets `software.kernel_boundary_ns`.
- `halt` ends the program: the run ends when every unit has drained its queue. An instruction after `halt` is
  unreachable, which the validator reports as an error.

## Assembly syntax (`.tasm`)

```tasm
# a comment runs from '#' to the end of the line
.op layer0.mlp.up   # the instructions below belong to this op of the model
dma.load engine=1 hbm_addr=0x100000 sram_addr=0x8000 rows=64 row_bytes=256 hbm_stride=1024
matmul a_addr=0x0 b_addr=0x8000 c_addr=0x10000 m=128 n=128 k=128 dtype=fp8   # fields in any order
```

- One instruction per line: the mnemonic, then `field=value` pairs separated by spaces or tabs, in any order,
  each at most once. Blank lines are ignored.
- Values are decimal or `0x` hexadecimal and must fit the field's width. `dtype` takes `bf16`, `fp8`,
  `int8` or `fp4` (matmul only); `unit` takes a unit name such as `dma0`, `mxu1` or `vpu0`.
- Fields that may be omitted: `core`, `engine`, `mxu`, `vpu` and `acc` (0), `dtype` (bf16) and every
  `*_stride` (0, meaning contiguous rows). All other fields are required.
- Errors are one line, `file:line: reason`, for example `gemm.tasm:12: field m=70000 does not fit in 16 bits
  (max 65535)`.
- `.op NAME` is a directive, not an instruction: it tags the instructions after it with the model op they
  implement (for per-op reports and nested traces), up to the next `.op` line; `.op` without a name returns
  to untagged. NAME is 1 to 200 printable ASCII characters without spaces or `#`, such as `layer3.attn.qkv`.
  In memory a tag is a number, an index into the program's table of names, numbered in order of first use.
- The disassembler prints the canonical form: every field of the instruction in table order, addresses in
  lowercase hex, dtypes and units by name, after a one-line `# tasim program: ...` header, with an `.op` line
  before each instruction whose tag name differs from the previous instruction's.

## Binary format

| offset | bytes | content |
|---|---|---|
| 0 | 7 | magic `TASMBIN` |
| 7 | 1 | format version, an ASCII digit: `2` |
| 8 | 4 | instruction count, unsigned little-endian |
| 12 | | the instructions, back to back, then the tag section if any (below) |
| last 4 | 4 | CRC-32 (IEEE, as zlib computes it) of every byte before it, unsigned little-endian |

Each instruction is its opcode byte (the code in the summary below, fixed per instruction: a new instruction
takes a free code, so existing binaries keep decoding) followed by its fields in the order of
its field table, bit-packed LSB-first (the first field starts at bit 0 of the byte after the opcode byte; a
field that crosses a byte boundary continues in the low bits of the next byte), padded with zero bits to a
whole byte. The size of each instruction is therefore fixed by its opcode. A `unit` field holds the unit kind
in its top 2 bits (dma = 0, mxu = 1, vpu = 2) and the index in its low 6 bits; a `dtype` field holds bf16 = 0,
fp8 = 1, int8 = 2, fp4 = 3. A file is read as binary when it starts with the magic, and as `.tasm` text otherwise; a
binary whose checksum does not match is refused as corrupt or truncated before anything else is read,
and a binary of another format version is refused with an error naming both versions (version 1 numbered opcodes
by their position in the table, so that adding one renumbered the rest: assemble such programs again from
their `.tasm`).
Messages about a binary program name the instruction by its number, `file:N`.

### Tag section

When at least one instruction is tagged (`.op`), a tag section follows the instructions; a program without
tags ends after its last instruction, exactly as above.

| bytes | content |
|---|---|
| 4 | marker `TAGS` |
| 4 | number of names T, unsigned little-endian |
| 4 + L per name | the names of tags 1 to T: length L (1 to 200), unsigned little-endian, then the L characters |
| 1 to 5 per instruction | each instruction's tag, in program order, as an unsigned LEB128 varint (7 bits per byte, low bits first, top bit set on all but the last byte): 0 = untagged, else 1 to T |

The encoder numbers the tags in order of first use, writes each name once and leaves out names no
instruction uses, so that two programs tagging the same instructions with the same names encode to the
same bytes. The decoder rejects a truncated section, a name that is not a valid tag name or appears twice,
a varint longer than 5 bytes or not in its shortest form, a tag beyond T, and bytes after the section.

## Data types

| dtype | code | bits per element |
|---|---|---|
)";

const char* runs_on(UnitKind unit) {
  switch (unit) {
    case UnitKind::dma:
      return "runs on DMA engine `engine` of core `core`";
    case UnitKind::mxu:
      return "runs on matrix unit `mxu` of core `core`";
    case UnitKind::vpu:
      return "runs on vector unit `vpu` of core `core`";
    case UnitKind::sync:
      return "runs in the queue of the unit named by `unit`, of core `core`";
    case UnitKind::seq:
      return "handled by the sequencer, it involves every unit of the chip";
  }
  return "";
}

// What an instruction means beyond its operands, by category.
std::string category_notes(Opcode op) {
  switch (category_of(op)) {
    case Category::hbm_transfer:
    case Category::sram_copy:
      return "Row starts are a stride apart on each side, where 0 means contiguous (stride = `row_bytes`) and "
             "a non-zero stride below `row_bytes` is an error (rows would overlap). Bytes moved: `rows` x "
             "`row_bytes`.";
    case Category::chip_transfer:
      return op == Opcode::dma_send
                 ? "The `dma.recv` on chip `chip` with the same `tag` receives the bytes. Needs a system of "
                   "several chips; `chip` names a peer, never the chip itself."
                 : "Completes when the `dma.send` from chip `chip` with the same `tag` has delivered its "
                   "bytes.";
    case Category::collective:
      return "Every chip of the system runs the same program and issues its collectives in the same order "
             "with the same `tag`; the instruction completes on a chip when that chip's part is done. "
             "`bytes` is the buffer at `sram_addr` (nccl-tests' size). Its time comes from the simulated "
             "link traffic (`algo` 0 = ring, 1 = direct). Needs a system of several chips.";
    case Category::matrix:
      return "Accumulators are 4 bytes (fp32, or int32 for int8). FLOPs: 2 x `m` x `n` x `k`.";
    case Category::vector:
      return "Rows are contiguous in every operand.";
    case Category::semaphore:
    case Category::control:
      return "";
  }
  return "";
}

const char* size_text(OperandSize size) {
  switch (size) {
    case OperandSize::tile: return "`rows` rows of `row_bytes` bytes";
    case OperandSize::bytes: return "`bytes` bytes";
    case OperandSize::a_tile: return "`m` x `k` elements of `dtype`";
    case OperandSize::b_tile: return "`k` x `n` elements of `dtype`";
    case OperandSize::c_tile: return "`m` x `n` accumulators";
    case OperandSize::elems: return "`rows` x `cols` elements of `dtype`";
    case OperandSize::row_param: return "`cols` elements of `dtype`";
    case OperandSize::two_row_params: return "2 x `cols` elements of `dtype`";
    case OperandSize::per_row: return "`rows` elements of `dtype`";
  }
  return "";
}

// "Reads A at `a_addr` (...) in SRAM; writes ..." from the table's operand column: what the
// validator checks, the activity counts price and the SRAM model times.
std::string operand_notes(Opcode op) {
  const OpcodeInfo& info = opcode_info(op);
  std::string out;
  for (const Access access : {Access::read, Access::read_if_acc, Access::write}) {
    std::string list;
    for (int i = 0; i < info.num_operands; ++i) {
      const OperandInfo& o = info.operands[i];
      if (o.access != access) continue;
      if (!list.empty()) list += "; ";
      list += fmt::format("{} at `{}`, {}", o.name, field_info(o.addr).name, size_text(o.size));
      if (o.size == OperandSize::tile) list += fmt::format(" `{}` apart", field_info(o.stride).name);
      if (o.space == Space::hbm) {
        list += ", in HBM";
      } else {
        list += fmt::format(", in the SRAM of core `{}`", field_info(o.core).name);
      }
    }
    if (list.empty()) continue;
    const char* verb = access == Access::read ? "Reads" : access == Access::write ? "Writes" : "When `acc` = 1 reads";
    out += fmt::format("{}{} {}.", out.empty() ? "" : " ", verb, list);
  }
  if (info.num_operands > 0 && info.operands[0].link_side) {
    out += " The bytes travel over the chip-to-chip links, which time them and count them as link traffic.";
  }
  const std::string notes = category_notes(op);
  if (!notes.empty()) out += (out.empty() ? "" : " ") + notes;
  return out;
}

// One plausible instruction per opcode for the reference; the docs test checks they assemble and,
// run in table order, form a valid program.
Instruction example_instruction(Opcode op) {
  Instruction inst;
  inst.op = op;
  const auto set = [&inst](Field f, std::uint64_t v) {
    if (inst.has(f)) inst.set(f, v);
  };
  set(Field::hbm_addr, 0x100000);
  set(Field::sram_addr, 0x8000);
  set(Field::rows, 64);
  set(Field::row_bytes, 256);
  set(Field::src_addr, 0x0);
  set(Field::src2_addr, 0x8000);
  set(Field::dst_addr, 0x10000);
  set(Field::cols, 128);
  set(Field::a_addr, 0x0);
  set(Field::b_addr, 0x8000);
  set(Field::c_addr, 0x10000);
  set(Field::m, 128);
  set(Field::n, 128);
  set(Field::k, 128);
  set(Field::sem, 3);
  set(Field::chip, 1);
  set(Field::bytes, 65536);
  set(Field::tag, 7);
  switch (op) {
    case Opcode::dma_load:
      set(Field::engine, 1);
      set(Field::hbm_stride, 1024);  // a 256-byte column block of a 1024-byte-wide matrix
      break;
    case Opcode::dma_store:
      set(Field::hbm_addr, 0x200000);
      break;
    case Opcode::dma_copy:
      set(Field::dst_core, 1);
      set(Field::dst_addr, 0x4000);
      break;
    case Opcode::dma_recv:
      set(Field::engine, 1);
      break;
    case Opcode::matmul:
      set(Field::mxu, 1);
      set(Field::acc, 1);
      break;
    case Opcode::sem_signal:
      set(Field::unit, encode_unitref({UnitKind::dma, 0}));
      break;
    case Opcode::sem_wait:
      set(Field::unit, encode_unitref({UnitKind::mxu, 1}));
      break;
    default:
      break;
  }
  return inst;
}

// Markdown ignores single line breaks; wrapping keeps the file readable as plain text.
void append_wrapped(std::string& out, std::string_view text, std::size_t width = 110) {
  std::size_t column = 0;
  while (!text.empty()) {
    const std::size_t space = text.find(' ');
    const std::string_view word = text.substr(0, space);
    if (column > 0 && column + 1 + word.size() > width) {
      out += '\n';
      column = 0;
    } else if (column > 0) {
      out += ' ';
      ++column;
    }
    out += word;
    column += word.size();
    text.remove_prefix(space == std::string_view::npos ? text.size() : space + 1);
  }
  out += '\n';
}

std::string default_text(Field f) {
  if (!detail::field_has_default(f)) return "required";
  if (f == Field::dtype) return "bf16";
  const std::string_view name = field_info(f).name;
  const std::string_view suffix = "_stride";
  if (name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix)
    return "0 (contiguous)";
  return "0";
}

}  // namespace

std::string reference_markdown() {
  std::string out = kIntro;
  auto w = std::back_inserter(out);
  for (int t = 0; t < kNumDTypes; ++t) {
    fmt::format_to(w, "| `{}` | {} | {} |\n", dtype_name(static_cast<DType>(t)), t,
                   dtype_bits(static_cast<DType>(t)));
  }
  fmt::format_to(w, "\nmatmul accumulates into {}-byte elements (fp32, or int32 for int8 inputs).\n",
                 kAccumulatorBytes);

  out +=
      "\n## Instruction summary\n\n| opcode | mnemonic | unit | category | bytes | description "
      "|\n|---|---|---|---|---|---|\n";
  for (int i = 0; i < kNumOpcodes; ++i) {
    const OpcodeInfo& info = opcode_info(static_cast<Opcode>(i));
    int bits = 0;
    for (int f = 0; f < info.num_fields; ++f) bits += field_info(info.fields[f]).bits;
    fmt::format_to(
        w, "| 0x{:02x} | [`{}`](#{}) | {} | {} | {} | {} |\n", info.code, info.mnemonic,
        [&] {
          std::string anchor = info.mnemonic;  // GitHub drops '.' from heading anchors
          anchor.erase(std::remove(anchor.begin(), anchor.end(), '.'), anchor.end());
          return anchor;
        }(),
        unit_kind_name(info.unit), category_name(info.category), 1 + (bits + 7) / 8, info.description);
  }

  out += "\n## Instructions\n";
  for (int i = 0; i < kNumOpcodes; ++i) {
    const auto op = static_cast<Opcode>(i);
    const OpcodeInfo& info = opcode_info(op);
    fmt::format_to(w, "\n### {}\n\n`{}`: {}.\n\n", info.mnemonic, info.mnemonic, info.description);
    std::string paragraph = fmt::format("Opcode 0x{:02x}; {}.", info.code, runs_on(info.unit));
    const std::string notes = operand_notes(op);
    if (!notes.empty()) paragraph += " " + notes;
    append_wrapped(out, paragraph);
    out += "\n";
    if (info.num_fields == 0) {
      out += "No fields.\n";
    } else {
      out += "| field | bits | unit | description | default |\n|---|---|---|---|---|\n";
      for (int f = 0; f < info.num_fields; ++f) {
        const FieldInfo& fi = field_info(info.fields[f]);
        fmt::format_to(w, "| `{}` | {} | {} | {} | {} |\n", fi.name, fi.bits, fi.unit, fi.description,
                       default_text(info.fields[f]));
      }
    }
    out += "\nExample:\n\n```tasm\n";
    detail::append_instruction_text(out, example_instruction(op), true);
    out += "\n```\n";
  }
  return out;
}

}  // namespace tasim::isa
