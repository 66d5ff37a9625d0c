/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mid-function benchmark target (x86-64): rkp_bench_mid_offset holds the offset of the
 * probed instruction, a `lea` that both Linux and rkprobes run out of line (and Linux can
 * optimize into a jump).
 */
#include <linux/linkage.h>
#include <asm/ibt.h>
#include <asm/nospec-branch.h>

	.text
/* long rkp_bench_asm(long x): x + 1 */
SYM_FUNC_START(rkp_bench_asm)
	ENDBR
	push	%rbp
	mov	%rsp, %rbp
.Lmid:	lea	1(%rdi), %rax
	add	$0, %rax
	add	$0, %rax
	pop	%rbp
	RET
SYM_FUNC_END(rkp_bench_asm)

/*
 * Runs of NOPs (emulated: no slot each) ending in `ret`, addresses to probe that never run:
 * rkp_bench_sled for the registration rows, rkp_bench_far for the probes registered
 * elsewhere while one is hit.
 */
SYM_FUNC_START(rkp_bench_sled)
	ENDBR
.Lsled:
	.rept 1024
	nop
	.endr
	RET
SYM_FUNC_END(rkp_bench_sled)

SYM_FUNC_START(rkp_bench_far)
	ENDBR
.Lfar:
	.rept 10240
	nop
	.endr
	RET
SYM_FUNC_END(rkp_bench_far)

	.section .rodata
SYM_DATA(rkp_bench_mid_offset, .long .Lmid - rkp_bench_asm)
SYM_DATA(rkp_bench_sled_start, .long .Lsled - rkp_bench_sled)
SYM_DATA(rkp_bench_far_start, .long .Lfar - rkp_bench_far)
SYM_DATA(rkp_bench_sled_step, .long 1)
