//! The VPC: CIDR, DNS support and hostnames (both on, as EKS needs), tags.

use super::{Change, Kind};
use crate::lower::{Network, StackModel, resource_name};
use crate::model::{Address, DesiredResource, Value, ownership_tags};

pub struct Vpc;

impl Vpc {
    pub fn address() -> Address {
        Address::new(&["vpc", "main"])
    }
}

impl Kind for Vpc {
    fn service(&self) -> &'static str {
        "ec2"
    }

    fn guarded(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "vpc"
    }

    fn id_prefix(&self) -> &'static str {
        "vpc"
    }

    fn change_of(&self, attribute: &str) -> Change {
        match attribute {
            "cidr_block" => Change::Replace,
            _ => Change::InPlace,
        }
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(Network::Created(network)) = &stack.network else {
            return vec![];
        };
        let address = Self::address();
        let name = resource_name(&stack.stack, &address);
        vec![
            DesiredResource::new(self.name(), address.clone())
                .with("cidr_block", Value::string(network.cidr.to_string()))
                .with("enable_dns_support", Value::Bool(true))
                .with("enable_dns_hostnames", Value::Bool(true))
                .with(
                    "tags",
                    Value::string_map(&ownership_tags(&stack.stack, &address, &name, &stack.tags)),
                ),
        ]
    }
}
