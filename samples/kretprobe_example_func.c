// SPDX-License-Identifier: GPL-2.0
/* The string parameter of kretprobe_example.ko (`func=...`), as in kprobe_example_func.c. */
#include <linux/kallsyms.h>
#include <linux/moduleparam.h>

static char func[KSYM_NAME_LEN] = "kernel_clone";
module_param_string(func, func, KSYM_NAME_LEN, 0444);
MODULE_PARM_DESC(func, "Function to probe (default kernel_clone)");

const char *kretprobe_example_func(void);

const char *kretprobe_example_func(void)
{
	return func;
}
