/*
 * arch.c - the architecture text format and the built-in architectures
 * (see arch.h for the format). The built-ins are plain texts in this format,
 * so there is one way to describe a network, and `mcuopt info --arch NAME
 * --print-arch` shows a user a starting point for their own file.
 *
 * What it leaves out: no expressions, no loops or blocks; a residual network
 * is spelled out layer by layer (resnet8 below shows how).
 */
#include "mcuopt/arch.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/file_util.h"

typedef struct {
    const char *name;
    const char *text;
} builtin_arch;

/* One depthwise-separable block: 3x3 depthwise (stride S), BatchNorm, ReLU,
 * then a 1x1 convolution to F filters, BatchNorm, ReLU. */
#define SEPARABLE_BLOCK(S, F)                            \
    "depthwise_conv2d kernel=3 stride=" #S " padding=same\n" \
    "batchnorm\n"                                        \
    "relu\n"                                             \
    "conv2d filters=" #F " kernel=1 padding=same\n"      \
    "batchnorm\n"                                        \
    "relu\n"

/* MLPerf Tiny's keyword spotting DS-CNN (benchmark/training/keyword_spotting,
 * keras_model.py, 'ds_cnn'). Its final AveragePooling2D has pool_size
 * (49/2, 10/2) = 24x5 on the 25x5 feature map, so it averages the first 24
 * of the 25 rows (valid padding, one output): a global average pool, which
 * an earlier text of ds-cnn-s had, averages all 25 and is another network.
 * Keras' Flatten of the 1x1x64 result is the identity and is left out. */
#define DS_CNN_TEXT                                                              \
    "# MLPerf Tiny keyword spotting DS-CNN: 49x10 MFCC input, 12 classes.\n"    \
    "input 49 10 1\n"                                                           \
    "classes 12\n"                                                              \
    "conv2d filters=64 kernel=10x4 stride=2 padding=same\n"                     \
    "batchnorm\n"                                                               \
    "relu\n"                                                                    \
    "dropout rate=0.2\n"                                                        \
    SEPARABLE_BLOCK(1, 64)                                                      \
    SEPARABLE_BLOCK(1, 64)                                                      \
    SEPARABLE_BLOCK(1, 64)                                                      \
    SEPARABLE_BLOCK(1, 64)                                                      \
    "dropout rate=0.4\n"                                                        \
    "# the reference's AveragePooling2D(pool_size=(24, 5)) on 25x5\n"           \
    "avgpool2d pool=24x5\n"                                                     \
    "dense units=classes\n"

/* A hidden layer of the anomaly detection autoencoder. */
#define AD_DENSE(U) "dense units=" #U "\nbatchnorm\nrelu\n"

