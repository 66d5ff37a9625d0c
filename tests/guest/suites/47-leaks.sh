# kernels: x86_64 x86_64-kprobes x86_64-debug arm64
# SPDX-License-Identifier: GPL-2.0
# A client module that leaks its registrations (mem::forget) and is unloaded: rkprobes
# unregisters its probes before its handler text is freed. Without that, the next fork or
# read called into freed text.
. /rkp/lib.sh
plan 6

insmod rkprobes.ko
check "a client that leaks a kprobe and a return probe loads" insmod rkp_test_leak.ko
workload 5
check_eq "both are listed" "$(grep -cE 'kernel_clone|vfs_read' $D/list)" 2
dmesg -c > /dev/null
check "the client unloads" rmmod rkp_test_leak
check "rkprobes says it unregistered them" sh -c "dmesg | grep -q 'left 2 probes registered'"
workload 20
check_eq "nothing is listed, and forks and reads go on" "$(grep -c . $D/list)" 0
check "rkprobes unloads" rmmod rkprobes
