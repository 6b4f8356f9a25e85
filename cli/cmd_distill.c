/*
 * cmd_distill.c - `mcuopt distill --teacher T.mco|T.mcq (--arch A | --width F)
 * -o S.mco`: trains a student model against a teacher's soft outputs
 * (knowledge distillation, distill.h) and reports student and teacher
 * accuracy on the test split. The training options are those of
 * `mcuopt train` (cli_train_job).
 *
 * What it leaves out: running several teachers, and distilling into an
 * already trained student (use `mcuopt compress MODEL --stages distill:...`).
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_train_job.h"
#include "mcuopt/arch.h"
#include "mcuopt/codegen.h"
#include "mcuopt/distill.h"
#include "mcuopt/model_file.h"

enum { OPT_TEACHER = 1000, OPT_WIDTH, OPT_ALPHA, OPT_TEMPERATURE };

static const cli_option distill_table[] = {
    CLI_JOB_OPTION_EPOCHS("training epochs (default 3)"),
    {"teacher", 0, "FILE", "the teacher model (.mco or .mcq)", OPT_TEACHER},
    {"width", 0, "F", "student = the teacher's architecture with every conv's filters and hidden dense's units "
     "times F", OPT_WIDTH},
    {"alpha", 0, "F", "weight of the hard-label loss, 0..1 (default 0.1)", OPT_ALPHA},
    {"temperature", 0, "F", "softmax temperature T > 0 (default 4)", OPT_TEMPERATURE},
    CLI_OPTION_OUTPUT("FILE", "student model file to write"),
    CLI_OPTION_JSON,
    CLI_OPTION_QUIET,
    {0},
};

static const cli_option *const distill_tables[] = {distill_table, cli_train_job_arch_table, cli_data_table,
                                                   cli_train_job_table, NULL};

static const cli_command_spec distill_spec = {
    "distill", "--teacher T.mco|T.mcq (--arch NAME|FILE | --width F) -o S.mco [OPTIONS]",
    "Trains a student against a teacher's soft outputs: loss = alpha * CE(labels) + (1 - alpha) * T^2 * "
    "KL(teacher || student) at temperature T. The teacher is a float model (.mco) or a quantized one (.mcq, "
    "run by the MCU runtime).",
    distill_tables, cli_train_job_print_notes,
};

typedef struct {
    const char *path;
    int is_deploy;
    mco_model model;           /* a float teacher */
    mco_deploy_model deploy;   /* a .mcq teacher */
} teacher_model;

static mco_status teacher_load(const char *path, teacher_model *t)
{
    memset(t, 0, sizeof *t);
    t->path = path;
    t->is_deploy = cli_is_deploy_file(path);
    mco_status st = t->is_deploy ? mco_deploy_load(path, &t->deploy) : mco_model_load(path, &t->model);
    if (st == MCO_OK) st = mco_distill_check_teacher(t->is_deploy ? &t->deploy.model : &t->model);
    return st;   /* the caller's teacher_free() releases a loaded model either way */
}

static const mco_model *teacher_arch(const teacher_model *t) { return t->is_deploy ? &t->deploy.model : &t->model; }

static void teacher_free(teacher_model *t)
{
    mco_model_free(&t->model);
    mco_deploy_free(&t->deploy);
}

static mco_status teacher_logits(const teacher_model *t, const mco_dataset *data, int threads, float **logits)
{
    return t->is_deploy ? mco_teacher_logits_deploy(&t->deploy, data, threads, logits)
                        : mco_teacher_logits_float(&t->model, data, threads, logits);
}

static mco_status teacher_evaluate(const teacher_model *t, const mco_dataset *data, int threads, double *accuracy)
{
    mco_eval_result r;
    mco_status st = t->is_deploy ? mco_deploy_evaluate(&t->deploy, data, threads, &r)
                                 : mco_evaluate(&t->model, data, threads, &r);
    if (st != MCO_OK) return st;
    *accuracy = r.accuracy;
    mco_eval_result_free(&r);
    return MCO_OK;
}

/* The student: a width-scaled copy of the teacher's architecture, or an
 * architecture fitted to the data; parameters initialised from the seed. */
static mco_status build_student(const cli_train_job *job, const teacher_model *t, float width,
                                const mco_dataset *train, mco_model *student)
{
    mco_status st;
    if (width > 0.0f) {
        st = mco_model_scale_width(teacher_arch(t), width, student);
    } else {
        st = mco_arch_load(job->arch, train->shape, train->n_classes, student);
        if (st == MCO_OK && (st = cli_set_normalization(student, job->data.dataset, train)) != MCO_OK)
            mco_model_free(student);
    }
    if (st != MCO_OK) return st;
    if (student->n_classes != teacher_arch(t)->n_classes) {
        mco_model_free(student);
        return mco_error(MCO_ERR_SHAPE, "the student has %d classes, the teacher %d", student->n_classes,
                         teacher_arch(t)->n_classes);
    }
    if ((st = mco_model_alloc_params(student)) != MCO_OK) {
        mco_model_free(student);
        return st;
    }
    mco_model_init_params(student, job->train.seed);
    return MCO_OK;
}

