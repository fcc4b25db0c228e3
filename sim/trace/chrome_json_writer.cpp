// Chrome JSON trace ({"traceEvents":[...]}, one event per line): the fallback for tools that
// do not read Perfetto's protobuf format. Slices are "B"/"E" pairs, counters "C", instants
// "i", track names "M" metadata, flows "s"/"t"/"f" bound to the slice their begin opens.
// Timestamps are microseconds printed exactly from ns ("12.345").
#include <charconv>
#include <cmath>
#include <unordered_set>

#include "common/error.h"
#include "common/json_writer.h"
#include "sim/trace/writer_common.h"

namespace tasim::trace::detail {
namespace {

constexpr std::size_t kNumberBytes = 32;  // room for any integer or double to_chars writes

class ChromeJsonWriter final : public TraceWriter {
 public:
  explicit ChromeJsonWriter(const std::string& path) : sink_(path) {
    sink_.write(std::string_view("{\"traceEvents\":[\n"));
  }
  // Not closed (the run failed): the sink keeps nothing, by the output policy.
  ~ChromeJsonWriter() override = default;

  TrackId add_process(int pid, const std::string& name) override {
    TrackId id = tracks_.add_process(pid, name);
    metadata(tracks_[id], false, "process_name", "name", name);
    return id;
  }

