# kernels: x86_64 x86_64-kprobes x86_64-debug
# SPDX-License-Identifier: GPL-2.0
# The in-kernel tests: rkp_selftest.ko prints its own KTAP suite ("selftest") while it loads.
insmod rkprobes.ko || exit 1
insmod rkp_selftest.ko
rmmod rkp_selftest
rmmod rkprobes
