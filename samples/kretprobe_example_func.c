// SPDX-License-Identifier: GPL-2.0
#include "func_param.h"

RKP_SAMPLE_FUNC_PARAM(kretprobe_example_func, "kernel_clone")
