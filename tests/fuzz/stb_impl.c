/*
 * stb_impl.c - fuzz builds only: stb_image, stb_image_resize and
 * stb_image_write compiled from Debian libstb-dev's own headers, in place
 * of the shared libstb that normal builds link. Compiled with the fuzz
 * flags, stb's decoders then give libFuzzer coverage to steer by and are
 * checked by ASan and UBSan like mcuopt's code; linked from the shared
 * library they are a black box the fuzzer cannot see into.
 *
 * What it leaves out: everything else in libstb (mcuopt uses only these
 * three), and any change to stb: the code is the headers' as installed.
 */
#define STB_IMAGE_IMPLEMENTATION
#define STB_IMAGE_RESIZE_IMPLEMENTATION
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image.h>
#include <stb_image_resize.h>
#include <stb_image_write.h>
