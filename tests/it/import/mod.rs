//! `eksform import`: the specs the importers write, checked as snapshots and
//! by the property that matters: planned against the resources they read,
//! they only adopt.

mod terraform;
