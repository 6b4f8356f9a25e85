/*
 * cmd_info.c - `mcuopt info`: per-layer output shape, parameters, MACs and
 * bytes of a saved model or of an architecture.
 */
#include <string.h>

#include "cli.h"
#include "mcuopt/arch.h"
#include "mcuopt/model_file.h"

enum { OPT_ARCH = 1000, OPT_PRINT_ARCH };

static const cli_option info_table[] = {
    {"arch", 0, "NAME|FILE", "describe an architecture instead of a model file", OPT_ARCH},
    {"print-arch", 0, NULL, "print the architecture's text (built-ins only)", OPT_PRINT_ARCH},
    {"json", 0, NULL, "print the table as JSON on stdout", CLI_OPT_JSON},
    {0},
};

static const cli_option *const info_tables[] = {info_table, NULL};

static const cli_command_spec info_spec = {
    "info", "MODEL | --arch NAME|FILE [OPTIONS]",
    "Prints each layer's output shape, parameter count, multiply-accumulates per inference and float32 parameter "
    "bytes.",
    info_tables, NULL,
};

static void shape_text(mco_shape s, char *buf, size_t size)
{
    snprintf(buf, size, "%dx%dx%d", s.h, s.w, s.c);
}

/* Appends a general convolution's fields to the type column (as the arch
 * text spells them): " groups=2", " multiplier=2", " dilation=2x1". */
static void general_conv_text(const mco_layer *l, char *buf, size_t size)
{
    size_t n = strlen(buf);
    if (l->groups > 1 && n < size) n += (size_t)snprintf(buf + n, size - n, " groups=%d", l->groups);
    if (l->depth_multiplier > 1 && n < size) n += (size_t)snprintf(buf + n, size - n, " multiplier=%d", l->depth_multiplier);
    if ((l->dilation_h > 1 || l->dilation_w > 1) && n < size) {
        if (l->dilation_h == l->dilation_w) snprintf(buf + n, size - n, " dilation=%d", l->dilation_h);
        else snprintf(buf + n, size - n, " dilation=%dx%d", l->dilation_h, l->dilation_w);
    }
}

/* The type column: the type's name, and LeakyReLU's / HardSigmoid's
 * parameters ("leaky_relu a=0.1", "hard_sigmoid a=0.2 b=0.5"), an average
 * pool dividing by its whole window ("avgpool2d count_pad"). */
static void type_text(const mco_layer *l, char *buf, size_t size)
{
    if (l->type == MCO_LAYER_LEAKY_RELU)
        snprintf(buf, size, "%s a=%g", mco_layer_type_name(l->type), (double)l->alpha);
    else if (l->type == MCO_LAYER_HARD_SIGMOID)
        snprintf(buf, size, "%s a=%.4g b=%g", mco_layer_type_name(l->type), (double)l->alpha, (double)l->beta);
    else if (l->count_pad)
        snprintf(buf, size, "%s count_pad", mco_layer_type_name(l->type));
    else
        snprintf(buf, size, "%s", mco_layer_type_name(l->type));
    general_conv_text(l, buf, size);
}

static void print_table(const mco_model *m)
{
    char shape[48];
    shape_text(m->input_shape, shape, sizeof shape);
    if (m->loss == MCO_LOSS_MSE)
        printf("%s: input %s, reconstructed (loss mse: an autoencoder)\n", m->arch_name[0] ? m->arch_name : "model",
               shape);
    else
        printf("%s: input %s, %d classes\n", m->arch_name[0] ? m->arch_name : "model", shape, m->n_classes);
    cli_print_normalization(&m->norm);
    if (m->has_frontend) {
        char fe[256];
        mco_audio_frontend_describe(&m->frontend, fe, sizeof fe);
        printf("audio front-end: %s\n", fe);
    }
    printf("%-3s %-20s %-17s %-12s %10s %12s %10s\n", "#", "name", "type", "output", "params",
           "MACs", "bytes");
    for (int i = 0; i < m->n_layers; i++) {
        const mco_layer *l = &m->layers[i];
        shape_text(l->out_shape, shape, sizeof shape);
        size_t params = mco_layer_param_count(l);
        char type[64];
        type_text(l, type, sizeof type);
        printf("%-3d %-20s %-17s %-12s %10zu %12llu %10zu\n", i, l->name, type, shape, params, (unsigned long long)mco_layer_macs(l), params * sizeof(float));
    }
    size_t total = mco_model_param_count(m);
    printf("%-3s %-20s %-17s %-12s %10zu %12llu %10zu\n", "", "total", "", "", total,
           (unsigned long long)mco_model_macs(m), total * sizeof(float));
}

