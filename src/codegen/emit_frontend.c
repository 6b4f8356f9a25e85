/*
 * emit_frontend.c - NAME_run_pcm for a model with an audio front-end
 * (mco_model.has_frontend): the chip computes the model's input features
 * from 16-bit PCM with the runtime's front-end (runtime/mco_mfcc.c, the
 * code that computed the training features on the host, bit for bit), then
 * runs the model.
 *
 * NAME.c gets the front-end's parameters and its tables (Hann window, FFT
 * twiddles, mel weights, DCT matrix) as const arrays, computed here on the
 * host by the runtime's own mco_mfcc_tables_init (so no table is built on
 * the chip and none takes RAM), and
 *   NAME_run_pcm_with_arena(pcm, out, arena):
 *     1. mco_mfcc_s16 -> the features (float, the data's units) in the arena;
 *     2. a float caller input (--input-type float): NAME_run_with_arena on
 *        them as they are (it normalises and quantizes them itself); else
 *        they are normalised (and quantized, for an int8 model) into the
 *        model's own input by the runtime's mco_input_f32_s8_steps (a
 *        lookup among the 255 values where the int8 input steps up, built on
 *        the host from the double arithmetic), mco_input_f32_s8 (that
 *        arithmetic, when no lookup can be built) or mco_input_f32_f32,
 *        which is what the host does with float features, and
 *        NAME_run_with_arena runs on that;
 *   NAME_run_pcm(pcm, out): the same on the static arena.
 * The arena: [the model's activations | features | model input]; the
 * front-end's scratch overlaps the model's activations when they are large
 * enough (the model does not run yet), else it follows the features.
 * NAME_ARENA_SIZE covers it all (so NAME_run's arena grows by it too).
 *
 * What it leaves out: a uint8 caller input (features are floats: refused),
 * streaming (one whole clip per call) and a fixed-point front-end.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "emit_internal.h"
#include "mcuopt/audio_frontend.h"

mco_status mco_emit_frontend_init(const mco_deploy_model *dm, const mco_plan *plan, const mco_plan_io *types,
                                  uint32_t model_arena, mco_emit_frontend *fe)
{
    memset(fe, 0, sizeof *fe);
    if (!dm->model.has_frontend) return MCO_OK;
    mco_status st = mco_audio_frontend_params(&dm->model.frontend, &fe->params);
    if (st != MCO_OK) return st;
    if ((int32_t)plan->input_size != mco_mfcc_frames(&fe->params) * mco_mfcc_frame_values(&fe->params))
        return mco_error(MCO_ERR_SHAPE, "emit: the audio front-end gives %d x %d features, the model takes %d values",
                         (int)mco_mfcc_frames(&fe->params), (int)mco_mfcc_frame_values(&fe->params),
                         (int)plan->input_size);
    if (types->input_type == MCO_IO_UINT8)
        return mco_error(MCO_ERR_UNSUPPORTED, "emit: a model with an audio front-end takes float features, not a "
                         "uint8 input (take --input-type float or int8)");
    fe->on = 1;
    /* A float input that NAME_run converts (--input-type float) takes the
     * features as they are; the model's own input (int8, or a float model's
     * normalised float) is made from them here. */
    fe->via_float = types->convert_input && types->input_type == MCO_IO_FLOAT;
    fe->input_s8 = plan->input_type == MCO_ELEM_S8;
    if ((st = mco_plan_io_init(dm, plan, MCO_IO_FLOAT, types->output_type, &fe->float_io)) != MCO_OK) return st;
    uint32_t elem = plan->input_type == MCO_ELEM_S8 ? 1u : 4u;
    fe->feature_bytes = (uint32_t)plan->input_size * 4u;
    fe->input_bytes = fe->via_float ? 0u : ((uint32_t)plan->input_size * elem + 3u) & ~3u;
    fe->scratch_bytes = ((uint32_t)mco_mfcc_get_buffer_size(&fe->params) + 3u) & ~3u;
    fe->feature_offset = (model_arena + 3u) & ~3u;
    fe->input_offset = fe->feature_offset + fe->feature_bytes;
    /* The scratch is dead once the features are out: it may share the
     * model's activations (idle until then) or the model input's room. */
    fe->scratch_offset = fe->scratch_bytes <= fe->feature_offset ? 0u : fe->input_offset;
    uint32_t end_input = fe->input_offset + fe->input_bytes, end_scratch = fe->scratch_offset + fe->scratch_bytes;
    fe->arena_bytes = end_input > end_scratch ? end_input : end_scratch;
    return MCO_OK;
}

