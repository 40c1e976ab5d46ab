//! Operations behind the commands: prepare a stack from its spec, guard the
//! account, plan, apply, read outputs. The CLI is a thin layer over these.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use crate::cloud::{Cloud, CloudError, Scope};
use crate::diagnostics::Diagnostics;
use crate::execute::{self, Cancellation, EventSink, ExecuteOptions, Outcome};
use crate::kinds::{self, EksCluster, NatGateway, OidcProvider, Subnet, Vpc};
use crate::lower::{self, Network, StackModel};
use crate::model::{DesiredResource, LiveResource, Value};
use crate::observe;
use crate::plan::{self, PLAN_FORMAT_VERSION, Plan, PlanError};
use crate::retry::RetryPolicy;
use crate::spec::{self, LoadedSpec};

#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error("the spec has errors")]
    Spec(Diagnostics),
    #[error("{0}")]
    Cloud(#[from] CloudError),
    #[error(
        "refusing to touch AWS: the spec is for account {expected}, but the credentials are for account {actual}"
    )]
    AccountMismatch { expected: String, actual: String },
    #[error("{0}")]
    Plan(#[from] PlanError),
    #[error("{0}")]
    Refused(String),
}

/// A stack ready to plan: its spec, model and desired resources.
#[derive(Debug, Clone)]
pub struct Stack {
    pub loaded: LoadedSpec,
    pub model: StackModel,
    pub desired: Vec<DesiredResource>,
}

impl Stack {
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
    }
}

/// Reads, validates and lowers a spec. No AWS calls.
pub fn prepare(path: &Path) -> Result<Stack, OpsError> {
    let loaded = spec::load(path).map_err(OpsError::Spec)?;
    let unsupported = lower::unsupported_sections(&loaded.spec, &loaded.file);
    if unsupported.has_errors() {
        return Err(OpsError::Spec(unsupported));
    }
    let model = lower::model(&loaded.spec);
    let desired = lower::desired(&model);
    Ok(Stack {
        loaded,
        model,
        desired,
    })
}

/// The account guard: first call of every command that touches AWS.
pub async fn guard_account(
    cloud: &dyn Cloud,
    expected: Option<&str>,
    retry: RetryPolicy,
) -> Result<String, OpsError> {
    let actual = retry.run(|_| cloud.caller_account(), |_, _| {}).await?;
    if let Some(expected) = expected
        && expected != actual
    {
        return Err(OpsError::AccountMismatch {
            expected: expected.into(),
            actual,
        });
    }
    Ok(actual)
}

/// What a plan aims at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Goal {
    /// The live account as the spec says.
    Apply,
    /// Nothing of the stack left.
    Destroy,
}

/// Observes the live account and plans the way to `desired` (or to nothing).
pub async fn plan(
    cloud: Arc<dyn Cloud>,
    model: &StackModel,
    desired: &[DesiredResource],
    goal: Goal,
    retry: RetryPolicy,
) -> Result<(Plan, Vec<LiveResource>), OpsError> {
    let account = guard_account(cloud.as_ref(), model.account.as_deref(), retry).await?;
    // A destroy still looks up what the spec names (a log group, brought subnets).
    let scope = scope_for(&model.stack, &model.region, desired);
    let observed = observe::observe(cloud, &scope, retry).await?;
    let target = match goal {
        Goal::Apply => desired,
        Goal::Destroy => &[],
    };
    let resources = plan::diff(target, &observed)?;
    Ok((
        Plan {
            format_version: PLAN_FORMAT_VERSION,
            eksform_version: env!("CARGO_PKG_VERSION").into(),
            stack: model.stack.clone(),
            region: model.region.clone(),
            account,
            fingerprint: plan::fingerprint(&observed),
            resources,
        },
        observed,
    ))
}

/// Checks that a saved plan still describes the live account.
pub async fn recheck_saved_plan(
    cloud: Arc<dyn Cloud>,
    saved: &Plan,
    retry: RetryPolicy,
) -> Result<(), OpsError> {
    if saved.format_version != PLAN_FORMAT_VERSION {
        return Err(OpsError::Refused(format!(
            "the plan file has format {} (made by eksform {}); this eksform reads format {PLAN_FORMAT_VERSION}",
            saved.format_version, saved.eksform_version
        )));
    }
    let account = guard_account(cloud.as_ref(), Some(&saved.account), retry).await?;
    let desired: Vec<DesiredResource> = saved
        .resources
        .iter()
        .filter_map(|r| r.desired.clone())
        .collect();
    let scope = scope_for(&saved.stack, &saved.region, &desired);
    let observed = observe::observe(cloud, &scope, retry).await?;
    if plan::fingerprint(&observed) != saved.fingerprint {
        let before: Vec<LiveResource> = saved
            .resources
            .iter()
            .filter_map(|r| r.live.clone())
            .collect();
        let mut drift = plan::drift(&before, &observed);
        if drift.is_empty() {
            drift.push("the observed state differs".into());
        }
        return Err(OpsError::Refused(format!(
            "the live state of stack {} in account {account} changed since the plan was made: {}; make a new plan",
            saved.stack,
            drift.join("; ")
        )));
    }
    Ok(())
}

