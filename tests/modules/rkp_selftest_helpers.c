// SPDX-License-Identifier: GPL-2.0
/*
 * What rkp_selftest needs from C: whether the current context could be preempted, a run with
 * interrupts off, and module
 * text the kernel treats specially: a jump-label site, and a breakpoint that another die
 * notifier owns.
 */
#include <linux/irqflags.h>
#include <linux/jump_label.h>
#include <linux/kdebug.h>
#include <linux/notifier.h>
#include <linux/preempt.h>
#include <linux/ptrace.h>
#include <linux/types.h>

bool rkp_selftest_preemptible(void);
long rkp_selftest_irqs_off(long (*fn)(void), bool *stayed_off);
long rkp_selftest_keyed(long x);
void rkp_selftest_key_set(bool on);
int rkp_selftest_foreign_int3_hook(bool on);
unsigned long rkp_selftest_foreign_int3_hits(void);

int rkp_selftest_noinstr(int x);

/* Module text that must not be instrumented: in the module's .noinstr.text. */
noinstr int rkp_selftest_noinstr(int x)
{
	return x + 1;
}

bool rkp_selftest_preemptible(void)
{
	return preemptible();
}

/* @fn's result, run with interrupts off; whether they were still off after it. */
long rkp_selftest_irqs_off(long (*fn)(void), bool *stayed_off)
{
	unsigned long flags;
	long ret;

	local_irq_save(flags);
	ret = fn();
	*stayed_off = irqs_disabled();
	local_irq_restore(flags);
	return ret;
}

static DEFINE_STATIC_KEY_FALSE(rkp_selftest_key);

/* x + 1, or 3 * x while the key is on: a jump-label site in module text. */
noinline long rkp_selftest_keyed(long x)
{
	if (static_branch_unlikely(&rkp_selftest_key))
		return 3 * x;
	return x + 1;
}

void rkp_selftest_key_set(bool on)
{
	if (on)
		static_branch_enable(&rkp_selftest_key);
	else
		static_branch_disable(&rkp_selftest_key);
}

/* rkp_selftest_targets.S: its int3 is the one this file's die notifier owns. */
long rkp_asm_foreign_int3(long x);
static unsigned long rkp_foreign_hits;

static int rkp_foreign_int3(struct notifier_block *nb, unsigned long val, void *data)
{
	struct die_args *args = data;

	unsigned long at;

	if (val != DIE_INT3 || user_mode(args->regs))
		return NOTIFY_DONE;
	at = args->regs->ip - 1;
	if (at - (unsigned long)rkp_asm_foreign_int3 >= 16 || *(u8 *)at != 0xcc)
		return NOTIFY_DONE;
	rkp_foreign_hits++;
	return NOTIFY_STOP;
}

/* After rkprobes' notifier (which comes first), as another owner of breakpoints would be. */
static struct notifier_block rkp_foreign_nb = { .notifier_call = rkp_foreign_int3 };

int rkp_selftest_foreign_int3_hook(bool on)
{
	return on ? register_die_notifier(&rkp_foreign_nb) : unregister_die_notifier(&rkp_foreign_nb);
}

unsigned long rkp_selftest_foreign_int3_hits(void)
{
	return rkp_foreign_hits;
}

/*
 * Nested functions for the stack-trace test (Linux's test_stacktrace_on_nested_kretprobe):
 * each records where it returns to, at its first (unprobed) call: a hooked call finds the
 * hook's address there. C functions have ftrace sites on ftrace kernels.
 */
unsigned long rkp_selftest_ret_addrs[2];
int rkp_selftest_inner(int x);
int rkp_selftest_outer(int x);

noinline int rkp_selftest_inner(int x)
{
	if (!rkp_selftest_ret_addrs[0])
		rkp_selftest_ret_addrs[0] = (unsigned long)__builtin_return_address(0);
	return x + 1;
}

noinline int rkp_selftest_outer(int x)
{
	if (!rkp_selftest_ret_addrs[1])
		rkp_selftest_ret_addrs[1] = (unsigned long)__builtin_return_address(0);
	/* Not a tail call: the inner return address must be in this function. */
	return rkp_selftest_inner(x) * 2;
}
