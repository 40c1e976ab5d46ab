//! Reading the stacks that `fromStack` references name, and resolving the
//! references of a spec's text fields (`spec::references`) into the ids,
//! ARNs and names they stand for. Another stack is read in its region
//! (`region`) and, with `roleARN`, in its account through that role.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::cloud::{Cloud, CloudError, Regions};
use crate::diagnostics::{Diagnostic, Diagnostics, SourceFile};
use crate::outputs::{self, KnownOutputs, KnownStack, LookupError, Outputs, ReferenceError};
use crate::retry::RetryPolicy;
use crate::spec::StackReference;
use crate::spec::references::{FieldReference, ReferencePlace, place_of};

/// The connection a reference reads its stack through: its region's, under
/// its role when it names one.
pub async fn connection_for(
    regions: &dyn Regions,
    reference: &StackReference,
    home_region: &str,
) -> Result<Arc<dyn Cloud>, CloudError> {
    let region = reference.region.as_deref().unwrap_or(home_region);
    match &reference.role_arn {
        Some(role_arn) => regions.cloud_as(region, role_arn).await,
        None => Ok(regions.cloud(region).await),
    }
}

/// Which stack a reference reads: (stack, region, role). Stacks of this
/// account (no role) are the ones a run may already know (`KnownOutputs`).
type StackKey = (String, String, Option<String>);

fn stack_key(reference: &StackReference, home_region: &str) -> StackKey {
    (
        reference.from_stack.clone(),
        reference
            .region
            .clone()
            .unwrap_or_else(|| home_region.into()),
        reference.role_arn.clone(),
    )
}

/// Reads each stack the references name once (or takes it from `known`),
/// then the values of each reference: a single field's reference must stand
/// for one value, a list field's for one or more. Every problem is located
/// at its reference. A value that a stack planned in this run changes is
/// refused: only `publicAccessCIDRs` may be known after another apply.
pub async fn resolve_text(
    references: &[FieldReference],
    home_region: &str,
    regions: &dyn Regions,
    known: &KnownOutputs,
    file: &SourceFile,
    retry: RetryPolicy,
) -> Result<BTreeMap<ReferencePlace, Vec<String>>, ReferenceError> {
    let mut stacks: BTreeMap<StackKey, KnownStack> = known
        .iter()
        .map(|((stack, region), known)| ((stack.clone(), region.clone(), None), known.clone()))
        .collect();
    for found in references {
        let key = stack_key(&found.reference, home_region);
        if stacks.contains_key(&key) {
            continue;
        }
        let cloud = connection_for(regions, &found.reference, home_region)
            .await
            .map_err(ReferenceError::Cloud)?;
        let live = outputs::of_stack(cloud, &key.0, &key.1, retry)
            .await
            .map_err(ReferenceError::Cloud)?;
        stacks.insert(key, KnownStack::live(live));
    }
    let mut resolved = BTreeMap::new();
    let mut problems = Diagnostics::new();
    for found in references {
        let reference = &found.reference;
        let key = stack_key(reference, home_region);
        let problem = |message: String, help: String| {
            Diagnostic::error(format!("{}: {message}", found.field))
                .at(file, reference.span)
                .with_help(help)
        };
        let (stack, region) = (&key.0, &key.1);
        let account = match &key.2 {
            Some(role) => format!("the account of {role}"),
            None => "this account".to_string(),
        };
        let known = &stacks[&key];
        if known.after_apply.contains(&reference.output) {
            problems.push(problem(
                format!(
                    "output `{}` of stack `{stack}` is known only after that stack's plan is applied",
                    reference.output
                ),
                format!("apply `{stack}` first: `eksform apply DIR` applies each stack after the stacks it refers to"),
            ));
            continue;
        }
        let Some(live) = &known.live else {
            problems.push(problem(
                format!(
                    "stack `{stack}` (output `{}`) has no live resources in region {region} of {account}",
                    reference.output
                ),
                "apply that stack first, or check `fromStack`, `region` and `roleARN`".into(),
            ));
            continue;
        };
        match lookup(live, reference) {
            Err(LookupError::Empty) => problems.push(problem(
                format!(
                    "stack `{stack}` has no output `{}` (it is empty in the live account)",
                    reference.output
                ),
                "`eksform outputs` on that stack shows what it has".into(),
            )),
            Err(LookupError::NoKey(keys)) => problems.push(problem(
                format!(
                    "output `{}` of stack `{stack}` has no key `{}`",
                    reference.output,
                    reference.key.as_deref().unwrap_or_default()
                ),
                if keys.is_empty() {
                    "it has no keys".into()
                } else {
                    format!("its keys: {}", keys.join(", "))
                },
            )),
            Ok(values) if !found.many && values.len() != 1 => problems.push(problem(
                format!(
                    "output `{}` of stack `{stack}` holds {} values and this field takes one",
                    reference.output,
                    values.len()
                ),
                "give `key` to pick one (a zone of a subnet list, an entry of a map)".into(),
            )),
            Ok(values) => {
                resolved.insert(place_of(reference), values);
            }
        }
    }
    if problems.has_errors() {
        return Err(ReferenceError::Unresolved(problems));
    }
    Ok(resolved)
}

fn lookup(outputs: &Outputs, reference: &StackReference) -> Result<Vec<String>, LookupError> {
    outputs.lookup(&reference.output, reference.key.as_deref())
}
