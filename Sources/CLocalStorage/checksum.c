// CRC32C (Castagnoli), the checksum of stored objects and arrays. It lives in C because Swift
// cannot reach the CPU's CRC instructions, and a table-driven Swift loop runs at well under the
// several GB/s a cache read needs.
//
// Three implementations agree bit for bit (the tests compare them on random input):
// - x86-64: the SSE4.2 `crc32` instruction, chosen at run time by cpuid, on three interleaved
//   streams for long inputs (the instruction has a latency of 3 cycles but a throughput of 1);
// - aarch64: the ARMv8 CRC32C instructions, when the CPU has them (AT_HWCAP);
// - elsewhere: a portable slicing-by-8 table walk.
// Every path works on the raw register (no pre/post inversion); the public entry points invert
// once on the way in and out, which gives the standard CRC-32C with init and xorout 0xFFFFFFFF.
#include "CLocalStorage.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__)
#include <cpuid.h>
#include <nmmintrin.h>
#endif
#if defined(__aarch64__)
#include <sys/auxv.h>
#ifndef HWCAP_CRC32
#define HWCAP_CRC32 (1UL << 7)
#endif
#endif

// The reflected Castagnoli polynomial.
#define CRC32C_POLYNOMIAL 0x82F63B78u

// MARK: Portable slicing-by-8

// portableTable[k][b]: the register after byte b followed by k zero bytes.
static uint32_t portableTable[8][256];
static pthread_once_t portableTableOnce = PTHREAD_ONCE_INIT;

static void buildPortableTable(void) {
    for (uint32_t byte = 0; byte < 256; byte++) {
        uint32_t crc = byte;
        for (int bit = 0; bit < 8; bit++) crc = (crc & 1) ? (crc >> 1) ^ CRC32C_POLYNOMIAL : crc >> 1;
        portableTable[0][byte] = crc;
    }
    for (uint32_t byte = 0; byte < 256; byte++) {
        uint32_t crc = portableTable[0][byte];
        for (int slice = 1; slice < 8; slice++) {
            crc = portableTable[0][crc & 0xFF] ^ (crc >> 8);
            portableTable[slice][byte] = crc;
        }
    }
}

