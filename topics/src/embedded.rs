//! An in-process Kafka-protocol broker for `skyline up`'s embedded default.
//!
//! [`EmbeddedBroker`] runs a [tansu](https://github.com/tansu-io/tansu) broker
//! on the caller's Tokio runtime, with its log, topics and consumer-group
//! offsets kept in one SQLite file inside a data directory the caller names.
//! Messages and committed offsets survive a stop and a start on the same
//! directory, so the embedded default behaves like a small real Kafka: the
//! services speak to it through rdkafka exactly as they would to a cluster.
//!
//! Behaviour worth knowing when tuning clients against it:
//!
//! * a fetch with nothing to return is held for the consumer's
//!   `fetch.wait.max.ms`, so that setting bounds produce-to-consume latency
//!   (50 ms gives roughly 30 ms end to end);
//! * `max.partition.fetch.bytes` is not honoured;
//! * it is a single node (node id [`NODE_ID`]), so topics have one replica.
//!
//! Only one broker should use a data directory at a time; nothing here locks
//! the directory against a second process.
//!
//! ```no_run
//! # async fn run() -> Result<(), topics::embedded::EmbeddedBrokerError> {
//! use std::path::Path;
//! use topics::embedded::EmbeddedBroker;
//!
//! let broker = EmbeddedBroker::start(Path::new("data/broker"), "127.0.0.1:0".parse().unwrap()).await?;
//! let bootstrap = broker.bootstrap_servers(); // e.g. "127.0.0.1:40123"
//! // ... point producers and consumers at `bootstrap` ...
//! broker.stop().await;
//! # Ok(())
//! # }
//! ```

use std::{
    error::Error as StdError,
    fs::OpenOptions,
    io,
    net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr},
    path::{Path, PathBuf},
    time::Duration,
};

use tansu_broker::{broker::Broker, coordinator::group::administrator::Controller};
use tansu_storage::StorageContainer;
use tokio::{net::TcpStream, runtime::Handle, task::JoinHandle, time::Instant};
use url::Url;
use uuid::Uuid;

/// Name of the SQLite file, inside the data directory, holding everything the
/// broker stores.
pub const DB_FILE_NAME: &str = "broker.db";

/// The broker's node id, as seen in cluster metadata.
pub const NODE_ID: i32 = 1;

/// The cluster id. It keys every row tansu stores, so it must not change
/// between runs on the same data directory.
pub const CLUSTER_ID: &str = "skyline-embedded";

/// How long [`EmbeddedBroker::start`] waits for the database to be free of a
/// previous broker, and then for the listener to accept a connection, before
/// giving up.
pub const START_TIMEOUT: Duration = Duration::from_secs(30);

type BoxError = Box<dyn StdError + Send + Sync + 'static>;
type ServeResult = Result<(), tansu_broker::Error>;

/// Why the embedded broker could not start.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedBrokerError {
    /// `start` was called outside a Tokio runtime.
    #[error("the embedded broker must be started from within a Tokio runtime")]
    NoRuntime,

    /// The data directory does not exist and could not be created.
    #[error("cannot create the broker data directory {path}")]
    CreateDataDir {
        /// The directory.
        path: PathBuf,
        /// Why it could not be created.
        #[source]
        source: io::Error,
    },

    /// The data directory (or the database file in it) cannot be written.
    #[error("the broker data directory {path} is not writable")]
    DataDirNotWritable {
        /// The directory.
        path: PathBuf,
        /// Why the write failed.
        #[source]
        source: io::Error,
    },

    /// The data directory's path cannot be handed to tansu's SQLite storage,
    /// which takes it as a URL path.
    #[error("the broker data directory {path} cannot be used: {reason}")]
    UnsupportedDataDir {
        /// The directory.
        path: PathBuf,
        /// Why it cannot be a URL path.
        reason: &'static str,
    },

    /// Something else already listens on the requested address.
    #[error("cannot listen on {addr}: the port is already in use")]
    PortInUse {
        /// The address asked for.
        addr: SocketAddr,
        /// The error from binding it.
        #[source]
        source: io::Error,
    },

    /// The requested address cannot be listened on for another reason
    /// (not a local address, a privileged port, ...).
    #[error("cannot listen on {addr}")]
    Listen {
        /// The address asked for.
        addr: SocketAddr,
        /// Why it could not be bound.
        #[source]
        source: io::Error,
    },

    /// tansu could not open or initialise its SQLite storage.
    #[error("cannot open the broker storage {db}")]
    Storage {
        /// The SQLite file.
        db: PathBuf,
        /// tansu's error.
        #[source]
        source: BoxError,
    },

    /// The broker task ended while starting up.
    #[error("the embedded broker on {addr} stopped while starting")]
    Serve {
        /// The address it was to listen on.
        addr: SocketAddr,
        /// Why the task ended.
        #[source]
        source: BoxError,
    },

    /// The broker did not accept a connection within [`START_TIMEOUT`].
    #[error("the embedded broker on {addr} did not accept connections within {timeout:?}")]
    StartTimeout {
        /// The address it listens on.
        addr: SocketAddr,
        /// How long skyline waited.
        timeout: Duration,
    },
}

