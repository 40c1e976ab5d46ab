//! `eksform import eksctl`: a cluster made by eksctl, read from its
//! CloudFormation stacks and the EKS API, as an import `Draft` (the spec to
//! adopt it), and `--release-stacks`, which lets CloudFormation go of the
//! stacks once everything eksform models carries its mark.
//!
//! Each stack resource eksform models is mapped to the address eksform's
//! lowering gives it (`map_stack_resource`, pure), then read through the one
//! seam that reads a resource to adopt, `Cloud::find_to_adopt`; the cluster
//! and its node groups are read by name (the EKS API). Zones are settled from
//! what was read: a subnet's own zone, and eksctl's logical id suffixes
//! (`SubnetPublicUSWEST2A`, `PrivateRouteTableUSWEST2A`) tie tables, NAT
//! gateways and addresses to them. Everything else the stacks hold is
//! `Unmapped`: it stays with CloudFormation until the stacks are released,
//! and with no one after that.

use std::collections::BTreeMap;
use std::sync::Arc;

use eksform_aws::cloudformation::{
    EksctlStack, EksctlStackRole, StackResource, StackWaits, eksctl_stacks, release_stack,
};
use eksform_aws::{AwsClients, AwsCloud};
use eksform_core::cloud::Cloud;
use eksform_core::import::{Draft, Imported, Unmapped};
use eksform_core::kinds::{self, Kind};
use eksform_core::model::{Address, DesiredResource, LiveResource, STACK_TAG, Value};

use super::OpsError;

/// The stack tag eksctl puts on an IRSA role's stack: `namespace/name`.
const SERVICE_ACCOUNT_TAG: &str = "alpha.eksctl.io/iamserviceaccount-name";

/// What `import eksctl` read: the draft and the stacks it came from.
#[derive(Debug)]
pub struct EksctlImport {
    pub draft: Draft,
    /// The stacks' names, in release order (the cluster's stack last).
    pub stacks: Vec<String>,
}

/// What a stack resource becomes in eksform.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mapping {
    /// A resource eksform models, to read and adopt. `zone` is eksctl's
    /// zone suffix, settled to a zone once the subnets are read.
    Resource {
        kind: &'static str,
        place: Place,
        id: String,
    },
    /// Part of a resource eksform models as one (a route of a table, the
    /// gateway's attachment): nothing of its own to adopt.
    PartOf,
    /// A row with no type.
    NotAResource,
    /// Read by the EKS API instead (the cluster, managed node groups).
    ByEks,
    Unmapped(String),
}

/// Where a mapped resource goes, before zones are known.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    At(Address),
    /// `subnet.<tier>.<zone>`: the zone from the subnet itself.
    Subnet {
        tier: &'static str,
        suffix: String,
    },
    /// `route_table.private.<zone>` of the private subnet with this suffix.
    PrivateTable {
        suffix: String,
    },
    /// `nat_gateway.<zone>`: from the suffix (one per zone), or, for the
    /// single one, from the subnet it lives in.
    NatGateway {
        suffix: Option<String>,
    },
    /// `elastic_ip.nat.<zone>`: the zone of the NAT gateway it serves.
    NatAddress {
        suffix: Option<String>,
    },
}

