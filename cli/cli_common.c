/*
 * cli_common.c - helpers shared by the subcommands (see cli.h).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "mcuopt/file_util.h"
#include "mcuopt/model_file.h"

int cli_fail(mco_status status)
{
    const char *msg = mco_last_error();
    fprintf(stderr, "mcuopt: error: %s\n", msg[0] ? msg : mco_status_string(status));
    return CLI_EXIT_FAIL;
}

int cli_usage_error(const char *command, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "mcuopt: %s: ", command);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see 'mcuopt %s --help')\n", command);
    return CLI_EXIT_USAGE;
}

int cli_parse_int(const char *command, const char *option, const char *value, int min, int max,
                  int *out)
{
    char *end;
    errno = 0;
    long v = strtol(value, &end, 10);
    if (errno || end == value || *end != '\0' || v < min || v > max) {
        cli_usage_error(command, "%s expects an integer from %d to %d, got '%s'", option, min, max,
                        value);
        return 0;
    }
    *out = (int)v;
    return 1;
}

int cli_parse_float(const char *command, const char *option, const char *value, float *out)
{
    char *end;
    errno = 0;
    float v = strtof(value, &end);
    if (errno || end == value || *end != '\0' || !isfinite(v)) {
        cli_usage_error(command, "%s expects a number, got '%s'", option, value);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_parse_float_range(const char *command, const char *option, const char *value, float min, float max,
                          float *out)
{
    float v;
    if (!cli_parse_float(command, option, value, &v)) return 0;
    if (!(v >= min && v <= max)) {
        cli_usage_error(command, "%s expects a number from %g to %g, got '%s'", option, (double)min, (double)max,
                        value);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_parse_positive(const char *command, const char *option, const char *value, float max, float *out)
{
    float v;
    if (!cli_parse_float(command, option, value, &v)) return 0;
    if (!(v > 0.0f && v <= max)) {
        if (isinf(max)) cli_usage_error(command, "%s expects a positive number, got '%s'", option, value);
        else cli_usage_error(command, "%s expects a number above 0, at most %g, got '%s'", option, (double)max, value);
        return 0;
    }
    *out = v;
    return 1;
}

int cli_parse_accuracy(const char *command, const char *option, const char *value, double *fraction)
{
    float percent;
    if (!cli_parse_float(command, option, value, &percent)) return 0;
    if (percent > 0.0f && percent < 1.0f) {
        cli_usage_error(command, "%s %s looks like a fraction: accuracies are percentages (did you mean %.4g?)",
                        option, value, (double)percent * 100.0);
        return 0;
    }
    if (!(percent >= 1.0f && percent <= 100.0f)) {
        cli_usage_error(command, "%s expects a percentage from 1 to 100 (e.g. 97.5), got '%s'", option, value);
        return 0;
    }
    *fraction = (double)percent / 100.0;
    return 1;
}

int cli_parse_optimize(const char *command, const char *value, mco_plan_goal *out)
{
    if (strcmp(value, "cycles") == 0) *out = MCO_PLAN_FASTEST;
    else if (strcmp(value, "size") == 0) *out = MCO_PLAN_SMALLEST;
    else {
        cli_usage_error(command, "--optimize expects cycles or size, got '%s'", value);
        return 0;
    }
    return 1;
}

int cli_parse_io_type(const char *command, const char *value, int is_output, mco_io_type *out)
{
    if (mco_io_type_parse(value, is_output, out) == MCO_OK) return 1;
    cli_usage_error(command, "--%s-type must be %s, not '%s'", is_output ? "output" : "input",
                    is_output ? "int8 or float" : "int8, uint8 or float", value);
    return 0;
}

int cli_parse_audio_features(const char *command, const char *value, cli_data_options *data)
{
    mco_audio_frontend a;
    mco_audio_frontend_default(&a);
    char copy[512];
    int window_given = 0;
    if (snprintf(copy, sizeof copy, "%s", value) >= (int)sizeof copy)
        return !cli_usage_error(command, "--audio-features: too long");
    char *save = NULL, *kind = strtok_r(copy, ",", &save);
    if (!kind || (strcmp(kind, "mfcc") != 0 && strcmp(kind, "logmel") != 0))
        return !cli_usage_error(command, "--audio-features starts with mfcc or logmel, got '%s'", value);
    if (strcmp(kind, "logmel") == 0) a.n_coeffs = 0;
    static const char *const int_keys[] = {"rate", "clip", "frame", "stride", "fft", "mels", "coeffs", "window"};
    int *const int_fields[] = {&a.sample_rate, &a.clip_samples, &a.frame_length, &a.frame_stride, &a.fft_size,
                               &a.n_mels, &a.n_coeffs, &a.window_frames};
    for (char *item = strtok_r(NULL, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '='), option[64];
        if (!eq) return !cli_usage_error(command, "--audio-features: '%s' is not KEY=VALUE", item);
        *eq = '\0';
        snprintf(option, sizeof option, "--audio-features %s", item);
        int done = 0;
        for (size_t k = 0; k < sizeof int_keys / sizeof int_keys[0] && !done; k++)
            if (strcmp(item, int_keys[k]) == 0) {
                if (k == 6 && a.n_coeffs == 0)
                    return !cli_usage_error(command, "--audio-features: logmel takes no coeffs (mfcc does)");
                if (!cli_parse_int(command, option, eq + 1, 1, 16 * 192000, int_fields[k])) return 0;
                window_given |= k == 7;
                done = 1;
            }
        if (!done && (strcmp(item, "low") == 0 || strcmp(item, "high") == 0)) {
            if (!cli_parse_float_range(command, option, eq + 1, 0.0f, 96000.0f,
                                       strcmp(item, "low") == 0 ? &a.lower_hz : &a.upper_hz))
                return 0;
            done = 1;
        }
        if (!done)
            return !cli_usage_error(command, "--audio-features: unknown key '%s' (known: rate, clip, frame, stride, "
                                    "fft, mels, coeffs, low, high, window)", item);
    }
    if (window_given && a.n_coeffs)
        return !cli_usage_error(command, "--audio-features: window (machine sounds) takes logmel, not mfcc");
    mco_shape shape;
    if (mco_audio_frontend_shape(&a, &shape) != MCO_OK)
        return !cli_usage_error(command, "--audio-features %s: %s", value, mco_last_error());
    data->audio = a;
    data->audio_given = 1;
    return 1;
}

const cli_option cli_data_table[] = {
    {"dataset", 0, "NAME", "mnist (default), fashion-mnist, cifar10, or the format of --data: images, audio, "
     "machine, npy, csv, idx (default: detected from what --data holds)", CLI_OPT_DATASET},
    {"data", 0, "PATH", "the data: a directory (IDX or CIFAR-10 files, x.npy / y.npy, one sub-directory of "
     "PNG/JPEG/BMP images or WAV files per class, or train/ and test/ machine sounds normal_*.wav / "
     "anomaly_*.wav) or a .csv file", CLI_OPT_DATA},
    {"label-column", 0, "C", "CSV: the label column's name or 0-based index, or none (default: the column named "
     "label)", CLI_OPT_LABEL_COLUMN},
    {"audio-features", 0, "mfcc|logmel[,KEY=V...]", "WAV folders: the features (default mfcc: 49x10 MFCCs, MLPerf "
     "Tiny KWS); keys rate, clip, frame, stride (samples), fft, mels, coeffs, low, high (Hz), window (machine "
     "sounds: frames per sample; their default is logmel with clip=160000, frame=1024, stride=512, fft=1024, "
     "mels=128, low=0, high=8000, window=5), e.g. logmel,mels=40,frame=512,stride=256", CLI_OPT_AUDIO_FEATURES},
    {0},
};

int cli_data_option(cli_data_options *data, int *data_given, const char *command, int id, const char *value)
{
    switch (id) {
    case CLI_OPT_DATASET: data->dataset = value; *data_given = 1; return CLI_EXIT_OK;
    case CLI_OPT_DATA: data->data_dir = value; *data_given = 1; return CLI_EXIT_OK;
    case CLI_OPT_LABEL_COLUMN: data->label_column = value; return CLI_EXIT_OK;
    case CLI_OPT_AUDIO_FEATURES:
        return cli_parse_audio_features(command, value, data) ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    default: return -1;
    }
}

static int is_builtin_set(const char *name)
{
    return strcmp(name, "mnist") == 0 || strcmp(name, "fashion-mnist") == 0 || strcmp(name, "cifar10") == 0;
}

/* Decides, once, how the data is read: a built-in set (by name, or MNIST
 * when nothing is given) or --data PATH in a named or detected format. */
