//! The operations behind the commands, and the policy they keep: which
//! files are stacks and how one is read (`stack`), the stacks of a
//! directory together (`estate`), the account guard and planning (`plan`)
//! with its checks of the account before anything is created (`preflight`),
//! the recheck of a saved plan (`saved_plan`), apply and
//! destroy with their lock, history and approval rules (`apply`), outputs
//! (`outputs`), cluster access (`kubeconfig`, `token`), the state bucket
//! (`state_bucket`), the CI deploy roles (`deploy_roles`), taking over a
//! Terraform estate (`import_terraform`) or an eksctl cluster
//! (`import_eksctl`), and the connection to AWS (`connect`). They return typed results and errors (`OpsError`), ask and
//! show through `ApplyFrontEnd`, and print nothing: the CLI renders.

mod apply;
mod connect;
mod deploy_roles;
mod error;
mod estate;
mod import_eksctl;
mod import_terraform;
mod kubeconfig;
mod outputs;
mod plan;
mod preflight;
mod saved_plan;
mod stack;
mod state_bucket;
mod token;

pub use apply::{
    ApplyFrontEnd, ApplyOutcome, ApplyReport, ApplyRequest, ApplyTarget, Approval, Confirmation,
    Interrupts, RecordedResult, ReleaseFailure, apply, run_apply,
};
pub use connect::AwsAccess;
pub use deploy_roles::{
    DeployRoles, DeployRolesReport, ProviderOutcome, RoleReport, survey as survey_deploy_roles,
};
pub use eksform_core::outputs::Outputs;
pub use error::OpsError;
pub use estate::{Estate, Referrer, Referrers, live_referrers};
pub use import_eksctl::{
    EksctlImport, StacksToRelease, import_eksctl, release_stacks, stacks_to_release,
};
pub use import_terraform::{
    ImportTerraformError, TerraformImported, import_terraform, removed_tf_path, write_import,
};
pub use kubeconfig::{KubeconfigWritten, LiveCluster, default_kubeconfig_path, write_kubeconfig};
pub use outputs::{outputs, stack_outputs};
pub use plan::{
    Goal, guard_account, plan, plan_estate, plan_files, plan_stack, save_plan, save_plans,
};
pub use saved_plan::{read_saved_plan, recheck_saved_plan};
pub use stack::{
    Stack, Strictness, prepare, resolve_references, resolve_text_references, scope_for,
    stack_files, validate,
};
pub use state_bucket::{AccountState, HistoryEntry, Holder};
pub use token::token;

/// The JSON Schema of the spec (for editors).
pub use eksform_core::spec::json_schema as spec_schema;

/// The least-privilege IAM policy eksform itself needs, and the one of the
/// commands that only read.
pub use eksform_core::iam_policy::{
    document as iam_policy, read_only_document as read_only_iam_policy,
};
