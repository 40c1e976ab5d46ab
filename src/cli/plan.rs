//! `eksform plan`: the plans of one stack or several, as text, JSON or
//! Markdown for a pull-request comment, optionally saved for `apply`.

use std::path::PathBuf;

use clap::Args;
use eksform_core::plan::Plan;
use eksform_core::retry::RetryPolicy;

use super::{CliError, ExitStatus, GlobalArgs, color, print_diagnostics};
use crate::{ops, render};

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// A spec file, or several, or directories of them: each stack is
    /// planned after the stacks it refers to (`fromStack`).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Save the plan for `apply PLANFILE`. With a directory of specs or
    /// several files, a directory: one `<position>-<stack>.plan` per stack
    /// with changes, numbered in the order to apply them.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Print the plan as versioned JSON on stdout.
    #[arg(long)]
    pub json: bool,
    /// Print the plan as Markdown for a pull-request comment on stdout: a
    /// hidden marker line naming the estate, a summary table, destructive
    /// changes first, each change in a collapsible block, kept within
    /// GitHub's 65,536-character comment limit.
    #[arg(long, conflicts_with = "json")]
    pub markdown: bool,
    /// Exit 2 when there are changes, 0 when there are none.
    #[arg(long)]
    pub detailed_exitcode: bool,
}

pub(super) async fn run(global: &GlobalArgs, args: PlanArgs) -> Result<ExitStatus, CliError> {
    let files = ops::stack_files(&args.files)?;
    let estate = files.len() > 1 || args.files.iter().any(|file| file.is_dir());
    let plans = ops::plan_files(
        &files,
        &global.aws_access(),
        RetryPolicy::default(),
        |stack| print_diagnostics(&stack.loaded.warnings),
    )
    .await?;
    if args.json {
        print_json(&plans);
    } else if args.markdown {
        print!(
            "{}",
            render::markdown::plans(&plans, render::markdown::GITHUB_COMMENT_LIMIT)
        );
    } else {
        print_human(&plans);
    }
    match (&args.out, plans.as_slice()) {
        (Some(out), plans) if estate => {
            let saved = ops::save_plans(out, plans)?;
            if saved.is_empty() {
                eprintln!("No stack has changes: {} holds no plan.", out.display());
            } else {
                eprintln!(
                    "Saved {} plan{} to {}. Apply them in order with: for plan in {}/*.plan; do eksform apply \"$plan\"; done",
                    saved.len(),
                    if saved.len() == 1 { "" } else { "s" },
                    out.display(),
                    out.display()
                );
            }
        }
        (Some(out), [(_, plan)]) => {
            ops::save_plan(out, plan)?;
            eprintln!(
                "Saved the plan to {}. Apply it with: eksform apply {}",
                out.display(),
                out.display()
            );
        }
        _ => {}
    }
    let changes = plans.iter().any(|(_, plan)| plan.summary().has_changes());
    Ok(if args.detailed_exitcode && changes {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    })
}

/// One document with a list of stacks, for one file as for many.
fn print_json(plans: &[(PathBuf, Plan)]) {
    let plans: Vec<&Plan> = plans.iter().map(|(_, plan)| plan).collect();
    println!(
        "{}",
        serde_json::to_string_pretty(&render::json::plan_document(&plans)).unwrap_or_default()
    );
}

/// Each plan, under its stack's name when there are several, then a summary.
fn print_human(plans: &[(PathBuf, Plan)]) {
    let many = plans.len() > 1;
    for (file, plan) in plans {
        if many {
            println!("Stack {} ({}):", plan.stack, file.display());
        }
        print!("{}", render::human::plan(plan, color()));
        if many {
            println!();
        }
    }
    if many {
        println!("Summary:");
        for (_, plan) in plans {
            println!(
                "  {}: {}",
                plan.stack,
                render::human::summary_line(&plan.summary())
            );
        }
    }
}
