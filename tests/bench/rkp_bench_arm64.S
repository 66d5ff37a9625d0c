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

/* 1024 instructions ending in `ret`: 1024 addresses to probe. */
SYM_FUNC_START(rkp_bench_sled)
.Lsled:
	.rept 1024
	add	x0, x0, #0
	.endr
	ret
SYM_FUNC_END(rkp_bench_sled)

	.section .rodata
SYM_DATA(rkp_bench_mid_offset, .long .Lmid - rkp_bench_asm)
SYM_DATA(rkp_bench_sled_start, .long .Lsled - rkp_bench_sled)
SYM_DATA(rkp_bench_sled_step, .long 4)
