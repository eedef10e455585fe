//! The deflection and learning columns (events version 2) and the queries
//! over them, on SQLite and on the real MariaDB: a check's series (and a
//! seasonal check's echo series, version 3) comes back exact to the bit, match counts count a re-emitted match once, profiles
//! carry their learn settings to `metrics` whatever the fold order, and
//! disabling a profile disables its layers.

mod common;

use common::*;
use projections::query::{check_for_label, profile_match_counts, profiles_of, MatchCounts};
use projections::{metric_id, CheckForLabel, Database, Topic};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use topics::*;
use uuid::Uuid;

const METRIC: &str = "web1.latency";

fn anomaly(metric: &str, timestamp: i64) -> AnomalyEvent {
    AnomalyEvent {
        id: topics::ids::anomaly_id(metric, timestamp, SourceApp::Analyzer),
        metric: metric.into(),
        timestamp,
        value: 1.5,
        source: SourceApp::Analyzer,
        algorithms_run: vec!["grubbs".into()],
        triggered_algorithms: vec!["grubbs".into()],
        full_duration: 86_340,
        from_timestamp: timestamp - 86_400,
        check_id: None,
        derivative: false,
        decided_at_ms: timestamp * 1000,
        count: 1,
        last_timestamp: timestamp,
        max_deviation: 0.0,
    }
}

fn check(
    n: u64,
    metric: &str,
    series: Vec<SeriesPoint>,
    full_duration: Option<i64>,
) -> CheckRequest {
    CheckRequest {
        id: Uuid::from_u128(0x00c0_ffee_0000 + u128::from(n)),
        anomaly_id: Uuid::from_u128(0xa0_0000 + u128::from(n)),
        target: CheckTarget::Fingerprint,
        metric: metric.into(),
        timestamp: series.last().map_or(0, |p| p.timestamp),
        value: 2.5,
        triggered_algorithms: vec!["grubbs".into()],
        second_order_resolution_hours: None,
        series,
        decided_at_ms: 1,
        full_duration,
        echo_series: None,
        alerts: vec![AlertRoute {
            alerter: "smtp".into(),
            rule: "web*".into(),
            expiration_time: None,
        }],
        periodic: false,
        derivative: false,
    }
}

/// 1,440 points a minute apart whose values use every bit of an f64.
fn day_of_points(seed: u64) -> Vec<SeriesPoint> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..1440)
        .map(|k| SeriesPoint {
            timestamp: 1_700_000_000 + k * 60,
            value: match k % 4 {
                0 => f64::from_bits(rng.gen::<u64>() & !(0x7ff << 52) | (0x3ff << 52)) - 1.5,
                1 => rng.gen_range(-1e300..1e300),
                2 => rng.gen::<f64>() * 1e-300,
                _ => (k as f64) / 3.0,
            },
        })
        .collect()
}

fn bits(series: &[(i64, f64)]) -> Vec<(i64, u64)> {
    series.iter().map(|(t, v)| (*t, v.to_bits())).collect()
}

