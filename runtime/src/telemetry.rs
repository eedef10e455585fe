//! What a skyline process tells an operator about itself: Prometheus
//! metrics (`GET /metrics`, the text exposition) and its health (`GET
//! /health`: live, and ready or not with the reason), one registry and one
//! health board per process, so `skyline up`'s services share them.
//!
//! The service runtime counts, for every service, what any consumer does
//! (records and batches handled, how long and how large, retries, failed
//! commits) and marks it ready once it consumes; services add their own
//! figures to [`Telemetry::registry`] and their own readiness (Redis, the
//! database) with [`Telemetry::set_ready`]. Names follow Prometheus'
//! conventions: `skyline_…_total` counters, base units (`_seconds`).
//!
//! The process also says it is alive: [`heartbeats`], one `SystemEvent`
//! per service it runs with its readiness and lag, published on
//! `skyline.system` by [`publish_heartbeats`] for the watchdog.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Mutex, OnceLock};

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use prometheus::{
    Encoder, GaugeVec, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry,
};
use serde::Serialize;
use topics::kafka::Record;

/// The `[telemetry]` table: where a service serves `/metrics` and
/// `/health`, its self-metrics and its heartbeats.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TelemetrySettings {
    /// `host:port` for `skyline analyze`, `fingerprint`, `seasonal`,
    /// `learn`, `alert`, `project` and `console` (one per process, e.g.
    /// `0.0.0.0:9100` in a container); empty: not served. `skyline up` and
    /// `skyline ingest` serve both on their HTTP ingest listener whatever
    /// this says.
    pub listen: String,
    /// Seconds between the process's figures published as datapoints
    /// `skyline.<service>.<instance>.<figure>` (the reference's self-metrics,
    /// every 60 s), so they are windowed, analysed and alerted on like any
    /// metric; 0: not published.
    pub self_metrics_interval: u64,
    /// `<instance>` in those names and in heartbeats; empty: the host's
    /// name.
    pub instance: String,
    /// Seconds between the heartbeats the process publishes on
    /// `skyline.system`, one per service it runs ([`heartbeats`]); the
    /// watchdog misses one after `[watchdog] heartbeat` (120 s, the
    /// reference's key TTL). 0: none.
    pub heartbeat_interval: u64,
}

/// The reference's self-metrics interval.
pub const SELF_METRICS_INTERVAL: u64 = 60;

impl Default for TelemetrySettings {
    fn default() -> Self {
        TelemetrySettings {
            listen: String::new(),
            self_metrics_interval: SELF_METRICS_INTERVAL,
            instance: String::new(),
            heartbeat_interval: 30,
        }
    }
}

/// The process's metrics and health.
pub struct Telemetry {
    registry: Registry,
    /// `skyline_records_total{service,topic}`: records handled.
    pub records: IntCounterVec,
    /// `skyline_batches_total{service,outcome}`: batches handled (`ok`) or
    /// given up on (`failed`).
    pub batches: IntCounterVec,
    /// `skyline_batch_handling_seconds{service}`: time to handle a batch,
    /// retries included.
    pub batch_seconds: HistogramVec,
    /// `skyline_batch_records{service}`: records per batch.
    pub batch_records: HistogramVec,
    /// `skyline_batch_retries_total{service}`: failed tries retried.
    pub retries: IntCounterVec,
    /// `skyline_commit_failures_total{service}`: commits the broker refused.
    pub failed_commits: IntCounterVec,
    /// `skyline_dead_letters_total{service,reason}`: what a service or
    /// source dead-lettered, and why (counted where the letters are made,
    /// `topics::dead_letters`).
    pub dead_letters: IntCounterVec,
    /// `skyline_consumer_lag_records{service,topic,partition}`: records
    /// between a consumer's position and the partition's end, probed with
    /// its readiness.
    pub lag_records: IntGaugeVec,
    /// `skyline_consumer_lag_seconds{service}`: how old the newest record
    /// a consumer handled was when it probed while behind (0 when caught
    /// up).
    pub lag_seconds: GaugeVec,
    health: Mutex<BTreeMap<String, Component>>,
    consumers: Mutex<BTreeMap<String, ConsumerStatus>>,
    /// `skyline_ingest_last_received_timestamp_seconds`: when this
    /// process's ingest last accepted a datapoint (0: never).
    pub last_received: IntGauge,
    last_received_ms: AtomicI64,
    /// The services' own counter families, made at their first count.
    families: Mutex<BTreeMap<&'static str, IntCounterVec>>,
    /// The services' own gauge families, made at their first setting.
    gauges: Mutex<BTreeMap<&'static str, GaugeVec>>,
}

