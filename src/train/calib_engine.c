/*
 * calib_engine.c - the training engine as quantization's calibration
 * forward (mco_train_calib_engine, see mcuopt/calibrate.h and train.h):
 * one inference workspace (net.h) with every layer writing its own output
 * (MCO_NET_ALL_OUTPUTS), so Conv2D, DepthwiseConv2D and Dense run on oneDNN
 * a batch at a time instead of calibrate.c's plain one-image loops.
 *
 * What it leaves out: threads (the workspace runs on the calling thread,
 * as calibration always has).
 */
#include <stdlib.h>
#include <string.h>

#include "mcuopt/calibrate.h"
#include "mcuopt/train.h"
#include "net.h"

static mco_status engine_open(const mco_model *model, int max_batch, void **state)
{
    mco_net *net = calloc(1, sizeof(*net));
    *state = NULL;
    if (!net)
        return mco_error(MCO_ERR_NOMEM, "calibration: out of memory");
    mco_status st = mco_net_init(net, model, max_batch, MCO_NET_ALL_OUTPUTS);
    if (st != MCO_OK) {
        free(net);
        return st;
    }
    *state = net;
    return MCO_OK;
}

static mco_status engine_run(void *state, const float *inputs, int batch, float *const **outputs)
{
    mco_net *net = state;
    if (batch < 1 || batch > net->max_batch)
        return mco_error(MCO_ERR_ARG, "calibration: batch %d outside 1..%d", batch, net->max_batch);
    memcpy(net->input, inputs, (size_t)batch * mco_shape_size(net->model->input_shape) * sizeof(float));
    mco_net_forward(net, batch, 0);
    *outputs = net->act;
    return MCO_OK;
}

static void engine_close(void *state)
{
    mco_net *net = state;
    if (net)
        mco_net_free(net);
    free(net);
}

const mco_calib_engine mco_train_calib_engine = {engine_open, engine_run, engine_close};
