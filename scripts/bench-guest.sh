# SPDX-License-Identifier: GPL-2.0
# `make bench`, in the guest: rkp_bench.ko prints its table, on kernels with Linux's own
# kprobes once with Linux's jump optimization off and once with it on.
set -e
O=/proc/sys/debug/kprobes-optimization
insmod rkprobes.ko
if [ -w $O ]; then
	for opt in 0 1; do
		echo $opt > $O
		echo "bench: ---- Linux's kprobes-optimization=$opt" > /dev/kmsg
		insmod rkp_bench.ko opt=$opt
		rmmod rkp_bench
	done
else
	insmod rkp_bench.ko
	rmmod rkp_bench
fi
rmmod rkprobes
