//! How Terraform lets go of what eksform adopted without destroying it:
//! `removed` blocks (Terraform 1.7 and later) and the equivalent
//! `terraform state rm` commands. Pure.
//!
//! A `removed` block names a resource or a module call, never one instance
//! (Terraform refuses instance keys there), and replaces the block it
//! removes in the configuration. So a block is written only where everything
//! it would make Terraform forget leaves Terraform: a root resource whose
//! instances were all adopted (or go with one), or a whole module call whose
//! instances were all adopted or are a VPC's defaults. Anything else is said
//! in a comment, and the `terraform state rm` commands, one per instance,
//! cover it exactly.

use std::collections::BTreeMap;

use super::terraform::{Fate, StateInstance, TerraformImport};

/// The text of `removed.tf`.
pub fn removed_blocks(import: &TerraformImport) -> String {
    let leaving: Vec<&StateInstance> = import
        .instances
        .iter()
        .filter(|i| i.fate.leaves_terraform())
        .collect();
    let mut out = String::from(
        "# Written by `eksform import terraform`: Terraform (1.7 or later) forgets these\n\
         # resources without destroying them once eksform has adopted them.\n\
         # 1. Apply the eksform spec first (`eksform apply`): every resource adopted.\n\
         # 2. Delete from your configuration each resource or module block named below\n\
         #    (a removed block replaces the block it removes), then `terraform plan`:\n\
         #    it must say \"will no longer be managed by Terraform\" and destroy nothing.\n\
         # 3. `terraform apply`.\n",
    );
    if leaving.is_empty() {
        out.push_str("\n# Nothing was adopted: there is nothing for Terraform to forget.\n");
        return out;
    }

    // Root resources by resource address; module instances by top-level call.
    let mut root: BTreeMap<&str, Vec<&StateInstance>> = BTreeMap::new();
    let mut modules: BTreeMap<String, Vec<&StateInstance>> = BTreeMap::new();
    for instance in &import.instances {
        if instance.module.is_empty() {
            root.entry(instance.resource.as_str())
                .or_default()
                .push(instance);
        } else {
            modules
                .entry(module_call(&instance.module))
                .or_default()
                .push(instance);
        }
    }

    for (resource, instances) in &root {
        if !instances.iter().any(|i| i.fate.leaves_terraform()) {
            continue;
        }
        out.push('\n');
        if instances.iter().all(|i| i.fate.leaves_terraform()) {
            out.push_str(&block(resource, &described(instances)));
        } else {
            out.push_str(&format!(
                "# {resource}: only some of its instances were adopted, and a removed block\n\
                 # would make Terraform forget them all. Forget the adopted ones with:\n"
            ));
            for instance in instances.iter().filter(|i| i.fate.leaves_terraform()) {
                out.push_str(&format!("#   {}\n", state_rm(&instance.address)));
            }
        }
    }

    for (call, instances) in &modules {
        if !instances.iter().any(|i| i.fate.leaves_terraform()) {
            continue;
        }
        out.push('\n');
        let stays: Vec<&&StateInstance> = instances
            .iter()
            .filter(|i| {
                matches!(
                    i.fate,
                    Fate::Unmapped {
                        forget_freely: false
                    }
                )
            })
            .collect();
        if stays.is_empty() {
            out.push_str(&format!(
                "# Delete the `module \"{}\"` block: every resource it made was adopted{}.\n",
                call.trim_start_matches("module."),
                if instances.iter().any(|i| matches!(
                    i.fate,
                    Fate::Unmapped {
                        forget_freely: true
                    }
                )) {
                    " (its aws_default_* resources come and go with the VPC)"
                } else {
                    ""
                }
            ));
            out.push_str(&block(call, &described(instances)));
        } else {
            out.push_str(&format!(
                "# {call} also made resources eksform does not manage, and a removed block\n\
                 # for the module would make Terraform forget them too:\n"
            ));
            for instance in &stays {
                out.push_str(&format!("#   stays: {}\n", instance.address));
            }
            out.push_str(
                "# Such a module cannot stay in the configuration once its adopted resources\n\
                 # are gone from the state (Terraform would create them again). So:\n\
                 # 1. move what stays out of it: declare it at the root and `terraform state mv` it;\n\
                 # 2. forget the adopted ones:\n",
            );
            for instance in instances.iter().filter(|i| i.fate.leaves_terraform()) {
                out.push_str(&format!("#      {}\n", state_rm(&instance.address)));
            }
            out.push_str(&format!(
                "# 3. delete the `module \"{}\"` block.\n",
                call.trim_start_matches("module.")
            ));
        }
    }
    out
}