int cmd_distill(int argc, char **argv)
{
    cli_train_job job;
    cli_train_job_defaults(&job);
    mco_distill_options dopt;
    mco_distill_options_default(&dopt);
    const char *output = NULL, *teacher_path = NULL;
    float width = 0.0f;
    int json = 0, arch_given = 0;

    cli_parser p;
    cli_parser_init(&p, &distill_spec, argc, argv);
    int c;
    while ((c = cli_getopt(&p)) > 0) {
        switch (c) {
        case OPT_TEACHER: teacher_path = optarg; break;
        case OPT_WIDTH:
            if (!cli_parse_positive("distill", "--width", optarg, 16.0f, &width)) return CLI_EXIT_USAGE;
            break;
        case OPT_ALPHA:
            if (!cli_parse_float_range("distill", "--alpha", optarg, 0.0f, 1.0f, &dopt.alpha)) return CLI_EXIT_USAGE;
            break;
        case OPT_TEMPERATURE:
            if (!cli_parse_positive("distill", "--temperature", optarg, 1000.0f, &dopt.temperature)) return CLI_EXIT_USAGE;
            break;
        case 'o': output = optarg; break;
        case CLI_OPT_JSON: json = 1; break;
        default: {
            if (c == CLI_JOB_OPT_ARCH) arch_given = 1;
            int r = cli_train_job_option(&job, "distill", c, optarg);
            if (r != CLI_EXIT_OK) return r;
        }
        }
    }
    if (c < 0) return p.exit_code;
    if (optind < argc) return cli_usage_error("distill", "unexpected argument '%s'", argv[optind]);
    if (!teacher_path) return cli_usage_error("distill", "--teacher is required");
    if (!output) return cli_usage_error("distill", "missing -o STUDENT.mco");
    if (arch_given == (width > 0.0f)) return cli_usage_error("distill", "give the student as --arch or --width (one of them)");
    if (json) job.quiet = 1;

    teacher_model teacher;
    mco_status st = teacher_load(teacher_path, &teacher);
    if (st != MCO_OK) {
        teacher_free(&teacher);
        return cli_fail(st);
    }
    /* Everything below is released at `done`. */
    mco_dataset train = {0}, val = {0}, test = {0};
    mco_model student = {0};
    float *logits = NULL;
    double teacher_accuracy = -1.0;
    int exit_code = CLI_EXIT_FAIL;
    cli_train_report report;
    memset(&report, 0, sizeof report);

    job.data.input = teacher_arch(&teacher)->input_shape;
    if ((st = cli_train_job_load_data(&job, 0, &train, &val, &test)) != MCO_OK) goto fail;
    if ((st = build_student(&job, &teacher, width, &train, &student)) != MCO_OK) goto fail;

    if (!job.quiet) fprintf(stderr, "computing the teacher's logits on %d images...\n", train.n);
    if ((st = teacher_logits(&teacher, &train, job.train.threads, &logits)) != MCO_OK) goto fail;
    if ((st = teacher_evaluate(&teacher, &test, job.train.threads, &teacher_accuracy)) != MCO_OK) goto fail;

    cli_progress progress;
    cli_progress_init(&progress, job.quiet);
    dopt.train = job.train;
    dopt.train.progress = cli_progress_train;
    dopt.train.progress_user = &progress;
    if (!job.quiet)
        fprintf(stderr, "distilling %s into %s on %s: %d images, %d epochs, alpha %g, T %g\n", teacher_path,
                student.arch_name, job.data.dataset, train.n, job.train.epochs, (double)dopt.alpha,
                (double)dopt.temperature);
    if ((st = mco_distill(&student, logits, &train, val.n > 0 ? &val : NULL, &dopt, &report.train)) != MCO_OK) goto fail;
    if ((st = mco_evaluate(&student, &test, job.train.threads, &report.test)) != MCO_OK) goto fail;
    if ((st = mco_model_save(&student, output)) != MCO_OK) goto fail;

    report.train_count = train.n;
    report.val_count = val.n;
    report.test_count = test.n;
    report.params = mco_model_param_count(&student);
    report.macs = (unsigned long long)mco_model_macs(&student);
    job.arch = student.arch_name;
    size_t teacher_params = mco_model_param_count(teacher_arch(&teacher));
    if (json) {
        cJSON *o = cli_train_report_json(&job, &report);
        cJSON_AddStringToObject(o, "teacher", teacher_path);
        cJSON_AddNumberToObject(o, "teacher_parameters", (double)teacher_params);
        cJSON_AddNumberToObject(o, "teacher_test_accuracy", teacher_accuracy);
        cJSON_AddNumberToObject(o, "alpha", dopt.alpha);
        cJSON_AddNumberToObject(o, "temperature", dopt.temperature);
        cJSON_AddStringToObject(o, "output", output);
        cli_print_json(o);
    } else {
        cli_train_report_print(&job, &report, stdout);
        printf("teacher %s: %zu parameters, test accuracy %.2f %% (student: %.2f %%, %.1fx fewer parameters)\n",
               teacher_path, teacher_params, teacher_accuracy * 100.0, report.test.accuracy * 100.0,
               report.params ? (double)teacher_params / (double)report.params : 0.0);
        printf("saved %s\n", output);
    }
    exit_code = CLI_EXIT_OK;
    goto done;
fail:
    exit_code = cli_fail(st);
done:
    mco_eval_result_free(&report.test);
    free(logits);
    mco_model_free(&student);
    mco_dataset_free(&train);
    mco_dataset_free(&val);
    mco_dataset_free(&test);
    teacher_free(&teacher);
    return exit_code;
}
