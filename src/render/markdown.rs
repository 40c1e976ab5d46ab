//! The plans of one run as Markdown for a pull-request comment (`plan
//! --markdown`): a hidden marker naming the estate, a summary table, each
//! stack's destructive changes and warnings in the open, then every change in
//! a collapsible block holding the terminal plan's text (`human`), the
//! blocks cut from the end when the comment would be over a size cap.
//! Pure: plans in, text out.

use std::fmt::Write;
use std::path::PathBuf;

use sha2::{Digest, Sha256};

use eksform_core::plan::{Action, Plan, ResourceChange};

use super::human;

/// GitHub's limit on a comment's body, in characters. The cap is measured in
/// bytes of UTF-8, never fewer than the characters GitHub counts.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// What every marker line starts with; the rest names the estate.
pub const MARKER_PREFIX: &str = "<!-- eksform-plan estate=";

/// The hidden first line: the same for the same stacks (names, regions,
/// account) however the files are named or ordered, different for another
/// estate, so a CI step finds and replaces its own earlier comment.
pub fn marker(plans: &[(PathBuf, Plan)]) -> String {
    let mut stacks: Vec<String> = plans
        .iter()
        .map(|(_, p)| format!("{}\n{}\n{}\n", p.account, p.region, p.stack))
        .collect();
    stacks.sort();
    stacks.dedup();
    let digest = Sha256::digest(stacks.concat().as_bytes());
    let id: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("{MARKER_PREFIX}{id} -->")
}

/// The whole comment, at most `cap` bytes whenever the marker, the summary
/// table, the destructive lists and the warnings fit in it: those are never
/// cut, the `<details>` blocks are, from the end.
pub fn plans(plans: &[(PathBuf, Plan)], cap: usize) -> String {
    let document = Document::of(plans);
    document.render(&document.fit(cap))
}

/// Free text (names, paths, warnings) made safe for HTML and for a table
/// cell, on one line.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            // Table cells end at a pipe, even inside <code>.
            '|' => out.push_str("&#124;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn code(text: &str) -> String {
    format!("<code>{}</code>", escape(text))
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

fn is_destructive(resource: &ResourceChange) -> bool {
    matches!(resource.action, Action::Delete | Action::Replace)
        || resource.adoption_changes_settings()
}

/// A fence longer than any run of backticks in `text`, so nothing in a
/// plan's text can end its code block.
fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// One resource's collapsible block: a summary line and the terminal plan's
/// text of the resource, without colour.
struct Details {
    stack: usize,
    summary: String,
    lines: Vec<String>,
    fence: String,
}

/// How much of a `Details` block the comment shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    Whole,
    /// The first lines only, then a line saying how many are left out.
    FirstLines(usize),
    Omitted,
}

impl Details {
    fn of(stack: usize, resource: &ResourceChange) -> Details {
        let text = human::resource_change(resource, false);
        let flag = if is_destructive(resource) { "⚠ " } else { "" };
        let summary = format!(
            "{flag}{} ({}) {}",
            code(format!("{} {}", resource.action.symbol().trim(), resource.address).trim()),
            escape(&resource.kind),
            human::verb(resource.action)
        );
        Details {
            stack,
            summary,
            fence: fence_for(&text),
            lines: text.lines().map(str::to_string).collect(),
        }
    }

    fn opening(&self) -> String {
        format!(
            "<details><summary>{}</summary>\n\n{}\n",
            self.summary, self.fence
        )
    }

    fn closing(&self) -> String {
        format!("{}\n\n</details>\n\n", self.fence)
    }

    fn left_out_line(count: usize) -> String {
        format!(
            "... {} left out here: the full plan has them\n",
            plural(count, "more line", "more lines")
        )
    }

    /// The length of the whole block as `render` writes it.
    fn whole_len(&self) -> usize {
        self.opening().len()
            + self.lines.iter().map(|l| l.len() + 1).sum::<usize>()
            + self.closing().len()
    }

