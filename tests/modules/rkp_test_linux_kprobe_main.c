// SPDX-License-Identifier: GPL-2.0
/*
 * A module using the kernel's own kprobes (CONFIG_KPROBES=y kernels only), for the
 * coexistence suite: one kprobe on `func`+`offset`, its hit count in
 * /sys/module/rkp_test_linux_kprobe/parameters/hits.
 */
#include <linux/kprobes.h>
#include <linux/module.h>

static char *func = "vfs_read";
module_param(func, charp, 0444);
MODULE_PARM_DESC(func, "Function to probe with Linux's kprobes");

static unsigned int offset;
module_param(offset, uint, 0444);
MODULE_PARM_DESC(offset, "Offset in func");

static unsigned long hits;
module_param(hits, ulong, 0444);
MODULE_PARM_DESC(hits, "Hits so far");

static int pre(struct kprobe *p, struct pt_regs *regs)
{
	WRITE_ONCE(hits, hits + 1);
	return 0;
}

static struct kprobe kp = { .pre_handler = pre };

/* A function this module marks unprobeable: rkprobes must honour its NOKPROBE_SYMBOL() too. */
int rkp_test_nokprobe_fn(int x);
noinline int rkp_test_nokprobe_fn(int x)
{
	return x + 2;
}
NOKPROBE_SYMBOL(rkp_test_nokprobe_fn);

static int __init rkp_test_linux_kprobe_init(void)
{
	int ret;

	kp.symbol_name = func;
	kp.offset = offset;
	ret = register_kprobe(&kp);
	if (ret)
		pr_info("register_kprobe(%s+%u): %d\n", func, offset, ret);
	return ret;
}

static void __exit rkp_test_linux_kprobe_exit(void)
{
	unregister_kprobe(&kp);
}

module_init(rkp_test_linux_kprobe_init);
module_exit(rkp_test_linux_kprobe_exit);
MODULE_DESCRIPTION("Linux kprobe for the rkprobes coexistence tests");
MODULE_LICENSE("GPL");
