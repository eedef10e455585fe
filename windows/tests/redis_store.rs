//! The Redis window folder against a real Redis (`SKYLINE_TEST_REDIS`,
//! default `redis://127.0.0.1:6379`), on a real NAB series: the same windows
//! as the in-memory folder, folding twice changes nothing, and a flush and a
//! re-fold (what `skyline replay windows` does) rebuild identical windows.

use topics::Datapoint;
use windows::{MemoryWindows, RedisWindows, WindowSettings, Windows};

fn redis_url() -> String {
    std::env::var("SKYLINE_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// NAB's `ec2_network_in_5abac7` as datapoints.
fn nab_series() -> Vec<Datapoint> {
    numeric::reference::read_nab("realAWSCloudwatch/ec2_network_in_5abac7.csv")
        .into_iter()
        .map(|(timestamp, value)| Datapoint {
            metric: "nab.ec2_network_in".into(),
            timestamp,
            value,
        })
        .collect()
}

fn settings() -> WindowSettings {
    WindowSettings {
        key_prefix: format!("skyline-test-{}", uuid::Uuid::now_v7()),
        ..WindowSettings::default()
    }
}

/// Folds in batches; returns how many windows were compacted.
async fn fold_in_batches(w: &Windows, points: &[Datapoint], batch: usize) -> usize {
    let mut compactions = 0;
    for chunk in points.chunks(batch) {
        compactions += w.fold(chunk).await.unwrap().compactions;
    }
    compactions
}

#[tokio::test]
async fn redis_windows_equal_memory_windows_and_replay_identically() {
    let points = nab_series();
    let s = settings();
    let redis = Windows::Redis(
        RedisWindows::connect(&redis_url(), s.clone())
            .await
            .expect("Redis reachable"),
    );
    let memory = Windows::Memory(MemoryWindows::new(s));
    let metric = "nab.ec2_network_in";

    // The series is longer than a window: logs are compacted as they grow,
    // at the same points in both stores.
    let compacted_redis = fold_in_batches(&redis, &points, 97).await;
    let compacted_memory = fold_in_batches(&memory, &points, 97).await;
    assert!(compacted_redis >= 2, "{compacted_redis} compactions");
    assert_eq!(compacted_redis, compacted_memory);

    let rw = redis.windows(&[metric]).await.unwrap().remove(0);
    let mw = memory.windows(&[metric]).await.unwrap().remove(0);
    assert_eq!(rw, mw, "full windows");
    let newest = points.iter().map(|p| p.timestamp).max().unwrap();
    assert!(rw.first().unwrap().0 > newest - 86_400 - 600 - 97 * 300);
    assert!(rw.len() > 280);

    let rr = redis.rollup(metric).await.unwrap();
    let mr = memory.rollup(metric).await.unwrap();
    assert_eq!(rr, mr, "rollups");
    // Independently: the mean of each 10-minute bucket of the whole 16-day
    // series (30 days are kept), one value per timestamp (the smallest).
    let mut by_ts: std::collections::BTreeMap<i64, f64> = Default::default();
    for p in &points {
        let v = by_ts.entry(p.timestamp).or_insert(p.value);
        *v = v.min(p.value);
    }
    let mut buckets: std::collections::BTreeMap<i64, (f64, f64)> = Default::default();
    for (ts, v) in by_ts {
        let b = buckets.entry(ts - ts.rem_euclid(600)).or_default();
        b.0 += v;
        b.1 += 1.0;
    }
    assert_eq!(rr.len(), buckets.len(), "one bucket per 10 minutes of data");
    for ((b, v), (eb, (sum, n))) in rr.iter().zip(&buckets) {
        assert_eq!(b, eb);
        let mean = sum / n;
        assert!(
            (v - mean).abs() <= 1e-12 * mean.abs().max(1.0),
            "{b}: {v} vs {mean}"
        );
    }

    // Folding everything again, in other batches, changes nothing.
    fold_in_batches(&redis, &points, 500).await;
    assert_eq!(redis.windows(&[metric]).await.unwrap().remove(0), rw);
    assert_eq!(redis.rollup(metric).await.unwrap(), rr);
    assert_eq!(redis.metrics().await.unwrap(), vec![metric.to_owned()]);

    // Flush and replay: identical windows.
    redis.clear().await.unwrap();
    assert!(redis.windows(&[metric]).await.unwrap()[0].is_empty());
    assert!(redis.metrics().await.unwrap().is_empty());
    fold_in_batches(&redis, &points, 97).await;
    assert_eq!(redis.windows(&[metric]).await.unwrap().remove(0), rw);
    assert_eq!(redis.rollup(metric).await.unwrap(), rr);
    redis.clear().await.unwrap();
}

/// A batch whose every point was refused (the Analyzer dead-letters
/// non-finite values before judging) asks for no window and folds
/// nothing: Redis refuses an empty pipeline, which once stopped the
/// Analyzer on such a batch.
#[tokio::test]
async fn empty_requests_are_answered_without_asking_redis() {
    let redis = Windows::Redis(
        RedisWindows::connect(&redis_url(), settings())
            .await
            .expect("Redis reachable"),
    );
    assert!(redis.windows_after(&[]).await.unwrap().is_empty());
    assert!(redis.windows(&[]).await.unwrap().is_empty());
    assert_eq!(redis.fold(&[]).await.unwrap().compactions, 0);
    assert!(redis.load_states("state", &[]).await.unwrap().is_empty());
    redis.save_states("state", &[]).await.unwrap();
    assert!(redis.fingerprint_enabled(&[]).await.unwrap().is_empty());
}
