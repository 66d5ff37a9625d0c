# kernels: x86_64 x86_64-kprobes x86_64-debug
# SPDX-License-Identifier: GPL-2.0
# What a task that exits inside a probed function does: a return probe on do_exit, which never
# returns. Each exiting task keeps its instance (maxactive bounds them; later exits are missed),
# nothing crashes, and rkprobes stays loaded for good (each instance holds a reference on it).
# Last suite: rkprobes cannot be unloaded after it.
. /rkp/lib.sh
plan 5

T=/sys/kernel/debug/rkp_test
insmod rkprobes.ko
insmod rkp_test_ctl.ko
check "a return probe on do_exit, maxactive 3" sh -c "echo 'kret 0 do_exit 3' > $T/ctl"
for i in 1 2 3 4 5 6; do /bin/true; done
line=$(awk '$1 == "kret" && $2 == 0' $T/probes)
set -- $line
entries=$4 returns=$5 missed=$6
check_eq "no return; instances bounded by maxactive, the rest missed" "$returns $missed" "0 $((entries - 3))"
check "the system keeps forking and exiting" sh -c "for i in 1 2 3; do /bin/true; done"
check "the client unloads" rmmod rkp_test_ctl
check_fails "rkprobes stays loaded (3 calls can never return)" rmmod rkprobes
