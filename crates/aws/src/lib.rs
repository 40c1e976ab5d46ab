//! eksform's AWS side: the aws-sdk-rust clients, the mapping of SDK errors to
//! `CloudError`, and `AwsCloud`, the real `Cloud`. Each kind's calls live in
//! its adapter (`Adapter`), one module per AWS service (`ec2`, `eks`, `iam`,
//! `logs`, `route53`, `acm`, `elbv2`, `ecr`, `efs`) holding what that service's adapters
//! share; `lock` is the state bucket in S3; `preflight` the read-only facts a
//! plan checks before anything is created; `eks_token` the token an EKS API
//! server takes, signed here without a call.

pub mod acm;
pub mod cloudformation;
pub mod credentials;
pub mod ec2;
pub mod ecr;
pub mod efs;
pub mod eks;
pub mod eks_token;
pub mod elbv2;
pub mod iam;
pub mod lock;
pub mod logs;
pub mod preflight;
pub mod route53;
pub(crate) mod sdk_tags;
pub mod when;

use async_trait::async_trait;
use aws_config::{BehaviorVersion, Region, retry::RetryConfig, timeout::TimeoutConfig};
use aws_sdk_ec2::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use std::time::Duration;

use credentials::Credentials;

use eksform_core::cloud::{Cloud, CloudError, CreateRequest, ErrorClass, Scope};
use eksform_core::kinds::{self, Kind, tags};
use eksform_core::model::{Address, Attributes, DesiredResource, LiveResource, Status, Value};

/// A kind's AWS calls, kept thin: build requests and map responses. The
/// kind's rules (`Kind`) live in `eksform-core`; this is the other half.
#[async_trait]
pub trait Adapter: Kind {
    /// Every live resource of the kind that carries the scope's stack mark
    /// (or that the scope names).
    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError>;
    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError>;
    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError>;
    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError>;
    /// Whether an update must change `attribute`: the desired attributes
    /// name it and the live value does not satisfy it (by the attribute's
    /// comparison, `Kind::satisfied`). An attribute the desired state leaves
    /// out is not managed, so it never counts as changed.
    fn changed(&self, attribute: &str, live: &Attributes, desired: &Attributes) -> bool {
        desired.get(attribute).is_some_and(|wanted| {
            !self.satisfied(
                attribute,
                live.get(attribute).unwrap_or(&Value::Null),
                wanted,
            )
        })
    }
    /// For a resource the plan creates: what already holds its name in the
    /// account (a cluster, role, load balancer or target group of that name
    /// without the stack's mark), in words, so that the plan stops before
    /// anything is created instead of failing half-way through apply.
    async fn name_taken(
        &self,
        _aws: &AwsClients,
        _desired: &DesiredResource,
    ) -> Result<Option<String>, CloudError> {
        Ok(None)
    }
    /// The live resource `id` names, whatever its marks, for an `adopt:`
    /// entry (see `Cloud::find_to_adopt`); its address is `desired.address`.
    /// Default: the kind cannot be adopted.
    async fn find_to_adopt(
        &self,
        _aws: &AwsClients,
        _desired: &DesiredResource,
        _id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        Err(not_adoptable(
            self.name(),
            "eksform has no lookup by id for this kind",
        ))
    }
    /// The resource's current state, `None` once it is gone. Default: the
    /// kind's observation of the resource's stack, kept to its id.
    async fn read(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        let scope = Scope {
            stack: tags::stack_of(&live.attributes),
            ..Scope::default()
        };
        observed_by_id(self, aws, &scope, &live.id).await
    }
}

