/*
 * cmd_import.c - `mcuopt import MODEL.onnx -o model.mco`: an ONNX float
 * model (from PyTorch, Keras via tf2onnx, ...) to an mcuopt model file that
 * every other command takes (train-further, prune, qat, quantize, search ...).
 * The mapping itself is mco_onnx_import() (onnx.h). A TFLite file (named
 * .tflite, or carrying TFLite's identifier) goes to cli_import_tflite(), an
 * ONNX graph in QDQ form to cli_import_onnx_qdq() (an int8 deploy model).
 *
 * What it leaves out: reading the input normalisation from the ONNX file
 * (ONNX has no place for it) unless mcuopt exported the file; it is given
 * here with --dataset or --normalize.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "mcuopt/model_file.h"
#include "mcuopt/onnx.h"
#include "mcuopt/onnx_qdq.h"
#include "mcuopt/tflite.h"

enum { OPT_DATASET = 1000, OPT_NORMALIZE, OPT_LOSS };


static const cli_option import_table[] = {
    CLI_OPTION_OUTPUT("FILE", "model file to write (default model.mco)"),
    {"dataset", 0, "NAME", "use that data set's normalisation (as 'mcuopt train'): mnist (pixel/255 - 0.1307) / "
     "0.3081, fashion-mnist, cifar10", OPT_DATASET},
    {"normalize", 0, "S,M,D", "scale, mean and std (default: as recorded by an mcuopt export, else 1,0,1: raw "
     "values as they are)", OPT_NORMALIZE},
    {"loss", 0, "LOSS", "what the model is trained and judged on: cross_entropy (a classifier, the default) or mse "
     "(an autoencoder reconstructing its input, e.g. PyTorch's conv autoencoders; as recorded by an mcuopt "
     "export); ONNX float models only", OPT_LOSS},
    {"json", 0, NULL, "print the imported model's summary as JSON", CLI_OPT_JSON},
    {0},
};

static const cli_option *const import_tables[] = {import_table, NULL};

static const cli_command_spec import_spec = {
    "import", "MODEL.onnx|MODEL.tflite [-o model.mco] [OPTIONS]",
    "Imports an ONNX float model (opsets " CLI_STR(MCO_ONNX_MIN_OPSET) " to " CLI_STR(MCO_ONNX_MAX_OPSET) ": Conv, "
    "depthwise Conv, ConvTranspose, Gemm, MatMul, Relu, Clip(0,6), MaxPool, AveragePool, GlobalAveragePool, ReduceMean over H and "
    "W, BatchNormalization, Add, Flatten, Reshape to [N or -1, features], Softmax, Dropout, Identity) and saves it "
    "as an mcuopt model. See docs/onnx.md.\n\nA TFLite model (float32, float16 or dynamic-range weights) becomes "
    "an mcuopt model too; a full-integer int8 TFLite model becomes a deploy model (-o NAME.mcq, default "
    "model.mcq) with its own scales and zero points, run bit for bit as TFLite's reference kernels run it; its "
    "input normalisation comes from its input quantization (a float model's from a leading Rescaling: MUL / ADD "
    "by constants). An int8 ONNX graph in QDQ form (QuantizeLinear / DequantizeLinear: mcuopt's own export, "
     "onnxruntime's quantizer) becomes a deploy model too, with its own scales. See README.md, \"Bring your own "
     "model\".\n\nThe network input is float NCHW in ONNX; the "
    "mcuopt model computes it from raw pixels as (raw * scale - mean) / std, which ONNX does not record: give the "
    "normalisation the model was trained with.",
    import_tables, NULL,
};

/* "S,M,D" -> scale, mean, std. */
static int parse_normalization(const char *text, mco_normalization *norm)
{
    char *end;
    float v[3];
    const char *p = text;
    for (int i = 0; i < 3; i++) {
        v[i] = strtof(p, &end);
        if (end == p || (i < 2 && *end != ',') || (i == 2 && *end != '\0')) return 0;
        p = end + 1;
    }
    if (!isfinite(v[0]) || !isfinite(v[1]) || !isfinite(v[2]) || v[2] == 0.0f) return 0;
    norm->scale = v[0];
    norm->mean = v[1];
    norm->std = v[2];
    return 1;
}

