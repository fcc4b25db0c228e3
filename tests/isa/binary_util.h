// Building binary programs byte by byte in tests: the header, and the CRC-32 trailer that every
// binary ends with (a corrupted body must be resealed to reach the checks behind the checksum).
#pragma once

#include <cstdint>
#include <vector>

#include "common/crc32.h"

namespace tasim::testing {

// Magic, format version 2, instruction count.
inline std::vector<std::uint8_t> header(std::uint32_t count) {
  std::vector<std::uint8_t> bytes = {'T', 'A', 'S', 'M', 'B', 'I', 'N', '2'};
  for (int b = 0; b < 4; ++b) bytes.push_back(static_cast<std::uint8_t>(count >> (8 * b)));
  return bytes;
}

// `body` with its checksum appended, as encode() writes it.
inline std::vector<std::uint8_t> sealed(std::vector<std::uint8_t> body) {
  const std::uint32_t crc = crc32(body.data(), body.size());
  for (int b = 0; b < 4; ++b) body.push_back(static_cast<std::uint8_t>(crc >> (8 * b)));
  return body;
}

// The bytes before the checksum.
inline std::vector<std::uint8_t> unsealed(const std::vector<std::uint8_t>& bytes) {
  return std::vector<std::uint8_t>(bytes.begin(), bytes.end() - 4);
}

}  // namespace tasim::testing
