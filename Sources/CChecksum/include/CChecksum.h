#ifndef CCHECKSUM_H
#define CCHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/// CRC-32C (Castagnoli, reflected, polynomial 0x82F63B78) of `length` bytes at `bytes`, continuing
/// from `crc` (0 to start): the same value as the table-driven byte loop it replaced, with the
/// CPU's crc32 instruction where there is one (SSE 4.2 on x86-64), 8 bytes at a time.
uint32_t cchecksum_crc32c(uint32_t crc, const void *bytes, size_t length);

#endif
