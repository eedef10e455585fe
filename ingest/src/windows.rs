//! Each metric's recent series, folded from the datapoints topic: the last
//! `full_duration` at full resolution (what the Analyzer judges) and a
//! rolled-up long window (mean per `rollup_resolution`, kept for
//! `rollup_duration`) for the seasonal re-check and learning.
//!
//! Folding is replay-safe: a point is identified by its timestamp and value,
//! so folding it again changes nothing, and the rolled-up bucket it falls in
//! is recomputed from the full window rather than incremented. Windows are
//! trimmed relative to the metric's newest point, never the wall clock, so
//! replaying old data builds the same windows as it did live.
//!
//! Two stores: [`RedisWindows`] (production) and [`MemoryWindows`] (the
//! embedded default); both follow the same rules, and a test folds the same
//! data into both and compares.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use redis::aio::ConnectionManager;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use topics::Datapoint;

/// Metrics folded per Redis round trip.
const FOLD_PIPELINE_METRICS: usize = 500;

/// A point: unix seconds and value.
pub type Point = (i64, f64);

/// How long windows are and how they roll up (the `[windows]` table).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WindowSettings {
    /// Seconds kept at full resolution, behind the metric's newest point
    /// (`FULL_DURATION`); must cover the Analyzer's.
    pub full_duration: i64,
    /// Extra seconds kept so late points still fold (`ROOMBA_GRACE_TIME`).
    pub grace: i64,
    /// Seconds per rolled-up bucket (mean of the points in it).
    pub rollup_resolution: i64,
    /// Seconds of rolled-up history kept.
    pub rollup_duration: i64,
    /// Prefix of every Redis key skyline writes.
    pub key_prefix: String,
}

impl Default for WindowSettings {
    fn default() -> Self {
        WindowSettings {
            full_duration: 86_400,
            grace: 600,
            rollup_resolution: 600,
            rollup_duration: 30 * 86_400,
            key_prefix: "skyline".to_owned(),
        }
    }
}

/// Why folding or reading windows failed.
#[derive(Debug, Error)]
pub enum WindowError {
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("window of {metric} holds an unreadable point {member:?}")]
    Corrupt { metric: String, member: String },
}

/// What a fold did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FoldStats {
    pub points: usize,
    /// Points not already in their window.
    pub new_points: usize,
    pub metrics: usize,
}

/// The member a point is stored as: `"ts:value"`, the value in Rust's
/// shortest round-trip form (readable with `ZRANGE` by an operator).
pub fn encode_member(ts: i64, value: f64) -> String {
    format!("{ts}:{value:?}")
}

/// The inverse of [`encode_member`].
pub fn decode_member(member: &str) -> Option<Point> {
    let (ts, value) = member.split_once(':')?;
    Some((ts.parse().ok()?, value.parse().ok()?))
}

/// Sorts by `(timestamp, value)` and keeps the first point per timestamp.
pub fn sort_dedup(points: &mut Vec<Point>) {
    points.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    points.dedup_by_key(|p| p.0);
}

/// Groups a batch by metric, keeping each metric's points in batch order.
pub fn by_metric(batch: &[Datapoint]) -> BTreeMap<&str, Vec<Point>> {
    let mut groups: BTreeMap<&str, Vec<Point>> = BTreeMap::new();
    for d in batch {
        groups
            .entry(d.metric.as_str())
            .or_default()
            .push((d.timestamp, d.value));
    }
    groups
}

/// Where windows live.
pub enum Windows {
    Redis(RedisWindows),
    Memory(MemoryWindows),
}

impl Windows {
    pub async fn fold(&self, batch: &[Datapoint]) -> Result<FoldStats, WindowError> {
        match self {
            Windows::Redis(w) => w.fold(batch).await,
            Windows::Memory(w) => Ok(w.fold(batch)),
        }
    }

