# kernels: arm64
# SPDX-License-Identifier: GPL-2.0
# The in-kernel tests on arm64: rkp_selftest.ko (tests/modules/rkp_selftest_arm64_main.rs)
# prints its own KTAP suite ("selftest") while it loads. Then this suite checks that every
# refusal it provoked said why in the log, with the lines Documentation/errors.rst lists.
. /rkp/lib.sh
insmod rkprobes.ko || exit 1
dmesg -c > /dev/null
insmod rkp_selftest.ko
rmmod rkp_selftest
rmmod rkprobes
log=$(dmesg)
plan 9
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
