//! Security groups: the group of a load balancer (HTTP and HTTPS in from
//! `ingressCIDRs`, everything out to the VPC, or anywhere for a brought VPC
//! whose CIDR eksform does not know) and the groups of `securityGroups`.
//! Rules change in place.
//!
//! A rule is a string `<protocol>:<ports>:<cidr>` (`all:<cidr>`) when its
//! peer is a CIDR, and a map `{ group, rule: "<protocol>:<ports>" | "all" }`
//! when it is another group: `group` refers to that group's id (known after
//! its create), or is `self` for the group itself.

use super::{Attribute, Kind, ObservationFloor, Timings};
use super::{Compare, EksCluster};
use crate::lower::{
    GroupName, Network, Peer, RuleModel, SecurityGroupModel, StackModel, resource_name, vpc_value,
};
use crate::model::{Address, DesiredResource, Value, ownership_tags};
use std::collections::BTreeMap;
use std::time::Duration;

pub struct SecurityGroup;

impl SecurityGroup {
    pub fn address(load_balancer: &str) -> Address {
        Address::new(&["security_group", "load_balancer", load_balancer])
    }

    /// The address of a group of `securityGroups`.
    pub fn declared_address(name: &str) -> Address {
        Address::new(&["security_group", "custom", name])
    }

    /// The address of the NFS group of the EFS file system `name`, which
    /// its mount targets are in.
    pub fn efs_address(file_system: &str) -> Address {
        Address::new(&["security_group", "efs", file_system])
    }

    /// The name of a group of `securityGroups` at `address`, if it is one.
    pub fn declared_name(address: &Address) -> Option<&str> {
        address.as_str().strip_prefix("security_group.custom.")
    }
}

/// What a rule whose peer is a group says as a value (see the module docs).
pub fn group_rule(traffic: &str, group: Value) -> Value {
    Value::Map(BTreeMap::from([
        ("group".to_string(), group),
        ("rule".to_string(), Value::string(traffic)),
    ]))
}

/// The rule values of a group at `own` (a group naming itself is `self`).
fn rule_values(rules: &[RuleModel], own: &Address) -> Value {
    let mut values: Vec<Value> = rules
        .iter()
        .map(|rule| match &rule.peer {
            Peer::Cidr(cidr) => Value::string(format!("{}:{cidr}", rule.traffic)),
            Peer::Group(group) => {
                let group = match group {
                    GroupName::Cluster => {
                        Value::reference(&EksCluster::address(), "security_group_id")
                    }
                    GroupName::LoadBalancer(name) => {
                        Value::reference(&SecurityGroup::address(name), "id")
                    }
                    GroupName::Declared(name) if &SecurityGroup::declared_address(name) == own => {
                        Value::string("self")
                    }
                    GroupName::Declared(name) => {
                        Value::reference(&SecurityGroup::declared_address(name), "id")
                    }
                };
                group_rule(&rule.traffic, group)
            }
        })
        .collect();
    values.sort();
    values.dedup();
    Value::List(values)
}

#[derive(Clone, Copy)]
pub enum Direction {
    Ingress,
    Egress,
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::replaces("description"),
    // Sets: a rule naming a group sorts by its reference before apply and
    // by the group's id after.
    Attribute::in_place("egress").compared(Compare::Set),
    Attribute::in_place("ingress").compared(Compare::Set),
    Attribute::replaces("name"),
    Attribute::tags(),
    Attribute::replaces("vpc_id"),
];

impl Kind for SecurityGroup {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn adopted_identity(&self) -> &'static [&'static str] {
        &["name", "description"]
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor::list(1, "DescribeSecurityGroups")
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "ec2:AuthorizeSecurityGroupEgress",
            "ec2:AuthorizeSecurityGroupIngress",
            "ec2:CreateSecurityGroup",
            "ec2:CreateTags",
            "ec2:DeleteSecurityGroup",
            "ec2:DeleteTags",
            "ec2:DescribeSecurityGroups",
            "ec2:RevokeSecurityGroupEgress",
            "ec2:RevokeSecurityGroupIngress",
        ]
    }

    fn service(&self) -> &'static str {
        "ec2"
    }

    fn observes_every_stack(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "security_group"
    }

    fn id_prefix(&self) -> &'static str {
        "sg"
    }

    fn timings(&self) -> Timings {
        Timings {
            // A deleted load balancer lets go of its network interfaces slowly.
            timeout: Duration::from_secs(10 * 60),
            ..Timings::immediate()
        }
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(network) = &stack.network else {
            return vec![];
        };
        let egress_to = match network {
            Network::Created(created) => created.cidr.to_string(),
            Network::Brought(_) => "0.0.0.0/0".into(),
        };
        let declared = stack
            .security_groups
            .iter()
            .map(|group| self.declared(stack, network, group));
        stack
            .load_balancers
            .iter()
            .map(|lb| {
                let address = Self::address(&lb.name);
                let name = resource_name(&stack.stack, &address);
                let ingress: Vec<String> = lb
                    .ingress_cidrs
                    .iter()
                    .flat_map(|cidr| [format!("tcp:80:{cidr}"), format!("tcp:443:{cidr}")])
                    .collect();
                DesiredResource::new(self.name(), address.clone())
                    .with("name", Value::string(name.clone()))
                    .with(
                        "description",
                        Value::string(format!(
                            "Load balancer {} of stack {}",
                            lb.name, stack.stack
                        )),
                    )
                    .with("vpc_id", vpc_value(network))
                    .with("ingress", Value::string_set(&ingress))
                    .with("egress", Value::string_set(&[format!("all:{egress_to}")]))
                    .with(
                        "tags",
                        Value::string_map(&ownership_tags(
                            &stack.stack,
                            &address,
                            &name,
                            &stack.tags,
                        )),
                    )
            })
            .chain(declared)
            .chain(
                stack
                    .efs
                    .iter()
                    .map(|fs| self.nfs(stack, network, &fs.name)),
            )
            .collect()
    }
}

