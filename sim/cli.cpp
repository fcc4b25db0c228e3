#include "sim/cli.h"

#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "isa/isa.h"
#include "arch/matrix_timing.h"
#include "sim/driver/collective_study.h"
#include "sim/config/arch_loader.h"
#include "sim/report/report.h"
#include "sim/driver/simulate.h"
#include "sim/report/step_summary.h"
#include "sim/sweep/child.h"
#include "sim/sweep/sweep.h"
#include "workloads/gemm_lowering.h"
#include "workloads/graph.h"
#include "workloads/lowering.h"
#include "workloads/model.h"

namespace po = boost::program_options;

namespace tasim {

void add_run_options(po::options_description& desc);

namespace {

constexpr const char* kVersion = "0.1.0";

constexpr const char* kUsage = R"(tasim: cycle-approximate simulator for transformer-inference ASICs

usage: tasim <command> [options]      (tasim <command> --help for its options)

commands:
  run        simulate one inference step of a model (or a given program) on an architecture:
             step time, tokens/s, MFU, roofline, per-op times, utilization, stalls, HBM
             traffic; optional JSON report and Perfetto trace. `tasim run` alone runs the
             default: Llama-3-8B decode, batch 64, context 2048 on sohu-like
  compile    compile one inference step of a model to a program (.tasm or binary)
  gemm       one M x N x K GEMM on one matrix unit (SCALE-Sim style array study)
  collective one collective (allreduce, allgather, ...) over the chips' links, reported like
             nccl-tests (algbw, busbw) with per-link traffic
  asm        assemble a .tasm program into the binary encoding
  disasm     print a binary program as .tasm
  validate   check a program against an architecture without simulating it
  presets    list the built-in architecture presets
  arch       print the effective architecture (preset or YAML, --set applied) as YAML
  sweep      run a design-space sweep (a YAML spec of axes) in parallel, one process per point,
             into CSV and JSONL; --resume, --shard i/N, --pareto (docs/sweeps.md)
  sweep-merge  merge the results of sweep shards into one CSV (and re-mark the Pareto front)

Every command that takes --arch also takes --set key.path=value (repeatable) to override any
architecture key, e.g. --set core.matrix.rows=256 --set hbm.gbps_per_channel=64.
Exit status: 0 ok, 2 bad input or a program that deadlocks, 1 internal error.
Docs: docs/architecture.md, docs/isa.md, docs/configs.md, docs/outputs.md.
)";

struct Parsed {
  po::variables_map vm;
  bool help = false;
};

Parsed parse(const std::string& command, po::options_description& desc, po::positional_options_description* pos,
             const std::vector<std::string>& args) {
  desc.add_options()("help,h", "show this help");
  Parsed p;
  try {
    po::command_line_parser parser(args);
    parser.options(desc);
    if (pos) parser.positional(*pos);
    po::store(parser.run(), p.vm);
    if (p.vm.count("help")) {
      // Every command answers --help the same way: its options, and nothing else done.
      std::cout << desc << "\n";
      p.help = true;
      return p;
    }
    po::notify(p.vm);
  } catch (const po::error& e) {
    throw Error(fmt::format("tasim {}: {} (see tasim {} --help)", command, e.what(), command));
  }
  return p;
}

void add_arch_options(po::options_description& desc) {
  desc.add_options()
      ("arch", po::value<std::string>()->default_value("sohu-like"), "architecture: a preset name (tasim presets) or a YAML file")
      ("set", po::value<std::vector<std::string>>()->composing(), "override an architecture key: key.path=value (repeatable)");
}

void add_output_options(po::options_description& desc) {
  desc.add_options()
      ("json", po::value<std::string>(), "write the report as JSON to FILE ('-' for stdout; the text report is then omitted)")
      ("trace", po::value<std::string>(), "write a trace to FILE (Perfetto protobuf; open it in ui.perfetto.dev)")
      ("trace-format", po::value<std::string>()->default_value("perfetto"), "trace format: perfetto | json (Chrome JSON)")
      ("ideal-memory", po::bool_switch(), "SRAM and HBM with unlimited bandwidth and no latency");
}

void add_model_options(po::options_description& desc) {
  desc.add_options()
      ("model", po::value<std::string>()->default_value("llama-3-8b"), "model: a shipped name (configs/models) or a config.json / YAML path")
      ("phase", po::value<std::string>()->default_value("decode"), "decode | prefill")
      ("batch", po::value<int>()->default_value(64), "sequences in the batch")
      ("prompt-len", po::value<int>()->default_value(2048), "prefill: tokens per sequence")
      ("context-len", po::value<int>()->default_value(2048), "decode: tokens already in the KV cache per sequence")
      ("dtype", po::value<std::string>(), "weights, activations and KV cache: bf16 | fp8 | int8 (default bf16)")
      ("weight-dtype", po::value<std::string>(), "weights (overrides --dtype)")
      ("act-dtype", po::value<std::string>(), "activations (overrides --dtype)")
      ("kv-dtype", po::value<std::string>(), "KV cache (overrides --dtype)")
      ("chips", po::value<int>(), "chips of the system (sets system.chips of the architecture)")
      ("tp", po::value<int>()->default_value(1), "tensor parallel degree: shards every layer over this many chips")
      ("pp", po::value<int>()->default_value(1), "pipeline parallel degree: consecutive layers on each of this many chips")
      ("micro-batches", po::value<int>(), "pipeline parallel: micro-batches the batch is split into (default: --pp, at most the batch)")
      ("ep", po::value<int>()->default_value(1), "expert parallel degree (MoE): experts split over this many chips, attention data parallel")
      ("expert-load", po::value<std::string>()->default_value("uniform"), "MoE routing: uniform | zipf:S | w1,w2,... (one weight per expert)");
}

isa::DType parse_dtype(const std::string& s);

workloads::RunSpec run_spec_from(const po::variables_map& vm) {
  workloads::RunSpec spec;
  const std::string phase = vm["phase"].as<std::string>();
  if (phase == "decode") {
    spec.phase = workloads::Phase::decode;
  } else if (phase == "prefill") {
    spec.phase = workloads::Phase::prefill;
  } else {
    throw Error(fmt::format("--phase '{}' is not one of: decode, prefill", phase));
  }
  spec.batch = vm["batch"].as<int>();
  spec.prompt_len = vm["prompt-len"].as<int>();
  spec.context_len = vm["context-len"].as<int>();
  if (spec.batch < 1) throw Error(fmt::format("--batch {} must be >= 1", spec.batch));
  if (spec.prompt_len < 1) throw Error(fmt::format("--prompt-len {} must be >= 1", spec.prompt_len));
  if (spec.context_len < 0) throw Error(fmt::format("--context-len {} must be >= 0", spec.context_len));
  if (vm.count("dtype")) spec.weight_dtype = spec.act_dtype = spec.kv_dtype = parse_dtype(vm["dtype"].as<std::string>());
  if (vm.count("weight-dtype")) spec.weight_dtype = parse_dtype(vm["weight-dtype"].as<std::string>());
  if (vm.count("act-dtype")) spec.act_dtype = parse_dtype(vm["act-dtype"].as<std::string>());
  if (vm.count("kv-dtype")) spec.kv_dtype = parse_dtype(vm["kv-dtype"].as<std::string>());
  spec.tp = vm["tp"].as<int>();
  if (spec.tp < 1) throw Error(fmt::format("--tp {} must be >= 1", spec.tp));
  spec.pp = vm["pp"].as<int>();
  if (spec.pp < 1) throw Error(fmt::format("--pp {} must be >= 1", spec.pp));
  spec.micro_batches = vm.count("micro-batches") ? vm["micro-batches"].as<int>() : std::min(spec.pp, spec.batch);
  spec.ep = vm["ep"].as<int>();
  if (spec.ep < 1) throw Error(fmt::format("--ep {} must be >= 1", spec.ep));
  return spec;
}

// The parallel layout must cover the system exactly: tp x pp x ep chips.
void check_parallelism(const workloads::RunSpec& spec, const ChipConfig& chip) {
  const int chips = chip.system.chips;
  // Layouts: --tp T alone, --pp P alone or with --tp (P x T chips), --ep E alone; all chips used.
  if (spec.ep > 1 && spec.tp > 1 && spec.ep != spec.tp) {
    throw Error(fmt::format("--ep {} with --tp {}: expert and tensor parallelism must span the same chips", spec.ep,
                            spec.tp));
  }
  // A pipeline stage is a tensor- or expert-parallel group of chips.
  const int needed = std::max(spec.tp, spec.ep) * spec.pp;
  if (needed > 1 && needed != chips) {
    throw Error(fmt::format("{} needs a system of {} chips; {} has {} (use a multi-chip preset such as "
                            "sohu-like-8x, or --chips {})",
                            spec.ep > 1 && spec.pp > 1 ? fmt::format("--ep {} x --pp {}", spec.ep, spec.pp)
                            : spec.ep > 1 && spec.tp > 1 ? fmt::format("--tp {} = --ep {}", spec.tp, spec.ep)
                            : spec.ep > 1 ? fmt::format("--ep {}", spec.ep)
                            : spec.pp > 1 && spec.tp > 1 ? fmt::format("--tp {} x --pp {}", spec.tp, spec.pp)
                            : spec.pp > 1 ? fmt::format("--pp {}", spec.pp)
                                          : fmt::format("--tp {}", spec.tp),
                            needed, chip.name, chips, needed));
  }
}

struct CompiledStep {
  workloads::StepGraph graph;  // chip 0's (the whole step's when not expert parallel)
  isa::Program program;        // chip 0's
  // Expert parallel: every chip's graph and program (chips differ with the expert load).
  std::vector<workloads::StepGraph> graphs;
  std::vector<isa::Program> programs;
};

CompiledStep compile_step(const po::variables_map& vm, const ChipConfig& chip) {
  const workloads::ModelConfig model = workloads::load_model(vm["model"].as<std::string>());
  workloads::RunSpec spec = run_spec_from(vm);
  if (model.is_moe()) spec.expert_load = workloads::parse_expert_load(vm["expert-load"].as<std::string>(), model.num_experts);
  check_parallelism(spec, chip);
  CompiledStep c;
  // One graph and program per chip when chips differ (expert or pipeline parallel).
  // Chip = stage x (chips per stage) + place in the stage's tensor- or expert-parallel group.
  const int per_stage = std::max({1, spec.tp, spec.ep});
  const int ranks = spec.pp > 1 ? spec.pp * per_stage : std::max(1, spec.ep);
  for (int rank = 0; rank < ranks; ++rank) {
    if (spec.ep > 1) spec.ep_rank = rank % per_stage;
    if (spec.pp > 1) {
      spec.pp_rank = rank / per_stage;
      spec.tp_rank = spec.tp > 1 ? rank % per_stage : 0;
    }
    c.graphs.push_back(workloads::build_step_graph(model, spec));
    c.programs.push_back(workloads::lower_step(c.graphs.back(), chip));
  }
  c.graph = c.graphs.front();
  c.program = c.programs.front();
  return c;
}

ChipConfig arch_from(const po::variables_map& vm) {
  std::vector<std::string> sets;
  if (vm.count("set")) sets = vm["set"].as<std::vector<std::string>>();
  if (vm.count("chips")) sets.push_back(fmt::format("system.chips={}", vm["chips"].as<int>()));
  return load_arch(vm["arch"].as<std::string>(), sets);
}

void write_file(const std::string& path, const std::string& text, const char* what) {
  if (path == "-") {
    std::cout << text;
    std::cout.flush();
    return;
  }
  std::ofstream out(path, std::ios::binary);
  if (!out) throw Error(fmt::format("cannot write {} '{}'", what, path));
  out << text;
  out.close();
  if (!out) throw Error(fmt::format("cannot write {} '{}'", what, path));
}

SimOptions sim_options(const po::variables_map& vm) {
  SimOptions o;
  o.ideal_memory = vm["ideal-memory"].as<bool>();
  if (vm.count("trace")) o.trace_path = vm["trace"].as<std::string>();
  o.trace_format = vm["trace-format"].as<std::string>();
  if (o.trace_format != "perfetto" && o.trace_format != "json") {
    throw Error(fmt::format("--trace-format '{}' is not one of: perfetto, json", o.trace_format));
  }
  return o;
}

void emit_report(const po::variables_map& vm, const RunStats& stats, const ChipConfig& chip, const ReportContext& ctx) {
  const bool json_stdout = vm.count("json") && vm["json"].as<std::string>() == "-";
  if (vm.count("json")) write_file(vm["json"].as<std::string>(), report_json(stats, chip, ctx), "JSON report");
  if (!json_stdout) std::cout << report_text(stats, chip, ctx);
}

int cmd_run(const std::vector<std::string>& args) {
  sweep::crash_if_test_point();
  po::options_description desc(
      "tasim run [--model M --phase decode|prefill --batch B ...] [--program P] [options]\n\n"
      "Simulates one inference step of a model (compiled to the ISA), or a given program. With no\n"
      "arguments: Llama-3-8B decode, batch 64, context 2048 on the sohu-like preset");
  add_run_options(desc);
  Parsed p = parse("run", desc, nullptr, args);
  if (p.help) return 0;
  const ChipConfig chip = arch_from(p.vm);
  const SimOptions options = sim_options(p.vm);
  if (p.vm.count("program")) {
    const isa::Program program = isa::load_program(p.vm["program"].as<std::string>());
    const RunStats stats = simulate(chip, program, options);
    emit_report(p.vm, stats, chip, {"run", program.source_name, options.ideal_memory});
    return 0;
  }
  const CompiledStep step = compile_step(p.vm, chip);
  OpProfiler profile(step.program);
  const RunStats stats = simulate(chip, step.programs, options, &profile);
  const StepSummary summary = summarize_step(step.graph, chip, step.program, stats, profile, &step.graphs);
  ReportContext ctx{"run", step.program.source_name, options.ideal_memory, &summary};
  emit_report(p.vm, stats, chip, ctx);
  return 0;
}

int cmd_compile(const std::vector<std::string>& args) {
  po::options_description desc(
      "tasim compile --model M [--phase ...] -o PROGRAM\n\n"
      "Compiles one inference step to a program: .tasm text, or the binary encoding when the output\n"
      "name ends in .bin. `tasim run --program PROGRAM` with the same architecture gives the same cycles");
  desc.add_options()("output,o", po::value<std::string>(), "program file to write ('-' = stdout, text)");
  add_model_options(desc);
  add_arch_options(desc);
  Parsed p = parse("compile", desc, nullptr, args);
  if (p.help) return 0;
  if (!p.vm.count("output")) throw Error("tasim compile: -o PROGRAM is required");
  const ChipConfig chip = arch_from(p.vm);
  const CompiledStep step = compile_step(p.vm, chip);
  if (step.programs.size() > 1) {
    throw Error("tasim compile with --ep or --pp: every chip has its own program, and writing several is not "
                "supported yet (run it with tasim run)");
  }
  const std::string out = p.vm["output"].as<std::string>();
  if (out.size() > 4 && out.compare(out.size() - 4, 4, ".bin") == 0) {
    const auto bytes = isa::encode(step.program);
    write_file(out, std::string(bytes.begin(), bytes.end()), "binary program");
  } else {
    write_file(out, isa::disassemble(step.program), "program");
  }
  if (out != "-") {
    std::cerr << fmt::format("{}: {} instructions, {} ops\n", out, step.program.instructions.size(), step.graph.ops.size());
  }
  return 0;
}

isa::DType parse_dtype(const std::string& s) {
  for (int i = 0; i < isa::kNumDTypes; ++i) {
    if (s == isa::dtype_name(static_cast<isa::DType>(i))) return static_cast<isa::DType>(i);
  }
  throw Error(fmt::format("--dtype '{}' is not one of: bf16, fp8, int8", s));
}

int cmd_gemm(const std::vector<std::string>& args) {
  po::options_description desc(
      "tasim gemm --m M --n N --k K [options]\n\n"
      "One GEMM C (M x N) = A (M x K) x B (K x N) on matrix unit 0 of core 0. With --ideal-memory it\n"
      "is a single matmul instruction whose cycles equal SCALE-Sim v2's compute cycles (for an array\n"
      "without double buffering: the small preset, or --set core.matrix.double_buffered=false); otherwise the\n"
      "operands stream from HBM through SRAM in double-buffered tiles and memory stalls show.\n"
      "The chip is reduced to one core with one matrix unit (its SRAM, DMA engines and all of HBM)");
  desc.add_options()
      ("m", po::value<long long>(), "rows of A and C")
      ("n", po::value<long long>(), "columns of B and C")
      ("k", po::value<long long>(), "reduction length")
      ("rows", po::value<int>(), "systolic array rows (overrides core.matrix.rows)")
      ("cols", po::value<int>(), "systolic array columns (overrides core.matrix.cols)")
      ("dataflow", po::value<std::string>(), "ws | os | is (overrides core.matrix.dataflow)")
      ("dtype", po::value<std::string>()->default_value("bf16"), "input dtype: bf16 | fp8 | int8");
  add_arch_options(desc);
  add_output_options(desc);
  Parsed p = parse("gemm", desc, nullptr, args);
  if (p.help) return 0;
  auto dim = [&](const char* name) -> std::uint64_t {
    if (!p.vm.count(name)) throw Error(fmt::format("tasim gemm: --{} is required", name));
    const long long v = p.vm[name].as<long long>();
    if (v < 1) throw Error(fmt::format("tasim gemm: --{} {} must be >= 1", name, v));
    return static_cast<std::uint64_t>(v);
  };
  workloads::GemmSpec gemm;
  gemm.m = dim("m");
  gemm.n = dim("n");
  gemm.k = dim("k");
  gemm.dtype = parse_dtype(p.vm["dtype"].as<std::string>());
  std::vector<std::string> sets;
  if (p.vm.count("set")) sets = p.vm["set"].as<std::vector<std::string>>();
  if (p.vm.count("rows")) sets.push_back(fmt::format("core.matrix.rows={}", p.vm["rows"].as<int>()));
  if (p.vm.count("cols")) sets.push_back(fmt::format("core.matrix.cols={}", p.vm["cols"].as<int>()));
  if (p.vm.count("dataflow")) sets.push_back("core.matrix.dataflow=" + p.vm["dataflow"].as<std::string>());
  ChipConfig chip = load_arch(p.vm["arch"].as<std::string>(), sets);
  // A study of one array: the chip is reduced to one core with one matrix unit, so utilization
  // is that unit's. It keeps the core's SRAM and DMA engines and the chip's whole HBM.
  chip.cores = 1;
  chip.core.matrix.count = 1;
  const SimOptions options = sim_options(p.vm);

  isa::Program program;
  if (options.ideal_memory) {
    // One instruction: the SCALE-Sim comparison. Ideal memory has no capacity limit either,
    // so SRAM grows to hold the operands when they exceed the configured size.
    constexpr std::uint64_t kMaxDim = 65535;
    if (gemm.m > kMaxDim || gemm.n > kMaxDim || gemm.k > kMaxDim) {
      throw Error(fmt::format("tasim gemm --ideal-memory: each dimension must be <= {} (one matmul instruction)", kMaxDim));
    }
    const std::uint64_t elem = isa::dtype_bytes(gemm.dtype);
    const std::uint64_t a = gemm.m * gemm.k * elem, b = gemm.k * gemm.n * elem;
    const std::uint64_t c = gemm.m * gemm.n * isa::kAccumulatorBytes;
    chip.core.sram.capacity_bytes = std::max(chip.core.sram.capacity_bytes, a + b + c);
    isa::Instruction mm;
    mm.op = isa::Opcode::matmul;
    mm.line = 1;
    mm.set(isa::Field::a_addr, 0);
    mm.set(isa::Field::b_addr, a);
    mm.set(isa::Field::c_addr, a + b);
    mm.set(isa::Field::m, gemm.m);
    mm.set(isa::Field::n, gemm.n);
    mm.set(isa::Field::k, gemm.k);
    mm.set(isa::Field::dtype, static_cast<std::uint64_t>(gemm.dtype));
    isa::Instruction halt;
    halt.op = isa::Opcode::halt;
    halt.line = 2;
    program.source_name = fmt::format("gemm_{}x{}x{}", gemm.m, gemm.n, gemm.k);
    program.instructions = {mm, halt};
  } else {
    program = workloads::lower_gemm(chip, gemm);
  }
  const RunStats stats = simulate(chip, program, options);
  emit_report(p.vm, stats, chip, {"gemm", program.source_name, options.ideal_memory});
  return 0;
}

// "1048576", "4K", "64M", "1G", "2GiB": a byte count with an optional binary suffix (K, M, G, T
// = 2^10, 2^20, 2^30, 2^40; nccl-tests reads sizes the same way).
std::uint64_t parse_byte_count(const std::string& text) {
  auto bad = [&]() { return Error(fmt::format("--bytes '{}' is not a byte count (e.g. 8, 4K, 64M, 1G)", text)); };
  std::size_t i = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) ++i;
  if (i == 0) {
    if (!text.empty() && text[0] == '-') throw Error(fmt::format("--bytes {} must be >= 1", text));
    throw bad();
  }
  if (i > 19) throw bad();
  const std::uint64_t number = std::stoull(text.substr(0, i));
  std::string suffix = text.substr(i);
  for (auto& c : suffix) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (suffix.size() > 1 && (suffix.substr(1) == "B" || suffix.substr(1) == "IB")) suffix = suffix.substr(0, 1);
  if (suffix == "B") suffix.clear();
  int shift = 0;
  if (suffix == "K") {
    shift = 10;
  } else if (suffix == "M") {
    shift = 20;
  } else if (suffix == "G") {
    shift = 30;
  } else if (suffix == "T") {
    shift = 40;
  } else if (!suffix.empty()) {
    throw bad();
  }
  if (shift > 0 && number > (~std::uint64_t{0} >> shift)) throw bad();
  return number << shift;
}

