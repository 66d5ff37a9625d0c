#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kernel.sh NAME: builds test kernel NAME (x86_64, x86_64-kprobes, x86_64-debug, arm64)
# from tinyconfig + the fragments rkp_kernel_frags lists (scripts/env.sh), once per key.
# The key covers the fragments, the kernel source and the toolchain versions, so a change to
# any of them builds a new tree. Prints the build tree's path.
set -euo pipefail
. "$(dirname "$0")/env.sh"

name=${1:?usage: build-kernel.sh NAME}
arch=$(rkp_kernel_arch "$name")
cross=$(rkp_cross_compile "$name")
mapfile -t frags < <(rkp_kernel_frags "$name")
gcc_ver=$("${cross}gcc" --version | sed -n 1p)
# Bump when the way kernels are built changes.
BUILD_EPOCH=1
key=$( {
	cat "${frags[@]}"
	echo "$BUILD_EPOCH $arch $gcc_ver"
	rustc --version
	"$BINDGEN" --version
	sed -n 1,6p "$RKP_KSRC/Makefile"
} | sha256sum | cut -c1-12)
kernels="$RKP_CACHE/kernels"
out="$kernels/$name-$key"
if [ -f "$out/.built" ]; then
	ln -sfn "$out" "$kernels/$name"
	echo "$out"
	exit 0
fi

# Only one kernel build at a time: the machines have two cores.
mkdir -p "$kernels"
exec 8>"$kernels/.build.lock"
flock 8

mk=(make -C "$RKP_KSRC" O="$out" ARCH="$arch" CROSS_COMPILE="$cross" BINDGEN="$BINDGEN" -s)
echo "build-kernel: building $name in $out (a few minutes)" >&2
rm -rf "$out"
mkdir -p "$out"
start=$(date +%s)
"${mk[@]}" tinyconfig >&2
"$RKP_KSRC/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}" >/dev/null
"${mk[@]}" olddefconfig >&2

# olddefconfig drops options with unmet dependencies silently: insist on every requested one.
bad=0
while IFS= read -r line; do
	if [[ $line =~ ^(CONFIG_[A-Za-z0-9_]+)=(.*)$ ]]; then
		grep -qxF "$line" "$out/.config" || { echo "build-kernel: $name: requested $line, got: $(grep -E "^(# )?${BASH_REMATCH[1]}[= ]" "$out/.config" || echo unset)" >&2; bad=1; }
	elif [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
		! grep -q "^${BASH_REMATCH[1]}=" "$out/.config" || { echo "build-kernel: $name: requested $line, got: $(grep "^${BASH_REMATCH[1]}=" "$out/.config")" >&2; bad=1; }
	fi
done < <(cat "${frags[@]}")
[ $bad = 0 ] || { echo "build-kernel: $name: config check failed (see above)" >&2; exit 1; }

"${mk[@]}" -j"$(nproc)" >&2
[ -f "$out/$(rkp_kernel_image "$name")" ] || { echo "build-kernel: $name: no kernel image" >&2; exit 1; }
[ -f "$out/Module.symvers" ] || { echo "build-kernel: $name: no Module.symvers" >&2; exit 1; }
touch "$out/.built"
echo "build-kernel: $name built in $(( $(date +%s) - start )) s" >&2

# Keep only the current tree of each kernel.
for old in "$kernels/$name"-????????????; do  # 12-digit keys only: not x86_64-kprobes-*
	[ "$old" = "$out" ] || [ ! -d "$old" ] || rm -rf "$old"
done
ln -sfn "$out" "$kernels/$name"
echo "$out"