/// One `terraform state rm` command per instance that leaves Terraform.
pub fn state_rm_commands(import: &TerraformImport) -> Vec<String> {
    import
        .instances
        .iter()
        .filter(|i| i.fate.leaves_terraform())
        .map(|i| state_rm(&i.address))
        .collect()
}

/// A shell command; the address single-quoted (module keys hold `"`).
fn state_rm(address: &str) -> String {
    format!("terraform state rm '{}'", address.replace('\'', r"'\''"))
}

/// The top-level module call of a module path, without its instance key:
/// `module.eks.module.kms` -> `module.eks`, `module.vpc["a"]` -> `module.vpc`.
fn module_call(module: &str) -> String {
    let first = module
        .strip_prefix("module.")
        .and_then(|rest| rest.split(['.', '[']).next())
        .unwrap_or(module);
    format!("module.{first}")
}

/// Comment lines saying where each instance goes in eksform.
fn described(instances: &[&StateInstance]) -> String {
    instances
        .iter()
        .map(|i| match &i.fate {
            Fate::Adopted(address) => format!("#   {} -> {address}\n", i.address),
            Fate::GoesWith(address) => format!("#   {} (part of {address})\n", i.address),
            Fate::Unmapped { .. } => format!("#   {} (a VPC default)\n", i.address),
        })
        .collect()
}

fn block(from: &str, description: &str) -> String {
    format!(
        "{description}removed {{\n  from = {from}\n\n  lifecycle {{\n    destroy = false\n  }}\n}}\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Address;

    fn instance(address: &str, module: &str, fate: Fate) -> StateInstance {
        StateInstance {
            address: address.into(),
            resource: address.split('[').next().unwrap().into(),
            module: module.into(),
            resource_type: "aws_x".into(),
            fate,
        }
    }

    fn import(instances: Vec<StateInstance>) -> TerraformImport {
        TerraformImport {
            draft: super::super::Draft {
                stack: "s".into(),
                region: "r".into(),
                resources: vec![],
                unmapped: vec![],
            },
            instances,
        }
    }

    #[test]
    fn a_module_with_resources_that_stay_gets_state_rm_commands_not_a_removed_block() {
        let adopted = Fate::Adopted(Address("eks_cluster.main".into()));
        let text = removed_blocks(&import(vec![
            instance(
                "module.eks.aws_eks_cluster.this[0]",
                "module.eks",
                adopted.clone(),
            ),
            instance(
                "module.eks.module.kms.aws_kms_key.this[0]",
                "module.eks.module.kms",
                Fate::Unmapped {
                    forget_freely: false,
                },
            ),
            instance(
                "module.vpc.aws_vpc.this[0]",
                "module.vpc",
                Fate::Adopted(Address("vpc.main".into())),
            ),
            instance(
                "module.vpc.aws_default_security_group.this[0]",
                "module.vpc",
                Fate::Unmapped {
                    forget_freely: true,
                },
            ),
        ]));
        assert!(text.contains("removed {\n  from = module.vpc\n"), "{text}");
        assert!(!text.contains("from = module.eks"), "{text}");
        assert!(text.contains("#      terraform state rm 'module.eks.aws_eks_cluster.this[0]'"));
        assert!(text.contains("#   stays: module.eks.module.kms.aws_kms_key.this[0]"));
    }

    #[test]
    fn a_root_resource_is_removed_whole_only_when_every_instance_leaves() {
        let text = removed_blocks(&import(vec![
            instance(
                "aws_subnet.private[0]",
                "",
                Fate::Adopted(Address("subnet.private.a".into())),
            ),
            instance(
                "aws_subnet.private[1]",
                "",
                Fate::Unmapped {
                    forget_freely: false,
                },
            ),
            instance(
                "aws_vpc.main",
                "",
                Fate::Adopted(Address("vpc.main".into())),
            ),
        ]));
        assert!(
            text.contains("removed {\n  from = aws_vpc.main\n"),
            "{text}"
        );
        assert!(!text.contains("from = aws_subnet.private"), "{text}");
        assert!(text.contains("#   terraform state rm 'aws_subnet.private[0]'"));
        assert_eq!(module_call("module.vpc[\"a\"].module.x"), "module.vpc");
    }
}
