// SPDX-License-Identifier: GPL-2.0
/*
 * The string parameter of kprobe_example.ko (`func=...`): the module! macro of Rust modules
 * takes integers and booleans only, so this C part declares it, as Linux's sample does.
 */
#include <linux/kallsyms.h>
#include <linux/moduleparam.h>

static char func[KSYM_NAME_LEN] = "kernel_clone";
module_param_string(func, func, KSYM_NAME_LEN, 0444);
MODULE_PARM_DESC(func, "Function to probe (default kernel_clone)");

const char *kprobe_example_func(void);

const char *kprobe_example_func(void)
{
	return func;
}
