//! Route53: the adapters of hosted zones and records.

pub(crate) mod dns_record;
pub(crate) mod hosted_zone;
