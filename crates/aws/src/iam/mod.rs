//! IAM: the adapters of roles and the cluster's OIDC provider, and the CI
//! deploy roles `eksform bootstrap --github-repo` makes (`deploy_roles`).

pub mod deploy_roles;
pub(crate) mod iam_role;
pub(crate) mod oidc_provider;
