#include "sim/trace/trace_writer.h"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"
#include "common/output_file.h"
#include "sim/trace/writer_common.h"

namespace tasim::trace {

namespace detail {

FileSink::FileSink(const std::string& path) : path_(path), file_(std::make_unique<OutputFile>(path, "trace")) {
  capacity_ = kBufferBytes;
  buffer_ = std::make_unique<char[]>(capacity_);
}

// Not closed: the OutputFile removes what was written, the old trace (if any) stays.
FileSink::~FileSink() = default;

void FileSink::make_room(std::size_t n) {
  flush();
  if (n > capacity_) {  // one record larger than the buffer (a huge name): grow for it
    capacity_ = n;
    buffer_ = std::make_unique<char[]>(capacity_);
  }
}

void FileSink::flush() {
  if (used_ == 0) return;
  if (!file_) throw Error(fmt::format("trace file '{}' is already closed", path_));
  file_->write(buffer_.get(), used_);
  flushed_ += used_;
  used_ = 0;
}

void FileSink::close() {
  if (!file_) return;
  flush();
  file_->commit();
  file_.reset();
}

TrackId TrackTable::add_process(int pid, const std::string& name) {
  if (closed_) used_after_close("add_process");
  if (pid <= 0) {
    throw Error(fmt::format("trace: process '{}' has pid {}; pids must be >= 1 (Perfetto "
                            "reserves pid 0 for the idle process)",
                            name, pid));
  }
  for (const TrackInfo& t : tracks_) {
    if (t.kind == TrackKind::process && t.pid == pid) {
      throw Error(fmt::format("trace: process '{}' reuses pid {} of process '{}'", name, pid,
                              t.name));
    }
  }
  TrackId id = tracks_.size();
  TrackInfo& t = tracks_.emplace_back();
  t.kind = TrackKind::process;
  t.parent = id;
  t.pid = pid;
  t.name = name;
  return id;
}

const TrackInfo& TrackTable::checked_parent(TrackId id, const char* what) const {
  if (closed_) used_after_close(what);
  if (id >= tracks_.size()) unknown_track(id, what);
  return tracks_[id];
}

TrackId TrackTable::add_thread(TrackId process, const std::string& name) {
  const TrackInfo& p = checked_parent(process, "add_thread");
  if (p.kind != TrackKind::process) {
    throw Error(fmt::format("trace: thread '{}' needs a process as parent, and '{}' is not one",
                            name, p.name));
  }
  TrackId id = tracks_.size();
  TrackInfo t;
  t.kind = TrackKind::thread;
  t.parent = process;
  t.pid = p.pid;
  // Unique across the trace (Perfetto matches threads by tid) and readable: chip 2's third
  // unit is 2003. Never equal to a pid >= 1, so no thread looks like a main thread.
  t.tid = std::int64_t{p.pid} * 1000 + p.threads + 1;
  t.name = name;
  tracks_[process].threads++;
  tracks_.push_back(std::move(t));
  return id;
}

TrackId TrackTable::add_counter(TrackId parent, const std::string& name,
                                const std::string& unit_name) {
  const TrackInfo& p = checked_parent(parent, "add_counter");
  if (p.kind == TrackKind::counter) {
    throw Error(fmt::format("trace: counter '{}' cannot have counter '{}' as parent", name,
                            p.name));
  }
  TrackId id = tracks_.size();
  TrackInfo t;
  t.kind = TrackKind::counter;
  t.parent = parent;
  t.pid = p.pid;
  t.tid = p.tid;
  t.name = name;
  t.unit_name = unit_name;
  tracks_.push_back(std::move(t));
  return id;
}

void TrackTable::used_after_close(const char* what) const {
  throw Error(fmt::format("trace: {}() called after close()", what));
}

void TrackTable::unknown_track(TrackId id, const char* what) const {
  throw Error(fmt::format("trace: {}() on unknown track id {} ({} tracks exist)", what, id,
                          tracks_.size()));
}

void TrackTable::wrong_kind(const TrackInfo& t, const char* what) const {
  throw Error(fmt::format("trace: {}() on {} track '{}'", what,
                          t.kind == TrackKind::counter ? "counter" : "slice", t.name));
}

void TrackTable::backwards(const TrackInfo& t, std::uint64_t ts_ns, const char* what) const {
  throw Error(fmt::format("trace: {}() at {} ns on track '{}' goes back in time (last event at "
                          "{} ns); timestamps must not decrease on a track",
                          what, ts_ns, t.name, t.last_ts_ns));
}

void TrackTable::no_open_slice(const TrackInfo& t) const {
  throw Error(fmt::format("trace: end() on track '{}' with no open slice", t.name));
}

}  // namespace detail

std::unique_ptr<TraceWriter> open_trace(const std::string& path, Format format) {
  switch (format) {
    case Format::perfetto:
      return detail::make_perfetto_writer(path);
    case Format::json:
      return detail::make_chrome_json_writer(path);
  }
  throw Error("open_trace: unknown trace format");
}

Format parse_trace_format(const std::string& name) {
  if (name == "perfetto") return Format::perfetto;
  if (name == "json") return Format::json;
  throw Error(fmt::format("unknown trace format '{}' (valid: perfetto, json)", name));
}

const char* format_name(Format format) {
  switch (format) {
    case Format::perfetto:
      return "perfetto";
    case Format::json:
      return "json";
  }
  return "?";
}

}  // namespace tasim::trace
