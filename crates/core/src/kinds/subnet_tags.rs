//! The subnets of a brought VPC (`vpc.id`): eksform creates nothing there and
//! only adds the tags EKS and the load balancer controller look for. It never
//! removes a tag from them, and destroy leaves them as they are.

use super::Kind;
use super::subnet::kubernetes_tags;
use crate::lower::{Network, StackModel};
use crate::model::{Address, DesiredResource, Value};

pub struct SubnetTags;

impl Kind for SubnetTags {
    fn service(&self) -> &'static str {
        "ec2"
    }

    fn name(&self) -> &'static str {
        "subnet_tags"
    }

    fn id_prefix(&self) -> &'static str {
        "subnet"
    }

    fn is_brought(&self) -> bool {
        true
    }

    fn looked_up_by(&self) -> Option<&'static str> {
        Some("id")
    }

    fn satisfied(&self, attribute: &str, live: &Value, desired: &Value) -> bool {
        match (attribute, live.as_map(), desired.as_map()) {
            // Enough that every wanted tag is there; other tags are someone else's.
            ("tags", Some(live), Some(desired)) => {
                desired.iter().all(|(k, v)| live.get(k) == Some(v))
            }
            _ => live == desired,
        }
    }

    fn lower(&self, stack: &StackModel) -> Vec<DesiredResource> {
        let Some(Network::Brought(network)) = &stack.network else {
            return vec![];
        };
        network
            .subnets
            .iter()
            .map(|(tier, zone, id)| {
                let tags = kubernetes_tags(tier, stack.cluster_name.as_deref())
                    .into_iter()
                    .collect();
                DesiredResource::new(self.name(), Address::new(&["subnet_tags", tier, zone]))
                    .with("id", Value::string(id.clone()))
                    .with("tags", Value::string_map(&tags))
            })
            .collect()
    }
}
