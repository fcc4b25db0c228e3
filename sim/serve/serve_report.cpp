#include "sim/serve/serve_report.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>

namespace tasim::serve {

void distribution_json(JsonWriter& j, const char* key, const Distribution& d) {
  j.begin_object(key);
  j.value("mean", d.mean);
  j.value("p50", d.p50);
  j.value("p90", d.p90);
  j.value("p99", d.p99);
  j.value("max", d.max);
  j.end_object();
}

namespace {

std::int64_t i64(long long v) { return static_cast<std::int64_t>(v); }

// A number for a JSON line: shortest round trip, null for a non-finite one (as JsonWriter does).
std::string json_number(double v) { return std::isfinite(v) ? fmt::format("{}", v) : std::string("null"); }

}  // namespace

void summary_json(JsonWriter& j, const ServeSummary& s) {
  j.value("completed", s.completed);
  j.value("preemptions", s.preemptions);
  j.value("duration_seconds", s.duration_s);
  j.value("requests_per_second", s.requests_per_s);
  j.value("input_tokens_per_second", s.input_tokens_per_s);
  j.value("output_tokens_per_second", s.output_tokens_per_s);
  distribution_json(j, "ttft_seconds", s.ttft_s);
  distribution_json(j, "tpot_seconds", s.tpot_s);
  distribution_json(j, "itl_seconds", s.itl_s);
  distribution_json(j, "e2e_seconds", s.e2e_s);
  if (s.slo.any()) {
    j.begin_object("slo");
    if (s.slo.ttft_s > 0) j.value("ttft_seconds", s.slo.ttft_s);
    if (s.slo.tpot_s > 0) j.value("tpot_seconds", s.slo.tpot_s);
    j.value("met", s.slo_met);
    j.value("attainment_percent", s.slo_attainment_percent);
    j.value("goodput_requests_per_second", s.goodput_requests_per_s);
    j.end_object();
  }
  j.value("steps", s.steps);
  j.value("mean_tokens_per_step", s.mean_tokens_per_step);
  j.value("mean_running_per_step", s.mean_running_per_step);
  distribution_json(j, "batch_size", s.batch_size);
  distribution_json(j, "tokens_per_step", s.tokens_per_step);
  j.value("kv_blocks", s.total_blocks);
  j.begin_object("kv_blocks_used");
  j.value("mean", s.kv_used_blocks_mean);
  j.value("max", s.kv_used_blocks_max);
  j.value("peak_share", s.kv_peak_share);
  j.end_object();
  j.value("prefix_hit_tokens", i64(s.prefix_hit_tokens));
  j.value("prefix_hit_ratio", s.prefix_hit_ratio);
  if (s.drafts_proposed > 0) {
    j.begin_object("speculative");
    j.value("drafts_proposed", i64(s.drafts_proposed));
    j.value("drafts_accepted", i64(s.drafts_accepted));
    j.value("verify_steps", i64(s.verify_steps));
    j.value("acceptance_rate", s.draft_acceptance_rate);
    j.value("tokens_per_verify_step", s.tokens_per_verify_step);
    j.end_object();
  }
  if (s.energy_j > 0) {
    j.value("energy_joules", s.energy_j);
    j.value("output_tokens_per_joule", s.output_tokens_per_j);
    j.value("mean_power_watts", s.mean_power_w);
  }
}

std::string summary_text(const ServeSummary& s) {
  std::string t = fmt::format(
      "  completed        {} of {} in {:.3f} s; {} preemptions\n"
      "  throughput       {:.2f} requests/s, {:.1f} output tokens/s\n"
      "  TTFT             mean {:.4f} s, p50 {:.4f}, p90 {:.4f}, p99 {:.4f}\n"
      "  TPOT             mean {:.5f} s, p50 {:.5f}, p90 {:.5f}, p99 {:.5f}\n"
      "  ITL              mean {:.5f} s, p50 {:.5f}, p90 {:.5f}, p99 {:.5f}\n",
      s.completed, s.requests, s.duration_s, s.preemptions, s.requests_per_s, s.output_tokens_per_s, s.ttft_s.mean,
      s.ttft_s.p50, s.ttft_s.p90, s.ttft_s.p99, s.tpot_s.mean, s.tpot_s.p50, s.tpot_s.p90, s.tpot_s.p99,
      s.itl_s.mean, s.itl_s.p50, s.itl_s.p90, s.itl_s.p99);
  if (s.slo.any()) {
    std::string targets;
    if (s.slo.ttft_s > 0) targets += fmt::format("TTFT <= {} s", s.slo.ttft_s);
    if (s.slo.tpot_s > 0) targets += fmt::format("{}TPOT <= {} s", targets.empty() ? "" : ", ", s.slo.tpot_s);
    t += fmt::format("  goodput          {:.2f} requests/s; {:.1f}% of requests meet {}\n", s.goodput_requests_per_s,
                     s.slo_attainment_percent, targets);
  }
  t += fmt::format(
      "  steps            {}; batch mean {:.1f}, p50 {:.0f}, p99 {:.0f}, max {:.0f}; tokens/step mean {:.1f}, "
      "p50 {:.0f}, p99 {:.0f}, max {:.0f}\n"
      "  KV blocks used   mean {:.1f}, max {} of {} ({:.1f}% peak)\n"
      "  prefix cache     {} hit tokens ({:.1f}% of prompt tokens)\n",
      s.steps, s.batch_size.mean, s.batch_size.p50, s.batch_size.p99, s.batch_size.max, s.tokens_per_step.mean,
      s.tokens_per_step.p50, s.tokens_per_step.p99, s.tokens_per_step.max, s.kv_used_blocks_mean,
      s.kv_used_blocks_max, s.total_blocks, 100 * s.kv_peak_share, s.prefix_hit_tokens, 100 * s.prefix_hit_ratio);
  if (s.drafts_proposed > 0) {
    t += fmt::format("  speculative      {} of {} drafts accepted ({:.1f}%), {:.2f} tokens per verify step\n",
                     s.drafts_accepted, s.drafts_proposed, 100 * s.draft_acceptance_rate, s.tokens_per_verify_step);
  }
  if (s.energy_j > 0) {
    t += fmt::format("  energy           {:.3f} J, {:.1f} output tokens/J, {:.1f} W mean\n", s.energy_j,
                     s.output_tokens_per_j, s.mean_power_w);
  }
  return t;
}

std::string requests_csv(const ServeResult& result) {
  std::string csv =
      "id,arrival_s,first_scheduled_s,first_token_s,completion_s,prompt_tokens,output_tokens,ttft_s,tpot_s,e2e_s,"
      "preemptions,prefix_hit_tokens,replica,drafts_proposed,drafts_accepted,prefill_replica,kv_transfer_s\n";
  for (const RequestRecord& r : result.requests) {
    csv += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", r.request.id, r.request.arrival_s,
                       r.first_scheduled_s, r.first_token_s, r.completion_s, r.request.prompt_tokens,
                       r.request.output_tokens, r.ttft_s(), r.tpot_s(), r.e2e_s(), r.preemptions, r.prefix_hit_tokens,
                       r.replica, r.drafts_proposed, r.drafts_accepted, r.prefill_replica, r.kv_transfer_s);
  }
  return csv;
}

