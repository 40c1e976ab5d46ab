//! The seam between the engine and AWS: the `Cloud` trait, implemented by
//! `eksform-aws` (the aws-sdk adapters) and by `eksform-testkit`'s in-memory
//! model of AWS for engine tests.

pub mod shared;

use std::collections::BTreeMap;
use std::fmt;

use async_trait::async_trait;

use crate::kinds::Kind;
use crate::model::{Address, Attributes, LiveResource, Status};

/// What observation is about: a stack's marked resources, plus resources the
/// spec names (the subnets of a brought VPC by id, a cluster's log group by name),
/// which some kinds look up directly.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub stack: String,
    pub region: String,
    /// Resources named in the spec, by address: an id or a name.
    pub named: BTreeMap<Address, String>,
    /// The stack's cluster, whose node groups and Fargate profiles are listed.
    pub cluster: Option<String>,
    /// The domain names the stack's certificates and zone are within (no
    /// `*.`), when known: ACM has no tag filter, so only the certificates of
    /// these domains and their subdomains have their tags read. `None`: every
    /// certificate's are.
    pub domains: Option<Vec<String>>,
    /// A plan's observation, which knows the stack's spec: its cluster, names,
    /// domains and adopt entries are all the stack can hold, so kinds without
    /// a tag filter skip, before reading tags, what cannot be the stack's
    /// (other teams' clusters and load balancers). Off for a read of one
    /// resource and for another stack found by its mark alone: all is read.
    pub from_spec: bool,
    /// Observing for a destroy: what Kubernetes controllers left in the VPC is
    /// looked for too (`controller_leftover`).
    pub destroying: bool,
    /// The VPC the stack brought (by id), if any: controller leftovers are
    /// looked for only in the stack's VPCs.
    pub brought_vpc: Option<String>,
    /// Reads the kinds share while observing (off outside observation).
    pub reads: shared::Reads,
    /// Resources `adopt:` entries name (`DesiredResource::adopt` set): looked
    /// up by their id whatever their marks (`Cloud::find_to_adopt`) when the
    /// stack's own observation did not find them at their address.
    pub adopt: Vec<crate::model::DesiredResource>,
    /// For the read one plan of many stacks shares (`stack` is
    /// `tags::EVERY_STACK`, see `shared::SharedObservation`): the plan scopes
    /// of the stacks it serves. Kinds without a tag filter skip, before
    /// reading tags, what none of them can hold, as each would alone. Empty:
    /// nothing is skipped.
    pub members: Vec<Scope>,
}

impl Scope {
    /// The stacks' scopes this read serves: itself, or for every stack's
    /// read the stacks served (none when they are not known).
    pub fn served(&self) -> Vec<&Scope> {
        if self.stack == crate::kinds::tags::EVERY_STACK {
            self.members.iter().collect()
        } else {
            vec![self]
        }
    }

    /// Whether `may_hold`, the test a kind makes of one stack's scope, admits
    /// a resource for this scope: for every stack's read, if it admits it for
    /// any of the stacks served (all when they are not known).
    pub fn admits(&self, may_hold: impl Fn(&Scope) -> bool) -> bool {
        let served = self.served();
        served.is_empty() || served.into_iter().any(may_hold)
    }

    /// Whether a resource's `eksform:stack` tag marks it as this scope's
    /// stack's; for every stack's read, as one of the stacks served (any
    /// stack's when they are not known), so that the per-resource reads
    /// after the tags skip other stacks of the account.
    pub fn marked(&self, tag: Option<&String>) -> bool {
        tag.is_some() && self.admits(|scope| crate::kinds::tags::marks_stack(tag, &scope.stack))
    }
}

/// Connections to other regions of the same account, and to other accounts
/// through a role, for references to stacks that live elsewhere.
#[async_trait]
pub trait Regions: Send + Sync {
    async fn cloud(&self, region: &str) -> std::sync::Arc<dyn Cloud>;

    /// A connection to `region` of the account of `role_arn`, under that role
    /// (STS AssumeRole): a reference's `roleARN`, for a stack of another account.
    async fn cloud_as(
        &self,
        region: &str,
        role_arn: &str,
    ) -> Result<std::sync::Arc<dyn Cloud>, CloudError>;
}

/// One cloud for every region: the in-memory cloud, or a single connection.
pub struct OneCloud(pub std::sync::Arc<dyn Cloud>);

#[async_trait]
impl Regions for OneCloud {
    async fn cloud(&self, _region: &str) -> std::sync::Arc<dyn Cloud> {
        self.0.clone()
    }

