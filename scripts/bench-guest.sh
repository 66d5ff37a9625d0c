# SPDX-License-Identifier: GPL-2.0
# `make bench`, in the guest: rkp_bench.ko prints its table once with jump optimization off
# and, where rkprobes optimizes (x86-64), once with it on: Linux's (on kernels with its own
# kprobes) and rkprobes' alike.
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