async fn check_series_round_trip(db: &Database) {
    let mut log = Log::new();
    let day = day_of_points(11);
    let v2 = check(1, METRIC, day.clone(), Some(86_400));
    let v1 = check(2, METRIC, day[..600].to_vec(), None);
    // A seasonal check handed to fingerprint: the week (here the day at
    // 10 minutes) and its last 24 h at full resolution, echo series with a
    // point JSON cannot hold (it comes back NaN, as in `series`).
    let mut echo = day_of_points(12);
    echo[7].value = f64::INFINITY;
    let seasonal = CheckRequest {
        echo_series: Some(echo.clone()),
        ..check(
            3,
            METRIC,
            day.iter().step_by(10).copied().collect(),
            Some(604_800),
        )
    };
    log.fold(
        db,
        &[
            rec(Topic::Anomalies, &anomaly(METRIC, 1_700_000_000)),
            rec(Topic::Checks, &v2),
            rec(Topic::Checks, &v1),
            rec(Topic::Checks, &seasonal),
        ],
    )
    .await;

    let got = check_for_label(db, seasonal.id)
        .await
        .unwrap()
        .expect("folded");
    assert_eq!(got.full_duration, 604_800);
    assert_eq!(got.series.len(), 144);
    let mut want: Vec<(i64, f64)> = echo.iter().map(|p| (p.timestamp, p.value)).collect();
    want[7].1 = f64::NAN;
    assert_eq!(
        got.echo_series.as_deref().map(bits),
        Some(bits(&want)),
        "echo series not exact"
    );
    // Checks without one, and rows folded before migration 0007, have none.
    assert_eq!(
        check_for_label(db, v1.id)
            .await
            .unwrap()
            .unwrap()
            .echo_series,
        None
    );
    sqlx::query("UPDATE checks SET echo_series = '[[1,' WHERE id = ?")
        .bind(seasonal.id.to_string())
        .execute(db.pool())
        .await
        .unwrap();
    let err = check_for_label(db, seasonal.id)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("echo series"), "{err}");

    let got = check_for_label(db, v2.id).await.unwrap().expect("folded");
    let want: Vec<(i64, f64)> = day.iter().map(|p| (p.timestamp, p.value)).collect();
    assert_eq!(bits(&got.series), bits(&want), "series not exact");
    assert_eq!(
        CheckForLabel {
            series: Vec::new(),
            ..got
        },
        CheckForLabel {
            check_id: v2.id,
            anomaly_id: v2.anomaly_id,
            metric: METRIC.into(),
            timestamp: 1_700_000_000 + 1439 * 60,
            full_duration: 86_400,
            series: Vec::new(),
            echo_series: None,
        }
    );
    // Version 1: the duration is the series' span.
    let old = check_for_label(db, v1.id).await.unwrap().unwrap();
    assert_eq!(old.full_duration, 599 * 60);
    assert_eq!(old.series.len(), 600);
    assert_eq!(check_for_label(db, Uuid::from_u128(7)).await.unwrap(), None);

    // A row folded before migration 0002: no series, metric or duration.
    sqlx::query(
        "UPDATE checks SET series = NULL, metric = NULL, full_duration = NULL WHERE id = ?",
    )
    .bind(v2.id.to_string())
    .execute(db.pool())
    .await
    .unwrap();
    let before = check_for_label(db, v2.id).await.unwrap().unwrap();
    assert_eq!(before.metric, METRIC, "from the metrics table");
    assert_eq!(before.full_duration, 1439 * 60);
    assert!(before.series.is_empty());
    // Junk in the column is an error, not a panic.
    sqlx::query("UPDATE checks SET series = '[[1,' WHERE id = ?")
        .bind(v2.id.to_string())
        .execute(db.pool())
        .await
        .unwrap();
    let err = check_for_label(db, v2.id).await.unwrap_err().to_string();
    assert!(err.contains("check series"), "{err}");
}

#[tokio::test]
async fn a_checks_series_comes_back_exact_to_the_bit() {
    on_both!(check_series_round_trip);
}

fn profile(n: u64, action: ProfileAction, parent: Option<Uuid>, at_ms: i64) -> ProfileEvent {
    ProfileEvent {
        id: Uuid::from_u128(0xe0_0000 + u128::from(n) * 16 + action as u128),
        profile_id: Uuid::from_u128(0xf0_0000 + u128::from(n)),
        action,
        metric: METRIC.into(),
        parent_id: parent,
        generation: u32::from(parent.is_some()),
        full_duration: 86_400,
        features: vec![FeatureValue { id: 1, value: 2.0 }],
        features_sum: 2.0,
        series: vec![SeriesPoint {
            timestamp: 1,
            value: 1.0,
        }],
        layers_json: None,
        label_id: None,
        at_ms,
        validated: action == ProfileAction::Created,
        learn: true,
        learn_settings: None,
        description: Some(format!("profile {n}")),
        operator: Some("ops".into()),
        anomaly_timestamp: Some(1_700_000_000),
        check_id: None,
        disabled_with: None,
    }
}

