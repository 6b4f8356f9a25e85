/*
 * test_context.c - the library context (mcuopt/context.h) and the calls
 * that take one:
 *   - a new context has no resources; mco_context_set_root lays out the
 *     four resources under one root; one resource can be set or unset alone;
 *   - mco_context_require names the missing resource and the call;
 *   - the temporary directory: $TMPDIR (or /tmp) by default, the context's
 *     own when set, and mco_context_make_temp_dir makes a fresh private
 *     directory in it;
 *   - threads: a set count, or the online processors;
 *   - the log sink gets formatted lines with their level;
 *   - the library uses the context's places: target lookup in its targets
 *     directory, emit reading its runtime directory (a missing one fails
 *     naming it), the measurement reading its firmware directory and
 *     creating its work directory in its temporary directory.
 *
 * What it leaves out: measuring on QEMU (test_target_measure checks the
 * log and the temporary directory of a real measurement).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mcuopt/codegen.h"
#include "mcuopt/context.h"
#include "mcuopt/resource_calibration.h"
#include "mcuopt/target.h"
#include "test_util.h"

typedef struct {
    int n;
    mco_log_level level[4];
    char line[4][128];
} log_capture;

static void capture_line(void *user, mco_log_level level, const char *line)
{
    log_capture *c = user;
    if (c->n < 4) {
        c->level[c->n] = level;
        snprintf(c->line[c->n], sizeof c->line[c->n], "%s", line);
    }
    c->n++;
}

static void test_resources(void)
{
    mco_context *ctx;
    CHECK_OK(mco_context_create(&ctx));
    for (int r = 0; r < MCO_RESOURCE_COUNT; r++) CHECK(mco_context_resource(ctx, (mco_resource)r) == NULL);
    CHECK(mco_context_resource(NULL, MCO_RESOURCE_TARGETS) == NULL);

    const char *path = "x";
    CHECK(mco_context_require(ctx, MCO_RESOURCE_FIRMWARE, "measure", &path) == MCO_ERR_NOT_FOUND);
    CHECK(path == NULL);
    CHECK(strstr(mco_last_error(), "measure") && strstr(mco_last_error(), "no firmware directory"));
    CHECK(mco_context_require(NULL, MCO_RESOURCE_COST_MODEL, "estimate", &path) == MCO_ERR_NOT_FOUND);
    CHECK(strstr(mco_last_error(), "no cost-model file") && strstr(mco_last_error(), "no context"));

    CHECK_OK(mco_context_set_root(ctx, "/opt/mco/share/mcuopt"));
    CHECK(strcmp(mco_context_resource(ctx, MCO_RESOURCE_TARGETS), "/opt/mco/share/mcuopt/targets") == 0);
    CHECK(strcmp(mco_context_resource(ctx, MCO_RESOURCE_RUNTIME), "/opt/mco/share/mcuopt/runtime") == 0);
    CHECK(strcmp(mco_context_resource(ctx, MCO_RESOURCE_FIRMWARE), "/opt/mco/share/mcuopt/firmware") == 0);
    CHECK(strcmp(mco_context_resource(ctx, MCO_RESOURCE_COST_MODEL),
                 "/opt/mco/share/mcuopt/targets/calibration/resource-model.json") == 0);
    CHECK(mco_context_resource(ctx, MCO_RESOURCE_DATA) == NULL);   /* not part of a root */
    CHECK_OK(mco_context_require(ctx, MCO_RESOURCE_RUNTIME, "emit", &path));
    CHECK(strcmp(path, "/opt/mco/share/mcuopt/runtime") == 0);

    CHECK_OK(mco_context_set_resource(ctx, MCO_RESOURCE_RUNTIME, "/elsewhere/runtime"));
    CHECK(strcmp(mco_context_resource(ctx, MCO_RESOURCE_RUNTIME), "/elsewhere/runtime") == 0);
    CHECK(strcmp(mco_context_resource(ctx, MCO_RESOURCE_TARGETS), "/opt/mco/share/mcuopt/targets") == 0);
    CHECK_OK(mco_context_set_resource(ctx, MCO_RESOURCE_RUNTIME, ""));
    CHECK(mco_context_resource(ctx, MCO_RESOURCE_RUNTIME) == NULL);
    CHECK(mco_context_set_root(ctx, "") == MCO_ERR_ARG);
    CHECK(mco_context_set_resource(ctx, MCO_RESOURCE_COUNT, "x") == MCO_ERR_ARG);
    CHECK(strcmp(mco_resource_name(MCO_RESOURCE_COST_MODEL), "cost-model") == 0);
    mco_context_free(ctx);
    mco_context_free(NULL);
}

