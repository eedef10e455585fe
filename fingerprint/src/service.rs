//! Fingerprint (the reference's Ionosphere) as a consumer of
//! `skyline.checks`: every check aimed at fingerprint is judged against the
//! metric's active features profiles, the verdict goes to `skyline.matches`,
//! and, unless the anomaly was deflected, the alerts the check carries go to
//! `skyline.alerts`.
//!
//! The profiles are folded from `skyline.profiles`: read from offset 0 at
//! start ([`load_profiles`]) and then followed ([`follow_profiles`]). After
//! each change the ionosphere-enabled flag of the metrics concerned is
//! written beside the windows ([`Windows::set_fingerprint_enabled`]), which is
//! how the analyzer knows to send those metrics' anomalies here instead of
//! alerting on them directly.
//!
//! Per batch of checks: decide, publish, then commit. A crash in between
//! replays the batch, and since a verdict's id is derived from the check and
//! the profiles considered ([`match_id`]) and an alert's from the anomaly and
//! the alerter ([`alert_id`]), the replay re-emits the same ids.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use topics::clock::now_ms;

use runtime::{Commit, Context, RunSettings, Runtime, Service, ServiceError};
use serde::{Deserialize, Serialize};
use topics::ids::{alert_id, anomaly_id, match_id};
use topics::kafka::{keyed_messages, Batch, KafkaConfig, Producer};
use topics::names::TopicNames;
use topics::{
    AlertEvent, CheckRequest, CheckTarget, MatchMethod, MatchResult, ProfileAction, ProfileEvent,
    SeriesPoint, SourceApp,
};
use windows::Windows;

use crate::matching::{judge, Check, How, MatchSettings, MotifKind, Profile, Verdict};
use crate::{ProfileStore, SharedProfiles};
use profiles::{follow_profiles, load_profiles, Positions};

/// How the consumer runs (the `[fingerprint_service]` table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServiceSettings {
    /// Consumer name (group `<prefix>.<name>`).
    pub consumer: String,
    /// Most checks handled per batch. A check costs a features extraction
    /// and a comparison per profile, so batches are kept small: a crash
    /// re-judges at most this many.
    pub max_batch: usize,
    /// Milliseconds without a profile event after which the start-up read
    /// of the profiles topic counts as caught up.
    pub profiles_idle_ms: u64,
}

impl Default for ServiceSettings {
    fn default() -> Self {
        ServiceSettings {
            consumer: "fingerprint".to_owned(),
            max_batch: 50,
            profiles_idle_ms: 3_000,
        }
    }
}

fn poisoned<T>(_: T) -> ServiceError {
    ServiceError::task("the profile store's lock was poisoned")
}

/// What fingerprint decided about one check.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The verdict, for `skyline.matches`.
    pub result: MatchResult,
    /// The check's alerts, when it was not deflected.
    pub alerts: Vec<AlertEvent>,
}

/// The active profiles of `metric`, in the store's (creation) order.
///
/// The reference orders by `last_matched DESC`; that order is state outside
/// the log (it changes with every match), and only decides *which* of
/// several matching profiles is named, not whether the check matches.
/// Creation order keeps a verdict reproducible from the log alone.
pub fn profiles_for(store: &ProfileStore, metric: &str) -> Vec<Arc<Profile>> {
    store
        .active_for_metric(metric)
        .map(|p| Arc::clone(&p.profile))
        .collect()
}

/// Judges `check` against `profiles` (CPU-bound: call off the async
/// executor).
pub fn judge_check(
    check: &CheckRequest,
    profiles: &[Arc<Profile>],
    settings: &MatchSettings,
) -> Verdict {
    let series = SeriesPoint::pairs(&check.series);
    let echo = check.echo_series.as_deref().map(SeriesPoint::pairs);
    let refs: Vec<&Profile> = profiles.iter().map(|p| p.as_ref()).collect();
    judge(
        &Check {
            timestamp: check.timestamp,
            series: &series,
            full_duration: check.full_duration(),
            echo_series: echo.as_deref(),
        },
        &refs,
        settings,
    )
}

