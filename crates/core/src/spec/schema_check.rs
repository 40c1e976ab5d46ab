//! Checks a spanned YAML tree against the spec's JSON Schema and collects every
//! structural problem at once: unknown fields (with "did you mean"), missing
//! fields, wrong types, values outside an enumeration, numbers out of range.
//!
//! The schema is generated from the spec types, so the types stay the single
//! source of truth; this walker understands the subset schemars emits.

use serde_json::Value;

use super::tree::{Node, NodeValue};
use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile};
use crate::suggest::did_you_mean;

pub struct SchemaChecker<'a> {
    root: &'a Value,
    file: &'a SourceFile,
    diagnostics: Diagnostics,
}

impl<'a> SchemaChecker<'a> {
    pub fn check(root: &'a Value, file: &'a SourceFile, node: &Node) -> Diagnostics {
        Self::check_at(root, file, node, "")
    }

    /// Checks `node`, found at `path` in the spec, against the schema `root`
    /// (an add-on's configuration schema: see `ConfigurationValues`).
    pub fn check_at(root: &'a Value, file: &'a SourceFile, node: &Node, path: &str) -> Diagnostics {
        let mut checker = Self {
            root,
            file,
            diagnostics: Diagnostics::new(),
        };
        checker.check_node(root, node, path);
        checker.diagnostics
    }