/// What eksform makes of one resource of one of eksctl's stacks. Pure.
fn map_stack_resource(stack: &EksctlStack, resource: &StackResource) -> Mapping {
    let logical = resource.logical_id.as_str();
    let id = resource.physical_id.clone();
    let at = |kind: &'static str, address: Address| Mapping::Resource {
        kind,
        place: Place::At(address),
        id: id.clone(),
    };
    let suffix = |prefix: &str| {
        logical
            .strip_prefix(prefix)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    match (&stack.role, resource.resource_type.as_str()) {
        (EksctlStackRole::Cluster, "AWS::EC2::VPC") => at("vpc", kinds::Vpc::address()),
        (EksctlStackRole::Cluster, "AWS::EC2::InternetGateway") => {
            at("internet_gateway", kinds::InternetGateway::address())
        }
        (EksctlStackRole::Cluster, "AWS::EC2::Subnet") => {
            let place = if let Some(s) = suffix("SubnetPublic") {
                Place::Subnet {
                    tier: "public",
                    suffix: s,
                }
            } else if let Some(s) = suffix("SubnetPrivate") {
                Place::Subnet {
                    tier: "private",
                    suffix: s,
                }
            } else {
                return Mapping::Unmapped(
                    "a subnet eksctl made for another purpose (not SubnetPublic/SubnetPrivate<zone>): eksform's VPC has public and private subnets only".into(),
                );
            };
            Mapping::Resource {
                kind: "subnet",
                place,
                id,
            }
        }
        (EksctlStackRole::Cluster, "AWS::EC2::RouteTable") => {
            if logical == "PublicRouteTable" {
                at("route_table", kinds::RouteTable::public_address())
            } else if let Some(s) = suffix("PrivateRouteTable") {
                Mapping::Resource {
                    kind: "route_table",
                    place: Place::PrivateTable { suffix: s },
                    id,
                }
            } else {
                Mapping::Unmapped("a route table eksform's VPC does not have".into())
            }
        }
        (EksctlStackRole::Cluster, "AWS::EC2::NatGateway") => Mapping::Resource {
            kind: "nat_gateway",
            place: Place::NatGateway {
                suffix: suffix("NATGateway"),
            },
            id,
        },
        (EksctlStackRole::Cluster, "AWS::EC2::EIP") if logical.starts_with("NATIP") => {
            Mapping::Resource {
                kind: "elastic_ip",
                place: Place::NatAddress {
                    suffix: suffix("NATIP"),
                },
                id,
            }
        }
        (
            EksctlStackRole::Cluster,
            "AWS::EC2::VPCGatewayAttachment"
            | "AWS::EC2::SubnetRouteTableAssociation"
            | "AWS::EC2::Route",
        ) => Mapping::PartOf,
        (EksctlStackRole::Cluster, "AWS::IAM::Role") if logical == "ServiceRole" => {
            at("iam_role", kinds::IamRole::address("cluster"))
        }
        (EksctlStackRole::NodeGroup(_), "AWS::IAM::Role") if logical == "NodeInstanceRole" => {
            at("iam_role", kinds::IamRole::address("node"))
        }
        (EksctlStackRole::IamServiceAccount(_), "AWS::IAM::Role") => {
            match stack
                .tags
                .get(SERVICE_ACCOUNT_TAG)
                .and_then(|a| a.split_once('/'))
            {
                Some((namespace, name)) => at(
                    "iam_role",
                    kinds::IamRole::address_of_service_account(namespace, name),
                ),
                None => Mapping::Unmapped(format!(
                    "an IRSA role whose stack lacks the {SERVICE_ACCOUNT_TAG} tag, so its service account is unknown"
                )),
            }
        }
        (_, "AWS::EKS::Cluster" | "AWS::EKS::Nodegroup") => Mapping::ByEks,
        // A row with no type is no resource (the emulator lists what it skipped so).
        (_, "") => Mapping::NotAResource,
        (EksctlStackRole::PodIdentityRole(_), "AWS::IAM::Role") => Mapping::Unmapped(
            "a pod identity association's role: eksform does not model pod identity associations".into(),
        ),
        (_, "AWS::IAM::Policy") => Mapping::Unmapped(
            "an inline policy eksctl added to one of its roles: eksform's plan shows whether the adopted role keeps it".into(),
        ),
        (_, "AWS::EC2::SecurityGroup" | "AWS::EC2::SecurityGroupIngress" | "AWS::EC2::SecurityGroupEgress") => {
            Mapping::Unmapped("eksform models only its load balancers' security groups".into())
        }
        (_, "AWS::EC2::LaunchTemplate") => Mapping::Unmapped(
            "a node group's launch template: the node group keeps using it, eksform does not manage it".into(),
        ),
        (_, other) => Mapping::Unmapped(format!("eksform does not model {other} here")),
    }
}

/// eksctl's zone suffix of a zone: `us-west-2a` -> `USWEST2A`.
fn zone_suffix(zone: &str) -> String {
    zone.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn kind_named(name: &str) -> &'static dyn Kind {
    kinds::ALL
        .iter()
        .copied()
        .find(|k| k.name() == name)
        .expect("the importer maps to registered kinds")
}

