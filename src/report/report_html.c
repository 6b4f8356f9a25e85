/*
 * report_html.c - the search report as one self-contained HTML page with
 * inline CSS and inline SVG scatter plots (see mcuopt/report.h).
 *
 * The page is built in memory (open_memstream) and written with
 * mco_write_file_atomic, so a reader never sees half a report. It uses XHTML
 * syntax (every element closed, <meta ... />), so it is well-formed XML as
 * well as valid HTML5. Every piece of text that comes from outside (configs,
 * paths, error messages, layer names, the title) goes through put_text(),
 * which escapes & < > " ' and replaces control characters that XML does not
 * allow.
 *
 * Plot axes are linear with "nice" ticks (1, 2 or 5 times a power of ten).
 *
 * What it leaves out: JavaScript (no zoom or sorting), log axes, dark mode,
 * and pagination of very long trial tables.
 */
#include "mcuopt/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/file_util.h"

#define PLOT_WIDTH 640
#define PLOT_HEIGHT 400
#define PLOT_LEFT 70
#define PLOT_RIGHT 24
#define PLOT_TOP 40
#define PLOT_BOTTOM 56
#define PLOT_TARGET_TICKS 6

static const char page_css[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;"
    "margin:2em auto;max-width:1320px;padding:0 1em;color:#222;line-height:1.4}\n"
    "h1{font-size:1.6em;margin-bottom:0.2em}h2{font-size:1.25em;margin-top:1.6em;"
    "border-bottom:1px solid #ddd;padding-bottom:0.2em}\n"
    ".meta{color:#666;margin-top:0}\n"
    "table{border-collapse:collapse;font-size:0.9em;margin:0.5em 0}\n"
    "th,td{border:1px solid #ddd;padding:3px 8px;text-align:left;vertical-align:top}\n"
    "th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "table.kv th{width:11em}\n"
    "tr.chosen-row td{background:#fff4c2}\n"
    "code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:0.95em;"
    "overflow-wrap:anywhere}\n"
    ".plots{display:flex;flex-wrap:wrap;gap:1em}\n"
    "svg.plot{border:1px solid #ddd;background:#fff;max-width:100%;height:auto}\n"
    "svg.plot text{font-size:12px;fill:#333}svg.plot text.title{font-size:14px;font-weight:600}\n"
    ".grid{stroke:#eee}.axis{stroke:#444}\n"
    ".trial{fill:#4477aa;fill-opacity:0.75}.pruned{fill:#bbbbbb;fill-opacity:0.8}\n"
    ".front{fill:none;stroke:#ee6677;stroke-width:1.5}.front-point{fill:#ee6677}\n"
    ".floor{stroke:#228833;stroke-width:1.5;stroke-dasharray:6 4}text.floor-label{fill:#228833}\n"
    ".chosen{fill:none;stroke:#111;stroke-width:2.5}\n"
    ".legend span{margin-right:1.5em}.swatch{display:inline-block;width:0.8em;height:0.8em;"
    "border-radius:50%;margin-right:0.3em;vertical-align:-0.05em}\n";

/* ---- text ----------------------------------------------------------------------- */

/* Writes text escaped for HTML and XML (element content and quoted attributes). */
static void put_text(FILE *f, const char *text)
{
    for (const unsigned char *p = (const unsigned char *)(text ? text : ""); *p; p++) {
        switch (*p) {
        case '&': fputs("&amp;", f); break;
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        case '\t':
        case '\n':
        case '\r': fputc(*p, f); break;
        default:
            if (*p < 0x20 || *p == 0x7f) fputs("&#xFFFD;", f);   /* not allowed in XML */
            else fputc(*p, f);
        }
    }
}

/* A number scaled and with `decimals` digits, or "-" when unknown. */
static void format_number(char *buf, size_t size, double value, double scale, int decimals)
{
    if (isnan(value)) snprintf(buf, size, "-");
    else snprintf(buf, size, "%.*f", decimals, value * scale);
}

static void put_number(FILE *f, double value, double scale, int decimals)
{
    char buf[64];
    format_number(buf, sizeof buf, value, scale, decimals);
    fputs(buf, f);
}

/* A table cell with a right-aligned number. */
static void put_number_cell(FILE *f, double value, double scale, int decimals)
{
    fputs("<td class=\"num\">", f);
    put_number(f, value, scale, decimals);
    fputs("</td>", f);
}

static void put_text_cell(FILE *f, const char *text)
{
    fputs("<td>", f);
    put_text(f, text);
    fputs("</td>", f);
}

static void put_code_cell(FILE *f, const char *text)
{
    fputs("<td><code>", f);
    put_text(f, text);
    fputs("</code></td>", f);
}

static void put_header_row(FILE *f, const char *const *names, int n)
{
    fputs("<tr>", f);
    for (int i = 0; i < n; i++) {
        fputs("<th>", f);
        put_text(f, names[i]);
        fputs("</th>", f);
    }
    fputs("</tr>\n", f);
}

/* ---- plots ------------------------------------------------------------------------ */

typedef struct {
    double lo, hi, step;
    int decimals;
} axis_range;

/* A range covering [min, max] that starts and ends on ticks 1, 2 or 5 x 10^k apart. */
static axis_range nice_range(double min, double max)
{
    if (!(max > min)) {
        double pad = fabs(min) > 0 ? fabs(min) * 0.05 : 1.0;
        min -= pad;
        max += pad;
    }
    double rough = (max - min) / (PLOT_TARGET_TICKS - 1);
    double power = pow(10.0, floor(log10(rough)));
    double fraction = rough / power;
    double step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * power;
    axis_range r;
    r.step = step;
    r.lo = floor(min / step) * step;
    r.hi = ceil(max / step) * step;
    int decimals = (int)-floor(log10(step) + 1e-9);
    r.decimals = decimals > 0 ? decimals : 0;
    return r;
}

typedef struct {
    const char *title;
    const char *x_label;
    double (*x_of)(const mco_trial *t);   /* NAN: not plotted */
} plot_spec;

static double flash_kb(const mco_trial *t)
{
    return t->result.flash_bytes / 1024.0;
}

static double latency_ms(const mco_trial *t)
{
    return t->result.latency_ms;
}

static int plotted(const mco_trial *t, const plot_spec *spec)
{
    return (t->state == MCO_TRIAL_DONE || t->state == MCO_TRIAL_PRUNED) && !isnan(t->result.accuracy) &&
           !isnan(spec->x_of(t));
}

typedef struct {
    axis_range x, y;
} plot_frame;

static double px(const plot_frame *p, double x)
{
    return PLOT_LEFT + (x - p->x.lo) / (p->x.hi - p->x.lo) * (PLOT_WIDTH - PLOT_LEFT - PLOT_RIGHT);
}

static double py(const plot_frame *p, double accuracy_percent)
{
    double h = PLOT_HEIGHT - PLOT_TOP - PLOT_BOTTOM;
    return PLOT_TOP + h - (accuracy_percent - p->y.lo) / (p->y.hi - p->y.lo) * h;
}

static void put_axes(FILE *f, const plot_frame *p, const plot_spec *spec)
{
    const int right = PLOT_WIDTH - PLOT_RIGHT, bottom = PLOT_HEIGHT - PLOT_BOTTOM;
    fputs("<g class=\"axes\">\n", f);
    for (double x = p->x.lo; x <= p->x.hi + p->x.step * 1e-6; x += p->x.step) {
        fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", px(p, x), PLOT_TOP,
                px(p, x), bottom);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.*f</text>\n", px(p, x), bottom + 16,
                p->x.decimals, x);
    }
    for (double y = p->y.lo; y <= p->y.hi + p->y.step * 1e-6; y += p->y.step) {
        fprintf(f, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>", PLOT_LEFT, py(p, y),
                right, py(p, y));
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.*f</text>\n", PLOT_LEFT - 6, py(p, y) + 4,
                p->y.decimals, y);
    }
    fprintf(f, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>", PLOT_LEFT, bottom, right, bottom);
    fprintf(f, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n", PLOT_LEFT, PLOT_TOP, PLOT_LEFT,
            bottom);
    fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">", (PLOT_LEFT + right) / 2, PLOT_HEIGHT - 12);
    put_text(f, spec->x_label);
    fprintf(f, "</text>\n<text x=\"16\" y=\"%d\" text-anchor=\"middle\" transform=\"rotate(-90 16 %d)\">"
               "accuracy (%%)</text>\n</g>\n",
            (PLOT_TOP + bottom) / 2, (PLOT_TOP + bottom) / 2);
}