/// The app whose anomaly the check is about, recovered from the anomaly's
/// id (it is derived from metric, timestamp and source). `None` when the id
/// was made some other way.
pub fn anomaly_source(check: &CheckRequest) -> Option<SourceApp> {
    [
        SourceApp::Analyzer,
        SourceApp::Seasonal,
        SourceApp::Fingerprint,
    ]
    .into_iter()
    .find(|s| anomaly_id(&check.metric, check.timestamp, *s) == check.anomaly_id)
}

/// Turns a verdict into the events fingerprint publishes.
///
/// * The verdict's id is [`match_id`] of the check and the ids of every
///   profile considered (all of the metric's active profiles): the same
///   check against the same profiles is the same verdict, against other
///   profiles (after learning, say) a new one.
/// * Not matched: one alert per route the check carries, "returned to
///   sender" as the reference does: the alert's source is the app that found
///   the anomaly (recovered by [`anomaly_source`]; `Fingerprint` if unknown)
///   and its id is [`alert_id`] of the anomaly and alerter — exactly the
///   alert the analyzer would have sent had the metric not been
///   ionosphere-enabled.
/// * `decided_at_ms` is the wall clock when decided, on every event; it is
///   in no id, so a re-decision after a crash differs only there.
pub fn decide(
    check: &CheckRequest,
    profiles: &[Arc<Profile>],
    verdict: &Verdict,
    decided_at_ms: i64,
) -> Decision {
    let considered: Vec<uuid::Uuid> = profiles.iter().map(|p| p.id).collect();
    let m = verdict.matched.as_ref();
    let method = match m.map(|m| m.how) {
        Some(How::FeaturesProfile) => MatchMethod::FeaturesProfile,
        Some(How::MinMax) => MatchMethod::MinMax,
        Some(How::Layers) => MatchMethod::Layers,
        Some(How::Motif) => MatchMethod::Motif,
        None => MatchMethod::None,
    };
    let motif = m.and_then(|m| m.motif);
    let result = MatchResult {
        id: match_id(check.id, &considered),
        check_id: check.id,
        anomaly_id: check.anomaly_id,
        metric: check.metric.clone(),
        timestamp: check.timestamp,
        matched: m.is_some(),
        method,
        profile_id: m.map(|m| m.profile_id),
        layer_id: m.and_then(|m| m.layer_id),
        percent_different: m.and_then(|m| m.percent_different),
        distance: motif.map(|x| x.distance),
        decided_at_ms,
        echo: m.is_some_and(|m| m.echo),
        profiles_checked: verdict.profiles_checked,
        // A motif match ends the check before features are calculated.
        features_sum: (method != MatchMethod::Motif).then_some(verdict.features_sum),
        common_features: m.and_then(|m| m.common_features),
        approx_close: m.is_some_and(|m| m.approx_close),
        motif: motif.map(|x| topics::MotifMatch {
            index: u32::try_from(x.index).unwrap_or(u32::MAX),
            size: u32::try_from(x.size).unwrap_or(u32::MAX),
            kind: match x.kind {
                MotifKind::Exact => topics::MotifKind::Exact,
                MotifKind::AllInRange => topics::MotifKind::AllInRange,
            },
            area: x.area,
            profile_area: x.profile_area,
            area_percent_diff: x.area_percent_diff,
        }),
    };
    let alerts = if result.matched {
        Vec::new()
    } else {
        let source = anomaly_source(check).unwrap_or(SourceApp::Fingerprint);
        check
            .alerts
            .iter()
            .map(|route| AlertEvent {
                id: alert_id(check.anomaly_id, &route.alerter),
                anomaly_id: check.anomaly_id,
                metric: check.metric.clone(),
                timestamp: check.timestamp,
                value: check.value,
                source,
                alerter: route.alerter.clone(),
                rule: route.rule.clone(),
                triggered_algorithms: check.triggered_algorithms.clone(),
                decided_at_ms,
                series: Some(check.series.clone()),
                full_duration: Some(check.full_duration()),
                expiration_time: None,
                boundary: None,
                fingerprinted: true,
                test: false,
            })
            .collect()
    };
    Decision { result, alerts }
}