/// What a consumer last reported of its progress (for heartbeats and the
/// System page).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ConsumerStatus {
    /// Records behind, over its partitions with a known lag.
    pub lag_records: i64,
    /// Seconds behind (see [`Telemetry::lag_seconds`]).
    pub lag_seconds: f64,
    /// Partitions assigned.
    pub partitions: usize,
    /// Records handled since it started.
    pub records: u64,
    /// When it last handled a batch (unix milliseconds; 0 never).
    pub last_batch_ms: i64,
}

/// One part of the process's readiness.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Component {
    /// Whether it is ready.
    pub ready: bool,
    /// Why not (or what it is doing when ready).
    pub reason: String,
}

/// What `/health` answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Health {
    /// The process answers.
    pub live: bool,
    /// Every component is ready (and there is at least one).
    pub ready: bool,
    /// Each component, by name.
    pub components: BTreeMap<String, Component>,
}

impl Health {
    /// The components not ready, each as `name: reason`, joined with
    /// `; `; `None` when every one is.
    pub fn why_not_ready(&self) -> Option<String> {
        let not_ready: Vec<String> = self
            .components
            .iter()
            .filter(|(_, c)| !c.ready)
            .map(|(name, c)| format!("{name}: {}", c.reason))
            .collect();
        (!not_ready.is_empty()).then(|| not_ready.join("; "))
    }
}

/// Builds a metric and registers it. The definitions are constants of the
/// callers, so an invalid one is a programming error the unit tests catch;
/// registering a name twice is logged and the metric still counts (it is
/// just not exported a second time).
fn registered<M: prometheus::core::Collector + Clone + 'static>(
    registry: &Registry,
    metric: Result<M, prometheus::Error>,
) -> M {
    let metric = metric.unwrap_or_else(|e| unreachable!("a valid metric definition: {e}"));
    if let Err(e) = registry.register(Box::new(metric.clone())) {
        tracing::warn!(error = %e, "metric not registered");
    }
    metric
}

/// The member `labels` (names and values, in order) of the family `name`
/// in `families`, the family made with `make` (given the label names) at
/// its first use; none while telemetry is off, or when the labels do not
/// fit the family (logged).
fn member<B: prometheus::core::MetricVecBuilder>(
    families: &Mutex<BTreeMap<&'static str, prometheus::core::MetricVec<B>>>,
    name: &'static str,
    labels: &[(&str, &str)],
    make: impl FnOnce(&[&str]) -> prometheus::core::MetricVec<B>,
) -> Option<B::M> {
    if !enabled() {
        return None;
    }
    let mut families = families.lock().unwrap_or_else(|p| p.into_inner());
    let family = families.entry(name).or_insert_with(|| {
        let names: Vec<&str> = labels.iter().map(|(k, _)| *k).collect();
        make(&names)
    });
    let values: Vec<&str> = labels.iter().map(|(_, v)| *v).collect();
    family
        .get_metric_with_label_values(&values)
        .map_err(|e| tracing::warn!(metric = name, error = %e, "not counted"))
        .ok()
}

/// A counter family registered in `registry`.
fn counter_in(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    registered(registry, IntCounterVec::new(Opts::new(name, help), labels))
}

