//! `skyline import-skyline` against a real Skyline schema: a database on
//! the test MariaDB (`SKYLINE_TEST_MYSQL`'s server, a database of its own)
//! loaded with Skyline's `skyline.sql` (`../shared/data/skyline/`), then
//! filled as a Skyline would have filled it for three metrics — real NAB
//! days as the profiles' series (`z_ts_<id>`), their features computed by
//! tsfresh 0.20.3 in the pyref venv (`z_fp_<id>`, by Skyline's feature
//! ids), a learnt child, layers, and one profile whose series is missing.
//!
//! Checked: `--dry-run` produces nothing and says what it would import; the
//! import produces the profiles with their lineage, layers and learn
//! settings, reports the missing series, and recomputes features equal to
//! the stored ones within the fingerprint reference test's tolerances;
//! importing again produces nothing; and the real fingerprint service,
//! given later anomalies of those metrics, deflects them with the imported
//! profiles.

mod support;

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::time::Duration;

use fingerprint::features::{feature_id, is_stored};
use numeric::reference::{num, rel_diff, run_python, tsfresh_floor, tsfresh_tolerance};
use serde_json::{json, Value};
use sqlx::mysql::MySqlPool;
use support::{consume_settled, decoded, mysql_server, produce_checks, Run};
use topics::ids::imported_profile_id;
use topics::{
    AlertRoute, CheckRequest, CheckTarget, MatchResult, ProfileAction, ProfileEvent, SeriesPoint,
};

/// Points in a day at NAB's 5 minutes.
const DAY: usize = 288;

/// `(metric id, name, NAB file, first point of the profile's day)`.
const METRICS: [(i64, &str, &str, usize); 3] = [
    (
        1,
        "stats.web01.cpu",
        "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv",
        0,
    ),
    (
        2,
        "stats.db01.cpu",
        "realAWSCloudwatch/rds_cpu_utilization_e47b3b.csv",
        288,
    ),
    (
        3,
        "stats.web01.network_in",
        "realAWSCloudwatch/ec2_network_in_257a54.csv",
        576,
    ),
];

/// `(fp id, metric id, parent, generation, start of its day)`; fp 4's
/// series is left out of `z_ts_2`.
const PROFILES: [(i64, i64, i64, u32, usize); 5] = [
    (1, 1, 0, 0, 0),
    (2, 1, 1, 1, 288),
    (3, 2, 0, 0, 288),
    (4, 2, 0, 0, 864),
    (5, 3, 0, 0, 576),
];

fn day(file: &str, start: usize) -> Vec<(i64, f64)> {
    support::nab(file)[start..start + DAY].to_vec()
}

fn file_of(metric_id: i64) -> &'static str {
    METRICS.iter().find(|m| m.0 == metric_id).unwrap().2
}

fn name_of(metric_id: i64) -> &'static str {
    METRICS.iter().find(|m| m.0 == metric_id).unwrap().1
}

/// Loads `skyline.sql` into a new database named `db` with the mariadb
/// client (its comments and statements as a Skyline install runs them).
fn load_schema(db: &str) {
    let sql = std::fs::read_to_string(support::shared_data().join("skyline/skyline.sql"))
        .expect("skyline.sql");
    let sql = sql
        .replace("`skyline`", &format!("`{db}`"))
        .replace("use skyline;", &format!("use `{db}`;"));
    let server = mysql_server();
    let rest = server.trim_start_matches("mysql://");
    let (user, host) = rest.split_once('@').unwrap_or(("root", rest));
    let (host, port) = host.split_once(':').unwrap_or((host, "3306"));
    let mut child = Command::new("mariadb")
        .args(["-h", host, "-P", port, "-u", user])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("the mariadb client (installed with mariadb-server)");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(sql.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success(), "loading skyline.sql");
}

