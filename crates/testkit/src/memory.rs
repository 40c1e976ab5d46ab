//! An in-memory model of AWS for engine tests: creates and deletes that take
//! (virtual) time, idempotency tokens, creates made of several calls,
//! dependency violations, updates in progress, IAM's lag, regions, name
//! limits and quotas, throttling and injected faults, and a crash after the
//! k-th call. Run it under tokio's paused clock and a twenty-minute apply
//! takes milliseconds.
//!
//! It speaks for AWS, not for the engine: its rules are written here from
//! AWS's documented behaviour (what each API refuses, and when), and never
//! read from the engine's own ordering settings (`Kind::delete_after`,
//! `delete_refused_while`, `one_at_a_time`). A setting the engine gets wrong
//! then shows as a refusal in a test. From the kinds it reads only what
//! describes AWS's resources: names, id prefixes, timings, computed attributes.
//!
//! The errors it answers carry AWS's codes and messages, and their class is
//! the one the real adapter gives them (`aws::classify`), so the engine sees
//! what it would see from AWS.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;

use eksform_core::cloud::{Cloud, CloudError, CreateRequest, ErrorClass, Regions, Scope};
use eksform_core::kinds::Kind;
use eksform_core::model::{
    ADDRESS_TAG, Address, Attributes, LiveResource, STACK_TAG, Status, Value,
};

/// The region of `MemoryCloud::new`.
pub const DEFAULT_REGION: &str = "us-east-1";

/// How long after CreateRole EKS cannot assume the role yet: IAM is
/// eventually consistent, and a create naming a role made seconds ago fails
/// with "could not be assumed" (IAM user guide, "Changes that I make are not
/// always immediately visible"; EKS answers InvalidParameterException).
pub const ROLE_PROPAGATION: Duration = Duration::from_secs(8);

/// A resource in the model account.
#[derive(Debug, Clone)]
pub struct StoredResource {
    pub kind: &'static str,
    pub id: String,
    pub attributes: Attributes,
    pub token: Option<String>,
    /// Where it lives; IAM's and Route53's kinds are seen from every region.
    pub region: String,
    pub created_at: Instant,
    pub ready_at: Instant,
    /// An update AWS is still carrying out (an EKS version update).
    pub busy_until: Option<Instant>,
    pub deleting_until: Option<Instant>,
    /// AWS gave up on it once `ready_at` came (`Faults::fail_create`).
    pub failed: bool,
}

impl StoredResource {
    fn tag(&self, key: &str) -> Option<&str> {
        self.attributes.get("tags")?.as_map()?.get(key)?.as_str()
    }

    fn status(&self, now: Instant) -> Status {
        if self.deleting_until.is_some() {
            Status::Deleting
        } else if self.failed && now >= self.ready_at {
            Status::Failed
        } else if now < self.ready_at || self.busy_until.is_some_and(|until| now < until) {
            // EKS shows CREATING or UPDATING: not usable for another change.
            Status::Pending
        } else {
            Status::Ready
        }
    }

    fn text(&self, attribute: &str) -> Option<&str> {
        self.attributes.get(attribute)?.as_str()
    }

    /// What other resources hold to name this one: its id and its ARN (as
    /// in AWS, a cluster's id is its name, which its node groups hold), and
    /// a cluster's security group, which other groups' rules hold.
    fn identifiers(&self) -> Vec<&str> {
        let mut ids = vec![self.id.as_str()];
        ids.extend(self.text("arn").filter(|a| !a.is_empty()));
        ids.extend(self.text("security_group_id").filter(|a| !a.is_empty()));
        ids
    }

    /// Whether `attribute` of this resource (any attribute but the tags, for
    /// `*`) holds one of `other`'s identifiers.
    fn holds(&self, attribute: &str, other: &StoredResource) -> bool {
        self.id != other.id
            && other.identifiers().iter().any(|id| {
                self.attributes.iter().any(|(name, value)| {
                    (name == attribute || (attribute == "*" && name != "tags"))
                        && value.mentions(id)
                })
            })
    }
}

/// Faults to inject.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Every call after the k-th fails as if the process died; the k-th call's
    /// effect happens but its answer is lost.
    pub crash_after: Option<u64>,
    /// Throttle this share of calls (0.0 to 1.0), decided by a seeded generator.
    pub throttle_ratio: f64,
    pub seed: u64,
    /// Like `crash_after`, at the first call that is this one (its action and
    /// address): a crash at a given point of a run whose call order varies
    /// (retries wait a random while).
    pub crash_at: Option<Call>,
    /// Creates of these addresses are refused.
    pub reject_create: Vec<Address>,
    /// Creates of these addresses are accepted, then end failed once their
    /// create time is over (EKS's CREATE_FAILED: no capacity, a bad role).
    pub fail_create: Vec<Address>,
    /// IAM's lists lag behind its creates: a role younger than this is
    /// missing from observation (GetAccountAuthorizationDetails). Off by
    /// default; see `ROLE_PROPAGATION` for the lag that is always on.
    pub role_list_lag: Duration,
}

/// One call the model answered (or crashed on), in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    /// `observe vpc`, `create route_table`, `create route_table: routes`
    /// (a later call of a create made of several), `update`, `delete`, `read`.
    pub action: String,
    pub address: Option<Address>,
}

