/*
 * fuzz_image.c - libFuzzer harness for the image reader (mco_image_read:
 * stb_image's PNG, JPEG and BMP decoders behind mcuopt's header checks,
 * then the conversion and the resize): the input is written as img.png in
 * a temporary directory (stb_image picks the decoder by content, not name)
 * and read into an 8x8 RGB sample, a 5x3 grey one (resizing down or up)
 * and a 64x48 RGB one.
 *
 * A read must either succeed or fail with one error line; the sanitizers
 * watch every byte the decoders and the resizer touch (the output buffers
 * are exactly the sample's size).
 *
 * What it leaves out: listing folders (image_folder.c's directory walk is
 * no file format) and GIF, TIFF and WebP, which mcuopt does not take.
 */
#include <stdlib.h>

#include "fuzz_util.h"
#include "mcuopt/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_temp("img.png", data, size);
    static const mco_shape shapes[] = {{8, 8, 3}, {5, 3, 1}, {64, 48, 3}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        size_t bytes = mco_shape_size(shapes[i]);
        uint8_t *out = malloc(bytes);
        if (!out) abort();
        mco_status st = mco_image_read(path, shapes[i], out);
        fuzz_check_status(st, "mco_image_read");
        if (st == MCO_OK) {
            unsigned sum = 0;   /* every output byte was written (MSan aside, ASan sees reads of the buffer) */
            for (size_t k = 0; k < bytes; k++) sum += out[k];
            volatile unsigned sink = sum;
            (void)sink;
        }
        free(out);
        if (st != MCO_OK) break;   /* the same file fails the same way at every shape */
    }
    return 0;
}
