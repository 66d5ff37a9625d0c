/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the detour of a jump-optimized probe calls (after Linux's optprobe_template_func):
 * the registers are saved as a pt_regs laid out as the breakpoint trap would have it,
 * interrupts go off (the handlers run as in the trap), and rkp_optimized_hit() (backend.rs)
 * runs the pre-handlers. It sets the instruction pointer to the instructions the jump
 * replaced, after the detour's call, or to where a pre-handler redirected the CPU; iretq goes
 * there with the flags (interrupts back as they were) and the stack pointer of the probed
 * code, above the call's return address.
 */
#include <linux/linkage.h>
#include <linux/objtool.h>
#include <asm/processor-flags.h>
#include <asm/ptrace-abi.h>
#include <asm/segment.h>
#include <asm/unwind_hints.h>
#include "rkp_x86.h"

	.text
SYM_CODE_START(rkp_optimized_entry)
	ANNOTATE_NOENDBR			/* called directly by detours only */
	UNWIND_HINT_FUNC
	pushq	$__KERNEL_DS			/* ss */
	pushq	%rsp				/* sp, fixed below */
	pushfq
	cli
	addq	$16, 8(%rsp)			/* sp as before the call */
	pushq	$__KERNEL_CS
	pushq	32(%rsp)			/* ip: the call's return address */
	PUSH_PT_REGS_REST
	/*
	 * Unwinders read the saved registers: from a handler, a stack trace goes on into the
	 * probed function (ip as after its breakpoint) and its callers, as from the trap.
	 */
	UNWIND_HINT_REGS
	TRACE_IRQS trace_hardirqs_off
	movq	%rsp, %rdi
	call	rkp_optimized_hit
	TRACE_IRQS trace_hardirqs_on
	POP_PT_REGS_REST
	UNWIND_HINT_IRET_REGS
	iretq
SYM_CODE_END(rkp_optimized_entry)
