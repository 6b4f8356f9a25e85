/*
 * image_file.c - one image file decoded, converted to grey or RGB and
 * resized to a model's input (mco_image_read, see data.h).
 *
 * The decoder is chosen by the file's first bytes, not its name: PNG by
 * libpng's simplified API (Debian libpng-dev), JPEG by libjpeg-turbo
 * (libjpeg62-turbo-dev), BMP by stb_image (libstb-dev); the resize is
 * stb_image_resize's. PNG and JPEG go to the two libraries Debian keeps
 * security-patched and that are fuzzed upstream: fuzzing stb_image's own
 * decoders (tests/fuzz/fuzz_image.c, stb compiled in with the sanitizers)
 * found an out-of-bounds write in its JPEG Huffman tables within a second.
 *
 * A file is read whole through mco_read_file (a cap of 64 MiB; FIFOs and
 * devices refused); each decoder reads the dimensions from the header and
 * checks them before allocating, so a small file claiming a huge image is
 * refused without allocating it. Every decoder's output is converted by
 * one helper the way stb_image converts (alpha dropped, not composited;
 * grey from RGB by the luma weights 77/150/29 over 256; grey replicated to
 * RGB), so a class's pixels do not depend on the format it was saved in.
 * A BMP must hold the pixel rows its header declares (stb_image would read
 * missing ones as zeros: a 140-byte file decoded as millions of pixels).
 * A JPEG warning (corrupt or truncated data, which libjpeg would fill in
 * with grey) is an error (extraneous bytes between markers aside), and a
 * JPEG of more than 100 scans is refused (a progressive file of thousands
 * of tiny scans decodes for minutes).
 *
 * What it leaves out: GIF, TIFF and WebP files, 16-bit precision (reduced
 * to 8 bits), CMYK JPEGs, colour management beyond libpng's gamma to sRGB
 * (sRGB values are resized as they are, as Keras and TensorFlow do), and
 * aspect-preserving crops (an image is stretched to the model's shape).
 */
#include "mcuopt/data.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>   /* the message codes (JWRN_EXTRANEOUS_DATA) */
#include <png.h>
#include <stb_image.h>
#include <stb_image_resize.h>

#include "mcuopt/file_io.h"

#define IMAGE_FILE_MAX ((size_t)64 << 20)
#define IMAGE_MAX_SIDE 16384
#define IMAGE_MAX_DECODED ((size_t)1 << 26)   /* decoded bytes at 4 per pixel */
#define JPEG_MAX_SCANS 100

/* A decoded image: w x h pixels of comp interleaved 8-bit channels
 * (1 grey, 2 grey + alpha, 3 RGB, 4 RGBA), malloc'd. */
typedef struct {
    uint8_t *pixels;
    int w, h, comp;
} decoded;

static mco_status check_size(const char *path, unsigned long w, unsigned long h)
{
    if (w < 1 || h < 1 || w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE || (size_t)w * (size_t)h * 4 > IMAGE_MAX_DECODED)
        return mco_error(MCO_ERR_RANGE, "%s: a %lux%lu image is larger than mcuopt decodes (%d pixels a side, %zu MiB)",
                         path, w, h, IMAGE_MAX_SIDE, IMAGE_MAX_DECODED >> 20);
    return MCO_OK;
}

/* ---- PNG: libpng's simplified API ------------------------------------------------ */

/* libpng sizes nothing from a chunk's declared length, but its message for
 * a chunk cut short is "Read Error"; this walk names the chunk instead. */