impl SecurityGroup {
    /// A group of `securityGroups`.
    fn declared(
        &self,
        stack: &StackModel,
        network: &Network,
        group: &SecurityGroupModel,
    ) -> DesiredResource {
        let address = Self::declared_address(&group.name);
        let name = resource_name(&stack.stack, &address);
        DesiredResource::new(self.name(), address.clone())
            .with("name", Value::string(name.clone()))
            .with("description", Value::string(group.description.clone()))
            .with("vpc_id", vpc_value(network))
            .with("ingress", rule_values(&group.ingress, &address))
            .with("egress", rule_values(&group.egress, &address))
            .with(
                "tags",
                Value::string_map(&ownership_tags(&stack.stack, &address, &name, &stack.tags)),
            )
    }
}

impl SecurityGroup {
    /// The NFS group of an EFS file system: NFS (tcp 2049) in from the
    /// cluster security group, which managed node groups and Fargate pods
    /// use; without a cluster in the stack, from the VPC's CIDR (a brought
    /// VPC's is unknown: then no rule, and `securityGroups` rules elsewhere
    /// must admit clients). Nothing out: NFS answers on the connections
    /// clients open.
    fn nfs(&self, stack: &StackModel, network: &Network, file_system: &str) -> DesiredResource {
        let address = Self::efs_address(file_system);
        let name = resource_name(&stack.stack, &address);
        let ingress = match (&stack.cluster, network) {
            (Some(_), _) => vec![group_rule(
                NFS_TRAFFIC,
                Value::reference(&EksCluster::address(), "security_group_id"),
            )],
            (None, Network::Created(created)) => {
                vec![Value::string(format!("{NFS_TRAFFIC}:{}", created.cidr))]
            }
            (None, Network::Brought(_)) => vec![],
        };
        DesiredResource::new(self.name(), address.clone())
            .with("name", Value::string(name.clone()))
            .with(
                "description",
                Value::string(format!(
                    "NFS to EFS file system {file_system} of stack {}",
                    stack.stack
                )),
            )
            .with("vpc_id", vpc_value(network))
            .with("ingress", Value::List(ingress))
            .with("egress", Value::List(vec![]))
            .with(
                "tags",
                Value::string_map(&ownership_tags(&stack.stack, &address, &name, &stack.tags)),
            )
    }
}

/// NFS, as a rule's traffic.
const NFS_TRAFFIC: &str = "tcp:2049";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::SourceFile;

    fn lowered(text: &str) -> Vec<DesiredResource> {
        let loaded =
            crate::spec::parse(SourceFile::new("sg.yaml", text.to_string())).expect("a valid spec");
        SecurityGroup.lower(&crate::lower::model(&loaded.spec))
    }

    #[test]
    fn rules_name_their_peers_by_cidr_reference_or_self() {
        let groups = lowered(
            "stack: dev\nregion: us-east-1\nvpc:\n  cidr: 10.0.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\ncluster: {}\nloadBalancers:\n  - name: web\nsecurityGroups:\n  - name: db\n    ingress:\n      - { from: nodes, port: 5432 }\n      - { from: cluster, port: 5432 }\n      - { from: loadBalancer.web, ports: \"5432-5433\" }\n      - { from: db, protocol: all }\n      - { from: 10.1.0.0/16, protocol: icmp }\n    egress: []\n",
        );
        let db = groups
            .iter()
            .find(|g| g.address == SecurityGroup::declared_address("db"))
            .expect("the declared group");
        let cluster = Value::reference(&EksCluster::address(), "security_group_id");
        let mut expected = vec![
            // `nodes` and `cluster` are one group: one rule.
            group_rule("tcp:5432", cluster),
            group_rule(
                "tcp:5432-5433",
                Value::reference(&SecurityGroup::address("web"), "id"),
            ),
            group_rule("all", Value::string("self")),
            Value::string("icmp:-1:10.1.0.0/16"),
        ];
        expected.sort();
        assert_eq!(db.attributes["ingress"], Value::List(expected));
        assert_eq!(db.attributes["egress"], Value::List(vec![]));
        assert_eq!(
            db.attributes["name"],
            Value::string("dev-security-group-custom-db")
        );
    }

    #[test]
    fn a_group_without_egress_rules_lets_everything_out() {
        let groups = lowered(
            "stack: dev\nregion: us-east-1\nvpc:\n  cidr: 10.0.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\nsecurityGroups:\n  - name: db\n",
        );
        assert_eq!(
            groups[0].attributes["egress"],
            Value::List(vec![Value::string("all:0.0.0.0/0")])
        );
        assert_eq!(groups[0].attributes["ingress"], Value::List(vec![]));
    }
}
