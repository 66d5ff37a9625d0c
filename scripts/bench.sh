#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# bench.sh [KERNEL...]: `make bench`. Runs rkp_bench.ko under QEMU with -icount shift=0 (a
# guest nanosecond is a guest instruction) on each kernel (default: x86_64-kprobes, which has
# Linux's own kprobes to compare with, and arm64), prints the tables and writes them to
# Documentation/bench.txt.
set -euo pipefail
. "$(dirname "$0")/env.sh"
cd "$RKP_TOP"
kernels=("$@")
[ ${#kernels[@]} -gt 0 ] || kernels=(x86_64-kprobes arm64)
out=Documentation/bench.txt
{
	echo "# make bench: instructions (guest ns under -icount shift=0) per hit, and guest time"
	echo "# to register; ratio = rkprobes / Linux. Regenerate with 'make bench'."
} >"$out.new"
for k in "${kernels[@]}"; do
	scripts/build-modules.sh "$k" >/dev/null
	log=build/logs/$k-bench.console
	scripts/vm.sh --kernel "$k" --mode run --smp 1 --icount --script scripts/bench-guest.sh \
		--log "$log" >/dev/null
	kdir=$(scripts/build-kernel.sh "$k")
	debug=
	! grep -qx CONFIG_PROVE_LOCKING=y "$kdir/.config" || debug=" (lockdep and the other debug checks on: longer paths)"
	{
		echo
		echo "== $k$debug"
		sed -n 's/^\[ *[0-9.]*\] \(rkp_bench: \)\{0,1\}bench: //p' "$log" | tr -d '\r' | sed 's/ *$//'
	} >>"$out.new"
done
mv "$out.new" "$out"
cat "$out"
