# SPDX-License-Identifier: GPL-2.0
# Sourced by the other scripts: provisions (idempotently) and exports the tool paths.
RKP_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
_rkp_env=$("$RKP_TOP/scripts/provision.sh") || exit 1
eval "$_rkp_env"
export RKP_TOP RKP_CACHE RKP_KSRC RUST_LIB_SRC BINDGEN LIBCLANG_PATH BUSYBOX_X86_64 BUSYBOX_ARM64
unset _rkp_env

# The test kernels: name -> kernel ARCH and cross compiler.
rkp_kernel_arch() {
	case "$1" in
	x86_64 | x86_64-kprobes | x86_64-debug) echo x86_64 ;;
	arm64) echo arm64 ;;
	*) echo "unknown test kernel '$1' (x86_64, x86_64-kprobes, x86_64-debug, arm64)" >&2; return 1 ;;
	esac
}
# The config fragments of test kernel NAME, merged over tinyconfig in this order.
rkp_kernel_frags() {
	local arch
	arch=$(rkp_kernel_arch "$1") || return 1
	echo "$RKP_TOP/tests/kernels/common.config"
	[ "$arch" != x86_64 ] || echo "$RKP_TOP/tests/kernels/x86_64-distro.config"
	echo "$RKP_TOP/tests/kernels/$1.config"
}
rkp_cross_compile() {
	[ "$(rkp_kernel_arch "$1")" = arm64 ] && [ "$(uname -m)" != aarch64 ] && echo aarch64-linux-gnu-
	return 0
}
rkp_kernel_image() {
	case "$(rkp_kernel_arch "$1")" in
	x86_64) echo arch/x86/boot/bzImage ;;
	arm64) echo arch/arm64/boot/Image ;;
	esac
}
