//! The console's pages with 100,000 anomalies in the projections (not a
//! test; run with `cargo bench -p skyline-console --bench pages`). Needs
//! the broker and MariaDB of `scripts/services` (started if
//! `SKYLINE_TEST_KAFKA` / `SKYLINE_TEST_MYSQL` are not set);
//! `SKYLINE_BENCH_BACKENDS=sqlite` (or `mariadb`) runs one backend only.
//!
//! For each backend (a SQLite file, then a MariaDB database of its own,
//! dropped at the end) it seeds the projections through their own folds
//! (`Folder::fold_batch`, via the tests' `Fixture::fold`) with:
//!
//! * 1,000 metrics (`web{0..250}.{cpu.user,cpu.system,mem.used_percent,
//!   net.eth0.rx_bytes}`), 100 anomalies each = 100,000 anomalies spread
//!   over the 30 days before `T_END`, one per metric in each 7.2 h slot;
//! * a fingerprint check per anomaly. To keep seeding fast only 1,200 of
//!   them carry a full series (288 points, 24 h at 5 min: one anomaly of
//!   every metric, two of every metric with profiles); the other 98,800
//!   carry a short one (12 points, 1 h);
//! * 400 profiles (generation 0, real features, made from the full-series
//!   checks of the 200 metrics `m % 5 == 0`, two each; those of the 50
//!   metrics `m % 20 == 0` made second carry layers);
//! * for the 70 % of checks with alerts to send: a match result — a
//!   features-profile / min-max deflection when the metric has a profile
//!   by then (~30 %), a layers deflection when it has layers (~10 %),
//!   otherwise unmatched with its smtp alert — except ~2 % left pending.
//!
//! The seed is deterministic (fixed RNG seed, fixed `T_END`); seeding is
//! setup, timed and printed, never measured. Then the console is served on
//! 127.0.0.1:0, an operator logs in through the form, and each page is
//! fetched over HTTP with reqwest (a full round trip, body read): once to
//! assert 200, 200 times for a p50/p99/max table, then under criterion.

#[path = "../tests/common/mod.rs"]
mod common;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use common::{anomaly_with_check, profile_of, rec, Backend, Client, Fixture, Options};
use criterion::Criterion;
use projections::browse::AnomalyState;
use projections::Topic;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use topics::ids::{alert_id, label_profile_id, layer_id, match_id};
use topics::{AlertEvent, MatchMethod, MatchResult, SourceApp};
use uuid::Uuid;

/// The end of the seeded month (2026-01-01T00:00:00Z): every anomaly is
/// in the 30 days before it, and "N days ago" is counted back from it.
const T_END: i64 = 1_767_225_600;
const DAYS: i64 = 30;
const METRICS: usize = 1_000;
const PER_METRIC: i64 = 100;
/// Each metric has one anomaly per slot.
const SLOT: i64 = DAYS * 86_400 / PER_METRIC;
/// Series resolution.
const STEP: i64 = 300;
const FULL_POINTS: i64 = 288;
const SHORT_POINTS: i64 = 12;
/// Events folded per batch.
const BATCH: usize = 5_000;
/// Timed requests per page for the table.
const TIMED: usize = 200;
/// The budget every page must stay under (p99).
const BUDGET: Duration = Duration::from_millis(200);

const KINDS: [&str; 4] = [
    "cpu.user",
    "cpu.system",
    "mem.used_percent",
    "net.eth0.rx_bytes",
];
const LAYERS: &str = r#"{"d":{"condition":">","boundary":1000000.0},"e":{"condition":"<=","boundary":95.0,"times_in_row":5}}"#;

fn metric_name(m: usize) -> String {
    format!("web{}.{}", m / KINDS.len(), KINDS[m % KINDS.len()])
}

/// The slots in which metric `m`'s anomaly has a full series (and, for a
/// metric with profiles, is labelled into one).
fn full_slots(m: usize) -> [i64; 2] {
    let first = (m as i64 * 37) % PER_METRIC;
    [first, (first + PER_METRIC / 2) % PER_METRIC]
}

fn has_profiles(m: usize) -> bool {
    m.is_multiple_of(5)
}

