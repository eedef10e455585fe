//! When an anomaly is over: the time of the first analysis after it that
//! found the metric not anomalous.

use std::collections::HashMap;

/// An anomaly still open, keyed by metric.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenAnomaly<Id> {
    /// The anomaly's id.
    pub id: Id,
    /// Its datapoint's timestamp (unix seconds).
    pub anomaly_timestamp: i64,
}

/// An anomaly that has ended.
#[derive(Debug, Clone, PartialEq)]
pub struct EndedAnomaly<Id> {
    /// The metric it was on.
    pub metric: String,
    /// The anomaly's id.
    pub id: Id,
    /// Its datapoint's timestamp (unix seconds).
    pub anomaly_timestamp: i64,
    /// The newest timestamp of the first later analysis that was not anomalous (unix seconds).
    pub end_timestamp: i64,
}

/// The reference's `current.anomalies` set, as a fold over analyses: an
/// anomaly opens when recorded and ends at the `t_last` of the first later
/// analysis that is not anomalous (a level shift "ends" once the window has
/// absorbed it). Entries older than `full_duration` are dropped unended.
#[derive(Debug, Clone)]
pub struct CurrentAnomalies<Id> {
    open: HashMap<String, Vec<OpenAnomaly<Id>>>,
    full_duration: i64,
}

impl<Id: Clone> CurrentAnomalies<Id> {
    /// No open anomalies; [`expire`](Self::expire) drops those older than
    /// `full_duration` seconds.
    pub fn new(full_duration: i64) -> Self {
        CurrentAnomalies {
            open: HashMap::new(),
            full_duration,
        }
    }

    /// Records an anomaly of `metric` at `anomaly_timestamp`.
    pub fn open(&mut self, metric: &str, id: Id, anomaly_timestamp: i64) {
        self.open
            .entry(metric.to_owned())
            .or_default()
            .push(OpenAnomaly {
                id,
                anomaly_timestamp,
            });
    }

    /// Folds a not-anomalous analysis of `metric` whose newest point is
    /// `t_last`: every open anomaly of the metric before `t_last` ends there.
    pub fn not_anomalous(&mut self, metric: &str, t_last: i64) -> Vec<EndedAnomaly<Id>> {
        let Some(list) = self.open.get_mut(metric) else {
            return Vec::new();
        };
        let mut ended = Vec::new();
        list.retain(|a| {
            if a.anomaly_timestamp < t_last {
                ended.push(EndedAnomaly {
                    metric: metric.to_owned(),
                    id: a.id.clone(),
                    anomaly_timestamp: a.anomaly_timestamp,
                    end_timestamp: t_last,
                });
                false
            } else {
                true
            }
        });
        if list.is_empty() {
            self.open.remove(metric);
        }
        ended
    }

    /// Drops anomalies older than `full_duration` at `now`, unended.
    pub fn expire(&mut self, now: i64) -> usize {
        let cutoff = now.saturating_sub(self.full_duration);
        let mut dropped = 0;
        self.open.retain(|_, list| {
            let before = list.len();
            list.retain(|a| a.anomaly_timestamp >= cutoff);
            dropped += before - list.len();
            !list.is_empty()
        });
        dropped
    }

    /// How many anomalies are open, over all metrics.
    pub fn open_count(&self) -> usize {
        self.open.values().map(Vec::len).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_at_first_not_anomalous_analysis() {
        let mut c = CurrentAnomalies::new(86_400);
        c.open("m", 1, 1000);
        assert!(c.not_anomalous("other", 1060).is_empty());
        let ended = c.not_anomalous("m", 1060);
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].end_timestamp, 1060);
        assert!(c.not_anomalous("m", 1120).is_empty(), "ended once");
    }

    #[test]
    fn old_anomalies_expire_unended() {
        let mut c = CurrentAnomalies::new(86_400);
        c.open("m", 1, 1000);
        c.open("m", 2, 50_000);
        assert_eq!(c.expire(1000 + 86_401), 1);
        assert_eq!(c.open_count(), 1);
    }
}
