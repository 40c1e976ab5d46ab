//! Reads made once and shared.
//!
//! - `Reads`: within one observation, a read that several kinds need alike
//!   (the region's load balancers serve the load balancer and listener kinds;
//!   the account's certificates serve the certificate and its validation) is
//!   made once. Observation turns it on for one pass, so that nothing read
//!   before a change is served after it.
//! - `SharedObservation`: a `Cloud` for plans of many stacks in one account and
//!   region: the caller's account is asked once, and kinds that can observe
//!   every stack at once (`Kind::observes_every_stack`) are read once for all
//!   the stacks, then handed out stack by stack. Its `Reads` last for the whole
//!   command and say so (`Reads::is_across_stacks`), so that a kind with a
//!   part it reads per resource (a VPC's DNS attributes) can share its list
//!   and still read that part for the stack's own resources only.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::OnceCell;

use super::{Cloud, CloudError, CreateRequest, Scope};
use crate::kinds::Kind;
use crate::kinds::tags::{EVERY_STACK, stack_of};
use crate::model::{Attributes, LiveResource};

type Shared = Arc<dyn Any + Send + Sync>;

/// Each shared read's result, by the read's name, filled once.
type Cells = HashMap<String, Arc<OnceCell<Shared>>>;

/// Reads shared by the kinds during one observation; off (every read made
/// anew) unless observation turned it on.
#[derive(Clone, Default)]
pub struct Reads {
    cells: Option<Arc<Mutex<Cells>>>,
    across_stacks: bool,
}

impl std::fmt::Debug for Reads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match (self.cells.is_some(), self.across_stacks) {
            (false, _) => "Reads(off)",
            (true, false) => "Reads(on)",
            (true, true) => "Reads(on, across stacks)",
        })
    }
}

impl Reads {
    /// Reads shared from now on, until this value and its clones are dropped.
    pub fn shared() -> Self {
        Self {
            cells: Some(Arc::default()),
            across_stacks: false,
        }
    }

    /// Shared by the stacks of one command: a kind may then read what every
    /// stack needs at once (`is_across_stacks`).
    pub fn across_stacks() -> Self {
        Self {
            across_stacks: true,
            ..Self::shared()
        }
    }

    pub fn is_shared(&self) -> bool {
        self.cells.is_some()
    }

    pub fn is_across_stacks(&self) -> bool {
        self.across_stacks
    }

    /// The value `read` gives for `key`, read once while sharing is on (a
    /// failed read is not kept: the next asker reads again).
    pub async fn get_or_read<T, F, Fut>(&self, key: &str, read: F) -> Result<Arc<T>, CloudError>
    where
        T: Send + Sync + 'static,
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<T, CloudError>>,
    {
        let Some(cells) = &self.cells else {
            return read().await.map(Arc::new);
        };
        let cell = {
            let mut cells = cells
                .lock()
                .map_err(|_| CloudError::rejected("shared reads lock poisoned"))?;
            cells.entry(key.to_string()).or_default().clone()
        };
        let value = cell
            .get_or_try_init(|| async { read().await.map(|v| Arc::new(v) as Shared) })
            .await?
            .clone();
        value
            .downcast::<T>()
            .map_err(|_| CloudError::rejected(format!("shared read `{key}` of another type")))
    }
}

/// A cloud whose observation is shared by the stacks of one command in one
/// account and region. For planning only: nothing it read is ever refreshed.
pub struct SharedObservation {
    inner: Arc<dyn Cloud>,
    account: OnceCell<String>,
    reads: Reads,
    /// The plan scopes of the stacks it serves.
    members: Vec<Scope>,
}

impl SharedObservation {
    /// `members`: the plan scopes (`Scope::from_spec`) of the stacks it
    /// serves. The one read of a kind serving them all must find each stack's
    /// resources; where a kind has no tag filter it skips only what none of
    /// them can hold (`Scope::admits`).
    pub fn new(inner: Arc<dyn Cloud>, members: Vec<Scope>) -> Self {
        Self {
            inner,
            account: OnceCell::new(),
            reads: Reads::across_stacks(),
            members,
        }
    }

