// SPDX-License-Identifier: GPL-2.0
/*
 * What rkp_selftest (arm64) needs from C: whether the current context could be preempted,
 * and a function whose return address pointer authentication signs (paciasp at its entry,
 * on kernels built with CONFIG_ARM64_PTR_AUTH_KERNEL).
 */
#include <linux/compiler.h>
#include <linux/irqflags.h>
#include <linux/preempt.h>
#include <linux/types.h>

bool rkp_selftest_preemptible(void);
long rkp_selftest_signed(long x);
long rkp_selftest_leaf(long x);

bool rkp_selftest_preemptible(void)
{
	return preemptible();
}

noinline long rkp_selftest_leaf(long x)
{
	barrier();
	return x * 3;
}

/* Calls another function, so it saves (and signs) its return address. */
noinline long rkp_selftest_signed(long x)
{
	return rkp_selftest_leaf(x) + 1;
}
