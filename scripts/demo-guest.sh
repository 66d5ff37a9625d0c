# SPDX-License-Identifier: GPL-2.0
# `make demo`, in the guest: load rkprobes.ko and kretprobe_example.ko func=kernel_clone, fork,
# and show the sample's output and the debugfs files.
set -e
D=/sys/kernel/debug/kprobes
echo "== insmod rkprobes.ko"
insmod rkprobes.ko
echo "== ls -l $D"
ls -l $D
echo "== insmod kretprobe_example.ko func=kernel_clone, then 3 forks"
insmod kretprobe_example.ko func=kernel_clone
for i in 1 2 3; do /bin/true; done
echo "== cat $D/list"
cat $D/list
echo "== cat $D/enabled"
cat $D/enabled
echo "== head -3 $D/blacklist ($(grep -c . $D/blacklist) lines)"
head -3 $D/blacklist
echo "== rmmod kretprobe_example rkprobes"
rmmod kretprobe_example
rmmod rkprobes