/// One read through `find_to_adopt`: `None` when AWS has no such resource.
async fn read(
    cloud: &dyn Cloud,
    kind: &'static str,
    address: Address,
    id: &str,
    attributes: &[(&str, Value)],
) -> Result<Option<LiveResource>, OpsError> {
    let mut desired = DesiredResource::new(kind, address);
    desired.adopt = Some(id.to_string());
    for (name, value) in attributes {
        desired
            .attributes
            .insert((*name).to_string(), value.clone());
    }
    Ok(cloud.find_to_adopt(kind_named(kind), &desired, id).await?)
}

fn imported(live: LiveResource, address: Address, source: String) -> Imported {
    Imported {
        address,
        kind: live.kind,
        id: live.id,
        attributes: live.attributes,
        source,
    }
}

fn text(live: &LiveResource, name: &str) -> Option<String> {
    live.attributes
        .get(name)
        .and_then(Value::as_str)
        .map(str::to_string)
}

/// The cluster's stacks in `region` and everything they and the EKS API say,
/// as a draft. Refused when eksctl has no stack for the cluster there.
pub async fn import_eksctl(
    clients: &AwsClients,
    cluster: &str,
    region: &str,
) -> Result<EksctlImport, OpsError> {
    let stacks = eksctl_stacks(&clients.cloudformation, cluster).await?;
    if stacks.is_empty() {
        return Err(OpsError::Refused(format!(
            "no eksctl stack for cluster {cluster} in {region} (looked for eksctl-{cluster}-cluster, -nodegroup-*, -addon-iamserviceaccount-*, -podidentityrole-*)"
        )));
    }
    let cloud: Arc<dyn Cloud> = Arc::new(AwsCloud {
        clients: clients.clone(),
    });
    let node_groups = node_group_names(clients, cluster).await?;
    let draft = read_estate(cloud.as_ref(), cluster, region, &stacks, &node_groups).await?;
    Ok(EksctlImport {
        draft,
        stacks: stacks.into_iter().map(|s| s.name).collect(),
    })
}

/// The cluster's managed node groups, by name (listing names is not a read
/// of a resource: each is then read through `find_to_adopt`).
async fn node_group_names(clients: &AwsClients, cluster: &str) -> Result<Vec<String>, OpsError> {
    let mut names = Vec::new();
    let mut next = None;
    loop {
        let out = clients
            .eks
            .list_nodegroups()
            .cluster_name(cluster)
            .set_next_token(next)
            .send()
            .await
            .map_err(|e| eksform_aws::error("ListNodegroups", e))?;
        names.extend(out.nodegroups().iter().cloned());
        next = out.next_token().map(str::to_string);
        if next.is_none() {
            break;
        }
    }
    names.sort();
    Ok(names)
}

