// The Power counters of a Perfetto trace, integrated: what tests compare with a report's energy.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include "cli_util.h"
#include "perfetto_subset.pb.h"

namespace tasim::testing {

// The energy under every chip's Power counter (piecewise constant between samples), and the
// largest sample.
struct PowerTrace {
  int tracks = 0;
  double joules = 0.0;
  double peak_w = 0.0;
  double min_w = 1e300;  // over samples while the run lasts
  bool ends_at_zero = true;
};

inline PowerTrace integrate_power(const std::string& trace_path) {
  perfetto::protos::Trace trace;
  REQUIRE(trace.ParseFromString(read_file(trace_path)));
  std::map<std::uint64_t, std::vector<std::pair<std::uint64_t, double>>> samples;  // track -> (ns, W)
  for (const auto& p : trace.packet()) {
    if (p.has_track_descriptor() && p.track_descriptor().name() == "Power") samples[p.track_descriptor().uuid()];
    if (p.has_track_event() && samples.count(p.track_event().track_uuid())) {
      samples[p.track_event().track_uuid()].emplace_back(p.timestamp(), p.track_event().double_counter_value());
    }
  }
  PowerTrace out;
  for (const auto& [track, s] : samples) {
    ++out.tracks;
    REQUIRE(s.size() >= 2);
    for (std::size_t i = 0; i + 1 < s.size(); ++i) {
      out.joules += s[i].second * static_cast<double>(s[i + 1].first - s[i].first) * 1e-9;
      out.peak_w = std::max(out.peak_w, s[i].second);
      out.min_w = std::min(out.min_w, s[i].second);
    }
    out.ends_at_zero = out.ends_at_zero && s.back().second == 0.0;  // idle after the run
  }
  return out;
}

}  // namespace tasim::testing
