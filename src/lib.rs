//! eksform: plan and apply an EKS estate from one spec per environment.
//!
//! See ARCHITECTURE.md for the map of this crate and its invariants.

pub mod diagnostics;
pub mod spec;
pub mod suggest;
pub mod cloud;
pub mod kinds;
pub mod lower;
pub mod model;
pub mod execute;
pub mod plan;
pub mod retry;
pub mod observe;
pub mod ops;
pub mod render;
pub mod cli;