/* `static const int16_t name[count] = {...};` */
static void emit_s16_array(FILE *f, const char *name, const int16_t *v, size_t count)
{
    fprintf(f, "static const int16_t %s[%zu] = {", name, count);
    for (size_t i = 0; i < count; i++) fprintf(f, "%s%d%s", i % 16 == 0 ? "\n    " : " ", (int)v[i], i + 1 < count ? "," : "");
    fputs("\n};\n", f);
}

mco_status mco_emit_frontend_data(FILE *f, const mco_emit_frontend *fe, const mco_audio_frontend *a,
                                  size_t *bytes)
{
    if (!fe->on) return MCO_OK;
    const mco_mfcc_params *p = &fe->params;
    void *buf = malloc((size_t)mco_mfcc_tables_get_buffer_size(p));
    mco_mfcc_tables t;
    if (!buf) return mco_error(MCO_ERR_NOMEM, "emit: out of memory for the audio front-end's tables");
    if (mco_mfcc_tables_init(p, buf, &t) != MCO_RT_OK) {
        free(buf);
        return mco_error(MCO_ERR_ARG, "emit: the audio front-end refused its parameters");
    }
    char desc[256], l1[40], l2[40];
    mco_audio_frontend_describe(a, desc, sizeof desc);
    size_t half = (size_t)p->fft_size / 2, bins = half + 1;
    fprintf(f,
            "/* The audio front-end NAME_run_pcm computes (runtime/mco_mfcc.h): %s.\n"
            " * Its tables, as mcuopt's host computes them with mco_mfcc_tables_init. */\n"
            "static const mco_mfcc_params frontend_params = {\n"
            "    %d, %d, %d, %d, %d, %d, %d, %s, %s\n};\n",
            desc, (int)p->sample_rate, (int)p->n_samples, (int)p->frame_length, (int)p->frame_stride,
            (int)p->fft_size, (int)p->n_mels, (int)p->n_coeffs, mco_emit_float_literal(p->lower_hz, l1),
            mco_emit_float_literal(p->upper_hz, l2));
    mco_status st = mco_emit_array(f, "frontend_window", MCO_DATA_F32, t.window, (size_t)p->frame_length, bytes);
    if (st == MCO_OK) st = mco_emit_array(f, "frontend_cos", MCO_DATA_F32, t.cos_table, half, bytes);
    if (st == MCO_OK) st = mco_emit_array(f, "frontend_sin", MCO_DATA_F32, t.sin_table, half, bytes);
    if (st == MCO_OK) {
        emit_s16_array(f, "frontend_mel_segment", t.mel_segment, bins);
        *bytes += bins * sizeof(int16_t);
        st = mco_emit_array(f, "frontend_mel_rise", MCO_DATA_F32, t.mel_rise, bins, bytes);
    }
    if (st == MCO_OK) st = mco_emit_array(f, "frontend_mel_fall", MCO_DATA_F32, t.mel_fall, bins, bytes);
    if (st == MCO_OK && p->n_coeffs > 0)
        st = mco_emit_array(f, "frontend_dct", MCO_DATA_F32, t.dct, (size_t)p->n_coeffs * (size_t)p->n_mels, bytes);
    free(buf);
    if (st != MCO_OK) return st;
    fprintf(f,
            "static const mco_mfcc_tables frontend_tables = {\n"
            "    frontend_window, frontend_cos, frontend_sin, frontend_mel_segment, frontend_mel_rise,\n"
            "    frontend_mel_fall, %s\n};\n",
            p->n_coeffs > 0 ? "frontend_dct" : "0");
    if (!fe->via_float && fe->float_io.use_steps && fe->input_s8) {
        /* the same lookup NAME_run makes of a float input (emit.c) */
        fputs("/* the features -> the int8 model input: where the conversion steps up\n"
              " * (mco_input_f32_s8_steps, as mcuopt's host computes it with the model's\n"
              " * normalisation and input quantization) */\n"
              "static const mco_input_steps frontend_input_steps = {\n    {", f);
        for (int k = 0; k < 255; k++)
            fprintf(f, "%s%" PRId32 "%s", k % 8 == 0 ? "\n        " : " ", fe->float_io.steps[k], k < 254 ? "," : "");
        fprintf(f, "\n    },\n    %d\n};\n", (int)fe->float_io.steps_nan);
        *bytes += sizeof(int32_t) * 255 + 1;
    } else if (!fe->via_float) {
        const mco_plan_io *io = &fe->float_io;
        char a1[40], a2[40], a3[40], a4[40];
        fprintf(f,
                "/* the features -> the model input: the model's normalisation and its input's quantization */\n"
                "static const mco_input_params frontend_input_params = {\n"
                "    .norm_scale = %s, .norm_mean = %s, .norm_std = %s,\n"
                "    .scale = %s, .zero_point = %d\n};\n",
                mco_emit_float_literal(io->norm_scale, a1), mco_emit_float_literal(io->norm_mean, a2),
                mco_emit_float_literal(io->norm_std, a3), mco_emit_float_literal(io->in_scale, a4),
                (int)io->in_zero_point);
        *bytes += sizeof(float) * 4 + sizeof(int32_t);
    }
    fputc('\n', f);
    return MCO_OK;
}

