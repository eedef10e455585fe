//! `skyline rematch` as an operator runs it, against a real broker: past
//! checks that alerted, a profile added since, and the report of which
//! would now be deflected — which the fingerprint service, replaying the
//! same checks, then confirms.

#[path = "support/fingerprint.rs"]
mod fp;
mod support;

use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::time::Duration;

use fp::{check, day_window, produce, profile, verdicts, DAILY, NOISY};
use support::Run;
use topics::ids::match_id;
use topics::kafka::{ensure_topics, KafkaConfig};
use topics::names::TopicNames;
use topics::{MatchMethod, MatchResult};
use uuid::Uuid;

const METRIC: &str = "rematch.daily";
const OTHER: &str = "rematch.other";

fn kafka(run: &Run) -> KafkaConfig {
    KafkaConfig {
        group_id_prefix: run.id.clone(),
        ..run.kafka_config()
    }
}

fn rematch(run: &Run, extra: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_skyline"))
        .args(["rematch", "--since", "2014-04-03", "--idle-seconds", "2"])
        .args(extra)
        .arg("--config")
        .arg(&run.config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn rematch_reports_what_todays_profiles_deflect() {
    let run = Run::new("rematch", "");
    let kafka = kafka(&run);
    let names = TopicNames {
        checks: run.topic("checks"),
        matches: run.topic("matches"),
        profiles: run.topic("profiles"),
        ..TopicNames::default()
    };
    ensure_topics(
        &kafka,
        &[&names.checks, &names.matches, &names.profiles],
        Some(3),
    )
    .await
    .unwrap();

    // Past checks, all of which alerted (judged with no profile at all):
    // days of the daily pattern, days of noise, and one before --since.
    let daily: Vec<_> = [3, 5, 8]
        .into_iter()
        .map(|d| check(METRIC, day_window(DAILY, d), &["smtp"]))
        .collect();
    let noisy: Vec<_> = [2, 6]
        .into_iter()
        .map(|d| check(METRIC, day_window(NOISY, d), &["smtp"]))
        .collect();
    let other = check(OTHER, day_window(DAILY, 4), &["topic"]);
    let too_old = check(METRIC, day_window(DAILY, 0), &["smtp"]);
    let checks: Vec<_> = daily
        .iter()
        .chain(&noisy)
        .chain([&other, &too_old])
        .cloned()
        .collect();
    produce(&kafka, &names.checks, &checks, |c| &c.metric).await;
    let originals: Vec<MatchResult> = checks
        .iter()
        .map(|c| MatchResult {
            id: match_id(c.id, &[]),
            check_id: c.id,
            anomaly_id: c.anomaly_id,
            metric: c.metric.clone(),
            timestamp: c.timestamp,
            matched: false,
            method: MatchMethod::None,
            profile_id: None,
            layer_id: None,
            percent_different: None,
            distance: None,
            decided_at_ms: 1_000,
            echo: false,
            profiles_checked: 0,
            features_sum: None,
            common_features: None,
            approx_close: false,
            motif: None,
        })
        .collect();
    produce(&kafka, &names.matches, &originals, |m| &m.metric).await;

    // Since then, an operator profiled day 1 of the pattern.
    let p = profile(METRIC, day_window(DAILY, 1));
    produce(&kafka, &names.profiles, std::slice::from_ref(&p), |p| {
        &p.metric
    })
    .await;

    // The report, twice: byte for byte the same.
    let text = rematch(&run, &[]);
    let again = rematch(&run, &[]);
    assert_eq!(text.stdout, again.stdout, "deterministic output");
    let text = String::from_utf8(text.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 7, "six checks and a summary:\n{text}");
    assert_eq!(
        lines[6],
        "6 checks: 3 would now be deflected, 3 would not; 3 newly deflected, 0 no longer deflected, 3 unchanged, 0 with no verdict on record",
        "{text}"
    );
    // Each line says in plain terms what changed.
    let changed = "would now be deflected by profile";
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains(changed)
                && l.ends_with("; a change: it was not deflected when judged"))
            .count(),
        3,
        "{text}"
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains("would not be deflected") && l.ends_with("; as when judged"))
            .count(),
        3,
        "{text}"
    );
    assert!(!text.contains(&too_old.anomaly_id.to_string()), "{text}");

    let json = rematch(&run, &["--json"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let rows = report["checks"].as_array().unwrap();
    let mut reported: BTreeMap<Uuid, (bool, Option<Uuid>, Uuid)> = BTreeMap::new();
    let mut last_key = (0i64, String::new());
    for row in rows {
        let check: Uuid = row["check_id"].as_str().unwrap().parse().unwrap();
        let deflected = row["now"] == "deflected";
        let profile = row["profile_id"].as_str().map(|s| s.parse().unwrap());
        let id: Uuid = row["match_id"].as_str().unwrap().parse().unwrap();
        let key = (
            row["timestamp"].as_i64().unwrap(),
            row["metric"].as_str().unwrap().to_owned(),
        );
        assert!(key >= last_key, "sorted by timestamp, metric");
        last_key = key;
        reported.insert(check, (deflected, profile, id));
    }
    for c in &daily {
        let (deflected, profile, id) = reported[&c.id];
        assert!(deflected, "day of the pattern now deflected");
        assert_eq!(profile, Some(p.profile_id));
        assert_eq!(id, match_id(c.id, &[p.profile_id]));
    }
    for c in &noisy {
        assert!(!reported[&c.id].0, "noise still alerts");
    }
    assert!(!reported[&other.id].0, "no profile for that metric");
    assert_eq!(report["summary"]["newly_deflected"], 3);
    let metric_only = rematch(&run, &["--json", "--metric", OTHER]);
    let only: serde_json::Value = serde_json::from_slice(&metric_only.stdout).unwrap();
    assert_eq!(only["summary"]["checks"], 1);

    // The service, replaying the same checks against today's profiles,
    // publishes exactly the verdicts rematch reported.
    let service = run.spawn(&["fingerprint"], "fingerprint");
    let ids: Vec<Uuid> = reported.keys().copied().collect();
    let now = verdicts(
        &kafka,
        &names.matches,
        &ids,
        |m| m.decided_at_ms != 1_000,
        Duration::from_secs(120),
    )
    .await;
    let mut service = service;
    let _ = service.kill();
    let _ = service.wait();
    assert_eq!(now.len(), ids.len(), "{}", run.log("fingerprint"));
    for (check, m) in &now {
        assert_eq!(
            (m.matched, m.profile_id, m.id),
            reported[check],
            "service and rematch agree on {check}"
        );
    }
}
