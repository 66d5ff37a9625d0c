# kernels: arm64
# SPDX-License-Identifier: GPL-2.0
# The in-kernel tests on arm64: rkp_selftest.ko (tests/modules/rkp_selftest_arm64_main.rs)
# prints its own KTAP suite ("selftest") while it loads. Then this suite checks that every
# refusal it provoked said why in the log, with the lines Documentation/errors.rst lists.
. /rkp/lib.sh
insmod rkprobes.ko || exit 1
# The slots are reached and left by exception return, never by a branch: how far they are
# from kernel text (beyond B's reach of 128 MiB, often, with KASLR) must not matter.
text=$(ksym _text)
slots=$(awk '$3 == "rkp_slot_area" {print $1}' /proc/kallsyms)
dmesg -c > /dev/null
insmod rkp_selftest.ko
rmmod rkp_selftest
rmmod rkprobes
log=$(dmesg)
plan 10
# Linked at 0xffff800080000000: KASLR moves the kernel from there.
check "KASLR moved the kernel (_text at $text)" test "$text" != ffff800080000000
ktap "# rkprobes' slots are $(( (0x$slots - 0x$text) / 1048576 )) MiB from kernel text"
for line in \
	"not a multiple of 4: EINVAL" \
	"inside a load/store exclusive sequence: EINVAL" \
	"an exclusive load or store (errno 22)" \
	"a write to a system register (errno 22)" \
	"a read of DAIF (errno 22)" \
	"a hint that may trap (errno 22)" \
	"an exception-generating instruction (errno 22)" \
	"no hardware breakpoint register free: ENOSPC"; do
	case $log in
	*"$line"*) ok "logged: $line" ;;
	*) not_ok "logged: $line" "not in the log" ;;
	esac
done
check_eq "no refusal without a reason" "$(echo "$log" | grep -c 'cannot probe.*: error$')" 0
