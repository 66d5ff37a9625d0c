/* SPDX-License-Identifier: GPL-2.0 */
/* The C half of the x86 backend; the Rust half declares the same functions. */
#ifndef RKP_X86_H
#define RKP_X86_H

#ifndef __ASSEMBLY__
#include <linux/types.h>

struct pt_regs;

void rkp_sync_all_cpus(void);
int rkp_text_write(unsigned long addr, const u8 *src, size_t len);
struct pt_regs *rkp_die_int3_regs(unsigned long val, void *data);
#endif

#ifdef __ASSEMBLY__
/* Tells lockdep (and the irqsoff tracer) what cli and iretq do, as local_irq_*() would. */
.macro TRACE_IRQS fn
#ifdef CONFIG_TRACE_IRQFLAGS
	testl	$X86_EFLAGS_IF, EFLAGS(%rsp)
	jz	.Lno_trace_\@
	call	\fn
.Lno_trace_\@:
#endif
.endm

/* Below ss, sp, flags, cs and ip on the stack: the rest of a struct pt_regs. */
.macro PUSH_PT_REGS_REST
	pushq	$-1				/* orig_ax */
	pushq	%rdi
	pushq	%rsi
	pushq	%rdx
	pushq	%rcx
	pushq	%rax
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%rbx
	pushq	%rbp
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
.endm

/* Restores the registers PUSH_PT_REGS_REST saved and leaves the iretq frame on the stack. */
.macro POP_PT_REGS_REST
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbp
	popq	%rbx
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rax
	popq	%rcx
	popq	%rdx
	popq	%rsi
	popq	%rdi
	addq	$8, %rsp			/* orig_ax */
.endm
#endif

/* Out-of-line slots: RKP_SLOT_SIZE bytes each, in the module's own text (slots.S). */
#define RKP_SLOT_SIZE		64
#define RKP_SLOT_AREA_SIZE	65536

#endif