#[derive(Debug, Default)]
struct State {
    resources: Vec<StoredResource>,
    next_id: u64,
    calls: u64,
    log: Vec<Call>,
    in_flight: usize,
    max_in_flight: usize,
    random: u64,
    /// The call of `Faults::crash_at` has been made: every later call crashes.
    crashed: bool,
    /// Quotas raised above AWS's defaults, by kind.
    raised: BTreeMap<&'static str, usize>,
    /// Add-on name -> the JSON schema of its configuration (every version's).
    addon_schemas: BTreeMap<String, String>,
}

/// One account's AWS, seen from one region. `in_region` gives the same
/// account from another region.
pub struct MemoryCloud {
    account: String,
    region: String,
    /// Time one call takes.
    latency: Duration,
    faults: Arc<Mutex<Faults>>,
    state: Arc<Mutex<State>>,
}

/// Kinds whose service is global (IAM, Route53): seen from every region.
fn global(kind: &str) -> bool {
    matches!(
        kind,
        "iam_role" | "oidc_provider" | "hosted_zone" | "dns_record"
    )
}

/// AWS's error for `code`, classed as the real adapter classes it.
fn aws_error(code: &str, message: impl Into<String>) -> CloudError {
    let message = message.into();
    let class = eksform_aws::service_error_class(Some(code), 400, &message);
    CloudError::new(class, Some(code), message)
}

impl MemoryCloud {
    pub fn new(account: &str) -> Self {
        Self {
            account: account.into(),
            region: DEFAULT_REGION.into(),
            latency: Duration::from_millis(50),
            faults: Arc::new(Mutex::new(Faults::default())),
            state: Arc::new(Mutex::new(State::default())),
        }
    }