impl Telemetry {
    /// Counts a batch `service` handled in `seconds`: the batch, its size,
    /// its records by topic and the time (nothing while telemetry is off).
    /// All the consumer loop adds to each batch's work.
    pub fn batch_handled(&self, service: &str, batch: &[Record], seconds: f64) {
        if !self.batch_done(service, "ok", seconds) {
            return;
        }
        self.batch_records
            .with_label_values(&[service])
            .observe(batch.len() as f64);
        // A batch is mostly one topic's: count runs, not records.
        let mut run: Option<(&str, u64)> = None;
        for r in batch {
            match &mut run {
                Some((topic, n)) if *topic == r.topic => *n += 1,
                _ => {
                    if let Some((topic, n)) = run.take() {
                        self.records.with_label_values(&[service, topic]).inc_by(n);
                    }
                    run = Some((r.topic.as_str(), 1));
                }
            }
        }
        if let Some((topic, n)) = run {
            self.records.with_label_values(&[service, topic]).inc_by(n);
        }
    }

    /// Counts a batch `service` gave up on after `seconds`.
    pub fn batch_failed(&self, service: &str, seconds: f64) {
        self.batch_done(service, "failed", seconds);
    }

    /// Times a batch of `service` and counts it by `outcome`; false (and
    /// nothing done) while telemetry is off.
    fn batch_done(&self, service: &str, outcome: &str, seconds: f64) -> bool {
        if !enabled() {
            return false;
        }
        self.batch_seconds
            .with_label_values(&[service])
            .observe(seconds);
        self.batches.with_label_values(&[service, outcome]).inc();
        true
    }

    fn new() -> Telemetry {
        let registry = Registry::new();
        let counter =
            |name: &str, help: &str, labels: &[&str]| counter_in(&registry, name, help, labels);
        let histogram = |name: &str, help: &str, buckets: Vec<f64>| {
            registered(
                &registry,
                HistogramVec::new(
                    HistogramOpts::new(name, help).buckets(buckets),
                    &["service"],
                ),
            )
        };
        Telemetry {
            records: counter(
                "skyline_records_total",
                "Records handled, by service and topic.",
                &["service", "topic"],
            ),
            batches: counter(
                "skyline_batches_total",
                "Batches handled (outcome ok) or given up on (failed).",
                &["service", "outcome"],
            ),
            batch_seconds: histogram(
                "skyline_batch_handling_seconds",
                "Time to handle a batch, retries included.",
                prometheus::exponential_buckets(0.001, 4.0, 9)
                    .unwrap_or_else(|e| unreachable!("valid buckets: {e}")),
            ),
            batch_records: histogram(
                "skyline_batch_records",
                "Records per batch handled.",
                prometheus::exponential_buckets(1.0, 4.0, 9)
                    .unwrap_or_else(|e| unreachable!("valid buckets: {e}")),
            ),
            retries: counter(
                "skyline_batch_retries_total",
                "Failed tries of a batch that were retried.",
                &["service"],
            ),
            failed_commits: counter(
                "skyline_commit_failures_total",
                "Commits the broker refused.",
                &["service"],
            ),
            dead_letters: registered(&registry, Ok(topics::dead_letters::dead_lettered())),
            lag_records: registered(
                &registry,
                IntGaugeVec::new(
                    Opts::new(
                        "skyline_consumer_lag_records",
                        "Records between a consumer's position and its partition's end.",
                    ),
                    &["service", "topic", "partition"],
                ),
            ),
            lag_seconds: registered(
                &registry,
                GaugeVec::new(
                    Opts::new(
                        "skyline_consumer_lag_seconds",
                        "Age of the newest record a consumer handled, while it is behind (0 when caught up).",
                    ),
                    &["service"],
                ),
            ),
            health: Mutex::new(BTreeMap::new()),
            consumers: Mutex::new(BTreeMap::new()),
            families: Mutex::new(BTreeMap::new()),
            gauges: Mutex::new(BTreeMap::new()),
            last_received: registered(
                &registry,
                IntGauge::new(
                    "skyline_ingest_last_received_timestamp_seconds",
                    "When this process's ingest last accepted a datapoint (unix seconds; 0: never).",
                ),
            ),
            last_received_ms: AtomicI64::new(0),
            registry,
        }
    }