/// A Kafka-protocol broker running as a task on the current Tokio runtime.
///
/// Dropping it aborts the broker task; [`EmbeddedBroker::stop`] does the same
/// and also waits until the task has gone, so that the port and the database
/// are released when it returns.
#[derive(Debug)]
pub struct EmbeddedBroker {
    listen: SocketAddr,
    advertised: SocketAddr,
    db_path: PathBuf,
    task: Option<JoinHandle<ServeResult>>,
}

impl EmbeddedBroker {
    /// Starts a broker storing its data under `data_dir` (created if missing,
    /// made absolute against the current directory) and listening on
    /// `listen`. Port 0 picks a free port; [`EmbeddedBroker::bootstrap_servers`]
    /// then tells which one.
    ///
    /// An unspecified `listen` address (`0.0.0.0`, `::`) listens on every
    /// interface and advertises the loopback address of the same family.
    ///
    /// Returns once the broker accepts connections. Must be called from
    /// within a Tokio runtime; the broker runs as a task on it.
    pub async fn start(
        data_dir: &Path,
        listen: SocketAddr,
    ) -> Result<EmbeddedBroker, EmbeddedBrokerError> {
        if Handle::try_current().is_err() {
            return Err(EmbeddedBrokerError::NoRuntime);
        }

        let db_path = prepare_data_dir(data_dir)?;
        let storage = storage_url(&db_path)?;

        let listen = reserve_port(listen).await?;
        let advertised = connectable(listen);

        let listener_url = tcp_url(listen)?;
        let advertised_url = tcp_url(advertised)?;

        // tansu sets no SQLite busy timeout, so opening the database while a
        // previous broker on it is still closing (a `stop` that has just
        // returned, a process that is exiting) fails at once with "database
        // is locked". That clears within moments: retry until START_TIMEOUT.
        let deadline = Instant::now() + START_TIMEOUT;
        let mut broker = loop {
            let built = Broker::<Controller<StorageContainer>, StorageContainer>::builder()
                .node_id(NODE_ID)
                .cluster_id(CLUSTER_ID)
                .incarnation_id(Uuid::now_v7())
                .advertised_listener(advertised_url.clone())
                .storage(storage.clone())
                .listener(listener_url.clone())
                .silent(true)
                .build()
                .await;
            match built {
                Ok(broker) => break broker,
                Err(error) if is_database_locked(&error) && Instant::now() < deadline => {
                    tracing::debug!(%error, "broker database busy, retrying");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(error) => {
                    return Err(EmbeddedBrokerError::Storage {
                        db: db_path,
                        source: Box::new(error),
                    })
                }
            }
        };

        // `serve`, not `main`: `main` installs process-wide signal handlers.
        let task = tokio::spawn(async move { broker.serve(Instant::now()).await });

        let mut this = EmbeddedBroker {
            listen,
            advertised,
            db_path,
            task: Some(task),
        };
        this.wait_until_ready().await?;

        tracing::info!(
            listen = %this.listen,
            bootstrap = %this.bootstrap_servers(),
            db = %this.db_path.display(),
            "embedded broker started"
        );
        Ok(this)
    }

    /// The `bootstrap.servers` value for clients of this broker, e.g.
    /// `127.0.0.1:40123`.
    pub fn bootstrap_servers(&self) -> String {
        self.advertised.to_string()
    }

    /// The address the broker listens on (with the port resolved if 0 was
    /// asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.listen
    }

    /// The SQLite file holding the broker's data.
    pub fn db_path(&self) -> &Path {
        &self.db_path
    }