    /// The same account (its resources, faults and call count) from `region`.
    pub fn in_region(&self, region: &str) -> Self {
        Self {
            account: self.account.clone(),
            region: region.into(),
            latency: self.latency,
            faults: self.faults.clone(),
            state: self.state.clone(),
        }
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// How long one call takes.
    pub fn latency(&self) -> Duration {
        self.latency
    }

    pub fn set_faults(&self, faults: Faults) {
        let seed = faults.seed;
        *self.faults.lock().expect("faults lock") = faults;
        let mut state = self.state.lock().expect("state lock");
        state.random = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
        state.crashed = false;
    }

    /// Raises the account's quota of `kind` in each region (VPCs, Elastic
    /// IPs), as a quota increase request does: for estates of many stacks.
    pub fn raise_quota(&self, kind: &'static str, quota: usize) {
        self.state
            .lock()
            .expect("state lock")
            .raised
            .insert(kind, quota);
    }

    /// Publishes the configuration schema of an add-on, as
    /// DescribeAddonConfiguration answers for each of its versions.
    pub fn publish_addon_schema(&self, addon: &str, schema: serde_json::Value) {
        self.state
            .lock()
            .expect("state lock")
            .addon_schemas
            .insert(addon.into(), schema.to_string());
    }

    /// Every resource that exists (or is being deleted) in every region,
    /// whatever its marks.
    pub fn resources(&self) -> Vec<StoredResource> {
        self.state.lock().expect("state lock").resources.clone()
    }

    /// Removes every `eksform:` tag, as if another tool (Terraform, eksctl)
    /// had made what is there: the estate an `adopt:` entry takes over.
    pub fn forget_marks(&self) {
        let mut state = self.state.lock().expect("state lock");
        for resource in &mut state.resources {
            if let Some(Value::Map(tags)) = resource.attributes.get_mut("tags") {
                tags.retain(|key, _| !key.starts_with("eksform:"));
            }
        }
    }

    pub fn calls(&self) -> u64 {
        self.state.lock().expect("state lock").calls
    }

    /// Every call so far, in order: `call_log()[k - 1]` is the k-th call
    /// (what `Faults::crash_after` counts).
    pub fn call_log(&self) -> Vec<Call> {
        self.state.lock().expect("state lock").log.clone()
    }

    pub fn max_in_flight(&self) -> usize {
        self.state.lock().expect("state lock").max_in_flight
    }

    /// Adds a resource made outside eksform (a brought subnet, someone's VPC)
    /// in this region.
    pub fn insert(&self, kind: &'static str, id: &str, attributes: Attributes) {
        let mut state = self.state.lock().expect("state lock");
        let now = Instant::now();
        state.resources.push(StoredResource {
            kind,
            id: id.into(),
            attributes,
            token: None,
            region: self.region.clone(),
            created_at: now,
            ready_at: now,
            busy_until: None,
            deleting_until: None,
            failed: false,
        });
    }

    /// Whether a resource is seen from this cloud's region.
    fn sees(&self, resource: &StoredResource) -> bool {
        resource.region == self.region || global(resource.kind)
    }

    /// Counts the call, applies faults, and lets deletions that are due finish.
    /// Returns whether the answer of this call is lost to a crash.
    fn begin(&self, call: Call) -> Result<bool, CloudError> {
        let faults = self.faults.lock().expect("faults lock").clone();
        let mut state = self.state.lock().expect("state lock");
        state.calls += 1;
        let crash_here = faults.crash_at.as_ref() == Some(&call) && !state.crashed;
        state.log.push(call);
        let now = Instant::now();
        finish_deletions(&mut state, now);
        if state.crashed || faults.crash_after.is_some_and(|k| state.calls > k) {
            return Err(CloudError::new(
                ErrorClass::Crashed,
                None,
                "simulated crash",
            ));
        }
        if faults.throttle_ratio > 0.0 {
            state.random ^= state.random << 13;
            state.random ^= state.random >> 7;
            state.random ^= state.random << 17;
            if (state.random % 10_000) as f64 / 10_000.0 < faults.throttle_ratio {
                return Err(aws_error("Throttling", "Rate exceeded"));
            }
        }
        state.in_flight += 1;
        state.max_in_flight = state.max_in_flight.max(state.in_flight);
        if crash_here {
            state.crashed = true;
        }
        Ok(crash_here || faults.crash_after == Some(state.calls))
    }

    async fn call<T>(
        &self,
        action: String,
        address: Option<&Address>,
        effect: impl FnOnce(&mut State, Instant) -> Result<T, CloudError>,
    ) -> Result<T, CloudError> {
        let crash = self.begin(Call {
            action,
            address: address.cloned(),
        })?;
        tokio::time::sleep(self.latency).await;
        let result = {
            let mut state = self.state.lock().expect("state lock");
            state.in_flight -= 1;
            effect(&mut state, Instant::now())
        };
        if crash {
            return Err(CloudError::new(
                ErrorClass::Crashed,
                None,
                "simulated crash (the call took effect)",
            ));
        }
        result
    }

    fn to_live(resource: &StoredResource, now: Instant) -> Option<LiveResource> {
        Some(LiveResource {
            address: Address(resource.tag(ADDRESS_TAG)?.to_string()),
            kind: resource.kind.into(),
            id: resource.id.clone(),
            attributes: resource.attributes.clone(),
            status: resource.status(now),
        })
    }

    /// The first call of a create: the resource exists, marked, with AWS's
    /// defaults for what later calls set. Returns its id.
    fn first_call(
        &self,
        state: &mut State,
        now: Instant,
        kind: &'static dyn Kind,
        request: &CreateRequest,
        rejected: bool,
    ) -> Result<String, CloudError> {
        if rejected {
            return Err(aws_error(
                "InvalidParameterValue",
                format!("injected failure creating {}", request.address),
            ));
        }
        // An idempotency token repeats the original answer, as AWS does.
        if let Some(existing) = state
            .resources
            .iter()
            .find(|r| r.token.as_deref() == Some(request.token.as_str()) && r.kind == kind.name())
        {
            return Ok(existing.id.clone());
        }
        let later = later_calls(kind.name());
        let mut attributes = request.attributes.clone();
        for (attribute, default) in later {
            attributes.insert((*attribute).into(), default());
        }
        check_references(state, &attributes)?;
        check_name(kind.name(), &attributes)?;
        check_quota(state, &self.region, kind.name())?;
        check_role_assumable(state, kind.name(), &attributes, now)?;
        profiles_one_at_a_time(state, kind.name(), &attributes, None, now)?;
        if let Some(clash) = overlapping(state, kind.name(), &attributes) {
            return Err(aws_error(
                "InvalidSubnet.Conflict",
                format!("the CIDR conflicts with {clash}"),
            ));
        }
        state.next_id += 1;
        let id = match attributes.get("name").and_then(Value::as_str) {
            // EKS knows a cluster by its name, unique in the region (a node
            // group holds its cluster's name); a name in use is refused.
            Some(name) if kind.name() == "eks_cluster" => {
                if state
                    .resources
                    .iter()
                    .any(|r| r.kind == "eks_cluster" && r.id == name && r.region == self.region)
                {
                    return Err(aws_error(
                        "ResourceInUseException",
                        format!("Cluster already exists with name: {name}"),
                    ));
                }
                name.to_string()
            }
            // IAM role names are unique in the account.
            Some(name)
                if kind.name() == "iam_role"
                    && state
                        .resources
                        .iter()
                        .any(|r| r.kind == "iam_role" && r.text("name") == Some(name)) =>
            {
                return Err(aws_error(
                    "EntityAlreadyExists",
                    format!("Role with name {name} already exists."),
                ));
            }
            _ => format!("{}-{:017x}", kind.id_prefix(), state.next_id),
        };
        for computed in kind.attributes().iter().filter(|a| a.computed) {
            let value = match computed.name {
                "public_ip" => format!("203.0.113.{}", state.next_id % 250),
                "oidc_issuer" => format!("https://oidc.eks.memory.example/id/{id}"),
                "endpoint" => format!("https://{id}.eks.memory.example"),
                other => format!("memory:{other}:{id}"),
            };
            attributes.insert(computed.name.into(), Value::string(value));
        }
        let resource = StoredResource {
            kind: kind.name(),
            id: id.clone(),
            attributes,
            token: Some(request.token.clone()),
            region: self.region.clone(),
            created_at: now,
            ready_at: now + kind.timings().create,
            busy_until: None,
            deleting_until: None,
            failed: self
                .faults
                .lock()
                .expect("faults lock")
                .fail_create
                .contains(&request.address),
        };
        if resource.tag(ADDRESS_TAG).is_none() {
            return Err(CloudError::rejected("created resource has no address tag"));
        }
        state.resources.push(resource);
        Ok(id)
    }
}

/// The calls after the first of a create, as the adapter makes them (one an
/// attribute), with the value AWS gives the attribute until that call: a
/// crash between them leaves a marked resource with these defaults, which
/// the next plan updates in place.
type AwsDefault = fn() -> Value;
fn later_calls(kind: &str) -> &'static [(&'static str, AwsDefault)] {
    match kind {
        // CreateVpc, then ModifyVpcAttribute once per attribute.
        "vpc" => &[
            ("enable_dns_support", || Value::Bool(true)),
            ("enable_dns_hostnames", || Value::Bool(false)),
        ],
        // CreateSubnet, then ModifySubnetAttribute.
        "subnet" => &[("map_public_ip_on_launch", || Value::Bool(false))],
        // CreateInternetGateway, then AttachInternetGateway.
        "internet_gateway" => &[("vpc_id", || Value::Null)],
        // CreateRouteTable, then CreateRoute and AssociateRouteTable.
        "route_table" => &[
            ("routes", || Value::Map(BTreeMap::new())),
            ("subnet_ids", || Value::List(Vec::new())),
        ],
        // CreateSecurityGroup (which allows all egress), then the rules.
        "security_group" => &[
            ("ingress", || Value::List(Vec::new())),
            ("egress", || Value::string_set(&["all:0.0.0.0/0".into()])),
        ],
        // CreateRole, then AttachRolePolicy and PutRolePolicy.
        "iam_role" => &[
            ("managed_policy_arns", || Value::List(Vec::new())),
            ("inline_policies", || Value::Map(BTreeMap::new())),
        ],
        // CreateLoadBalancer, then ModifyLoadBalancerAttributes.
        "load_balancer" => &[("idle_timeout_seconds", || Value::Int(60))],
        // CreateLogGroup, then PutRetentionPolicy.
        "log_group" => &[("retention_in_days", || Value::Null)],
        // CreateRepository, then PutLifecyclePolicy and SetRepositoryPolicy.
        "ecr_repository" => &[
            ("lifecycle_policy", || Value::Null),
            ("repository_policy", || Value::Null),
        ],
        _ => &[],
    }
}