    fn render(&self, shown: Shown, out: &mut String) {
        let count = match shown {
            Shown::Omitted => return,
            Shown::Whole => self.lines.len(),
            Shown::FirstLines(count) => count.min(self.lines.len()),
        };
        out.push_str(&self.opening());
        for line in &self.lines[..count] {
            let _ = writeln!(out, "{line}");
        }
        if count < self.lines.len() {
            out.push_str(&Details::left_out_line(self.lines.len() - count));
        }
        out.push_str(&self.closing());
    }
}

/// A part of the comment, in order.
enum Part {
    Text(String),
    Details(Details),
    /// Where a stack's left-out blocks are counted, after its blocks.
    LeftOut {
        stack: usize,
        name: String,
    },
}

struct Document {
    parts: Vec<Part>,
}

impl Document {
    fn of(plans: &[(PathBuf, Plan)]) -> Document {
        let mut parts = vec![Part::Text(head(plans))];
        for (index, (_, plan)) in plans.iter().enumerate() {
            parts.push(Part::Text(stack_head(plan)));
            // Deletes and replacements first, as in the list above them.
            let (destructive, rest): (Vec<&ResourceChange>, Vec<&ResourceChange>) = plan
                .resources
                .iter()
                .filter(|r| human::shown(r))
                .partition(|r| is_destructive(r));
            for resource in destructive.into_iter().chain(rest) {
                parts.push(Part::Details(Details::of(index, resource)));
            }
            parts.push(Part::LeftOut {
                stack: index,
                name: plan.stack.clone(),
            });
            parts.push(Part::Text(format!(
                "**{}**\n\n",
                escape(&human::summary_line(&plan.summary()))
            )));
        }
        Document { parts }
    }

    fn blocks(&self) -> Vec<&Details> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::Details(d) => Some(d),
                _ => None,
            })
            .collect()
    }

    fn stack_names(&self) -> Vec<&str> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                Part::LeftOut { name, .. } => Some(name.as_str()),
                _ => None,
            })
            .collect()
    }

    /// How each block is shown: every block whole when the comment fits,
    /// else the longest run of whole blocks from the start that fits with
    /// the notes of what was left out, then as many first lines of the next
    /// block as still fit, and nothing after it. Lengths are added up, not
    /// rendered, so a plan of thousands of changes is cut at once.
    fn fit(&self, cap: usize) -> Vec<Shown> {
        let blocks = self.blocks();
        let names = self.stack_names();
        let fixed: usize = self
            .parts
            .iter()
            .map(|p| match p {
                Part::Text(text) => text.len(),
                _ => 0,
            })
            .sum();
        let whole: Vec<usize> = blocks.iter().map(|b| b.whole_len()).collect();
        if fixed + whole.iter().sum::<usize>() <= cap {
            return vec![Shown::Whole; blocks.len()];
        }
        // Start with every block left out, then keep them whole from the
        // start while the comment fits.
        let mut left: Vec<usize> = vec![0; names.len()];
        for block in &blocks {
            left[block.stack] += 1;
        }
        let note = |stack: usize, left: usize| left_out_note(names[stack], left).len();
        let mut notes: usize = (0..names.len()).map(|s| note(s, left[s])).sum();
        let mut length = fixed + notes;
        let mut shown = vec![Shown::Omitted; blocks.len()];
        let mut kept = 0;
        for (index, block) in blocks.iter().enumerate() {
            let stack = block.stack;
            let notes_then = notes - note(stack, left[stack]) + note(stack, left[stack] - 1);
            let length_then = length - notes + notes_then + whole[index];
            if length_then > cap {
                break;
            }
            shown[index] = Shown::Whole;
            left[stack] -= 1;
            (notes, length) = (notes_then, length_then);
            kept += 1;
        }
        // The first block left out: as many of its first lines as fit.
        if let Some(block) = blocks.get(kept) {
            let stack = block.stack;
            let notes_then = notes - note(stack, left[stack]) + note(stack, left[stack] - 1);
            let mut length_then =
                length - notes + notes_then + block.opening().len() + block.closing().len();
            let mut best = None;
            for (count, line) in block.lines.iter().enumerate() {
                length_then += line.len() + 1;
                let more = block.lines.len() - (count + 1);
                if more == 0 {
                    break; // whole, which did not fit
                }
                if length_then + Details::left_out_line(more).len() > cap {
                    break;
                }
                best = Some(count + 1);
            }
            if let Some(count) = best {
                shown[kept] = Shown::FirstLines(count);
            }
        }
        shown
    }

    fn render(&self, shown: &[Shown]) -> String {
        let blocks = self.blocks();
        let mut out = String::new();
        let mut index = 0;
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Details(block) => {
                    block.render(shown.get(index).copied().unwrap_or(Shown::Whole), &mut out);
                    index += 1;
                }
                Part::LeftOut { stack, name } => {
                    let left = blocks
                        .iter()
                        .zip(shown)
                        .filter(|(block, shown)| block.stack == *stack && **shown == Shown::Omitted)
                        .count();
                    out.push_str(&left_out_note(name, left));
                }
            }
        }
        out
    }
}

