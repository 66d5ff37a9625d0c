# kernels: x86_64 x86_64-kprobes x86_64-debug arm64
# SPDX-License-Identifier: GPL-2.0
# CPU hotplug: a probe armed before a CPU goes offline fires on it once it is back, and so
# does one armed while it was offline. (On arm64 each CPU has its own breakpoint registers:
# perf drops a CPU's breakpoints when it goes offline, and a CPU coming online gets none
# unless rkprobes gives them.) Work is pinned to CPU 1 with taskset.
. /rkp/lib.sh
plan 9

C=/sys/devices/system/cpu/cpu1/online
# on1 CMD: CMD five times on CPU 1.
on1() { taskset -c 1 sh -c "i=0; while [ \$i -lt 5 ]; do $1; i=\$((i + 1)); done"; }
# grew ID BEFORE: probe ID has at least 5 hits more than BEFORE.
grew() { [ "$(field "$1" 4)" -ge $(($2 + 5)) ]; }

insmod rkprobes.ko
insmod rkp_test_ctl.ko
check "a probe on kernel_clone" ctl add 0 kernel_clone
check "CPU 1 goes offline" sh -c "echo 0 > $C"
check "a probe on vfs_read while CPU 1 is offline" ctl add 1 vfs_read
check "CPU 1 comes back online" sh -c "echo 1 > $C"
h0=$(field 0 4)
on1 /bin/true
check "the probe armed before fires on CPU 1 ($h0 -> $(field 0 4) hits)" grew 0 "$h0"
h1=$(field 1 4)
on1 "read -r _ < /proc/version"
check "the probe armed while it was offline fires on CPU 1 ($h1 -> $(field 1 4) hits)" grew 1 "$h1"
ctl del 0
ctl del 1
check "offline and online again with no probe" sh -c "echo 0 > $C && echo 1 > $C"
check "the clients unload" rmmod rkp_test_ctl
check "rkprobes unloads" rmmod rkprobes
