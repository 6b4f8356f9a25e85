/*
 * import_qdq.c - the QDQ half of `mcuopt import` (cmd_import.c calls
 * cli_import_onnx_qdq for an .onnx file holding QuantizeLinear /
 * DequantizeLinear nodes): the graph becomes an int8 deploy model (.mcq)
 * with the file's own scales, zero points, int8 weights and int32 biases.
 * The mapping itself is mco_onnx_import_qdq() (onnx_qdq.h).
 *
 * What it leaves out: writing a QDQ graph as a float .mco model (its
 * weights would be the dequantized ones; quantize the float original).
 */
#include <string.h>

#include "cli.h"
#include "mcuopt/onnx_qdq.h"

int cli_import_onnx_qdq(const char *path, const char *output, const char *dataset, const mco_normalization *norm,
                        int json)
{
    if (!output) output = "model.mcq";
    size_t len = strlen(output);
    if (len < 4 || strcmp(output + len - 4, ".mcq") != 0)
        return cli_usage_error("import", "%s is an int8 QDQ graph: it becomes a deploy model, give -o NAME.mcq", path);
    mco_deploy_model dm;
    mco_status st = mco_onnx_import_qdq(path, &dm);
    if (st != MCO_OK) return cli_fail(st);
    mco_model *model = &dm.model;
    if (norm) model->norm = *norm;
    if (dataset) cli_set_normalization(model, dataset, NULL);   /* NULL: no data set read, always MCO_OK */
    st = cli_save_imported_deploy(&dm, output);
    if (st == MCO_OK) {
        mco_shape in = model->input_shape;
        if (json) {
            cJSON *o = cJSON_CreateObject();
            cJSON_AddStringToObject(o, "onnx", path);
            cJSON_AddStringToObject(o, "output", output);
            cJSON_AddStringToObject(o, "kind", "int8 QDQ");
            int shape[3] = {in.h, in.w, in.c};
            cJSON_AddItemToObject(o, "input_shape", cJSON_CreateIntArray(shape, 3));
            cJSON_AddNumberToObject(o, "input_scale", dm.input.scale);
            cJSON_AddNumberToObject(o, "input_zero_point", dm.input.zero_point);
            cJSON_AddNumberToObject(o, "classes", model->n_classes);
            cJSON_AddNumberToObject(o, "layers", model->n_layers);
            cJSON_AddNumberToObject(o, "parameters", (double)mco_model_param_count(model));
            cJSON_AddNumberToObject(o, "macs", (double)mco_model_macs(model));
            cJSON_AddItemToObject(o, "normalization", cli_normalization_json(&model->norm));
            cli_print_json(o);
        } else {
            printf("imported %s (ONNX QDQ, int8): %d layers, input %dx%dx%d (scale %.9g, zero point %d), %d outputs, "
                   "%zu parameters, %llu MACs -> %s\n",
                   path, model->n_layers, in.h, in.w, in.c, (double)dm.input.scale, (int)dm.input.zero_point,
                   model->n_classes, mco_model_param_count(model), (unsigned long long)mco_model_macs(model), output);
            cli_print_normalization(&model->norm);
            printf("  (the model's own if its file records one, else as given; change it with --normalize "
                   "SCALE,MEAN,STD or --dataset NAME)\n");
            printf("  int8 deploy model with the file's own scales, zero points and biases: run it with eval, "
                   "predict, emit or measure\n");
        }
    }
    mco_deploy_free(&dm);
    return st == MCO_OK ? CLI_EXIT_OK : cli_fail(st);
}
