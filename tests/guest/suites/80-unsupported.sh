# kernels: arm64
# SPDX-License-Identifier: GPL-2.0
# arm64 has no probe backend yet (Linux 7.3 lets no module receive BRK exceptions): a client
# gets EOPNOTSUPP and says so; rkprobes stays healthy and unloads.
. /rkp/lib.sh
plan 4

check "rkprobes.ko loads" insmod rkprobes.ko
dmesg -c > /dev/null
out=$(insmod kprobe_example.ko func=kernel_clone 2>&1)
case $out in
*"not supported"* | *"Operation not supported"*) ok "a probe fails with EOPNOTSUPP" ;;
*) not_ok "a probe fails with EOPNOTSUPP" "$out" ;;
esac
check "and the client says so" sh -c "dmesg -c | grep -q 'register_kprobe failed for kernel_clone, returned -95'"
check "rkprobes.ko unloads" rmmod rkprobes
