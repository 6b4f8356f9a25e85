/*
 * test_target.c - target profiles: every shipped targets/<name>.json loads and is
 * consistent; a malformed file, a missing field, a wrong field type or value
 * and an unknown target name give the documented errors.
 * The cycle estimate is checked on a hand-made disassembly with hand-computed
 * totals, the ARMv6-M check on hand-made encodings, and every shipped
 * profile's QEMU machine on its memory: at least the profile's Flash and RAM.
 * RAM regions: the shipped stm32f405 and stm32h743 have their datasheet
 * regions, malformed "ram_regions" give one error naming the file, and the
 * placement (mco_target_place_ram) is checked on a hand-made F405-like
 * profile: 192 KB in all but an arena over 128 KB is refused.
 * (Measurement on QEMU is tested in test_target_measure.c.)
 */
#include "mcuopt/file_io.h"
#include "mcuopt/target.h"
#include "mcuopt/target_cycles.h"
#include "target/target_machine.h"
#include "test_fixtures.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const shipped[] = {"stm32f405", "stm32l432", "stm32g071", "stm32h743", "nrf52840",
                                      "rp2040",    "samd21",    "lpc55s69",  "stm32f103", "cortex-m0plus-32k"};

static const char *good_profile =
    "{\"name\": \"t\", \"vendor\": \"v\", \"core\": \"cortex-m4f\", \"clock_mhz\": 100, \"flash_kb\": 512,\n"
    " \"ram_kb\": 128, \"fpu\": \"sp\", \"dsp\": true, \"helium\": false, \"active_ua_per_mhz\": 50,\n"
    " \"voltage\": 3.3, \"qemu_machine\": \"mps2-an386\"}\n";

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

/* Writes good_profile with `from` replaced by `to` and loads it. */
static mco_status load_edited(const char *dir, const char *from, const char *to, mco_target_profile *p)
{
    char text[1024], path[256];
    const char *at = strstr(good_profile, from);
    CHECK(at != NULL);
    if (!at) return MCO_ERR_ARG;
    snprintf(text, sizeof text, "%.*s%s%s", (int)(at - good_profile), good_profile, to, at + strlen(from));
    snprintf(path, sizeof path, "%s/edited.json", dir);
    write_file(path, text);
    return mco_target_load(NULL, path, p);   /* a path needs no context */
}

static void test_shipped_profiles(void)
{
    for (size_t i = 0; i < sizeof shipped / sizeof shipped[0]; i++) {
        mco_target_profile p;
        CHECK_OK(mco_target_load(test_context(), shipped[i], &p));
        CHECK(strcmp(p.name, shipped[i]) == 0);
        CHECK(p.clock_mhz > 0 && p.flash_kb > 0 && p.ram_kb > 0);
        CHECK(p.qemu_machine[0] != '\0');
        CHECK(p.source[0] != '\0');
        /* FPU and core agree: M0/M0+/M3 have none, M4F has one. */
        if (p.core == MCO_CORE_M0 || p.core == MCO_CORE_M0PLUS || p.core == MCO_CORE_M3) CHECK(p.fpu == MCO_FPU_NONE);
        if (p.core == MCO_CORE_M4F) CHECK(p.fpu == MCO_FPU_SP);
        /* every model that fits the profile can run on its QEMU machine (also checked by the load) */
        CHECK_OK(mco_target_check_memory(test_context(), &p));
        /* ARMv6-M code runs on an ARMv7-M machine with room for it (checked instruction by instruction) */
        if (p.core == MCO_CORE_M0 || p.core == MCO_CORE_M0PLUS) CHECK(strcmp(p.qemu_machine, "mps2-an385") == 0);
    }
    mco_target_profile p;
    CHECK_OK(mco_target_load(test_context(), "stm32f405", &p));
    CHECK(p.core == MCO_CORE_M4F && p.clock_mhz == 168 && p.flash_kb == 1024 && p.ram_kb == 192);
    CHECK(strcmp(p.qemu_machine, "netduinoplus2") == 0);
    CHECK_OK(mco_target_load(test_context(), "cortex-m0plus-32k", &p));
    CHECK(p.flash_kb == 32 && p.ram_kb == 8 && p.core == MCO_CORE_M0PLUS);
    CHECK(strcmp(mco_core_name(p.core), "cortex-m0plus") == 0);
    CHECK(strcmp(mco_fpu_name(MCO_FPU_DP), "dp") == 0);

    mco_target_profile *list = NULL;
    int count = 0;
    CHECK_OK(mco_target_list(test_context(), &list, &count));
    CHECK(count >= (int)(sizeof shipped / sizeof shipped[0]));
    for (int i = 1; i < count; i++) CHECK(strcmp(list[i - 1].name, list[i].name) < 0);
    free(list);
}

