/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where hooked returns go on the trampoline route (after Linux's arch_rethook_trampoline):
 * the function's `ret` lands here; the registers are saved as a pt_regs laid out as the
 * breakpoint trap would have it after that `ret`, and rkp_hooked_return() (backend.rs) runs
 * the return handlers with interrupts off. It sets the instruction pointer to the real
 * return address, also where the first push below stood for it, so that stack traces taken
 * in the handlers continue into the caller.
 */
#include <linux/linkage.h>
#include <linux/objtool.h>
#include <asm/processor-flags.h>
#include <asm/ptrace-abi.h>
#include <asm/segment.h>
#include <asm/unwind_hints.h>
#include "rkp_x86.h"

	.text
SYM_CODE_START_NOALIGN(rkp_return_trampoline)
	ANNOTATE_NOENDBR			/* entered by ret only */
	UNWIND_HINT_UNDEFINED			/* until the return slot is back */
	pushq	$rkp_return_trampoline		/* the return slot */
	UNWIND_HINT_FUNC
	pushq	$__KERNEL_DS			/* ss */
	pushq	%rsp				/* sp, fixed below */
	pushfq
	cli
	addq	$16, 8(%rsp)			/* sp as after the ret: above the return slot */
	pushq	$__KERNEL_CS
	pushq	$rkp_return_trampoline		/* ip */
	PUSH_PT_REGS_REST
	TRACE_IRQS trace_hardirqs_off
	movq	%rsp, %rdi
	call	rkp_hooked_return
	TRACE_IRQS trace_hardirqs_on
	POP_PT_REGS_REST
	UNWIND_HINT_IRET_REGS
	/*
	 * To the return address, flags and stack pointer at once: the handlers dropped the
	 * call's reference on rkprobes.ko, and a ret after a popf could be preempted here.
	 */
	iretq
SYM_CODE_END(rkp_return_trampoline)

/* Where a return with no pending call goes: an invalid opcode, hence an oops. */
SYM_CODE_START_NOALIGN(rkp_return_lost)
	ANNOTATE_NOENDBR
	UNWIND_HINT_UNDEFINED
	ud2
SYM_CODE_END(rkp_return_lost)
