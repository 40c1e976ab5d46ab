//! ACM: the adapters of certificates and their validation.

pub(crate) mod certificate;
pub(crate) mod certificate_validation;