/// Fills the Skyline tables; returns each profile's stored tsfresh values
/// (by Skyline feature name) and its series' values.
async fn fill(url: &str) -> BTreeMap<i64, (serde_json::Map<String, Value>, Vec<f64>)> {
    let pool = MySqlPool::connect(url).await.unwrap();
    for (id, name, _, _) in METRICS {
        sqlx::query(
            "INSERT INTO metrics (id, metric, ionosphere_enabled, learn_full_duration_days, \
             learn_valid_ts_older_than, max_generations, max_percent_diff_from_origin) \
             VALUES (?, ?, 1, 14, 3661, 5, 7.0)",
        )
        .bind(id)
        .bind(name)
        .execute(&pool)
        .await
        .unwrap();
        for kind in ["fp", "ts"] {
            sqlx::query(&format!(
                "CREATE TABLE z_{kind}_{id} LIKE z_{kind}_metricid"
            ))
            .execute(&pool)
            .await
            .unwrap();
        }
    }
    let series: Vec<Vec<f64>> = PROFILES
        .iter()
        .map(|p| day(file_of(p.1), p.4).iter().map(|x| x.1).collect())
        .collect();
    let reference = run_python(
        "pyref/fingerprint/ensure-venv.sh",
        "pyref/fingerprint/tsfresh_features.py",
        &json!({ "series": series }),
    );
    let results = reference["results"].as_array().expect("results");
    let mut stored = BTreeMap::new();
    let (mut z_fp, mut z_ts) = (0i64, 0i64);
    for (((fp, metric, parent, generation, start), values), r) in
        PROFILES.iter().zip(&series).zip(results)
    {
        let points = day(file_of(*metric), *start);
        let features = r["values"].as_object().unwrap().clone();
        let sum: f64 = features.values().map(num).filter(|v| v.is_finite()).sum();
        sqlx::query(
            "INSERT INTO ionosphere (id, metric_id, full_duration, anomaly_timestamp, enabled, \
             tsfresh_version, features_count, features_sum, parent_id, generation, validated, \
             layers_id, label) VALUES (?, ?, 86400, ?, 1, '0.20.3', ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind(fp)
        .bind(metric)
        .bind(points.last().unwrap().0)
        .bind(features.len() as i64)
        .bind(sum)
        .bind(parent)
        .bind(generation)
        .bind(if *generation == 0 { 1_600_000_000 } else { 0 })
        .bind(if *fp == 1 { 1 } else { 0 })
        .bind(format!("{} normal day", name_of(*metric)))
        .execute(&pool)
        .await
        .unwrap();
        for (name, value) in &features {
            let Some(id) = feature_id(name) else { continue };
            z_fp += 1;
            sqlx::query(&format!(
                "INSERT INTO z_fp_{metric} (id, fp_id, feature_id, value) VALUES (?, ?, ?, ?)"
            ))
            .bind(z_fp)
            .bind(fp)
            .bind(i64::from(id))
            .bind(Some(num(value)).filter(|v| v.is_finite()))
            .execute(&pool)
            .await
            .unwrap();
        }
        if *fp != 4 {
            for (t, v) in &points {
                z_ts += 1;
                sqlx::query(&format!(
                    "INSERT INTO z_ts_{metric} (id, fp_id, timestamp, value) VALUES (?, ?, ?, ?)"
                ))
                .bind(z_ts)
                .bind(fp)
                .bind(t)
                .bind(v)
                .execute(&pool)
                .await
                .unwrap();
            }
        }
        stored.insert(*fp, (features, values.clone()));
    }
    // fp 1's layers: never discard CPU below 200, expect any of the last 3
    // values at or below 100 (Skyline's rows: D, E; F1/F2 a whole day).
    sqlx::query(
        "INSERT INTO ionosphere_layers (id, fp_id, metric_id, enabled) VALUES (1, 1, 1, 1)",
    )
    .execute(&pool)
    .await
    .unwrap();
    for (layer, kind, condition, boundary, times) in [
        ("D", "value", ">", "200", None),
        ("E", "value", "<=", "100", Some(3)),
        ("F1", "time", ">", "0000", None),
        ("F2", "time", "<", "2359", None),
    ] {
        sqlx::query(
            "INSERT INTO layers_algorithms (layer_id, fp_id, metric_id, layer, type, `condition`, \
             layer_boundary, times_in_row) VALUES (1, 1, 1, ?, ?, ?, ?, ?)",
        )
        .bind(layer)
        .bind(kind)
        .bind(condition)
        .bind(boundary)
        .bind(times)
        .execute(&pool)
        .await
        .unwrap();
    }
    pool.close().await;
    stored
}

fn skyline(run: &Run, args: &[&str]) -> Output {
    let out = run
        .command(args, "import-skyline")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("running skyline import-skyline");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn report(run: &Run, url: &str, dry_run: bool) -> Value {
    let mut args = vec!["import-skyline", "--mysql", url, "--json"];
    if dry_run {
        args.push("--dry-run");
    }
    serde_json::from_slice(&skyline(run, &args).stdout).expect("one JSON object")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_skylines_profiles_are_imported_and_deflect_later_anomalies() {
    let db = format!("skyline_import_{}", uuid::Uuid::now_v7().simple());
    load_schema(&db);
    let url = format!("{}/{db}", mysql_server());
    let stored = fill(&url).await;
    let run = Run::new(
        "import-skyline",
        "\n[fingerprint_service]\nprofiles_idle_ms = 1000\n",
    );
    let kafka = run.kafka_config();
    let profiles_topic = run.topic("profiles");

    // A dry run says what it would do and produces nothing.
    let dry = report(&run, &url, true);
    assert_eq!(dry["imported"], 4, "{dry:#}");
    assert_eq!(dry["not_imported"], 1);
    assert_eq!(dry["produced"], 0);
    let missing = dry["profiles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["skyline_id"] == 4)
        .unwrap();
    assert!(
        missing["problem"].as_str().unwrap().contains("z_ts_2"),
        "{missing}"
    );
    assert!(consume_settled(
        &kafka,
        &profiles_topic,
        0,
        Duration::from_secs(2),
        Duration::from_secs(5)
    )
    .await
    .is_empty());

    let text =
        String::from_utf8(skyline(&run, &["import-skyline", "--mysql", &url, "--dry-run"]).stdout)
            .unwrap();
    assert!(
        text.contains("features profile 4 (stats.db01.cpu): not imported: its series is missing"),
        "{text}"
    );
    assert!(text.contains("4 of 5 features profiles imported"), "{text}");
    assert!(text.contains("dry run: nothing produced"), "{text}");

    // The import.
    let first = report(&run, &url, false);
    assert_eq!(first["produced"], 4, "{first:#}");
    let events: Vec<ProfileEvent> = decoded(
        &consume_settled(
            &kafka,
            &profiles_topic,
            4,
            Duration::from_secs(2),
            Duration::from_secs(60),
        )
        .await,
    );
    assert_eq!(events.len(), 4);
    let by_fp = |fp: i64, metric: i64| {
        let id = imported_profile_id(name_of(metric), fp);
        events
            .iter()
            .find(|e| e.profile_id == id)
            .unwrap_or_else(|| panic!("fp {fp} imported"))
    };
    let root = by_fp(1, 1);
    let child = by_fp(2, 1);
    assert_eq!(root.action, ProfileAction::Created);
    assert!(root.validated && !child.validated);
    assert_eq!(
        (child.action, child.parent_id, child.generation),
        (ProfileAction::Learnt, Some(root.profile_id), 1)
    );
    assert_eq!(root.learn_settings.unwrap().full_duration, 14 * 86_400);
    assert_eq!(root.learn_settings.unwrap().max_generations, 5);
    let layers = fingerprint::matching::Layers::from_json(root.layers_json.as_deref().unwrap())
        .expect("layers");
    assert_eq!(layers.e.times_in_row, 3);
    assert_eq!(layers.f1.as_deref(), Some("00:00"));
    assert_eq!(
        root.description.as_deref(),
        Some("imported from Skyline features profile 1: stats.web01.cpu normal day")
    );

    // Our features of each imported series against what tsfresh stored,
    // with the fingerprint reference test's tolerances.
    let mut worst = 0.0f64;
    for (fp, metric) in [(1, 1), (2, 1), (3, 2), (5, 3)] {
        let e = by_fp(fp, metric);
        let (reference, x) = &stored[&fp];
        let mut compared = 0;
        for f in &e.features {
            let id = u16::try_from(f.id).unwrap();
            assert!(is_stored(id));
            let name = fingerprint::FEATURE_NAMES[usize::from(id) - 1];
            let Some(theirs) = reference.get(name).map(num) else {
                continue;
            };
            compared += 1;
            let d = if (f.value - theirs).abs() <= tsfresh_floor(name, x, reference) {
                0.0
            } else {
                rel_diff(f.value, theirs)
            };
            assert!(
                d <= tsfresh_tolerance(name),
                "fp {fp} {name}: ours {} tsfresh {theirs} ({d:e})",
                f.value
            );
            worst = worst.max(d);
        }
        // Every feature a profile stores was stored by tsfresh too.
        assert_eq!(compared, e.features.len(), "fp {fp}");
        assert!(compared > 100, "fp {fp}: {compared} features compared");
    }
    eprintln!("worst relative feature difference: {worst:e}");
    assert!(first["worst_feature"]["relative_difference"]
        .as_f64()
        .is_some());

    // Again: nothing new.
    let second = report(&run, &url, false);
    assert_eq!(second["produced"], 0, "{second:#}");
    assert_eq!(second["already_imported"], 4);

    // Later anomalies of each metric, a week on: the same day 0.2 % higher
    // (a similar day, not the same one). The real fingerprint service
    // deflects them with the imported profiles.
    let checks: Vec<CheckRequest> = [(1, 1), (3, 2), (5, 3)]
        .iter()
        .map(|&(fp, metric)| {
            let (_, x) = &stored[&fp];
            let start = PROFILES.iter().find(|p| p.0 == fp).unwrap().4;
            let series: Vec<(i64, f64)> = day(file_of(metric), start)
                .iter()
                .zip(x)
                .map(|((t, _), v)| (t + 7 * 86_400, v * 1.002))
                .collect();
            later_check(name_of(metric), &series)
        })
        .collect();
    produce_checks(&run, &checks).await;
    let mut fingerprint = run.spawn(&["fingerprint"], "fingerprint");
    let matches: Vec<MatchResult> = decoded(
        &consume_settled(
            &kafka,
            &run.topic("matches"),
            3,
            Duration::from_secs(2),
            Duration::from_secs(120),
        )
        .await,
    );
    let _ = fingerprint.kill();
    let _ = fingerprint.wait();
    assert_eq!(matches.len(), 3, "{}", run.log("fingerprint"));
    for m in &matches {
        assert!(m.matched, "{} not deflected: {m:?}", m.metric);
        let fp = [(1, 1), (3, 2), (5, 3)]
            .iter()
            .find(|(_, metric)| name_of(*metric) == m.metric)
            .unwrap();
        let profile = imported_profile_id(&m.metric, fp.0);
        assert_eq!(m.profile_id, Some(profile), "{m:?}");
    }

    sqlx::query(&format!("DROP DATABASE `{db}`"))
        .execute(&MySqlPool::connect(&mysql_server()).await.unwrap())
        .await
        .unwrap();
}

/// The fingerprint check the Analyzer would send for an anomaly at the end
/// of `series` (an ionosphere-enabled metric alerting on `topic`).
fn later_check(metric: &str, series: &[(i64, f64)]) -> CheckRequest {
    let t = series.last().unwrap().0;
    let anomaly = topics::ids::anomaly_id(metric, t, topics::SourceApp::Analyzer);
    CheckRequest {
        id: topics::ids::check_id(anomaly, CheckTarget::Fingerprint),
        anomaly_id: anomaly,
        target: CheckTarget::Fingerprint,
        metric: metric.to_owned(),
        timestamp: t,
        value: series.last().unwrap().1,
        triggered_algorithms: vec!["grubbs".into()],
        second_order_resolution_hours: None,
        series: SeriesPoint::from_pairs(series),
        decided_at_ms: topics::clock::now_ms(),
        full_duration: Some(86_400),
        echo_series: None,
        alerts: vec![AlertRoute {
            alerter: "topic".into(),
            rule: "stats".into(),
            expiration_time: None,
        }],
        periodic: false,
        derivative: false,
    }
}
