# kernels: x86_64 x86_64-kprobes x86_64-debug arm64
# SPDX-License-Identifier: GPL-2.0
# Text the kernel rewrites at run time: jump-label sites (flipped by enabling a tracepoint),
# inline static-call sites (rewritten by switching the preemption model) and ftrace's
# function-entry sites (rewritten by the function and function-graph tracers) are never
# probed; probes everywhere else in those functions stay in place and keep firing while the
# kernel rewrites them. Before rkprobes knew these sites, the jump-label flip hit
# `kernel BUG at arch/x86/kernel/jump_label.c`, the preemption switch an invalid opcode, and
# the function tracer a WARNING in ftrace_verify_code. On arm64 (hardware breakpoints: no
# text is written) a prepared copy of a rewritten instruction would go stale instead; there
# the sweep's probes are armed four at a time, and arm64 has no inline static calls.
. /rkp/lib.sh
plan 20

TR=/sys/kernel/tracing
sweep_field() { grep '^sweep ' $T/probes | tr ' ' '\n' | sed -n "s/^$1=//p"; }

insmod rkprobes.ko
insmod rkp_test_ctl.ko
[ -f $TR/trace ] || mount -t tracefs nodev $TR

# kernel_clone has the sched_process_fork tracepoint (a jump label) and, with
# PREEMPT_DYNAMIC, inline static calls (cond_resched and friends).
# arm_some: on arm64, arms the sweep's probes four at a time with a workload each time.
arm_some() { [ -z "$ARM64" ] || while ctl sweepnext 4 2>/dev/null; do workload 1; done; }
dmesg -c > /dev/null
check "every boundary of kernel_clone probed" ctl sweep kernel_clone ${ARM64:+disabled}
check "its jump-label sites are refused with EINVAL and a log line" sh -c "dmesg | grep -q 'a jump-label site'"
if [ "$ARM64" ]; then
	ok "its static-call sites too # SKIP arm64 has no inline static calls"
else
	check "its static-call sites too" sh -c "dmesg | grep -q 'a static-call site'"
fi
einval=$(sweep_field einval)
registered=$(sweep_field registered)
# On arm64 three offsets in four are misaligned (EINVAL too): count the instructions refused.
refused=$einval
[ "$ARM64" ] && refused=$(dmesg | grep -c 'cannot prepare\|a jump-label site\|an instruction with')
check "the refusals are few ($refused refused, $registered registered)" sh -c "[ $refused -gt 0 ] && [ $refused -lt 10 ] && [ $registered -gt 100 ]"
check "flip the tracepoint's key on" sh -c "echo 1 > $TR/events/sched/sched_process_fork/enable"
workload 20
arm_some
check "the tracepoint fires through the probed function" grep -q sched_process_fork $TR/trace
check "flip it off" sh -c "echo 0 > $TR/events/sched/sched_process_fork/enable"
workload 5
fired=$(sweep_field fired)
check "the probes fired meanwhile ($fired)" test "$fired" -gt 10
P=/sys/kernel/debug/sched/preempt
if [ -w $P ]; then
	modes=$(tr -d '()' < $P)
	was=$(sed 's/.*(\(.*\)).*/\1/' $P)
	check "switch preemption through every model ($modes), static calls rewritten" sh -c \
		"for m in $modes $was; do echo \$m > $P || exit 1; /bin/true; done"
else
	not_ok "switch preemption models" "no /sys/kernel/debug/sched/preempt"
fi
workload 5
ctl unsweep

# Function entries are ftrace sites: a probe at sym+0 sits after the site, and fires with
# the entry's registers, whatever ftrace does to the site.
check "probe kernel_clone at its entry" ctl add 0 kernel_clone
check "probe vfs_read at its entry" ctl add 1 vfs_read
where=$(field 0 3)
# x86: ENDBR and the 5-byte site; arm64: ftrace's two instructions.
entry=kernel_clone+0x9
[ "$ARM64" ] && entry=kernel_clone+0x8
check_eq "the entry probe sits after the ENDBR/ftrace site" "$where" $entry
check "enable the function tracer on the probed functions" sh -c \
	"echo 'kernel_clone vfs_read' > $TR/set_ftrace_filter && echo function > $TR/current_tracer"
h0=$(field 0 4)
workload 10
check "the tracer saw the functions" grep -q kernel_clone $TR/trace
check "function_graph, then nop" sh -c "echo function_graph > $TR/current_tracer && /bin/true && echo nop > $TR/current_tracer && echo > $TR/set_ftrace_filter"
workload 10
h1=$(field 0 4)
check "the entry probe fired all along ($h0 -> $h1 hits)" test "$h1" -ge $((h0 + 20))
# Through ftrace, at the site; on the debug kernel (ftrace_returns=0) and on arm64 on a
# breakpoint after it.
listed='  r  kernel_clone\+0x4  +\[FTRACE\]$'
[ "$RKP_KERNEL" = x86_64-debug ] && listed="  r  kernel_clone\\+0x9  +$OPT_RE\$"
[ "$ARM64" ] && listed='  r  kernel_clone\+0x8  +$'
check "a return probe on kernel_clone, listed at its entry" sh -c \
	"echo 'kret 0 kernel_clone 0' > $T/ctl && /bin/true && grep -qE '$listed' $D/list"
r0=$(awk '$1 == "kret" {print $5}' $T/probes)
# Not function_graph: with it, Linux 7.3 WARNs in fprobe_return() for any fprobe with an exit
# handler (Documentation/design.rst, "Linux bugs met").
check "the function tracer on and off under it" sh -c \
	"echo kernel_clone > $TR/set_ftrace_filter && echo function > $TR/current_tracer && /bin/true && echo nop > $TR/current_tracer && echo > $TR/set_ftrace_filter"
workload 5
r1=$(awk '$1 == "kret" {print $5}' $T/probes)
check "the return probe fired all along ($r0 -> $r1 returns)" test "$r1" -ge $((r0 + 6))
check "clients and rkprobes unload" sh -c "echo 'kdel 0' > $T/ctl; rmmod rkp_test_ctl && rmmod rkprobes"
