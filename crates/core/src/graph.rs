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
use crate::model::{Address, DesiredResource, LiveResource, Status, Value};
use crate::plan::{Action, Plan, ResourceChange};

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
    delete_after_its_successor,
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
    let in_replaced_container = container_replaced_first(plan);
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
                    && change.live.as_ref().map(|l| l.status) != Some(Status::Failed)
                    && !in_replaced_container(change) =>
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

/// Whether a replacement refers to a resource replaced delete-first that the
/// old one holds: a node group in a cluster being replaced (AWS refuses the
/// cluster's delete while it has node groups), or run by a role being
/// replaced (the role's delete waits for what holds its ARN). The old one
/// cannot outlive what it holds, and the new one needs the new one of that:
/// it goes first too, instead of an order no apply can follow.
fn container_replaced_first(plan: &Plan) -> impl Fn(&ResourceChange) -> bool + '_ {
    move |change: &ResourceChange| {
        let Some(desired) = &change.desired else {
            return false;
        };
        let mut references = desired.attributes.values().flat_map(Value::references);
        references.any(|reference| {
            plan.resources.iter().any(|container| {
                container.address == reference.address
                    && container.action == Action::Replace
                    && kinds::by_name(&container.kind).is_some_and(|kind| {
                        !kind.create_before_destroy()
                            && (kind.delete_refused_while().contains(&change.kind.as_str())
                                || change
                                    .live
                                    .as_ref()
                                    .zip(container.live.as_ref())
                                    .is_some_and(|(holder, held)| holder.refers_to(held)))
                    })
            })
        })
    }
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

