// Perfetto native trace (a perfetto.protos.Trace: a stream of TracePackets), encoded by hand:
// the format is a handful of varint and length-delimited fields (see perfetto_subset.proto
// for the field numbers), and writing them directly keeps an event at a few dozen bytes and
// well under a microsecond, with no allocation.
//
// Layout. Each track has its own packet sequence (trusted_packet_sequence_id = track id + 1,
// track uuid = track id + 1) whose first packet carries the track's TrackDescriptor and
// clears incremental state (sequence_flags = 1). Later packets set sequence_flags = 2 and
// intern event and argument names per sequence: a name's iid is its global index + 1, sent
// in InternedData the first time the sequence uses it. Every event names its track_uuid
// (TracePacketDefaults could save those 2 bytes, at the cost of readers having to apply
// them).
#include <algorithm>
#include <cstring>

#include "common/error.h"
#include "sim/trace/writer_common.h"

namespace tasim::trace::detail {
namespace {

// Field numbers (upstream perfetto protos).
namespace f {
constexpr std::uint32_t kTracePacket = 1;  // Trace.packet
// TracePacket
constexpr std::uint32_t kTimestamp = 8;
constexpr std::uint32_t kTrustedPacketSequenceId = 10;
constexpr std::uint32_t kTrackEvent = 11;
constexpr std::uint32_t kInternedData = 12;
constexpr std::uint32_t kSequenceFlags = 13;
constexpr std::uint32_t kTrackDescriptor = 60;
// TrackDescriptor
constexpr std::uint32_t kUuid = 1;
constexpr std::uint32_t kName = 2;
constexpr std::uint32_t kProcess = 3;
constexpr std::uint32_t kThread = 4;
constexpr std::uint32_t kParentUuid = 5;
constexpr std::uint32_t kCounter = 8;
// ProcessDescriptor / ThreadDescriptor / CounterDescriptor
constexpr std::uint32_t kPid = 1;
constexpr std::uint32_t kProcessName = 6;
constexpr std::uint32_t kTid = 2;
constexpr std::uint32_t kThreadName = 5;
constexpr std::uint32_t kUnitName = 6;
// TrackEvent
constexpr std::uint32_t kDebugAnnotations = 4;
constexpr std::uint32_t kType = 9;
constexpr std::uint32_t kNameIid = 10;
constexpr std::uint32_t kTrackUuid = 11;
constexpr std::uint32_t kDoubleCounterValue = 44;
constexpr std::uint32_t kFlowIds = 47;
constexpr std::uint32_t kTerminatingFlowIds = 48;
// DebugAnnotation
constexpr std::uint32_t kAnnotationNameIid = 1;
constexpr std::uint32_t kIntValue = 4;
constexpr std::uint32_t kDoubleValue = 5;
constexpr std::uint32_t kStringValue = 6;
// InternedData; EventName and DebugAnnotationName are both {iid = 1, name = 2}
constexpr std::uint32_t kEventNames = 2;
constexpr std::uint32_t kDebugAnnotationNames = 3;
constexpr std::uint32_t kIid = 1;
constexpr std::uint32_t kInternedName = 2;
}  // namespace f

constexpr std::uint32_t kSeqIncrementalStateCleared = 1;
constexpr std::uint32_t kSeqNeedsIncrementalState = 2;

enum EventType : std::uint32_t { kSliceBegin = 1, kSliceEnd = 2, kInstant = 3, kCounter = 4 };
enum WireType : std::uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2 };

constexpr std::size_t kMaxVarintBytes = 10;

inline std::size_t varint_size(std::uint64_t v) {
  std::size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

inline char* put_varint(char* p, std::uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<char>(v);
  return p;
}

// One packet under construction. Nested messages are written in place and their length is
// inserted when they end (moving the few bytes of the body), so no size pass is needed and
// every length is a minimal varint.
class PacketEncoder {
 public:
  PacketEncoder() : buffer_(256) {}

  void clear() { size_ = 0; }
  const char* data() const { return buffer_.data(); }
  std::size_t size() const { return size_; }

  void varint(std::uint32_t field, std::uint64_t v) {
    char* p = room(2 * kMaxVarintBytes);
    p = put_varint(p, (std::uint64_t{field} << 3) | kVarint);
    p = put_varint(p, v);
    size_ = static_cast<std::size_t>(p - buffer_.data());
  }
  void fixed64(std::uint32_t field, std::uint64_t v) {
    char* p = room(kMaxVarintBytes + 8);
    p = put_varint(p, (std::uint64_t{field} << 3) | kFixed64);
    for (int i = 0; i < 8; ++i) *p++ = static_cast<char>(v >> (8 * i));  // little-endian
    size_ = static_cast<std::size_t>(p - buffer_.data());
  }
  void double_value(std::uint32_t field, double v) {
    std::uint64_t bits;
    std::memcpy(&bits, &v, sizeof bits);
    fixed64(field, bits);
  }
  void bytes(std::uint32_t field, std::string_view s) {
    char* p = room(2 * kMaxVarintBytes + s.size());
    p = put_varint(p, (std::uint64_t{field} << 3) | kLengthDelimited);
    p = put_varint(p, s.size());
    if (!s.empty()) std::memcpy(p, s.data(), s.size());
    size_ = static_cast<std::size_t>(p + s.size() - buffer_.data());
  }
  // Returns where the body starts, for end_nested.
  std::size_t begin_nested(std::uint32_t field) {
    char* p = room(kMaxVarintBytes);
    p = put_varint(p, (std::uint64_t{field} << 3) | kLengthDelimited);
    size_ = static_cast<std::size_t>(p - buffer_.data());
    return size_;
  }
  void end_nested(std::size_t body_start) {
    std::size_t length = size_ - body_start;
    std::size_t n = varint_size(length);
    room(n);
    char* body = buffer_.data() + body_start;
    std::memmove(body + n, body, length);
    put_varint(body, length);
    size_ += n;
  }

 private:
  char* room(std::size_t n) {
    if (buffer_.size() - size_ < n) buffer_.resize(2 * (size_ + n));
    return buffer_.data() + size_;
  }

  std::vector<char> buffer_;
  std::size_t size_ = 0;
};

// Per-track (= per-sequence) state beyond the shared checks.
struct Sequence {
  std::uint64_t uuid;
  std::uint32_t id;
  std::vector<bool> event_name_sent;       // by global event-name index
  std::vector<bool> annotation_name_sent;  // by global annotation-name index
};

class PerfettoWriter final : public TraceWriter {
 public:
  explicit PerfettoWriter(const std::string& path) : sink_(path) {}
  // Not closed (the run failed): the sink keeps nothing, by the output policy.
  ~PerfettoWriter() override = default;

  TrackId add_process(int pid, const std::string& name) override {
    TrackId id = tracks_.add_process(pid, name);
    std::size_t desc = start_descriptor(id);
    std::size_t process = packet_.begin_nested(f::kProcess);
    packet_.varint(f::kPid, static_cast<std::uint64_t>(pid));
    packet_.bytes(f::kProcessName, name);
    packet_.end_nested(process);
    finish_descriptor(desc);
    return id;
  }

  TrackId add_thread(TrackId process, const std::string& name) override {
    TrackId id = tracks_.add_thread(process, name);
    const TrackInfo& t = tracks_[id];
    std::size_t desc = start_descriptor(id);
    packet_.varint(f::kParentUuid, sequences_[process].uuid);
    std::size_t thread = packet_.begin_nested(f::kThread);
    packet_.varint(f::kPid, static_cast<std::uint64_t>(t.pid));
    packet_.varint(f::kTid, static_cast<std::uint64_t>(t.tid));
    packet_.bytes(f::kThreadName, name);
    packet_.end_nested(thread);
    finish_descriptor(desc);
    return id;
  }

  TrackId add_counter(TrackId parent, const std::string& name,
                      const std::string& unit_name) override {
    TrackId id = tracks_.add_counter(parent, name, unit_name);
    std::size_t desc = start_descriptor(id);
    packet_.varint(f::kParentUuid, sequences_[parent].uuid);
    packet_.bytes(f::kName, name);
    std::size_t counter = packet_.begin_nested(f::kCounter);  // present even if empty
    if (!unit_name.empty()) packet_.bytes(f::kUnitName, unit_name);
    packet_.end_nested(counter);
    finish_descriptor(desc);
    return id;
  }

  void begin(TrackId track, std::uint64_t ts_ns, std::string_view name, const Arg* args,
             std::size_t num_args) override {
    tracks_.for_begin(track, ts_ns);
    slice_event(track, ts_ns, kSliceBegin, name, args, num_args, 0, 0);
  }

  void begin_with_flow(TrackId track, std::uint64_t ts_ns, std::string_view name,
                       std::uint64_t flow_id, bool terminating, const Arg* args,
                       std::size_t num_args) override {
    tracks_.for_begin(track, ts_ns);
    slice_event(track, ts_ns, kSliceBegin, name, args, num_args,
                terminating ? f::kTerminatingFlowIds : f::kFlowIds, flow_id);
  }

  void end(TrackId track, std::uint64_t ts_ns) override {
    tracks_.for_end(track, ts_ns);
    start_event_packet(sequences_[track], ts_ns);
    std::size_t event = packet_.begin_nested(f::kTrackEvent);
    packet_.varint(f::kType, kSliceEnd);
    packet_.varint(f::kTrackUuid, sequences_[track].uuid);
    packet_.end_nested(event);
    emit_packet();
  }

  void counter(TrackId track, std::uint64_t ts_ns, double value) override {
    tracks_.for_counter(track, ts_ns);
    start_event_packet(sequences_[track], ts_ns);
    std::size_t event = packet_.begin_nested(f::kTrackEvent);
    packet_.varint(f::kType, kCounter);
    packet_.varint(f::kTrackUuid, sequences_[track].uuid);
    packet_.double_value(f::kDoubleCounterValue, value);
    packet_.end_nested(event);
    emit_packet();
  }

  void instant(TrackId track, std::uint64_t ts_ns, std::string_view name) override {
    tracks_.for_instant(track, ts_ns);
    slice_event(track, ts_ns, kInstant, name, nullptr, 0, 0, 0);
  }

  void close() override {
    if (tracks_.closed()) return;
    tracks_.mark_closed();
    sink_.close();
  }

  std::uint64_t bytes_written() const override { return sink_.bytes(); }

 private:
  void slice_event(TrackId track, std::uint64_t ts_ns, EventType type, std::string_view name,
                   const Arg* args, std::size_t num_args, std::uint32_t flow_field,
                   std::uint64_t flow_id) {
    Sequence& seq = sequences_[track];
    std::uint64_t name_iid = intern(seq.event_name_sent, event_names_, name, f::kEventNames);
    if (annotation_iids_.size() < num_args) annotation_iids_.resize(num_args);
    for (std::size_t i = 0; i < num_args; ++i) {
      annotation_iids_[i] = intern(seq.annotation_name_sent, annotation_names_, args[i].name,
                                   f::kDebugAnnotationNames);
    }
    // intern() queued InternedData entries for new names; they go before the event.
    start_event_packet(seq, ts_ns);
    std::size_t event = packet_.begin_nested(f::kTrackEvent);
    packet_.varint(f::kType, type);
    packet_.varint(f::kTrackUuid, seq.uuid);
    packet_.varint(f::kNameIid, name_iid);
    for (std::size_t i = 0; i < num_args; ++i) {
      const Arg& a = args[i];
      std::size_t annotation = packet_.begin_nested(f::kDebugAnnotations);
      packet_.varint(f::kAnnotationNameIid, annotation_iids_[i]);
      if (a.is_string) {
        packet_.bytes(f::kStringValue, a.string_value);
      } else if (a.is_double) {
        packet_.double_value(f::kDoubleValue, a.double_value);
      } else {
        packet_.varint(f::kIntValue, static_cast<std::uint64_t>(a.int_value));
      }
      packet_.end_nested(annotation);
    }
    if (flow_field != 0) packet_.fixed64(flow_field, flow_id);
    packet_.end_nested(event);
    emit_packet();
  }

  // Returns the name's iid in this sequence, queueing an InternedData entry the first time
  // the sequence uses it.
  std::uint64_t intern(std::vector<bool>& sent, NameTable& table, std::string_view name,
                       std::uint32_t interned_field) {
    NameTable::Result r = table.intern(name);
    if (r.id >= sent.size()) sent.resize(std::max<std::size_t>(64, 2 * (r.id + 1)), false);
    if (!sent[r.id]) {
      sent[r.id] = true;
      pending_interned_.push_back({interned_field, r.id});
    }
    return std::uint64_t{r.id} + 1;
  }

  // Packet header of an event on seq, with the InternedData that intern() queued.
  void start_event_packet(const Sequence& seq, std::uint64_t ts_ns) {
    packet_.clear();
    packet_.varint(f::kTimestamp, ts_ns);
    packet_.varint(f::kTrustedPacketSequenceId, seq.id);
    packet_.varint(f::kSequenceFlags, kSeqNeedsIncrementalState);
    if (pending_interned_.empty()) return;
    std::size_t interned = packet_.begin_nested(f::kInternedData);
    for (const PendingName& p : pending_interned_) {
      const NameTable& table = p.field == f::kEventNames ? event_names_ : annotation_names_;
      std::size_t entry = packet_.begin_nested(p.field);
      packet_.varint(f::kIid, std::uint64_t{p.id} + 1);
      packet_.bytes(f::kInternedName, table.name(p.id));
      packet_.end_nested(entry);
    }
    packet_.end_nested(interned);
    pending_interned_.clear();
  }

  // The first packet of a new track's sequence: clears incremental state and describes the
  // track. Returns the descriptor's body start.
  std::size_t start_descriptor(TrackId id) {
    Sequence& seq = sequences_.emplace_back();
    seq.uuid = id + 1;  // deterministic, never 0 (0 means "no track" to Perfetto)
    seq.id = static_cast<std::uint32_t>(id + 1);
    packet_.clear();
    packet_.varint(f::kTrustedPacketSequenceId, seq.id);
    packet_.varint(f::kSequenceFlags, kSeqIncrementalStateCleared);
    std::size_t desc = packet_.begin_nested(f::kTrackDescriptor);
    packet_.varint(f::kUuid, seq.uuid);
    return desc;
  }

  void finish_descriptor(std::size_t desc) {
    packet_.end_nested(desc);
    emit_packet();
  }

  void emit_packet() {
    std::size_t n = packet_.size();
    char* out = sink_.reserve(1 + kMaxVarintBytes + n);
    char* p = out;
    *p++ = static_cast<char>((f::kTracePacket << 3) | kLengthDelimited);
    p = put_varint(p, n);
    std::memcpy(p, packet_.data(), n);
    sink_.commit(static_cast<std::size_t>(p + n - out));
  }

  struct PendingName {
    std::uint32_t field;
    std::uint32_t id;
  };

  FileSink sink_;
  TrackTable tracks_;
  std::vector<Sequence> sequences_;  // by track id
  NameTable event_names_;
  NameTable annotation_names_;
  PacketEncoder packet_;
  std::vector<PendingName> pending_interned_;
  std::vector<std::uint64_t> annotation_iids_;  // scratch: the iids of one event's arg names
};

}  // namespace

std::unique_ptr<TraceWriter> make_perfetto_writer(const std::string& path) {
  return std::make_unique<PerfettoWriter>(path);
}

}  // namespace tasim::trace::detail