static const builtin_arch builtins[] = {
    {"mnist-paper",
     "# The TensorFlow MNIST model of the published STM32F405 study:\n"
     "# 20,410 parameters, 93,288 MACs.\n"
     "input 28 28 1\n"
     "classes 10\n"
     "conv2d filters=12 kernel=3 padding=valid\n"
     "relu\n"
     "maxpool2d pool=2\n"
     "flatten\n"
     "dense units=classes\n"},
    {"lenet5",
     "# LeNet-5 (LeCun et al. 1998) with ReLU and max pooling, for 28x28 input.\n"
     "input 28 28 1\n"
     "classes 10\n"
     "conv2d filters=6 kernel=5 padding=same\n"
     "relu\n"
     "maxpool2d pool=2\n"
     "conv2d filters=16 kernel=5 padding=valid\n"
     "relu\n"
     "maxpool2d pool=2\n"
     "flatten\n"
     "dense units=120\n"
     "relu\n"
     "dense units=84\n"
     "relu\n"
     "dense units=classes\n"},
    {"ds-cnn", DS_CNN_TEXT},
    {"ds-cnn-s", DS_CNN_TEXT},   /* the older name, kept as an alias */
    {"mobilenet-v1-0.25",
     "# MLPerf Tiny visual wake words (benchmark/training/visual_wake_words,\n"
     "# vww_model.py): MobileNetV1 with width multiplier 0.25 on 96x96x3 images,\n"
     "# 2 classes (person / no person), ReLU as in the reference (Keras' own\n"
     "# MobileNet has ReLU6); its AveragePooling2D over the whole 3x3 map is a\n"
     "# global average pool.\n"
     "input 96 96 3\n"
     "classes 2\n"
     "conv2d filters=8 kernel=3 stride=2 padding=same\n"
     "batchnorm\n"
     "relu\n"
     "# 13 depthwise-separable blocks: depthwise 3x3 (stride 1 or 2), then 1x1\n"
     SEPARABLE_BLOCK(1, 16)
     SEPARABLE_BLOCK(2, 32)
     SEPARABLE_BLOCK(1, 32)
     SEPARABLE_BLOCK(2, 64)
     SEPARABLE_BLOCK(1, 64)
     SEPARABLE_BLOCK(2, 128)
     SEPARABLE_BLOCK(1, 128)
     SEPARABLE_BLOCK(1, 128)
     SEPARABLE_BLOCK(1, 128)
     SEPARABLE_BLOCK(1, 128)
     SEPARABLE_BLOCK(1, 128)
     SEPARABLE_BLOCK(2, 256)
     SEPARABLE_BLOCK(1, 256)
     "global_avgpool\n"
     "dense units=classes\n"
     "softmax\n"},
    {"ad-autoencoder",
     "# MLPerf Tiny anomaly detection (benchmark/training/anomaly_detection,\n"
     "# keras_model.py): the Dense autoencoder on 5 frames x 128 log-mel values,\n"
     "# 640 -> 4 x (128 + BN + ReLU) -> 8 + BN + ReLU -> 4 x (128 + BN + ReLU)\n"
     "# -> 640, linear output, trained to reconstruct its input.\n"
     "input 1 1 640\n"
     "loss mse\n"
     AD_DENSE(128) AD_DENSE(128) AD_DENSE(128) AD_DENSE(128)
     AD_DENSE(8)
     AD_DENSE(128) AD_DENSE(128) AD_DENSE(128) AD_DENSE(128)
     "dense units=640\n"},
    {"resnet8",
     "# MLPerf Tiny image classification ResNet-8: 32x32x3 input, 10 classes.\n"
     "input 32 32 3\n"
     "classes 10\n"
     "conv2d filters=16 kernel=3 padding=same\n"
     "batchnorm\n"
     "stem = relu\n"
     "# stack 1: 16 filters, identity shortcut\n"
     "conv2d filters=16 kernel=3 padding=same\n"
     "batchnorm\n"
     "relu\n"
     "conv2d filters=16 kernel=3 padding=same\n"
     "b1 = batchnorm\n"
     "add inputs=stem,b1\n"
     "s1 = relu\n"
     "# stack 2: 32 filters, stride 2, 1x1 convolution shortcut\n"
     "conv2d filters=32 kernel=3 stride=2 padding=same\n"
     "batchnorm\n"
     "relu\n"
     "conv2d filters=32 kernel=3 padding=same\n"
     "b2 = batchnorm\n"
     "sc2 = conv2d filters=32 kernel=1 stride=2 padding=same input=s1\n"
     "add inputs=sc2,b2\n"
     "s2 = relu\n"
     "# stack 3: 64 filters, stride 2, 1x1 convolution shortcut\n"
     "conv2d filters=64 kernel=3 stride=2 padding=same\n"
     "batchnorm\n"
     "relu\n"
     "conv2d filters=64 kernel=3 padding=same\n"
     "b3 = batchnorm\n"
     "sc3 = conv2d filters=64 kernel=1 stride=2 padding=same input=s2\n"
     "add inputs=sc3,b3\n"
     "relu\n"
     "global_avgpool\n"
     "dense units=classes\n"},
    {"mlp",
     "# A two-layer perceptron baseline.\n"
     "input 28 28 1\n"
     "classes 10\n"
     "flatten\n"
     "dense units=128\n"
     "relu\n"
     "dense units=classes\n"},
};

#define BUILTIN_COUNT (sizeof builtins / sizeof builtins[0])