/// Whom a resource AWS described is read for: the stack's observation
/// (only what carries its mark, at the address the mark names) or an
/// `adopt:` entry (whatever the marks, at the entry's address). An adapter
/// turns what AWS answered into a live resource once, for both.
#[derive(Debug, Clone, Copy)]
pub enum Finding<'a> {
    /// The stack's (or, with `tags::EVERY_STACK`, every stack's) resources.
    Stack(&'a str),
    /// The resource an adopt entry names, at the entry's address.
    Adoption(&'a Address),
}

impl Finding<'_> {
    /// The live resource, with its live tags as the `tags` attribute; `None`
    /// for the stack's observation when it does not carry the stack's mark.
    pub fn live(
        self,
        kind: &str,
        id: &str,
        tags: std::collections::BTreeMap<String, String>,
        mut attributes: Attributes,
        status: Status,
    ) -> Option<LiveResource> {
        match self {
            Finding::Stack(stack) => tags::live(kind, stack, id, tags, attributes, status),
            Finding::Adoption(address) => {
                attributes.insert("tags".into(), Value::string_map(&tags));
                Some(LiveResource {
                    address: address.clone(),
                    kind: kind.into(),
                    id: id.into(),
                    attributes,
                    status,
                })
            }
        }
    }
}

/// The last part of an ARN or path (`arn:aws:iam::1:role/a/b` -> `b`): the
/// name adopt entries may give instead of the ARN.
pub fn last_part(id: &str) -> &str {
    id.rsplit(['/', ':']).next().unwrap_or(id)
}

/// The error for an `adopt:` entry of a kind that is not a resource of its
/// own in AWS, saying what to adopt instead.
pub fn not_adoptable(kind: &str, instead: &str) -> CloudError {
    CloudError::rejected(format!(
        "adopt: a {kind} cannot be adopted: {instead}; remove its adopt entry"
    ))
}

/// The resource of that id in the kind's observation of `scope`: how reads
/// find one resource through a list call.
pub async fn observed_by_id<A: Adapter + ?Sized>(
    adapter: &A,
    aws: &AwsClients,
    scope: &Scope,
    id: &str,
) -> Result<Option<LiveResource>, CloudError> {
    Ok(adapter
        .observe(aws, scope)
        .await?
        .into_iter()
        .find(|resource| resource.id == id))
}

/// Every kind's adapter. A kind of `eksform_core::kinds::ALL` without one
/// here fails the registry test (`tests/it/registry.rs`).
pub static ADAPTERS: &[&'static dyn Adapter] = &[
    &kinds::Vpc,
    &kinds::InternetGateway,
    &kinds::Subnet,
    &kinds::SubnetTags,
    &kinds::ElasticIp,
    &kinds::NatGateway,
    &kinds::RouteTable,
    &kinds::IamRole,
    &kinds::LogGroup,
    &kinds::EksCluster,
    &kinds::OidcProvider,
    &kinds::NodeGroup,
    &kinds::FargateProfile,
    &kinds::AccessEntry,
    &kinds::Addon,
    &kinds::PodIdentityAssociation,
    &kinds::HostedZone,
    &kinds::Certificate,
    &kinds::DnsRecord,
    &kinds::CertificateValidation,
    &kinds::SecurityGroup,
    &kinds::LoadBalancer,
    &kinds::TargetGroup,
    &kinds::Listener,
    &kinds::EcrRepository,
    &kinds::EfsFileSystem,
    &kinds::EfsMountTarget,
    &kinds::EfsAccessPoint,
    &kinds::ControllerLeftover,
];

/// The adapter of a kind.
pub fn adapter(kind: &dyn Kind) -> Result<&'static dyn Adapter, CloudError> {
    ADAPTERS
        .iter()
        .copied()
        .find(|adapter| adapter.name() == kind.name())
        .ok_or_else(|| CloudError::rejected(format!("no AWS adapter for `{}`", kind.name())))
}

/// A delete of something already gone has done its job.
pub fn not_found_is_done(e: CloudError) -> Result<(), CloudError> {
    if e.class == ErrorClass::NotFound {
        Ok(())
    } else {
        Err(e)
    }
}

/// A read that finds nothing: "not found" means gone, anything else is an error.
pub fn none_if_not_found<T>(e: CloudError) -> Result<Option<T>, CloudError> {
    if e.class == ErrorClass::NotFound {
        Ok(None)
    } else {
        Err(e)
    }
}

