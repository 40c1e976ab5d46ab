//! A small block-style YAML writer for the specs the importers write: keys in
//! the order the spec documents them, and comments, which a serializer would
//! not keep. Strings are written plain only when YAML reads them back as the
//! same string; otherwise double-quoted with JSON's escapes (valid YAML).

use std::fmt::Write;

/// A YAML value with its entries in writing order.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Str(String),
    Int(i64),
    Bool(bool),
    Map(Vec<Entry>),
    /// Items, each with an optional comment line above it.
    List(Vec<(Option<String>, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub value: Node,
}

impl Node {
    pub fn str(s: impl Into<String>) -> Self {
        Node::Str(s.into())
    }

    pub fn strings<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Self {
        Node::List(
            items
                .into_iter()
                .map(|s| (None, Node::str(s.as_ref())))
                .collect(),
        )
    }

    pub fn list(items: impl IntoIterator<Item = Node>) -> Self {
        Node::List(items.into_iter().map(|n| (None, n)).collect())
    }

    pub fn is_empty_collection(&self) -> bool {
        match self {
            Node::Map(entries) => entries.is_empty(),
            Node::List(items) => items.is_empty(),
            _ => false,
        }
    }

    /// A JSON value (an inline policy document) as YAML.
    pub fn from_json(value: &serde_json::Value) -> Self {
        match value {
            serde_json::Value::Null => Node::str(""),
            serde_json::Value::Bool(b) => Node::Bool(*b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Node::Int(i),
                None => Node::Str(n.to_string()),
            },
            serde_json::Value::String(s) => Node::str(s.clone()),
            serde_json::Value::Array(items) => Node::list(items.iter().map(Node::from_json)),
            serde_json::Value::Object(map) => Node::Map(
                map.iter()
                    .map(|(k, v)| Entry {
                        key: k.clone(),
                        value: Node::from_json(v),
                    })
                    .collect(),
            ),
        }
    }
}

/// A map built entry by entry.
#[derive(Debug, Default)]
pub struct MapBuilder(Vec<Entry>);

impl MapBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn put(&mut self, key: &str, value: Node) -> &mut Self {
        self.0.push(Entry {
            key: key.into(),
            value,
        });
        self
    }

    /// Adds the entry unless the value is an empty list or map.
    pub fn put_nonempty(&mut self, key: &str, value: Node) -> &mut Self {
        if !value.is_empty_collection() {
            self.put(key, value);
        }
        self
    }

    pub fn put_opt(&mut self, key: &str, value: Option<Node>) -> &mut Self {
        if let Some(value) = value {
            self.put(key, value);
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn build(self) -> Node {
        Node::Map(self.0)
    }
}

/// The document: the top-level map's entries, in order.
pub fn write(root: &[Entry]) -> String {
    let mut out = String::new();
    write_entries(&mut out, root, 0);
    out
}

fn write_entries(out: &mut String, entries: &[Entry], indent: usize) {
    for (index, entry) in entries.iter().enumerate() {
        if index > 0 || indent > 0 {
            out.push_str(&" ".repeat(indent));
        }
        write_entry(out, entry, indent);
    }
}

/// One `key: value`, the key already indented by the caller.
fn write_entry(out: &mut String, entry: &Entry, indent: usize) {
    out.push_str(&scalar(&entry.key));
    out.push(':');
    match &entry.value {
        Node::Map(entries) if !entries.is_empty() => {
            out.push('\n');
            write_entries(out, entries, indent + 2);
        }
        Node::List(items) if !items.is_empty() => {
            out.push('\n');
            write_items(out, items, indent + 2);
        }
        leaf => {
            out.push(' ');
            out.push_str(&leaf_text(leaf));
            out.push('\n');
        }
    }
}

fn write_items(out: &mut String, items: &[(Option<String>, Node)], indent: usize) {
    let pad = " ".repeat(indent);
    for (comment, item) in items {
        if let Some(comment) = comment {
            for line in comment.lines() {
                let _ = writeln!(out, "{pad}# {line}");
            }
        }
        out.push_str(&pad);
        out.push_str("- ");
        match item {
            Node::Map(entries) if !entries.is_empty() => {
                write_entry(out, &entries[0], indent + 2);
                for entry in &entries[1..] {
                    out.push_str(&" ".repeat(indent + 2));
                    write_entry(out, entry, indent + 2);
                }
            }
            Node::List(inner) if !inner.is_empty() => {
                out.push('\n');
                write_items(out, inner, indent + 2);
            }
            leaf => {
                out.push_str(&leaf_text(leaf));
                out.push('\n');
            }
        }
    }
}

fn leaf_text(node: &Node) -> String {
    match node {
        Node::Str(s) => scalar(s),
        Node::Int(i) => i.to_string(),
        Node::Bool(b) => b.to_string(),
        Node::Map(_) => "{}".into(),
        Node::List(_) => "[]".into(),
    }
}

/// A string as YAML reads it back: plain when that is unambiguous, quoted otherwise.
pub fn scalar(s: &str) -> String {
    if is_plain(s) {
        s.to_string()
    } else {
        serde_json::Value::String(s.to_string()).to_string()
    }
}

fn is_plain(s: &str) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if !(first.is_ascii_alphanumeric() || first == '/') {
        return false;
    }
    if !s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._/@=+-".contains(c))
    {
        return false;
    }
    // What YAML would read as a number, a date or a boolean.
    if s.chars()
        .all(|c| c.is_ascii_digit() || "._+-eE".contains(c))
    {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    if lower.starts_with("0x") || lower.starts_with("0o") || lower.starts_with("0b") {
        return false;
    }
    !matches!(
        lower.as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "null" | "nan" | "inf"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_yaml_would_read_as_something_else() {
        assert_eq!(scalar("vpc-0abc"), "vpc-0abc");
        assert_eq!(scalar("10.0.0.0/16"), "10.0.0.0/16");
        assert_eq!(scalar("1.31"), "\"1.31\"");
        assert_eq!(scalar("2024-01-01"), "\"2024-01-01\"");
        assert_eq!(scalar("yes"), "\"yes\"");
        assert_eq!(scalar("*"), "\"*\"");
        assert_eq!(scalar("arn:aws:iam::1:role/x"), "\"arn:aws:iam::1:role/x\"");
        assert_eq!(scalar(""), "\"\"");
        assert_eq!(scalar("0x1f"), "\"0x1f\"");
    }

    #[test]
    fn writes_nested_maps_and_lists_in_block_style() {
        let mut inner = MapBuilder::new();
        inner
            .put("name", Node::str("web"))
            .put("port", Node::Int(80));
        let mut root = MapBuilder::new();
        root.put("stack", Node::str("prd"))
            .put(
                "groups",
                Node::List(vec![(Some("from x".into()), inner.build())]),
            )
            .put("empty", Node::list([]))
            .put("zones", Node::strings(["a", "b"]));
        let Node::Map(entries) = root.build() else {
            unreachable!()
        };
        assert_eq!(
            write(&entries),
            "stack: prd\ngroups:\n  # from x\n  - name: web\n    port: 80\nempty: []\nzones:\n  - a\n  - b\n"
        );
    }
}