    fn resolve(&self, schema: &'a Value) -> &'a Value {
        let mut current = schema;
        // Bounded: a $ref chain never needs more than a few hops.
        for _ in 0..16 {
            match current.get("$ref").and_then(Value::as_str) {
                Some(reference) => {
                    let name = reference.rsplit('/').next().unwrap_or_default();
                    match self
                        .root
                        .get("definitions")
                        .or_else(|| self.root.get("$defs"))
                        .and_then(|d| d.get(name))
                    {
                        Some(target) => current = target,
                        None => return &Value::Bool(true),
                    }
                }
                None => return current,
            }
        }
        current
    }

    fn error(&mut self, node: &Node, message: String, help: Option<String>) {
        let mut diagnostic = Diagnostic::error(message).at(self.file, node.span);
        if let Some(help) = help {
            diagnostic = diagnostic.with_help(help);
        }
        self.diagnostics.push(diagnostic);
    }

    /// Checks `node` against `schema`, collecting into `self.diagnostics`.
    fn check_node(&mut self, schema: &'a Value, node: &Node, path: &str) {
        let schema = self.resolve(schema);
        let Some(object) = schema.as_object() else {
            // `true` accepts anything; `false` accepts nothing.
            if schema == &Value::Bool(false) {
                self.error(
                    node,
                    format!("{}: no value is allowed here", display_path(path)),
                    None,
                );
            }
            return;
        };

        if let Some(alternatives) = object
            .get("anyOf")
            .or_else(|| object.get("oneOf"))
            .and_then(Value::as_array)
        {
            self.check_alternatives(alternatives, node, path);
            return;
        }

        if let Some(types) = object.get("type") {
            let allowed: Vec<&str> = match types {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            if !allowed.iter().any(|t| type_matches(t, &node.value)) {
                let expected = allowed
                    .iter()
                    .filter(|t| **t != "null")
                    .map(|t| type_noun(t))
                    .collect::<Vec<_>>()
                    .join(" or ");
                let help = if allowed.contains(&"string")
                    && matches!(
                        node.value,
                        NodeValue::Integer(_) | NodeValue::Float(_) | NodeValue::Bool(_)
                    ) {
                    Some(format!("quote it: \"{}\"", self.raw_text(node)))
                } else {
                    None
                };
                self.error(
                    node,
                    format!(
                        "{}: expected {expected}, found {}",
                        display_path(path),
                        node.value.kind_name()
                    ),
                    help,
                );
                return;
            }
        }

        if let Some(choices) = object.get("enum").and_then(Value::as_array) {
            self.check_enum(choices, node, path);
            return;
        }
        if let Some(constant) = object.get("const") {
            self.check_enum(std::slice::from_ref(constant), node, path);
            return;
        }

        match &node.value {
            NodeValue::Mapping(entries) => self.check_mapping(object, entries, node, path),
            NodeValue::Sequence(items) => {
                if let Some(item_schema) = object.get("items") {
                    for (index, item) in items.iter().enumerate() {
                        self.check_node(item_schema, item, &format!("{path}[{index}]"));
                    }
                }
            }
            NodeValue::Integer(n) => {
                let minimum = object.get("minimum").and_then(Value::as_f64);
                let maximum = object.get("maximum").and_then(Value::as_f64);
                let n = *n as f64;
                if minimum.is_some_and(|m| n < m) || maximum.is_some_and(|m| n > m) {
                    self.error(
                        node,
                        format!(
                            "{}: {} is out of range",
                            display_path(path),
                            self.raw_text(node)
                        ),
                        Some(format!(
                            "a whole number from {} to {}",
                            minimum.map_or("-".into(), |m| m.to_string()),
                            maximum.map_or("any".into(), |m| m.to_string())
                        )),
                    );
                }
            }
            _ => {}
        }
    }

    fn check_alternatives(&mut self, alternatives: &'a [Value], node: &Node, path: &str) {
        let mut best: Option<Diagnostics> = None;
        for alternative in alternatives {
            let mut trial = SchemaChecker {
                root: self.root,
                file: self.file,
                diagnostics: Diagnostics::new(),
            };
            trial.check_node(alternative, node, path);
            if trial.diagnostics.is_empty() {
                return;
            }
            // Prefer the alternative of the same shape as the node: its errors are the useful ones.
            let same_shape = self.shape_matches(alternative, &node.value);
            if same_shape
                && best
                    .as_ref()
                    .is_none_or(|b| b.len() >= trial.diagnostics.len())
            {
                best = Some(trial.diagnostics);
            }
        }
        match best {
            Some(diagnostics) => self.diagnostics.extend(diagnostics),
            None => {
                let expected: Vec<String> = alternatives
                    .iter()
                    .filter_map(|a| self.describe(a))
                    .collect();
                self.error(
                    node,
                    format!(
                        "{}: expected {}, found {}",
                        display_path(path),
                        expected.join(" or "),
                        node.value.kind_name()
                    ),
                    None,
                );
            }
        }
    }

    fn shape_matches(&self, schema: &'a Value, value: &NodeValue) -> bool {
        let schema = self.resolve(schema);
        match schema.get("type") {
            Some(Value::String(t)) => type_matches(t, value),
            Some(Value::Array(ts)) => ts
                .iter()
                .filter_map(Value::as_str)
                .any(|t| type_matches(t, value)),
            _ => schema.get("enum").is_some() && matches!(value, NodeValue::String(_)),
        }
    }

    fn describe(&self, schema: &'a Value) -> Option<String> {
        let schema = self.resolve(schema);
        match schema.get("type") {
            Some(Value::String(t)) if t != "null" => Some(type_noun(t).to_string()),
            _ => None,
        }
    }

    fn check_enum(&mut self, choices: &[Value], node: &Node, path: &str) {
        let matches = choices.iter().any(|choice| match (&node.value, choice) {
            (NodeValue::String(s), Value::String(c)) => s == c,
            (NodeValue::Null, Value::Null) => true,
            _ => false,
        });
        if matches {
            return;
        }
        let names: Vec<&str> = choices.iter().filter_map(Value::as_str).collect();
        let found = self.raw_text(node);
        let mut help = format!("expected one of: {}", names.join(", "));
        if let Some(close) = did_you_mean(&found, names.iter().copied()) {
            help = format!("did you mean `{close}`? {help}");
        }
        self.error(
            node,
            format!("{}: unknown value `{found}`", display_path(path)),
            Some(help),
        );
    }

    fn check_mapping(
        &mut self,
        object: &'a serde_json::Map<String, Value>,
        entries: &[(Node, Node)],
        node: &Node,
        path: &str,
    ) {
        let properties = object.get("properties").and_then(Value::as_object);
        let additional = object.get("additionalProperties");
        for (key, value) in entries {
            let key_text = match &key.value {
                NodeValue::String(s) => s.clone(),
                _ => self.raw_text(key),
            };
            let child_path = if path.is_empty() {
                key_text.clone()
            } else {
                format!("{path}.{key_text}")
            };
            if let Some(property) = properties.and_then(|p| p.get(&key_text)) {
                self.check_node(property, value, &child_path);
                continue;
            }
            match additional {
                Some(Value::Bool(false)) => {
                    let valid: Vec<&str> = properties
                        .map(|p| p.keys().map(String::as_str).collect())
                        .unwrap_or_default();
                    let mut help = format!("valid fields here: {}", valid.join(", "));
                    if let Some(close) = did_you_mean(&key_text, valid.iter().copied()) {
                        help = format!("did you mean `{close}`? {help}");
                    }
                    self.error(
                        key,
                        format!("unknown field `{key_text}` in {}", display_path(path)),
                        Some(help),
                    );
                }
                Some(schema @ Value::Object(_)) => self.check_node(schema, value, &child_path),
                _ => {}
            }
        }
        if let Some(required) = object.get("required").and_then(Value::as_array) {
            for name in required.iter().filter_map(Value::as_str) {
                let present = entries
                    .iter()
                    .any(|(k, _)| matches!(&k.value, NodeValue::String(s) if s == name));
                if !present {
                    self.error(
                        node,
                        format!("missing field `{name}` in {}", display_path(path)),
                        None,
                    );
                }
            }
        }
    }

    /// The text exactly as the user wrote it (so `1.30` is not shown as `1.3`).
    fn raw_text(&self, node: &Node) -> String {
        let text = &self.file.holding(&node.span).text;
        let end = node.span.offset.saturating_add(node.span.len);
        if node.span.len > 0
            && end <= text.len()
            && text.is_char_boundary(node.span.offset)
            && text.is_char_boundary(end)
        {
            return text[node.span.offset..end].trim().to_string();
        }
        match &node.value {
            NodeValue::String(s) => s.clone(),
            NodeValue::Integer(n) => n.to_string(),
            NodeValue::Float(f) => f.to_string(),
            NodeValue::Bool(b) => b.to_string(),
            NodeValue::Null => "null".into(),
            other => other.kind_name().into(),
        }
    }
}

fn display_path(path: &str) -> &str {
    if path.is_empty() { "the spec" } else { path }
}

fn type_matches(schema_type: &str, value: &NodeValue) -> bool {
    matches!(
        (schema_type, value),
        ("null", NodeValue::Null)
            | ("boolean", NodeValue::Bool(_))
            | ("integer", NodeValue::Integer(_))
            | ("number", NodeValue::Integer(_) | NodeValue::Float(_))
            | ("string", NodeValue::String(_))
            | ("array", NodeValue::Sequence(_))
            | ("object", NodeValue::Mapping(_))
    )
}

fn type_noun(schema_type: &str) -> &'static str {
    match schema_type {
        "null" => "nothing",
        "boolean" => "true or false",
        "integer" => "a whole number",
        "number" => "a number",
        "string" => "a string",
        "array" => "a list",
        "object" => "a mapping",
        _ => "a value",
    }
}
