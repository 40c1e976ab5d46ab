//! The `eksform` command line: one module a command's policy (`ops`), the
//! clap front (`cli`) and the rendering of plans and progress (`render`).
//! The engine is `eksform-core`; the AWS side is `eksform-aws`.
//!
//! See ARCHITECTURE.md for the map of the workspace and its invariants.

pub mod cli;
pub mod ops;
pub mod render;