static cJSON *table_json(const mco_model *m)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "arch", m->arch_name);
    int in[3] = {m->input_shape.h, m->input_shape.w, m->input_shape.c};
    cJSON_AddItemToObject(o, "input_shape", cJSON_CreateIntArray(in, 3));
    cJSON_AddNumberToObject(o, "classes", m->n_classes);
    cJSON_AddStringToObject(o, "loss", mco_loss_name(m->loss));
    cJSON_AddItemToObject(o, "normalization", cli_normalization_json(&m->norm));
    if (m->has_frontend) {
        const mco_audio_frontend *a = &m->frontend;
        cJSON *fe = cJSON_AddObjectToObject(o, "audio_frontend");
        cJSON_AddStringToObject(fe, "features", a->n_coeffs ? "mfcc" : "logmel");
        cJSON_AddNumberToObject(fe, "sample_rate", a->sample_rate);
        cJSON_AddNumberToObject(fe, "clip_samples", a->clip_samples);
        cJSON_AddNumberToObject(fe, "frame_length", a->frame_length);
        cJSON_AddNumberToObject(fe, "frame_stride", a->frame_stride);
        cJSON_AddNumberToObject(fe, "fft_size", a->fft_size);
        cJSON_AddNumberToObject(fe, "mel_bands", a->n_mels);
        cJSON_AddNumberToObject(fe, "coefficients", a->n_coeffs);
        cJSON_AddNumberToObject(fe, "lower_hz", (double)a->lower_hz);
        cJSON_AddNumberToObject(fe, "upper_hz", (double)a->upper_hz);
    }
    cJSON *layers = cJSON_AddArrayToObject(o, "layers");
    for (int i = 0; i < m->n_layers; i++) {
        const mco_layer *l = &m->layers[i];
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "name", l->name);
        cJSON_AddStringToObject(j, "type", mco_layer_type_name(l->type));
        if (l->type == MCO_LAYER_LEAKY_RELU || l->type == MCO_LAYER_HARD_SIGMOID)
            cJSON_AddNumberToObject(j, "alpha", (double)l->alpha);
        if (l->type == MCO_LAYER_HARD_SIGMOID) cJSON_AddNumberToObject(j, "beta", (double)l->beta);
        int out[3] = {l->out_shape.h, l->out_shape.w, l->out_shape.c};
        cJSON_AddItemToObject(j, "output_shape", cJSON_CreateIntArray(out, 3));
        cJSON_AddNumberToObject(j, "parameters", (double)mco_layer_param_count(l));
        cJSON_AddNumberToObject(j, "macs", (double)mco_layer_macs(l));
        cJSON_AddNumberToObject(j, "bytes", (double)(mco_layer_param_count(l) * sizeof(float)));
        cJSON_AddItemToArray(layers, j);
    }
    cJSON_AddNumberToObject(o, "parameters", (double)mco_model_param_count(m));
    cJSON_AddNumberToObject(o, "macs", (double)mco_model_macs(m));
    cJSON_AddNumberToObject(o, "bytes", (double)(mco_model_param_count(m) * sizeof(float)));
    return o;
}

int cmd_info(int argc, char **argv)
{
    const char *arch = NULL;
    int json = 0, print_arch = 0;
    cli_parser p;
    cli_parser_init(&p, &info_spec, argc, argv);
    int c;
    while ((c = cli_getopt(&p)) > 0) {
        switch (c) {
        case OPT_ARCH: arch = optarg; break;
        case OPT_PRINT_ARCH: print_arch = 1; break;
        case CLI_OPT_JSON: json = 1; break;
        default: return cli_option_unhandled(&p, c);
        }
    }
    if (c < 0) return p.exit_code;
    int files = argc - optind;
    if ((arch && files != 0) || (!arch && files != 1))
        return cli_usage_error("info", "expected one MODEL file or --arch NAME");
    if (print_arch) {
        const char *text = arch ? mco_arch_builtin_text(arch) : NULL;
        if (!text) return cli_usage_error("info", "--print-arch needs --arch with a built-in name");
        fputs(text, stdout);
        return CLI_EXIT_OK;
    }
    mco_model m;
    mco_status st = arch ? mco_arch_load(arch, (mco_shape){0, 0, 0}, 0, &m)
                         : mco_model_load(argv[optind], &m);
    if (st != MCO_OK) return cli_fail(st);
    if (json) cli_print_json(table_json(&m));
    else print_table(&m);
    mco_model_free(&m);
    return CLI_EXIT_OK;
}