int cmd_collective(const std::vector<std::string>& args) {
  po::options_description desc(
      "tasim collective --op OP --bytes N [--chips P --topology T] [--algo ring|direct] [options]\n\n"
      "One collective over the chip-to-chip links of a system, simulated step by step with link\n"
      "contention, reported like nccl-tests: algbw = bytes / time, busbw = algbw x 2(P-1)/P\n"
      "(allreduce), x (P-1)/P (allgather, reducescatter, alltoall), x 1 (sendrecv: every chip sends\n"
      "N bytes to the next one at once). Sizes as in nccl-tests: allreduce the buffer of each chip,\n"
      "allgather the gathered output, reducescatter the input, alltoall the send buffer");
  desc.add_options()
      ("op", po::value<std::string>(), "allreduce | allgather | reducescatter | alltoall | sendrecv")
      ("bytes", po::value<std::string>(), "bytes per chip (nccl-tests' size): 8, 4K, 64M, 1G (binary units)")
      ("chips", po::value<int>(), "chips taking part (overrides system.chips)")
      ("topology", po::value<std::string>(), "ring | torus2d | fully-connected | switch (overrides system.topology)")
      ("algo", po::value<std::string>(), "ring | direct (default ring; alltoall and sendrecv are direct only)");
  add_arch_options(desc);
  desc.add_options()
      ("json", po::value<std::string>(), "write the report as JSON to FILE ('-' for stdout; the text report is then omitted)")
      ("trace", po::value<std::string>(), "write a trace to FILE: per chip a track per link, receive lanes and the steps")
      ("trace-format", po::value<std::string>()->default_value("perfetto"), "trace format: perfetto | json (Chrome JSON)");
  Parsed p = parse("collective", desc, nullptr, args);
  if (p.help) return 0;
  CollectiveStudy study;
  if (!p.vm.count("op")) throw Error("tasim collective: --op is required (allreduce, allgather, reducescatter, alltoall, sendrecv)");
  const std::string op = p.vm["op"].as<std::string>();
  const std::pair<const char*, CollectiveOp> ops[] = {{"allreduce", CollectiveOp::all_reduce},
                                                      {"allgather", CollectiveOp::all_gather},
                                                      {"reducescatter", CollectiveOp::reduce_scatter},
                                                      {"alltoall", CollectiveOp::all_to_all},
                                                      {"sendrecv", CollectiveOp::send_recv}};
  const auto found = std::find_if(std::begin(ops), std::end(ops), [&](const auto& o) { return op == o.first; });
  if (found == std::end(ops)) {
    throw Error(fmt::format("--op '{}' is not one of: allreduce, allgather, reducescatter, alltoall, sendrecv", op));
  }
  study.op = found->second;
  if (!p.vm.count("bytes")) throw Error("tasim collective: --bytes N is required");
  study.bytes = parse_byte_count(p.vm["bytes"].as<std::string>());
  if (study.bytes < 1) throw Error(fmt::format("--bytes {} must be >= 1", p.vm["bytes"].as<std::string>()));
  if (p.vm.count("algo")) {
    const std::string algo = p.vm["algo"].as<std::string>();
    if (algo == "ring") {
      study.algo = CollectiveAlgo::ring;
    } else if (algo == "direct") {
      study.algo = CollectiveAlgo::direct;
    } else {
      throw Error(fmt::format("--algo '{}' is not one of: ring, direct", algo));
    }
  }
  std::vector<std::string> sets;
  if (p.vm.count("set")) sets = p.vm["set"].as<std::vector<std::string>>();
  if (p.vm.count("chips")) {
    const int chips = p.vm["chips"].as<int>();
    if (chips < 2) throw Error(fmt::format("--chips {} must be >= 2", chips));
    sets.push_back(fmt::format("system.chips={}", chips));
  }
  if (p.vm.count("topology")) {
    const std::string topology = p.vm["topology"].as<std::string>();
    if (topology != "ring" && topology != "torus2d" && topology != "fully-connected" && topology != "switch") {
      throw Error(fmt::format("--topology '{}' is not one of: ring, torus2d, fully-connected, switch", topology));
    }
    sets.push_back("system.topology=" + topology);
  }
  const ChipConfig chip = load_arch(p.vm["arch"].as<std::string>(), sets);
  if (p.vm.count("trace")) study.trace_path = p.vm["trace"].as<std::string>();
  study.trace_format = p.vm["trace-format"].as<std::string>();
  if (study.trace_format != "perfetto" && study.trace_format != "json") {
    throw Error(fmt::format("--trace-format '{}' is not one of: perfetto, json", study.trace_format));
  }
  const CollectiveReport report = run_collective(chip, study);
  const bool json_stdout = p.vm.count("json") && p.vm["json"].as<std::string>() == "-";
  if (p.vm.count("json")) write_file(p.vm["json"].as<std::string>(), collective_report_json(report), "JSON report");
  if (!json_stdout) std::cout << collective_report_text(report);
  return 0;
}