static mco_status check_png_chunks(const char *path, const uint8_t *bytes, size_t size)
{
    size_t pos = 8;
    while (size - pos >= 12) {
        const uint8_t *c = bytes + pos;
        uint32_t len = (uint32_t)c[0] << 24 | (uint32_t)c[1] << 16 | (uint32_t)c[2] << 8 | c[3];
        char type[5];
        for (int i = 0; i < 4; i++) type[i] = c[4 + i] >= 0x20 && c[4 + i] < 0x7f ? (char)c[4 + i] : '?';
        type[4] = '\0';
        if (len > size - pos - 12)
            return mco_error(MCO_ERR_FORMAT, "%s: corrupt image (PNG chunk '%s' of %u bytes runs past the end of "
                             "the file)", path, type, (unsigned)len);
        if (memcmp(c + 4, "IEND", 4) == 0) return MCO_OK;
        pos += 12 + (size_t)len;
    }
    return mco_error(MCO_ERR_FORMAT, "%s: corrupt image (truncated PNG: no IEND chunk)", path);
}

static mco_status decode_png(const char *path, const uint8_t *bytes, size_t size, decoded *out)
{
    mco_status st = check_png_chunks(path, bytes, size);
    if (st != MCO_OK) return st;
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&img, bytes, size))
        st = mco_error(MCO_ERR_FORMAT, "%s: corrupt image (%s)", path, img.message);
    if (st == MCO_OK) st = check_size(path, img.width, img.height);
    if (st == MCO_OK) {
        /* 8-bit sRGB, alpha not premultiplied (libpng premultiplies only linear 16-bit formats). */
        img.format = (img.format & PNG_FORMAT_FLAG_COLOR) ? PNG_FORMAT_RGBA : PNG_FORMAT_GA;
        out->w = (int)img.width;
        out->h = (int)img.height;
        out->comp = (int)PNG_IMAGE_SAMPLE_CHANNELS(img.format);
        out->pixels = malloc(PNG_IMAGE_SIZE(img));
        if (!out->pixels) st = mco_error(MCO_ERR_NOMEM, "%s: out of memory for a %dx%d image", path, out->w, out->h);
    }
    if (st == MCO_OK && !png_image_finish_read(&img, NULL, out->pixels, 0, NULL))
        st = mco_error(MCO_ERR_FORMAT, "%s: corrupt image (%s)", path, img.message);
    png_image_free(&img);
    if (st != MCO_OK) {
        free(out->pixels);
        out->pixels = NULL;
    }
    return st;
}

/* ---- JPEG: libjpeg-turbo ------------------------------------------------------ */

typedef struct {
    struct jpeg_error_mgr pub;
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    char message[JMSG_LENGTH_MAX];
} jpeg_errors;

/* libjpeg's fatal errors, and its warnings too, end the decode here. */
static void jpeg_fail(j_common_ptr cinfo)
{
    jpeg_errors *e = (jpeg_errors *)cinfo->err;
    e->pub.format_message(cinfo, e->message);
    longjmp(e->jump, 1);
}

/* A warning (level -1) is corrupt data, which libjpeg would fill in with
 * grey: an error, except for extraneous bytes between markers, which some
 * cameras write and which are skipped without loss. Trace messages
 * (level >= 0) are dropped: the library prints nothing. */
static void jpeg_message(j_common_ptr cinfo, int level)
{
    if (level < 0 && cinfo->err->msg_code != JWRN_EXTRANEOUS_DATA) jpeg_fail(cinfo);
}

static void jpeg_progress(j_common_ptr cinfo)
{
    jpeg_errors *e = (jpeg_errors *)cinfo->err;
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (cinfo->is_decompressor && d->input_scan_number > JPEG_MAX_SCANS) {
        snprintf(e->message, sizeof e->message, "more than %d scans", JPEG_MAX_SCANS);
        longjmp(e->jump, 1);
    }
}