/// Everything a running fingerprint service needs.
pub struct Fingerprinter {
    /// Matching thresholds (the `[fingerprint]` table): percent similar,
    /// min-max, echo, layers, motifs.
    pub settings: MatchSettings,
    /// How the consumer runs.
    pub service: ServiceSettings,
    /// The topic names it reads and writes.
    pub topics: TopicNames,
    /// Where each metric's fingerprint-enabled flag is written for the Analyzer.
    pub windows: Arc<Windows>,
    /// Where verdicts and alerts are produced.
    pub producer: Producer,
    /// The profiles, kept up to date while [`Fingerprinter::run`] runs.
    pub profiles: SharedProfiles,
    /// Where the profiles were read to at start, to follow on from.
    positions: Mutex<Positions>,
}

impl Fingerprinter {
    /// A service with no profiles yet (they are loaded by
    /// [`Fingerprinter::run`], or [`Fingerprinter::load`]).
    pub fn new(
        settings: MatchSettings,
        service: ServiceSettings,
        topics: TopicNames,
        windows: Arc<Windows>,
        producer: Producer,
    ) -> Fingerprinter {
        Fingerprinter {
            settings,
            service,
            topics,
            windows,
            producer,
            profiles: Arc::new(RwLock::new(ProfileStore::new())),
            positions: Mutex::default(),
        }
    }

    /// Reads the profiles topic from the start into [`Fingerprinter::profiles`],
    /// prepares every profile and writes every known metric's
    /// ionosphere-enabled flag (the service's restore phase). Returns where
    /// the read stopped, which the service follows on from.
    pub async fn load(&self, kafka: &KafkaConfig) -> Result<Positions, ServiceError> {
        let (store, positions) = load_profiles::<Profile>(
            kafka,
            &self.topics.profiles,
            Duration::from_millis(self.service.profiles_idle_ms),
        )
        .await?;
        let metrics: Vec<String> = store.metrics().map(str::to_owned).collect();
        let all: Vec<Arc<Profile>> = metrics
            .iter()
            .flat_map(|m| store.for_metric(m).map(|p| Arc::clone(&p.profile)))
            .collect();
        tracing::info!(
            profiles = store.len(),
            metrics = metrics.len(),
            "profiles loaded"
        );
        *self.profiles.write().map_err(poisoned)? = store;
        self.prepare(all).await?;
        self.write_flags(&metrics).await?;
        *self.positions.lock().map_err(poisoned)? = positions.clone();
        Ok(positions)
    }

    /// Computes what matching derives from each profile's series alone now,
    /// so the first check against a new profile is not the slow one.
    async fn prepare(&self, profiles: Vec<Arc<Profile>>) -> Result<(), ServiceError> {
        if profiles.is_empty() {
            return Ok(());
        }
        let settings = self.settings.clone();
        tokio::task::spawn_blocking(move || {
            use rayon::prelude::*;
            profiles.par_iter().for_each(|p| p.prepare(&settings));
        })
        .await
        .map_err(ServiceError::task)
    }

    /// Writes the ionosphere-enabled flag of `metrics`: on exactly when the
    /// metric has an active profile.
    async fn write_flags(&self, metrics: &[String]) -> Result<(), ServiceError> {
        if metrics.is_empty() {
            return Ok(());
        }
        let flags: Vec<(String, bool)> = {
            let store = self.profiles.read().map_err(poisoned)?;
            metrics
                .iter()
                .map(|m| (m.clone(), store.metric_enabled(m)))
                .collect()
        };
        self.windows
            .set_fingerprint_enabled(&flags)
            .await
            .map_err(ServiceError::state)
    }