/* The hover text of a point: "#12 done: <config>". */
static void put_point_title(FILE *f, const mco_trial *t)
{
    fprintf(f, "<title>#%lld %s, rung %d: ", (long long)t->id, mco_trial_state_name(t->state), t->rung);
    put_text(f, t->config);
    fprintf(f, " (accuracy %.2f%%)</title>", t->result.accuracy * 100.0);
}

static int by_x(const void *a, const void *b)
{
    double x = ((const double *)a)[0], y = ((const double *)b)[0];
    return x < y ? -1 : x > y;
}

/* The front as a line through its points in order of x. */
static void put_front_line(FILE *f, const plot_frame *p, const plot_spec *spec, const mco_trial *trials, int n)
{
    double(*points)[2] = malloc((size_t)(n > 0 ? n : 1) * sizeof *points);
    if (!points) return;   /* the line is decoration; the points are still drawn and marked */
    int k = 0;
    for (int i = 0; i < n; i++)
        if (trials[i].on_pareto && plotted(&trials[i], spec)) {
            points[k][0] = spec->x_of(&trials[i]);
            points[k][1] = trials[i].result.accuracy * 100.0;
            k++;
        }
    if (k > 0) {
        qsort(points, (size_t)k, sizeof *points, by_x);
        fputs("<polyline class=\"front\" points=\"", f);
        for (int i = 0; i < k; i++) fprintf(f, "%s%.1f,%.1f", i ? " " : "", px(p, points[i][0]), py(p, points[i][1]));
        fputs("\"/>\n", f);
    }
    free(points);
}

