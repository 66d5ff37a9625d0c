# kernels: x86_64 x86_64-kprobes
# SPDX-License-Identifier: GPL-2.0
# Return probes hooked through ftrace (a function with an ftrace site, here a C one): listed
# at the site with [FTRACE]; disabling it and the global switch stop new calls from being
# hooked; unregistering frees pending calls at once (they return without the handler), so
# rkprobes unloads while they still sleep; [GONE] when the function's module goes. With
# ftrace_returns=0 the same function's return probe sits on the trampoline. (Not on the
# debug kernel, whose ftrace breaks once fgraph has had users: Documentation/design.rst.)
. /rkp/lib.sh
plan 20

N=/sys/kernel/debug/rkp_test_target/nap

insmod rkprobes.ko
insmod rkp_test_ctl.ko
insmod rkp_test_target.ko
N=/sys/kernel/debug/rkp_test_target/nap
check "a return probe on a C function" ctl kret 1 rkp_test_target_nap 0
addr=$(kfield 1 3)
check "list shows it at the ftrace site, with [FTRACE]" \
	grep -qE "^$addr  r  rkp_test_target_nap\+0x[04]  rkp_test_target \[FTRACE\]$" $D/list
echo 1 > $N; echo 1 > $N
check_eq "two calls: entries and returns" "$(kfield 1 4) $(kfield 1 5)" "2 2"
check "disable it" ctl kdisable 1
check "list shows [DISABLED][FTRACE]" grep -qE "^$addr  r  .*\[DISABLED\]\[FTRACE\]$" $D/list
echo 1 > $N
check "enable it" ctl kenable 1
echo 0 > $D/enabled
echo 1 > $N
echo 1 > $D/enabled
echo 1 > $N
check_eq "calls while disabled, or globally disarmed, are not hooked" "$(kfield 1 4) $(kfield 1 5)" "3 3"
echo 5000 > $N &
sleeper=$!
wait_for eval '[ "$(kfield 1 4)" = 4 ]'
dmesg -c > /dev/null
check "unregister while a call sleeps inside" ctl kdel 1
check "rkprobes says the call returns without its handler" \
	sh -c "dmesg | grep -q '1 calls still pending will return without their handler'"
check "the client and rkprobes unload at once" sh -c "rmmod rkp_test_ctl && rmmod rkprobes"
wait $sleeper
check "the pending call returned normally" true
insmod rkprobes.ko
insmod rkp_test_ctl.ko
check "a return probe on the C function again" ctl kret 1 rkp_test_target_nap 0
check "its module unloads" rmmod rkp_test_target
check "list shows [GONE][FTRACE]" grep -qE "  r  .*\[GONE\]\[FTRACE\]$" $D/list
check "unregistered" ctl kdel 1
check "the client and rkprobes unload" sh -c "rmmod rkp_test_ctl && rmmod rkprobes"

# ftrace_returns=0: the trampoline, after the site, no [FTRACE].
insmod rkprobes.ko ftrace_returns=0
insmod rkp_test_ctl.ko
insmod rkp_test_target.ko
check "with ftrace_returns=0, a return probe on the C function" ctl kret 1 rkp_test_target_nap 0
addr=$(kfield 1 3)
check "listed after the site, without [FTRACE]" \
	grep -qE "^$addr  r  rkp_test_target_nap\+0x(5|9)  rkp_test_target $OPT_RE$" $D/list
echo 1 > $N
check_eq "one call: entry and return" "$(kfield 1 4) $(kfield 1 5)" "1 1"
check "unloaded" sh -c "echo 'kdel 1' > $T/ctl; rmmod rkp_test_ctl && rmmod rkp_test_target && rmmod rkprobes"
