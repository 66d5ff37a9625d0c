/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The `func=` string parameter of the samples: the module! macro of Rust modules takes
 * integers and booleans only, so a small C part of each sample declares it, as Linux's
 * samples do, with an accessor for the Rust part.
 */
#ifndef RKP_SAMPLE_FUNC_PARAM_H
#define RKP_SAMPLE_FUNC_PARAM_H

#include <linux/kallsyms.h>
#include <linux/moduleparam.h>

#define RKP_SAMPLE_FUNC_PARAM(accessor, default_func)					\
	static char func[KSYM_NAME_LEN] = default_func;					\
	module_param_string(func, func, KSYM_NAME_LEN, 0444);				\
	MODULE_PARM_DESC(func, "Function to probe (default " default_func ")");		\
	const char *accessor(void);							\
	const char *accessor(void)							\
	{										\
		return func;								\
	}

#endif