static mco_status resolve(cli_data_options *data)
{
    data->builtin = (data->dataset && is_builtin_set(data->dataset)) || (!data->dataset && !data->data_dir);
    if (data->builtin) {
        snprintf(data->name, sizeof data->name, "%s", data->dataset ? data->dataset : "mnist");
        return MCO_OK;
    }
    data->format = MCO_DATA_AUTO;
    if (data->dataset && mco_data_format_parse(data->dataset, &data->format) != MCO_OK)
        return mco_error(MCO_ERR_ARG, "unknown data set '%s' (a set: mnist, fashion-mnist, cifar10; a format "
                         "of --data: images, audio, machine, npy, csv, idx)", data->dataset);
    if (!data->data_dir)
        return mco_error(MCO_ERR_ARG, "--dataset %s reads the data at --data PATH, and none was given", data->dataset);
    if (data->format == MCO_DATA_AUTO) return mco_data_detect(data->data_dir, &data->format);
    return MCO_OK;
}

mco_status cli_load_dataset(cli_data_options *data, mco_split split, int allow_fallback,
                            int quiet, mco_dataset *out)
{
    mco_status st = MCO_OK;
    if (!data->resolved && (st = resolve(data)) != MCO_OK) return st;
    int first = !data->resolved;
    data->resolved = 1;
    if (data->builtin) {
        st = mco_dataset_load(cli_context(), data->name, data->data_dir, split, out);
        if (st == MCO_ERR_NOT_FOUND && allow_fallback && first && !data->dataset && !data->data_dir) {
            char why[512];
            snprintf(why, sizeof why, "%s", mco_last_error());
            if (mco_dataset_load(cli_context(), "fashion-mnist", NULL, split, out) != MCO_OK)
                return mco_error(MCO_ERR_NOT_FOUND, "%s", why);
            if (!quiet) fprintf(stderr, "mcuopt: note: MNIST not found (%s); using Fashion-MNIST instead\n", why);
            snprintf(data->name, sizeof data->name, "fashion-mnist");
            st = MCO_OK;
        }
    } else {
        mco_data_options opt;
        mco_data_options_default(&opt);
        opt.format = data->format;
        opt.shape = data->input;
        opt.label_column = data->label_column;
        opt.augment = data->augment;
        if (data->audio_given) opt.audio = data->audio;
        opt.audio_set = data->audio_given;
        opt.augment_seed = data->augment_seed;
        st = mco_dataset_read(data->data_dir, split, &opt, out);
        if (st == MCO_OK) snprintf(data->name, sizeof data->name, "%s", out->name);
    }
    if (st == MCO_OK) data->dataset = data->name;
    return st;
}