    /// The full-resolution windows of `metrics`, each sorted and one point
    /// per timestamp: the points within `full_duration + grace` of the
    /// metric's newest point. (The store may hold a little more, for a batch
    /// being re-folded; that never shows here, so what a window holds
    /// depends only on the datapoints folded, not on how they were batched.)
    pub async fn windows(&self, metrics: &[&str]) -> Result<Vec<Vec<Point>>, WindowError> {
        let s = self.settings();
        let keep = s.full_duration + s.grace;
        let mut all = self
            .windows_after(&metrics.iter().map(|m| (*m, i64::MIN)).collect::<Vec<_>>())
            .await?;
        for w in &mut all {
            if let Some(&(newest, _)) = w.last() {
                let start = w.partition_point(|p| p.0 <= newest - keep);
                w.drain(..start);
            }
        }
        Ok(all)
    }

    /// For each `(metric, after)`, every stored point with timestamp above
    /// `after` (what a consumer re-judging a batch needs).
    pub async fn windows_after(
        &self,
        metrics: &[(&str, i64)],
    ) -> Result<Vec<Vec<Point>>, WindowError> {
        match self {
            Windows::Redis(w) => w.windows_after(metrics).await,
            Windows::Memory(w) => Ok(metrics
                .iter()
                .map(|(m, after)| w.window_after(m, *after))
                .collect()),
        }
    }

    pub async fn rollup(&self, metric: &str) -> Result<Vec<Point>, WindowError> {
        match self {
            Windows::Redis(w) => w.rollup(metric).await,
            Windows::Memory(w) => Ok(w.rollup(metric)),
        }
    }

    pub async fn metrics(&self) -> Result<Vec<String>, WindowError> {
        match self {
            Windows::Redis(w) => w.metrics().await,
            Windows::Memory(w) => Ok(w.metrics()),
        }
    }

    /// Forgets every window (before a replay).
    pub async fn clear(&self) -> Result<(), WindowError> {
        match self {
            Windows::Redis(w) => w.clear().await,
            Windows::Memory(w) => {
                w.clear();
                Ok(())
            }
        }
    }

    /// Per-metric state a consumer keeps beside the windows (opaque text,
    /// e.g. JSON), read for `metrics` in order; `None` where none is kept.
    pub async fn load_states(
        &self,
        kind: &str,
        metrics: &[&str],
    ) -> Result<Vec<Option<String>>, WindowError> {
        match self {
            Windows::Redis(w) => w.load_states(kind, metrics).await,
            Windows::Memory(w) => {
                let states = w.states.lock().unwrap_or_else(|e| e.into_inner());
                Ok(metrics
                    .iter()
                    .map(|m| states.get(&(kind.to_owned(), (*m).to_owned())).cloned())
                    .collect())
            }
        }
    }

    /// Stores `(metric, state)` pairs of `kind`.
    pub async fn save_states(
        &self,
        kind: &str,
        states: &[(String, String)],
    ) -> Result<(), WindowError> {
        match self {
            Windows::Redis(w) => w.save_states(kind, states).await,
            Windows::Memory(w) => {
                let mut all = w.states.lock().unwrap_or_else(|e| e.into_inner());
                for (metric, state) in states {
                    all.insert((kind.to_owned(), metric.clone()), state.clone());
                }
                Ok(())
            }
        }
    }

    pub fn settings(&self) -> &WindowSettings {
        match self {
            Windows::Redis(w) => &w.settings,
            Windows::Memory(w) => &w.settings,
        }
    }
}

/// Windows in Redis: per metric a sorted set for each window, folded by one
/// Lua script call per metric per batch (atomic, pipelined).
pub struct RedisWindows {
    conn: ConnectionManager,
    settings: WindowSettings,
    script: redis::Script,
}

