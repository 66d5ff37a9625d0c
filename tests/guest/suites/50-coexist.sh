# kernels: x86_64-kprobes
# SPDX-License-Identifier: GPL-2.0
# rkprobes beside the kernel's own kprobes: both kinds registered at once, each firing only
# its own handlers and listed only in its own debugfs directory; neither takes an address
# where the other has its breakpoint.
. /rkp/lib.sh
plan 9

T=/sys/kernel/debug/rkp_test
ctl() { echo "$*" > $T/ctl; }
linux_hits() { cat /sys/module/rkp_test_linux_kprobe/parameters/hits; }
workload() {
	i=0
	while [ $i -lt 5 ]; do
		/bin/true
		cat /proc/version > /dev/null
		i=$((i + 1))
	done
}

insmod rkprobes.ko
insmod rkp_test_ctl.ko
check "an rkprobe on kernel_clone" ctl add 0 kernel_clone
check "a Linux kprobe on vfs_read" insmod rkp_test_linux_kprobe.ko func=vfs_read
workload
ours=$(awk '$1 == 0 {print $4}' $T/probes)
theirs=$(linux_hits)
if [ "$ours" -gt 0 ] && [ "$theirs" -gt 0 ]; then ok "both fire ($ours and $theirs hits)"; else not_ok "both fire" "ours $ours, Linux's $theirs"; fi
check_eq "rkprobes lists only its own" "$(grep -c . /sys/kernel/debug/rkprobes/list)" 1
check "Linux lists only its own" sh -c "grep -q ' vfs_read+' /sys/kernel/debug/kprobes/list && ! grep -q kernel_clone /sys/kernel/debug/kprobes/list"
out=$(ctl add 1 vfs_read 2>&1)
case $out in
*Invalid*) ok "rkprobes refuses Linux's breakpoint address (EINVAL)" ;;
*) not_ok "rkprobes refuses Linux's breakpoint address (EINVAL)" "$out" ;;
esac
rmmod rkp_test_linux_kprobe
check_fails "Linux refuses rkprobes' breakpoint address" insmod rkp_test_linux_kprobe.ko func=kernel_clone
check "unload" sh -c "rmmod rkp_test_ctl && rmmod rkprobes"
check "Linux's kprobes still work alone" sh -c "insmod rkp_test_linux_kprobe.ko func=vfs_read && cat /proc/version > /dev/null && [ \$(cat /sys/module/rkp_test_linux_kprobe/parameters/hits) -gt 0 ] && rmmod rkp_test_linux_kprobe"