fn a_match(
    n: u64,
    metric: &str,
    profile: Option<Uuid>,
    method: MatchMethod,
    timestamp: i64,
) -> MatchResult {
    MatchResult {
        id: Uuid::from_u128(0xd0_0000 + u128::from(n)),
        check_id: Uuid::from_u128(0xc0_0000 + u128::from(n)),
        anomaly_id: Uuid::from_u128(0xa0_0000 + u128::from(n)),
        metric: metric.into(),
        timestamp,
        matched: method != MatchMethod::None,
        method,
        profile_id: profile,
        layer_id: (method == MatchMethod::Layers).then(|| topics::ids::layer_id(profile.unwrap())),
        percent_different: None,
        distance: None,
        decided_at_ms: n as i64,
        echo: n.is_multiple_of(2),
        profiles_checked: 3,
        features_sum: Some(f64::NAN),
        common_features: None,
        approx_close: false,
        motif: (method == MatchMethod::Motif).then_some(MotifMatch {
            index: u32::MAX,
            size: 30,
            kind: MotifKind::AllInRange,
            area: 1.25,
            profile_area: f64::INFINITY,
            area_percent_diff: 3.5,
        }),
    }
}

async fn match_counts(db: &Database) {
    let mut log = Log::new();
    let origin = profile(1, ProfileAction::Created, None, 1_000);
    let learnt = profile(2, ProfileAction::Learnt, Some(origin.profile_id), 2_000);
    let (p, q) = (origin.profile_id, learnt.profile_id);
    let matches = vec![
        a_match(1, METRIC, Some(p), MatchMethod::FeaturesProfile, 100),
        a_match(2, METRIC, Some(p), MatchMethod::FeaturesProfile, 300),
        a_match(3, METRIC, Some(p), MatchMethod::MinMax, 200),
        a_match(4, METRIC, Some(p), MatchMethod::Motif, 150),
        a_match(5, METRIC, Some(p), MatchMethod::Layers, 250),
        a_match(6, METRIC, Some(p), MatchMethod::None, 900),
        a_match(7, METRIC, Some(q), MatchMethod::Motif, 400),
        a_match(8, METRIC, None, MatchMethod::None, 500),
        a_match(
            9,
            "other.metric",
            Some(Uuid::from_u128(9)),
            MatchMethod::Layers,
            50,
        ),
    ];
    let mut events = vec![rec(Topic::Profiles, &origin), rec(Topic::Profiles, &learnt)];
    events.extend(matches.iter().map(|m| rec(Topic::Matches, m)));
    log.fold(db, &events).await;
    let first = profile_match_counts(db, Some(METRIC)).await.unwrap();
    let of_p = MatchCounts {
        features: 2,
        min_max: 1,
        motif: 1,
        layers: 1,
        last_matched: Some(300),
        checked: 6,
    };
    let of_q = MatchCounts {
        motif: 1,
        last_matched: Some(400),
        checked: 1,
        ..MatchCounts::default()
    };
    let got: Vec<(Uuid, MatchCounts)> = first
        .iter()
        .map(|c| (c.profile_id, c.counts.clone()))
        .collect();
    // Most recently matched first.
    assert_eq!(got, [(q, of_q.clone()), (p, of_p.clone())]);
    assert_eq!(of_p.matched(), 5);
    assert_eq!(profile_match_counts(db, None).await.unwrap().len(), 3);

    // The same matches re-emitted (new offsets, same ids): nothing changes.
    let again: Vec<Rec> = matches.iter().map(|m| rec(Topic::Matches, m)).collect();
    let before = dump_all(db).await;
    log.fold(db, &again).await;
    assert_eq!(profile_match_counts(db, Some(METRIC)).await.unwrap(), first);
    assert_eq!(dump_all(db).await, before);

    // Non-finite measurements are stored as unknown; u32 indexes fit.
    let row = sqlx::query(
        "SELECT features_sum, motif_index, motif_profile_area, motif_area, motif_kind, echo \
         FROM matches WHERE id = ?",
    )
    .bind(matches[3].id.to_string())
    .fetch_one(db.pool())
    .await
    .unwrap();
    use sqlx::Row;
    assert_eq!(row.try_get::<Option<f64>, _>(0).unwrap(), None);
    assert_eq!(
        row.try_get::<Option<i64>, _>(1).unwrap(),
        Some(i64::from(u32::MAX))
    );
    assert_eq!(row.try_get::<Option<f64>, _>(2).unwrap(), None);
    assert_eq!(row.try_get::<Option<f64>, _>(3).unwrap(), Some(1.25));
    assert_eq!(row.try_get::<i64, _>(5).unwrap(), 1, "echo");

    // profiles_of: lineage, flags and the same counts.
    let rows = profiles_of(db, METRIC).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0].id, rows[0].parent, rows[0].generation),
        (p, None, 0)
    );
    assert_eq!(
        (rows[1].id, rows[1].parent, rows[1].generation),
        (q, Some(p), 1)
    );
    assert!(
        rows[0].validated && !rows[1].validated,
        "validated from the event"
    );
    assert!(rows.iter().all(|r| r.enabled && r.learn));
    assert_eq!(rows[0].description.as_deref(), Some("profile 1"));
    assert_eq!(
        (rows[0].origin.as_str(), rows[1].origin.as_str()),
        ("created", "learnt")
    );
    assert_eq!(
        (rows[0].matches.clone(), rows[1].matches.clone()),
        (of_p, of_q)
    );
    assert_eq!(rows[0].features_count, 1);
    assert!(profiles_of(db, "nothing.here").await.unwrap().is_empty());
}

