/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Functions for rkp_selftest to probe at every instruction: RIP-relative loads and stores,
 * calls (direct and through a register), jumps, conditional jumps, loop/jrcxz, pushf/popf,
 * cli, and ret; a load with an exception-table entry; and instructions probes must refuse (ud2, int3, vmcall). Each computes a value the test compares with an unprobed run.
 */
#include <linux/linkage.h>
#include <linux/objtool.h>
#include <asm/asm.h>
#include <asm/ibt.h>
#include <asm/nospec-branch.h>

	.data
	.balign 8
SYM_DATA(rkp_target_data, .quad 40)
SYM_DATA(rkp_target_out, .quad 0)

	.text
/* rax *= 2 */
SYM_FUNC_START(rkp_asm_double)
	ENDBR
	add	%rax, %rax
	RET
SYM_FUNC_END(rkp_asm_double)

/* long rkp_asm_mix(long x) */
SYM_FUNC_START(rkp_asm_mix)
	ENDBR
	push	%rbp
	mov	%rsp, %rbp
	pushf
	cli
	mov	rkp_target_data(%rip), %rax
	add	%rdi, %rax
	mov	%rax, rkp_target_out(%rip)
	test	$1, %dil
	jz	1f
	call	rkp_asm_double
	jmp	2f
1:	add	$3, %rax
2:	cmp	$100, %rax
	jl	3f
	sub	$1, %rax
3:	popf
	pop	%rbp
	RET
SYM_FUNC_END(rkp_asm_mix)

/* long rkp_asm_branches(long n): 2 * n through a loop, then doubled through a register call. */
SYM_FUNC_START(rkp_asm_branches)
	ENDBR
	xor	%eax, %eax
	mov	%rdi, %rcx
	jrcxz	2f
1:	add	$2, %rax
	loop	1b
2:	lea	rkp_asm_double(%rip), %rdx
	CALL_NOSPEC rdx
	RET
SYM_FUNC_END(rkp_asm_branches)

/* A pair in rax:rdx, as two-register returns are: (a + 1, b + 2). */
SYM_FUNC_START(rkp_asm_pair)
	ENDBR
	lea	1(%rdi), %rax
	lea	2(%rsi), %rdx
	RET
SYM_FUNC_END(rkp_asm_pair)

/*
 * long rkp_asm_straight(long x): (x + 3 + rkp_target_data) * 3, with no branch: a jump can
 * replace the instructions at every boundary with five bytes of them before the return
 * (rkp_asm_straight_ret), RIP-relative ones included.
 */
SYM_FUNC_START(rkp_asm_straight)
	ENDBR
	push	%rbp
	mov	%rsp, %rbp
	lea	3(%rdi), %rax
	add	rkp_target_data(%rip), %rax
	imul	$3, %rax, %rax
	xor	%edx, %edx
	nop
	pop	%rbp
.Lstraight_ret:
	RET
SYM_FUNC_END(rkp_asm_straight)

/*
 * long rkp_asm_jumped_into(long x): x >= 0 ? x + 3 : 7. A branch goes into the middle of the
 * bytes a jump at rkp_asm_jumped_probe would replace, so the probe there stays a breakpoint.
 */
SYM_FUNC_START(rkp_asm_jumped_into)
	ENDBR
	test	%rdi, %rdi
	js	2f
.Ljumped_probe:
	lea	1(%rdi), %rax
1:	add	$2, %rax
	RET
2:	mov	$5, %eax
	jmp	1b
SYM_FUNC_END(rkp_asm_jumped_into)

/* long rkp_asm_alt(long x): where a redirecting pre-handler sends rkp_asm_mix. */
SYM_FUNC_START(rkp_asm_alt)
	ENDBR
	mov	$1234, %eax
	RET
SYM_FUNC_END(rkp_asm_alt)

/* Never called: instructions probes must refuse, one per function (each ends the flow). */
SYM_FUNC_START(rkp_asm_ud2)
	ENDBR
	ud2
SYM_FUNC_END(rkp_asm_ud2)

SYM_FUNC_START(rkp_asm_int3)
	ENDBR
	int3
	RET
SYM_FUNC_END(rkp_asm_int3)

/* long rkp_asm_nofault_read(long addr): the long at addr, or -EFAULT (14) if it faults. */
SYM_FUNC_START(rkp_asm_nofault_read)
	ENDBR
	mov	$-14, %rax
1:	mov	(%rdi), %rax
2:	RET
	_ASM_EXTABLE(1b, 2b)
SYM_FUNC_END(rkp_asm_nofault_read)

/* long rkp_asm_foreign_int3(long x): x, through a breakpoint another die notifier owns. */
SYM_FUNC_START(rkp_asm_foreign_int3)
	ENDBR
	mov	%rdi, %rax
	int3
	RET
SYM_FUNC_END(rkp_asm_foreign_int3)

SYM_FUNC_START(rkp_asm_vmcall)
	ENDBR
	vmcall
	RET
SYM_FUNC_END(rkp_asm_vmcall)

	.section .rodata
SYM_DATA(rkp_asm_straight_ret, .long .Lstraight_ret - rkp_asm_straight)
SYM_DATA(rkp_asm_jumped_probe, .long .Ljumped_probe - rkp_asm_jumped_into)