mco_status cli_load_val_data(const cli_data_options *data, const char *val_dir, int quiet, mco_dataset *out)
{
    struct stat a, b;   /* the same file or directory, however named */
    memset(out, 0, sizeof *out);
    if (data->data_dir && stat(val_dir, &a) == 0 && stat(data->data_dir, &b) == 0 && a.st_dev == b.st_dev &&
        a.st_ino == b.st_ino)
        return mco_error(MCO_ERR_ARG, "--val-data %s is the --data set, whose test split gives the test figures: "
                         "give a validation set of its own", val_dir);
    cli_data_options v = *data;
    v.data_dir = val_dir;
    v.augment = 0;
    return cli_load_dataset(&v, MCO_SPLIT_TEST, 0, quiet, out);
}

void cli_record_frontend(const cli_data_options *data, mco_model *model)
{
    if (data->builtin || data->format != MCO_DATA_AUDIO) return;
    model->has_frontend = 1;
    if (data->audio_given) model->frontend = data->audio;
    else mco_audio_frontend_default(&model->frontend);
}

void cli_take_frontend(const mco_model *model, cli_data_options *data)
{
    if (!model->has_frontend || data->audio_given) return;
    data->audio = model->frontend;
    data->audio_given = 1;
}

mco_status cli_measure_pcm_setup(const cli_data_options *data, const mco_model *model, mco_measure_options *mo,
                                 int16_t **pcm, mco_measure_result *pcm_result)
{
    *pcm = NULL;
    if (!model->has_frontend || data->builtin || data->format != MCO_DATA_AUDIO) return MCO_OK;
    mco_data_options opt;
    mco_data_options_default(&opt);
    opt.audio = model->frontend;
    int n = 0;
    mco_status st = mco_audio_read_clips(data->data_dir, MCO_SPLIT_TEST, &opt, MCO_MEASURE_MAX_PCM_CLIPS, pcm, &n);
    if (st != MCO_OK) return st;
    mo->pcm = *pcm;
    mo->pcm_clips = n;
    mo->pcm_result = pcm_result;
    return MCO_OK;
}

