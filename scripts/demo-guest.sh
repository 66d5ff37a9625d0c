# SPDX-License-Identifier: GPL-2.0
# `make demo`, in the guest: load rkprobes.ko and show its debugfs files.
set -e
D=/sys/kernel/debug/kprobes
echo "== insmod rkprobes.ko"
insmod rkprobes.ko
echo "== ls -l $D"
ls -l $D
for f in list enabled blacklist; do
	echo "== cat $D/$f"
	cat $D/$f
done
echo "== echo 0 > $D/enabled; cat $D/enabled"
echo 0 > $D/enabled
cat $D/enabled
echo 1 > $D/enabled
echo "== rmmod rkprobes"
rmmod rkprobes
