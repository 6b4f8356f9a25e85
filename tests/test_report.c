/*
 * test_report.c - the search report (report.h) on hand-made trials:
 *   - report.html is well-formed XML (every tag closed and nested, every '&'
 *     an entity), has two SVG plots with a point per trial that has the
 *     plotted value, the Pareto line, the accuracy floor and the ring on the
 *     chosen trial at that trial's point, the stage, layer and trial tables,
 *     and no external resources or scripts;
 *   - hostile text (markup, quotes, control characters) is escaped;
 *   - report.json carries the same content (Pareto and chosen flags, the
 *     chosen trial's measured figures marked "measured", the gain, the
 *     provenance, nulls for unknown values) and parses;
 *   - an empty report is still written; no temporary files are left behind.
 * Rendering the page in a browser is checked by tests/report_browser.sh.
 */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcuopt/file_util.h"
#include "mcuopt/report.h"
#include "test_util.h"

static char tmp_dir[] = "/tmp/mco_report_XXXXXX";

static const char *hostile_config = "prune:structured=0.5 -> <script>alert(\"x\") & 'y'</script>";
static const char *hostile_escaped = "prune:structured=0.5 -&gt; &lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;";

static int count(const char *text, const char *part)
{
    int n = 0;
    for (const char *p = strstr(text, part); p; p = strstr(p + 1, part)) n++;
    return n;
}

/* Checks that `doc` is well-formed XML after an optional <!DOCTYPE>: tags
 * nest and close, attribute values are quoted and free of '<', and every
 * '&' starts one of the entities the report uses. Returns 1 if so, else 0
 * with the reason in `why`. */
static int well_formed(const char *doc, char *why, size_t why_size)
{
    static const char *const entities[] = {"&amp;", "&lt;", "&gt;", "&quot;", "&#39;", "&#xFFFD;"};
    char stack[64][32];
    int depth = 0;
    const char *p = doc;
    while (*p) {
        if (*p == '&') {
            size_t i = 0;
            while (i < sizeof entities / sizeof entities[0] && strncmp(p, entities[i], strlen(entities[i])) != 0) i++;
            if (i == sizeof entities / sizeof entities[0]) {
                snprintf(why, why_size, "bare '&' at offset %ld", (long)(p - doc));
                return 0;
            }
            p++;
            continue;
        }
        if (*p != '<') {
            p++;
            continue;
        }
        if (strncmp(p, "<!--", 4) == 0 || strncmp(p, "<!", 2) == 0) {
            const char *end = strncmp(p, "<!--", 4) == 0 ? strstr(p, "-->") : strchr(p, '>');
            if (!end) break;
            p = end + 1;
            continue;
        }
        int closing = p[1] == '/';
        const char *name = p + 1 + closing;
        size_t len = strcspn(name, " \t\n/>");
        if (len == 0 || len >= sizeof stack[0]) {
            snprintf(why, why_size, "bad tag name at offset %ld", (long)(p - doc));
            return 0;
        }
        const char *q = name + len;
        while (*q && *q != '>') {   /* attributes: name="value" */
            if (*q == '"' || *q == '\'') {
                const char *end = strchr(q + 1, *q);
                if (!end) break;
                for (const char *c = q + 1; c < end; c++)
                    if (*c == '<') {
                        snprintf(why, why_size, "'<' inside an attribute at offset %ld", (long)(c - doc));
                        return 0;
                    }
                q = end;
            }
            q++;
        }
        if (!*q) {
            snprintf(why, why_size, "unterminated tag at offset %ld", (long)(p - doc));
            return 0;
        }
        int self_closing = q[-1] == '/';
        if (closing) {
            if (depth == 0 || strlen(stack[depth - 1]) != len || strncmp(stack[depth - 1], name, len) != 0) {
                snprintf(why, why_size, "</%.*s> at offset %ld closes <%s>", (int)len, name, (long)(p - doc),
                         depth ? stack[depth - 1] : "(nothing)");
                return 0;
            }
            depth--;
        } else if (!self_closing) {
            if (depth == 64) {
                snprintf(why, why_size, "nesting too deep");
                return 0;
            }
            snprintf(stack[depth++], sizeof stack[0], "%.*s", (int)len, name);
        }
        p = q + 1;
    }
    if (depth != 0) {
        snprintf(why, why_size, "<%s> is never closed", stack[depth - 1]);
        return 0;
    }
    return 1;
}