int cmd_asm(const std::vector<std::string>& args) {
  po::options_description desc("tasim asm IN.tasm -o OUT.bin\n\nAssembles a .tasm program into the binary encoding");
  desc.add_options()("input", po::value<std::string>(), ".tasm file")("output,o", po::value<std::string>(), "binary output file");
  po::positional_options_description pos;
  pos.add("input", 1);
  Parsed p = parse("asm", desc, &pos, args);
  if (p.help) return 0;
  if (!p.vm.count("input")) throw Error("tasim asm: an input .tasm file is required");
  if (!p.vm.count("output")) throw Error("tasim asm: -o OUT.bin is required");
  const isa::Program program = isa::load_program(p.vm["input"].as<std::string>());
  const auto bytes = isa::encode(program);
  write_file(p.vm["output"].as<std::string>(), std::string(bytes.begin(), bytes.end()), "binary program");
  return 0;
}

int cmd_disasm(const std::vector<std::string>& args) {
  po::options_description desc("tasim disasm IN.bin [-o OUT.tasm]\n\nPrints a program (binary or .tasm) as canonical .tasm");
  desc.add_options()("input", po::value<std::string>(), "program file")("output,o", po::value<std::string>()->default_value("-"), "output file ('-' = stdout)");
  po::positional_options_description pos;
  pos.add("input", 1);
  Parsed p = parse("disasm", desc, &pos, args);
  if (p.help) return 0;
  if (!p.vm.count("input")) throw Error("tasim disasm: an input program file is required");
  const isa::Program program = isa::load_program(p.vm["input"].as<std::string>());
  write_file(p.vm["output"].as<std::string>(), isa::disassemble(program), "disassembly");
  return 0;
}