/// The note under a stack's blocks when `left` of them are left out.
fn left_out_note(stack: &str, left: usize) -> String {
    if left == 0 {
        return String::new();
    }
    format!(
        "_{} of stack {} left out: the comment would be over its size limit. \
         The full plan is in the output of `eksform plan` (the CI run's log or artifact)._\n\n",
        plural(left, "more resource change", "more resource changes"),
        code(stack)
    )
}

/// The marker, the heading and the summary table: one row per stack.
fn head(plans: &[(PathBuf, Plan)]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", marker(plans));
    let changes = plans.iter().any(|(_, p)| p.summary().has_changes());
    let _ = writeln!(
        out,
        "## eksform plan: {}\n",
        if changes { "changes" } else { "no changes" }
    );
    let release = plans.iter().any(|(_, p)| p.summary().release > 0);
    let mut columns = vec!["Create", "Update", "Replace", "Delete", "Adopt"];
    if release {
        columns.push("Release");
    }
    let _ = writeln!(out, "| Stack | File | {} |", columns.join(" | "));
    let _ = writeln!(out, "| --- | --- |{}", " ---: |".repeat(columns.len()));
    for (file, plan) in plans {
        let s = plan.summary();
        let counts = if s.has_changes() {
            let flagged = |count: usize| {
                if count > 0 {
                    format!("**{count}** ⚠")
                } else {
                    "0".to_string()
                }
            };
            let mut cells = vec![
                s.create.to_string(),
                s.update.to_string(),
                flagged(s.replace),
                flagged(s.delete),
                s.adopt.to_string(),
            ];
            if release {
                cells.push(s.release.to_string());
            }
            cells.join(" | ")
        } else {
            let mut cells = vec!["no changes"];
            cells.resize(columns.len(), "");
            cells.join(" | ")
        };
        let _ = writeln!(
            out,
            "| {} | {} | {counts} |",
            code(&plan.stack),
            code(&file.display().to_string())
        );
    }
    out.push('\n');
    out
}

