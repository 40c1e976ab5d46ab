//! eksform: plan and apply an EKS estate from one spec per environment.
//!
//! See ARCHITECTURE.md for the map of this crate and its invariants.

pub mod diagnostics;
pub mod spec;
pub mod suggest;