pub async fn apply(
    cloud: Arc<dyn Cloud>,
    plan: &Plan,
    options: ExecuteOptions,
    sink: Arc<dyn EventSink>,
    cancel: Cancellation,
) -> Outcome {
    let desired: Vec<DesiredResource> = plan
        .resources
        .iter()
        .filter_map(|r| r.desired.clone())
        .collect();
    let scope = scope_for(&plan.stack, &plan.region, &desired);
    execute::execute(plan, cloud, scope, options, sink, cancel).await
}

/// A stack's outputs (SPEC.md), read from live resources.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Outputs {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    pub public_subnet_ids: Vec<String>,
    pub private_subnet_ids: Vec<String>,
    #[serde(rename = "natPublicIPs")]
    pub nat_public_ips: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_endpoint: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_security_group_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oidc_issuer: Option<String>,
    #[serde(rename = "oidcProviderARN", skip_serializing_if = "Option::is_none")]
    pub oidc_provider_arn: Option<String>,
    /// `namespace/name` -> the ARN of that service account's role.
    #[serde(
        rename = "serviceAccountRoleARNs",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub service_account_role_arns: BTreeMap<String, String>,
}

impl Outputs {
    pub fn as_map(&self) -> BTreeMap<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(map)) => map.into_iter().collect(),
            _ => BTreeMap::new(),
        }
    }
}

pub async fn outputs(
    cloud: Arc<dyn Cloud>,
    model: &StackModel,
    desired: &[DesiredResource],
    retry: RetryPolicy,
) -> Result<Outputs, OpsError> {
    guard_account(cloud.as_ref(), model.account.as_deref(), retry).await?;
    let scope = scope_for(&model.stack, &model.region, desired);
    let observed = observe::observe(cloud, &scope, retry).await?;
    let id_of = |address: &crate::model::Address| {
        observed
            .iter()
            .find(|r| &r.address == address)
            .map(|r| r.id.clone())
    };
    let mut outputs = Outputs::default();
    match &model.network {
        Some(Network::Created(network)) => {
            outputs.vpc_id = id_of(&Vpc::address());
            for zone in &network.zones {
                outputs
                    .public_subnet_ids
                    .extend(id_of(&Subnet::address("public", &zone.name)));
                outputs
                    .private_subnet_ids
                    .extend(id_of(&Subnet::address("private", &zone.name)));
                let nat = observed
                    .iter()
                    .find(|r| r.address == NatGateway::address(&zone.name));
                if let Some(ip) = nat
                    .and_then(|n| n.attributes.get("public_ip"))
                    .and_then(Value::as_str)
                    .filter(|ip| !ip.is_empty())
                {
                    outputs.nat_public_ips.push(ip.to_string());
                }
            }
        }
        Some(Network::Brought(network)) => {
            outputs.vpc_id = Some(network.vpc_id.clone());
            for (tier, _, id) in &network.subnets {
                if tier == "public" {
                    outputs.public_subnet_ids.push(id.clone());
                } else {
                    outputs.private_subnet_ids.push(id.clone());
                }
            }
        }
        None => {}
    }
    let attribute = |address: &crate::model::Address, name: &str| {
        observed
            .iter()
            .find(|r| &r.address == address)
            .and_then(|r| r.attributes.get(name))
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
            .map(str::to_string)
    };
    let cluster = EksCluster::address();
    outputs.cluster_name = attribute(&cluster, "name");
    outputs.cluster_endpoint = attribute(&cluster, "endpoint");
    outputs.cluster_security_group_id = attribute(&cluster, "security_group_id");
    outputs.oidc_issuer = attribute(&cluster, "oidc_issuer");
    outputs.oidc_provider_arn = attribute(&OidcProvider::address(), "arn");
    outputs.service_account_role_arns = observed
        .iter()
        .filter(|r| r.address.as_str().starts_with("iam_role.irsa."))
        .filter_map(|r| {
            let tags = r.attributes.get("tags")?.as_map()?;
            let account = tags.get("eksform:service-account")?.as_str()?;
            Some((
                account.to_string(),
                r.attributes.get("arn")?.as_str()?.to_string(),
            ))
        })
        .collect();
    Ok(outputs)
}
