# kernels: x86_64-kprobes
# SPDX-License-Identifier: GPL-2.0
# rkprobes beside the kernel's own kprobes: both kinds registered at once, each firing only
# its own handlers and listed only in its own debugfs directory; neither takes an address
# where the other has its breakpoint.
. /rkp/lib.sh
plan 10

T=/sys/kernel/debug/rkp_test
ctl() { echo "$*" > $T/ctl; }
linux_hits() { cat /sys/module/rkp_test_linux_kprobe/parameters/hits; }

insmod rkprobes.ko
insmod rkp_test_ctl.ko
check "an rkprobe on kernel_clone" ctl add 0 kernel_clone
check "a Linux kprobe on vfs_read" insmod rkp_test_linux_kprobe.ko func=vfs_read
workload 5
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
# Linux replaces its breakpoint with a jump to a detour buffer a little later.
i=0
while ! grep -q 'vfs_read.*\[OPTIMIZED\]' /sys/kernel/debug/kprobes/list && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
out=$(ctl add 1 vfs_read 2>&1)
case $out in
*Invalid*) ok "rkprobes refuses Linux's optimized probe too (EINVAL)" ;;
*) not_ok "rkprobes refuses Linux's optimized probe too (EINVAL)" "$out; $(cat /sys/kernel/debug/kprobes/list)" ;;
esac
rmmod rkp_test_linux_kprobe
# Linux's boundary walk decodes rkprobes' int3 as an instruction: EILSEQ.
check_fails "Linux refuses rkprobes' breakpoint address" insmod rkp_test_linux_kprobe.ko func=kernel_clone
check "unload" sh -c "rmmod rkp_test_ctl && rmmod rkprobes"
# A fresh function: re-registering where Linux's own (optimized) probe was just removed goes
# through Linux's asynchronous unoptimizer, which is not what this checks.
if insmod rkp_test_linux_kprobe.ko func=ksys_read; then
	read -r _ < /proc/version
	read -r _ < /proc/version
	h=$(linux_hits)
	if [ "$h" -gt 0 ]; then ok "Linux's kprobes still work alone ($h hits)"; else not_ok "Linux's kprobes still work alone" "$h hits; $(cat /sys/kernel/debug/kprobes/list)"; fi
	rmmod rkp_test_linux_kprobe
else
	not_ok "Linux's kprobes still work alone" "insmod failed"
fi
