// The options of `tasim run` (and the commands that share them): their one description, and the
// requests built from parsed values. The CLI and the sweeps both read runs through here, so a
// sweep's `run.*` keys are exactly `tasim run`'s options and a point's architecture is built the
// way `tasim run` builds it. Errors here name the command-line option; the requests they give
// are checked by the library (sim/config, workloads), whose errors name the quantity.
#pragma once

#include <string>

#include <boost/program_options.hpp>

#include "isa/isa.h"
#include "sim/config/arch_loader.h"
#include "workloads/step.h"

namespace tasim {

void add_arch_options(boost::program_options::options_description& desc);    // --arch, --set
void add_model_options(boost::program_options::options_description& desc);   // --model ... --expert-load
void add_output_options(boost::program_options::options_description& desc);  // --json, --trace, ...
void add_layer_reuse_options(boost::program_options::options_description& desc);  // --exact, --reuse-layers, --materialize
// Every option of `tasim run`: --program, the model, architecture and output options.
void add_run_options(boost::program_options::options_description& desc);

// --arch, --set and --chips (when the description has it) as an architecture request.
ArchRequest arch_request_from(const boost::program_options::variables_map& vm);
// --model and the workload options as a step request.
workloads::StepRequest step_request_from(const boost::program_options::variables_map& vm);

// What a Boost.Program_options error says, safely: Boost fills its message by replacing
// placeholders such as %value% until none is left, so a value the user wrote containing one
// ("--batch %value%") never finished. The user's text is shielded from that and given back as written.
std::string option_error_message(boost::program_options::error& e);

// "2048:1x32,0:512" -> 32 sequences decoding one token at context 2048, one prefilling 512.
// Throws Error naming --sequences.
std::vector<workloads::SequenceShape> parse_sequences(const std::string& text);

// "bf16" -> DType::bf16; throws Error naming `option` for another name.
isa::DType parse_dtype(const std::string& name, const char* option = "--dtype");

}  // namespace tasim
