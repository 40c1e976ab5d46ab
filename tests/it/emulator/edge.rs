//! The edge against the emulator: an ALB with HTTPS, a requested wildcard
//! certificate and DNS in an adopted zone (changed in place, a target group
//! replaced, a clash with a foreign record refused), and a destroy removing
//! what the load balancer controller left in the VPC.

use eksform_aws::AwsClients;
use eksform_testkit::assertions::{assert_nothing_marked, marked_by};
use eksform_testkit::emulator::{Emulator, apply, destroy, plan_exit_code, write_spec};

use super::{REGION, cluster_spec};
use crate::EKSFORM;

/// The load balancer's listener on `port`.
async fn listener_on(
    aws: &AwsClients,
    load_balancer_arn: &str,
    port: i32,
) -> aws_sdk_elasticloadbalancingv2::types::Listener {
    let listeners = aws
        .elb
        .describe_listeners()
        .load_balancer_arn(load_balancer_arn)
        .send()
        .await
        .unwrap();
    listeners
        .listeners()
        .iter()
        .find(|l| l.port() == Some(port))
        .cloned()
        .unwrap_or_else(|| panic!("a listener on {port}"))
}

fn edge_spec(extra_record: &str) -> String {
    format!(
        r#"stack: edge
region: {REGION}
vpc:
  cidr: 10.60.0.0/16
  availabilityZones: [us-east-1a, us-east-1b]
  nat: {{ gateway: Disable }}
loadBalancers:
  - name: web
    scheme: internet-facing
    idleTimeoutSeconds: 300
    ingressCIDRs: [0.0.0.0/0]
    certificate: {{ domain: "*.dev.example.com" }}
    httpsRedirect: true
    targetGroups:
      - name: nginx
        port: 80
        targetType: ip
        healthCheckPath: /nginx-health
    defaultTargetGroup: nginx
dns:
  zone: dev.example.com
  records:
    - name: "*.dev.example.com"
      alias: {{ loadBalancer: web }}
    - name: status.dev.example.com
      type: CNAME
      ttl: 300
      values: [status.example.net]
{extra_record}"#
    )
}

