/*
 * fuzz_target_profile.c - libFuzzer harness for the MCU profile loader
 * (mco_target_load on a path ending in .json: the input is written to a
 * temporary fuzz.json).
 *
 * A load must either succeed or fail with one error line; a loaded profile
 * has NUL-terminated strings and positive Flash, RAM and clock.
 *
 * What it leaves out: looking a profile up by name in the targets
 * directory, and listing the directory (mco_target_list: the same loader
 * per file).
 */
#include <string.h>

#include "fuzz_util.h"
#include "mcuopt/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mco_target_profile t;
    mco_status st = mco_target_load(NULL, fuzz_write_temp("fuzz.json", data, size), &t);   /* no context: no firmware check */
    fuzz_check_status(st, "mco_target_load");
    if (st != MCO_OK) return 0;
    if (!memchr(t.name, 0, sizeof t.name) || !memchr(t.vendor, 0, sizeof t.vendor) ||
        !memchr(t.source, 0, sizeof t.source) || !memchr(t.qemu_machine, 0, sizeof t.qemu_machine))
        fuzz_fail("mco_target_load", "a string field is not terminated");
    if (!(t.clock_mhz > 0) || t.flash_kb <= 0 || t.ram_kb <= 0)
        fuzz_fail("mco_target_load", "clock, Flash or RAM not positive");
    return 0;
}
