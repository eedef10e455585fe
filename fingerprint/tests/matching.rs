//! `judge` on real series from `../shared/data/`: every comparison path
//! (features profile, min-max, echo, each layer, motifs) once matching and
//! once not, plus outside input that must not panic.
//!
//! NAB series are at 5-minute resolution (a day is 288 points); the motif
//! tests relabel real values at 60 s, as a FULL_DURATION series of 1 440
//! points is in production.

use fingerprint::matching::{
    judge, profile_features, Check, How, Layers, LayersError, MatchSettings, MotifKind, Profile,
    ProfileCache, Verdict,
};
use fingerprint::Features;
use uuid::Uuid;

/// A NAB CSV (`timestamp,value` with a header) as `(ts, value)` points.
fn nab(rel: &str) -> Vec<(i64, f64)> {
    numeric::reference::read_nab(rel)
}

fn window(rel: &str, start: usize, len: usize) -> Vec<(i64, f64)> {
    nab(rel)[start..start + len].to_vec()
}

/// The values of `series` relabelled at 60 s steps ending at `end`.
fn at_one_minute(values: &[f64], end: i64) -> Vec<(i64, f64)> {
    let n = values.len() as i64;
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| (end - (n - 1 - i as i64) * 60, v))
        .collect()
}

fn values(series: &[(i64, f64)]) -> Vec<f64> {
    series.iter().map(|p| p.1).collect()
}

/// A distinct id per call.
fn fresh_id() -> Uuid {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    Uuid::from_u128(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) as u128)
}

fn profile(series: Vec<(i64, f64)>, full_duration: i64) -> Profile {
    let (features, features_sum) = profile_features(&values(&series));
    Profile {
        id: fresh_id(),
        full_duration,
        generation: 0,
        features,
        features_sum,
        series,
        layers: None,
        echo: false,
        cache: ProfileCache::default(),
    }
}

/// A profile with no features (never compared by features) and layers.
fn layers_profile(layers: Layers) -> Profile {
    Profile {
        id: fresh_id(),
        full_duration: 86_400,
        generation: 0,
        features: Features::from_pairs([]),
        features_sum: 0.0,
        series: Vec::new(),
        layers: Some((fresh_id(), layers)),
        echo: false,
        cache: ProfileCache::default(),
    }
}

/// Default settings with motifs off (the features tests are about
/// features).
fn no_motifs() -> MatchSettings {
    MatchSettings {
        motifs_enabled: false,
        ..MatchSettings::default()
    }
}

fn check(series: &[(i64, f64)], full_duration: i64) -> Check<'_> {
    Check {
        timestamp: series.last().map_or(0, |p| p.0),
        series,
        full_duration,
        echo_series: None,
    }
}

fn how(v: &Verdict) -> Option<How> {
    v.matched.as_ref().map(|m| m.how)
}

const SMALL_NOISE: &str = "artificialNoAnomaly/art_daily_small_noise.csv";
const EC2_CPU: &str = "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv";
const JUMPSUP: &str = "artificialWithAnomaly/art_daily_jumpsup.csv";
const RDS_CPU: &str = "realAWSCloudwatch/rds_cpu_utilization_e47b3b.csv";
/// Points in a day at NAB's 5 minutes.
const DAY: usize = 288;

// ---------------------------------------------------------------- features

#[test]
fn features_profile_matches_the_next_similar_day() {
    // five days as the profile, the same five days shifted by one day as
    // the check: a daily-seasonal series looks the same
    let p = profile(window(SMALL_NOISE, 0, 5 * DAY), 86_400);
    let series = window(SMALL_NOISE, DAY, 5 * DAY);
    let v = judge(&check(&series, 86_400), &[&p], &no_motifs());
    let m = v.matched.as_ref().expect("the next days match");
    assert_eq!(m.how, How::FeaturesProfile);
    assert_eq!(m.profile_id, p.id);
    assert!(m.percent_different.unwrap() < 1.0);
    assert!(m.common_features.unwrap() > 100);
    assert_eq!(v.profiles_checked, 1);
    assert!(v.features_sum.is_finite() && v.features_sum != 0.0);
}

#[test]
fn features_profile_does_not_match_a_different_series() {
    let p = profile(window(SMALL_NOISE, 0, 5 * DAY), 86_400);
    let series = window(EC2_CPU, 0, 5 * DAY);
    let v = judge(&check(&series, 86_400), &[&p], &no_motifs());
    assert_eq!(v.matched, None);
    assert_eq!(v.profiles_checked, 1);
}

