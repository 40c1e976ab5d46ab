//! Cancellation (Ctrl-C): stop starting work, let calls in flight finish,
//! stop waiting and stop sleeping between retries.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::sync::Notify;

/// Ctrl-C: stop starting work, let what is in flight finish, stop waiting.
#[derive(Clone, Default)]
pub struct Cancellation {
    flag: Arc<AtomicBool>,
    notify: Arc<Notify>,
}

impl Cancellation {
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }
    /// Sleeps for `duration`, or less if cancelled meanwhile; true when cancelled.
    pub async fn sleep(&self, duration: Duration) -> bool {
        let notified = self.notify.notified();
        if self.is_cancelled() {
            return true;
        }
        tokio::select! {
            _ = tokio::time::sleep(duration) => self.is_cancelled(),
            _ = notified => true,
        }
    }
}
