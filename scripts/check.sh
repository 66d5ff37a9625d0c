#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check.sh: everything `make check` runs, in order: host lint and tests, module builds (with
# clippy) for every test kernel, the harness self-tests, and the VM suites on every test kernel.
# Keeps going after a failure so that one run shows all of them; ends with the plain line
# `N passed, N failed` (host tests, harness self-tests and VM results together).
set -uo pipefail
. "$(dirname "$0")/env.sh"
cd "$RKP_TOP"

KERNELS=${KERNELS:-x86_64 x86_64-kprobes x86_64-debug arm64}
passed=0 failed=0
# What failed, repeated at the end where a truncated CI log still shows it.
failures=()
start=$(date +%s)
logs=build/logs
mkdir -p "$logs"

step() { echo; echo "== $* ($(( $(date +%s) - start )) s)"; }
# result OK|FAIL WHAT: one counted result of this script's own.
result() {
	if [ "$1" = OK ]; then
		passed=$((passed + 1))
		echo "ok: $2"
	else
		failed=$((failed + 1))
		failures+=("$2")
		echo "FAILED: $2"
	fi
}
# add_counts FILE: adds the last 'N passed, N failed' line of FILE; on a failure, keeps the
# verdict's lines that are not a suite's pass count.
add_counts() {
	local line p f
	line=$(grep -E '(^|: )[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
	if [[ $line =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
		p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}
		passed=$((passed + p)) failed=$((failed + f))
		[ "$f" = 0 ] && return 0
	else
		failed=$((failed + 1))
	fi
	mapfile -t -O "${#failures[@]}" failures < <(grep -vE '^vm\.sh: |^    |: [0-9]+/[0-9]+ passed$|[0-9]+ passed, [0-9]+ failed' "$1")
	return 1
}

# Kernel-side Rust (the host crates are cargo's).
KERNEL_RS="rust/*.rs rust/client/*.rs arch/*/kernel/*.rs samples/*.rs tests/modules/*.rs tests/bench/*.rs tests/external-client/*.rs"

step "host: rustfmt, clippy, cargo test"
if cargo fmt --all -- --check >/dev/null 2>&1 && rustfmt --check --edition 2021 $KERNEL_RS >/dev/null 2>&1; then
	result OK "rustfmt clean"
else
	result FAIL "rustfmt: run 'make fmt'"
fi
if cargo clippy --quiet --workspace --all-targets -- -D warnings 2>"$logs/clippy.log"; then
	result OK "cargo clippy clean"
else
	cat "$logs/clippy.log"
	result FAIL "cargo clippy"
fi
cargo test --quiet --workspace 2>&1 | tee "$logs/cargo-test.log" | grep -E '^test result|FAILED|panicked'
host_ok=${PIPESTATUS[0]}
host_p=$(grep -oE '[0-9]+ passed' "$logs/cargo-test.log" | awk '{s += $1} END {print s + 0}')
host_f=$(grep -oE '[0-9]+ failed' "$logs/cargo-test.log" | awk '{s += $1} END {print s + 0}')
passed=$((passed + host_p)) failed=$((failed + host_f))
[ "$host_ok" = 0 ] || [ "$host_f" != 0 ] || failed=$((failed + 1))

for k in $KERNELS; do
	step "$k: kernel and modules (CLIPPY=1)"
	if scripts/build-modules.sh "$k" CLIPPY=1 >"$logs/$k-build.log" 2>&1 &&
		! grep -iE 'warning|error' "$logs/$k-build.log"; then
		result OK "$k: modules build warning-free with clippy (rustc, clippy, gcc, objtool)"
	else
		tail -40 "$logs/$k-build.log"
		result FAIL "$k: module build (log: $logs/$k-build.log)"
	fi
done

step "x86-64 decoder against objdump"
cargo build --quiet --release -p rkp-x86-insn
for k in $KERNELS; do
	[ "$(rkp_kernel_arch "$k")" = x86_64 ] || continue
	for elf in "$RKP_CACHE/kernels/$k/vmlinux" build/"$k"/*.ko; do
		if out=$(target/release/rkp-decode-check "$elf" 2>&1); then
			result OK "decoder agrees with objdump on ${out#"$RKP_CACHE"/kernels/}"
		else
			echo "$out" | tail -30
			result FAIL "decoder disagrees with objdump on $elf"
		fi
	done
done

step "harness self-tests on x86_64: a failing test, a splat and a hang must each fail the run"
# selftest SUITE TIMEOUT EXPECTED-TEXT
selftest() {
	local out
	out=$(scripts/vm.sh --kernel x86_64 --mode check --suite "tests/harness-selftest/$1.sh" \
		--timeout "$2" --log "$logs/selftest-$1.console" 2>&1)
	if [ $? != 0 ] && grep -qF "$3" <<<"$out"; then
		result OK "harness fails a run with: $3"
	else
		echo "$out"
		result FAIL "harness did not report '$3' for tests/harness-selftest/$1.sh"
	fi
}
selftest failing 120 "FAILED in suite failing"
selftest warn 120 "kernel WARNING"
selftest hang 20 "the guest never finished"

for k in $KERNELS; do
	step "$k: VM suites"
	scripts/vm.sh --kernel "$k" --mode check 2>&1 | tee "$logs/$k-verdict.txt"
	add_counts "$logs/$k-verdict.txt" || echo "($k: see $logs/$k-check.console)"
done

# SMP stress on a 4-vCPU guest, on the kernels without kprobes of their own.
for k in $KERNELS; do
	case $k in x86_64 | x86_64-debug | arm64) ;; *) continue ;; esac
	step "$k: SMP stress (4 vCPUs)"
	scripts/vm.sh --kernel "$k" --mode check --smp 4 --suite tests/guest/suites/90-stress.sh \
		--log "$logs/$k-stress.console" 2>&1 | tee "$logs/$k-stress-verdict.txt"
	add_counts "$logs/$k-stress-verdict.txt" || echo "($k: see $logs/$k-stress.console)"
done

echo
echo "check: done in $(( $(date +%s) - start )) s"
if [ ${#failures[@]} != 0 ]; then
	echo "failures:"
	printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
