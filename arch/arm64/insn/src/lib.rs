// SPDX-License-Identifier: GPL-2.0

//! A64 instructions for rkprobes: which ones a probe may sit on and how each is carried out
//! (run out of line, or simulated because it reads the PC), with the simulation itself.
//! `no_std`: the kernel module compiles these files too.

#![no_std]

pub mod classify;
pub mod simulate;
