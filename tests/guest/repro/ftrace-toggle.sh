# kernels: none
# SPDX-License-Identifier: GPL-2.0
# Not a test of rkprobes: a reproducer for Linux's own ftrace patching failing in our QEMU
# guests (Documentation/testing.rst, "Linux's ftrace patching under churn"). No module is
# loaded; the function tracer is switched on and off for vfs_read and kernel_clone while
# every vCPU calls them. Run it with
#   scripts/vm.sh --kernel x86_64 --mode check --smp 4 --suite tests/guest/repro/ftrace-toggle.sh
# On x86_64 (QEMU 7.2 TCG, Linux 7.3.4) the guest oopses within seconds on 1 or 4 vCPUs,
# multi- or single-threaded TCG: a call through a stack address from the ftrace site, or an
# int3 at the site that smp_text_poke_int3_handler() does not claim.
. /rkp/lib.sh
plan 1
TR=/sys/kernel/tracing
[ -d $TR/instances ] || mount -t tracefs nodev $TR
end=$(($(date +%s) + 40))
running() { [ "$(date +%s)" -lt $end ]; }
i=0
while [ $i -lt "$(nproc)" ]; do
	(while running; do /bin/true; read -r _ < /proc/version; done) 2>/dev/null &
	i=$((i + 1))
done
(n=0; while running; do
	echo vfs_read > $TR/set_ftrace_filter
	echo kernel_clone >> $TR/set_ftrace_filter
	echo function > $TR/current_tracer
	echo nop > $TR/current_tracer
	n=$((n + 1))
done; echo $n > /tmp/n) &
wait
check "the function tracer went on and off $(cat /tmp/n) times" test "$(cat /tmp/n)" -gt 10
