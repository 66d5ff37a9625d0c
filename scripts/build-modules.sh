#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-modules.sh NAME [make args]: builds this repo's modules against test kernel NAME into
#     build/NAME (the kernel is built first if it is not cached).
# build-modules.sh --kdir DIR [make args]: builds them against the kernel build tree DIR into
#     build/kdir-<ARCH>; ARCH and CROSS_COMPILE come from the environment or the make args.
# Warnings are errors in our code; CLIPPY=1 in the make args runs clippy as well.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

if [ "${1:-}" = --kdir ]; then
	kdir=$(cd "${2:?--kdir needs a directory}" && pwd)
	shift 2
	[ -f "$kdir/Module.symvers" ] || { echo "build-modules: $kdir is not a built kernel tree (no Module.symvers); run 'make modules' there first" >&2; exit 1; }
	grep -q '^CONFIG_RUST=y' "$kdir/.config" || { echo "build-modules: $kdir has no CONFIG_RUST=y" >&2; exit 1; }
	out="$top/build/kdir-${ARCH:-$(uname -m)}"
	args=()
else
	name=${1:?usage: build-modules.sh NAME|--kdir DIR [make args]}
	shift
	. "$top/scripts/env.sh"
	kdir=$("$top/scripts/build-kernel.sh" "$name")
	out="$top/build/$name"
	args=(ARCH="$(rkp_kernel_arch "$name")" CROSS_COMPILE="$(rkp_cross_compile "$name")" BINDGEN="$BINDGEN" RKP_BUILD_TESTS=1)
fi
mkdir -p "$out"
make -C "$kdir" M="$top" MO="$out" "${args[@]}" "$@" modules
if [ -n "${name:-}" ]; then
	# A client built the way one outside this repository is: its own M=, our Module.symvers.
	mkdir -p "$out/external"
	make -C "$kdir" M="$top/tests/external-client" MO="$out/external" \
		KBUILD_EXTRA_SYMBOLS="$out/Module.symvers" "${args[@]}" "$@" modules
fi
