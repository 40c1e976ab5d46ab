//! AWS calls for Application load balancers of `loadBalancers`: in the public subnets when
//! internet-facing, the private ones when internal, behind their own security
//! group, with the idle timeout attribute. Also the ELBv2 helpers the target
//! group and listener kinds share (tags, the stack's load balancers).

use async_trait::async_trait;

use crate::{Adapter, AwsClients, Finding, error, not_found_is_done};
use aws_sdk_elasticloadbalancingv2::types::{
    LoadBalancerAttribute, LoadBalancerSchemeEnum, LoadBalancerStateEnum, LoadBalancerTypeEnum, Tag,
};
use eksform_core::cloud::{CloudError, CreateRequest, Scope};
use eksform_core::kinds::Kind;
use eksform_core::kinds::load_balancer::{IDLE_TIMEOUT, LoadBalancer, NAME_MAX, idle_timeout};
use eksform_core::kinds::tags::{required, tag_changes, tags_of};
use eksform_core::lower::fitted_prefix;
use eksform_core::model::{
    Attributes, DesiredResource, LiveResource, STACK_TAG, Status, Value, string_list,
};
use std::collections::{BTreeMap, HashMap};

/// Tags as ELBv2 takes them.
pub(crate) fn to_elb_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// The tags of ELBv2 resources by ARN, twenty ARNs per call (the API's limit).
pub(crate) async fn elb_tags(
    aws: &AwsClients,
    arns: &[String],
) -> Result<HashMap<String, BTreeMap<String, String>>, CloudError> {
    let mut found = HashMap::new();
    for chunk in arns.chunks(20) {
        let described = aws
            .elb
            .describe_tags()
            .set_resource_arns(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| error("DescribeTags", e))?;
        for description in described.tag_descriptions() {
            let tags = description
                .tags()
                .iter()
                .filter_map(|t| {
                    Some((
                        t.key()?.to_string(),
                        t.value().unwrap_or_default().to_string(),
                    ))
                })
                .filter(|(k, _)| !k.starts_with("aws:"))
                .collect();
            found.insert(
                description.resource_arn().unwrap_or_default().to_string(),
                tags,
            );
        }
    }
    Ok(found)
}

/// Adds and removes tags of an ELBv2 resource so the live tags become the desired ones.
pub(crate) async fn sync_elb_tags(
    aws: &AwsClients,
    arn: &str,
    live: &Attributes,
    desired: &Attributes,
) -> Result<(), CloudError> {
    let (set, removed) = tag_changes(live, desired);
    if !set.is_empty() {
        aws.elb
            .add_tags()
            .resource_arns(arn)
            .set_tags(Some(to_elb_tags(&set)))
            .send()
            .await
            .map_err(|e| error("AddTags", e))?;
    }
    if !removed.is_empty() {
        aws.elb
            .remove_tags()
            .resource_arns(arn)
            .set_tag_keys(Some(removed))
            .send()
            .await
            .map_err(|e| error("RemoveTags", e))?;
    }
    Ok(())
}

type Balancer = aws_sdk_elasticloadbalancingv2::types::LoadBalancer;

/// The region's load balancers, read once per observation.
pub(crate) async fn region_load_balancers(
    aws: &AwsClients,
    scope: &Scope,
) -> Result<std::sync::Arc<Vec<Balancer>>, CloudError> {
    scope
        .reads
        .get_or_read("elbv2: load balancers", || async {
            aws.elb
                .describe_load_balancers()
                // ELBv2's largest page.
                .page_size(400)
                .into_paginator()
                .items()
                .send()
                .try_collect()
                .await
                .map_err(|e| error("DescribeLoadBalancers", e))
        })
        .await
}

/// The region's load balancers with their tags (by ARN), read once per
/// observation.
pub(crate) async fn region_load_balancers_with_tags(
    aws: &AwsClients,
    scope: &Scope,
) -> Result<
    (
        std::sync::Arc<Vec<Balancer>>,
        std::sync::Arc<HashMap<String, BTreeMap<String, String>>>,
    ),
    CloudError,
