//! The crowded account (issue #17): the reference stack's no-change plan
//! again, after the emulator has been filled with other teams' resources
//! (`eksform_testkit::crowd`), against its floor: the same per-kind reads as
//! the empty account's plus only the pages AWS makes a list of the crowd take.

use std::collections::BTreeMap;
use std::time::Instant;

use eksform_testkit::crowd::{self, Crowd};
use eksform_testkit::proxy::{self, Behaviour};

use super::{
    REFERENCE, by_action, clients, median_plan_wall_ms, plan_floor, plan_through, put,
    stack_from_text,
};

/// The pages beyond the first that each list of the account takes at AWS's
/// largest page size: the only calls a crowd may add to a plan. Returns the
/// total and its derivation.
fn forced_pages(listed: &[(&str, usize, usize)]) -> (usize, String) {
    let rows: Vec<(usize, String)> = listed
        .iter()
        .map(|(call, items, page)| {
            let extra = items.div_ceil(*page).saturating_sub(1);
            (
                extra,
                format!("{extra} {call} ({items} items, {page} a page)"),
            )
        })
        .collect();
    (
        rows.iter().map(|(extra, _)| extra).sum(),
        rows.into_iter()
            .map(|(_, how)| how)
            .collect::<Vec<_>>()
            .join(" + "),
    )
}

/// Fills the emulator behind `endpoint` (which holds the applied reference
/// stack) with the crowd, then measures `plan_calls_crowded`,
/// `plan_floor_calls_crowded` and `plan_wall_ms_50ms_rtt_crowded`.
pub async fn measure(
    report: &mut BTreeMap<String, serde_json::Value>,
    notes: &mut Vec<String>,
    endpoint: &str,
    quick: bool,
) -> Result<(), String> {
    let crowd = if quick {
        Crowd::of_each(3)
    } else {
        Crowd::issue_17()
    };
    let aws = clients(endpoint).await;
    let started = Instant::now();
    crowd::fill(&aws, &crowd).await?;
    notes.push(format!(
        "crowded account: {crowd:?}, made in {} s through the SDK",
        started.elapsed().as_secs()
    ));

    let counting = proxy::start(endpoint, Behaviour::default())
        .await
        .map_err(|e| e.to_string())?;
    let mut stack = stack_from_text(REFERENCE);
    let plan = plan_through(&counting.url, &mut stack).await?;
    if plan.summary().has_changes() {
        return Err("the reference stack's plan in the crowded account has changes".into());
    }
    put(report, "plan_calls_crowded", counting.calls());
    let (floor, derivation) = plan_floor(&plan);
    let listed = crowd::listed(&aws).await?;
    let (pages, pages_derivation) = forced_pages(&listed);
    put(report, "plan_floor_calls_crowded", floor + pages);
    notes.push(format!(
        "plan_floor_calls_crowded = plan_floor_calls ({floor}: {derivation}) + pages the crowd forces ({pages}: {pages_derivation})"
    ));
    notes.push(format!(
        "crowded plan calls by action: {}",
        by_action(&counting)
    ));

    let (wall_ms, far) = median_plan_wall_ms(endpoint, quick).await?;
    put(report, "plan_wall_ms_50ms_rtt_crowded", wall_ms);
    notes.push(format!(
        "crowded plan's longest chain: {}",
        far.longest_chain().join(" -> ")
    ));
    notes.push(format!(
        "crowded plan's slowest calls: {}",
        far.slowest(8).join(", ")
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_pages_beyond_the_first_count() {
        let (pages, how) =
            forced_pages(&[("ListClusters", 100, 100), ("ListHostedZones", 250, 100)]);
        assert_eq!(pages, 2, "{how}");
        assert_eq!(forced_pages(&[("ListCertificates", 0, 1000)]).0, 0);
    }
}