impl RedisWindows {
    pub async fn connect(url: &str, settings: WindowSettings) -> Result<Self, WindowError> {
        let client = redis::Client::open(url)?;
        // A fold of a large batch runs thousands of script calls; give them
        // time rather than fail the batch (pipelines are also chunked).
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(std::time::Duration::from_secs(30)));
        let conn = ConnectionManager::new_with_config(client, config).await?;
        Ok(RedisWindows {
            conn,
            settings,
            script: redis::Script::new(include_str!("fold.lua")),
        })
    }

    // `{metric}` is a hash tag: both windows of a metric share a slot.
    fn full_key(&self, metric: &str) -> String {
        format!("{}:w:{{{metric}}}", self.settings.key_prefix)
    }

    fn rollup_key(&self, metric: &str) -> String {
        format!("{}:r:{{{metric}}}", self.settings.key_prefix)
    }

    fn metrics_key(&self) -> String {
        format!("{}:metrics", self.settings.key_prefix)
    }

    fn state_key(&self, kind: &str, metric: &str) -> String {
        format!("{}:s:{kind}:{{{metric}}}", self.settings.key_prefix)
    }

    pub async fn load_states(
        &self,
        kind: &str,
        metrics: &[&str],
    ) -> Result<Vec<Option<String>>, WindowError> {
        if metrics.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = metrics.iter().map(|m| self.state_key(kind, m)).collect();
        let values: Vec<Option<String>> = redis::cmd("MGET")
            .arg(&keys)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(values)
    }

    pub async fn save_states(
        &self,
        kind: &str,
        states: &[(String, String)],
    ) -> Result<(), WindowError> {
        if states.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        for (metric, state) in states {
            pipe.set(self.state_key(kind, metric), state).ignore();
        }
        let _: () = pipe.query_async(&mut self.conn.clone()).await?;
        Ok(())
    }

    pub async fn fold(&self, batch: &[Datapoint]) -> Result<FoldStats, WindowError> {
        let groups = by_metric(batch);
        if groups.is_empty() {
            return Ok(FoldStats::default());
        }
        let s = &self.settings;
        // Load the script once per connection; EVALSHA thereafter.
        let mut conn = self.conn.clone();
        let _: String = self.script.prepare_invoke().load_async(&mut conn).await?;
        let mut added = 0usize;
        let mut pipe = redis::pipe();
        pipe.sadd(
            self.metrics_key(),
            groups.keys().copied().collect::<Vec<_>>(),
        )
        .ignore();
        for (i, (metric, points)) in groups.iter().enumerate() {
            let mut cmd = redis::cmd("EVALSHA");
            cmd.arg(self.script.get_hash())
                .arg(2)
                .arg(self.full_key(metric))
                .arg(self.rollup_key(metric))
                .arg(s.full_duration)
                .arg(s.grace)
                .arg(s.rollup_resolution)
                .arg(s.rollup_duration);
            for &(ts, v) in points {
                cmd.arg(ts).arg(encode_member(ts, v));
            }
            pipe.add_command(cmd);
            // Send in chunks so one round trip never carries too much work.
            if (i + 1) % FOLD_PIPELINE_METRICS == 0 || i + 1 == groups.len() {
                let counts: Vec<usize> = pipe.query_async(&mut conn).await?;
                added += counts.iter().sum::<usize>();
                pipe = redis::pipe();
            }
        }
        Ok(FoldStats {
            points: batch.len(),
            new_points: added,
            metrics: groups.len(),
        })
    }

    pub async fn windows_after(
        &self,
        metrics: &[(&str, i64)],
    ) -> Result<Vec<Vec<Point>>, WindowError> {
        let mut pipe = redis::pipe();
        for (m, after) in metrics {
            let min = if *after == i64::MIN {
                "-inf".to_owned()
            } else {
                format!("({after}")
            };
            pipe.cmd("ZRANGEBYSCORE")
                .arg(self.full_key(m))
                .arg(min)
                .arg("+inf");
        }
        let raw: Vec<Vec<String>> = pipe.query_async(&mut self.conn.clone()).await?;
        metrics
            .iter()
            .zip(raw)
            .map(|((m, _), members)| decode_all(m, members))
            .collect()
    }

    pub async fn rollup(&self, metric: &str) -> Result<Vec<Point>, WindowError> {
        let members: Vec<String> = redis::cmd("ZRANGE")
            .arg(self.rollup_key(metric))
            .arg(0)
            .arg(-1)
            .query_async(&mut self.conn.clone())
            .await?;
        decode_all(metric, members)
    }

    pub async fn metrics(&self) -> Result<Vec<String>, WindowError> {
        let mut names: Vec<String> = redis::cmd("SMEMBERS")
            .arg(self.metrics_key())
            .query_async(&mut self.conn.clone())
            .await?;
        names.sort();
        Ok(names)
    }

    pub async fn clear(&self) -> Result<(), WindowError> {
        let mut conn = self.conn.clone();
        for pattern in ["w", "r", "s"] {
            let pattern = format!("{}:{pattern}:*", self.settings.key_prefix);
            let keys: Vec<String> = {
                let mut iter: redis::AsyncIter<String> = redis::cmd("SCAN")
                    .cursor_arg(0)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(1000)
                    .clone()
                    .iter_async(&mut conn)
                    .await?;
                let mut keys = Vec::new();
                while let Some(k) = iter.next_item().await {
                    keys.push(k?);
                }
                keys
            };
            for chunk in keys.chunks(1000) {
                let _: () = redis::cmd("DEL").arg(chunk).query_async(&mut conn).await?;
            }
        }
        let _: () = redis::cmd("DEL")
            .arg(self.metrics_key())
            .query_async(&mut conn)
            .await?;
        Ok(())
    }
}