/* Loads a Cortex-M0+ profile with the given memory and QEMU machine. */
static mco_status load_m0plus(const char *dir, int flash_kb, int ram_kb, const char *machine, mco_target_profile *p)
{
    char text[1024], path[256];
    snprintf(text, sizeof text,
             "{\"name\": \"m0\", \"vendor\": \"v\", \"core\": \"cortex-m0plus\", \"clock_mhz\": 48,\n"
             " \"flash_kb\": %d, \"ram_kb\": %d, \"fpu\": \"none\", \"dsp\": false, \"helium\": false,\n"
             " \"active_ua_per_mhz\": 70, \"voltage\": 3.3, \"qemu_machine\": \"%s\"}\n",
             flash_kb, ram_kb, machine);
    snprintf(path, sizeof path, "%s/edited.json", dir);
    write_file(path, text);
    return mco_target_load(test_context(), path, p);   /* the context's firmware has the linker scripts */
}

/* A profile whose QEMU machine has less memory than the profile is refused
 * when it is loaded: a model that fits it could not be measured. */
static void test_machine_memory(const char *dir)
{
    mco_target_profile p;
    CHECK(load_m0plus(dir, 512, 16, "microbit", &p) == MCO_ERR_FORMAT);
    CHECK(strstr(mco_last_error(), "edited.json: QEMU machine microbit has 256 KB of Flash, less than the profile's 512 KB"));
    CHECK(load_m0plus(dir, 256, 32, "microbit", &p) == MCO_ERR_FORMAT);   /* the samd21 before issue 11 */
    CHECK(strstr(mco_last_error(), "microbit has 16 KB of RAM, less than the profile's 32 KB"));
    CHECK_OK(load_m0plus(dir, 256, 16, "microbit", &p));
    CHECK_OK(load_m0plus(dir, 4096, 4096, "mps2-an385", &p));
    CHECK(load_m0plus(dir, 4097, 4096, "mps2-an385", &p) == MCO_ERR_FORMAT);
    /* a machine without a linker script is left to measuring, which says so */
    CHECK_OK(load_m0plus(dir, 256, 32, "no-such-board", &p));
}

/* ARMv6-M check: objdump lines with raw encodings; only executed addresses count. */
static void test_armv6m_check(void)
{
    const char *disasm = "00000100 <f>:\n"
                         "     100:\tb510      \tpush\t{r4, lr}\n"
                         "     102:\tf000 f805 \tbl\t110 <g>\n"
                         "     106:\tf3bf 8f4f \tdsb\tsy\n"
                         "     10a:\tf3ef 8010 \tmrs\tr0, PRIMASK\n"
                         "     10e:\tbd10      \tpop\t{r4, pc}\n"
                         "     110:\t4770      \tbx\tlr\n"
                         "     112:\tfb90 f0f1 \tsdiv\tr0, r0, r1\n"
                         "     116:\tb108      \tcbz\tr0, 11c <f+0x1c>\n"
                         "     118:\tbf18      \tit\tne\n"
                         "     11a:\tbf30      \twfi\n"
                         "     11c:\t12345678 \t.word\t0x12345678\n";
    const mco_insn_count ok[] = {{0x100, 2}, {0x102, 2}, {0x106, 0}, {0x10a, 0}, {0x10e, 2}, {0x110, 2}, {0x11a, 1}};
    CHECK_OK(mco_check_armv6m(disasm, ok, 7, "mps2-an385"));
    const mco_insn_count sdiv[] = {{0x100, 2}, {0x112, 5}};
    CHECK(mco_check_armv6m(disasm, sdiv, 2, "mps2-an385") == MCO_ERR_UNSUPPORTED);
    CHECK(strstr(mco_last_error(), "1 executed instruction(s) on qemu mps2-an385 are not ARMv6-M") &&
          strstr(mco_last_error(), "0x112 'sdiv r0, r0, r1', 5 times in the measured model_run calls"));
    const mco_insn_count cbz_it[] = {{0x118, 0}, {0x116, 0}};   /* run outside the measured calls */
    CHECK(mco_check_armv6m(disasm, cbz_it, 2, "mps2-an385") == MCO_ERR_UNSUPPORTED);
    CHECK(strstr(mco_last_error(), "2 executed instruction(s)") &&
          strstr(mco_last_error(), "0x116 'cbz r0, 11c <f+0x1c>', outside the measured model_run calls"));
    const mco_insn_count data[] = {{0x11c, 1}};   /* not an instruction: cannot be checked */
    CHECK(mco_check_armv6m(disasm, data, 1, "mps2-an385") == MCO_ERR_FORMAT);
    CHECK(strstr(mco_last_error(), "0x11c): cannot check"));
}

