//! `judge` for one check against 100 profiles, worst case: nothing
//! matches, so motifs, every features comparison (with its min-max
//! fallback) and every profile's layers are tried.
//!
//! * The check and the profiles are real 1 440-point series (windows of
//!   NAB's `realAWSCloudwatch` and artificial series, relabelled at 60 s so
//!   they are a FULL_DURATION day at one minute, as in production).
//! * "1 000 motifs": with the default batches at 60 s, each profile is
//!   searched with three query sizes (1 440 is refused by MASS3's length
//!   guard on a 1 440-point profile): 720 on the sliding path (721 window
//!   distances, all candidates), 360 and 180 on the mass2_batch path (4 and
//!   8 aligned windows, 1 and 6 kept). That is 733 distance computations
//!   and 728 candidate motifs per profile: 73 300 distances and 72 800
//!   candidate motifs per check, far more than 1 000.
//! * Profiles' caches are warm (a service keeps profiles in memory):
//!   `Profile::prepare` runs once before timing; the cold first call is
//!   printed separately.
//!
//! Criterion reports mean/median; the p99 is measured here by timing 1 000
//! calls with `Instant` and printed as `judge p50/p99`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion};
use fingerprint::matching::{
    judge, profile_features, Check, Layers, MatchSettings, Profile, ProfileCache,
};
use uuid::Uuid;

const LEN: usize = 1_440;
const END: i64 = 1_700_000_000 - 1_700_000_000 % 60;

fn shared_data() -> PathBuf {
    std::env::var_os("SKYLINE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"))
}

fn csv_values(path: &PathBuf) -> Vec<f64> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .skip(1)
        .filter_map(|l| l.rsplit(',').next()?.trim().parse::<f64>().ok())
        .collect()
}

fn files(dir: &str) -> Vec<PathBuf> {
    let dir = shared_data().join(dir);
    let mut out: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    out.sort();
    out
}

fn at_one_minute(values: &[f64], end: i64) -> Vec<(i64, f64)> {
    let n = values.len() as i64;
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| (end - (n - 1 - i as i64) * 60, v))
        .collect()
}

/// The check's file: kept out of the profiles.
const CHECK_FILE: &str = "ec2_network_in_5abac7.csv";

/// 100 profiles: 1 440-point windows (every 720 points) of the NAB files,
/// a quarter of them with layers that do not match the check.
fn profiles() -> Vec<Profile> {
    let mut sources = files("nab/realAWSCloudwatch");
    sources.extend(files("nab/artificialWithAnomaly"));
    sources.extend(files("nab/artificialNoAnomaly"));
    sources.retain(|p| !p.ends_with(CHECK_FILE));
    let layers = Layers::from_json(
        r#"{"d": {"condition": ">", "boundary": 0}, "e": {"condition": "<", "boundary": 1, "times_in_row": 30}}"#,
    )
    .unwrap();
    let mut out = Vec::new();
    'files: for path in &sources {
        let v = csv_values(path);
        let mut start = 0;
        while start + LEN <= v.len() {
            let series = at_one_minute(&v[start..start + LEN], END - 86_400 * 7);
            let (features, features_sum) = profile_features(&v[start..start + LEN]);
            let n = out.len() as u128;
            out.push(Profile {
                id: Uuid::from_u128(n + 1),
                full_duration: 86_400,
                generation: 0,
                features,
                features_sum,
                series,
                layers: n
                    .is_multiple_of(4)
                    .then(|| (Uuid::from_u128(1000 + n), layers.clone())),
                echo: false,
                cache: ProfileCache::default(),
            });
            if out.len() == 100 {
                break 'files;
            }
            start += 720;
        }
    }
    assert_eq!(out.len(), 100, "not enough data for 100 profiles");
    out
}

fn bench(c: &mut Criterion) {
    let settings = MatchSettings::default();
    let profiles = profiles();
    let refs: Vec<&Profile> = profiles.iter().collect();
    let check_values = csv_values(&shared_data().join("nab/realAWSCloudwatch").join(CHECK_FILE));
    let series = at_one_minute(&check_values[3000..3000 + LEN], END);
    let check = Check {
        timestamp: END,
        series: &series,
        full_duration: 86_400,
        echo_series: None,
    };

    let t = Instant::now();
    let verdict = judge(&check, &refs, &settings);
    println!("judge cold (profiles' caches empty): {:?}", t.elapsed());
    assert_eq!(verdict.matched, None, "the bench's check must not match");
    assert_eq!(verdict.profiles_checked, 100);
    for p in &profiles {
        p.prepare(&settings);
    }

    let mut times: Vec<Duration> = (0..1_000)
        .map(|_| {
            let t = Instant::now();
            let v = judge(&check, &refs, &settings);
            let e = t.elapsed();
            assert!(v.matched.is_none());
            e
        })
        .collect();
    times.sort();
    println!(
        "judge p50/p99 over 1000 calls (100 profiles, 72 800 candidate motifs): {:?} / {:?} (max {:?})",
        times[499],
        times[989],
        times[999]
    );

    let mut group = c.benchmark_group("matching");
    group.sample_size(50);
    group.bench_function("judge_100_profiles_no_match", |b| {
        b.iter(|| judge(&check, &refs, &settings))
    });
    let motifs_only = MatchSettings {
        minmax_enabled: false,
        ..settings.clone()
    };
    group.bench_function("judge_100_profiles_no_minmax", |b| {
        b.iter(|| judge(&check, &refs, &motifs_only))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