/// A series of `n` points ending at `ts` with a spike at the end: a
/// metric-dependent level, noise, and a daily wave.
fn series(rng: &mut StdRng, m: usize, ts: i64, n: i64) -> Vec<(i64, f64)> {
    let level = 10.0 + (m % 97) as f64;
    let mut out: Vec<(i64, f64)> = (0..n)
        .map(|k| {
            let t = ts - (n - 1 - k) * STEP;
            let wave = (t as f64 / 86_400.0 * std::f64::consts::TAU).sin() * level * 0.2;
            (t, level + wave + rng.gen_range(-1.0..1.0))
        })
        .collect();
    if let Some(last) = out.last_mut() {
        last.1 = level * rng.gen_range(2.5..4.0);
    }
    out
}

/// What the pages are fetched for: ids found while seeding.
struct Seeded {
    /// An anomaly with a full series whose metric has profiles.
    training: Uuid,
    /// A metric with profiles, and its first profile (which deflected).
    profile_metric: String,
    profile: Uuid,
    events: usize,
    anomalies: usize,
    profiles: usize,
    took: Duration,
}

async fn seed(fixture: &mut Fixture) -> Seeded {
    let started = Instant::now();
    let mut rng = StdRng::seed_from_u64(42);
    // Per metric: its profiles so far, and the one with layers.
    let mut profiles: Vec<Vec<Uuid>> = vec![Vec::new(); METRICS];
    let mut layered: Vec<Option<Uuid>> = vec![None; METRICS];
    let mut batch = Vec::with_capacity(BATCH + 16);
    let (mut events, mut anomalies, mut made) = (0, 0, 0);
    let mut training = None;
    let training_metric = 20;
    let start = T_END - DAYS * 86_400;
    for slot in 0..PER_METRIC {
        for m in 0..METRICS {
            let metric = metric_name(m);
            let ts = start + slot * SLOT + rng.gen_range(0..SLOT / 60) * 60;
            let full = full_slots(m).contains(&slot);
            let s = series(
                &mut rng,
                m,
                ts,
                if full { FULL_POINTS } else { SHORT_POINTS },
            );
            let alerts = rng.gen_bool(0.7);
            let (anomaly, check) = anomaly_with_check(&metric, &s, alerts);
            batch.push(rec(Topic::Anomalies, &anomaly));
            batch.push(rec(Topic::Checks, &check));
            anomalies += 1;
            if alerts {
                let r: f64 = rng.gen();
                let considered = &profiles[m];
                let verdict = |method: MatchMethod, profile: Option<Uuid>| MatchResult {
                    id: match_id(check.id, considered),
                    check_id: check.id,
                    anomaly_id: anomaly.id,
                    metric: metric.clone(),
                    timestamp: ts,
                    matched: method != MatchMethod::None,
                    method,
                    profile_id: profile,
                    layer_id: (method == MatchMethod::Layers).then(|| layer_id(profile.unwrap())),
                    percent_different: matches!(
                        method,
                        MatchMethod::FeaturesProfile | MatchMethod::MinMax
                    )
                    .then_some(0.42),
                    distance: None,
                    decided_at_ms: anomaly.decided_at_ms + 800,
                    echo: false,
                    profiles_checked: considered.len() as u32,
                    features_sum: Some(1234.5 + m as f64),
                    common_features: (method == MatchMethod::FeaturesProfile).then_some(180),
                    approx_close: false,
                    motif: None,
                };
                let result = if r < 0.02 {
                    None // pending: no verdict yet
                } else if r < 0.32 && !considered.is_empty() {
                    let p = considered[rng.gen_range(0..considered.len())];
                    let method = if r < 0.26 {
                        MatchMethod::FeaturesProfile
                    } else {
                        MatchMethod::MinMax
                    };
                    Some(verdict(method, Some(p)))
                } else if r < 0.42 && layered[m].is_some() {
                    Some(verdict(MatchMethod::Layers, layered[m]))
                } else {
                    Some(verdict(MatchMethod::None, None))
                };
                if let Some(result) = result {
                    let unmatched = !result.matched;
                    batch.push(rec(Topic::Matches, &result));
                    if unmatched {
                        let alert = AlertEvent {
                            id: alert_id(anomaly.id, "smtp"),
                            anomaly_id: anomaly.id,
                            metric: metric.clone(),
                            timestamp: ts,
                            value: anomaly.value,
                            source: SourceApp::Analyzer,
                            alerter: "smtp".into(),
                            rule: "test".into(),
                            triggered_algorithms: anomaly.triggered_algorithms.clone(),
                            decided_at_ms: anomaly.decided_at_ms + 1_500,
                            series: None,
                            full_duration: None,
                            expiration_time: None,
                            boundary: None,
                            fingerprinted: false,
                            test: false,
                        };
                        batch.push(rec(Topic::Alerts, &alert));
                    }
                }
            }
            if full && has_profiles(m) {
                // An operator labels it: a profile from its check, usable
                // from the next slot on.
                let mut p = profile_of(&check);
                // The label's id is fresh (v7) and the profile's derived
                // from it: derive all three from the check instead, so the
                // seed is the same on every run.
                let label = Uuid::new_v5(&check.id, b"label");
                p.label_id = Some(label);
                p.profile_id = label_profile_id(label, "v1");
                p.id = learn::label::profile_event_id(p.profile_id, "created");
                let second = slot == full_slots(m)[1];
                if second && m.is_multiple_of(20) {
                    p.layers_json = Some(LAYERS.to_owned());
                    layered[m] = Some(p.profile_id);
                }
                profiles[m].push(p.profile_id);
                batch.push(rec(Topic::Profiles, &p));
                made += 1;
                if m == training_metric && second {
                    training = Some(anomaly.id);
                }
            }
            if batch.len() >= BATCH {
                events += batch.len();
                fixture.fold(&batch).await;
                batch.clear();
            }
        }
    }
    events += batch.len();
    fixture.fold(&batch).await;
    if fixture.db.dialect() == projections::Dialect::MySql {
        // As InnoDB's background statistics would be by now in a live
        // database (they lag a bulk load by seconds).
        sqlx::query("ANALYZE TABLE anomalies, checks, matches, alerts, metrics, profiles")
            .execute(fixture.db.pool())
            .await
            .unwrap();
    }
    Seeded {
        training: training.expect("the training anomaly"),
        profile_metric: metric_name(training_metric),
        profile: profiles[training_metric][0],
        events,
        anomalies,
        profiles: made,
        took: started.elapsed(),
    }
}

fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

struct Timing {
    page: String,
    p50: Duration,
    p99: Duration,
    max: Duration,
    bytes: usize,
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn table(backend: &str, rows: &[Timing], load: (&str, &str)) -> String {
    let width = rows.iter().map(|r| r.page.len()).max().unwrap_or(4).max(4);
    let mut out = format!(
        "\n{backend}: {TIMED} timed requests per page (load average before {}, after {})\n",
        load.0, load.1
    );
    let _ = writeln!(
        out,
        "{:<width$}  {:>9}  {:>9}  {:>9}  {:>8}  p99 < 200 ms",
        "page", "p50", "p99", "max", "bytes"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<width$}  {:>9}  {:>9}  {:>9}  {:>8}  {}",
            r.page,
            ms(r.p50),
            ms(r.p99),
            ms(r.max),
            r.bytes,
            if r.p99 < BUDGET { "yes" } else { "NO" }
        );
    }
    out
}

fn bench_backend(
    rt: &tokio::runtime::Runtime,
    criterion: &mut Criterion,
    backend: Backend,
    name: &str,
) -> String {
    let mut fixture = rt.block_on(Fixture::start(Options {
        backend,
        ..Options::default()
    }));
    let seeded = rt.block_on(seed(&mut fixture));
    println!(
        "{name}: seeded {} anomalies, {} profiles ({} events) in {:.1} s",
        seeded.anomalies,
        seeded.profiles,
        seeded.events,
        seeded.took.as_secs_f64()
    );
    let client = Client::default();
    let cookie = rt.block_on(client.login(&fixture));
    let day = 86_400;
    let pages: Vec<String> = vec![
        "/anomalies".into(),
        "/anomalies?page=1000".into(),
        "/anomalies?metric=web42*".into(),
        "/anomalies?state=deflected_by_profile".into(),
        "/anomalies?state=deflected_by_layer".into(),
        "/anomalies?state=alerted".into(),
        "/anomalies?state=pending".into(),
        "/anomalies?state=not_alerted".into(),
        "/anomalies?state=not_alerted&page=100".into(),
        format!(
            "/anomalies?since={}&until={}",
            T_END - 10 * day,
            T_END - 5 * day
        ),
        format!("/anomalies/{}", seeded.training),
        format!("/profiles?metric={}", seeded.profile_metric),
        format!("/profiles/{}", seeded.profile),
        "/matches".into(),
        "/api/v1/anomalies".into(),
    ];
    for page in &pages {
        let r = rt.block_on(client.get(&fixture.url(page), Some(&cookie)));
        assert_eq!(r.status, 200, "{name} {page}: {}", r.body);
    }
    // The pages show what was seeded (through their JSON twins).
    let api = |path: &str| {
        rt.block_on(client.get(&fixture.url(path), Some(&cookie)))
            .json()
    };
    let total = |path: &str| api(path)["total"].as_i64().unwrap_or(-1);
    assert_eq!(total("/api/v1/anomalies"), seeded.anomalies as i64);
    assert_eq!(total("/api/v1/anomalies?metric=web42*"), 4 * PER_METRIC);
    let training = api(&format!("/api/v1/anomalies/{}", seeded.training));
    assert_eq!(
        training["check"]["series"].as_array().map(Vec::len),
        Some(FULL_POINTS as usize)
    );
    assert_eq!(training["profiles"].as_array().map(Vec::len), Some(2));
    let states: Vec<String> = AnomalyState::ALL
        .iter()
        .map(|s| format!("{s} {}", total(&format!("/api/v1/anomalies?state={s}"))))
        .collect();
    println!("{name}: states: {}", states.join(", "));

    let before = load();
    let mut rows = Vec::new();
    for page in &pages {
        let url = fixture.url(page);
        let mut took = Vec::with_capacity(TIMED);
        let mut bytes = 0;
        rt.block_on(async {
            for _ in 0..5 {
                client.get(&url, Some(&cookie)).await;
            }
            for _ in 0..TIMED {
                let started = Instant::now();
                let r = client.get(&url, Some(&cookie)).await;
                took.push(started.elapsed());
                bytes = r.body.len();
            }
        });
        took.sort();
        rows.push(Timing {
            page: page.clone(),
            p50: took[TIMED / 2],
            p99: took[(TIMED * 99).div_ceil(100) - 1],
            max: took[TIMED - 1],
            bytes,
        });
    }
    let after = load();
    let report = table(name, &rows, (&before, &after));
    println!("{report}");

    let mut group = criterion.benchmark_group(format!("pages/{name}"));
    for page in &pages {
        let url = fixture.url(page);
        group.bench_function(page.as_str(), |b| {
            b.iter(|| rt.block_on(client.get(&url, Some(&cookie))).status)
        });
    }
    group.finish();

    let tag = fixture
        .topics
        .datapoints
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_owned();
    rt.block_on(fixture.stop());
    if backend == Backend::Sqlite && !tag.is_empty() {
        let _ =
            std::fs::remove_dir_all(std::env::temp_dir().join(format!("skyline-console-{tag}")));
    }
    format!(
        "{}{report}",
        format_args!("{name}: seeding took {:.1} s\n", seeded.took.as_secs_f64())
    )
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut criterion = Criterion::default()
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    let only = std::env::var("SKYLINE_BENCH_BACKENDS").unwrap_or_default();
    let mut reports = Vec::new();
    for (backend, name) in [(Backend::Sqlite, "sqlite"), (Backend::MariaDb, "mariadb")] {
        if only.is_empty() || only.split(',').any(|b| b.trim() == name) {
            reports.push(bench_backend(&rt, &mut criterion, backend, name));
        }
    }
    criterion.final_summary();
    println!("\n==== summary ====");
    for r in reports {
        println!("{r}");
    }
}
