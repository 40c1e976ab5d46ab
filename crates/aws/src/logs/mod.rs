//! CloudWatch Logs: the adapter of the control plane's log group.

pub(crate) mod log_group;