/* The names, NULL-terminated: filled once (pthread_once, so two threads
 * asking at once do not race), then only read. */
static const char *builtin_names[BUILTIN_COUNT + 1];
static pthread_once_t builtin_names_once = PTHREAD_ONCE_INIT;

static void fill_builtin_names(void)
{
    for (size_t i = 0; i < BUILTIN_COUNT; i++) builtin_names[i] = builtins[i].name;
    builtin_names[BUILTIN_COUNT] = NULL;
}

const char *const *mco_arch_builtin_names(void)
{
    pthread_once(&builtin_names_once, fill_builtin_names);
    return builtin_names;
}

const char *mco_arch_builtin_text(const char *name)
{
    for (size_t i = 0; i < BUILTIN_COUNT; i++)
        if (strcmp(builtins[i].name, name) == 0) return builtins[i].text;
    return NULL;
}

/* ---- parser -------------------------------------------------------------- */

#define MAX_TOKENS 16
#define LINE_MAX_CHARS 512

typedef struct {
    const char *origin;
    int line;
    mco_model *model;
    int n_classes;          /* value of "classes": the caller's (the data's) or the text's */
    int data_classes;       /* the caller's class count, 0: none given */
    int classes_line;       /* a "classes" line was read */
} parse_state;

static mco_status parse_error(const parse_state *ps, const char *what, const char *token)
{
    return mco_error(MCO_ERR_FORMAT, "%s:%d: %s%s%s%s", ps->origin, ps->line, what,
                     token ? " '" : "", token ? token : "", token ? "'" : "");
}

/* Parses a positive integer no larger than MCO_MAX_DIM. */
/* An integer min..MCO_MAX_DIM. */
static int parse_int_at_least(const char *s, long min, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end != '\0' || v < min || v > MCO_MAX_DIM) return 0;
    *out = (int)v;
    return 1;
}

static int parse_positive(const char *s, int *out)
{
    return parse_int_at_least(s, 1, out);
}

/* "3" -> 3x3, "10x4" -> 10x4, each at least min. */
static int parse_pair_at_least(const char *s, long min, int *a, int *b)
{
    char buf[64];
    if (strlen(s) >= sizeof buf) return 0;
    strcpy(buf, s);
    char *x = strchr(buf, 'x');
    if (!x) {
        if (!parse_int_at_least(buf, min, a)) return 0;
        *b = *a;
        return 1;
    }
    *x = '\0';
    return parse_int_at_least(buf, min, a) && parse_int_at_least(x + 1, min, b);
}

static int parse_pair(const char *s, int *a, int *b)
{
    return parse_pair_at_least(s, 1, a, b);
}

static int parse_float(const char *s, float *out)
{
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (errno || end == s || *end != '\0') return 0;
    *out = v;
    return 1;
}

/* Finds a layer by name; MCO_INPUT for "input"; -2 if unknown. */
static int find_layer(const mco_model *model, const char *name)
{
    if (strcmp(name, "input") == 0) return MCO_INPUT;
    for (int i = model->n_layers - 1; i >= 0; i--)
        if (strcmp(model->layers[i].name, name) == 0) return i;
    return -2;
}