    /// The registry services add their own metrics to.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Adds `n` to a service's own counter `name{labels}` (label names
    /// and values in order), registering the family at its first count;
    /// `help` says what it counts. A family is one set of label names: the
    /// first count fixes them.
    pub fn count(&self, name: &'static str, help: &str, labels: &[(&str, &str)], n: u64) {
        let family = |names: &[&str]| counter_in(&self.registry, name, help, names);
        if let Some(counter) = member(&self.families, name, labels, family) {
            counter.inc_by(n);
        }
    }

    /// Sets a service's own gauge `name{labels}` to `value` (label names
    /// and values in order), registering the family at its first setting;
    /// `help` says what it measures. As with [`Telemetry::count`], the
    /// first setting fixes the family's label names.
    pub fn gauge(&self, name: &'static str, help: &str, labels: &[(&str, &str)], value: f64) {
        let family = |names: &[&str]| {
            registered(&self.registry, GaugeVec::new(Opts::new(name, help), names))
        };
        if let Some(gauge) = member(&self.gauges, name, labels, family) {
            gauge.set(value);
        }
    }

    /// Records whether `component` (a service, `redis`, `database`, …) is
    /// ready, and why not.
    pub fn set_ready(&self, component: &str, ready: Result<(), String>) {
        let (ready, reason) = match ready {
            Ok(()) => (true, String::from("ok")),
            Err(reason) => (false, reason),
        };
        let mut health = self.health.lock().unwrap_or_else(|p| p.into_inner());
        health.insert(component.to_owned(), Component { ready, reason });
    }

    /// The gauges set with [`Telemetry::gauge`] for `service` (their
    /// `service` label, and no other), named without `skyline_`.
    pub fn service_gauges(&self, service: &str) -> Vec<topics::SystemFigure> {
        let gauges = self.gauges.lock().unwrap_or_else(|p| p.into_inner());
        let mut figures = Vec::new();
        for family in gauges.values() {
            use prometheus::core::Collector;
            for mf in family.collect() {
                let name = mf.name().strip_prefix("skyline_").unwrap_or(mf.name());
                for m in mf.get_metric() {
                    let labels = m.get_label();
                    if labels.len() == 1
                        && labels[0].name() == "service"
                        && labels[0].value() == service
                    {
                        figures.push(topics::SystemFigure {
                            name: name.to_owned(),
                            value: m.get_gauge().get_value(),
                        });
                    }
                }
            }
        }
        figures
    }

    /// Ingest accepted datapoints at `now_ms` (unix milliseconds).
    pub fn received(&self, now_ms: i64) {
        let newest = self.last_received_ms.fetch_max(now_ms, Ordering::Relaxed);
        self.last_received.set(newest.max(now_ms) / 1000);
    }

    /// When this process's ingest last accepted a datapoint (unix
    /// milliseconds), if it has.
    pub fn last_received_ms(&self) -> Option<i64> {
        Some(self.last_received_ms.load(Ordering::Relaxed)).filter(|&ms| ms > 0)
    }

    /// Records what consumer `service` last reported of its progress.
    pub fn set_consumer_status(&self, service: &str, status: ConsumerStatus) {
        let mut consumers = self.consumers.lock().unwrap_or_else(|p| p.into_inner());
        consumers.insert(service.to_owned(), status);
    }

