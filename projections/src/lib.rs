//! Panorama, skyline's anomaly memory: folds the log's topics (anomalies,
//! checks, matches, profiles, labels, alerts, deliveries, mutes and seasonal
//! verdicts, and the
//! datapoints into a list of the metrics received) into MySQL/MariaDB tables, or
//! SQLite for the embedded default, so the console, operators' SQL and
//! root-cause work can query every anomaly, metric, profile, match and alert.
//!
//! This crate owns those tables (their migrations in `migrations/`), the
//! folding consumers that fill them, the rebuild from offset 0
//! ([`fold::replay`]), the read queries the CLI uses ([`query`]) and those the
//! web console browses ([`browse`]).
//!
//! Exactly once: each [`Projection`] (a group of tables) stores the offsets
//! it has applied, per topic partition, in `projection_offsets` in the same
//! transaction as its rows; a record below its stored offset is skipped and
//! the consumer resumes every assigned partition at its stored offset. A
//! crash at any instant, a rebalance or a redelivered batch therefore never
//! doubles or loses a row; Kafka's committed offsets are only a hint. Rows
//! are also keyed by event id, so an event re-emitted by a producer that
//! crashed and decided again is stored once.
//!
//! Adding a projection is one module: implement [`Projection`] and list it
//! in [`all`].
#![deny(missing_docs)]

pub mod alerting;
pub mod browse;
pub mod db;
pub mod fold;
pub mod query;
pub mod seasonal;
pub mod system;
pub mod tables;

use futures::future::BoxFuture;
use sqlx::AnyConnection;
use topics::names::TopicNames;
use topics::{
    AlertEvent, AnomalyEnded, AnomalyEvent, CheckRequest, Datapoint, DeliveryEvent, Label,
    MatchResult, MuteEvent, ProfileEvent, SeasonalResult, SystemEvent,
};

pub use db::{redact, Database, Dialect, Kind};
pub use query::CheckForLabel;

/// What can go wrong in a projection.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A query or connection failed.
    #[error("database: {0}")]
    Sql(#[from] sqlx::Error),
    /// Applying the migrations failed.
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Another process applying the migrations held their lock longer than
    /// this many seconds.
    #[error("another process has been applying the database's migrations for {0} s")]
    MigrationLocked(u32),
    /// The database URL is neither MySQL/MariaDB nor `sqlite://…`.
    #[error("unsupported database URL {0:?}: use mysql://… or sqlite://FILE")]
    Url(String),
    /// A file operation failed on this path (making the SQLite file's directory).
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
    /// Reading or producing on Kafka failed.
    #[error(transparent)]
    Kafka(#[from] topics::kafka::Error),
    /// A folding consumer stopped on the service runtime.
    #[error(transparent)]
    Service(#[from] runtime::ServiceError),
    /// A name that is no projection or table (the name, then the known ones).
    #[error("unknown projection or table {0:?} (known: {1})")]
    Unknown(String, String),
    /// A stored value the queries cannot read back (a table written by
    /// something other than these projections, or edited by hand).
    #[error("unreadable {what} in the projections: {detail}")]
    Stored {
        /// What was being read (`check series`, `anomaly state`, …).
        what: &'static str,
        /// The value and why it could not be read.
        detail: String,
    },
}

/// A table a projection owns: its name, key columns and every column with
/// its kind (for full dumps and comparisons).
#[derive(Debug)]
pub struct Table {
    /// The table's name.
    pub name: &'static str,
    /// The columns of its primary key.
    pub key: &'static [&'static str],
    /// Every column, in order, with how its values are dumped.
    pub columns: &'static [(&'static str, Kind)],
}

/// Which topic of the deployment a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// `skyline.datapoints`.
    Datapoints,
    /// `skyline.anomalies`.
    Anomalies,
    /// `skyline.checks`.
    Checks,
    /// `skyline.matches`.
    Matches,
    /// `skyline.labels`.
    Labels,
    /// `skyline.profiles`.
    Profiles,
    /// `skyline.alerts`.
    Alerts,
    /// `skyline.deliveries`.
    Deliveries,
    /// `skyline.mutes`.
    Mutes,
    /// `skyline.seasonal`.
    Seasonal,
    /// `skyline.anomaly_ends`.
    AnomalyEnds,
    /// `skyline.system`.
    System,
}