void mco_emit_frontend_header(FILE *f, const mco_emit_frontend *fe, const mco_audio_frontend *a,
                              const mco_emit_names *nm)
{
    if (!fe->on) return;
    const char *N = nm->upper, *n = nm->lower;
    char desc[256];
    mco_audio_frontend_describe(a, desc, sizeof desc);
    char *details = strstr(desc, " (");   /* the description on two lines: what, then how */
    if (details) *details++ = '\0';
    fprintf(f,
            "\n/* The audio front-end. %s_run_pcm(pcm, out) computes the model's input on\n"
            " * the chip from %s_PCM_SAMPLES 16-bit mono samples at %s_PCM_RATE Hz\n"
            " * (%s\n * %s)\n"
            " * with mcuopt_runtime/mco_mfcc.c, the code that computed the training\n"
            " * features on the host (the same bits), and runs the model on it. Its\n"
            " * scratch (%" PRIu32 " bytes of features, %" PRIu32 " of front-end work space) is in\n"
            " * the arena and counted in %s_ARENA_SIZE. Returns 0 or a negative\n"
            " * mco_rt_status. %s_run_pcm_with_arena takes the caller's arena (as\n"
            " * %s_run_with_arena). */\n"
            "#define %s_PCM_SAMPLES %d\n#define %s_PCM_RATE %d\n"
            "int %s_run_pcm(const int16_t *pcm, %s_output_t *out);\n"
            "int %s_run_pcm_with_arena(const int16_t *pcm, %s_output_t *out, void *arena);\n",
            n, N, N, desc, details ? details : "", fe->feature_bytes, fe->scratch_bytes, N, n, n, N, (int)fe->params.n_samples, N,
            (int)fe->params.sample_rate, n, n, n, n);
}

void mco_emit_frontend_functions(FILE *f, const mco_emit_frontend *fe, const mco_plan *plan,
                                 const mco_emit_names *nm)
{
    if (!fe->on) return;
    const char *N = nm->upper, *n = nm->lower;
    int s8 = plan->input_type == MCO_ELEM_S8;
    fprintf(f,
            "\n/* The features from PCM on the chip, then the model (see %s.h). */\n"
            "int %s_run_pcm_with_arena(const int16_t *pcm, %s_output_t *out, void *arena)\n{\n"
            "    uint8_t *bytes = (uint8_t *)arena;\n"
            "    float *features;\n"
            "    mco_rt_status status;\n"
            "    if (pcm == 0 || out == 0 || arena == 0 || ((uintptr_t)arena & (%s_ARENA_ALIGN - 1u)) != 0)\n"
            "        return (int)MCO_RT_ARG_ERROR;\n"
            "    features = (float *)(void *)(bytes + %" PRIu32 "u);\n"
            "    status = mco_mfcc_s16(&frontend_params, &frontend_tables, pcm, bytes + %" PRIu32 "u, features);\n"
            "    if (status != MCO_RT_OK) return (int)status;\n",
            nm->header, n, n, N, fe->feature_offset, fe->scratch_offset);
    if (fe->via_float) {
        fprintf(f, "    return %s_run_with_arena(features, out, arena);\n}\n", n);
    } else {
        int steps = s8 && fe->float_io.use_steps;
        fprintf(f,
                "    %s(%s, features,\n"
                "        (%s *)(void *)(bytes + %" PRIu32 "u), %s_INPUT_SIZE);\n"
                "    return %s_run_with_arena((const %s_input_t *)(const void *)(bytes + %" PRIu32 "u), out, arena);\n}\n",
                steps ? "mco_input_f32_s8_steps" : s8 ? "mco_input_f32_s8" : "mco_input_f32_f32",
                steps ? "&frontend_input_steps" : "&frontend_input_params", s8 ? "int8_t" : "float", fe->input_offset, N,
                n, n, fe->input_offset);
    }
    fprintf(f, "\nint %s_run_pcm(const int16_t *pcm, %s_output_t *out)\n{\n    return %s_run_pcm_with_arena(pcm, out, %s_arena.bytes);\n}\n",
            n, n, n, n);
}