    /// One connection holds one account's credentials: it has no other
    /// account to reach.
    async fn cloud_as(
        &self,
        _region: &str,
        role_arn: &str,
    ) -> Result<std::sync::Arc<dyn Cloud>, CloudError> {
        Err(CloudError::rejected(format!(
            "this connection reaches one account only and cannot assume {role_arn}"
        )))
    }
}

/// A create as the engine asks for it: every reference resolved.
#[derive(Debug, Clone)]
pub struct CreateRequest {
    pub stack: String,
    pub address: Address,
    pub attributes: Attributes,
    /// Idempotency token for this run, address and inputs, so that a retry
    /// after a timeout asks for the same resource again.
    pub token: String,
}

impl CreateRequest {
    /// The live resource a create made: the requested attributes under the new id.
    pub fn created(&self, kind: &str, id: String, status: Status) -> LiveResource {
        LiveResource {
            address: self.address.clone(),
            kind: kind.into(),
            id,
            attributes: self.attributes.clone(),
            status,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Slow down and retry.
    Throttling,
    /// A 5xx, a dropped connection or a timeout: retry.
    Transient,
    /// Something still depends on the resource, or AWS has not caught up yet
    /// (a just-deleted NAT gateway still holding an address): retry for a while.
    DependencyViolation,
    NotFound,
    /// AWS refused the request; retrying will not help.
    Rejected,
    /// The process is gone (the memory cloud's simulated crash). Stop at once.
    Crashed,
    /// The user interrupted (Ctrl-C) while eksform waited; the next apply goes on.
    Interrupted,
}

#[derive(Debug, Clone, thiserror::Error)]
pub struct CloudError {
    pub class: ErrorClass,
    pub code: Option<String>,
    pub message: String,
}

impl fmt::Display for CloudError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "{code}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl CloudError {
    pub fn new(class: ErrorClass, code: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            class,
            code: code.map(str::to_string),
            message: message.into(),
        }
    }

    pub fn rejected(message: impl Into<String>) -> Self {
        Self::new(ErrorClass::Rejected, None, message)
    }

    pub fn is_retryable(&self) -> bool {
        matches!(
            self.class,
            ErrorClass::Throttling | ErrorClass::Transient | ErrorClass::DependencyViolation
        )
    }
}

/// Everything the engine needs from an AWS account.
#[async_trait]
pub trait Cloud: Send + Sync {
    /// The caller's account id (STS GetCallerIdentity).
    async fn caller_account(&self) -> Result<String, CloudError>;
    /// All live resources of a kind that carry the stack's mark (or are brought).
    async fn observe(
        &self,
        kind: &'static dyn Kind,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError>;
    async fn create(
        &self,
        kind: &'static dyn Kind,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError>;
    /// Brings `live` to `desired` for the attributes that can change in place.
    async fn update(
        &self,
        kind: &'static dyn Kind,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError>;
    async fn delete(&self, kind: &'static dyn Kind, live: &LiveResource) -> Result<(), CloudError>;
    /// What already holds the name of a resource about to be created
    /// (`Kind::name_taken`), in words.
    async fn name_taken(
        &self,
        kind: &'static dyn Kind,
        desired: &crate::model::DesiredResource,
    ) -> Result<Option<String>, CloudError>;
    /// The resource's current state, `None` once it is gone: what waits poll.
    async fn read(
        &self,
        kind: &'static dyn Kind,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError>;
    /// The live resource `id` names, found whatever its marks, for an
    /// `adopt:` entry: `desired` (its address, and what a lookup needs, such
    /// as a node group's cluster) is the resource the spec declares there.
    /// The result carries `desired.address`; `None` when AWS has no such
    /// resource. Default: the kind cannot be adopted.
    async fn find_to_adopt(
        &self,
        kind: &'static dyn Kind,
        desired: &crate::model::DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        let _ = (desired, id);
        Err(CloudError::rejected(format!(
            "eksform cannot adopt a {} yet: remove its adopt entry",
            kind.name()
        )))
    }
    /// What the account says to a plan's preflight questions (read-only
    /// calls; see `preflight`). Default: nothing known, so no check is made:
    /// a cloud that models none of these facts checks nothing.
    async fn preflight_facts(
        &self,
        _questions: &crate::preflight::Questions,
    ) -> Result<crate::preflight::Facts, CloudError> {
        Ok(crate::preflight::Facts::default())
    }
}
