//! eksform's test kit, a dev-dependency only: the in-memory cloud (`memory`),
//! the fault-injecting proxy (`proxy`), other teams' resources in a crowded
//! account (`crowd`), the AWS emulator with the `eksform`
//! binary pointed at it (`emulator`), waiting for observed events
//! (`waiting`), and what tests share: checks of what a run left
//! (`assertions`) and the crash sweep (`crash`).

pub mod assertions;
pub mod crash;
pub mod crowd;
pub mod emulator;
pub mod memory;
pub mod proxy;
pub mod waiting;
