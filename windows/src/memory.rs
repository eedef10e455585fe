//! Windows in this process's memory (the embedded default, which keeps no
//! Redis): the same logs and compaction as Redis, as Rust vectors.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

use topics::Datapoint;

use crate::log::{self, compact, compaction_cutoff, needs_compaction, rollup_view};
use crate::{by_metric, FoldStats, Point, WindowSettings};

/// Windows in memory.
pub struct MemoryWindows {
    settings: WindowSettings,
    metrics: Mutex<HashMap<String, MetricLog>>,
    states: Mutex<HashMap<(String, String), String>>,
}

#[derive(Default)]
struct MetricLog {
    /// Points in the order folded (see [`log`]).
    points: Vec<Point>,
    /// Points the last compaction left.
    base: usize,
    /// Recorded rolled-up buckets, by bucket start.
    rolled: BTreeMap<i64, f64>,
}

/// A poisoned lock still guards consistent data: every update below is
/// completed before anything that could panic.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl MemoryWindows {
    /// Empty windows with these settings.
    pub fn new(settings: WindowSettings) -> Self {
        MemoryWindows {
            settings,
            metrics: Mutex::new(HashMap::new()),
            states: Mutex::new(HashMap::new()),
        }
    }

    /// How long the windows are and how they roll up.
    pub fn settings(&self) -> &WindowSettings {
        &self.settings
    }

    /// Folds a batch of datapoints into its metrics' windows.
    pub fn fold(&self, batch: &[Datapoint]) -> FoldStats {
        let s = &self.settings;
        let groups = by_metric(batch);
        let mut all = lock(&self.metrics);
        let mut compactions = 0;
        for (metric, points) in &groups {
            let w = all.entry((*metric).to_owned()).or_default();
            w.points.extend_from_slice(points);
            if !needs_compaction(w.points.len(), w.base) {
                continue;
            }
            let newest = w.points.iter().map(|p| p.0).max().unwrap_or(i64::MIN);
            let oldest = points.iter().map(|p| p.0).min().unwrap_or(i64::MIN);
            let cutoff = compaction_cutoff(oldest, newest, s.keep());
            let c = compact(std::mem::take(&mut w.points), cutoff, s.rollup_resolution);
            w.rolled.extend(c.rolled);
            w.rolled = w
                .rolled
                .split_off(&newest.saturating_sub(s.rollup_duration).saturating_add(1));
            w.base = c.kept.len();
            w.points = c.kept;
            compactions += 1;
        }
        FoldStats {
            points: batch.len(),
            metrics: groups.len(),
            compactions,
        }
    }

    /// Every point of `metric` with timestamp above `after`, sorted, one per
    /// timestamp.
    pub fn window_after(&self, metric: &str, after: i64) -> Vec<Point> {
        let all = lock(&self.metrics);
        let mut points: Vec<Point> = all
            .get(metric)
            .map(|w| w.points.iter().copied().filter(|p| p.0 > after).collect())
            .unwrap_or_default();
        log::sort_dedup(&mut points);
        points
    }

    /// The rolled-up long window of `metric`: one mean per `rollup_resolution`
    /// seconds over the last `rollup_duration` seconds.
    pub fn rollup(&self, metric: &str) -> Vec<Point> {
        let s = &self.settings;
        let all = lock(&self.metrics);
        let Some(w) = all.get(metric) else {
            return Vec::new();
        };
        let mut window = w.points.clone();
        log::sort_dedup(&mut window);
        let recorded: Vec<Point> = w.rolled.iter().map(|(b, v)| (*b, *v)).collect();
        rollup_view(&recorded, &window, s.rollup_resolution, s.rollup_duration)
    }

    /// Every metric with a window, sorted by name.
    pub fn metrics(&self) -> Vec<String> {
        let mut names: Vec<String> = lock(&self.metrics).keys().cloned().collect();
        names.sort();
        names
    }

    /// Forgets every window and every per-metric state.
    pub fn clear(&self) {
        lock(&self.metrics).clear();
        lock(&self.states).clear();
    }

    /// The state of `kind` of each of `metrics`, in order; `None` where none is
    /// kept.
    pub fn load_states(&self, kind: &str, metrics: &[&str]) -> Vec<Option<String>> {
        let states = lock(&self.states);
        metrics
            .iter()
            .map(|m| states.get(&(kind.to_owned(), (*m).to_owned())).cloned())
            .collect()
    }

    /// Stores `(metric, state)` pairs of `kind`.
    pub fn save_states(&self, kind: &str, states: &[(String, String)]) {
        let mut all = lock(&self.states);
        for (metric, state) in states {
            all.insert((kind.to_owned(), metric.clone()), state.clone());
        }
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
    fn windows_depend_only_on_the_points_folded() {
        let settings = WindowSettings {
            full_duration: 3600,
            grace: 0,
            rollup_resolution: 600,
            rollup_duration: 7200,
            key_prefix: "t".into(),
        };
        let batch: Vec<Datapoint> = (0..1_000).map(|i| dp(i * 60, (i % 17) as f64)).collect();
        let one = MemoryWindows::new(settings.clone());
        for chunk in batch.chunks(7) {
            one.fold(chunk);
        }
        let other = MemoryWindows::new(settings);
        let stats = other.fold(&batch);
        assert_eq!(stats.compactions, 1);
        other.fold(&batch[500..]); // folding again changes nothing visible
        let view = |w: &MemoryWindows| {
            let mut full = w.window_after("m", i64::MIN);
            log::cut_to_newest(&mut full, 3600);
            (full, w.rollup("m"))
        };
        let (full, rollup) = view(&one);
        assert_eq!((full.clone(), rollup.clone()), view(&other));
        assert_eq!(full.len(), 60);
        assert_eq!(full[0].0, 999 * 60 - 3600 + 60);
        // 2 h of 10-minute buckets behind the newest point (59 940)
        assert_eq!(rollup.len(), 12);
        assert_eq!(rollup[0].0, 52_800);
        let expected = (880..890).map(|i| (i % 17) as f64).sum::<f64>() / 10.0;
        assert_eq!(rollup[0].1, expected);
    }
}
