//! Weighted routing against the emulator: an ALB whose listener splits
//! requests between a blue and a green target group by weight (moving the
//! weights is one in-place ModifyListener, the ALB and listener kept), and
//! Route53 weighted and failover records created, re-planned, changed and
//! destroyed.
//!
//! The emulator deletes every weighted record with the same SetIdentifier
//! whatever its name (EMULATOR.md), so each record here has its own.

use aws_sdk_elasticloadbalancingv2::types::Listener;
use eksform_aws::AwsClients;
use eksform_testkit::assertions::assert_nothing_marked;
use eksform_testkit::emulator::{Emulator, apply, destroy, plan_exit_code, write_spec};

use super::REGION;
use crate::EKSFORM;

fn weighted_edge(blue: u16, green: u16) -> String {
    format!(
        r#"stack: edge
region: {REGION}
vpc:
  cidr: 10.61.0.0/16
  availabilityZones: [us-east-1a, us-east-1b]
  nat: {{ gateway: Disable }}
loadBalancers:
  - name: web
    targetGroups:
      - {{ name: blue, port: 80, targetType: ip, weight: {blue} }}
      - {{ name: green, port: 80, targetType: ip, weight: {green} }}
"#
    )
}

async fn only_listener(aws: &AwsClients, load_balancer_arn: &str) -> Listener {
    let listeners = aws
        .elb
        .describe_listeners()
        .load_balancer_arn(load_balancer_arn)
        .send()
        .await
        .unwrap();
    assert_eq!(listeners.listeners().len(), 1, "port 80 only");
    listeners.listeners()[0].clone()
}

/// The listener's forward weights by target group name.
async fn forward_weights(aws: &AwsClients, listener: &Listener) -> Vec<(String, i32)> {
    let groups = aws.elb.describe_target_groups().send().await.unwrap();
    let name_of = |arn: &str| {
        let group = groups
            .target_groups()
            .iter()
            .find(|g| g.target_group_arn() == Some(arn))
            .expect("a forwarded group exists");
        let name = group.target_group_name().unwrap();
        if name.contains("blue") {
            "blue"
        } else {
            "green"
        }
        .to_string()
    };
    let action = &listener.default_actions()[0];
    assert_eq!(action.target_group_arn(), None, "no single group");
    let mut weights: Vec<(String, i32)> = action
        .forward_config()
        .expect("a weighted forward")
        .target_groups()
        .iter()
        .map(|t| (name_of(t.target_group_arn().unwrap()), t.weight().unwrap()))
        .collect();
    weights.sort();
    weights
}

