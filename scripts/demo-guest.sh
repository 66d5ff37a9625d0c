# SPDX-License-Identifier: GPL-2.0
# `make demo`, in the guest: load rkprobes.ko, show its debugfs files, put a probe on
# kernel_clone through the test client module and show it firing.
set -e
D=/sys/kernel/debug/kprobes
T=/sys/kernel/debug/rkp_test
echo "== insmod rkprobes.ko"
insmod rkprobes.ko
echo "== ls -l $D"
ls -l $D
echo "== cat $D/enabled"
cat $D/enabled
echo "== head -5 $D/blacklist ($(grep -c . $D/blacklist) lines)"
head -5 $D/blacklist
echo "== a probe on kernel_clone (rkp_test_ctl.ko, a client module), then 3 forks"
insmod rkp_test_ctl.ko
echo "add 0 kernel_clone" > $T/ctl
for i in 1 2 3; do /bin/true; done
echo "== cat $D/list"
cat $D/list
echo "== the client's view: id address symbol hits missed disabled"
cat $T/probes
echo "== rmmod"
rmmod rkp_test_ctl
rmmod rkprobes
