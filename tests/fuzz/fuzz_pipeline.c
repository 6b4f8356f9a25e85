/*
 * fuzz_pipeline.c - libFuzzer harness for the compression pipeline parser:
 * the same input as a --stages string (mco_pipeline_parse, up to its first
 * NUL byte) and as a pipeline config file (mco_pipeline_load, which refuses
 * NUL bytes).
 *
 * Each must either succeed or fail with one error line; a parsed pipeline
 * has 1..MCO_PIPELINE_MAX_STAGES stages with NUL-terminated texts, and the
 * file form gives the same stages as the string form when the input holds
 * no NUL byte.
 *
 * What it leaves out: running the stages.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "mcuopt/pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_pipeline(const mco_pipeline *p, const char *what)
{
    if (p->n_stages < 1 || p->n_stages > MCO_PIPELINE_MAX_STAGES) fuzz_fail(what, "stage count out of range");
    for (int i = 0; i < p->n_stages; i++) {
        const mco_stage *s = &p->stages[i];
        if (!memchr(s->kind, 0, sizeof s->kind) || !memchr(s->text, 0, sizeof s->text) ||
            !memchr(s->where, 0, sizeof s->where) || s->n_params < 0 || s->n_params > MCO_STAGE_MAX_PARAMS)
            fuzz_fail(what, "a stage is malformed");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size);
    /* both are large (16 stages of 12 parameters): keep them off the stack */
    mco_pipeline *from_text = malloc(sizeof *from_text), *from_file = malloc(sizeof *from_file);
    if (!from_text || !from_file) abort();
    mco_status st_text = mco_pipeline_parse(text, "--stages", from_text);
    fuzz_check_status(st_text, "mco_pipeline_parse");
    if (st_text == MCO_OK) check_pipeline(from_text, "mco_pipeline_parse");

    mco_status st_file = mco_pipeline_load(fuzz_write_temp("fuzz.pipeline", data, size), from_file);
    fuzz_check_status(st_file, "mco_pipeline_load");
    if (st_file == MCO_OK) check_pipeline(from_file, "mco_pipeline_load");

    if (strlen(text) == size) {
        if ((st_text == MCO_OK) != (st_file == MCO_OK) ||
            (st_text == MCO_OK && from_text->n_stages != from_file->n_stages))
            fuzz_fail("pipeline", "the string and the file form disagree");
        for (int i = 0; st_text == MCO_OK && i < from_text->n_stages; i++)
            if (strcmp(from_text->stages[i].text, from_file->stages[i].text) != 0)
                fuzz_fail("pipeline", "the string and the file form give other stages");
    }
    free(from_text);
    free(from_file);
    free(text);
    return 0;
}
