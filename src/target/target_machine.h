/*
 * target_machine.h - what the target area checks about the QEMU machine a
 * profile runs on (private to src/target and its tests): that it has the
 * profile's memory (target_measure.c, called by target_profile.c when a
 * profile is loaded), its regions laid out for a measurement
 * (target_layout.c), and, for Cortex-M0/M0+ code run on a larger ARMv7-M
 * machine, that only ARMv6-M instructions ran (target_isa.c).
 *
 * What it leaves out: running the tools and QEMU (mcuopt/process.h,
 * mcuopt/target.h) and the cycle estimate (mcuopt/target_cycles.h).
 */
#ifndef MCO_TARGET_MACHINE_H
#define MCO_TARGET_MACHINE_H

#include <stddef.h>
#include <stdint.h>

#include "mcuopt/context.h"
#include "mcuopt/status.h"
#include "mcuopt/target.h"
#include "mcuopt/target_cycles.h"

/* Checks that the FLASH and RAM regions of the linker script of the
 * profile's QEMU machine (ld/<machine>.ld in the context's firmware
 * directory) are at least the profile's Flash and RAM, so every model that
 * fits the profile can run there; MCO_OK if the context has no firmware
 * directory, the profile has no machine or the script is missing
 * (measuring reports those). */
mco_status mco_target_check_memory(const mco_context *ctx, const mco_target_profile *t);

/* The ORIGIN and LENGTH (bytes) of memory region `region` ("FLASH",
 * "RAM") in a linker script of ours, one region a line
 * ("    RAM (rwx)  : ORIGIN = 0x20000000, LENGTH = 16K"); 0 if absent. */
int mco_ld_region(const char *script, const char *region, uint64_t *origin, size_t *length);

/* Writes to `out_ld` the linker script of a measurement build of profile t
 * (several RAM regions) on the machine whose script is `machine_ld`: its
 * FLASH, then t's regions one after the other from the machine's RAM
 * origin (the default region as RAM, every other one with an output section
 * for its "section"), then INCLUDE mco_sections.ld (target_layout.c). Puts
 * one line saying where each region is into `layout`. */
mco_status mco_target_write_layout(const mco_target_profile *t, const char *machine_ld, const char *out_ld,
                                   char *layout, size_t layout_size);

/* Checks that every executed address (count 0 included: run outside the
 * measured calls) is an ARMv6-M instruction in `disasm`, the output of
 * `arm-none-eabi-objdump -d` (raw bytes shown) of the image that ran on QEMU
 * machine `machine` (for the message). Fails with one line naming the first
 * offending instruction. */
mco_status mco_check_armv6m(const char *disasm, const mco_insn_count *executed, size_t n_executed,
                            const char *machine);

#endif
