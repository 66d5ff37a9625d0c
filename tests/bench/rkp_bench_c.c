// SPDX-License-Identifier: GPL-2.0
/*
 * The benchmark's C half: the timed loop, the function-entry target (a C function, so it has
 * an ftrace site on ftrace kernels), and Linux's own kprobes for the side-by-side rows (on
 * kernels with CONFIG_KPROBES).
 *
 * Under QEMU with -icount shift=0,sleep=off every guest instruction is one nanosecond of
 * guest time, so ktime_get_ns() around a loop run with interrupts off counts the
 * instructions of the loop: a path length, the same from run to run.
 */
#include <linux/delay.h>
#include <linux/irqflags.h>
#include <linux/kprobes.h>
#include <linux/ktime.h>
#include <linux/slab.h>
#include <linux/types.h>
#include <linux/uaccess.h>

#include "rkp_bench.h"

static long rkp_bench_sink;

noinline long rkp_bench_entry(long x)
{
	barrier();
	return x + 1;
}

u64 rkp_bench_run(long (*fn)(long), unsigned int n)
{
	unsigned long flags;
	unsigned int i;
	long acc = 0;
	u64 t0, t1;

	local_irq_save(flags);
	t0 = ktime_get_ns();
	for (i = 0; i < n; i++)
		acc += fn(i);
	t1 = ktime_get_ns();
	local_irq_restore(flags);
	WRITE_ONCE(rkp_bench_sink, acc);
	return t1 - t0;
}

u64 rkp_bench_now(void)
{
	return ktime_get_ns();
}

#ifdef CONFIG_KPROBES
static int rkp_bench_pre(struct kprobe *p, struct pt_regs *regs)
{
	return 0;
}

static void rkp_bench_post(struct kprobe *p, struct pt_regs *regs, unsigned long flags)
{
}

static int rkp_bench_ret(struct kretprobe_instance *ri, struct pt_regs *regs)
{
	return 0;
}

/* The byte at addr (0 if unreadable). */
static u8 rkp_bench_byte(unsigned long addr)
{
	u8 first;

	return copy_from_kernel_nofault(&first, (void *)addr, 1) ? 0 : first;
}

/* Whether Linux's optimizer made the probe at addr a jump (a jmp where its int3 was). */
static bool rkp_bench_is_jump(unsigned long addr)
{
	return rkp_bench_byte(addr) == 0xe9;
}

/*
 * Linux's kprobe at addr (pre, and post if asked) around n calls of fn: 1 if it was a jump,
 * 0 if not, or -errno. With wait_jump, waits up to 3 s for Linux's optimizer to write the
 * jump (until then a hit traps and goes to the detour from the trap).
 */
long rkp_bench_linux_kprobe(unsigned long addr, bool post, bool wait_jump, long (*fn)(long),
			    unsigned int n, u64 *ns)
{
	struct kprobe kp = { .addr = (void *)addr, .pre_handler = rkp_bench_pre };
	bool optimized;
	int ret, i;

	if (post)
		kp.post_handler = rkp_bench_post;
	ret = register_kprobe(&kp);
	if (ret)
		return ret;
	/* Let the optimizer run (it waits about 5 jiffies before optimizing). */
	msleep(100);
	for (i = 0; wait_jump && i < 300 && !rkp_bench_is_jump(addr); i++)
		msleep(10);
	*ns = rkp_bench_run(fn, n);
	/* Read before unregistering, which unoptimizes. */
	optimized = rkp_bench_is_jump(addr);
	unregister_kprobe(&kp);
	return optimized ? 1 : 0;
}

/* Linux's kretprobe on fn around n calls of it. */
long rkp_bench_linux_kretprobe(long (*fn)(long), bool wait_jump, unsigned int n, u64 *ns)
{
	struct kretprobe rp = { .kp.addr = (void *)fn, .handler = rkp_bench_ret };
	unsigned long entry;
	bool optimized;
	int ret = register_kretprobe(&rp);
	int i;

	if (ret)
		return ret;
	/*
	 * Where the entry probe went (past ENDBR): a breakpoint may become a jump (ftrace's site
	 * does not); wait as rkp_bench_linux_kprobe() does.
	 */
	entry = (unsigned long)rp.kp.addr;
	for (i = 0; wait_jump && i < 310 && rkp_bench_byte(entry) == 0xcc; i++)
		msleep(10);
	*ns = rkp_bench_run(fn, n);
	optimized = rkp_bench_is_jump(entry);
	unregister_kretprobe(&rp);
	return optimized ? 1 : 0;
}

/* Registers, then unregisters, count Linux kprobes at addrs; times both (batch or one by one). */
long rkp_bench_linux_register(const unsigned long *addrs, unsigned int count, bool batch,
			      u64 *reg_ns, u64 *unreg_ns)
{
	struct kprobe *kps = kcalloc(count, sizeof(*kps), GFP_KERNEL);
	struct kprobe **ptrs = kcalloc(count, sizeof(*ptrs), GFP_KERNEL);
	unsigned int i;
	long ret = 0;
	u64 t;

	if (!kps || !ptrs) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < count; i++) {
		kps[i].addr = (void *)addrs[i];
		kps[i].pre_handler = rkp_bench_pre;
		ptrs[i] = &kps[i];
	}
	t = ktime_get_ns();
	if (batch) {
		ret = register_kprobes(ptrs, count);
	} else {
		for (i = 0; i < count && !ret; i++)
			ret = register_kprobe(ptrs[i]);
		if (ret)
			unregister_kprobes(ptrs, i - 1);
	}
	*reg_ns = ktime_get_ns() - t;
	if (ret)
		goto out;
	t = ktime_get_ns();
	if (batch) {
		unregister_kprobes(ptrs, count);
	} else {
		for (i = 0; i < count; i++)
			unregister_kprobe(ptrs[i]);
	}
	*unreg_ns = ktime_get_ns() - t;
	/*
	 * Linux puts optimized probes' bytes back from its optimizer, about 5 jiffies later:
	 * until then rkprobes, next on the same addresses, refuses them (another kprobes'
	 * jump is there).
	 */
	msleep(100);
out:
	kfree(ptrs);
	kfree(kps);
	return ret;
}
#else
long rkp_bench_linux_kprobe(unsigned long addr, bool post, bool wait_jump, long (*fn)(long),
			    unsigned int n, u64 *ns)
{
	return -EOPNOTSUPP;
}

long rkp_bench_linux_kretprobe(long (*fn)(long), bool wait_jump, unsigned int n, u64 *ns)
{
	return -EOPNOTSUPP;
}

long rkp_bench_linux_register(const unsigned long *addrs, unsigned int count, bool batch,
			      u64 *reg_ns, u64 *unreg_ns)
{
	return -EOPNOTSUPP;
}
#endif
