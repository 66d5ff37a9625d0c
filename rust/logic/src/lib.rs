//! Arch-neutral pure logic of rkprobes: parsing what the kernel's symbol interfaces print and
//! formatting the debugfs files.
//!
//! `no_std` and free of allocation: the same source files are compiled into `rkprobes.ko`
//! (through `#[path]` modules) and tested here on the host.

#![no_std]

pub mod addr_index;
pub mod blacklist;
pub mod event_format;
pub mod kallsyms;
pub mod list;
pub mod probe_event;
pub mod symbol;
pub mod symtab;
