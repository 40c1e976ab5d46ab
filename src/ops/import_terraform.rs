//! `eksform import terraform`: a Terraform state file read and mapped
//! (`eksform_core::import::terraform`), the spec written with an `adopt:`
//! entry per resource, `removed.tf` and the `terraform state rm` commands for
//! what eksform takes over. No AWS call: the state says everything eksform
//! needs, and the plan that follows reads the account.

use std::path::{Path, PathBuf};

use eksform_core::diagnostics::{Diagnostics, SourceFile};
use eksform_core::import::{
    ImportError, Unmapped, removed_tf,
    terraform::{self, StateError},
    write_spec,
};
use eksform_core::spec;

/// Why an import produced nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportTerraformError {
    #[error("--stack: {0}")]
    StackName(ImportError),
    #[error("cannot read the state file {}: {source}", path.display())]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    State { path: PathBuf, source: StateError },
    #[error("{}: {source}", path.display())]
    Draft { path: PathBuf, source: ImportError },
    #[error(
        "refusing to overwrite {}: pass --force to replace {}",
        paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" and "),
        if paths.len() == 1 { "it" } else { "them" }
    )]
    WouldOverwrite { paths: Vec<PathBuf> },
    #[error("cannot write {}: {source}", path.display())]
    NotWritten {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// What an import of a state file made.
#[derive(Debug, Clone)]
pub struct TerraformImported {
    /// The spec's YAML.
    pub spec: String,
    /// The text of `removed.tf`.
    pub removed_tf: String,
    /// `terraform state rm '<address>'`, one per instance eksform takes over.
    pub state_rm: Vec<String>,
    /// What stays with Terraform, and why.
    pub unmapped: Vec<Unmapped>,
    /// How many resources the spec adopts.
    pub adopted: usize,
    /// What `eksform validate` will say of the spec, when it is not clean: a
    /// state that holds only part of an estate (a cluster whose VPC another
    /// configuration made) gives a spec to complete by hand.
    pub problems: Option<Diagnostics>,
}

/// Reads and maps a state file (see the module doc).
pub fn import_terraform(
    state: &Path,
    stack: &str,
) -> Result<TerraformImported, ImportTerraformError> {
    if !spec::is_valid_stack_name(stack) {
        return Err(ImportTerraformError::StackName(
            ImportError::InvalidStackName(stack.to_string()),
        ));
    }
    let text =
        std::fs::read_to_string(state).map_err(|source| ImportTerraformError::Unreadable {
            path: state.to_path_buf(),
            source,
        })?;
    let imported =
        terraform::import(&text, stack).map_err(|source| ImportTerraformError::State {
            path: state.to_path_buf(),
            source,
        })?;
    let spec = write_spec(&imported.draft).map_err(|source| ImportTerraformError::Draft {
        path: state.to_path_buf(),
        source,
    })?;
    let problems = spec::parse(SourceFile::new("the imported spec", spec.clone()))
        .err()
        .filter(|d| d.has_errors());
    Ok(TerraformImported {
        problems,
        spec,
        removed_tf: removed_tf::removed_blocks(&imported),
        state_rm: removed_tf::state_rm_commands(&imported),
        unmapped: imported.draft.unmapped.clone(),
        adopted: imported.draft.resources.len(),
    })
}

/// Where `removed.tf` goes: beside the spec.
pub fn removed_tf_path(spec: &Path) -> PathBuf {
    spec.with_file_name("removed.tf")
}

/// Writes the spec to `out` and `removed.tf` beside it. Existing files are
/// refused unless `force`: a spec someone edited, or a `removed.tf` of an
/// earlier import, is never replaced by mistake. Returns the paths written.
pub fn write_import(
    imported: &TerraformImported,
    out: &Path,
    force: bool,
) -> Result<Vec<PathBuf>, ImportTerraformError> {
    let removed = removed_tf_path(out);
    let files = [
        (out.to_path_buf(), &imported.spec),
        (removed, &imported.removed_tf),
    ];
    if !force {
        let existing: Vec<PathBuf> = files
            .iter()
            .map(|(path, _)| path.clone())
            .filter(|path| path.exists())
            .collect();
        if !existing.is_empty() {
            return Err(ImportTerraformError::WouldOverwrite { paths: existing });
        }
    }
    for (path, text) in &files {
        std::fs::write(path, text).map_err(|source| ImportTerraformError::NotWritten {
            path: path.clone(),
            source,
        })?;
    }
    Ok(files.into_iter().map(|(path, _)| path).collect())
}
