//! `Located<T>`: a spec value together with where it was written, so that
//! checks made after parsing can still point at `file:line:column`.

use std::borrow::Cow;
use std::ops::Deref;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::tree_de::{LOCATED, LOCATED_FIELDS};

use crate::diagnostics::Span;

#[derive(Debug, Clone)]
pub struct Located<T> {
    pub value: T,
    pub span: Span,
}

impl<T> Located<T> {
    pub fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }
}

impl<T> Deref for Located<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: PartialEq> PartialEq for Located<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

pub(crate) fn span_of(location: &serde_saphyr::Location) -> Span {
    let span = location.span();
    Span {
        offset: span.byte_offset().unwrap_or(0) as usize,
        len: span.byte_len().unwrap_or(0) as usize,
        line: location.line() as usize,
        column: location.column() as usize,
        source: 0,
    }
}

/// Read through the spanned tree (`tree_de`), which answers the `LOCATED`
/// struct with the node's place and then its value.
impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LocatedVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for LocatedVisitor<T> {
            type Value = Located<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a value with its location")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Located<T>, A::Error> {
                let mut span = Span::default();
                let mut value = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key == "span" {
                        let [offset, len, line, column, source] = map.next_value::<[u64; 5]>()?;
                        span = Span {
                            offset: offset as usize,
                            len: len as usize,
                            line: line as usize,
                            column: column as usize,
                            source: source as usize,
                        };
                    } else {
                        value = Some(map.next_value::<T>()?);
                    }
                }
                let value = value
                    .ok_or_else(|| serde::de::Error::custom("a located value without its value"))?;
                Ok(Located { value, span })
            }
        }
        deserializer.deserialize_struct(
            LOCATED,
            LOCATED_FIELDS,
            LocatedVisitor(std::marker::PhantomData),
        )
    }
}

impl<T: Serialize> Serialize for Located<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(serializer)
    }
}

/// The schema of a located value is the schema of the value.
impl<T: JsonSchema> JsonSchema for Located<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

impl<T: Default> Default for Located<T> {
    fn default() -> Self {
        Self {
            value: T::default(),
            span: Span::default(),
        }
    }
}
