# kernels: x86_64 x86_64-kprobes x86_64-debug arm64
# SPDX-License-Identifier: GPL-2.0
# Symbol names resolve as kallsyms_lookup_name() resolves them, now that rkprobes no longer
# reads /proc/kallsyms per registration: core-kernel names from the table it read at load
# (the first of duplicated names), module names from the modules' own symbol tables (modules
# loaded before rkprobes, and a module unloaded and loaded again), `module:name`, and names
# that are no text symbol through /proc/kallsyms as before.
. /rkp/lib.sh
plan 10

# low32 HEX: the low 32 bits of a 64-bit hex address, as a number.
low32() { echo $((0x${1#????????})); }
# base_of ID: the low 32 bits of the start of the symbol probe ID is in (address - offset).
base_of() {
	local a s
	a=$(field "$1" 2) s=$(field "$1" 3)
	echo $(($(low32 "$a") - ${s##*+}))
}
# first_addr NAME [MODULE]: the first address /proc/kallsyms gives NAME (in MODULE).
first_addr() {
	awk -v n="$1" -v m="${2:+[$2]}" '$3 == n && ($4 == m || (m == "" && NF == 3)) {print $1; exit}' /proc/kallsyms
}
# resolves_to ID NAME [MODULE]: probe ID sits in the symbol kallsyms lists first as NAME.
resolves_to() { [ "$(base_of "$1")" = "$(low32 "$(first_addr "$2" "$3")")" ]; }

# A module that was loaded before rkprobes.
insmod rkp_test_target.ko
insmod rkprobes.ko
insmod rkp_test_ctl.ko
check "a function of a module loaded before rkprobes" ctl add 0 rkp_test_target_fn
check "it resolves to the module's symbol" resolves_to 0 rkp_test_target_fn rkp_test_target
check "module:name" ctl add 1 rkp_test_target:rkp_test_target_fn
check_eq "the same address" "$(field 1 2)" "$(field 0 2)"
out=$(ctl add 2 rkp_test_target:kernel_clone 2>&1)
case $out in
*"No such file"*) ok "module:name of a core-kernel function: ENOENT" ;;
*) not_ok "module:name of a core-kernel function: ENOENT" "$out" ;;
esac
ctl del 0
ctl del 1

# Unloaded and loaded again (elsewhere, or at the same place): the new symbol.
rmmod rkp_test_target
insmod rkp_test_target.ko
check "the module loaded again: its function" ctl add 0 rkp_test_target_fn
check "resolves to the new symbol" resolves_to 0 rkp_test_target_fn rkp_test_target
ctl del 0

# Core-kernel names that several static functions share: the first in /proc/kallsyms.
dups=$(awk 'NF == 3 && ($2 == "t" || $2 == "T") {if (++n[$3] == 2) print $3}' /proc/kallsyms)
done_dup=
for name in $dups; do
	ctl add 3 "$name" 2>/dev/null || continue
	if resolves_to 3 "$name"; then
		ok "a duplicated name ($name) resolves to the first of its symbols"
	else
		not_ok "a duplicated name ($name) resolves to the first of its symbols" "$(field 3 2) $(field 3 3) vs $(first_addr "$name")"
	fi
	done_dup=1
	ctl del 3
	break
done
[ "$done_dup" ] || not_ok "a duplicated name resolves to the first of its symbols" "none registered"

# A data symbol is found (through /proc/kallsyms) and refused as not text.
out=$(ctl add 4 jiffies 2>&1)
case $out in
*"Invalid argument"*) ok "a data symbol: EINVAL (not text)" ;;
*) not_ok "a data symbol: EINVAL (not text)" "$out" ;;
esac
check "clients and rkprobes unload" sh -c "rmmod rkp_test_ctl && rmmod rkprobes && rmmod rkp_test_target"
