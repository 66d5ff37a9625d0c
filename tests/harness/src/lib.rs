//! Reads the serial console of a test VM and decides whether the run passed.
//!
//! A run passes only if every expected KTAP suite arrived with a plan and all its results, no
//! result is `not ok`, the guest reported that it finished, and the kernel printed no splat
//! (oops, BUG, WARNING, panic, lockup, RCU stall, ...), whatever the tests themselves said.

pub mod console;
pub mod ktap;
pub mod splat;
pub mod verdict;
