#include "sim/cli.h"

#include <fmt/format.h>

#include <boost/program_options.hpp>
#include <algorithm>
#include <cmath>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "arch/arch_figures.h"
#include "common/output_file.h"
#include "common/printable.h"
#include "isa/isa.h"
#include "sim/driver/collective_study.h"
#include "sim/config/arch_loader.h"
#include "sim/report/report.h"
#include "sim/driver/simulate.h"
#include "sim/driver/step_driver.h"
#include "sim/options/run_options.h"
#include "sim/serve_command.h"
#include "sim/sweep/child.h"
#include "sim/sweep/sweep.h"
#include "workloads/gemm_lowering.h"
#include "workloads/lowering.h"

namespace po = boost::program_options;

namespace tasim {

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
  serve      serve requests over time on one replica: continuous batching over a paged KV
             cache, step times from the cycle simulator; TTFT, TPOT, throughput (docs/serving.md)

Every command that takes --arch also takes --set key.path=value (repeatable) to override any
architecture key, e.g. --set core.matrix.rows=256 --set hbm.gbps_per_channel=64.
Exit status: 0 ok, 2 bad input, a program that deadlocks or an output that cannot be written,
1 internal error. Outputs (docs/reliability.md): a regular file is replaced only once complete;
links are followed; FIFOs and devices are written through; every write is checked.
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
    // Without positional arguments of its own a command refuses any: a stray word is a mistake.
    const po::positional_options_description none;
    parser.positional(pos ? *pos : none);
    po::store(parser.run(), p.vm);
    if (p.vm.count("help")) {
      // Every command answers --help the same way: its options, and nothing else done.
      std::cout << desc << "\n";
      p.help = true;
      return p;
    }
    po::notify(p.vm);
  } catch (const po::too_many_positional_options_error&) {
    throw Error(fmt::format("tasim {}: unexpected argument among {}: options start with -- (see tasim {} --help)",
                            command, fmt::join(args, " "), command));
  } catch (po::error& e) {
    throw Error(fmt::format("tasim {}: {} (see tasim {} --help)", command, option_error_message(e), command));
  }
  return p;
}

// The outputs a command will write, checked before any long work (common/output_file.h).
void check_outputs(const po::variables_map& vm) {
  if (vm.count("json")) check_output(vm["json"].as<std::string>(), "JSON report");
  if (vm.count("trace")) check_output(vm["trace"].as<std::string>(), "trace");
  if (vm.count("output")) check_output(vm["output"].as<std::string>(), "output");
}

// `instructions_by_default`: whether the trace has instruction slices unless --trace-detail says.
SimOptions sim_options(const po::variables_map& vm, bool instructions_by_default = true) {
  SimOptions o;
  o.trace_instructions = instructions_by_default;
  if (vm.count("trace-detail")) {
    const std::string detail = vm["trace-detail"].as<std::string>();
    if (detail != "op" && detail != "instruction") {
      throw Error(fmt::format("--trace-detail '{}' is not one of: op, instruction", detail));
    }
    o.trace_instructions = detail == "instruction";
  }
  o.ideal_memory = vm["ideal-memory"].as<bool>();
  if (vm.count("trace")) o.trace_path = vm["trace"].as<std::string>();
  o.trace_format = vm["trace-format"].as<std::string>();
  if (o.trace_format != "perfetto" && o.trace_format != "json") {
    throw Error(fmt::format("--trace-format '{}' is not one of: perfetto, json", o.trace_format));
  }
  check_outputs(vm);
  return o;
}

void emit_report(const po::variables_map& vm, const RunStats& stats, const ChipConfig& chip, const ReportContext& ctx) {
  const bool json_stdout = vm.count("json") && vm["json"].as<std::string>() == "-";
  if (vm.count("json")) write_output(vm["json"].as<std::string>(), report_json(stats, chip, ctx), "JSON report");
  if (!json_stdout) std::cout << report_text(stats, chip, ctx);
}

