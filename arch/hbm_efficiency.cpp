#include "arch/hbm_efficiency.h"

#include <algorithm>

namespace tasim {

double refresh_efficiency(const HbmConfig& hbm) {
  if (hbm.refresh_ns <= 0.0 || hbm.refresh_interval_ns <= 0.0) return 1.0;
  return std::max(0.0, 1.0 - hbm.refresh_ns / hbm.refresh_interval_ns);
}

double write_turnaround_efficiency(const HbmConfig& hbm, double channel_bytes_per_ns) {
  if (hbm.turnaround_ns <= 0.0 || hbm.write_batch_bytes == 0) return 1.0;
  const double batch_ns = static_cast<double>(hbm.write_batch_bytes) / channel_bytes_per_ns;
  return batch_ns / (batch_ns + hbm.turnaround_ns);
}

double bytes_per_activate(const HbmConfig& hbm, std::uint64_t row_bytes, std::uint64_t stride_bytes) {
  const double page = static_cast<double>(hbm.page_bytes);
  const double row = static_cast<double>(row_bytes);
  if (stride_bytes == 0 || stride_bytes == row_bytes) return page;  // contiguous
  const double unit = static_cast<double>(hbm.interleave_bytes);
  const double period = unit * static_cast<double>(hbm.channels());
  const double stride = static_cast<double>(stride_bytes);
  if (stride >= period) {
    // Each row visits a channel once (a piece up to one interleave unit), or wraps around them
    // all when it is longer than a period.
    return std::min(page, std::max(std::min(row, unit), row / static_cast<double>(hbm.channels())));
  }
  // Dense rows: a page spans the same share of each row's addresses.
  return std::min(page, page * row / stride);
}

double activate_efficiency(const HbmConfig& hbm, double channel_bytes_per_ns, double bytes_per_activate) {
  if (hbm.activate_interval_ns <= 0.0) return 1.0;
  const double data_ns = bytes_per_activate / channel_bytes_per_ns;
  return std::min(1.0, data_ns / hbm.activate_interval_ns);
}

double transfer_efficiency(const HbmConfig& hbm, double channel_bytes_per_ns, std::uint64_t row_bytes,
                           std::uint64_t stride_bytes, bool is_write) {
  double e = refresh_efficiency(hbm) *
             activate_efficiency(hbm, channel_bytes_per_ns, bytes_per_activate(hbm, row_bytes, stride_bytes));
  if (is_write) e *= write_turnaround_efficiency(hbm, channel_bytes_per_ns);
  return e;
}

double streaming_read_efficiency(const HbmConfig& hbm) {
  return transfer_efficiency(hbm, hbm.gbps_per_channel, 1, 0, false);
}

double streaming_copy_efficiency(const HbmConfig& hbm) {
  const double read = streaming_read_efficiency(hbm);
  const double write = transfer_efficiency(hbm, hbm.gbps_per_channel, 1, 0, true);
  return 2.0 / (1.0 / read + 1.0 / write);
}

}  // namespace tasim