#[tokio::test]
async fn match_counts_count_a_reemitted_match_once() {
    on_both!(match_counts);
}

fn settings(days: i64, generations: u32) -> LearnSettings {
    LearnSettings {
        full_duration: days * 86_400,
        valid_ts_older_than: 7_200,
        max_generations: generations,
        max_percent_diff_from_origin: 12.5,
    }
}

/// The metric row: (ionosphere_enabled, days, valid_ts_older_than,
/// max_generations, max_percent_diff, learn_full_duration, first_seen).
async fn metric_row(db: &Database) -> Vec<String> {
    let all = projections::all();
    let table = all[0]
        .tables()
        .iter()
        .find(|t| t.name == "metrics")
        .unwrap();
    let rows = db.dump(table).await.unwrap();
    let id = metric_id(METRIC).to_string();
    rows.into_iter().find(|r| r[0] == id).expect("metric row")
}

async fn learn_settings(db: &Database) {
    let mut older = profile(1, ProfileAction::Created, None, 1_000);
    older.learn_settings = Some(settings(30, 16));
    let mut newer = profile(2, ProfileAction::Learnt, Some(older.profile_id), 5_000);
    newer.learn_settings = Some(settings(7, u32::MAX));
    let no_settings = profile(3, ProfileAction::Created, None, 9_000);

    // In log order, the newer settings win; no anomaly yet.
    let mut log = Log::new();
    log.fold(
        db,
        &[
            rec(Topic::Profiles, &older),
            rec(Topic::Profiles, &newer),
            rec(Topic::Profiles, &no_settings),
        ],
    )
    .await;
    let row = metric_row(db).await;
    assert_eq!(
        &row[1..],
        [
            METRIC,
            "NULL",
            "NULL",
            "1",
            "7",
            "7200",
            &i32::MAX.to_string(),
            "12.5",
            "604800",
            "5000",
            &newer.profile_id.to_string(),
        ]
    );
    // The older one re-emitted in a later batch changes nothing; an anomaly
    // later fills first/last seen and keeps the settings.
    log.fold(
        db,
        &[
            rec(Topic::Profiles, &older),
            rec(Topic::Anomalies, &anomaly(METRIC, 1_700_000_000)),
        ],
    )
    .await;
    let after = metric_row(db).await;
    assert_eq!(after[2..4], ["1700000000", "1700000000"]);
    assert_eq!(after[4..], row[4..]);

    // Disabling every profile turns ionosphere off, settings stay.
    let mut events = Vec::new();
    for p in [&older, &newer, &no_settings] {
        let mut d = p.clone();
        d.id = Uuid::now_v7();
        d.action = ProfileAction::Disabled;
        events.push(rec(Topic::Profiles, &d));
    }
    log.fold(db, &events).await;
    let off = metric_row(db).await;
    assert_eq!(off[4], "0");
    assert_eq!(off[5..], row[5..]);
}

#[tokio::test]
async fn learn_settings_reach_metrics_whatever_the_order() {
    on_both!(learn_settings);
}

