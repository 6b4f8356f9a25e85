/*
 * measure_deploy.c - plan, emit and measure a deploy model on an emulated
 * target in one call (see measure.h).
 *
 * A model that cannot fit the target is refused before anything is built:
 * its parameters (Flash) and activation arena (static RAM) are exact lower
 * bounds known once the C is emitted. One that passes is built, run and
 * checked again with the measured sizes (code and stack added).
 */
#include "mcuopt/measure.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mcuopt/audio_frontend.h"
#include "mcuopt/context.h"
#include "mco_mfcc.h"
#include "mco_runtime.h"
#include "mcuopt/op.h"
#include "mcuopt/process.h"
#include "mcuopt/resource.h"

void mco_measure_options_default(mco_measure_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->n_samples = 100;
    opt->fuse_conv_pool = 1;
}

/* Fails with one line naming each memory that overflows the target and by
 * how much; `needs` is "needs" for measured sizes, "needs at least" for the
 * lower bounds checked before the build. RAM that fits the total but not
 * the target's regions (mco_target_place_ram) is refused with the
 * placement's reason. */
static mco_status check_fits(const mco_target_profile *t, const char *needs, size_t flash, const char *flash_what,
                             size_t static_ram, size_t stack, const char *ram_what)
{
    size_t flash_cap = (size_t)t->flash_kb * 1024, ram_cap = (size_t)t->ram_kb * 1024, ram = static_ram + stack;
    char flash_msg[160] = "", ram_msg[520] = "";
    if (flash > flash_cap)
        snprintf(flash_msg, sizeof flash_msg, "Flash %s %zu bytes (%s), %zu more than its %d KB", needs, flash,
                 flash_what, flash - flash_cap, t->flash_kb);
    mco_ram_placement pl;
    if (ram > ram_cap)
        snprintf(ram_msg, sizeof ram_msg, "RAM %s %zu bytes (%s), %zu more than its %d KB", needs, ram, ram_what,
                 ram - ram_cap, t->ram_kb);
    else if (!mco_target_place_ram(t, static_ram, stack, &pl))
        snprintf(ram_msg, sizeof ram_msg, "%s", pl.why);
    if (!flash_msg[0] && !ram_msg[0]) return MCO_OK;
    return mco_error(MCO_ERR_RANGE, "the model does not fit %s: %s%s%s", t->name, flash_msg,
                     flash_msg[0] && ram_msg[0] ? "; " : "", ram_msg);
}

/* The runtime's size of the code for the target: what emit measures with. */
static const char *emit_cpu_for(mco_core core)
{
    switch (core) {
    case MCO_CORE_M0:
    case MCO_CORE_M0PLUS: return "cortex-m0plus";
    case MCO_CORE_M3: return "cortex-m3";
    case MCO_CORE_M7: return "cortex-m7";
    default: return "cortex-m4";
    }
}

/* The host's outputs of n inputs given in the caller's type. */
static mco_status predict_inputs(const mco_plan *plan, const mco_plan_io *io, const void *given, int n,
                                 uint8_t *inputs, uint8_t *outputs)
{
    size_t arena_bytes = ((size_t)plan->arena_size + 15) & ~(size_t)15;
    uint8_t *arena = aligned_alloc(16, arena_bytes ? arena_bytes : 16);
    mco_status st = arena ? MCO_OK : mco_error(MCO_ERR_NOMEM, "out of memory");
    memcpy(inputs, given, (size_t)n * io->input_bytes);
    for (int s = 0; st == MCO_OK && s < n; s++)
        st = mco_plan_io_run(plan, io, arena, inputs + (size_t)s * io->input_bytes, outputs + (size_t)s * io->output_bytes);
    free(arena);
    return st;
}

/* The host's outputs of n PCM clips: the front-end's features (the
 * runtime's mco_mfcc_s16, as the audio reader computes them), converted to
 * the model input and run as a float input is (mco_plan_io_run), which is
 * what NAME_run_pcm does on the chip. */
