//! An estate: several stack files given to one command (`eksform plan stacks/`).
//! Owns which files are stacks (a base that other files of the set extend is
//! not one) and the order that lets every `fromStack` see its stack first.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::lower::StackModel;

/// The stack files among `paths`: directories give their `*.yaml` and `*.yml`
/// files (sorted); files that another file of the set extends are bases, not
/// stacks, and are left out.
pub fn stack_files(paths: &[PathBuf]) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(path)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
                .collect();
            found.sort();
            files.extend(found);
        } else {
            files.push(path.clone());
        }
    }
    let bases: BTreeSet<PathBuf> = files
        .iter()
        .filter_map(|f| crate::spec::extends_target(f))
        .map(|b| canonical(&b))
        .collect();
    files.retain(|f| !bases.contains(&canonical(f)));
    Ok(files)
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Indices of `stacks` in an order where each stack comes after the stacks of
/// the set that it refers to (`fromStack`), otherwise in the given order. A
/// cycle of references is an error naming it.
pub fn order(stacks: &[&StackModel]) -> Result<Vec<usize>, String> {
    // A stack is its name in its region: one name may stand in two regions.
    let index: BTreeMap<(&str, &str), usize> = stacks
        .iter()
        .enumerate()
        .map(|(i, s)| ((s.stack.as_str(), s.region.as_str()), i))
        .collect();
    let needs: Vec<Vec<usize>> = stacks
        .iter()
        .map(|s| {
            // A reference to another account (`roleARN`) names no stack of this set.
            let mut needs: Vec<usize> = s
                .references
                .iter()
                .filter(|r| r.role_arn.is_none())
                .filter_map(|r| {
                    let region = r.region.as_deref().unwrap_or(&s.region);
                    index.get(&(r.from_stack.as_str(), region)).copied()
                })
                .collect();
            needs.sort();
            needs.dedup();
            needs
        })
        .collect();
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Visiting,
        Done,
    }
    fn visit(
        i: usize,
        needs: &[Vec<usize>],
        marks: &mut [Mark],
        path: &mut Vec<usize>,
        ordered: &mut Vec<usize>,
    ) -> Result<(), Vec<usize>> {
        match marks[i] {
            Mark::Done => return Ok(()),
            Mark::Visiting => {
                let start = path.iter().position(|&p| p == i).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(i);
                return Err(cycle);
            }
            Mark::New => {}
        }
        marks[i] = Mark::Visiting;
        path.push(i);
        for &need in &needs[i] {
            visit(need, needs, marks, path, ordered)?;
        }
        path.pop();
        marks[i] = Mark::Done;
        ordered.push(i);
        Ok(())
    }
    let mut marks = vec![Mark::New; stacks.len()];
    let mut ordered = Vec::new();
    for i in 0..stacks.len() {
        visit(i, &needs, &mut marks, &mut Vec::new(), &mut ordered).map_err(|cycle| {
            let names: Vec<&str> = cycle.iter().map(|&i| stacks[i].stack.as_str()).collect();
            format!(
                "the stacks refer to each other in a cycle: {}",
                names.join(" -> ")
            )
        })?;
    }
    Ok(ordered)
}

