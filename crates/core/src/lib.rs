//! eksform's engine: everything between a spec file and the calls to a
//! `Cloud`, with no AWS SDK. Spec reading and validation (`spec`), the stack
//! model (`lower`), the kind definitions (`kinds`), the plan (`plan`), the
//! executor (`execute`) and what they share.
//!
//! See ARCHITECTURE.md for the map of the workspace and its invariants.

pub mod cancel;
pub mod cloud;
pub mod deploy_roles;
pub mod diagnostics;
pub mod estate;
pub mod execute;
pub mod graph;
pub mod iam_policy;
pub mod import;
pub mod kinds;
pub mod lower;
pub mod model;
pub mod observe;
pub mod outputs;
pub mod plan;
pub mod preflight;
pub mod retry;
pub mod spec;
pub mod stack_references;
pub mod suggest;
