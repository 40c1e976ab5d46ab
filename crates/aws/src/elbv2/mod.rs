//! Elastic Load Balancing v2: the adapters of load balancers, target
//! groups, listeners, and what the load balancer controller left behind.

pub(crate) mod controller_leftover;
pub(crate) mod listener;
pub(crate) mod load_balancer;
pub(crate) mod target_group;