/// A stack's heading, its destructive changes and warnings, its upgrade
/// order: what a reviewer must see without opening anything.
fn stack_head(plan: &Plan) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "### Stack {} ({}, account {})\n",
        code(&plan.stack),
        escape(&plan.region),
        escape(&plan.account)
    );
    let destructive: Vec<&ResourceChange> = plan
        .resources
        .iter()
        .filter(|r| is_destructive(r))
        .collect();
    if !destructive.is_empty() {
        let _ = writeln!(out, "> [!WARNING]");
        let _ = writeln!(
            out,
            "> {} in this stack:",
            plural(
                destructive.len(),
                "destructive change",
                "destructive changes"
            )
        );
        for resource in destructive {
            let guarded = if resource.is_guarded() {
                ": guarded, `apply --auto-approve` needs `--allow-destroy`"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "> - {} ({}) {}{guarded}",
                code(&resource.address.to_string()),
                escape(&resource.kind),
                human::verb(resource.action)
            );
        }
        out.push('\n');
    }
    let warnings: Vec<(&ResourceChange, &String)> = plan
        .resources
        .iter()
        .flat_map(|r| r.warnings.iter().map(move |w| (r, w)))
        .collect();
    if !warnings.is_empty() {
        let _ = writeln!(out, "**Warnings:**\n");
        for (resource, warning) in warnings {
            let _ = writeln!(
                out,
                "- {}: {}",
                code(&resource.address.to_string()),
                escape(warning)
            );
        }
        out.push('\n');
    }
    if !plan.summary().has_changes() {
        let _ = writeln!(out, "{}\n", human::no_changes(plan));
    }
    if let Some(order) = human::upgrade_order(plan) {
        let fence = fence_for(&order);
        let _ = writeln!(out, "{fence}\n{}{fence}\n", order);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use eksform_core::model::{Address, Value};
    use eksform_core::plan::AttributeChange;

    fn change(action: Action, kind: &str, address: &str, value: &str) -> ResourceChange {
        ResourceChange {
            address: Address(address.to_string()),
            kind: kind.to_string(),
            action,
            reason: None,
            warnings: Vec::new(),
            notes: Vec::new(),
            changes: vec![AttributeChange {
                name: "name".into(),
                before: (action != Action::Create).then(|| Value::string("old")),
                after: (action != Action::Delete).then(|| Value::string(value)),
                forces_replacement: action == Action::Replace,
                notes: Vec::new(),
            }],
            desired: None,
            live: None,
        }
    }

    fn plan(stack: &str, resources: Vec<ResourceChange>) -> Plan {
        Plan {
            format_version: 1,
            eksform_version: "0.0.0".into(),
            stack: stack.into(),
            region: "us-east-1".into(),
            account: "123456789012".into(),
            fingerprint: String::new(),
            resources,
        }
    }

    fn file(name: &str) -> PathBuf {
        PathBuf::from(format!("stacks/{name}.yaml"))
    }

    /// A stack of many created subnets, one deleted Elastic IP (guarded)
    /// and one replaced subnet: big enough to need cutting under a small cap.
    fn big() -> Vec<(PathBuf, Plan)> {
        let mut resources = vec![
            change(
                Action::Delete,
                "elastic_ip",
                "elastic_ip.nat.us-east-1a",
                "",
            ),
            change(
                Action::Replace,
                "subnet",
                "subnet.private.us-east-1a",
                "10.0.0.0/19",
            ),
        ];
        for n in 0..40 {
            resources.push(change(
                Action::Create,
                "subnet",
                &format!("subnet.extra.{n}"),
                &"x".repeat(200),
            ));
        }
        vec![
            (file("net"), plan("net", resources)),
            (
                file("dns"),
                plan(
                    "dns",
                    vec![change(Action::Create, "log_group", "log_group.a", "a")],
                ),
            ),
        ]
    }

    fn fences(text: &str) -> usize {
        text.lines().filter(|l| l.starts_with("```")).count()
    }

    #[test]
    fn the_marker_is_the_same_for_the_same_stacks_and_differs_for_another_estate() {
        let a = plan("net", Vec::new());
        let b = plan("dns", Vec::new());
        let one = marker(&[(file("net"), a.clone()), (file("dns"), b.clone())]);
        let reordered = marker(&[
            (PathBuf::from("/elsewhere/dns.yaml"), b.clone()),
            (PathBuf::from("net.yml"), a.clone()),
        ]);
        assert_eq!(one, reordered, "files' names and order do not matter");
        assert!(
            one.starts_with(MARKER_PREFIX) && one.ends_with(" -->"),
            "{one}"
        );
        let other_account = Plan {
            account: "111122223333".into(),
            ..a.clone()
        };
        let other_region = Plan {
            region: "eu-west-1".into(),
            ..a.clone()
        };
        for other in [
            marker(&[(file("net"), a.clone())]),
            marker(&[(file("net"), other_account), (file("dns"), b.clone())]),
            marker(&[(file("net"), other_region), (file("dns"), b.clone())]),
        ] {
            assert_ne!(one, other);
        }
    }

    #[test]
    fn a_plan_that_fits_shows_every_change_whole_and_nothing_left_out() {
        let plans = big();
        let text = super::plans(&plans, usize::MAX);
        assert_eq!(text.matches("<details>").count(), 43);
        assert!(!text.contains("left out"), "{text}");
        assert_eq!(fences(&text) % 2, 0);
        // The same text as the terminal plan's, block for block.
        for resource in &plans[0].1.resources {
            assert!(text.contains(&human::resource_change(resource, false)));
        }
    }

    #[test]
    fn destructive_changes_come_first_in_the_list_and_the_blocks() {
        let text = super::plans(&big(), usize::MAX);
        let warning = text.find("> [!WARNING]").unwrap();
        let first_block = text.find("<details>").unwrap();
        assert!(warning < first_block);
        assert!(text.contains(
            "> - <code>elastic_ip.nat.us-east-1a</code> (elastic_ip) will be deleted: guarded"
        ));
        assert!(
            text.contains("> - <code>subnet.private.us-east-1a</code> (subnet) must be replaced\n")
        );
        let summaries: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("<details>"))
            .take(3)
            .collect();
        assert!(summaries[0].contains("⚠ <code>- elastic_ip.nat.us-east-1a</code>"));
        assert!(summaries[1].contains("⚠ <code>-/+ subnet.private.us-east-1a</code>"));
        assert!(summaries[2].contains("<code>+ subnet.extra.0</code>"));
        assert!(!summaries[2].contains('⚠'));
    }

    #[test]
    fn under_any_cap_the_marker_table_and_destructive_list_stay_and_fences_pair() {
        let plans = big();
        let full = super::plans(&plans, usize::MAX);
        let fixed = super::plans(&plans, 0);
        assert_eq!(fixed.matches("<details>").count(), 0);
        assert!(fixed.contains("_42 more resource changes of stack <code>net</code> left out"));
        assert!(fixed.contains("_1 more resource change of stack <code>dns</code> left out"));
        for cap in (fixed.len()..full.len()).step_by(97) {
            let text = super::plans(&plans, cap);
            assert!(text.len() <= cap, "{} > {cap}", text.len());
            assert!(text.starts_with(&marker(&plans)));
            assert!(text.contains("| <code>net</code> | <code>stacks/net.yaml</code> | 40 |"));
            assert!(text.contains("| <code>dns</code> | <code>stacks/dns.yaml</code> | 1 |"));
            assert!(text.contains("> - <code>elastic_ip.nat.us-east-1a</code>"));
            assert!(text.contains("> - <code>subnet.private.us-east-1a</code>"));
            assert_eq!(fences(&text) % 2, 0, "cap {cap}:\n{text}");
            assert_eq!(
                text.matches("<details>").count(),
                text.matches("</details>").count()
            );
            assert!(text.contains("left out"), "says what is left out: {text}");
        }
    }

    #[test]
    fn what_is_left_out_is_counted_per_stack_and_the_rest_is_cut_from_the_end() {
        let plans = big();
        let full = super::plans(&plans, usize::MAX);
        // Room for about half of the first stack's blocks.
        let text = super::plans(&plans, full.len() / 2);
        let shown = text.matches("<details>").count();
        assert!(shown > 2 && shown < 42, "{shown}");
        let net_note = format!(
            "_{} of stack <code>net</code> left out",
            plural(42 - shown, "more resource change", "more resource changes")
        );
        assert!(text.contains(&net_note), "{text}");
        assert!(text.contains("_1 more resource change of stack <code>dns</code> left out"));
        assert!(text.contains("`eksform plan`"));
        // The blocks kept are the first ones, in order.
        assert!(text.contains("<code>+ subnet.extra.0</code>"));
        assert!(!text.contains("<code>+ subnet.extra.39</code>"));
        // Summary lines stay.
        assert!(text.contains("**Plan: 40 to create, 0 to update, 1 to replace, 1 to delete.**"));
    }

    #[test]
    fn a_long_block_is_shortened_at_a_line_and_its_fence_closed() {
        // A new map reads one key a line.
        let tags = (0..400)
            .map(|n| (format!("key{n}"), Value::string("value")))
            .collect();
        let mut resource = change(Action::Create, "vpc", "vpc.main", "");
        resource.changes[0].after = Some(Value::Map(tags));
        resource.changes[0].name = "tags".into();
        let plans = vec![(file("net"), plan("net", vec![resource]))];
        let full = super::plans(&plans, usize::MAX);
        assert!(full.lines().count() > 400);
        let text = super::plans(&plans, full.len() / 2);
        assert!(text.len() <= full.len() / 2);
        assert!(
            text.len() > full.len() / 2 - 100,
            "as much as fits is shown"
        );
        assert_eq!(text.matches("<details>").count(), 1, "{text}");
        assert!(text.contains("more lines left out here: the full plan has them"));
        assert_eq!(fences(&text), 2);
        assert!(
            text.trim_end()
                .ends_with("**Plan: 1 to create, 0 to update, 0 to replace, 0 to delete.**")
        );
    }

    #[test]
    fn the_lengths_the_cut_adds_up_are_the_rendered_ones() {
        let document = Document::of(&big());
        for block in document.blocks() {
            let mut rendered = String::new();
            block.render(Shown::Whole, &mut rendered);
            assert_eq!(block.whole_len(), rendered.len());
        }
        let every = vec![Shown::Whole; document.blocks().len()];
        let fixed: usize = document
            .parts
            .iter()
            .map(|p| match p {
                Part::Text(text) => text.len(),
                _ => 0,
            })
            .sum();
        let blocks: usize = document.blocks().iter().map(|b| b.whole_len()).sum();
        assert_eq!(document.render(&every).len(), fixed + blocks);
    }

    #[test]
    fn backticks_in_a_value_get_a_longer_fence() {
        let resource = change(Action::Create, "log_group", "log_group.a", "a ```` b");
        let text = super::plans(&[(file("net"), plan("net", vec![resource]))], usize::MAX);
        assert!(text.contains("\n`````\n"), "{text}");
        assert_eq!(fences(&text), 2);
    }

    #[test]
    fn text_outside_the_blocks_is_escaped() {
        let mut resource = change(Action::Update, "log_group", "log_group.a", "b");
        resource.warnings = vec!["retention <1 day> | older events go".into()];
        let text = super::plans(
            &[(PathBuf::from("a|b<c>.yaml"), plan("net", vec![resource]))],
            usize::MAX,
        );
        assert!(
            text.contains("<code>a&#124;b&lt;c&gt;.yaml</code>"),
            "{text}"
        );
        assert!(text.contains(
            "- <code>log_group.a</code>: retention &lt;1 day&gt; &#124; older events go"
        ));
    }

    #[test]
    fn a_stack_without_changes_says_so_and_release_has_a_column_only_when_used() {
        let plans = vec![
            (file("net"), plan("net", Vec::new())),
            (
                file("dns"),
                plan(
                    "dns",
                    vec![change(Action::Update, "log_group", "log_group.a", "b")],
                ),
            ),
        ];
        let text = super::plans(&plans, usize::MAX);
        assert!(text.contains("| Stack | File | Create | Update | Replace | Delete | Adopt |\n"));
        assert!(
            text.contains(
                "| <code>net</code> | <code>stacks/net.yaml</code> | no changes |  |  |  |  |\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "| <code>dns</code> | <code>stacks/dns.yaml</code> | 0 | 1 | 0 | 0 | 0 |\n"
            )
        );
        assert!(text.contains("No changes. The live resources match the spec."));
        let released = vec![(
            file("dns"),
            plan(
                "dns",
                vec![change(Action::Release, "log_group", "log_group.a", "b")],
            ),
        )];
        let text = super::plans(&released, usize::MAX);
        assert!(text.contains("| Adopt | Release |\n"));
        assert!(text.contains(" | 0 | 1 |\n"), "{text}");
    }
}
