// SPDX-License-Identifier: GPL-2.0
#include "func_param.h"

RKP_SAMPLE_FUNC_PARAM(kretprobe_stats_func, "do_sys_openat2")
