/*
 * objective.c - what `mcuopt search` minimises (see search_driver.h):
 * feasibility against the accuracy floor and the target's limits, and the
 * cost of a deployed model as a weighted sum of log ratios to the starting
 * model's int8 deployment:
 *
 *   cost = 0.4 log(Flash / Flash0) + 0.2 log(RAM / RAM0)
 *        + 0.3 log(latency / latency0) + 0.1 log(energy / energy0)
 *
 * Logs make the terms scale-free (halving Flash is worth the same at 200 KB
 * as at 20 KB) and the weights say what matters most on a small MCU: Flash
 * first (it decides which part number fits), then speed; energy follows
 * latency on one core and clock, so it gets a small weight of its own.
 * The reference model scores 0; lower is better.
 *
 * What it leaves out: accuracy above the floor is not rewarded (any model
 * that meets the floor is judged by cost alone; the Pareto front in the
 * trial store keeps the accuracy/cost trade-off for the report).
 */
#include <math.h>
#include <stdio.h>

#include "mcuopt/search_driver.h"

void mco_search_objective_init(mco_search_objective *obj, const mco_target_profile *target,
                               const mco_search_resources *reference, double min_accuracy, double max_latency_ms)
{
    obj->w_flash = 0.4;
    obj->w_ram = 0.2;
    obj->w_latency = 0.3;
    obj->w_energy = 0.1;
    obj->reference = *reference;
    obj->min_accuracy = min_accuracy;
    obj->max_flash_bytes = target ? 1024.0 * target->flash_kb : 0.0;
    /* The search's RAM figure is static + stack in one number: it must fit
     * one region (mco_target_ram_block_bytes), stricter than the placement
     * by at most the stack. */
    obj->max_ram_bytes = target ? (double)mco_target_ram_block_bytes(target) : 0.0;
    obj->max_latency_ms = max_latency_ms;
}

int mco_search_fits(const mco_search_objective *obj, const mco_search_resources *r, char *why, size_t why_size)
{
    char dummy[MCO_TRIAL_ERROR_MAX];
    if (!why) {
        why = dummy;
        why_size = sizeof dummy;
    }
    if (obj->max_flash_bytes > 0 && !(r->flash_bytes <= obj->max_flash_bytes)) {
        snprintf(why, why_size, "Flash %.0f B is %.0f B over the target's %.0f B", r->flash_bytes,
                 r->flash_bytes - obj->max_flash_bytes, obj->max_flash_bytes);
        return 0;
    }
    if (obj->max_ram_bytes > 0 && !(r->ram_bytes <= obj->max_ram_bytes)) {
        snprintf(why, why_size, "RAM %.0f B is %.0f B over the target's %.0f B", r->ram_bytes,
                 r->ram_bytes - obj->max_ram_bytes, obj->max_ram_bytes);
        return 0;
    }
    if (obj->max_latency_ms > 0 && !(r->latency_ms <= obj->max_latency_ms)) {
        snprintf(why, why_size, "latency %.3f ms is %.3f ms over the %.3f ms limit", r->latency_ms,
                 r->latency_ms - obj->max_latency_ms, obj->max_latency_ms);
        return 0;
    }
    why[0] = '\0';
    return 1;
}

/* value / limit - 1 for one limit (0: none); an unknown value is infinitely over. */
static double over(double value, double limit)
{
    if (!(limit > 0)) return -INFINITY;
    return value >= 0 ? value / limit - 1.0 : INFINITY;
}

double mco_search_excess(const mco_search_objective *obj, const mco_search_resources *r)
{
    double e = over(r->flash_bytes, obj->max_flash_bytes);
    e = fmax(e, over(r->ram_bytes, obj->max_ram_bytes));
    e = fmax(e, over(r->latency_ms, obj->max_latency_ms));
    return isinf(e) && e < 0 ? 0.0 : e;
}

/* w * log(value / reference); an unknown or non-positive value adds nothing. */
static double term(double w, double value, double reference)
{
    if (!(value > 0.0) || !(reference > 0.0)) return 0.0;
    return w * log(value / reference);
}

double mco_search_cost(const mco_search_objective *obj, const mco_search_resources *r)
{
    const mco_search_resources *ref = &obj->reference;
    return term(obj->w_flash, r->flash_bytes, ref->flash_bytes) + term(obj->w_ram, r->ram_bytes, ref->ram_bytes) +
           term(obj->w_latency, r->latency_ms, ref->latency_ms) + term(obj->w_energy, r->energy_uj, ref->energy_uj);
}

void mco_search_score(const mco_search_objective *obj, double accuracy, const mco_search_resources *r,
                      double *score, int *feasible)
{
    int fits = mco_search_fits(obj, r, NULL, 0);
    int accurate = accuracy >= obj->min_accuracy;
    *feasible = fits && accurate;
    if (*feasible) {
        *score = mco_search_cost(obj, r);
    } else {
        double shortfall = accurate || !(accuracy >= 0.0) ? 0.0 : 1.0 - accuracy / obj->min_accuracy;
        if (!(accuracy >= 0.0)) shortfall = 1.0;
        *score = shortfall + (fits ? 0.0 : 1.0);
    }
}