static void put_plot(FILE *f, const plot_spec *spec, const mco_trial *trials, int n, double min_accuracy,
                     int64_t chosen_id)
{
    fprintf(f, "<svg class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" role=\"img\">\n<title>",
            PLOT_WIDTH, PLOT_HEIGHT, PLOT_WIDTH, PLOT_HEIGHT);
    put_text(f, spec->title);
    fprintf(f, "</title>\n<text class=\"title\" x=\"%d\" y=\"22\">", PLOT_LEFT);
    put_text(f, spec->title);
    fputs("</text>\n", f);

    double x_min = INFINITY, x_max = -INFINITY, y_min = INFINITY, y_max = -INFINITY;
    int n_points = 0;
    for (int i = 0; i < n; i++) {
        if (!plotted(&trials[i], spec)) continue;
        double x = spec->x_of(&trials[i]), y = trials[i].result.accuracy * 100.0;
        x_min = fmin(x_min, x);
        x_max = fmax(x_max, x);
        y_min = fmin(y_min, y);
        y_max = fmax(y_max, y);
        n_points++;
    }
    if (n_points == 0) {
        fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">no finished trial has this value</text>\n</svg>\n",
                PLOT_WIDTH / 2, PLOT_HEIGHT / 2);
        return;
    }
    int floor_shown = min_accuracy > 0;
    if (floor_shown) {
        y_min = fmin(y_min, min_accuracy * 100.0);
        y_max = fmax(y_max, min_accuracy * 100.0);
    }
    plot_frame p = {nice_range(x_min, x_max), nice_range(y_min, y_max)};
    if (p.y.hi > 100.0 && y_max <= 100.0) p.y.hi = 100.0;   /* no axis above 100% */
    put_axes(f, &p, spec);

    if (floor_shown) {
        double y = py(&p, min_accuracy * 100.0);
        fprintf(f, "<line class=\"floor\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\"/>\n", PLOT_LEFT, y,
                PLOT_WIDTH - PLOT_RIGHT, y);
        fprintf(f, "<text class=\"floor-label\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">floor %.2f%%</text>\n",
                PLOT_WIDTH - PLOT_RIGHT - 4, y - 5, min_accuracy * 100.0);
    }
    put_front_line(f, &p, spec, trials, n);

    fputs("<g class=\"points\">\n", f);
    const mco_trial *chosen = NULL;
    for (int i = 0; i < n; i++) {
        const mco_trial *t = &trials[i];
        if (!plotted(t, spec)) continue;
        if (t->id == chosen_id) chosen = t;
        const char *cls = t->on_pareto ? "front-point" : t->state == MCO_TRIAL_PRUNED ? "pruned" : "trial";
        fprintf(f, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%d\">", cls, px(&p, spec->x_of(t)),
                py(&p, t->result.accuracy * 100.0), t->on_pareto ? 5 : 4);
        put_point_title(f, t);
        fputs("</circle>\n", f);
    }
    fputs("</g>\n", f);
    if (chosen) {
        double x = px(&p, spec->x_of(chosen)), y = py(&p, chosen->result.accuracy * 100.0);
        fprintf(f, "<circle class=\"chosen\" cx=\"%.1f\" cy=\"%.1f\" r=\"9\"/>\n", x, y);
        int left_side = x > PLOT_WIDTH * 0.75;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\">chosen #%lld</text>\n", left_side ? x - 12 : x + 12,
                y - 10, left_side ? "end" : "start", (long long)chosen->id);
    }
    fputs("</svg>\n", f);
}

