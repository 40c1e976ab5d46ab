//! The crash sweep: a run crashed after each of its calls in turn, then run
//! again, must finish what the crash left and converge. The memory cloud
//! crashes at a chosen call (`Faults::crash_after`), so every point of a run
//! is tried, not a sample.
//!
//! The engine (`ops::plan`, `ops::apply`) lives in the CLI package, which
//! depends on this kit; the caller hands the run in as a closure.

use std::sync::Arc;

use eksform_core::execute::Outcome;

use crate::memory::{Faults, MemoryCloud};

/// One crash of a sweep, as the check after the next run sees it.
pub struct Crash {
    /// The call the run crashed after, from 1.
    pub at: u64,
    /// The calls of a run that nothing crashes.
    pub of: u64,
    /// What the crashed run reported; `None` when it crashed in planning.
    pub outcome: Option<Outcome>,
}

/// Crashes `run` after each of its calls, from the first to the last, each
/// time on a `fresh` account; runs it again without faults, which must
/// succeed; then `converged` checks the account and the crash. `run`
/// returns `None` when planning itself failed (crashed). Returns the number
/// of calls a run makes when nothing crashes.
pub async fn crash_sweep(
    fresh: impl AsyncFn() -> Arc<MemoryCloud>,
    run: impl AsyncFn(&Arc<MemoryCloud>) -> Option<Outcome>,
    converged: impl AsyncFn(&Arc<MemoryCloud>, Crash),
) -> u64 {
    let clean = fresh().await;
    let before = clean.calls();
    let outcome = run(&clean).await.expect("a clean run plans");
    assert!(outcome.succeeded(), "a clean run succeeds: {outcome:?}");
    let total = clean.calls() - before;
    for k in 1..=total {
        let cloud = fresh().await;
        let offset = cloud.calls();
        cloud.set_faults(Faults {
            crash_after: Some(offset + k),
            ..Faults::default()
        });
        let crashed = run(&cloud).await;
        cloud.set_faults(Faults::default());
        let outcome = run(&cloud)
            .await
            .unwrap_or_else(|| panic!("after a crash at call {k}: the next run plans"));
        assert!(
            outcome.succeeded(),
            "after a crash at call {k}: {outcome:?}"
        );
        let crash = Crash {
            at: k,
            of: total,
            outcome: crashed,
        };
        converged(&cloud, crash).await;
    }
    total
}
