/*
 * pipeline_internal.h - the stage table of the compression pipeline, shared
 * by the parser (pipeline_parse.c: text -> checked mco_stage, and each
 * kind's parameters -> its typed config) and the runner (pipeline.c: one run
 * function per kind).
 *
 * Adding a stage kind: a config struct in stage_config, a parse function in
 * pipeline_parse.c, a run function and one stage_kind entry in pipeline.c.
 *
 * What it leaves out: stage kinds registered at run time (the table is
 * static).
 */
#ifndef MCO_COMPRESS_PIPELINE_INTERNAL_H
#define MCO_COMPRESS_PIPELINE_INTERNAL_H

#include "mcuopt/deploy.h"
#include "mcuopt/pipeline.h"
#include "mcuopt/prune.h"
#include "mcuopt/prune_structured.h"

/* Training inside a stage: a negative / zero value means "not given" (the
 * pipeline's base training options then apply). */
typedef struct {
    int epochs;     /* -1: not given */
    float lr;       /* 0: not given */
} stage_training;

typedef struct {
    int structured;                       /* 1: structured=R, 0: sparsity=S */
    float amount;                         /* the sparsity or the channel ratio */
    mco_importance_criterion criterion;   /* structured */
    int samples;                          /* structured: images for apoz / mean-activation */
    int min_channels;                     /* structured */
    mco_prune_schedule schedule;          /* unstructured: target_sparsity = amount */
    int global;                           /* unstructured: one threshold over all layers */
    stage_training train;                 /* fine-tuning inside the stage (default: none) */
} prune_config;

typedef struct {
    float temperature;
    float alpha;
    char teacher[MCO_STAGE_VALUE_MAX];    /* "" : the pipeline's input model */
    stage_training train;
} distill_config;

typedef struct {
    mco_quant_options options;
} quant_config;

typedef struct {
    stage_training train;
    float ema_decay;                      /* mco_qat_config */
    float freeze_fraction;
} qat_config;

typedef union {
    prune_config prune;
    distill_config distill;
    stage_training train;                 /* finetune */
    qat_config qat;
    quant_config quant;
} stage_config;

typedef struct pipeline_state pipeline_state;

typedef struct {
    const char *name;
    const char *summary;
    const char *keys;          /* the keys it knows, for error messages */
    int makes_deploy;          /* 1: produces a deploy model, so nothing may follow it */
    mco_status (*parse)(const mco_stage *stage, stage_config *config);
    mco_status (*run)(pipeline_state *state, const stage_config *config);
} stage_kind;

/* The table entry of a kind, or NULL (pipeline.c). */
const stage_kind *mco_stage_kind_find(const char *name);
/* Writes "prune, distill, ..." into buf (pipeline.c). */
void mco_stage_kind_list(char *buf, size_t size);

/* Per-kind parameter parsers (pipeline_parse.c). */
mco_status mco_stage_parse_prune(const mco_stage *stage, stage_config *config);
mco_status mco_stage_parse_distill(const mco_stage *stage, stage_config *config);
mco_status mco_stage_parse_training(const mco_stage *stage, stage_config *config);
mco_status mco_stage_parse_qat(const mco_stage *stage, stage_config *config);
mco_status mco_stage_parse_quant(const mco_stage *stage, stage_config *config);

/* "where: stage N (kind): " + message, as the status's message. */
mco_status mco_stage_error(const mco_stage *stage, mco_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

#endif
