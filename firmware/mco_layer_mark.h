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
 * to it. After linking, the measurement reads that section from
 * fw.elf and hands the addresses to the QEMU plugin, which starts counting
 * a new segment whenever the instruction at a mark executes
 * (firmware/plugin/mco_insn_profile.c). Op k's figures are thus everything
 * executed from its mark up to the next: its argument set-up, the kernel
 * and every helper it calls, and the status check after the call.
 *
 * The "memory" clobber keeps the compiler from moving the mark across the
 * kernel calls (which read and write memory); being volatile, it is never
 * removed. If the compiler ever duplicated one (two copies of a code path),
 * the mark would appear twice in .mco_marks and the measurement fails with
 * a clear error instead of counting wrongly.
 *
 * Left out: marks inside kernels (an op is the unit), and anything with a
 * run-time cost (no store, no call). The emitted model_run only calls
 * kernels, and there the marks change no instruction count (checked by
 * tests/test_target_measure.c and by bench/vs_cmsis_nn.sh, which compare
 * against the code without them); at most the compiler orders two
 * independent argument loads differently. Between computations written
 * inline a mark can shift the register allocation by an instruction or so.
 */
#ifndef MCO_LAYER_MARK_H
#define MCO_LAYER_MARK_H

#define MCO_LAYER_MARK(k)                                                   \
    __asm__ volatile("1:\n\t"                                               \
                     ".pushsection .mco_marks,\"R\",%%progbits\n\t"          \
                     ".word 1b, " #k "\n\t"                                 \
                     ".popsection" ::: "memory")

#endif