/// Everything read and placed (see the module doc).
async fn read_estate(
    cloud: &dyn Cloud,
    cluster: &str,
    region: &str,
    stacks: &[EksctlStack],
    node_groups: &[String],
) -> Result<Draft, OpsError> {
    let mut resources: Vec<Imported> = Vec::new();
    let mut unmapped: Vec<Unmapped> = Vec::new();
    // Read first, placed once the subnets' zones are known.
    let mut pending: Vec<(Place, LiveResource, String)> = Vec::new();

    for stack in stacks {
        for resource in &stack.resources {
            let source = format!("{}/{}", stack.name, resource.logical_id);
            match map_stack_resource(stack, resource) {
                Mapping::Resource { kind, place, id } => {
                    if let Place::At(address) = &place
                        && resources.iter().any(|r| &r.address == address)
                    {
                        unmapped.push(Unmapped {
                            source,
                            resource_type: resource.resource_type.clone(),
                            reason: format!(
                                "{address} is already taken by another of eksctl's resources: eksform has one there (one node role for every node group)"
                            ),
                        });
                        continue;
                    }
                    let provisional = Address::new(&[kind, "importing", &resource.logical_id]);
                    match read(cloud, kind, provisional, &id, &[]).await? {
                        Some(live) => match place {
                            Place::At(address) => resources.push(imported(live, address, source)),
                            place => pending.push((place, live, source)),
                        },
                        None => unmapped.push(Unmapped {
                            source,
                            resource_type: resource.resource_type.clone(),
                            reason: format!("the stack names {id}, which AWS no longer has"),
                        }),
                    }
                }
                Mapping::PartOf | Mapping::ByEks | Mapping::NotAResource => {}
                Mapping::Unmapped(reason) => unmapped.push(Unmapped {
                    source,
                    resource_type: resource.resource_type.clone(),
                    reason,
                }),
            }
        }
    }
    resources.extend(place_by_zone(pending, &mut unmapped));

    let cluster_live = read(
        cloud,
        "eks_cluster",
        kinds::EksCluster::address(),
        cluster,
        &[],
    )
    .await?
    .ok_or_else(|| {
        OpsError::Refused(format!(
            "eksctl's stacks are there, but EKS has no cluster {cluster} in {region}"
        ))
    })?;
    let cluster_stack = format!("eksctl-{cluster}-cluster");
    let oidc_issuer = text(&cluster_live, "oidc_issuer");
    let logging =
        !eksform_core::model::string_list(&cluster_live.attributes, "log_types").is_empty();
    let cluster_arn = text(&cluster_live, "arn");
    resources.push(imported(
        cluster_live,
        kinds::EksCluster::address(),
        format!("{cluster_stack}/ControlPlane"),
    ));
    for name in node_groups {
        let address = kinds::NodeGroup::address(name);
        let live = read(
            cloud,
            "node_group",
            address.clone(),
            name,
            &[("cluster_name", Value::string(cluster))],
        )
        .await?;
        if let Some(live) = live {
            resources.push(imported(
                live,
                address,
                format!("eksctl-{cluster}-nodegroup-{name}/ManagedNodeGroup"),
            ));
        }
    }
    // EKS makes the log group of control-plane logging (its retention is eksctl's setting).
    if logging {
        let group = format!("/aws/eks/{cluster}/cluster");
        if let Some(live) =
            read(cloud, "log_group", kinds::LogGroup::address(), &group, &[]).await?
        {
            resources.push(imported(
                live,
                kinds::LogGroup::address(),
                format!("log group {group} (made by EKS)"),
            ));
        }
    }
    // eksctl registers the cluster's OIDC provider by API (`withOIDC`), not in a stack.
    if let (Some(issuer), Some(arn)) = (oidc_issuer, cluster_arn)
        && let Some(account) = arn.split(':').nth(4)
        && let Some(host) = issuer.strip_prefix("https://")
    {
        let provider = format!("arn:aws:iam::{account}:oidc-provider/{host}");
        if let Some(live) = read(
            cloud,
            "oidc_provider",
            kinds::OidcProvider::address(),
            &provider,
            &[],
        )
        .await?
        {
            resources.push(imported(
                live,
                kinds::OidcProvider::address(),
                format!("IAM OIDC provider of {cluster}"),
            ));
        }
    }

    Ok(Draft {
        stack: cluster.to_string(),
        region: region.to_string(),
        resources,
        unmapped,
    })
}

