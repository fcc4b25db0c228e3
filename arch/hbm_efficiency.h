// What keeps an HBM channel below its pin bandwidth, as first-order closed forms (the way DRAM
// papers budget efficiency): refresh, read/write bus turnaround, and the activate rate a DMA's
// access pattern needs. The "bandwidth" memory model (arch/hbm.h) divides each channel's service
// rate by these factors; docs/architecture.md sums them up and docs/validation.md checks the result
// against a measured H200 copy.
//
// Every factor is in (0, 1]; a timing parameter of 0 turns its factor off (1), which is what the
// schema's defaults do, so a preset without DRAM timings streams at its pin bandwidth.
#pragma once

#include <cstdint>

#include "arch/arch_config.h"

namespace tasim {

// Refresh: an all-bank refresh (REFab) every tREFI blocks the channel for tRFC, so it serves
// data a fraction 1 - tRFC / tREFI of the time.
double refresh_efficiency(const HbmConfig& hbm);

// Bus turnaround, charged to writes: the controller queues writes and drains `write_batch_bytes`
// of them at once, and each drain costs one read->write and one write->read switch,
// `turnaround_ns` of idle bus in all. Writes of `bytes` on one channel therefore add
// bytes / write_batch_bytes turnarounds. Returned as the efficiency of a write stream alone,
// channel_bytes_per_ns being the channel's pin rate: batch time / (batch time + turnaround).
// Reads pay nothing (a read-only stream never turns the bus around).
double write_turnaround_efficiency(const HbmConfig& hbm, double channel_bytes_per_ns);

// Bytes a transfer moves per activate on one channel (per DRAM page it opens): a contiguous
// stream fills whole pages (consecutive visits to a channel are consecutive channel addresses);
// rows far apart (stride of at least a channel period) each open their own page with what the
// row puts on that channel; rows closer than that share pages in proportion to their density.
double bytes_per_activate(const HbmConfig& hbm, std::uint64_t row_bytes, std::uint64_t stride_bytes);

// Activate rate: a channel can open a page at most every activate_interval_ns (tRRD, tFAW / 4 and
// tRC / banks, whichever binds); when the data a page yields takes less time than that, the
// channel waits. Efficiency = min(1, page data time / activate interval).
double activate_efficiency(const HbmConfig& hbm, double channel_bytes_per_ns, double bytes_per_activate);

// All of them for one transfer: refresh x activate x (writes only) turnaround.
double transfer_efficiency(const HbmConfig& hbm, double channel_bytes_per_ns, std::uint64_t row_bytes,
                           std::uint64_t stride_bytes, bool is_write);

// A long contiguous copy (as many bytes written as read): the fraction of pin bandwidth it
// sustains, the figure a preset states and a device-to-device copy measures. Reads and writes
// are the harmonic mean of their efficiencies since each byte of either takes 1 / efficiency.
double streaming_copy_efficiency(const HbmConfig& hbm);
// A long contiguous read.
double streaming_read_efficiency(const HbmConfig& hbm);

}  // namespace tasim
