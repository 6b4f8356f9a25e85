/*
 * graph.h - the network graph: layers, their parameters, and shape inference.
 *
 * A model is a list of layers in topological order. Each layer reads one
 * tensor (two for Add and Concat) produced by an earlier layer, or the model input
 * (index MCO_INPUT), and produces one tensor. Tensors are NHWC as in TFLite
 * and CMSIS-NN; the batch dimension is never stored in a shape. A Dense or
 * Flatten output has shape (1, 1, n).
 *
 * Parameter layouts (float32, row-major, the same layouts the MCU runtime
 * uses so that quantization and code generation need no transposes):
 *   Conv2D           weights [out_c][kernel_h][kernel_w][in_c] (OHWI), bias [out_c]
 *   Conv2D, groups g weights [out_c][kernel_h][kernel_w][in_c / g]: output
 *                    channel o reads the input channels of group
 *                    o / (out_c / g)
 *   DepthwiseConv2D  weights [kernel_h][kernel_w][c * m] (1HWC, TFLite's), bias [c * m]:
 *                    with depth multiplier m, output channel o reads input channel o / m
 *   ConvTranspose2D  weights [out_c][kernel_h][kernel_w][in_c] (OHWI, as Conv2D:
 *                    ONNX's [in_c][out_c][kh][kw] permuted, no flip), bias [out_c]
 *   Dense            weights [units][in] where `in` runs over the input's
 *                    flattened h, w, c (NHWC order), bias [units]
 *   BatchNorm        gamma [c], beta [c], moving_mean [c], moving_var [c]
 * Other layers have no parameters (LeakyReLU's and HardSigmoid's alpha /
 * beta are hyper-parameters, not trained).
 *
 * What it leaves out: dilated pools, groups and dilation on a ConvTranspose2D,
 * TensorFlow "same" padding on a ConvTranspose2D, a
 * max pool counting its padding, a concat of more than two inputs (a chain
 * of two-input concats is one) or along another axis.
 */
#ifndef MCUOPT_GRAPH_H
#define MCUOPT_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "mcuopt/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MCO_INPUT (-1)          /* layer input index meaning "the model input" */
#define MCO_NAME_MAX 32         /* layer name buffer, including the NUL */
#define MCO_MAX_LAYERS 256      /* hard cap, also bounds what a model file may claim */
#define MCO_MAX_PARAMS 4        /* parameter tensors per layer */
#define MCO_MAX_DIM 65536       /* cap on any one dimension (guards hostile files) */
#define MCO_MAX_TENSOR_SIZE ((size_t)1 << 26) /* cap on the values in one activation or parameter tensor */

typedef enum {
    MCO_LAYER_CONV2D = 0,
    MCO_LAYER_DEPTHWISE_CONV2D,
    MCO_LAYER_DENSE,
    MCO_LAYER_MAXPOOL2D,
    MCO_LAYER_AVGPOOL2D,
    MCO_LAYER_GLOBAL_AVGPOOL,
    MCO_LAYER_RELU,
    MCO_LAYER_RELU6,
    MCO_LAYER_BATCHNORM,
    MCO_LAYER_ADD,
    MCO_LAYER_FLATTEN,
    MCO_LAYER_SOFTMAX,
    MCO_LAYER_DROPOUT,
    /* element-wise activations without parameters to train (mco_activation_value) */
    MCO_LAYER_SIGMOID,
    MCO_LAYER_TANH,
    MCO_LAYER_LEAKY_RELU,     /* alpha: the slope below zero */
    MCO_LAYER_HARD_SIGMOID,   /* alpha, beta: min(max(alpha x + beta, 0), 1) */
    MCO_LAYER_HARD_SWISH,     /* x * relu6(x + 3) / 6 */
    MCO_LAYER_CONCAT,         /* two inputs of one height and width side by side along the
                                 channels: inputs[0]'s channels, then inputs[1]'s */
    MCO_LAYER_CONV_TRANSPOSE2D, /* transposed convolution (ONNX ConvTranspose, group 1,
                                   dilation 1): units filters, kernel, stride, valid or
                                   explicit pads, output_pad_h / output_pad_w */
    MCO_LAYER_TYPE_COUNT
} mco_layer_type;

typedef enum {
    MCO_PADDING_VALID = 0,
    MCO_PADDING_SAME = 1,  /* TensorFlow "same": total pad = max((out-1)*stride + k - in, 0), extra on bottom/right */
    MCO_PADDING_EXPLICIT = 2 /* the layer's pad_top/left/bottom/right (ONNX / PyTorch pads, ceil_mode) */
} mco_padding;

typedef struct {
    int h, w, c;
} mco_shape;