#[test]
fn profiles_at_other_durations_are_not_compared_by_features() {
    let series = window(SMALL_NOISE, 0, 5 * DAY);
    let p = profile(series.clone(), 604_800);
    let v = judge(&check(&series, 86_400), &[&p], &no_motifs());
    assert_eq!(v.matched, None);
    assert_eq!(v.profiles_checked, 0);
}

// ----------------------------------------------------------------- min-max

#[test]
fn minmax_matches_a_rescaled_similar_series() {
    // the profile: five days; the check: the next five days at 105 %
    // (plain features differ by more than 1 %, the ranges are within 15 %
    // and the scaled shapes agree)
    let p = profile(window(SMALL_NOISE, 0, 5 * DAY), 86_400);
    let series: Vec<(i64, f64)> = window(SMALL_NOISE, DAY, 5 * DAY)
        .into_iter()
        .map(|(t, v)| (t, v * 1.05))
        .collect();
    let settings = no_motifs();
    let v = judge(&check(&series, 86_400), &[&p], &settings);
    let m = v.matched.as_ref().expect("min-max matches");
    assert_eq!(m.how, How::MinMax, "{m:?}");
    let pd = m.percent_different.unwrap();
    assert!(pd > 0.0 && pd < 1.0, "{pd}");
    // without min-max nothing matches: the plain features differ
    let off = MatchSettings {
        minmax_enabled: false,
        ..settings
    };
    assert_eq!(judge(&check(&series, 86_400), &[&p], &off).matched, None);
}

#[test]
fn minmax_does_not_match_a_range_outside_the_tolerance() {
    let p = profile(window(SMALL_NOISE, 0, 5 * DAY), 86_400);
    // 130 %: the maximum leaves the 15 % band
    let series: Vec<(i64, f64)> = window(SMALL_NOISE, DAY, 5 * DAY)
        .into_iter()
        .map(|(t, v)| (t, v * 1.3))
        .collect();
    let v = judge(&check(&series, 86_400), &[&p], &no_motifs());
    assert_eq!(v.matched, None);
}

#[test]
fn minmax_exact_zero_difference_is_not_a_match() {
    // the reference's `if pd:`: identical scaled series give pd == 0, which
    // the min-max comparison does not count as a match
    let series = window(EC2_CPU, 100, 5 * DAY);
    let p = profile(series.clone(), 86_400);
    let vals = values(&series);
    let c = fingerprint::matching::MinMaxCheck::new(&vals);
    assert_eq!(c.matches(&p, 0.15, 1.0), None);
}

// -------------------------------------------------------------------- echo

fn echo_settings() -> MatchSettings {
    no_motifs()
}

#[test]
fn echo_matches_a_seasonal_check_against_a_full_duration_profile() {
    // a 7-day Mirage check whose last-24 h echo series is like a 1-day
    // profile: compared with the echo thresholds
    let week = window(SMALL_NOISE, 0, 7 * DAY);
    let echo = window(SMALL_NOISE, 7 * DAY, DAY);
    let p = profile(window(SMALL_NOISE, 6 * DAY, DAY), 86_400);
    let c = Check {
        timestamp: echo.last().unwrap().0,
        series: &week,
        full_duration: 604_800,
        echo_series: Some(&echo),
    };
    let v = judge(&c, &[&p], &echo_settings());
    let m = v.matched.as_ref().expect("echo matches");
    assert!(m.echo);
    assert!(matches!(m.how, How::FeaturesProfile | How::MinMax));
    assert_eq!(v.profiles_checked, 1);
    // echo off: the 604800 check has no profile at its duration
    let off = MatchSettings {
        echo_enabled: false,
        ..echo_settings()
    };
    assert_eq!(judge(&c, &[&p], &off).matched, None);
}

#[test]
fn echo_does_not_match_a_different_last_day() {
    let week = window(SMALL_NOISE, 0, 7 * DAY);
    let echo = window(EC2_CPU, 7 * DAY, DAY);
    let p = profile(window(SMALL_NOISE, 6 * DAY, DAY), 86_400);
    let c = Check {
        timestamp: echo.last().unwrap().0,
        series: &week,
        full_duration: 604_800,
        echo_series: Some(&echo),
    };
    let v = judge(&c, &[&p], &echo_settings());
    assert_eq!(v.matched, None);
    assert_eq!(v.profiles_checked, 1);
}