static mco_status parse_inputs(parse_state *ps, mco_layer *l, char *value)
{
    l->n_inputs = 0;
    for (char *save = NULL, *name = strtok_r(value, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        if (l->n_inputs == 2) return parse_error(ps, "at most two inputs", NULL);
        int idx = find_layer(ps->model, name);
        if (idx == -2) return parse_error(ps, "unknown input layer", name);
        l->inputs[l->n_inputs++] = idx;
    }
    if (l->n_inputs == 0) return parse_error(ps, "empty input list", NULL);
    return MCO_OK;
}

static mco_status parse_option(parse_state *ps, mco_layer *l, char *key, char *value,
                               int *pool_given, int *stride_given)
{
    if (strcmp(key, "filters") == 0 || strcmp(key, "units") == 0) {
        if (strcmp(value, "classes") == 0) {
            l->units = ps->n_classes;
            if (l->units <= 0) return parse_error(ps, "\"classes\" used before a classes line", NULL);
        } else if (!parse_positive(value, &l->units)) {
            return parse_error(ps, "bad layer width", value);
        }
    } else if (strcmp(key, "kernel") == 0 || strcmp(key, "pool") == 0) {
        if (!parse_pair(value, &l->kernel_h, &l->kernel_w)) return parse_error(ps, "bad size", value);
        if (key[0] == 'p') *pool_given = 1;
    } else if (strcmp(key, "stride") == 0) {
        if (!parse_pair(value, &l->stride_h, &l->stride_w)) return parse_error(ps, "bad stride", value);
        *stride_given = 1;
    } else if (strcmp(key, "padding") == 0) {
        if (strcmp(value, "valid") == 0) l->padding = MCO_PADDING_VALID;
        else if (strcmp(value, "same") == 0) l->padding = MCO_PADDING_SAME;
        else return parse_error(ps, "padding must be valid or same, not", value);
    } else if (strcmp(key, "rate") == 0) {
        if (!parse_float(value, &l->rate)) return parse_error(ps, "bad rate", value);
    } else if (strcmp(key, "epsilon") == 0) {
        if (!parse_float(value, &l->epsilon)) return parse_error(ps, "bad epsilon", value);
    } else if (strcmp(key, "momentum") == 0) {
        if (!parse_float(value, &l->momentum)) return parse_error(ps, "bad momentum", value);
    } else if (strcmp(key, "alpha") == 0 || strcmp(key, "beta") == 0) {
        int takes = l->type == MCO_LAYER_HARD_SIGMOID || (l->type == MCO_LAYER_LEAKY_RELU && key[0] == 'a');
        if (!takes) return parse_error(ps, "option not taken by this layer type", key);
        if (!parse_float(value, key[0] == 'a' ? &l->alpha : &l->beta))
            return parse_error(ps, key[0] == 'a' ? "bad alpha" : "bad beta", value);
    } else if (strcmp(key, "count_pad") == 0) {
        if (l->type != MCO_LAYER_AVGPOOL2D) return parse_error(ps, "option not taken by this layer type", key);
        if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0) return parse_error(ps, "count_pad must be 0 or 1, not", value);
        l->count_pad = value[0] == '1';
    } else if (strcmp(key, "output_padding") == 0) {   /* conv_transpose2d: rows, columns after the output */
        if (l->type != MCO_LAYER_CONV_TRANSPOSE2D) return parse_error(ps, "option not taken by this layer type", key);
        if (!parse_pair_at_least(value, 0, &l->output_pad_h, &l->output_pad_w))
            return parse_error(ps, "bad output_padding", value);
    } else if (strcmp(key, "dilation") == 0 || strcmp(key, "groups") == 0 || strcmp(key, "multiplier") == 0) {
        /* the general convolution (graph.h): shape inference checks which layer takes which */
        int conv = l->type == MCO_LAYER_CONV2D, dw = l->type == MCO_LAYER_DEPTHWISE_CONV2D;
        if (key[0] == 'd') {
            if (!conv && !dw) return parse_error(ps, "option not taken by this layer type", key);
            if (!parse_pair(value, &l->dilation_h, &l->dilation_w)) return parse_error(ps, "bad dilation", value);
        } else if (key[0] == 'g') {
            if (!conv) return parse_error(ps, "option not taken by this layer type", key);
            if (!parse_positive(value, &l->groups)) return parse_error(ps, "bad groups", value);
        } else {
            if (!dw) return parse_error(ps, "option not taken by this layer type", key);
            if (!parse_positive(value, &l->depth_multiplier)) return parse_error(ps, "bad multiplier", value);
        }
    } else if (strcmp(key, "input") == 0 || strcmp(key, "inputs") == 0) {
        return parse_inputs(ps, l, value);
    } else {
        return parse_error(ps, "unknown option", key);
    }
    return MCO_OK;
}

