/*
 * auc.c - the area under the ROC curve of anomaly scores, and the summary
 * of a reconstruction model's evaluation (mean error and AUC) that the float
 * evaluator (evaluate.c) and the deployed-model evaluator (codegen's
 * plan_eval.c) share.
 *
 * The AUC is computed exactly from ranks (the Mann-Whitney U statistic): the
 * scores are sorted once, and each group of equal scores counts its
 * anomalous samples as above every normal sample of lower score and level
 * (one half) with the normal samples of the same score.
 *
 * A data set whose samples are windows of recordings (data->groups: a
 * machine sound's clip) is scored per recording, as DCASE and MLPerf Tiny
 * score anomaly detection: each recording's score is the mean error of its
 * samples, its label theirs.
 *
 * What it leaves out: weighted samples, partial AUC, confidence intervals.
 */
#include <math.h>
#include <stdlib.h>

#include "mcuopt/train.h"

typedef struct {
    double score;
    uint8_t label;
} scored;

static int by_score(const void *a, const void *b)
{
    double x = ((const scored *)a)->score, y = ((const scored *)b)->score;
    return (x > y) - (x < y);
}

mco_status mco_auc(const double *scores, const uint8_t *labels, int n, double *auc)
{
    *auc = -1.0;
    if (n < 0 || (n > 0 && (!scores || !labels))) return mco_error(MCO_ERR_ARG, "auc: bad arguments");
    double n0 = 0.0, n1 = 0.0;
    for (int i = 0; i < n; i++) {
        if (labels[i] > 1)
            return mco_error(MCO_ERR_ARG, "auc: label %d of sample %d is neither 0 (normal) nor 1 (anomalous)",
                             labels[i], i);
        if (!isfinite(scores[i])) return mco_error(MCO_ERR_RANGE, "auc: the score of sample %d is not finite", i);
        if (labels[i]) n1 += 1.0;
        else n0 += 1.0;
    }
    if (n0 == 0.0 || n1 == 0.0)
        return mco_error(MCO_ERR_ARG, "auc: needs normal (0) and anomalous (1) samples, got %.0f and %.0f", n0, n1);
    scored *v = malloc((size_t)n * sizeof *v);
    if (!v) return mco_error(MCO_ERR_NOMEM, "auc: out of memory");
    for (int i = 0; i < n; i++) v[i] = (scored){scores[i], labels[i]};
    qsort(v, (size_t)n, sizeof *v, by_score);
    double u = 0.0, normals_below = 0.0;
    for (int i = 0; i < n;) {
        double group_normal = 0.0, group_anomalous = 0.0;
        int j = i;
        for (; j < n && v[j].score == v[i].score; j++) {
            if (v[j].label) group_anomalous += 1.0;
            else group_normal += 1.0;
        }
        u += group_anomalous * (normals_below + 0.5 * group_normal);
        normals_below += group_normal;
        i = j;
    }
    free(v);
    *auc = u / (n0 * n1);
    return MCO_OK;
}

/* The AUC over data's groups (recordings): each scored by its samples' mean
 * error. A group whose samples disagree on the label is an error. */
static mco_status group_auc(const mco_dataset *data, const double *errors, double *auc)
{
    int n_groups = 0;
    for (int i = 0; i < data->n; i++) {
        if (data->groups[i] < 0 || data->groups[i] >= data->n)
            return mco_error(MCO_ERR_ARG, "auc: group %d of sample %d is outside 0..%d", data->groups[i], i,
                             data->n - 1);
        if (data->groups[i] >= n_groups) n_groups = data->groups[i] + 1;
    }
    double *score = calloc((size_t)n_groups, sizeof *score);
    int *count = calloc((size_t)n_groups, sizeof *count);
    uint8_t *label = malloc((size_t)n_groups);
    mco_status st = score && count && label ? MCO_OK : mco_error(MCO_ERR_NOMEM, "auc: out of memory");
    for (int i = 0; st == MCO_OK && i < data->n; i++) {
        int g = data->groups[i];
        if (count[g] && label[g] != data->labels[i])
            st = mco_error(MCO_ERR_ARG, "auc: recording %d holds both normal and anomalous samples", g);
        score[g] += errors[i];
        label[g] = data->labels[i];
        count[g]++;
    }
    int used = 0;   /* the groups a subset (a validation split) holds, packed to the front */
    for (int g = 0; st == MCO_OK && g < n_groups; g++)
        if (count[g]) {
            score[used] = score[g] / count[g];
            label[used++] = label[g];
        }
    if (st == MCO_OK) st = mco_auc(score, label, used, auc);
    free(score);
    free(count);
    free(label);
    return st;
}

mco_status mco_eval_reconstruction_summary(const mco_dataset *data, const double *errors, mco_eval_result *r)
{
    r->kind = MCO_LOSS_MSE;
    r->n = data->n;
    r->n_classes = 0;
    r->correct = 0;
    r->accuracy = 0.0;
    r->auc = -1.0;
    double sum = 0.0;
    int kinds[2] = {0, 0};
    for (int i = 0; i < data->n; i++) {
        sum += errors[i];
        if (data->labels) kinds[data->labels[i] ? 1 : 0]++;
    }
    r->loss = data->n ? sum / data->n : 0.0;
    if (!data->labels || kinds[0] == 0 || kinds[1] == 0) return MCO_OK;
    if (!data->groups) return mco_auc(errors, data->labels, data->n, &r->auc);
    return group_auc(data, errors, &r->auc);
}

double mco_eval_quality(const mco_eval_result *r)
{
    return r->kind == MCO_LOSS_MSE ? r->auc : r->accuracy;
}