int cmd_validate(const std::vector<std::string>& args) {
  po::options_description desc("tasim validate PROGRAM [--arch A]\n\nChecks a program against an architecture");
  desc.add_options()("program", po::value<std::string>(), "program file");
  add_arch_options(desc);
  po::positional_options_description pos;
  pos.add("program", 1);
  Parsed p = parse("validate", desc, &pos, args);
  if (p.help) return 0;
  if (!p.vm.count("program")) throw Error("tasim validate: a program file is required");
  const ChipConfig chip = arch_from(p.vm);
  const isa::Program program = isa::load_program(p.vm["program"].as<std::string>());
  const auto problems = isa::find_problems(program, target_limits(chip));
  for (const auto& pr : problems) std::cerr << pr << "\n";
  if (!problems.empty()) return 2;
  std::cout << fmt::format("{}: {} instructions, valid on {}\n", program.source_name, program.instructions.size(), chip.name);
  return 0;
}

int cmd_presets(const std::vector<std::string>& args) {
  po::options_description desc("tasim presets\n\nLists the built-in architecture presets with headline figures");
  Parsed p = parse("presets", desc, nullptr, args);
  if (p.help) return 0;
  std::cout << presets_listing();
  return 0;
}

int cmd_arch(const std::vector<std::string>& args) {
  po::options_description desc("tasim arch [--arch A] [--set k=v]\n\nPrints the effective architecture as YAML");
  add_arch_options(desc);
  Parsed p = parse("arch", desc, nullptr, args);
  if (p.help) return 0;
  std::vector<std::string> sets;
  if (p.vm.count("set")) sets = p.vm["set"].as<std::vector<std::string>>();
  const ArchInfo info = load_arch_info(p.vm["arch"].as<std::string>(), sets);
  std::cout << arch_to_yaml(info.chip, info.description);
  return 0;
}

