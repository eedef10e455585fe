//! The stop signal every service and source of one process waits on.

use tokio::sync::watch;

/// A shutdown signal every task can wait on (cheap to clone). The
/// [`watch::Sender`] returned with it by [`Shutdown::new`] stops them all:
/// Ctrl-C in the binary, or a test's explicit stop.
#[derive(Clone, Debug)]
pub struct Shutdown(watch::Receiver<bool>);

impl Shutdown {
    /// A signal not yet given, and the sender that gives it.
    pub fn new() -> (watch::Sender<bool>, Shutdown) {
        let (tx, rx) = watch::channel(false);
        (tx, Shutdown(rx))
    }

    /// Resolves once shutdown was asked for (or its sender dropped).
    pub async fn wait(mut self) {
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}
