// SPDX-License-Identifier: GPL-2.0
/* What rkp_selftest needs from C: whether the current context could be preempted. */
#include <linux/irqflags.h>
#include <linux/preempt.h>
#include <linux/types.h>

bool rkp_selftest_preemptible(void);

bool rkp_selftest_preemptible(void)
{
	return preemptible();
}
