//! The resource model shared by lowering, planning and execution: addresses,
//! attribute values (which may refer to other resources' attributes that are
//! only known after apply), desired resources and live resources.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Tag naming the stack that owns a resource.
pub const STACK_TAG: &str = "eksform:stack";

/// An attribute a pending resource may carry while the engine waits for it:
/// what it waits for, in words (named when the wait times out).
pub const WAITING_FOR: &str = "waiting_for";
/// Tag naming a resource's place in the spec, such as `subnet.private.us-east-1a`.
pub const ADDRESS_TAG: &str = "eksform:address";

/// The region of a resource of a global service (IAM): with the stack, the
/// identity of its owner, so that one stack name in two regions of an account
/// keeps two separate sets of roles.
pub const REGION_TAG: &str = "eksform:region";

/// A resource's place in the spec: `vpc.main`, `subnet.private.us-east-1a`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Address(pub String);

impl Address {
    pub fn new(parts: &[&str]) -> Self {
        Address(parts.join("."))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What stands for another stack's output in a desired value known only
    /// after that stack's apply (`fromStack.<stack>`, the attribute being the
    /// output). No resource of this stack is at it, so nothing waits for it.
    pub fn other_stack(stack: &str) -> Self {
        Address::new(&[OTHER_STACK, stack])
    }

    pub fn is_other_stack(&self) -> bool {
        self.other_stack_name().is_some()
    }

    /// The stack an `Address::other_stack` names.
    pub fn other_stack_name(&self) -> Option<&str> {
        self.0.strip_prefix(OTHER_STACK)?.strip_prefix('.')
    }
}

/// The first part of `Address::other_stack`.
const OTHER_STACK: &str = "fromStack";

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A reference to an attribute of another resource, known once it exists.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Reference {
    pub address: Address,
    pub attribute: String,
}

/// An attribute value. `Ref` appears only in desired resources.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    String(String),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Ref(Reference),
}

impl Value {
    pub fn string(s: impl Into<String>) -> Self {
        Value::String(s.into())
    }

    pub fn reference(address: &Address, attribute: &str) -> Self {
        Value::Ref(Reference {
            address: address.clone(),
            attribute: attribute.into(),
        })
    }

    /// A list of strings compared as a set: sorted.
    pub fn string_set(items: &[String]) -> Self {
        let mut items = items.to_vec();
        items.sort();
        Value::List(items.into_iter().map(Value::String).collect())
    }

    pub fn string_map(map: &BTreeMap<String, String>) -> Self {
        Value::Map(
            map.iter()
                .map(|(k, v)| (k.clone(), Value::string(v.clone())))
                .collect(),
        )
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }

    /// Every reference inside this value.
    pub fn references(&self) -> Vec<&Reference> {
        let mut out = Vec::new();
        self.collect_references(&mut out);
        out
    }

    fn collect_references<'a>(&'a self, out: &mut Vec<&'a Reference>) {
        match self {
            Value::Ref(r) => out.push(r),
            Value::List(items) => items.iter().for_each(|i| i.collect_references(out)),
            Value::Map(map) => map.values().for_each(|v| v.collect_references(out)),
            _ => {}
        }
    }

    /// Whether `needle` appears as a string anywhere in this value: how a live
    /// resource is found to depend on another (it holds its id).
    pub fn mentions(&self, needle: &str) -> bool {
        match self {
            Value::String(s) => s == needle,
            Value::List(items) => items.iter().any(|i| i.mentions(needle)),
            Value::Map(map) => map.values().any(|v| v.mentions(needle)),
            _ => false,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::String(s) => write!(f, "{s:?}"),
            Value::List(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Map(map) => {
                f.write_str("{")?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k} = {v}")?;
                }
                f.write_str("}")
            }
            Value::Ref(r) => write!(f, "(known after apply: {}.{})", r.address, r.attribute),
        }
    }
}

pub type Attributes = BTreeMap<String, Value>;

/// What the spec asks for: one resource, with attributes that may refer to others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DesiredResource {
    pub address: Address,
    /// The registered kind's name (see `kinds::ALL`).
    pub kind: String,
    pub attributes: Attributes,
    /// Ordering edges that no attribute expresses (a NAT gateway needs the
    /// internet gateway attached to its VPC).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<Address>,
    /// The id of the live resource an `adopt:` entry names for this address:
    /// observation looks it up by that id, whatever its marks, and apply
    /// takes it over instead of creating one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adopt: Option<String>,
}

