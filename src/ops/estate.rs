//! An estate: the stacks of several files (a directory) given to one command.
//! Owns reading and checking every file before anything is sent to AWS, the
//! order that lets each stack see the stacks it refers to, and the live
//! stacks that refer to one about to be destroyed.

use std::path::{Path, PathBuf};

use eksform_core::diagnostics::Diagnostics;
use eksform_core::estate;
use eksform_core::outputs;
use eksform_core::retry::RetryPolicy;

use super::{AwsAccess, OpsError, Stack, prepare, stack_files};

/// Stacks read and checked, with the order to plan or apply them in.
pub struct Estate {
    pub files: Vec<PathBuf>,
    pub stacks: Vec<Stack>,
    /// Indices into `files` and `stacks`: referenced stacks first.
    pub order: Vec<usize>,
}

impl Estate {
    /// The stack files among `paths` (see `stack_files`), every one read and
    /// checked (the problems of all of them at once), in reference order.
    /// No AWS calls.
    pub fn read(paths: &[PathBuf]) -> Result<Self, OpsError> {
        let files = stack_files(paths)?;
        let mut stacks = Vec::new();
        let mut problems = Diagnostics::new();
        for file in &files {
            match prepare(file) {
                Ok(stack) => stacks.push(stack),
                Err(OpsError::Spec(diagnostics)) => problems.extend(diagnostics),
                Err(other) => return Err(other),
            }
        }
        if problems.has_errors() {
            return Err(OpsError::Spec(problems));
        }
        refuse_one_stack_twice(&files, &stacks)?;
        let order = estate::order(&stacks.iter().map(|s| &s.model).collect::<Vec<_>>())
            .map_err(OpsError::Refused)?;
        Ok(Self {
            files,
            stacks,
            order,
        })
    }

    /// The files in the order their stacks are planned and applied.
    pub fn ordered_files(&self) -> Vec<&Path> {
        self.order
            .iter()
            .map(|&i| self.files[i].as_path())
            .collect()
    }
}

/// Two files of one stack name in one region would each plan to delete what
/// the other made: refused before anything is sent.
fn refuse_one_stack_twice(files: &[PathBuf], stacks: &[Stack]) -> Result<(), OpsError> {
    let mut seen = std::collections::BTreeMap::new();
    for (file, stack) in files.iter().zip(stacks) {
        let key = (stack.model.stack.as_str(), stack.model.region.as_str());
        if let Some(first) = seen.insert(key, file) {
            return Err(OpsError::Refused(format!(
                "stack `{}` in {} is in both {} and {}: each would delete what the other made; give one another `stack:` name",
                key.0,
                key.1,
                first.display(),
                file.display()
            )));
        }
    }
    Ok(())
}

/// A stack with live resources whose spec refers to another stack's outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referrer {
    pub stack: String,
    pub region: String,
    pub file: PathBuf,
}

/// What `live_referrers` found: the live stacks that refer to the one in
/// `file`, and the files beside it that could not be read to tell.
#[derive(Debug, Default)]
pub struct Referrers {
    pub live: Vec<Referrer>,
    pub unreadable: Vec<PathBuf>,
}

/// The stacks of the spec files beside `file` (its directory: the estate it
/// belongs to) that refer to its stack and have live resources. Destroying a
/// stack such a one refers to would leave it using outputs that are gone (an
/// endpoint admitting released NAT addresses).
pub async fn live_referrers(file: &Path, access: &AwsAccess) -> Result<Referrers, OpsError> {
    let target = prepare(file)?;
    let directory = match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let same_file =
        |other: &Path| std::fs::canonicalize(other).ok() == std::fs::canonicalize(file).ok();
    let mut found = Referrers::default();
    let mut others = Vec::new();
    for other in estate::stack_files(&[directory])
        .map_err(OpsError::StackFiles)?
        .into_iter()
        .filter(|other| !same_file(other))
    {
        match prepare(&other) {
            Ok(stack) => others.push((other, stack)),
            Err(_) => found.unreadable.push(other),
        }
    }
    let models: Vec<_> = others.iter().map(|(_, stack)| &stack.model).collect();
    for i in estate::referring(&target.model, &models) {
        let (other_file, other) = &others[i];
        let cloud = access.connect(&other.model.region).await;
        let live = outputs::of_stack(
            cloud,
            &other.model.stack,
            &other.model.region,
            RetryPolicy::default(),
        )
        .await?;
        if live.is_some() {
            found.live.push(Referrer {
                stack: other.model.stack.clone(),
                region: other.model.region.clone(),
                file: other_file.clone(),
            });
        }
    }
    Ok(found)
}
