# kernels: x86_64 x86_64-kprobes x86_64-debug arm64
# SPDX-License-Identifier: GPL-2.0
# Deferred probes: a `module:symbol` probe registered with Target::deferred() while its module
# is not loaded waits ([DEFERRED]), fires once the module loads, is [GONE] while it is unloaded
# and fires again when it is loaded again. Linux refuses such a target.
. /rkp/lib.sh
plan 10

TT=/sys/kernel/debug/rkp_test_target
fired() { [ "$(field 0 4)" -gt 0 ]; }

insmod rkprobes.ko
insmod rkp_test_ctl.ko
check_fails "without 'deferred', a probe on a module that is not loaded is refused" \
	ctl add 0 rkp_test_target:rkp_test_target_fn
check "with it, the probe waits" ctl add 0 rkp_test_target:rkp_test_target_fn deferred
check "list shows it [DEFERRED], without an address" \
	grep -qE '^0{16}  k  rkp_test_target_fn\+0x0  rkp_test_target \[DEFERRED\]$' $D/list
check "the log says what it waits for" \
	sh -c "dmesg | grep -q 'the probe on rkp_test_target:rkp_test_target_fn waits for module rkp_test_target to load'"
insmod rkp_test_target.ko
echo 1 > $TT/call
check "the module loaded: it fires" fired
check "list shows it at its address" \
	sh -c "grep -qE '^[0-9a-f]{16}  k  rkp_test_target_fn\+0x[0-9a-f]+  rkp_test_target $OPT_RE\$' $D/list && ! grep -q '^0\{16\}' $D/list"
rmmod rkp_test_target
check "the module unloaded: [GONE], without an address" \
	grep -qE '^0{16}  k  rkp_test_target_fn\+0x0  rkp_test_target \[GONE\]$' $D/list
insmod rkp_test_target.ko
echo 1 > $TT/call
check "loaded again: it fires again" fired
ctl del 0
check "unregistered: nothing is listed" sh -c "! grep -q . $D/list"
rmmod rkp_test_target
rmmod rkp_test_ctl
check "rkprobes unloads" rmmod rkprobes
