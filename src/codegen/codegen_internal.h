/*
 * codegen_internal.h - what the files of src/codegen/ share: the table of
 * op kinds (names, the runtime function each calls and how). Not a public
 * interface.
 */
#ifndef MCO_CODEGEN_INTERNAL_H
#define MCO_CODEGEN_INTERNAL_H

/* The argument list of a kind's kernel call, exactly as mco_op_run() in
 * runtime/mco_op.c passes it (P = the params struct, IN / IN2 / OUT the
 * activations, W / B the weights and bias): */
typedef enum {
    MCO_CALL_WEIGHTED = 0,    /* fn(&P, IN, W, B, OUT) */
    MCO_CALL_POOL,            /* fn(&P, IN, OUT) (pools, int8 softmax) */
    MCO_CALL_GLOBAL_POOL_F32, /* fn(P.in_h, P.in_w, P.in_c, IN, OUT) */
    MCO_CALL_GLOBAL_POOL_S8,  /* fn(P.win.in_h, P.win.in_w, P.win.in_c, P.act_min, P.act_max, IN, OUT) */
    MCO_CALL_CLAMP,           /* fn(OUT, P.size, P.act_min, P.act_max), in place */
    MCO_CALL_ADD_F32,         /* fn(IN, IN2, OUT, P.size, P.act_min, P.act_max) */
    MCO_CALL_ADD_S8,          /* fn(&P, IN, IN2, OUT) */
    MCO_CALL_SOFTMAX_F32      /* fn(IN, OUT, 1, P.size) */
} mco_op_call;

mco_op_call mco_op_kernel_call(int kind);

#endif