static mco_status decode_jpeg(const char *path, const uint8_t *bytes, size_t size, decoded *out)
{
    struct jpeg_decompress_struct cinfo;
    jpeg_errors err;
    memset(&err, 0, sizeof err);
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = jpeg_fail;
    err.pub.emit_message = jpeg_message;
    err.progress.progress_monitor = jpeg_progress;
    uint8_t *volatile pixels = NULL;   /* volatile: read after a longjmp */
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        return mco_error(MCO_ERR_FORMAT, "%s: corrupt image (%s)", path, err.message);
    }
    jpeg_create_decompress(&cinfo);
    cinfo.progress = &err.progress;
    jpeg_mem_src(&cinfo, bytes, (unsigned long)size);
    jpeg_read_header(&cinfo, TRUE);
    mco_status st = check_size(path, cinfo.image_width, cinfo.image_height);
    if (st == MCO_OK && cinfo.jpeg_color_space != JCS_GRAYSCALE && cinfo.jpeg_color_space != JCS_YCbCr &&
        cinfo.jpeg_color_space != JCS_RGB)
        st = mco_error(MCO_ERR_UNSUPPORTED, "%s: a CMYK or YCCK JPEG (save it as RGB)", path);
    if (st == MCO_OK) {
        cinfo.out_color_space = cinfo.jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
        jpeg_start_decompress(&cinfo);
        size_t row = (size_t)cinfo.output_width * (size_t)cinfo.output_components;
        pixels = malloc(row * cinfo.output_height);
        if (!pixels) st = mco_error(MCO_ERR_NOMEM, "%s: out of memory for a %ux%u image", path,
                                    cinfo.output_width, cinfo.output_height);
        while (st == MCO_OK && cinfo.output_scanline < cinfo.output_height) {
            JSAMPROW dst = pixels + row * cinfo.output_scanline;
            jpeg_read_scanlines(&cinfo, &dst, 1);
        }
        if (st == MCO_OK) jpeg_finish_decompress(&cinfo);
    }
    if (st == MCO_OK) {
        out->pixels = pixels;
        out->w = (int)cinfo.output_width;
        out->h = (int)cinfo.output_height;
        out->comp = cinfo.output_components;
    } else {
        free(pixels);
    }
    jpeg_destroy_decompress(&cinfo);
    return st;
}

/* ---- BMP: stb_image ------------------------------------------------------------- */

static mco_status decode_bmp(const char *path, const uint8_t *bytes, size_t size, decoded *out)
{
    int w, h, comp;
    if (size > (size_t)INT32_MAX || !stbi_info_from_memory(bytes, (int)size, &w, &h, &comp)) {
        const char *why = stbi_failure_reason();
        return mco_error(MCO_ERR_FORMAT, "%s: corrupt image (%s)", path, why ? why : "not a BMP stb_image reads");
    }
    mco_status st = check_size(path, (unsigned long)w, (unsigned long)h);
    if (st != MCO_OK) return st;
    /* stb_image reads missing pixel data as zeros, so a 140-byte file could
     * decode (and be resized) as 16 M pixels: the rows the header declares
     * (padded to 4 bytes) must be in the file. The bits per pixel sit after
     * the header size, width, height and planes (16-bit fields in an OS/2
     * header of 12 bytes, 32-bit ones in the others). */
    if (size < 30) return mco_error(MCO_ERR_FORMAT, "%s: corrupt image (truncated BMP header)", path);
    uint32_t header = (uint32_t)bytes[14] | (uint32_t)bytes[15] << 8 | (uint32_t)bytes[16] << 16 | (uint32_t)bytes[17] << 24;
    size_t at = header == 12 ? 24 : 28;
    unsigned bpp = (unsigned)bytes[at] | (unsigned)bytes[at + 1] << 8;
    size_t row = ((size_t)w * (bpp ? bpp : 1) + 31) / 32 * 4;
    if (row * (size_t)h > size)
        return mco_error(MCO_ERR_FORMAT, "%s: corrupt image (a %dx%d BMP of %u bits per pixel needs %zu bytes of "
                         "pixels, the file has %zu bytes)", path, w, h, bpp, row * (size_t)h, size);
    int got_w, got_h, got_comp;
    uint8_t *pixels = stbi_load_from_memory(bytes, (int)size, &got_w, &got_h, &got_comp, 0);
    if (!pixels) {
        const char *why = stbi_failure_reason();
        return mco_error(MCO_ERR_FORMAT, "%s: corrupt image (%s)", path, why ? why : "decoding failed");
    }
    if (got_w != w || got_h != h || got_comp < 1 || got_comp > 4) {   /* never trust the buffer's size otherwise */
        stbi_image_free(pixels);
        return mco_error(MCO_ERR_FORMAT, "%s: corrupt image (header %dx%d, data %dx%dx%d)", path, w, h, got_w, got_h,
                         got_comp);
    }
    /* stb_image allocates with malloc (its default STBI_MALLOC), so free() releases it. */
    out->pixels = pixels;
    out->w = w;
    out->h = h;
    out->comp = got_comp;
    return MCO_OK;
}

