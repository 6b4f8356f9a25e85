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

/* 1: every int8 Dense layer has at least MCO_FC_S8_ROWS units, so
 * mco_fully_connected_s8 leaves out its pass for narrower layers (and
 * refuses one); 0: any number of units. */
#define MCO_FC_WIDE_ONLY 0

/* 1: the int8 Dense kernel's assembly loop (gcc, DSP cores) is written out
 * twice, two input words per turn: about 2 cycles fewer per 4 inputs x 5
 * units on a Cortex-M4 for some 120 bytes of code; the emitter sets it when
 * the model's int8 Dense layers run enough turns to pay for them. 0: one
 * copy. Same results either way, so a build may define it (-D). */
#ifndef MCO_FC_UNROLL
#define MCO_FC_UNROLL 0
#endif

/* 1: no int8 Dense layer has its weights interleaved (mco_fc_s8_params),
 * so mco_fully_connected_s8 leaves that path out (and refuses such a
 * layer); the emitter sets it for the cores without DSP, whose plans keep
 * [units][in]. */
#ifndef MCO_FC_ROWS_ONLY
#define MCO_FC_ROWS_ONLY 0
#endif

/* 1: every int8 Dense layer of MCO_FC_S8_ROWS units or more has its weights
 * interleaved, so the kernel leaves its row-major five-unit pass out (and
 * refuses such a layer); the emitter sets it for the DSP cores. Narrower
 * layers stay row-major either way. A build may define both (-D). */
#ifndef MCO_FC_INTERLEAVED_ONLY
#define MCO_FC_INTERLEAVED_ONLY 0
#endif

/* The input height and width and the output channels of the model's 3x3
 * conv + max pool layers (mco_conv3x3_maxpool2x2_s8) when they all share
 * them and the width is a multiple of 4: the DSP assembly path takes them as
 * immediates; 0: the C path, any shape. */
#define MCO_CONV3X3_IN_H 0
#define MCO_CONV3X3_IN_W 0
#define MCO_CONV3X3_OUT_C 0

#endif
