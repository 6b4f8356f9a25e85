/*
 * import_tflite.c - the TFLite half of `mcuopt import` (cmd_import.c calls
 * cli_import_tflite for a .tflite file): a float model is saved as a .mco
 * file, a full-integer int8 model as a deploy model (.mcq) that keeps the
 * file's own quantization. The mapping itself is mco_tflite_import()
 * (tflite.h).
 *
 * What it leaves out: writing an int8 model as a float .mco (its float
 * weights would be the dequantized ones; nothing needs it).
 */
#include <string.h>

#include "cli.h"
#include "mcuopt/codegen.h"
#include "mcuopt/model_file.h"
#include "mcuopt/tflite.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static void print_io(const char *what, mco_tflite_io io, mco_qparams q)
{
    if (io == MCO_TFLITE_IO_FLOAT32)
        printf("  %s: float32\n", what);
    else
        printf("  %s: %s, scale %.9g, zero point %d\n", what, mco_tflite_io_name(io), (double)q.scale,
               (int)q.zero_point);
}

/* Plans the int8 model (the planner checks every layer's quantization
 * fits its kernel), saves it, and loads it back (the loader proves the
 * int32 accumulators cannot overflow): a file that fails is removed.
 * Also for QDQ ONNX imports (import_qdq.c). */
mco_status cli_save_imported_deploy(const mco_deploy_model *dm, const char *output)
{
    mco_plan plan;
    mco_status st = mco_plan_build(dm, NULL, &plan);
    if (st != MCO_OK) return st;
    mco_plan_free(&plan);
    if ((st = mco_deploy_save(dm, output)) != MCO_OK) return st;
    mco_deploy_model check;
    if ((st = mco_deploy_load(output, &check)) != MCO_OK) {
        remove(output);
        return st;
    }
    mco_deploy_free(&check);
    return MCO_OK;
}

int cli_import_tflite(const char *path, const char *output, const char *dataset, const mco_normalization *norm,
                      int json)
{
    mco_tflite_model tm;
    mco_status st = mco_tflite_import(path, &tm);
    if (st != MCO_OK) return cli_fail(st);
    int int8 = tm.kind == MCO_TFLITE_INT8;
    if (!output) output = int8 ? "model.mcq" : "model.mco";
    if (int8 && !ends_with(output, ".mcq")) {
        mco_tflite_free(&tm);
        return cli_usage_error("import", "%s is a full-integer int8 model: it becomes a deploy model, give "
                               "-o NAME.mcq", path);
    }
    mco_model *model = int8 ? &tm.deploy.model : &tm.model;
    const char *norm_source = tm.input_type != MCO_TFLITE_IO_FLOAT32 ? "from the model's input quantization"
                              : tm.norm_ops ? "from the model's MUL / ADD on its input, folded"
                                            : "none recorded: raw values as they are";
    if (norm) {
        model->norm = *norm;
        norm_source = "--normalize";
    }
    if (dataset) {
        cli_set_normalization(model, dataset, NULL);   /* NULL: no data set read, always MCO_OK */
        norm_source = "--dataset";
    }
    st = int8 ? cli_save_imported_deploy(&tm.deploy, output) : mco_model_save(model, output);
    if (st == MCO_OK) {
        size_t params = mco_model_param_count(model);
        unsigned long long macs = (unsigned long long)mco_model_macs(model);
        mco_shape in = model->input_shape;
        mco_normalization n = model->norm;
        if (json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "tflite", path);
            cJSON_AddStringToObject(o, "output", output);
            cJSON_AddStringToObject(o, "kind", mco_tflite_kind_name(tm.kind));
            cJSON_AddStringToObject(o, "input_type", mco_tflite_io_name(tm.input_type));
            cJSON_AddStringToObject(o, "output_type", mco_tflite_io_name(tm.output_type));
            int shape[3] = {in.h, in.w, in.c};
            cJSON_AddItemToObject(o, "input_shape", cJSON_CreateIntArray(shape, 3));
            float nv[3] = {n.scale, n.mean, n.std};
            cJSON_AddItemToObject(o, "normalization", cJSON_CreateFloatArray(nv, 3));
            cJSON_AddNumberToObject(o, "classes", model->n_classes);
            cJSON_AddNumberToObject(o, "layers", model->n_layers);
            cJSON_AddNumberToObject(o, "parameters", (double)params);
            cJSON_AddNumberToObject(o, "macs", (double)macs);
            cli_print_json(o);
        } else {
            printf("imported %s (TFLite, %s, %d operators): %d layers, input %dx%dx%d, %d outputs, %zu parameters, "
                   "%llu MACs -> %s\n",
                   path, mco_tflite_kind_name(tm.kind), tm.n_ops, model->n_layers, in.h, in.w, in.c,
                   model->n_classes, params, macs, output);
            print_io("input", tm.input_type, tm.input_q);
            print_io("output", tm.output_type, tm.output_q);
            printf("  input normalisation (%s): x = (raw * %.9g - %.9g) / %.9g; change it with --normalize or "
                   "--dataset\n", norm_source, (double)n.scale, (double)n.mean, (double)n.std);
            if (int8)
                printf("  int8 deploy model with the file's own scales, zero points and biases: run it with "
                       "eval, predict, emit or measure\n");
        }
    }
    mco_tflite_free(&tm);
    return st == MCO_OK ? CLI_EXIT_OK : cli_fail(st);
}