    /// The domains of every stack served, joined: ACM has no tag filter, so
    /// the certificates within them have their tags read. `None` (every
    /// certificate's) when a stack's are not known.
    fn domains(&self) -> Option<Vec<String>> {
        if self.members.is_empty() {
            return None;
        }
        let mut joined = Vec::new();
        for member in &self.members {
            joined.extend(member.domains.clone()?);
        }
        joined.sort();
        joined.dedup();
        Some(joined)
    }
}

#[async_trait]
impl Cloud for SharedObservation {
    async fn caller_account(&self) -> Result<String, CloudError> {
        self.account
            .get_or_try_init(|| self.inner.caller_account())
            .await
            .cloned()
    }

    async fn observe(
        &self,
        kind: &'static dyn Kind,
        scope: &Scope,
    ) -> Result<Vec<LiveResource>, CloudError> {
        // Shared reads of one stack's pass serve the others too.
        let scope = Scope {
            reads: self.reads.clone(),
            ..scope.clone()
        };
        // Only a stack's plan, one of those it serves, takes its share of the
        // read made for every stack: another stack found by its mark alone
        // (a reference) is read whole, as it would be alone.
        if !kind.observes_every_stack() || !scope.from_spec {
            return self.inner.observe(kind, &scope).await;
        }
        // Nothing of the asking stack's own scope narrows the read that
        // serves them all: only what all of them hold.
        let every = Scope {
            stack: EVERY_STACK.into(),
            domains: self.domains(),
            members: self.members.clone(),
            ..scope.clone()
        };
        let all: Arc<Vec<LiveResource>> = self
            .reads
            .get_or_read(&format!("every stack: {}", kind.name()), || {
                self.inner.observe(kind, &every)
            })
            .await?;
        Ok(all
            .iter()
            .filter(|r| stack_of(&r.attributes) == scope.stack)
            .cloned()
            .collect())
    }

    async fn name_taken(
        &self,
        kind: &'static dyn Kind,
        desired: &crate::model::DesiredResource,
    ) -> Result<Option<String>, CloudError> {
        self.inner.name_taken(kind, desired).await
    }

    async fn find_to_adopt(
        &self,
        kind: &'static dyn Kind,
        desired: &crate::model::DesiredResource,
        id: &str,
    ) -> Result<Option<LiveResource>, CloudError> {
        self.inner.find_to_adopt(kind, desired, id).await
    }

    async fn create(
        &self,
        kind: &'static dyn Kind,
        request: &CreateRequest,
    ) -> Result<LiveResource, CloudError> {
        self.inner.create(kind, request).await
    }

    async fn update(
        &self,
        kind: &'static dyn Kind,
        live: &LiveResource,
        desired: &Attributes,
    ) -> Result<(), CloudError> {
        self.inner.update(kind, live, desired).await
    }

    async fn delete(&self, kind: &'static dyn Kind, live: &LiveResource) -> Result<(), CloudError> {
        self.inner.delete(kind, live).await
    }

    async fn read(
        &self,
        kind: &'static dyn Kind,
        live: &LiveResource,
    ) -> Result<Option<LiveResource>, CloudError> {
        self.inner.read(kind, live).await
    }

