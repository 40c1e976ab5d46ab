//! Resource kind definitions. Each module owns one kind's rules: its desired
//! shape (lowering from the stack model), its diff rules, ordering and guards,
//! timings. No AWS calls: a kind's adapter (observe, create, update, delete,
//! read) lives in the `eksform-aws` crate, one module per AWS service.

pub mod access_entry;
pub mod addon;
pub mod certificate;
pub mod certificate_validation;
pub mod controller_leftover;
pub mod dns_record;
pub mod ecr_repository;
pub mod efs_access_point;
pub mod efs_file_system;
pub mod efs_mount_target;
pub mod eks_cluster;
pub mod elastic_ip;
pub mod fargate_profile;
pub mod hosted_zone;
pub mod iam_role;
pub mod internet_gateway;
pub mod listener;
pub mod load_balancer;
pub mod log_group;
pub mod nat_gateway;
pub mod node_group;
pub mod oidc_provider;
pub mod pod_identity_association;
pub mod route_table;
pub mod security_group;
pub mod subnet;
pub mod subnet_tags;
pub mod tags;
pub mod target_group;
pub mod vpc;
pub mod well_known;

use std::time::Duration;

use crate::lower::StackModel;
use crate::model::{Address, Attributes, DesiredResource, LiveResource, Value};
use crate::plan::Note;

pub use access_entry::AccessEntry;
pub use addon::Addon;
pub use certificate::Certificate;
pub use certificate_validation::CertificateValidation;
pub use controller_leftover::ControllerLeftover;
pub use dns_record::DnsRecord;
pub use ecr_repository::EcrRepository;
pub use efs_access_point::EfsAccessPoint;
pub use efs_file_system::EfsFileSystem;
pub use efs_mount_target::EfsMountTarget;
pub use eks_cluster::{EksCluster, minor_of};
pub use elastic_ip::ElasticIp;
pub use fargate_profile::FargateProfile;
pub use hosted_zone::HostedZone;
pub use iam_role::IamRole;
pub use internet_gateway::InternetGateway;
pub use listener::{Listener, TLS_POLICY};
pub use load_balancer::LoadBalancer;
pub use log_group::LogGroup;
pub use nat_gateway::NatGateway;
pub use node_group::NodeGroup;
pub use oidc_provider::OidcProvider;
pub use pod_identity_association::PodIdentityAssociation;
pub use route_table::RouteTable;
pub use security_group::SecurityGroup;
pub use subnet::Subnet;
pub use subnet_tags::SubnetTags;
pub use target_group::TargetGroup;
pub use vpc::Vpc;
pub use well_known::{WellKnown, well_known_policies};

/// Every registered kind, in the order plans list them.
pub static ALL: &[&'static dyn Kind] = &[
    &Vpc,
    &InternetGateway,
    &Subnet,
    &SubnetTags,
    &ElasticIp,
    &NatGateway,
    &RouteTable,
    &IamRole,
    &LogGroup,
    &EksCluster,
    &OidcProvider,
    &NodeGroup,
    &FargateProfile,
    &AccessEntry,
    &Addon,
    &PodIdentityAssociation,
    &HostedZone,
    &Certificate,
    &DnsRecord,
    &CertificateValidation,
    &SecurityGroup,
    &LoadBalancer,
    &TargetGroup,
    &Listener,
    &EcrRepository,
    &EfsFileSystem,
    &EfsMountTarget,
    &EfsAccessPoint,
    &ControllerLeftover,
];

pub fn by_name(name: &str) -> Option<&'static dyn Kind> {
    ALL.iter().copied().find(|k| k.name() == name)
}

/// How a change to an attribute is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// An update call changes it.
    InPlace,
    /// AWS cannot change it: the resource is replaced.
    Replace,
}