/// The answer of a read by id or name: what the service answered, `None`
/// when it says the resource does not exist (gone), anything else an error.
pub fn found<T, E>(
    operation: &str,
    result: Result<T, SdkError<E, HttpResponse>>,
) -> Result<Option<T>, CloudError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(answer) => Ok(Some(answer)),
        Err(e) => none_if_not_found(error(operation, e)),
    }
}

/// The result of a delete call: success, or already gone, is done.
pub fn deleted<T, E>(
    operation: &str,
    result: Result<T, SdkError<E, HttpResponse>>,
) -> Result<(), CloudError>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match result {
        Ok(_) => Ok(()),
        Err(e) => not_found_is_done(error(operation, e)),
    }
}

/// What the AWS side tells the user that is neither progress nor an error
/// (a certificate waiting for a record outside the stack, an endpoint that
/// lacks an API, a dead holder's lock taken over): the CLI shows each as a
/// warning, like the spec's. Without a listener (tests, the benchmark) they
/// go to the debug log only.
#[derive(Clone, Default)]
pub struct Warnings(Option<std::sync::Arc<dyn Fn(String) + Send + Sync>>);

impl Warnings {
    pub fn to(listener: impl Fn(String) + Send + Sync + 'static) -> Self {
        Self(Some(std::sync::Arc::new(listener)))
    }

    pub fn warn(&self, message: impl Into<String>) {
        let message = message.into();
        match &self.0 {
            Some(listener) => listener(message),
            None => tracing::debug!("warning: {message}"),
        }
    }
}

impl std::fmt::Debug for Warnings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Warnings(listened to)"
        } else {
            "Warnings(none)"
        })
    }
}

/// The SDK clients eksform uses, all for the stack's region.
#[derive(Clone, Debug)]
pub struct AwsClients {
    pub ec2: aws_sdk_ec2::Client,
    pub eks: aws_sdk_eks::Client,
    pub iam: aws_sdk_iam::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub sts: aws_sdk_sts::Client,
    pub elb: aws_sdk_elasticloadbalancingv2::Client,
    pub acm: aws_sdk_acm::Client,
    pub route53: aws_sdk_route53::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub efs: aws_sdk_efs::Client,
    pub s3: aws_sdk_s3::Client,
    /// eksctl's stacks, read and let go by `import eksctl` (not a kind).
    pub cloudformation: aws_sdk_cloudformation::Client,
    /// Where the adapters' warnings go.
    pub warnings: Warnings,
}

impl AwsClients {
    /// Clients for one SDK configuration.
    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        Self {
            ec2: aws_sdk_ec2::Client::new(config),
            eks: aws_sdk_eks::Client::new(config),
            iam: aws_sdk_iam::Client::new(config),
            logs: aws_sdk_cloudwatchlogs::Client::new(config),
            sts: aws_sdk_sts::Client::new(config),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(config),
            acm: aws_sdk_acm::Client::new(config),
            route53: aws_sdk_route53::Client::new(config),
            ecr: aws_sdk_ecr::Client::new(config),
            efs: aws_sdk_efs::Client::new(config),
            // A custom endpoint (an emulator) serves buckets by path, not by host name.
            // The state bucket's calls (the lock) have no engine retry above them:
            // S3's SlowDown is waited out longer than other services' throttling.
            s3: aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(config)
                    .force_path_style(config.endpoint_url().is_some())
                    .retry_config(
                        RetryConfig::standard()
                            .with_max_attempts(10)
                            .with_initial_backoff(Duration::from_millis(200)),
                    )
                    .build(),
            ),
            cloudformation: aws_sdk_cloudformation::Client::new(config),
            warnings: Warnings::default(),
        }
    }
}

/// How to reach AWS: the usual SDK environment and config files, plus the CLI's flags.
#[derive(Debug, Clone, Default)]
pub struct Connection {
    pub region: String,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
}

