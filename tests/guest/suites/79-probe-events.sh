# kernels: x86_64 x86_64-kprobes x86_64-debug arm64
# SPDX-License-Identifier: GPL-2.0
# Probe events from a shell only: definitions written to kprobe_events in Linux's syntax
# become trace events in tracefs, enabled, filtered and read there, counted in kprobe_profile,
# removed again; every malformed definition gets its errno and Linux's error_log message.
. /rkp/lib.sh

# definition|message: refusals, each with Linux's error_log text (see probe_event.rs).
BAD='p4 vfs_read|Maxactive is only for function exit
r0 vfs_read|Invalid maxactive number
r4x vfs_read|Invalid maxactive number
r4097 vfs_read|Maxactive is too big
p vfs_read%entry|Invalid probed address suffix
p vfs_read+x|Invalid probed address or symbol
p +4|Invalid probed address or symbol
p bad-mod:vfs_read|Invalid probed address or symbol
r vfs_read+4|Retprobe address must be an function entry
p:/ev vfs_read|Group name is not specified
p:1grp/ev vfs_read|Group name must follow the same rules as C identifiers
p:grp/1ev vfs_read|Event name must follow the same rules as C identifiers
p: vfs_read|Event name is not specified
p:my-probe vfs_read|Event name must follow the same rules as C identifiers
p vfs_read =$arg1|Argument name is not specified
p vfs_read 1x=$arg1|Argument name must follow the same rules as C identifiers
p vfs_read a=$arg1 a=$arg2|This argument name is already used
p vfs_read a=|No argument expression
p vfs_read %rax|Invalid register name
p vfs_read @0xzz|Invalid memory address
p vfs_read @+10|File offset is not available for kernel probes
p vfs_read +8$arg1|Dereference needs a brace
p vfs_read +z($arg1)|Invalid dereference offset
p vfs_read +8($arg1|Dereference brace is not closed
p vfs_read +8($arg1)x|Invalid fetch argument
p vfs_read +0($comm)|$comm can not be dereferenced
p vfs_read $foo|Invalid $-variable specified
p vfs_read $stack9999|Invalid stack number
p vfs_read $retval|$retval is not available on probe
p vfs_read $arg0|Invalid argument number
p vfs_read+4 $arg1|$arg* can be used only on function entry or exit
p vfs_read $arg1:u128|Unknown type is specified
p vfs_read $arg1:string|String accepts only memory argument
p vfs_read $comm:u32|$comm and immediate-string only accepts string type
p vfs_read \zz|Invalid immediate value
p vfs_read ~|Invalid fetch argument
x vfs_read|Invalid probed address or symbol
-:grp/|Event name is not specified'
NBAD=$(printf '%s\n' "$BAD" | wc -l)
plan $((NBAD + 33))

TR=/sys/kernel/tracing
EV=$TR/events/kprobes
if [ -n "$ARM64" ]; then REG=%x1; else REG=%si; fi

insmod rkprobes.ko
check "a kprobe event with fetch arguments is defined" sh -c "echo 'p:myprobe do_sys_openat2 dfd=\$arg1:s32 filename=+0($REG):string comm=\$comm' > $D/kprobe_events"
check "a return event with \$retval is defined" sh -c "echo 'r:myretprobe do_sys_openat2 ret=\$retval:s32 dfd=\$arg1:s32' >> $D/kprobe_events"
check "a name already used is refused (EEXIST), with Linux's message" sh -c "
	! echo 'p:myprobe vfs_read' >> $D/kprobe_events 2>/tmp/err && grep -q 'File exists' /tmp/err &&
	dmesg | grep -q 'rkprobes: error: Given group/event name is already used by another event'"
check "a symbol that does not exist is refused (ENOENT)" sh -c "
	! echo 'p:nosuch rkp_no_such_function' >> $D/kprobe_events 2>/tmp/err && grep -q 'No such file' /tmp/err"
check "@SYM that does not exist is refused (ENOENT)" sh -c "
	! echo 'p:nosym vfs_read x=@rkp_no_such_symbol' >> $D/kprobe_events 2>/tmp/err &&
	grep -q 'No such file' /tmp/err && dmesg | grep -q 'cannot resolve @rkp_no_such_symbol: ENOENT'"
check_fails "removing an event that does not exist fails (ENOENT)" sh -c "echo '-:nosuch' >> $D/kprobe_events"
check_eq "kprobe_events lists them as Linux does" "$(cat $D/kprobe_events)" \
"p:kprobes/myprobe do_sys_openat2 dfd=\$arg1:s32 filename=+0($REG):string comm=\$comm
r:kprobes/myretprobe do_sys_openat2 ret=\$retval:s32 dfd=\$arg1:s32"
check "tracefs has their directories with enable, filter, trigger, format and id" \
	sh -c "for f in enable filter trigger format id; do [ -e $EV/myprobe/\$f ] && [ -e $EV/myretprobe/\$f ] || exit 1; done"
check "format describes the fields as Linux's kprobe events" sh -c "
	grep -q 'field:unsigned long __probe_ip;	offset:8;	size:8;	signed:0;' $EV/myprobe/format &&
	grep -q 'field:s32 dfd;	offset:16;	size:4;	signed:1;' $EV/myprobe/format &&
	grep -q 'field:__data_loc char\[\] filename;	offset:20;	size:4;	signed:0;' $EV/myprobe/format &&
	grep -q 'field:unsigned long __probe_ret_ip;	offset:16;' $EV/myretprobe/format &&
	grep -qF 'print fmt: \"(%lx) dfd=%d filename=\\\"%s\\\" comm=\\\"%s\\\"\", REC->__probe_ip, REC->dfd, __get_str(filename), __get_str(comm)' $EV/myprobe/format"
check "their probes are registered disabled until enabled in tracefs" \
	sh -c "[ \$(grep -c 'do_sys_openat2.*\[DISABLED\]' $D/list) = 2 ]"
check_eq "perf counts the hits of an event it opens" "$(rkp-perfcount $(cat $EV/myprobe/id) 5)" 5
check_eq "and of a return event" "$(rkp-perfcount $(cat $EV/myretprobe/id) 4)" 4
check "perf closed them: their probes are disabled again" \
	sh -c "[ \$(grep -c 'do_sys_openat2.*\[DISABLED\]' $D/list) = 2 ]"
echo 1 > $EV/myprobe/enable
echo 1 > $EV/myretprobe/enable
check "enabled in tracefs, their probes are enabled" sh -c "! grep -q DISABLED $D/list"
echo > $TR/trace
workload 5
grep -v '^#' $TR/trace > /tmp/trace
check "trace has well-formed entry lines with the values" grep -qE \
	' myprobe: \(do_sys_openat2\+0x[0-9a-f]+/0x[0-9a-f]+\) dfd=-100 filename="/proc/version" comm="sh"$' /tmp/trace
check "and return lines with the return value" grep -qE \
	' myretprobe: \([a-z0-9_.]+\+0x[0-9a-f]+/0x[0-9a-f]+ <- do_sys_openat2\) ret=[0-9]+ dfd=-100$' /tmp/trace

# A filter on a string field, then one on the return value.
echo 'filename ~ "*version*"' > $EV/myprobe/filter
echo 'ret < 0' > $EV/myretprobe/filter
echo > $TR/trace
workload 3
cat /nonexistent 2>/dev/null
grep -v '^#' $TR/trace > /tmp/trace
check "a filter on a string field keeps only the matching entries" sh -c "
	[ \$(grep -c ' myprobe: .*filename=\"/proc/version\"' /tmp/trace) -ge 3 ] &&
	! grep ' myprobe: ' /tmp/trace | grep -v version"
check "a filter on the return value keeps only the failed opens" sh -c "
	grep -q ' myretprobe: .* ret=-2 ' /tmp/trace && ! grep ' myretprobe: ' /tmp/trace | grep -v ' ret=-'"
echo 0 > $EV/myprobe/filter
echo 0 > $EV/myretprobe/filter

# Every kind of fetch argument.
echo 'p:allargs vfs_read cnt=$arg3:u32 fn=+0($arg1):x64 n=\42:s8 c=\65:char sp=$stack s0=$stack0:symbol cur=$current:x64 j=@jiffies:u64 bad=+0(\8):u32 dl=+0(+16(\8)):string' >> $D/kprobe_events
echo 1 > $EV/allargs/enable
echo > $TR/trace
workload 1
echo 0 > $EV/allargs/enable
check "every kind of fetch argument records its value" grep -qE \
	' allargs: \(vfs_read\+0x[0-9a-f]+/0x[0-9a-f]+\) cnt=[0-9]+ fn=0x[0-9a-f]+ n=42 c=.A. sp=0x[0-9a-f]+ s0=[^ ]+ cur=0x[0-9a-f]+ j=[0-9]+ bad=0 dl=\(fault\)$' $TR/trace
check "and it is listed as defined" grep -qF \
	'p:kprobes/allargs vfs_read cnt=$arg3:u32 fn=+0($arg1):x64 n=\42:s8 c=\65:char sp=$stack s0=$stack0:symbol cur=$current:x64 j=@jiffies:u64 bad=+0(\8):u32 dl=+0(+16(\8)):string' $D/kprobe_events
echo '-:allargs' >> $D/kprobe_events
check "kprobe_profile counts hits and misses in Linux's format" sh -c "
	grep -qE '^  myprobe +[1-9][0-9]* +0\$' $D/kprobe_profile &&
	grep -qE '^  myretprobe +[1-9][0-9]* +0\$' $D/kprobe_profile &&
	[ \$(awk 'length(\$0) != 78' $D/kprobe_profile | wc -l) = 0 ]"
check_fails "an enabled event cannot be removed (EBUSY)" sh -c "echo '-:myprobe' >> $D/kprobe_events"
check_fails "nor can rkprobes be unloaded while events exist" rmmod rkprobes
echo 0 > $EV/myprobe/enable
check "disabled, it is removed" sh -c "echo '-:kprobes/myprobe' >> $D/kprobe_events && [ ! -e $EV/myprobe ] && ! grep -q myprobe: $D/kprobe_events"
echo 0 > $EV/myretprobe/enable

# Events on a module that is not loaded wait for it, as Linux's do; return events too.
echo 'p:modev rkp_test_target:rkp_test_target_fn x=$arg1:u64' >> $D/kprobe_events
echo 'r:modret rkp_test_target:rkp_test_target_fn ret=$retval:u64' >> $D/kprobe_events
check "events on a module not loaded yet wait ([DEFERRED])" sh -c "
	grep -q '^0\{16\}  k  rkp_test_target_fn+0x0  rkp_test_target \[DEFERRED\]\$' $D/list &&
	grep -q '^0\{16\}  r  rkp_test_target_fn+0x0  rkp_test_target \[DEFERRED\]\$' $D/list"
echo 1 > $EV/modev/enable
echo 1 > $EV/modret/enable
fire_modev() {
	echo > $TR/trace
	echo 1 > /sys/kernel/debug/rkp_test_target/call
	grep -qE ' modev: \(rkp_test_target_fn\+0x[0-9a-f]+/0x[0-9a-f]+ \[rkp_test_target\]\) x=2$' $TR/trace &&
		grep -qE ' modret: \([^ ]+\+0x[0-9a-f]+/0x[0-9a-f]+ \[rkp_test_target\] <- rkp_test_target_fn\) ret=6$' $TR/trace
}
insmod rkp_test_target.ko
check "they fire once the module loads" fire_modev
rmmod rkp_test_target
check "they are [GONE] while the module is unloaded" sh -c "
	[ \$(grep -c 'rkp_test_target_fn+0x0  rkp_test_target \[GONE\]\$' $D/list) = 2 ]"
insmod rkp_test_target.ko
check "they fire again once it is loaded again" fire_modev
rmmod rkp_test_target
echo 0 > $EV/modev/enable
echo 0 > $EV/modret/enable

check_fails "opening kprobe_events with O_TRUNC fails while an event is enabled" sh -c "
	echo 1 > $EV/myretprobe/enable && echo > $D/kprobe_events"
echo 0 > $EV/myretprobe/enable
check "otherwise it removes every event" sh -c "echo > $D/kprobe_events && [ ! -e $EV ] && [ -z \"\$(cat $D/kprobe_events)\" ]"

# The refusals: the write fails with EINVAL and the log shows Linux's message and command.
while IFS='|' read -r def msg; do
	dmesg -c > /dev/null
	if echo "$def" >> $D/kprobe_events 2>/tmp/err; then
		not_ok "refused: $def" "accepted"
	elif ! grep -q 'Invalid argument' /tmp/err; then
		not_ok "refused: $def" "$(cat /tmp/err)"
	elif ! dmesg | grep -qF "rkprobes: error: $msg" || ! dmesg | grep -qF "Command: $def"; then
		not_ok "refused: $def" "log: $(dmesg | tail -3)"
	else
		ok "refused: $def ($msg)"
	fi
done <<END
$BAD
END
args=$(i=0; while [ $i -lt 129 ]; do printf ' a%d=$arg1' $i; i=$((i + 1)); done)
check "129 arguments are too many (E2BIG)" sh -c "! echo 'p vfs_read$args' >> $D/kprobe_events 2>/tmp/err && grep -q 'Argument list too long' /tmp/err"
check "nothing was defined by them" sh -c "[ -z \"\$(cat $D/kprobe_events)\" ] && ! grep -q . $D/list"
check "rkprobes unloads" rmmod rkprobes
