//! `find_repetitive_patterns` for one metric with 60 anomalies over 30 days
//! (not a test; `cargo bench -p skyline-learn --bench repetitive`): each
//! anomaly's 7 days cut from a 37-day long window at 5-minute resolution,
//! resampled to 600 s, its features, the comparisons across weeks. The
//! issue's target: under 1 s on one core (the reference allows itself 55 s
//! per run). Single-threaded, as the learn service decides.
//!
//! The long window is NAB's `realAWSCloudwatch/ec2_cpu_utilization_825cc2`
//! tiled to 37 days, with the first hour of its recorded outage
//! transplanted before each anomaly, so every week is extracted and
//! compared. (Nothing is learnt: anomalies 12 h apart leave one timestamp
//! after the 169 h de-duplication, which runs after the comparisons.) Run
//! it with `RAYON_NUM_THREADS=1 taskset -c 0` for one core: the features
//! extraction is otherwise parallel.

use criterion::{criterion_group, criterion_main, Criterion};
use fingerprint::ProfileStore;
use learn::repetitive::sporadic::{find_repetitive, PastAnomaly, SporadicSettings};
use learn::LearnPolicy;

const STEP: i64 = 300;
const T0: i64 = 1_699_920_000;
const DAY: i64 = 86_400;

/// The long window and the 60 anomalies.
fn inputs() -> (Vec<(i64, f64)>, Vec<PastAnomaly>) {
    let values: Vec<f64> =
        numeric::reference::read_nab("realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv")
            .iter()
            .map(|p| p.1)
            .collect();
    let spike = values[1768..1780].to_vec();
    let mut series: Vec<f64> = values
        .iter()
        .copied()
        .cycle()
        .take((37 * DAY / STEP) as usize)
        .collect();
    // 60 anomalies over the last 30 days, 12 h apart with up to an hour's
    // jitter, each at the end of a spike.
    let anomalies: Vec<PastAnomaly> = (0..60)
        .map(|i| {
            let jitter = (i * 7_919) % 12 * STEP;
            let t = T0 + 7 * DAY + i * DAY / 2 + jitter;
            let end = usize::try_from((t - T0) / STEP).expect("after T0");
            series[end + 1 - spike.len()..=end].copy_from_slice(&spike);
            PastAnomaly {
                timestamp: t,
                full_duration: 7 * DAY,
            }
        })
        .collect();
    let rollup = (0..).zip(series).map(|(i, v)| (T0 + i * STEP, v)).collect();
    (rollup, anomalies)
}

fn bench(c: &mut Criterion) {
    let (rollup, anomalies) = inputs();
    let last = anomalies.last().expect("anomalies").timestamp;
    let settings = LearnPolicy::default().for_metric("bench.metric");
    let store = ProfileStore::new();
    let sporadic = SporadicSettings::default();
    let find = || {
        find_repetitive(
            "bench.metric",
            last,
            &anomalies,
            &rollup,
            &store,
            &settings,
            &sporadic,
            0,
        )
    };
    match find() {
        Ok(events) => eprintln!("find_repetitive on 60 anomalies: {} profiles", events.len()),
        Err(e) => eprintln!("find_repetitive on 60 anomalies: nothing learnt ({e})"),
    }
    let mut group = c.benchmark_group("find_repetitive_patterns");
    group.sample_size(10);
    group.bench_function("one metric, 60 anomalies over 30 days", |b| b.iter(find));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