/* A float parameter tensor owned by its layer. */
typedef struct {
    int ndim;
    int dims[4];
    size_t size;   /* product of dims */
    float *data;   /* NULL until mco_model_alloc_params() */
} mco_param;

/* Indices into mco_layer.params. */
enum { MCO_PARAM_WEIGHTS = 0, MCO_PARAM_BIAS = 1 };
enum { MCO_PARAM_BN_GAMMA = 0, MCO_PARAM_BN_BETA = 1, MCO_PARAM_BN_MEAN = 2, MCO_PARAM_BN_VAR = 3 };

typedef struct {
    mco_layer_type type;
    char name[MCO_NAME_MAX];
    int n_inputs;          /* mco_layer_input_count(type): 1, or 2 for Add and Concat */
    int inputs[2];         /* producing layer index, or MCO_INPUT */

    /* Hyper-parameters (only those of the layer's type are meaningful). */
    int units;             /* Conv2D filters, Dense units */
    int kernel_h, kernel_w;/* Conv2D, DepthwiseConv2D, MaxPool2D, AvgPool2D */
    int stride_h, stride_w;
    mco_padding padding;
    /* MCO_PADDING_EXPLICIT only (0 otherwise): rows above / below and columns
     * left / right of the input, each 0..kernel-1. Output size per axis is
     * floor((in + before + after - kernel) / stride) + 1. Padded positions
     * add zero to a convolution and are skipped by pooling (an average pool
     * divides by the number of real inputs in the window, unless count_pad). */
    int pad_top, pad_left, pad_bottom, pad_right;
    float rate;            /* Dropout rate */
    float epsilon;         /* BatchNorm epsilon */
    float momentum;        /* BatchNorm moving-average momentum (Keras style, e.g. 0.99) */
    float alpha, beta;     /* LeakyReLU alpha; HardSigmoid alpha, beta (0 for every other type) */
    /* AvgPool2D only (0 otherwise): 1 divides every window's sum by the
     * whole kernel_h x kernel_w, the padded positions counting as zeros
     * (ONNX count_include_pad=1, PyTorch's AvgPool2d default); 0 divides by
     * the window's in-bounds inputs (TensorFlow). */
    int count_pad;
    /* ConvTranspose2D only (0 otherwise): rows / columns added after the
     * output (ONNX / PyTorch output_padding, each 0..stride-1). A transposed
     * convolution's output size per axis is (in - 1) * stride + kernel -
     * before - after + output_pad, with the explicit pads (each
     * 0..kernel-1) cropped from the full output; output pixel (oy, ox) sums
     * input pixel (iy, ix) times tap (ky, kx) where oy + pad_top = iy *
     * stride_h + ky and ox + pad_left = ix * stride_w + kx. */
    int output_pad_h, output_pad_w;
    /* The general convolution (Conv2D and DepthwiseConv2D; 1 for every other
     * layer, and 0 means 1 until mco_model_infer_shapes() sets it):
     * dilation_h/w  kernel taps dilation apart (ONNX dilations, TFLite
     *               dilation_h/w_factor); the window spans (kernel - 1) *
     *               dilation + 1 input rows / columns
     * groups        Conv2D: the input channels in `groups` equal groups,
     *               each read by out_c / groups output channels (ONNX group)
     * depth_multiplier  DepthwiseConv2D: output channels per input channel
     * A layer with any of them above 1 runs general (reference) kernels:
     * mco_layer_is_general_conv(). */
    int dilation_h, dilation_w;
    int groups;
    int depth_multiplier;

    /* Filled by mco_model_infer_shapes(). */
    mco_shape in_shape;    /* shape of inputs[0] */
    mco_shape out_shape;

    int n_params;
    mco_param params[MCO_MAX_PARAMS];
} mco_layer;

/* How raw input values (e.g. uint8 pixels) become the float network input:
 * x = (raw * scale - mean) / std. Recorded in the model so inference repeats it. */
typedef struct {
    float scale;
    float mean;
    float std;
} mco_normalization;

/* Converts n raw uint8 samples to floats with a model's normalisation. */
void mco_normalize_input(const mco_normalization *norm, const uint8_t *raw, size_t n, float *out);

/* What the model is trained and judged on. A cross-entropy model
 * classifies: its last layer gives one logit (or, after Softmax, one
 * probability) per class and a sample's label is the target. A
 * reconstruction model (an autoencoder) is trained on the mean squared error
 * between its output and its own (normalised) input, so its output has the
 * input's size; labels, where the data has them, only mark samples as normal
 * (0) or anomalous (1) for the AUC of the reconstruction error. */
typedef enum {
    MCO_LOSS_CROSS_ENTROPY = 0,
    MCO_LOSS_MSE = 1
} mco_loss;