    /// Every consumer's last reported progress, by service.
    pub fn consumer_statuses(&self) -> BTreeMap<String, ConsumerStatus> {
        self.consumers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Forgets `component` (a service that stopped on purpose).
    pub fn forget(&self, component: &str) {
        let mut health = self.health.lock().unwrap_or_else(|p| p.into_inner());
        health.remove(component);
    }

    /// The process's health now.
    pub fn health(&self) -> Health {
        let components = self
            .health
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        Health {
            live: true,
            ready: !components.is_empty() && components.values().all(|c| c.ready),
            components,
        }
    }

    /// Every metric in the text exposition format.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(e) = prometheus::TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::warn!(error = %e, "encoding the metrics failed");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// `text` as one element of a dotted metric name: letters, digits, `_` and
/// `-` kept, anything else (dots included) `_`.
fn element(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The process's counters and gauges as datapoints at `timestamp`:
/// `skyline.<service>.<instance>.<figure>[.<label value>…]`, where
/// `<service>` is the sample's `service` label (else `process`), `<figure>`
/// the family's name without `skyline_` and `_total`, and the other label
/// values follow in the order the family declares them. Counters stay
/// cumulative (the Analyzer judges a monotonic series as its derivative).
pub fn self_metrics(process: &str, instance: &str, timestamp: i64) -> Vec<topics::Datapoint> {
    use prometheus::proto::MetricType;
    let mut out = Vec::new();
    for family in telemetry().registry.gather() {
        let value_of = |m: &prometheus::proto::Metric| match family.get_field_type() {
            MetricType::COUNTER => Some(m.get_counter().get_value()),
            MetricType::GAUGE => Some(m.get_gauge().get_value()),
            _ => None,
        };
        let figure = family.name();
        if figure.ends_with("_timestamp_seconds") {
            // A moment, not a figure: judged as a series it is a straight
            // line that says nothing.
            continue;
        }
        let figure = figure.strip_prefix("skyline_").unwrap_or(figure);
        let figure = figure.strip_suffix("_total").unwrap_or(figure);
        for m in family.get_metric() {
            let Some(value) = value_of(m) else { continue };
            let mut service = process.to_owned();
            let mut name = String::new();
            for label in m.get_label() {
                if label.name() == "service" {
                    service = label.value().to_owned();
                } else {
                    name.push('.');
                    name.push_str(&element(label.value()));
                }
            }
            out.push(topics::Datapoint {
                metric: format!(
                    "skyline.{}.{}.{}{name}",
                    element(&service),
                    element(instance),
                    element(figure)
                ),
                timestamp,
                value,
            });
        }
    }
    out
}

/// This host's name, for `<instance>`.
pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// Every `every` (the first after one interval), for as long as the
/// process runs, the events `make` returns, keyed by `key`, published to
/// `topic`; `what` names them in warnings (a failed round is skipped, the
/// next one says it all again).
fn publish_every<E, M, K>(
    producer: topics::kafka::Producer,
    topic: String,
    every: std::time::Duration,
    what: &'static str,
    make: M,
    key: K,
) where
    E: topics::codec::Event + Send + 'static,
    M: Fn() -> Vec<E> + Send + 'static,
    K: Fn(&E) -> &str + Send + 'static,
{
    let mut stop = publishing().0.subscribe();
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.wait_for(|stopped| *stopped) => break,
            }
            let events = make();
            if events.is_empty() {
                continue;
            }
            let records = match topics::kafka::keyed_messages(events.iter(), |e| key(e)) {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %e, "{what} not encoded");
                    continue;
                }
            };
            if let Err(e) = producer.send_batch(&topic, records).await {
                tracing::warn!(error = %e, "{what} not published");
            }
        }
    });
    lock_tasks().push(task);
}

/// The stop signal of the process's periodic publishers, and their tasks.
type Publishers = (
    tokio::sync::watch::Sender<bool>,
    Mutex<Vec<tokio::task::JoinHandle<()>>>,
);

fn publishing() -> &'static Publishers {
    static PUBLISHING: OnceLock<Publishers> = OnceLock::new();
    PUBLISHING.get_or_init(|| (tokio::sync::watch::channel(false).0, Mutex::new(Vec::new())))
}

fn lock_tasks() -> std::sync::MutexGuard<'static, Vec<tokio::task::JoinHandle<()>>> {
    publishing().1.lock().unwrap_or_else(|p| p.into_inner())
}

