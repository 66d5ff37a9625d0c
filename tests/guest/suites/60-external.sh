# kernels: x86_64 x86_64-kprobes x86_64-debug arm64
# SPDX-License-Identifier: GPL-2.0
# A client module built outside rkprobes' Kbuild (tests/external-client) prints its own KTAP
# suite ("external"): one result when it loads, one when it unloads after some forks.
insmod rkprobes.ko || exit 1
insmod rkp_external.ko || exit 0
for i in 1 2 3; do /bin/true; done
rmmod rkp_external
rmmod rkprobes
