//! Bounded connections for every listener of the process (the Graphite
//! listener, HTTP ingest, the console), so that no client can take the
//! files the others need.
//!
//! Each listener has a [`ConnectionPool`] of at most `max` connections, and
//! all pools together hold at most the process's *file budget*: its open
//! file limit (`RLIMIT_NOFILE`) less a reserve for everything else it opens
//! (Kafka and Redis sockets, database files, the runtime's own). Without
//! that, 500 idle Graphite connections under a 600-file limit left HTTP
//! ingest and the console unable to accept anyone.
//!
//! A connection that arrives when its pool (or the budget) is full takes
//! the place of the connection that has been idle longest — one with no
//! request in progress, which has sent nothing for the longest — and is
//! served at once; when every connection is busy it waits for one to end.
//! So idle connections can never lock new clients out, and a busy client
//! is never cut off to make room. Idle connections also end by themselves
//! after their timeout.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex, MutexGuard};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

/// Limits of a plain TCP listener (`[ingest.graphite_connections]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TcpLimits {
    /// Most connections open at once. A new connection beyond it replaces
    /// the connection idle longest.
    pub max: usize,
    /// Seconds a connection may send nothing before it is closed.
    pub idle_timeout_secs: u64,
}

impl Default for TcpLimits {
    fn default() -> Self {
        // Carbon relays and collectd keep one connection open and write
        // every 10 to 60 s: five minutes of silence means it is gone.
        TcpLimits {
            max: 256,
            idle_timeout_secs: 300,
        }
    }
}

/// Limits of an HTTP listener (`[ingest.http_connections]`,
/// `[console.connections]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpLimits {
    /// Most connections open at once. A new connection beyond it replaces
    /// the connection idle longest (one with no request in progress).
    pub max: usize,
    /// Seconds a client has to send a complete request head, counted from
    /// when it connects or its previous response was sent; also how long
    /// an idle keep-alive connection stays open. Bounds slow-header
    /// ("slowloris") clients.
    pub header_timeout_secs: u64,
    /// Seconds a request may take once its head has arrived: reading its
    /// body and answering it. Past it the client gets 408 and the
    /// connection is closed. Bounds slow-body clients.
    pub request_timeout_secs: u64,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            max: 256,
            header_timeout_secs: 30,
            request_timeout_secs: 60,
        }
    }
}

/// Files the process keeps for itself beyond its listeners' connections:
/// at least this many, or a quarter of its limit when that is more.
const MIN_RESERVED_FILES: usize = 128;

/// The process's open file limit (soft `RLIMIT_NOFILE`); `None` when it
/// cannot be read or is unlimited.
fn file_limit() -> Option<usize> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one `rlimit` through a valid pointer.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    (ok && limit.rlim_cur != libc::RLIM_INFINITY)
        .then(|| usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX))
}

/// How many connections all listeners together may hold: the file limit
/// less [`MIN_RESERVED_FILES`] or a quarter of it, whichever is more.
pub fn file_budget() -> usize {
    match file_limit() {
        Some(limit) => limit
            .saturating_sub(MIN_RESERVED_FILES.max(limit / 4))
            .max(1),
        None => usize::MAX,
    }
}

/// Every open connection of the process, by id.
struct Registry {
    /// At most this many connections over all pools.
    budget: usize,
    open: HashMap<u64, Arc<Slot>>,
    /// Open connections per pool.
    per_pool: HashMap<u64, usize>,
    next_id: u64,
}

/// The one registry of the process, and the signal that a slot was freed.
static REGISTRY: LazyLock<(Mutex<Registry>, Notify)> = LazyLock::new(|| {
    let budget = file_budget();
    tracing::debug!(budget, "connection budget (open file limit less a reserve)");
    (
        Mutex::new(Registry {
            budget,
            open: HashMap::new(),
            per_pool: HashMap::new(),
            next_id: 0,
        }),
        Notify::new(),
    )
});

fn registry() -> MutexGuard<'static, Registry> {
    // The registry's bookkeeping stays consistent under a panic elsewhere:
    // every update is a few plain assignments.
    REGISTRY.0.lock().unwrap_or_else(|p| p.into_inner())
}

/// The state of one open connection, shared with the registry.
struct Slot {
    pool: u64,
    /// Milliseconds since [`EPOCH`] of its last sign of life.
    last_active: AtomicU64,
    /// Requests (or sink calls) in progress.
    busy: AtomicUsize,
    /// Asked to close, to make room.
    evicting: AtomicBool,
    evict: Notify,
}

static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

fn monotonic_ms() -> u64 {
    EPOCH.elapsed().as_millis() as u64
}

/// The connections of one listener.
#[derive(Debug, Clone)]
pub struct ConnectionPool {
    id: u64,
    name: &'static str,
    max: usize,
}

impl ConnectionPool {
    /// A pool of at most `max` connections (at least 1) for the listener
    /// called `name` (in logs).
    pub fn new(name: &'static str, max: usize) -> Self {
        let mut registry = registry();
        registry.next_id += 1;
        ConnectionPool {
            id: registry.next_id,
            name,
            max: max.max(1),
        }
    }