/// Every order of the same events, folded one at a time, gives one row.
#[tokio::test]
async fn learn_settings_do_not_depend_on_fold_order() {
    let mut a = profile(1, ProfileAction::Created, None, 1_000);
    a.learn_settings = Some(settings(30, 16));
    let mut b = profile(2, ProfileAction::Created, None, 1_000);
    b.learn_settings = Some(settings(14, 3));
    let mut c = profile(3, ProfileAction::Learnt, None, 500);
    c.learn_settings = Some(settings(60, 9));
    let orders = [[&a, &b, &c], [&c, &b, &a], [&b, &a, &c]];
    let mut seen = Vec::new();
    for order in orders {
        let dir = std::env::temp_dir().join(format!("skyline-order-{}", Uuid::now_v7().simple()));
        let fresh = Database::sqlite(&dir.join("p.sqlite")).await.unwrap();
        let mut log = Log::new();
        for p in order {
            log.fold(&fresh, &[rec(Topic::Profiles, p)]).await;
        }
        seen.push(metric_row(&fresh).await);
        fresh.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
    // Same at_ms: the larger profile id (b) wins, in every order.
    assert!(seen.iter().all(|r| *r == seen[0]), "{seen:?}");
    assert_eq!(seen[0][5], "14");
}

async fn layers_follow_their_profile(db: &Database) {
    let mut parent = profile(1, ProfileAction::Created, None, 1_000);
    parent.layers_json = Some(
        r#"{"d":{"condition":">","boundary":100.0},"e":{"condition":"<=","boundary":50.0,"times_in_row":5},"es":["mon"],"f1":"08:00","f2":"18:30"}"#
            .into(),
    );
    let mut child = profile(2, ProfileAction::Learnt, Some(parent.profile_id), 2_000);
    child.layers_json = Some(r#"{"d":{"condition":"<","boundary":-1e-9},"e":{"condition":"==","boundary":0.0,"times_in_row":1}}"#.into());
    let mut log = Log::new();
    log.fold(
        db,
        &[rec(Topic::Profiles, &parent), rec(Topic::Profiles, &child)],
    )
    .await;
    // The child disabled with its parent, then again on its own: the first
    // disabling is the one recorded.
    let mut with_parent = child.clone();
    with_parent.id = Uuid::now_v7();
    with_parent.action = ProfileAction::Disabled;
    with_parent.at_ms = 3_000;
    with_parent.disabled_with = Some(parent.profile_id);
    let mut alone = with_parent.clone();
    alone.id = Uuid::now_v7();
    alone.at_ms = 4_000;
    alone.disabled_with = None;
    log.fold(db, &[rec(Topic::Profiles, &with_parent)]).await;
    log.fold(db, &[rec(Topic::Profiles, &alone)]).await;

    use sqlx::Row;
    let layers =
        sqlx::query("SELECT profile_id, enabled, definition FROM layers ORDER BY created_at_ms")
            .fetch_all(db.pool())
            .await
            .unwrap();
    let layer = |i: usize| {
        let r = &layers[i];
        (r.try_get::<i64, _>(1).unwrap(), projections_text(r, 2))
    };
    assert_eq!(layer(0), (1, parent.layers_json.clone().unwrap()));
    assert_eq!(layer(1), (0, child.layers_json.clone().unwrap()));
    let p = sqlx::query("SELECT enabled, disabled_with, disabled_at_ms FROM profiles WHERE id = ?")
        .bind(child.profile_id.to_string())
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(p.try_get::<i64, _>(0).unwrap(), 0);
    assert_eq!(projections_text(&p, 1), parent.profile_id.to_string());
    assert_eq!(p.try_get::<i64, _>(2).unwrap(), 3_000);
    let rows = profiles_of(db, METRIC).await.unwrap();
    assert_eq!(
        rows.iter().map(|r| r.enabled).collect::<Vec<_>>(),
        [true, false]
    );
}

/// A text column (MySQL hands TEXT to the `Any` driver as bytes).
fn projections_text(row: &sqlx::any::AnyRow, i: usize) -> String {
    use sqlx::Row;
    row.try_get::<String, _>(i)
        .or_else(|_| {
            row.try_get::<Vec<u8>, _>(i)
                .map(|b| String::from_utf8(b).unwrap())
        })
        .unwrap()
}

#[tokio::test]
async fn disabling_a_profile_disables_its_layers() {
    on_both!(layers_follow_their_profile);
}
