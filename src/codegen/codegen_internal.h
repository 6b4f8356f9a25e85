/*
 * codegen_internal.h - what the files of src/codegen/ share: the table of
 * op kinds (names, the runtime function each calls). Not a public interface.
 */
#ifndef MCO_CODEGEN_INTERNAL_H
#define MCO_CODEGEN_INTERNAL_H

/* "mco_conv2d_s8" for MCO_OP_CONV2D_S8: the runtime function the kind calls
 * (the code generator looks for the file that defines it). */
const char *mco_op_kernel_function(int kind);

#endif