/* "cross_entropy" or "mse". */
const char *mco_loss_name(mco_loss loss);

/* The audio front-end a model trained on audio takes its input from (the
 * fields of the runtime's mco_mfcc_params, runtime/mco_mfcc.h, which says
 * what each computes): MFCC (n_coeffs > 0) or log-mel (n_coeffs 0)
 * features of clip_samples 16-bit samples at sample_rate, frames x values
 * x 1 (the model's input shape). Recorded in the model (model files: the
 * `mfcc` chunk, docs/model-format.md) so that the emitted code computes the
 * same features on the chip from PCM (NAME_run_pcm). */
typedef struct {
    int sample_rate;           /* Hz the clips are resampled to: 16000 */
    int clip_samples;          /* samples per clip (cut or zero-padded): 16000 (1 s) */
    int frame_length;          /* 480 (30 ms) */
    int frame_stride;          /* 320 (20 ms) */
    int fft_size;              /* 512 */
    int n_mels;                /* 40 */
    int n_coeffs;              /* MFCCs: 10; 0: log-mel features (n_mels per frame) */
    float lower_hz, upper_hz;  /* the mel bands' range: 20, 4000 */
    int window_frames;         /* machine sounds only: frames per sample (each clip gives every
                                  run of this many consecutive frames, flattened); 0 elsewhere
                                  (not recorded in a model: a model records a front-end only
                                  when trained on an audio folder) */
} mco_audio_frontend;

/* The MLPerf Tiny KWS setting (49 x 10 MFCCs from 1 s at 16 kHz). */
void mco_audio_frontend_default(mco_audio_frontend *a);

/* The MLPerf Tiny anomaly detection setting (its common.yaml: 16 kHz,
 * n_fft 1024, hop 512, 128 mel bands, 5 frames per sample) for 10 s clips
 * (DCASE 2020 task 2): frames of 1024 samples every 512, FFT 1024, 128
 * log-mel bands from 0 to 8000 Hz, window_frames 5: 311 frames, 307
 * windows of 640 values per clip (the reference's librosa pads the clip
 * for centred frames: 313 frames, 309 windows). */
void mco_audio_frontend_machine_default(mco_audio_frontend *a);

/* The features' shape (frames x values x 1, or 1 x 1 x window_frames *
 * values for machine-sound windows); MCO_ERR_ARG with one line naming the
 * parameters when they are out of the runtime's ranges
 * (src/core/audio_frontend.c). */
mco_status mco_audio_frontend_shape(const mco_audio_frontend *a, mco_shape *shape);

/* One line for `mcuopt info` and the emitted header, e.g. "MFCC 49x10 from
 * 16000 samples at 16000 Hz (frames 480 every 320, FFT 512, 40 mel bands
 * 20-4000 Hz, 10 coefficients)". */
void mco_audio_frontend_describe(const mco_audio_frontend *a, char *buf, size_t size);

typedef struct {
    char arch_name[64];
    mco_shape input_shape;
    int n_classes;         /* the last layer's channels (a reconstruction model's output width) */
    mco_loss loss;
    mco_normalization norm;
    int has_frontend;      /* 1: the input is `frontend`'s features of an audio clip */
    mco_audio_frontend frontend;
    int n_layers;
    mco_layer *layers;     /* n_layers entries, malloc'd */
} mco_model;

/* The inputs a layer of this type reads: 2 for Add and Concat, else 1. */
int mco_layer_input_count(mco_layer_type type);

/* Name used in architecture files and reports ("conv2d", "dense", ...). */
const char *mco_layer_type_name(mco_layer_type type);
/* Parses a type name; returns MCO_ERR_UNSUPPORTED naming the unknown layer. */
mco_status mco_layer_type_parse(const char *name, mco_layer_type *type);

/* Initialises an empty model (no layers) for an input shape. */
void mco_model_init(mco_model *model, mco_shape input_shape);
/* Appends a layer (copied) and returns its index via *index. Inputs default
 * to the previous layer when the caller leaves n_inputs at 0. */
mco_status mco_model_add_layer(mco_model *model, const mco_layer *layer, int *index);
/* Computes every layer's in/out shape and parameter shapes; fails with
 * MCO_ERR_SHAPE and a message naming the layer on any mismatch. Sets
 * n_classes from the last layer's output channels. */
mco_status mco_model_infer_shapes(mco_model *model);
/* A reconstruction (MCO_LOSS_MSE) model's output must have as many values
 * as its input: else MCO_ERR_SHAPE, one line with both sizes. Shapes must be
 * inferred. Always MCO_OK for a classifier. */
