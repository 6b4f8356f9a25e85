/*
 * fuzz_util.c - the harnesses' shared helpers (see fuzz_util.h).
 *
 * The temporary directory is made once per process with mkdtemp and emptied
 * and removed from an atexit handler (libFuzzer exits through exit() when a
 * run ends; after a crash the directory is left for the crash's analysis).
 *
 * What it leaves out: subdirectories in the temporary directory (no harness
 * needs them).
 */
#include "fuzz_util.h"

#include "mcuopt/codegen.h"
#include "mcuopt/model_file.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char temp_dir[512];

static void remove_temp_dir(void)
{
    DIR *d = opendir(temp_dir);
    if (!d) return;
    struct dirent *e;
    char path[1024];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", temp_dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(temp_dir);
}

static const char *base_dir(void)
{
    const char *env = getenv("TMPDIR");
    if (env && env[0]) return env;
    struct stat st;
    if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0) return "/dev/shm";
    return "/tmp";
}

const char *fuzz_temp_path(const char *name)
{
    if (!temp_dir[0]) {
        snprintf(temp_dir, sizeof temp_dir, "%s/mco-fuzz.XXXXXX", base_dir());
        if (!mkdtemp(temp_dir)) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(remove_temp_dir);
    }
    static char path[1024];
    snprintf(path, sizeof path, "%s/%s", temp_dir, name);
    return path;
}

const char *fuzz_write_temp(const char *name, const uint8_t *data, size_t size)
{
    const char *path = fuzz_temp_path(name);
    FILE *f = fopen(path, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror(path);
        abort();
    }
    return path;
}

void fuzz_remove_temp(const char *name)
{
    unlink(fuzz_temp_path(name));
}

/* A malloc'd copy of a temporary file's bytes; aborts if it cannot be read. */
static uint8_t *read_temp(const char *name, size_t *size)
{
    const char *path = fuzz_temp_path(name);
    FILE *f = fopen(path, "rb");
    if (!f) fuzz_fail(path, "cannot open");
    size_t cap = 4096, used = 0;
    uint8_t *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + used, 1, cap - used, f)) > 0;) {
        used += got;
        if (used == cap) buf = realloc(buf, cap *= 2);
    }
    if (!buf || ferror(f)) fuzz_fail(path, "cannot read");
    fclose(f);
    *size = used;
    return buf;
}

int fuzz_same_temp_files(const char *name_a, const char *name_b)
{
    size_t size_a, size_b;
    uint8_t *a = read_temp(name_a, &size_a), *b = read_temp(name_b, &size_b);
    int same = size_a == size_b && memcmp(a, b, size_a) == 0;
    free(a);
    free(b);
    return same;
}

char *fuzz_text(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text) abort();
    if (size) memcpy(text, data, size);
    text[size] = '\0';
    return text;
}

void fuzz_fail(const char *what, const char *why)
{
    fprintf(stderr, "fuzz: %s: %s\n", what, why);
    abort();
}

void fuzz_check_status(mco_status st, const char *what)
{
    if (st != MCO_OK) {
        const char *msg = mco_last_error();
        if (!msg[0]) fuzz_fail(what, "failed without an error message");
        for (const char *c = msg; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f) {
                fprintf(stderr, "fuzz: %s: error message holds control character 0x%02x:\n%s\n", what,
                        (unsigned char)*c, msg);
                abort();
            }
    }
    mco_clear_error();
}

void fuzz_check_model(const mco_model *m, const char *what)
{
    if (m->n_layers < 1 || m->n_layers > MCO_MAX_LAYERS) fuzz_fail(what, "layer count out of range");
    for (int i = 0; i < m->n_layers; i++) {
        const mco_layer *l = &m->layers[i];
        if (l->n_params < 0 || l->n_params > MCO_MAX_PARAMS) fuzz_fail(what, "parameter count out of range");
        for (int p = 0; p < l->n_params; p++) {
            const mco_param *param = &l->params[p];
            if (param->ndim < 1 || param->ndim > 4) fuzz_fail(what, "parameter rank out of range");
            long double product = 1;
            for (int d = 0; d < param->ndim; d++) {
                if (param->dims[d] < 1) fuzz_fail(what, "parameter dimension below 1");
                product *= param->dims[d];
            }
            if (product != (long double)param->size) {
                fprintf(stderr, "fuzz: %s: layer %d (%s) parameter %d: size %zu, product of dims %.0Lf\n", what,
                        i, l->name, p, param->size, product);
                abort();
            }
        }
    }
}

void fuzz_check_model_round_trip(const mco_model *m)
{
    uint8_t *first = NULL, *second = NULL;
    size_t first_size = 0, second_size = 0;
    if (mco_model_serialize(m, &first, &first_size) != MCO_OK)
        fuzz_fail("a model that loaded does not serialize", mco_last_error());
    mco_model again;
    if (mco_model_deserialize(first, first_size, "saved", &again) != MCO_OK)
        fuzz_fail("a saved model does not load back", mco_last_error());
    if (mco_model_serialize(&again, &second, &second_size) != MCO_OK)
        fuzz_fail("a reloaded model does not serialize", mco_last_error());
    if (first_size != second_size || memcmp(first, second, first_size) != 0)
        fuzz_fail("model round trip", "saving the reloaded model gives other bytes");
    free(first);
    free(second);
    mco_model_free(&again);
}

#define RUN_MAX_ARENA ((uint32_t)1 << 20)   /* run only plans that are cheap to run */

void fuzz_check_imported_deploy(const mco_deploy_model *dm)
{
    mco_plan plan;
    mco_status st = mco_plan_build(dm, NULL, &plan);
    fuzz_check_status(st, "mco_plan_build");
    mco_plan_free(&plan);
    if (st != MCO_OK) return;
    if (mco_deploy_save(dm, fuzz_temp_path("imported.mcq")) != MCO_OK)
        fuzz_fail("an imported deploy model that plans does not save", mco_last_error());
    mco_deploy_model loaded;
    if (mco_deploy_load(fuzz_temp_path("imported.mcq"), &loaded) != MCO_OK)
        fuzz_fail("an imported deploy model does not load back", mco_last_error());
    fuzz_plan_and_run(&loaded);
    mco_deploy_free(&loaded);
}

void fuzz_plan_and_run(const mco_deploy_model *dm)
{
    mco_plan plan;
    mco_status st = mco_plan_build(dm, NULL, &plan);
    fuzz_check_status(st, "mco_plan_build");
    if (st == MCO_OK && plan.arena_size <= RUN_MAX_ARENA) {
        size_t raw_size = mco_shape_size(dm->model.input_shape);
        uint8_t *raw = malloc(raw_size);
        if (!raw) abort();
        memset(raw, 255, raw_size);
        fuzz_check_status(mco_deploy_predict_raw(dm, &plan, raw, 1, NULL, NULL), "mco_deploy_predict_raw");
        free(raw);
    }
    mco_plan_free(&plan);
}