static void test_errors(const char *dir)
{
    mco_target_profile p;
    char path[256];

    CHECK(mco_target_load(test_context(), "no-such-mcu", &p) == MCO_ERR_NOT_FOUND);
    CHECK(strstr(mco_last_error(), "no-such-mcu") && strstr(mco_last_error(), "stm32f405"));

    snprintf(path, sizeof path, "%s/missing-file.json", dir);
    CHECK(mco_target_load(NULL, path, &p) == MCO_ERR_IO);

    snprintf(path, sizeof path, "%s/broken.json", dir);
    write_file(path, "{\"name\": \"x\",\n \"core\": }\n");
    CHECK(mco_target_load(NULL, path, &p) == MCO_ERR_FORMAT);
    CHECK(strstr(mco_last_error(), "broken.json") != NULL);

    CHECK_OK(load_edited(dir, "\"fpu\"", "\"fpu\"", &p)); /* the unedited profile is fine */
    CHECK(p.dsp == 1 && p.helium == 0 && p.fpu == MCO_FPU_SP);

    CHECK(load_edited(dir, " \"voltage\": 3.3,", "", &p) == MCO_ERR_FORMAT);
    CHECK(strstr(mco_last_error(), "edited.json") && strstr(mco_last_error(), "\"voltage\""));

    CHECK(load_edited(dir, "\"cortex-m4f\"", "\"cortex-m99\"", &p) == MCO_ERR_FORMAT);
    CHECK(strstr(mco_last_error(), "\"core\"") && strstr(mco_last_error(), "cortex-m0plus"));

    CHECK(load_edited(dir, "\"clock_mhz\": 100", "\"clock_mhz\": \"fast\"", &p) == MCO_ERR_FORMAT);
    CHECK(strstr(mco_last_error(), "\"clock_mhz\"") != NULL);

    CHECK(load_edited(dir, "\"dsp\": true", "\"dsp\": 1", &p) == MCO_ERR_FORMAT);
    CHECK(strstr(mco_last_error(), "\"dsp\"") != NULL);

    CHECK(load_edited(dir, "\"ram_kb\": 128", "\"ram_kb\": -4", &p) == MCO_ERR_FORMAT);
    CHECK(strstr(mco_last_error(), "\"ram_kb\"") != NULL);

    /* The context's targets directory is where names are looked up; a
     * context without one (or none at all) says so. */
    mco_context *ctx;
    CHECK_OK(mco_context_create(&ctx));
    CHECK(mco_target_load(ctx, "stm32f405", &p) == MCO_ERR_NOT_FOUND);
    CHECK(strstr(mco_last_error(), "no targets directory") != NULL);
    CHECK(mco_target_load(NULL, "stm32f405", &p) == MCO_ERR_NOT_FOUND);
    CHECK(strstr(mco_last_error(), "no context") != NULL);
    snprintf(path, sizeof path, "%s/mine.json", dir);
    CHECK_OK(mco_context_set_resource(ctx, MCO_RESOURCE_TARGETS, dir));
    unlink(path);
    CHECK(mco_target_load(ctx, "mine", &p) == MCO_ERR_NOT_FOUND);
    write_file(path, good_profile);
    CHECK_OK(mco_target_load(ctx, "mine", &p));
    CHECK(strcmp(p.name, "t") == 0 && p.core == MCO_CORE_M4F);
    CHECK(mco_target_load(test_context(), "mine", &p) == MCO_ERR_NOT_FOUND);   /* not in the other context */
    mco_context_free(ctx);
}

