//! The executor's graph: a plan's operations and the edges that order them.
//!
//! Built the way Terraform's core builds its graphs: first one operation per
//! change (`operations_from_plan`), then a list of named transformations, each
//! adding the edges (or operations) of one rule (`ORDERING_RULES`). Each rule
//! says why AWS needs it and is tested on its own.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;

use crate::cloud::CloudError;
use crate::kinds::{self, Kind};
use crate::model::{Address, DesiredResource, LiveResource, Status};
use crate::plan::{Action, Plan};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Operation {
    Create,
    Update,
    Delete,
    /// Wait for a resource found pending (created by an earlier, interrupted apply).
    Wait,
    /// First half of an update that must let go of a resource being replaced
    /// before it is deleted (a route table's association with a subnet whose
    /// CIDR changes): the update without the values known only after apply.
    Release,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::Wait => "wait",
            Operation::Release => "release",
        })
    }
}

/// One operation on one resource.
pub(crate) struct Node {
    pub(crate) address: Address,
    pub(crate) operation: Operation,
    pub(crate) kind: &'static dyn Kind,
    pub(crate) desired: Option<DesiredResource>,
    pub(crate) live: Option<LiveResource>,
    /// The operations this one waits for (indices into the graph's nodes).
    pub(crate) dependencies: Vec<usize>,
    /// For the delete half of a create-before-destroy replacement: the create.
    pub(crate) replaced_by: Option<usize>,
}

/// A plan's operations, each with the operations it waits for.
pub(crate) struct Graph {
    pub(crate) nodes: Vec<Node>,
}

/// A rule that adds to a graph the edges (or operations) it needs.
type Transformation = fn(&mut Graph);

/// The rules that order a plan's operations, applied in this order to the
/// operations from the plan. Only the releases depend on the order:
/// `release_after_refusing_kinds` orders the releases that
/// `release_what_holds_a_replaced_resource` adds.
const ORDERING_RULES: &[Transformation] = &[
    after_references,
    delete_before_create,
    create_before_destroy,
    create_after_what_is_in_its_way,
    delete_after_what_holds_it,
    release_what_holds_a_replaced_resource,
    delete_after_kinds,
    release_after_refusing_kinds,
];

/// Operations of a plan, with the edges that order them; refused when they
/// form a cycle.
pub(crate) fn build_graph(plan: &Plan) -> Result<Graph, CloudError> {
    let mut graph = operations_from_plan(plan)?;
    for rule in ORDERING_RULES {
        rule(&mut graph);
    }
    for node in &mut graph.nodes {
        node.dependencies.sort();
        node.dependencies.dedup();
    }
    check_acyclic(&graph.nodes)?;
    Ok(graph)
}

/// One operation per change, in plan order: create, update, delete, a wait
/// for a resource found pending; a replacement is a delete and a create, the
/// create first for kinds that replace create-before-destroy.
fn operations_from_plan(plan: &Plan) -> Result<Graph, CloudError> {
    let mut nodes: Vec<Node> = Vec::new();
    for change in &plan.resources {
        let kind = kinds::by_name(&change.kind).ok_or_else(|| {
            CloudError::rejected(format!(
                "unknown resource kind `{}` in the plan",
                change.kind
            ))
        })?;
        let node = |operation, desired: Option<DesiredResource>, live: Option<LiveResource>| Node {
            address: change.address.clone(),
            operation,
            kind,
            desired,
            live,
            dependencies: Vec::new(),
            replaced_by: None,
        };
        match change.action {
            Action::Create => nodes.push(node(Operation::Create, change.desired.clone(), None)),
            // Adopting marks the resource and makes its in-place changes;
            // releasing removes the mark: both are updates.
            Action::Update | Action::Adopt | Action::Release => nodes.push(node(
                Operation::Update,
                change.desired.clone(),
                change.live.clone(),
            )),
            // A failed resource is no capacity to keep: it goes first, and its
            // name is free for the new one.
            Action::Replace
                if kind.create_before_destroy()
                    && change.live.as_ref().map(|l| l.status) != Some(Status::Failed) =>
            {
                nodes.push(node(Operation::Create, change.desired.clone(), None));
                let mut delete = node(Operation::Delete, None, change.live.clone());
                delete.replaced_by = Some(nodes.len() - 1);
                nodes.push(delete);
            }
            Action::Replace => {
                nodes.push(node(Operation::Delete, None, change.live.clone()));
                nodes.push(node(Operation::Create, change.desired.clone(), None));
            }
            Action::Delete => nodes.push(node(Operation::Delete, None, change.live.clone())),
            Action::NoOp => {
                if change
                    .live
                    .as_ref()
                    .is_some_and(|l| l.status == Status::Pending)
                {
                    nodes.push(node(Operation::Wait, None, change.live.clone()));
                }
            }
        }
    }
    Ok(Graph { nodes })
}

