//! The judge layer: problem packages (ICPC/Kattis format, `legacy` and `2025-09`), languages,
//! output checking, verdicts and scores. Every untrusted program — submissions, compilers,
//! validators, checkers — runs through the `runner` sandbox.
#![forbid(unsafe_code)]

pub mod checker;
pub mod judge;
pub mod language;
pub mod problem;
pub mod service;
pub mod verdict;