/* ---- sections --------------------------------------------------------------------- */

static void put_kv_text(FILE *f, const char *key, const char *value, int as_code)
{
    fputs("<tr><th>", f);
    put_text(f, key);
    fputs(as_code ? "</th><td><code>" : "</th><td>", f);
    put_text(f, value);
    fputs(as_code ? "</code></td></tr>\n" : "</td></tr>\n", f);
}

static void put_kv_number(FILE *f, const char *key, double value, double scale, int decimals, const char *unit)
{
    char buf[96];
    format_number(buf, sizeof buf, value, scale, decimals);
    if (!isnan(value) && unit[0]) {
        size_t len = strlen(buf);
        snprintf(buf + len, sizeof buf - len, " %s", unit);
    }
    put_kv_text(f, key, buf, 0);
}

static void put_study(FILE *f, const mco_report *r)
{
    fputs("<h2>Study</h2>\n<table class=\"kv\">\n", f);
    const mco_trial_study *s = r->study;
    if (s) {
        put_kv_text(f, "model", s->model_path[0] ? s->model_path : "-", 1);
        put_kv_text(f, "model hash", s->model_hash[0] ? s->model_hash : "-", 1);
        put_kv_text(f, "target", s->target[0] ? s->target : "-", 0);
        char buf[64];
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)s->seed);
        put_kv_text(f, "seed", buf, 0);
        snprintf(buf, sizeof buf, "%g", s->budget);
        put_kv_text(f, "budget", buf, 0);
        if (s->settings[0]) put_kv_text(f, "settings", s->settings, 1);
    }
    put_kv_number(f, "accuracy floor", r->min_accuracy > 0 ? r->min_accuracy : NAN, 100.0, 2, "%");
    int counts[MCO_TRIAL_STATE_COUNT] = {0};
    for (int i = 0; i < r->n_trials; i++)
        if ((int)r->trials[i].state >= 0 && r->trials[i].state < MCO_TRIAL_STATE_COUNT) counts[r->trials[i].state]++;
    char summary[256];
    int len = snprintf(summary, sizeof summary, "%d", r->n_trials);
    for (int s_i = 0; s_i < MCO_TRIAL_STATE_COUNT; s_i++)
        len += snprintf(summary + len, sizeof summary - (size_t)len, "%s%d %s", s_i ? ", " : " (", counts[s_i],
                        mco_trial_state_name((mco_trial_state)s_i));
    snprintf(summary + len, sizeof summary - (size_t)len, ")");
    put_kv_text(f, "trials", summary, 0);
    fputs("</table>\n", f);
}

