# SPDX-License-Identifier: GPL-2.0
#
# rkprobes (see README.md). The kernel's build reads ./Kbuild; this file is for people.
#
#   make                      build the modules against the cached x86_64 test kernel
#   make KERNEL=arm64         ... against another test kernel (x86_64, x86_64-kprobes, arm64)
#   make KDIR=<tree> [ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-]
#                             ... against your own built kernel tree (CONFIG_RUST=y)
#   make check                every test: host, module builds, harness self-tests, VM suites
#   make demo [ARCH=arm64]    boot a test kernel, load kretprobe_example.ko, fork
#   make bench                rkprobes and Linux's kprobes side by side (path lengths)
#   make run SCRIPT=<file> [ARCH=arm64|KERNEL=...] [SMP=n]   run a script in a test VM
#   make shell [ARCH=arm64|KERNEL=...] [SMP=n]               interactive shell in a test VM
#   make decode-check ELF=<file>   compare our x86-64 decoder with objdump on any ELF file
#   make fmt                  format all Rust code
#   make clean                remove build outputs (the kernel cache stays)

KERNEL ?= $(if $(filter arm64 aarch64,$(ARCH)),arm64,x86_64)
SMP ?= 2
export SMP

.PHONY: all modules check demo bench run shell decode-check fmt host-test clean

all: modules

modules:
ifdef KDIR
	scripts/build-modules.sh --kdir $(KDIR)
else
	scripts/build-modules.sh $(KERNEL)
endif

check:
	scripts/check.sh

demo:
	scripts/build-modules.sh $(KERNEL) >/dev/null
	scripts/vm.sh --kernel $(KERNEL) --mode run --script scripts/demo-guest.sh

bench:
	scripts/bench.sh

run:
	@test -n "$(SCRIPT)" || { echo "usage: make run SCRIPT=<file> [ARCH=arm64|KERNEL=name]"; exit 2; }
	scripts/build-modules.sh $(KERNEL) >/dev/null
	scripts/vm.sh --kernel $(KERNEL) --mode run --script $(SCRIPT)

shell:
	scripts/build-modules.sh $(KERNEL) >/dev/null
	scripts/vm.sh --kernel $(KERNEL) --mode shell

decode-check:
	@test -n "$(ELF)" || { echo "usage: make decode-check ELF=<x86-64 ELF file>"; exit 2; }
	cargo build --quiet --release -p rkp-x86-insn
	target/release/rkp-decode-check $(ELF)

host-test:
	cargo test --workspace

fmt:
	cargo fmt --all
	rustfmt --edition 2021 rust/*.rs rust/client/*.rs arch/*/kernel/*.rs samples/*.rs tests/modules/*.rs tests/bench/*.rs tests/external-client/*.rs

clean:
	rm -rf build target