int cmd_sweep(const std::vector<std::string>& args) {
  po::options_description desc(sweep::sweep_usage());
  desc.add_options()
      ("spec", po::value<std::string>(), "the sweep spec (YAML)")
      ("output,o", po::value<std::string>(), "results CSV (the JSONL is written beside it)")
      ("jobs,j", po::value<int>()->default_value(0), "points run at a time (default 0: the CPUs this process may use)")
      ("resume", po::bool_switch(), "keep the rows of an existing results file and run only the missing points")
      ("retry-failed", po::bool_switch(), "with --resume: run the failed points again too")
      ("force", po::bool_switch(), "overwrite an existing results file")
      ("shard", po::value<std::string>(), "i/N: run only the points whose index % N == i (merge with tasim sweep-merge)")
      ("pareto", po::value<std::string>(), "add a pareto column: x=METRIC[:min|:max],y=METRIC[:min|:max]")
      ("timeout-s", po::value<double>()->default_value(0), "kill a point after this many seconds (0: no limit)")
      ("dry-run", po::bool_switch(), "list the points (and which constraints skip) without running them");
  po::positional_options_description pos;
  pos.add("spec", 1);
  Parsed p = parse("sweep", desc, &pos, args);
  if (p.help) return 0;
  if (!p.vm.count("spec")) throw Error("tasim sweep: a spec file is required (see tasim sweep --help)");
  sweep::SweepOptions o;
  o.spec_path = p.vm["spec"].as<std::string>();
  if (p.vm.count("output")) o.output = p.vm["output"].as<std::string>();
  o.jobs = p.vm["jobs"].as<int>();
  o.resume = p.vm["resume"].as<bool>();
  o.retry_failed = p.vm["retry-failed"].as<bool>();
  o.force = p.vm["force"].as<bool>();
  o.dry_run = p.vm["dry-run"].as<bool>();
  if (p.vm.count("shard")) o.shard = p.vm["shard"].as<std::string>();
  if (p.vm.count("pareto")) o.pareto = p.vm["pareto"].as<std::string>();
  o.timeout_s = p.vm["timeout-s"].as<double>();
  po::options_description run_options;
  add_run_options(run_options);
  return sweep::run_sweep(o, run_options);
}