/// Removes what finished deleting, and what AWS deletes with it: an EKS
/// cluster's add-ons and access entries go with the cluster.
fn finish_deletions(state: &mut State, now: Instant) {
    let done: Vec<StoredResource> = state
        .resources
        .iter()
        .filter(|r| r.deleting_until.is_some_and(|until| now >= until))
        .cloned()
        .collect();
    state
        .resources
        .retain(|r| r.deleting_until.is_none_or(|until| now < until));
    for gone in done.iter().filter(|r| r.kind == "eks_cluster") {
        state.resources.retain(|r| {
            !(matches!(
                r.kind,
                "addon" | "access_entry" | "pod_identity_association"
            ) && r.holds("cluster_name", gone))
        });
    }
}

/// Ids that point at resources which do not exist: AWS answers NotFound.
fn check_references(state: &State, attributes: &Attributes) -> Result<(), CloudError> {
    for (name, value) in attributes {
        if name == "tags" {
            continue;
        }
        let mut ids = Vec::new();
        collect_strings(value, &mut ids);
        for id in ids {
            let looks_like_id = eksform_core::kinds::ALL.iter().any(|k| {
                id.strip_prefix(&format!("{}-", k.id_prefix()))
                    .is_some_and(|rest| {
                        rest.len() >= 8 && rest.chars().all(|c| c.is_ascii_hexdigit())
                    })
            });
            let exists = state
                .resources
                .iter()
                .any(|r| r.id == id && r.deleting_until.is_none());
            if looks_like_id && !exists {
                return Err(aws_error(
                    "InvalidID.NotFound",
                    format!("{name}: {id} does not exist"),
                ));
            }
        }
    }
    Ok(())
}

/// AWS's limits on names: (kind, attribute, longest, the API's error code).
const NAME_LIMITS: &[(&str, &str, usize, &str)] = &[
    // IAM CreateRole: RoleName up to 64 characters.
    ("iam_role", "name", 64, "ValidationError"),
    // ELBv2: load balancer and target group names up to 32 characters.
    ("load_balancer", "name", 32, "ValidationError"),
    ("target_group", "name", 32, "ValidationError"),
    // EKS CreateCluster: up to 100 characters; CreateNodegroup: up to 63.
    ("eks_cluster", "name", 100, "InvalidParameterException"),
    (
        "node_group",
        "nodegroup_name",
        63,
        "InvalidParameterException",
    ),
    // CloudWatch Logs: log group names up to 512 characters.
    ("log_group", "name", 512, "InvalidParameterException"),
    // EC2: security group names up to 255 characters.
    ("security_group", "name", 255, "InvalidParameterValue"),
];

