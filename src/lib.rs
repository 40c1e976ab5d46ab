//! eksform: plan and apply an EKS estate from one spec per environment.
//!
//! See ARCHITECTURE.md for the map of this crate and its invariants.

pub mod cancel;
pub mod cli;
pub mod cloud;
pub mod diagnostics;
pub mod estate;
pub mod execute;
pub mod graph;
pub mod iam_policy;
pub mod kinds;
pub mod lock;
pub mod lower;
pub mod model;
pub mod observe;
pub mod ops;
pub mod outputs;
pub mod plan;
pub mod proxy;
pub mod render;
pub mod retry;
pub mod spec;
pub mod suggest;