mco_status cli_measure_pcm_report(const mco_measure_options *mo, const mco_target_profile *target, FILE *out)
{
    if (!mo->pcm) return MCO_OK;
    const mco_measure_result *r = mo->pcm_result;
    if (out) {
        fprintf(out, "from PCM on %s: %d of %d clips' outputs bit-identical to the host (the audio front-end computed on "
                "the chip, then the model)\n", target->name, r->n_inputs - r->n_mismatch, r->n_inputs);
        fprintf(out, "  %.0f instructions per clip (exact; front-end + model), Flash %zu bytes, RAM %zu bytes\n",
                r->insns_mean, r->flash_bytes, r->ram_bytes);
    }
    if (r->n_mismatch)
        return mco_error(MCO_ERR_RANGE, "%d of %d outputs computed from PCM on %s differ from the host runtime",
                         r->n_mismatch, r->n_inputs, target->name);
    return MCO_OK;
}

mco_status cli_set_normalization(mco_model *model, const char *dataset, const mco_dataset *train)
{
    /* Per-data-set mean and standard deviation of pixel/255 over the
     * training images (the usual published figures). */
    model->norm.scale = 1.0f / 255.0f;
    if (strcmp(dataset, "mnist") == 0) {
        model->norm.mean = 0.1307f;
        model->norm.std = 0.3081f;
    } else if (strcmp(dataset, "fashion-mnist") == 0) {
        model->norm.mean = 0.2860f;
        model->norm.std = 0.3530f;
    } else if (strcmp(dataset, "cifar10") == 0) {
        model->norm.mean = 0.4734f;
        model->norm.std = 0.2516f;
    } else if (train) {
        return mco_dataset_normalization(train, &model->norm);
    } else {
        model->norm.mean = 0.5f;
        model->norm.std = 0.5f;
    }
    return MCO_OK;
}

double cli_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void cli_progress_init(cli_progress *p, int quiet)
{
    p->enabled = !quiet && isatty(STDERR_FILENO);
    p->last_draw = 0.0;
}