fn check_name(kind: &str, attributes: &Attributes) -> Result<(), CloudError> {
    for (limited, attribute, longest, code) in NAME_LIMITS {
        if *limited != kind {
            continue;
        }
        let Some(name) = attributes.get(*attribute).and_then(Value::as_str) else {
            continue;
        };
        if name.chars().count() > *longest {
            return Err(aws_error(
                code,
                format!(
                    "{attribute} `{name}` is longer than {longest} characters ({})",
                    name.chars().count()
                ),
            ));
        }
        // ELBv2 names: letters, digits and hyphens, not starting or ending with one.
        if matches!(kind, "load_balancer" | "target_group")
            && (name.starts_with('-')
                || name.ends_with('-')
                || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        {
            return Err(aws_error(
                code,
                format!("{attribute} `{name}` may hold only letters, digits and inner hyphens"),
            ));
        }
    }
    Ok(())
}

/// Default quotas of a region: 5 VPCs, 5 Elastic IPs (VPC user guide,
/// "Amazon VPC quotas"; EC2 "Elastic IP address limit").
fn check_quota(state: &State, region: &str, kind: &str) -> Result<(), CloudError> {
    let (quota, code, what) = match kind {
        "vpc" => (5, "VpcLimitExceeded", "VPCs"),
        "elastic_ip" => (5, "AddressLimitExceeded", "addresses"),
        _ => return Ok(()),
    };
    let quota = state.raised.get(kind).copied().unwrap_or(quota);
    let used = state
        .resources
        .iter()
        .filter(|r| r.kind == kind && r.region == region)
        .count();
    if used >= quota {
        return Err(aws_error(
            code,
            format!("The maximum number of {what} has been reached ({quota} in {region})."),
        ));
    }
    Ok(())
}

/// A role made seconds ago cannot be assumed by EKS yet (`ROLE_PROPAGATION`).
fn check_role_assumable(
    state: &State,
    kind: &str,
    attributes: &Attributes,
    now: Instant,
) -> Result<(), CloudError> {
    let attribute = match kind {
        "eks_cluster" => "role_arn",
        "node_group" => "node_role_arn",
        "fargate_profile" => "pod_execution_role_arn",
        _ => return Ok(()),
    };
    let Some(arn) = attributes.get(attribute).and_then(Value::as_str) else {
        return Ok(());
    };
    match state
        .resources
        .iter()
        .find(|r| r.kind == "iam_role" && r.text("arn") == Some(arn))
    {
        Some(role) if now < role.created_at + ROLE_PROPAGATION => Err(aws_error(
            "InvalidParameterException",
            format!(
                "Role with arn: {arn}, could not be assumed because it does not exist or the trusted entity is not correct"
            ),
        )),
        _ => Ok(()),
    }
}

/// EKS creates and deletes a cluster's Fargate profiles one at a time: while
/// one is CREATING or DELETING, another create or delete is refused
/// (ResourceInUseException).
fn profiles_one_at_a_time(
    state: &State,
    kind: &str,
    attributes: &Attributes,
    except: Option<&str>,
    now: Instant,
) -> Result<(), CloudError> {
    if kind != "fargate_profile" {
        return Ok(());
    }
    let cluster = attributes.get("cluster_name");
    match state.resources.iter().find(|r| {
        r.kind == kind
            && Some(r.id.as_str()) != except
            && r.attributes.get("cluster_name") == cluster
            && r.status(now) != Status::Ready
    }) {
        Some(other) => Err(aws_error(
            "ResourceInUseException",
            format!(
                "Cannot create or delete a Fargate profile while {} is being changed",
                other.id
            ),
        )),
        None => Ok(()),
    }
}

/// A resource of the same kind in the same VPC whose `cidr_block` overlaps:
/// AWS refuses two subnets that share addresses.
fn overlapping(state: &State, kind: &str, attributes: &Attributes) -> Option<String> {
    let cidr = |a: &Attributes| {
        a.get("cidr_block")?
            .as_str()?
            .parse::<ipnet::Ipv4Net>()
            .ok()
    };
    let vpc = |a: &Attributes| a.get("vpc_id").cloned();
    let wanted = cidr(attributes)?;
    vpc(attributes)?;
    state
        .resources
        .iter()
        .filter(|r| r.kind == kind && vpc(&r.attributes) == vpc(attributes))
        .find(|r| cidr(&r.attributes).is_some_and(|c| c.contains(&wanted) || wanted.contains(&c)))
        .map(|r| r.id.clone())
}

/// What AWS refuses to delete while another resource uses it: (the kind
/// deleted, the kind that uses it, the attribute holding its id, ARN or
/// name (`*`: any), the error code). Users being deleted still hold it (a
/// deleting NAT gateway keeps its network interface in the subnet).
const HELD_BY: &[(&str, &str, &str, &str)] = &[
    // DeleteVpc: "The vpc has dependencies and cannot be deleted."
    ("vpc", "subnet", "vpc_id", "DependencyViolation"),
    ("vpc", "internet_gateway", "vpc_id", "DependencyViolation"),
    ("vpc", "route_table", "vpc_id", "DependencyViolation"),
    ("vpc", "security_group", "vpc_id", "DependencyViolation"),
    // DeleteSubnet: network interfaces (NAT gateways, load balancers, the
    // control plane's and nodes') and route table associations.
    ("subnet", "nat_gateway", "subnet_id", "DependencyViolation"),
    ("subnet", "route_table", "subnet_ids", "DependencyViolation"),
    (
        "subnet",
        "load_balancer",
        "subnet_ids",
        "DependencyViolation",
    ),
    ("subnet", "eks_cluster", "subnet_ids", "DependencyViolation"),
    ("subnet", "node_group", "subnet_ids", "DependencyViolation"),
    (
        "subnet",
        "fargate_profile",
        "subnet_ids",
        "DependencyViolation",
    ),
    // ReleaseAddress of an address a NAT gateway holds.
    (
        "elastic_ip",
        "nat_gateway",
        "allocation_id",
        "InvalidIPAddress.InUse",
    ),
    // DeleteSecurityGroup: used by a load balancer or another group's rule.
    (
        "security_group",
        "load_balancer",
        "security_group_ids",
        "DependencyViolation",
    ),
    (
        "security_group",
        "security_group",
        "ingress",
        "DependencyViolation",
    ),
    (
        "security_group",
        "security_group",
        "egress",
        "DependencyViolation",
    ),
    // DeleteCluster: EKS deletes the cluster's security group with it,
    // which fails while another group's rule names that group.
    (
        "eks_cluster",
        "security_group",
        "ingress",
        "DependencyViolation",
    ),
    (
        "eks_cluster",
        "security_group",
        "egress",
        "DependencyViolation",
    ),
    // DeleteFileSystem: "FileSystemInUse" while it has mount targets.
    (
        "efs_file_system",
        "efs_mount_target",
        "file_system_id",
        "FileSystemInUse",
    ),
    // A mount target's network interface holds its subnet and groups.
    (
        "subnet",
        "efs_mount_target",
        "subnet_id",
        "DependencyViolation",
    ),
    (
        "security_group",
        "efs_mount_target",
        "security_group_ids",
        "DependencyViolation",
    ),
    // DeleteTargetGroup / DeleteCertificate while a listener uses them.
    ("target_group", "listener", "*", "ResourceInUse"),
    (
        "certificate",
        "listener",
        "certificate_arn",
        "ResourceInUseException",
    ),
    // DeleteHostedZone with records other than its NS and SOA.
    ("hosted_zone", "dns_record", "zone_id", "HostedZoneNotEmpty"),
    // DeleteCluster: "Cluster has nodegroups attached" (and Fargate profiles).
    (
        "eks_cluster",
        "node_group",
        "cluster_name",
        "ResourceInUseException",
    ),
    (
        "eks_cluster",
        "fargate_profile",
        "cluster_name",
        "ResourceInUseException",
    ),
];

/// The refusal of a delete of `resource`, if AWS refuses it.
fn refuse_delete(state: &State, resource: &StoredResource) -> Option<CloudError> {
    for (held, user, attribute, code) in HELD_BY {
        if *held != resource.kind {
            continue;
        }
        if let Some(holder) = state
            .resources
            .iter()
            .find(|r| r.kind == *user && r.holds(attribute, resource))
        {
            return Some(aws_error(
                code,
                format!("{} has a dependent object: {}", resource.id, holder.id),
            ));
        }
    }
    if resource.kind == "internet_gateway" {
        return unmapped_first(state, resource);
    }
    None
}

/// DetachInternetGateway (and so its delete) is refused while the VPC still
/// maps public addresses: a NAT gateway's address, until the NAT gateway is
/// deleted (AWS: "Network vpc-... has some mapped public address(es)").
fn unmapped_first(state: &State, gateway: &StoredResource) -> Option<CloudError> {
    let vpc = gateway.text("vpc_id")?;
    let subnets: Vec<&str> = state
        .resources
        .iter()
        .filter(|r| r.kind == "subnet" && r.text("vpc_id") == Some(vpc))
        .map(|r| r.id.as_str())
        .collect();
    let nat = state.resources.iter().find(|r| {
        r.kind == "nat_gateway"
            && r.text("allocation_id").is_some()
            && r.text("subnet_id").is_some_and(|s| subnets.contains(&s))
    })?;
    Some(aws_error(
        "DependencyViolation",
        format!(
            "Network {vpc} has some mapped public address(es) ({}). Please unmap those public address(es) before detaching the gateway.",
            nat.id
        ),
    ))
}

fn collect_strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::List(items) => items.iter().for_each(|i| collect_strings(i, out)),
        Value::Map(map) => map.values().for_each(|v| collect_strings(v, out)),
        _ => {}
    }
}

