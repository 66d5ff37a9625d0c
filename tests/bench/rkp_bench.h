/* SPDX-License-Identifier: GPL-2.0 */
/* The benchmark's C half; rkp_bench_main.rs declares the same functions. */
#ifndef RKP_BENCH_H
#define RKP_BENCH_H

#include <linux/types.h>

long rkp_bench_entry(long x);
u64 rkp_bench_run(long (*fn)(long), unsigned int n);
u64 rkp_bench_now(void);
long rkp_bench_linux_kprobe(unsigned long addr, bool post, bool wait_jump, long (*fn)(long),
			    unsigned int n, u64 *ns);
long rkp_bench_linux_kretprobe(long (*fn)(long), bool wait_jump, unsigned int n, u64 *ns);
long rkp_bench_linux_register(const unsigned long *addrs, unsigned int count, bool batch,
			      u64 *reg_ns, u64 *unreg_ns);

#endif
