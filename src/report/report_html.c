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
 * Plot axes have "nice" ticks (1, 2 or 5 times a power of ten), on a
 * linear scale for Flash, RAM and accuracy and a log scale for latency
 * (int4 or float16 trials can be 20x slower than int8 ones). The accuracy
 * axis is fitted to the band from just below the floor to the best trial:
 * that is where the choice is made.
 *
 * What it leaves out: JavaScript (no zoom or sorting), dark mode, and
 * pagination of very long trial tables.
 */
#include "mcuopt/report.h"

#include <math.h>
#include <stddef.h>
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
    ".partial{fill:#fff;stroke:#4477aa;stroke-width:1.5}.below{fill:#bbbbbb}\n"
    ".start{fill:#228833;stroke:#111;stroke-width:1}\n"
    ".measured{font-weight:600}.unit{color:#666}\n"
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
    int log_x;                             /* log10 axis */
    double (*x_of)(const mco_trial_result *m);   /* NAN: not plotted */
    double (*x_of_model)(const mco_report_model *m);
} plot_spec;

static double flash_kb(const mco_trial_result *m) { return m->flash_bytes / 1024.0; }
static double ram_kb(const mco_trial_result *m) { return m->ram_bytes / 1024.0; }
static double latency_of(const mco_trial_result *m) { return m->latency_ms; }
static double model_flash_kb(const mco_report_model *m) { return m->flash_bytes / 1024.0; }
static double model_ram_kb(const mco_report_model *m) { return m->ram_bytes / 1024.0; }
static double model_latency(const mco_report_model *m) { return m->latency_ms; }

/* The plotted x of a value (log10 on a log axis; NAN if it cannot be plotted). */
static double axis_value(const plot_spec *spec, double x)
{
    if (isnan(x)) return NAN;
    if (!spec->log_x) return x;
    return x > 0 ? log10(x) : NAN;
}

static int plotted(const mco_trial *t, const plot_spec *spec)
{
    return (t->state == MCO_TRIAL_DONE || t->state == MCO_TRIAL_PRUNED) && !isnan(t->result.accuracy) &&
           !isnan(axis_value(spec, spec->x_of(&t->result)));
}

typedef struct {
    axis_range x, y;
    int log_x;
} plot_frame;

static double px(const plot_frame *p, double x)
{
    return PLOT_LEFT + (x - p->x.lo) / (p->x.hi - p->x.lo) * (PLOT_WIDTH - PLOT_LEFT - PLOT_RIGHT);
}

/* The y of an accuracy; one below the axis sits on its bottom edge. */
static double py(const plot_frame *p, double accuracy_percent)
{
    double h = PLOT_HEIGHT - PLOT_TOP - PLOT_BOTTOM;
    if (accuracy_percent < p->y.lo) accuracy_percent = p->y.lo;
    return PLOT_TOP + h - (accuracy_percent - p->y.lo) / (p->y.hi - p->y.lo) * h;
}

/* A log axis: whole decades around [min, max] (log10 values). */
static axis_range log_range(double min, double max)
{
    axis_range r;
    r.lo = floor(min);
    r.hi = ceil(max);
    if (r.hi <= r.lo) r.hi = r.lo + 1;
    r.step = 1;
    r.decimals = 0;
    return r;
}

static void put_tick_label(FILE *f, const plot_frame *p, double x, int decimals)
{
    double value = p->log_x ? pow(10.0, x) : x;
    if (p->log_x) decimals = value >= 1 ? 0 : (int)ceil(-log10(value) - 1e-9);
    fprintf(f, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.*f</text>\n", px(p, x),
            PLOT_HEIGHT - PLOT_BOTTOM + 16, decimals, value);
}