/// How a live value is compared with the desired one.
#[derive(Clone, Copy)]
pub enum Compare {
    /// Equal values only.
    Exact,
    /// Lists whose order and repeats mean nothing (EKS keeps taints as a set).
    Set,
    /// IAM policy documents (JSON, URL-encoded as IAM returns them): compared
    /// as canonical JSON, so key order and spacing make no diff.
    PolicyDocument,
    /// A map of named policy documents (a role's inline policies), each
    /// compared as `PolicyDocument`.
    PolicyDocuments,
    /// A role's trust policy: a `PolicyDocument`, where a service's
    /// statement without `sts:TagSession` satisfies one with it (a role
    /// eksctl or Terraform made already lets the service assume it).
    TrustPolicy,
    /// A JSON document of settings (an add-on's configuration values),
    /// compared as canonical JSON; a desired null leaves whatever is live
    /// alone. The plan shows it key by key, as dotted paths.
    JsonSettings,
    /// Never a diff: the value is written at creation and whatever AWS holds
    /// since satisfies it (an adopted zone keeps its own comment and tags).
    Ignored,
    /// A rule of the kind's own, named in its attribute table.
    Custom(fn(live: &Value, desired: &Value) -> bool),
}

impl Compare {
    pub fn satisfied(self, live: &Value, desired: &Value) -> bool {
        match self {
            Compare::Exact => live == desired,
            Compare::Set => {
                let set = |value: &Value| {
                    let mut items = value.as_list().unwrap_or_default().to_vec();
                    items.sort();
                    items.dedup();
                    items
                };
                set(live) == set(desired)
            }
            Compare::PolicyDocument => match (live.as_str(), desired.as_str()) {
                (Some(live), Some(desired)) => {
                    let live = iam_role::canonical_policy(live);
                    live.is_some() && live == iam_role::canonical_policy(desired)
                }
                _ => live == desired,
            },
            Compare::TrustPolicy => iam_role::trust_satisfied(live, desired),
            Compare::PolicyDocuments => {
                let documents = |v: &Value| -> Option<
                    std::collections::BTreeMap<String, serde_json::Value>,
                > {
                    v.as_map()?
                        .iter()
                        .map(|(k, d)| Some((k.clone(), iam_role::canonical_policy(d.as_str()?)?)))
                        .collect()
                };
                documents(live).is_some() && documents(live) == documents(desired)
            }
            Compare::JsonSettings => match desired {
                Value::Null => true,
                _ => json_settings(live) == json_settings(desired),
            },
            Compare::Ignored => true,
            Compare::Custom(rule) => rule(live, desired),
        }
    }
}

/// JSON settings as a value to compare: absent or empty is no settings.
fn json_settings(value: &Value) -> Option<serde_json::Value> {
    match value.as_str().map(str::trim) {
        None | Some("") => Some(serde_json::json!({})),
        Some(text) => serde_json::from_str(text).ok(),
    }
}

/// JSON settings flattened to dotted paths (`resources.limits.memory`),
/// each leaf as JSON text, so the plan shows them key by key; a list is one
/// leaf. `None` when the text is not JSON.
pub fn flattened_json_settings(text: &str) -> Option<std::collections::BTreeMap<String, Value>> {
    fn walk(
        prefix: &str,
        value: &serde_json::Value,
        out: &mut std::collections::BTreeMap<String, Value>,
    ) {
        match value {
            serde_json::Value::Object(entries) if !entries.is_empty() || prefix.is_empty() => {
                for (key, inner) in entries {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(&path, inner, out);
                }
            }
            leaf => {
                out.insert(prefix.to_string(), leaf_value(leaf));
            }
        }
    }
    /// A leaf as the plan prints values: strings quoted, numbers and
    /// booleans bare, lists element by element.
    fn leaf_value(leaf: &serde_json::Value) -> Value {
        match leaf {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::String(s) => Value::string(s.clone()),
            serde_json::Value::Array(items) => Value::List(items.iter().map(leaf_value).collect()),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::String(n.to_string()),
            },
            serde_json::Value::Object(_) => Value::String(leaf.to_string()),
        }
    }
    let parsed = json_settings(&Value::string(text))?;
    let mut out = std::collections::BTreeMap::new();
    walk("", &parsed, &mut out);
    Some(out)
}

