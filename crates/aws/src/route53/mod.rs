//! Route53: the adapters of hosted zones and records.

pub(crate) mod dns_record;
pub(crate) mod hosted_zone;

use std::collections::BTreeMap;

/// The tags a mark text carries (a zone's comment, a record's companion):
/// every `eksform:<key>=<value>` word of it, quotes and other words ignored:
/// the mark (`tags::mark_text`), and `eksform:adopted` on what an adopt
/// entry took over.
pub(crate) fn mark_tags(text: &str) -> BTreeMap<String, String> {
    text.trim()
        .trim_matches('"')
        .split_whitespace()
        .filter_map(|word| word.split_once('='))
        .filter(|(key, _)| key.starts_with("eksform:"))
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
}

/// A mark text with the region of a global kind's mark (`eksform:region`)
/// and what a take-over adds (`eksform:adopted=<value>`) when the tags say so.
pub(crate) fn mark_text_of(
    stack: &str,
    address: &eksform_core::model::Address,
    tags: &BTreeMap<String, String>,
) -> String {
    let mut mark = eksform_core::kinds::tags::mark_text(stack, address);
    // Route 53 is account-wide: the region tells one stack name's regions apart.
    if let Some(region) = tags.get(eksform_core::model::REGION_TAG) {
        mark.push_str(&format!(" {}={region}", eksform_core::model::REGION_TAG));
    }
    if let Some(adopted) = tags.get(eksform_core::plan::ADOPTED_TAG) {
        mark.push_str(&format!(" {}={adopted}", eksform_core::plan::ADOPTED_TAG));
    }
    mark
}

#[cfg(test)]
mod tests {
    use super::*;
    use eksform_core::model::Address;

    #[test]
    fn a_mark_text_reads_back_as_its_tags() {
        let mut tags = eksform_core::kinds::tags::mark("prd", &Address("dns_record.www.A".into()));
        tags.insert("eksform:adopted".into(), "entry".into());
        let text = mark_text_of("prd", &Address("dns_record.www.A".into()), &tags);
        assert_eq!(mark_tags(&format!("\"{text}\"")), tags);
        // A zone's comment keeps what people wrote before the mark.
        assert_eq!(mark_tags(&format!("Managed by Terraform {text}")), tags);
    }
}