// Little-endian load without alignment or byte-order assumptions; compilers turn it into one load.
static inline uint32_t load32LittleEndian(const unsigned char *bytes) {
    return (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 | (uint32_t)bytes[3] << 24;
}

static uint32_t crc32cPortable(uint32_t crc, const unsigned char *bytes, size_t length) {
    while (length >= 8) {
        uint32_t low = crc ^ load32LittleEndian(bytes);
        uint32_t high = load32LittleEndian(bytes + 4);
        crc = portableTable[7][low & 0xFF] ^ portableTable[6][(low >> 8) & 0xFF]
            ^ portableTable[5][(low >> 16) & 0xFF] ^ portableTable[4][low >> 24]
            ^ portableTable[3][high & 0xFF] ^ portableTable[2][(high >> 8) & 0xFF]
            ^ portableTable[1][(high >> 16) & 0xFF] ^ portableTable[0][high >> 24];
        bytes += 8;
        length -= 8;
    }
    while (length > 0) {
        crc = portableTable[0][(crc ^ *bytes++) & 0xFF] ^ (crc >> 8);
        length--;
    }
    return crc;
}

// MARK: x86-64 SSE4.2

#if defined(__x86_64__)

// Streams are combined by shifting a register over a block of zero bytes, a linear map that four
// table lookups apply. Long blocks amortize the combination; short ones serve inputs of a few KB.
#define CRC32C_LONG_BLOCK 8192
#define CRC32C_SHORT_BLOCK 256

static uint32_t longShift[4][256];
static uint32_t shortShift[4][256];

__attribute__((target("sse4.2")))
static uint32_t crc32cZeros(uint32_t crc, size_t length) {
    for (size_t i = 0; i < length; i += 8) crc = (uint32_t)_mm_crc32_u64(crc, 0);
    return crc;
}

// The map is linear over GF(2), so the images of the 32 single-bit registers determine it.
__attribute__((target("sse4.2")))
static void buildShiftTable(uint32_t table[4][256], size_t length) {
    uint32_t basis[32];
    for (int bit = 0; bit < 32; bit++) basis[bit] = crc32cZeros(1u << bit, length);
    for (int slice = 0; slice < 4; slice++) {
        for (uint32_t byte = 0; byte < 256; byte++) {
            uint32_t image = 0;
            for (int bit = 0; bit < 8; bit++) {
                if (byte & (1u << bit)) image ^= basis[slice * 8 + bit];
            }
            table[slice][byte] = image;
        }
    }
}

static inline uint32_t shiftRegister(uint32_t table[4][256], uint32_t crc) {
    return table[0][crc & 0xFF] ^ table[1][(crc >> 8) & 0xFF] ^ table[2][(crc >> 16) & 0xFF]
         ^ table[3][crc >> 24];
}

static inline uint64_t load64(const unsigned char *bytes) {
    uint64_t word;
    memcpy(&word, bytes, sizeof word);
    return word;
}

// Three independent registers over three adjacent blocks keep the instruction's pipeline full;
// the first register then moves past the second block, and the result past the third.
__attribute__((target("sse4.2")))
static uint32_t crc32cInterleaved(uint32_t crc, const unsigned char **bytes, size_t *length,
                                  size_t block, uint32_t table[4][256]) {
    const unsigned char *next = *bytes;
    size_t left = *length;
    while (left >= 3 * block) {
        uint64_t crc0 = crc, crc1 = 0, crc2 = 0;
        for (size_t i = 0; i < block; i += 8) {
            crc0 = _mm_crc32_u64(crc0, load64(next + i));
            crc1 = _mm_crc32_u64(crc1, load64(next + block + i));
            crc2 = _mm_crc32_u64(crc2, load64(next + 2 * block + i));
        }
        crc = shiftRegister(table, (uint32_t)crc0) ^ (uint32_t)crc1;
        crc = shiftRegister(table, crc) ^ (uint32_t)crc2;
        next += 3 * block;
        left -= 3 * block;
    }
    *bytes = next;
    *length = left;
    return crc;
}

__attribute__((target("sse4.2")))
static uint32_t crc32cSSE42(uint32_t crc, const unsigned char *bytes, size_t length) {
    while (length > 0 && ((uintptr_t)bytes & 7) != 0) {
        crc = _mm_crc32_u8(crc, *bytes++);
        length--;
    }
    crc = crc32cInterleaved(crc, &bytes, &length, CRC32C_LONG_BLOCK, longShift);
    crc = crc32cInterleaved(crc, &bytes, &length, CRC32C_SHORT_BLOCK, shortShift);
    uint64_t wide = crc;
    while (length >= 8) {
        wide = _mm_crc32_u64(wide, load64(bytes));
        bytes += 8;
        length -= 8;
    }
    crc = (uint32_t)wide;
    while (length > 0) {
        crc = _mm_crc32_u8(crc, *bytes++);
        length--;
    }
    return crc;
}

static int cpuHasSSE42(void) {
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    return (ecx & bit_SSE4_2) != 0;
}

#endif

// MARK: aarch64 CRC

#if defined(__aarch64__)

// The builtins rather than <arm_acle.h>, whose older versions hide them unless the whole file
// targets the CRC extension; the attribute enables them in this function only.
__attribute__((target("crc")))
static uint32_t crc32cARMv8(uint32_t crc, const unsigned char *bytes, size_t length) {
    while (length > 0 && ((uintptr_t)bytes & 7) != 0) {
        crc = __builtin_arm_crc32cb(crc, *bytes++);
        length--;
    }
    while (length >= 8) {
        uint64_t word;
        memcpy(&word, bytes, sizeof word);
        crc = __builtin_arm_crc32cd(crc, word);
        bytes += 8;
        length -= 8;
    }
    while (length > 0) {
        crc = __builtin_arm_crc32cb(crc, *bytes++);
        length--;
    }
    return crc;
}

static int cpuHasARMv8CRC(void) {
#if defined(__ARM_FEATURE_CRC32)
    return 1;
#else
    return (getauxval(AT_HWCAP) & HWCAP_CRC32) != 0;
#endif
}

#endif

// MARK: Selection

typedef uint32_t (*CRC32CImplementation)(uint32_t, const unsigned char *, size_t);
static CRC32CImplementation selectedImplementation;
static int selectedIsHardware;
static pthread_once_t selectionOnce = PTHREAD_ONCE_INIT;

static void selectImplementation(void) {
#if defined(__x86_64__)
    if (cpuHasSSE42()) {
        buildShiftTable(longShift, CRC32C_LONG_BLOCK);
        buildShiftTable(shortShift, CRC32C_SHORT_BLOCK);
        selectedImplementation = crc32cSSE42;
        selectedIsHardware = 1;
        return;
    }
#elif defined(__aarch64__)
    if (cpuHasARMv8CRC()) {
        selectedImplementation = crc32cARMv8;
        selectedIsHardware = 1;
        return;
    }
#endif
    pthread_once(&portableTableOnce, buildPortableTable);
    selectedImplementation = crc32cPortable;
    selectedIsHardware = 0;
}

uint32_t CLocalStorage_crc32c(uint32_t crc, const void *data, size_t length) {
    pthread_once(&selectionOnce, selectImplementation);
    return ~selectedImplementation(~crc, (const unsigned char *)data, length);
}

uint32_t CLocalStorage_crc32c_portable(uint32_t crc, const void *data, size_t length) {
    pthread_once(&portableTableOnce, buildPortableTable);
    return ~crc32cPortable(~crc, (const unsigned char *)data, length);
}

int CLocalStorage_crc32c_is_hardware_accelerated(void) {
    pthread_once(&selectionOnce, selectImplementation);
    return selectedIsHardware;
}