static void put_plots(FILE *f, const mco_report *r, const mco_trial *marked)
{
    static const plot_spec flash_plot = {"Accuracy vs Flash", "Flash (KB)", flash_kb};
    static const plot_spec latency_plot = {"Accuracy vs latency", "latency (ms)", latency_ms};
    fputs("<h2>Accuracy against resources</h2>\n<div class=\"plots\">\n", f);
    put_plot(f, &flash_plot, marked, r->n_trials, r->min_accuracy, r->chosen_id);
    put_plot(f, &latency_plot, marked, r->n_trials, r->min_accuracy, r->chosen_id);
    fputs("</div>\n<p class=\"legend\">"
          "<span><span class=\"swatch\" style=\"background:#4477aa\"></span>trial</span>"
          "<span><span class=\"swatch\" style=\"background:#ee6677\"></span>Pareto front</span>"
          "<span><span class=\"swatch\" style=\"background:#bbbbbb\"></span>pruned</span>"
          "<span>dashed line: accuracy floor</span><span>ring: chosen</span></p>\n",
          f);
    fprintf(f, "<p>The Pareto front: finished trials at or above the floor that no other such trial beats or "
               "equals in every one of Flash, RAM, latency and energy%s.</p>\n",
            r->pareto_with_accuracy ? " and accuracy" : "");
}

static const mco_trial *find_trial(const mco_trial *trials, int n, int64_t id)
{
    for (int i = 0; id > 0 && i < n; i++)
        if (trials[i].id == id) return &trials[i];
    return NULL;
}

static void put_chosen(FILE *f, const mco_report *r, const mco_trial *chosen)
{
    fputs("<h2>Chosen configuration</h2>\n", f);
    if (!chosen) {
        fputs("<p>No trial was chosen.</p>\n", f);
        return;
    }
    fprintf(f, "<p>Trial #%lld (rung %d): <code>", (long long)chosen->id, chosen->rung);
    put_text(f, chosen->config);
    fputs("</code></p>\n<table class=\"kv\">\n", f);
    const mco_trial_result *m = &chosen->result;
    put_kv_number(f, "accuracy", m->accuracy, 100.0, 2, "%");
    put_kv_number(f, "Flash", m->flash_bytes, 1.0 / 1024.0, 1, "KB");
    put_kv_number(f, "RAM", m->ram_bytes, 1.0 / 1024.0, 1, "KB");
    put_kv_number(f, "cycles", m->cycles, 1.0, 0, "");
    put_kv_number(f, "latency", m->latency_ms, 1.0, 3, "ms");
    put_kv_number(f, "energy", m->energy_uj, 1.0, 2, "uJ");
    put_kv_number(f, "objective", m->objective, 1.0, 4, "");
    if (m->model_path[0]) put_kv_text(f, "model file", m->model_path, 1);
    if (m->deploy_path[0]) put_kv_text(f, "deploy file", m->deploy_path, 1);
    fputs("</table>\n", f);

    if (r->n_stages > 0) {
        static const char *const head[] = {"#", "after stage", "accuracy (%)", "Flash (KB)", "RAM (KB)",
                                           "instructions"};
        fputs("<h3>Stages</h3>\n<table>\n", f);
        put_header_row(f, head, 6);
        for (int i = 0; i < r->n_stages; i++) {
            const mco_trial_stage *s = &r->stages[i];
            fprintf(f, "<tr><td class=\"num\">%d</td>", s->index);
            put_code_cell(f, s->stage);
            put_number_cell(f, s->accuracy, 100.0, 2);
            put_number_cell(f, s->flash_bytes, 1.0 / 1024.0, 1);
            put_number_cell(f, s->ram_bytes, 1.0 / 1024.0, 1);
            put_number_cell(f, s->instructions, 1.0, 0);
            fputs("</tr>\n", f);
        }
        fputs("</table>\n", f);
    }
}