impl Topic {
    /// The topic's configured name.
    pub fn name(self, names: &TopicNames) -> &str {
        match self {
            Topic::Datapoints => &names.datapoints,
            Topic::Anomalies => &names.anomalies,
            Topic::Checks => &names.checks,
            Topic::Matches => &names.matches,
            Topic::Labels => &names.labels,
            Topic::Profiles => &names.profiles,
            Topic::Alerts => &names.alerts,
            Topic::Deliveries => &names.deliveries,
            Topic::Mutes => &names.mutes,
            Topic::Seasonal => &names.seasonal,
            Topic::AnomalyEnds => &names.anomaly_ends,
            Topic::System => &names.system,
        }
    }

    /// Which topic `name` is, under `names`.
    pub fn of(name: &str, names: &TopicNames) -> Option<Topic> {
        [
            Topic::Datapoints,
            Topic::Anomalies,
            Topic::Checks,
            Topic::Matches,
            Topic::Labels,
            Topic::Profiles,
            Topic::Alerts,
            Topic::Deliveries,
            Topic::Mutes,
            Topic::Seasonal,
            Topic::AnomalyEnds,
            Topic::System,
        ]
        .into_iter()
        .find(|t| t.name(names) == name)
    }

    /// Decodes a record of this topic.
    pub fn decode(self, payload: &[u8]) -> Result<Event, topics::codec::CodecError> {
        use topics::codec::decode;
        Ok(match self {
            Topic::Datapoints => Event::Datapoint(decode(payload)?),
            Topic::Anomalies => Event::Anomaly(decode(payload)?),
            Topic::Checks => Event::Check(decode(payload)?),
            Topic::Matches => Event::Match(decode(payload)?),
            Topic::Labels => Event::Label(decode(payload)?),
            Topic::Profiles => Event::Profile(decode(payload)?),
            Topic::Alerts => Event::Alert(decode(payload)?),
            Topic::Deliveries => Event::Delivery(decode(payload)?),
            Topic::Mutes => Event::Mute(decode(payload)?),
            Topic::Seasonal => Event::Seasonal(decode(payload)?),
            Topic::AnomalyEnds => Event::AnomalyEnded(decode(payload)?),
            Topic::System => Event::System(decode(payload)?),
        })
    }
}

/// A decoded event of one of the folded topics.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A datapoint (for the list of metrics received).
    Datapoint(Datapoint),
    /// An anomaly the Analyzer found.
    Anomaly(AnomalyEvent),
    /// A request to re-judge an anomaly (fingerprint or seasonal).
    Check(CheckRequest),
    /// A fingerprint verdict.
    Match(MatchResult),
    /// An operator's label on a check.
    Label(Label),
    /// A profile created, learnt, validated or disabled.
    Profile(ProfileEvent),
    /// An alert sent.
    Alert(AlertEvent),
    /// One attempt to deliver an alert.
    Delivery(DeliveryEvent),
    /// An operator's mute or unmute.
    Mute(MuteEvent),
    /// The seasonal service's verdict on a seasonal check.
    Seasonal(SeasonalResult),
    /// An anomaly is over.
    AnomalyEnded(AnomalyEnded),
    /// A heartbeat, a stall or recovery, a stale metric.
    System(SystemEvent),
}

/// A group of tables filled by one folding consumer (consumer group
/// `projections.<name>`).
pub trait Projection: Send + Sync {
    /// Stable name: the consumer group suffix and the `projection` column of
    /// `projection_offsets`. Never rename one, or it refolds from offset 0.
    fn name(&self) -> &'static str;
    /// The topics it reads.
    fn topics(&self) -> &'static [Topic];
    /// The tables it owns, emptied by a rebuild.
    fn tables(&self) -> &'static [&'static Table];
    /// Folds `events` (in log order per partition, none folded before) into
    /// the tables through `conn`, which is inside the fold's transaction.
    /// Must be idempotent by event id. Returns the rows written.
    fn apply<'a>(
        &'a self,
        conn: &'a mut AnyConnection,
        dialect: Dialect,
        events: &'a [&'a Event],
    ) -> BoxFuture<'a, Result<u64, Error>>;
}

