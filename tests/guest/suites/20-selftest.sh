# kernels: x86_64 x86_64-kprobes x86_64-debug
# SPDX-License-Identifier: GPL-2.0
# The in-kernel tests: rkp_selftest.ko prints its own KTAP suite ("selftest") while it loads.
# Then this suite checks that every refusal the selftest provoked said why in the log, with
# the lines Documentation/errors.rst lists. Jump optimization is on even beside Linux's own
# kprobes (which probe nothing of rkp_selftest's), so its tests run on every x86 kernel.
. /rkp/lib.sh
insmod rkprobes.ko jump_optimization=1 || exit 1
dmesg -c > /dev/null
insmod rkp_selftest.ko
noinstr=$(grep -c '	.noinstr.text \[rkp_selftest\]$' $D/blacklist)
rmmod rkp_selftest
rmmod rkprobes
log=$(dmesg)
plan 20
check_eq "blacklist shows a loaded module's noinstr text" "$noinstr" 1
for line in \
	"cannot probe nothing: no symbol or address: EINVAL" \
	"cannot probe both a symbol and an address: EINVAL" \
	"+0x10: overflows: EINVAL" \
	"cannot probe rkp_no_such_symbol: no such symbol: ENOENT" \
	"in no symbol: ENOENT" \
	"CFI or padding before a function: EINVAL" \
	"blacklisted: EINVAL" \
	"not (live) text: EINVAL" \
	"a jump-label site, which the kernel rewrites when its key flips" \
	"an instruction with an exception-table entry (no fixup out of line)" \
	"another breakpoint (errno 22)" \
	"cannot register a probe that is registered: EINVAL" \
	"cannot enable or disable a probe that is not registered: EINVAL" \
	"cannot register a batch of 0 probes: EINVAL" \
	"bytes of data per call (at most 4096): E2BIG" \
	"not a function's entry: EINVAL" \
	"VMX instruction (errno 95)" \
	"no out-of-line slot left: ENOMEM"; do
	case $log in
	*"$line"*) ok "logged: $line" ;;
	*) not_ok "logged: $line" "not in the log" ;;
	esac
done
check_eq "no refusal without a reason" "$(echo "$log" | grep -c 'cannot probe.*: error$')" 0