int cmd_sweep_merge(const std::vector<std::string>& args) {
  po::options_description desc(sweep::sweep_merge_usage());
  desc.add_options()
      ("output,o", po::value<std::string>(), "merged CSV (the JSONL is written beside it)")
      ("pareto", po::value<std::string>(), "add a pareto column: x=METRIC[:min|:max],y=METRIC[:min|:max]")
      ("inputs", po::value<std::vector<std::string>>(), "results CSVs");
  po::positional_options_description pos;
  pos.add("inputs", -1);
  Parsed p = parse("sweep-merge", desc, &pos, args);
  if (p.help) return 0;
  sweep::MergeOptions o;
  if (p.vm.count("output")) o.output = p.vm["output"].as<std::string>();
  if (p.vm.count("pareto")) o.pareto = p.vm["pareto"].as<std::string>();
  if (p.vm.count("inputs")) o.inputs = p.vm["inputs"].as<std::vector<std::string>>();
  return sweep::merge_sweeps(o);
}

}  // namespace

void add_run_options(po::options_description& desc) {
  desc.add_options()("program", po::value<std::string>(), "run this program (.tasm or binary) instead of compiling a model");
  add_model_options(desc);
  add_arch_options(desc);
  add_output_options(desc);
}

int cli_main(int argc, char** argv) {
  // SystemC prints a banner at elaboration unless told not to.
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
      std::cout << kUsage;
      return 0;
    }
    if (args[0] == "--version") {
      std::cout << "tasim " << kVersion << "\n";
      return 0;
    }
    const std::string command = args[0];
    args.erase(args.begin());
    if (command == "run") return cmd_run(args);
    if (command == "gemm") return cmd_gemm(args);
    if (command == "collective") return cmd_collective(args);
    if (command == "compile") return cmd_compile(args);
    if (command == "asm") return cmd_asm(args);
    if (command == "disasm") return cmd_disasm(args);
    if (command == "validate") return cmd_validate(args);
    if (command == "presets") return cmd_presets(args);
    if (command == "arch") return cmd_arch(args);
    if (command == "sweep") return cmd_sweep(args);
    if (command == "sweep-merge") return cmd_sweep_merge(args);
    throw Error(fmt::format("unknown command '{}' (see tasim --help)", command));
  } catch (const Error& e) {
    std::cerr << "tasim: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "tasim: internal error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace tasim
