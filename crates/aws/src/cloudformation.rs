//! eksctl's CloudFormation stacks, for `eksform import eksctl`; not a
//! resource kind (eksform never makes a stack). This module owns finding a
//! cluster's stacks by eksctl's naming (`eksctl-<cluster>-cluster`,
//! `-nodegroup-*`, `-addon-iamserviceaccount-*`, `-podidentityrole-*`) with
//! their resources, outputs and tags, and letting go of a stack without
//! deleting what it made: every resource of its template set to
//! `DeletionPolicy: Retain` (`retain_template`, pure), the stack updated with
//! that template, then deleted. Each wait is polled and bounded.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::error::ProvideErrorMetadata;
use aws_sdk_cloudformation::types::{Capability, Parameter, StackStatus, TemplateStage};
use eksform_core::cloud::CloudError;

use crate::error;

/// What an eksctl stack is for, told from its name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum EksctlStackRole {
    /// A node group's stack (managed or self-managed): its name.
    NodeGroup(String),
    /// An IRSA role's stack: the name's tail (`<namespace>-<name>`).
    IamServiceAccount(String),
    /// A pod identity association's role: the name's tail.
    PodIdentityRole(String),
    /// The cluster's stack (network, control plane, roles). Last in order:
    /// it is released after the stacks that refer to it.
    Cluster,
}

impl EksctlStackRole {
    /// The role of `stack` among `cluster`'s eksctl stacks, `None` for a
    /// stack that is not one of them.
    pub fn of(cluster: &str, stack: &str) -> Option<Self> {
        let rest = stack.strip_prefix(&format!("eksctl-{cluster}-"))?;
        if rest == "cluster" {
            return Some(Self::Cluster);
        }
        let tail = |prefix: &str| {
            rest.strip_prefix(prefix)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
        };
        tail("nodegroup-")
            .map(Self::NodeGroup)
            .or_else(|| tail("addon-iamserviceaccount-").map(Self::IamServiceAccount))
            .or_else(|| tail("podidentityrole-").map(Self::PodIdentityRole))
    }
}

/// One resource of a stack, as ListStackResources gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackResource {
    pub logical_id: String,
    /// `AWS::EC2::VPC`, ...
    pub resource_type: String,
    /// The resource's id as CloudFormation knows it (for an Elastic IP its
    /// address, for a role its name); empty when it has none.
    pub physical_id: String,
}

/// One of eksctl's stacks for a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EksctlStack {
    pub name: String,
    pub role: EksctlStackRole,
    pub status: String,
    pub tags: BTreeMap<String, String>,
    pub outputs: BTreeMap<String, String>,
    pub resources: Vec<StackResource>,
}

/// Every live stack eksctl made for `cluster` (deleted ones skipped), node
/// group and role stacks first and the cluster's stack last.
pub async fn eksctl_stacks(cf: &Client, cluster: &str) -> Result<Vec<EksctlStack>, CloudError> {
    let mut names = Vec::new();
    let mut next = None;
    loop {
        let out = cf
            .list_stacks()
            .set_next_token(next)
            .send()
            .await
            .map_err(|e| error("ListStacks", e))?;
        for summary in out.stack_summaries() {
            let deleted = summary.stack_status() == Some(&StackStatus::DeleteComplete);
            if let Some(name) = summary.stack_name()
                && !deleted
                && let Some(role) = EksctlStackRole::of(cluster, name)
            {
                names.push((role, name.to_string()));
            }
        }
        next = out.next_token().map(str::to_string);
        if next.is_none() {
            break;
        }
    }
    names.sort();
    names.dedup();
    let mut stacks = Vec::new();
    for (role, name) in names {
        let Some(described) = describe(cf, &name).await? else {
            continue;
        };
        let status = described
            .stack_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default();
        if status == StackStatus::DeleteComplete.as_str() {
            continue;
        }
        let tags = described
            .tags()
            .iter()
            .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
            .collect();
        let outputs = described
            .outputs()
            .iter()
            .filter_map(|o| {
                Some((
                    o.output_key()?.to_string(),
                    o.output_value().unwrap_or_default().to_string(),
                ))
            })
            .collect();
        stacks.push(EksctlStack {
            resources: resources(cf, &name).await?,
            name,
            role,
            status,
            tags,
            outputs,
        });
    }
    Ok(stacks)
}

