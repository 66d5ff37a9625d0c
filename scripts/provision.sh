#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Prepares everything rkprobes needs to build and test on a fresh Debian bookworm machine:
# host packages from the machine's own suites, the Linux 7.3 source and a rust-src matching
# `rustc --version` (downloaded from trixie-backports and unpacked, never installed), bindgen-cli,
# and libclang in a private venv. Idempotent: each step leaves a stamp keyed by its version.
#
# Prints shell assignments for the tool paths on stdout (`eval "$(scripts/provision.sh)"`);
# progress goes to stderr.
set -euo pipefail

CACHE=${RKPROBES_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rkprobes}
LINUX_PKG=linux-source-7.3
LINUX_TARBALL=linux-source-7.3.tar.xz
BINDGEN_VERSION=0.72.1
LIBCLANG_VERSION=18.1.1
HOST_PACKAGES=(build-essential flex bison bc libelf-dev libssl-dev cpio xz-utils kmod
	binutils gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu
	qemu-system-x86 qemu-system-arm busybox-static python3-venv ca-certificates)

log() { echo "provision: $*" >&2; }
die() { echo "provision: error: $*" >&2; exit 1; }

mkdir -p "$CACHE"
exec 9>"$CACHE/.provision.lock"
flock 9

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

# 1. Host packages from the machine's own suites.
missing=()
for p in "${HOST_PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	log "installing host packages: ${missing[*]}"
	$SUDO apt-get update -qq >&2 || die "apt-get update failed"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >&2 || die "cannot install host packages: ${missing[*]}"
fi

# 2. A private apt view of trixie-backports (for linux-source-7.3 and rust-src) and of the arm64
#    bookworm archive (for an arm64 busybox). The system's apt state is never touched.
mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
if [ -z "$mirror" ]; then
	mirror=$(awk '$1 == "deb" && $0 ~ /bookworm/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' \
		/etc/apt/sources.list 2>/dev/null || true)
fi
[ -n "$mirror" ] || die "cannot find the machine's Debian mirror in /etc/apt/sources.list{,.d}"
APT="$CACHE/apt"
mkdir -p "$APT/lists/partial" "$APT/lists-arm64/partial" "$APT/debs"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
echo "deb [signed-by=$keyring] $mirror trixie-backports main" >"$APT/backports.list"
echo "deb [signed-by=$keyring] $mirror bookworm main" >"$APT/arm64.list"
apt_bp=(-o Dir::Etc::SourceList="$APT/backports.list" -o Dir::Etc::SourceParts=/dev/null
	-o Dir::State::Lists="$APT/lists" -o Dir::Cache::archives="$APT/debs")
apt_arm64=(-o Dir::Etc::SourceList="$APT/arm64.list" -o Dir::Etc::SourceParts=/dev/null
	-o Dir::State::Lists="$APT/lists-arm64" -o APT::Architecture=arm64 -o APT::Architectures=arm64
	-o Dir::Cache::archives="$APT/debs")