static mco_status parse_layer_line(parse_state *ps, char **tok, int n)
{
    mco_layer l;
    memset(&l, 0, sizeof l);
    int first = 0;
    if (n >= 3 && strcmp(tok[1], "=") == 0) {
        if (strlen(tok[0]) >= MCO_NAME_MAX) return parse_error(ps, "layer name too long", tok[0]);
        if (find_layer(ps->model, tok[0]) != -2) return parse_error(ps, "duplicate layer name", tok[0]);
        strcpy(l.name, tok[0]);
        first = 2;
    }
    mco_status st = mco_layer_type_parse(tok[first], &l.type);
    if (st != MCO_OK) return parse_error(ps, "unknown layer type", tok[first]);
    l.stride_h = l.stride_w = 1;
    l.kernel_h = l.kernel_w = 0;
    if (l.type == MCO_LAYER_LEAKY_RELU) l.alpha = MCO_LEAKY_RELU_ALPHA;
    if (l.type == MCO_LAYER_HARD_SIGMOID) {
        l.alpha = MCO_HARD_SIGMOID_ALPHA;
        l.beta = MCO_HARD_SIGMOID_BETA;
    }
    int pool_given = 0, stride_given = 0;
    for (int i = first + 1; i < n; i++) {
        char *eq = strchr(tok[i], '=');
        if (!eq) return parse_error(ps, "expected key=value, got", tok[i]);
        *eq = '\0';
        st = parse_option(ps, &l, tok[i], eq + 1, &pool_given, &stride_given);
        if (st != MCO_OK) return st;
    }
    int pooling = l.type == MCO_LAYER_MAXPOOL2D || l.type == MCO_LAYER_AVGPOOL2D;
    if (pooling && l.kernel_h == 0) l.kernel_h = l.kernel_w = 2;
    if (pooling && !stride_given) {
        l.stride_h = l.kernel_h;
        l.stride_w = l.kernel_w;
    }
    (void)pool_given;
    int windowed = pooling || l.type == MCO_LAYER_CONV2D || l.type == MCO_LAYER_DEPTHWISE_CONV2D ||
                   l.type == MCO_LAYER_CONV_TRANSPOSE2D;
    if (windowed && l.kernel_h == 0) return parse_error(ps, "missing kernel= for", tok[first]);
    if (!windowed) l.stride_h = l.stride_w = 0;   /* unused: 0, as an imported layer has it */
    if ((l.type == MCO_LAYER_CONV2D || l.type == MCO_LAYER_DENSE || l.type == MCO_LAYER_CONV_TRANSPOSE2D) &&
        l.units == 0)
        return parse_error(ps, "missing filters=/units= for", tok[first]);
    if (mco_layer_input_count(l.type) == 2 && l.n_inputs != 2)
        return parse_error(ps, l.type == MCO_LAYER_ADD ? "add needs inputs=A,B" : "concat needs inputs=A,B", NULL);
    return mco_model_add_layer(ps->model, &l, NULL);
}

static mco_status parse_line(parse_state *ps, char *line)
{
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    char *tok[MAX_TOKENS];
    int n = 0;
    for (char *save = NULL, *t = strtok_r(line, " \t\r", &save); t; t = strtok_r(NULL, " \t\r", &save)) {
        if (n == MAX_TOKENS) return parse_error(ps, "too many words on the line", NULL);
        tok[n++] = t;
    }
    if (n == 0) return MCO_OK;
    if (strcmp(tok[0], "input") == 0) {
        mco_shape *s = &ps->model->input_shape;
        if (n != 4 || !parse_positive(tok[1], &s->h) || !parse_positive(tok[2], &s->w) ||
            !parse_positive(tok[3], &s->c))
            return parse_error(ps, "expected: input H W C", NULL);
        return MCO_OK;
    }
    if (strcmp(tok[0], "loss") == 0) {
        if (n != 2 || (strcmp(tok[1], "mse") != 0 && strcmp(tok[1], "cross_entropy") != 0))
            return parse_error(ps, "expected: loss mse | cross_entropy", NULL);
        ps->model->loss = tok[1][0] == 'm' ? MCO_LOSS_MSE : MCO_LOSS_CROSS_ENTROPY;
        if (ps->model->loss == MCO_LOSS_MSE && ps->classes_line)
            return parse_error(ps, "loss mse reconstructs the input and takes no classes line", NULL);
        return MCO_OK;
    }
    if (strcmp(tok[0], "classes") == 0) {
        int classes;
        if (n != 2 || !parse_positive(tok[1], &classes))
            return parse_error(ps, "expected: classes N", NULL);
        if (ps->model->loss == MCO_LOSS_MSE)
            return parse_error(ps, "loss mse reconstructs the input and takes no classes line", NULL);
        ps->classes_line = 1;
        if (ps->data_classes > 0 && classes != ps->data_classes)
            return mco_error(MCO_ERR_SHAPE, "%s has %d classes but the data has %d", ps->origin, classes,
                             ps->data_classes);
        ps->n_classes = classes;
        return MCO_OK;
    }
    return parse_layer_line(ps, tok, n);
}