mco_status mco_model_check_loss(const mco_model *model);
/* A model with a front-end (has_frontend): its parameters in the runtime's
 * ranges and its features' shape the model's input (MCO_ERR_SHAPE with
 * both shapes); always MCO_OK for a model without one. */
mco_status mco_model_check_frontend(const mco_model *model);
/* Allocates (zeroed) parameter storage for every layer whose params are NULL.
 * Requires shapes inferred. */
mco_status mco_model_alloc_params(mco_model *model);
/* He-uniform / Glorot-style initialisation from a seed; BatchNorm gets gamma=1,
 * beta=0, mean=0, var=1. */
void mco_model_init_params(mco_model *model, uint64_t seed);
/* Deep copy. */
mco_status mco_model_clone(const mco_model *src, mco_model *dst);
void mco_model_free(mco_model *model);

/* Padding before the data of a windowed layer whose shapes are inferred:
 * rows above (*top) and columns left (*left) of the input. 0 for "valid",
 * half the total (rounded down) for TensorFlow "same", the stored pads for
 * explicit padding. The padding after follows from the output size. */
void mco_layer_pad_before(const mco_layer *layer, int *top, int *left);

/* ConvTranspose2D along one axis: the first kernel tap that reaches output
 * position o with the layer's padding before `pad` and `stride` (tap k
 * reads input index (o + pad - k) / stride where that divides evenly and
 * lies in [0, in)), `kernel` when none does; *i gets that tap's input
 * index. The next taps are tap + stride, tap + 2 stride, ... reading
 * *i - 1, *i - 2, ..., while the tap is below kernel and the index >= 0
 * (the runtime's kernels walk the same: mco_transposed_first_tap). */
int mco_conv_transpose_first_tap(int o, int pad, int stride, int kernel, int in, int *i);
/* 1 if the layer is a Conv2D or DepthwiseConv2D with a dilation, groups
 * or a depth multiplier above 1 (fields set by shape inference). */
int mco_layer_is_general_conv(const mco_layer *layer);
/* The input rows (axis 0) or columns (axis 1) one window of a windowed
 * layer spans: (kernel - 1) * dilation + 1 (the kernel when not dilated). */
int mco_layer_window_extent(const mco_layer *layer, int axis);

/* How a Conv2D or DepthwiseConv2D (general or not) addresses its weights:
 * output channel o belongs to group o / group_out and reads that group's
 * group_in input channels, from input channel (o / group_out) * group_in;
 * the weight of output o, kernel tap t (ky * kernel_w + kx) and input i of
 * the group is at o * w_out + t * w_tap + i * w_in. Conv2D: group_in =
 * in_c / groups, group_out = out_c / groups, w_out = kh * kw * group_in,
 * w_tap = group_in, w_in = 1; DepthwiseConv2D: group_in 1, group_out the
 * depth multiplier, w_out 1, w_tap out_c, w_in 0. Shapes must be inferred. */
typedef struct {
    int group_in, group_out;
    size_t w_out, w_tap, w_in;
} mco_conv_groups;
void mco_layer_conv_groups(const mco_layer *layer, mco_conv_groups *g);

/* The element-wise activations (sigmoid, tanh, leaky_relu, hard_sigmoid,
 * hard_swish): 1 if the layer is one, and its exact real value at x (in
 * double: what training, calibration and the int8 lookup tables all
 * compute). Default parameters when the text or the importer gives none:
 * LeakyReLU alpha 0.01 (PyTorch, ONNX), HardSigmoid alpha 1/6, beta 0.5
 * (PyTorch's relu6(x + 3) / 6; ONNX's default is 0.2, 0.5). */
#define MCO_LEAKY_RELU_ALPHA 0.01f
#define MCO_HARD_SIGMOID_ALPHA (1.0f / 6.0f)
#define MCO_HARD_SIGMOID_BETA 0.5f
int mco_layer_is_activation(mco_layer_type type);
double mco_activation_value(const mco_layer *layer, double x);

/* Per-layer statistics. */
size_t mco_layer_param_count(const mco_layer *layer);   /* trainable + BN statistics */
uint64_t mco_layer_macs(const mco_layer *layer);        /* multiply-accumulates per inference */
size_t mco_model_param_count(const mco_model *model);
uint64_t mco_model_macs(const mco_model *model);
size_t mco_shape_size(mco_shape s);

/* Folds every BatchNorm that directly follows a Conv2D, DepthwiseConv2D or
 * Dense (and is that layer's only consumer) into its weights and bias, and
 * removes the BatchNorm layer. Also removes Dropout layers. The result
 * computes the same function as the input in inference mode. */
mco_status mco_model_fold_for_inference(mco_model *model);

#ifdef __cplusplus
}
#endif
#endif
