/*
 * report.h - the report of an adaptive search: one self-contained HTML page
 * (report.html) and the same content as JSON (report.json).
 *
 * One truth per figure. A trial's Flash, RAM, latency and energy are what
 * the search decided with: predicted by the resource model or measured on
 * the emulator (mco_report.trial_figures says which). The starting model
 * (deployed as int8) and the chosen model are measured on the emulated
 * target after the search (mco_report_model): wherever the chosen trial
 * appears (its table row, its point on the plots) its measured figures are
 * shown, marked "measured", and the gain compares measured with measured.
 *
 * The HTML page needs nothing but itself (inline CSS, inline SVG, no
 * scripts, fonts or links) and holds:
 *   - the study (model, target, accuracy floor, seed, time budget, the
 *     limits, unset ones written "unset") and how many trials ended in each
 *     state;
 *   - the starting and the chosen model side by side: pipeline text, trial,
 *     validation and test accuracy, bit-exactness on the target, Flash, RAM,
 *     instructions (exact), cycles, latency and energy (estimates from the
 *     exact counts), and the change;
 *   - three scatter plots, accuracy vs Flash, RAM and latency (log axis):
 *     trials on full training data are filled dots, trials on part of it
 *     (lower rungs) hollow ones, pruned ones grey; the Pareto front is
 *     joined, the accuracy floor is a dashed line and the accuracy axis is
 *     fitted to the band at and above it (points below sit on the bottom
 *     edge as small triangles), the starting model is a square, the chosen
 *     trial is ringed; hovering a point shows its id and configuration;
 *   - the chosen trial's stages (only the columns that have figures);
 *   - the chosen model's measured cost per op (exact instructions, estimated
 *     cycles) and the overhead around the ops, adding up to the total;
 *   - every trial in a table, with its training data in images;
 *   - the provenance: mcuopt version, model hash, pipeline text, trial,
 *     measured accuracy and figures, target.
 * All text is HTML-escaped; the page is well-formed XML (XHTML syntax), so
 * it can also be checked or transformed with XML tools. Every figure
 * carries its unit (in the column head or after the number).
 *
 * The Pareto marks are computed here with mco_pareto_mark(trials,
 * min_accuracy, pareto_with_accuracy), not taken from the caller's
 * on_pareto fields, so the plot and the tables agree.
 *
 * Files are written atomically (temporary file and rename).
 *
 * Example:
 *   mco_report r = {0};
 *   r.study = &study;  r.min_accuracy = study.min_accuracy;
 *   mco_trials_list(db, NULL, &trials, &n);  r.trials = trials;  r.n_trials = n;
 *   mco_trials_best(db, &query, &best, &found);  r.chosen_id = found ? best.id : 0;
 *   mco_trials_stages(db, best.id, &stages, &n_stages);  r.stages = stages; ...
 *   mco_report_write_html("out/report.html", &r);
 *   mco_report_write_json("out/report.json", &r);
 *
 * What it leaves out: interactivity beyond hover titles (no JavaScript),
 * a plot of energy (it is in the tables).
 */
#ifndef MCUOPT_REPORT_H
#define MCUOPT_REPORT_H

#include <stddef.h>
#include <stdint.h>

#include "mcuopt/status.h"
#include "mcuopt/trials.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One op of the chosen model as measured on the target (an op runs one or
 * more model layers: a fused conv + ReLU + pool is one op). */
typedef struct {
    char name[112];          /* its layers, e.g. "conv2d_1 .. max_pooling2d" */
    char type[32];           /* its kernel, e.g. "conv2d_s8" */
    char output_shape[32];   /* e.g. "13x13x12" */
    uint64_t params;
    uint64_t bytes;          /* of its parameters in the deployed format */
    uint64_t macs;
    double cycles;           /* estimated per inference from the exact counts (NAN: not measured) */
    double instructions;     /* exact per inference (NAN: not measured) */
} mco_report_layer;

/* A deployed model measured on the emulated target (the figures of
 * mco_measure_deploy_model, copied here: the report sits below measure). */
typedef struct {
    int measured;            /* 0: not measured; the figures below are then unset */
    char config[MCO_TRIAL_CONFIG_MAX];   /* the pipeline text that made it */
    int64_t trial_id;        /* 0: not a trial (the starting model) */
    double val_accuracy;     /* 0..1 on the search's validation split (NAN: not evaluated) */
    double test_accuracy;    /* 0..1 on the test set (NAN: no test set) */
    int images, mismatches;  /* outputs compared with the host runtime, and how many differed */
    double instructions;     /* exact, per inference (mean over the images) */
    double cycles;           /* estimated from the exact counts */
    double clock_mhz, latency_ms, energy_uj;   /* latency and energy: estimates at that clock */
    double flash_bytes, ram_bytes;             /* exact (linked image; static + peak stack) */
    char build[32];          /* how the model code was compiled, e.g. "gcc -O2" */
} mco_report_model;