/// Every projection, in the order they are listed to operators.
pub fn all() -> Vec<Box<dyn Projection>> {
    vec![
        Box::new(tables::anomalies::Anomalies),
        Box::new(tables::checks::PROJECTION),
        Box::new(tables::matches::PROJECTION),
        Box::new(tables::profiles::Profiles),
        Box::new(tables::labels::PROJECTION),
        Box::new(tables::alerts::PROJECTION),
        Box::new(tables::outcomes::Outcomes),
        Box::new(tables::activity::Activity),
        Box::new(tables::deliveries::PROJECTION),
        Box::new(tables::mutes::Mutes),
        Box::new(tables::seasonal::Seasonal),
        Box::new(tables::system::System),
    ]
}

/// The projections named by `only` (projection or table names; a table
/// selects the projection that owns it, since a projection's tables are
/// rebuilt together). Empty: all of them.
pub fn select(only: &[String]) -> Result<Vec<Box<dyn Projection>>, Error> {
    if only.is_empty() {
        return Ok(all());
    }
    for name in only {
        let known = all()
            .iter()
            .any(|p| p.name() == name || p.tables().iter().any(|t| t.name == name));
        if !known {
            let mut names: Vec<&str> = Vec::new();
            let every = all();
            for p in &every {
                names.push(p.name());
                names.extend(p.tables().iter().map(|t| t.name).filter(|t| *t != p.name()));
            }
            return Err(Error::Unknown(name.clone(), names.join(", ")));
        }
    }
    Ok(all()
        .into_iter()
        .filter(|p| {
            only.iter()
                .any(|n| p.name() == n || p.tables().iter().any(|t| t.name == n))
        })
        .collect())
}

/// The id of a metric in the tables: UUID v5 of its name, so every
/// projection derives the same id without a lookup and `skyline anomalies
/// --metric` needs no join.
pub fn metric_id(metric: &str) -> uuid::Uuid {
    topics::ids::derived_id("metric", &[metric.as_bytes()])
}

/// The id of the layers a profile event defines.
pub fn layer_id(profile_id: uuid::Uuid) -> uuid::Uuid {
    topics::ids::layer_id(profile_id)
}

/// Algorithm names as stored: comma-separated, in the order given.
pub(crate) fn csv(names: &[String]) -> String {
    names.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_owned_once_and_names_are_unique() {
        let mut tables: Vec<&str> = all()
            .iter()
            .flat_map(|p| p.tables().iter().map(|t| t.name))
            .collect();
        let n = tables.len();
        tables.sort_unstable();
        tables.dedup();
        assert_eq!(tables.len(), n);
        let mut names: Vec<&str> = all().iter().map(|p| p.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), all().len());
    }

    #[test]
    fn only_selects_by_projection_or_table() {
        let picked = select(&["profile_features".into(), "alerts".into()]).unwrap();
        let names: Vec<&str> = picked.iter().map(|p| p.name()).collect();
        assert_eq!(names, ["profiles", "alerts"]);
        assert_eq!(select(&[]).unwrap().len(), all().len());
        let err = select(&["nope".into()]).err().unwrap().to_string();
        assert!(err.contains("nope") && err.contains("anomalies"), "{err}");
    }

    #[test]
    fn metric_ids_are_stable() {
        assert_eq!(metric_id("a.b"), metric_id("a.b"));
        assert_ne!(metric_id("a.b"), metric_id("a.c"));
    }
}

/// The `[projections]` section of the configuration.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Database URL (`mysql://user:password@host:3306/skyline` or
    /// `sqlite://FILE`); unset: a SQLite file in the data directory.
    pub database: Option<String>,
    /// Most records folded per transaction.
    pub max_batch: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            database: None,
            max_batch: 5_000,
        }
    }
}
