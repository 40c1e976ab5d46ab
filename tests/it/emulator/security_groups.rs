//! `securityGroups` against the emulator: groups admitting a CIDR, another
//! group of the stack, themselves and a load balancer's group, created,
//! re-planned to nothing, changed in place (the same group ids), and
//! destroyed in the order AWS needs (a group after the groups naming it).
//!
//! A rule from `cluster` is not applied here: the emulator's EKS cluster has
//! no `clusterSecurityGroupId` (EMULATOR.md), so its request shape is
//! checked with a mocked client in `requests::ec2` instead.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::SecurityGroup;
use eksform_aws::AwsClients;
use eksform_testkit::assertions::{assert_nothing_marked, marked_by};
use eksform_testkit::emulator::{Emulator, apply, destroy, plan_exit_code, write_spec};

use super::REGION;
use crate::EKSFORM;

fn spec(db_ingress: &str) -> String {
    format!(
        r#"stack: sgs
region: {REGION}
vpc:
  cidr: 10.70.0.0/16
  availabilityZones: [us-east-1a, us-east-1b]
  nat: {{ gateway: Disable }}
loadBalancers:
  - name: web
securityGroups:
  - name: clients
    egress:
      - {{ to: 10.70.0.0/16, port: 5432 }}
  - name: db
    ingress:
{db_ingress}
"#
    )
}

const FIRST: &str = "      - { from: clients, port: 5432 }\n      - { from: 10.0.0.0/8, ports: \"5432-5433\" }\n      - { from: loadBalancer.web, port: 5432 }\n      - { from: db, protocol: all }";
const CHANGED: &str = "      - { from: clients, port: 6432 }\n      - { from: 192.0.2.0/24, protocol: udp, port: 53 }\n      - { from: db, protocol: all }";

async fn groups(aws: &AwsClients) -> Vec<SecurityGroup> {
    aws.ec2
        .describe_security_groups()
        .filters(marked_by("sgs"))
        .send()
        .await
        .unwrap()
        .security_groups()
        .to_vec()
}

fn named<'a>(groups: &'a [SecurityGroup], address: &str) -> &'a SecurityGroup {
    groups
        .iter()
        .find(|g| {
            g.tags()
                .iter()
                .any(|t| t.key() == Some("eksform:address") && t.value() == Some(address))
        })
        .unwrap_or_else(|| panic!("a group at {address}"))
}

/// A group's ingress as `<protocol>:<from>-<to>:<peer>` (peer a CIDR or group id).
fn ingress(group: &SecurityGroup) -> BTreeSet<String> {
    group
        .ip_permissions()
        .iter()
        .flat_map(|p| {
            let traffic = format!(
                "{}:{}-{}",
                p.ip_protocol().unwrap_or_default(),
                p.from_port().unwrap_or(-1),
                p.to_port().unwrap_or(-1)
            );
            p.ip_ranges()
                .iter()
                .filter_map(|r| r.cidr_ip())
                .chain(p.user_id_group_pairs().iter().filter_map(|g| g.group_id()))
                .map(move |peer| format!("{traffic}:{peer}"))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn groups_admitting_cidrs_and_other_groups_change_in_place_and_go_in_order() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_spec(&dir, "sgs.yaml", &spec(FIRST));
    apply(&emulator, &path);

    let live = groups(&aws).await;
    let clients = named(&live, "security_group.custom.clients");
    let db = named(&live, "security_group.custom.db");
    let web = named(&live, "security_group.load_balancer.web");
    let (clients_id, db_id, web_id) = (
        clients.group_id().unwrap(),
        db.group_id().unwrap(),
        web.group_id().unwrap(),
    );
    assert_eq!(db.group_name(), Some("sgs-security-group-custom-db"));
    assert_eq!(db.description(), Some("Security group db of stack sgs"));
    assert_eq!(
        ingress(db),
        BTreeSet::from([
            format!("tcp:5432-5432:{clients_id}"),
            "tcp:5432-5433:10.0.0.0/8".to_string(),
            format!("tcp:5432-5432:{web_id}"),
            format!("-1:-1--1:{db_id}"),
        ])
    );
    let egress: Vec<String> = clients
        .ip_permissions_egress()
        .iter()
        .flat_map(|p| p.ip_ranges().iter().filter_map(|r| r.cidr_ip()))
        .map(str::to_string)
        .collect();
    assert_eq!(egress, ["10.70.0.0/16"], "only the declared egress");
    // The load balancer's group keeps its own rules.
    assert!(ingress(web).contains("tcp:443-443:0.0.0.0/0"));

    let outputs = emulator
        .eksform()
        .args(["outputs", "--json"])
        .arg(&path)
        .output()
        .unwrap();
    let outputs: serde_json::Value = serde_json::from_slice(&outputs.stdout).unwrap();
    assert_eq!(outputs["securityGroupIds"]["db"], db_id);
    assert_eq!(outputs["securityGroupIds"]["clients"], clients_id);
    assert!(outputs["securityGroupIds"].get("web").is_none());

    assert_eq!(
        plan_exit_code(&emulator, &path),
        0,
        "a re-plan changes nothing"
    );

    // Rules change in place: the same groups, the new rules only.
    let path = write_spec(&dir, "sgs.yaml", &spec(CHANGED));
    let plan = emulator
        .eksform()
        .args(["plan"])
        .arg(&path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&plan.stdout);
    assert!(text.contains("~ security_group.custom.db"), "{text}");
    assert!(!text.contains("-/+"), "nothing is replaced: {text}");
    apply(&emulator, &path);
    let live = groups(&aws).await;
    let db = named(&live, "security_group.custom.db");
    assert_eq!(db.group_id(), Some(db_id), "the same group");
    assert_eq!(
        ingress(db),
        BTreeSet::from([
            format!("tcp:6432-6432:{clients_id}"),
            "udp:53-53:192.0.2.0/24".to_string(),
            format!("-1:-1--1:{db_id}"),
        ])
    );
    assert_eq!(
        plan_exit_code(&emulator, &path),
        0,
        "a re-plan changes nothing"
    );

    destroy(&emulator, &path);
    assert!(groups(&aws).await.is_empty(), "no group keeps the mark");
    assert_nothing_marked(&aws, "sgs").await;
}
