/*
 * mco_arch.h - which instruction-set extensions the runtime may use, and the
 * few DSP intrinsics it needs, wrapped in one place.
 *
 * MCO_HAVE_DSP is 1 when the compiler targets the Armv7E-M DSP extension
 * (__ARM_FEATURE_DSP: Cortex-M4, M7, M33 with DSP...), else 0. Define
 * MCO_FORCE_GENERIC to use the portable C path everywhere (tests compare
 * it with the DSP path). Define MCO_EMULATE_DSP on a host to run the DSP
 * path with the C emulations below, so its logic is tested off-target.
 *
 * The intrinsics work on 32-bit words holding two int16 halves ("dual16")
 * or four int8 bytes:
 *   mco_sxtb16(x)        bytes 0 and 2 of x, sign-extended to two int16
 *   mco_sxtb16_ror8(x)   bytes 1 and 3 of x, sign-extended
 *   mco_sxtab16(a, x)    a's two int16 halves plus bytes 0 and 2 of x
 *   mco_sxtab16_ror8(a, x) the same with bytes 1 and 3
 *   mco_smlad(x, y, acc) acc + x.lo*y.lo + x.hi*y.hi (wraps modulo 2^32)
 *   mco_smlabb(x, y, acc) acc + x.lo*y.lo;  mco_smlatb(x, y, acc) acc + x.hi*y.lo
 *   mco_smlabt(x, y, acc) acc + x.lo*y.hi;  mco_smlatt(x, y, acc) acc + x.hi*y.hi
 *   mco_smmulr(a, b)     round(a * b / 2^32) (plain C without DSP)
 *   mco_ssat8(x)         x saturated to int8 (SSAT on Armv7-M, C elsewhere)
 * On Arm they are ACLE intrinsics (<arm_acle.h>) or one inline instruction.
 *
 * What it leaves out: Helium (MVE) paths for Cortex-M55/M85.
 */
#ifndef MCO_ARCH_H
#define MCO_ARCH_H

#include <stdint.h>
#include <string.h>

#if defined(MCO_FORCE_GENERIC)
#define MCO_HAVE_DSP 0
#elif defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP
#define MCO_HAVE_DSP 1
#define MCO_DSP_NATIVE 1
#elif defined(MCO_EMULATE_DSP)
#define MCO_HAVE_DSP 1
#define MCO_DSP_NATIVE 0
#else
#define MCO_HAVE_DSP 0
#endif

/* MCO_ASM_REGS: how many core registers the compiler can be relied on to
 * give one inline-assembly block as operands. The kernels' assembly loops
 * (a few DSP kernels) are compiled only where their operand count fits;
 * elsewhere the same kernel runs its C path (ACLE intrinsics), which gives
 * bit-identical results. The small one-instruction wrappers below (2 or 3
 * operands) fit everywhere.
 *   14  GCC with optimisation (-Og, -O1..-O3, -Os): r0-r12 and lr, the
 *       frame pointer being omitted. (With -fno-omit-frame-pointer GCC
 *       keeps r7, which no macro reveals: build with -DMCO_ASM_REGS=0.)
 *   13  Clang at any level: it keeps r7 as the frame pointer.
 *    0  GCC -O0 (the frame pointer, and an allocator that fails even on
 *       fewer operands with an FPU enabled), other compilers, no DSP.
 * Define MCO_ASM_REGS yourself to override (0: no assembly loops); it is
 * always 0 without a native DSP path. */
#if !(MCO_HAVE_DSP && MCO_DSP_NATIVE)
#undef MCO_ASM_REGS
#define MCO_ASM_REGS 0
#elif !defined(MCO_ASM_REGS)
#if defined(__clang__)
#define MCO_ASM_REGS 13
#elif defined(__GNUC__) && defined(__OPTIMIZE__)
#define MCO_ASM_REGS 14
#else
#define MCO_ASM_REGS 0
#endif
#endif

/* Keeps a helper out of its caller, so each gets the registers to itself. */
#if defined(__GNUC__)
#define MCO_NOINLINE __attribute__((noinline))
#else
#define MCO_NOINLINE
#endif

/* Four int8 read as one word (an unaligned LDR on Armv7-M), pointer advanced. */
static inline int32_t mco_read_s8x4(const int8_t **p)
{
    int32_t word;
    memcpy(&word, *p, 4);
    *p += 4;
    return word;
}

#if MCO_HAVE_DSP && MCO_DSP_NATIVE
#include <arm_acle.h>

static inline int32_t mco_sxtb16(int32_t x) { return __sxtb16(x); }
static inline int32_t mco_sxtab16(int32_t a, int32_t x) { return __sxtab16(a, x); }
static inline int32_t mco_smlad(int32_t x, int32_t y, int32_t acc) { return __smlad(x, y, acc); }
static inline int32_t mco_smlabb(int32_t x, int32_t y, int32_t acc) { return __smlabb(x, y, acc); }
static inline int32_t mco_smlatb(int32_t x, int32_t y, int32_t acc) { return __smlatb(x, y, acc); }
static inline int32_t mco_smlabt(int32_t x, int32_t y, int32_t acc) { return __smlabt(x, y, acc); }
static inline int32_t mco_smlatt(int32_t x, int32_t y, int32_t acc) { return __smlatt(x, y, acc); }
static inline int32_t mco_sxtb16_ror8(int32_t x)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}
static inline int32_t mco_sxtab16_ror8(int32_t a, int32_t x)
{
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(x));
    return r;
}

