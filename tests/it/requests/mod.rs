//! The requests the adapters (and preflight) send for calls the emulator answers wrongly or
//! not at all, with the SDK client mocked by aws-smithy-mocks to answer as
//! AWS does.

mod acm;
mod addon_configuration;
mod adopt;
mod cloudformation;
mod ec2;
mod efs;
mod eks;
mod pod_identity;
mod preflight;
