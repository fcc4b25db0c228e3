// CRC-32 (IEEE 802.3, the polynomial of zlib and PNG): the checksum of tasim's binary programs.
#pragma once

#include <cstddef>
#include <cstdint>

namespace tasim {

std::uint32_t crc32(const std::uint8_t* data, std::size_t size, std::uint32_t crc = 0);

}  // namespace tasim
