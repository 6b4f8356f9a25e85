/*
 * report.h - the report of an adaptive search: one self-contained HTML page
 * (report.html) and the same content as JSON (report.json).
 *
 * The HTML page needs nothing but itself (inline CSS, inline SVG, no
 * scripts, fonts or links) and holds:
 *   - the study (model, target, accuracy floor, seed, budget) and how many
 *     trials ended in each state;
 *   - two scatter plots, accuracy vs Flash and accuracy vs latency: every
 *     trial with an accuracy and that value is a point (pruned ones grey),
 *     the Pareto front is marked and connected, the accuracy floor is a
 *     dashed line, the chosen trial is ringed; hovering a point shows its
 *     id and configuration (an SVG <title>);
 *   - the chosen trial's metrics and its stages (the model after each one);
 *   - a per-layer table of the chosen model (rows filled by the caller);
 *   - every trial in a table.
 * All text is HTML-escaped; the page is well-formed XML (XHTML syntax), so
 * it can also be checked or transformed with XML tools.
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
 * log-scale axes, plots of RAM or energy (they are in the tables).
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

/* One row of the per-layer table (NAN cycles: not estimated). */
typedef struct {
    char name[48];
    char type[32];
    char output_shape[32];   /* e.g. "13x13x12" */
    uint64_t params;
    uint64_t bytes;          /* of its parameters in the deployed format */
    uint64_t macs;
    double cycles;           /* estimated per inference */
} mco_report_layer;

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
    const mco_report_layer *layers;    /* the chosen model's layers */
    int n_layers;
} mco_report;

mco_status mco_report_write_html(const char *path, const mco_report *report);
mco_status mco_report_write_json(const char *path, const mco_report *report);

/* The JSON report as a malloc'd text ending in a newline (free() it). */
mco_status mco_report_json_text(const mco_report *report, char **text);

/* A malloc'd copy of report->trials with on_pareto set as both reports show
 * it (free() it; non-NULL even for no trials). */
mco_status mco_report_marked_trials(const mco_report *report, mco_trial **marked);

#ifdef __cplusplus
}
#endif
#endif