/// Creates and updates after the operations that make what they refer to
/// ready (its create, update or wait; a delete makes nothing ready): AWS
/// refuses a subnet in a VPC that does not exist yet, and an id known only
/// after apply is known once its create is done.
fn after_references(graph: &mut Graph) {
    let makes_ready = graph.makes_ready();
    for index in graph.indices_of(&[Operation::Create, Operation::Update]) {
        let Some(desired) = &graph.nodes[index].desired else {
            continue;
        };
        let ready: Vec<usize> = desired
            .dependencies()
            .iter()
            .filter_map(|dependency| makes_ready.get(dependency).copied())
            .collect();
        graph.nodes[index].dependencies.extend(ready);
    }
}

/// A create after the deletes at its address (the resource it replaces, and
/// duplicates), except the delete of its own create-before-destroy
/// replacement: the new resource takes the old one's name (a cluster's, a
/// role's), which AWS holds until the old one is gone.
fn delete_before_create(graph: &mut Graph) {
    let deletes_at = graph.deletes_by_address();
    for index in graph.indices_of(&[Operation::Create]) {
        let Some(deletes) = deletes_at.get(&graph.nodes[index].address) else {
            continue;
        };
        let before: Vec<usize> = deletes
            .iter()
            .copied()
            .filter(|&delete| graph.nodes[delete].replaced_by != Some(index))
            .collect();
        graph.nodes[index].dependencies.extend(before);
    }
}

/// The delete half of a create-before-destroy replacement after its create:
/// the old node group, target group or certificate serves until the new one
/// is ready, so capacity never drops.
fn create_before_destroy(graph: &mut Graph) {
    for index in graph.indices_of(&[Operation::Delete]) {
        if let Some(create) = graph.nodes[index].replaced_by {
            graph.nodes[index].dependencies.push(create);
        }
    }
}

/// A create after the deletes of same-kind resources in its way
/// (`Kind::in_the_way`): AWS refuses a subnet whose CIDR overlaps one that
/// still exists in the VPC.
fn create_after_what_is_in_its_way(graph: &mut Graph) {
    let deletes = graph.indices_of(&[Operation::Delete]);
    for index in graph.indices_of(&[Operation::Create]) {
        let node = &graph.nodes[index];
        let Some(desired) = &node.desired else {
            continue;
        };
        let in_the_way: Vec<usize> = deletes
            .iter()
            .copied()
            .filter(|&delete| {
                let other = &graph.nodes[delete];
                other.kind.name() == node.kind.name()
                    && other
                        .live
                        .as_ref()
                        .is_some_and(|live| node.kind.in_the_way(desired, live))
            })
            .collect();
        graph.nodes[index].dependencies.extend(in_the_way);
    }
}

