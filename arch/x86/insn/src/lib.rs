//! x86-64 instruction decoding, classification and emulation for rkprobes.
//!
//! `no_std` and free of allocation: the same source files are compiled into `rkprobes.ko`
//! (through `#[path]` modules) and tested here on the host.

#![no_std]

pub mod decode;
pub mod emulate;
pub mod optimize;
pub mod prepare;
