/*
 * report_json.c - the search report as JSON (see mcuopt/report.h), and the
 * Pareto marks both reports share.
 *
 * Layout:
 *   { "title", "mcuopt_version", "study": {... "budget_s" ...} | null, "min_accuracy",
 *     "pareto_with_accuracy", "limits": {"max_flash_bytes", "max_ram_bytes",
 *     "max_latency_ms", "clock_mhz"} (null: unset), "trial_figures":
 *     "predicted" | "measured", "counts": {"queued": n, ...},
 *     "start": {measured model} | null, "chosen_model": {measured model} | null,
 *     "gain": {...} | null, "provenance": {...} | null (see report.h),
 *     "formats_dropped": text | null,
 *     "chosen": {"trial": {...}, "stages": [...]} | null,
 *     "layers": [{"name", "type", "output_shape", "params", "bytes", "macs",
 *                 "instructions", "cycles_estimate"}],
 *     "overhead": {"instructions", "cycles_estimate"} | null,
 *     "trials": [{"id", "state", "rung", "data_fraction", "train_images", "config",
 *                 "config_hash", "pid", "attempts", "queued_at", "started_at",
 *                 "finished_at", "accuracy", "figures", "flash_bytes", "ram_bytes",
 *                 "cycles", "latency_ms", "energy_uj", "objective", "model_path",
 *                 "deploy_path", "error", "pareto", "chosen"}] }
 * Units are in the names (bytes, ms, uJ, s, MHz); accuracy is a fraction,
 * times are Unix seconds; an unknown or unset value is null. A trial's
 * "figures" says whether its Flash, RAM, latency and energy are "predicted"
 * (resource model) or "measured" (emulator): the chosen trial's are the
 * measured ones when the chosen model was measured.
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

void mco_report_model_init(mco_report_model *m)
{
    memset(m, 0, sizeof *m);
    m->val_accuracy = m->test_accuracy = NAN;
    m->instructions = m->cycles = m->clock_mhz = m->latency_ms = m->energy_uj = NAN;
    m->flash_bytes = m->ram_bytes = NAN;
}

/* 1 if trial t is the chosen one and its model was measured. */
static int shows_measured(const mco_report *r, const mco_trial *t)
{
    return r->chosen && r->chosen->measured && r->chosen_id > 0 && t->id == r->chosen_id;
}

mco_status mco_report_marked_trials(const mco_report *r, mco_trial **marked)
{
    size_t n = r->n_trials > 0 ? (size_t)r->n_trials : 0;
    *marked = malloc((n ? n : 1) * sizeof **marked);
    if (!*marked) return mco_error(MCO_ERR_NOMEM, "report: out of memory for %zu trials", n);
    if (n) memcpy(*marked, r->trials, n * sizeof **marked);
    mco_pareto_mark(*marked, (int)n, r->min_accuracy, r->pareto_with_accuracy);
    /* One truth per figure: the chosen trial shows its measured figures
     * (the front is marked on the figures the search decided with). */
    for (size_t i = 0; i < n; i++)
        if (shows_measured(r, &(*marked)[i])) {
            mco_trial_result *m = &(*marked)[i].result;
            m->flash_bytes = r->chosen->flash_bytes;
            m->ram_bytes = r->chosen->ram_bytes;
            m->cycles = r->chosen->cycles;
            m->latency_ms = r->chosen->latency_ms;
            m->energy_uj = r->chosen->energy_uj;
        }
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
    cJSON_AddNumberToObject(o, "budget_s", s->budget);
    cJSON_AddStringToObject(o, "settings", s->settings);
    return o;
}

/* A limit, or null when unset (0). */
static void add_limit(cJSON *o, const char *name, double value)
{
    add_number(o, name, value > 0 ? value : NAN);
}

cJSON *mco_report_model_json(const mco_report_model *m)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "figures", m->measured ? "measured" : "none");
    cJSON_AddStringToObject(o, "pipeline", m->config);
    if (m->trial_id > 0) cJSON_AddNumberToObject(o, "trial", (double)m->trial_id);
    else cJSON_AddNullToObject(o, "trial");
    add_number(o, "val_accuracy", m->val_accuracy);
    add_number(o, "test_accuracy", m->test_accuracy);
    cJSON_AddNumberToObject(o, "images", m->images);
    cJSON_AddNumberToObject(o, "mismatches", m->mismatches);
    cJSON_AddBoolToObject(o, "bit_exact", m->measured && m->images > 0 && m->mismatches == 0);
    add_number(o, "instructions", m->instructions);
    add_number(o, "cycles_estimate", m->cycles);
    add_number(o, "clock_mhz", m->clock_mhz);
    add_number(o, "latency_ms_estimate", m->latency_ms);
    add_number(o, "energy_uj_estimate", m->energy_uj);
    add_number(o, "flash_bytes", m->flash_bytes);
    add_number(o, "ram_bytes", m->ram_bytes);
    cJSON_AddStringToObject(o, "build", m->build);
    return o;
}