static void put_axes(FILE *f, const plot_frame *p, const plot_spec *spec)
{
    const int right = PLOT_WIDTH - PLOT_RIGHT, bottom = PLOT_HEIGHT - PLOT_BOTTOM;
    fputs("<g class=\"axes\">\n", f);
    for (double x = p->x.lo; x <= p->x.hi + p->x.step * 1e-6; x += p->x.step) {
        fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>", px(p, x), PLOT_TOP,
                px(p, x), bottom);
        put_tick_label(f, p, x, p->x.decimals);
        if (p->log_x && x < p->x.hi)   /* 2x and 5x inside each decade, unlabelled */
            for (int k = 2; k <= 5; k += 3)
                fprintf(f, "<line class=\"grid\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\"/>\n",
                        px(p, x + log10(k)), PLOT_TOP, px(p, x + log10(k)), bottom);
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
               "validation accuracy (%%)</text>\n</g>\n",
            (PLOT_TOP + bottom) / 2, (PLOT_TOP + bottom) / 2);
}

/* The hover text of a point: "#12 done, rung 1 (1/3 of the data): <config>". */
static void put_point_title(FILE *f, const mco_trial *t)
{
    fprintf(f, "<title>#%lld %s, rung %d (%s): ", (long long)t->id, mco_trial_state_name(t->state), t->rung,
            t->budget < 1.0 ? "part of the training data" : "all the training data");
    put_text(f, t->config);
    fprintf(f, " (accuracy %.2f %%)</title>", t->result.accuracy * 100.0);
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
            points[k][0] = axis_value(spec, spec->x_of(&trials[i].result));
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

/* The accuracy axis: from a little below the floor to the best point, so
 * the choices above the floor spread over the plot (all points when none
 * reaches the floor, or there is no floor). */
static axis_range accuracy_range(double y_min, double y_max, double floor_percent)
{
    if (floor_percent > 0 && y_max >= floor_percent) {
        double band = y_max - floor_percent;
        double below = band > 1.0 ? band * 0.25 : 1.0;
        y_min = fmax(y_min, floor_percent - below);
        y_min = fmin(y_min, floor_percent);
    } else if (floor_percent > 0) {
        y_max = floor_percent;
    }
    axis_range r = nice_range(y_min, y_max);
    if (r.hi > 100.0 && y_max <= 100.0) r.hi = 100.0;   /* no axis above 100% */
    return r;
}

static void put_plot(FILE *f, const plot_spec *spec, const mco_trial *trials, int n, const mco_report *r)
{
    double min_accuracy = r->min_accuracy;
    fprintf(f, "<svg class=\"plot\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "viewBox=\"0 0 %d %d\" role=\"img\">\n<title>",
            PLOT_WIDTH, PLOT_HEIGHT, PLOT_WIDTH, PLOT_HEIGHT);
    put_text(f, spec->title);
    fprintf(f, "</title>\n<text class=\"title\" x=\"%d\" y=\"22\">", PLOT_LEFT);
    put_text(f, spec->title);
    fputs("</text>\n", f);

    const mco_report_model *start = r->start && r->start->measured ? r->start : NULL;
    double start_x = start ? axis_value(spec, spec->x_of_model(start)) : NAN;
    double start_y = start ? start->val_accuracy * 100.0 : NAN;
    int start_shown = !isnan(start_x) && !isnan(start_y);
    double x_min = INFINITY, x_max = -INFINITY, y_min = INFINITY, y_max = -INFINITY;
    int n_points = 0;
    for (int i = 0; i < n; i++) {
        if (!plotted(&trials[i], spec)) continue;
        double x = axis_value(spec, spec->x_of(&trials[i].result)), y = trials[i].result.accuracy * 100.0;
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
    if (start_shown) {
        x_min = fmin(x_min, start_x);
        x_max = fmax(x_max, start_x);
        y_max = fmax(y_max, start_y);
    }
    int floor_shown = min_accuracy > 0;
    plot_frame p;
    p.log_x = spec->log_x;
    p.x = spec->log_x ? log_range(x_min, x_max) : nice_range(x_min, x_max);
    p.y = accuracy_range(y_min, y_max, floor_shown ? min_accuracy * 100.0 : 0.0);
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
        if (t->id == r->chosen_id) chosen = t;
        double x = px(&p, axis_value(spec, spec->x_of(&t->result))), acc = t->result.accuracy * 100.0;
        if (acc < p.y.lo) {   /* below the band: a small triangle on the bottom edge */
            double y = py(&p, acc);
            fprintf(f, "<polygon class=\"below\" points=\"%.1f,%.1f %.1f,%.1f %.1f,%.1f\">", x - 4, y - 6, x + 4,
                    y - 6, x, y);
            put_point_title(f, t);
            fputs("</polygon>\n", f);
            continue;
        }
        const char *cls = t->on_pareto ? "front-point"
                          : t->state == MCO_TRIAL_PRUNED ? "pruned"
                          : t->budget < 1.0 ? "partial" : "trial";
        fprintf(f, "<circle class=\"%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"%d\">", cls, x, py(&p, acc),
                t->on_pareto ? 5 : 4);
        put_point_title(f, t);
        fputs("</circle>\n", f);
    }
    fputs("</g>\n", f);
    if (start_shown) {
        double x = px(&p, start_x), y = py(&p, start_y);
        fprintf(f, "<rect class=\"start\" x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\"><title>starting model "
                   "as int8 (measured): accuracy %.2f %%</title></rect>\n",
                x - 5, y - 5, start_y);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">start</text>\n", x - 8, y + 16);
    }
    if (chosen && chosen->result.accuracy * 100.0 >= p.y.lo) {
        double x = px(&p, axis_value(spec, spec->x_of(&chosen->result))), y = py(&p, chosen->result.accuracy * 100.0);
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

/* "300 s (5 min)" */
static void duration_text(char *buf, size_t size, double seconds)
{
    if (seconds >= 120) snprintf(buf, size, "%g s (%.1f min)", seconds, seconds / 60.0);
    else snprintf(buf, size, "%g s", seconds);
}

/* A limit with its unit, or "unset". */
static void put_kv_limit(FILE *f, const char *key, double value, double scale, int decimals, const char *unit)
{
    if (value > 0) put_kv_number(f, key, value, scale, decimals, unit);
    else put_kv_text(f, key, "unset", 0);
}

static const char *trial_figures(const mco_report *r)
{
    return r->trial_figures ? r->trial_figures : "predicted";
}

static void put_study(FILE *f, const mco_report *r)
{
    fputs("<h2>Study</h2>\n<table class=\"kv\">\n", f);
    const mco_trial_study *s = r->study;
    char buf[128];
    if (s) {
        put_kv_text(f, "model", s->model_path[0] ? s->model_path : "unknown", 1);
        put_kv_text(f, "model hash", s->model_hash[0] ? s->model_hash : "unknown", 1);
        put_kv_text(f, "target", s->target[0] ? s->target : "unknown", 0);
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)s->seed);
        put_kv_text(f, "seed", buf, 0);
        duration_text(buf, sizeof buf, s->budget);
        put_kv_text(f, "time budget", buf, 0);
    }
    put_kv_limit(f, "accuracy floor", r->min_accuracy, 100.0, 2, "% (validation)");
    put_kv_limit(f, "Flash limit", r->max_flash_bytes, 1.0, 0, "B");
    put_kv_limit(f, "RAM limit", r->max_ram_bytes, 1.0, 0, "B");
    put_kv_limit(f, "latency limit", r->max_latency_ms, 1.0, 3, "ms");
    put_kv_limit(f, "clock", r->clock_mhz, 1.0, 0, "MHz");
    if (r->train_images > 0) {
        snprintf(buf, sizeof buf, "%d images (lower rungs train on a fraction of them)", r->train_images);
        put_kv_text(f, "training data", buf, 0);
    }
    snprintf(buf, sizeof buf, "%s", strcmp(trial_figures(r), "measured") == 0
                                        ? "measured on the emulated target (exact Flash, RAM and instructions)"
                                        : "predicted by the resource model");
    put_kv_text(f, "trials' Flash, RAM, latency", buf, 0);
    if (r->formats_dropped && r->formats_dropped[0]) put_kv_text(f, "formats dropped", r->formats_dropped, 0);
    if (r->sampler) put_kv_text(f, "sampler", r->sampler, 0);
    if (r->objective)
        put_kv_text(f, "objective",
                    strcmp(r->objective, "pareto") == 0
                        ? "the Pareto front of accuracy against Flash, RAM and latency"
                        : "the weighted cost (0.4 Flash, 0.2 RAM, 0.3 latency, 0.1 energy)",
                    0);
    if (r->has_hypervolume) {
        char hv[512];
        snprintf(hv, sizeof hv, "%.4f (%d trial%s on the front; %s; reference point: %s)", r->hypervolume,
                 r->front_size, r->front_size == 1 ? "" : "s", MCO_REPORT_HYPERVOLUME_OBJECTIVES,
                 MCO_REPORT_HYPERVOLUME_REFERENCE);
        put_kv_text(f, "hypervolume", hv, 0);
    }
    if (s && s->settings[0]) put_kv_text(f, "settings", s->settings, 1);
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

/* ---- the starting and the chosen model, measured ------------------------------------ */

typedef struct {
    const char *name;
    const char *unit;
    double scale;
    int decimals;
    double (*of)(const mco_report_model *m);
} model_row;

static double m_val(const mco_report_model *m) { return m->val_accuracy; }
static double m_test(const mco_report_model *m) { return m->test_accuracy; }
static double m_flash(const mco_report_model *m) { return m->flash_bytes; }
static double m_ram(const mco_report_model *m) { return m->ram_bytes; }
static double m_insns(const mco_report_model *m) { return m->instructions; }
static double m_cycles(const mco_report_model *m) { return m->cycles; }
static double m_latency(const mco_report_model *m) { return m->latency_ms; }
static double m_energy(const mco_report_model *m) { return m->energy_uj; }

static void put_model_cell(FILE *f, const mco_report_model *m, const model_row *row)
{
    fputs("<td class=\"num measured\">", f);
    if (m && m->measured) put_number(f, row->of(m), row->scale, row->decimals);
    else fputs("not measured", f);
    fputs("</td>", f);
}

static void put_models(FILE *f, const mco_report *r)
{
    const mco_report_model *a = r->start, *b = r->chosen;
    if (!a && !b) return;
    static const model_row rows[] = {
        {"validation accuracy", "%", 100.0, 2, m_val},
        {"test accuracy", "%", 100.0, 2, m_test},
        {"Flash", "B", 1.0, 0, m_flash},
        {"RAM (static + peak stack)", "B", 1.0, 0, m_ram},
        {"instructions per inference (exact)", "", 1.0, 0, m_insns},
        {"cycles per inference (estimate)", "", 1.0, 0, m_cycles},
        {"latency (estimate)", "ms", 1.0, 3, m_latency},
        {"energy per inference (estimate)", "uJ", 1.0, 2, m_energy},
    };
    fputs("<h2>Starting and chosen model, measured on the emulated target</h2>\n<table>\n"
          "<tr><th></th><th>starting model as int8</th><th>chosen model</th><th>change</th></tr>\n",
          f);
    fputs("<tr><th>pipeline</th>", f);
    put_code_cell(f, a ? a->config : "");
    put_code_cell(f, b ? b->config : "");
    fputs("<td></td></tr>\n<tr><th>trial</th><td>none (the starting point)</td>", f);
    fprintf(f, "<td>%s%lld</td><td></td></tr>\n", b && b->trial_id > 0 ? "#" : "", b ? (long long)b->trial_id : 0LL);
    fputs("<tr><th>outputs bit-exact on the target</th>", f);
    for (int i = 0; i < 2; i++) {
        const mco_report_model *m = i ? b : a;
        if (m && m->measured)
            fprintf(f, "<td class=\"measured\">%s: %d of %d</td>", m->mismatches == 0 ? "yes" : "NO",
                    m->images - m->mismatches, m->images);
        else fputs("<td>not measured</td>", f);
    }
    fputs("<td></td></tr>\n", f);
    for (size_t k = 0; k < sizeof rows / sizeof rows[0]; k++) {
        const model_row *row = &rows[k];
        fputs("<tr><th>", f);
        put_text(f, row->name);
        if (row->unit[0]) fprintf(f, " <span class=\"unit\">(%s)</span>", row->unit);
        fputs("</th>", f);
        put_model_cell(f, a, row);
        put_model_cell(f, b, row);
        fputs("<td class=\"num\">", f);
        double va = a && a->measured ? row->of(a) : NAN, vb = b && b->measured ? row->of(b) : NAN;
        if (isnan(va) || isnan(vb)) fputs("", f);
        else if (strcmp(row->unit, "%") == 0) fprintf(f, "%+.2f points", 100.0 * (vb - va));
        else if (va > 0) fprintf(f, "%+.1f %%", 100.0 * (vb - va) / va);
        fputs("</td></tr>\n", f);
    }
    const mco_report_model *m = b && b->measured ? b : a;
    if (m && m->measured)
        fprintf(f, "<tr><th>measured at</th><td colspan=\"3\">%.0f MHz, model code built with %s; instructions, "
                   "Flash and RAM are exact, cycles, latency and energy are estimates from the exact counts</td></tr>\n",
                m->clock_mhz, m->build[0] ? m->build : "the default compiler");
    fputs("</table>\n", f);
}

static void put_plots(FILE *f, const mco_report *r, const mco_trial *marked)
{
    static const plot_spec flash_plot = {"Accuracy vs Flash", "Flash (KB)", 0, flash_kb, model_flash_kb};
    static const plot_spec ram_plot = {"Accuracy vs RAM", "RAM (KB)", 0, ram_kb, model_ram_kb};
    static const plot_spec latency_plot = {"Accuracy vs latency", "latency (ms, log scale)", 1, latency_of,
                                           model_latency};
    fputs("<h2>Accuracy against resources</h2>\n<div class=\"plots\">\n", f);
    put_plot(f, &flash_plot, marked, r->n_trials, r);
    put_plot(f, &ram_plot, marked, r->n_trials, r);
    put_plot(f, &latency_plot, marked, r->n_trials, r);
    fputs("</div>\n<p class=\"legend\">"
          "<span><span class=\"swatch\" style=\"background:#4477aa\"></span>trial on all the training data</span>"
          "<span><span class=\"swatch\" style=\"border:1.5px solid #4477aa\"></span>trial on part of it "
          "(a lower rung)</span>"
          "<span><span class=\"swatch\" style=\"background:#ee6677\"></span>Pareto front</span>"
          "<span><span class=\"swatch\" style=\"background:#bbbbbb\"></span>pruned</span>"
          "<span><span class=\"swatch\" style=\"background:#228833;border-radius:0\"></span>starting model "
          "(int8, measured)</span>"
          "<span>triangle on the bottom edge: below the axis</span>"
          "<span>dashed line: accuracy floor</span><span>ring: chosen (measured)</span></p>\n",
          f);
    fprintf(f, "<p>Trials' Flash, RAM and latency are %s; the chosen trial and the starting model are plotted at "
               "their measured figures. The Pareto front: finished trials at or above the floor that no other "
               "such trial beats or equals in every one of Flash, RAM, latency and energy%s.</p>\n",
            strcmp(trial_figures(r), "measured") == 0 ? "measured on the emulator" : "predicted by the resource model",
            r->pareto_with_accuracy ? " and accuracy" : "");
}

static const mco_trial *find_trial(const mco_trial *trials, int n, int64_t id)
{
    for (int i = 0; id > 0 && i < n; i++)
        if (trials[i].id == id) return &trials[i];
    return NULL;
}

/* 1 if any stage has a value of the field at `offset` (a double in mco_trial_stage). */
static int stages_have(const mco_report *r, size_t offset)
{
    for (int i = 0; i < r->n_stages; i++) {
        double v;
        memcpy(&v, (const char *)&r->stages[i] + offset, sizeof v);
        if (!isnan(v)) return 1;
    }
    return 0;
}

static void put_chosen(FILE *f, const mco_report *r, const mco_trial *chosen)
{
    fputs("<h2>Chosen trial</h2>\n", f);
    if (!chosen) {
        fputs("<p>No trial was chosen.</p>\n", f);
        return;
    }
    fprintf(f, "<p>Trial #%lld (rung %d, ", (long long)chosen->id, chosen->rung);
    if (r->train_images > 0) fprintf(f, "%.0f training images", ceil(chosen->budget * r->train_images));
    else fprintf(f, "%.0f %% of the training data", 100.0 * chosen->budget);
    fputs("): <code>", f);
    put_text(f, chosen->config);
    fputs("</code>; its figures on the target are in the table above.</p>\n<table class=\"kv\">\n", f);
    const mco_trial_result *m = &chosen->result;
    put_kv_number(f, "validation accuracy", m->accuracy, 100.0, 2, "%");
    put_kv_number(f, "cost", m->objective, 1.0, 4, "(0: the starting model as int8, lower is better)");
    if (m->deploy_path[0]) put_kv_text(f, "deploy file", m->deploy_path, 1);
    fputs("</table>\n", f);

    if (r->n_stages > 0) {
        /* Only the columns with figures: a stage's Flash, RAM and instructions
         * are there only when the pipeline measured it on a target. */
        int has_acc = stages_have(r, offsetof(mco_trial_stage, accuracy));
        int has_flash = stages_have(r, offsetof(mco_trial_stage, flash_bytes));
        int has_ram = stages_have(r, offsetof(mco_trial_stage, ram_bytes));
        int has_insns = stages_have(r, offsetof(mco_trial_stage, instructions));
        fputs("<h3>Stages</h3>\n<table>\n<tr><th>#</th><th>after stage</th>", f);
        if (has_acc) fputs("<th>validation accuracy (%)</th>", f);
        if (has_flash) fputs("<th>Flash (B)</th>", f);
        if (has_ram) fputs("<th>RAM (B)</th>", f);
        if (has_insns) fputs("<th>instructions</th>", f);
        fputs("</tr>\n", f);
        for (int i = 0; i < r->n_stages; i++) {
            const mco_trial_stage *s = &r->stages[i];
            fprintf(f, "<tr><td class=\"num\">%d</td>", s->index);
            put_code_cell(f, s->stage);
            if (has_acc) put_number_cell(f, s->accuracy, 100.0, 2);
            if (has_flash) put_number_cell(f, s->flash_bytes, 1.0, 0);
            if (has_ram) put_number_cell(f, s->ram_bytes, 1.0, 0);
            if (has_insns) put_number_cell(f, s->instructions, 1.0, 0);
            fputs("</tr>\n", f);
        }
        fputs("</table>\n", f);
    }
}

static void put_layers(FILE *f, const mco_report *r)
{
    if (r->n_layers <= 0) return;
    static const char *const head[] = {"op", "layers", "kernel", "output", "params", "weights (B)", "MACs",
                                       "instructions (exact)", "cycles (estimate)", "share of cycles"};
    fputs("<h2>Cost per op of the chosen model, measured on the emulated target</h2>\n<table>\n", f);
    put_header_row(f, head, 10);
    uint64_t params = 0, bytes = 0, macs = 0;
    double total_cycles = r->overhead_cycles, insns = r->overhead_instructions;
    for (int i = 0; i < r->n_layers; i++) total_cycles += r->layers[i].cycles;
    for (int i = 0; i < r->n_layers; i++) {
        const mco_report_layer *l = &r->layers[i];
        fprintf(f, "<tr><td class=\"num\">%d</td>", i);
        put_text_cell(f, l->name);
        put_text_cell(f, l->type);
        put_text_cell(f, l->output_shape);
        fprintf(f, "<td class=\"num\">%llu</td><td class=\"num\">%llu</td><td class=\"num\">%llu</td>",
                (unsigned long long)l->params, (unsigned long long)l->bytes, (unsigned long long)l->macs);
        put_number_cell(f, l->instructions, 1.0, 0);
        put_number_cell(f, l->cycles, 1.0, 0);
        put_number_cell(f, total_cycles > 0 ? l->cycles / total_cycles : NAN, 100.0, 1);
        fputs("</tr>\n", f);
        params += l->params;
        bytes += l->bytes;
        macs += l->macs;
        insns += l->instructions;
    }
    fputs("<tr><td></td><td colspan=\"6\">overhead: the harness&#39;s call, model_run&#39;s entry and exit</td>", f);
    put_number_cell(f, r->overhead_instructions, 1.0, 0);
    put_number_cell(f, r->overhead_cycles, 1.0, 0);
    put_number_cell(f, total_cycles > 0 ? r->overhead_cycles / total_cycles : NAN, 100.0, 1);
    fprintf(f, "</tr>\n<tr><th></th><th>total</th><th></th><th></th><th class=\"num\">%llu</th><th class=\"num\">%llu</th>"
               "<th class=\"num\">%llu</th><th class=\"num\">",
            (unsigned long long)params, (unsigned long long)bytes, (unsigned long long)macs);
    put_number(f, insns, 1.0, 0);
    fputs("</th><th class=\"num\">", f);
    put_number(f, total_cycles, 1.0, 0);
    fputs("</th><th></th></tr>\n</table>\n", f);
}

static void put_trials(FILE *f, const mco_report *r, const mco_trial *trials, int n)
{
    const char *how = strcmp(trial_figures(r), "measured") == 0 ? "measured" : "predicted";
    fputs("<h2>All trials</h2>\n<table>\n<tr><th>id</th><th>state</th><th>rung</th><th>training images</th>"
          "<th>validation accuracy (%)</th>",
          f);
    fprintf(f, "<th>Flash (B)</th><th>RAM (B)</th><th>latency (ms)</th><th>energy (uJ)</th><th>figures</th>"
               "<th>cost</th><th>Pareto</th><th>config</th><th>note</th></tr>\n");
    for (int i = 0; i < n; i++) {
        const mco_trial *t = &trials[i];
        const mco_trial_result *m = &t->result;
        int chosen = t->id == r->chosen_id;
        fprintf(f, "<tr%s><td class=\"num\">%lld</td><td>%s</td><td class=\"num\">%d</td>",
                chosen ? " class=\"chosen-row\"" : "", (long long)t->id, mco_trial_state_name(t->state), t->rung);
        if (r->train_images > 0) fprintf(f, "<td class=\"num\">%.0f</td>", ceil(t->budget * r->train_images));
        else fprintf(f, "<td class=\"num\">%.0f %%</td>", 100.0 * t->budget);
        put_number_cell(f, m->accuracy, 100.0, 2);
        put_number_cell(f, m->flash_bytes, 1.0, 0);
        put_number_cell(f, m->ram_bytes, 1.0, 0);
        put_number_cell(f, m->latency_ms, 1.0, 3);
        put_number_cell(f, m->energy_uj, 1.0, 2);
        put_text_cell(f, chosen && r->chosen && r->chosen->measured ? "measured" : how);
        put_number_cell(f, m->objective, 1.0, 4);
        fprintf(f, "<td>%s</td>", t->on_pareto ? "yes" : "");
        put_code_cell(f, t->config);
        put_text_cell(f, chosen ? "chosen" : t->error);
        fputs("</tr>\n", f);
    }
    fprintf(f, "</table>\n<p>Figures: %s ones are %s; the chosen trial shows its measured figures when it was "
               "measured. Cost: the search&#39;s weighted log ratio to the starting model as int8 (on %s figures).</p>\n",
            how, strcmp(how, "measured") == 0 ? "from the emulator" : "the resource model&#39;s",
            how);
}

static void put_provenance(FILE *f, const mco_report *r)
{
    char text[4096];
    mco_report_provenance_text(r, text, sizeof text);
    if (!text[0]) return;
    fputs("<h2>Provenance of the chosen model</h2>\n<pre>", f);
    put_text(f, text);
    fputs("</pre>\n", f);
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
    put_models(f, r);
    put_plots(f, r, marked);
    put_chosen(f, r, find_trial(marked, r->n_trials, r->chosen_id));
    put_layers(f, r);
    put_trials(f, r, marked, r->n_trials);
    put_provenance(f, r);
    fputs("</body>\n</html>\n", f);

    int failed = ferror(f);
    if (fclose(f) != 0) failed = 1;
    free(marked);
    if (failed) st = mco_error(MCO_ERR_NOMEM, "%s: out of memory building the report", path);
    else st = mco_write_file_atomic(path, page, size);
    free(page);
    return st;
}