#elif MCO_HAVE_DSP
/* Host emulations, exact to the instructions (unsigned arithmetic, so
 * wrap-around is defined). */
static inline uint32_t mco_emu_half(int32_t v) { return (uint32_t)v & 0xFFFFu; }
static inline int32_t mco_emu_byte(int32_t x, int byte)
{
    return (int32_t)(int8_t)(uint8_t)(((uint32_t)x >> (8 * byte)) & 0xFFu);
}
static inline int32_t mco_emu_lo(int32_t x) { return (int32_t)(int16_t)(uint16_t)((uint32_t)x & 0xFFFFu); }
static inline int32_t mco_emu_hi(int32_t x) { return (int32_t)(int16_t)(uint16_t)((uint32_t)x >> 16); }
static inline int32_t mco_emu_pack(int32_t lo, int32_t hi)
{
    return (int32_t)(mco_emu_half(lo) | (mco_emu_half(hi) << 16));
}
static inline int32_t mco_sxtb16(int32_t x) { return mco_emu_pack(mco_emu_byte(x, 0), mco_emu_byte(x, 2)); }
static inline int32_t mco_sxtb16_ror8(int32_t x) { return mco_emu_pack(mco_emu_byte(x, 1), mco_emu_byte(x, 3)); }
static inline int32_t mco_sxtab16(int32_t a, int32_t x)
{
    return mco_emu_pack(mco_emu_lo(a) + mco_emu_byte(x, 0), mco_emu_hi(a) + mco_emu_byte(x, 2));
}
static inline int32_t mco_sxtab16_ror8(int32_t a, int32_t x)
{
    return mco_emu_pack(mco_emu_lo(a) + mco_emu_byte(x, 1), mco_emu_hi(a) + mco_emu_byte(x, 3));
}
static inline int32_t mco_smlad(int32_t x, int32_t y, int32_t acc)
{
    uint32_t sum = (uint32_t)acc + (uint32_t)(mco_emu_lo(x) * mco_emu_lo(y)) +
                   (uint32_t)(mco_emu_hi(x) * mco_emu_hi(y));
    return (int32_t)sum;
}
static inline int32_t mco_smlabb(int32_t x, int32_t y, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(mco_emu_lo(x) * mco_emu_lo(y)));
}
static inline int32_t mco_smlatb(int32_t x, int32_t y, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(mco_emu_hi(x) * mco_emu_lo(y)));
}
static inline int32_t mco_smlabt(int32_t x, int32_t y, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(mco_emu_lo(x) * mco_emu_hi(y)));
}
static inline int32_t mco_smlatt(int32_t x, int32_t y, int32_t acc)
{
    return (int32_t)((uint32_t)acc + (uint32_t)(mco_emu_hi(x) * mco_emu_hi(y)));
}
#endif

/* x saturated to [-128, 127]: SSAT #8 where the core has it. */
static inline int32_t mco_ssat8(int32_t x)
{
#if defined(__ARM_FEATURE_SAT) && __ARM_FEATURE_SAT
    int32_t r;
    __asm__("ssat %0, #8, %1" : "=r"(r) : "r"(x));
    return r;
#else
    return x < -128 ? -128 : (x > 127 ? 127 : x);
#endif
}

/* round(a * b / 2^32), ties up: SMMULR on a DSP core. */
#if MCO_HAVE_DSP && MCO_DSP_NATIVE
static inline int32_t mco_smmulr(int32_t a, int32_t b)
{
    int32_t r;
    __asm__("smmulr %0, %1, %2" : "=r"(r) : "r"(a), "r"(b));
    return r;
}
#else
static inline int32_t mco_smmulr(int32_t a, int32_t b)
{
    return (int32_t)(((int64_t)a * b + ((int64_t)1 << 31)) >> 32);
}
#endif

#if MCO_HAVE_DSP
/* Four int8 read as one word, pointer not advanced. */
static inline int32_t mco_peek_s8x4(const int8_t *p)
{
    int32_t word;
    memcpy(&word, p, 4);
    return word;
}

/* The dual16 word (lo, hi). */
static inline int32_t mco_pack16(int32_t lo, int32_t hi)
{
    return (int32_t)(((uint32_t)lo & 0xFFFFu) | (((uint32_t)hi & 0xFFFFu) << 16));
}

/* The dual16 word (v, v), e.g. an input offset added to two bytes at once. */
static inline int32_t mco_dup16(int32_t v)
{
    uint32_t half = (uint32_t)v & 0xFFFFu;
    return (int32_t)(half | (half << 16));
}
#endif

#endif