/* The change from a to b in percent (NAN when either is unknown). */
static double percent_change(double a, double b)
{
    return a > 0 && !isnan(b) ? 100.0 * (b - a) / a : NAN;
}

cJSON *mco_report_gain_json(const mco_report_model *start, const mco_report_model *chosen)
{
    if (!start || !chosen || !start->measured || !chosen->measured) return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "compares", "chosen model against the starting model as int8, both measured");
    add_number(o, "flash_percent", percent_change(start->flash_bytes, chosen->flash_bytes));
    add_number(o, "ram_percent", percent_change(start->ram_bytes, chosen->ram_bytes));
    add_number(o, "instructions_percent", percent_change(start->instructions, chosen->instructions));
    add_number(o, "latency_percent", percent_change(start->latency_ms, chosen->latency_ms));
    add_number(o, "energy_percent", percent_change(start->energy_uj, chosen->energy_uj));
    add_number(o, "test_accuracy_points", 100.0 * (chosen->test_accuracy - start->test_accuracy));
    return o;
}

cJSON *mco_report_provenance_json(const mco_report *r)
{
    const mco_report_model *m = r->chosen;
    if (!m || !m->config[0]) return cJSON_CreateNull();
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddStringToObject(o, "mcuopt_version", MCO_VERSION);
    cJSON_AddStringToObject(o, "model_path", r->study ? r->study->model_path : "");
    cJSON_AddStringToObject(o, "model_hash", r->study ? r->study->model_hash : "");
    cJSON_AddStringToObject(o, "target", r->study ? r->study->target : "");
    add_number(o, "clock_mhz", m->clock_mhz);
    cJSON_AddStringToObject(o, "pipeline", m->config);
    cJSON_AddNumberToObject(o, "trial", (double)m->trial_id);
    add_number(o, "val_accuracy", m->val_accuracy);
    add_number(o, "test_accuracy", m->test_accuracy);
    cJSON_AddBoolToObject(o, "bit_exact", m->measured && m->images > 0 && m->mismatches == 0);
    add_number(o, "flash_bytes", m->flash_bytes);
    add_number(o, "ram_bytes", m->ram_bytes);
    add_number(o, "instructions", m->instructions);
    add_number(o, "latency_ms_estimate", m->latency_ms);
    return o;
}

/* "%.2f %%" of a fraction, or "unknown". */
static void percent_text(char *buf, size_t size, double fraction)
{
    if (isnan(fraction)) snprintf(buf, size, "unknown");
    else snprintf(buf, size, "%.2f %%", 100.0 * fraction);
}

void mco_report_provenance_text(const mco_report *r, char *buf, size_t size)
{
    const mco_report_model *m = r->chosen;
    if (!size) return;
    buf[0] = '\0';
    if (!m || !m->config[0]) return;
    char val[32], test[32];
    percent_text(val, sizeof val, m->val_accuracy);
    percent_text(test, sizeof test, m->test_accuracy);
    snprintf(buf, size,
             " * made by:     mcuopt %s\n"
             " * from model:  %s (hash %s)\n"
             " * pipeline:    %s\n"
             " * search:      trial %lld\n"
             " * accuracy:    %s validation, %s test\n"
             " * measured on: %s (emulated), %d of %d outputs bit-exact; Flash %.0f B, RAM %.0f B,\n"
             " *              %.0f instructions (exact), ~%.3f ms at %.0f MHz (estimate)\n",
             MCO_VERSION, r->study ? r->study->model_path : "?", r->study ? r->study->model_hash : "?", m->config,
             (long long)m->trial_id, val, test, r->study ? r->study->target : "?", m->images - m->mismatches,
             m->images, m->flash_bytes, m->ram_bytes, m->instructions, m->latency_ms, m->clock_mhz);
}