    /// After a batch of profile events (already applied to the store):
    /// prepare the new profiles and rewrite the flags of their metrics.
    async fn profiles_changed(&self, events: Vec<ProfileEvent>) -> Result<(), ServiceError> {
        let metrics: Vec<String> = events
            .iter()
            .map(|e| e.metric.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let added: Vec<Arc<Profile>> = {
            let store = self.profiles.read().map_err(poisoned)?;
            events
                .iter()
                .filter(|e| matches!(e.action, ProfileAction::Created | ProfileAction::Learnt))
                .filter_map(|e| store.get(e.profile_id).map(|p| Arc::clone(&p.profile)))
                .collect()
        };
        self.prepare(added).await?;
        self.write_flags(&metrics).await
    }

    /// Judges `checks` (those aimed at fingerprint; others are ignored) and
    /// publishes the verdicts and alerts. Returns the decisions, in order.
    pub async fn handle(&self, checks: Vec<CheckRequest>) -> Result<Vec<Decision>, ServiceError> {
        let work: Vec<(CheckRequest, Vec<Arc<Profile>>)> = {
            let store = self.profiles.read().map_err(poisoned)?;
            checks
                .into_iter()
                .filter(|c| c.target == CheckTarget::Fingerprint)
                .map(|c| {
                    let profiles = profiles_for(&store, &c.metric);
                    (c, profiles)
                })
                .collect()
        };
        if work.is_empty() {
            return Ok(Vec::new());
        }
        let settings = self.settings.clone();
        // CPU-bound (features extraction, motif search): off the executor,
        // one check per rayon task.
        let decisions = tokio::task::spawn_blocking(move || {
            use rayon::prelude::*;
            work.par_iter()
                .map(|(check, profiles)| {
                    let verdict = judge_check(check, profiles, &settings);
                    decide(check, profiles, &verdict, now_ms())
                })
                .collect::<Vec<Decision>>()
        })
        .await
        .map_err(ServiceError::task)?;
        self.publish(&decisions).await?;
        Ok(decisions)
    }

    async fn publish(&self, decisions: &[Decision]) -> Result<(), ServiceError> {
        // Alerts first: a verdict seen downstream then always has its
        // alerts on the log already.
        let alerts = keyed_messages(decisions.iter().flat_map(|d| &d.alerts), |a| &a.metric)?;
        self.producer
            .send_batch(&self.topics.alerts, alerts)
            .await?;
        let matches = keyed_messages(decisions.iter().map(|d| &d.result), |m| &m.metric)?;
        self.producer
            .send_batch(&self.topics.matches, matches)
            .await?;
        Ok(())
    }

    /// The service on the runtime, dead-lettering what does not decode.
    /// Its restore phase is [`Fingerprinter::load`]: run it
    /// ([`Runtime::restore`]) before starting the analyzer, so the
    /// ionosphere-enabled flags are written before anything is judged.
    pub fn runtime(self: Arc<Self>, kafka: &KafkaConfig) -> Runtime<Fingerprinter> {
        let (producer, topic) = (self.producer.clone(), self.topics.deadletter.clone());
        Runtime::dead_lettering(self, kafka, producer, topic)
    }
}

impl Service for Fingerprinter {
    fn name(&self) -> &str {
        &self.service.consumer
    }

    /// Ready when the windows' store answers.
    async fn ready(&self) -> Result<(), String> {
        self.windows.ping().await
    }

    fn topics(&self) -> Vec<String> {
        vec![self.topics.checks.clone()]
    }

    fn settings(&self) -> RunSettings {
        RunSettings {
            max_batch: self.service.max_batch,
            ..RunSettings::default()
        }
    }

    async fn restore(&self, cx: &Context) -> Result<(), ServiceError> {
        self.load(cx.kafka()).await.map(|_| ())
    }