/// (address, action) of every change `plan --json` shows for `spec`.
fn planned_changes(emulator: &Emulator, spec: &std::path::Path) -> Vec<(String, String)> {
    let plan = emulator
        .eksform()
        .args(["plan", "--json"])
        .arg(spec)
        .output()
        .unwrap();
    assert!(
        plan.status.success(),
        "{}",
        String::from_utf8_lossy(&plan.stderr)
    );
    let document: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    document["stacks"][0]["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] != "no_op")
        .map(|r| {
            (
                r["address"].as_str().unwrap().to_string(),
                r["action"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn moving_target_group_weights_modifies_the_listener_in_place() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "edge.yaml", &weighted_edge(100, 0));
    apply(&emulator, &spec);
    let balancers = aws.elb.describe_load_balancers().send().await.unwrap();
    assert_eq!(balancers.load_balancers().len(), 1);
    let lb_arn = balancers.load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string();
    let listener = only_listener(&aws, &lb_arn).await;
    assert_eq!(
        forward_weights(&aws, &listener).await,
        [("blue".to_string(), 100), ("green".to_string(), 0)]
    );
    assert_eq!(
        plan_exit_code(&emulator, &spec),
        0,
        "re-plan has no changes"
    );

    // Blue to green: one update of the listener, nothing replaced.
    let moved = write_spec(&dir, "edge.yaml", &weighted_edge(0, 100));
    assert_eq!(
        planned_changes(&emulator, &moved),
        [("listener.web.http".to_string(), "update".to_string())]
    );
    apply(&emulator, &moved);
    let balancers = aws.elb.describe_load_balancers().send().await.unwrap();
    assert_eq!(
        balancers.load_balancers()[0].load_balancer_arn(),
        Some(lb_arn.as_str()),
        "the same ALB"
    );
    let after = only_listener(&aws, &lb_arn).await;
    assert_eq!(
        after.listener_arn(),
        listener.listener_arn(),
        "the same listener"
    );
    assert_eq!(
        forward_weights(&aws, &after).await,
        [("blue".to_string(), 0), ("green".to_string(), 100)]
    );
    assert_eq!(
        plan_exit_code(&emulator, &moved),
        0,
        "re-plan has no changes"
    );

    // Weights left out: back to a plain forward to the first group, in place.
    let plain = write_spec(
        &dir,
        "edge.yaml",
        &weighted_edge(0, 100)
            .replace(", weight: 0", "")
            .replace(", weight: 100", ""),
    );
    apply(&emulator, &plain);
    let groups = aws.elb.describe_target_groups().send().await.unwrap();
    let blue = groups
        .target_groups()
        .iter()
        .find(|g| g.target_group_name().unwrap().contains("blue"))
        .unwrap();
    let listener = only_listener(&aws, &lb_arn).await;
    assert_eq!(listener.listener_arn(), after.listener_arn());
    assert_eq!(
        listener.default_actions()[0].target_group_arn(),
        blue.target_group_arn()
    );
    assert_eq!(plan_exit_code(&emulator, &plain), 0);

    destroy(&emulator, &plain);
    assert!(
        aws.elb
            .describe_load_balancers()
            .send()
            .await
            .unwrap()
            .load_balancers()
            .is_empty()
    );
    assert_nothing_marked(&aws, "edge").await;
}

fn weighted_dns(blue: u16, green: u16) -> String {
    format!(
        r#"stack: dns
region: {REGION}
dns:
  zone: weighted.example.com
  records:
    - {{ name: www.weighted.example.com, type: A, values: [192.0.2.10], setIdentifier: www-blue, weight: {blue} }}
    - {{ name: www.weighted.example.com, type: A, values: [192.0.2.20], setIdentifier: www-green, weight: {green} }}
    - {{ name: api.weighted.example.com, type: CNAME, values: [api-a.example.net], setIdentifier: api-primary, failover: PRIMARY }}
    - {{ name: api.weighted.example.com, type: CNAME, values: [api-b.example.net], setIdentifier: api-secondary, failover: SECONDARY }}
    - {{ name: plain.weighted.example.com, type: A, values: [192.0.2.30] }}
"#
    )
}

/// (name, set identifier, weight, failover) of the zone's routed records.
async fn routed_records(aws: &AwsClients) -> Vec<(String, String, Option<i64>, Option<String>)> {
    let zones = aws.route53.list_hosted_zones().send().await.unwrap();
    // Destroyed with its records: nothing routed is left.
    let Some(zone) = zones.hosted_zones().first() else {
        return vec![];
    };
    let zone = zone.id().to_string();
    let records = aws
        .route53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .unwrap();
    let mut routed: Vec<_> = records
        .resource_record_sets()
        .iter()
        .filter_map(|r| {
            Some((
                r.name().trim_end_matches('.').to_string(),
                r.set_identifier()?.to_string(),
                r.weight(),
                r.failover().map(|f| f.as_str().to_string()),
            ))
        })
        .collect();
    routed.sort();
    routed
}

#[tokio::test(flavor = "multi_thread")]
async fn weighted_and_failover_records_are_created_changed_and_destroyed() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "dns.yaml", &weighted_dns(100, 0));
    apply(&emulator, &spec);
    let primary = |name: &str, id: &str, failover: &str| {
        (
            name.to_string(),
            id.to_string(),
            None,
            Some(failover.to_string()),
        )
    };
    let weighted = |id: &str, weight: i64| {
        (
            "www.weighted.example.com".to_string(),
            id.to_string(),
            Some(weight),
            None,
        )
    };
    assert_eq!(
        routed_records(&aws).await,
        [
            primary("api.weighted.example.com", "api-primary", "PRIMARY"),
            primary("api.weighted.example.com", "api-secondary", "SECONDARY"),
            weighted("www-blue", 100),
            weighted("www-green", 0),
        ]
    );
    assert_eq!(
        plan_exit_code(&emulator, &spec),
        0,
        "re-plan has no changes"
    );

    let moved = write_spec(&dir, "dns.yaml", &weighted_dns(0, 100));
    let plan = emulator
        .eksform()
        .args(["plan", "--json"])
        .arg(&moved)
        .output()
        .unwrap();
    let document: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let mut changes: Vec<(String, String)> = document["stacks"][0]["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["action"] != "no_op")
        .map(|r| {
            (
                r["address"].as_str().unwrap().to_string(),
                r["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    changes.sort();
    assert_eq!(
        changes,
        [
            (
                "dns_record.www.weighted.example.com.A@www-blue".to_string(),
                "update".to_string()
            ),
            (
                "dns_record.www.weighted.example.com.A@www-green".to_string(),
                "update".to_string()
            ),
        ]
    );
    apply(&emulator, &moved);
    let routed = routed_records(&aws).await;
    assert!(routed.contains(&weighted("www-blue", 0)), "{routed:?}");
    assert!(routed.contains(&weighted("www-green", 100)), "{routed:?}");
    assert_eq!(
        plan_exit_code(&emulator, &moved),
        0,
        "re-plan has no changes"
    );

    destroy(&emulator, &moved);
    assert!(
        routed_records(&aws).await.is_empty(),
        "no routed record left"
    );
}

/// The edge with a third group made by other tools (Terraform, say), given
/// by its ARN with `weight`.
fn edge_with_brought_group(arn: &str, weight: u16) -> String {
    weighted_edge(100, 0).replace(
        "      - { name: green, port: 80, targetType: ip, weight: 0 }\n",
        &format!(
            "      - {{ name: green, port: 80, targetType: ip, weight: 0 }}\n      - {{ name: legacy, arn: \"{arn}\", weight: {weight} }}\n"
        ),
    )
}

/// A listener forwards to a target group made elsewhere: the plan changes
/// only the listener, the group is never tagged, changed or deleted, and a
/// destroy of the stack leaves it as it was.
#[tokio::test(flavor = "multi_thread")]
async fn a_listener_forwards_to_a_target_group_made_elsewhere_and_leaves_it_alone() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "edge.yaml", &weighted_edge(100, 0));
    apply(&emulator, &spec);
    let balancers = aws.elb.describe_load_balancers().send().await.unwrap();
    let balancer = &balancers.load_balancers()[0];
    let lb_arn = balancer.load_balancer_arn().unwrap().to_string();
    let vpc = balancer.vpc_id().unwrap().to_string();

    // Another tool's group in the same VPC.
    let legacy = aws
        .elb
        .create_target_group()
        .name("legacy-web")
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(8080)
        .vpc_id(&vpc)
        .target_type(aws_sdk_elasticloadbalancingv2::types::TargetTypeEnum::Ip)
        .send()
        .await
        .unwrap();
    let legacy = legacy.target_groups()[0].clone();
    let legacy_arn = legacy.target_group_arn().unwrap().to_string();

    // A group that does not exist, and one another load balancer already
    // forwards to: both refused by the plan, at the ARN, before any call
    // that changes something.
    let missing = legacy_arn.replace("legacy-web", "no-such-group");
    let taken = aws
        .elb
        .create_target_group()
        .name("taken-web")
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(80)
        .vpc_id(&vpc)
        .send()
        .await
        .unwrap();
    let taken_arn = taken.target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    let other_balancer = aws
        .elb
        .create_load_balancer()
        .name("someone-elses")
        .set_subnets(Some(
            balancer
                .availability_zones()
                .iter()
                .filter_map(|z| z.subnet_id().map(str::to_string))
                .collect(),
        ))
        .send()
        .await
        .unwrap();
    let other_arn = other_balancer.load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string();
    aws.elb
        .create_listener()
        .load_balancer_arn(&other_arn)
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(80)
        .default_actions(
            aws_sdk_elasticloadbalancingv2::types::Action::builder()
                .r#type(aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum::Forward)
                .target_group_arn(&taken_arn)
                .build(),
        )
        .send()
        .await
        .unwrap();
    for (arn, said) in [
        (&missing, ["does not exist", "no-such-group"]),
        (
            &taken_arn,
            ["already serves load balancer", other_arn.as_str()],
        ),
    ] {
        let refused = write_spec(&dir, "refused.yaml", &edge_with_brought_group(arn, 50));
        let output = emulator
            .eksform()
            .args(["apply", "--auto-approve"])
            .arg(&refused)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(said.iter().all(|s| stderr.contains(s)), "{stderr}");
        assert!(
            stderr.contains("refused.yaml:12:30:"),
            "located at the arn: {stderr}"
        );
        let spec = write_spec(&dir, "edge.yaml", &weighted_edge(100, 0));
        assert_eq!(plan_exit_code(&emulator, &spec), 0, "nothing was changed");
    }

    let brought = write_spec(&dir, "edge.yaml", &edge_with_brought_group(&legacy_arn, 50));
    assert_eq!(
        planned_changes(&emulator, &brought),
        [("listener.web.http".to_string(), "update".to_string())],
        "only the listener changes: no target group is made for a brought one"
    );
    apply(&emulator, &brought);
    let listener = only_listener(&aws, &lb_arn).await;
    let mut forwarded: Vec<(String, i32)> = listener.default_actions()[0]
        .forward_config()
        .expect("a weighted forward")
        .target_groups()
        .iter()
        .map(|t| {
            (
                t.target_group_arn().unwrap().to_string(),
                t.weight().unwrap(),
            )
        })
        .collect();
    forwarded.sort_by_key(|(_, weight)| -weight);
    assert_eq!(
        forwarded.iter().map(|(_, w)| *w).collect::<Vec<_>>(),
        [100, 50, 0],
        "blue, the brought group and green"
    );
    assert_eq!(forwarded[1].0, legacy_arn);
    assert_eq!(
        plan_exit_code(&emulator, &brought),
        0,
        "re-plan has no changes"
    );

    let tags_of_legacy = || async {
        aws.elb
            .describe_tags()
            .resource_arns(&legacy_arn)
            .send()
            .await
            .unwrap()
            .tag_descriptions()[0]
            .tags()
            .len()
    };
    assert_eq!(tags_of_legacy().await, 0, "a brought group is never marked");

    destroy(&emulator, &brought);
    let mut left: Vec<String> = aws
        .elb
        .describe_target_groups()
        .send()
        .await
        .unwrap()
        .target_groups()
        .iter()
        .filter_map(|g| g.target_group_arn().map(str::to_string))
        .collect();
    left.sort();
    let mut others = vec![legacy_arn.clone(), taken_arn.clone()];
    others.sort();
    assert_eq!(left, others, "the destroy left the other tools' groups");
    let balancers = aws.elb.describe_load_balancers().send().await.unwrap();
    let balancers: Vec<&str> = balancers
        .load_balancers()
        .iter()
        .filter_map(|b| b.load_balancer_arn())
        .collect();
    assert_eq!(
        balancers,
        [other_arn.as_str()],
        "and the other load balancer"
    );
    assert_eq!(tags_of_legacy().await, 0);
    assert_nothing_marked(&aws, "edge").await;
}
