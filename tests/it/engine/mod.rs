//! The engine on the in-memory cloud with virtual time (tokio's paused
//! clock): ordering, waits, concurrency, partial failure, throttling,
//! crashes after every call, several stacks; and the memory cloud's own AWS
//! rules, which those tests rely on.

mod addon_configuration;
mod adopt;
mod cluster;
mod conformance;
mod crash;
mod edge;
mod efs;
mod estate;
mod execution;
mod memory_cloud;
mod network;
mod pod_identity;
mod references;
mod runs;