/// A delete after the updates and deletes of the resources whose live
/// attributes hold its id or ARN: AWS refuses to delete what is still in use
/// (a NAT gateway a route table routes to, a subnet a route table is
/// associated with, a role a cluster runs as). An update that will refer to
/// a replacement made after the delete lets go of the old one in a release
/// instead (`release_what_holds_a_replaced_resource`).
fn delete_after_what_holds_it(graph: &mut Graph) {
    for index in graph.indices_of(&[Operation::Delete]) {
        let holders: Vec<usize> = (0..graph.nodes.len())
            .filter(|&other| other != index && graph.holds(other, index))
            .filter(|&other| match graph.nodes[other].operation {
                Operation::Delete => true,
                Operation::Update => !graph.releases_first(other, index),
                _ => false,
            })
            .collect();
        graph.nodes[index].dependencies.extend(holders);
    }
}

/// A release for each update that holds a resource being deleted and will
/// refer to its replacement, which is created after that delete: the update
/// cannot go first (it needs the replacement), nor the delete (AWS refuses
/// it while held), so the release updates the holder without the values known
/// only after apply (a route table lets go of the old subnet). The delete and
/// the update wait for it; one release per updated resource.
fn release_what_holds_a_replaced_resource(graph: &mut Graph) {
    let mut releases: Vec<(usize, usize)> = Vec::new();
    for delete in graph.indices_of(&[Operation::Delete]) {
        for update in graph.indices_of(&[Operation::Update]) {
            if graph.holds(update, delete) && graph.releases_first(update, delete) {
                releases.push((update, delete));
            }
        }
    }
    let mut release_of: BTreeMap<usize, usize> = BTreeMap::new();
    for (update, delete) in releases {
        let release = *release_of.entry(update).or_insert_with(|| {
            let node = &graph.nodes[update];
            graph.nodes.push(Node {
                address: node.address.clone(),
                operation: Operation::Release,
                kind: node.kind,
                desired: node.desired.clone(),
                live: node.live.clone(),
                dependencies: Vec::new(),
                replaced_by: None,
            });
            graph.nodes.len() - 1
        });
        graph.nodes[delete].dependencies.push(release);
        graph.nodes[update].dependencies.push(release);
    }
}

/// A delete after the deletes of the kinds its kind names: `delete_after`,
/// ordering only (the OIDC provider, the roles and the log group after the
/// cluster, which uses them until it is gone), and `delete_refused_while`,
/// what AWS refuses (an internet gateway detaches only once the NAT gateways
/// and Elastic IPs that map addresses through it are gone).
fn delete_after_kinds(graph: &mut Graph) {
    let deletes = graph.indices_of(&[Operation::Delete]);
    for &index in &deletes {
        let node = &graph.nodes[index];
        // A delete without live state (only a hand-edited plan file has
        // one) fails as it starts; it has never waited for other kinds.
        if node.live.is_none() {
            continue;
        }
        let after: Vec<usize> = deletes
            .iter()
            .copied()
            .filter(|&other| {
                other != index && node.kind.deletes_wait_for(graph.nodes[other].kind.name())
            })
            .collect();
        graph.nodes[index].dependencies.extend(after);
    }
}

/// A release after the deletes of the kinds whose existence makes AWS refuse
/// it, as it would refuse the delete (an internet gateway detaches from the
/// old VPC only once the NAT gateways are gone). Ordering-only `delete_after`
/// kinds do not apply: the resource itself stays.
fn release_after_refusing_kinds(graph: &mut Graph) {
    let deletes = graph.indices_of(&[Operation::Delete]);
    for index in graph.indices_of(&[Operation::Release]) {
        let refused_while = graph.nodes[index].kind.delete_refused_while();
        let after: Vec<usize> = deletes
            .iter()
            .copied()
            .filter(|&delete| refused_while.contains(&graph.nodes[delete].kind.name()))
            .collect();
        graph.nodes[index].dependencies.extend(after);
    }
}

