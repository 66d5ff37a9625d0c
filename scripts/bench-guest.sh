# SPDX-License-Identifier: GPL-2.0
# `make bench`, in the guest: rkp_bench.ko prints its table once with jump optimization off
# and, where rkprobes optimizes (x86-64), once with it on: Linux's (on kernels with its own
# kprobes) and rkprobes' alike. Then the row of a probe event, defined from the shell.
set -e
O=/proc/sys/debug/kprobes-optimization
opts=0
[ "$(uname -m)" != x86_64 ] || opts="0 1"
for opt in $opts; do
	[ ! -w $O ] || echo $opt > $O
	echo "bench: ---- kprobes-optimization=$opt, rkprobes jump_optimization=$opt" > /dev/kmsg
	insmod rkprobes.ko jump_optimization=$opt
	insmod rkp_bench.ko opt=$opt
	rmmod rkp_bench
	rmmod rkprobes
done

# A probe event recording the first argument and $comm on each of 1000 calls of rkp_bench_entry,
# Linux's
# (tracefs kprobe_events) and rkprobes' (its debugfs kprobe_events): the loop's time with the
# event enabled, less its time without, per call. Both events wait for rkp_bench to load, so
# no jump is in place (an optimizer pass comes later). The argument is a register:
# Linux refuses $argN on a module that is not loaded (it cannot tell a function's entry).
event_run() {
	insmod rkp_bench.ko event_run=1
	rmmod rkp_bench
	dmesg | sed -n 's/.*bench-event: //p' | tail -1
}
event_cost() {
	echo "p:benchev rkp_bench:rkp_bench_entry x=$ARG1:s64 comm=\$comm" > "$1/kprobe_events"
	echo 1 > /sys/kernel/tracing/events/kprobes/benchev/enable
	t=$(event_run)
	echo 0 > /sys/kernel/tracing/events/kprobes/benchev/enable
	echo > "$1/kprobe_events"
	echo $(((t - plain) / 1000))
}
[ ! -w $O ] || echo 0 > $O
echo "bench: ---- probe events (kprobes-optimization=0, rkprobes jump_optimization=0)" > /dev/kmsg
ARG1=%di
[ "$(uname -m)" = x86_64 ] || ARG1=%x0
insmod rkprobes.ko jump_optimization=0
D=/sys/kernel/debug/kprobes
[ ! -d /sys/kernel/debug/rkprobes ] || D=/sys/kernel/debug/rkprobes
plain=$(event_run)
linux=- ratio=-
[ ! -w /sys/kernel/tracing/kprobe_events ] || linux=$(event_cost /sys/kernel/tracing)
rkp=$(event_cost $D)
[ "$linux" -gt 0 ] 2>/dev/null && ratio=$(awk -v r="$rkp" -v l="$linux" 'BEGIN { printf "%.2fx", r / l }')
printf 'bench: %-50s %10s %10s %7s\n' "instructions per hit (1000 calls)" linux rkprobes ratio > /dev/kmsg
printf 'bench: %-50s %10s %10s %7s\n' "probe event ($ARG1, \$comm) into the ring buffer" "$linux" "$rkp" "$ratio" > /dev/kmsg
rmmod rkprobes
