//! ECR: the adapter of container image repositories (`registries[]`).

pub(crate) mod ecr_repository;
