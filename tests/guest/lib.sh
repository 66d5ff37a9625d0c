# SPDX-License-Identifier: GPL-2.0
# KTAP helpers for guest suites. A suite `tests/guest/suites/NN-name.sh` sources this file,
# calls `plan N` once, then reports exactly N results. Results go to /dev/kmsg so they reach the
# console in order with the kernel's messages.
#
# A suite's first lines say which test kernels it runs on: `# kernels: x86_64 arm64 ...`.

_rkp_n=0

_rkp_suite=$(basename "$0" .sh)
_rkp_suite=${_rkp_suite#[0-9][0-9]-}

# rkprobes' debugfs directory (its own name beside Linux's kprobes), and rkp_test_ctl.ko's.
D=/sys/kernel/debug/kprobes
[ "$RKP_KERNEL" = x86_64-kprobes ] && D=/sys/kernel/debug/rkprobes
T=/sys/kernel/debug/rkp_test
# Where the architectures differ: a function on the breakpoint path that Linux marks
# NOKPROBE, and the errno of a probe between instructions (Linux's arm64 refuses a
# misaligned address with EINVAL; x86 answers EILSEQ, "Invalid or incomplete multibyte
# or wide character", off an instruction boundary).
if [ "$(uname -m)" = aarch64 ]; then
	ARM64=1 TRAP_FN=do_breakpoint NOT_BOUNDARY="Invalid argument"
else
	ARM64= TRAP_FN=exc_int3 NOT_BOUNDARY=multibyte
fi
# Whether rkprobes jump-optimizes probes here by default: on x86-64, unless Linux has kprobes
# of its own. Where it does, a probe without post-handlers may show [OPTIMIZED] a few ticks
# after registration (OPT_RE matches the marker or its absence).
JUMPS=
[ -n "$ARM64" ] || [ "$RKP_KERNEL" = x86_64-kprobes ] || JUMPS=1
OPT_RE='(\[OPTIMIZED\])?'
# ctl CMD...: a command to rkp_test_ctl.ko (a failed command fails the write).
ctl() { echo "$*" > $T/ctl; }
# field ID N: field N of probe ID's line in $T/probes (2 address, 3 symbol+offset, 4 hits).
field() { awk -v id="$1" -v n="$2" '$1 == id {print $n}' $T/probes; }
# kfield ID N: field N of return probe ID's line (3 address, 4 entries, 5 returns, 6 missed).
kfield() { awk -v id="$1" -v n="$2" '$1 == "kret" && $2 == id {print $n}' $T/probes; }
# ksym NAME: the address of core-kernel symbol NAME.
ksym() { awk -v n="$1" '$3 == n && NF == 3 {print $1; exit}' /proc/kallsyms; }

# wait_for CMD...: runs CMD every 0.1 s until it succeeds (at most 30 s; fails after that).
# For what another task does in its own time, where a fixed sleep would race a slow host.
wait_for() {
	local i=0
	until "$@" 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 300 ] || return 1
		sleep 0.1
	done
}

# One /dev/kmsg write is one console record: fold newlines so a reason cannot break the line.
ktap() { printf '%s\n' "$(printf '%s' "$*" | tr '\n' ' ')" > /dev/kmsg; }

# plan N: starts the suite, named after its file.
plan() { ktap "# Subtest: $_rkp_suite"; ktap "1..$1"; }

ok() { _rkp_n=$((_rkp_n + 1)); ktap "ok $_rkp_n $*"; }

# The debug kernel's ftrace breaks once fgraph has had users (Documentation/design.rst,
# "Linux bugs met"): there rkprobes keeps return probes on its trampoline.
# A suite that sets ftrace_returns itself keeps its value (a parameter given twice: EEXIST).
insmod() {
	if [ "$1" = rkprobes.ko ] && [ "$RKP_KERNEL" = x86_64-debug ]; then
		case " $* " in
		*" ftrace_returns="*) ;;
		*) set -- "$@" ftrace_returns=0 ;;
		esac
	fi
	command insmod "$@"
}

# not_ok DESC REASON...
not_ok() {
	local desc=$1
	shift
	_rkp_n=$((_rkp_n + 1))
	ktap "not ok $_rkp_n $desc # $*"
}

# check DESC CMD...: ok when CMD succeeds; otherwise its output is the reason.
check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then ok "$desc"; else not_ok "$desc" "failed: $* ${out:+-> $out}"; fi
}

# check_fails DESC CMD...: ok when CMD fails.
check_fails() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then not_ok "$desc" "succeeded: $* ${out:+-> $out}"; else ok "$desc"; fi
}

# check_eq DESC GOT WANT
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else not_ok "$1" "got '$2', want '$3'"; fi
}

# workload N: N forks and N reads through read(2) (the shell's own `read`; busybox `cat` may
# use sendfile), which runs kernel_clone, vfs_read, do_sys_openat2 and ksys_read.
workload() {
	_rkp_i=0
	while [ $_rkp_i -lt "$1" ]; do
		/bin/true
		read -r _ < /proc/version
		_rkp_i=$((_rkp_i + 1))
	done
}
