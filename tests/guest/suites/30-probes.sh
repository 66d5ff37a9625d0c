# kernels: x86_64 x86_64-kprobes x86_64-debug arm64
# SPDX-License-Identifier: GPL-2.0
# rkprobes used by a client module (rkp_test_ctl.ko) from the shell: the list file in Linux's
# format, enable/disable, the global switch, several probes at one address, the errno a
# failed registration gives, [GONE] when the probed module unloads, and unload order.
. /rkp/lib.sh
plan 35

forks() { i=0; while [ $i -lt "$1" ]; do /bin/true; i=$((i + 1)); done; }
# more ID THAN: ok if probe ID has more hits than THAN.
more() { h=$(field "$1" 4); [ "${h:-0}" -gt "$2" ]; }

insmod rkprobes.ko
check "blacklist lines are in Linux's format" sh -c "! grep -vE '^0x[0-9a-f]{16}-0x[0-9a-f]{16}	[^ ]+( \[[a-z_0-9]+\])?$' $D/blacklist"
check "blacklist has the trap path and NOKPROBE functions" sh -c "grep -qE '	$TRAP_FN$' $D/blacklist && [ \$(grep -c . $D/blacklist) -gt 100 ]"
check "blacklist has rkprobes itself" grep -qE ' \[rkprobes\]$' $D/blacklist
check "a client module loads" insmod rkp_test_ctl.ko
check "probe kernel_clone by name" ctl add 0 kernel_clone
addr=$(field 0 2)
where=$(field 0 3)
kc=$(ksym kernel_clone)
case $where in
kernel_clone+0x*) ok "the probe sits in kernel_clone ($where)" ;;
*) not_ok "the probe sits in kernel_clone" "$where" ;;
esac
check_eq "its address matches /proc/kallsyms" "$addr" "$(printf '%016x' $((0x$kc + ${where#kernel_clone+})))"
# Where rkprobes optimizes, the probe (no post-handler) becomes a jump a few ticks later.
opt=
[ -z "$JUMPS" ] || { opt='[OPTIMIZED]'; wait_for grep -qF "$where    $opt" $D/list; }
check_eq "list line in Linux's format" "$(cat $D/list)" "$addr  k  $where    $opt"
check_eq "without CAP_SYSLOG, list hides the address" "$(rkp-dropcap cat $D/list)" "0000000000000000  k  $where    $opt"
hidden() {
	out=$(rkp-dropcap cat $D/blacklist) && [ -n "$out" ] &&
		! echo "$out" | grep -qv '^0x0000000000000000-0x0000000000000000	'
}
check "without CAP_SYSLOG, blacklist hides the addresses" hidden
forks 5
check "forks hit it" more 0 4

check "disable" ctl disable 0
check_eq "list marks it [DISABLED]" "$(cat $D/list)" "$addr  k  $where    [DISABLED]"
h0=$(field 0 4)
forks 3
check_eq "a disabled probe does not fire" "$(field 0 4)" "$h0"
check "enable" ctl enable 0
forks 3
check "an enabled probe fires again" more 0 "$h0"

echo 0 > $D/enabled
h0=$(field 0 4)
forks 3
check_eq "globally disabled: no hits" "$(field 0 4)" "$h0"
check_eq "globally disabled: the probe's own flag is untouched" "$(cat $D/list)" "$addr  k  $where    "
echo 1 > $D/enabled
forks 3
check "globally enabled again: it fires" more 0 "$h0"

check "a second probe at the same address" ctl add 1 kernel_clone
check_eq "list shows both" "$(grep -c "^$addr  k  $where" $D/list)" 2
h0=$(field 0 4)
h1=$(field 1 4)
forks 2
if more 0 "$h0" && more 1 "$h1"; then ok "both fire"; else not_ok "both fire" "$(cat $T/probes)"; fi
ctl del 1

out=$(ctl add 2 rkp_no_such_function 2>&1)
case $out in
*"No such file"*) ok "unknown symbol: ENOENT" ;;
*) not_ok "unknown symbol: ENOENT" "$out" ;;
esac
out=$(ctl add 2 kernel_clone+1 2>&1)
case $out in
*"$NOT_BOUNDARY"*) ok "not an instruction boundary: $NOT_BOUNDARY" ;;
*) not_ok "not an instruction boundary: $NOT_BOUNDARY" "$out" ;;
esac

insmod rkp_test_target.ko
check "probe a module's function" ctl add 3 rkp_test_target_fn
taddr=$(field 3 2)
check "list names the module" grep -qE "^$taddr  k  rkp_test_target_fn\+0x[0-9a-f]*  rkp_test_target $OPT_RE$" $D/list
rmmod rkp_test_target
check "list marks it [GONE] once the module is unloaded" grep -q "^$taddr  k  .*\[GONE\]$" $D/list
out=$(ctl enable 3 2>&1)
case $out in
*Invalid*) ok "enabling a gone probe: EINVAL" ;;
*) not_ok "enabling a gone probe: EINVAL" "$out" ;;
esac
insmod rkp_test_target.ko
check "probe the reloaded module's function (its address may be the gone probe's)" ctl add 4 rkp_test_target_fn
echo x > /sys/kernel/debug/rkp_test_target/call
check_eq "the new probe fires, the gone one does not" "$(field 4 4) $(field 3 4)" "1 0"
rmmod rkp_test_target
check "both are listed [GONE] after the second unload" sh -c "[ \$(grep -c '\[GONE\]$' $D/list) = 2 ]"
check "a gone probe unregisters" ctl del 3
ctl del 4

check_fails "rkprobes stays loaded while a client is" rmmod rkprobes
check "the client unloads" rmmod rkp_test_ctl
check "then rkprobes unloads" rmmod rkprobes