static void test_temp_dir_threads_log(void)
{
    mco_context *ctx;
    CHECK_OK(mco_context_create(&ctx));
    char base[] = "/tmp/mco-test-context-XXXXXX";
    CHECK(mkdtemp(base) != NULL);

    /* default: $TMPDIR, else /tmp */
    CHECK(setenv("TMPDIR", base, 1) == 0);
    CHECK(strcmp(mco_context_temp_dir(ctx), base) == 0);
    CHECK(strcmp(mco_context_temp_dir(NULL), base) == 0);
    CHECK(unsetenv("TMPDIR") == 0);
    CHECK(strcmp(mco_context_temp_dir(ctx), "/tmp") == 0);

    /* the context's own, and fresh directories made in it */
    CHECK_OK(mco_context_set_temp_dir(ctx, base));
    CHECK(strcmp(mco_context_temp_dir(ctx), base) == 0);
    char made[4096];
    CHECK_OK(mco_context_make_temp_dir(ctx, "unit", made, sizeof made));
    char prefix[300];
    snprintf(prefix, sizeof prefix, "%s/mcuopt-unit-", base);
    CHECK(strncmp(made, prefix, strlen(prefix)) == 0);
    struct stat sb;
    CHECK(stat(made, &sb) == 0 && S_ISDIR(sb.st_mode) && (sb.st_mode & 077) == 0);
    CHECK(rmdir(made) == 0);
    char small[8];
    CHECK(mco_context_make_temp_dir(ctx, "unit", small, sizeof small) == MCO_ERR_ARG);
    CHECK_OK(mco_context_set_temp_dir(ctx, "/nonexistent-mco-dir"));
    CHECK(mco_context_make_temp_dir(ctx, "unit", made, sizeof made) == MCO_ERR_IO);
    CHECK(strstr(mco_last_error(), "/nonexistent-mco-dir") != NULL);
    CHECK_OK(mco_context_set_temp_dir(ctx, NULL));
    CHECK(strcmp(mco_context_temp_dir(ctx), "/tmp") == 0);
    CHECK(rmdir(base) == 0);

    /* threads */
    CHECK(mco_context_threads(ctx) >= 1);
    CHECK(mco_context_threads(ctx) == mco_context_threads(NULL));
    mco_context_set_threads(ctx, 3);
    CHECK(mco_context_threads(ctx) == 3);
    mco_context_set_threads(ctx, -5);
    CHECK(mco_context_threads(ctx) == mco_context_threads(NULL));

    /* the log sink */
    log_capture cap = {0};
    mco_context_log(ctx, MCO_LOG_INFO, "nobody listens %d", 1);   /* no sink: nothing happens */
    mco_context_set_log(ctx, capture_line, &cap);
    mco_context_log(ctx, MCO_LOG_INFO, "model %d of %d", 2, 7);
    mco_context_log(ctx, MCO_LOG_DEBUG, "running %s", "qemu");
    mco_context_log(NULL, MCO_LOG_INFO, "no context: nothing happens");
    CHECK(cap.n == 2);
    CHECK(cap.level[0] == MCO_LOG_INFO && strcmp(cap.line[0], "model 2 of 7") == 0);
    CHECK(cap.level[1] == MCO_LOG_DEBUG && strcmp(cap.line[1], "running qemu") == 0);
    mco_context_free(ctx);
}

/* The library reads the context's places: targets, runtime, firmware and
 * the temporary directory. */
static void test_library_uses_context(void)
{
    mco_context *ctx;
    CHECK_OK(mco_context_create(&ctx));
    mco_target_profile t;
    CHECK(mco_target_load(ctx, "stm32f405", &t) == MCO_ERR_NOT_FOUND);
    CHECK_OK(mco_context_set_root(ctx, "."));   /* tests run at the repository root */
    CHECK_OK(mco_target_load(ctx, "stm32f405", &t));
    CHECK(strcmp(t.path, "./targets/stm32f405.json") == 0);

    /* emit: the runtime comes from the context's runtime directory */
    mco_deploy_model dm;
    CHECK_OK(mco_resource_random_model("mlp", "int8", 1u, &dm));
    mco_plan plan;
    CHECK_OK(mco_plan_build(&dm, NULL, &plan));
    char out[] = "/tmp/mco-test-context-emit-XXXXXX";
    CHECK(mkdtemp(out) != NULL);
    mco_emit_options eo;
    mco_emit_options_default(&eo);
    eo.measure = 0;
    mco_emit_result er;
    CHECK(mco_emit_c_with(&dm, &plan, out, &eo, &er) == MCO_ERR_NOT_FOUND);   /* no context */
    CHECK(strstr(mco_last_error(), "no runtime directory") != NULL);
    CHECK_OK(mco_context_set_resource(ctx, MCO_RESOURCE_RUNTIME, "/nonexistent-mco-runtime"));
    eo.ctx = ctx;
    CHECK(mco_emit_c_with(&dm, &plan, out, &eo, &er) == MCO_ERR_NOT_FOUND);
    CHECK(strstr(mco_last_error(), "/nonexistent-mco-runtime") != NULL);
    CHECK_OK(mco_context_set_resource(ctx, MCO_RESOURCE_RUNTIME, "runtime"));
    CHECK_OK(mco_emit_c(ctx, &dm, &plan, out, &er));
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
    CHECK(system(cmd) == 0);

    /* measure: the firmware from the context, the work directory made in
     * its temporary directory (checked here by one that cannot be made) */
    uint8_t in[784] = {0}, expected[10] = {0};
    mco_measure_request req = {.model_dir = "unused", .n_inputs = 1, .inputs = in, .input_bytes = sizeof in,
                               .expected = expected, .output_bytes = sizeof expected};
    mco_measure_result res;
    CHECK(mco_target_measure(&t, &req, &res) == MCO_ERR_NOT_FOUND);
    CHECK(strstr(mco_last_error(), "no firmware directory") != NULL);
    req.ctx = ctx;
    CHECK_OK(mco_context_set_temp_dir(ctx, "/nonexistent-mco-tmp"));
    CHECK(mco_target_measure(&t, &req, &res) == MCO_ERR_IO);
    CHECK(strstr(mco_last_error(), "/nonexistent-mco-tmp") != NULL);
    CHECK_OK(mco_context_set_resource(ctx, MCO_RESOURCE_FIRMWARE, "/nonexistent-mco-firmware"));
    CHECK(mco_target_measure(&t, &req, &res) == MCO_ERR_UNSUPPORTED);   /* no linker script there */
    CHECK(strstr(mco_last_error(), "/nonexistent-mco-firmware/ld/") != NULL);

    mco_plan_free(&plan);
    mco_deploy_free(&dm);
    mco_context_free(ctx);
}

int main(void)
{
    test_resources();
    test_temp_dir_threads_log();
    test_library_uses_context();
    TEST_MAIN_END();
}
