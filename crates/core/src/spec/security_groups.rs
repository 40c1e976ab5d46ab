//! The spec types of `securityGroups`: groups in the stack's VPC whose rules
//! admit CIDRs, other groups of the stack or the named groups (`cluster`,
//! `nodes`, `loadBalancer.<name>`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::located::Located;

/// A security group in the stack's VPC (for a database or cache outside the
/// cluster that admits the nodes, say).
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecurityGroup {
    /// 1 to 63 lower-case letters, digits or '-'; other rules name the group by it.
    pub name: Located<String>,
    /// Default: `Security group <name> of stack <stack>`. Changing it replaces the group.
    #[serde(default)]
    pub description: Option<Located<String>>,
    /// Inbound rules, each with `from`.
    #[serde(default)]
    pub ingress: Vec<Located<SecurityGroupRule>>,
    /// Outbound rules, each with `to`. Default (omitted): everything out to
    /// anywhere; `[]`: nothing out.
    #[serde(default)]
    pub egress: Option<Located<Vec<Located<SecurityGroupRule>>>>,
}

/// One rule: a peer (`from` inbound, `to` outbound), a protocol and ports.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecurityGroupRule {
    /// Inbound: a CIDR, a group of `securityGroups` by name, `cluster`,
    /// `nodes` or `loadBalancer.<name>`.
    #[serde(default)]
    pub from: Option<Located<String>>,
    /// Outbound: the same choices as `from`.
    #[serde(default)]
    pub to: Option<Located<String>>,
    /// One port (tcp and udp).
    #[serde(default)]
    pub port: Option<Located<u16>>,
    /// A range `from-to` (tcp and udp), for example `1024-2048`.
    #[serde(default)]
    pub ports: Option<Located<String>>,
    /// tcp (default) | udp | icmp (every type) | all (every protocol and port).
    #[serde(default)]
    pub protocol: Option<Located<RuleProtocol>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RuleProtocol {
    Tcp,
    Udp,
    Icmp,
    All,
}
