/*
 * report_json.c - the search report as JSON (see mcuopt/report.h), and the
 * Pareto marks both reports share.
 *
 * Layout:
 *   { "title", "mcuopt_version", "study": {...} | null, "min_accuracy",
 *     "pareto_with_accuracy", "counts": {"queued": n, ...},
 *     "chosen": {"trial": {...}, "stages": [...]} | null,
 *     "layers": [{"name", "type", "output_shape", "params", "bytes", "macs", "cycles"}],
 *     "trials": [{"id", "state", "rung", "budget", "config", "config_hash", "pid",
 *                 "attempts", "queued_at", "started_at", "finished_at", "accuracy",
 *                 "flash_bytes", "ram_bytes", "cycles", "latency_ms", "energy_uj",
 *                 "objective", "model_path", "deploy_path", "error", "pareto", "chosen"}] }
 * Values are raw (bytes, accuracy as a fraction, Unix seconds); an unknown
 * value is null.
 *
 * What it leaves out: a JSON schema file, and the plot geometry (a reader
 * draws its own plots from "trials").
 */
#include "mcuopt/report.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/file_util.h"

mco_status mco_report_marked_trials(const mco_report *r, mco_trial **marked)
{
    size_t n = r->n_trials > 0 ? (size_t)r->n_trials : 0;
    *marked = malloc((n ? n : 1) * sizeof **marked);
    if (!*marked) return mco_error(MCO_ERR_NOMEM, "report: out of memory for %zu trials", n);
    if (n) memcpy(*marked, r->trials, n * sizeof **marked);
    mco_pareto_mark(*marked, (int)n, r->min_accuracy, r->pareto_with_accuracy);
    return MCO_OK;
}

/* Adds a number, or null when it is unknown. */
static void add_number(cJSON *o, const char *name, double value)
{
    if (isnan(value) || isinf(value)) cJSON_AddNullToObject(o, name);
    else cJSON_AddNumberToObject(o, name, value);
}

static cJSON *study_json(const mco_trial_study *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "model_path", s->model_path);
    cJSON_AddStringToObject(o, "model_hash", s->model_hash);
    cJSON_AddStringToObject(o, "target", s->target);
    cJSON_AddNumberToObject(o, "min_accuracy", s->min_accuracy);
    /* as text: a double cannot hold every 64-bit seed */
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)s->seed);
    cJSON_AddStringToObject(o, "seed", seed);
    cJSON_AddNumberToObject(o, "budget", s->budget);
    cJSON_AddStringToObject(o, "settings", s->settings);
    return o;
}

static cJSON *trial_json(const mco_trial *t, int64_t chosen_id)
{
    cJSON *o = cJSON_CreateObject();
    const mco_trial_result *m = &t->result;
    cJSON_AddNumberToObject(o, "id", (double)t->id);
    cJSON_AddStringToObject(o, "state", mco_trial_state_name(t->state));
    cJSON_AddNumberToObject(o, "rung", t->rung);
    cJSON_AddNumberToObject(o, "budget", t->budget);
    cJSON_AddStringToObject(o, "config", t->config);
    cJSON_AddStringToObject(o, "config_hash", t->config_hash);
    cJSON_AddNumberToObject(o, "pid", t->pid);
    cJSON_AddNumberToObject(o, "attempts", t->attempts);
    add_number(o, "queued_at", t->queued_at);
    add_number(o, "started_at", t->started_at);
    add_number(o, "finished_at", t->finished_at);
    add_number(o, "accuracy", m->accuracy);
    add_number(o, "flash_bytes", m->flash_bytes);
    add_number(o, "ram_bytes", m->ram_bytes);
    add_number(o, "cycles", m->cycles);
    add_number(o, "latency_ms", m->latency_ms);
    add_number(o, "energy_uj", m->energy_uj);
    add_number(o, "objective", m->objective);
    cJSON_AddStringToObject(o, "model_path", m->model_path);
    cJSON_AddStringToObject(o, "deploy_path", m->deploy_path);
    cJSON_AddStringToObject(o, "error", t->error);
    cJSON_AddBoolToObject(o, "pareto", t->on_pareto);
    cJSON_AddBoolToObject(o, "chosen", chosen_id > 0 && t->id == chosen_id);
    return o;
}

