// Round trip of both trace formats: a recorder notes every call a sample "simulation" makes,
// the trace file is decoded independently (libprotobuf with our proto subset for Perfetto,
// yaml-cpp for Chrome JSON), and the decoded events must equal the recorded calls; on top of
// that the structural rules viewers rely on are checked.
#include <catch2/catch.hpp>
#include <yaml-cpp/yaml.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>

#include "common/error.h"
#include "perfetto_subset.pb.h"
#include "sim/trace/trace_writer.h"

namespace fs = std::filesystem;
using namespace tasim::trace;

namespace {

std::string temp_path(const std::string& name) {
  fs::path dir = fs::path(TASIM_BINARY_DIR) / "test_tmp" / "trace";
  fs::create_directories(dir);
  // A file left by an earlier run must not stand in for one this run failed to write.
  std::error_code ignored;
  fs::remove(dir / name, ignored);
  return (dir / name).string();
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string render_double(double v) {
  std::uint64_t bits;
  std::memcpy(&bits, &v, sizeof bits);
  return "d:" + std::to_string(bits);
}

// One event as both the recorder and the decoders see it. Tracks are named by path
// ("chip0/mxu"), args rendered as typed strings.
struct Event {
  std::string track;
  char type;  // B, E, I (instant), C (counter)
  std::uint64_t ts_ns;
  std::string name;
  std::vector<std::pair<std::string, std::string>> args;
  std::string value;  // counters
  std::optional<std::uint64_t> flow;
  bool terminating = false;

  bool operator==(const Event& o) const {
    return track == o.track && type == o.type && ts_ns == o.ts_ns && name == o.name &&
           args == o.args && value == o.value && flow == o.flow && terminating == o.terminating;
  }
};

std::ostream& operator<<(std::ostream& os, const Event& e) {
  os << e.track << ' ' << e.type << ' ' << e.ts_ns << " '" << e.name << "'";
  for (auto& [k, v] : e.args) os << ' ' << k << '=' << v;
  if (!e.value.empty()) os << " value=" << e.value;
  if (e.flow) os << " flow=" << *e.flow << (e.terminating ? " (end)" : "");
  return os;
}

struct TrackDesc {
  std::string kind;  // process, thread, counter
  std::string path;
  std::string unit;
};

// Forwards to a real writer and remembers what was asked, as the expected decode.
class Recorder final : public TraceWriter {
 public:
  explicit Recorder(TraceWriter& inner) : inner_(inner) {}

  TrackId add_process(int pid, const std::string& name) override {
    return remember(inner_.add_process(pid, name), {"process", name, ""});
  }
  TrackId add_thread(TrackId process, const std::string& name) override {
    return remember(inner_.add_thread(process, name),
                    {"thread", tracks.at(process).path + "/" + name, ""});
  }
  TrackId add_counter(TrackId parent, const std::string& name,
                      const std::string& unit) override {
    return remember(inner_.add_counter(parent, name, unit),
                    {"counter", tracks.at(parent).path + "/" + name, unit});
  }
  void begin(TrackId track, std::uint64_t ts, std::string_view name, const Arg* args,
             std::size_t n) override {
    inner_.begin(track, ts, name, args, n);
    events.push_back(slice(track, ts, name, args, n));
  }
  void begin_with_flow(TrackId track, std::uint64_t ts, std::string_view name,
                       std::uint64_t flow, bool terminating, const Arg* args,
                       std::size_t n) override {
    inner_.begin_with_flow(track, ts, name, flow, terminating, args, n);
    Event e = slice(track, ts, name, args, n);
    e.flow = flow;
    e.terminating = terminating;
    events.push_back(e);
  }
  void end(TrackId track, std::uint64_t ts) override {
    inner_.end(track, ts);
    events.push_back({tracks.at(track).path, 'E', ts, "", {}, "", {}, false});
  }
  void counter(TrackId track, std::uint64_t ts, double value) override {
    inner_.counter(track, ts, value);
    events.push_back({tracks.at(track).path, 'C', ts, "", {}, render_double(value), {}, false});
  }
  void instant(TrackId track, std::uint64_t ts, std::string_view name) override {
    inner_.instant(track, ts, name);
    events.push_back({tracks.at(track).path, 'I', ts, std::string(name), {}, "", {}, false});
  }
  void close() override { inner_.close(); }
  std::uint64_t bytes_written() const override { return inner_.bytes_written(); }

  std::map<TrackId, TrackDesc> tracks;
  std::vector<Event> events;

 private:
  TrackId remember(TrackId id, TrackDesc d) {
    tracks[id] = d;
    return id;
  }
  Event slice(TrackId track, std::uint64_t ts, std::string_view name, const Arg* args,
              std::size_t n) {
    Event e{tracks.at(track).path, 'B', ts, std::string(name), {}, "", {}, false};
    for (std::size_t i = 0; i < n; ++i) {
      const Arg& a = args[i];
      std::string v = a.is_string   ? "s:" + std::string(a.string_value)
                      : a.is_double ? render_double(a.double_value)
                                    : "i:" + std::to_string(a.int_value);
      e.args.emplace_back(std::string(a.name), v);
    }
    return e;
  }
  TraceWriter& inner_;
};

const std::string kOddName = "q\"uote \\back\nline\ttab \x01\x1f ctl \xc3\xbcnicode /slash";

// A small "simulation": two chips, units with nested slices and args, counters, instants,
// flows across chips, names shared between units, and a name that needs escaping.
void write_sample(TraceWriter& w) {
  TrackId chip0 = w.add_process(1, "chip0");
  TrackId mxu = w.add_thread(chip0, "mxu");
  TrackId dma = w.add_thread(chip0, "dma");
  TrackId hbm = w.add_counter(chip0, "hbm_bw", "GB/s");
  TrackId chip1 = w.add_process(2, "chip1");
  TrackId rx = w.add_thread(chip1, "link_rx");
  TrackId queue = w.add_counter(mxu, "queue_depth", "");

  const Arg mm[] = {Arg::integer("m", 128), Arg::string("dtype", "bf16"),
                    Arg::real("util", 0.875), Arg{"k", -5}};
  const Arg big[] = {Arg::integer("bytes", std::int64_t{1} << 40), Arg::string("dtype", "fp8"),
                     Arg::string("note", kOddName)};

  w.begin(chip0, 0, "step");
  w.counter(hbm, 0, 0.0);
  w.begin(mxu, 0, "layer0");
  w.begin(mxu, 10, "matmul", mm, 4);
  w.counter(queue, 10, 3);
  w.begin_with_flow(dma, 20, "send", 7, false, big, 3);
  w.counter(hbm, 50, 1234.5678);
  w.end(dma, 60);
  w.begin_with_flow(rx, 60, "recv", 7, true, nullptr, 0);
  w.end(rx, 90);
  w.end(mxu, 110);
  w.begin(mxu, 110, "matmul", mm, 2);  // names already interned on this sequence
  w.instant(mxu, 150, "barrier");
  w.instant(chip0, 150, "checkpoint");
  w.end(mxu, 200);
  w.end(mxu, 200);
  w.begin(dma, 200, "matmul", mm + 1, 1);  // interned on another sequence: sent again here
  w.begin(dma, 200, kOddName);
  w.end(dma, 200);
  w.end(dma, 250);
  // A three-step flow: dma -> link_rx -> mxu.
  w.begin_with_flow(dma, 300, "send", 9, false, nullptr, 0);
  w.begin_with_flow(rx, 340, "forward", 9, false, nullptr, 0);
  w.begin_with_flow(mxu, 380, "consume", 9, true, nullptr, 0);
  w.end(dma, 390);
  w.end(rx, 390);
  w.end(mxu, 1000001);
  w.counter(hbm, 1000001, -3.25);
  w.counter(queue, 1000001, 1e300);
  w.counter(queue, 1000001, 1.0 / 3.0);
  w.begin(rx, 123456789012, "late");
  w.end(rx, 123456789013);
  w.end(chip0, 123456789013);
}

struct SequenceState {
  std::map<std::uint64_t, std::string> event_names;
  std::map<std::uint64_t, std::string> annotation_names;
  std::uint64_t track = 0;  // the track this sequence carries
};

struct DecodedPerfetto {
  std::map<std::uint64_t, TrackDesc> tracks;  // by uuid
  std::vector<Event> events;
  std::size_t packets = 0;
};

// Decodes a .pftrace, checking the sequence and interning rules as it goes.
DecodedPerfetto decode_perfetto(const std::string& bytes) {
  perfetto::protos::Trace trace;
  REQUIRE(trace.ParseFromString(bytes));
  DecodedPerfetto out;
  out.packets = static_cast<std::size_t>(trace.packet_size());
  std::map<std::uint32_t, SequenceState> sequences;
  std::map<std::uint64_t, int> pids;  // process uuid -> pid
  std::set<std::int64_t> tids;
  for (const auto& packet : trace.packet()) {
    REQUIRE(packet.has_trusted_packet_sequence_id());
    std::uint32_t seq_id = packet.trusted_packet_sequence_id();
    REQUIRE(seq_id != 0);
    bool first = sequences.count(seq_id) == 0;
    SequenceState& seq = sequences[seq_id];
    if (first) {
      CHECK(packet.sequence_flags() == 1);  // SEQ_INCREMENTAL_STATE_CLEARED
      // The first packet of a sequence describes its track.
      REQUIRE(packet.has_track_descriptor());
      seq.track = packet.track_descriptor().uuid();
    } else {
      CHECK(packet.sequence_flags() == 2);  // SEQ_NEEDS_INCREMENTAL_STATE
      CHECK_FALSE(packet.has_track_descriptor());
    }
    CHECK(packet.has_track_descriptor() != packet.has_track_event());

    if (packet.has_track_descriptor()) {
      const auto& d = packet.track_descriptor();
      REQUIRE(d.uuid() != 0);
      REQUIRE(out.tracks.count(d.uuid()) == 0);
      TrackDesc desc;
      if (d.has_process()) {
        desc = {"process", d.process().process_name(), ""};
        CHECK(d.process().pid() >= 1);
        pids[d.uuid()] = d.process().pid();
      } else if (d.has_thread()) {
        REQUIRE(out.tracks.count(d.parent_uuid()) == 1);
        const TrackDesc& parent = out.tracks.at(d.parent_uuid());
        CHECK(parent.kind == "process");
        CHECK(d.thread().pid() == pids.at(d.parent_uuid()));
        CHECK(tids.insert(d.thread().tid()).second);  // tids unique across the trace
        CHECK(pids.count(d.thread().tid()) == 0);
        desc = {"thread", parent.path + "/" + d.thread().thread_name(), ""};
      } else {
        REQUIRE(d.has_counter());
        REQUIRE(out.tracks.count(d.parent_uuid()) == 1);
        desc = {"counter", out.tracks.at(d.parent_uuid()).path + "/" + d.name(),
                d.counter().unit_name()};
      }
      out.tracks[d.uuid()] = desc;
    }

    if (packet.has_interned_data()) {
      for (const auto& n : packet.interned_data().event_names()) {
        CHECK(n.iid() != 0);                         // 0 means "unset" to readers
        CHECK(seq.event_names.count(n.iid()) == 0);  // each name sent once per sequence
        seq.event_names[n.iid()] = n.name();
      }
      for (const auto& n : packet.interned_data().debug_annotation_names()) {
        CHECK(n.iid() != 0);
        CHECK(seq.annotation_names.count(n.iid()) == 0);
        seq.annotation_names[n.iid()] = n.name();
      }
    }

    if (packet.has_track_event()) {
      const auto& te = packet.track_event();
      REQUIRE(packet.has_timestamp());
      REQUIRE(te.has_track_uuid());
      std::uint64_t uuid = te.track_uuid();
      REQUIRE(out.tracks.count(uuid) == 1);  // described before use
      CHECK(uuid == seq.track);              // one sequence per track
      Event e{out.tracks.at(uuid).path, '?', packet.timestamp(), "", {}, "", {}, false};
      using TE = perfetto::protos::TrackEvent;
      switch (te.type()) {
        case TE::TYPE_SLICE_BEGIN: e.type = 'B'; break;
        case TE::TYPE_SLICE_END: e.type = 'E'; break;
        case TE::TYPE_INSTANT: e.type = 'I'; break;
        case TE::TYPE_COUNTER: e.type = 'C'; break;
        default: FAIL("unexpected event type " << te.type());
      }
      if (te.has_name_iid()) {
        INFO("name_iid " << te.name_iid() << " on sequence " << seq_id);
        REQUIRE(seq.event_names.count(te.name_iid()) == 1);
        e.name = seq.event_names.at(te.name_iid());
      }
      CHECK((e.type == 'B' || e.type == 'I') == te.has_name_iid());
      for (const auto& a : te.debug_annotations()) {
        REQUIRE(seq.annotation_names.count(a.name_iid()) == 1);
        std::string v = a.has_string_value()   ? "s:" + a.string_value()
                        : a.has_double_value() ? render_double(a.double_value())
                                               : "i:" + std::to_string(a.int_value());
        e.args.emplace_back(seq.annotation_names.at(a.name_iid()), v);
      }
      if (e.type == 'C') {
        REQUIRE(te.has_double_counter_value());
        e.value = render_double(te.double_counter_value());
      }
      CHECK(te.flow_ids_size() + te.terminating_flow_ids_size() <= 1);
      if (te.flow_ids_size() == 1) e.flow = te.flow_ids(0);
      if (te.terminating_flow_ids_size() == 1) {
        e.flow = te.terminating_flow_ids(0);
        e.terminating = true;
      }
      out.events.push_back(e);
    }
  }
  return out;
}

// Slices balanced and nested per track, timestamps non-decreasing per track.
void check_track_rules(const std::vector<Event>& events) {
  std::map<std::string, std::vector<const Event*>> open;
  std::map<std::string, std::uint64_t> last_ts;
  for (const Event& e : events) {
    INFO(e);
    auto [it, inserted] = last_ts.emplace(e.track, e.ts_ns);
    if (!inserted) {
      CHECK(e.ts_ns >= it->second);
      it->second = e.ts_ns;
    }
    auto& stack = open[e.track];
    if (e.type == 'B') stack.push_back(&e);
    if (e.type == 'E') {
      REQUIRE_FALSE(stack.empty());
      CHECK(stack.back()->ts_ns <= e.ts_ns);
      stack.pop_back();
    }
  }
  for (auto& [track, stack] : open) {
    INFO(track);
    CHECK(stack.empty());
  }
}

TEST_CASE("Perfetto trace decodes to exactly the calls made", "[trace][perfetto]") {
  std::string path = temp_path("roundtrip.pftrace");
  auto writer = open_trace(path, Format::perfetto);
  Recorder rec(*writer);
  write_sample(rec);
  rec.close();
  std::string bytes = read_file(path);
  CHECK(writer->bytes_written() == bytes.size());

  DecodedPerfetto d = decode_perfetto(bytes);

  // Every track described, with its kind, place in the hierarchy and unit.
  REQUIRE(d.tracks.size() == rec.tracks.size());
  std::map<std::string, TrackDesc> by_path;
  for (auto& [uuid, desc] : d.tracks) by_path[desc.path] = desc;
  for (auto& [id, desc] : rec.tracks) {
    INFO(desc.path);
    REQUIRE(by_path.count(desc.path) == 1);
    CHECK(by_path.at(desc.path).kind == desc.kind);
    CHECK(by_path.at(desc.path).unit == desc.unit);
  }

  REQUIRE(d.events.size() == rec.events.size());
  for (std::size_t i = 0; i < d.events.size(); ++i) {
    INFO("event " << i);
    CHECK(d.events[i] == rec.events[i]);
  }
  check_track_rules(d.events);
}

TEST_CASE("Perfetto interning sends each name once per sequence", "[trace][perfetto]") {
  std::string path = temp_path("interning.pftrace");
  {
    auto w = open_trace(path, Format::perfetto);
    TrackId p = w->add_process(1, "chip0");
    TrackId a = w->add_thread(p, "a");
    TrackId b = w->add_thread(p, "b");
    const Arg args[] = {Arg::integer("n", 1)};
    for (std::uint64_t i = 0; i < 100; ++i) {
      for (TrackId t : {a, b}) {
        w->begin(t, i * 10, i % 2 ? "odd" : "even", args, 1);
        w->end(t, i * 10 + 5);
      }
    }
    w->close();
  }
  perfetto::protos::Trace trace;
  REQUIRE(trace.ParseFromString(read_file(path)));
  std::map<std::uint32_t, std::multiset<std::string>> sent;  // per sequence
  std::size_t with_interned = 0;
  for (const auto& packet : trace.packet()) {
    if (!packet.has_interned_data()) continue;
    ++with_interned;
    for (const auto& n : packet.interned_data().event_names())
      sent[packet.trusted_packet_sequence_id()].insert(n.name());
    for (const auto& n : packet.interned_data().debug_annotation_names())
      sent[packet.trusted_packet_sequence_id()].insert("arg:" + n.name());
  }
  REQUIRE(sent.size() == 2);
  for (auto& [seq, names] : sent) {
    CHECK(names == std::multiset<std::string>{"even", "odd", "arg:n"});
  }
  CHECK(with_interned == 4);  // "even"+"n", then "odd", on each of the two sequences
}

TEST_CASE("Traces are deterministic: the same calls give the same bytes", "[trace]") {
  for (Format format : {Format::perfetto, Format::json}) {
    INFO(format_name(format));
    std::string a = temp_path(std::string("det_a.") + format_name(format));
    std::string b = temp_path(std::string("det_b.") + format_name(format));
    for (const std::string& path : {a, b}) {
      auto w = open_trace(path, format);
      write_sample(*w);
      w->close();
    }
    std::string bytes_a = read_file(a);
    CHECK(!bytes_a.empty());
    CHECK(bytes_a == read_file(b));
  }
}

TEST_CASE("Large traces stream through the buffer and decode", "[trace][perfetto]") {
  std::string path = temp_path("large.pftrace");
  const std::uint64_t n = 200000;
  std::uint64_t reported;
  {
    auto w = open_trace(path, Format::perfetto);
    TrackId p = w->add_process(3, "chip");
    TrackId t = w->add_thread(p, "unit");
    TrackId c = w->add_counter(p, "util", "%");
    std::string long_name(3u << 20, 'x');  // larger than the 1 MiB buffer
    w->begin(t, 0, long_name);
    for (std::uint64_t i = 0; i < n; ++i) {
      const Arg args[] = {Arg::integer("i", static_cast<std::int64_t>(i))};
      w->begin(t, 10 * i + 1, "op", args, 1);
      w->end(t, 10 * i + 5);
      w->counter(c, 10 * i + 5, static_cast<double>(i % 100));
    }
    w->end(t, 10 * n);
    w->close();
    reported = w->bytes_written();
  }
  std::string bytes = read_file(path);
  CHECK(reported == bytes.size());
  perfetto::protos::Trace trace;
  REQUIRE(trace.ParseFromString(bytes));
  std::size_t begins = 0, ends = 0, counters = 0;
  std::uint64_t last_counter_ts = 0;
  for (const auto& packet : trace.packet()) {
    if (!packet.has_track_event()) continue;
    switch (packet.track_event().type()) {
      case perfetto::protos::TrackEvent::TYPE_SLICE_BEGIN: ++begins; break;
      case perfetto::protos::TrackEvent::TYPE_SLICE_END: ++ends; break;
      case perfetto::protos::TrackEvent::TYPE_COUNTER:
        CHECK(packet.timestamp() >= last_counter_ts);
        last_counter_ts = packet.timestamp();
        ++counters;
        break;
      default: break;
    }
  }
  CHECK(begins == n + 1);
  CHECK(ends == n + 1);
  CHECK(counters == n);
  // Compactness: an op (a begin with one arg, its end and a counter value: 3 packets with
  // timestamps of ~4 varint bytes) stays within 72 bytes.
  CHECK(bytes.size() < (3u << 20) + n * 72);
}

// ---- Chrome JSON ----

struct DecodedJson {
  std::vector<Event> events;
  std::map<std::pair<int, std::int64_t>, std::string> thread_paths;
  std::map<int, std::string> process_paths;
};

DecodedJson decode_json(const std::string& path) {
  YAML::Node root = YAML::LoadFile(path);  // JSON is YAML; yaml-cpp parses it
  REQUIRE(root.IsMap());
  REQUIRE(root["traceEvents"].IsSequence());
  DecodedJson out;
  for (const YAML::Node& ev : root["traceEvents"]) {
    REQUIRE(ev.IsMap());
    std::string ph = ev["ph"].as<std::string>();
    int pid = ev["pid"].as<int>();
    std::int64_t tid = ev["tid"] ? ev["tid"].as<std::int64_t>() : -1;
    if (ph == "M") {
      std::string what = ev["name"].as<std::string>();
      if (what == "process_name") out.process_paths[pid] = ev["args"]["name"].as<std::string>();
      if (what == "thread_name") {
        out.thread_paths[{pid, tid}] =
            out.process_paths.at(pid) + "/" + ev["args"]["name"].as<std::string>();
      }
      continue;
    }
    // Timestamps: microseconds written exactly from ns.
    std::string ts_text = ev["ts"].Scalar();
    std::uint64_t ts_ns;
    {
      auto dot = ts_text.find('.');
      std::string frac = dot == std::string::npos ? "" : ts_text.substr(dot + 1);
      REQUIRE(frac.size() <= 3);
      CHECK((frac.empty() || frac.back() != '0'));
      while (frac.size() < 3) frac += '0';
      ts_ns = std::stoull(ts_text.substr(0, dot)) * 1000 + std::stoull(frac);
    }
    std::string track;
    if (ph == "C") {
      // Counters are keyed by process and name; a unit's counter is "unit.name".
      std::string name = ev["name"].as<std::string>();
      std::replace(name.begin(), name.end(), '.', '/');
      track = out.process_paths.at(pid) + "/" + name;
    } else if (tid == pid) {
      track = out.process_paths.at(pid);
    } else {
      REQUIRE(out.thread_paths.count({pid, tid}) == 1);
      track = out.thread_paths.at({pid, tid});
    }
    if (ph == "s" || ph == "t" || ph == "f") {
      // A flow step right after the begin it binds to.
      REQUIRE_FALSE(out.events.empty());
      Event& b = out.events.back();
      CHECK(b.type == 'B');
      CHECK(b.track == track);
      CHECK(b.ts_ns == ts_ns);
      CHECK(ev["cat"].as<std::string>() == "flow");
      CHECK(ev["name"].as<std::string>() == "flow");
      if (ph != "s") CHECK(ev["bp"].as<std::string>() == "e");
      b.flow = std::stoull(ev["id"].as<std::string>(), nullptr, 16);
      b.terminating = ph == "f";
      continue;
    }
    Event e{track, '?', ts_ns, "", {}, "", {}, false};
    if (ph == "B" || ph == "i") {
      e.type = ph == "B" ? 'B' : 'I';
      e.name = ev["name"].as<std::string>();
      if (ev["args"]) {
        for (const auto& kv : ev["args"]) {
          // Our args are typed; JSON keeps the text: an int has no '.', 'e'; strings are
          // quoted (yaml-cpp reports the tag "!" for quoted scalars).
          const YAML::Node& v = kv.second;
          std::string text = v.Scalar();
          std::string rendered;
          if (v.Tag() == "!") {
            rendered = "s:" + text;
          } else if (text.find_first_of(".eE") == std::string::npos) {
            rendered = "i:" + text;
          } else {
            rendered = render_double(v.as<double>());
          }
          e.args.emplace_back(kv.first.as<std::string>(), rendered);
        }
      }
      if (ph == "i") CHECK(ev["s"].as<std::string>() == (tid == pid ? "p" : "t"));
    } else if (ph == "E") {
      e.type = 'E';
    } else if (ph == "C") {
      e.type = 'C';
      REQUIRE(ev["args"].size() == 1);
      e.value = render_double(ev["args"].begin()->second.as<double>());
    } else {
      FAIL("unexpected phase " << ph);
    }
    out.events.push_back(e);
  }
  return out;
}

TEST_CASE("Chrome JSON trace parses and decodes to exactly the calls made", "[trace][json]") {
  std::string path = temp_path("roundtrip.trace.json");
  auto writer = open_trace(path, Format::json);
  Recorder rec(*writer);
  write_sample(rec);
  rec.close();
  CHECK(writer->bytes_written() == fs::file_size(path));

  DecodedJson d = decode_json(path);
  CHECK(d.process_paths.size() == 2);
  CHECK(d.thread_paths.size() == 3);
  REQUIRE(d.events.size() == rec.events.size());
  for (std::size_t i = 0; i < d.events.size(); ++i) {
    INFO("event " << i);
    CHECK(d.events[i] == rec.events[i]);
  }
  check_track_rules(d.events);
}

TEST_CASE("Chrome JSON writes non-finite counter values as null", "[trace][json]") {
  std::string path = temp_path("nan.trace.json");
  {
    auto w = open_trace(path, Format::json);
    TrackId p = w->add_process(1, "chip0");
    TrackId c = w->add_counter(p, "x", "");
    w->counter(c, 0, std::numeric_limits<double>::quiet_NaN());
    w->counter(c, 1, std::numeric_limits<double>::infinity());
    w->close();
  }
  YAML::Node root = YAML::LoadFile(path);
  REQUIRE(root["traceEvents"].size() == 3);
  CHECK(root["traceEvents"][1]["args"]["value"].IsNull());
  CHECK(root["traceEvents"][2]["args"]["value"].IsNull());
}

TEST_CASE("An empty trace is a valid file", "[trace]") {
  std::string pf = temp_path("empty.pftrace");
  std::string js = temp_path("empty.trace.json");
  open_trace(pf, Format::perfetto)->close();
  open_trace(js, Format::json)->close();
  CHECK(fs::file_size(pf) == 0);
  YAML::Node root = YAML::LoadFile(js);
  CHECK(root["traceEvents"].size() == 0);
}

// ---- errors ----

TEST_CASE("Opening an unwritable path names it", "[trace][errors]") {
  for (Format format : {Format::perfetto, Format::json}) {
    std::string missing_dir = temp_path("no/such/dir/t.pftrace");
    try {
      open_trace(missing_dir, format);
      FAIL("expected tasim::Error");
    } catch (const tasim::Error& e) {
      CHECK_THAT(e.what(), Catch::Contains(missing_dir));
    }
    std::string a_directory = fs::path(temp_path("x")).parent_path().string();
    CHECK_THROWS_WITH(open_trace(a_directory, format), Catch::Contains(a_directory));
  }
}

TEST_CASE("Trace format names parse, and a bad one lists the valid ones", "[trace][errors]") {
  CHECK(parse_trace_format("perfetto") == Format::perfetto);
  CHECK(parse_trace_format("json") == Format::json);
  CHECK(std::string(format_name(Format::json)) == "json");
  try {
    parse_trace_format("xml");
    FAIL("expected tasim::Error");
  } catch (const tasim::Error& e) {
    CHECK_THAT(e.what(), Catch::Contains("xml") && Catch::Contains("perfetto") &&
                             Catch::Contains("json"));
  }
}

TEST_CASE("Misuse throws tasim::Error naming the track", "[trace][errors]") {
  for (Format format : {Format::perfetto, Format::json}) {
    INFO(format_name(format));
    auto w = open_trace(temp_path(std::string("misuse.") + format_name(format)), format);
    CHECK_THROWS_WITH(w->add_process(0, "chip0"), Catch::Contains("pid"));
    TrackId p = w->add_process(1, "chip0");
    CHECK_THROWS_WITH(w->add_process(1, "again"), Catch::Contains("pid 1"));
    TrackId t = w->add_thread(p, "mxu");
    TrackId c = w->add_counter(p, "bw", "GB/s");
    CHECK_THROWS_AS(w->add_thread(t, "nested"), tasim::Error);
    CHECK_THROWS_AS(w->add_thread(99, "orphan"), tasim::Error);
    CHECK_THROWS_WITH(w->end(t, 0), Catch::Contains("mxu") && Catch::Contains("no open"));
    CHECK_THROWS_WITH(w->begin(c, 0, "x"), Catch::Contains("bw"));
    CHECK_THROWS_WITH(w->counter(t, 0, 1.0), Catch::Contains("mxu"));
    CHECK_THROWS_WITH(w->begin(42, 0, "x"), Catch::Contains("42"));
    w->begin(t, 100, "a");
    CHECK_THROWS_WITH(w->end(t, 50), Catch::Contains("mxu") && Catch::Contains("back"));
    w->end(t, 100);
    w->close();
    w->close();  // idempotent
    CHECK_THROWS_WITH(w->begin(t, 200, "late"), Catch::Contains("close"));
  }
}

}  // namespace

namespace {
TEST_CASE("a trace not closed keeps nothing and leaves the old file", "[trace][output]") {
  for (Format format : {Format::perfetto, Format::json}) {
    const std::string path = temp_path(std::string("kept.") + format_name(format));
    {
      std::ofstream old(path, std::ios::binary);
      old << "the previous run's trace";
    }
    {
      auto w = open_trace(path, format);
      const TrackId p = w->add_process(1, "chip0");
      const TrackId t = w->add_thread(p, "unit");
      for (int i = 0; i < 100000; ++i) {  // past the 1 MiB buffer: bytes reach the temporary file
        w->begin(t, 10 * i, "op");
        w->end(t, 10 * i + 5);
      }
    }  // the run failed before close()
    std::ifstream in(path, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    CHECK(text.str() == "the previous run's trace");
    for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(path).parent_path())) {
      CHECK(e.path().filename().string().rfind(std::filesystem::path(path).filename().string() + ".tmp", 0) != 0);
    }
  }
}
}  // namespace
