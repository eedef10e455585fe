//! `skyline up --demo`: a bundled real series (two weeks of EC2 CPU from
//! NAB) produced as Graphite lines to a topic that `up` reads as an
//! operator's own metric stream, and the anomalies watched as they come off
//! the log.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use topics::codec::decode;
use topics::kafka::{Consumer, KeyedMessage, Producer};
use topics::shutdown::Shutdown;
use topics::AnomalyEvent;
use windows::Windows;

use crate::Config;

/// The topic the demo's Graphite lines are produced to.
pub const DEMO_TOPIC: &str = "skyline.demo.input";
/// The demo series' metric name.
pub const DEMO_METRIC: &str = "demo.ec2_cpu_utilization_825cc2";
/// The series' file in the repository.
const DEMO_CSV: &str = "data/nab/ec2_cpu_utilization_825cc2.csv";
/// How long the whole series may take to be analysed.
const DEMO_DEADLINE: Duration = Duration::from_secs(600);

/// The demo series, read and ordered.
pub struct Demo {
    /// Where it was read from.
    pub file: PathBuf,
    /// `(timestamp, value)`, by timestamp, one per timestamp.
    pub points: Vec<(i64, f64)>,
}

/// How the demo went.
pub struct DemoRun {
    /// Distinct anomalies of the demo metric seen on the anomalies topic.
    pub anomalies: usize,
    /// Seconds from the first point produced to the last analysed.
    pub seconds: f64,
}

impl Demo {
    /// Reads the bundled series (from the working directory, beside the
    /// binary's build tree, or this source tree).
    pub fn load() -> Result<Demo> {
        let file = demo_file();
        let mut points = analyze::series_file::read_series_csv(&file, false)?.points;
        analyze::series::sort_dedup(&mut points);
        if points.is_empty() {
            bail!("the demo series {} is empty", file.display());
        }
        Ok(Demo { file, points })
    }

    /// Produces the series and watches the anomalies topic, calling
    /// `on_anomaly` once per new anomaly of the demo metric, until the last
    /// point has been analysed (or `shutdown`).
    pub async fn run(
        &self,
        config: &Config,
        producer: &Producer,
        windows: &Windows,
        shutdown: &Shutdown,
        mut on_anomaly: impl FnMut(&AnomalyEvent),
    ) -> Result<DemoRun> {
        let last_ts = self.points.last().map_or(i64::MAX, |p| p.0);
        let started = Instant::now();
        let group = format!("demo-watch-{}", uuid::Uuid::now_v7());
        let watcher = Consumer::with_group(
            &config.kafka,
            &group,
            &group,
            &[config.topics.anomalies.as_str()],
        )?;
        produce_graphite_lines(producer, DEMO_TOPIC, DEMO_METRIC, &self.points).await?;

        let mut seen = std::collections::HashSet::new();
        let mut done_at: Option<Instant> = None;
        let stop = shutdown.clone().wait();
        tokio::pin!(stop);
        loop {
            tokio::select! {
                _ = &mut stop => break,
                batch = watcher.next_batch(1000) => {
                    for r in batch.iter() {
                        if let Ok(a) = decode::<AnomalyEvent>(r.payload()) {
                            if a.metric == DEMO_METRIC && seen.insert(a.id) {
                                on_anomaly(&a);
                            }
                        }
                    }
                }
                _ = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
            if done_at.is_none() {
                let window = windows
                    .windows(&[DEMO_METRIC])
                    .await?
                    .pop()
                    .unwrap_or_default();
                if window.last().is_some_and(|p| p.0 >= last_ts) {
                    done_at = Some(Instant::now());
                }
            }
            // Anomalies are published before the window is folded; give
            // the watcher a moment to read the last ones.
            if done_at.is_some_and(|t| t.elapsed() > Duration::from_secs(2)) {
                break;
            }
            if started.elapsed() > DEMO_DEADLINE {
                bail!("demo: the series was not analysed within 10 minutes");
            }
        }
        watcher.close().await;
        Ok(DemoRun {
            anomalies: seen.len(),
            seconds: started.elapsed().as_secs_f64(),
        })
    }
}

/// The demo series bundled with the repository.
fn demo_file() -> PathBuf {
    let beside_binary = std::env::current_exe()
        .ok()
        .and_then(|p| p.parent().map(Path::to_path_buf))
        .map(|d| d.join("../..").join(DEMO_CSV));
    let candidates = [
        Some(PathBuf::from(DEMO_CSV)),
        beside_binary,
        Some(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(DEMO_CSV),
        ),
    ];
    candidates
        .into_iter()
        .flatten()
        .find(|p| p.is_file())
        .unwrap_or_else(|| PathBuf::from(DEMO_CSV))
}

/// Produces `points` of `metric` as Graphite lines to `topic`, the way an
/// operator's own metric stream would carry them.
async fn produce_graphite_lines(
    producer: &Producer,
    topic: &str,
    metric: &str,
    points: &[(i64, f64)],
) -> Result<usize> {
    let records: Vec<KeyedMessage> = points
        .iter()
        .map(|(t, v)| {
            (
                metric.as_bytes().to_vec(),
                format!("{metric} {v} {t}").into_bytes(),
            )
        })
        .collect();
    producer
        .send_batch(topic, records)
        .await
        .with_context(|| format!("producing the demo series to {topic}"))
}