    /// Stops the broker and waits until its task has ended, which releases
    /// the listening port. tansu closes its database from a task of its own
    /// that winds down moments later; [`EmbeddedBroker::start`] on the same
    /// data directory waits for that. Connected clients see their connections
    /// closed. Data already acknowledged to producers and offsets already
    /// committed stay in the data directory.
    pub async fn stop(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(%error, "embedded broker had failed"),
                Err(join) if join.is_cancelled() => {}
                Err(join) => tracing::warn!(error = %join, "embedded broker task panicked"),
            }
        }
        tracing::info!(listen = %self.listen, "embedded broker stopped");
    }

    /// Polls until a TCP connection to the broker succeeds, the task ends, or
    /// [`START_TIMEOUT`] passes.
    async fn wait_until_ready(&mut self) -> Result<(), EmbeddedBrokerError> {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            let finished = self.task.as_ref().is_none_or(|task| task.is_finished());
            if finished {
                return Err(self.startup_failure().await);
            }

            let attempt = tokio::time::timeout(
                Duration::from_millis(500),
                TcpStream::connect(self.advertised),
            )
            .await;
            if let Ok(Ok(stream)) = attempt {
                drop(stream);
                return Ok(());
            }

            if Instant::now() >= deadline {
                if let Some(task) = self.task.take() {
                    task.abort();
                }
                return Err(EmbeddedBrokerError::StartTimeout {
                    addr: self.listen,
                    timeout: START_TIMEOUT,
                });
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Turns the outcome of a broker task that ended during start-up into an
    /// error.
    async fn startup_failure(&mut self) -> EmbeddedBrokerError {
        let addr = self.listen;
        let outcome = match self.task.take() {
            Some(task) => task.await,
            None => Ok(Ok(())),
        };
        match outcome {
            Ok(Err(tansu_broker::Error::Io(io))) => {
                let source = io::Error::new(io.kind(), io.to_string());
                if source.kind() == io::ErrorKind::AddrInUse {
                    EmbeddedBrokerError::PortInUse { addr, source }
                } else {
                    EmbeddedBrokerError::Listen { addr, source }
                }
            }
            Ok(Err(error)) => EmbeddedBrokerError::Serve {
                addr,
                source: Box::new(error),
            },
            Ok(Ok(())) => EmbeddedBrokerError::Serve {
                addr,
                source: "the broker task returned before accepting connections".into(),
            },
            Err(join) => EmbeddedBrokerError::Serve {
                addr,
                source: Box::new(join),
            },
        }
    }
}

impl Drop for EmbeddedBroker {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// Creates `data_dir`, makes it absolute and checks that the database file can
/// be created and written there. Returns the database file's path.
fn prepare_data_dir(data_dir: &Path) -> Result<PathBuf, EmbeddedBrokerError> {
    std::fs::create_dir_all(data_dir).map_err(|source| EmbeddedBrokerError::CreateDataDir {
        path: data_dir.to_path_buf(),
        source,
    })?;
    let dir = data_dir
        .canonicalize()
        .map_err(|source| EmbeddedBrokerError::CreateDataDir {
            path: data_dir.to_path_buf(),
            source,
        })?;

    let not_writable = |source| EmbeddedBrokerError::DataDirNotWritable {
        path: dir.clone(),
        source,
    };

    // SQLite creates its journal next to the database, so the directory
    // itself must be writable, not only the file.
    let probe = dir.join(format!(".write-probe-{}", Uuid::now_v7()));
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(not_writable)?;
    std::fs::remove_file(&probe).map_err(not_writable)?;

    let db_path = dir.join(DB_FILE_NAME);
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&db_path)
        .map_err(not_writable)?;

    Ok(db_path)
}

/// Builds the `sqlite:` URL that makes tansu open exactly `db_path`.
///
/// tansu resolves the storage URL against the current directory: it pushes
/// the URL's host and then its path, less one leading `/`, onto
/// `current_dir()`. Pushing an absolute path replaces what was there, so a
/// URL whose path is `//abs/file` (that is `sqlite:////abs/file`) opens
/// `/abs/file` whatever the current directory. The URL path is taken as it
/// is, still percent-encoded, so a directory whose name needs encoding (space,
/// `#`, `?`, non-ASCII, ...) is refused rather than silently opening another
/// file.
fn storage_url(db_path: &Path) -> Result<Url, EmbeddedBrokerError> {
    let unsupported = |reason| EmbeddedBrokerError::UnsupportedDataDir {
        path: db_path.to_path_buf(),
        reason,
    };
    let text = db_path
        .to_str()
        .ok_or_else(|| unsupported("its path is not valid UTF-8"))?;
    if !text.starts_with('/') {
        return Err(unsupported("its path is not absolute"));
    }
    let url = Url::parse(&format!("sqlite:///{text}"))
        .map_err(|_| unsupported("its path does not form a valid storage URL"))?;

    let resolves_to = url.path().strip_prefix('/').unwrap_or(url.path());
    if resolves_to != text || url.query().is_some() || url.fragment().is_some() {
        return Err(unsupported(
            "its path has characters that tansu's SQLite storage URL cannot carry \
             (space, '#', '?', non-ASCII, ...)",
        ));
    }
    Ok(url)
}

/// Checks that `listen` can be bound and, for port 0, picks a free port.
///
/// tansu binds its own listener from a URL and does not report the bound
/// address, so the port is chosen here and handed to it. The socket is closed
/// again before tansu binds; another process could take the port in between,
/// which then shows as [`EmbeddedBrokerError::PortInUse`].
async fn reserve_port(listen: SocketAddr) -> Result<SocketAddr, EmbeddedBrokerError> {
    // Tokio's bind sets SO_REUSEADDR like tansu's own, so a port left in
    // TIME_WAIT by a previous run is not reported as busy.
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| bind_error(listen, source))?;
    let bound = listener
        .local_addr()
        .map_err(|source| bind_error(listen, source))?;
    drop(listener);
    Ok(bound)
}