int cmd_run(const std::vector<std::string>& args, const CliHooks& hooks) {
  if (hooks.before_run) hooks.before_run();
  po::options_description desc(
      "tasim run [--model M --phase decode|prefill|denoise --batch B ...] [--program P] [options]\n\n"
      "Simulates one inference step of a model (compiled to the ISA), or a given program. With no\n"
      "arguments: Llama-3-8B decode, batch 64, context 2048 on the sohu-like preset. A video diffusion\n"
      "transformer (wan2.1-t2v-14b) runs --phase denoise: one denoising step of --frames x --height x\n"
      "--width video, and the whole generation (--steps of them, --cfg doubling the batch)");
  add_run_options(desc);
  Parsed p = parse("run", desc, nullptr, args);
  if (p.help) return 0;
  const ChipConfig chip = build_arch(arch_request_from(p.vm)).chip;
  // A program's trace shows its instructions; a model step's its layers and ops (--trace-detail).
  const SimOptions options = sim_options(p.vm, p.vm.count("program") > 0);
  if (p.vm.count("program")) {
    // The program is run as given: a model or workload option would be silently ignored.
    for (const auto& option : p.vm) {
      const std::string& name = option.first;
      if (name == "program" || name == "arch" || name == "set" || name == "chips" || name == "json" ||
          name == "trace" || name == "trace-format" || name == "trace-detail" || name == "ideal-memory" ||
          option.second.defaulted()) {
        continue;
      }
      throw Error(fmt::format("tasim run --program runs the program as given: --{} does not apply to it", name));
    }
    const isa::Program program = isa::load_program(p.vm["program"].as<std::string>());
    const RunStats stats = simulate(chip, program, options);
    emit_report(p.vm, stats, chip, {"run", program.source_name, options.ideal_memory});
    return 0;
  }
  const workloads::StepRequest request = step_request_from(p.vm);
  const StepResult r = p.vm["materialize"].as<bool>() ? simulate_step(chip, workloads::compile_step(request, chip), options)
                                                      : run_step(chip, request, options);
  emit_report(p.vm, r.stats, chip, {"run", r.program_name, options.ideal_memory, &r.summary});
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
  check_outputs(p.vm);
  const ChipConfig chip = build_arch(arch_request_from(p.vm)).chip;
  const workloads::CompiledStep step = workloads::compile_step(step_request_from(p.vm), chip);
  if (step.programs.size() > 1) {
    throw Error("tasim compile with --ep or --pp: every chip has its own program, and writing several is not "
                "supported yet (run it with tasim run)");
  }
  const std::string out = p.vm["output"].as<std::string>();
  if (out.size() > 4 && out.compare(out.size() - 4, 4, ".bin") == 0) {
    const auto bytes = isa::encode(step.program());
    write_output(out, std::string(bytes.begin(), bytes.end()), "binary program");
  } else {
    write_output(out, isa::disassemble(step.program()), "program");
  }
  if (out != "-") {
    std::cerr << fmt::format("{}: {} instructions, {} ops\n", out, step.program().instructions.size(),
                             step.graph().ops.size());
  }
  return 0;
}

// tasim gemm --all-cores: the GEMM as one linear op of a step, over the whole chip.
int run_whole_chip_gemm(const po::variables_map& vm, const ChipConfig& chip, const workloads::GemmSpec& gemm) {
  if (vm.count("rows") || vm.count("cols") || vm.count("dataflow")) {
    throw Error("tasim gemm --all-cores uses the architecture's arrays: give --set core.matrix.rows=... instead of "
                "--rows, --cols or --dataflow");
  }
  const SimOptions options = sim_options(vm);
  const workloads::StepGraph graph = workloads::whole_chip_gemm_graph(gemm);
  const isa::Program program = workloads::lower_step(graph, chip);
  const RunStats stats = simulate(chip, program, options);
  ReportContext ctx{"gemm", program.source_name, options.ideal_memory};
  ctx.gemm_flops = workloads::gemm_flops(gemm);
  ctx.gemm_min_hbm_bytes = workloads::gemm_min_hbm_bytes(gemm);
  const double compute_s = static_cast<double>(ctx.gemm_flops) / peak_matrix_flops_per_s(chip, gemm.dtype);
  const double memory_s = options.ideal_memory ? 0.0 : static_cast<double>(ctx.gemm_min_hbm_bytes) / hbm_peak_bytes_per_s(chip);
  ctx.gemm_roofline_seconds = std::max(compute_s, memory_s);
  ctx.gemm_roofline_bound = compute_s >= memory_s ? "compute" : "memory";
  emit_report(vm, stats, chip, ctx);
  return 0;
}

