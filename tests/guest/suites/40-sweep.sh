# kernels: x86_64 x86_64-kprobes x86_64-debug arm64
# SPDX-License-Identifier: GPL-2.0
# A probe at every instruction boundary of three kernel functions that a workload runs
# (every other offset must fail: EILSEQ on x86, EINVAL for a misaligned address on arm64,
# as in Linux), and concurrency: probes registered and unregistered in a loop on one CPU
# while the other CPU keeps hitting them. On arm64 each armed probe takes a hardware
# breakpoint register, so the sweep's probes are enabled a few at a time.
. /rkp/lib.sh
plan 12

insmod rkprobes.ko
insmod rkp_test_ctl.ko
for f in kernel_clone vfs_read do_sys_openat2; do
	if ! out=$(ctl sweep $f ${ARM64:+disabled} 2>&1); then
		not_ok "$f: every offset probed" "$out"
		not_ok "$f: probes fire under a workload" "no sweep"
		continue
	fi
	if [ "$ARM64" ]; then
		while ctl sweepnext 4 2>/dev/null; do workload 2; done
	else
		workload 10
	fi
	line=$(grep '^sweep ' $T/probes)
	echo "rkp-sweep: $line" > /dev/kmsg
	eval "$(echo "$line" | sed 's/^sweep [^ ]* //')"
	refused=$eilseq
	[ "$ARM64" ] && refused=$einval
	if [ "$registered" -gt 10 ] && [ "$refused" -gt 0 ] && [ "$other" = 0 ]; then
		ok "$f: every offset probed ($registered boundaries registered, $eilseq offsets EILSEQ, $einval EINVAL, $eopnotsupp EOPNOTSUPP)"
	else
		not_ok "$f: every offset probed" "$line"
	fi
	if [ "$fired" -gt 0 ]; then
		ok "$f: $fired of $registered probes fired under the workload"
	else
		not_ok "$f: probes fire under a workload" "$line"
	fi
	ctl unsweep
done

# Concurrency: the other CPU forks and reads in a loop while this one churns probes on the
# functions it runs (kernel_clone aggregated with a standing probe, vfs_read alone, so its
# breakpoint is written and removed each time).
check "a standing probe on kernel_clone" ctl add 0 kernel_clone
(workload 1000) &
busy=$!
wait_for eval '[ "$(field 0 4)" -gt 0 ]'
h0=$(field 0 4)
check "churn kernel_clone 50 times under concurrent hits" ctl churn kernel_clone 50
check "churn vfs_read 50 times under concurrent hits" ctl churn vfs_read 50
kill $busy 2>/dev/null
wait $busy 2>/dev/null
check "the standing probe kept firing ($h0 -> $(field 0 4) hits)" test "$(field 0 4)" -gt "$h0"
check "clients and rkprobes unload" sh -c "rmmod rkp_test_ctl && rmmod rkprobes"
check "the system still forks and reads" sh -c "/bin/true && read -r _ < /proc/version"
