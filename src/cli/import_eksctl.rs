//! `eksform import eksctl`: not built in this branch (the eksctl importer
//! lives on its own branch and replaces this module).

use super::import::EksctlArgs;
use super::{CliError, ExitStatus, GlobalArgs};

pub(super) async fn run(_global: &GlobalArgs, _args: EksctlArgs) -> Result<ExitStatus, CliError> {
    Err(CliError::Ops(crate::ops::OpsError::Refused(
        "`eksform import eksctl` is not built in this branch".into(),
    )))
}
