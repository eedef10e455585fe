//! `skyline import` end to end, against the real broker and Redis: history
//! files become datapoints on the topic with their own timestamps, and
//! `skyline analyze` (a separate process, as deployed) folds them into the
//! windows — the last day at full resolution, the older points rolled up
//! into 600 s bucket means by the log's compaction. Importing a file twice
//! changes no window; a malformed file produces nothing.
//!
//! The series: the NAB series of the data set that spans the most days
//! (16; none reaches 30) at NAB's 5-minute resolution, and Skyline's office
//! energy series (31 days of half-hourly points, the seasonal re-check's
//! own example), written out as `timestamp,value` in unix seconds.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::time::Duration;

use support::{nab, shared_data, Run};
use topics::codec::decode;
use topics::kafka::{committed_offsets, read_to_end, Error as KafkaError};
use topics::Datapoint;
use windows::{RedisWindows, WindowSettings, Windows};

const NAB_FILE: &str = "realAWSCloudwatch/ec2_disk_write_bytes_1ef3de.csv";
const NAB_METRIC: &str = "ec2_disk_write_bytes_1ef3de";
const OFFICE_METRIC: &str = "office_energy_october";
const DAY: i64 = 86_400;
const BUCKET: i64 = 600;

/// The office energy series (a row per day `dd/mm/yyyy`, a column per half
/// hour) as `(unix seconds, value)`, in time order.
fn office_points() -> Vec<(i64, f64)> {
    let text =
        std::fs::read_to_string(shared_data().join("skyline/office_energy_october.csv")).unwrap();
    let mut points = Vec::new();
    for row in text.lines().skip(1) {
        let fields: Vec<&str> = row.split(',').collect();
        let day = chrono::NaiveDate::parse_from_str(fields[1], "%d/%m/%Y")
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp();
        for (i, v) in fields[2..].iter().enumerate() {
            points.push((day + i as i64 * 1800, v.trim().parse::<f64>().unwrap()));
        }
    }
    points
}

fn write_csv(path: &Path, points: &[(i64, f64)]) {
    let mut text = String::from("timestamp,value\n");
    for (t, v) in points {
        text.push_str(&format!("{t},{v:?}\n"));
    }
    std::fs::write(path, text).unwrap();
}

