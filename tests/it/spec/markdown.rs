//! `plan --markdown` of representative plans (the cases of tests/plans, on
//! the in-memory cloud), snapshotted: a create-only stack, a stack with
//! replacements and deletes, several stacks in one comment, and a comment
//! cut to a small cap.

use std::path::{Path, PathBuf};

use eksform::render::markdown::{self, GITHUB_COMMENT_LIMIT, MARKER_PREFIX};
use eksform_core::plan::Plan;

use super::plans::plan_of_case;

async fn case(name: &str) -> (PathBuf, Plan) {
    let case = Path::new("tests/plans").join(name);
    (case.join("spec.yaml"), plan_of_case(&case).await)
}

fn fence_lines(text: &str) -> usize {
    text.lines().filter(|l| l.starts_with("```")).count()
}

/// What every comment keeps, cut or not: the marker first, a row per stack,
/// fences and `<details>` in pairs, within the cap.
fn assert_well_formed(text: &str, plans: &[(PathBuf, Plan)], cap: usize) {
    assert!(text.len() <= cap, "{} bytes over the cap {cap}", text.len());
    let first = text.lines().next().unwrap();
    assert!(first.starts_with(MARKER_PREFIX), "{first}");
    assert_eq!(first, markdown::marker(plans));
    for (file, plan) in plans {
        assert!(
            text.contains(&format!(
                "| <code>{}</code> | <code>{}</code> |",
                plan.stack,
                file.display()
            )),
            "a row for {}",
            plan.stack
        );
    }
    assert_eq!(fence_lines(text) % 2, 0, "fences pair:\n{text}");
    assert_eq!(
        text.matches("<details>").count(),
        text.matches("</details>").count()
    );
}

#[tokio::test(start_paused = true)]
async fn a_create_only_plan() {
    let plans = vec![case("cluster-create").await];
    let text = markdown::plans(&plans, GITHUB_COMMENT_LIMIT);
    assert_well_formed(&text, &plans, GITHUB_COMMENT_LIMIT);
    assert!(!text.contains("[!WARNING]"), "nothing destructive");
    insta::assert_snapshot!("markdown-create-only", text);
}

#[tokio::test(start_paused = true)]
async fn a_plan_with_replacements_and_deletes() {
    let plans = vec![case("replace-and-delete").await];
    let summary = plans[0].1.summary();
    assert!(summary.replace > 0 && summary.delete > 0, "{summary:?}");
    let text = markdown::plans(&plans, GITHUB_COMMENT_LIMIT);
    assert_well_formed(&text, &plans, GITHUB_COMMENT_LIMIT);
    // The destructive list comes before any block, and so do their blocks.
    let warning = text.find("> [!WARNING]").expect("destructive list");
    let first_block = text.find("<details>").unwrap();
    assert!(warning < first_block);
    let first_summary = text[first_block..].lines().next().unwrap();
    assert!(first_summary.contains('⚠'), "{first_summary}");
    insta::assert_snapshot!("markdown-replace-and-delete", text);
}

#[tokio::test(start_paused = true)]
async fn several_stacks_in_one_comment() {
    let plans = vec![
        case("no-changes").await,
        case("node-group-scaling").await,
        case("kubernetes-upgrade").await,
    ];
    let text = markdown::plans(&plans, GITHUB_COMMENT_LIMIT);
    assert_well_formed(&text, &plans, GITHUB_COMMENT_LIMIT);
    assert_eq!(text.matches("\n### Stack ").count(), 3);
    insta::assert_snapshot!("markdown-several-stacks", text);
}

#[tokio::test(start_paused = true)]
async fn a_comment_over_the_cap_is_cut_from_the_end() {
    let plans = vec![
        case("replace-and-delete").await,
        case("tag-change-many").await,
    ];
    let full = markdown::plans(&plans, usize::MAX);
    // Room for the first stack's blocks and some of the second's.
    let cap = full.len() * 2 / 3;
    let text = markdown::plans(&plans, cap);
    assert_well_formed(&text, &plans, cap);
    // The destructive list is whole, the second stack's last blocks gone.
    for resource in plans[0].1.resources.iter().filter(|r| {
        matches!(
            r.action,
            eksform_core::plan::Action::Delete | eksform_core::plan::Action::Replace
        )
    }) {
        assert!(
            text.contains(&format!("> - <code>{}</code>", resource.address)),
            "{} listed",
            resource.address
        );
    }
    assert!(
        text.contains("of stack <code>tagged</code> left out"),
        "{text}"
    );
    assert!(text.contains("`eksform plan`"));
    insta::assert_snapshot!("markdown-cut", text);
}