static void make_trial(mco_trial *t, int64_t id, mco_trial_state state, double accuracy, double flash_kb,
                       double latency_ms)
{
    memset(t, 0, sizeof *t);
    t->id = id;
    t->state = state;
    t->rung = id > 4 ? 1 : 0;
    t->budget = t->rung ? 1.0 : 1.0 / 9.0;
    t->attempts = 1;
    t->queued_at = t->started_at = t->finished_at = 1.7e9;
    snprintf(t->config, sizeof t->config, "prune:structured=0.%lld -> quant:int8", (long long)id);
    mco_trial_result_init(&t->result);
    t->result.accuracy = accuracy;
    t->result.flash_bytes = flash_kb * 1024.0;
    t->result.ram_bytes = 4096.0 + (double)id;
    t->result.latency_ms = latency_ms;
    t->result.energy_uj = 100.0;
    t->result.objective = flash_kb;
}

static char *read_text(const char *path)
{
    uint8_t *bytes = NULL;
    size_t size = 0;
    if (mco_read_file(path, 1 << 24, &bytes, &size) != MCO_OK) return NULL;
    char *text = realloc(bytes, size + 1);
    if (!text) {
        free(bytes);
        return NULL;
    }
    text[size] = '\0';
    return text;
}

/* The position of the ring drawn around the chosen trial in the first plot. */
static int chosen_ring(const char *html, char *cx_cy, size_t size)
{
    const char *ring = strstr(html, "<circle class=\"chosen\" ");
    if (!ring) return 0;
    const char *start = ring + strlen("<circle class=\"chosen\" ");
    const char *end = strstr(start, " r=");
    if (!end || (size_t)(end - start) >= size) return 0;
    snprintf(cx_cy, size, "%.*s", (int)(end - start), start);
    return 1;
}

