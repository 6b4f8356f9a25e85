/*
 * mco_op_config.h - which op kinds mco_op.c compiles. The host build (the
 * evaluator of deploy models) enables all of them. Emitted model code does
 * not use mco_op.c: its model_run() calls the kernels directly.
 */
#ifndef MCO_OP_CONFIG_H
#define MCO_OP_CONFIG_H

#define MCO_OP_USE_ALL 1

#endif
