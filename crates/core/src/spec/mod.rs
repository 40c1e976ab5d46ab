//! The stack spec: types, reading YAML with locations, schema and semantic checks.
//!
//! Pure: reads text given to it, does no AWS calls. `load` is the entry point.

mod configuration_values;
mod extends;
mod located;
mod model;
pub mod references;
mod registries;
mod schema_check;
mod security_groups;
mod storage;
mod tree;
mod tree_de;
mod validate;

use std::path::Path;

pub use configuration_values::{ConfigurationValues, canonical_json};
pub use located::Located;
pub use model::*;
pub use registries::*;
pub use security_groups::*;
pub use storage::*;
pub use validate::{
    ADDRESS_OUTPUTS, RETENTION_DAYS, availability_zones, is_valid_stack_name, nat_mode,
};

use serde::Deserialize;

use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile};

/// A spec that parsed and validated, with its warnings and its source.
#[derive(Debug, Clone)]
pub struct LoadedSpec {
    pub spec: Spec,
    pub file: SourceFile,
    pub warnings: Diagnostics,
}

/// The JSON Schema of the spec (draft-07, which editors' YAML language servers use).
pub fn json_schema() -> serde_json::Value {
    let generator = schemars::generate::SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<Spec>();
    serde_json::to_value(schema).unwrap_or_default()
}

/// Reads and checks a spec file.
pub fn load(path: &Path) -> Result<LoadedSpec, Diagnostics> {
    let display = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        let mut d = Diagnostics::new();
        d.push(Diagnostic::error(format!(
            "{display}: cannot read the spec: {e}"
        )));
        d
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let mut d = Diagnostics::new();
        d.push(Diagnostic::error(format!(
            "{display}: the spec is not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        )));
        d
    })?;
    parse(SourceFile::new(display, text))
}

/// Parses and checks spec text: structure against the schema first (every
/// problem at once), then the typed read, then the semantic rules.
pub fn parse(file: SourceFile) -> Result<LoadedSpec, Diagnostics> {
    let mut diagnostics = Diagnostics::new();
    let tree = read_yaml(&file)?;
    let (file, tree) = extends::resolve(file, tree, read_yaml)?;
    let schema = json_schema();
    let structural = schema_check::SchemaChecker::check(&schema, &file, &tree);
    // Read what the schema check accepted, so the semantic rules can report
    // their problems in the same run; if even that cannot be read, the
    // structural problems are the report.
    let rejected: Vec<_> = structural.errors().filter_map(|d| d.span).collect();
    let readable = tree_de::prune(&tree, &rejected);
    let spec = match Spec::deserialize(tree_de::NodeDeserializer(&readable)) {
        Ok(spec) => spec,
        Err(_) if structural.has_errors() => return Err(structural.sorted()),
        Err(e) => {
            let d = Diagnostic::error(format!("invalid spec: {}", e.message));
            diagnostics.push(match e.span {
                Some(span) => d.at(&file, span),
                None => d.in_file(&file),
            });
            return Err(diagnostics);
        }
    };
    let mut checked = validate::validate(&spec, &file);
    checked.extend(structural);
    let checked = checked.sorted();
    if checked.has_errors() {
        return Err(checked);
    }
    Ok(LoadedSpec {
        spec,
        file,
        warnings: checked,
    })
}

/// The base file a spec file names in `extends`, if it names one (read
/// without checking the rest of the file).
pub fn extends_target(path: &Path) -> Option<std::path::PathBuf> {
    let text = std::fs::read_to_string(path).ok()?;
    let tree = read_yaml(&SourceFile::new(path.display().to_string(), text)).ok()?;
    let (relative, _) = extends::extends_of(&tree)?;
    Some(path.parent().unwrap_or(Path::new("")).join(relative))
}

fn read_yaml(file: &SourceFile) -> Result<tree::Node, Diagnostics> {
    serde_saphyr::from_str(&file.text).map_err(|e| {
        let mut diagnostics = Diagnostics::new();
        diagnostics.push(yaml_error(file, &e));
        diagnostics
    })
}

fn yaml_error(file: &SourceFile, error: &serde_saphyr::Error) -> Diagnostic {
    // The library's message repeats the location and a snippet; keep its first line.
    let message = error.to_string();
    let first = message.lines().next().unwrap_or("invalid YAML").trim();
    // The location is shown on its own; the library's advice about its options is not for users.
    let first = first.strip_prefix("error: ").unwrap_or(first);
    let first = match first.split_once(": ") {
        Some((location, rest)) if location.starts_with("line ") => rest,
        _ => first,
    };
    let first = first
        .split(", set DuplicateKeyPolicy")
        .next()
        .unwrap_or(first)
        .to_string();
    let d = Diagnostic::error(format!("invalid YAML: {first}"));
    match error.location() {
        Some(location) => d.at(file, located::span_of(&location)),
        None => d.in_file(file),
    }
}
