//! The internet gateway and its attachment to the VPC.

use super::Kind;
use super::vpc::Vpc;
use crate::lower::{Network, StackModel, resource_name};
use crate::model::{Address, DesiredResource, Value, ownership_tags};

pub struct InternetGateway;

impl InternetGateway {
    pub fn address() -> Address {
        Address::new(&["internet_gateway", "main"])
    }
}

impl Kind for InternetGateway {
    fn service(&self) -> &'static str {
        "ec2"
    }

    fn observes_every_stack(&self) -> bool {
        true
    }

    fn name(&self) -> &'static str {
        "internet_gateway"
    }

    fn id_prefix(&self) -> &'static str {
        "igw"
    }

    fn delete_refused_while(&self) -> &'static [&'static str] {
        // AWS refuses to detach while NAT gateways still map public addresses.
        &["nat_gateway", "elastic_ip"]
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(Network::Created(network)) = &stack.network else {
            return vec![];
        };
        if network.zones.iter().all(|z| z.public.is_none()) {
            return vec![];
        }
        let address = Self::address();
        let name = resource_name(&stack.stack, &address);
        vec![
            DesiredResource::new(self.name(), address.clone())
                .with("vpc_id", Value::reference(&Vpc::address(), "id"))
                .with(
                    "tags",
                    Value::string_map(&ownership_tags(&stack.stack, &address, &name, &stack.tags)),
                ),
        ]
    }
}
