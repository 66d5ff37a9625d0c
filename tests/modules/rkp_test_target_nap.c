// SPDX-License-Identifier: GPL-2.0
/* A C function of rkp_test_target: on ftrace kernels it has an ftrace site (Rust code has none). */
#include <linux/compiler.h>
#include <linux/delay.h>

unsigned long rkp_test_target_nap(unsigned long ms);

/* Sleeps @ms milliseconds: callers pile up inside it. */
noinline unsigned long rkp_test_target_nap(unsigned long ms)
{
	msleep(ms);
	return ms;
}