    /// Follows the profiles topic from where the restore phase stopped.
    async fn background(&self, cx: &Context) {
        let positions = self.positions.lock().map(|p| p.clone()).unwrap_or_default();
        let on_events = |events: Vec<ProfileEvent>| async move {
            if events.is_empty() {
                return;
            }
            tracing::info!(events = events.len(), "profiles changed");
            if let Err(e) = self.profiles_changed(events).await {
                tracing::warn!(error = %e, "updating after profile events failed");
            }
        };
        let store = Arc::clone(&self.profiles);
        if let Err(e) =
            follow_profiles(cx.kafka(), store, &positions, cx.stopped(), on_events).await
        {
            tracing::error!(error = %e, "following the profiles topic stopped");
        }
    }

    async fn handle(&self, cx: &Context, batch: &Batch) -> Result<Commit, ServiceError> {
        let checks: Vec<CheckRequest> = cx
            .decode::<CheckRequest>(batch)
            .await?
            .into_iter()
            .map(|(_, c)| c)
            .collect();
        let decisions = Fingerprinter::handle(self, checks).await?;
        let t = runtime::telemetry();
        for d in &decisions {
            t.count(
                "skyline_fingerprint_checks_total",
                "Checks fingerprinted, by the method that matched (none: not matched, alerted).",
                &[("method", d.result.method.as_str())],
                1,
            );
        }
        if !decisions.is_empty() {
            let matched = decisions.iter().filter(|d| d.result.matched).count();
            tracing::info!(
                checks = decisions.len(),
                matched,
                alerts = decisions.iter().map(|d| d.alerts.len()).sum::<usize>(),
                "judged"
            );
        }
        Ok(Commit::Batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use topics::ids::check_id;
    use topics::AlertRoute;

    fn check(anomaly: uuid::Uuid) -> CheckRequest {
        CheckRequest {
            id: check_id(anomaly, CheckTarget::Fingerprint),
            anomaly_id: anomaly,
            target: CheckTarget::Fingerprint,
            metric: "m".into(),
            timestamp: 1_000,
            value: 2.0,
            triggered_algorithms: vec!["grubbs".into()],
            second_order_resolution_hours: None,
            series: (0..10)
                .map(|i| SeriesPoint {
                    timestamp: 100 * i,
                    value: i as f64,
                })
                .collect(),
            decided_at_ms: 0,
            full_duration: Some(86_400),
            echo_series: None,
            alerts: vec![
                AlertRoute {
                    alerter: "smtp".into(),
                    rule: ".*".into(),
                    expiration_time: None,
                },
                AlertRoute {
                    alerter: "topic".into(),
                    rule: "m".into(),
                    expiration_time: None,
                },
            ],
            periodic: false,
            derivative: false,
        }
    }

    #[test]
    fn no_profile_returns_the_alerts_to_sender() {
        let c = check(anomaly_id("m", 1_000, SourceApp::Seasonal));
        let settings = MatchSettings::default();
        let verdict = judge_check(&c, &[], &settings);
        let d = decide(&c, &[], &verdict, 42);
        assert!(!d.result.matched);
        assert_eq!(d.result.method, MatchMethod::None);
        assert_eq!(d.result.id, match_id(c.id, &[]));
        assert_eq!(d.result.decided_at_ms, 42);
        let ids: Vec<_> = d.alerts.iter().map(|a| a.id).collect();
        assert_eq!(
            ids,
            [
                alert_id(c.anomaly_id, "smtp"),
                alert_id(c.anomaly_id, "topic")
            ]
        );
        assert!(d.alerts.iter().all(|a| a.source == SourceApp::Seasonal));
        // The same check decided later: only the clock differs.
        let later = decide(&c, &[], &verdict, 43);
        assert_eq!(later.result.id, d.result.id);
        assert_eq!(later.alerts[1].id, d.alerts[1].id);
    }

    #[test]
    fn an_unknown_anomaly_source_alerts_as_fingerprint() {
        let c = check(uuid::Uuid::from_u128(7));
        assert_eq!(anomaly_source(&c), None);
        let verdict = judge_check(&c, &[], &MatchSettings::default());
        let d = decide(&c, &[], &verdict, 0);
        assert!(d.alerts.iter().all(|a| a.source == SourceApp::Fingerprint));
    }
}
