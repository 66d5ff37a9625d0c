# kernels: stress
# SPDX-License-Identifier: GPL-2.0
# SMP stress (check.sh runs it on a 4-vCPU guest): every vCPU runs a workload that hits
# probed functions (fork, read; a module function too) while other threads register and
# unregister probes and return probes, enable and disable them, flip the global switch,
# load and unload a client module that leaks its probes, and unload a probed module ([GONE])
# and load it again, and define, enable, disable and remove probe events through
# kprobe_events beside one that stays enabled. On x86-64, the standing probe is then jump-optimized, disabled (the jump
# goes) and enabled (a breakpoint, then a jump again) ten times while every vCPU forks. Then a fork storm under a return probe must end with entries = returns
# + missed exactly, and everything must unload with no slot, instance or module reference
# left. Bounded: DUR seconds of churn.
# Return probes stay on rkprobes' trampoline (ftrace_returns=0): the churn would otherwise
# register and unregister fprobes hundreds of times, and Linux's own ftrace patching, churned
# like that, oopses these guests with no rkprobes code involved (tests/guest/repro/).
. /rkp/lib.sh
plan 12

TT=/sys/kernel/debug/rkp_test_target
DUR=20
CPUS=$(nproc)

insmod rkprobes.ko ftrace_returns=0
insmod rkp_test_ctl.ko
insmod rkp_test_target.ko
check "standing probes: kernel_clone, vfs_read, a return probe on kernel_clone" sh -c \
	"echo 'add 0 kernel_clone' > $T/ctl && echo 'add 1 vfs_read' > $T/ctl && echo 'kret 0 kernel_clone 0' > $T/ctl"
EV=/sys/kernel/tracing/events/kprobes
echo 'p:standing vfs_read count=$arg3:u64 comm=$comm' > $D/kprobe_events
echo 1 > $EV/standing/enable
start=$(date +%s)
end=$((start + DUR))
running() { [ "$(date +%s)" -lt $end ]; }

# One hitter per vCPU.
i=0
while [ $i -lt "$CPUS" ]; do
	(while running; do /bin/true; read -r _ < /proc/version; done) 2>/dev/null &
	i=$((i + 1))
done
# Churners; each counts its registrations in /tmp.
(n=0; while running; do ctl churn vfs_read 10; ctl churn kernel_clone 10; n=$((n + 20)); done; echo $n > /tmp/r.churn) 2>/dev/null &
(n=0; while running; do
	ctl disable 0; ctl enable 0
	ctl add 2 do_sys_openat2 && n=$((n + 1)); ctl del 2
	ctl kret 1 vfs_read 0 && n=$((n + 1)); ctl kdel 1
done; echo $n > /tmp/r.ctl) 2>/dev/null &
(while running; do echo 0 > $D/enabled; echo 1 > $D/enabled; done) 2>/dev/null &
(n=0; while running; do insmod rkp_test_leak.ko && n=$((n + 2)); rmmod rkp_test_leak; done; echo $n > /tmp/r.leak) 2>/dev/null &
(n=0; while running; do
	echo 'p:churn do_sys_openat2 f=+0($arg2):string' >> $D/kprobe_events &&
	echo 'r:churnr kernel_clone ret=$retval:s64' >> $D/kprobe_events &&
	echo 1 > $EV/churn/enable && echo 1 > $EV/churnr/enable &&
	echo 0 > $EV/churn/enable && echo 0 > $EV/churnr/enable &&
	echo '-:churn' >> $D/kprobe_events && echo '-:churnr' >> $D/kprobe_events && n=$((n + 1))
done; echo $n > /tmp/r.events) 2>/dev/null &
# At least once, however slow registration is under this load.
(n=0; while :; do
	ctl add 3 rkp_test_target_fn && n=$((n + 1))
	echo 1 > $TT/call
	rmmod rkp_test_target && grep -q '\[GONE\]' $D/list && echo gone >> /tmp/gone
	ctl del 3; insmod rkp_test_target.ko
	running || break
done; echo $n > /tmp/r.target) 2>/dev/null &
wait
elapsed=$(( $(date +%s) - start ))
echo 1 > $D/enabled
regs=$(( $(cat /tmp/r.churn) + $(cat /tmp/r.ctl) + $(cat /tmp/r.leak) + $(cat /tmp/r.target) ))
check "the churn ran ($elapsed s, $regs registrations)" test "$regs" -gt 50
echo 0 > $EV/standing/enable
lines=$(grep -c ' standing: (vfs_read+0x[0-9a-f]*/0x[0-9a-f]*) count=[0-9]* comm="' /sys/kernel/tracing/trace)
check "probe events: $(cat /tmp/r.events) define-enable-disable-remove cycles, $lines records of the standing one" \
	sh -c "[ $(cat /tmp/r.events) -gt 0 ] && [ $lines -gt 0 ] && echo > $D/kprobe_events"
