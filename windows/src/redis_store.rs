//! Windows in Redis. Per metric (`{metric}` is a hash tag, so one metric's
//! keys share a cluster slot):
//!
//! - `PREFIX:full:{metric}` — the full-resolution log, a string of 16-byte
//!   points ([`log`]); a fold is one `APPEND` per metric, pipelined.
//! - `PREFIX:rollup:{metric}` — recorded rolled-up buckets, a sorted set
//!   (score = bucket start, member = `"start:mean"`, readable by an operator).
//! - `PREFIX:gen:{metric}` — how many times the log was compacted, so that a
//!   compaction never overwrites another writer's.
//! - `PREFIX:metrics` — the set of metric names.
//!
//! Compaction reads the log, compacts it in Rust and writes it back with a
//! small script that keeps anything appended meanwhile.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use redis::aio::ConnectionManager;
use topics::Datapoint;

use crate::log::{
    self, compact, compaction_cutoff, decode_points, encode_points, needs_compaction, rollup_view,
    POINT_BYTES,
};
use crate::{by_metric, FoldStats, Point, WindowError, WindowSettings};

/// Metrics per pipelined round trip.
const PIPELINE_METRICS: usize = 2_000;

/// Windows in Redis.
pub struct RedisWindows {
    conn: ConnectionManager,
    settings: WindowSettings,
    compact_script: redis::Script,
    /// Points each log held after its last compaction, as far as this
    /// process knows: only decides *when* to compact, never what is seen.
    bases: Mutex<HashMap<String, usize>>,
}

/// A metric whose log is due for compaction.
struct Due<'a> {
    metric: &'a str,
    /// The oldest point of the batch being folded (see
    /// [`log::compaction_cutoff`]).
    batch_oldest: i64,
}

impl RedisWindows {
    /// Connects to the Redis at `url`, allowing a command up to 30 seconds to
    /// answer.
    pub async fn connect(url: &str, settings: WindowSettings) -> Result<Self, WindowError> {
        let client = redis::Client::open(url)?;
        // Large pipelines can take a while on a busy server: give them time
        // rather than fail the batch.
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_response_timeout(Some(Duration::from_secs(30)));
        let conn = ConnectionManager::new_with_config(client, config).await?;
        Ok(RedisWindows {
            conn,
            settings,
            compact_script: redis::Script::new(include_str!("compact.lua")),
            bases: Mutex::new(HashMap::new()),
        })
    }

    /// How long the windows are and how they roll up.
    pub fn settings(&self) -> &WindowSettings {
        &self.settings
    }

    fn key(&self, kind: &str, metric: &str) -> String {
        format!("{}:{kind}:{{{metric}}}", self.settings.key_prefix)
    }

    fn metrics_key(&self) -> String {
        format!("{}:metrics", self.settings.key_prefix)
    }

    fn bases(&self) -> MutexGuard<'_, HashMap<String, usize>> {
        self.bases.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The state of `kind` of each of `metrics`, in order; `None` where none is
    /// kept.
    pub async fn load_states(
        &self,
        kind: &str,
        metrics: &[&str],
    ) -> Result<Vec<Option<String>>, WindowError> {
        if metrics.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = metrics
            .iter()
            .map(|m| self.key(&format!("s:{kind}"), m))
            .collect();
        let values: Vec<Option<String>> = redis::cmd("MGET")
            .arg(&keys)
            .query_async(&mut self.conn.clone())
            .await?;
        Ok(values)
    }

