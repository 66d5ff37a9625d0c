/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mid-function benchmark target (arm64): rkp_bench_mid_offset holds the offset of the
 * probed instruction, an `add` that runs out of line.
 */
#include <linux/linkage.h>

	.text
/* long rkp_bench_asm(long x): x + 1 */
SYM_FUNC_START(rkp_bench_asm)
	stp	x29, x30, [sp, #-16]!
	mov	x29, sp
.Lmid:	add	x0, x0, #1
	add	x0, x0, #0
	add	x0, x0, #0
	ldp	x29, x30, [sp], #16
	ret
SYM_FUNC_END(rkp_bench_asm)

/*
 * Runs of NOPs (emulated: no slot each) ending in `ret`, addresses to probe that never run:
 * rkp_bench_sled for the registration rows, rkp_bench_far0..9 for the probes registered
 * elsewhere while one is hit.
 */
SYM_FUNC_START(rkp_bench_sled)
.Lsled:
	.rept 1024
	nop
	.endr
	ret
SYM_FUNC_END(rkp_bench_sled)

/* Ten of them, one after the other: a probe's boundary walk starts at its function. */
	.irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9
SYM_FUNC_START(rkp_bench_far\n)
	.rept 1024
	nop
	.endr
	ret
SYM_FUNC_END(rkp_bench_far\n)
	.endr

	.section .rodata
SYM_DATA(rkp_bench_mid_offset, .long .Lmid - rkp_bench_asm)
SYM_DATA(rkp_bench_sled_start, .long .Lsled - rkp_bench_sled)
/* The addresses of rkp_bench_far0..9 (the NOPs start rkp_bench_sled_start bytes in). */
SYM_DATA_START(rkp_bench_far_funcs)
	.irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9
	.quad rkp_bench_far\n
	.endr
SYM_DATA_END(rkp_bench_far_funcs)
SYM_DATA(rkp_bench_sled_step, .long 4)
