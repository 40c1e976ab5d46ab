//! The spec and what is read from it without AWS: validation, `extends`, the
//! published schema, plans rendered from specs (snapshots, as text, JSON and
//! Markdown), and the documentation kept in step with the schema.

mod docs;
mod extends;
mod markdown;
mod plans;
mod schema;
mod validation;
