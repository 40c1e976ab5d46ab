//! Security group rules whose peer is the cluster's security group: the
//! emulator's EKS cluster has no `clusterSecurityGroupId` (EMULATOR.md), so
//! a rule from `cluster` cannot be applied there. Here the EC2 client is
//! mocked with aws-smithy-mocks and the adapter is checked to send the
//! cluster's group as a user-id/group pair, and to revoke what the spec no
//! longer has, one permission per call.

use std::sync::{Arc, Mutex};

use aws_sdk_ec2::Client;
use aws_sdk_ec2::operation::authorize_security_group_ingress::AuthorizeSecurityGroupIngressOutput;
use aws_sdk_ec2::operation::revoke_security_group_ingress::RevokeSecurityGroupIngressOutput;
use aws_smithy_mocks::{MockResponseInterceptor, Rule, RuleMode, mock};
use eksform_aws::{Adapter, AwsClients};
use eksform_core::kinds::SecurityGroup;
use eksform_core::kinds::security_group::group_rule;
use eksform_core::model::{Address, Attributes, LiveResource, Status, Value};

/// An EC2 client answered by `rules`. Built by hand rather than with
/// `mock_client!`, which needs the SDK's `test-util` feature: that would
/// compile the EC2 SDK a second time for the tests.
fn mocked_ec2(rules: &[&Rule]) -> Client {
    let mut interceptor = MockResponseInterceptor::new().rule_mode(RuleMode::MatchAny);
    for rule in rules {
        interceptor = interceptor.with_rule(rule);
    }
    let config = aws_sdk_ec2::Config::builder()
        .behavior_version(aws_sdk_ec2::config::BehaviorVersion::latest())
        .region(aws_sdk_ec2::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_ec2::config::Credentials::new(
            "AKIDTEST", "test", None, None, "test",
        ))
        .http_client(aws_smithy_mocks::create_mock_http_client())
        .interceptor(interceptor)
        .build();
    Client::from_conf(config)
}

fn clients(ec2: Client) -> AwsClients {
    let config = aws_config::SdkConfig::builder()
        .behavior_version(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new("us-east-1"))
        .build();
    let mut clients = AwsClients::from_config(&config);
    clients.ec2 = ec2;
    clients
}

#[tokio::test]
async fn a_rule_from_the_cluster_is_a_group_pair_with_the_clusters_group() {
    let authorized = Arc::new(Mutex::new(Vec::new()));
    let seen = authorized.clone();
    let authorize = mock!(Client::authorize_security_group_ingress)
        .match_requests(move |request| {
            seen.lock().unwrap().push(request.ip_permissions().to_vec());
            request.group_id() == Some("sg-db")
        })
        .then_output(|| AuthorizeSecurityGroupIngressOutput::builder().build());
    let revoked = Arc::new(Mutex::new(Vec::new()));
    let seen = revoked.clone();
    let revoke = mock!(Client::revoke_security_group_ingress)
        .match_requests(move |request| {
            seen.lock().unwrap().push(request.ip_permissions().to_vec());
            request.group_id() == Some("sg-db")
        })
        .then_output(|| RevokeSecurityGroupIngressOutput::builder().build());
    let ec2 = mocked_ec2(&[&authorize, &revoke]);

    let mut live_attributes = Attributes::new();
    live_attributes.insert(
        "ingress".into(),
        Value::List(vec![Value::string("tcp:5432:10.0.0.0/8")]),
    );
    let live = LiveResource {
        address: Address("security_group.custom.db".into()),
        kind: "security_group".into(),
        id: "sg-db".into(),
        attributes: live_attributes,
        status: Status::Ready,
    };
    // What the plan sends once `cluster` resolved to the cluster's group id.
    let mut desired = Attributes::new();
    desired.insert(
        "ingress".into(),
        Value::List(vec![
            group_rule("tcp:5432", Value::string("sg-cluster")),
            group_rule("all", Value::string("self")),
        ]),
    );
    SecurityGroup
        .update(&clients(ec2), &live, &desired)
        .await
        .expect("update");

    let authorized = authorized.lock().unwrap();
    assert_eq!(authorized.len(), 2, "one permission per call");
    let pairs: Vec<(Option<String>, Option<i32>, Option<String>)> = authorized
        .iter()
        .map(|permissions| {
            assert_eq!(permissions.len(), 1);
            let permission = &permissions[0];
            assert!(
                permission.ip_ranges().is_empty(),
                "no CIDR for a group rule"
            );
            (
                permission.ip_protocol().map(str::to_string),
                permission.from_port(),
                permission.user_id_group_pairs()[0]
                    .group_id()
                    .map(str::to_string),
            )
        })
        .collect();
    assert!(pairs.contains(&(Some("tcp".into()), Some(5432), Some("sg-cluster".into()))));
    assert!(
        pairs.contains(&(Some("-1".into()), None, Some("sg-db".into()))),
        "`self` is the group's own id: {pairs:?}"
    );
    let revoked = revoked.lock().unwrap();
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0][0].ip_ranges()[0].cidr_ip(), Some("10.0.0.0/8"));
    assert_eq!(revoked[0][0].from_port(), Some(5432));
}

/// Routes a VPN gateway propagates (BGP's) are neither made nor deleted by a
/// route call: observation leaves them out, so no plan shows them and no
/// apply sends a DeleteRoute for them. moto marks every route
/// `CreateRoute`, so only a mocked answer can carry the propagated origin.
#[tokio::test]
async fn routes_a_vpn_gateway_propagates_are_not_read_as_the_tables() {
    use aws_sdk_ec2::operation::describe_route_tables::DescribeRouteTablesOutput;
    use aws_sdk_ec2::types::{Route, RouteOrigin, RouteTable, Tag};
    let tables = mock!(Client::describe_route_tables).then_output(|| {
        DescribeRouteTablesOutput::builder()
            .route_tables(
                RouteTable::builder()
                    .route_table_id("rtb-1")
                    .vpc_id("vpc-1")
                    .tags(Tag::builder().key("eksform:stack").value("routed").build())
                    .tags(
                        Tag::builder()
                            .key("eksform:address")
                            .value("route_table.private.us-east-1a")
                            .build(),
                    )
                    .routes(
                        Route::builder()
                            .destination_cidr_block("0.0.0.0/0")
                            .nat_gateway_id("nat-1")
                            .origin(RouteOrigin::CreateRoute)
                            .build(),
                    )
                    .routes(
                        Route::builder()
                            .destination_cidr_block("172.16.0.0/12")
                            .gateway_id("vgw-1")
                            .origin(RouteOrigin::EnableVgwRoutePropagation)
                            .build(),
                    )
                    .build(),
            )
            .build()
    });
    let scope = eksform_core::cloud::Scope {
        stack: "routed".into(),
        region: "us-east-1".into(),
        ..Default::default()
    };
    let found = eksform_core::kinds::RouteTable
        .observe(&clients(mocked_ec2(&[&tables])), &scope)
        .await
        .expect("observed");
    let [table] = found.as_slice() else {
        panic!("one table: {found:?}");
    };
    assert_eq!(
        table.attributes["routes"],
        Value::Map([("0.0.0.0/0".to_string(), Value::string("nat-1"))].into()),
        "the propagated route is not the table's"
    );
}
