//! Renderers: plans as text for people, as Markdown for pull-request comments
//! and as versioned JSON for machines, and apply progress. They format; the
//! CLI decides where the text goes.

pub mod diff;
pub mod human;
pub mod json;
pub mod markdown;
pub mod progress;