/// Stops the self-metrics and heartbeat publishers and waits for them to
/// end (their producers closed): `skyline up` calls it before stopping its
/// embedded broker, which a producer still connected would report as an
/// error.
pub async fn stop_publishing() {
    publishing().0.send_replace(true);
    let tasks: Vec<_> = lock_tasks().drain(..).collect();
    for task in tasks {
        let _ = task.await;
    }
}

/// Publishes [`self_metrics`] of `process` to `topic` every `every`, the
/// first after one interval, for as long as the process runs.
pub fn publish_self_metrics(
    producer: topics::kafka::Producer,
    topic: String,
    process: String,
    instance: String,
    every: std::time::Duration,
) {
    let make = move || self_metrics(&process, &instance, topics::clock::now_ms() / 1000);
    publish_every(producer, topic, every, "self-metrics", make, |d| {
        d.metric.as_str()
    });
}

/// The heartbeats of a process at `at` (unix seconds): one
/// `SystemEvent{kind: Heartbeat}` per consumer in `consumers` (subject its
/// service name; figures `lag_records`, `lag_seconds`, `partitions`,
/// `records`) and one for ingest when the health board has an `ingest`
/// component (figure `last_received`: unix seconds of the last datapoint
/// accepted, when one was), each with its readiness and reason from
/// `health`, and one for the console when the board has a `console`
/// component: ready when every component of the process is (its database,
/// its Redis), its reason naming those that are not (`database: …`), so
/// the watchdog judges the console's stores as it does the consumers'.
/// Ids from (Heartbeat, `<service>/<instance>`, `at`).
pub fn heartbeats(
    health: &Health,
    consumers: &BTreeMap<String, ConsumerStatus>,
    last_received_ms: Option<i64>,
    instance: &str,
    at: i64,
    decided_at_ms: i64,
) -> Vec<topics::SystemEvent> {
    let figure = |name: &str, value: f64| topics::SystemFigure {
        name: name.to_owned(),
        value,
    };
    let readiness = |service: &str| match health.components.get(service) {
        Some(c) => (Some(c.ready), c.reason.clone()),
        None => (None, String::new()),
    };
    let beat = |service: &str,
                (ready, reason): (Option<bool>, String),
                figures: Vec<topics::SystemFigure>| {
        topics::SystemEvent {
            id: topics::ids::system_event_id(
                topics::SystemKind::Heartbeat,
                &format!("{service}/{instance}"),
                at,
            ),
            kind: topics::SystemKind::Heartbeat,
            subject: service.to_owned(),
            service: service.to_owned(),
            instance: instance.to_owned(),
            at,
            since: Some(at),
            ready,
            alert: false,
            reason,
            figures,
            decided_at_ms,
        }
    };
    let mut out: Vec<topics::SystemEvent> = consumers
        .iter()
        .map(|(service, c)| {
            beat(
                service,
                readiness(service),
                vec![
                    figure("lag_records", c.lag_records as f64),
                    figure("lag_seconds", c.lag_seconds),
                    figure("partitions", c.partitions as f64),
                    figure("records", c.records as f64),
                ],
            )
        })
        .collect();
    if health.components.contains_key("ingest") {
        let figures = last_received_ms
            .map(|ms| vec![figure("last_received", (ms / 1000) as f64)])
            .unwrap_or_default();
        out.push(beat("ingest", readiness("ingest"), figures));
    }
    if health.components.contains_key(CONSOLE) {
        let reason = health
            .why_not_ready()
            .unwrap_or_else(|| readiness(CONSOLE).1);
        out.push(beat(CONSOLE, (Some(health.ready), reason), Vec::new()));
    }
    out
}

/// The console's component on the health board (and its heartbeat's
/// service).
pub const CONSOLE: &str = "console";