int cmd_import(int argc, char **argv)
{
    const char *output = NULL, *dataset = NULL, *normalize = NULL, *loss = NULL;
    int json = 0;
    cli_parser p;
    cli_parser_init(&p, &import_spec, argc, argv);
    int c;
    while ((c = cli_getopt(&p)) > 0) {
        switch (c) {
        case 'o': output = optarg; break;
        case OPT_DATASET: dataset = optarg; break;
        case OPT_NORMALIZE: normalize = optarg; break;
        case OPT_LOSS: loss = optarg; break;
        case CLI_OPT_JSON: json = 1; break;
        default: return cli_option_unhandled(&p, c);
        }
    }
    if (c < 0) return p.exit_code;
    if (argc - optind != 1) return cli_usage_error("import", "expected one MODEL.onnx file");
    if (dataset && normalize) return cli_usage_error("import", "give --dataset or --normalize, not both");
    mco_normalization norm = {1.0f, 0.0f, 1.0f};
    if (normalize && !parse_normalization(normalize, &norm))
        return cli_usage_error("import", "--normalize expects SCALE,MEAN,STD with STD non-zero, got '%s'", normalize);

    if (loss && strcmp(loss, "mse") != 0 && strcmp(loss, "cross_entropy") != 0)
        return cli_usage_error("import", "--loss expects mse or cross_entropy, got '%s'", loss);

    const char *path = argv[optind];
    size_t len = strlen(path);
    int onnx_name = len > 5 && strcmp(path + len - 5, ".onnx") == 0;
    int tflite = (len > 7 && strcmp(path + len - 7, ".tflite") == 0) || (!onnx_name && mco_tflite_file_is_tflite(path));
    if (loss && (tflite || mco_onnx_file_is_qdq(path)))
        return cli_usage_error("import", "--loss applies to ONNX float models; %s becomes an int8 deploy model or a "
                               "TFLite import", path);
    if (tflite)
        return cli_import_tflite(path, output, dataset, normalize ? &norm : NULL, json);
    if (mco_onnx_file_is_qdq(path))   /* QuantizeLinear / DequantizeLinear: an int8 deploy model */
        return cli_import_onnx_qdq(path, output, dataset, normalize ? &norm : NULL, json);
    if (!output) output = "model.mco";
    mco_model model;
    mco_status st = mco_onnx_import(path, &model);
    if (st != MCO_OK) return cli_fail(st);
    if (normalize) model.norm = norm;
    if (loss) {
        model.loss = strcmp(loss, "mse") == 0 ? MCO_LOSS_MSE : MCO_LOSS_CROSS_ENTROPY;
        if ((st = mco_model_check_loss(&model)) != MCO_OK) {
            mco_model_free(&model);
            return cli_fail(st);
        }
    }
    if (dataset) cli_set_normalization(&model, dataset, NULL);
    st = mco_model_save(&model, output);
    if (st == MCO_OK) {
        size_t params = mco_model_param_count(&model);
        unsigned long long macs = (unsigned long long)mco_model_macs(&model);
        mco_shape in = model.input_shape;
        if (json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "onnx", path);
            cJSON_AddStringToObject(o, "output", output);
            cJSON_AddStringToObject(o, "arch", model.arch_name);
            int shape[3] = {in.h, in.w, in.c};
            cJSON_AddItemToObject(o, "input_shape", cJSON_CreateIntArray(shape, 3));
            cJSON_AddNumberToObject(o, "classes", model.n_classes);
            cJSON_AddNumberToObject(o, "layers", model.n_layers);
            cJSON_AddNumberToObject(o, "parameters", (double)params);
            cJSON_AddNumberToObject(o, "macs", (double)macs);
            cJSON_AddItemToObject(o, "normalization", cli_normalization_json(&model.norm));
            cli_print_json(o);
        } else {
            printf("imported %s: %d layers, input %dx%dx%d, %d outputs, %zu parameters, %llu MACs -> %s\n",
                   path, model.n_layers, in.h, in.w, in.c, model.n_classes, params, macs, output);
            cli_print_normalization(&model.norm);
            printf("  (the model's own if its file records one, else as given; change it with --normalize "
                   "SCALE,MEAN,STD or --dataset NAME)\n");
        }
    }
    mco_model_free(&model);
    return st == MCO_OK ? CLI_EXIT_OK : cli_fail(st);
}
