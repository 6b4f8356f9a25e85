/*
 * harness_main.c - the measurement harness that runs an emitted model on an
 * emulated Cortex-M. For each test input it copies the input into a typed
 * buffer, paints the free stack with a pattern, calls model_run() between the
 * marker functions mco_measure_begin()/mco_measure_end() (the QEMU plugin
 * counts instructions between them), compares the output bytes with the
 * expected ones and measures how deep model_run reached into the painted
 * stack. It prints one line per input over semihosting:
 *
 *   MCO_HARNESS <n_inputs>
 *   MCO_RESULT <index> <model_run return value> <1 pass | 0 fail> <stack bytes>
 *   MCO_OUTPUT <index> <the output bytes in hex>   (after a failed one only)
 *   MCO_DONE
 *
 * The build defines MCO_N_INPUTS, MCO_INPUT_BYTES and MCO_OUTPUT_BYTES; the
 * generated test_vectors.c holds the data. Per-op figures need nothing
 * here: the build force-includes mco_layer_mark.h, whose marks inside
 * model_run (one before each op, one after the last) split each window
 * between the two marker calls; what lies outside the marks (this loop's
 * call and model_run's entry and exit) is reported as overhead.
 * Built with MCO_HARNESS_PCM (a model with an audio front-end), the inputs
 * are 16-bit PCM clips of MODEL_PCM_SAMPLES samples and the harness calls
 * model_run_pcm, so the count covers the features computed on the chip
 * (runtime/mco_mfcc.c) and the model.
 * Left out: timing (cycles are estimated on the host from the instruction
 * counts, see src/target/).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "model.h"

extern const uint8_t mco_test_inputs[MCO_N_INPUTS][MCO_INPUT_BYTES];
extern const uint8_t mco_test_expected[MCO_N_INPUTS][MCO_OUTPUT_BYTES];

#ifdef MCO_HARNESS_PCM
typedef int16_t harness_input_t;
#define HARNESS_INPUT_SIZE MODEL_PCM_SAMPLES
#define HARNESS_RUN model_run_pcm
#else
typedef model_input_t harness_input_t;
#define HARNESS_INPUT_SIZE MODEL_INPUT_SIZE
#define HARNESS_RUN model_run
#endif
_Static_assert(sizeof(harness_input_t) * HARNESS_INPUT_SIZE == MCO_INPUT_BYTES,
               "test input size does not match the model's input (MODEL_INPUT_SIZE or MODEL_PCM_SAMPLES)");
_Static_assert(sizeof(model_output_t) * MODEL_OUTPUT_SIZE == MCO_OUTPUT_BYTES,
               "expected output size does not match MODEL_OUTPUT_SIZE * sizeof(model_output_t)");

#define STACK_PAINT 0xC5A5A5C5u

/* The markers must stay separate, real functions: noipa keeps GCC from
 * inlining, cloning or folding them into one. */
static volatile uint32_t marker_sink;
__attribute__((noipa)) void mco_measure_begin(void) { marker_sink = 1; }
__attribute__((noipa)) void mco_measure_end(void) { marker_sink = 2; }

static inline uintptr_t current_sp(void)
{
    uintptr_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

/* Paints [low, own stack pointer) and returns low; a leaf function, so
 * nothing of its own lives below its stack pointer. */
__attribute__((noipa)) static uint32_t *paint_stack(uint32_t *low)
{
    uint32_t *top = (uint32_t *)(current_sp() & ~(uintptr_t)3);
    for (uint32_t *p = low; p < top; p++) *p = STACK_PAINT;
    return low;
}

static uint32_t *first_dirty_word(uint32_t *low, uintptr_t sp)
{
    uint32_t *p = low;
    while ((uintptr_t)p < sp && *p == STACK_PAINT) p++;
    return p;
}

static harness_input_t input[HARNESS_INPUT_SIZE];
static model_output_t output[MODEL_OUTPUT_SIZE];

int main(void)
{
    printf("MCO_HARNESS %u\n", (unsigned)MCO_N_INPUTS);
    /* stdio has allocated its buffers by now; keep a margin above the heap. */
    uint32_t *paint_low = (uint32_t *)(((uintptr_t)sbrk(0) + 256u) & ~(uintptr_t)3);
    for (unsigned i = 0; i < MCO_N_INPUTS; i++) {
        memcpy(input, mco_test_inputs[i], MCO_INPUT_BYTES);
        memset(output, 0, sizeof output);
        paint_stack(paint_low);
        uintptr_t sp = current_sp();
        mco_measure_begin();
        int rc = HARNESS_RUN(input, output);
        mco_measure_end();
        uintptr_t stack_bytes = sp - (uintptr_t)first_dirty_word(paint_low, sp);
        int pass = rc == 0 && memcmp(output, mco_test_expected[i], MCO_OUTPUT_BYTES) == 0;
        printf("MCO_RESULT %u %d %d %lu\n", i, rc, pass, (unsigned long)stack_bytes);
        if (!pass) {   /* what the target computed, for the host to compare (mcuopt validate) */
            const uint8_t *bytes = (const uint8_t *)output;
            printf("MCO_OUTPUT %u ", i);
            for (unsigned b = 0; b < MCO_OUTPUT_BYTES; b++) printf("%02x", (unsigned)bytes[b]);
            printf("\n");
        }
    }
    printf("MCO_DONE\n");
    return 0;
}