/// A delete after the creates and updates of what takes over its job
/// (`Kind::delete_after_creates_of`): a service account moved between IRSA
/// and Pod Identity keeps credentials throughout, its old role or
/// association going only once the new one exists.
fn delete_after_its_successor(graph: &mut Graph) {
    let ready = graph.makes_ready();
    for index in graph.indices_of(&[Operation::Delete]) {
        let node = &graph.nodes[index];
        let after: Vec<usize> = node
            .kind
            .delete_after_creates_of(&node.address)
            .iter()
            .filter_map(|address| ready.get(address).copied())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Attributes, Value};
    use crate::plan::{PLAN_FORMAT_VERSION, ResourceChange};

    /// The kind is the address's first segment, as in real plans.
    fn kind_of(address: &str) -> &str {
        address.split('.').next().unwrap_or_default()
    }

    fn desired(address: &str) -> DesiredResource {
        DesiredResource::new(kind_of(address), Address(address.into()))
    }

    fn refers_to(desired: DesiredResource, attribute: &str, address: &str) -> DesiredResource {
        desired.with(attribute, Value::reference(&Address(address.into()), "id"))
    }

    fn live(address: &str, id: &str) -> LiveResource {
        LiveResource {
            address: Address(address.into()),
            kind: kind_of(address).into(),
            id: id.into(),
            attributes: Attributes::new(),
            status: Status::Ready,
        }
    }

    fn holding(mut live: LiveResource, attribute: &str, value: Value) -> LiveResource {
        live.attributes.insert(attribute.into(), value);
        live
    }

    fn change(
        action: Action,
        desired: Option<DesiredResource>,
        live: Option<LiveResource>,
    ) -> ResourceChange {
        let address = desired
            .as_ref()
            .map(|d| d.address.clone())
            .or_else(|| live.as_ref().map(|l| l.address.clone()))
            .expect("a desired or a live resource");
        ResourceChange {
            kind: kind_of(address.as_str()).into(),
            address,
            action,
            reason: None,
            warnings: Vec::new(),
            notes: Vec::new(),
            changes: Vec::new(),
            desired,
            live,
        }
    }

    fn create(desired: DesiredResource) -> ResourceChange {
        change(Action::Create, Some(desired), None)
    }

    fn update(desired: DesiredResource, live: LiveResource) -> ResourceChange {
        change(Action::Update, Some(desired), Some(live))
    }

    fn replace(desired: DesiredResource, live: LiveResource) -> ResourceChange {
        change(Action::Replace, Some(desired), Some(live))
    }

    fn delete(live: LiveResource) -> ResourceChange {
        change(Action::Delete, None, Some(live))
    }

    fn plan(changes: Vec<ResourceChange>) -> Plan {
        Plan {
            format_version: PLAN_FORMAT_VERSION,
            eksform_version: "test".into(),
            stack: "dev".into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
            fingerprint: String::new(),
            resources: changes,
        }
    }

    /// The operations of the plan, before any rule.
    fn operations(changes: Vec<ResourceChange>) -> Graph {
        operations_from_plan(&plan(changes)).expect("known kinds")
    }

    /// The operations of the plan with only these rules applied.
    fn with_rules(changes: Vec<ResourceChange>, rules: &[Transformation]) -> Graph {
        let mut graph = operations(changes);
        for rule in rules {
            rule(&mut graph);
        }
        graph
    }

    fn describe(node: &Node) -> String {
        format!("{} {}", node.operation, node.address)
    }

    /// Every edge, as "operation address after operation address", sorted.
    fn edges(graph: &Graph) -> Vec<String> {
        let mut edges: Vec<String> = graph
            .nodes
            .iter()
            .flat_map(|node| {
                node.dependencies.iter().map(move |&dependency| {
                    format!(
                        "{} after {}",
                        describe(node),
                        describe(&graph.nodes[dependency])
                    )
                })
            })
            .collect();
        edges.sort();
        edges.dedup();
        edges
    }

    fn described(graph: &Graph) -> Vec<String> {
        graph.nodes.iter().map(describe).collect()
    }

    #[test]
    fn each_change_becomes_its_operations_in_plan_order() {
        let mut pending = live("nat_gateway.b", "nat-2");
        pending.status = Status::Pending;
        let graph = operations(vec![
            create(desired("vpc.main")),
            update(
                desired("route_table.private"),
                live("route_table.private", "rtb-1"),
            ),
            change(
                Action::Adopt,
                Some(desired("log_group.cluster")),
                Some(live("log_group.cluster", "/aws/eks/dev/cluster")),
            ),
            change(
                Action::Release,
                Some(desired("iam_role.old")),
                Some(live("iam_role.old", "old-role")),
            ),
            delete(live("nat_gateway.a", "nat-1")),
            change(
                Action::NoOp,
                Some(desired("subnet.a")),
                Some(live("subnet.a", "subnet-1")),
            ),
            change(Action::NoOp, Some(desired("nat_gateway.b")), Some(pending)),
        ]);
        assert_eq!(
            described(&graph),
            [
                "create vpc.main",
                "update route_table.private",
                "update log_group.cluster",
                "update iam_role.old",
                "delete nat_gateway.a",
                "wait nat_gateway.b",
            ]
        );
        assert!(edges(&graph).is_empty(), "no rule applied yet");
    }

    #[test]
    fn a_replacement_deletes_first_unless_its_kind_creates_before_destroying() {
        let mut failed = live("node_group.spare", "ng-9");
        failed.status = Status::Failed;
        let graph = operations(vec![
            replace(desired("subnet.a"), live("subnet.a", "subnet-1")),
            replace(
                desired("node_group.workers"),
                live("node_group.workers", "ng-1"),
            ),
            replace(desired("node_group.spare"), failed),
        ]);
        assert_eq!(
            described(&graph),
            [
                "delete subnet.a",
                "create subnet.a",
                "create node_group.workers",
                "delete node_group.workers",
                // A failed node group serves nothing: it goes first.
                "delete node_group.spare",
                "create node_group.spare",
            ]
        );
        let replaced_by: Vec<Option<usize>> =
            graph.nodes.iter().map(|node| node.replaced_by).collect();
        assert_eq!(replaced_by, [None, None, None, Some(2), None, None]);
    }

    #[test]
    fn an_unknown_kind_is_refused() {
        let refused = operations_from_plan(&plan(vec![create(desired("bucket.logs"))]))
            .err()
            .expect("an unknown kind");
        assert!(refused.message.contains("bucket"), "{}", refused.message);
    }

    #[test]
    fn creates_and_updates_wait_for_what_they_refer_to() {
        let mut pending = live("nat_gateway.a", "nat-1");
        pending.status = Status::Pending;
        let graph = with_rules(
            vec![
                create(desired("vpc.main")),
                create(refers_to(desired("subnet.a"), "vpc_id", "vpc.main")),
                change(Action::NoOp, Some(desired("nat_gateway.a")), Some(pending)),
                update(
                    desired("route_table.private")
                        .after(&Address("nat_gateway.a".into()))
                        // Unchanged: not in the plan, ready already.
                        .with(
                            "vpc_id",
                            Value::reference(&Address("vpc.kept".into()), "id"),
                        ),
                    live("route_table.private", "rtb-1"),
                ),
            ],
            &[after_references],
        );
        assert_eq!(
            edges(&graph),
            [
                "create subnet.a after create vpc.main",
                "update route_table.private after wait nat_gateway.a",
            ]
        );
    }

    #[test]
    fn a_reference_to_a_replaced_resource_waits_for_its_create_not_its_delete() {
        let graph = with_rules(
            vec![
                replace(desired("subnet.a"), live("subnet.a", "subnet-1")),
                update(
                    refers_to(desired("route_table.private"), "subnet_ids", "subnet.a"),
                    live("route_table.private", "rtb-1"),
                ),
            ],
            // A release (added by a later rule) makes nothing ready.
            &[release_what_holds_a_replaced_resource, after_references],
        );
        assert_eq!(
            edges(&graph),
            ["update route_table.private after create subnet.a"]
        );
    }

    #[test]
    fn a_replacement_is_created_after_the_old_one_and_duplicates_are_deleted() {
        let graph = with_rules(
            vec![
                replace(desired("subnet.a"), live("subnet.a", "subnet-1")),
                replace(
                    desired("node_group.workers"),
                    live("node_group.workers", "ng-1"),
                ),
                // A duplicate at the node group's address holds its name too.
                delete(live("node_group.workers", "ng-2")),
            ],
            &[delete_before_create],
        );
        assert_eq!(
            edges(&graph),
            [
                "create node_group.workers after delete node_group.workers",
                "create subnet.a after delete subnet.a",
            ]
        );
        let create = &graph.nodes[2];
        assert_eq!(describe(create), "create node_group.workers");
        assert_eq!(
            create.dependencies,
            [4],
            "the duplicate's delete, not its own replacement's"
        );
    }

    #[test]
    fn the_old_node_group_is_deleted_only_once_its_replacement_is_created() {
        let graph = with_rules(
            vec![
                replace(
                    desired("node_group.workers"),
                    live("node_group.workers", "ng-1"),
                ),
                replace(desired("subnet.a"), live("subnet.a", "subnet-1")),
            ],
            &[create_before_destroy],
        );
        assert_eq!(
            edges(&graph),
            ["delete node_group.workers after create node_group.workers"]
        );
    }

    #[test]
    fn a_new_subnet_waits_for_the_delete_of_an_old_one_holding_its_cidr() {
        let cidr = |cidr: &str| Value::string(cidr);
        let graph = with_rules(
            vec![
                delete(holding(
                    live("subnet.old", "subnet-1"),
                    "cidr_block",
                    cidr("10.0.0.0/24"),
                )),
                // Another kind holding an overlapping CIDR is not in a subnet's way.
                delete(holding(
                    live("vpc.old", "vpc-1"),
                    "cidr_block",
                    cidr("10.0.0.0/16"),
                )),
                create(desired("subnet.new").with("cidr_block", cidr("10.0.0.0/23"))),
                create(desired("subnet.elsewhere").with("cidr_block", cidr("10.0.8.0/24"))),
            ],
            &[create_after_what_is_in_its_way],
        );
        assert_eq!(edges(&graph), ["create subnet.new after delete subnet.old"]);
    }

    #[test]
    fn a_validation_record_waits_for_the_delete_of_another_holding_its_name() {
        // A certificate's domain moved from `web` to `other.example.com`: the
        // record `apex` now holds for the old domain has web's old name.
        let graph = with_rules(
            vec![
                delete(live("dns_record.validation.web", "Z/_x.example.com/CNAME")),
                delete(live(
                    "dns_record.status.example.com.CNAME",
                    "Z/status.example.com/CNAME",
                )),
                create(desired("dns_record.validation.apex")),
                create(desired("dns_record.www.example.com.A")),
            ],
            &[create_after_what_is_in_its_way],
        );
        assert_eq!(
            edges(&graph),
            ["create dns_record.validation.apex after delete dns_record.validation.web"]
        );
    }

    #[test]
    fn a_nat_gateway_is_deleted_after_the_route_table_update_that_lets_go_of_it() {
        let routes = Value::Map(BTreeMap::from([(
            "0.0.0.0/0".to_string(),
            Value::string("nat-1"),
        )]));
        let graph = with_rules(
            vec![
                delete(live("nat_gateway.a", "nat-1")),
                update(
                    desired("route_table.private"),
                    holding(live("route_table.private", "rtb-1"), "routes", routes),
                ),
                // Holds nothing of the NAT gateway.
                update(
                    desired("route_table.public"),
                    live("route_table.public", "rtb-2"),
                ),
            ],
            &[delete_after_what_holds_it],
        );
        assert_eq!(
            edges(&graph),
            ["delete nat_gateway.a after update route_table.private"]
        );
    }

    #[test]
    fn a_cluster_is_deleted_after_the_groups_whose_rules_name_its_security_group() {
        let rules = Value::List(vec![crate::kinds::security_group::group_rule(
            "tcp:5432",
            Value::string("sg-cluster"),
        )]);
        let graph = with_rules(
            vec![
                delete(holding(
                    live("eks_cluster.main", "dev"),
                    "security_group_id",
                    Value::string("sg-cluster"),
                )),
                delete(holding(
                    live("security_group.custom.db", "sg-db"),
                    "ingress",
                    rules,
                )),
            ],
            &[delete_after_what_holds_it],
        );
        assert_eq!(
            edges(&graph),
            ["delete eks_cluster.main after delete security_group.custom.db"]
        );
    }

    #[test]
    fn a_role_is_deleted_after_the_cluster_that_runs_as_it() {
        let arn = "arn:aws:iam::123456789012:role/dev-cluster";
        let graph = with_rules(
            vec![
                delete(holding(
                    live("iam_role.cluster", "dev-cluster"),
                    "arn",
                    Value::string(arn),
                )),
                delete(holding(
                    live("eks_cluster.main", "dev"),
                    "role_arn",
                    Value::string(arn),
                )),
            ],
            &[delete_after_what_holds_it],
        );
        assert_eq!(
            edges(&graph),
            ["delete iam_role.cluster after delete eks_cluster.main"]
        );
    }

    #[test]
    fn a_listener_moves_to_the_new_target_group_before_the_old_one_goes() {
        let old_arn = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/1";
        let graph = with_rules(
            vec![
                replace(
                    desired("target_group.web"),
                    holding(
                        live("target_group.web", old_arn),
                        "arn",
                        Value::string(old_arn),
                    ),
                ),
                update(
                    refers_to(
                        desired("listener.https"),
                        "target_group_arn",
                        "target_group.web",
                    ),
                    holding(
                        live("listener.https", "listener-1"),
                        "target_group_arn",
                        Value::string(old_arn),
                    ),
                ),
            ],
            &[
                delete_after_what_holds_it,
                release_what_holds_a_replaced_resource,
            ],
        );
        // The new target group exists before the delete: no release needed.
        assert_eq!(
            edges(&graph),
            ["delete target_group.web after update listener.https"]
        );
    }

    /// A route table associated with two subnets whose CIDRs change: each is
    /// deleted before its replacement is created.
    fn route_table_holding_replaced_subnets() -> Vec<ResourceChange> {
        vec![
            replace(desired("subnet.a"), live("subnet.a", "subnet-1")),
            replace(desired("subnet.b"), live("subnet.b", "subnet-2")),
            update(
                desired("route_table.private").with(
                    "subnet_ids",
                    Value::List(vec![
                        Value::reference(&Address("subnet.a".into()), "id"),
                        Value::reference(&Address("subnet.b".into()), "id"),
                    ]),
                ),
                holding(
                    live("route_table.private", "rtb-1"),
                    "subnet_ids",
                    Value::List(vec![Value::string("subnet-1"), Value::string("subnet-2")]),
                ),
            ),
        ]
    }

    #[test]
    fn a_holder_of_a_replaced_subnet_waits_for_no_delete_it_releases_first() {
        let graph = with_rules(
            route_table_holding_replaced_subnets(),
            &[delete_after_what_holds_it],
        );
        assert!(edges(&graph).is_empty(), "{:?}", edges(&graph));
    }

    #[test]
    fn a_route_table_lets_go_of_replaced_subnets_in_one_release() {
        let graph = with_rules(
            route_table_holding_replaced_subnets(),
            &[release_what_holds_a_replaced_resource],
        );
        assert_eq!(
            described(&graph).last().map(String::as_str),
            Some("release route_table.private")
        );
        assert_eq!(
            edges(&graph),
            [
                "delete subnet.a after release route_table.private",
                "delete subnet.b after release route_table.private",
                "update route_table.private after release route_table.private",
            ]
        );
    }

    #[test]
    fn the_rules_together_order_a_subnet_replacement_without_a_cycle() {
        let graph = build_graph(&plan(route_table_holding_replaced_subnets())).expect("no cycle");
        assert_eq!(
            edges(&graph),
            [
                "create subnet.a after delete subnet.a",
                "create subnet.b after delete subnet.b",
                "delete subnet.a after release route_table.private",
                "delete subnet.b after release route_table.private",
                "update route_table.private after create subnet.a",
                "update route_table.private after create subnet.b",
                "update route_table.private after release route_table.private",
            ]
        );
    }

    #[test]
    fn the_cluster_goes_before_its_roles_and_oidc_provider() {
        let graph = with_rules(
            vec![
                delete(live("iam_role.nodes", "dev-nodes")),
                delete(live("oidc_provider.main", "oidc-1")),
                delete(live("eks_cluster.main", "dev")),
                // An update is no delete: kinds order only deletes.
                update(
                    desired("eks_cluster.other"),
                    live("eks_cluster.other", "other"),
                ),
            ],
            &[delete_after_kinds],
        );
        assert_eq!(
            edges(&graph),
            [
                "delete iam_role.nodes after delete eks_cluster.main",
                "delete oidc_provider.main after delete eks_cluster.main",
            ]
        );
    }

    #[test]
    fn the_internet_gateway_goes_after_the_nat_gateways_and_elastic_ips() {
        let graph = with_rules(
            vec![
                delete(live("internet_gateway.main", "igw-1")),
                delete(live("nat_gateway.a", "nat-1")),
                delete(live("elastic_ip.a", "eipalloc-1")),
            ],
            &[delete_after_kinds],
        );
        assert_eq!(
            edges(&graph),
            [
                "delete internet_gateway.main after delete elastic_ip.a",
                "delete internet_gateway.main after delete nat_gateway.a",
            ]
        );
    }

    #[test]
    fn an_internet_gateway_detaches_from_a_replaced_vpc_only_once_the_nat_gateways_are_gone() {
        let graph = with_rules(
            vec![
                replace(desired("vpc.main"), live("vpc.main", "vpc-1")),
                update(
                    refers_to(desired("internet_gateway.main"), "vpc_id", "vpc.main"),
                    holding(
                        live("internet_gateway.main", "igw-1"),
                        "vpc_id",
                        Value::string("vpc-1"),
                    ),
                ),
                update(
                    refers_to(desired("route_table.public"), "vpc_id", "vpc.main"),
                    holding(
                        live("route_table.public", "rtb-1"),
                        "vpc_id",
                        Value::string("vpc-1"),
                    ),
                ),
                delete(live("nat_gateway.a", "nat-1")),
                // A role's release waits for no cluster delete: the role
                // stays, so its ordering-only `delete_after` does not apply.
                replace(
                    desired("oidc_provider.main"),
                    live("oidc_provider.main", "oidc-1"),
                ),
                update(
                    refers_to(desired("iam_role.irsa"), "provider", "oidc_provider.main"),
                    holding(
                        live("iam_role.irsa", "dev-irsa"),
                        "provider",
                        Value::string("oidc-1"),
                    ),
                ),
                delete(live("eks_cluster.main", "dev")),
            ],
            &[
                release_what_holds_a_replaced_resource,
                release_after_refusing_kinds,
            ],
        );
        assert!(described(&graph).contains(&"release iam_role.irsa".to_string()));
        let release_edges: Vec<String> = edges(&graph)
            .into_iter()
            .filter(|edge| edge.starts_with("release"))
            .collect();
        assert_eq!(
            release_edges,
            ["release internet_gateway.main after delete nat_gateway.a"]
        );
    }

    #[test]
    fn fargate_profiles_change_one_at_a_time_in_plan_order() {
        let mut graph = operations(vec![
            create(desired("fargate_profile.a")),
            create(desired("subnet.a")),
            create(desired("fargate_profile.b")),
            delete(live("fargate_profile.c", "c")),
            create(desired("subnet.b")),
        ]);
        one_at_a_time(&mut graph);
        assert_eq!(
            edges(&graph),
            [
                "create fargate_profile.b after create fargate_profile.a",
                "delete fargate_profile.c after create fargate_profile.b",
            ]
        );
    }

    #[test]
    fn one_at_a_time_keeps_an_order_the_other_rules_already_set() {
        let mut graph = with_rules(
            vec![
                create(desired("fargate_profile.a").after(&Address("fargate_profile.b".into()))),
                create(desired("fargate_profile.b")),
            ],
            &[after_references],
        );
        one_at_a_time(&mut graph);
        assert_eq!(
            edges(&graph),
            ["create fargate_profile.a after create fargate_profile.b"]
        );
        assert!(check_acyclic(&graph.nodes).is_ok());
    }

    #[test]
    fn the_executor_takes_turns_for_fargate_profiles_without_edges() {
        // A per-kind lock orders them as they run: a failed profile skips no other.
        let graph = build_graph(&plan(vec![
            create(desired("fargate_profile.a")),
            create(desired("fargate_profile.b")),
        ]))
        .expect("no cycle");
        assert!(edges(&graph).is_empty(), "{:?}", edges(&graph));
    }
}