/// Subnets by their own zone; tables, NAT gateways and their addresses by
/// eksctl's suffixes and by what they hold. What cannot be placed is listed.
fn place_by_zone(
    pending: Vec<(Place, LiveResource, String)>,
    unmapped: &mut Vec<Unmapped>,
) -> Vec<Imported> {
    let mut zone_of_suffix: BTreeMap<String, String> = BTreeMap::new();
    let mut zone_of_subnet: BTreeMap<String, String> = BTreeMap::new();
    for (place, live, _) in &pending {
        if let Place::Subnet { suffix, .. } = place
            && let Some(zone) = text(live, "availability_zone")
        {
            zone_of_suffix.insert(suffix.clone(), zone.clone());
            zone_of_suffix.insert(zone_suffix(&zone), zone.clone());
            zone_of_subnet.insert(live.id.clone(), zone);
        }
    }
    let mut zone_of_allocation: BTreeMap<String, String> = BTreeMap::new();
    let mut placed = Vec::new();
    let mut later = Vec::new();
    for (place, live, source) in pending {
        let address = match &place {
            Place::Subnet { tier, .. } => {
                text(&live, "availability_zone").map(|zone| kinds::Subnet::address(tier, &zone))
            }
            Place::PrivateTable { suffix } => zone_of_suffix
                .get(suffix)
                .map(|zone| kinds::RouteTable::private_address(zone)),
            Place::NatGateway { suffix } => {
                let zone = match suffix {
                    Some(suffix) => zone_of_suffix.get(suffix).cloned(),
                    None => text(&live, "subnet_id").and_then(|s| zone_of_subnet.get(&s).cloned()),
                };
                if let (Some(zone), Some(allocation)) = (&zone, text(&live, "allocation_id")) {
                    zone_of_allocation.insert(allocation, zone.clone());
                }
                zone.map(|zone| kinds::NatGateway::address(&zone))
            }
            Place::NatAddress { .. } => {
                later.push((place, live, source));
                continue;
            }
            Place::At(address) => Some(address.clone()),
        };
        push_placed(&mut placed, unmapped, address, live, source);
    }
    for (place, live, source) in later {
        let Place::NatAddress { suffix } = &place else {
            continue;
        };
        let zone = zone_of_allocation
            .get(&live.id)
            .cloned()
            .or_else(|| suffix.as_ref().and_then(|s| zone_of_suffix.get(s).cloned()));
        let address = zone.map(|zone| kinds::ElasticIp::address(&zone));
        push_placed(&mut placed, unmapped, address, live, source);
    }
    placed
}

fn push_placed(
    placed: &mut Vec<Imported>,
    unmapped: &mut Vec<Unmapped>,
    address: Option<Address>,
    live: LiveResource,
    source: String,
) {
    match address {
        Some(address) => placed.push(imported(live, address, source)),
        None => unmapped.push(Unmapped {
            resource_type: live.kind.clone(),
            source,
            reason: "its zone could not be told from the subnets eksctl made".into(),
        }),
    }
}

/// What `--release-stacks` will let go of, once it is allowed.
#[derive(Debug)]
pub struct StacksToRelease {
    pub cluster: String,
    /// In release order: node group and role stacks, the cluster's last.
    pub stacks: Vec<String>,
    /// What stays with no tool after the release (the draft's unmapped).
    pub unmanaged: Vec<Unmapped>,
}

/// Checks that every resource of the cluster's stacks that eksform models
/// carries eksform's mark (`eksform:stack`, which an applied adoption adds);
/// refused, naming the others, while one does not.
pub async fn stacks_to_release(
    clients: &AwsClients,
    cluster: &str,
    region: &str,
) -> Result<StacksToRelease, OpsError> {
    let import = import_eksctl(clients, cluster, region).await?;
    let not_adopted: Vec<String> = import
        .draft
        .resources
        .iter()
        .filter(|r| !eksform_core::model::string_map(&r.attributes, "tags").contains_key(STACK_TAG))
        .map(|r| format!("{} ({})", r.address, r.id))
        .collect();
    if !not_adopted.is_empty() {
        return Err(OpsError::NotYetAdopted {
            stacks: import.stacks,
            resources: not_adopted,
        });
    }
    Ok(StacksToRelease {
        cluster: cluster.to_string(),
        stacks: import.stacks,
        unmanaged: import.draft.unmapped,
    })
}

/// Releases each stack in order (every resource retained, then the stack
/// deleted); nothing else in AWS is deleted. Stops at the first failure,
/// naming the stacks already released.
pub async fn release_stacks(
    clients: &AwsClients,
    release: &StacksToRelease,
    waits: StackWaits,
) -> Result<(), OpsError> {
    let mut released = Vec::new();
    for stack in &release.stacks {
        if let Err(error) = release_stack(&clients.cloudformation, stack, waits).await {
            return Err(OpsError::ReleaseFailed {
                stack: stack.clone(),
                released,
                error,
            });
        }
        released.push(stack.clone());
    }
    Ok(())
}