impl AwsClients {
    /// Clients for the connection, all with `credentials` (see
    /// `credentials::Credentials::resolve`).
    pub async fn connect(connection: &Connection, credentials: &Credentials) -> Self {
        let loader = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(connection.region.clone()))
            // Each call is retried a few times on throttling and 5xx by the SDK
            // (backoff with jitter), so that an operation made of several calls
            // (a role and its policies) does not fail as a whole for one
            // throttled call. The engine retries operations on top of that,
            // and owns everything else (dependency violations, AWS's lag).
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(4)
                    .with_initial_backoff(Duration::from_millis(200)),
            )
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .operation_attempt_timeout(Duration::from_secs(60))
                    .build(),
            );
        let mut loader = credentials.configure(loader);
        if let Some(profile) = &connection.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(url) = &connection.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let config = loader.load().await;
        Self::from_config(&config)
    }
}

/// The configuration of a call the SDK must not send again by itself: a create
/// without an idempotency token (CreateVpc, CreateRole, a Route53 change
/// batch), resent after a lost answer, would make a second resource or fail
/// as "already exists". The engine retries it instead, looking first for what
/// the lost attempt made (observe-before-create).
macro_rules! sent_once {
    ($sdk:ident) => {
        $sdk::config::Builder::default()
            .retry_config(aws_smithy_types::retry::RetryConfig::disabled())
    };
}
pub(crate) use sent_once;

/// Maps an SDK error to the engine's classes: throttling and 5xx are retried,
/// dependency violations are retried for a while, the rest fail fast with AWS's words.
pub fn error<E>(operation: &str, err: SdkError<E, HttpResponse>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    // A call without credentials: what the run said about them, as it is.
    if let Some(missing) = credentials::missing_in(&err) {
        return CloudError {
            class: ErrorClass::Rejected,
            code: Some(credentials::NO_CREDENTIALS.into()),
            message: missing,
        };
    }
    let code = err.code().map(str::to_string);
    let message = err
        .message()
        .map(str::to_string)
        .unwrap_or_else(|| credentials::one_line(&err));
    let class = match &err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) | SdkError::ResponseError(_) => {
            ErrorClass::Transient
        }
        SdkError::ServiceError(service) => {
            service_error_class(code.as_deref(), service.raw().status().as_u16(), &message)
        }
        _ => ErrorClass::Rejected,
    };
    CloudError {
        class,
        code: code.clone(),
        message: format!("{operation}: {message}"),
    }
}

/// The class of an error AWS answered.
pub fn service_error_class(code: Option<&str>, status: u16, message: &str) -> ErrorClass {
    // IAM is eventually consistent: a role made seconds ago may not be
    // assumable by EKS yet. Retried like a dependency that is not ready.
    // IAM's own "no such role" (NoSuchEntity) is an answer, never lag.
    if is_iam_lag(message) && !code.is_some_and(|c| c.starts_with("NoSuch")) {
        return ErrorClass::DependencyViolation;
    }
    classify(code, status)
}

fn is_iam_lag(message: &str) -> bool {
    let message = message.to_ascii_lowercase();
    (message.contains("role") && message.contains("be assumed"))
        || message.contains("not authorized to perform: sts:assumerole")
        || message.contains("the role with name") && message.contains("cannot be found")
}

fn classify(code: Option<&str>, status: u16) -> ErrorClass {
    match code {
        Some(
            "Throttling"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "TooManyRequestsException"
            | "RequestThrottled"
            | "SlowDown"
            | "PriorRequestNotComplete",
        ) => ErrorClass::Throttling,
        Some(
            "DependencyViolation"
            | "ResourceInUseException"
            | "ResourceInUse"
            | "InvalidIPAddress.InUse"
            | "HostedZoneNotEmpty"
            // EFS: a file system's mount targets are not gone yet.
            | "FileSystemInUse",
        ) => ErrorClass::DependencyViolation,
        Some(c)
            if c.contains("NotFound")
                || c.starts_with("NoSuch")
                || c == "ResourceNotFoundException" =>
        {
            ErrorClass::NotFound
        }
        Some("InternalError" | "InternalFailure" | "ServiceUnavailable" | "Unavailable") => {
            ErrorClass::Transient
        }
        _ if status >= 500 && code.is_some() => ErrorClass::Transient,
        // A HEAD answer has no body, so no code: S3's SlowDown is a bare 503.
        None if status == 503 => ErrorClass::Throttling,
        // A 5xx without an error code: the emulator's HTML answer for an API it
        // lacks. Retrying cannot help.
        _ => ErrorClass::Rejected,
    }
}