mco_status mco_arch_parse(const char *text, const char *origin, mco_shape input, int n_classes,
                          mco_model *out)
{
    mco_model_init(out, (mco_shape){0, 0, 0});
    parse_state ps = {origin, 0, out, n_classes, n_classes, 0};
    const char *p = text;
    mco_status st = MCO_OK;
    while (*p && st == MCO_OK) {
        const char *end = strchr(p, '\n');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char line[LINE_MAX_CHARS];
        ps.line++;
        if (len >= sizeof line) {
            st = parse_error(&ps, "line too long", NULL);
            break;
        }
        memcpy(line, p, len);
        line[len] = '\0';
        st = parse_line(&ps, line);
        p = end ? end + 1 : p + len;
    }
    mco_shape own = out->input_shape;
    if (st == MCO_OK && input.h > 0 && own.h > 0 && (own.h != input.h || own.w != input.w || own.c != input.c))
        st = mco_error(MCO_ERR_SHAPE, "%s takes %dx%dx%d inputs but the data is %dx%dx%d", origin, own.h, own.w,
                       own.c, input.h, input.w, input.c);
    if (st == MCO_OK && input.h > 0) out->input_shape = input;
    if (st == MCO_OK && out->input_shape.h == 0)
        st = mco_error(MCO_ERR_FORMAT, "%s: no input line (expected: input H W C)", origin);
    if (st == MCO_OK) {
        st = mco_model_infer_shapes(out);
        if (st == MCO_OK) st = mco_model_check_loss(out);
        if (st == MCO_ERR_SHAPE) {   /* name the origin */
            char msg[512];
            snprintf(msg, sizeof msg, "%s", mco_last_error());
            st = mco_error(MCO_ERR_SHAPE, "%s: %s", origin, msg);
        }
    }
    if (st != MCO_OK) {
        mco_model_free(out);
        return st;
    }
    return MCO_OK;
}

mco_status mco_arch_load(const char *name_or_path, mco_shape input, int n_classes, mco_model *out)
{
    mco_model_init(out, (mco_shape){0, 0, 0});   /* on failure *out is an empty model */
    const char *text = mco_arch_builtin_text(name_or_path);
    if (text) {
        mco_status st = mco_arch_parse(text, name_or_path, input, n_classes, out);
        if (st == MCO_OK) snprintf(out->arch_name, sizeof out->arch_name, "%s", name_or_path);
        return st;
    }
    if (!strchr(name_or_path, '/') && !strchr(name_or_path, '.')) {
        char known[256] = "";
        for (size_t i = 0; i < BUILTIN_COUNT; i++) {
            strcat(known, i ? ", " : "");
            strcat(known, builtins[i].name);
        }
        return mco_error(MCO_ERR_NOT_FOUND, "unknown architecture '%s' (built-in: %s; or give a file path)",
                         name_or_path, known);
    }
    char *file_text = NULL;
    mco_status st = mco_read_text_file(name_or_path, MCO_READ_TEXT_MAX, &file_text);   /* at most 1 MiB */
    if (st != MCO_OK) return st;
    st = mco_arch_parse(file_text, name_or_path, input, n_classes, out);
    free(file_text);
    if (st == MCO_OK) {
        const char *base = strrchr(name_or_path, '/');
        snprintf(out->arch_name, sizeof out->arch_name, "%s", base ? base + 1 : name_or_path);
    }
    return st;
}