static cJSON *trial_json(const mco_report *r, const mco_trial *t, int64_t chosen_id)
{
    cJSON *o = cJSON_CreateObject();
    const mco_trial_result *m = &t->result;
    cJSON_AddNumberToObject(o, "id", (double)t->id);
    cJSON_AddStringToObject(o, "state", mco_trial_state_name(t->state));
    cJSON_AddNumberToObject(o, "rung", t->rung);
    cJSON_AddNumberToObject(o, "data_fraction", t->budget);
    add_number(o, "train_images", r->train_images > 0 ? ceil(t->budget * r->train_images) : NAN);
    cJSON_AddStringToObject(o, "config", t->config);
    cJSON_AddStringToObject(o, "config_hash", t->config_hash);
    cJSON_AddNumberToObject(o, "pid", t->pid);
    cJSON_AddNumberToObject(o, "attempts", t->attempts);
    add_number(o, "queued_at", t->queued_at);
    add_number(o, "started_at", t->started_at);
    add_number(o, "finished_at", t->finished_at);
    add_number(o, "accuracy", m->accuracy);
    cJSON_AddStringToObject(o, "figures", shows_measured(r, t) ? "measured"
                                          : r->trial_figures ? r->trial_figures : "predicted");
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
    add_number(o, "instructions", l->instructions);
    add_number(o, "cycles_estimate", l->cycles);
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
    cJSON *limits = cJSON_AddObjectToObject(root, "limits");
    add_limit(limits, "max_flash_bytes", r->max_flash_bytes);
    add_limit(limits, "max_ram_bytes", r->max_ram_bytes);
    add_limit(limits, "max_latency_ms", r->max_latency_ms);
    add_limit(limits, "clock_mhz", r->clock_mhz);
    cJSON_AddStringToObject(root, "trial_figures", r->trial_figures ? r->trial_figures : "predicted");

    int counts[MCO_TRIAL_STATE_COUNT] = {0};
    for (int i = 0; i < r->n_trials; i++)
        if ((int)marked[i].state >= 0 && marked[i].state < MCO_TRIAL_STATE_COUNT) counts[marked[i].state]++;
    cJSON *c = cJSON_AddObjectToObject(root, "counts");
    for (int s = 0; s < MCO_TRIAL_STATE_COUNT; s++)
        cJSON_AddNumberToObject(c, mco_trial_state_name((mco_trial_state)s), counts[s]);

    if (r->start) cJSON_AddItemToObject(root, "start", mco_report_model_json(r->start));
    else cJSON_AddNullToObject(root, "start");
    if (r->chosen) cJSON_AddItemToObject(root, "chosen_model", mco_report_model_json(r->chosen));
    else cJSON_AddNullToObject(root, "chosen_model");
    cJSON_AddItemToObject(root, "gain", mco_report_gain_json(r->start, r->chosen));
    cJSON_AddItemToObject(root, "provenance", mco_report_provenance_json(r));
    if (r->formats_dropped && r->formats_dropped[0])
        cJSON_AddStringToObject(root, "formats_dropped", r->formats_dropped);
    else cJSON_AddNullToObject(root, "formats_dropped");
    if (r->sampler) cJSON_AddStringToObject(root, "sampler", r->sampler);
    if (r->objective) cJSON_AddStringToObject(root, "objective", r->objective);
    if (r->has_hypervolume) {
        cJSON *hv = cJSON_AddObjectToObject(root, "hypervolume");
        cJSON_AddNumberToObject(hv, "value", r->hypervolume);
        cJSON_AddNumberToObject(hv, "front_size", r->front_size);
        cJSON_AddStringToObject(hv, "objectives", MCO_REPORT_HYPERVOLUME_OBJECTIVES);
        cJSON_AddStringToObject(hv, "reference", MCO_REPORT_HYPERVOLUME_REFERENCE);
    } else {
        cJSON_AddNullToObject(root, "hypervolume");
    }

    const mco_trial *chosen = NULL;
    for (int i = 0; r->chosen_id > 0 && i < r->n_trials; i++)
        if (marked[i].id == r->chosen_id) chosen = &marked[i];
    if (chosen) {
        cJSON *o = cJSON_AddObjectToObject(root, "chosen");
        cJSON_AddItemToObject(o, "trial", trial_json(r, chosen, r->chosen_id));
        cJSON *stages = cJSON_AddArrayToObject(o, "stages");
        for (int i = 0; i < r->n_stages; i++) cJSON_AddItemToArray(stages, stage_json(&r->stages[i]));
    } else {
        cJSON_AddNullToObject(root, "chosen");
    }
    cJSON *layers = cJSON_AddArrayToObject(root, "layers");
    for (int i = 0; i < r->n_layers; i++) cJSON_AddItemToArray(layers, layer_json(&r->layers[i]));
    if (r->n_layers > 0) {
        cJSON *overhead = cJSON_AddObjectToObject(root, "overhead");
        add_number(overhead, "instructions", r->overhead_instructions);
        add_number(overhead, "cycles_estimate", r->overhead_cycles);
    } else {
        cJSON_AddNullToObject(root, "overhead");
    }
    cJSON *trials = cJSON_AddArrayToObject(root, "trials");
    for (int i = 0; i < r->n_trials; i++) cJSON_AddItemToArray(trials, trial_json(r, &marked[i], r->chosen_id));
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