/// The stack as DescribeStacks gives it, `None` when it does not exist.
async fn describe(
    cf: &Client,
    name: &str,
) -> Result<Option<aws_sdk_cloudformation::types::Stack>, CloudError> {
    match cf.describe_stacks().stack_name(name).send().await {
        Ok(out) => Ok(out.stacks().first().cloned()),
        Err(e) if is_missing_stack(e.message()) => Ok(None),
        Err(e) => Err(error("DescribeStacks", e)),
    }
}

/// CloudFormation says "Stack with id X does not exist" as a ValidationError.
fn is_missing_stack(message: Option<&str>) -> bool {
    message.is_some_and(|m| m.contains("does not exist"))
}

async fn resources(cf: &Client, name: &str) -> Result<Vec<StackResource>, CloudError> {
    let mut found = Vec::new();
    let mut next = None;
    loop {
        let out = cf
            .list_stack_resources()
            .stack_name(name)
            .set_next_token(next)
            .send()
            .await
            .map_err(|e| error("ListStackResources", e))?;
        found.extend(
            out.stack_resource_summaries()
                .iter()
                .map(|r| StackResource {
                    logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
                    resource_type: r.resource_type().unwrap_or_default().to_string(),
                    physical_id: r.physical_resource_id().unwrap_or_default().to_string(),
                }),
        );
        next = out.next_token().map(str::to_string);
        if next.is_none() {
            break;
        }
    }
    Ok(found)
}

/// Why a stack's template cannot be rewritten to keep its resources.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error(
        "its template is not JSON (eksctl writes JSON; a YAML template was edited by hand): set `DeletionPolicy: Retain` on every resource yourself, update the stack, then delete it"
    )]
    NotJson,
    #[error("its template is not valid JSON: {0}")]
    Invalid(String),
    #[error("its template has no Resources section")]
    NoResources,
    #[error(
        "its template with the Retain policies is {0} bytes, over CloudFormation's 51,200-byte limit for a template sent in the call; upload it to S3 and update the stack with it yourself"
    )]
    TooLarge(usize),
}

/// CloudFormation's limit for a template sent in the call (TemplateBody).
const TEMPLATE_BODY_LIMIT: usize = 51_200;

/// The template with `DeletionPolicy` and `UpdateReplacePolicy` set to
/// `Retain` on every resource, written compactly (JSON only; see
/// `TemplateError::NotJson`).
pub fn retain_template(body: &str) -> Result<String, TemplateError> {
    if !body.trim_start().starts_with('{') {
        return Err(TemplateError::NotJson);
    }
    let mut template: serde_json::Value =
        serde_json::from_str(body).map_err(|e| TemplateError::Invalid(e.to_string()))?;
    let resources = template
        .get_mut("Resources")
        .and_then(serde_json::Value::as_object_mut)
        .ok_or(TemplateError::NoResources)?;
    for resource in resources.values_mut() {
        if let Some(resource) = resource.as_object_mut() {
            resource.insert("DeletionPolicy".into(), "Retain".into());
            resource.insert("UpdateReplacePolicy".into(), "Retain".into());
        }
    }
    let written = serde_json::to_string(&template).expect("a JSON value is written");
    if written.len() > TEMPLATE_BODY_LIMIT {
        return Err(TemplateError::TooLarge(written.len()));
    }
    Ok(written)
}

/// Whether every resource of a template is retained on delete: what the
/// release checks on the deployed template before it deletes the stack.
pub fn every_resource_retained(body: &str) -> bool {
    let Ok(template) = serde_json::from_str::<serde_json::Value>(body) else {
        return false;
    };
    template
        .get("Resources")
        .and_then(serde_json::Value::as_object)
        .is_some_and(|resources| {
            resources.values().all(|r| {
                r.get("DeletionPolicy").and_then(serde_json::Value::as_str) == Some("Retain")
            })
        })
}

/// How often and how long the release waits for CloudFormation.
#[derive(Debug, Clone, Copy)]
pub struct StackWaits {
    pub every: Duration,
    pub at_most: Duration,
}