static cJSON *stage_json(const mco_trial_stage *s)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", s->index);
    cJSON_AddStringToObject(o, "stage", s->stage);
    add_number(o, "accuracy", s->accuracy);
    add_number(o, "flash_bytes", s->flash_bytes);
    add_number(o, "ram_bytes", s->ram_bytes);
    add_number(o, "instructions", s->instructions);
    return o;
}

static cJSON *layer_json(const mco_report_layer *l)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", l->name);
    cJSON_AddStringToObject(o, "type", l->type);
    cJSON_AddStringToObject(o, "output_shape", l->output_shape);
    cJSON_AddNumberToObject(o, "params", (double)l->params);
    cJSON_AddNumberToObject(o, "bytes", (double)l->bytes);
    cJSON_AddNumberToObject(o, "macs", (double)l->macs);
    add_number(o, "cycles", l->cycles);
    return o;
}

static cJSON *report_json(const mco_report *r, const mco_trial *marked)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "title", r->title ? r->title : "mcuopt search report");
    cJSON_AddStringToObject(root, "mcuopt_version", MCO_VERSION);
    if (r->study) cJSON_AddItemToObject(root, "study", study_json(r->study));
    else cJSON_AddNullToObject(root, "study");
    cJSON_AddNumberToObject(root, "min_accuracy", r->min_accuracy);
    cJSON_AddBoolToObject(root, "pareto_with_accuracy", r->pareto_with_accuracy);

    int counts[MCO_TRIAL_STATE_COUNT] = {0};
    for (int i = 0; i < r->n_trials; i++)
        if ((int)marked[i].state >= 0 && marked[i].state < MCO_TRIAL_STATE_COUNT) counts[marked[i].state]++;
    cJSON *c = cJSON_AddObjectToObject(root, "counts");
    for (int s = 0; s < MCO_TRIAL_STATE_COUNT; s++)
        cJSON_AddNumberToObject(c, mco_trial_state_name((mco_trial_state)s), counts[s]);

    const mco_trial *chosen = NULL;
    for (int i = 0; r->chosen_id > 0 && i < r->n_trials; i++)
        if (marked[i].id == r->chosen_id) chosen = &marked[i];
    if (chosen) {
        cJSON *o = cJSON_AddObjectToObject(root, "chosen");
        cJSON_AddItemToObject(o, "trial", trial_json(chosen, r->chosen_id));
        cJSON *stages = cJSON_AddArrayToObject(o, "stages");
        for (int i = 0; i < r->n_stages; i++) cJSON_AddItemToArray(stages, stage_json(&r->stages[i]));
    } else {
        cJSON_AddNullToObject(root, "chosen");
    }
    cJSON *layers = cJSON_AddArrayToObject(root, "layers");
    for (int i = 0; i < r->n_layers; i++) cJSON_AddItemToArray(layers, layer_json(&r->layers[i]));
    cJSON *trials = cJSON_AddArrayToObject(root, "trials");
    for (int i = 0; i < r->n_trials; i++) cJSON_AddItemToArray(trials, trial_json(&marked[i], r->chosen_id));
    return root;
}

mco_status mco_report_json_text(const mco_report *r, char **text)
{
    *text = NULL;
    mco_trial *marked;
    mco_status st = mco_report_marked_trials(r, &marked);
    if (st != MCO_OK) return st;
    cJSON *root = report_json(r, marked);
    free(marked);
    char *printed = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    size_t len = printed ? strlen(printed) : 0;
    char *copy = printed ? malloc(len + 2) : NULL;   /* our own buffer, ending in a newline */
    if (copy) {
        memcpy(copy, printed, len);
        memcpy(copy + len, "\n", 2);
    }
    cJSON_free(printed);
    if (!copy) return mco_error(MCO_ERR_NOMEM, "report: out of memory building the JSON");
    *text = copy;
    return MCO_OK;
}

mco_status mco_report_write_json(const char *path, const mco_report *r)
{
    char *text;
    mco_status st = mco_report_json_text(r, &text);
    if (st != MCO_OK) return st;
    st = mco_write_file_atomic(path, text, strlen(text));
    free(text);
    return st;
}