/// `skyline import <args>` with this run's config, its output captured.
fn import(run: &Run, args: &[&str]) -> Output {
    let mut full = vec!["import"];
    full.extend_from_slice(args);
    run.command(&full, "import")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every record of the run's datapoints topic, decoded, with each
/// partition's next offset (read to the end, the way replays read it).
async fn topic_datapoints(run: &Run) -> (Vec<Datapoint>, BTreeMap<i32, i64>) {
    let mut points = Vec::new();
    let mut ends = BTreeMap::new();
    read_to_end(
        &run.kafka_config(),
        &format!("count-{}", uuid::Uuid::now_v7().simple()),
        &run.topic("datapoints"),
        Duration::from_secs(3),
        |records| {
            for r in &records {
                let d = decode::<Datapoint>(r.payload()).unwrap();
                assert_eq!(r.key_bytes(), d.metric.as_bytes(), "keyed by metric");
                points.push(d);
                let end = ends.entry(r.partition).or_insert(0);
                *end = (*end).max(r.offset + 1);
            }
            async { Ok::<(), KafkaError>(()) }
        },
    )
    .await
    .unwrap();
    (points, ends)
}

/// Waits until the Analyzer has committed every record of the topic (so
/// it has folded them: it commits after folding).
async fn wait_folded(run: &Run, ends: &BTreeMap<i32, i64>) {
    // The config file's group_id_prefix is the run id.
    let group = format!("{}.analyze", run.id);
    for _ in 0..600 {
        let committed = committed_offsets(&run.kafka_config(), &group, &run.topic("datapoints"))
            .await
            .unwrap();
        if ends.iter().all(|(p, end)| committed.get(p) == Some(end)) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!(
        "the Analyzer did not fold the topic:\n{}",
        run.log("analyze")
    );
}

async fn redis_windows(run: &Run) -> Windows {
    let settings = WindowSettings {
        key_prefix: run.id.clone(),
        ..Default::default()
    };
    Windows::Redis(
        RedisWindows::connect(&support::redis(), settings)
            .await
            .unwrap(),
    )
}

/// Each metric's full window and roll-up.
async fn snapshot(windows: &Windows) -> Vec<(Vec<(i64, f64)>, Vec<(i64, f64)>)> {
    let mut out = Vec::new();
    for metric in [NAB_METRIC, OFFICE_METRIC] {
        out.push((
            windows.windows(&[metric]).await.unwrap().remove(0),
            windows.rollup(metric).await.unwrap(),
        ));
    }
    out
}

/// 600 s bucket means of `points` (sorted), computed here from the file.
fn bucket_means(points: &[(i64, f64)]) -> Vec<(i64, f64)> {
    let mut sums: BTreeMap<i64, (f64, usize)> = BTreeMap::new();
    for &(t, v) in points {
        let e = sums.entry(t - t.rem_euclid(BUCKET)).or_insert((0.0, 0));
        e.0 += v;
        e.1 += 1;
    }
    sums.into_iter()
        .map(|(b, (sum, n))| (b, sum / n as f64))
        .collect()
}

fn assert_means_equal(got: &[(i64, f64)], want: &[(i64, f64)], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}: buckets");
    for (g, w) in got.iter().zip(want) {
        assert_eq!(g.0, w.0, "{what}: bucket start");
        assert!(
            (g.1 - w.1).abs() <= 1e-9 * w.1.abs().max(1.0),
            "{what}: bucket {}: {} vs {}",
            w.0,
            g.1,
            w.1
        );
    }
}

/// The datapoints/s a summary line printed.
fn rate(summary: &str) -> f64 {
    let (before, _) = summary.split_once(" datapoints/s").unwrap();
    before.rsplit('(').next().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn imported_history_folds_into_full_and_rolled_up_windows_once() {
    // Small Analyzer batches, so the fold compacts the log many times during
    // the import and the roll-up is made of recorded buckets, not only of
    // the log's live ones.
    let run = Run::new("import", "\n[analyzer_service]\nmax_batch = 500\n");
    let nab_path = shared_data().join("nab").join(NAB_FILE);
    // The file as written (a dozen rows share the timestamp 2014-03-09
    // 03:00:00, the DST change), and as the windows keep it (one point per
    // timestamp).
    let nab_rows = numeric::reference::read_nab(NAB_FILE);
    let nab_points = nab(NAB_FILE);
    assert!(nab_rows.len() > nab_points.len());
    let office_points = office_points();
    let office_path = run.dir.join(format!("{OFFICE_METRIC}.csv"));
    write_csv(&office_path, &office_points);
    let total = nab_rows.len() + office_points.len();
    let files: Vec<PathBuf> = vec![nab_path.clone(), office_path.clone()];
    let file_args: Vec<&str> = files.iter().map(|p| p.to_str().unwrap()).collect();

    // 1. Import: the topic holds exactly the files' points.
    let out = import(&run, &file_args);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    let summaries: Vec<&str> = stdout.lines().filter(|l| l.contains(" (CSV): ")).collect();
    assert_eq!(summaries.len(), 2, "{stdout}");
    assert!(
        summaries[0].contains(&format!(
            "{} datapoints of 1 metric produced to {}",
            nab_rows.len(),
            run.topic("datapoints")
        )),
        "{stdout}"
    );
    assert!(
        summaries[0].ends_with("0 nulls skipped, 0 bad rows skipped"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "  {NAB_METRIC}: {} points, 2014-03-01 17:34:00 UTC to 2014-03-18 03:39:00 UTC",
            nab_rows.len()
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "  {OFFICE_METRIC}: 1488 points, 2015-10-01 00:00:00 UTC to 2015-10-31 23:30:00 UTC"
        )),
        "{stdout}"
    );
    for s in &summaries {
        eprintln!("import rate: {} datapoints/s ({s})", rate(s));
    }
    let (on_topic, ends) = topic_datapoints(&run).await;
    let mut got: Vec<(String, i64, u64)> = on_topic
        .iter()
        .map(|d| (d.metric.clone(), d.timestamp, d.value.to_bits()))
        .collect();
    got.sort();
    let mut want: Vec<(String, i64, u64)> = nab_rows
        .iter()
        .map(|&(t, v)| (NAB_METRIC.to_owned(), t, v.to_bits()))
        .chain(
            office_points
                .iter()
                .map(|&(t, v)| (OFFICE_METRIC.to_owned(), t, v.to_bits())),
        )
        .collect();
    want.sort();
    assert_eq!(got.len(), total);
    assert!(got == want, "the topic holds exactly the files' points");

    // 2. The Analyzer folds them.
    let analyze = run.spawn(&["analyze"], "analyze");
    let services = support::Services(vec![analyze]);
    wait_folded(&run, &ends).await;
    let windows = redis_windows(&run).await;
    let first = snapshot(&windows).await;
    let settings = WindowSettings::default();
    for ((full, rollup), (metric, points)) in first
        .iter()
        .zip([(NAB_METRIC, &nab_points), (OFFICE_METRIC, &office_points)])
    {
        let newest = points.last().unwrap().0;
        // Full resolution: the last day (and the grace) behind the newest
        // point, every point of it.
        let last_day: Vec<(i64, f64)> = points
            .iter()
            .copied()
            .filter(|p| p.0 > newest - settings.keep())
            .collect();
        assert_eq!(full, &last_day, "{metric}: the full window");
        assert!(full[0].0 <= newest - DAY + 1800, "{metric}: a whole day");
        // Rolled up: 600 s means of the last 30 days, from the file.
        let mut want = bucket_means(points);
        want.retain(|b| b.0 > newest - settings.rollup_duration);
        assert_means_equal(rollup, &want, metric);
        assert!(rollup[0].0 < full[0].0 - 14 * DAY, "{metric}: older points");
    }
    // The office series is 31 days: its first day has left the roll-up.
    let office_rollup = &first[1].1;
    assert!(office_rollup[0].0 > office_points[0].0 + DAY - 1800);
    assert_eq!(office_rollup.len(), 30 * 48);
    // ... and the log was compacted: recorded buckets, a log much shorter
    // than the history.
    let mut redis = redis::Client::open(support::redis())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    for (metric, points) in [(NAB_METRIC, &nab_points), (OFFICE_METRIC, &office_points)] {
        let recorded: usize = redis::cmd("ZCARD")
            .arg(format!("{}:rollup:{{{metric}}}", run.id))
            .query_async(&mut redis)
            .await
            .unwrap();
        let log_bytes: usize = redis::cmd("STRLEN")
            .arg(format!("{}:full:{{{metric}}}", run.id))
            .query_async(&mut redis)
            .await
            .unwrap();
        assert!(recorded > 0, "{metric}: buckets recorded by compaction");
        assert!(
            log_bytes < points.len() * 16 / 2,
            "{metric}: the log was compacted ({log_bytes} bytes)"
        );
    }

    // 3. The same files again: twice the records, the same windows.
    let out = import(&run, &file_args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let (on_topic, ends) = topic_datapoints(&run).await;
    assert_eq!(on_topic.len(), 2 * total);
    wait_folded(&run, &ends).await;
    let second = snapshot(&windows).await;
    assert!(first == second, "importing twice changed the windows");
    drop(services);

    // 4. A malformed file: refused whole, one line naming file and line.
    let bad = run.dir.join("bad_history.csv");
    let mut rows = String::from("timestamp,value\n");
    for i in 0..5 {
        rows.push_str(&format!("{},{i}.5\n", 1_700_000_000 + 60 * i));
    }
    rows.push_str("1700000300,not-a-number\n1700000360,7\n1700000420,8\n");
    std::fs::write(&bad, rows).unwrap();
    let out = import(&run, &[bad.to_str().unwrap()]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("{}:7: ", bad.display())),
        "{stderr}"
    );
    assert!(text(&out.stdout).is_empty());
    assert_eq!(topic_datapoints(&run).await.0.len(), 2 * total);

    // ... and with --skip-bad-rows, imported without the bad row.
    let out = import(&run, &[bad.to_str().unwrap(), "--skip-bad-rows"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        stdout.contains("7 datapoints of 1 metric") && stdout.contains("1 bad row skipped"),
        "{stdout}"
    );
    let (on_topic, _) = topic_datapoints(&run).await;
    assert_eq!(on_topic.len(), 2 * total + 7);
    assert_eq!(
        on_topic
            .iter()
            .filter(|d| d.metric == "bad_history")
            .count(),
        7
    );
}
