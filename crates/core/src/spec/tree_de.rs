//! Typed reading of the spanned tree: a serde `Deserializer` over `Node`, so
//! the spec types are filled from the tree (after the schema check, and after
//! pruning what the check rejected), and `Located<T>` gets each value's place.

use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, IntoDeserializer, MapAccess, SeqAccess,
    VariantAccess, Visitor,
};

use super::tree::{Node, NodeValue};
use crate::diagnostics::Span;

/// The struct name by which `Located<T>` asks for a value and its place.
pub(crate) const LOCATED: &str = "$eksform::Located";
pub(crate) const LOCATED_FIELDS: &[&str] = &["span", "value"];

#[derive(Debug)]
pub struct TreeError {
    pub message: String,
    pub span: Option<Span>,
}

impl fmt::Display for TreeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TreeError {}

impl de::Error for TreeError {
    fn custom<T: fmt::Display>(message: T) -> Self {
        TreeError {
            message: message.to_string(),
            span: None,
        }
    }
}

fn at<T>(node: &Node, result: Result<T, TreeError>) -> Result<T, TreeError> {
    result.map_err(|mut e| {
        e.span.get_or_insert(node.span);
        e
    })
}

pub struct NodeDeserializer<'a>(pub &'a Node);

impl<'de> Deserializer<'de> for NodeDeserializer<'_> {
    type Error = TreeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        let node = self.0;
        let result = match &node.value {
            NodeValue::Null => visitor.visit_unit(),
            NodeValue::Bool(b) => visitor.visit_bool(*b),
            NodeValue::Integer(i) => match i64::try_from(*i) {
                Ok(i) => visitor.visit_i64(i),
                Err(_) => visitor.visit_i128(*i),
            },
            NodeValue::Float(f) => visitor.visit_f64(*f),
            NodeValue::String(s) => visitor.visit_str(s),
            NodeValue::Sequence(items) => visitor.visit_seq(Items(items.iter())),
            NodeValue::Mapping(entries) => visitor.visit_map(Entries {
                entries: entries.iter(),
                value: None,
            }),
        };
        at(node, result)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, TreeError> {
        match self.0.value {
            NodeValue::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        if name == LOCATED {
            return visitor.visit_map(LocatedAccess {
                node: self.0,
                step: 0,
            });
        }
        self.deserialize_any(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        let node = self.0;
        let result = match &node.value {
            NodeValue::String(s) => visitor.visit_enum(s.as_str().into_deserializer()),
            NodeValue::Mapping(entries) if entries.len() == 1 => {
                visitor.visit_enum(Variant(&entries[0].0, &entries[0].1))
            }
            other => Err(de::Error::custom(format!(
                "expected a name, found {}",
                other.kind_name()
            ))),
        };
        at(node, result)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map identifier ignored_any
    }
}

struct Items<'a>(std::slice::Iter<'a, Node>);

impl<'de> SeqAccess<'de> for Items<'_> {
    type Error = TreeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, TreeError> {
        self.0
            .next()
            .map(|n| seed.deserialize(NodeDeserializer(n)))
            .transpose()
    }
}

struct Entries<'a> {
    entries: std::slice::Iter<'a, (Node, Node)>,
    value: Option<&'a Node>,
}

impl<'de> MapAccess<'de> for Entries<'_> {
    type Error = TreeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, TreeError> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(NodeDeserializer(key)).map(Some)
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, TreeError> {
        let value = self
            .value
            .take()
            .ok_or_else(|| de::Error::custom("a value without a key"))?;
        seed.deserialize(NodeDeserializer(value))
    }
}

/// The map `Located<T>` reads: `span` (offset, length, line, column), then `value`.
struct LocatedAccess<'a> {
    node: &'a Node,
    step: u8,
}

impl<'de> MapAccess<'de> for LocatedAccess<'_> {
    type Error = TreeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, TreeError> {
        let key = match self.step {
            0 => "span",
            1 => "value",
            _ => return Ok(None),
        };
        seed.deserialize(key.into_deserializer()).map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, TreeError> {
        self.step += 1;
        if self.step == 1 {
            let s = self.node.span;
            let parts = [
                s.offset as u64,
                s.len as u64,
                s.line as u64,
                s.column as u64,
                s.source as u64,
            ];
            seed.deserialize(de::value::SeqDeserializer::new(parts.into_iter()))
        } else {
            seed.deserialize(NodeDeserializer(self.node))
        }
    }
}

struct Variant<'a>(&'a Node, &'a Node);

impl<'de, 'a> EnumAccess<'de> for Variant<'a> {
    type Error = TreeError;
    type Variant = NodeDeserializer<'a>;
    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), TreeError> {
        let name = seed.deserialize(NodeDeserializer(self.0))?;
        Ok((name, NodeDeserializer(self.1)))
    }
}

impl<'de> VariantAccess<'de> for NodeDeserializer<'_> {
    type Error = TreeError;
    fn unit_variant(self) -> Result<(), TreeError> {
        Ok(())
    }
    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, TreeError> {
        seed.deserialize(self)
    }
    fn tuple_variant<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        self.deserialize_any(visitor)
    }
    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, TreeError> {
        self.deserialize_any(visitor)
    }
}

/// The tree without the entries and items at `spans` (the places the schema
/// check rejected), so that the rest can still be read and checked.
pub fn prune(node: &Node, spans: &[Span]) -> Node {
    let rejected = |n: &Node| spans.contains(&n.span);
    let value = match &node.value {
        NodeValue::Mapping(entries) => NodeValue::Mapping(
            entries
                .iter()
                .filter(|(k, v)| !rejected(k) && !rejected(v))
                .map(|(k, v)| (k.clone(), prune(v, spans)))
                .collect(),
        ),
        NodeValue::Sequence(items) => NodeValue::Sequence(
            items
                .iter()
                .filter(|i| !rejected(i))
                .map(|i| prune(i, spans))
                .collect(),
        ),
        other => other.clone(),
    };
    Node {
        value,
        span: node.span,
    }
}
