//! Tags as the ECR, EFS and IAM SDKs answer them (a key and a value, both
//! required), turned into the map the kinds read. EC2's (optional key, `aws:`
//! tags left out), ACM's (optional value) and CloudWatch Logs' (already a
//! map) differ and keep their own conversions.

use std::collections::BTreeMap;

/// An SDK tag whose key and value are both required.
pub(crate) trait KeyValueTag {
    fn key_and_value(&self) -> (&str, &str);
}

macro_rules! key_value_tag {
    ($($tag:ty),*) => {$(
        impl KeyValueTag for $tag {
            fn key_and_value(&self) -> (&str, &str) {
                (self.key(), self.value())
            }
        }
    )*};
}

key_value_tag!(
    aws_sdk_ecr::types::Tag,
    aws_sdk_efs::types::Tag,
    aws_sdk_iam::types::Tag
);

/// Tags as a map, key to value.
pub(crate) fn tag_map<T: KeyValueTag>(tags: &[T]) -> BTreeMap<String, String> {
    tags.iter()
        .map(|tag| {
            let (key, value) = tag.key_and_value();
            (key.to_string(), value.to_string())
        })
        .collect()
}
