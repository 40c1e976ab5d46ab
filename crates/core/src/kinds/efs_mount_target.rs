//! EFS mount targets: one per private subnet of the stack for each file
//! system, in the file system's NFS security group (`security_group.efs.<fs>`).
//! Mount targets take no tags: they are the stack's because their file
//! system carries its mark, and their address is the file system's name and
//! the subnet's zone. The subnet and file system are set at creation; the
//! security groups change in place.

use std::time::Duration;

use super::tags::mark;
use super::{Attribute, Compare, Kind, ObservationFloor, SecurityGroup, Subnet, Timings};
use crate::kinds::EfsFileSystem;
use crate::lower::{Network, StackModel};
use crate::model::{Address, DesiredResource, Value};

pub struct EfsMountTarget;

impl EfsMountTarget {
    pub fn address(file_system: &str, zone: &str) -> Address {
        Address::new(&["efs_mount_target", file_system, zone])
    }
}

/// How each attribute changes and is compared (see `Attribute`).
const ATTRIBUTES: &[Attribute] = &[
    Attribute::replaces("file_system_id"),
    Attribute::in_place("security_group_ids").compared(Compare::Set),
    Attribute::replaces("subnet_id"),
    // The mark, derived from the file system's: EFS keeps no tags on a
    // mount target, so there is nothing to compare or change.
    Attribute::tags().compared(Compare::Ignored),
];

impl Kind for EfsMountTarget {
    fn attributes(&self) -> &'static [Attribute] {
        ATTRIBUTES
    }

    fn observation_floor(&self) -> ObservationFloor {
        ObservationFloor {
            // The file-system kind's DescribeFileSystems, shared: no list of its own.
            always: 0,
            if_any: 0,
            each: 1,
            each_of: Some("efs_file_system"),
            how: "the marked file systems from the file-system kind's DescribeFileSystems (shared), then DescribeMountTargets of each and DescribeMountTargetSecurityGroups of each mount target",
        }
    }

    fn iam_actions(&self) -> &'static [&'static str] {
        &[
            "elasticfilesystem:CreateMountTarget",
            "elasticfilesystem:DeleteMountTarget",
            "elasticfilesystem:DescribeFileSystems",
            "elasticfilesystem:DescribeMountTargetSecurityGroups",
            "elasticfilesystem:DescribeMountTargets",
            "elasticfilesystem:ModifyMountTargetSecurityGroups",
        ]
    }

    fn service(&self) -> &'static str {
        "elasticfilesystem"
    }

    fn name(&self) -> &'static str {
        "efs_mount_target"
    }

    fn id_prefix(&self) -> &'static str {
        "fsmt"
    }

    fn observes_every_stack(&self) -> bool {
        true
    }

    fn timings(&self) -> Timings {
        // A mount target takes about 90 seconds to become available and
        // about as long to go (its network interface is released).
        Timings {
            create: Duration::from_secs(90),
            delete: Duration::from_secs(60),
            update: Duration::ZERO,
            poll: Duration::from_secs(10),
            timeout: Duration::from_secs(15 * 60),
        }
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(network) = &stack.network else {
            return vec![];
        };
        let subnets: Vec<(String, Value)> = match network {
            Network::Created(created) => created
                .zones
                .iter()
                .map(|zone| {
                    (
                        zone.name.clone(),
                        Value::reference(&Subnet::address("private", &zone.name), "id"),
                    )
                })
                .collect(),
            Network::Brought(brought) => brought
                .subnets
                .iter()
                .filter(|(tier, _, _)| tier == "private")
                .map(|(_, zone, id)| (zone.clone(), Value::string(id.clone())))
                .collect(),
        };
        stack
            .efs
            .iter()
            .flat_map(|fs| {
                subnets.iter().map(move |(zone, subnet)| {
                    let address = Self::address(&fs.name, zone);
                    DesiredResource::new(self.name(), address.clone())
                        .with(
                            "file_system_id",
                            Value::reference(&EfsFileSystem::address(&fs.name), "id"),
                        )
                        .with("subnet_id", subnet.clone())
                        .with(
                            "security_group_ids",
                            Value::List(vec![Value::reference(
                                &SecurityGroup::efs_address(&fs.name),
                                "id",
                            )]),
                        )
                        .with("tags", Value::string_map(&mark(&stack.stack, &address)))
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::SourceFile;

    fn lowered(text: &str) -> Vec<DesiredResource> {
        let loaded = crate::spec::parse(SourceFile::new("efs.yaml", text.to_string()))
            .expect("a valid spec");
        crate::lower::desired(&crate::lower::model(&loaded.spec))
    }

    fn at<'a>(resources: &'a [DesiredResource], address: &str) -> &'a DesiredResource {
        resources
            .iter()
            .find(|r| r.address.as_str() == address)
            .unwrap_or_else(|| panic!("{address} lowered"))
    }

    #[test]
    fn a_brought_vpc_mounts_in_its_private_subnets_and_without_a_cluster_admits_nothing() {
        let resources = lowered(
            "stack: dev\nregion: us-east-1\nvpc:\n  id: vpc-0abc\n  subnets:\n    public:\n      us-east-1a: { id: subnet-pub }\n    private:\n      us-east-1a: { id: subnet-a }\n      us-east-1b: { id: subnet-b }\nstorage:\n  efs:\n    - name: files\n",
        );
        let targets: Vec<&DesiredResource> = resources
            .iter()
            .filter(|r| r.kind == "efs_mount_target")
            .collect();
        assert_eq!(targets.len(), 2, "one per private subnet");
        let target = at(&resources, "efs_mount_target.files.us-east-1b");
        assert_eq!(target.attributes["subnet_id"], Value::string("subnet-b"));
        assert_eq!(
            target.attributes["security_group_ids"],
            Value::List(vec![Value::reference(
                &SecurityGroup::efs_address("files"),
                "id"
            )])
        );
        let group = at(&resources, "security_group.efs.files");
        assert_eq!(group.attributes["vpc_id"], Value::string("vpc-0abc"));
        assert_eq!(group.attributes["ingress"], Value::List(vec![]));
    }

    #[test]
    fn the_nfs_group_admits_the_cluster_or_without_one_the_vpc() {
        let network = "stack: dev\nregion: us-east-1\nvpc:\n  cidr: 10.0.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\nstorage:\n  efs:\n    - name: files\n";
        let resources = lowered(network);
        assert_eq!(
            at(&resources, "security_group.efs.files").attributes["ingress"],
            Value::List(vec![Value::string("tcp:2049:10.0.0.0/16")])
        );
        let resources = lowered(&format!("{network}cluster: {{}}\n"));
        assert_eq!(
            at(&resources, "security_group.efs.files").attributes["ingress"],
            Value::List(vec![crate::kinds::security_group::group_rule(
                "tcp:2049",
                Value::reference(&crate::kinds::EksCluster::address(), "security_group_id"),
            )])
        );
    }
}