/// Publishes [`heartbeats`] of this process to `topic` (keyed by service)
/// every `every`, the first after one interval, for as long as the process
/// runs.
pub fn publish_heartbeats(
    producer: topics::kafka::Producer,
    topic: String,
    instance: String,
    every: std::time::Duration,
) {
    let make = move || {
        let t = telemetry();
        let now_ms = topics::clock::now_ms();
        let mut beats = heartbeats(
            &t.health(),
            &t.consumer_statuses(),
            t.last_received_ms(),
            &instance,
            now_ms / 1000,
            now_ms,
        );
        // A service's own gauges (the Analyzer's sparsity) go with its
        // heartbeat, for the console's System page.
        for beat in &mut beats {
            beat.figures.extend(t.service_gauges(&beat.service));
        }
        beats
    };
    publish_every(producer, topic, every, "heartbeats", make, |e| {
        e.subject.as_str()
    });
}

/// Probes `component`'s readiness with `check` every two seconds (as the
/// consumers probe theirs) for as long as the process runs: for what a
/// process needs besides its consumers (the console's database and Redis).
pub fn probe<F, Fut>(component: &'static str, check: F)
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    telemetry().set_ready(component, Err("starting".into()));
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(2));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            telemetry().set_ready(component, check().await);
        }
    });
}

static ENABLED: AtomicBool = AtomicBool::new(true);

/// Turns the process's counting and readiness probing on or off (on by
/// default). Off, consumers count nothing and probe nothing: what the
/// overhead benchmark (`benches/pipeline.rs`) compares with.
pub fn set_enabled(on: bool) {
    ENABLED.store(on, Ordering::Relaxed);
}

/// Whether the process counts and probes (see [`set_enabled`]).
pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// The process's telemetry.
pub fn telemetry() -> &'static Telemetry {
    static TELEMETRY: OnceLock<Telemetry> = OnceLock::new();
    TELEMETRY.get_or_init(Telemetry::new)
}

