/*
 * fuzz_target_profile.c - libFuzzer harness for the MCU profile loader
 * (mco_target_load on a path ending in .json: the input is written to a
 * temporary fuzz.json).
 *
 * A load must either succeed or fail with one error line; a loaded profile
 * has NUL-terminated strings and positive Flash, RAM and clock, 1 to
 * MCO_TARGET_MAX_REGIONS RAM regions adding up to its RAM, exactly one of
 * them the default (section ""), and placing the whole RAM as static data
 * succeeds exactly when one region holds it all.
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
    if (t.n_ram_regions < 1 || t.n_ram_regions > MCO_TARGET_MAX_REGIONS)
        fuzz_fail("mco_target_load", "RAM region count out of range");
    int total = 0, defaults = 0;
    for (int i = 0; i < t.n_ram_regions; i++) {
        const mco_ram_region *r = &t.ram_regions[i];
        if (!memchr(r->name, 0, sizeof r->name) || !memchr(r->section, 0, sizeof r->section))
            fuzz_fail("mco_target_load", "a region string is not terminated");
        if (r->kb < 1) fuzz_fail("mco_target_load", "a region of no size");
        total += r->kb;
        defaults += r->section[0] == '\0';
    }
    if (total != t.ram_kb || defaults != 1) fuzz_fail("mco_target_load", "regions do not add up or no single default");
    mco_ram_placement pl;
    int placed = mco_target_place_ram(&t, (size_t)t.ram_kb * 1024, 0, &pl);
    if (placed != (t.n_ram_regions == 1) || (!placed && !pl.why[0]))
        fuzz_fail("mco_target_place_ram", "placing the whole RAM disagrees with the region count");
    return 0;
}
