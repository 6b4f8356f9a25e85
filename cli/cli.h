/*
 * cli.h - what the mcuopt subcommands share: the command table, the library
 * context, error reporting, loading a model or an architecture, the
 * training progress bar, and writing JSON results.
 *
 * The CLI is a thin layer: each cmd_*.c parses its options, calls the
 * library, and prints. Library errors arrive as an mco_status plus
 * mco_last_error(); cli_fail() prints that as one line and the command
 * returns exit code 1 (2 for a usage error).
 */
#ifndef MCO_CLI_H
#define MCO_CLI_H

#include <cjson/cJSON.h>
#include <stdio.h>

#include "cli_options.h"
#include "mcuopt/codegen.h"
#include "mcuopt/context.h"
#include "mcuopt/data.h"
#include "mcuopt/deploy.h"
#include "mcuopt/graph.h"
#include "mcuopt/measure.h"
#include "mcuopt/status.h"
#include "mcuopt/target.h"
#include "mcuopt/train.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

typedef struct {
    const char *name;
    const char *summary;
    int (*run)(int argc, char **argv);
} cli_command;

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_quantize(int argc, char **argv);
int cmd_emit(int argc, char **argv);
int cmd_measure(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_targets(int argc, char **argv);
int cmd_shrink(int argc, char **argv);
int cmd_sensitivity(int argc, char **argv);
int cmd_trials(int argc, char **argv);
int cmd_distill(int argc, char **argv);
int cmd_compress(int argc, char **argv);
int cmd_qat(int argc, char **argv);
int cmd_search(int argc, char **argv);
int cmd_prune(int argc, char **argv);
int cmd_estimate(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_predict(int argc, char **argv);

/* The library context of this run (cli_context.c): resources found next to
 * the executable (installed or build tree) or named by MCO_*_DIR variables,
 * and a log sink on stderr (MCO_LOG_DEBUG lines only when `verbose`).
 * cli_context_init is called once, by main(). */
mco_status cli_context_init(const char *argv0, int verbose);
const mco_context *cli_context(void);
void cli_context_free(void);

/* Prints "mcuopt: error: <message>" for the last library error; returns CLI_EXIT_FAIL. */
int cli_fail(mco_status status);
/* Prints "mcuopt: <cmd>: <message>" and a hint to use --help; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *command, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Strict number parsing for option values (the whole text, finite); on
 * failure each prints one usage error and returns 0. _range: in [min, max];
 * _positive: above 0 and at most max (INFINITY: no limit). */
int cli_parse_int(const char *command, const char *option, const char *value, int min, int max,
                  int *out);
int cli_parse_float(const char *command, const char *option, const char *value, float *out);
int cli_parse_float_range(const char *command, const char *option, const char *value, float min, float max,
                          float *out);
int cli_parse_positive(const char *command, const char *option, const char *value, float max, float *out);
/* The highest clock any --clock-mhz accepts (no MCU runs faster). */
#define CLI_MAX_CLOCK_MHZ 10000.0f
/* An accuracy option: a percentage from 1 to 100, stored as a fraction 0..1.
 * A value below 1 is refused with a hint ("did you mean 97.5?"): it is
 * almost certainly a fraction given where a percentage is expected. Every
 * option that takes an accuracy goes through here. */
int cli_parse_accuracy(const char *command, const char *option, const char *value, double *fraction);
/* --optimize cycles|size: the planner's goal (MCO_PLAN_FASTEST / _SMALLEST). */
int cli_parse_optimize(const char *command, const char *value, mco_plan_goal *out);
/* The --optimize option of the commands that plan for a target (parsed by cli_parse_optimize). */
#define CLI_OPTION_OPTIMIZE(id)                                                                          \
    {"optimize", 0, "WHAT",                                                                              \
     "where several kernels can run a layer, take the fastest (cycles, the default; by the resource "    \
     "model for the target's core) or the smallest (size: the least Flash)", id}

/* --input-type int8|uint8|float / --output-type int8|float: what the emitted
 * NAME_run takes and gives (is_output: the second). */
int cli_parse_io_type(const char *command, const char *value, int is_output, mco_io_type *out);
#define CLI_OPTION_INPUT_TYPE(id)                                                                        \
    {"input-type", 0, "T",                                                                               \
     "what NAME_run takes: int8 (the int8 model's quantized input), uint8 (raw bytes, e.g. pixels) or "   \
     "float (values in the data's units): the code normalises and quantizes them itself (default: the "  \
     "model's own input)", id}
#define CLI_OPTION_OUTPUT_TYPE(id)                                                                       \
    {"output-type", 0, "T",                                                                              \
     "what NAME_run gives: int8 (quantized) or float (dequantized) (default: the model's own output)", id}

/* --cc and -O: the compiler and optimisation level of the model code
 * (measure, validate; parsed by mco_cc_parse and mco_opt_level_check). */
#define CLI_OPTION_CC(id)                                                                                \
    {"cc", 0, "NAME", "compiler of the model code: gcc (arm-none-eabi-gcc, the default) or clang "          \
     "(--target=arm-none-eabi, newlib's headers)", id}
#define CLI_OPTION_OPT_LEVEL                                                                             \
    {NULL, 'O', "LEVEL", "its optimisation level, as the compilers take it: -O0, -O1, -O2 (default), -O3, " \
     "-Os, -Og or -Oz (the harness around it is always built with gcc -O2)", 'O'}

/* measure's per-op figures (cmd_measure.c), which validate prints too. */
cJSON *cli_measure_layers_json(const mco_model *m, const mco_measure_result *r);
void cli_measure_print_layers(const mco_model *m, const mco_measure_result *r);

/* The common data options: --dataset NAME, --data PATH, --label-column C.
 *
 * --dataset names a built-in set (mnist, fashion-mnist, cifar10: read from
 * their default place, or from --data DIR) or a format (images, npy, csv,
 * idx: read from --data PATH). Without --dataset, --data PATH is read in
 * the format it holds (mco_data_detect); with neither, MNIST. */
typedef struct {
    const char *dataset;       /* --dataset; NULL: mnist, or what --data holds */
    const char *data_dir;      /* --data; NULL: the named set's default location */
    const char *label_column;  /* --label-column (CSV); NULL: the column named "label" */
    int augment;               /* --augment (training commands, audio folders): copies per clip */
    int audio_given;           /* 1: --audio-features set `audio` */
    mco_audio_frontend audio;  /* --audio-features: the audio front-end's parameters */
    uint64_t augment_seed;     /* their random choices (the job's --seed) */
    mco_shape input;           /* the model's input, set by the command before loading: an image
                                  folder is resized to it (zeros: unknown) */
    /* Set by the first load, so that every later split is read the same way: */
    char name[64];             /* the loaded set's name; dataset points here once loaded */
    int resolved;              /* 1 once loaded: builtin or format below say how */
    int builtin;               /* 1: a built-in set named `name` (mco_dataset_load) */
    mco_data_format format;    /* else: the format of --data (detected or named) */
} cli_data_options;

/* The data options (--dataset, --data, --label-column, --audio-features),
 * for the commands that read data, and their handler: CLI_EXIT_OK when
 * `id` is one of them (data_given set for --dataset and --data),
 * CLI_EXIT_USAGE (message printed) for a bad value, -1 when it is not. */
enum { CLI_OPT_AUDIO_FEATURES = 2900, CLI_OPT_DATASET, CLI_OPT_DATA, CLI_OPT_LABEL_COLUMN };
extern const cli_option cli_data_table[];
int cli_data_option(cli_data_options *data, int *data_given, const char *command, int id, const char *value);
/* Fills data->audio from --audio-features' value (one usage line and 0 on error). */
int cli_parse_audio_features(const char *command, const char *value, cli_data_options *data);

/* A model trained on an audio folder records the front-end its features
 * came from (--audio-features, else the default): cli_record_frontend,
 * once the data is loaded. A model that has one reads audio folders with it
 * unless --audio-features says otherwise: cli_take_frontend, before. */
void cli_record_frontend(const cli_data_options *data, mco_model *model);
void cli_take_frontend(const mco_model *model, cli_data_options *data);

/* A model with an audio front-end measured on an audio folder: its test
 * clips (up to MCO_MEASURE_MAX_PCM_CLIPS, spread over the split) go to
 * mo->pcm, so the measurement also runs model_run_pcm on them
 * (mcuopt/measure.h), its figures into *pcm_result. *pcm: the caller frees
 * it (NULL when there is nothing to run: no front-end or no audio folder).
 * cli_measure_pcm_report prints that run's two lines to `out` (NULL: none) and fails
 * (one line, MCO_ERR_RANGE) when an output differs. */
mco_status cli_measure_pcm_setup(const cli_data_options *data, const mco_model *model, mco_measure_options *mo,
                                 int16_t **pcm, mco_measure_result *pcm_result);
mco_status cli_measure_pcm_report(const mco_measure_options *mo, const mco_target_profile *target, FILE *out);

/* Loads a split as cli_data_options says, falling back (with a note on
 * stderr) from MNIST to Fashion-MNIST when MNIST is not found and neither
 * --dataset nor --data was given and `allow_fallback` is set. On success
 * data->dataset is the loaded set's name. */
mco_status cli_load_dataset(cli_data_options *data, mco_split split, int allow_fallback,
                            int quiet, mco_dataset *out);

/* The validation set of --val-data DIR: DIR's test split, read as `data`
 * says (call it after `data`'s first load: the same format, input shape and
 * audio front-end; no augmentation). DIR must not be --data itself, whose
 * test split gives the reported test figures: one error line. */
mco_status cli_load_val_data(const cli_data_options *data, const char *val_dir, int quiet, mco_dataset *out);

/* 1 if `path` holds a deploy model (.mcq) rather than a float model (.mco):
 * by the file's magic, else (unreadable, neither magic) by its name, so the
 * loader of the kind the user meant reports what is wrong with it. */
int cli_is_deploy_file(const char *path);

/* Loads a deploy model: a .mcq file as it is, a float .mco file folded
 * into an all-float32 deploy model. */
mco_status cli_load_deploy_model(const char *path, mco_deploy_model *dm);

/* `mcuopt import` of a .tflite file (import_tflite.c); output NULL: the
 * default name, norm NULL: keep the model's. */
int cli_import_tflite(const char *path, const char *output, const char *dataset, const mco_normalization *norm,
                      int json);
/* `mcuopt import` of a QDQ .onnx file (import_qdq.c): an int8 deploy model. */
int cli_import_onnx_qdq(const char *path, const char *output, const char *dataset, const mco_normalization *norm,
                        int json);
/* One "mcuopt: warning:" line when ds, after the model's normalisation,
 * looks far from the model's inputs (input_warning.c); model or dm (a
 * deploy model: its int8 input range is what the data is held against). */
void cli_warn_input_stats(const mco_model *model, const mco_deploy_model *dm, const mco_dataset *ds);
/* Plans, saves and reloads an imported int8 deploy model (import_tflite.c). */
mco_status cli_save_imported_deploy(const mco_deploy_model *dm, const char *output);

/* Sets the model's input normalisation: the published figures of a
 * built-in set (mnist, fashion-mnist, cifar10), else the mean and standard
 * deviation of `train` (mco_dataset_normalization), else (train NULL) mean
 * 0.5 and std 0.5 of v / 255. */
mco_status cli_set_normalization(mco_model *model, const char *dataset, const mco_dataset *train);

/* Training progress on stderr: a bar with rate and ETA, redrawn in place;
 * silent unless stderr is a terminal (or force is set) and not quiet. */
typedef struct {
    int enabled;
    double last_draw;
} cli_progress;

void cli_progress_init(cli_progress *p, int quiet);
/* Redraws the status line on stderr (a terminal: the callers check) in
 * place: `full` when it fits the terminal's width less one column
 * (cli_terminal_width), else `brief` (NULL: none), cut to that width, so
 * the line never wraps and every redraw overwrites the last one; then a
 * newline when end_line is set. */
void cli_status_line(const char *full, const char *brief, int end_line);
void cli_progress_train(void *user, const mco_train_progress *progress);

/* Adds KEY: an AUC, or null where there is none (auc < 0: the data lacks
 * normal or anomalous samples). */
void cli_json_add_auc(cJSON *o, const char *key, double auc);

/* Prints a JSON object to stdout (pretty) and frees it. */
void cli_print_json(cJSON *json);

/* The RAM regions of `t` with what a placement put there (estimate and
 * measure --json): [{"name", "kb", "dma", "tcm", "section", "used_bytes",
 * "holds": "static" | "stack" | "static + stack" | ""}]. */
cJSON *cli_ram_regions_json(const mco_target_profile *t, const mco_ram_placement *pl);

/* Monotonic seconds. */
double cli_now(void);

/* Prints the input normalisation a model holds, one line (info, import). */
void cli_print_normalization(const mco_normalization *norm);
/* The same as a JSON object {"scale", "mean", "std"}. */
cJSON *cli_normalization_json(const mco_normalization *norm);

#endif
