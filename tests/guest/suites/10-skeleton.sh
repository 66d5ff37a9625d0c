# kernels: x86_64 x86_64-kprobes x86_64-debug arm64
# SPDX-License-Identifier: GPL-2.0
# rkprobes.ko loads and unloads cleanly and provides its debugfs files in Linux's modes and
# formats; `enabled` takes what kstrtobool takes and rejects the rest with EINVAL.
. /rkp/lib.sh
plan 29

# A kernel with its own kprobes keeps /sys/kernel/debug/kprobes; rkprobes then uses rkprobes/
# ($D, from lib.sh).

check "rkprobes.ko loads" insmod rkprobes.ko
check "debugfs directory $D exists" test -d $D
check_eq "list mode is 0400" "$(stat -c %a $D/list 2>&1)" 400
check_eq "enabled mode is 0600" "$(stat -c %a $D/enabled 2>&1)" 600
check_eq "blacklist mode is 0400" "$(stat -c %a $D/blacklist 2>&1)" 400
check_eq "list is empty" "$(cat $D/list 2>&1 | wc -c)" 0
check "blacklist reads" cat $D/blacklist
check_eq "enabled reads 1" "$(cat $D/enabled 2>&1)" 1
check_eq "enabled is '1' and a newline, 2 bytes" "$(od -An -c $D/enabled | tr -s ' ')" " 1 \n"

# write VALUE -> expected reading afterwards
for pair in 0:0 1:1 n:0 y:1 N:0 Y:1 off:0 on:1 OFF:0 ON:1 false:0 true:1 no:0 yes:1; do
	v=${pair%%:*}
	want=${pair##*:}
	if out=$(echo "$v" > $D/enabled 2>&1); then
		check_eq "enabled accepts '$v'" "$(cat $D/enabled)" "$want"
	else
		not_ok "enabled accepts '$v'" "$out"
	fi
done

for v in 2 x maybe; do
	echo 1 > $D/enabled
	out=$(echo "$v" 2>&1 > $D/enabled)
	case $out in
	*"Invalid argument"*) check_eq "enabled rejects '$v' with EINVAL, state kept" "$(cat $D/enabled)" 1 ;;
	*) not_ok "enabled rejects '$v' with EINVAL, state kept" "write said '$out'" ;;
	esac
done

check "rkprobes.ko unloads" rmmod rkprobes
check_fails "debugfs directory is gone after unload" test -e $D
if [ "$RKP_KERNEL" = x86_64-kprobes ]; then
	check_eq "the kernel's own kprobes/enabled is untouched" "$(cat /sys/kernel/debug/kprobes/enabled 2>&1)" 1
else
	check "rkprobes.ko loads again" insmod rkprobes.ko
	rmmod rkprobes
fi
