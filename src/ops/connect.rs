//! How the operations reach AWS: the profile and endpoint of the run, and a
//! connection per region asked for.

use std::sync::Arc;

use eksform_aws::{AwsClients, AwsCloud, Connection};
use eksform_core::cloud::{Cloud, Regions};

/// How this run reaches AWS; the region comes from each stack.
#[derive(Debug, Clone, Default)]
pub struct AwsAccess {
    /// A profile of the shared config files.
    pub profile: Option<String>,
    /// An endpoint that takes every call (a local emulator).
    pub endpoint_url: Option<String>,
}

impl AwsAccess {
    pub async fn clients(&self, region: &str) -> AwsClients {
        let connection = Connection {
            region: region.into(),
            profile: self.profile.clone(),
            endpoint_url: self.endpoint_url.clone(),
        };
        AwsClients::connect(&connection).await
    }

    pub async fn connect(&self, region: &str) -> Arc<dyn Cloud> {
        Arc::new(AwsCloud {
            clients: self.clients(region).await,
        })
    }
}

/// A new connection for each region asked for.
#[async_trait::async_trait]
impl Regions for AwsAccess {
    async fn cloud(&self, region: &str) -> Arc<dyn Cloud> {
        self.connect(region).await
    }
}

/// Connections for references to stacks in other regions; the stack's own
/// region reuses its connection.
pub(super) struct FromHomeRegion<'a> {
    access: &'a AwsAccess,
    home_region: String,
    home: Arc<dyn Cloud>,
}

impl<'a> FromHomeRegion<'a> {
    pub(super) fn new(access: &'a AwsAccess, home_region: &str, home: Arc<dyn Cloud>) -> Self {
        Self {
            access,
            home_region: home_region.into(),
            home,
        }
    }
}

#[async_trait::async_trait]
impl Regions for FromHomeRegion<'_> {
    async fn cloud(&self, region: &str) -> Arc<dyn Cloud> {
        if region == self.home_region {
            self.home.clone()
        } else {
            self.access.connect(region).await
        }
    }
}