fn not_found(id: &str) -> CloudError {
    aws_error("NotFound", format!("{id} does not exist"))
}

#[async_trait]
impl Cloud for MemoryCloud {
    async fn caller_account(&self) -> Result<String, CloudError> {
        let account = self.account.clone();
        self.call("caller_account".into(), None, |_, _| Ok(account))
            .await
    }

    async fn observe(
        &self,
        kind: &'static dyn Kind,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let role_list_lag = self.faults.lock().expect("faults lock").role_list_lag;
        self.call(format!("observe {}", kind.name()), None, |state, now| {
            Ok(state
                .resources
                .iter()
                .filter(|r| r.kind == kind.name() && self.sees(r))
                .filter(|r| r.kind != "iam_role" || now >= r.created_at + role_list_lag)
                .filter_map(|r| {
                    if kind.is_brought() {
                        let (address, _) = scope.named.iter().find(|(_, id)| **id == r.id)?;
                        let mut live = Self::to_live(r, now).unwrap_or(LiveResource {
                            address: address.clone(),
                            kind: kind.name().into(),
                            id: r.id.clone(),
                            attributes: r.attributes.clone(),
                            status: Status::Ready,
                        });
                        live.address = address.clone();
                        return Some(live);
                    }
                    let stack = r.tag(STACK_TAG).map(str::to_string);
                    if !eksform_core::kinds::tags::marks_stack(stack.as_ref(), &scope.stack) {
                        return None;
                    }
                    Self::to_live(r, now)
                })
                .collect())
        })
        .await
    }

