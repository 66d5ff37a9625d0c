# kernels: x86_64-debug
# SPDX-License-Identifier: GPL-2.0
# A breakpoint that cannot be removed: the kernel's fault injection fails the one allocation
# the disarm makes (the writable alias of the text page). The probe's site stays in the
# lookup table, so hits still run the original instruction; rkprobes cannot be unloaded
# while the breakpoint is there; the next removal retries and succeeds. Before, the site was
# dropped with its breakpoint in place and the next hit was an unhandled int3 (an oops).
. /rkp/lib.sh
plan 8

F=/sys/kernel/debug/failslab

insmod rkprobes.ko
insmod rkp_test_ctl.ko
check "probe vfs_read" sh -c "echo 'add 0 vfs_read' > $T/ctl"
workload 3
# The filter first: until it is on, every task's allocations may fail. No stack dump on the
# forced failure (the harness would take it for a splat).
echo Y > $F/task-filter
echo 0 > $F/verbose
echo N > $F/ignore-gfp-wait
echo 1 > $F/interval
echo 1 > $F/times
echo 100 > $F/probability
dmesg -c > /dev/null
# Only this subshell fails, and only its first allocation after make-it-fail: the disarm's.
# The control file is opened before, so the write allocates nothing else first.
(exec 3> $T/ctl; echo 1 > /proc/self/make-it-fail; echo "del 0" >&3) 2>/dev/null
echo 0 > $F/probability
check "the disarm failed and said so" sh -c "dmesg | grep -q 'its breakpoint stays handled'"
check_eq "the probe is unregistered" "$(grep -c . $D/list)" 0
workload 20
ok "vfs_read still runs with the breakpoint in place"
check "the client unloads" rmmod rkp_test_ctl
check_fails "rkprobes stays loaded while the breakpoint is there" rmmod rkprobes
check "a later removal takes the breakpoint out" sh -c \
	"insmod rkp_test_ctl.ko && echo 'add 1 kernel_clone' > $T/ctl && echo 'del 1' > $T/ctl && rmmod rkp_test_ctl"
check "then rkprobes unloads" rmmod rkprobes
