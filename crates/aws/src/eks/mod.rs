//! EKS: the adapters of the cluster and its parts (node groups, Fargate
//! profiles, access entries, add-ons, Pod Identity associations).

pub(crate) mod access_entry;
pub(crate) mod addon;
pub(crate) mod eks_cluster;
pub(crate) mod fargate_profile;
pub(crate) mod node_group;
pub(crate) mod pod_identity_association;
