//! Taking over an estate made by other tools: what both importers share.
//!
//! An importer (Terraform state, eksctl's CloudFormation stacks) maps each
//! live resource it knows to eksform's vocabulary, an `Imported`: the address
//! eksform's lowering gives it, its kind, its AWS id as an `adopt:` entry takes
//! it, and its attributes named and shaped as the AWS adapter's observation
//! gives them. What it cannot map is an `Unmapped`, listed, never dropped.
//! `write_spec` turns the resulting `Draft` into the spec a user reviews:
//! the settings read back from the attributes, and an `adopt:` entry for
//! every imported resource. Pure.

pub mod removed_tf;
mod spec_writer;
pub mod terraform;
mod yaml;

use crate::model::{Address, Attributes};

pub use spec_writer::write_spec;

/// One live resource mapped to eksform.
#[derive(Debug, Clone, PartialEq)]
pub struct Imported {
    /// Its address in eksform's plans (`vpc.main`, `subnet.public.eu-west-1a`).
    pub address: Address,
    /// The registered kind's name (`kinds::ALL`).
    pub kind: String,
    /// The AWS id, ARN or name an `adopt:` entry takes for this kind.
    pub id: String,
    /// Its attributes as the kind's `ATTRIBUTES` name them, valued as the AWS
    /// adapter's observation gives them (tags included).
    pub attributes: Attributes,
    /// Where the importer found it: `module.vpc.aws_vpc.this[0]`,
    /// `eksctl-prod-cluster/VPC`.
    pub source: String,
}

/// A resource the importer found but eksform does not model (or not in the
/// shape it was made): left to the tool that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unmapped {
    /// Where the importer found it, as for `Imported::source`.
    pub source: String,
    /// Its type in the source tool's words (`aws_sqs_queue`, `AWS::SQS::Queue`).
    pub resource_type: String,
    /// Why it is not mapped, in a sentence.
    pub reason: String,
}

/// What an importer read, ready to be written as a spec.
#[derive(Debug, Clone, PartialEq)]
pub struct Draft {
    pub stack: String,
    pub region: String,
    pub resources: Vec<Imported>,
    pub unmapped: Vec<Unmapped>,
}

impl Draft {
    /// The imported resource at an address.
    pub fn at(&self, address: &Address) -> Option<&Imported> {
        self.resources.iter().find(|r| &r.address == address)
    }

    /// The imported resources of a kind, in address order.
    pub fn of_kind(&self, kind: &str) -> Vec<&Imported> {
        let mut found: Vec<&Imported> = self.resources.iter().filter(|r| r.kind == kind).collect();
        found.sort_by(|a, b| a.address.cmp(&b.address));
        found
    }
}

/// Why a draft cannot be written as a spec.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error(
        "`{0}` is not a valid stack name: a lowercase letter, then up to 23 lowercase letters, digits or '-'"
    )]
    InvalidStackName(String),
    #[error(
        "the region could not be told from the imported resources: none of them names one (their ARNs or availability zones)"
    )]
    NoRegion,
    #[error("both {first} and {second} map to {address}: eksform has one resource there")]
    SameAddress {
        address: String,
        first: String,
        second: String,
    },
    #[error("nothing to import: no resource maps to eksform")]
    Empty,
}