# Downloads Debian package $2 with the apt options named by $1 and unpacks it into $3.
fetch_deb() {
	local -n opts=$1
	local pkg=$2 dest=$3
	[ -f "$dest/.unpacked" ] && return 0
	if [ ! -f "$APT/.updated-$1" ]; then
		apt-get "${opts[@]}" update -qq >&2 || die "apt-get update of the private $1 view failed"
		touch "$APT/.updated-$1"
	fi
	log "downloading $pkg"
	rm -rf "$dest" "$APT/dl" && mkdir -p "$APT/dl" "$dest"
	(cd "$APT/dl" && apt-get "${opts[@]}" download "$pkg" >&2) || die "cannot download $pkg"
	dpkg-deb -x "$APT"/dl/*.deb "$dest" || die "cannot unpack $pkg"
	rm -rf "$APT/dl"
	touch "$dest/.unpacked"
}

# 3. Linux 7.3 source.
SRC_DEB="$CACHE/pkgs/$LINUX_PKG"
fetch_deb apt_bp "$LINUX_PKG" "$SRC_DEB"
KSRC="$CACHE/linux-7.3"
if [ ! -f "$KSRC/.unpacked" ]; then
	log "unpacking $LINUX_TARBALL"
	rm -rf "$KSRC" "$KSRC.tmp" && mkdir -p "$KSRC.tmp"
	tar -C "$KSRC.tmp" -xf "$SRC_DEB/usr/src/$LINUX_TARBALL" --strip-components=1 ||
		die "cannot unpack $LINUX_TARBALL"
	mv "$KSRC.tmp" "$KSRC"
	touch "$KSRC/.unpacked"
fi

# 4. rust-src for exactly this rustc (the kernel builds `core` from it).
command -v rustc >/dev/null || die "rustc not found (rustup's toolchain is expected on PATH)"
rustc_ver=$(rustc --version | awk '{print $2}')
RUST_SRC_DIR="$CACHE/pkgs/rust-src-$rustc_ver"
if [ ! -f "$RUST_SRC_DIR/.unpacked" ]; then
	if [ ! -f "$APT/.updated-apt_bp" ]; then
		apt-get "${apt_bp[@]}" update -qq >&2 || die "apt-get update of the private view failed"
		touch "$APT/.updated-apt_bp"
	fi
	ver=$(apt-cache "${apt_bp[@]}" madison rust-src 2>/dev/null | awk -v v="$rustc_ver" \
		'{gsub(/ /, "", $3)} index($3, v "+") == 1 {print $3; exit}')
	[ -n "$ver" ] || die "no rust-src $rustc_ver in trixie-backports (rustc is $rustc_ver)"
	fetch_deb apt_bp "rust-src=$ver" "$RUST_SRC_DIR"
fi
RUST_LIB_SRC="$RUST_SRC_DIR/usr/src/rustc-$rustc_ver/library"
[ -d "$RUST_LIB_SRC/core" ] || die "rust-src unpacked without $RUST_LIB_SRC/core"

# 5. arm64 busybox for the arm64 initramfs.
BUSYBOX_ARM64_DIR="$CACHE/pkgs/busybox-static-arm64"
fetch_deb apt_arm64 busybox-static "$BUSYBOX_ARM64_DIR"
BUSYBOX_ARM64="$BUSYBOX_ARM64_DIR/bin/busybox"
[ -x "$BUSYBOX_ARM64" ] || die "no arm64 busybox at $BUSYBOX_ARM64"
[ -x /bin/busybox ] || die "busybox-static did not provide /bin/busybox"

# 6. bindgen-cli, pinned.
TOOLS="$CACHE/tools"
BINDGEN="$TOOLS/bindgen-$BINDGEN_VERSION/bin/bindgen"
if [ ! -x "$BINDGEN" ]; then
	log "building bindgen-cli $BINDGEN_VERSION"
	cargo install --quiet --locked bindgen-cli --version "$BINDGEN_VERSION" \
		--root "$TOOLS/bindgen-$BINDGEN_VERSION" >&2 || die "cannot build bindgen-cli $BINDGEN_VERSION"
fi

# 7. libclang from PyPI in a private venv (bookworm's clang is older than 7.3 accepts).
VENV="$TOOLS/libclang-$LIBCLANG_VERSION"
LIBCLANG_PATH=$(echo "$VENV"/lib/python3*/site-packages/clang/native)
if [ ! -f "$LIBCLANG_PATH/libclang.so" ]; then
	log "installing libclang $LIBCLANG_VERSION"
	rm -rf "$VENV"
	python3 -m venv "$VENV" >&2 || die "cannot create a venv with python3"
	"$VENV/bin/pip" install --quiet "libclang==$LIBCLANG_VERSION" >&2 || die "cannot install libclang==$LIBCLANG_VERSION"
	LIBCLANG_PATH=$(echo "$VENV"/lib/python3*/site-packages/clang/native)
	[ -f "$LIBCLANG_PATH/libclang.so" ] || die "libclang.so missing from the libclang wheel"
fi

cat <<OUT
RKP_CACHE=$CACHE
RKP_KSRC=$KSRC
RUST_LIB_SRC=$RUST_LIB_SRC
BINDGEN=$BINDGEN
LIBCLANG_PATH=$LIBCLANG_PATH
BUSYBOX_X86_64=/bin/busybox
BUSYBOX_ARM64=$BUSYBOX_ARM64
OUT