/// The real cloud.
pub struct AwsCloud {
    pub clients: AwsClients,
}

#[async_trait]
impl Cloud for AwsCloud {
    async fn caller_account(&self) -> Result<String, CloudError> {
        let identity = self
            .clients
            .sts
            .get_caller_identity()
            .send()
            .await
            .map_err(|e| error("GetCallerIdentity", e))?;
        identity
            .account
            .ok_or_else(|| CloudError::rejected("GetCallerIdentity returned no account"))
    }

    async fn observe(
        &self,
        kind: &'static dyn Kind,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        adapter(kind)?.observe(&self.clients, scope).await
    }

    async fn create(
        &self,
        kind: &'static dyn Kind,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        adapter(kind)?.create(&self.clients, request).await
    }

    async fn update(
        &self,
        kind: &'static dyn Kind,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        adapter(kind)?.update(&self.clients, live, desired).await
    }

    async fn delete(&self, kind: &'static dyn Kind, live: &LiveResource) -> Result<(), CloudError> {
        adapter(kind)?.delete(&self.clients, live).await
    }

    async fn name_taken(
        &self,
        kind: &'static dyn Kind,
        desired: &DesiredResource,
    ) -> Result<Option<String>, CloudError> {
        adapter(kind)?.name_taken(&self.clients, desired).await
    }

    async fn read(
        &self,
        kind: &'static dyn Kind,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        adapter(kind)?.read(&self.clients, live).await
    }

    async fn find_to_adopt(
        &self,
        kind: &'static dyn Kind,
        desired: &DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        adapter(kind)?
            .find_to_adopt(&self.clients, desired, id)
            .await
    }

    async fn preflight_facts(
        &self,
        questions: &eksform_core::preflight::Questions,
    ) -> Result<eksform_core::preflight::Facts, CloudError> {
        preflight::facts(&self.clients, questions).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_throttling_dependency_and_not_found() {
        assert_eq!(
            classify(Some("RequestLimitExceeded"), 503),
            ErrorClass::Throttling
        );
        assert_eq!(
            classify(Some("DependencyViolation"), 400),
            ErrorClass::DependencyViolation
        );
        assert_eq!(
            classify(Some("InvalidVpcID.NotFound"), 400),
            ErrorClass::NotFound
        );
        assert_eq!(classify(Some("InternalError"), 500), ErrorClass::Transient);
        assert_eq!(classify(None, 500), ErrorClass::Rejected);
        assert_eq!(classify(None, 503), ErrorClass::Throttling);
        assert_eq!(
            classify(Some("InvalidParameterValue"), 400),
            ErrorClass::Rejected
        );
    }

    #[test]
    fn a_role_eks_cannot_assume_yet_is_iam_lag() {
        // EKS's words for a role made seconds before (IAM is eventually consistent).
        assert!(is_iam_lag(
            "Role with arn: arn:aws:iam::123456789012:role/eksform/prd/prd-iam-role-cluster, could not be assumed because it does not exist or the trusted entity is not correct"
        ));
        assert!(!is_iam_lag("Subnet subnet-1 does not exist"));
    }

    #[test]
    fn iams_own_no_such_entity_is_not_lag() {
        // DeleteRole of a role already gone: "The role with name x cannot be found."
        let gone = "The role with name x cannot be found.";
        assert_eq!(
            service_error_class(Some("NoSuchEntity"), 404, gone),
            ErrorClass::NotFound
        );
        // The same words from EKS about a role it cannot see yet are lag.
        assert_eq!(
            service_error_class(Some("InvalidParameterException"), 400, gone),
            ErrorClass::DependencyViolation
        );
    }
}
