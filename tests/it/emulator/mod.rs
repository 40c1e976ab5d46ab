//! The `eksform` binary against the AWS emulator (moto), checked with the
//! AWS SDK, as a user would run it. Each test starts its own emulator
//! (`eksform_testkit::emulator`).
//!
//! What the tests of several areas share is here: the region, its zones, a
//! network spec and a cluster spec.

mod access;
mod adopt;
mod bluegreen;
mod cluster;
mod crowded;
mod deploy_roles;
mod edge;
mod efs;
mod estate;
mod guards;
mod import_eksctl;
mod import_terraform;
mod network;
mod preflight;
mod registries;
mod reliability;
mod security_groups;
mod shared_account;
mod weighted;
mod workloads;

use std::collections::BTreeMap;

use eksform_aws::AwsClients;

const REGION: &str = "us-east-1";

const ZONES: [&str; 3] = ["us-east-1a", "us-east-1b", "us-east-1c"];

fn network_spec(stack: &str, nat: &str) -> String {
    format!(
        "stack: {stack}\nregion: {REGION}\ntags:\n  team: platform\nvpc:\n  cidr: 10.30.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b, us-east-1c]\n  nat:\n    gateway: {nat}\n"
    )
}

fn tags(tags: &[aws_sdk_ec2::types::Tag]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|t| {
            (
                t.key().unwrap_or_default().to_string(),
                t.value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn assert_no_clusters(aws: &AwsClients) {
    let clusters = aws.eks.list_clusters().send().await.unwrap();
    assert!(
        clusters.clusters().is_empty(),
        "clusters left: {:?}",
        clusters.clusters()
    );
}

fn cluster_spec(stack: &str, cidrs: &str, retention: u32) -> String {
    format!(
        "stack: {stack}\nregion: {REGION}\ntags:\n  team: platform\nvpc:\n  cidr: 10.30.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\n  nat:\n    gateway: Single\ncluster:\n  name: {stack}-eks\n  version: \"1.31\"\n  publicAccessCIDRs: [{cidrs}]\n  logging:\n    enableTypes: [api, audit]\n    logRetentionInDays: {retention}\niam:\n  withOIDC: true\n"
    )
}