    async fn name_taken(
        &self,
        kind: &'static dyn Kind,
        desired: &eksform_core::model::DesiredResource,
    ) -> Result<Option<String>, CloudError> {
        // Names are unique per kind here, as AWS's are for the kinds that
        // check. Not counted as a call: fault schedules count apply's calls.
        let Some(name) = desired.attributes.get("name") else {
            return Ok(None);
        };
        let state = self.state.lock().expect("state lock");
        Ok(state
            .resources
            .iter()
            .find(|r| {
                r.kind == kind.name()
                    && (global(r.kind) || r.region == self.region)
                    && r.deleting_until.is_none()
                    && r.attributes.get("name") == Some(name)
                    && r.tag(STACK_TAG).is_none()
            })
            .map(|r| format!("{} named {name} already exists ({})", kind.name(), r.id)))
    }

    async fn create(
        &self,
        kind: &'static dyn Kind,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let rejected = self
            .faults
            .lock()
            .expect("faults lock")
            .reject_create
            .contains(&request.address);
        let address = Some(&request.address);
        if kind.is_brought() {
            // Only tags are added to what the user brought.
            return self
                .call(format!("create {}", kind.name()), address, |state, _| {
                    let resource = state
                        .resources
                        .iter_mut()
                        .filter(|r| self.sees(r))
                        .find(|r| {
                            Some(r.id.as_str())
                                == request.attributes.get("id").and_then(Value::as_str)
                        })
                        .ok_or_else(|| aws_error("InvalidSubnetID.NotFound", "no such subnet"))?;
                    merge_tags(&mut resource.attributes, &request.attributes);
                    Ok(LiveResource {
                        address: request.address.clone(),
                        kind: kind.name().into(),
                        id: resource.id.clone(),
                        attributes: resource.attributes.clone(),
                        status: Status::Ready,
                    })
                })
                .await;
        }
        let id = self
            .call(format!("create {}", kind.name()), address, |state, now| {
                self.first_call(state, now, kind, request, rejected)
            })
            .await?;
        // The later calls of a create made of several, each one call that a
        // crash can precede: only those the adapter makes (a value AWS
        // already gives needs none).
        for (attribute, default) in later_calls(kind.name()) {
            let Some(wanted) = request.attributes.get(*attribute) else {
                continue;
            };
            if *wanted == default() {
                continue;
            }
            self.call(
                format!("create {}: {attribute}", kind.name()),
                address,
                |state, _| {
                    let mut one = Attributes::new();
                    one.insert((*attribute).into(), wanted.clone());
                    check_references(state, &one)?;
                    let resource = state
                        .resources
                        .iter_mut()
                        .find(|r| r.id == id && r.deleting_until.is_none())
                        .ok_or_else(|| not_found(&id))?;
                    resource.attributes.extend(one);
                    Ok(())
                },
            )
            .await?;
        }
        let state = self.state.lock().expect("state lock");
        let resource = state
            .resources
            .iter()
            .find(|r| r.id == id)
            .ok_or_else(|| not_found(&id))?;
        Self::to_live(resource, Instant::now())
            .ok_or_else(|| CloudError::rejected("created resource has no address tag"))
    }

    async fn update(
        &self,
        kind: &'static dyn Kind,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        let took = self
            .call(
                format!("update {}", kind.name()),
                Some(&live.address),
                |state, now| {
                    check_references(state, desired)?;
                    let index = state
                        .resources
                        .iter()
                        .position(|r| r.id == live.id && r.deleting_until.is_none() && self.sees(r))
                        .ok_or_else(|| not_found(&live.id))?;
                    let resource = &state.resources[index];
                    let changes = desired.iter().any(|(name, value)| {
                        name != "tags" && resource.attributes.get(name) != Some(value)
                    });
                    // EKS changes a cluster, a node group or an add-on one
                    // update at a time, and not while it is being created.
                    if changes
                        && matches!(kind.name(), "eks_cluster" | "node_group" | "addon")
                        && resource.status(now) == Status::Pending
                    {
                        return Err(aws_error(
                            "ResourceInUseException",
                            format!(
                                "{} is being created or updated; one update at a time",
                                live.id
                            ),
                        ));
                    }
                    // Moving an internet gateway detaches it first.
                    if kind.name() == "internet_gateway"
                        && desired
                            .get("vpc_id")
                            .is_some_and(|v| resource.attributes.get("vpc_id") != Some(v))
                        && let Some(refused) = unmapped_first(state, resource)
                    {
                        return Err(refused);
                    }
                    let took = update_time(kind, &resource.attributes, desired);
                    let resource = &mut state.resources[index];
                    if kind.is_brought() {
                        merge_tags(&mut resource.attributes, desired);
                    } else {
                        for (name, value) in desired {
                            resource.attributes.insert(name.clone(), value.clone());
                        }
                    }
                    if !took.is_zero() {
                        resource.busy_until = Some(now + took);
                    }
                    Ok(took)
                },
            )
            .await?;
        // The adapter awaits AWS's update before it returns; so does this.
        tokio::time::sleep(took).await;
        Ok(())
    }

