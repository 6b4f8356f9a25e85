/*
 * fuzz_validate_inputs.c - libFuzzer harness for the inputs file of
 * `mcuopt validate --inputs` (mco_validate_read_inputs): the input is
 * written under each of the four names the reader knows (x.npy, x.u8,
 * x.f32, x.i8) and read for three model shapes (28x28x1, 2x2x1, 1x1x3).
 *
 * A read must either succeed or fail with one error line. What it reads
 * holds n inputs of exactly the shape's values: samples (uint8, or float32
 * all finite) or int8 model inputs, never both.
 *
 * What it leaves out: running the inputs (mcuopt validate's other steps
 * take only what this reader accepted).
 */
#include <math.h>
#include <string.h>

#include "fuzz_util.h"
#include "mcuopt/validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[4] = {"x.npy", "x.u8", "x.f32", "x.i8"};
    static const mco_shape shapes[3] = {{28, 28, 1}, {2, 2, 1}, {1, 1, 3}};
    for (int f = 0; f < 4; f++) {
        const char *path = fuzz_write_temp(names[f], data, size);
        for (int s = 0; s < 3; s++) {
            mco_validate_file in;
            mco_status st = mco_validate_read_inputs(path, shapes[s], &in);
            fuzz_check_status(st, "mco_validate_read_inputs");
            if (st != MCO_OK) continue;
            size_t values = (size_t)in.n * mco_shape_size(shapes[s]);
            if (in.n < 1 || !in.model_inputs == !(in.samples.samples_u8 || in.samples.samples_f32))
                fuzz_fail("mco_validate_read_inputs", "no inputs, or both kinds");
            if (in.model_inputs) {
                volatile int8_t last = in.model_inputs[values - 1];
                (void)last;
            } else {
                const mco_dataset *ds = &in.samples;
                mco_shape d = ds->shape;
                if (ds->n != in.n || d.h != shapes[s].h || d.w != shapes[s].w || d.c != shapes[s].c)
                    fuzz_fail("mco_validate_read_inputs", "the samples' count or shape");
                for (size_t i = 0; ds->sample_type == MCO_SAMPLE_F32 && i < values; i++)
                    if (!isfinite(ds->samples_f32[i])) fuzz_fail("mco_validate_read_inputs", "a float is not finite");
                if (ds->sample_type == MCO_SAMPLE_U8) {
                    volatile uint8_t last = ds->samples_u8[values - 1];
                    (void)last;
                }
            }
            mco_validate_file_free(&in);
        }
        fuzz_remove_temp(names[f]);
    }
    return 0;
}