int cmd_gemm(const std::vector<std::string>& args) {
  po::options_description desc(
      "tasim gemm --m M --n N --k K [options]\n\n"
      "One GEMM C (M x N) = A (M x K) x B (K x N) on matrix unit 0 of core 0. With --ideal-memory it\n"
      "is a single matmul instruction whose cycles equal SCALE-Sim v2's compute cycles (for an array\n"
      "without double buffering: the small preset, or --set core.matrix.double_buffered=false); otherwise the\n"
      "operands stream from HBM through SRAM in double-buffered tiles and memory stalls show.\n"
      "The chip is reduced to one core with one matrix unit (its SRAM, DMA engines and all of HBM).\n"
      "With --all-cores the whole chip runs it, tiled as the step compiler tiles a linear op");
  desc.add_options()
      ("m", po::value<long long>(), "rows of A and C")
      ("n", po::value<long long>(), "columns of B and C")
      ("k", po::value<long long>(), "reduction length")
      ("rows", po::value<int>(), "systolic array rows (overrides core.matrix.rows)")
      ("cols", po::value<int>(), "systolic array columns (overrides core.matrix.cols)")
      ("dataflow", po::value<std::string>(), "ws | os | is (overrides core.matrix.dataflow)")
      ("dtype", po::value<std::string>()->default_value("bf16"), "input dtype: bf16 | fp8 | int8")
      ("all-cores", po::bool_switch(), "tile the GEMM over every core and matrix unit as the step compiler tiles a "
                                       "linear op (A: activations, B: weights, all from HBM); JSON adds tflops, "
                                       "gemm_flops, min_hbm_bytes and roofline_seconds");
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
  ArchRequest request = arch_request_from(p.vm);
  if (p.vm.count("rows")) request.overrides.push_back(fmt::format("core.matrix.rows={}", p.vm["rows"].as<int>()));
  if (p.vm.count("cols")) request.overrides.push_back(fmt::format("core.matrix.cols={}", p.vm["cols"].as<int>()));
  if (p.vm.count("dataflow")) request.overrides.push_back("core.matrix.dataflow=" + p.vm["dataflow"].as<std::string>());
  ChipConfig chip = build_arch(request).chip;
  if (p.vm["all-cores"].as<bool>()) return run_whole_chip_gemm(p.vm, chip, gemm);
  // A study of one array: the chip is reduced to one core with one matrix unit, so utilization
  // is that unit's. It keeps the core's SRAM and DMA engines and the chip's whole HBM.
  chip.cores = 1;
  chip.core.matrix.count = 1;
  const SimOptions options = sim_options(p.vm);
  isa::Program program;
  if (options.ideal_memory) {
    // One instruction: the SCALE-Sim comparison. Ideal memory has no capacity limit either,
    // so SRAM grows to hold the operands when they exceed the configured size.
    program = workloads::single_matmul_program(gemm);
    chip.core.sram.capacity_bytes = std::max(chip.core.sram.capacity_bytes, workloads::single_matmul_sram_bytes(gemm));
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
  ArchRequest request = arch_request_from(p.vm);
  if (request.chips && *request.chips < 2) throw Error(fmt::format("--chips {} must be >= 2", *request.chips));
  if (p.vm.count("topology")) {
    const std::string topology = p.vm["topology"].as<std::string>();
    if (topology != "ring" && topology != "torus2d" && topology != "fully-connected" && topology != "switch") {
      throw Error(fmt::format("--topology '{}' is not one of: ring, torus2d, fully-connected, switch", topology));
    }
    request.topology = topology;
  }
  const ChipConfig chip = build_arch(request).chip;
  if (p.vm.count("trace")) study.trace_path = p.vm["trace"].as<std::string>();
  study.trace_format = p.vm["trace-format"].as<std::string>();
  if (study.trace_format != "perfetto" && study.trace_format != "json") {
    throw Error(fmt::format("--trace-format '{}' is not one of: perfetto, json", study.trace_format));
  }
  check_outputs(p.vm);
  const CollectiveReport report = run_collective(chip, study);
  const bool json_stdout = p.vm.count("json") && p.vm["json"].as<std::string>() == "-";
  if (p.vm.count("json")) write_output(p.vm["json"].as<std::string>(), collective_report_json(report), "JSON report");
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
  write_output(p.vm["output"].as<std::string>(), std::string(bytes.begin(), bytes.end()), "binary program");
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
  write_output(p.vm["output"].as<std::string>(), isa::disassemble(program), "disassembly");
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
  const ChipConfig chip = build_arch(arch_request_from(p.vm)).chip;
  const isa::Program program = isa::load_program(p.vm["program"].as<std::string>());
  const auto problems = find_system_problems(chip, {program});
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
  const ArchInfo info = build_arch(arch_request_from(p.vm));
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
  if (!std::isfinite(o.timeout_s) || o.timeout_s < 0) {
    throw Error(fmt::format("--timeout-s {} must be a number of seconds >= 0 (0: no limit)", o.timeout_s));
  }
  po::options_description run_options;
  add_run_options(run_options);
  po::options_description serve_options;
  add_serve_options(serve_options);
  return sweep::run_sweep(o, run_options, &serve_options);
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


int cli_main(int argc, char** argv, const CliHooks& hooks) {
  // SystemC prints a banner at elaboration unless told not to.
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
      std::cout << kUsage;
      check_stdout();
      return 0;
    }
    if (args[0] == "--version") {
      std::cout << "tasim " << kVersion << "\n";
      check_stdout();
      return 0;
    }
    const std::string command = args[0];
    args.erase(args.begin());
    int status = -1;
    if (command == "run") status = cmd_run(args, hooks);
    if (command == "gemm") status = cmd_gemm(args);
    if (command == "collective") status = cmd_collective(args);
    if (command == "compile") status = cmd_compile(args);
    if (command == "asm") status = cmd_asm(args);
    if (command == "disasm") status = cmd_disasm(args);
    if (command == "validate") status = cmd_validate(args);
    if (command == "presets") status = cmd_presets(args);
    if (command == "arch") status = cmd_arch(args);
    if (command == "sweep") status = cmd_sweep(args);
    if (command == "sweep-merge") status = cmd_sweep_merge(args);
    if (command == "serve") status = cmd_serve(args);
    if (status >= 0) {
      check_stdout();  // a report or listing lost on a full disk or a closed pipe is an error
      return status;
    }
    throw Error(fmt::format("unknown command '{}' (see tasim --help)", command));
  } catch (const Error& e) {
    std::cerr << "tasim: error: " << printable_message(e.what()) << "\n";  // no raw control bytes from the input
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "tasim: internal error: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace tasim
