# kernels: x86_64 x86_64-kprobes x86_64-debug arm64
# SPDX-License-Identifier: GPL-2.0
# C modules through include/rkprobes.h: Linux's kprobe_example.c ported by renaming loads and
# prints the probe's address and registers; a module built against another ABI version is
# refused with EPROTO and a log line.
. /rkp/lib.sh
plan 8

insmod rkprobes.ko
dmesg -c > /dev/null
check "insmod c_kprobe_example.ko symbol=kernel_clone" insmod c_kprobe_example.ko symbol=kernel_clone
workload 2
out=$(dmesg -c)
planted=$(echo "$out" | sed -n 's/.*kprobe_init: Planted kprobe at \([0-9a-f]*\)$/\1/p')
check "it says where it planted the probe" [ -n "$planted" ]
check "the address is where list shows the probe" grep -q "^$planted  k  kernel_clone+" $D/list
if [ "$ARM64" ]; then
	pre=$(echo "$out" | grep -m1 "handler_pre: <kernel_clone> p->addr = 0x$planted, pc = ")
	ip=${pre##*pc = 0x}
	ip=${ip%%,*}
	check_eq "pre-handler line: pc is the probe address" "$ip" "$planted"
	post="handler_post: <kernel_clone> p->addr = 0x$planted, pstate = 0x[0-9a-f]+$"
else
	pre=$(echo "$out" | grep -m1 "handler_pre: <kernel_clone> p->addr = 0x$planted, ip = ")
	ip=${pre##*ip = }
	ip=${ip%%,*}
	check_eq "pre-handler line: ip is one past the probe (the int3 ran)" "$ip" "$(printf '%x' $((0x$planted + 1)))"
	post="handler_post: <kernel_clone> p->addr = 0x$planted, flags = 0x[0-9a-f]+$"
fi
check "post-handler line" sh -c "echo \"\$1\" | grep -qE \"\$2\"" - "$out" "$post"
rmmod c_kprobe_example
check "unload line" sh -c "dmesg -c | grep -q 'kprobe_exit: kprobe at $planted unregistered'"
check "another ABI version: EPROTO" insmod rkp_test_c_abi.ko
check "and rkprobes says why" sh -c "dmesg -c | grep -q 'rkprobes: a module built against rkprobes ABI 2 cannot use ABI 1: EPROTO'"
rmmod rkp_test_c_abi
rmmod rkprobes
