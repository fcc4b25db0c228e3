// Internal to sim/trace: what the Perfetto and Chrome JSON writers share — the buffered file
// sink, name interning and the track table with its misuse checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/output_file.h"
#include "sim/trace/trace_writer.h"

namespace tasim::trace::detail {

// Streams bytes to a file through one large buffer. Writers reserve room, fill it in place
// and commit what they used, so an event costs a bounds check and a few stores.
class FileSink {
 public:
  static constexpr std::size_t kBufferBytes = std::size_t{1} << 20;

  explicit FileSink(const std::string& path);  // throws tasim::Error naming the path
  ~FileSink();  // not closed: nothing is kept (a regular file's old version stays)
  FileSink(const FileSink&) = delete;
  FileSink& operator=(const FileSink&) = delete;

  // Room for n bytes at the returned pointer; valid until the next reserve().
  char* reserve(std::size_t n) {
    if (capacity_ - used_ < n) make_room(n);
    return buffer_.get() + used_;
  }
  void commit(std::size_t n) { used_ += n; }
  void write(const void* data, std::size_t n) {
    std::memcpy(reserve(n), data, n);
    commit(n);
  }
  void write(std::string_view s) { write(s.data(), s.size()); }
  void put(char c) { *reserve(1) = c, commit(1); }

  void close();  // flushes and closes; throws tasim::Error on a write error
  bool is_open() const { return file_ != nullptr; }
  std::uint64_t bytes() const { return flushed_ + used_; }
  const std::string& path() const { return path_; }

 private:
  void make_room(std::size_t n);
  void flush();

  std::string path_;
  std::unique_ptr<OutputFile> file_;  // written by the output policy (common/output_file.h)
  std::unique_ptr<char[]> buffer_;
  std::size_t capacity_ = 0;
  std::size_t used_ = 0;
  std::uint64_t flushed_ = 0;
};

// Dense ids for strings, in first-seen order, with storage that never moves.
class NameTable {
 public:
  struct Result {
    std::uint32_t id;
    bool is_new;
  };
  Result intern(std::string_view s) {
    auto it = ids_.find(s);
    if (it != ids_.end()) return {it->second, false};
    auto id = static_cast<std::uint32_t>(storage_.size());
    storage_.emplace_back(s);
    ids_.emplace(std::string_view(storage_.back()), id);
    return {id, true};
  }
  std::string_view name(std::uint32_t id) const { return storage_[id]; }
  std::size_t size() const { return storage_.size(); }

 private:
  std::unordered_map<std::string_view, std::uint32_t> ids_;
  std::deque<std::string> storage_;  // deque: elements stay put, so views into them stay valid
};

enum class TrackKind : std::uint8_t { process, thread, counter };

struct TrackInfo {
  TrackKind kind;
  std::uint32_t open_slices = 0;
  std::uint64_t last_ts_ns = 0;
  TrackId parent = 0;  // a thread's process, a counter's process or thread; self for a process
  int pid = 0;
  std::int64_t tid = 0;  // threads: pid * 1000 + index in the process (from 1); else 0
  std::uint32_t threads = 0;  // processes: threads added so far
  std::string name;
  std::string unit_name;  // counters
};

// The tracks of one trace and the checks every event goes through. The checks are a few
// predictable branches; the failures are out of line.
class TrackTable {
 public:
  TrackId add_process(int pid, const std::string& name);
  TrackId add_thread(TrackId process, const std::string& name);
  TrackId add_counter(TrackId parent, const std::string& name, const std::string& unit_name);

  const TrackInfo& operator[](TrackId id) const { return tracks_[id]; }
  std::size_t size() const { return tracks_.size(); }

  TrackInfo& for_begin(TrackId id, std::uint64_t ts_ns) {
    TrackInfo& t = for_event(id, ts_ns, TrackKind::thread, "begin");
    ++t.open_slices;
    return t;
  }
  TrackInfo& for_end(TrackId id, std::uint64_t ts_ns) {
    TrackInfo& t = for_event(id, ts_ns, TrackKind::thread, "end");
    if (t.open_slices == 0) no_open_slice(t);
    --t.open_slices;
    return t;
  }
  TrackInfo& for_instant(TrackId id, std::uint64_t ts_ns) {
    return for_event(id, ts_ns, TrackKind::thread, "instant");
  }
  TrackInfo& for_counter(TrackId id, std::uint64_t ts_ns) {
    return for_event(id, ts_ns, TrackKind::counter, "counter");
  }

  void mark_closed() { closed_ = true; }
  bool closed() const { return closed_; }

 private:
  // want == thread accepts process and thread tracks (slices); want == counter only counters.
  TrackInfo& for_event(TrackId id, std::uint64_t ts_ns, TrackKind want, const char* what) {
    if (closed_) used_after_close(what);
    if (id >= tracks_.size()) unknown_track(id, what);
    TrackInfo& t = tracks_[id];
    if ((t.kind == TrackKind::counter) != (want == TrackKind::counter)) wrong_kind(t, what);
    if (ts_ns < t.last_ts_ns) backwards(t, ts_ns, what);
    t.last_ts_ns = ts_ns;
    return t;
  }
  [[noreturn]] void used_after_close(const char* what) const;
  [[noreturn]] void unknown_track(TrackId id, const char* what) const;
  [[noreturn]] void wrong_kind(const TrackInfo& t, const char* what) const;
  [[noreturn]] void backwards(const TrackInfo& t, std::uint64_t ts_ns, const char* what) const;
  [[noreturn]] void no_open_slice(const TrackInfo& t) const;
  const TrackInfo& checked_parent(TrackId id, const char* what) const;

  std::vector<TrackInfo> tracks_;
  bool closed_ = false;
};

std::unique_ptr<TraceWriter> make_perfetto_writer(const std::string& path);
std::unique_ptr<TraceWriter> make_chrome_json_writer(const std::string& path);

}  // namespace tasim::trace::detail