/* Regions as the STM32F405 has them, on good_profile. */
static const char *f405_regions =
    "\"ram_kb\": 192, \"ram_regions\": [\n"
    "  {\"name\": \"SRAM\", \"kb\": 128, \"dma\": true, \"tcm\": false, \"section\": \"\"},\n"
    "  {\"name\": \"CCM\", \"kb\": 64, \"dma\": false, \"tcm\": true, \"section\": \".ccmram\"}],";

static void test_region_profiles(const char *dir)
{
    mco_target_profile p;
    CHECK_OK(mco_target_load(test_context(), "stm32f405", &p));
    CHECK(p.n_ram_regions == 2 && p.ram_kb == 192);
    CHECK(strcmp(p.ram_regions[0].name, "SRAM") == 0 && p.ram_regions[0].kb == 128 && p.ram_regions[0].dma &&
          !p.ram_regions[0].tcm && p.ram_regions[0].section[0] == '\0');
    CHECK(strcmp(p.ram_regions[1].name, "CCM") == 0 && p.ram_regions[1].kb == 64 && !p.ram_regions[1].dma &&
          p.ram_regions[1].tcm && strcmp(p.ram_regions[1].section, ".ccmram") == 0);
    CHECK_OK(mco_target_load(test_context(), "stm32h743", &p));
    CHECK(p.n_ram_regions == 5 && p.ram_kb == 1056);   /* DTCM 128 + AXI 512 + SRAM1-3 288 + SRAM4 64 + ITCM 64 */
    CHECK(strcmp(p.ram_regions[0].name, "DTCM") == 0 && p.ram_regions[0].kb == 128 && p.ram_regions[0].tcm);
    CHECK(strcmp(p.ram_regions[1].name, "AXI_SRAM") == 0 && p.ram_regions[1].kb == 512 && p.ram_regions[1].dma);
    /* without "ram_regions": one region "RAM" of ram_kb */
    CHECK_OK(load_edited(dir, "\"fpu\"", "\"fpu\"", &p));
    CHECK(p.n_ram_regions == 1 && p.ram_regions[0].kb == 128 && strcmp(p.ram_regions[0].name, "RAM") == 0);

    CHECK_OK(load_edited(dir, "\"ram_kb\": 128,", f405_regions, &p));
    CHECK(p.n_ram_regions == 2 && p.ram_regions[1].kb == 64);
    CHECK(load_edited(dir, "\"ram_kb\": 128,", "\"ram_kb\": 128, \"ram_regions\": [{\"name\": \"A\", \"kb\": 64, "
                      "\"dma\": true, \"tcm\": false, \"section\": \"\"}],", &p) == MCO_ERR_FORMAT);
    CHECK(strstr(mco_last_error(), "edited.json: the ram_regions add up to 64 KB but \"ram_kb\" is 128"));
    CHECK(load_edited(dir, "\"ram_kb\": 128,", "\"ram_kb\": 128, \"ram_regions\": [{\"name\": \"A\", \"kb\": 128, "
                      "\"dma\": true, \"tcm\": false, \"section\": \".a\"}],", &p) == MCO_ERR_FORMAT);
    CHECK(strstr(mco_last_error(), "edited.json: field \"ram_regions\" needs exactly one region with \"section\": \"\""));
    CHECK(load_edited(dir, "\"ram_kb\": 128,", "\"ram_kb\": 128, \"ram_regions\": [{\"name\": \"A\", \"kb\": 128, "
                      "\"dma\": 1, \"tcm\": false, \"section\": \"\"}],", &p) == MCO_ERR_FORMAT);
    CHECK(strstr(mco_last_error(), "edited.json: ram_regions[0]: field \"dma\" must be true or false"));
    CHECK(load_edited(dir, "\"ram_kb\": 128,", "\"ram_kb\": 128, \"ram_regions\": [],", &p) == MCO_ERR_FORMAT);
    CHECK(strstr(mco_last_error(), "edited.json: field \"ram_regions\" must be an array of 1 to 8 regions"));
    CHECK(load_edited(dir, "\"ram_kb\": 128,", "\"ram_kb\": 128, \"ram_regions\": [{\"name\": \"A\", \"kb\": 64, "
                      "\"dma\": true, \"tcm\": false, \"section\": \"\"}, {\"name\": \"A\", \"kb\": 64, "
                      "\"dma\": true, \"tcm\": false, \"section\": \".b\"}],", &p) == MCO_ERR_FORMAT);
    CHECK(strstr(mco_last_error(), "ram_regions[1]: region name \"A\" is used twice"));
}