// ------------------------------------------------------------------ layers

/// A real day of CPU values and the layers verdict on it.
fn layers_verdict(json: &str, settings: &MatchSettings) -> (Verdict, Vec<(i64, f64)>) {
    let series = window(EC2_CPU, 2000, DAY);
    let p = layers_profile(Layers::from_json(json).expect("valid layers"));
    let v = judge(&check(&series, 86_400), &[&p], settings);
    (v, series)
}

fn last(series: &[(i64, f64)], k: usize) -> Vec<f64> {
    series[series.len() - k..].iter().map(|p| p.1).collect()
}

#[test]
fn layer_e_matches_when_any_of_the_last_values_is_expected() {
    let series = window(EC2_CPU, 2000, DAY);
    let l5 = last(&series, 5);
    let lo = l5.iter().cloned().fold(f64::INFINITY, f64::min);
    let hi = l5.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    assert!(lo < hi, "{l5:?}");
    // E boundary between the smallest and the largest of the last 5: only
    // some of them are "<=" it, and ANY is enough
    let e = (lo + hi) / 2.0;
    let json = format!(
        r#"{{"d": {{"condition": ">", "boundary": 1000}}, "e": {{"condition": "<=", "boundary": {e}, "times_in_row": 5}}}}"#
    );
    let settings = MatchSettings {
        layers_approximately_close: false,
        ..no_motifs()
    };
    let (v, _) = layers_verdict(&json, &settings);
    let m = v.matched.expect("E matches");
    assert_eq!(m.how, How::Layers);
    assert!(!m.approx_close);
    assert!(m.layer_id.is_some());
}

#[test]
fn layer_e_does_not_match_when_no_last_value_is_expected() {
    let series = window(EC2_CPU, 2000, DAY);
    let lo = last(&series, 5).into_iter().fold(f64::INFINITY, f64::min);
    let json = format!(
        r#"{{"d": {{"condition": ">", "boundary": 1000}}, "e": {{"condition": "<", "boundary": {}, "times_in_row": 5}}}}"#,
        lo - 5.0
    );
    let settings = MatchSettings {
        layers_approximately_close: false,
        ..no_motifs()
    };
    assert_eq!(layers_verdict(&json, &settings).0.matched, None);
}