/// What apply sets for an attribute of a live resource when that is not
/// simply the desired value (`Kind::planned`): the plan shows this value and
/// apply sends it, so the plan says exactly what apply does.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The value apply sends: the plan's `after`.
    pub value: Value,
    /// Whether apply changes the attribute at all.
    pub changes: bool,
    /// Why the value is not the spec's, shown beside it (or on the resource
    /// when the attribute does not change).
    pub note: Option<Note>,
}

/// One attribute of a kind: the schema generic code reads to diff and plan.
#[derive(Clone, Copy)]
pub struct Attribute {
    pub name: &'static str,
    /// In place, or the resource is replaced.
    pub change: Change,
    /// AWS sets it (an ARN, an endpoint): never desired, never diffed.
    pub computed: bool,
    pub compare: Compare,
}

impl Attribute {
    /// An attribute an update call changes.
    pub const fn in_place(name: &'static str) -> Self {
        Self {
            name,
            change: Change::InPlace,
            computed: false,
            compare: Compare::Exact,
        }
    }

    /// An attribute AWS cannot change: a new value replaces the resource.
    pub const fn replaces(name: &'static str) -> Self {
        Self {
            change: Change::Replace,
            ..Self::in_place(name)
        }
    }

    /// An attribute AWS computes.
    pub const fn computed(name: &'static str) -> Self {
        Self {
            computed: true,
            ..Self::in_place(name)
        }
    }

    /// The `tags` attribute, synced in place.
    pub const fn tags() -> Self {
        Self::in_place("tags")
    }

    pub const fn compared(self, compare: Compare) -> Self {
        Self { compare, ..self }
    }
}

/// The fewest calls observing a kind can make, given what its AWS API offers
/// (a batch read where there is one, one read per resource where there is
/// none): the floor the benchmark holds a no-change plan to.
#[derive(Debug, Clone, Copy)]
pub struct ObservationFloor {
    /// Calls made whatever the stack holds (the list call).
    pub always: usize,
    /// Calls made once when the stack has any resource of the kind (a batch
    /// tag read of what the list found).
    pub if_any: usize,
    /// Calls per resource of the kind (an attribute with no batch read).
    pub each: usize,
    /// Calls per resource of another kind (the node groups of each cluster).
    pub each_of: Option<&'static str>,
    /// The calls in words, for the benchmark's derivation.
    pub how: &'static str,
}

impl ObservationFloor {
    /// `always` calls, whatever the stack holds.
    pub const fn list(always: usize, how: &'static str) -> Self {
        Self {
            always,
            if_any: 0,
            each: 0,
            each_of: None,
            how,
        }
    }

    /// The calls for a stack, given how many resources of each kind it holds.
    pub fn calls(&self, count: impl Fn(&str) -> usize, kind: &str) -> usize {
        let own = count(kind);
        self.always
            + if own > 0 { self.if_any } else { 0 }
            + self.each * own
            + self.each_of.map_or(0, count)
    }
}

/// Typical AWS durations for a kind: the memory cloud's pending times, the
/// engine's poll interval and its bound on a wait.
#[derive(Debug, Clone, Copy)]
pub struct Timings {
    pub create: Duration,
    pub delete: Duration,
    /// An update AWS carries out after the call (the call's await): once per
    /// minor version of a version change.
    pub update: Duration,
    pub poll: Duration,
    pub timeout: Duration,
}

impl Timings {
    /// A kind whose create and delete finish within the call.
    pub const fn immediate() -> Self {
        Self {
            create: Duration::ZERO,
            delete: Duration::ZERO,
            update: Duration::ZERO,
            poll: Duration::from_secs(2),
            timeout: Duration::from_secs(60),
        }
    }
}

