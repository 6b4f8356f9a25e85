/*
 * mco_op_config.h - which op kinds mco_op.c compiles. This host copy enables
 * all of them; the code generator writes a model's own copy, which defines
 * MCO_OP_USE_<KIND> only for the kinds that model uses.
 */
#ifndef MCO_OP_CONFIG_H
#define MCO_OP_CONFIG_H

#define MCO_OP_USE_ALL 1

#endif
