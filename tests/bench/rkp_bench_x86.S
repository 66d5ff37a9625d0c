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

/* A run of 1024 one-byte instructions ending in `ret`: 1024 addresses to probe. */
SYM_FUNC_START(rkp_bench_sled)
	ENDBR
.Lsled:
	.rept 1024
	nop
	.endr
	RET
SYM_FUNC_END(rkp_bench_sled)

	.section .rodata
SYM_DATA(rkp_bench_mid_offset, .long .Lmid - rkp_bench_asm)
SYM_DATA(rkp_bench_sled_start, .long .Lsled - rkp_bench_sled)
SYM_DATA(rkp_bench_sled_step, .long 1)
