//! eksform's test kit, a dev-dependency only: the in-memory cloud (`memory`),
//! the fault-injecting proxy (`proxy`), and what tests share.

pub mod memory;
pub mod proxy;