static void put_layers(FILE *f, const mco_report *r)
{
    if (r->n_layers <= 0) return;
    static const char *const head[] = {"#", "layer", "type", "output", "params", "bytes", "MACs",
                                       "est. cycles"};
    fputs("<h2>Layers of the chosen model</h2>\n<table>\n", f);
    put_header_row(f, head, 8);
    uint64_t params = 0, bytes = 0, macs = 0;
    double cycles = 0;
    for (int i = 0; i < r->n_layers; i++) {
        const mco_report_layer *l = &r->layers[i];
        fprintf(f, "<tr><td class=\"num\">%d</td>", i);
        put_text_cell(f, l->name);
        put_text_cell(f, l->type);
        put_text_cell(f, l->output_shape);
        fprintf(f, "<td class=\"num\">%llu</td><td class=\"num\">%llu</td><td class=\"num\">%llu</td>",
                (unsigned long long)l->params, (unsigned long long)l->bytes, (unsigned long long)l->macs);
        put_number_cell(f, l->cycles, 1.0, 0);
        fputs("</tr>\n", f);
        params += l->params;
        bytes += l->bytes;
        macs += l->macs;
        cycles += l->cycles;   /* NAN if any layer has none: the total is then unknown too */
    }
    fprintf(f, "<tr><th></th><th>total</th><th></th><th></th><th class=\"num\">%llu</th><th class=\"num\">%llu</th>"
               "<th class=\"num\">%llu</th><th class=\"num\">",
            (unsigned long long)params, (unsigned long long)bytes, (unsigned long long)macs);
    put_number(f, cycles, 1.0, 0);
    fputs("</th></tr>\n</table>\n", f);
}

static void put_trials(FILE *f, const mco_trial *trials, int n, int64_t chosen_id)
{
    static const char *const head[] = {"id", "state", "rung", "budget", "accuracy (%)", "Flash (KB)",
                                       "RAM (KB)", "latency (ms)", "energy (uJ)", "objective", "Pareto",
                                       "config", "note"};
    fputs("<h2>All trials</h2>\n<table>\n", f);
    put_header_row(f, head, 13);
    for (int i = 0; i < n; i++) {
        const mco_trial *t = &trials[i];
        const mco_trial_result *m = &t->result;
        fprintf(f, "<tr%s><td class=\"num\">%lld</td><td>%s</td><td class=\"num\">%d</td><td class=\"num\">%g</td>",
                t->id == chosen_id ? " class=\"chosen-row\"" : "", (long long)t->id, mco_trial_state_name(t->state),
                t->rung, t->budget);
        put_number_cell(f, m->accuracy, 100.0, 2);
        put_number_cell(f, m->flash_bytes, 1.0 / 1024.0, 1);
        put_number_cell(f, m->ram_bytes, 1.0 / 1024.0, 1);
        put_number_cell(f, m->latency_ms, 1.0, 3);
        put_number_cell(f, m->energy_uj, 1.0, 2);
        put_number_cell(f, m->objective, 1.0, 4);
        fprintf(f, "<td>%s</td>", t->on_pareto ? "yes" : "");
        put_code_cell(f, t->config);
        put_text_cell(f, t->id == chosen_id ? "chosen" : t->error);
        fputs("</tr>\n", f);
    }
    fputs("</table>\n", f);
}

mco_status mco_report_write_html(const char *path, const mco_report *r)
{
    mco_trial *marked;
    mco_status st = mco_report_marked_trials(r, &marked);
    if (st != MCO_OK) return st;
    char *page = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&page, &size);
    if (!f) {
        free(marked);
        return mco_error(MCO_ERR_NOMEM, "%s: out of memory", path);
    }
    const char *title = r->title ? r->title : "mcuopt search report";
    fputs("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n"
          "<meta charset=\"utf-8\"/>\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n<title>",
          f);
    put_text(f, title);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", page_css);
    put_text(f, title);
    fputs("</h1>\n<p class=\"meta\">mcuopt " MCO_VERSION "</p>\n", f);

    put_study(f, r);
    put_plots(f, r, marked);
    put_chosen(f, r, find_trial(marked, r->n_trials, r->chosen_id));
    put_layers(f, r);
    put_trials(f, marked, r->n_trials, r->chosen_id);
    fputs("</body>\n</html>\n", f);

    int failed = ferror(f);
    if (fclose(f) != 0) failed = 1;
    free(marked);
    if (failed) st = mco_error(MCO_ERR_NOMEM, "%s: out of memory building the report", path);
    else st = mco_write_file_atomic(path, page, size);
    free(page);
    return st;
}
