# kernels: x86_64 x86_64-kprobes x86_64-debug arm64
# SPDX-License-Identifier: GPL-2.0
# The sample modules, loaded as users load them, and their output checked.
. /rkp/lib.sh
plan 11

insmod rkprobes.ko
dmesg -c > /dev/null
check "insmod kprobe_example.ko func=kernel_clone" insmod kprobe_example.ko func=kernel_clone
workload 2
out=$(dmesg -c)
planted=$(echo "$out" | sed -n 's/.*kprobe_example: Planted kprobe at 0x\([0-9a-f]*\)$/\1/p')
check "it says where it planted the probe" [ -n "$planted" ]
pre=$(echo "$out" | grep -m1 "kprobe_example: <kernel_clone> p->addr = 0x$planted, ip = ")
ip=${pre##*ip = }
ip=${ip%%,*}
if [ "$ARM64" ]; then
	# A hardware breakpoint traps before the instruction, as Linux's BRK does on arm64.
	check_eq "pre-handler line: ip is the probe address" "$ip" "$planted"
else
	check_eq "pre-handler line: ip is one past the probe (the int3 ran)" "$ip" "$(printf '%x' $((0x$planted + 1)))"
fi
check "post-handler line" sh -c "echo \"\$1\" | grep -qE 'kprobe_example: <kernel_clone> p->addr = 0x$planted, flags = 0x[0-9a-f]+$'" - "$out"
rmmod kprobe_example
check "unload line" sh -c "dmesg -c | grep -q 'kprobe_example: kprobe at 0x$planted unregistered'"
out=$(insmod kprobe_example.ko func=rkp_no_such_function 2>&1)
# busybox insmod words ENOENT from init_module as "unknown symbol in module, or unknown parameter".
case $out in
*"No such file"* | *"unknown symbol in module"*) ok "a function that does not exist: insmod fails with ENOENT" ;;
*) not_ok "a function that does not exist: insmod fails with ENOENT" "$out" ;;
esac
# (busybox insmod tries finit_module, then init_module: the module may say it twice.)
check "and a line says why" sh -c "dmesg -c | grep -q 'register_kprobe failed for rkp_no_such_function, returned -2'"
out=$(insmod kretprobe_example.ko func=rkp_no_such_function 2>&1)
case $out in
*"No such file"* | *"unknown symbol in module"*) ok "kretprobe_example: a function that does not exist fails with ENOENT" ;;
*) not_ok "kretprobe_example: a function that does not exist fails with ENOENT" "$out" ;;
esac
check "and a line says why" sh -c "dmesg -c | grep -q 'register_kretprobe failed for rkp_no_such_function, returned -2'"
# typed_args.ko: do_sys_openat2()'s int dfd (AT_FDCWD) and int return value (-ENOENT), read
# by type.
check "insmod typed_args.ko" insmod typed_args.ko
cat /rkp-no-such-file 2>/dev/null
check "a failed open: dfd and the return value by type" sh -c \
	"dmesg -c | grep -qE 'typed_args: do_sys_openat2\(dfd=-100, filename=[0-9a-f]{16}, how=[0-9a-f]{16}\) = -2$'"
rmmod typed_args
rmmod rkprobes