pub trait Kind: Send + Sync + 'static {
    /// The kind's name in addresses' first segment and in plans: `nat_gateway`.
    fn name(&self) -> &'static str;

    /// The AWS service its calls go to (`ec2`, `eks`, as in IAM actions):
    /// calls in flight are bounded per service, and a service that throttles
    /// gets fewer.
    fn service(&self) -> &'static str;

    /// The kind's attribute schema: every attribute its lowering writes and
    /// its observation reads, how each changes and how it is compared. The
    /// methods below that take an attribute read it; kinds do not override them.
    fn attributes(&self) -> &'static [Attribute];

    /// The IAM actions (`service:Action`) the kind's adapter calls, itself or
    /// through its service's shared reads and tag sync: `eksform iam-policy`
    /// grants their union (`iam_policy::called`), and a test checks each
    /// adapter's source against its kind's list.
    fn iam_actions(&self) -> &'static [&'static str];

    /// The fewest calls its observation can make (the benchmark's floor).
    fn observation_floor(&self) -> ObservationFloor;

    /// The schema's entry for an attribute.
    fn attribute(&self, name: &str) -> Option<&'static Attribute> {
        self.attributes().iter().find(|a| a.name == name)
    }

    /// How a change to the attribute is made (not in the schema: in place).
    fn change_of(&self, attribute: &str) -> Change {
        self.attribute(attribute)
            .map_or(Change::InPlace, |a| a.change)
    }

    /// Whether AWS computes the attribute.
    fn is_computed(&self, attribute: &str) -> bool {
        self.attribute(attribute).is_some_and(|a| a.computed)
    }

    /// The desired resources of this kind for a stack.
    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource>;

    /// Whether a live resource of this kind, about to be deleted, stands in the
    /// way of creating `desired` (an old subnet holding the new one's CIDR): the
    /// create then waits for that delete.
    fn in_the_way(&self, _desired: &DesiredResource, _live: &LiveResource) -> bool {
        false
    }

    /// Whether the live value already gives what the desired value asks for,
    /// by the attribute's `Compare`.
    fn satisfied(&self, attribute: &str, live: &Value, desired: &Value) -> bool {
        self.attribute(attribute)
            .map_or(live == desired, |a| a.compare.satisfied(live, desired))
    }

    fn timings(&self) -> Timings {
        Timings::immediate()
    }

    /// Kinds whose deletes (in the same plan) must finish before a delete of this
    /// kind starts, beyond what the live references show: ordering only (the
    /// OIDC provider and the roles go once the cluster is gone). AWS itself
    /// does not refuse the delete while such resources exist; for what it does
    /// refuse, see `delete_refused_while`.
    fn delete_after(&self) -> &'static [&'static str] {
        &[]
    }

    /// Addresses whose creates (or updates) a delete of the resource at
    /// `address` waits for: what takes over its job, so there is no gap (a
    /// service account's IRSA role goes once its Pod Identity association
    /// exists, and the other way round).
    fn delete_after_creates_of(&self, _address: &Address) -> Vec<Address> {
        Vec::new()
    }

    /// Kinds whose existence in the stack makes AWS refuse a delete (or a
    /// release) of this kind with a dependency violation (an internet gateway
    /// is detached only after the NAT gateways that map public addresses
    /// through it and their Elastic IPs are gone). The executor orders deletes
    /// after them as after `delete_after`. The memory cloud refuses such a
    /// delete by its own rules, written from AWS's, never by this setting: a
    /// wrong setting fails the engine tests.
    fn delete_refused_while(&self) -> &'static [&'static str] {
        &[]
    }

    /// Every kind whose deletes a delete of this kind waits for.
    fn deletes_wait_for(&self, other: &str) -> bool {
        self.delete_after().contains(&other) || self.delete_refused_while().contains(&other)
    }

    /// Prefix of the ids AWS gives this kind (`vpc`, `subnet`, `eipalloc`).
    fn id_prefix(&self) -> &'static str;

    /// Whether the resource already exists and eksform only manages some of it
    /// (the tags of a brought VPC's subnets): never created, never deleted.
    fn is_brought(&self) -> bool {
        false
    }

    /// The desired attribute by which this kind is looked up when it carries no
    /// mark to filter on (a brought subnet's `id`, a log group's `name`).
    fn looked_up_by(&self) -> Option<&'static str> {
        None
    }

    /// Whether a replacement is created before the old resource is deleted
    /// (node groups: capacity never drops). The desired name must then differ
    /// from the old one's.
    fn create_before_destroy(&self) -> bool {
        false
    }

    /// Whether the kind belongs to a global service (IAM, Route 53), whose
    /// resources one account shares across regions: they carry
    /// `eksform:region` in their mark, and a region sees only its own.
    fn is_global(&self) -> bool {
        false
    }

    /// Whether observing with the stack `tags::EVERY_STACK` finds every stack's
    /// resources of this kind (its read depends on nothing else of the scope):
    /// a plan of many stacks then reads the kind once for all of them.
    fn observes_every_stack(&self) -> bool {
        false
    }

    /// Whether AWS allows only one operation of this kind at a time (Fargate
    /// profiles of a cluster): the executor then runs them one after another.
    fn one_at_a_time(&self) -> bool {
        false
    }

    /// Whether deleting or replacing a resource of this kind loses what users
    /// rely on (a cluster, a VPC, a node group, a hosted zone, a load balancer):
    /// the plan marks it and `apply --auto-approve` needs `--allow-destroy`.
    fn guarded(&self) -> bool {
        false
    }

    /// Whether a live resource found without eksform's mark (by its name) may
    /// be adopted by the plan. DNS records may not: they may belong to
    /// ExternalDNS or a person, so one in the way is a plan error.
    fn adopts_unmarked(&self) -> bool {
        true
    }

    /// Attributes eksform derives from the stack and address rather than the
    /// spec (a role's name and path) that a resource taken over by an
    /// `adopt:` entry keeps as they are: they name it, and AWS cannot change
    /// them in place.
    fn adopted_identity(&self) -> &'static [&'static str] {
        &[]
    }

    /// What apply sets for `attribute` of a live resource, when that is not
    /// the desired value as written or its comparison alone does not say
    /// whether apply changes it: a node group's desired size (the autoscaler
    /// owns it), an add-on's `latest` after an upgrade, a control plane's
    /// upgrade in steps, the routes of a table kept beside eksform's own.
    /// `desired` is resolved as far as the plan knows (it may still refer to
    /// what apply makes, such as a new NAT gateway's id); `desired_attributes`
    /// are the resource's as lowered. None: the desired value, by the `Compare` rule.
    /// The adapter sends the plan's value, so the rule lives here only.
    fn planned(
        &self,
        _attribute: &str,
        _live: &Attributes,
        _desired: &Value,
        _desired_attributes: &Attributes,
    ) -> Option<Planned> {
        None
    }

    /// Refuses a change AWS cannot make, or eksform cannot make yet, with the reason.
    fn check_change(
        &self,
        _attribute: &str,
        _before: &Value,
        _after: &Value,
    ) -> Result<(), String> {
        Ok(())
    }

    /// What an allowed change loses that users may rely on (a retention cut
    /// deletes older log events): shown as a warning in the plan.
    fn warn_change(&self, _attribute: &str, _before: &Value, _after: &Value) -> Option<String> {
        None
    }

    /// What a create loses that users may rely on, given which of the
    /// stack's resources already stand (`standing`): shown as warnings in
    /// the plan.
    fn warn_create(
        &self,
        _resource: &DesiredResource,
        _standing: &dyn Fn(&Address) -> bool,
    ) -> Vec<String> {
        Vec::new()
    }

    /// What the plan says of deleting the live resource beyond its address
    /// (an EFS file system's size): notes of its delete.
    fn delete_notes(&self, _live: &LiveResource) -> Vec<String> {
        Vec::new()
    }
}
