/*
 * mco_config.h - compile-time options of the runtime. This copy holds the
 * host's settings, which run every model; `mcuopt emit` writes a model's
 * own mco_config.h in its place, with the options that model's plan allows
 * (src/codegen/emit_runtime.c), so the target links only the code it needs.
 * Every option gives bit-identical results wherever the emitter sets it.
 */
#ifndef MCO_CONFIG_H
#define MCO_CONFIG_H

/* 1: every int8 output stage (mco_fp_output_s8) has a multiplier >= 0 and
 * a shift in [-31, -1], so it runs as one 64-bit multiply-add
 * (mco_fp_requant_right); 0: any multiplier and shift. */
#define MCO_REQUANT_RIGHT_ONLY 0

/* 1: moreover every shift is in [-22, -1] and every accumulator below 2^30
 * in magnitude (bias + fan-in * 128 * 255 bounds it), so it runs in 32-bit
 * arithmetic (mco_fp_requant_fast). */
#define MCO_REQUANT_FAST 0

#endif
