//! `OpsError`: every way an operation fails, as a value the CLI renders.

use std::path::PathBuf;

use eksform_aws::lock::LockError;
use eksform_core::cloud::CloudError;
use eksform_core::diagnostics::Diagnostics;
use eksform_core::plan::PlanError;

use super::Goal;

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    /// Problems in the files themselves, found before any AWS call.
    #[error("the spec has errors")]
    Spec(Diagnostics),
    /// Problems of the spec against the live account (a reference to a stack
    /// with nothing live, a preflight check: `ops::preflight`), found by reading AWS before anything is changed.
    #[error("the spec does not fit the live account")]
    Live(Diagnostics),
    #[error("{0}")]
    Cloud(#[from] CloudError),
    #[error(
        "refusing to touch AWS: the spec is for account {expected}, but the credentials are for account {actual}"
    )]
    AccountMismatch { expected: String, actual: String },
    #[error("{0}")]
    Plan(#[from] PlanError),
    #[error("{0}")]
    Refused(String),
    #[error("cannot read the stack files: {0}")]
    StackFiles(std::io::Error),
    #[error("no stack files (*.yaml) in what was given")]
    NoStackFiles,
    #[error("{} is not a plan file eksform can read: {reason}", path.display())]
    UnreadablePlanFile { path: PathBuf, reason: String },
    #[error("cannot write the plan to {}: {source}", path.display())]
    PlanNotSaved {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The stack's lock is held by another run, or could not be taken
    /// (boxed: it names the holder, and every result carries this type).
    #[error("{0}")]
    Lock(Box<LockError>),
    #[error(
        "refusing to delete or replace these with --auto-approve alone; add --allow-destroy if that is intended"
    )]
    GuardedChangesNeedAllowDestroy,
    #[error(
        "refusing to {} without confirmation: there is no terminal to ask; pass --auto-approve",
        goal.command()
    )]
    NoOneToConfirm { goal: Goal },
}

impl From<LockError> for OpsError {
    fn from(error: LockError) -> Self {
        Self::Lock(Box::new(error))
    }
}