static mco_status predict_pcm(const mco_deploy_model *dm, const mco_plan *plan, mco_io_type output_type,
                              const int16_t *pcm, int n, uint8_t *outputs, size_t output_bytes)
{
    mco_mfcc_params p;
    mco_plan_io io;
    mco_status st = mco_audio_frontend_params(&dm->model.frontend, &p);
    if (st == MCO_OK) st = mco_plan_io_init(dm, plan, MCO_IO_FLOAT, output_type, &io);
    if (st != MCO_OK) return st;
    if (io.output_bytes != output_bytes) return mco_error(MCO_ERR_ARG, "measure: the PCM run's output size differs");
    size_t arena_bytes = ((size_t)plan->arena_size + 15) & ~(size_t)15;
    uint8_t *arena = aligned_alloc(16, arena_bytes ? arena_bytes : 16);
    void *tables_buf = malloc((size_t)mco_mfcc_tables_get_buffer_size(&p));
    void *scratch = malloc((size_t)mco_mfcc_get_buffer_size(&p));
    float *features = malloc((size_t)plan->input_size * sizeof(float));
    mco_mfcc_tables tables;
    if (!arena || !tables_buf || !scratch || !features) st = mco_error(MCO_ERR_NOMEM, "out of memory");
    else if (mco_mfcc_tables_init(&p, tables_buf, &tables) != MCO_RT_OK)
        st = mco_error(MCO_ERR_ARG, "measure: the audio front-end refused its parameters");
    for (int i = 0; st == MCO_OK && i < n; i++) {
        if (mco_mfcc_s16(&p, &tables, pcm + (size_t)i * (size_t)p.n_samples, scratch, features) != MCO_RT_OK)
            st = mco_error(MCO_ERR_ARG, "measure: the audio front-end failed");
        else
            st = mco_plan_io_run(plan, &io, arena, features, outputs + (size_t)i * output_bytes);
    }
    free(arena);
    free(tables_buf);
    free(scratch);
    free(features);
    return st;
}

/* The second run of the emitted code in `dir`: model_run_pcm on the
 * caller's clips (see measure.h). */
static mco_status measure_pcm(const mco_deploy_model *dm, const mco_plan *plan, const mco_target_profile *target,
                              const mco_measure_options *opt, const mco_measure_request *base, const char *dir,
                              size_t model_flash)
{
    int n = opt->pcm_clips;
    if (!dm->model.has_frontend)
        return mco_error(MCO_ERR_ARG, "measure: PCM clips given, but \"%s\" has no audio front-end",
                         dm->model.arch_name);
    if (!opt->pcm_result || n < 1 || n > MCO_MEASURE_MAX_PCM_CLIPS)
        return mco_error(MCO_ERR_ARG, "measure: %d PCM clips (1..%d, with a result)", n, MCO_MEASURE_MAX_PCM_CLIPS);
    /* The clips are test vectors in the emulated Flash (at least the
     * profile's): as many as fit beside the model, with 64 KB to spare for
     * the front-end, the harness and libc. */
    size_t clip_bytes = (size_t)dm->model.frontend.clip_samples * sizeof(int16_t);
    size_t flash = (size_t)target->flash_kb * 1024, used = model_flash + (64u << 10);
    size_t room = flash > used ? (flash - used) / clip_bytes : 0;
    if (room < 1)
        return mco_error(MCO_ERR_RANGE, "measure: no room in %s's %d KB of Flash for a %zu-byte PCM clip beside the "
                         "model (%zu bytes)", target->name, target->flash_kb, clip_bytes, model_flash);
    if ((size_t)n > room) n = (int)room;
    uint8_t *expected = malloc((size_t)n * base->output_bytes);
    if (!expected) return mco_error(MCO_ERR_NOMEM, "out of memory");
    mco_status st = predict_pcm(dm, plan, opt->output_type, opt->pcm, n, expected, base->output_bytes);
    if (st == MCO_OK) {
        mco_measure_request req = *base;
        req.model_dir = dir;
        req.n_inputs = n;
        req.inputs = (const uint8_t *)opt->pcm;
        req.input_bytes = (size_t)dm->model.frontend.clip_samples * sizeof(int16_t);
        req.expected = expected;
        req.work_dir = NULL;
        req.actual = NULL;
        req.pcm = 1;
        st = mco_target_measure(target, &req, opt->pcm_result);
    }
    free(expected);
    return st;
}