  TrackId add_thread(TrackId process, const std::string& name) override {
    TrackId id = tracks_.add_thread(process, name);
    const TrackInfo& t = tracks_[id];
    metadata(t, true, "thread_name", "name", name);
    // Keeps units in the order the simulator added them rather than by tid or name.
    std::int64_t rank = t.tid - std::int64_t{t.pid} * 1000;
    start_event('M', t, true);
    write(",\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":");
    integer(rank);
    write("}}");
    return id;
  }

  TrackId add_counter(TrackId parent, const std::string& name,
                      const std::string& unit_name) override {
    TrackId id = tracks_.add_counter(parent, name, unit_name);
    // Chrome keys counters by process and name: qualify a unit's counter with the unit so
    // that two units' counters of the same name stay apart.
    const TrackInfo& p = tracks_[parent];
    counter_names_.resize(tracks_.size());
    counter_names_[id] = p.kind == TrackKind::thread ? p.name + "." + name : name;
    counter_series_.resize(tracks_.size());
    counter_series_[id] = unit_name.empty() ? std::string("value") : unit_name;
    return id;
  }

  void begin(TrackId track, std::uint64_t ts_ns, std::string_view name, const Arg* args,
             std::size_t num_args) override {
    const TrackInfo& t = tracks_.for_begin(track, ts_ns);
    slice_begin(t, ts_ns, name, args, num_args);
  }

  void begin_with_flow(TrackId track, std::uint64_t ts_ns, std::string_view name,
                       std::uint64_t flow_id, bool terminating, const Arg* args,
                       std::size_t num_args) override {
    const TrackInfo& t = tracks_.for_begin(track, ts_ns);
    slice_begin(t, ts_ns, name, args, num_args);
    char phase;
    if (terminating) {
      phase = 'f';
      open_flows_.erase(flow_id);
    } else {
      phase = open_flows_.insert(flow_id).second ? 's' : 't';
    }
    start_event(phase, t, true);
    timestamp(ts_ns);
    // Same cat and name on every step: viewers match flow events by (id, cat, name).
    write(",\"cat\":\"flow\",\"name\":\"flow\",\"id\":\"0x");
    char* p = sink_.reserve(16);
    auto r = std::to_chars(p, p + 16, flow_id, 16);
    sink_.commit(static_cast<std::size_t>(r.ptr - p));
    write(phase == 's' ? "\"}" : "\",\"bp\":\"e\"}");
  }

  void end(TrackId track, std::uint64_t ts_ns) override {
    const TrackInfo& t = tracks_.for_end(track, ts_ns);
    start_event('E', t, true);
    timestamp(ts_ns);
    sink_.put('}');
  }

  void counter(TrackId track, std::uint64_t ts_ns, double value) override {
    const TrackInfo& t = tracks_.for_counter(track, ts_ns);
    start_event('C', t, false);
    timestamp(ts_ns);
    write(",\"name\":");
    string(counter_names_[track]);
    write(",\"args\":{");
    string(counter_series_[track]);
    sink_.put(':');
    real(value);
    write("}}");
  }

  void instant(TrackId track, std::uint64_t ts_ns, std::string_view name) override {
    const TrackInfo& t = tracks_.for_instant(track, ts_ns);
    bool on_thread = t.kind == TrackKind::thread;
    start_event('i', t, true);
    timestamp(ts_ns);
    write(",\"name\":");
    string(name);
    write(on_thread ? ",\"s\":\"t\"}" : ",\"s\":\"p\"}");
  }

  void close() override {
    if (tracks_.closed()) return;
    tracks_.mark_closed();
    sink_.write(std::string_view("\n],\"displayTimeUnit\":\"ns\"}\n"));
    sink_.close();
  }

  std::uint64_t bytes_written() const override { return sink_.bytes(); }

 private:
  void slice_begin(const TrackInfo& t, std::uint64_t ts_ns, std::string_view name,
                   const Arg* args, std::size_t num_args) {
    start_event('B', t, true);
    timestamp(ts_ns);
    write(",\"name\":");
    string(name);
    if (num_args > 0) {
      write(",\"args\":{");
      for (std::size_t i = 0; i < num_args; ++i) {
        const Arg& a = args[i];
        if (i > 0) sink_.put(',');
        string(a.name);
        sink_.put(':');
        if (a.is_string) {
          string(a.string_value);
        } else if (a.is_double) {
          real(a.double_value);
        } else {
          integer(a.int_value);
        }
      }
      sink_.put('}');
    }
    sink_.put('}');
  }

  // Writes `{"ph":"X","pid":P,"tid":T` (a process track's events go on its main thread,
  // tid = pid), preceded by the separator from the previous event.
  void start_event(char phase, const TrackInfo& t, bool with_tid) {
    char* p = sink_.reserve(64);
    char* q = p;
    if (!first_event_) {
      *q++ = ',';
      *q++ = '\n';
    }
    first_event_ = false;
    static constexpr std::string_view kPhase = "{\"ph\":\"";
    std::memcpy(q, kPhase.data(), kPhase.size());
    q += kPhase.size();
    *q++ = phase;
    static constexpr std::string_view kPid = "\",\"pid\":";
    std::memcpy(q, kPid.data(), kPid.size());
    q += kPid.size();
    q = std::to_chars(q, q + kNumberBytes, t.pid).ptr;
    if (with_tid) {
      static constexpr std::string_view kTid = ",\"tid\":";
      std::memcpy(q, kTid.data(), kTid.size());
      q += kTid.size();
      std::int64_t tid = t.kind == TrackKind::process ? t.pid : t.tid;
      q = std::to_chars(q, q + kNumberBytes, tid).ptr;
    }
    sink_.commit(static_cast<std::size_t>(q - p));
  }

  void metadata(const TrackInfo& t, bool with_tid, std::string_view what,
                std::string_view key, std::string_view value) {
    start_event('M', t, with_tid);
    write(",\"name\":");
    string(what);
    write(",\"args\":{");
    string(key);
    sink_.put(':');
    string(value);
    write("}}");
  }

  // `,"ts":<us>` with the ns digits kept exactly: 1234567 ns -> 1234.567, 5000 ns -> 5.
  void timestamp(std::uint64_t ts_ns) {
    char* p = sink_.reserve(8 + kNumberBytes);
    char* q = p;
    static constexpr std::string_view kTs = ",\"ts\":";
    std::memcpy(q, kTs.data(), kTs.size());
    q += kTs.size();
    q = std::to_chars(q, q + kNumberBytes, ts_ns / 1000).ptr;
    unsigned frac = static_cast<unsigned>(ts_ns % 1000);
    if (frac != 0) {
      *q++ = '.';
      *q++ = static_cast<char>('0' + frac / 100);
      frac %= 100;
      if (frac != 0) {
        *q++ = static_cast<char>('0' + frac / 10);
        frac %= 10;
        if (frac != 0) *q++ = static_cast<char>('0' + frac);
      }
    }
    sink_.commit(static_cast<std::size_t>(q - p));
  }

  void integer(std::int64_t v) {
    char* p = sink_.reserve(kNumberBytes);
    sink_.commit(static_cast<std::size_t>(std::to_chars(p, p + kNumberBytes, v).ptr - p));
  }

  // Shortest round-trip form; JSON has no NaN or infinity, so those become null.
  void real(double v) {
    if (!std::isfinite(v)) {
      write("null");
      return;
    }
    char* p = sink_.reserve(kNumberBytes);
    sink_.commit(static_cast<std::size_t>(std::to_chars(p, p + kNumberBytes, v).ptr - p));
  }

  void write(std::string_view s) { sink_.write(s); }

  void string(std::string_view s) {
    char* p = sink_.reserve(json_quoted_max_bytes(s));
    sink_.commit(static_cast<std::size_t>(write_json_quoted(s, p) - p));
  }

  FileSink sink_;
  TrackTable tracks_;
  bool first_event_ = true;
  std::vector<std::string> counter_names_;   // by track id; counters only
  std::vector<std::string> counter_series_;  // by track id; counters only
  std::unordered_set<std::uint64_t> open_flows_;
};

}  // namespace

std::unique_ptr<TraceWriter> make_chrome_json_writer(const std::string& path) {
  return std::make_unique<ChromeJsonWriter>(path);
}

}  // namespace tasim::trace::detail