static void test_ram_placement(const char *dir)
{
    mco_target_profile p;
    mco_ram_placement pl;
    CHECK_OK(load_edited(dir, "\"ram_kb\": 128,", f405_regions, &p));
    snprintf(p.name, sizeof p.name, "stm32f405");
    CHECK(mco_target_ram_block_bytes(&p) == 128 * 1024);

    /* fits 192 KB in all but not 128 KB of SRAM: refused, naming the regions */
    CHECK(!mco_target_place_ram(&p, 140000, 1000, &pl));
    CHECK(!pl.placed && pl.static_region == -1 && pl.stack_region == -1);
    CHECK(strcmp(pl.why, "the arena and static data (140,000 B) fit no single RAM region of stm32f405: SRAM 128 KB, "
                         "CCM 64 KB (192 KB in all)") == 0);

    /* both in the preferred region */
    CHECK(mco_target_place_ram(&p, 100000, 2000, &pl));
    CHECK(pl.static_region == 0 && pl.stack_region == 0 && pl.used[0] == 102000 && pl.used[1] == 0);
    char line[512];
    mco_ram_placement_describe(&p, &pl, line, sizeof line);
    CHECK(strcmp(line, "SRAM 102,000 of 131,072 B (static + stack), CCM 0 of 65,536 B (unused)") == 0);

    /* the stack goes on to the next region with room */
    CHECK(mco_target_place_ram(&p, 130000, 2000, &pl));
    CHECK(pl.static_region == 0 && pl.stack_region == 1 && pl.used[0] == 130000 && pl.used[1] == 2000);

    /* the stack fits nowhere beside it */
    CHECK(!mco_target_place_ram(&p, 131000, 70000, &pl));
    CHECK(pl.static_region == 0 && pl.stack_region == -1);
    CHECK(strstr(pl.why, "the stack (70,000 B) fits in no RAM region of stm32f405 beside the static data: "
                         "SRAM 128 KB (72 B left), CCM 64 KB (65,536 B left)"));

    /* exactly full is placed */
    CHECK(mco_target_place_ram(&p, 128 * 1024, 64 * 1024, &pl));

    /* a profile without regions (not loaded) is one region of ram_kb */
    p.n_ram_regions = 0;
    p.ram_kb = 8;
    CHECK(mco_target_place_ram(&p, 8000, 192, &pl) && pl.used[0] == 8192);
    CHECK(!mco_target_place_ram(&p, 8000, 193, &pl) && strstr(pl.why, "RAM 8 KB (192 B left)"));
}

/* The measurement linker script of the stm32f405 on netduinoplus2: SRAM
 * as RAM at the machine's RAM origin, the CCM right after it with an
 * output section for .ccmram, the machine's FLASH. */
static void test_layout_script(const char *dir)
{
    mco_target_profile p;
    CHECK_OK(mco_target_load(test_context(), "stm32f405", &p));
    char machine_ld[1024], out_ld[256], layout[320];
    snprintf(machine_ld, sizeof machine_ld, "%s/ld/netduinoplus2.ld",
             mco_context_resource(test_context(), MCO_RESOURCE_FIRMWARE));
    snprintf(out_ld, sizeof out_ld, "%s/layout.ld", dir);
    CHECK_OK(mco_target_write_layout(&p, machine_ld, out_ld, layout, sizeof layout));
    CHECK(strcmp(layout, "SRAM 128 KB at 0x20000000, CCM 64 KB at 0x20020000") == 0);
    char *text = NULL;
    CHECK_OK(mco_read_text_file(out_ld, 1 << 20, &text));
    if (text) {
        CHECK(strstr(text, "FLASH (rx) : ORIGIN = 0x08000000, LENGTH = 1024K\n"));
        CHECK(strstr(text, "RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 128K\n"));
        CHECK(strstr(text, "REGION_CCM (rwx) : ORIGIN = 0x20020000, LENGTH = 64K\n"));
        CHECK(strstr(text, ".ccmram (NOLOAD) : ALIGN(4) { *(.ccmram .ccmram.*) } > REGION_CCM\n"));
        CHECK(strstr(text, "INCLUDE mco_sections.ld\n"));
    }
    free(text);
    uint64_t origin = 0;
    size_t length = 0;
    CHECK(mco_ld_region("  RAM (rwx) : ORIGIN = 0x38000000, LENGTH = 2M\n", "RAM", &origin, &length));
    CHECK(origin == 0x38000000u && length == 2u << 20);
    CHECK(!mco_ld_region("  RAM (rwx) : LENGTH = 2M\n", "RAM", &origin, &length));   /* no ORIGIN */
    /* a machine with less RAM than the regions */
    p.ram_regions[1].kb = 128;
    p.ram_kb = 256;
    CHECK(mco_target_write_layout(&p, machine_ld, out_ld, layout, sizeof layout) == MCO_ERR_FORMAT);
    CHECK(strstr(mco_last_error(), "192 KB of RAM, less than the 256 KB of stm32f405's regions"));
    unlink(out_ld);
}

