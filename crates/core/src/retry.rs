//! Retries with exponential backoff and full jitter, for the errors retrying
//! can fix: throttling, 5xx and timeouts, and (for longer) dependency
//! violations and eventual consistency.

use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use crate::cancel::Cancellation;
use crate::cloud::{CloudError, ErrorClass};

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    pub base: Duration,
    pub cap: Duration,
    /// Attempts for transient errors (5xx, timeouts).
    pub attempts: u32,
    /// Attempts for throttling: it always clears, so it is waited out longer
    /// (as the AWS provider for Terraform does, 25 by default).
    pub throttling_attempts: u32,
    /// Attempts for dependency violations, which clear as AWS catches up.
    pub dependency_attempts: u32,
    /// Attempts for "not found" on a call that refers to something just made:
    /// AWS's eventual consistency (a VPC id unknown for a moment after CreateVpc).
    pub lag_attempts: u32,
}

/// How a call's "not found" is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotFound {
    /// An answer: the thing is not there.
    IsFinal,
    /// Possibly lag: what the call refers to was made moments ago.
    MayBeLag,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            base: Duration::from_millis(500),
            cap: Duration::from_secs(20),
            attempts: 10,
            throttling_attempts: 25,
            dependency_attempts: 20,
            lag_attempts: 6,
        }
    }
}

impl RetryPolicy {
    /// The delay before attempt `attempt` (1-based): random in [0, min(cap, base * 2^attempt)].
    pub fn delay(&self, attempt: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(1u32.checked_shl(attempt.min(16)).unwrap_or(u32::MAX))
            .min(self.cap);
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u32(attempt);
        let fraction = (hasher.finish() % 1000) as f64 / 1000.0;
        ceiling.mul_f64(fraction.max(0.1))
    }

    /// Runs `call` until it succeeds, fails with an error retrying cannot fix,
    /// or runs out of attempts. `on_retry` hears about each retry.
    pub async fn run<T, F, Fut>(
        &self,
        call: F,
        on_retry: impl FnMut(&CloudError, u32),
    ) -> Result<T, CloudError>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, CloudError>>,
    {
        self.run_with(call, on_retry, NotFound::IsFinal, &Cancellation::default())
            .await
    }

    /// `run`, with "not found" read as `not_found` says, and the pauses between
    /// attempts cut short by `cancel` (then the last error is returned).
    pub async fn run_with<T, F, Fut>(
        &self,
        mut call: F,
        mut on_retry: impl FnMut(&CloudError, u32),
        not_found: NotFound,
        cancel: &Cancellation,
    ) -> Result<T, CloudError>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T, CloudError>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match call(attempt).await {
                Ok(value) => return Ok(value),
                Err(error) => {
                    let limit = match error.class {
                        ErrorClass::Throttling => self.throttling_attempts,
                        ErrorClass::Transient => self.attempts,
                        ErrorClass::DependencyViolation => self.dependency_attempts,
                        ErrorClass::NotFound if not_found == NotFound::MayBeLag => {
                            self.lag_attempts
                        }
                        _ => return Err(error),
                    };
                    if attempt >= limit {
                        return Err(error);
                    }
                    on_retry(&error, attempt);
                    if cancel.sleep(self.delay(attempt)).await {
                        return Err(error);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_and_stay_under_the_cap() {
        let policy = RetryPolicy::default();
        for attempt in 1..30 {
            assert!(policy.delay(attempt) <= policy.cap);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn retries_throttling_then_gives_up_on_rejection() {
        let policy = RetryPolicy::default();
        let mut calls = 0;
        let result: Result<(), CloudError> = policy
            .run(
                |attempt| {
                    calls += 1;
                    async move {
                        if attempt < 3 {
                            Err(CloudError::new(
                                ErrorClass::Throttling,
                                Some("Throttling"),
                                "slow down",
                            ))
                        } else {
                            Err(CloudError::rejected("no"))
                        }
                    }
                },
                |_, _| {},
            )
            .await;
        assert_eq!(calls, 3);
        assert_eq!(result.unwrap_err().class, ErrorClass::Rejected);
    }
}

#[cfg(test)]
mod lag_tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn not_found_is_retried_only_where_it_may_be_lag() {
        let policy = RetryPolicy::default();
        for (not_found, expected_calls) in [
            (NotFound::IsFinal, 1),
            (NotFound::MayBeLag, policy.lag_attempts),
        ] {
            let mut calls = 0;
            let result: Result<(), CloudError> = policy
                .run_with(
                    |_| {
                        calls += 1;
                        async {
                            Err(CloudError::new(
                                ErrorClass::NotFound,
                                Some("InvalidVpcID.NotFound"),
                                "no such VPC",
                            ))
                        }
                    },
                    |_, _| {},
                    not_found,
                    &Cancellation::default(),
                )
                .await;
            assert!(result.is_err());
            assert_eq!(calls, expected_calls, "{not_found:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn cancellation_ends_the_pause_between_attempts() {
        let policy = RetryPolicy::default();
        let cancel = Cancellation::default();
        cancel.cancel();
        let mut calls = 0;
        let result: Result<(), CloudError> = policy
            .run_with(
                |_| {
                    calls += 1;
                    async {
                        Err(CloudError::new(
                            ErrorClass::Throttling,
                            Some("Throttling"),
                            "slow down",
                        ))
                    }
                },
                |_, _| {},
                NotFound::IsFinal,
                &cancel,
            )
            .await;
        assert!(result.is_err());
        assert_eq!(calls, 1, "no retry after Ctrl-C");
    }
}