std::string requests_jsonl(const ServeResult& result) {
  std::string out;
  for (const RequestRecord& r : result.requests) {
    std::string gaps;
    for (std::size_t i = 1; i < r.token_s.size(); ++i) {
      if (i > 1) gaps += ',';
      gaps += json_number(r.token_s[i] - r.token_s[i - 1]);
    }
    out += fmt::format(
        "{{\"id\":{},\"replica\":{},\"arrival_s\":{},\"first_scheduled_s\":{},\"first_token_s\":{},"
        "\"completion_s\":{},\"prompt_tokens\":{},\"output_tokens\":{},\"ttft_s\":{},\"tpot_s\":{},\"e2e_s\":{},"
        "\"itl_s\":[{}],\"preemptions\":{},\"recomputed_tokens\":{},\"prefix_hit_tokens\":{},"
        "\"drafts_proposed\":{},\"drafts_accepted\":{},\"prefill_replica\":{},\"kv_transfer_s\":{}}}\n",
        r.request.id, r.replica, json_number(r.request.arrival_s), json_number(r.first_scheduled_s),
        json_number(r.first_token_s), json_number(r.completion_s), r.request.prompt_tokens, r.request.output_tokens,
        json_number(r.ttft_s()), json_number(r.tpot_s()), json_number(r.e2e_s()), gaps, r.preemptions,
        r.recomputed_tokens, r.prefix_hit_tokens, r.drafts_proposed, r.drafts_accepted, r.prefill_replica,
        json_number(r.kv_transfer_s));
  }
  return out;
}

}  // namespace tasim::serve
