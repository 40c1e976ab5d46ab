//! The benchmark's report: every key with its goal beside it, and whether
//! it was met. The goals are BENCHMARKS.md's; the quick mode judges none.

use std::collections::BTreeMap;

use serde_json::{Value, json};

/// What a key must be for its goal to be met.
#[derive(Clone, Copy)]
pub enum Goal {
    AtMost(f64),
    Below(f64),
    /// At most the value of another key.
    AtMostKey(&'static str),
    /// At most this many times another key.
    AtMostTimes(f64, &'static str),
    /// At most `estate_plan_shared_reads` plus two calls per stack (the DNS
    /// attribute reads of each VPC, which AWS has no batch for).
    SharedReadsPlusTwoPer(u32),
    /// Measured to explain the others; no goal of its own.
    None,
}

/// The goal of each key (BENCHMARKS.md says why each is what it is).
pub const GOALS: &[(&str, Goal)] = &[
    ("apply_makespan_s", Goal::None),
    ("cpu_ms_500", Goal::Below(50.0)),
    ("cpu_ms_500_nochange", Goal::Below(50.0)),
    ("cpu_resources", Goal::None),
    ("cpu_resources_nochange", Goal::None),
    ("critical_path_independent_s", Goal::None),
    ("critical_path_s", Goal::None),
    ("estate_apply_calls_in_flight_50", Goal::AtMost(8.0)),
    ("estate_apply_makespan_ratio_50", Goal::AtMost(1.05)),
    ("estate_makespan_ratio", Goal::AtMost(1.05)),
    ("estate_makespan_ratio_independent", Goal::AtMost(1.02)),
    ("estate_plan_calls_1", Goal::SharedReadsPlusTwoPer(1)),
    ("estate_plan_calls_10", Goal::SharedReadsPlusTwoPer(10)),
    ("estate_plan_calls_50", Goal::SharedReadsPlusTwoPer(50)),
    ("estate_plan_shared_reads", Goal::None),
    ("makespan_ratio", Goal::AtMost(1.02)),
    ("makespan_ratio_independent", Goal::AtMost(1.02)),
    ("plan_calls", Goal::AtMostKey("plan_floor_calls")),
    (
        "plan_calls_crowded",
        Goal::AtMostKey("plan_floor_calls_crowded"),
    ),
    ("plan_depth", Goal::AtMost(4.0)),
    ("plan_floor_calls", Goal::None),
    ("plan_floor_calls_crowded", Goal::None),
    ("plan_wall_ms_50ms_rtt", Goal::AtMost(450.0)),
    (
        "plan_wall_ms_50ms_rtt_crowded",
        Goal::AtMostTimes(1.25, "plan_wall_ms_50ms_rtt"),
    ),
    ("rss_mb_500", Goal::Below(64.0)),
];

fn goal_of(key: &str) -> Goal {
    GOALS
        .iter()
        .find(|(name, _)| *name == key)
        .map_or(Goal::None, |(_, goal)| *goal)
}

fn describe(goal: Goal) -> Option<String> {
    match goal {
        Goal::AtMost(limit) => Some(format!("<= {limit}")),
        Goal::Below(limit) => Some(format!("< {limit}")),
        Goal::AtMostKey(other) => Some(format!("<= {other}")),
        Goal::AtMostTimes(times, other) => Some(format!("<= {times} x {other}")),
        Goal::SharedReadsPlusTwoPer(stacks) => {
            Some(format!("<= estate_plan_shared_reads + 2 x {stacks}"))
        }
        Goal::None => None,
    }
}

/// Whether `value` meets `goal`; `None` when there is no goal or a value
/// it needs is missing.
fn met(goal: Goal, value: &Value, report: &BTreeMap<String, Value>) -> Option<bool> {
    let value = value.as_f64()?;
    let other = |key: &str| report.get(key).and_then(Value::as_f64);
    match goal {
        Goal::AtMost(limit) => Some(value <= limit),
        Goal::Below(limit) => Some(value < limit),
        Goal::AtMostKey(key) => Some(value <= other(key)?),
        Goal::AtMostTimes(times, key) => Some(value <= times * other(key)?),
        Goal::SharedReadsPlusTwoPer(stacks) => {
            Some(value <= other("estate_plan_shared_reads")? + 2.0 * f64::from(stacks))
        }
        Goal::None => None,
    }
}

/// Each key's goal and, unless `quick`, whether it was met.
pub fn goals(report: &BTreeMap<String, Value>, quick: bool) -> BTreeMap<String, Value> {
    report
        .iter()
        .map(|(key, value)| {
            let goal = goal_of(key);
            let met = if quick {
                None
            } else {
                met(goal, value, report)
            };
            (key.clone(), json!({ "goal": describe(goal), "met": met }))
        })
        .collect()
}

/// The keys whose goal was judged and not met.
pub fn not_met(goals: &BTreeMap<String, Value>) -> Vec<String> {
    goals
        .iter()
        .filter(|(_, goal)| goal["met"] == json!(false))
        .map(|(key, _)| key.clone())
        .collect()
}

/// The report as the table `eksform-bench` prints without `--json`.
pub fn table(report: &BTreeMap<String, Value>, goals: &BTreeMap<String, Value>) -> String {
    let mut out = format!(
        "{:<36} {:>12} {:>32} {:>5}\n",
        "metric", "value", "goal", "met"
    );
    for (name, value) in report {
        let goal = &goals[name];
        let text = goal["goal"].as_str().unwrap_or("");
        let met = match goal["met"].as_bool() {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "",
        };
        out.push_str(&format!("{name:<36} {value:>12} {text:>32} {met:>5}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn a_goal_is_judged_against_its_limit_or_its_key() {
        let report = report(&[
            ("makespan_ratio_independent", json!(1.03)),
            ("plan_calls", json!(36)),
            ("plan_floor_calls", json!(36)),
            ("apply_makespan_s", json!(1327.3)),
        ]);
        let goals = goals(&report, false);
        assert_eq!(goals["makespan_ratio_independent"]["met"], json!(false));
        assert_eq!(goals["plan_calls"]["met"], json!(true));
        assert_eq!(goals["apply_makespan_s"]["goal"], Value::Null);
        assert_eq!(not_met(&goals), ["makespan_ratio_independent"]);
    }

    #[test]
    fn the_quick_mode_judges_no_goal() {
        let report = report(&[("makespan_ratio_independent", json!(9.0))]);
        let goals = goals(&report, true);
        assert_eq!(goals["makespan_ratio_independent"]["met"], Value::Null);
        assert_eq!(
            goals["makespan_ratio_independent"]["goal"],
            json!("<= 1.02")
        );
    }
}