> {
    let balancers = region_load_balancers(aws, scope).await?;
    let tags = scope
        .reads
        .get_or_read("elbv2: load balancer tags", || async {
            let arns: Vec<String> = balancers
                .iter()
                .filter_map(|b| b.load_balancer_arn().map(str::to_string))
                .collect();
            elb_tags(aws, &arns).await
        })
        .await?;
    Ok((balancers, tags))
}

/// The region's load balancers that carry the stack's mark, with their tags.
pub(crate) async fn stack_load_balancers(
    aws: &AwsClients,
    scope: &Scope,
) -> Result<Vec<(Balancer, BTreeMap<String, String>)>, CloudError> {
    // Only the tags of the load balancers that may be the stack's are read:
    // other teams' cost no call beyond the list's pages.
    let (balancers, vpcs) = tokio::try_join!(
        region_load_balancers(aws, scope),
        crate::ec2::vpc::stack_vpc_ids(aws, scope)
    )?;
    let arns: Vec<String> = balancers
        .iter()
        .filter(|b| {
            may_be_the_stacks_by(
                scope,
                &vpcs,
                Candidate {
                    kind: LoadBalancer.name(),
                    name: b.load_balancer_name().unwrap_or_default(),
                    arn: b.load_balancer_arn().unwrap_or_default(),
                    vpc: b.vpc_id().unwrap_or_default(),
                    name_max: NAME_MAX,
                },
            )
        })
        .filter_map(|b| b.load_balancer_arn().map(str::to_string))
        .collect();
    let tags = scope
        .reads
        .get_or_read(&format!("elbv2: load balancer tags of {arns:?}"), || {
            elb_tags(aws, &arns)
        })
        .await?;
    Ok(balancers
        .iter()
        .filter_map(|b| {
            let tags = tags.get(b.load_balancer_arn()?)?;
            scope
                .marked(tags.get(STACK_TAG))
                .then(|| (b.clone(), tags.clone()))
        })
        .collect())
}

/// A load balancer as AWS describes it, with its tags and attributes.
fn to_live(
    kind: &LoadBalancer,
    finding: Finding,
    balancer: &Balancer,
    tags: BTreeMap<String, String>,
    attributes: &[LoadBalancerAttribute],
) -> Result<Option<LiveResource>, CloudError> {
    let arn = balancer.load_balancer_arn().unwrap_or_default().to_string();
    let idle = attributes
        .iter()
        .find(|a| a.key() == Some(IDLE_TIMEOUT))
        .and_then(|a| a.value()?.parse::<i64>().ok());
    let subnets: Vec<String> = balancer
        .availability_zones()
        .iter()
        .filter_map(|z| z.subnet_id().map(str::to_string))
        .collect();
    let mut values = Attributes::new();
    let text = |s: Option<&str>| Value::string(s.unwrap_or_default());
    values.insert("name".into(), text(balancer.load_balancer_name()));
    values.insert(
        "scheme".into(),
        text(balancer.scheme().map(LoadBalancerSchemeEnum::as_str)),
    );
    values.insert("subnet_ids".into(), Value::string_set(&subnets));
    values.insert(
        "security_group_ids".into(),
        Value::string_set(balancer.security_groups()),
    );
    values.insert(
        "idle_timeout_seconds".into(),
        idle.map_or(Value::Null, Value::Int),
    );
    values.insert("arn".into(), Value::string(arn.clone()));
    values.insert("dns_name".into(), text(balancer.dns_name()));
    values.insert(
        "canonical_hosted_zone_id".into(),
        text(balancer.canonical_hosted_zone_id()),
    );
    let status = status_of(balancer.state().and_then(|s| s.code()))?;
    Ok(finding.live(kind.name(), &arn, tags, values, status))
}

async fn set_idle_timeout(aws: &AwsClients, arn: &str, seconds: &str) -> Result<(), CloudError> {
    aws.elb
        .modify_load_balancer_attributes()
        .load_balancer_arn(arn)
        .attributes(
            LoadBalancerAttribute::builder()
                .key(IDLE_TIMEOUT)
                .value(seconds)
                .build(),
        )
        .send()
        .await
        .map_err(|e| error("ModifyLoadBalancerAttributes", e))?;
    Ok(())
}

