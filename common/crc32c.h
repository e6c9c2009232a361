/*
 * crc32c.h - CRC-32C (Castagnoli), used to check every log record.
 * Pure, thread-safe after the first call (the table is built once).
 */
#ifndef DTX_COMMON_CRC32C_H
#define DTX_COMMON_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* crc32c_extend continues crc over len bytes at data; start with 0. */
uint32_t crc32c_extend(uint32_t crc, const void *data, size_t len);

#endif