fn decode_all(metric: &str, members: Vec<String>) -> Result<Vec<Point>, WindowError> {
    let mut points = members
        .into_iter()
        .map(|m| {
            decode_member(&m).ok_or_else(|| WindowError::Corrupt {
                metric: metric.to_owned(),
                member: m.clone(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    sort_dedup(&mut points);
    Ok(points)
}

/// Windows in this process's memory, with the same rules as the Redis
/// script (for the embedded default, which keeps no Redis).
pub struct MemoryWindows {
    settings: WindowSettings,
    metrics: Mutex<HashMap<String, MetricWindows>>,
    states: Mutex<HashMap<(String, String), String>>,
}

#[derive(Default)]
struct MetricWindows {
    /// Points keyed by (timestamp, value bits): a set, as the sorted set is.
    full: BTreeMap<(i64, u64), f64>,
    rollup: BTreeMap<i64, f64>,
}

impl MemoryWindows {
    pub fn new(settings: WindowSettings) -> Self {
        MemoryWindows {
            settings,
            metrics: Mutex::new(HashMap::new()),
            states: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, MetricWindows>> {
        // A panic elsewhere while holding the lock leaves consistent data
        // (every update is a single insert/remove), so carry on.
        self.metrics.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn fold(&self, batch: &[Datapoint]) -> FoldStats {
        let s = &self.settings;
        let groups = by_metric(batch);
        let mut all = self.lock();
        let mut new_points = 0;
        for (metric, points) in &groups {
            let w = all.entry((*metric).to_owned()).or_default();
            let newest = w.full.keys().next_back().map(|k| k.0);
            let mut buckets = Vec::new();
            for &(ts, v) in points {
                if newest.is_none_or(|n| ts > n - s.full_duration - s.grace) {
                    if w.full.insert((ts, v.to_bits()), v).is_none() {
                        new_points += 1;
                    }
                    buckets.push(ts - ts.rem_euclid(s.rollup_resolution));
                }
            }
            // The cutoff keeps what every point of the batch needs (even a
            // too-late one), so folding the batch again trims the same.
            let Some(oldest) = points.iter().map(|p| p.0).min() else {
                continue;
            };
            let newest = points
                .iter()
                .map(|p| p.0)
                .chain(newest)
                .max()
                .unwrap_or(oldest);
            let cutoff = oldest.min(newest) - s.full_duration - s.grace;
            w.full.retain(|k, _| k.0 > cutoff);
            buckets.sort_unstable();
            buckets.dedup();
            for b in buckets {
                let mut by_ts: BTreeMap<i64, f64> = BTreeMap::new();
                for (&(ts, _), &v) in w.full.range((b, 0)..(b + s.rollup_resolution, 0)) {
                    by_ts.entry(ts).and_modify(|m| *m = m.min(v)).or_insert(v);
                }
                if !by_ts.is_empty() {
                    // Sum in the script's order is not defined; a mean of
                    // ≤ resolution points agrees to rounding.
                    let mean = by_ts.values().sum::<f64>() / by_ts.len() as f64;
                    w.rollup.insert(b, mean);
                }
            }
            w.rollup.retain(|b, _| *b > newest - s.rollup_duration);
        }
        FoldStats {
            points: batch.len(),
            new_points,
            metrics: groups.len(),
        }
    }

    pub fn window_after(&self, metric: &str, after: i64) -> Vec<Point> {
        let all = self.lock();
        let mut points: Vec<Point> = all
            .get(metric)
            .map(|w| {
                w.full
                    .iter()
                    .filter(|(k, _)| k.0 > after)
                    .map(|(k, v)| (k.0, *v))
                    .collect()
            })
            .unwrap_or_default();
        sort_dedup(&mut points);
        points
    }

    pub fn rollup(&self, metric: &str) -> Vec<Point> {
        let all = self.lock();
        all.get(metric)
            .map(|w| w.rollup.iter().map(|(b, v)| (*b, *v)).collect())
            .unwrap_or_default()
    }

    pub fn metrics(&self) -> Vec<String> {
        let mut names: Vec<String> = self.lock().keys().cloned().collect();
        names.sort();
        names
    }

    pub fn clear(&self) {
        self.lock().clear();
        self.states
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dp(ts: i64, v: f64) -> Datapoint {
        Datapoint {
            metric: "m".into(),
            timestamp: ts,
            value: v,
        }
    }

    #[test]
    fn members_round_trip() {
        for (ts, v) in [(1_700_000_000, 12.5), (0, -0.1), (5, 1e-7), (6, 1.5e300)] {
            assert_eq!(decode_member(&encode_member(ts, v)), Some((ts, v)));
        }
        assert_eq!(decode_member("garbage"), None);
    }

    #[test]
    fn memory_fold_is_idempotent_trims_and_rolls_up() {
        let settings = WindowSettings {
            full_duration: 3600,
            grace: 0,
            rollup_resolution: 600,
            rollup_duration: 7200,
            key_prefix: "t".into(),
        };
        let w = MemoryWindows::new(settings);
        let batch: Vec<Datapoint> = (0..240).map(|i| dp(i * 60, i as f64)).collect();
        let first = w.fold(&batch);
        assert_eq!(first.new_points, 240);
        let again = w.fold(&batch);
        assert_eq!(again.new_points, 0, "folding twice adds nothing");
        let window = w.window_after("m", i64::MIN);
        // newest 14340; trimmed relative to the batch's oldest point (0), so
        // all 240 stay until a later batch moves the cutoff
        assert_eq!(window.len(), 240);
        w.fold(&[dp(240 * 60, 240.0)]);
        let window = w.window_after("m", i64::MIN);
        assert_eq!(window.first().unwrap().0, 14_400 - 3600 + 60);
        // bucket 0: points 0..=9 → mean 4.5; rollup keeps the last 7200 s
        let rollup = w.rollup("m");
        assert_eq!(rollup.first().unwrap().0, 14_400 - 7200 + 600);
        assert!(rollup
            .iter()
            .all(|(b, v)| (v - (b / 60 + 4) as f64 - 0.5).abs() < 1e-9 || *b == 14_400));
    }
}
