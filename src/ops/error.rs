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
    Cloud(CloudError),
    /// The run has no credentials: where they were looked for (see `connect`).
    #[error("{0}")]
    NoCredentials(String),
    /// AWS refused the credentials (expired, revoked, mistyped).
    #[error(
        "AWS refused the credentials ({code}: {message}); renew them (for SSO: `aws sso login`) or choose others with --profile or AWS_PROFILE"
    )]
    CredentialsRefused { code: String, message: String },
    #[error(
        "refusing to touch AWS: the spec is for account {expected}, but the credentials are for account {actual}"
    )]
    AccountMismatch { expected: String, actual: String },
    #[error("{0}")]
    Plan(#[from] PlanError),
    #[error("{0}")]
    Refused(String),
    /// A `--github-*` argument of `bootstrap` that no GitHub token carries.
    #[error(transparent)]
    GithubInput(#[from] eksform_core::deploy_roles::GithubInputError),
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
    #[error(
        "{} already holds plan files ({}); remove them or save to an empty directory, so that an earlier plan is never applied by mistake",
        path.display(),
        files.join(", ")
    )]
    PlanDirectoryInUse { path: PathBuf, files: Vec<String> },
    /// The stack's lock is held by another run, or could not be taken
    /// (boxed: it names the holder, and every result carries this type).
    #[error("{0}")]
    Lock(Box<LockError>),
    /// `outputs` of a stack that has nothing live.
    #[error("stack {stack} has no live resources in {region}; run `eksform apply` first")]
    NothingLive { stack: String, region: String },
    /// `history` of an account and region without a state bucket.
    #[error(
        "account {account} has no state bucket in {region}, so no apply is recorded there; `eksform bootstrap FILE` makes one, and applies from then on are locked and recorded"
    )]
    NoStateBucket { account: String, region: String },
    #[error(
        "refusing to delete or replace these, or change the settings of what is taken over, with --auto-approve alone; add --allow-destroy if that is intended"
    )]
    GuardedChangesNeedAllowDestroy,
    #[error(
        "refusing to {} without confirmation: there is no terminal to ask; pass --auto-approve",
        goal.command()
    )]
    NoOneToConfirm { goal: Goal },
    /// `token` given what cannot be signed (a region that is not one).
    #[error("{0}")]
    Token(#[from] eksform_aws::eks_token::TokenError),
    /// `kubeconfig` of a stack whose cluster is not live.
    #[error(
        "stack {stack} has no live EKS cluster in {region}; a kubeconfig needs its name, endpoint, certificate authority and ARN (apply a spec with a cluster first)"
    )]
    NoLiveCluster { stack: String, region: String },
    /// `kubeconfig` would overwrite a file that is not a kubeconfig.
    #[error("refusing to write {}: it is not a kubeconfig ({reason}); give another file with --kubeconfig", path.display())]
    NotAKubeconfig { path: PathBuf, reason: String },
    #[error("cannot write the kubeconfig {}: {reason}", path.display())]
    KubeconfigNotWritten { path: PathBuf, reason: String },
    /// `import eksctl --release-stacks` before the adoption is applied.
    #[error(
        "refusing to release {}: these resources of the stacks are not yet adopted (they lack eksform's mark): {}; apply the imported spec first",
        stacks.join(", "),
        resources.join(", ")
    )]
    NotYetAdopted {
        stacks: Vec<String>,
        resources: Vec<String>,
    },
    /// `import eksctl --release-stacks` stopped at a stack.
    #[error(
        "releasing stack {stack} failed ({}): {error}; every resource stays in AWS, run the command again",
        super::import_eksctl::released_so_far(released)
    )]
    ReleaseFailed {
        stack: String,
        released: Vec<String>,
        error: CloudError,
    },
    /// `kubeconfig` without --kubeconfig, $KUBECONFIG or a home directory.
    #[error("no kubeconfig to write: give --kubeconfig PATH (neither KUBECONFIG nor HOME is set)")]
    NoKubeconfigPath,
}

/// The codes AWS answers credentials it does not take with.
const REFUSED_CREDENTIALS: &[&str] = &[
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AuthFailure",
    "InvalidToken",
];

impl From<CloudError> for OpsError {
    fn from(error: CloudError) -> Self {
        match error.code.as_deref() {
            Some(eksform_aws::credentials::NO_CREDENTIALS) => Self::NoCredentials(error.message),
            Some(code) if REFUSED_CREDENTIALS.contains(&code) => Self::CredentialsRefused {
                code: code.into(),
                message: error.message,
            },
            _ => Self::Cloud(error),
        }
    }
}

impl From<LockError> for OpsError {
    fn from(error: LockError) -> Self {
        match error {
            LockError::Cloud(error) => error.into(),
            other => Self::Lock(Box::new(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eksform_core::cloud::ErrorClass;

    #[test]
    fn credentials_aws_refuses_are_told_as_such_and_other_errors_pass_through() {
        let expired = CloudError::new(
            ErrorClass::Rejected,
            Some("ExpiredToken"),
            "GetCallerIdentity: The security token included in the request is expired",
        );
        let rendered = OpsError::from(expired).to_string();
        assert!(
            rendered.starts_with("AWS refused the credentials (ExpiredToken: ")
                && rendered.contains("--profile"),
            "{rendered}"
        );
        let missing = CloudError::new(
            ErrorClass::Rejected,
            Some(eksform_aws::credentials::NO_CREDENTIALS),
            "no AWS credentials: none was found",
        );
        assert_eq!(
            OpsError::from(missing).to_string(),
            "no AWS credentials: none was found"
        );
        let other = CloudError::new(
            ErrorClass::Rejected,
            Some("VpcLimitExceeded"),
            "CreateVpc: too many",
        );
        assert!(matches!(OpsError::from(other), OpsError::Cloud(_)));
    }
}
