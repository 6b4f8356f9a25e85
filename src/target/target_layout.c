/*
 * target_layout.c - the memory layout of a measurement build: reading the
 * FLASH and RAM regions of a QEMU machine's linker script
 * (firmware/ld/<machine>.ld) and, for a profile with several RAM regions,
 * writing a linker script that has them, so the emulator runs the model in
 * the regions the chip has.
 *
 * The regions are laid out one after the other, in the profile's order,
 * from the ORIGIN of the machine's RAM (the profile's load checks that the
 * machine has at least ram_kb there): on netduinoplus2 the STM32F405's SRAM
 * is 128 K at 0x20000000 and its CCM 64 K at 0x20020000, where QEMU has RAM
 * (the chip has the CCM at 0x10000000, which QEMU does not map). The
 * default region (section "") is the script's RAM, which keeps .data, .bss,
 * the heap and the stack (mco_sections.ld); every other region gets an
 * output section of its own for the data placed in its section.
 *
 * Left out: the chips' own addresses (only the sizes and the split matter
 * to whether a model fits and runs) and their speeds (the emulator's
 * memories all cost the same).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mcuopt/file_io.h"
#include "target_machine.h"

int mco_ld_region(const char *script, const char *region, uint64_t *origin, size_t *length)
{
    size_t n = strlen(region);
    for (const char *p = script; p;) {
        const char *line = p, *eol = strchr(p, '\n');
        p = eol ? eol + 1 : NULL;
        while (*line == ' ' || *line == '\t') line++;
        if (strncmp(line, region, n) != 0 || (line[n] != ' ' && line[n] != '(')) continue;
        const char *org = strstr(line, "ORIGIN"), *len = strstr(line, "LENGTH");
        if (!org || !len || (eol && (org > eol || len > eol))) return 0;
        org += strlen("ORIGIN");
        len += strlen("LENGTH");
        while (*org == ' ' || *org == '=') org++;
        while (*len == ' ' || *len == '=') len++;
        char *end, *unit;
        unsigned long long o = strtoull(org, &end, 0), v = strtoull(len, &unit, 0);
        if (end == org || unit == len) return 0;
        if (*unit == 'K') v *= 1024;
        else if (*unit == 'M') v *= 1024 * 1024;
        *origin = (uint64_t)o;
        *length = (size_t)v;
        return 1;
    }
    return 0;
}

/* The MEMORY name of region i: the default region is RAM (mco_sections.ld
 * puts .data, .bss and the stack there), every other one REGION_<name>. */
static void memory_name(const mco_ram_region *r, char *buf, size_t size)
{
    if (!r->section[0]) snprintf(buf, size, "RAM");
    else snprintf(buf, size, "REGION_%s", r->name);
}

mco_status mco_target_write_layout(const mco_target_profile *t, const char *machine_ld, const char *out_ld,
                                   char *layout, size_t layout_size)
{
    char *script = NULL;
    mco_status st = mco_read_text_file(machine_ld, MCO_READ_TEXT_MAX, &script);
    if (st != MCO_OK) return st;
    uint64_t flash_origin = 0, ram_origin = 0;
    size_t flash = 0, ram = 0;
    int ok = mco_ld_region(script, "FLASH", &flash_origin, &flash) && mco_ld_region(script, "RAM", &ram_origin, &ram);
    free(script);
    if (!ok) return mco_error(MCO_ERR_FORMAT, "%s: no FLASH and RAM regions with an ORIGIN and a LENGTH", machine_ld);
    if ((size_t)t->ram_kb * 1024 > ram)
        return mco_error(MCO_ERR_FORMAT, "%s: %zu KB of RAM, less than the %d KB of %s's regions", machine_ld,
                         ram / 1024, t->ram_kb, t->name);

    FILE *f = fopen(out_ld, "w");
    if (!f) return mco_error(MCO_ERR_IO, "%s: cannot write", out_ld);
    fprintf(f,
            "/* Written by mcuopt for a measurement: the RAM regions of %s laid out one after\n"
            " * the other from the RAM of %s; sections in mco_sections.ld. */\n"
            "MEMORY\n{\n    FLASH (rx) : ORIGIN = 0x%08" PRIx64 ", LENGTH = %zuK\n",
            t->name, machine_ld, flash_origin, flash / 1024);
    uint64_t at = ram_origin;
    size_t used = 0;
    layout[0] = '\0';
    for (int i = 0; i < t->n_ram_regions; i++) {
        const mco_ram_region *r = &t->ram_regions[i];
        char name[32];
        memory_name(r, name, sizeof name);
        fprintf(f, "    %s (rwx) : ORIGIN = 0x%08" PRIx64 ", LENGTH = %dK\n", name, at, r->kb);
        if (used < layout_size)
            used += (size_t)snprintf(layout + used, layout_size - used, "%s%s %d KB at 0x%08" PRIx64, i ? ", " : "",
                                     r->name, r->kb, at);
        at += (uint64_t)r->kb * 1024;
    }
    fputs("}\nINCLUDE mco_sections.ld\n\nSECTIONS\n{\n", f);
    for (int i = 0; i < t->n_ram_regions; i++) {
        const mco_ram_region *r = &t->ram_regions[i];
        if (!r->section[0]) continue;
        char name[32];
        memory_name(r, name, sizeof name);
        fprintf(f, "    %s (NOLOAD) : ALIGN(4) { *(%s %s.*) } > %s\n", r->section, r->section, r->section, name);
    }
    fputs("}\n", f);
    if (fclose(f) != 0) return mco_error(MCO_ERR_IO, "%s: write failed", out_ld);
    return MCO_OK;
}
