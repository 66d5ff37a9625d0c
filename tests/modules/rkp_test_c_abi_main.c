// SPDX-License-Identifier: GPL-2.0
/*
 * A C module built against another rkprobes ABI: registration must fail with EPROTO (and
 * rkprobes log why) without reading the structure. Loads only if it does.
 */
#include <linux/errno.h>
#include <linux/module.h>
#include <linux/printk.h>
#include <rkprobes.h>

static struct rkp_kprobe kp = {
	.symbol_name = "kernel_clone",
};

static int __init rkp_test_c_abi_init(void)
{
	int ret = rkp_register_kprobe_abi(&kp, RKP_ABI_VERSION + 1);

	if (ret != -EPROTO) {
		pr_err("rkp_test_c_abi: registering with ABI %u returned %d, not -EPROTO\n",
		       RKP_ABI_VERSION + 1, ret);
		if (!ret)
			rkp_unregister_kprobe(&kp);
		return -EINVAL;
	}
	pr_info("rkp_test_c_abi: ABI %u refused with -EPROTO\n", RKP_ABI_VERSION + 1);
	return 0;
}

static void __exit rkp_test_c_abi_exit(void)
{
}

module_init(rkp_test_c_abi_init);
module_exit(rkp_test_c_abi_exit);
MODULE_DESCRIPTION("rkprobes test: a C module of another ABI version is refused");
MODULE_LICENSE("GPL");