check "a probed module was unloaded under probes ([GONE]) $(grep -c gone /tmp/gone 2>/dev/null) times" test -s /tmp/gone
hits=$(field 0 4) missed=$(field 0 5)
# How often it fired depends on how long the switches above kept it disarmed, which the
# host's scheduling decides (46 to 3527 hits seen): it must have fired, and must still
# fire on every call now that the churn is over.
check "the standing probe fired during the churn ($hits hits, $missed missed)" test "${hits:-0}" -gt 0
j=0
while [ $j -lt 100 ]; do /bin/true; j=$((j + 1)); done
after=$(field 0 4)
check "after the churn it fires on every call ($hits + 100 forks -> $after hits)" test "$after" -ge $((hits + 100))

# Jump optimization under load: the optimizer makes the probe on kernel_clone a jump; disabling
# it takes the jump out while every vCPU forks.
if [ "$JUMPS" ]; then
	: > /tmp/forking
	i=0
	while [ $i -lt "$CPUS" ]; do
		(while [ -e /tmp/forking ]; do /bin/true; done) 2>/dev/null &
		i=$((i + 1))
	done
	jumps=0 c=0
	while [ $c -lt 10 ]; do
		wait_for grep -q 'kernel_clone+.*\[OPTIMIZED\]' $D/list && jumps=$((jumps + 1))
		ctl disable 0
		ctl enable 0
		c=$((c + 1))
	done
	rm /tmp/forking
	wait
	check_eq "the probe on kernel_clone was a jump again after each of 10 disables under load" "$jumps" 10
else
	ok "# SKIP no jump-optimized probes on $(uname -m)"
fi

# A fork storm on every vCPU under the return probe: every entry returns or is missed.
i=0
while [ $i -lt "$CPUS" ]; do (j=0; while [ $j -lt 50 ]; do /bin/true; j=$((j + 1)); done) & i=$((i + 1)); done
wait
# One read of the file: its returns are read before its entries.
balance() {
	set -- $(awk '$1 == "kret" && $2 == 0 {print $4, $5, $6}' $T/probes)
	e=$1 r=$2 m=$3
	[ "$e" = $((r + m)) ]
}
balance || { sleep 1; balance; }
check_eq "fork storm: entries = returns + missed ($e = $r + $m)" "$e" "$((r + m))"
ktap "# stress: $CPUS vCPUs, $elapsed s, $regs registrations, kernel_clone probe $hits hits $missed missed, return probe $e entries $r returns $m missed"
dmesg -c > /dev/null
check "the clients unload" sh -c "rmmod rkp_test_ctl && rmmod rkp_test_target"
check "nothing is left registered" sh -c "! grep -q . $D/list"
check "rkprobes unloads (no instance or module reference left)" rmmod rkprobes
check "no slot was left in use" sh -c "dmesg | grep -q 'unloaded (0 slots were in use)'"