/// `GET /metrics` and `GET /health` (200 when ready, 503 with the reasons
/// when not).
pub fn router() -> Router {
    Router::new()
        .route(
            "/metrics",
            get(|| async {
                (
                    [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
                    telemetry().render(),
                )
            }),
        )
        .route(
            "/health",
            get(|| async {
                let health = telemetry().health();
                let status = if health.ready {
                    StatusCode::OK
                } else {
                    StatusCode::SERVICE_UNAVAILABLE
                };
                (status, Json(health)).into_response()
            }),
        )
}

/// Serves [`router`] on `listen` until `shutdown` resolves; returns the
/// address bound (for a port 0) once listening.
pub async fn serve(
    listen: &str,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "telemetry: /metrics and /health");
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, router())
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::error!(error = %e, "telemetry listener stopped");
        }
    });
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_services_gauge_is_set_and_rendered() {
        let t = telemetry();
        t.gauge(
            "skyline_test_gauge_value",
            "A test's gauge.",
            &[("service", "test")],
            42.5,
        );
        t.gauge(
            "skyline_test_gauge_value",
            "A test's gauge.",
            &[("service", "test")],
            7.0,
        );
        let text = t.render();
        assert!(
            text.contains("skyline_test_gauge_value{service=\"test\"} 7"),
            "{text}"
        );
        assert!(text.contains("# TYPE skyline_test_gauge_value gauge"));
    }

    #[test]
    fn the_exposition_parses_and_counts() {
        let t = telemetry();
        t.records
            .with_label_values(&["unit", "datapoints"])
            .inc_by(7);
        t.batches.with_label_values(&["unit", "ok"]).inc();
        t.batch_seconds.with_label_values(&["unit"]).observe(0.02);
        let text = t.render();
        let lines = text.lines().map(|l| Ok(l.to_owned()));
        let scrape = prometheus_parse::Scrape::parse(lines).expect("valid exposition");
        let records = scrape
            .samples
            .iter()
            .find(|s| {
                s.metric == "skyline_records_total"
                    && s.labels.get("service") == Some("unit")
                    && s.labels.get("topic") == Some("datapoints")
            })
            .expect("the records counter");
        assert!(matches!(records.value, prometheus_parse::Value::Counter(v) if v == 7.0));
        assert!(scrape
            .samples
            .iter()
            .any(|s| s.metric.starts_with("skyline_batch_handling_seconds")));
    }

    #[test]
    fn figures_become_dotted_metrics() {
        let t = telemetry();
        t.records
            .with_label_values(&["selfcheck", "skyline.datapoints"])
            .inc_by(3);
        let points = self_metrics("up", "host-1", 1_700_000_000);
        let p = points
            .iter()
            .find(|p| p.metric == "skyline.selfcheck.host-1.records.skyline_datapoints")
            .expect("the records counter as a datapoint");
        assert_eq!((p.timestamp, p.value), (1_700_000_000, 3.0));
        assert!(points.iter().all(|p| p.metric.starts_with("skyline.")));
        assert!(!points
            .iter()
            .any(|p| p.metric.contains("batch_handling_seconds")));
        assert!(!host_name().is_empty());
    }

    #[test]
    fn health_is_ready_only_when_every_component_is() {
        let t = Telemetry::new();
        assert!(!t.health().ready, "nothing registered yet");
        t.set_ready("analyze", Ok(()));
        assert!(t.health().ready);
        t.set_ready("redis", Err("redis unreachable: connection refused".into()));
        let h = t.health();
        assert!(h.live && !h.ready);
        assert_eq!(
            h.components["redis"].reason,
            "redis unreachable: connection refused"
        );
        t.set_ready("redis", Ok(()));
        assert!(t.health().ready);
        t.forget("analyze");
        t.forget("redis");
        assert!(!t.health().ready);
    }

    #[test]
    fn one_heartbeat_per_consumer_and_one_for_ingest() {
        let t = Telemetry::new();
        t.set_ready("analyze", Err("redis: connection refused".into()));
        t.set_ready("ingest", Ok(()));
        let mut consumers = BTreeMap::new();
        consumers.insert(
            "analyze".to_owned(),
            ConsumerStatus {
                lag_records: 12,
                lag_seconds: 3.5,
                partitions: 3,
                records: 100,
                last_batch_ms: 1,
            },
        );
        let beats = heartbeats(
            &t.health(),
            &consumers,
            Some(1_700_000_000_500),
            "h1",
            1_700_000_010,
            7,
        );
        assert_eq!(beats.len(), 2);
        let a = &beats[0];
        assert_eq!(
            (a.subject.as_str(), a.instance.as_str(), a.at),
            ("analyze", "h1", 1_700_000_010)
        );
        assert_eq!(
            (a.ready, a.reason.as_str()),
            (Some(false), "redis: connection refused")
        );
        assert_eq!(a.figure("lag_records"), Some(12.0));
        assert_eq!(a.figure("lag_seconds"), Some(3.5));
        assert_eq!(a.figure("partitions"), Some(3.0));
        assert_eq!(a.figure("records"), Some(100.0));
        let i = &beats[1];
        assert_eq!((i.subject.as_str(), i.ready), ("ingest", Some(true)));
        assert_eq!(i.figure("last_received"), Some(1_700_000_000.0));
        assert_eq!(
            a.id,
            topics::ids::system_event_id(
                topics::SystemKind::Heartbeat,
                "analyze/h1",
                1_700_000_010
            )
        );
        // The console: one beat, not ready while its database is not.
        let c = Telemetry::new();
        c.set_ready(CONSOLE, Ok(()));
        c.set_ready("database", Err("unreachable: connection refused".into()));
        c.set_ready("redis", Ok(()));
        let beats = heartbeats(&c.health(), &BTreeMap::new(), None, "h1", 5, 5);
        assert_eq!(beats.len(), 1);
        assert_eq!(
            (
                beats[0].subject.as_str(),
                beats[0].ready,
                beats[0].reason.as_str()
            ),
            (
                "console",
                Some(false),
                "database: unreachable: connection refused"
            )
        );
        assert!(beats[0].figures.is_empty());
        // Nothing runs: nothing to say.
        assert!(heartbeats(
            &Telemetry::new().health(),
            &BTreeMap::new(),
            None,
            "h1",
            0,
            0
        )
        .is_empty());
    }
}
