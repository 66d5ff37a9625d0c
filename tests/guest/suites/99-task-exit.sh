# kernels: x86_64 x86_64-kprobes x86_64-debug arm64
# SPDX-License-Identifier: GPL-2.0
# What a task that exits inside a probed function does: a return probe on do_exit, which never
# returns. Each exiting task keeps its instance while the probe is registered (maxactive bounds
# them; later exits are missed) and nothing crashes. The instances hold a reference on their
# task, so no later task can take one for its own; once the tasks are dead, unregistering the
# probe reclaims their instances and rkprobes can be unloaded (before: it stayed loaded for
# good).
. /rkp/lib.sh
plan 7

insmod rkprobes.ko
insmod rkp_test_ctl.ko
check "a return probe on do_exit, maxactive 3" sh -c "echo 'kret 0 do_exit 3' > $T/ctl"
for i in 1 2 3 4 5 6; do /bin/true; done
line=$(awk '$1 == "kret" && $2 == 0' $T/probes)
set -- $line
entries=$4 returns=$5 missed=$6
check_eq "no return; instances bounded by maxactive, the rest missed" "$returns $missed" "0 $((entries - 3))"
check "the system keeps forking and exiting" sh -c "for i in 1 2 3; do /bin/true; done"
dmesg -c > /dev/null
check "the client unloads" rmmod rkp_test_ctl
check "the dead tasks' instances are reclaimed" sh -c "dmesg | grep -q 'reclaimed 3 return instances'"
check "rkprobes unloads" rmmod rkprobes
check "and loads again" insmod rkprobes.ko
