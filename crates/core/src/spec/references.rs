//! The `fromStack` references of a spec's text fields (`vpc.id`, brought
//! subnets' ids, `certificate.arn`, brought target groups' `arn`,
//! `accessEntries[].principalARN`, `attachPolicyARNs`): finding them all, and putting the values they were
//! resolved to in their place. `cluster.publicAccessCIDRs` keeps its own
//! path (its values may stay known only after another stack's apply, see
//! `outputs::resolve_cidrs`); its references are listed here too, for the
//! order of an estate and for destroy's referrers.

use std::collections::BTreeMap;

use super::{CidrSource, Located, Spec, StackReference, TextSource};

/// A reference found in a spec, with the field that holds it.
#[derive(Debug, Clone)]
pub struct FieldReference {
    /// The field as users write it (`vpc.subnets.private.us-east-1a.id`).
    pub field: String,
    pub reference: Located<StackReference>,
    /// Whether the field takes several values (a list field): a reference
    /// there may stand for a whole list output.
    pub many: bool,
}

/// Where a reference was written: what its resolved values are keyed by.
pub type ReferencePlace = (usize, usize);

pub fn place_of<T>(located: &Located<T>) -> ReferencePlace {
    (located.span.source, located.span.offset)
}

/// Every reference of the spec's text fields (not `publicAccessCIDRs`).
pub fn text_references(spec: &Spec) -> Vec<FieldReference> {
    let found = std::cell::RefCell::new(Vec::new());
    let push = |field: String, value: &Located<TextSource>, many: bool| {
        if let TextSource::FromStack(reference) = &value.value {
            found.borrow_mut().push(FieldReference {
                field,
                reference: Located::new(reference.clone(), value.span),
                many,
            });
        }
    };
    let mut spec = spec.clone();
    visit(
        &mut spec,
        &mut |field, value| push(field, value, false),
        &mut |field, values| {
            for value in values.iter() {
                push(field.clone(), value, true);
            }
        },
    );
    found.into_inner()
}

/// Every reference of the spec: its text fields' and `publicAccessCIDRs`'.
pub fn all_references(spec: &Spec) -> Vec<Located<StackReference>> {
    let cidrs = spec
        .cluster
        .iter()
        .flat_map(|c| c.public_access_cidrs.iter())
        .flat_map(|cidrs| cidrs.value.iter())
        .filter_map(|cidr| match &cidr.value {
            CidrSource::FromStack(reference) => Some(Located::new(reference.clone(), cidr.span)),
            CidrSource::Literal(_) => None,
        });
    text_references(spec)
        .into_iter()
        .map(|found| found.reference)
        .chain(cidrs)
        .collect()
}

/// Puts each resolved reference's values in its place: a single field takes
/// its one value, a list field as many items as the reference stands for.
/// References missing from `resolved` stay as they are.
pub fn substitute(spec: &mut Spec, resolved: &BTreeMap<ReferencePlace, Vec<String>>) {
    visit(
        spec,
        &mut |_, value| {
            if let Some([one]) = resolved.get(&place_of(value)).map(Vec::as_slice) {
                value.value = TextSource::Literal(one.clone());
            }
        },
        &mut |_, values| {
            *values = std::mem::take(values)
                .into_iter()
                .flat_map(|value| match resolved.get(&place_of(&value)) {
                    Some(texts) => texts
                        .iter()
                        .map(|text| Located::new(TextSource::Literal(text.clone()), value.span))
                        .collect(),
                    None => vec![value],
                })
                .collect();
        },
    );
}

/// Calls `single` for each text field of one value and `list` for each list
/// of them, with the field's name as users write it.
fn visit(
    spec: &mut Spec,
    single: &mut dyn FnMut(String, &mut Located<TextSource>),
    list: &mut dyn FnMut(String, &mut Vec<Located<TextSource>>),
) {
    if let Some(vpc) = spec.vpc.as_mut() {
        if let Some(id) = vpc.value.id.as_mut() {
            single("vpc.id".into(), id);
        }
        if let Some(subnets) = vpc.value.subnets.as_mut() {
            let tiers = [
                ("public", &mut subnets.value.public),
                ("private", &mut subnets.value.private),
            ];
            for (tier, by_zone) in tiers {
                for (zone, subnet) in by_zone.iter_mut() {
                    if let Some(id) = subnet.value.id.as_mut() {
                        single(format!("vpc.subnets.{tier}.{zone}.id"), id);
                    }
                }
            }
        }
    }
    if let Some(cluster) = spec.cluster.as_mut() {
        for (i, entry) in cluster.value.access_entries.iter_mut().enumerate() {
            single(
                format!("cluster.accessEntries[{i}].principalARN"),
                &mut entry.value.principal_arn,
            );
        }
    }
    if let Some(iam) = spec.iam.as_mut() {
        for account in iam.value.service_accounts.iter_mut() {
            let field = format!(
                "iam.serviceAccounts.{}/{}.attachPolicyARNs",
                account.value.metadata.namespace.value, account.value.metadata.name.value
            );
            list(field, &mut account.value.attach_policy_arns);
        }
    }
    if let Some(balancers) = spec.load_balancers.as_mut() {
        for balancer in balancers.value.iter_mut() {
            let name = balancer.value.name.value.clone();
            if let Some(certificate) = balancer.value.certificate.as_mut()
                && let Some(arn) = certificate.value.arn.as_mut()
            {
                single(format!("loadBalancers.{name}.certificate.arn"), arn);
            }
            for group in balancer.value.target_groups.iter_mut() {
                let group_name = &group.value.name.value;
                if let Some(arn) = group.value.arn.as_mut() {
                    single(
                        format!("loadBalancers.{name}.targetGroups.{group_name}.arn"),
                        arn,
                    );
                }
            }
        }
    }
}
