// A serving run's outputs (sim/serve/metrics, serve_report, serve_trace, progress) on a small run
// built by hand, so every figure below is computed by hand: the summary's goodput, batch, KV,
// prefix, speculative and energy figures; the CSV and JSONL rows; the trace's tracks, slices and
// request lanes; the progress followed from step shapes.
#include <catch2/catch.hpp>

#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "common/error.h"
#include "common/json_writer.h"
#include "sim/serve/engine.h"
#include "sim/serve/metrics.h"
#include "sim/serve/progress.h"
#include "sim/serve/serve_report.h"
#include "sim/serve/serve_trace.h"

using namespace tasim;
using namespace tasim::serve;

namespace {

RequestRecord record(int id, double arrival_s, int prompt, int output, double scheduled_s, std::vector<double> token_s) {
  RequestRecord r;
  r.request.id = id;
  r.request.arrival_s = arrival_s;
  r.request.prompt_tokens = prompt;
  r.request.output_tokens = output;
  r.first_scheduled_s = scheduled_s;
  r.first_token_s = token_s.front();
  r.completion_s = token_s.back();
  r.token_s = std::move(token_s);
  return r;
}

StepRecord step(double start_s, double end_s, int scheduled, long long tokens, int decodes, int used_blocks,
                double energy_j) {
  StepRecord s;
  s.start_s = start_s;
  s.end_s = end_s;
  s.scheduled = s.running = scheduled;
  s.tokens = tokens;
  s.decodes = decodes;
  s.prefill_tokens = tokens - decodes;
  s.used_blocks = used_blocks;
  s.energy_j = energy_j;
  return s;
}

// Three requests on one replica, four steps of 1 s, a cache of 4 blocks:
//   0: arrives 0, 10 prompt + 3 outputs at 1, 1.5, 2 (TTFT 1, TPOT 0.5); 4 hit tokens; 4 drafts
//      proposed, 2 accepted over 2 verify steps
//   1: arrives 0.5, 20 prompt + 1 output at 2 (TTFT 1.5, TPOT 0)
//   2: arrives 1, 10 prompt + 2 outputs at 3, 4 (TTFT 2, TPOT 1); 6 hit tokens; preempted once
ServeResult small_run() {
  ServeResult r;
  r.requests.push_back(record(0, 0.0, 10, 3, 0.0, {1.0, 1.5, 2.0}));
  r.requests.push_back(record(1, 0.5, 20, 1, 1.0, {2.0}));
  r.requests.push_back(record(2, 1.0, 10, 2, 2.0, {3.0, 4.0}));
  r.requests[0].prefix_hit_tokens = 4;
  r.requests[0].drafts_proposed = 4;
  r.requests[0].drafts_accepted = 2;
  r.requests[0].verify_steps = 2;
  r.requests[2].prefix_hit_tokens = 6;
  r.requests[2].preemptions = 1;
  r.requests[2].recomputed_tokens = 5;
  r.steps = {step(0, 1, 1, 10, 0, 2, 1.0), step(1, 2, 2, 21, 1, 3, 2.0), step(2, 3, 1, 10, 0, 1, 1.0),
             step(3, 4, 1, 1, 1, 0, 0.5)};
  r.total_blocks = 4;
  r.preemptions = 1;
  r.duration_s = 4.0;
  return r;
}

std::string temp_path(const std::string& name) {
  const std::filesystem::path dir = std::filesystem::path(TASIM_BINARY_DIR) / "test_tmp" / "serve";
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("serve summary: latency, throughput and goodput under SLOs", "[serve][metrics]") {
  const ServeResult r = small_run();
  const ServeSummary s = summarize(r, {1.5, 0.6});
  CHECK(s.requests == 3);
  CHECK(s.completed == 3);
  CHECK(s.preemptions == 1);
  CHECK(s.ttft_s.mean == Approx(1.5));
  CHECK(s.tpot_s.mean == Approx(0.75));  // request 1 (one output) is left out
  CHECK(s.itl_s.mean == Approx(2.0 / 3));  // gaps 0.5, 0.5, 1
  CHECK(s.itl_s.p50 == Approx(0.5));
  CHECK(s.requests_per_s == Approx(0.75));
  CHECK(s.output_tokens_per_s == Approx(1.5));
  CHECK(s.input_tokens_per_s == Approx(10.0));
  // Requests 0 (1 <= 1.5, 0.5 <= 0.6) and 1 (1.5 <= 1.5, TPOT 0) meet both; 2 misses both.
  CHECK(s.slo_met == 2);
  CHECK(s.slo_attainment_percent == Approx(200.0 / 3));
  CHECK(s.goodput_requests_per_s == Approx(0.5));
  // One SLO alone: only request 0 has TTFT <= 1.2.
  const ServeSummary ttft_only = summarize(r, {1.2, 0});
  CHECK(ttft_only.slo_met == 1);
  CHECK(ttft_only.slo_attainment_percent == Approx(100.0 / 3));
  CHECK(ttft_only.goodput_requests_per_s == Approx(0.25));
  // No SLO: no goodput figures.
  const ServeSummary none = summarize(r);
  CHECK_FALSE(none.slo.any());
  CHECK(none.slo_met == 0);
  CHECK(none.goodput_requests_per_s == 0);
  // An unfinished request misses every SLO, and counts in the attainment's denominator.
  ServeResult unfinished = r;
  unfinished.requests[1].completion_s = -1;
  CHECK(summarize(unfinished, {10, 0}).slo_attainment_percent == Approx(200.0 / 3));
}

TEST_CASE("serve summary: batch, tokens per step, KV use, prefix hits, drafts and energy", "[serve][metrics]") {
  const ServeSummary s = summarize(small_run());
  CHECK(s.steps == 4);
  // Batches 1, 2, 1, 1: p90 at rank 2.7 of (1, 1, 1, 2) is 1 + 0.7.
  CHECK(s.batch_size.mean == Approx(1.25));
  CHECK(s.batch_size.p50 == Approx(1));
  CHECK(s.batch_size.p90 == Approx(1.7));
  CHECK(s.batch_size.max == Approx(2));
  CHECK(s.mean_running_per_step == Approx(1.25));
  // Tokens 10, 21, 10, 1.
  CHECK(s.tokens_per_step.mean == Approx(10.5));
  CHECK(s.tokens_per_step.p50 == Approx(10));
  CHECK(s.tokens_per_step.max == Approx(21));
  CHECK(s.mean_tokens_per_step == Approx(10.5));
  // Blocks 2, 3, 1, 0 for 1 s each over 4 s; the peak 3 of 4.
  CHECK(s.kv_used_blocks_mean == Approx(1.5));
  CHECK(s.kv_used_blocks_max == 3);
  CHECK(s.kv_peak_share == Approx(0.75));
  // 10 hit tokens of 40 prompt tokens.
  CHECK(s.prefix_hit_tokens == 10);
  CHECK(s.prefix_hit_ratio == Approx(0.25));
  // 2 of 4 drafts; 2 verify steps emitted 2 accepted + 2 own tokens.
  CHECK(s.draft_acceptance_rate == Approx(0.5));
  CHECK(s.tokens_per_verify_step == Approx(2.0));
  // 4.5 J for 6 output tokens over 4 s.
  CHECK(s.energy_j == Approx(4.5));
  CHECK(s.output_tokens_per_j == Approx(6 / 4.5));
  CHECK(s.mean_power_w == Approx(1.125));
}

TEST_CASE("serve summary: KV use is time-weighted and averaged over replicas, and no energy gives no figures",
          "[serve][metrics]") {
  ServeResult r = small_run();
  // A long step holding 3 blocks weighs more than a short one holding 1; idle time counts as 0.
  r.steps = {step(0, 3, 1, 10, 0, 3, 0), step(3, 3.5, 1, 1, 1, 1, 0)};
  r.duration_s = 4.0;
  ServeSummary s = summarize(r);
  CHECK(s.kv_used_blocks_mean == Approx((3 * 3 + 1 * 0.5) / 4.0));
  CHECK(s.energy_j == 0);
  CHECK(s.output_tokens_per_j == 0);
  CHECK(s.mean_power_w == 0);
  // Two replicas: the same block-seconds spread over both.
  r.replicas = 2;
  s = summarize(r);
  CHECK(s.kv_used_blocks_mean == Approx((3 * 3 + 1 * 0.5) / 8.0));
}

TEST_CASE("serve summary JSON and text show every figure", "[serve][metrics]") {
  const ServeSummary s = summarize(small_run(), {1.5, 0.6});
  JsonWriter j;
  j.begin_object();
  summary_json(j, s);
  j.end_object();
  const YAML::Node n = YAML::Load(j.str());
  for (const char* key : {"completed", "preemptions", "duration_seconds", "output_tokens_per_second",
                          "requests_per_second", "steps", "kv_blocks", "prefix_hit_tokens", "prefix_hit_ratio",
                          "energy_joules", "output_tokens_per_joule"}) {
    INFO(key);
    CHECK(n[key].IsScalar());
  }
  for (const char* key : {"ttft_seconds", "tpot_seconds", "itl_seconds", "e2e_seconds", "batch_size",
                          "tokens_per_step"}) {
    INFO(key);
    for (const char* stat : {"mean", "p50", "p90", "p99", "max"}) CHECK(n[key][stat].IsScalar());
  }
  CHECK(n["completed"].as<int>() == 3);
  CHECK(n["slo"]["attainment_percent"].as<double>() == Approx(200.0 / 3));
  CHECK(n["slo"]["goodput_requests_per_second"].as<double>() == Approx(0.5));
  CHECK(n["slo"]["ttft_seconds"].as<double>() == 1.5);
  CHECK(n["kv_blocks_used"]["mean"].as<double>() == Approx(1.5));
  CHECK(n["kv_blocks_used"]["max"].as<int>() == 3);
  CHECK(n["kv_blocks_used"]["peak_share"].as<double>() == Approx(0.75));
  CHECK(n["speculative"]["acceptance_rate"].as<double>() == Approx(0.5));
  CHECK(n["speculative"]["tokens_per_verify_step"].as<double>() == Approx(2.0));
  CHECK(n["mean_power_watts"].as<double>() == Approx(1.125));

  const std::string text = summary_text(s);
  CHECK_THAT(text, Catch::Contains("completed        3 of 3 in 4.000 s; 1 preemptions"));
  CHECK_THAT(text, Catch::Contains("goodput          0.50 requests/s; 66.7% of requests meet TTFT <= 1.5 s, TPOT <= 0.6 s"));
  CHECK_THAT(text, Catch::Contains("KV blocks used   mean 1.5, max 3 of 4 (75.0% peak)"));
  CHECK_THAT(text, Catch::Contains("prefix cache     10 hit tokens (25.0% of prompt tokens)"));
  CHECK_THAT(text, Catch::Contains("speculative      2 of 4 drafts accepted (50.0%), 2.00 tokens per verify step"));
  CHECK_THAT(text, Catch::Contains("energy           4.500 J, 1.3 output tokens/J, 1.1 W mean"));
  // Without SLOs, drafts or energy their lines and keys are left out.
  ServeResult plain = small_run();
  plain.requests[0].drafts_proposed = plain.requests[0].drafts_accepted = plain.requests[0].verify_steps = 0;
  for (StepRecord& st : plain.steps) st.energy_j = 0;
  const ServeSummary p = summarize(plain);
  const std::string ptext = summary_text(p);
  CHECK_THAT(ptext, !Catch::Contains("goodput") && !Catch::Contains("speculative") && !Catch::Contains("energy"));
  JsonWriter pj;
  pj.begin_object();
  summary_json(pj, p);
  pj.end_object();
  const YAML::Node pn = YAML::Load(pj.str());
  CHECK_FALSE(pn["slo"]);
  CHECK_FALSE(pn["speculative"]);
  CHECK_FALSE(pn["energy_joules"]);
}

TEST_CASE("serve requests CSV and JSONL: a row and a line per request", "[serve][report]") {
  ServeResult r = small_run();
  r.requests[2].replica = 1;
  r.requests[2].prefill_replica = 0;  // disaggregated: prefilled on 0, its KV sent to 1 in 0.25 s
  r.requests[2].kv_transfer_s = 0.25;
  const std::vector<std::string> csv = lines(requests_csv(r));
  REQUIRE(csv.size() == 4);
  CHECK(csv[0] ==
        "id,arrival_s,first_scheduled_s,first_token_s,completion_s,prompt_tokens,output_tokens,ttft_s,tpot_s,e2e_s,"
        "preemptions,prefix_hit_tokens,replica,drafts_proposed,drafts_accepted,prefill_replica,kv_transfer_s");
  CHECK(csv[1] == "0,0,0,1,2,10,3,1,0.5,2,0,4,0,4,2,-1,0");
  CHECK(csv[3] == "2,1,2,3,4,10,2,2,1,3,1,6,1,0,0,0,0.25");

  const std::vector<std::string> jsonl = lines(requests_jsonl(r));
  REQUIRE(jsonl.size() == 3);
  for (std::size_t i = 0; i < jsonl.size(); ++i) {
    INFO(jsonl[i]);
    const YAML::Node n = YAML::Load(jsonl[i]);
    const RequestRecord& rec = r.requests[i];
    CHECK(n["id"].as<int>() == rec.request.id);
    CHECK(n["replica"].as<int>() == rec.replica);
    CHECK(n["prefill_replica"].as<int>() == rec.prefill_replica);
    CHECK(n["kv_transfer_s"].as<double>() == rec.kv_transfer_s);
    CHECK(n["arrival_s"].as<double>() == rec.request.arrival_s);
    CHECK(n["first_scheduled_s"].as<double>() == rec.first_scheduled_s);
    CHECK(n["first_token_s"].as<double>() == rec.first_token_s);
    CHECK(n["completion_s"].as<double>() == rec.completion_s);
    CHECK(n["ttft_s"].as<double>() == rec.ttft_s());
    CHECK(n["tpot_s"].as<double>() == rec.tpot_s());
    REQUIRE(n["itl_s"].size() == rec.token_s.size() - 1);
    for (std::size_t g = 0; g + 1 < rec.token_s.size(); ++g) {
      CHECK(n["itl_s"][g].as<double>() == rec.token_s[g + 1] - rec.token_s[g]);
    }
    CHECK(n["preemptions"].as<int>() == rec.preemptions);
    CHECK(n["recomputed_tokens"].as<long long>() == rec.recomputed_tokens);
    CHECK(n["prefix_hit_tokens"].as<long long>() == rec.prefix_hit_tokens);
    CHECK(n["drafts_proposed"].as<long long>() == rec.drafts_proposed);
    CHECK(n["drafts_accepted"].as<long long>() == rec.drafts_accepted);
  }
  CHECK(jsonl[1].find("\"itl_s\":[]") != std::string::npos);
}

namespace {

// The small run on two replicas: request 3 and two steps on replica 1.
ServeResult two_replica_run() {
  ServeResult r = small_run();
  r.requests.push_back(record(3, 2.0, 5, 2, 2.5, {3.0, 3.5}));
  r.requests[3].replica = 1;
  StepRecord a = step(2.5, 3, 1, 5, 0, 1, 0), b = step(3, 3.5, 1, 1, 1, 0, 0);
  a.replica = b.replica = 1;
  r.steps.push_back(a);
  r.steps.push_back(b);
  r.replicas = 2;
  return r;
}

struct Slice {
  double begin_us, end_us;
  std::string name;
};

// The Chrome JSON trace by track: slices per (pid, thread name), counter values per (pid, name).
struct ParsedTrace {
  std::map<std::pair<int, std::string>, std::vector<Slice>> slices;
  std::map<std::pair<int, std::string>, std::vector<double>> counters;
  std::map<int, std::string> processes;
};

ParsedTrace parse_chrome_trace(const std::string& path) {
  const YAML::Node events = YAML::LoadFile(path)["traceEvents"];
  ParsedTrace t;
  std::map<std::pair<int, int>, std::string> thread_names;
  for (const YAML::Node& e : events) {
    if (e["ph"].as<std::string>() != "M") continue;
    if (e["name"].as<std::string>() == "thread_name") {
      thread_names[{e["pid"].as<int>(), e["tid"].as<int>()}] = e["args"]["name"].as<std::string>();
    } else if (e["name"].as<std::string>() == "process_name") {
      t.processes[e["pid"].as<int>()] = e["args"]["name"].as<std::string>();
    }
  }
  for (const YAML::Node& e : events) {
    const std::string ph = e["ph"].as<std::string>();
    const int pid = e["pid"].as<int>();
    if (ph == "B") {
      const auto key = std::make_pair(pid, thread_names.at({pid, e["tid"].as<int>()}));
      t.slices[key].push_back({e["ts"].as<double>(), -1, e["name"].as<std::string>()});
    } else if (ph == "E") {
      const auto key = std::make_pair(pid, thread_names.at({pid, e["tid"].as<int>()}));
      REQUIRE(!t.slices[key].empty());
      REQUIRE(t.slices[key].back().end_us < 0);
      t.slices[key].back().end_us = e["ts"].as<double>();
    } else if (ph == "C") {
      for (const auto& kv : e["args"]) t.counters[{pid, e["name"].as<std::string>()}].push_back(kv.second.as<double>());
    }
  }
  return t;
}

}  // namespace

TEST_CASE("serve trace: a process per replica, its steps, counters and requests on lanes that never overlap",
          "[serve][trace]") {
  const ServeResult r = two_replica_run();
  // Replica 0: request 0 takes lane 0 at t = 0, 1 lane 1 at 0.5, 2 lane 2 at 1 (both still busy);
  // replica 1: request 3 its lane 0.
  CHECK(request_lanes(r) == std::vector<int>{0, 1, 2, 0});

  const std::string path = temp_path("serve_trace.json");
  {
    const auto w = trace::open_trace(path, trace::Format::json);
    write_serve_trace(r, *w);
    w->close();
  }
  const ParsedTrace t = parse_chrome_trace(path);
  CHECK(t.processes == std::map<int, std::string>{{1, "replica 0"}, {2, "replica 1"}});
  CHECK(t.slices.at({1, "steps"}).size() == 4);
  CHECK(t.slices.at({2, "steps"}).size() == 2);
  CHECK(t.slices.at({1, "steps"})[1].name == "mixed");  // 20 prefill tokens and a decode
  CHECK(t.slices.at({1, "steps"})[0].name == "prefill");
  CHECK(t.slices.at({1, "steps"})[3].name == "decode");
  // Request 0: prefill, decode (queued lasted 0 s); 1: queued, prefill (one output: no decode);
  // 2: queued, prefill, decode; 3: queued, prefill, decode.
  CHECK(t.slices.at({1, "requests 0"}).size() == 2);
  CHECK(t.slices.at({1, "requests 1"}).size() == 2);
  CHECK(t.slices.at({1, "requests 2"}).size() == 3);
  CHECK(t.slices.at({2, "requests 0"}).size() == 3);
  CHECK(t.slices.count({1, "requests 3"}) == 0);
  const std::vector<Slice>& r2 = t.slices.at({1, "requests 2"});
  CHECK(r2[0].name == "queued");
  CHECK(r2[0].begin_us == 1e6);
  CHECK(r2[0].end_us == 2e6);
  CHECK(r2[2].name == "decode");
  CHECK(r2[2].end_us == 4e6);
  for (const auto& [track, slices] : t.slices) {
    INFO("pid " << track.first << " " << track.second);
    for (std::size_t i = 0; i < slices.size(); ++i) {
      CHECK(slices[i].end_us > slices[i].begin_us);
      if (i > 0) CHECK(slices[i].begin_us >= slices[i - 1].end_us);
    }
  }
  // Counters: KV blocks after each step; the queue and batch at each step's start and 0 after the last.
  CHECK(t.counters.at({1, "kv_blocks_used"}) == std::vector<double>{2, 3, 1, 0});
  CHECK(t.counters.at({1, "running"}) == std::vector<double>{1, 2, 1, 1, 0});
  CHECK(t.counters.at({1, "tokens_per_step"}) == std::vector<double>{10, 21, 10, 1, 0});
  CHECK(t.counters.at({2, "waiting"}).size() == 3);
}

TEST_CASE("serve trace: the same run gives the same bytes, in either format", "[serve][trace]") {
  const ServeResult r = two_replica_run();
  for (const trace::Format format : {trace::Format::perfetto, trace::Format::json}) {
    std::string bytes[2];
    for (int i = 0; i < 2; ++i) {
      const std::string path = temp_path(std::string("same_") + trace::format_name(format) + std::to_string(i));
      const auto w = trace::open_trace(path, format);
      write_serve_trace(r, *w);
      w->close();
      bytes[i] = read_file(path);
    }
    CHECK(!bytes[0].empty());
    CHECK(bytes[0] == bytes[1]);
  }
}

TEST_CASE("serve trace: a run of the engine lays every request on a lane", "[serve][trace]") {
  // Ten requests arriving together, then one long after: lanes 0..9, and lane 0 again.
  std::vector<Request> requests;
  for (int i = 0; i < 11; ++i) {
    Request q;
    q.id = i;
    q.arrival_s = i < 10 ? 0.0 : 100.0;
    q.prompt_tokens = 64;
    q.output_tokens = 4;
    requests.push_back(q);
  }
  SchedulerConfig config;
  config.max_num_batched_tokens = 256;
  const ServeResult r = run_serving(requests, config, KvBlockManager(1000, 16),
                                    [](const StepShape& s) { return 0.01 + 1e-4 * static_cast<double>(s.tokens()); });
  const std::vector<int> lanes = request_lanes(r);
  for (int i = 0; i < 10; ++i) CHECK(lanes[static_cast<std::size_t>(i)] == i);
  CHECK(lanes[10] == 0);
  // With 4 lanes at most, requests 4 to 9 find them busy and are left out; 10 gets lane 0.
  const std::vector<int> capped = request_lanes(r, 4);
  CHECK(capped == std::vector<int>{0, 1, 2, 3, -1, -1, -1, -1, -1, -1, 0});
  const auto w = trace::open_trace(temp_path("capped.json"), trace::Format::json);
  CHECK(write_serve_trace(r, *w, 4) == 6);
  w->close();
}

TEST_CASE("serve progress follows the engine's clock, outputs and work from the step shapes", "[serve][progress]") {
  // Idle gaps (a request every 2 s) and preemptions (a cache of 12 blocks for 4 x 96-token
  // requests arriving together).
  std::vector<Request> requests;
  for (int i = 0; i < 8; ++i) {
    Request q;
    q.id = i;
    q.arrival_s = i < 4 ? 0.0 : 2.0 * i;
    q.prompt_tokens = 40 + 7 * i;
    q.output_tokens = 40;
    requests.push_back(q);
  }
  SchedulerConfig config;
  config.max_num_batched_tokens = 64;
  StepProgress progress(requests);
  const ServeResult r = run_serving(requests, config, KvBlockManager(12, 16), [&](const StepShape& s) {
    const double t = 0.001 + 1e-5 * static_cast<double>(s.tokens());
    progress.on_step(s, t);
    return t;
  });
  REQUIRE(r.preemptions > 0);
  CHECK(progress.steps() == static_cast<long long>(r.steps.size()));
  CHECK(progress.completed() == 8);
  CHECK(progress.simulated_s() == Approx(r.duration_s).margin(1e-9));
  CHECK(progress.fraction_done() == 1.0);
  CHECK_THAT(progress_line(progress, 3.0), Catch::Contains("100% | step ") && Catch::Contains("8/8 requests") &&
                                               Catch::Contains("ETA 0:00"));
  // 20 of request 0's 40 + 40 - 1 tokens in 25.3 s of wall clock: 59 x 25.3 / 20 = 75 s to go.
  StepProgress half({requests[0]});
  StepShape shape;
  shape.seqs.push_back({0, 20, 0, false});
  half.on_step(shape, 0.5);
  CHECK(half.fraction_done() == Approx(20.0 / 79));
  CHECK(half.completed() == 0);
  CHECK(half.simulated_s() == Approx(0.5));
  CHECK_THAT(progress_line(half, 20.0 / 79 * 100), Catch::Contains("ETA 1:15") && Catch::Contains("0/1 requests"));
  // A second replica keeps its own clock; the run's is the furthest.
  StepProgress two({requests[0], requests[4]});
  StepShape first, second;
  first.seqs.push_back({0, 40, 0, false});
  second.seqs.push_back({1, 68, 0, false});
  two.on_step(first, 0.5, 0);   // replica 0: 0 to 0.5
  two.on_step(second, 0.25, 1);  // replica 1: idle until request 1 arrives at 8, to 8.25
  CHECK(two.simulated_s() == Approx(8.25));
  CHECK(two.completed() == 0);  // each has its first token of 40
}
