#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# vm.sh --kernel NAME --mode check|run|shell [options]: boots test kernel NAME under QEMU (TCG)
# with an initramfs holding busybox, the built modules and the guest side of the tests.
#
#   --modules DIR   where the built .ko files are (default build/NAME)
#   --script FILE   the script to run in the guest (mode run)
#   --suite FILE    a guest suite to include (mode check; repeatable; default: every suite in
#                   tests/guest/suites whose '# kernels:' line names NAME)
#   --smp N         vCPUs (default 2)
#   --icount        one guest nanosecond per guest instruction (-icount shift=0,sleep=off):
#                   guest times become path lengths (make bench)
#   --timeout S     hard limit for the whole VM (default 600; none for a shell)
#   --log FILE      where the console goes (default build/logs/NAME-MODE.console)
#
# check: prints the verdict of rkp-console-check and exits with its status.
# run:   shows the console while it runs and exits with the guest script's status.
set -euo pipefail
. "$(dirname "$0")/env.sh"

kernel= mode= modules= script= smp=${SMP:-2} timeout=${TIMEOUT:-600} log= icount=
suites=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) kernel=$2; shift 2 ;;
	--mode) mode=$2; shift 2 ;;
	--modules) modules=$2; shift 2 ;;
	--script) script=$2; shift 2 ;;
	--suite) suites+=("$2"); shift 2 ;;
	--smp) smp=$2; shift 2 ;;
	--icount) icount=1; shift ;;
	--timeout) timeout=$2; shift 2 ;;
	--log) log=$2; shift 2 ;;
	*) echo "vm.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ -n "$kernel" ] && [ -n "$mode" ] || { echo "vm.sh: --kernel and --mode are required" >&2; exit 2; }
arch=$(rkp_kernel_arch "$kernel")
kdir=$("$RKP_TOP/scripts/build-kernel.sh" "$kernel")
modules=${modules:-$RKP_TOP/build/$kernel}
log=${log:-$RKP_TOP/build/logs/$kernel-$mode.console}
work="$RKP_TOP/build/vm/$kernel-$mode"
case $mode in
check)
	if [ ${#suites[@]} = 0 ]; then
		for s in "$RKP_TOP"/tests/guest/suites/*.sh; do
			grep -qE "^# kernels:.*( |^)$kernel( |$)" "$s" && suites+=("$s")
		done
	fi
	;;
run) [ -f "$script" ] || { echo "vm.sh: --script FILE is required for mode run" >&2; exit 2; } ;;
shell) ;;
*) echo "vm.sh: unknown mode $mode" >&2; exit 2 ;;
esac

# The initramfs.
rm -rf "$work"
root="$work/root"
mkdir -p "$root/bin" "$root/rkp/modules" "$root/rkp/suites" "$(dirname "$log")"
case $arch in
x86_64) cp "$BUSYBOX_X86_64" "$root/bin/busybox" ;;
arm64) cp "$BUSYBOX_ARM64" "$root/bin/busybox" ;;
esac
install -m 0755 "$RKP_TOP/tests/guest/init" "$root/init"
# Guest helpers (rkp-dropcap: reading debugfs without CAP_SYSLOG; rkp-perfcount: a perf
# counter on a trace event), built against the kernel's nolibc and its UAPI headers (made once
# per kernel build): no C library for the guest needed.
cross=$(rkp_cross_compile "$kernel")
[ -d "$kdir/usr/include/asm" ] ||
	make -s -C "$kdir" ARCH="$arch" CROSS_COMPILE="$cross" headers >&2
for helper in dropcap perfcount; do
	"${cross}gcc" -static -nostdlib -ffreestanding -fno-stack-protector -O2 -Wall -Werror \
		-isystem "$kdir/usr/include" -I"$RKP_KSRC/tools/include/nolibc" \
		-include "$RKP_KSRC/tools/include/nolibc/nolibc.h" \
		-o "$root/bin/rkp-$helper" "$RKP_TOP/tests/guest/$helper.c" -lgcc
done
cp "$RKP_TOP/tests/guest/lib.sh" "$RKP_TOP/tests/guest/run-suites.sh" "$root/rkp/"
echo "$mode" >"$root/rkp/mode"
echo "$kernel" >"$root/rkp/kernel"
if [ -d "$modules" ]; then
	find "$modules" -name '*.ko' -exec cp {} "$root/rkp/modules/" \;
fi
names=()
for s in "${suites[@]}"; do
	cp "$s" "$root/rkp/suites/"
	n=$(basename "$s" .sh)
	names+=(--suite "${n#[0-9][0-9]-}")
done
[ "$mode" != run ] || cp "$script" "$root/rkp/script"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$work/initramfs.cpio.gz"

# The machine. TCG only: nested KVM does not work on these hosts.
extra=
case $arch in
x86_64)
	qemu=(qemu-system-x86_64 -M pc -cpu max -kernel "$kdir/arch/x86/boot/bzImage")
	console=ttyS0
	# The boot flips two timekeeping static keys (sched_clock_stable, and the inlined
	# clocksource read when tsc-early gives way to tsc) while other vCPUs run the timer
	# tick; under multi-threaded TCG that sometimes left a vCPU executing the transient int3
	# after Linux's text_poke had finished (an oops before any module is loaded). With the
	# TSC marked unstable neither key flips; timekeeping uses HPET.
	extra="tsc=unstable"
	;;
arm64)
	qemu=(qemu-system-aarch64 -M virt -cpu max,pauth-impdef=on -kernel "$kdir/arch/arm64/boot/Image")
	console=ttyAMA0
	;;
esac
qemu+=(-smp "$smp" -m 1024 -nographic -no-reboot -initrd "$work/initramfs.cpio.gz"
	-append "console=$console panic=-1 printk.devkmsg=on $extra")
[ -z "$icount" ] || qemu+=(-icount shift=0,sleep=off)

if [ "$mode" = shell ]; then
	exec "${qemu[@]}"
fi

checker="$RKP_TOP/target/release/rkp-console-check"
(cd "$RKP_TOP" && cargo build --quiet --release -p rkp-harness)
start=$(date +%s)
set +e
if [ "$mode" = run ]; then
	timeout -k 5 "$timeout" "${qemu[@]}" </dev/null 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
else
	timeout -k 5 "$timeout" "${qemu[@]}" </dev/null >"$log" 2>&1
	rc=$?
fi
set -e
[ "$rc" != 124 ] && [ "$rc" != 137 ] || echo "vm.sh: $kernel: killed after the ${timeout} s timeout" >&2
[ "$mode" = run ] || echo "vm.sh: $kernel: VM ran $(( $(date +%s) - start )) s, console in $log" >&2

if [ "$mode" = run ]; then
	exec "$checker" --script --label "$kernel" "$log"
fi
exec "$checker" --label "$kernel" "${names[@]}" "$log"