#[test]
fn layer_d_discards_the_last_value() {
    let series = window(EC2_CPU, 2000, DAY);
    let x = series.last().unwrap().1;
    let e = r#""e": {"condition": "<=", "boundary": 1000, "times_in_row": 1}"#;
    // the last value is at or above D (">" evaluated as ">=")
    let json = format!(r#"{{"d": {{"condition": ">", "boundary": {x}}}, {e}}}"#);
    let settings = MatchSettings {
        layers_approximately_close: false,
        ..no_motifs()
    };
    assert_eq!(layers_verdict(&json, &settings).0.matched, None);
    // D above the last value: not discarded, E matches
    let json = format!(
        r#"{{"d": {{"condition": ">", "boundary": {}}}, {e}}}"#,
        x + 1.0
    );
    assert_eq!(how(&layers_verdict(&json, &settings).0), Some(How::Layers));
}

#[test]
fn layer_d1_discards_on_any_of_the_last_values() {
    let series = window(EC2_CPU, 2000, DAY);
    let l3 = last(&series, 3);
    let lo = l3.iter().cloned().fold(f64::INFINITY, f64::min);
    let head = r#""d": {"condition": ">", "boundary": 1000}, "e": {"condition": "<=", "boundary": 1000, "times_in_row": 1}"#;
    let settings = MatchSettings {
        layers_approximately_close: false,
        ..no_motifs()
    };
    // one of the last 3 is <= lo: discarded
    let json =
        format!(r#"{{{head}, "d1": {{"condition": "<", "boundary": {lo}, "times_in_row": 3}}}}"#);
    assert_eq!(layers_verdict(&json, &settings).0.matched, None);
    // none of the last 3 is below lo - 1: not discarded
    let json = format!(
        r#"{{{head}, "d1": {{"condition": "<", "boundary": {}, "times_in_row": 3}}}}"#,
        lo - 1.0
    );
    assert_eq!(how(&layers_verdict(&json, &settings).0), Some(How::Layers));
}

#[test]
fn layer_approximately_close_makes_the_difference() {
    let series = window(EC2_CPU, 2000, DAY);
    let x = series.last().unwrap().1;
    assert!(x > 40.0, "this window's last value is {x}");
    // E "<" a boundary B (≥ 30) just below x: x <= B + ceil(B·5 %) only
    let b = x - 1.0;
    let json = format!(
        r#"{{"d": {{"condition": ">", "boundary": 1000}}, "e": {{"condition": "<", "boundary": {b}, "times_in_row": 1}}}}"#
    );
    let (v, _) = layers_verdict(&json, &no_motifs());
    let m = v.matched.expect("matches with the tolerance");
    assert!(m.approx_close);
    let strict = MatchSettings {
        layers_approximately_close: false,
        ..no_motifs()
    };
    assert_eq!(layers_verdict(&json, &strict).0.matched, None);
}

/// Layers that always match on the CPU day, limited by `extra` (es/f1/f2).
fn limited(extra: &str) -> String {
    format!(
        r#"{{"d": {{"condition": ">", "boundary": 1000}}, "e": {{"condition": "<=", "boundary": 1000, "times_in_row": 1}}{extra}}}"#
    )
}

#[test]
fn layer_es_applies_only_on_its_days() {
    let series = window(EC2_CPU, 2000, DAY);
    let t = series.last().unwrap().0;
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let today = fingerprint::matching::layers::weekday(t);
    let settings = no_motifs();
    let on = limited(&format!(
        r#", "es": ["{}", "{}"]"#,
        days[today],
        days[(today + 3) % 7]
    ));
    assert_eq!(how(&layers_verdict(&on, &settings).0), Some(How::Layers));
    let off = limited(&format!(r#", "es": ["{}"]"#, days[(today + 1) % 7]));
    assert_eq!(layers_verdict(&off, &settings).0.matched, None);
}

#[test]
fn layer_f1_f2_applies_only_inside_its_time_of_day() {
    let series = window(EC2_CPU, 2000, DAY);
    let t = series.last().unwrap().0;
    let minute = fingerprint::matching::layers::minute_of_day(t);
    let hm = |m: u32| format!("{:02}:{:02}", (m % 1440) / 60, m % 60);
    let settings = no_motifs();
    let cases = [
        // inclusive window around the check's minute
        (
            format!(
                r#", "f1": "{}", "f2": "{}""#,
                hm(minute + 1439),
                hm(minute + 1)
            ),
            true,
        ),
        (
            format!(r#", "f1": "{}", "f2": "{}""#, hm(minute), hm(minute)),
            true,
        ),
        // ends just before it
        (
            format!(
                r#", "f1": "{}", "f2": "{}""#,
                hm(minute + 1380),
                hm(minute + 1439)
            ),
            false,
        ),
        // wrapping past midnight, the check's minute outside
        (
            format!(
                r#", "f1": "{}", "f2": "{}""#,
                hm(minute + 1),
                hm(minute + 1438)
            ),
            false,
        ),
        // only f1: from f1 to the end of the day
        (format!(r#", "f1": "{}""#, hm(minute + 1)), minute == 1439),
        // only f2: from midnight to f2
        (format!(r#", "f2": "{}""#, hm(minute)), true),
    ];
    for (extra, expected) in cases {
        let v = layers_verdict(&limited(&extra), &settings).0;
        assert_eq!(v.matched.is_some(), expected, "minute {minute}, {extra}");
    }
}

#[test]
fn layers_from_json_validates() {
    let ok = limited(r#", "es": ["Mon", "sun"], "f1": "23:00", "f2": "01:30""#);
    let l = Layers::from_json(&ok).unwrap();
    assert_eq!(
        l.es.as_deref(),
        Some(&["mon".to_string(), "sun".to_string()][..])
    );
    let bad = |s: &str| Layers::from_json(s).unwrap_err();
    assert!(matches!(
        bad(&limited(r#", "es": ["monday"]"#)),
        LayersError::Day(_)
    ));
    assert!(matches!(
        bad(&limited(r#", "es": []"#)),
        LayersError::NoDays
    ));
    assert!(matches!(
        bad(&limited(r#", "f1": "24:00""#)),
        LayersError::Time { .. }
    ));
    assert!(matches!(
        bad(&limited(r#", "f2": "7:30""#)),
        LayersError::Time { .. }
    ));
    assert!(matches!(
        bad(
            r#"{"d": {"condition": ">", "boundary": 1}, "e": {"condition": "<", "boundary": 1, "times_in_row": 0}}"#
        ),
        LayersError::TimesInRow { layer: "e", .. }
    ));
    assert!(matches!(
        bad(
            r#"{"d": {"condition": "~", "boundary": 1}, "e": {"condition": "<", "boundary": 1, "times_in_row": 1}}"#
        ),
        LayersError::Json(_)
    ));
    assert!(matches!(
        bad(r#"{"e": {"condition": "<", "boundary": 1, "times_in_row": 1}}"#),
        LayersError::Json(_)
    ));
    let msg = bad(&limited(r#", "es": ["xyz"]"#)).to_string();
    assert!(msg.contains("xyz") && msg.contains("mon"), "{msg}");
}

#[test]
fn layers_on_short_or_nan_series_do_not_match() {
    let l = Layers::from_json(&limited("")).unwrap();
    assert!(!l.evaluate(&[], 0, true).matched);
    assert!(!l.evaluate(&[(0, f64::NAN)], 0, true).matched);
    let l = Layers::from_json(
        r#"{"d": {"condition": ">", "boundary": 100}, "e": {"condition": "<", "boundary": 50, "times_in_row": 5}}"#,
    )
    .unwrap();
    // fewer values than times_in_row
    assert!(!l.evaluate(&[(0, 1.0), (60, 2.0)], 60, true).matched);
    // NaN points are dropped before evaluation
    let s = [
        (0, 1.0),
        (60, f64::NAN),
        (120, 2.0),
        (180, 3.0),
        (240, 4.0),
        (300, 5.0),
    ];
    assert!(l.evaluate(&s, 300, false).matched);
}

// ------------------------------------------------------------------ motifs

/// A deterministic perturbation in ±`amount` (relative).
fn perturb(values: &[f64], amount: f64, seed: u64) -> Vec<f64> {
    let mut s = seed;
    values
        .iter()
        .map(|v| {
            s = s
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let u = (s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
            v * (1.0 + amount * u)
        })
        .collect()
}

const END: i64 = 1_700_000_000 - 1_700_000_000 % 60;

#[test]
fn motif_matches_a_perturbed_piece_of_a_profile() {
    let profile_values = values(&window(RDS_CPU, 100, 1440));
    let p = profile(at_one_minute(&profile_values, END - 86_400 * 3), 86_400);
    // the check's last 720 points: profile[300..1020] with ±0.5 % noise
    let mut check_values = values(&window(RDS_CPU, 2500, 720));
    check_values.extend(perturb(&profile_values[300..1020], 0.005, 7));
    let series = at_one_minute(&check_values, END);
    let v = judge(&check(&series, 86_400), &[&p], &MatchSettings::default());
    let m = v.matched.as_ref().expect("motif matches");
    assert_eq!(m.how, How::Motif);
    assert_eq!(m.profile_id, p.id);
    let motif = m.motif.unwrap();
    assert_eq!((motif.index, motif.size), (300, 720), "{motif:?}");
    assert_eq!(motif.kind, MotifKind::AllInRange);
    assert!(
        motif.distance < 5.0 && motif.area_percent_diff < 1.0,
        "{motif:?}"
    );
    // motifs come first: no features were calculated
    assert_eq!(v.profiles_checked, 0);
}

#[test]
fn motif_exact_copy_is_an_exact_match() {
    let profile_values = values(&window(RDS_CPU, 100, 1440));
    let p = profile(at_one_minute(&profile_values, END - 86_400 * 3), 86_400);
    let mut check_values = values(&window(RDS_CPU, 2500, 720));
    check_values.extend_from_slice(&profile_values[200..920]);
    let series = at_one_minute(&check_values, END);
    let m = judge(&check(&series, 86_400), &[&p], &MatchSettings::default())
        .matched
        .unwrap();
    let motif = m.motif.unwrap();
    assert_eq!(
        (motif.index, motif.size, motif.kind),
        (200, 720, MotifKind::Exact)
    );
    assert!(motif.distance < 1e-6);
}

#[test]
fn motif_does_not_match_a_different_shape() {
    let profile_values = values(&window(RDS_CPU, 100, 1440));
    let p = profile(at_one_minute(&profile_values, END - 86_400 * 3), 86_400);
    let settings = MatchSettings {
        minmax_enabled: false,
        ..MatchSettings::default()
    };
    // a daily square-ish artificial series: other range, other shape
    let other = values(&window(JUMPSUP, 0, 1440));
    let series = at_one_minute(&other, END);
    let v = judge(&check(&series, 86_400), &[&p], &settings);
    assert_ne!(how(&v), Some(How::Motif), "{v:?}");
    // the profile's own range, but the order of its values scrambled
    let mut scrambled = profile_values.clone();
    let mut s = 11u64;
    for i in (1..scrambled.len()).rev() {
        s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        scrambled.swap(i, (s >> 33) as usize % (i + 1));
    }
    let series = at_one_minute(&scrambled, END);
    let v = judge(&check(&series, 86_400), &[&p], &settings);
    assert_ne!(how(&v), Some(How::Motif), "{v:?}");
}

#[test]
fn motif_at_five_minutes_uses_rescaled_batches() {
    // 5 days at 300 s: batches 288/144/72/36 points with max distances
    // 6/5/4/4, all on the mass2_batch path; an aligned window copied with a
    // little noise is found
    let profile_series = window(RDS_CPU, 0, 1440);
    let p = profile(profile_series.clone(), 86_400);
    let pv = values(&profile_series);
    let mut cv = values(&window(RDS_CPU, 2000, 1440 - 288));
    cv.extend(perturb(&pv[576..864], 0.002, 3));
    let series: Vec<(i64, f64)> = cv
        .iter()
        .enumerate()
        .map(|(i, &v)| (END - (cv.len() - 1 - i) as i64 * 300, v))
        .collect();
    let m = judge(&check(&series, 86_400), &[&p], &MatchSettings::default())
        .matched
        .expect("matches");
    let motif = m.motif.expect("a motif match");
    assert_eq!(motif.index % motif.size, 0, "{motif:?}");
    assert!(motif.distance <= 6.0, "{motif:?}");
}

// ----------------------------------------------------------- outside input

#[test]
fn empty_constant_and_nan_checks_do_not_panic() {
    let p = profile(window(SMALL_NOISE, 0, 5 * DAY), 86_400);
    let mut lp = layers_profile(Layers::from_json(&limited("")).unwrap());
    lp.series = window(SMALL_NOISE, 0, 100);
    let settings = MatchSettings::default();
    let empty: Vec<(i64, f64)> = Vec::new();
    let constant: Vec<(i64, f64)> = (0..1440).map(|i| (END + i * 60, 3.0)).collect();
    let mut nan = at_one_minute(&values(&window(EC2_CPU, 0, 1440)), END);
    for (i, p) in nan.iter_mut().enumerate() {
        if i % 7 == 0 {
            p.1 = f64::NAN;
        }
        if i % 11 == 0 {
            p.1 = f64::INFINITY;
        }
    }
    let all_nan: Vec<(i64, f64)> = (0..50).map(|i| (i * 60, f64::NAN)).collect();
    let short = vec![(0, 1.0), (60, 2.0)];
    for s in [&empty, &constant, &nan, &all_nan, &short] {
        let c = Check {
            timestamp: END,
            series: s,
            full_duration: 86_400,
            echo_series: Some(s),
        };
        let v = judge(&c, &[&p], &settings);
        assert_ne!(how(&v), Some(How::FeaturesProfile));
        // layers still evaluate (and, D/E being loose, match where values exist)
        let _ = judge(&c, &[&p, &lp], &settings);
        let c = Check {
            full_duration: 604_800,
            ..c
        };
        let _ = judge(&c, &[&p, &lp], &settings);
    }
    // profiles with empty or NaN series
    let mut bad = profile(all_nan.clone(), 86_400);
    bad.series = all_nan.clone();
    let empty_profile = profile(Vec::new(), 86_400);
    let series = at_one_minute(&values(&window(EC2_CPU, 0, 1440)), END);
    let v = judge(&check(&series, 86_400), &[&bad, &empty_profile], &settings);
    assert_eq!(v.matched, None);
}

#[test]
fn first_match_wins_in_the_given_order() {
    let a = profile(window(SMALL_NOISE, 0, 5 * DAY), 86_400);
    let b = profile(window(SMALL_NOISE, 0, 5 * DAY), 86_400);
    let series = window(SMALL_NOISE, DAY, 5 * DAY);
    let v = judge(&check(&series, 86_400), &[&b, &a], &no_motifs());
    assert_eq!(v.matched.unwrap().profile_id, b.id);
    assert_eq!(v.profiles_checked, 1);
}