/// The stacks among `others` that refer to `target` (a `fromStack` naming it,
/// in its region): destroying `target` would leave what they made from its
/// outputs (an endpoint admitting its NAT addresses) pointing at nothing.
pub fn referring(target: &StackModel, others: &[&StackModel]) -> Vec<usize> {
    others
        .iter()
        .enumerate()
        .filter(|(_, other)| {
            other.stack != target.stack
                && other.references.iter().any(|r| {
                    r.role_arn.is_none()
                        && r.from_stack == target.stack
                        && r.region.as_deref().unwrap_or(&other.region) == target.region
                })
        })
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::SourceFile;

    fn model(stack: &str, refers_to: &[&str]) -> StackModel {
        let references: String = refers_to
            .iter()
            .map(|r| format!("    - {{ fromStack: {r}, output: natPublicIPs }}\n"))
            .collect();
        let text = format!(
            "stack: {stack}\nregion: us-east-1\nvpc:\n  cidr: 10.0.0.0/16\n  availabilityZones: [us-east-1a, us-east-1b]\ncluster:\n  publicAccessCIDRs:\n    - 192.0.2.1\n{references}"
        );
        let loaded = crate::spec::parse(SourceFile::new(format!("{stack}.yaml"), text)).unwrap();
        crate::lower::model(&loaded.spec)
    }

    #[test]
    fn the_stacks_referring_to_one_are_found_in_its_region_only() {
        let (ops, prd, dev, tools) = (
            model("ops", &[]),
            model("prd", &["ops", "dev"]),
            model("dev", &["tools"]),
            model("tools", &["ops"]),
        );
        assert_eq!(referring(&ops, &[&ops, &prd, &dev, &tools]), vec![1, 3]);
        assert!(referring(&prd, &[&ops, &prd, &dev, &tools]).is_empty());
        let mut elsewhere = model("ops", &[]);
        elsewhere.region = "eu-west-1".into();
        assert!(referring(&elsewhere, &[&prd, &tools]).is_empty());
    }

    #[test]
    fn referenced_stacks_come_first_and_the_rest_keep_their_order() {
        let (prd, ops, dev, tools) = (
            model("prd", &["ops", "dev"]),
            model("ops", &[]),
            model("dev", &["tools", "elsewhere"]),
            model("tools", &[]),
        );
        let order = order(&[&prd, &ops, &dev, &tools]).unwrap();
        assert_eq!(order, vec![1, 3, 2, 0]);
    }

    /// A stack in `network`'s VPC (a text field's reference), and one that
    /// names a `network` of another account through a role.
    fn tenant(stack: &str, role: Option<&str>) -> StackModel {
        let role = role
            .map(|r| format!(", roleARN: \"{r}\""))
            .unwrap_or_default();
        let text = format!(
            "stack: {stack}\nregion: us-east-1\nvpc:\n  id: {{ fromStack: network, output: vpcId{role} }}\n  subnets:\n    private:\n      us-east-1a: {{ id: subnet-0aaaaaaaaaaaaaaa1 }}\n"
        );
        let loaded = crate::spec::parse(SourceFile::new(format!("{stack}.yaml"), text)).unwrap();
        crate::lower::model(&loaded.spec)
    }

    #[test]
    fn references_of_text_fields_order_the_stacks_unless_they_name_another_account() {
        let (network, blue, foreign) = (
            model("network", &[]),
            tenant("blue", None),
            tenant("foreign", Some("arn:aws:iam::222233334444:role/reader")),
        );
        assert_eq!(order(&[&blue, &foreign, &network]).unwrap(), vec![2, 0, 1]);
        assert_eq!(referring(&network, &[&blue, &foreign]), vec![0]);
    }

    #[test]
    fn a_stack_name_in_two_regions_orders_each_regions_stacks_by_their_own() {
        let in_region = |mut stack: StackModel, region: &str| {
            stack.region = region.into();
            stack
        };
        let (app_east, app_west, network_east, network_west) = (
            model("app", &["network"]),
            in_region(model("app", &["network"]), "us-west-2"),
            model("network", &[]),
            in_region(model("network", &[]), "us-west-2"),
        );
        let order = order(&[&app_east, &app_west, &network_east, &network_west]).unwrap();
        let position = |i: usize| order.iter().position(|&o| o == i).unwrap();
        assert!(
            position(2) < position(0),
            "us-east-1's network first: {order:?}"
        );
        assert!(
            position(3) < position(1),
            "us-west-2's network first: {order:?}"
        );
    }

    #[test]
    fn a_cycle_of_references_is_named() {
        let (a, b) = (model("a", &["b"]), model("b", &["a"]));
        assert_eq!(
            order(&[&a, &b]).unwrap_err(),
            "the stacks refer to each other in a cycle: a -> b -> a"
        );
    }
}
