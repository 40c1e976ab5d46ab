//! eksform's integration tests: one test binary (it links every AWS SDK
//! once), with a module per layer and area. `cargo test --test it` runs them
//! all; `cargo test --test it emulator::` one module (see docs/testing.md).
//! Test data lives beside this directory: `tests/specs`, `tests/extends`,
//! `tests/plans`; tests run from the package root.

mod access;
mod ci_recipes;
mod cli;
mod emulator;
mod engine;
mod iam_policy;
mod import;
mod registry;
mod requests;
mod shipping;
mod spec;

/// The binary under test, built by cargo for this test target: tests that run
/// it hand this path to the test kit.
const EKSFORM: &str = env!("CARGO_BIN_EXE_eksform");