/// Operations of a kind AWS changes one at a time (EKS creates or deletes one
/// Fargate profile of a cluster at a time, and refuses another) one after
/// another, in plan order, unless the later one is already a direct
/// dependency of the earlier. Not one of `ORDERING_RULES`: the executor holds
/// a per-kind lock instead, so the one ready first goes first and a failure
/// skips none of the others; the critical path takes these edges to count the
/// operations one after another.
pub(crate) fn one_at_a_time(graph: &mut Graph) {
    let mut previous: BTreeMap<&'static str, usize> = BTreeMap::new();
    for index in 0..graph.nodes.len() {
        let kind = graph.nodes[index].kind;
        if !kind.one_at_a_time() {
            continue;
        }
        if let Some(&before) = previous.get(kind.name())
            && !graph.nodes[before].dependencies.contains(&index)
        {
            graph.nodes[index].dependencies.push(before);
        }
        previous.insert(kind.name(), index);
    }
}

impl Graph {
    /// The operations of these kinds, in graph order.
    fn indices_of(&self, operations: &[Operation]) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&index| operations.contains(&self.nodes[index].operation))
            .collect()
    }

    /// The operation after which an address is ready for what refers to it:
    /// its create, update or wait (the last one, for an address the plan
    /// lists more than once).
    fn makes_ready(&self) -> BTreeMap<Address, usize> {
        self.indices_of(&[Operation::Create, Operation::Update, Operation::Wait])
            .into_iter()
            .map(|index| (self.nodes[index].address.clone(), index))
            .collect()
    }

    /// Every delete at an address: the replaced resource and any duplicates.
    fn deletes_by_address(&self) -> BTreeMap<Address, Vec<usize>> {
        let mut deletes: BTreeMap<Address, Vec<usize>> = BTreeMap::new();
        for index in self.indices_of(&[Operation::Delete]) {
            deletes
                .entry(self.nodes[index].address.clone())
                .or_default()
                .push(index);
        }
        deletes
    }

    /// Whether the live attributes of `holder` hold the id or ARN of `held`'s
    /// live resource.
    fn holds(&self, holder: usize, held: usize) -> bool {
        match (&self.nodes[holder].live, &self.nodes[held].live) {
            (Some(holder), Some(held)) => holder.refers_to(held),
            _ => false,
        }
    }

    /// Whether an update holding what `delete` deletes lets go of it in a
    /// release rather than before the delete: it will refer to the
    /// replacement, and the replacement is created after the delete (a
    /// create-before-destroy replacement exists first, so the holder simply
    /// moves to it before the delete).
    fn releases_first(&self, update: usize, delete: usize) -> bool {
        let delete = &self.nodes[delete];
        let wants_replacement = self.nodes[update]
            .desired
            .as_ref()
            .is_some_and(|desired| desired.dependencies().contains(&delete.address));
        let created_first = delete.replaced_by.is_some() && delete.kind.create_before_destroy();
        wants_replacement && !created_first
    }
}

/// Refuses operations that wait for one another, naming them.
pub(crate) fn check_acyclic(nodes: &[Node]) -> Result<(), CloudError> {
    let mut remaining: Vec<usize> = nodes.iter().map(|n| n.dependencies.len()).collect();
    let dependants = dependants(nodes);
    let mut queue: VecDeque<usize> = (0..nodes.len()).filter(|i| remaining[*i] == 0).collect();
    let mut seen = 0;
    while let Some(i) = queue.pop_front() {
        seen += 1;
        for &d in &dependants[i] {
            remaining[d] -= 1;
            if remaining[d] == 0 {
                queue.push_back(d);
            }
        }
    }
    if seen == nodes.len() {
        Ok(())
    } else {
        let stuck: Vec<String> = (0..nodes.len())
            .filter(|i| remaining[*i] > 0)
            .map(|i| format!("{} {}", nodes[i].operation, nodes[i].address))
            .collect();
        Err(CloudError::rejected(format!(
            "the plan's operations form a cycle: {}",
            stuck.join(", ")
        )))
    }
}

/// For each operation, the operations that wait for it.
pub(crate) fn dependants(nodes: &[Node]) -> Vec<Vec<usize>> {
    let mut out = vec![Vec::new(); nodes.len()];
    for (index, node) in nodes.iter().enumerate() {
        for &dependency in &node.dependencies {
            out[dependency].push(index);
        }
    }
    out
}
