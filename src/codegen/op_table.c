/*
 * op_table.c - the table of op descriptors, indexed by mco_op_kind, made
 * from the MCO_OP_KINDS list of mcuopt/op.h (each descriptor is defined in
 * its family's op_<family>.c), and the lookups by kind and by name.
 *
 * What it leaves out: choosing among the kinds (plan.c) and what each one
 * does (its descriptor).
 */
#include <stddef.h>
#include <string.h>

#include "op_desc.h"

static const mco_op_desc *const table[MCO_OP_KIND_COUNT] = {
#define MCO_OP_ENTRY_(name, desc) [MCO_OP_##name] = &mco_op_##desc,
    MCO_OP_KINDS(MCO_OP_ENTRY_)
#undef MCO_OP_ENTRY_
};

_Static_assert(sizeof table / sizeof table[0] == MCO_OP_KIND_COUNT, "the op table must list every mco_op_kind");

const mco_op_desc *mco_op_desc_of(int kind)
{
    return kind >= 0 && kind < MCO_OP_KIND_COUNT ? table[kind] : NULL;
}

const char *mco_op_kind_name(int kind)
{
    const mco_op_desc *d = mco_op_desc_of(kind);
    return d ? d->name : "UNKNOWN";
}

const char *mco_op_kernel_function(int kind)
{
    const mco_op_desc *d = mco_op_desc_of(kind);
    return d ? d->function : NULL;
}

int mco_op_kind_by_name(const char *name)
{
    for (int k = 0; name && k < MCO_OP_KIND_COUNT; k++)
        if (strcmp(table[k]->name, name) == 0) return k;
    return -1;
}