    async fn delete(&self, kind: &'static dyn Kind, live: &LiveResource) -> Result<(), CloudError> {
        self.call(
            format!("delete {}", kind.name()),
            Some(&live.address),
            |state, now| {
                let Some(index) = state
                    .resources
                    .iter()
                    .position(|r| r.id == live.id && self.sees(r))
                else {
                    return Ok(()); // Already gone.
                };
                if state.resources[index].deleting_until.is_some() {
                    return Ok(());
                }
                let resource = state.resources[index].clone();
                if let Some(refused) = refuse_delete(state, &resource) {
                    return Err(refused);
                }
                profiles_one_at_a_time(
                    state,
                    resource.kind,
                    &resource.attributes,
                    Some(&resource.id),
                    now,
                )?;
                if resource.kind == "load_balancer" {
                    // DeleteLoadBalancer deletes its listeners.
                    state.resources.retain(|r| {
                        !(r.kind == "listener" && r.holds("load_balancer_arn", &resource))
                    });
                }
                let index = state
                    .resources
                    .iter()
                    .position(|r| r.id == resource.id)
                    .ok_or_else(|| not_found(&resource.id))?;
                let delay = kind.timings().delete;
                if delay.is_zero() {
                    state.resources.remove(index);
                } else {
                    state.resources[index].deleting_until = Some(now + delay);
                }
                Ok(())
            },
        )
        .await
    }

    async fn read(
        &self,
        kind: &'static dyn Kind,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        self.call(
            format!("read {}", kind.name()),
            Some(&live.address),
            |state, now| {
                Ok(state
                    .resources
                    .iter()
                    .find(|r| r.id == live.id && self.sees(r))
                    .map(|r| {
                        let mut found = Self::to_live(r, now).unwrap_or_else(|| live.clone());
                        found.status = r.status(now);
                        found
                    }))
            },
        )
        .await
    }

    /// The add-on configuration schemas published (`publish_addon_schema`);
    /// the other preflight facts are not modelled, so those checks are left
    /// out, as the default does.
    async fn preflight_facts(
        &self,
        questions: &eksform_core::preflight::Questions,
    ) -> Result<eksform_core::preflight::Facts, CloudError> {
        if questions.addon_configurations.is_empty() {
            return Ok(eksform_core::preflight::Facts::default());
        }
        let state = self.state.lock().expect("state lock");
        let schemas = questions
            .addon_configurations
            .iter()
            .filter_map(|asked| {
                let schema = state.addon_schemas.get(&asked.addon)?;
                Some((
                    asked.addon.clone(),
                    eksform_core::preflight::AddonSchema {
                        version: asked.version.clone(),
                        schema: schema.clone(),
                    },
                ))
            })
            .collect();
        Ok(eksform_core::preflight::Facts {
            addon_schemas: Some(schemas),
            ..eksform_core::preflight::Facts::default()
        })
    }

    async fn find_to_adopt(
        &self,
        kind: &'static dyn Kind,
        desired: &eksform_core::model::DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        // By id or name, whatever the marks, as the AWS adapters look it up.
        self.call(
            format!("find to adopt {}", kind.name()),
            Some(&desired.address),
            |state, now| {
                Ok(state
                    .resources
                    .iter()
                    .find(|r| {
                        r.kind == kind.name()
                            && self.sees(r)
                            && (r.id == id || r.text("name") == Some(id))
                    })
                    .map(|r| LiveResource {
                        address: desired.address.clone(),
                        kind: kind.name().into(),
                        id: r.id.clone(),
                        attributes: r.attributes.clone(),
                        status: r.status(now),
                    }))
            },
        )
        .await
    }
}

/// The regions of one memory account: each region's cloud shares the
/// account's resources, faults and calls. Other memory accounts are reached
/// through the roles they were added with (`with_role`), as STS AssumeRole
/// would; any other role is refused as AWS refuses it.
pub struct MemoryRegions {
    home: Arc<MemoryCloud>,
    roles: BTreeMap<String, Arc<MemoryCloud>>,
}

impl MemoryRegions {
    pub fn new(home: Arc<MemoryCloud>) -> Self {
        Self {
            home,
            roles: BTreeMap::new(),
        }
    }

    /// `role_arn`, when assumed, reaches `account` (another memory cloud).
    pub fn with_role(mut self, role_arn: &str, account: Arc<MemoryCloud>) -> Self {
        self.roles.insert(role_arn.into(), account);
        self
    }
}

#[async_trait]
impl Regions for MemoryRegions {
    async fn cloud(&self, region: &str) -> Arc<dyn Cloud> {
        Arc::new(self.home.in_region(region))
    }

    async fn cloud_as(&self, region: &str, role_arn: &str) -> Result<Arc<dyn Cloud>, CloudError> {
        match self.roles.get(role_arn) {
            Some(account) => Ok(Arc::new(account.in_region(region))),
            None => Err(CloudError::new(
                ErrorClass::Rejected,
                Some("AccessDenied"),
                format!("not authorized to perform: sts:AssumeRole on resource: {role_arn}"),
            )),
        }
    }
}

/// How long AWS takes to carry out an update: the kind's update time when
/// anything but tags changes, once per minor version of a version change.
fn update_time(kind: &dyn Kind, live: &Attributes, desired: &Attributes) -> Duration {
    let minor = |a: &Attributes| eksform_core::kinds::minor_of(a.get("version")?.as_str()?);
    let steps = match (minor(live), minor(desired)) {
        (Some(from), Some(to)) if to > from => to - from,
        _ => u32::from(
            desired
                .iter()
                .any(|(name, value)| name != "tags" && live.get(name) != Some(value)),
        ),
    };
    kind.timings().update * steps
}

fn merge_tags(target: &mut Attributes, source: &Attributes) {
    let mut tags: BTreeMap<String, Value> = target
        .get("tags")
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default();
    if let Some(extra) = source.get("tags").and_then(Value::as_map) {
        tags.extend(extra.clone());
    }
    target.insert("tags".into(), Value::Map(tags));
}
