//! Checks of what a run left in an account, shared by the tests that run
//! the `eksform` binary against the emulator.

use aws_sdk_ec2::types::{Filter, NatGatewayState};
use eksform_aws::AwsClients;
use eksform_core::model::STACK_TAG;

/// The EC2 filter for what carries `stack`'s mark.
pub fn marked_by(stack: &str) -> Filter {
    Filter::builder()
        .name(format!("tag:{STACK_TAG}"))
        .values(stack)
        .build()
}

/// Nothing is left with `stack`'s mark: no VPC, subnet, internet gateway,
/// route table or Elastic IP, and no NAT gateway but deleted ones (moto
/// ignores tag filters on NAT gateways, so those are matched here).
pub async fn assert_nothing_marked(aws: &AwsClients, stack: &str) {
    let ec2 = &aws.ec2;
    let (vpcs, subnets, gateways, route_tables, addresses, nats) = tokio::join!(
        ec2.describe_vpcs().filters(marked_by(stack)).send(),
        ec2.describe_subnets().filters(marked_by(stack)).send(),
        ec2.describe_internet_gateways()
            .filters(marked_by(stack))
            .send(),
        ec2.describe_route_tables().filters(marked_by(stack)).send(),
        ec2.describe_addresses().filters(marked_by(stack)).send(),
        ec2.describe_nat_gateways().send(),
    );
    let mut left: Vec<String> = Vec::new();
    left.extend(
        vpcs.unwrap()
            .vpcs()
            .iter()
            .map(|v| format!("{:?}", v.vpc_id())),
    );
    left.extend(
        subnets
            .unwrap()
            .subnets()
            .iter()
            .map(|s| format!("{:?}", s.subnet_id())),
    );
    left.extend(
        gateways
            .unwrap()
            .internet_gateways()
            .iter()
            .map(|g| format!("{:?}", g.internet_gateway_id())),
    );
    left.extend(
        route_tables
            .unwrap()
            .route_tables()
            .iter()
            .map(|r| format!("{:?}", r.route_table_id())),
    );
    left.extend(
        addresses
            .unwrap()
            .addresses()
            .iter()
            .map(|a| format!("{:?}", a.allocation_id())),
    );
    left.extend(
        nats.unwrap()
            .nat_gateways()
            .iter()
            .filter(|n| {
                n.tags()
                    .iter()
                    .any(|t| t.key() == Some(STACK_TAG) && t.value() == Some(stack))
            })
            .filter(|n| n.state() != Some(&NatGatewayState::Deleted))
            .map(|n| format!("{:?}", n.nat_gateway_id())),
    );
    assert!(left.is_empty(), "left with the mark of {stack}: {left:?}");
}
