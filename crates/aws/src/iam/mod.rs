//! IAM: the adapters of roles and the cluster's OIDC provider.

pub(crate) mod iam_role;
pub(crate) mod oidc_provider;