#[async_trait]
impl Adapter for LoadBalancer {
    async fn observe(
        &self,
        aws: &AwsClients,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        let balancers = stack_load_balancers(aws, scope).await?;
        // The idle timeout is an attribute: one call per load balancer, all at once.
        let read = balancers.iter().map(|(balancer, _)| async move {
            aws.elb
                .describe_load_balancer_attributes()
                .load_balancer_arn(balancer.load_balancer_arn().unwrap_or_default())
                .send()
                .await
                .map_err(|e| error("DescribeLoadBalancerAttributes", e))
        });
        let read = futures_util::future::try_join_all(read).await?;
        let mut found = Vec::new();
        for ((balancer, tags), attributes) in balancers.iter().zip(read) {
            found.extend(to_live(
                self,
                Finding::Stack(&scope.stack),
                balancer,
                tags.clone(),
                attributes.attributes(),
            )?);
        }
        Ok(found)
    }

    /// By ARN, or by name.
    async fn find_to_adopt(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        let request = aws.elb.describe_load_balancers();
        let request = if id.starts_with("arn:") {
            request.load_balancer_arns(id)
        } else {
            request.names(id)
        };
        let described = match request.send().await {
            Ok(out) => out,
            Err(e) => return crate::none_if_not_found(error("DescribeLoadBalancers", e)),
        };
        let Some(balancer) = described.load_balancers().first() else {
            return Ok(None);
        };
        let arn = balancer.load_balancer_arn().unwrap_or_default().to_string();
        let (mut tags, attributes) =
            tokio::try_join!(elb_tags(aws, std::slice::from_ref(&arn)), async {
                aws.elb
                    .describe_load_balancer_attributes()
                    .load_balancer_arn(&arn)
                    .send()
                    .await
                    .map_err(|e| error("DescribeLoadBalancerAttributes", e))
            })?;
        to_live(
            self,
            Finding::Adoption(&desired.address),
            balancer,
            tags.remove(&arn).unwrap_or_default(),
            attributes.attributes(),
        )
    }

    async fn create(
        &self,
        aws: &AwsClients,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        let attributes = &request.attributes;
        let created = aws
            .elb
            .create_load_balancer()
            .name(required(attributes, "name")?)
            .r#type(LoadBalancerTypeEnum::Application)
            .scheme(LoadBalancerSchemeEnum::from(required(
                attributes, "scheme",
            )?))
            .set_subnets(Some(string_list(attributes, "subnet_ids")))
            .set_security_groups(Some(string_list(attributes, "security_group_ids")))
            .set_tags(Some(to_elb_tags(&tags_of(attributes))))
            .send()
            .await
            .map_err(|e| error("CreateLoadBalancer", e))?;
        let balancer = created
            .load_balancers()
            .first()
            .ok_or_else(|| CloudError::rejected("CreateLoadBalancer returned no load balancer"))?;
        let arn = balancer.load_balancer_arn().unwrap_or_default().to_string();
        if let Some(seconds) = idle_timeout(attributes) {
            set_idle_timeout(aws, &arn, &seconds).await?;
        }
        let status = status_of(balancer.state().and_then(|s| s.code()))?;
        let mut live = request.created(self.name(), arn.clone(), status);
        live.attributes.insert("arn".into(), Value::string(arn));
        live.attributes.insert(
            "dns_name".into(),
            Value::string(balancer.dns_name().unwrap_or_default()),
        );
        live.attributes.insert(
            "canonical_hosted_zone_id".into(),
            Value::string(balancer.canonical_hosted_zone_id().unwrap_or_default()),
        );
        Ok(live)
    }

    async fn name_taken(
        &self,
        aws: &AwsClients,
        desired: &DesiredResource,
    ) -> Result<Option<String>, CloudError> {
        let name = required(&desired.attributes, "name")?;
        let found = aws
            .elb
            .describe_load_balancers()
            .names(name)
            .send()
            .await
            .map(|out| !out.load_balancers().is_empty())
            .map_err(|e| error("DescribeLoadBalancers", e));
        elb_name_taken("load balancer", name, found)
    }