    /// Makes room for a connection just accepted and registers it. When the
    /// pool or the process's budget is full, the idlest connection (of this
    /// pool, or of any when the budget is what is full) is asked to close,
    /// and this waits until it has; when none is idle, it waits until a
    /// connection ends.
    pub async fn admit(&self) -> Connection {
        loop {
            let freed = REGISTRY.1.notified();
            tokio::pin!(freed);
            // Registered before looking, so a slot freed in between wakes us.
            freed.as_mut().enable();
            {
                let mut registry = registry();
                let in_pool = registry.per_pool.get(&self.id).copied().unwrap_or(0);
                let pool_full = in_pool >= self.max;
                let budget_full = registry.open.len() >= registry.budget;
                if !pool_full && !budget_full {
                    return self.register(&mut registry);
                }
                // The idlest; among connections last active in the same
                // millisecond, the oldest (the map's order is arbitrary).
                let victim = registry
                    .open
                    .iter()
                    .filter(|(_, s)| !pool_full || s.pool == self.id)
                    .filter(|(_, s)| {
                        s.busy.load(Ordering::Acquire) == 0 && !s.evicting.load(Ordering::Acquire)
                    })
                    .min_by_key(|(id, s)| (s.last_active.load(Ordering::Acquire), **id))
                    .map(|(_, s)| s);
                match victim {
                    Some(victim) => {
                        victim.evicting.store(true, Ordering::Release);
                        victim.evict.notify_one();
                        tracing::debug!(
                            listener = self.name,
                            pool_full,
                            "connections full: closing the idlest to make room"
                        );
                    }
                    None => tracing::warn!(
                        listener = self.name,
                        max = self.max,
                        budget = registry.budget,
                        "every connection is busy: a new one waits for one to end"
                    ),
                }
            }
            freed.await;
        }
    }

    fn register(&self, registry: &mut Registry) -> Connection {
        registry.next_id += 1;
        let id = registry.next_id;
        let slot = Arc::new(Slot {
            pool: self.id,
            last_active: AtomicU64::new(monotonic_ms()),
            busy: AtomicUsize::new(0),
            evicting: AtomicBool::new(false),
            evict: Notify::new(),
        });
        registry.open.insert(id, slot.clone());
        *registry.per_pool.entry(self.id).or_default() += 1;
        Connection { id, slot }
    }

    /// Connections of this pool open now.
    pub fn open(&self) -> usize {
        registry().per_pool.get(&self.id).copied().unwrap_or(0)
    }
}

/// A registered connection; it frees its place when dropped.
pub struct Connection {
    id: u64,
    slot: Arc<Slot>,
}

impl Connection {
    /// Records a sign of life (bytes received, a response sent).
    pub fn touch(&self) {
        self.slot
            .last_active
            .store(monotonic_ms(), Ordering::Release);
    }

    /// Marks the connection busy until the guard is dropped: it is not
    /// chosen to make room meanwhile.
    pub fn busy(&self) -> Busy {
        self.slot.busy.fetch_add(1, Ordering::AcqRel);
        self.touch();
        Busy(self.slot.clone())
    }

    /// Whether a request (or sink call) is in progress.
    pub fn is_busy(&self) -> bool {
        self.slot.busy.load(Ordering::Acquire) > 0
    }

    /// Resolves when the connection is asked to close to make room.
    pub async fn evicted(&self) {
        self.slot.evict.notified().await
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let mut registry = registry();
        if registry.open.remove(&self.id).is_some() {
            if let Some(n) = registry.per_pool.get_mut(&self.slot.pool) {
                *n = n.saturating_sub(1);
            }
        }
        drop(registry);
        REGISTRY.1.notify_waiters();
    }
}

/// A request in progress on a [`Connection`].
pub struct Busy(Arc<Slot>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.last_active.store(monotonic_ms(), Ordering::Release);
        self.0.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn a_full_pool_closes_its_idlest_connection_and_never_a_busy_one() {
        let pool = ConnectionPool::new("test", 2);
        let busy = pool.admit().await;
        let _working = busy.busy();
        tokio::time::sleep(Duration::from_millis(5)).await;
        let idle = pool.admit().await;
        assert_eq!(pool.open(), 2);

        // The third waits: the idle one (not the busy one, although older)
        // is asked to close, and once it has, the third gets its place.
        let third = tokio::spawn({
            let pool = pool.clone();
            async move { pool.admit().await }
        });
        tokio::time::timeout(Duration::from_secs(5), idle.evicted())
            .await
            .expect("the idle connection is asked to close");
        assert!(!third.is_finished());
        drop(idle);
        let third = tokio::time::timeout(Duration::from_secs(5), third)
            .await
            .expect("admitted once the idle one closed")
            .unwrap();
        assert_eq!(pool.open(), 2);
        assert!(busy.is_busy() && !third.is_busy());
    }
}
