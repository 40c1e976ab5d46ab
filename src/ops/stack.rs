//! A stack read from its spec: which files are stacks, reading and lowering
//! one, the scope its observation covers, and the resolution of its
//! references to other stacks' outputs.

use std::path::{Path, PathBuf};

use eksform_core::cloud::{Regions, Scope};
use eksform_core::diagnostics::Diagnostics;
use eksform_core::estate;
use eksform_core::kinds::{self, EksCluster};
use eksform_core::lower::{self, StackModel};
use eksform_core::model::{DesiredResource, Value};
use eksform_core::outputs::{self, KnownOutputs, ReferenceError};
use eksform_core::retry::RetryPolicy;
use eksform_core::spec::{self, LoadedSpec};
use eksform_core::stack_references;

use super::OpsError;

/// A stack ready to plan: its spec, model and desired resources.
#[derive(Debug, Clone)]
pub struct Stack {
    pub loaded: LoadedSpec,
    pub model: StackModel,
    pub desired: Vec<DesiredResource>,
}

impl Stack {
    /// A read spec, lowered to its model and desired resources.
    pub fn lowered(loaded: LoadedSpec) -> Self {
        let model = lower::model(&loaded.spec);
        let desired = lower::desired(&model);
        Self {
            loaded,
            model,
            desired,
        }
    }

    pub fn scope(&self) -> Scope {
        scope_for(&self.model.stack, &self.model.region, &self.desired)
    }
}

pub fn scope_for(stack: &str, region: &str, desired: &[DesiredResource]) -> Scope {
    Scope {
        stack: stack.into(),
        region: region.into(),
        named: desired
            .iter()
            .filter_map(|d| {
                let attribute = kinds::by_name(&d.kind)?.looked_up_by()?;
                Some((
                    d.address.clone(),
                    d.attributes.get(attribute)?.as_str()?.to_string(),
                ))
            })
            .collect(),
        cluster: desired
            .iter()
            .find(|d| d.address == EksCluster::address())
            .and_then(|d| d.attributes.get("name")?.as_str().map(str::to_string)),
        domains: None,
        from_spec: false,
        destroying: false,
        // A VPC given by id shows as a plain `vpc_id`; a made one as a reference.
        brought_vpc: desired.iter().find_map(|d| {
            d.attributes
                .get("vpc_id")
                .and_then(Value::as_str)
                // Empty: a `fromStack` id not resolved (a destroy after its stack went).
                .filter(|id| !id.is_empty())
                .map(str::to_string)
        }),
        reads: Default::default(),
        adopt: desired
            .iter()
            .filter(|d| d.adopt.is_some())
            .cloned()
            .collect(),
        members: Vec::new(),
    }
}

/// The domains the stack's certificates and hosted zone are within: a
/// certificate's domain without its `*.`, the zone's name. A certificate whose
/// domain changed stays found while it is within the zone. `None` (every
/// certificate read) when a certificate's domain is not known before apply.
pub(super) fn stack_domains(desired: &[DesiredResource]) -> Option<Vec<String>> {
    let mut domains = Vec::new();
    for resource in desired {
        let attribute = match resource.kind.as_str() {
            "certificate" => "domain",
            "hosted_zone" => "name",
            _ => continue,
        };
        let name = resource.attributes.get(attribute)?.as_str()?;
        domains.push(
            name.trim_start_matches("*.")
                .trim_end_matches('.')
                .to_ascii_lowercase(),
        );
    }
    domains.sort();
    domains.dedup();
    Some(domains)
}

/// The stack files among the paths a command was given (a base that others
/// extend is not a stack); at least one.
pub fn stack_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, OpsError> {
    let files = estate::stack_files(paths).map_err(OpsError::StackFiles)?;
    if files.is_empty() {
        return Err(OpsError::NoStackFiles);
    }
    Ok(files)
}

/// Reads and checks a spec, no more: its warnings, or every problem in it.
/// No AWS calls.
pub fn validate(path: &Path) -> Result<Diagnostics, Diagnostics> {
    spec::load(path).map(|loaded| loaded.warnings)
}

/// Reads, validates and lowers a spec. No AWS calls.
pub fn prepare(path: &Path) -> Result<Stack, OpsError> {
    Ok(Stack::lowered(spec::load(path).map_err(OpsError::Spec)?))
}

/// How strictly `resolve_text_references` holds a stack to its references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Strictness {
    /// Every reference must resolve (a plan to apply).
    Every,
    /// What resolves is used, the rest stays unresolved (a destroy: the
    /// stacks referred to may be gone already, and the stack's own resources
    /// are found by its mark, not by these values).
    WhatResolves,
}

/// Resolves the references of the stack's text fields (`vpc.id`, subnets'
/// ids, ARNs: `spec::references`) from the other stacks' live outputs, puts
/// their values in the spec and lowers it again. Made before observation:
/// a brought VPC's id decides what observation looks at.
pub async fn resolve_text_references(
    stack: &mut Stack,
    regions: &dyn Regions,
    known: &KnownOutputs,
    retry: RetryPolicy,
    strictness: Strictness,
) -> Result<(), OpsError> {
    let references = spec::references::text_references(&stack.loaded.spec);
    if references.is_empty() {
        return Ok(());
    }
    let resolved = stack_references::resolve_text(
        &references,
        &stack.model.region,
        regions,
        known,
        &stack.loaded.file,
        retry,
    )
    .await;
    let resolved = match (resolved, strictness) {
        (Ok(resolved), _) => resolved,
        (Err(_), Strictness::WhatResolves) => return Ok(()),
        (Err(ReferenceError::Unresolved(diagnostics)), Strictness::Every) => {
            return Err(OpsError::Live(diagnostics));
        }
        (Err(ReferenceError::Cloud(e)), Strictness::Every) => return Err(OpsError::Cloud(e)),
    };
    let mut loaded = stack.loaded.clone();
    spec::references::substitute(&mut loaded.spec, &resolved);
    *stack = Stack::lowered(loaded);
    Ok(())
}

/// Resolves the stack's cross-stack references from the other stacks' live
/// outputs (or, for a stack planned in the same run that changes them, as
/// known after apply), then lowers it again with the values they stand for.
pub async fn resolve_references(
    stack: &mut Stack,
    regions: &dyn Regions,
    known: &KnownOutputs,
    retry: RetryPolicy,
) -> Result<(), OpsError> {
    let Some(cluster) = stack.model.cluster.as_mut() else {
        return Ok(());
    };
    if cluster.public_access_references.is_empty() {
        return Ok(());
    }
    let resolved = outputs::resolve_cidrs(
        &cluster.public_access_references,
        "cluster.publicAccessCIDRs",
        &stack.model.region,
        regions,
        known,
        &stack.loaded.file,
        retry,
    )
    .await
    .map_err(|e| match e {
        ReferenceError::Unresolved(diagnostics) => OpsError::Live(diagnostics),
        ReferenceError::Cloud(e) => OpsError::Cloud(e),
    })?;
    cluster.public_access_cidrs.extend(resolved.cidrs);
    cluster.public_access_after_apply = resolved.after_apply;
    cluster.public_access_cidrs.sort();
    cluster.public_access_cidrs.dedup();
    cluster.public_access_references.clear();
    stack.desired = lower::desired(&stack.model);
    Ok(())
}