    async fn update(
        &self,
        aws: &AwsClients,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        let changed = |name: &str| {
            desired.contains_key(name)
                && Value::string_set(&string_list(desired, name))
                    != Value::string_set(&string_list(&live.attributes, name))
        };
        if changed("subnet_ids") {
            aws.elb
                .set_subnets()
                .load_balancer_arn(&live.id)
                .set_subnets(Some(string_list(desired, "subnet_ids")))
                .send()
                .await
                .map_err(|e| error("SetSubnets", e))?;
        }
        if changed("security_group_ids") {
            aws.elb
                .set_security_groups()
                .load_balancer_arn(&live.id)
                .set_security_groups(Some(string_list(desired, "security_group_ids")))
                .send()
                .await
                .map_err(|e| error("SetSecurityGroups", e))?;
        }
        if let Some(seconds) = idle_timeout(desired)
            && idle_timeout(&live.attributes).as_ref() != Some(&seconds)
        {
            set_idle_timeout(aws, &live.id, &seconds).await?;
        }
        if desired.contains_key("tags") {
            sync_elb_tags(aws, &live.id, &live.attributes, desired).await?;
        }
        Ok(())
    }

    async fn delete(&self, aws: &AwsClients, live: &LiveResource) -> Result<(), CloudError> {
        match aws
            .elb
            .delete_load_balancer()
            .load_balancer_arn(&live.id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) => not_found_is_done(error("DeleteLoadBalancer", e)),
        }
    }
}

/// What an ELBv2 lookup by name (a load balancer's, a target group's) says of
/// a name the plan would create: taken, in words, or free (AWS answers "not
/// found" for a free one).
pub fn elb_name_taken(
    what: &str,
    name: &str,
    found: Result<bool, CloudError>,
) -> Result<Option<String>, CloudError> {
    match found {
        Ok(true) => Ok(Some(format!(
            "a {what} named `{name}` already exists in the region and is not this stack's: rename it in the spec or delete it"
        ))),
        Ok(false) => Ok(None),
        Err(e) => crate::none_if_not_found(e),
    }
}

/// Whether a load balancer's name is one eksform could have given it for the
/// stack (`<stack>-...`, cut to fit): what may be the stack's (any of the
/// stacks a shared read serves), before its tags say so.
pub(super) fn may_be_the_stacks(balancer: &Balancer, scope: &Scope) -> bool {
    scope.admits(|scope| {
        balancer.load_balancer_name().is_some_and(|name| {
            name.starts_with(fitted_prefix(&format!("{}-", scope.stack), NAME_MAX))
        })
    })
}

/// An ELBv2 resource (a load balancer, a target group) as its list call
/// gives it, before its tags are read.
pub(crate) struct Candidate<'a> {
    pub kind: &'a str,
    pub name: &'a str,
    pub arn: &'a str,
    pub vpc: &'a str,
    /// The length eksform cuts the kind's names to.
    pub name_max: usize,
}

/// Whether an ELBv2 resource may be the stack's, before its tags say so: in
/// one of the stack's VPCs (`vpcs`: where eksform makes them, and where an
/// adopted one stays, with or without its adopt entry), named as eksform
/// names the stack's (`<stack>-...`, cut to fit), or named by an adopt entry.
/// Anything when the scope is not the stack's spec (`Scope::from_spec`); for
/// every stack's read, what any of the stacks served may hold.
pub(crate) fn may_be_the_stacks_by(scope: &Scope, vpcs: &[String], candidate: Candidate) -> bool {
    scope.admits(|scope| {
        !scope.from_spec
            || vpcs.iter().any(|vpc| vpc == candidate.vpc)
            // Each stack's own (for every stack's read, `vpcs` holds the first's).
            || scope.brought_vpc.as_deref() == Some(candidate.vpc)
            || candidate.name.starts_with(fitted_prefix(
                &format!("{}-", scope.stack),
                candidate.name_max,
            ))
            || scope
                .adopt
                .iter()
                .filter(|d| d.kind == candidate.kind)
                .filter_map(|d| d.adopt.as_deref())
                .any(|id| id == candidate.arn || id == candidate.name)
    })
}

pub fn status_of(state: Option<&LoadBalancerStateEnum>) -> Result<Status, CloudError> {
    match state {
        Some(LoadBalancerStateEnum::Provisioning) => Ok(Status::Pending),
        Some(LoadBalancerStateEnum::Failed) => Err(CloudError::rejected(
            "the load balancer failed to provision (see its state reason in the console)",
        )),
        _ => Ok(Status::Ready),
    }
}
