/*
 * crc32.c - CRC-32 as in zlib, gzip, PNG and IEEE 802.3 (see model_file.h).
 *
 * Reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF;
 * mco_crc32(0, "123456789", 9) == 0xCBF43926. Calls chain like zlib's:
 * pass the previous result as `crc` to continue over more data.
 *
 * It is zlib's own crc32_z: the library links zlib already (for .gz data
 * sets), and zlib's table-driven code runs at GB/s, several times faster than
 * a small table written out here, which matters for 100 MB model files.
 * What it leaves out: a zlib-free version (the MCU runtime does not need one).
 */
#include "mcuopt/model_file.h"

#include <zlib.h>

uint32_t mco_crc32(uint32_t crc, const void *data, size_t size)
{
    return (uint32_t)crc32_z(crc, data, size);
}