static void check_report(void)
{
    enum { N = 8 };
    mco_trial trials[N];
    make_trial(&trials[0], 1, MCO_TRIAL_DONE, 0.981, 40, 2.0);    /* front */
    make_trial(&trials[1], 2, MCO_TRIAL_DONE, 0.975, 60, 3.0);    /* dominated by 1 */
    make_trial(&trials[2], 3, MCO_TRIAL_DONE, 0.990, 30, NAN);    /* front; no latency: not in plot 2 */
    trials[2].result.ram_bytes = 9000;
    snprintf(trials[2].config, sizeof trials[2].config, "%s", hostile_config);
    make_trial(&trials[3], 4, MCO_TRIAL_PRUNED, 0.940, 20, 1.0);  /* pruned: grey */
    snprintf(trials[3].error, sizeof trials[3].error, "rung 0: below <top> third\x01");
    make_trial(&trials[4], 5, MCO_TRIAL_FAILED, NAN, NAN, NAN);   /* not plotted */
    snprintf(trials[4].error, sizeof trials[4].error, "stage 2 (distill): out of memory & more");
    make_trial(&trials[5], 6, MCO_TRIAL_RUNNING, NAN, NAN, NAN);
    make_trial(&trials[6], 7, MCO_TRIAL_DONE, 0.960, 25, 1.5);    /* below the floor */
    make_trial(&trials[7], 8, MCO_TRIAL_DONE, 0.985, 70, 20.0);   /* on 1/9 of the data, dominated by 1 */
    trials[7].rung = 0;
    trials[7].budget = 1.0 / 9.0;
    trials[1].rung = 1;                                           /* 2: on all the data */
    trials[1].budget = 1.0;
    for (int i = 0; i < N; i++) trials[i].on_pareto = 1;          /* the report must recompute these */

    mco_trial_study study;
    memset(&study, 0, sizeof study);
    snprintf(study.model_path, sizeof study.model_path, "models/a&b <v2>.mco");
    snprintf(study.model_hash, sizeof study.model_hash, "0123456789abcdef");
    snprintf(study.target, sizeof study.target, "stm32f405");
    study.min_accuracy = 0.97;
    study.seed = 18446744073709551615ull;
    study.budget = 30;

    mco_trial_stage stages[3];
    for (int i = 0; i < 3; i++) {
        mco_trial_stage_init(&stages[i]);
        stages[i].index = i;
        stages[i].accuracy = 0.99 - 0.005 * i;
    }
    snprintf(stages[0].stage, sizeof stages[0].stage, "input");
    snprintf(stages[1].stage, sizeof stages[1].stage, "prune:structured=0.5");
    snprintf(stages[2].stage, sizeof stages[2].stage, "quant:int8");
    stages[2].flash_bytes = 30720;
    stages[2].instructions = 218000;

    mco_report_layer layers[2] = {
        {"conv1", "conv2d", "26x26x12", 120, 120, 73008, 150000, 140000},
        {"dense<1>", "dense", "1x1x10", 20290, 20290, 20280, NAN, NAN},
    };

    mco_report r = {0};
    r.title = "search \"tiny\" <mnist>";
    r.study = &study;
    r.min_accuracy = study.min_accuracy;
    r.trials = trials;
    r.n_trials = N;
    r.chosen_id = 3;
    r.stages = stages;
    r.n_stages = 3;
    r.layers = layers;
    r.n_layers = 2;
    r.overhead_instructions = 17;
    r.overhead_cycles = 33;
    mco_report_model start, chosen_model;
    mco_report_model_init(&start);
    mco_report_model_init(&chosen_model);
    snprintf(start.config, sizeof start.config, "quant:int8");
    start.measured = 1;
    start.val_accuracy = 0.986;
    start.test_accuracy = 0.984;
    start.images = chosen_model.images = 100;
    start.flash_bytes = 50000;
    start.ram_bytes = 5000;
    start.instructions = 300000;
    start.cycles = 330000;
    start.latency_ms = 1.9642857;
    start.energy_uj = 250;
    start.clock_mhz = chosen_model.clock_mhz = 168;
    snprintf(chosen_model.config, sizeof chosen_model.config, "%s", hostile_config);
    chosen_model.measured = 1;
    chosen_model.trial_id = 3;
    chosen_model.val_accuracy = 0.99;
    chosen_model.test_accuracy = 0.982;
    chosen_model.flash_bytes = 29000;   /* the trial's predicted 30 KB differ: the measured figure is shown */
    chosen_model.ram_bytes = 8888;
    chosen_model.instructions = 150000;
    chosen_model.cycles = 165000;
    chosen_model.latency_ms = 0.98214;
    chosen_model.energy_uj = 125;
    r.start = &start;
    r.chosen = &chosen_model;
    r.train_images = 900;
    r.max_flash_bytes = 1048576;
    r.max_ram_bytes = 196608;
    r.clock_mhz = 168;

    char html_path[256], json_path[256];
    snprintf(html_path, sizeof html_path, "%s/report.html", tmp_dir);
    snprintf(json_path, sizeof json_path, "%s/report.json", tmp_dir);
    CHECK_OK(mco_report_write_html(html_path, &r));
    CHECK_OK(mco_report_write_json(json_path, &r));

    char *html = read_text(html_path);
    CHECK(html != NULL);
    if (html) {
        char why[160] = "";
        CHECK(strncmp(html, "<!DOCTYPE html>", 15) == 0);
        int ok = well_formed(html, why, sizeof why);
        if (!ok) fprintf(stderr, "report.html is not well-formed: %s\n", why);
        CHECK(ok);
        CHECK(count(html, "<svg ") == 3 && count(html, "</svg>") == 3);
        /* self-contained: no scripts, links, imports or URLs besides the XML namespaces */
        CHECK(count(html, "<script") == 0 && count(html, "href=") == 0 && count(html, "src=") == 0 &&
              count(html, "url(") == 0 && count(html, "@import") == 0);
        CHECK(count(html, "http") == count(html, "xmlns=\"http://www.w3.org/"));
        /* escaping */
        CHECK(count(html, hostile_escaped) >= 3);   /* plot titles x1 (no latency), chosen, table */
        CHECK(count(html, "&lt;mnist&gt;") == 2 && count(html, "models/a&amp;b &lt;v2&gt;.mco") == 2);
        CHECK(count(html, "below &lt;top&gt; third&#xFFFD;") == 1 && count(html, "dense&lt;1&gt;") == 1);
        CHECK(count(html, "out of memory &amp; more") == 1);
        /* plot content: points with both values (Flash and RAM: 1 2 3 4 7 8; latency:
         * 1 2 4 7 8, the chosen 3 now at its measured latency too); 4 and 7 are below the
         * accuracy band (96.5-99 %) and sit on the bottom edge as triangles */
        int points = count(html, "<circle class=\"trial\"") + count(html, "<circle class=\"front-point\"") +
                     count(html, "<circle class=\"partial\"") + count(html, "<polygon class=\"below\"");
        CHECK(points == 6 + 6 + 6);
        CHECK(count(html, "<polygon class=\"below\"") == 3 * 2);
        CHECK(count(html, "<circle class=\"partial\"") == 3);          /* 8, in each plot */
        CHECK(count(html, "<circle class=\"trial\"") == 3);            /* 2 */
        CHECK(count(html, "<circle class=\"front-point\"") == 3 * 2);  /* 1 and 3 */
        CHECK(count(html, "<polyline class=\"front\"") == 3);
        CHECK(count(html, "<line class=\"floor\"") == 3 && count(html, "floor 97.00%") == 3);
        CHECK(count(html, "<rect class=\"start\"") == 3);
        CHECK(count(html, "<circle class=\"chosen\"") == 3 && count(html, "chosen #3") == 3);
        CHECK(count(html, ">96.5</text>") == 3 && count(html, ">99.0</text>") == 3);   /* the fitted band */
        CHECK(count(html, "latency (ms, log scale)") == 1 && count(html, ">100</text>") >= 1);
        char ring[64];
        CHECK(chosen_ring(html, ring, sizeof ring));
        CHECK(count(html, ring) == 2);   /* the ring sits on the chosen trial's point */
        /* tables */
        CHECK(count(html, "<tr class=\"chosen-row\">") == 1);
        CHECK(count(html, "quant:int8</code>") >= 1 && count(html, "218000") == 1);
        CHECK(count(html, "73008") == 1 && count(html, "26x26x12") == 1 && count(html, ">total<") == 1);
        CHECK(count(html, "140000") == 1 && count(html, "overhead: ") == 1);
        CHECK(count(html, "18446744073709551615") == 1 && count(html, "stm32f405") == 2);
        CHECK(count(html, "8 (0 queued, 1 running, 5 done, 1 failed, 1 pruned)") == 1);
        /* units, unset limits, no fractions shown as budgets, no empty stage columns */
        CHECK(count(html, "30 s</td>") == 1 && count(html, "<th>latency limit</th><td>unset</td>") == 1);
        CHECK(count(html, ">100</td>") >= 1 && count(html, ">900</td>") >= 1);   /* training images: 1/9, all */
        CHECK(count(html, "<th>RAM (B)</th>") == 1);   /* the trial table's: the stages have no RAM */
        /* measured figures: the chosen row and the starting/chosen table */
        CHECK(count(html, ">29000</td>") == 2 && count(html, ">50000</td>") == 1 && count(html, "-42.0 %") == 1);
        CHECK(count(html, ">measured</td>") == 1 && count(html, ">predicted</td>") == N - 1);
        CHECK(count(html, "Provenance of the chosen model") == 1 && count(html, " * search:      trial 3") == 1);
        free(html);
    }

    char *json_text = read_text(json_path);
    cJSON *json = json_text ? cJSON_Parse(json_text) : NULL;
    CHECK(json != NULL);
    if (json) {
        cJSON *list = cJSON_GetObjectItem(json, "trials");
        CHECK(cJSON_GetArraySize(list) == N);
        int pareto_mask = 0;
        for (int i = 0; i < cJSON_GetArraySize(list); i++)
            if (cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(list, i), "pareto"))) pareto_mask |= 1 << i;
        CHECK(pareto_mask == ((1 << 0) | (1 << 2)));
        cJSON *third = cJSON_GetArrayItem(list, 2);
        CHECK(strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(third, "config")), hostile_config) == 0);
        CHECK(cJSON_GetObjectItem(third, "latency_ms")->valuedouble == 0.98214);   /* measured; none predicted */
        CHECK(cJSON_IsTrue(cJSON_GetObjectItem(third, "chosen")));
        CHECK(cJSON_GetObjectItem(third, "ram_bytes")->valuedouble == 8888);   /* measured */
        CHECK(cJSON_GetObjectItem(third, "flash_bytes")->valuedouble == 29000);
        CHECK(strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(third, "figures")), "measured") == 0);
        CHECK(strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "figures")),
                     "predicted") == 0);
        CHECK(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 7), "train_images")->valuedouble == 100);
        cJSON *gain = cJSON_GetObjectItem(json, "gain");
        CHECK(fabs(cJSON_GetObjectItem(gain, "flash_percent")->valuedouble - -42.0) < 1e-9);
        cJSON *prov = cJSON_GetObjectItem(json, "provenance");
        CHECK(cJSON_GetObjectItem(prov, "trial")->valueint == 3 &&
              cJSON_GetObjectItem(prov, "flash_bytes")->valuedouble == 29000 &&
              strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(prov, "model_hash")), "0123456789abcdef") == 0 &&
              strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(prov, "pipeline")), hostile_config) == 0);
        CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(json, "limits"), "max_latency_ms")));
        CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(json, "start"), "flash_bytes")->valuedouble == 50000);
        cJSON *chosen = cJSON_GetObjectItem(json, "chosen");
        CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(chosen, "trial"), "id")->valueint == 3);
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(chosen, "stages")) == 3);
        cJSON *layers_json = cJSON_GetObjectItem(json, "layers");
        CHECK(cJSON_GetArraySize(layers_json) == 2);
        CHECK(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(layers_json, 1), "cycles_estimate")));
        CHECK(cJSON_GetObjectItem(cJSON_GetArrayItem(layers_json, 0), "instructions")->valuedouble == 140000);
        cJSON *s = cJSON_GetObjectItem(json, "study");
        CHECK(strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(s, "target")), "stm32f405") == 0);
        CHECK(strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(s, "seed")), "18446744073709551615") == 0);
        CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(json, "counts"), "done")->valueint == 5);
        CHECK(cJSON_GetObjectItem(json, "min_accuracy")->valuedouble == 0.97);
        cJSON_Delete(json);
    }
    free(json_text);

    /* an empty report: no study, no trials */
    mco_report empty = {0};
    CHECK_OK(mco_report_write_html(html_path, &empty));
    html = read_text(html_path);
    if (html) {
        char why[160];
        CHECK(well_formed(html, why, sizeof why));
        CHECK(count(html, "no finished trial has this value") == 3 && count(html, "No trial was chosen") == 1);
        free(html);
    }
    CHECK_OK(mco_report_write_json(json_path, &empty));

    /* only the two reports are in the directory: no temporary files left */
    DIR *dir = opendir(tmp_dir);
    int files = 0;
    for (struct dirent *e; dir && (e = readdir(dir));)
        if (e->d_name[0] != '.') files++;
    if (dir) closedir(dir);
    CHECK(files == 2);

    /* an unwritable place fails with the path in the message */
    CHECK(mco_report_write_html("/nonexistent-dir/report.html", &r) == MCO_ERR_IO);
    CHECK(strstr(mco_last_error(), "/nonexistent-dir/report.html") != NULL);
}

int main(void)
{
    if (!mkdtemp(tmp_dir)) {
        perror("mkdtemp");
        return 1;
    }
    check_report();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmp_dir);
    TEST_MAIN_END();
}