/// Whether tansu failed because SQLite answered SQLITE_BUSY. tansu's error
/// type wraps the libsql error several layers down and prints itself as its
/// `Debug` form, so the message is the stable thing to look for.
fn is_database_locked(error: &tansu_broker::Error) -> bool {
    format!("{error:?}").contains("database is locked")
}

fn bind_error(addr: SocketAddr, source: io::Error) -> EmbeddedBrokerError {
    if source.kind() == io::ErrorKind::AddrInUse {
        EmbeddedBrokerError::PortInUse { addr, source }
    } else {
        EmbeddedBrokerError::Listen { addr, source }
    }
}

/// The address clients should dial: the listen address, or the loopback
/// address of its family when it is unspecified.
fn connectable(listen: SocketAddr) -> SocketAddr {
    match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), listen.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), listen.port())
        }
        _ => listen,
    }
}

fn tcp_url(addr: SocketAddr) -> Result<Url, EmbeddedBrokerError> {
    Url::parse(&format!("tcp://{addr}")).map_err(|error| EmbeddedBrokerError::Listen {
        addr,
        source: io::Error::new(io::ErrorKind::InvalidInput, error),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn storage_url_opens_the_absolute_path() {
        let url = storage_url(Path::new("/var/lib/skyline/broker.db")).unwrap();
        assert_eq!(url.scheme(), "sqlite");
        assert_eq!(url.path(), "//var/lib/skyline/broker.db");

        // tansu: current_dir() + host + path less one leading '/'.
        let mut resolved = PathBuf::from("/some/cwd");
        if let Some(domain) = url.domain() {
            resolved.push(domain);
        }
        resolved.push(url.path().strip_prefix('/').unwrap());
        assert_eq!(resolved, Path::new("/var/lib/skyline/broker.db"));
    }

    #[test]
    fn storage_url_refuses_paths_it_would_mangle() {
        for path in [
            "/tmp/a b/broker.db",
            "/tmp/a#b/broker.db",
            "/tmp/a?b/broker.db",
            "/tmp/é/broker.db",
        ] {
            assert!(
                matches!(
                    storage_url(Path::new(path)),
                    Err(EmbeddedBrokerError::UnsupportedDataDir { .. })
                ),
                "{path}"
            );
        }
        assert!(storage_url(Path::new("relative/broker.db")).is_err());
    }

    #[test]
    fn unspecified_listen_advertises_loopback() {
        let v4: SocketAddr = "0.0.0.0:9092".parse().unwrap();
        assert_eq!(connectable(v4), "127.0.0.1:9092".parse().unwrap());
        let v6: SocketAddr = "[::]:9092".parse().unwrap();
        assert_eq!(connectable(v6), "[::1]:9092".parse().unwrap());
        let exact: SocketAddr = "127.0.0.1:1234".parse().unwrap();
        assert_eq!(connectable(exact), exact);
    }
}