async fn zone_records(
    aws: &AwsClients,
    zone: &str,
) -> Vec<aws_sdk_route53::types::ResourceRecordSet> {
    aws.route53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .send()
        .await
        .unwrap()
        .resource_record_sets()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_alb_with_https_certificate_and_dns_in_an_adopted_zone() {
    use aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum;
    use aws_sdk_route53::types::{
        Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
    };
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    // Someone else's zone, with someone else's record in it.
    let zone = aws
        .route53
        .create_hosted_zone()
        .name("dev.example.com")
        .caller_reference("made-by-hand")
        .send()
        .await
        .unwrap();
    let zone_id = zone
        .hosted_zone()
        .unwrap()
        .id()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let foreign = ResourceRecordSet::builder()
        .name("legacy.dev.example.com")
        .r#type(RrType::A)
        .ttl(60)
        .resource_records(
            ResourceRecord::builder()
                .value("192.0.2.1")
                .build()
                .unwrap(),
        )
        .build()
        .unwrap();
    aws.route53
        .change_resource_record_sets()
        .hosted_zone_id(&zone_id)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(ChangeAction::Create)
                        .resource_record_set(foreign)
                        .build()
                        .unwrap(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "edge.yaml", &edge_spec(""));
    let plan = emulator
        .eksform()
        .args(["plan"])
        .arg(&spec)
        .output()
        .unwrap();
    let plan_text = String::from_utf8_lossy(&plan.stdout);
    assert!(
        plan_text.contains("eksform did not make: used as it is"),
        "{plan_text}"
    );
    apply(&emulator, &spec);

    // The load balancer, its attribute, listeners, certificate and target group.
    let balancers = aws.elb.describe_load_balancers().send().await.unwrap();
    assert_eq!(balancers.load_balancers().len(), 1);
    let balancer = &balancers.load_balancers()[0];
    let lb_arn = balancer.load_balancer_arn().unwrap();
    assert_eq!(balancer.availability_zones().len(), 2, "the public subnets");
    let attributes = aws
        .elb
        .describe_load_balancer_attributes()
        .load_balancer_arn(lb_arn)
        .send()
        .await
        .unwrap();
    assert!(
        attributes
            .attributes()
            .iter()
            .any(|a| a.key() == Some("idle_timeout.timeout_seconds") && a.value() == Some("300"))
    );
    let groups = aws.elb.describe_target_groups().send().await.unwrap();
    assert_eq!(groups.target_groups().len(), 1);
    let group = &groups.target_groups()[0];
    assert_eq!(group.port(), Some(80));
    assert_eq!(group.target_type().map(|t| t.as_str()), Some("ip"));
    assert_eq!(group.health_check_path(), Some("/nginx-health"));
    let http = listener_on(&aws, lb_arn, 80).await.default_actions()[0].clone();
    assert_eq!(http.r#type(), Some(&ActionTypeEnum::Redirect));
    let redirect = http.redirect_config().unwrap();
    assert_eq!(
        (redirect.protocol(), redirect.port()),
        (Some("HTTPS"), Some("443"))
    );
    assert_eq!(redirect.status_code().map(|c| c.as_str()), Some("HTTP_301"));
    let https = listener_on(&aws, lb_arn, 443).await;
    assert_eq!(
        https.default_actions()[0].target_group_arn(),
        group.target_group_arn()
    );
    assert_eq!(https.ssl_policy(), Some(eksform_core::kinds::TLS_POLICY));
    let certificate_arn = https.certificates()[0].certificate_arn().unwrap();
    let certificate = aws
        .acm
        .describe_certificate()
        .certificate_arn(certificate_arn)
        .send()
        .await
        .unwrap();
    let certificate = certificate.certificate().unwrap();
    assert_eq!(certificate.domain_name(), Some("*.dev.example.com"));
    assert_eq!(certificate.status().map(|s| s.as_str()), Some("ISSUED"));

    // The zone was adopted, not duplicated; the alias points at the ALB.
    let zones = aws.route53.list_hosted_zones().send().await.unwrap();
    assert_eq!(zones.hosted_zones().len(), 1, "the zone is not duplicated");
    let records = zone_records(&aws, &zone_id).await;
    let named = |name: &str, kind: RrType| {
        records
            .iter()
            .find(|r| r.name().replace("\\052", "*") == name && r.r#type() == &kind)
            .cloned()
    };
    let alias = named("*.dev.example.com.", RrType::A).expect("the wildcard alias record");
    let target = alias.alias_target().unwrap();
    assert_eq!(
        target.dns_name().trim_end_matches('.'),
        balancer.dns_name().unwrap()
    );
    assert_eq!(
        target.hosted_zone_id(),
        balancer.canonical_hosted_zone_id().unwrap()
    );
    let cname = named("status.dev.example.com.", RrType::Cname).expect("the CNAME record");
    assert_eq!(
        cname.resource_records()[0].value().trim_end_matches('.'),
        "status.example.net"
    );
    let validation = certificate.domain_validation_options()[0]
        .resource_record()
        .unwrap();
    assert!(
        named(validation.name(), RrType::Cname).is_some(),
        "the validation record is in the zone"
    );
    let companion = named("_eksform-a._wildcard.dev.example.com.", RrType::Txt)
        .expect("the ownership companion");
    assert!(
        companion.resource_records()[0]
            .value()
            .contains("eksform:stack=edge")
    );
    assert!(named("legacy.dev.example.com.", RrType::A).is_some());

    let outputs = emulator
        .eksform()
        .args(["outputs", "--json"])
        .arg(&spec)
        .output()
        .unwrap();
    let outputs: serde_json::Value = serde_json::from_slice(&outputs.stdout).unwrap();
    assert_eq!(
        outputs["loadBalancerDNSNames"]["web"],
        balancer.dns_name().unwrap()
    );
    assert_eq!(
        outputs["targetGroupARNs"]["web/nginx"],
        group.target_group_arn().unwrap()
    );
    assert_eq!(outputs["hostedZoneId"], zone_id.as_str());
    let replan = emulator
        .eksform()
        .args(["plan", "--detailed-exitcode"])
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(
        replan.status.code(),
        Some(0),
        "re-plan has no changes:\n{}",
        String::from_utf8_lossy(&replan.stdout)
    );

    // A new port replaces the target group create-before-destroy: the HTTPS
    // listener moves to the new group, the old one goes.
    let moved = write_spec(
        &dir,
        "edge.yaml",
        &edge_spec("").replace("port: 80", "port: 8080"),
    );
    apply(&emulator, &moved);
    let groups = aws.elb.describe_target_groups().send().await.unwrap();
    assert_eq!(groups.target_groups().len(), 1, "the old group is gone");
    let new_group = &groups.target_groups()[0];
    assert_eq!(new_group.port(), Some(8080));
    assert_ne!(new_group.target_group_name(), group.target_group_name());
    let https = listener_on(&aws, lb_arn, 443).await;
    assert_eq!(
        https.default_actions()[0].target_group_arn(),
        new_group.target_group_arn()
    );
    assert_eq!(plan_exit_code(&emulator, &moved), 0);

    // Idle timeout, health check, the port-80 action and who may connect all
    // change in place: the same load balancer and target group, changed.
    let changed = write_spec(
        &dir,
        "edge.yaml",
        &edge_spec("")
            .replace("port: 80", "port: 8080")
            .replace("idleTimeoutSeconds: 300", "idleTimeoutSeconds: 120")
            .replace(
                "healthCheckPath: /nginx-health",
                "healthCheckPath: /healthz",
            )
            .replace("httpsRedirect: true", "httpsRedirect: false")
            .replace(
                "ingressCIDRs: [0.0.0.0/0]",
                "ingressCIDRs: [198.51.100.0/24]",
            ),
    );
    let plan = emulator
        .eksform()
        .args(["plan", "--json"])
        .arg(&changed)
        .output()
        .unwrap();
    let document: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let plan = &document["stacks"][0];
    let actions: Vec<&str> = plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["action"].as_str().unwrap())
        .filter(|a| *a != "no_op")
        .collect();
    assert!(
        !actions.is_empty() && actions.iter().all(|a| *a == "update"),
        "in place only: {actions:?}"
    );
    apply(&emulator, &changed);
    let balancers = aws.elb.describe_load_balancers().send().await.unwrap();
    assert_eq!(balancers.load_balancers().len(), 1);
    let balancer = &balancers.load_balancers()[0];
    assert_eq!(balancer.load_balancer_arn(), Some(lb_arn), "the same ALB");
    let attributes = aws
        .elb
        .describe_load_balancer_attributes()
        .load_balancer_arn(lb_arn)
        .send()
        .await
        .unwrap();
    let idle = attributes
        .attributes()
        .iter()
        .find(|a| a.key() == Some("idle_timeout.timeout_seconds"))
        .and_then(|a| a.value());
    assert_eq!(idle, Some("120"));
    let groups = aws.elb.describe_target_groups().send().await.unwrap();
    assert_eq!(groups.target_groups().len(), 1);
    assert_eq!(
        groups.target_groups()[0].target_group_arn(),
        new_group.target_group_arn(),
        "the same target group"
    );
    assert_eq!(
        groups.target_groups()[0].health_check_path(),
        Some("/healthz")
    );
    let http = listener_on(&aws, lb_arn, 80).await;
    assert_eq!(
        http.default_actions()[0].r#type(),
        Some(&aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum::Forward),
        "port 80 forwards once the redirect is off"
    );
    let security_group = balancer.security_groups()[0].clone();
    let groups = aws
        .ec2
        .describe_security_groups()
        .group_ids(&security_group)
        .send()
        .await
        .unwrap();
    let ingress: Vec<(i32, String)> = groups.security_groups()[0]
        .ip_permissions()
        .iter()
        .flat_map(|p| {
            p.ip_ranges().iter().map(move |r| {
                (
                    p.from_port().unwrap_or_default(),
                    r.cidr_ip().unwrap_or_default().to_string(),
                )
            })
        })
        .collect();
    assert!(
        ingress.contains(&(80, "198.51.100.0/24".into()))
            && ingress.contains(&(443, "198.51.100.0/24".into()))
            && !ingress.iter().any(|(_, cidr)| cidr == "0.0.0.0/0"),
        "{ingress:?}"
    );
    assert_eq!(plan_exit_code(&emulator, &changed), 0);

    // A record in the way that eksform does not own is a plan error, never overwritten.
    let clash = write_spec(
        &dir,
        "clash.yaml",
        &edge_spec(
            "    - name: legacy.dev.example.com\n      type: A\n      values: [192.0.2.99]\n",
        ),
    );
    let output = emulator.eksform().arg("plan").arg(&clash).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("carries no eksform mark"));

    destroy(&emulator, &spec);
    let balancers = aws.elb.describe_load_balancers().send().await.unwrap();
    assert!(balancers.load_balancers().is_empty(), "the ALB is gone");
    assert!(
        aws.elb
            .describe_target_groups()
            .send()
            .await
            .unwrap()
            .target_groups()
            .is_empty()
    );
    let left: Vec<String> = zone_records(&aws, &zone_id)
        .await
        .iter()
        .filter(|r| !matches!(r.r#type(), RrType::Ns | RrType::Soa))
        .map(|r| r.name().to_string())
        .collect();
    assert_eq!(
        left,
        vec!["legacy.dev.example.com."],
        "only the foreign record is left"
    );
    let zones = aws.route53.list_hosted_zones().send().await.unwrap();
    assert_eq!(zones.hosted_zones().len(), 1, "the adopted zone stays");
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_removes_what_the_load_balancer_controller_left_in_the_vpc() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let dir = tempfile::tempdir().unwrap();
    let spec = write_spec(&dir, "left.yaml", &cluster_spec("left", "198.51.100.7", 7));
    apply(&emulator, &spec);

    // What the AWS Load Balancer Controller makes for an Ingress: a security
    // group, an ALB in the public subnets and a target group, tagged with the cluster.
    let vpc = aws
        .ec2
        .describe_vpcs()
        .filters(marked_by("left"))
        .send()
        .await
        .unwrap()
        .vpcs()[0]
        .vpc_id()
        .unwrap()
        .to_string();
    let public: Vec<String> = aws
        .ec2
        .describe_subnets()
        .filters(marked_by("left"))
        .send()
        .await
        .unwrap()
        .subnets()
        .iter()
        .filter(|s| s.map_public_ip_on_launch() == Some(true))
        .filter_map(|s| s.subnet_id().map(str::to_string))
        .collect();
    let cluster_tag = |builder: aws_sdk_ec2::types::builders::TagSpecificationBuilder| {
        builder
            .tags(
                aws_sdk_ec2::types::Tag::builder()
                    .key("elbv2.k8s.aws/cluster")
                    .value("left-eks")
                    .build(),
            )
            .build()
    };
    let group = aws
        .ec2
        .create_security_group()
        .group_name("k8s-default-web-1a2b3c")
        .description("[k8s] Managed SecurityGroup for LoadBalancer")
        .vpc_id(&vpc)
        .tag_specifications(cluster_tag(
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::SecurityGroup),
        ))
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    let elb_tag = aws_sdk_elasticloadbalancingv2::types::Tag::builder()
        .key("elbv2.k8s.aws/cluster")
        .value("left-eks")
        .build();
    // A Service of type LoadBalancer (the in-tree provider) tags its group
    // `kubernetes.io/cluster/<cluster>=owned` instead.
    let legacy_group = aws
        .ec2
        .create_security_group()
        .group_name("k8s-elb-a1b2c3")
        .description("Security group for Kubernetes ELB")
        .vpc_id(&vpc)
        .tag_specifications(
            aws_sdk_ec2::types::TagSpecification::builder()
                .resource_type(aws_sdk_ec2::types::ResourceType::SecurityGroup)
                .tags(
                    aws_sdk_ec2::types::Tag::builder()
                        .key("kubernetes.io/cluster/left-eks")
                        .value("owned")
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap()
        .group_id()
        .unwrap()
        .to_string();
    let balancer = aws
        .elb
        .create_load_balancer()
        .name("k8s-default-web-1a2b3c")
        .set_subnets(Some(public))
        .security_groups(&group)
        .tags(elb_tag.clone())
        .send()
        .await
        .unwrap()
        .load_balancers()[0]
        .load_balancer_arn()
        .unwrap()
        .to_string();
    let target_group = aws
        .elb
        .create_target_group()
        .name("k8s-default-web-4d5e6f")
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(80)
        .vpc_id(&vpc)
        .target_type(aws_sdk_elasticloadbalancingv2::types::TargetTypeEnum::Ip)
        .tags(elb_tag)
        .send()
        .await
        .unwrap()
        .target_groups()[0]
        .target_group_arn()
        .unwrap()
        .to_string();
    // The Ingress's listener forwards to the target group: AWS refuses to
    // delete the target group while it stands (ResourceInUse).
    aws.elb
        .create_listener()
        .load_balancer_arn(&balancer)
        .protocol(aws_sdk_elasticloadbalancingv2::types::ProtocolEnum::Http)
        .port(80)
        .default_actions(
            aws_sdk_elasticloadbalancingv2::types::Action::builder()
                .r#type(aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum::Forward)
                .target_group_arn(&target_group)
                .build(),
        )
        .send()
        .await
        .unwrap();

    let output = emulator
        .eksform()
        .args(["destroy", "--auto-approve"])
        .arg(&spec)
        .output()
        .unwrap();
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let plan = String::from_utf8_lossy(&output.stdout);
    for leftover in [
        "controller_leftover.load_balancer.k8s-default-web-1a2b3c",
        "controller_leftover.target_group.k8s-default-web-4d5e6f",
        &format!("controller_leftover.security_group.{group}"),
        &format!("controller_leftover.security_group.{legacy_group}"),
    ] {
        assert!(
            plan.contains(&format!("- {leftover}")),
            "{leftover} in:\n{plan}"
        );
    }
    // After the cluster (whose controller would make them again), before the
    // subnets (which AWS will not delete under a load balancer).
    let progress = String::from_utf8_lossy(&output.stderr);
    let at = |needle: &str| {
        progress
            .find(needle)
            .unwrap_or_else(|| panic!("`{needle}` in:\n{progress}"))
    };
    let balancer_gone =
        at("controller_leftover.load_balancer.k8s-default-web-1a2b3c: Destruction complete");
    assert!(
        at("eks_cluster.main: Destruction complete")
            < at("controller_leftover.load_balancer.k8s-default-web-1a2b3c: Destroying...")
    );
    assert!(balancer_gone < at("subnet.public.us-east-1a: Destroying..."));
    assert!(
        balancer_gone
            < at("controller_leftover.target_group.k8s-default-web-4d5e6f: Destroying..."),
        "the load balancer (and its listener) goes before the target group it forwards to"
    );
    assert!(
        aws.elb
            .describe_load_balancers()
            .send()
            .await
            .unwrap()
            .load_balancers()
            .is_empty()
    );
    assert!(
        aws.elb
            .describe_target_groups()
            .send()
            .await
            .unwrap()
            .target_groups()
            .is_empty()
    );
    for group in [&group, &legacy_group] {
        assert!(
            aws.ec2
                .describe_security_groups()
                .group_ids(group)
                .send()
                .await
                .is_err(),
            "{group} is gone"
        );
    }
    assert_nothing_marked(&aws, "left").await;
}

/// Two load balancers of one stack, one on `*.shared.example.com`, the other on
/// `shared.example.com` (as many have: the apex and its subdomains). ACM gives
/// both certificates the same validation record, and Route 53 holds one
/// record of a name: one record serves both, and both certificates are
/// validated. When the load balancer that held the record's address leaves
/// the spec, the record stays where it is: no delete, no create.
#[tokio::test(flavor = "multi_thread")]
async fn certificates_of_one_domain_share_one_validation_record_that_never_moves() {
    let emulator = Emulator::start(EKSFORM);
    let aws = emulator.clients(REGION).await;
    let balancer = |name: &str, domain: &str| {
        format!(
            "  - name: {name}\n    scheme: internet-facing\n    ingressCIDRs: [0.0.0.0/0]\n    certificate: {{ domain: \"{domain}\" }}\n    targetGroups:\n      - {{ name: app, port: 80, targetType: ip }}\n    defaultTargetGroup: app\n"
        )
    };
    let spec_text = |balancers: &str| {
        format!(
            "stack: shared-cert\nregion: {REGION}\nvpc:\n  cidr: 10.61.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\n  nat: {{ gateway: Disable }}\nloadBalancers:\n{balancers}dns:\n  zone: shared.example.com\n"
        )
    };
    let dir = tempfile::tempdir().unwrap();
    let both = format!(
        "{}{}",
        balancer("web", "*.shared.example.com"),
        balancer("apex", "shared.example.com")
    );
    let spec = write_spec(&dir, "shared.yaml", &spec_text(&both));
    apply(&emulator, &spec);
    assert_eq!(plan_exit_code(&emulator, &spec), 0, "nothing left to do");
    let zone = aws
        .route53
        .list_hosted_zones_by_name()
        .dns_name("shared.example.com")
        .send()
        .await
        .unwrap()
        .hosted_zones()[0]
        .id()
        .to_string();
    let validation_records = || async {
        zone_records(&aws, &zone)
            .await
            .into_iter()
            .filter(|r| r.r#type() == &aws_sdk_route53::types::RrType::Cname)
            .map(|r| r.name().to_string())
            .collect::<Vec<_>>()
    };
    let records = validation_records().await;
    assert_eq!(records.len(), 1, "one validation record: {records:?}");

    // The first load balancer's domain moves: the other one's record takes
    // the name the first one's still holds, after that one is deleted.
    let moved = format!(
        "{}{}",
        balancer("web", "other.shared.example.com"),
        balancer("apex", "shared.example.com")
    );
    let spec = write_spec(&dir, "shared.yaml", &spec_text(&moved));
    eksform_testkit::emulator::apply_allowing_destroy(&emulator, &spec);
    assert_eq!(validation_records().await.len(), 2, "one record a domain");
    assert_eq!(plan_exit_code(&emulator, &spec), 0, "nothing left to do");
    // ...and back.
    let spec = write_spec(&dir, "shared.yaml", &spec_text(&both));
    eksform_testkit::emulator::apply_allowing_destroy(&emulator, &spec);
    assert_eq!(validation_records().await, records);
    assert_eq!(plan_exit_code(&emulator, &spec), 0, "nothing left to do");

    // The first load balancer goes: the record stays, at its address.
    let spec = write_spec(
        &dir,
        "shared.yaml",
        &spec_text(&balancer("apex", "shared.example.com")),
    );
    let plan = emulator
        .eksform()
        .args(["plan", "--json"])
        .arg(&spec)
        .output()
        .unwrap();
    let plan: serde_json::Value = serde_json::from_slice(&plan.stdout).unwrap();
    let records_changed: Vec<&serde_json::Value> = plan["stacks"][0]["resource_changes"]
        .as_array()
        .expect("the plan's changes")
        .iter()
        .filter(|r| {
            r["action"] != "no_op"
                && r["address"]
                    .as_str()
                    .is_some_and(|a| a.starts_with("dns_record."))
        })
        .collect();
    assert!(
        records_changed.is_empty(),
        "the record neither moves nor goes: {records_changed:?}"
    );
    eksform_testkit::emulator::apply_allowing_destroy(&emulator, &spec);
    assert_eq!(validation_records().await, records, "the same record");
    assert_eq!(plan_exit_code(&emulator, &spec), 0, "nothing left to do");

    destroy(&emulator, &spec);
    assert_nothing_marked(&aws, "shared-cert").await;
}
