# kernels: x86_64 x86_64-kprobes x86_64-debug arm64
# SPDX-License-Identifier: GPL-2.0
# Return probes with callers that sleep inside the probed function: maxactive exhaustion
# counted exactly, `r` in the list, unregistering and unloading while returns are pending,
# and kretprobe_example.ko under a fork storm.
. /rkp/lib.sh
plan 19

S=/sys/kernel/debug/rkp_test_target/sleep

insmod rkprobes.ko
insmod rkp_test_ctl.ko
insmod rkp_test_target.ko
check "a return probe with maxactive 2" ctl kret 0 rkp_test_target_sleep 2
addr=$(kfield 0 3)
check "list shows it with type r" grep -qE "^$addr  r  rkp_test_target_sleep\+0x[0-9a-f]*  rkp_test_target $OPT_RE$" $D/list

# Five callers asleep in the function at once (each long enough for all five to enter): two
# hooked, three missed.
for i in 1 2 3 4 5; do echo 2000 > $S & done
wait
check_eq "entries = returns + missed, exactly (5 = 2 + 3)" "$(kfield 0 4) = $(kfield 0 5) + $(kfield 0 6)" "5 = 2 + 3"

# Unregister while a call is pending: it returns normally, without the handler; rkprobes
# stays loaded until it has.
echo 5000 > $S &
sleeper=$!
wait_for eval '[ "$(kfield 0 4)" = 6 ]'
dmesg -c > /dev/null
check "unregister while a call sleeps inside" ctl kdel 0
check "rkprobes says a call is pending" sh -c "dmesg | grep -q '1 calls still pending: rkprobes stays loaded until they return'"
check "the client unloads" rmmod rkp_test_ctl
check_fails "rkprobes does not unload while the call is pending" rmmod rkprobes
wait $sleeper
check "the pending call returned normally" true
check "its pool was freed when it returned" \
	wait_for sh -c "dmesg | grep -q 'freed 1 return-probe pools: their last pending calls returned'"
check "then rkprobes unloads" rmmod rkprobes
rmmod rkp_test_target

# The sample, under a fork storm.
insmod rkprobes.ko
dmesg -c > /dev/null
check "insmod kretprobe_example.ko func=kernel_clone" insmod kretprobe_example.ko func=kernel_clone
for i in $(seq 1 30); do /bin/true & done
wait
rmmod kretprobe_example
out=$(dmesg -c)
n=$(echo "$out" | grep -cE 'kretprobe_example: kernel_clone returned [0-9]+ and took [0-9]+ ns to execute$')
if [ "$n" -ge 30 ]; then ok "a line for each fork ($n)"; else not_ok "a line for each fork" "$n lines"; fi
check "the planted line" sh -c "echo \"\$1\" | grep -qE 'kretprobe_example: Planted return probe at kernel_clone: 0x[0-9a-f]+$'" - "$out"
check "the missed line at unload" sh -c "echo \"\$1\" | grep -qE 'kretprobe_example: Missed probing [0-9]+ instances of kernel_clone$'" - "$out"

# Success and failure counts with a latency summary, readable while loaded.
check "insmod kretprobe_stats.ko func=do_sys_openat2" insmod kretprobe_stats.ko func=do_sys_openat2
for i in 1 2 3; do cat /rkp-no-such-file 2> /dev/null; done
read -r _ < /proc/version
read -r _ < /proc/version
# One read: every open of the file is itself a call of do_sys_openat2.
stats=$(cat /sys/kernel/debug/kretprobe_stats/stats)
stat() { echo "$stats" | awk -v k="$1:" '$1 == k {print $2}'; }
if [ "$(stat failure)" -ge 3 ] && [ "$(stat success)" -ge 2 ] && [ "$(stat calls)" = $(($(stat success) + $(stat failure))) ]; then
	ok "stats: $(stat calls) calls, $(stat success) succeeded, $(stat failure) failed"
else
	not_ok "stats count successes and failures" "$stats"
fi
check "stats: latency summary" sh -c "echo \"\$1\" | grep -qE '^latency_ns: min [0-9]+ avg [0-9]+ max [0-9]+$'" - "$stats"
check "kretprobe_stats unloads" rmmod kretprobe_stats
check "rkprobes unloads" rmmod rkprobes