mco_status mco_measure_deploy_model(const mco_deploy_model *dm, const mco_target_profile *target,
                                    const mco_dataset *samples, const mco_measure_options *opt,
                                    mco_measure_result *result)
{
    mco_shape s = samples->shape, m = dm->model.input_shape;
    if (s.h != m.h || s.w != m.w || s.c != m.c)
        return mco_error(MCO_ERR_SHAPE, "samples are %dx%dx%d but the model takes %dx%dx%d", s.h, s.w,
                         s.c, m.h, m.w, m.c);
    int n = opt->n_samples < samples->n ? opt->n_samples : samples->n;
    if (n < 1) return mco_error(MCO_ERR_ARG, "no samples to measure with");

    /* Kernels chosen by the given table, else by the context's. */
    mco_cost_model *own_table = NULL;
    mco_status st = MCO_OK;
    if (!opt->cost_model && opt->plan_goal != MCO_PLAN_LISTED) st = mco_cost_model_load_context(opt->ctx, &own_table);
    if (st != MCO_OK) return st;
    mco_plan_options po;
    mco_plan_options_default(&po);
    po.fuse_conv_pool = opt->fuse_conv_pool;
    po.goal = opt->plan_goal;
    po.cost_model = opt->cost_model ? opt->cost_model : own_table;
    po.core_class = mco_cost_class_name(target);
    mco_plan plan;
    st = mco_plan_build(dm, &po, &plan);
    mco_cost_model_free(own_table);   /* the plan keeps no pointer to it */
    if (st != MCO_OK) return st;

    /* The measured code goes to a temporary directory; the package in
     * code_dir is written (staged) only once the measurement succeeded. */
    char temp_dir[4096];
    const char *dir = temp_dir;
    st = mco_context_make_temp_dir(opt->ctx, "measure", temp_dir, sizeof temp_dir);
    if (st != MCO_OK) {
        mco_plan_free(&plan);
        return st;
    }
    mco_emit_options eo;
    mco_emit_options_default(&eo);
    eo.ctx = opt->ctx;
    eo.cpu = emit_cpu_for(target->core);
    eo.measure = 0; /* the target measurement reads the sizes from its own build */
    eo.input_type = opt->input_type;
    eo.output_type = opt->output_type;
    mco_plan_io io;
    st = mco_plan_io_init(dm, &plan, opt->input_type, opt->output_type, &io);
    mco_emit_result er;
    if (st == MCO_OK) st = mco_emit_c_with(dm, &plan, dir, &eo, &er);
    if (st == MCO_OK)
        st = check_fits(target, "needs at least", er.weight_bytes, "the parameters alone", er.arena_bytes, 0,
                        "the activation arena alone");

    uint8_t *inputs = NULL, *outputs = NULL;
    mco_output_dir measure_out;
    int have_measure_out = 0;
    if (st == MCO_OK) {
        inputs = malloc((size_t)n * io.input_bytes);
        outputs = malloc((size_t)n * io.output_bytes);
        if (!inputs || !outputs) st = mco_error(MCO_ERR_NOMEM, "out of memory");
    }
    if (st == MCO_OK && opt->inputs)
        st = predict_inputs(&plan, &io, opt->inputs, n, inputs, outputs);
    else if (st == MCO_OK)
        st = mco_deploy_predict_io(dm, &plan, &io, samples->sample_type, mco_dataset_sample(samples, 0), n, inputs,
                                   outputs);
    if (st == MCO_OK && opt->host_outputs) memcpy(opt->host_outputs, outputs, (size_t)n * io.output_bytes);
    if (st == MCO_OK) {
        mco_measure_request req;
        memset(&req, 0, sizeof req);
        req.ctx = opt->ctx;
        req.model_dir = dir;
        req.n_inputs = n;
        req.inputs = inputs;
        req.input_bytes = io.input_bytes;
        req.expected = outputs;
        req.output_bytes = io.output_bytes;
        req.clock_mhz = opt->clock_mhz;
        req.timeout_s = opt->timeout_s;
        req.cc = opt->cc;
        req.opt = opt->opt;
        req.work_dir = NULL;   /* a temporary one */
        req.actual = opt->target_outputs;
        /* The measurement build in measure_dir: staged like every output, so
         * a failed measurement leaves nothing and a non-directory is refused. */
        if (opt->measure_dir && (st = mco_output_dir_begin(&measure_out, opt->measure_dir)) == MCO_OK) {
            have_measure_out = 1;
            req.work_dir = measure_out.stage;
        }
        if (st == MCO_OK) st = mco_target_measure(target, &req, result);
        if (st == MCO_OK && opt->pcm) st = measure_pcm(dm, &plan, target, opt, &req, dir, result->flash_bytes);
    }
    if (st == MCO_OK && result->n_layers > 0 && result->n_layers != plan.n_ops)
        st = mco_error(MCO_ERR_FORMAT, "measure: %d layer marks in the firmware for %d ops", result->n_layers,
                       plan.n_ops);
    for (int k = 0; st == MCO_OK && k < result->n_layers; k++) {
        mco_layer_measure *l = &result->layers[k];
        const mco_plan_op_info *info = &plan.info[k];
        l->op_kind = (int)((const mco_op *)plan.ops)[k].kind;
        l->first_layer = info->first_layer;
        l->last_layer = info->last_layer;
        l->macs = 0;
        for (int i = info->first_layer; i <= info->last_layer; i++) l->macs += mco_layer_macs(&dm->model.layers[i]);
    }
    if (st == MCO_OK)
        st = check_fits(target, "needs", result->flash_bytes, "measured: parameters and code", result->static_ram_bytes,
                        result->stack_bytes, "measured: static data and stack");
    if (st == MCO_OK && opt->code_dir) {   /* the same code, with the measured stack in model.h */
        eo.measure = 1;
        eo.measured_stack_bytes = result->stack_bytes;
        if (opt->pcm && opt->pcm_result->stack_bytes > eo.measured_stack_bytes)   /* the deeper entry point */
            eo.measured_stack_bytes = opt->pcm_result->stack_bytes;
        st = mco_emit_c_with(dm, &plan, opt->code_dir, &eo, &er);
    }
    if (have_measure_out) {
        if (st == MCO_OK) st = mco_output_dir_commit(&measure_out);
        else mco_output_dir_abort(&measure_out);
    }
    free(inputs);
    free(outputs);
    mco_plan_free(&plan);
    mco_remove_tree(temp_dir);
    return st;
}
