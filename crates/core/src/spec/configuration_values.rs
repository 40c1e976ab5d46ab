//! `cluster.addons[].configurationValues`: an add-on's configuration, written
//! as a YAML mapping or as the JSON string AWS takes. It keeps the spanned
//! tree it was read from, so that a value the add-on version's schema
//! (DescribeAddonConfiguration) rejects is reported at the offending key's
//! `file:line:column` (see `preflight`); a JSON string is parsed into a tree
//! whose nodes all point at the string.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};

use super::located::Located;
use super::tree::{Node, NodeValue};
use crate::diagnostics::Span;

/// An add-on's configuration values, with where each was written.
#[derive(Debug, Clone)]
pub struct ConfigurationValues {
    /// The values as a spanned tree (a mapping once the spec is valid).
    pub(crate) tree: Node,
}

impl ConfigurationValues {
    /// Why the values are not a JSON object, when they are not (a string
    /// that is not JSON, or JSON of another shape).
    pub fn problem(&self) -> Option<String> {
        match &self.tree.value {
            NodeValue::Mapping(_) => None,
            NodeValue::String(text) => {
                Some(match serde_json::from_str::<serde_json::Value>(text) {
                    Ok(_) => "expected a JSON object".to_string(),
                    Err(e) => format!("not valid JSON: {e}"),
                })
            }
            other => Some(format!(
                "expected a mapping or a JSON string, found {}",
                other.kind_name()
            )),
        }
    }

    /// Where the values are written (the mapping, or the JSON string).
    pub fn span(&self) -> Span {
        self.tree.span
    }

    /// The values checked against an add-on version's JSON schema: every
    /// problem at the offending key's place, named from `path`.
    pub fn check_against(
        &self,
        schema: &serde_json::Value,
        file: &crate::diagnostics::SourceFile,
        path: &str,
    ) -> crate::diagnostics::Diagnostics {
        super::schema_check::SchemaChecker::check_at(schema, file, &self.tree, path)
    }

    /// The values as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        node_json(&self.tree)
    }

    /// The JSON string AWS takes, canonical (keys sorted, no spaces), so the
    /// same values always read the same.
    pub fn canonical_json(&self) -> String {
        canonical_json(&self.to_json())
    }
}

impl PartialEq for ConfigurationValues {
    fn eq(&self, other: &Self) -> bool {
        self.to_json() == other.to_json()
    }
}

/// A JSON value as text with its keys sorted (serde_json's maps are ordered
/// by key) and no spaces.
pub fn canonical_json(value: &serde_json::Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn node_json(node: &Node) -> serde_json::Value {
    use serde_json::Value as Json;
    match &node.value {
        NodeValue::Null => Json::Null,
        NodeValue::Bool(b) => Json::Bool(*b),
        NodeValue::Integer(i) => i64::try_from(*i)
            .map(Json::from)
            .or_else(|_| u64::try_from(*i).map(Json::from))
            .unwrap_or_else(|_| Json::from(*i as f64)),
        NodeValue::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        NodeValue::String(s) => Json::String(s.clone()),
        NodeValue::Sequence(items) => Json::Array(items.iter().map(node_json).collect()),
        NodeValue::Mapping(entries) => Json::Object(
            entries
                .iter()
                .map(|(key, value)| {
                    let key = match &key.value {
                        NodeValue::String(s) => s.clone(),
                        other => node_json(&Node {
                            value: other.clone(),
                            span: key.span,
                        })
                        .to_string(),
                    };
                    (key, node_json(value))
                })
                .collect(),
        ),
    }
}

/// A JSON value as a tree whose every node is at `span` (the JSON string's).
fn json_node(value: &serde_json::Value, span: Span) -> Node {
    use serde_json::Value as Json;
    let value = match value {
        Json::Null => NodeValue::Null,
        Json::Bool(b) => NodeValue::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => NodeValue::Integer(i.into()),
            None => match n.as_u64() {
                Some(u) => NodeValue::Integer(u.into()),
                None => NodeValue::Float(n.as_f64().unwrap_or_default()),
            },
        },
        Json::String(s) => NodeValue::String(s.clone()),
        Json::Array(items) => {
            NodeValue::Sequence(items.iter().map(|i| json_node(i, span)).collect())
        }
        Json::Object(entries) => NodeValue::Mapping(
            entries
                .iter()
                .map(|(k, v)| {
                    (
                        Node {
                            value: NodeValue::String(k.clone()),
                            span,
                        },
                        json_node(v, span),
                    )
                })
                .collect(),
        ),
    };
    Node { value, span }
}

/// A node read back from the spec's tree with its place (through
/// `Located`, which the tree answers with each node's span).
struct NodeRead(Node);

impl<'de> Deserialize<'de> for NodeRead {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let located = Located::<ValueRead>::deserialize(deserializer)?;
        Ok(NodeRead(Node {
            value: located.value.0,
            span: located.span,
        }))
    }
}

struct ValueRead(NodeValue);

impl<'de> Deserialize<'de> for ValueRead {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor).map(ValueRead)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = NodeValue;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a mapping or a JSON string")
    }
    fn visit_unit<E: de::Error>(self) -> Result<NodeValue, E> {
        Ok(NodeValue::Null)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<NodeValue, E> {
        Ok(NodeValue::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<NodeValue, E> {
        Ok(NodeValue::Integer(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<NodeValue, E> {
        Ok(NodeValue::Integer(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<NodeValue, E> {
        Ok(NodeValue::Integer(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<NodeValue, E> {
        Ok(NodeValue::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<NodeValue, E> {
        Ok(NodeValue::String(v.to_owned()))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NodeValue, A::Error> {
        let mut items = Vec::new();
        while let Some(NodeRead(item)) = seq.next_element::<NodeRead>()? {
            items.push(item);
        }
        Ok(NodeValue::Sequence(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NodeValue, A::Error> {
        let mut entries = Vec::new();
        while let Some(NodeRead(key)) = map.next_key::<NodeRead>()? {
            let NodeRead(value) = map.next_value::<NodeRead>()?;
            entries.push((key, value));
        }
        Ok(NodeValue::Mapping(entries))
    }
}

impl<'de> Deserialize<'de> for ConfigurationValues {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let NodeRead(node) = NodeRead::deserialize(deserializer)?;
        // The JSON string AWS takes is read into a tree at the string's place;
        // a string that is not a JSON object stays a string, which
        // `validate` reports where it is written.
        let tree = match &node.value {
            NodeValue::String(text) => match serde_json::from_str::<serde_json::Value>(text) {
                Ok(parsed) if parsed.is_object() => json_node(&parsed, node.span),
                _ => node,
            },
            _ => node,
        };
        Ok(ConfigurationValues { tree })
    }
}

impl Serialize for ConfigurationValues {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl JsonSchema for ConfigurationValues {
    fn schema_name() -> Cow<'static, str> {
        "ConfigurationValues".into()
    }
    fn json_schema(_generator: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The add-on's configuration: a mapping, or the JSON string AWS takes. Checked at plan time against the add-on version's schema (DescribeAddonConfiguration).",
            "anyOf": [
                { "type": "object" },
                { "type": "string" }
            ]
        })
    }
}