    /// Stores `(metric, state)` pairs of `kind`, in one pipeline.
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
            pipe.set(self.key(&format!("s:{kind}"), metric), state)
                .ignore();
        }
        let _: () = pipe.query_async(&mut self.conn.clone()).await?;
        Ok(())
    }

    /// Appends each metric's points to its log (one pipelined `APPEND` per
    /// metric), then compacts the logs that have doubled.
    pub async fn fold(&self, batch: &[Datapoint]) -> Result<FoldStats, WindowError> {
        let groups: Vec<(&str, Vec<Point>)> = by_metric(batch).into_iter().collect();
        let mut conn = self.conn.clone();
        let mut due = Vec::new();
        let mut bytes = Vec::new();
        for chunk in groups.chunks(PIPELINE_METRICS) {
            let mut pipe = redis::pipe();
            pipe.sadd(
                self.metrics_key(),
                chunk.iter().map(|(m, _)| *m).collect::<Vec<_>>(),
            )
            .ignore();
            for (metric, points) in chunk {
                bytes.clear();
                encode_points(points, &mut bytes);
                pipe.append(self.key("full", metric), &bytes);
            }
            let lengths: Vec<usize> = pipe.query_async(&mut conn).await?;
            let mut bases = self.bases();
            for ((metric, points), length) in chunk.iter().zip(lengths) {
                let held = length / POINT_BYTES;
                // Known metrics cost no allocation on this hot path.
                let base = match bases.get(*metric) {
                    Some(&base) => base,
                    None => {
                        let base = held.saturating_sub(points.len());
                        bases.insert((*metric).to_owned(), base);
                        base
                    }
                };
                if needs_compaction(held, base) {
                    due.push(Due {
                        metric,
                        batch_oldest: points.iter().map(|p| p.0).min().unwrap_or(i64::MIN),
                    });
                }
            }
        }
        let mut compactions = 0;
        for chunk in due.chunks(PIPELINE_METRICS) {
            compactions += self.compact(chunk).await?;
        }
        Ok(FoldStats {
            points: batch.len(),
            metrics: groups.len(),
            compactions,
        })
    }

    /// Compacts the logs of `due`; returns how many were replaced.
    async fn compact(&self, due: &[Due<'_>]) -> Result<usize, WindowError> {
        let s = &self.settings;
        let mut conn = self.conn.clone();
        // Each log with its generation, read atomically.
        let mut read = redis::pipe();
        read.atomic();
        for d in due {
            read.get(self.key("full", d.metric))
                .get(self.key("gen", d.metric));
        }
        let raw: Vec<Option<Vec<u8>>> = read.query_async(&mut conn).await?;

        let _: String = self
            .compact_script
            .prepare_invoke()
            .load_async(&mut conn)
            .await?;
        let mut write = redis::pipe();
        let mut kept_counts = Vec::with_capacity(due.len());
        let mut out = Vec::new();
        for (d, pair) in due.iter().zip(raw.chunks_exact(2)) {
            let stored = pair[0].as_deref().unwrap_or_default();
            let generation = pair[1]
                .as_deref()
                .map(|g| String::from_utf8_lossy(g).into_owned())
                .unwrap_or_else(|| "0".to_owned());
            let points = self.decode(d.metric, stored)?;
            let newest = points.iter().map(|p| p.0).max().unwrap_or(i64::MIN);
            let cutoff = compaction_cutoff(d.batch_oldest, newest, s.keep());
            let c = compact(points, cutoff, s.rollup_resolution);
            out.clear();
            encode_points(&c.kept, &mut out);
            kept_counts.push(c.kept.len());
            let mut cmd = redis::cmd("EVALSHA");
            cmd.arg(self.compact_script.get_hash())
                .arg(3)
                .arg(self.key("full", d.metric))
                .arg(self.key("rollup", d.metric))
                .arg(self.key("gen", d.metric))
                .arg(generation)
                .arg(stored.len())
                .arg(&out)
                .arg(newest.saturating_sub(s.rollup_duration));
            for (bucket, mean) in &c.rolled {
                cmd.arg(*bucket).arg(format!("{bucket}:{mean:?}"));
            }
            write.add_command(cmd);
        }
        let replaced: Vec<i64> = write.query_async(&mut conn).await?;
        let mut bases = self.bases();
        let mut count = 0;
        for ((d, kept), done) in due.iter().zip(kept_counts).zip(replaced) {
            if done == 1 {
                bases.insert(d.metric.to_owned(), kept);
                count += 1;
            } else {
                // Another writer compacted it: learn its size afresh.
                bases.remove(d.metric);
            }
        }
        Ok(count)
    }

    fn decode(&self, metric: &str, bytes: &[u8]) -> Result<Vec<Point>, WindowError> {
        decode_points(bytes).ok_or_else(|| WindowError::Corrupt {
            metric: metric.to_owned(),
            bytes: bytes.len(),
        })
    }

    /// Whether Redis answers a PING within `timeout`.
    pub async fn ping(&self, timeout: Duration) -> Result<(), String> {
        let mut conn = self.conn.clone();
        let cmd = redis::cmd("PING");
        let ping = cmd.query_async::<String>(&mut conn);
        match tokio::time::timeout(timeout, ping).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(format!("redis: {e}")),
            Err(_) => Err(format!("redis: no answer within {timeout:?}")),
        }
    }

    /// For each `(metric, after)`, every stored point with timestamp above
    /// `after`, sorted, one per timestamp.
    pub async fn windows_after(
        &self,
        metrics: &[(&str, i64)],
    ) -> Result<Vec<Vec<Point>>, WindowError> {
        // Redis refuses an empty pipeline ("empty command"): a batch whose
        // every point was refused asks for no window.
        if metrics.is_empty() {
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for (m, _) in metrics {
            pipe.get(self.key("full", m));
        }
        let raw: Vec<Option<Vec<u8>>> = pipe.query_async(&mut self.conn.clone()).await?;
        metrics
            .iter()
            .zip(raw)
            .map(|((m, after), bytes)| {
                let mut points = self.decode(m, bytes.as_deref().unwrap_or_default())?;
                points.retain(|p| p.0 > *after);
                log::sort_dedup(&mut points);
                Ok(points)
            })
            .collect()
    }

    /// The rolled-up long window of `metric`: one mean per `rollup_resolution`
    /// seconds over the last `rollup_duration` seconds.
    pub async fn rollup(&self, metric: &str) -> Result<Vec<Point>, WindowError> {
        let s = &self.settings;
        let (stored, members): (Option<Vec<u8>>, Vec<String>) = redis::pipe()
            .get(self.key("full", metric))
            .zrange(self.key("rollup", metric), 0, -1)
            .query_async(&mut self.conn.clone())
            .await?;
        let mut window = self.decode(metric, stored.as_deref().unwrap_or_default())?;
        log::sort_dedup(&mut window);
        let recorded = members
            .iter()
            .map(|m| {
                m.split_once(':')
                    .and_then(|(b, v)| Some((b.parse().ok()?, v.parse().ok()?)))
                    .ok_or_else(|| WindowError::CorruptRollup {
                        metric: metric.to_owned(),
                        member: m.clone(),
                    })
            })
            .collect::<Result<Vec<Point>, _>>()?;
        Ok(rollup_view(
            &recorded,
            &window,
            s.rollup_resolution,
            s.rollup_duration,
        ))
    }

    /// Every metric with a window, sorted by name.
    pub async fn metrics(&self) -> Result<Vec<String>, WindowError> {
        let mut names: Vec<String> = redis::cmd("SMEMBERS")
            .arg(self.metrics_key())
            .query_async(&mut self.conn.clone())
            .await?;
        names.sort();
        Ok(names)
    }

    /// Deletes every key under the prefix (including those of the earlier
    /// sorted-set format, `w` and `r`).
    pub async fn clear(&self) -> Result<(), WindowError> {
        let mut conn = self.conn.clone();
        for kind in ["full", "rollup", "gen", "s", "w", "r"] {
            let pattern = format!("{}:{kind}:*", self.settings.key_prefix);
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
        self.bases().clear();
        Ok(())
    }
}
