// SPDX-License-Identifier: GPL-2.0-only
/*
 * Linux's samples/kprobes/kprobe_example.c, ported to rkprobes by renaming (include/rkprobes.h,
 * Documentation/c-api.rst): struct kprobe became struct rkp_kprobe, register_kprobe()
 * rkp_register_kprobe(), and so on. Two changes besides: the probe's address is read from
 * p->resolved (Linux writes it into p->addr), and printed with %px so that it can be compared
 * with the instruction pointer.
 *
 * Its pre- and post-handlers print a line whenever kernel_clone() (or symbol=) runs.
 */

#define pr_fmt(fmt) "%s: " fmt, __func__

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/ptrace.h>
#include <rkprobes.h>

static char symbol[KSYM_NAME_LEN] = "kernel_clone";
module_param_string(symbol, symbol, KSYM_NAME_LEN, 0644);

/* For each probe you need to allocate a kprobe structure */
static struct rkp_kprobe kp = {
	.symbol_name	= symbol,
};

/* kprobe pre_handler: called just before the probed instruction is executed */
static int handler_pre(struct rkp_kprobe *p, struct pt_regs *regs)
{
#ifdef CONFIG_X86
	pr_info("<%s> p->addr = 0x%px, ip = %lx, flags = 0x%lx\n",
		p->symbol_name, p->resolved, regs->ip, regs->flags);
#endif
#ifdef CONFIG_ARM64
	pr_info("<%s> p->addr = 0x%px, pc = 0x%lx, pstate = 0x%lx\n",
		p->symbol_name, p->resolved, (long)regs->pc, (long)regs->pstate);
#endif
	return 0;
}

/* kprobe post_handler: called after the probed instruction is executed */
static void handler_post(struct rkp_kprobe *p, struct pt_regs *regs, unsigned long flags)
{
#ifdef CONFIG_X86
	pr_info("<%s> p->addr = 0x%px, flags = 0x%lx\n",
		p->symbol_name, p->resolved, regs->flags);
#endif
#ifdef CONFIG_ARM64
	pr_info("<%s> p->addr = 0x%px, pstate = 0x%lx\n",
		p->symbol_name, p->resolved, (long)regs->pstate);
#endif
}

static int __init kprobe_init(void)
{
	int ret;

	kp.pre_handler = handler_pre;
	kp.post_handler = handler_post;

	ret = rkp_register_kprobe(&kp);
	if (ret < 0) {
		pr_err("register_kprobe failed, returned %d\n", ret);
		return ret;
	}
	pr_info("Planted kprobe at %px\n", kp.resolved);
	return 0;
}

static void __exit kprobe_exit(void)
{
	rkp_unregister_kprobe(&kp);
	pr_info("kprobe at %px unregistered\n", kp.resolved);
}

module_init(kprobe_init)
module_exit(kprobe_exit)
MODULE_DESCRIPTION("sample kernel module showing the use of rkprobes from C");
MODULE_LICENSE("GPL");