impl DesiredResource {
    pub fn new(kind: &str, address: Address) -> Self {
        Self {
            address,
            kind: kind.into(),
            attributes: Attributes::new(),
            depends_on: Vec::new(),
            adopt: None,
        }
    }

    pub fn with(mut self, name: &str, value: Value) -> Self {
        self.attributes.insert(name.into(), value);
        self
    }

    pub fn after(mut self, address: &Address) -> Self {
        self.depends_on.push(address.clone());
        self
    }

    /// Addresses this resource needs to exist first: references and explicit edges.
    pub fn dependencies(&self) -> Vec<Address> {
        let mut deps: Vec<Address> = self
            .attributes
            .values()
            .flat_map(|v| v.references())
            .map(|r| r.address.clone())
            // Another stack's apply tells it; this plan cannot wait for it.
            .filter(|address| !address.is_other_stack())
            .chain(self.depends_on.iter().cloned())
            .collect();
        deps.sort();
        deps.dedup();
        deps
    }
}

/// Where a live resource is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Usable.
    Ready,
    /// Being created (a NAT gateway that is `pending`).
    Pending,
    /// Being deleted; gone soon.
    Deleting,
    /// AWS gave up on it (`CREATE_FAILED`, `DELETE_FAILED`): never waited on;
    /// the plan replaces it. Its `health` attribute says what AWS reported.
    Failed,
}

/// The attribute that holds what AWS reports of a resource's health (a
/// failed or `DEGRADED` node group's or add-on's issues), shown in the plan.
pub const HEALTH: &str = "health";

/// A resource as it exists in the account, carrying the stack's mark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveResource {
    pub address: Address,
    pub kind: String,
    /// The AWS id (vpc-..., subnet-..., eipalloc-...).
    pub id: String,
    pub attributes: Attributes,
    pub status: Status,
}

impl LiveResource {
    /// What other resources may hold to refer to this one: its id, its ARN
    /// and, for a cluster, its security group's id.
    pub fn identifiers(&self) -> Vec<&str> {
        let mut ids = vec![self.id.as_str()];
        // A cluster is known by its security group's id too: EKS deletes that
        // group with the cluster, which AWS refuses while another group's
        // rule names it, so such a group lets go of it first.
        for name in ["arn", "security_group_id"] {
            ids.extend(
                self.attributes
                    .get(name)
                    .and_then(Value::as_str)
                    .filter(|id| !id.is_empty()),
            );
        }
        ids
    }

    /// Whether this resource's attributes (other than tags) hold one of `other`'s identifiers.
    /// What AWS reports of its health when failed or degraded (`HEALTH`).
    pub fn health(&self) -> Option<&str> {
        self.attributes.get(HEALTH).and_then(Value::as_str)
    }

    pub fn refers_to(&self, other: &LiveResource) -> bool {
        self.id != other.id
            && other.identifiers().iter().any(|needle| {
                self.attributes
                    .iter()
                    .any(|(name, value)| name != "tags" && value.mentions(needle))
            })
    }

    /// Resolves `name` including the implicit `id`.
    pub fn value_of(&self, name: &str) -> Option<Value> {
        if name == "id" {
            Some(Value::String(self.id.clone()))
        } else {
            self.attributes.get(name).cloned()
        }
    }
}

/// The strings of a list attribute (none when it is absent).
pub fn string_list(attributes: &Attributes, name: &str) -> Vec<String> {
    attributes
        .get(name)
        .and_then(Value::as_list)
        .map(|l| {
            l.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// A map attribute of strings (empty when it is absent).
pub fn string_map(attributes: &Attributes, name: &str) -> BTreeMap<String, String> {
    attributes
        .get(name)
        .and_then(Value::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

/// The ownership and name tags every created resource carries, plus the stack's tags.
pub fn ownership_tags(
    stack: &str,
    address: &Address,
    name: &str,
    user_tags: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let mut tags = user_tags.clone();
    tags.insert("Name".into(), name.into());
    tags.insert(STACK_TAG.into(), stack.into());
    tags.insert(ADDRESS_TAG.into(), address.0.clone());
    tags
}

/// JSON with every object's keys in order, whichever way serde_json is built
/// (a dependency may turn on its `preserve_order`): stable text for plans and
/// policy documents.
pub fn sorted_json(value: serde_json::Value) -> serde_json::Value {
    match value {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<(String, serde_json::Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sorted_json(v)))
                    .collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(sorted_json).collect())
        }
        other => other,
    }
}