/* Sets every figure of `m` unset (NAN) and `measured` to 0. */
void mco_report_model_init(mco_report_model *m);

typedef struct {
    const char *title;                 /* NULL: "mcuopt search report" */
    const mco_trial_study *study;      /* may be NULL */
    double min_accuracy;               /* the floor drawn and used for the front (0: none) */
    int pareto_with_accuracy;          /* see mco_pareto_mark */
    const mco_trial *trials;           /* every trial to show */
    int n_trials;
    int64_t chosen_id;                 /* a trial in `trials`, 0: none chosen */
    const mco_trial_stage *stages;     /* the chosen trial's stages */
    int n_stages;
    const mco_report_layer *layers;    /* the chosen model's ops, measured */
    int n_layers;
    double overhead_instructions;      /* around the ops (exact), when n_layers > 0 */
    double overhead_cycles;
    /* Measured after the search (NULL: not measured). */
    const mco_report_model *start;     /* the starting model deployed as int8 */
    const mco_report_model *chosen;    /* the chosen trial's model */
    /* How the trials' Flash, RAM, latency and energy were obtained: "predicted"
     * (the resource model) or "measured" (the emulator); NULL: "predicted". */
    const char *trial_figures;
    int train_images;                  /* a full-data trial's training images (0: unknown):
                                          a trial's budget (a fraction) is shown as images */
    /* The limits (0: unset, shown as "unset"). */
    double max_flash_bytes, max_ram_bytes, max_latency_ms;
    double clock_mhz;                  /* the clock latency and energy are given at */
    const char *formats_dropped;       /* what the sampler stopped proposing and why (NULL: none) */
    const char *sampler;               /* "tpe", "random", "nsga2" (NULL: not shown) */
    const char *objective;             /* "cost" or "pareto" (NULL: not shown) */
    /* The front's hypervolume (see MCO_REPORT_HYPERVOLUME_DEFINITION) and
     * how many trials are on that front; has_hypervolume 0: not shown. */
    int has_hypervolume;
    double hypervolume;
    int front_size;
} mco_report;

/* What report.hypervolume measures (the search computes it: search_driver.h). */
#define MCO_REPORT_HYPERVOLUME_OBJECTIVES                                                                     \
    "accuracy points above the floor x fraction of the starting model's Flash saved x fraction of its "     \
    "latency saved, over the done full-data trials that meet the floor and the limits (trial figures)"
#define MCO_REPORT_HYPERVOLUME_REFERENCE \
    "the starting model (as int8) at the accuracy floor: (floor, 1x Flash, 1x latency)"

mco_status mco_report_write_html(const char *path, const mco_report *report);
mco_status mco_report_write_json(const char *path, const mco_report *report);

/* The JSON report as a malloc'd text ending in a newline (free() it). */
mco_status mco_report_json_text(const mco_report *report, char **text);

/* A malloc'd copy of report->trials with on_pareto set as both reports show
 * it (free() it; non-NULL even for no trials). */
mco_status mco_report_marked_trials(const mco_report *report, mco_trial **marked);

/* For callers that build their own JSON with cJSON (the CLI's `search
 * --json`): the same objects report.json holds, so both say the same.
 * A measured model: {"figures": "measured", "pipeline", "trial",
 * "val_accuracy", "test_accuracy", "images", "mismatches", "bit_exact",
 * "instructions", "cycles_estimate", "clock_mhz", "latency_ms_estimate",
 * "energy_uj_estimate", "flash_bytes", "ram_bytes", "build"} (null for an
 * unknown value). The gain: {"flash_percent", "ram_percent",
 * "latency_percent", "energy_percent", "instructions_percent"}, the change
 * of the chosen model against the starting one, both measured (negative:
 * smaller or faster). The provenance: {"mcuopt_version", "model_path",
 * "model_hash", "target", "clock_mhz", "pipeline", "trial", "val_accuracy",
 * "test_accuracy", "bit_exact", "flash_bytes", "ram_bytes", "instructions",
 * "latency_ms_estimate"}. NULL when out of memory. */
struct cJSON;
struct cJSON *mco_report_model_json(const mco_report_model *m);
struct cJSON *mco_report_gain_json(const mco_report_model *start, const mco_report_model *chosen);
struct cJSON *mco_report_provenance_json(const mco_report *report);

/* The provenance of the chosen model as C comment lines (" * key: value\n"
 * each: mcuopt version, source model hash, pipeline text, trial, measured
 * accuracy and figures, target), for whoever writes a file that should say
 * where it came from (e.g. an emitted header). Truncated to `size`. */
void mco_report_provenance_text(const mco_report *report, char *buf, size_t size);

#ifdef __cplusplus
}
#endif
#endif
