//! Tag handling shared by the kinds: tags in the create call, tags as an
//! attribute, finding a resource's address from its ownership tags.
use std::collections::BTreeMap;

use crate::cloud::CloudError;
use crate::lower::{StackModel, resource_name};
use crate::model::{
    ADDRESS_TAG, Address, Attributes, LiveResource, STACK_TAG, Status, Value, ownership_tags,
};

/// The `tags` a resource the stack creates carries, named after its address
/// (`lower::resource_name`: `<stack>-<address>`): its mark, its `Name` and the
/// stack's tags (`model::ownership_tags`).
pub fn named_after_address(stack: &StackModel, address: &Address) -> Value {
    Value::string_map(&ownership_tags(
        &stack.stack,
        address,
        &resource_name(&stack.stack, address),
        &stack.tags,
    ))
}

/// The `tags` attribute as a plain map.
pub fn tags_of(attributes: &Attributes) -> BTreeMap<String, String> {
    crate::model::string_map(attributes, "tags")
}

/// Tags as the EKS APIs return them.
pub fn tags_from(
    tags: Option<&std::collections::HashMap<String, String>>,
) -> BTreeMap<String, String> {
    tags.map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default()
}

/// The stack a resource's tags name (empty when unmarked).
pub fn stack_of(attributes: &Attributes) -> String {
    tags_of(attributes)
        .get(STACK_TAG)
        .cloned()
        .unwrap_or_default()
}

/// The stack a resource's tags name (empty when unmarked).
pub fn stack_of_tags(tags: &BTreeMap<String, String>) -> String {
    tags.get(STACK_TAG).cloned().unwrap_or_default()
}

/// The stack name that stands for every stack: observing with it finds every
/// stack's resources at once, for plans of many stacks that share an account
/// and region (see `observe::Shared`).
pub const EVERY_STACK: &str = "*";

/// Whether a resource's stack tag marks it as one of `stack`'s
/// (`EVERY_STACK`: of any stack's).
pub fn marks_stack(tag: Option<&String>, stack: &str) -> bool {
    match tag {
        Some(tag) => stack == EVERY_STACK || tag == stack,
        None => false,
    }
}

/// A live resource from its id and tags, if it carries the stack's mark.
pub fn live(
    kind: &str,
    stack: &str,
    id: &str,
    tags: BTreeMap<String, String>,
    mut attributes: Attributes,
    status: Status,
) -> Option<LiveResource> {
    // Filter on the client side too: some list calls ignore tag filters.
    if !marks_stack(tags.get(STACK_TAG), stack) {
        return None;
    }
    let address = Address(tags.get(ADDRESS_TAG)?.clone());
    attributes.insert("tags".into(), Value::string_map(&tags));
    Some(LiveResource {
        address,
        kind: kind.into(),
        id: id.into(),
        attributes,
        status,
    })
}

/// The tags to set (new or changed) and the keys to remove, to go from the
/// live tags to the desired ones.
pub fn tag_changes(
    live: &Attributes,
    desired: &Attributes,
) -> (BTreeMap<String, String>, Vec<String>) {
    let before = tags_of(live);
    let after = tags_of(desired);
    let set = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let removed = before
        .keys()
        .filter(|k| !after.contains_key(*k))
        .cloned()
        .collect();
    (set, removed)
}

/// The attribute's string value, or an error naming what is missing.
pub fn required<'a>(attributes: &'a Attributes, name: &str) -> Result<&'a str, CloudError> {
    attributes.get(name).and_then(Value::as_str).ok_or_else(|| {
        CloudError::rejected(format!("internal: attribute `{name}` is not resolved"))
    })
}

/// Whether `desired` asks for a value of `name` different from `live`'s.
pub fn changed(live: &Attributes, desired: &Attributes, name: &str) -> bool {
    desired.get(name).is_some() && live.get(name) != desired.get(name)
}

/// The ownership mark alone, as tags: for resources that carry it somewhere
/// other than tags (a hosted zone's comment, a record's companion TXT record).
pub fn mark(stack: &str, address: &Address) -> BTreeMap<String, String> {
    BTreeMap::from([
        (STACK_TAG.to_string(), stack.to_string()),
        (ADDRESS_TAG.to_string(), address.0.clone()),
    ])
}

/// The mark as text: `eksform:stack=<stack> eksform:address=<address>`.
pub fn mark_text(stack: &str, address: &Address) -> String {
    format!("{STACK_TAG}={stack} {ADDRESS_TAG}={address}")
}

/// The stack and address a mark text names (quotes around it are ignored).
pub fn parse_mark(text: &str) -> Option<(String, Address)> {
    let text = text.trim().trim_matches('"');
    let mut stack = None;
    let mut address = None;
    for part in text.split_whitespace() {
        if let Some(value) = part.strip_prefix(&format!("{STACK_TAG}=")) {
            stack = Some(value.to_string());
        } else if let Some(value) = part.strip_prefix(&format!("{ADDRESS_TAG}=")) {
            address = Some(Address(value.to_string()));
        }
    }
    Some((stack?, address?))
}

/// Whether a resource of a global kind belongs to `region`: its mark names
/// it, or (made before marks named regions) names none.
pub fn in_region(live: &LiveResource, region: &str) -> bool {
    tags_of(&live.attributes)
        .get(crate::model::REGION_TAG)
        .is_none_or(|tag| tag == region)
}
