# kernels: x86_64-kprobes
# SPDX-License-Identifier: GPL-2.0
# rkprobes beside the kernel's own kprobes: both kinds registered at once, each firing only
# its own handlers and listed only in its own debugfs directory; neither takes an address
# where the other has its breakpoint. At a function's entry they meet no more: Linux probes
# the ftrace site through ftrace ([FTRACE]), rkprobes the instruction after it.
. /rkp/lib.sh
plan 14

linux_hits() { cat /sys/module/rkp_test_linux_kprobe/parameters/hits; }
# offset_of ID: the offset of rkprobes' probe ID in its function.
offset_of() { awk -v id="$1" '$1 == id {sub(/.*\+/, "", $3); print $3}' $T/probes; }

insmod rkprobes.ko
insmod rkp_test_ctl.ko
check "an rkprobe on kernel_clone" ctl add 0 kernel_clone
kc_off=$(offset_of 0)
# Where rkprobes puts an entry probe on vfs_read: Linux's breakpoint goes there.
ctl add 1 vfs_read
vr_off=$(offset_of 1)
ctl del 1
check "a Linux kprobe on vfs_read+$vr_off" insmod rkp_test_linux_kprobe.ko func=vfs_read offset=$((vr_off))
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
check_fails "Linux refuses rkprobes' breakpoint address" insmod rkp_test_linux_kprobe.ko func=kernel_clone offset=$((kc_off))
rmmod rkp_test_linux_kprobe 2>/dev/null
# At a function's entry: Linux's probe goes through ftrace, rkprobes' after the ftrace site.
check "Linux's entry probe on ksys_read" insmod rkp_test_linux_kprobe.ko func=ksys_read
check "rkprobes' entry probe on ksys_read beside it" ctl add 2 ksys_read
workload 5
h=$(linux_hits) ours=$(awk '$1 == 2 {print $4}' $T/probes)
if [ "$h" -gt 0 ] && [ "$ours" -gt 0 ] && grep -q 'ksys_read.*\[FTRACE\]' /sys/kernel/debug/kprobes/list; then
	ok "both fire at the entry ($h and $ours hits)"
else
	not_ok "both fire at the entry" "Linux $h, ours $ours; $(cat /sys/kernel/debug/kprobes/list)"
fi
check_fails "rkprobes honours a module's NOKPROBE_SYMBOL()" ctl add 3 rkp_test_nokprobe_fn
check "and lists it in its blacklist" grep -q '	rkp_test_nokprobe_fn \[rkp_test_linux_kprobe\]$' /sys/kernel/debug/rkprobes/blacklist
rmmod rkp_test_linux_kprobe
check "unload" sh -c "rmmod rkp_test_ctl && rmmod rkprobes"