    async fn preflight_facts(
        &self,
        questions: &crate::preflight::Questions,
    ) -> Result<crate::preflight::Facts, CloudError> {
        self.inner.preflight_facts(questions).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    async fn count(reads: &Reads, calls: &AtomicUsize, fail: bool) -> Result<usize, CloudError> {
        reads
            .get_or_read("k", || async {
                let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
                if fail {
                    Err(CloudError::rejected("no"))
                } else {
                    Ok(n)
                }
            })
            .await
            .map(|n| *n)
    }

    /// A cloud whose every observation answers with one resource of each of
    /// two stacks, and records the stack each observation was asked for.
    #[derive(Default)]
    struct TwoStacks {
        asked: std::sync::Mutex<Vec<String>>,
    }

    #[async_trait]
    impl Cloud for TwoStacks {
        async fn caller_account(&self) -> Result<String, CloudError> {
            Ok("123456789012".into())
        }
        async fn observe(
            &self,
            kind: &'static dyn Kind,
            scope: &Scope,
        ) -> Result<Vec<LiveResource>, CloudError> {
            self.asked.lock().unwrap().push(scope.stack.clone());
            let address = crate::model::Address::new(&[kind.name(), "main"]);
            Ok(["a", "b"]
                .iter()
                .map(|stack| LiveResource {
                    address: address.clone(),
                    kind: kind.name().into(),
                    id: format!("{stack}-id"),
                    attributes: [(
                        "tags".to_string(),
                        crate::model::Value::string_map(&crate::kinds::tags::mark(stack, &address)),
                    )]
                    .into(),
                    status: crate::model::Status::Ready,
                })
                .collect())
        }
        async fn create(
            &self,
            _: &'static dyn Kind,
            _: &CreateRequest,
        ) -> Result<LiveResource, CloudError> {
            Err(CloudError::rejected("read only"))
        }
        async fn update(
            &self,
            _: &'static dyn Kind,
            _: &LiveResource,
            _: &Attributes,
        ) -> Result<(), CloudError> {
            Err(CloudError::rejected("read only"))
        }
        async fn delete(&self, _: &'static dyn Kind, _: &LiveResource) -> Result<(), CloudError> {
            Err(CloudError::rejected("read only"))
        }
        async fn name_taken(
            &self,
            _: &'static dyn Kind,
            _: &crate::model::DesiredResource,
        ) -> Result<Option<String>, CloudError> {
            Ok(None)
        }
        async fn read(
            &self,
            _: &'static dyn Kind,
            _: &LiveResource,
        ) -> Result<Option<LiveResource>, CloudError> {
            Ok(None)
        }
    }

    fn plan_scope(stack: &str) -> Scope {
        Scope {
            stack: stack.into(),
            from_spec: true,
            ..Scope::default()
        }
    }

    /// The estate's stacks share one read of every stack and each takes its
    /// own from it; a stack outside the estate, read for a reference by its
    /// mark alone, is read whole as it would be alone, never served a share
    /// narrowed by the estate's specs.
    #[tokio::test]
    async fn members_share_one_read_and_a_stack_outside_the_estate_is_read_whole() {
        let kind = crate::kinds::by_name("load_balancer").unwrap();
        assert!(kind.observes_every_stack());
        let inner = Arc::new(TwoStacks::default());
        let shared = SharedObservation::new(inner.clone(), vec![plan_scope("a")]);

        let own = shared.observe(kind, &plan_scope("a")).await.unwrap();
        assert_eq!(
            own.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
            ["a-id"]
        );
        let again = shared.observe(kind, &plan_scope("a")).await.unwrap();
        assert_eq!(again.len(), 1);

        let referenced = Scope {
            from_spec: false,
            ..plan_scope("b")
        };
        let whole = shared.observe(kind, &referenced).await.unwrap();
        assert_eq!(
            whole.len(),
            2,
            "the reference's read is the inner cloud's answer as it is"
        );
        assert_eq!(
            *inner.asked.lock().unwrap(),
            [EVERY_STACK, "b"],
            "one read for the members, one of its own for the stack outside"
        );
    }

    #[tokio::test]
    async fn off_reads_every_time_on_reads_once_and_keeps_no_failure() {
        let calls = AtomicUsize::new(0);
        let off = Reads::default();
        assert_eq!(count(&off, &calls, false).await.unwrap(), 1);
        assert_eq!(count(&off, &calls, false).await.unwrap(), 2);

        let on = Reads::shared();
        assert!(count(&on, &calls, true).await.is_err());
        // The failure was not kept: the next asker reads again, then that stays.
        assert_eq!(count(&on, &calls, false).await.unwrap(), 4);
        assert_eq!(count(&on.clone(), &calls, false).await.unwrap(), 4);
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }
}
