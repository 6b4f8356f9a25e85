/*
 * mco_layer_mark.h - the layer marks of the measurement build. mcuopt's
 * measurement (src/target/target_measure.c) force-includes this header
 * (-include) when it compiles an emitted model into the harness firmware;
 * no other build sees it, so there the emitted model.c's own empty
 * definition of MCO_LAYER_MARK applies and the production code has no marks.
 *
 * MCO_LAYER_MARK(k) sits in model_run() before op k's kernel call (and,
 * with k = the number of ops, after the last one). It emits no instruction:
 * it places a local label at the next instruction and records the pair
 * (label address, k) as two words in the section .mco_marks of the object
 * file: not loaded (no "a" flag: the chip never sees it), and flagged "R"
 * (SHF_GNU_RETAIN) so that --gc-sections keeps it although nothing refers
 * to it. After linking, the measurement reads that section from fw.elf and
 * hands the addresses to the QEMU plugin, which starts counting a new
 * segment whenever the instruction at a mark executes
 * (firmware/plugin/mco_insn_profile.c). Op k's figures are thus everything
 * executed from its mark up to the next: its argument set-up, the kernel
 * and every helper it calls, and the status check after the call.
 *
 * The directives live in an assembler macro (defined once per file below)
 * so that each mark is one line of asm: GCC counts every line of an asm
 * template as an instruction when it places literal pools, and four lines
 * per mark moved a pool into the middle of a long model_run. The "memory"
 * clobber keeps the compiler from moving the kernel calls (which read and
 * write memory) across the mark; being volatile, it is never removed. If
 * the compiler ever duplicated one (two copies of a code path), the mark
 * would appear twice in .mco_marks and the measurement fails with a clear
 * error instead of counting wrongly.
 *
 * Left out: marks inside kernels (an op is the unit), and anything with a
 * run-time cost (no store, no call). Not quite nothing: as one line of asm
 * each, the marks still make model_run look 4 bytes per mark longer to the
 * compiler, which can move a literal pool and with it add a branch around
 * the pool, and they are block boundaries for its scheduler. In the
 * emitted model_run (kernel calls only) the instruction count stays that
 * of the production build, or within a few instructions of it: see
 * tests/test_target_measure.c and docs/benchmarks.md ("mcuopt vs CMSIS-NN")
 * for the measured differences.
 */
#ifndef MCO_LAYER_MARK_H
#define MCO_LAYER_MARK_H

__asm__(".macro mco_layer_mark op\n"
        "1:\n\t"
        ".pushsection .mco_marks,\"R\",%progbits\n\t"
        ".word 1b, \\op\n\t"
        ".popsection\n"
        ".endm");

#define MCO_LAYER_MARK(k) __asm__ volatile("mco_layer_mark " #k ::: "memory")

#endif