/* ---- Conversion and resize ---------------------------------------------------- */

/* count pixels of comp channels to c channels (1 or 3), as stb_image converts. */
static void convert_pixels(const uint8_t *in, int comp, size_t count, uint8_t *out, int c)
{
    for (size_t i = 0; i < count; i++, in += comp, out += c) {
        if (comp >= 3) {
            if (c == 1) out[0] = (uint8_t)((in[0] * 77 + in[1] * 150 + in[2] * 29) >> 8);
            else memcpy(out, in, 3);
        } else {
            memset(out, in[0], (size_t)c);
        }
    }
}

mco_status mco_image_read(const char *path, mco_shape shape, uint8_t *out)
{
    static const uint8_t png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (shape.h < 1 || shape.w < 1 || (shape.c != 1 && shape.c != 3))
        return mco_error(MCO_ERR_ARG, "%s: images are read into HxWx1 (grey) or HxWx3 (RGB), not %dx%dx%d", path,
                         shape.h, shape.w, shape.c);
    uint8_t *bytes;
    size_t size;
    mco_status st = mco_read_file(path, IMAGE_FILE_MAX, &bytes, &size);
    if (st != MCO_OK) return st;
    decoded img = {0};
    if (size >= 8 && memcmp(bytes, png_signature, 8) == 0) st = decode_png(path, bytes, size, &img);
    else if (size >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF) st = decode_jpeg(path, bytes, size, &img);
    else if (size >= 2 && bytes[0] == 'B' && bytes[1] == 'M') st = decode_bmp(path, bytes, size, &img);
    else st = mco_error(MCO_ERR_FORMAT, "%s: not a PNG, JPEG or BMP image (by its first bytes)", path);
    free(bytes);
    if (st != MCO_OK) return st;

    size_t count = (size_t)img.w * (size_t)img.h;
    uint8_t *converted = img.w == shape.w && img.h == shape.h ? out : malloc(count * (size_t)shape.c);
    if (!converted) {
        free(img.pixels);
        return mco_error(MCO_ERR_NOMEM, "%s: out of memory for a %dx%d image", path, img.w, img.h);
    }
    convert_pixels(img.pixels, img.comp, count, converted, shape.c);
    free(img.pixels);
    if (converted == out) return MCO_OK;
    if (!stbir_resize(converted, img.w, img.h, 0, out, shape.w, shape.h, 0, STBIR_TYPE_UINT8, shape.c,
                      STBIR_ALPHA_CHANNEL_NONE, 0, STBIR_EDGE_CLAMP, STBIR_EDGE_CLAMP,
                      shape.w < img.w ? STBIR_FILTER_BOX : STBIR_FILTER_TRIANGLE,
                      shape.h < img.h ? STBIR_FILTER_BOX : STBIR_FILTER_TRIANGLE, STBIR_COLORSPACE_LINEAR, NULL))
        st = mco_error(MCO_ERR_NOMEM, "%s: resizing %dx%d to %dx%d failed (out of memory)", path, img.w, img.h,
                       shape.w, shape.h);
    free(converted);
    return st;
}