/// A release that stopped half-way, for the error.
pub fn released_so_far(released: &[String]) -> String {
    if released.is_empty() {
        "no stack was released".into()
    } else {
        format!("already released: {}", released.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(role: EksctlStackRole, tags: &[(&str, &str)]) -> EksctlStack {
        EksctlStack {
            name: "eksctl-prod-x".into(),
            role,
            status: "CREATE_COMPLETE".into(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            outputs: BTreeMap::new(),
            resources: vec![],
        }
    }

    fn resource(logical: &str, resource_type: &str) -> StackResource {
        StackResource {
            logical_id: logical.into(),
            resource_type: resource_type.into(),
            physical_id: "id-1".into(),
        }
    }

    fn at(kind: &'static str, address: &str) -> Mapping {
        Mapping::Resource {
            kind,
            place: Place::At(Address(address.into())),
            id: "id-1".into(),
        }
    }

    #[test]
    fn eksctls_cluster_stack_maps_to_eksforms_addresses() {
        let cluster = stack(EksctlStackRole::Cluster, &[]);
        let map = |logical, t| map_stack_resource(&cluster, &resource(logical, t));
        assert_eq!(map("VPC", "AWS::EC2::VPC"), at("vpc", "vpc.main"));
        assert_eq!(
            map("InternetGateway", "AWS::EC2::InternetGateway"),
            at("internet_gateway", "internet_gateway.main")
        );
        assert_eq!(
            map("PublicRouteTable", "AWS::EC2::RouteTable"),
            at("route_table", "route_table.public")
        );
        assert_eq!(
            map("ServiceRole", "AWS::IAM::Role"),
            at("iam_role", "iam_role.cluster")
        );
        assert_eq!(
            map("SubnetPrivateUSWEST2B", "AWS::EC2::Subnet"),
            Mapping::Resource {
                kind: "subnet",
                place: Place::Subnet {
                    tier: "private",
                    suffix: "USWEST2B".into()
                },
                id: "id-1".into()
            }
        );
        assert_eq!(
            map("NATGateway", "AWS::EC2::NatGateway"),
            Mapping::Resource {
                kind: "nat_gateway",
                place: Place::NatGateway { suffix: None },
                id: "id-1".into()
            }
        );
        assert_eq!(
            map("NATIPUSWEST2A", "AWS::EC2::EIP"),
            Mapping::Resource {
                kind: "elastic_ip",
                place: Place::NatAddress {
                    suffix: Some("USWEST2A".into())
                },
                id: "id-1".into()
            }
        );
        for (logical, t) in [
            ("VPCGatewayAttachment", "AWS::EC2::VPCGatewayAttachment"),
            (
                "RouteTableAssociationPublicUSWEST2A",
                "AWS::EC2::SubnetRouteTableAssociation",
            ),
            ("PublicSubnetRoute", "AWS::EC2::Route"),
        ] {
            assert_eq!(map(logical, t), Mapping::PartOf, "{logical}");
        }
        assert_eq!(map("ControlPlane", "AWS::EKS::Cluster"), Mapping::ByEks);
        for (logical, t) in [
            ("ControlPlaneSecurityGroup", "AWS::EC2::SecurityGroup"),
            ("IngressInterNodeGroupSG", "AWS::EC2::SecurityGroupIngress"),
            ("PolicyCloudWatchMetrics", "AWS::IAM::Policy"),
            ("FargatePodExecutionRole", "AWS::IAM::Role"),
        ] {
            assert!(
                matches!(map(logical, t), Mapping::Unmapped(_)),
                "{logical} is not modelled"
            );
        }
    }

    #[test]
    fn node_group_and_service_account_stacks_map_their_roles() {
        let group = stack(EksctlStackRole::NodeGroup("ng-1".into()), &[]);
        assert_eq!(
            map_stack_resource(&group, &resource("NodeInstanceRole", "AWS::IAM::Role")),
            at("iam_role", "iam_role.node")
        );
        assert_eq!(
            map_stack_resource(&group, &resource("ManagedNodeGroup", "AWS::EKS::Nodegroup")),
            Mapping::ByEks
        );
        assert!(matches!(
            map_stack_resource(
                &group,
                &resource("LaunchTemplate", "AWS::EC2::LaunchTemplate")
            ),
            Mapping::Unmapped(_)
        ));
        let irsa = stack(
            EksctlStackRole::IamServiceAccount("kube-system-aws-node".into()),
            &[(SERVICE_ACCOUNT_TAG, "kube-system/aws-node")],
        );
        assert_eq!(
            map_stack_resource(&irsa, &resource("Role1", "AWS::IAM::Role")),
            at("iam_role", "iam_role.irsa.kube-system.aws-node")
        );
        let untagged = stack(EksctlStackRole::IamServiceAccount("a-b".into()), &[]);
        assert!(matches!(
            map_stack_resource(&untagged, &resource("Role1", "AWS::IAM::Role")),
            Mapping::Unmapped(_)
        ));
        let pod = stack(EksctlStackRole::PodIdentityRole("default-app".into()), &[]);
        assert!(matches!(
            map_stack_resource(&pod, &resource("Role1", "AWS::IAM::Role")),
            Mapping::Unmapped(_)
        ));
    }

    fn live(kind: &str, id: &str, attributes: &[(&str, &str)]) -> LiveResource {
        LiveResource {
            address: Address::new(&[kind, "importing"]),
            kind: kind.into(),
            id: id.into(),
            attributes: attributes
                .iter()
                .map(|(k, v)| (k.to_string(), Value::string(*v)))
                .collect(),
            status: eksform_core::model::Status::Ready,
        }
    }

    #[test]
    fn zones_come_from_the_subnets_and_the_single_nat_from_its_subnet() {
        let pending = vec![
            (
                Place::Subnet {
                    tier: "public",
                    suffix: "USWEST2A".into(),
                },
                live("subnet", "subnet-a", &[("availability_zone", "us-west-2a")]),
                "s/SubnetPublicUSWEST2A".to_string(),
            ),
            (
                Place::Subnet {
                    tier: "private",
                    suffix: "USWEST2B".into(),
                },
                live("subnet", "subnet-b", &[("availability_zone", "us-west-2b")]),
                "s/SubnetPrivateUSWEST2B".to_string(),
            ),
            (
                Place::NatAddress { suffix: None },
                live("elastic_ip", "eipalloc-1", &[]),
                "s/NATIP".to_string(),
            ),
            (
                Place::PrivateTable {
                    suffix: "USWEST2B".into(),
                },
                live("route_table", "rtb-b", &[]),
                "s/PrivateRouteTableUSWEST2B".to_string(),
            ),
            (
                Place::NatGateway { suffix: None },
                live(
                    "nat_gateway",
                    "nat-1",
                    &[("subnet_id", "subnet-a"), ("allocation_id", "eipalloc-1")],
                ),
                "s/NATGateway".to_string(),
            ),
            (
                Place::PrivateTable {
                    suffix: "USWEST2C".into(),
                },
                live("route_table", "rtb-c", &[]),
                "s/PrivateRouteTableUSWEST2C".to_string(),
            ),
        ];
        let mut unmapped = vec![];
        let placed = place_by_zone(pending, &mut unmapped);
        let addresses: BTreeMap<String, String> = placed
            .iter()
            .map(|r| (r.id.clone(), r.address.to_string()))
            .collect();
        assert_eq!(addresses["subnet-a"], "subnet.public.us-west-2a");
        assert_eq!(addresses["subnet-b"], "subnet.private.us-west-2b");
        assert_eq!(addresses["rtb-b"], "route_table.private.us-west-2b");
        assert_eq!(addresses["nat-1"], "nat_gateway.us-west-2a");
        assert_eq!(addresses["eipalloc-1"], "elastic_ip.nat.us-west-2a");
        // A table whose zone has no subnet is listed, not guessed.
        assert_eq!(unmapped.len(), 1);
        assert_eq!(unmapped[0].source, "s/PrivateRouteTableUSWEST2C");
    }

    #[test]
    fn eksctls_zone_suffix() {
        assert_eq!(zone_suffix("us-west-2a"), "USWEST2A");
        assert_eq!(zone_suffix("ap-northeast-1c"), "APNORTHEAST1C");
    }
}