impl Default for StackWaits {
    fn default() -> Self {
        Self {
            every: Duration::from_secs(5),
            at_most: Duration::from_secs(30 * 60),
        }
    }
}

/// Lets go of a stack: its template with every resource retained, the
/// stack updated with it (parameters as they are), then deleted. Nothing the
/// stack made is deleted. A stack already gone is released.
pub async fn release_stack(cf: &Client, name: &str, waits: StackWaits) -> Result<(), CloudError> {
    let Some(stack) = describe(cf, name).await? else {
        return Ok(());
    };
    let template = cf
        .get_template()
        .stack_name(name)
        .template_stage(TemplateStage::Original)
        .send()
        .await
        .map_err(|e| error("GetTemplate", e))?;
    let body = retain_template(template.template_body().unwrap_or_default())
        .map_err(|e| CloudError::rejected(format!("cannot release stack {name}: {e}")))?;
    let parameters: Vec<Parameter> = stack
        .parameters()
        .iter()
        .filter_map(|p| {
            Some(
                Parameter::builder()
                    .parameter_key(p.parameter_key()?)
                    .use_previous_value(true)
                    .build(),
            )
        })
        .collect();
    let update = cf
        .update_stack()
        .stack_name(name)
        .template_body(body)
        .set_parameters(Some(parameters))
        .capabilities(Capability::CapabilityIam)
        .capabilities(Capability::CapabilityNamedIam)
        .send()
        .await;
    match update {
        Ok(_) => wait_for(cf, name, Goal::Updated, waits).await?,
        // Already retained (a release run before): nothing to update.
        Err(e)
            if e.message()
                .is_some_and(|m| m.contains("No updates are to be performed")) => {}
        Err(e) => return Err(error("UpdateStack", e)),
    }
    // What CloudFormation now holds must retain everything, whatever the
    // update said: a delete of a stack that does not would delete the estate.
    let deployed = cf
        .get_template()
        .stack_name(name)
        .template_stage(TemplateStage::Original)
        .send()
        .await
        .map_err(|e| error("GetTemplate", e))?;
    if !every_resource_retained(deployed.template_body().unwrap_or_default()) {
        return Err(CloudError::rejected(format!(
            "stack {name} still has resources CloudFormation would delete with it after the update: it is not deleted; set DeletionPolicy: Retain on every resource and run --release-stacks again"
        )));
    }
    cf.delete_stack()
        .stack_name(name)
        .send()
        .await
        .map_err(|e| error("DeleteStack", e))?;
    wait_for(cf, name, Goal::Deleted, waits).await
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Goal {
    Updated,
    Deleted,
}

/// Where a stack's status leaves a wait.
#[derive(Debug, PartialEq, Eq)]
enum Progress {
    Done,
    Waiting,
    Failed,
}

fn progress(goal: Goal, status: &str) -> Progress {
    match (goal, status) {
        (Goal::Updated, "UPDATE_COMPLETE") | (Goal::Deleted, "DELETE_COMPLETE") => Progress::Done,
        (_, s) if s.ends_with("_IN_PROGRESS") => Progress::Waiting,
        _ => Progress::Failed,
    }
}

async fn wait_for(
    cf: &Client,
    name: &str,
    goal: Goal,
    waits: StackWaits,
) -> Result<(), CloudError> {
    let started = tokio::time::Instant::now();
    loop {
        let status = match describe(cf, name).await? {
            Some(stack) => stack
                .stack_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            None if goal == Goal::Deleted => return Ok(()),
            None => {
                return Err(CloudError::rejected(format!(
                    "stack {name} disappeared while it was being updated"
                )));
            }
        };
        match progress(goal, &status) {
            Progress::Done => return Ok(()),
            Progress::Failed => {
                let what = match goal {
                    Goal::Updated => "updating it with every resource retained",
                    Goal::Deleted => "deleting it",
                };
                return Err(CloudError::rejected(format!(
                    "stack {name} is {status} after {what}; see its events in the CloudFormation console"
                )));
            }
            Progress::Waiting if started.elapsed() >= waits.at_most => {
                return Err(CloudError::rejected(format!(
                    "stack {name} is still {status} after {} minutes; run the command again once it is done",
                    waits.at_most.as_secs() / 60
                )));
            }
            Progress::Waiting => tokio::time::sleep(waits.every).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stacks_are_told_apart_by_eksctls_names() {
        let of = |s| EksctlStackRole::of("prod", s);
        assert_eq!(of("eksctl-prod-cluster"), Some(EksctlStackRole::Cluster));
        assert_eq!(
            of("eksctl-prod-nodegroup-ng-1"),
            Some(EksctlStackRole::NodeGroup("ng-1".into()))
        );
        assert_eq!(
            of("eksctl-prod-addon-iamserviceaccount-kube-system-aws-node"),
            Some(EksctlStackRole::IamServiceAccount(
                "kube-system-aws-node".into()
            ))
        );
        assert_eq!(
            of("eksctl-prod-podidentityrole-default-app"),
            Some(EksctlStackRole::PodIdentityRole("default-app".into()))
        );
        // Another cluster whose name starts the same, and foreign stacks.
        assert_eq!(of("eksctl-prod-eu-cluster"), None);
        assert_eq!(of("eksctl-prod-nodegroup-"), None);
        assert_eq!(of("prod-cluster"), None);
    }

    #[test]
    fn the_cluster_stack_sorts_last() {
        let mut roles = [
            EksctlStackRole::Cluster,
            EksctlStackRole::NodeGroup("a".into()),
            EksctlStackRole::IamServiceAccount("b".into()),
        ];
        roles.sort();
        assert_eq!(roles.last(), Some(&EksctlStackRole::Cluster));
    }

    #[test]
    fn every_resource_is_retained_and_the_rest_kept() {
        let body = r#"{"AWSTemplateFormatVersion":"2010-09-09","Resources":{
            "VPC":{"Type":"AWS::EC2::VPC","Properties":{"CidrBlock":"10.0.0.0/16"}},
            "ServiceRole":{"Type":"AWS::IAM::Role","DeletionPolicy":"Delete","Properties":{}}},
            "Outputs":{"VPC":{"Value":{"Ref":"VPC"}}}}"#;
        let out: serde_json::Value = serde_json::from_str(&retain_template(body).unwrap()).unwrap();
        for name in ["VPC", "ServiceRole"] {
            assert_eq!(out["Resources"][name]["DeletionPolicy"], "Retain");
            assert_eq!(out["Resources"][name]["UpdateReplacePolicy"], "Retain");
        }
        assert_eq!(
            out["Resources"]["VPC"]["Properties"]["CidrBlock"],
            "10.0.0.0/16"
        );
        assert_eq!(out["Outputs"]["VPC"]["Value"]["Ref"], "VPC");
    }

    #[test]
    fn a_template_that_cannot_be_rewritten_is_refused() {
        assert_eq!(
            retain_template("Resources:\n  VPC:\n    Type: AWS::EC2::VPC\n"),
            Err(TemplateError::NotJson)
        );
        assert_eq!(
            retain_template(r#"{"Outputs":{}}"#),
            Err(TemplateError::NoResources)
        );
        assert!(matches!(
            retain_template("{ not json"),
            Err(TemplateError::Invalid(_))
        ));
        let big = format!(
            r#"{{"Resources":{{"A":{{"Type":"AWS::SNS::Topic","Metadata":"{}"}}}}}}"#,
            "x".repeat(TEMPLATE_BODY_LIMIT)
        );
        assert!(matches!(
            retain_template(&big),
            Err(TemplateError::TooLarge(_))
        ));
    }

    #[test]
    fn waits_end_on_the_goal_and_on_failures() {
        assert_eq!(progress(Goal::Updated, "UPDATE_COMPLETE"), Progress::Done);
        assert_eq!(
            progress(Goal::Updated, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
            Progress::Waiting
        );
        assert_eq!(
            progress(Goal::Updated, "UPDATE_ROLLBACK_COMPLETE"),
            Progress::Failed
        );
        assert_eq!(
            progress(Goal::Deleted, "DELETE_IN_PROGRESS"),
            Progress::Waiting
        );
        assert_eq!(progress(Goal::Deleted, "DELETE_FAILED"), Progress::Failed);
        assert_eq!(progress(Goal::Deleted, "DELETE_COMPLETE"), Progress::Done);
    }
}