static void format_duration(double seconds, char *buf, size_t size)
{
    long s = seconds > 0 ? (long)(seconds + 0.5) : 0;
    if (s >= 3600) snprintf(buf, size, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
    else snprintf(buf, size, "%ld:%02ld", s / 60, s % 60);
}

void cli_status_line(const char *full, const char *brief, int end_line)
{
    int budget = cli_terminal_width(stderr) - 1;
    const char *text = (int)strlen(full) <= budget || !brief ? full : brief;
    fprintf(stderr, "\r\033[K%.*s%s", budget > 0 ? budget : 0, text, end_line ? "\n" : "");
    fflush(stderr);
}

void cli_progress_train(void *user, const mco_train_progress *pr)
{
    cli_progress *p = user;
    if (!p->enabled) return;
    double now = cli_now();
    if (!pr->epoch_done && now - p->last_draw < 0.1 && pr->step != pr->steps) return;
    p->last_draw = now;

    double frac = pr->steps ? (double)pr->step / (double)pr->steps : 1.0;
    /* ETA over all remaining epochs, from the average time per step so far. */
    double steps_done = (double)pr->epoch * (double)pr->steps + (double)pr->step;
    double steps_total = (double)pr->epochs * (double)pr->steps;
    double eta = steps_done > 0 ? pr->elapsed_sec / steps_done * (steps_total - steps_done) : 0.0;
    char eta_text[32];
    format_duration(eta, eta_text, sizeof eta_text);

    /* The parts of the line: a reconstruction model (accuracy -1) has a
     * loss and, on validation, an AUC. */
    const int reconstruction = pr->accuracy < 0.0;
    char figures[96], speed[64], val[64] = "";
    int n = snprintf(figures, sizeof figures, "%3.0f%% loss %.4f", frac * 100.0, pr->loss);
    if (!reconstruction && n > 0) snprintf(figures + n, sizeof figures - (size_t)n, " acc %5.2f%%", pr->accuracy * 100.0);
    snprintf(speed, sizeof speed, " %6.0f img/s ETA %s", pr->samples_per_sec, eta_text);
    if (pr->epoch_done && pr->val_accuracy >= 0.0 && reconstruction)
        snprintf(val, sizeof val, " | val loss %.4f AUC %.4f", pr->val_loss, pr->val_accuracy);
    else if (pr->epoch_done && pr->val_accuracy >= 0.0)
        snprintf(val, sizeof val, " | val loss %.4f acc %.2f%%", pr->val_loss, pr->val_accuracy * 100.0);

    /* The bar takes what the terminal leaves of its 30 columns (none below
     * 10); a terminal too narrow for the rest gets the line without the
     * bar and the speed (cli_status_line). */
    char head[32], full[320], brief[256];
    snprintf(head, sizeof head, "epoch %d/%d", pr->epoch + 1, pr->epochs);
    int rest = (int)(strlen(head) + strlen(figures) + strlen(speed) + strlen(val)) + 4;   /* " [" "] " */
    int width = cli_terminal_width(stderr) - 1 - rest;
    if (width > 30) width = 30;
    char bar[32] = "";
    if (width >= 10) {
        int filled = (int)(frac * width);
        for (int i = 0; i < width; i++) bar[i] = i < filled ? '=' : (i == filled ? '>' : ' ');
        bar[width] = '\0';
        snprintf(full, sizeof full, "%s [%s] %s%s%s", head, bar, figures, speed, val);
    } else {
        snprintf(full, sizeof full, "%s %s%s%s", head, figures, speed, val);
    }
    snprintf(brief, sizeof brief, "%s %s%s", head, figures, val);
    if (val[0] && (int)strlen(brief) > cli_terminal_width(stderr) - 1)   /* the validation figures first */
        snprintf(brief, sizeof brief, "%s%s", head, val);
    cli_status_line(full, brief, pr->epoch_done);
}

void cli_json_add_auc(cJSON *o, const char *key, double auc)
{
    if (auc >= 0.0) cJSON_AddNumberToObject(o, key, auc);
    else cJSON_AddNullToObject(o, key);
}

void cli_print_json(cJSON *json)
{
    char *text = cJSON_Print(json);
    if (text) {
        printf("%s\n", text);
        free(text);
    }
    cJSON_Delete(json);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int cli_is_deploy_file(const char *path)
{
    /* A regular file only, opened without waiting (a FIFO would block here):
     * whatever else the path is, the loader says so. */
    unsigned char magic[4];
    int fd;
    ssize_t got = 0;
    if (mco_open_regular(path, &fd, NULL) == MCO_OK) {
        got = read(fd, magic, sizeof magic);
        close(fd);
    }
    mco_clear_error();
    if (got == sizeof magic && memcmp(magic, MCO_DEPLOY_MAGIC, 4) == 0) return 1;
    if (got == sizeof magic && memcmp(magic, MCO_MODEL_MAGIC, 4) == 0) return 0;
    return ends_with(path, ".mcq");
}

mco_status cli_load_deploy_model(const char *path, mco_deploy_model *dm)
{
    if (cli_is_deploy_file(path)) return mco_deploy_load(path, dm);
    mco_model model;
    mco_status st = mco_model_load(path, &model);
    if (st != MCO_OK) return st;
    st = mco_deploy_from_float(&model, dm);
    mco_model_free(&model);
    return st;
}

cJSON *cli_ram_regions_json(const mco_target_profile *t, const mco_ram_placement *pl)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < t->n_ram_regions; i++) {
        const mco_ram_region *r = &t->ram_regions[i];
        int st = pl->static_region == i, sk = pl->stack_region == i;
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", r->name);
        cJSON_AddNumberToObject(o, "kb", r->kb);
        cJSON_AddBoolToObject(o, "dma", r->dma);
        cJSON_AddBoolToObject(o, "tcm", r->tcm);
        cJSON_AddStringToObject(o, "section", r->section);
        cJSON_AddNumberToObject(o, "used_bytes", (double)pl->used[i]);
        cJSON_AddStringToObject(o, "holds", st && sk ? "static + stack" : st ? "static" : sk ? "stack" : "");
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

/* The input recipe the model holds (x = (raw * scale - mean) / std), with
 * where the raw range 0..255 lands, so a user can check it against the
 * data they will feed (`import --normalize`, `train --dataset` set it). */
void cli_print_normalization(const mco_normalization *n)
{
    if (n->scale == 1.0f && n->mean == 0.0f && n->std == 1.0f) {
        printf("input normalisation: none (x = raw value)\n");
        return;
    }
    double lo = (0.0 * n->scale - n->mean) / n->std, hi = (255.0 * n->scale - n->mean) / n->std;
    printf("input normalisation: x = (raw * %g - %g) / %g  (raw 0 -> %.4g, raw 255 -> %.4g)\n", (double)n->scale,
           (double)n->mean, (double)n->std, lo, hi);
}

cJSON *cli_normalization_json(const mco_normalization *n)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "scale", n->scale);
    cJSON_AddNumberToObject(o, "mean", n->mean);
    cJSON_AddNumberToObject(o, "std", n->std);
    return o;
}