/* A loop of 10 iterations in objdump's format, then the return. */
static void test_cycle_model(void)
{
    const char *disasm = "\nfw.elf:     file format elf32-littlearm\n\n"
                         "Disassembly of section .text:\n\n"
                         "00000100 <f>:\n"
                         "     100:\tldr\tr3, [r0, #0]\n"
                         "     102:\tldr\tr2, [r1, #0]\n"
                         "     104:\tmla\tr0, r3, r2, r0\n"
                         "     108:\tsubs\tr4, #1\n"
                         "     10a:\tbne.n\t100 <f>\n"
                         "     10c:\tpop\t{r4, pc}\n"
                         "     10e:\t.word\t0x12345678\n";
    const mco_insn_count counts[] = {{0x10c, 1}, {0x100, 10}, {0x102, 10}, {0x104, 10}, {0x108, 10}, {0x10a, 10},
                                     {0x200, 3}};
    uint64_t unknown = 0;
    /* M4: (ldr 2 + pipelined ldr 1 + mla 1 + subs 1) x 10 = 50; bne taken 9 x 3
     * + not taken 1 x 1 = 28; pop {r4, pc} 1 + 2 words + refill 2 = 5; plus
     * 3 executions at an address missing from the listing, 1 cycle each. */
    CHECK_NEAR(mco_estimate_cycles(MCO_CORE_M4F, disasm, counts, 7, &unknown), 50 + 28 + 5 + 3, 1e-9);
    CHECK(unknown == 3);
    /* M0+: (2 + 2 + 1 + 1) x 10 = 60; bne 9 x 2 + 1 = 19; pop 5. */
    CHECK_NEAR(mco_estimate_cycles(MCO_CORE_M0PLUS, disasm, counts, 6, &unknown), 60 + 19 + 5, 1e-9);
    CHECK(unknown == 0);
    CHECK(strstr(mco_cycle_model_note(MCO_CORE_M7), "dual issue") != NULL);
}

/* IT folding (M3/M4): an IT after a 16-bit instruction is free, after a
 * 32-bit one it costs a cycle. */
static void test_it_folding(void)
{
    const char *disasm = "00000100 <g>:\n"
                         "     100:\tcmp\tr2, r6\n"          /* 16-bit */
                         "     102:\tit\tlt\n"
                         "     104:\tmovlt\tr2, r6\n"
                         "     106:\tcmp.w\tr2, #4096\n"     /* 32-bit */
                         "     10a:\tite\tge\n"
                         "     10c:\tmovge\tr2, r6\n"
                         "     10e:\tmovlt\tr2, r7\n";
    const mco_insn_count counts[] = {{0x100, 1}, {0x102, 1}, {0x104, 1}, {0x106, 1},
                                     {0x10a, 1}, {0x10c, 1}, {0x10e, 1}};
    uint64_t unknown = 0;
    CHECK_NEAR(mco_estimate_cycles(MCO_CORE_M4F, disasm, counts, 7, &unknown), 6, 1e-9);
    CHECK_NEAR(mco_estimate_cycles(MCO_CORE_M3, disasm, counts, 7, &unknown), 6, 1e-9);
    CHECK_NEAR(mco_estimate_cycles(MCO_CORE_M7, disasm, counts, 7, &unknown), 7, 1e-9);
}

int main(void)
{
    test_cycle_model();
    test_it_folding();
    test_shipped_profiles();
    char dir[] = "/tmp/mco-test-target-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    test_errors(dir);
    test_machine_memory(dir);
    test_region_profiles(dir);
    test_ram_placement(dir);
    test_layout_script(dir);
    test_armv6m_check();
    const char *files[] = {"broken.json", "edited.json", "mine.json"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
    TEST_MAIN_END();
}
