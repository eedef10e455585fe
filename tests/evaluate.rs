//! `skyline evaluate` as an operator runs it, on real NAB series: its
//! untrained run alerts exactly where `skyline backtest` does, the oracle
//! spends at most its budget and never labels inside a window, the JSON
//! carries the keys the README names, `--out` writes what it says, and bad
//! input is refused with the file or flag named.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn skyline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_skyline"))
        .args(args)
        .output()
        .expect("running skyline")
}

fn nab() -> PathBuf {
    support::shared_data().join("nab")
}

fn windows_file() -> String {
    nab().join("labels_windows.json").display().to_string()
}

fn out_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The rows of a CSV `--out` wrote, as header → value maps.
fn csv_rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .expect("a header")
        .split(',')
        .map(str::to_owned)
        .collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(str::to_owned))
                .collect()
        })
        .collect()
}

fn ok(out: &Output) -> &Output {
    assert!(
        out.status.success(),
        "skyline failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[test]
fn untrained_alerts_are_backtests_alerts() {
    for rel in [
        "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv",
        "realAWSCloudwatch/rds_cpu_utilization_e47b3b.csv",
        "artificialWithAnomaly/art_daily_jumpsup.csv",
    ] {
        let file = nab().join(rel);
        let file = file.to_str().unwrap();
        let dir = out_dir("evaluate-backtest");
        let backtest = dir.join("backtest.csv");
        ok(&skyline(&[
            "backtest",
            file,
            "--out",
            backtest.to_str().unwrap(),
        ]));
        let backtest_alerts: Vec<String> = csv_rows(&backtest)
            .into_iter()
            .filter(|r| r["alert"] == "1")
            .map(|r| r["timestamp"].clone())
            .collect();
        ok(&skyline(&[
            "evaluate",
            file,
            "--labels",
            &windows_file(),
            "--operator",
            "none",
            "--out",
            dir.to_str().unwrap(),
        ]));
        let stem = rel.trim_end_matches(".csv").replace('/', "__");
        let rows = csv_rows(&dir.join(format!("{stem}.csv")));
        let alerts = |column: &str| -> Vec<String> {
            rows.iter()
                .filter(|r| r[column] == "1")
                .map(|r| r["timestamp"].clone())
                .collect()
        };
        assert!(!backtest_alerts.is_empty(), "{rel}: backtest alerts");
        assert_eq!(alerts("untrained_alert"), backtest_alerts, "{rel}");
        assert_eq!(
            alerts("trained_alert"),
            backtest_alerts,
            "{rel}: nobody trains"
        );
        assert!(dir.join(format!("{stem}.png")).exists(), "{rel}: the graph");
    }
}

#[test]
fn the_oracle_spends_its_budget_on_false_alerts_only() {
    let dir = out_dir("evaluate-oracle");
    let family = nab().join("realAWSCloudwatch");
    let out = ok(&skyline(&[
        "evaluate",
        family.to_str().unwrap(),
        "--labels",
        &windows_file(),
        "--label-budget",
        "2",
        "--label-delay",
        "30m",
        "--json",
        "--out",
        dir.to_str().unwrap(),
    ]))
    .stdout
    .clone();
    let report: Value = serde_json::from_slice(&out).expect("one JSON object");
    for run in ["untrained", "trained"] {
        for key in [
            "alerts",
            "true_alerts",
            "false_alerts",
            "missed_windows",
            "deflections",
            "wrong_deflections",
            "labels",
            "nab_standard",
            "nab_low_fp",
            "nab_low_fn",
        ] {
            assert!(
                report["total"][run].get(key).is_some(),
                "total.{run}.{key} missing: {}",
                report["total"]
            );
        }
    }
    let series = report["series"].as_array().expect("series");
    assert_eq!(series.len(), 17, "every realAWSCloudwatch file");
    let (mut labels, mut deflections) = (0, 0);
    for s in series {
        let trained = &s["trained"];
        let spent = trained["labels"].as_u64().unwrap();
        assert!(spent <= 2, "{s}");
        assert_eq!(s["untrained"]["labels"], 0, "{s}");
        assert_eq!(s["untrained"]["deflections"], 0, "{s}");
        labels += spent;
        deflections += trained["deflections"].as_u64().unwrap();
        let score = trained["nab_standard"].as_f64();
        assert!(score.is_none_or(|v| v <= 100.0), "{s}");
    }
    assert!(
        labels > 0 && deflections > 0,
        "{labels} labels, {deflections} deflections"
    );
    // Labels fall on false alerts only: outside every window.
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "csv") || path.ends_with("series.csv") {
            continue;
        }
        for row in csv_rows(&path).iter().filter(|r| r["labelled"] == "1") {
            assert_eq!(row["in_window"], "0", "{}: {row:?}", path.display());
            checked += 1;
        }
    }
    assert_eq!(checked as u64, labels);
    let summary = csv_rows(&dir.join("series.csv"));
    assert_eq!(summary.len(), 2 * 17, "a row per series and run");
}

#[test]
fn with_no_budget_the_trained_run_is_the_untrained_one() {
    let file = nab().join("artificialWithAnomaly/art_daily_flatmiddle.csv");
    let out = ok(&skyline(&[
        "evaluate",
        file.to_str().unwrap(),
        "--labels",
        &windows_file(),
        "--label-budget",
        "0",
        "--json",
    ]))
    .stdout
    .clone();
    let report: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["total"]["untrained"], report["total"]["trained"]);
}

#[test]
fn bad_input_is_refused_with_what_is_wrong() {
    let dir = out_dir("evaluate-bad");
    let unlabelled = dir.join("mine.csv");
    std::fs::write(&unlabelled, "1700000000,1\n1700000060,2\n").unwrap();
    let unlabelled = unlabelled.to_str().unwrap();

    let out = skyline(&["evaluate", unlabelled, "--labels", &windows_file()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("mine.csv") && err.contains("--unlabelled-ok"),
        "{err}"
    );

    let out = ok(&skyline(&[
        "evaluate",
        unlabelled,
        "--labels",
        &windows_file(),
        "--unlabelled-ok",
        "--json",
    ]))
    .stdout
    .clone();
    let report: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(report["total"]["trained"]["alerts"], 0);

    let bad_windows = dir.join("windows.json");
    std::fs::write(&bad_windows, r#"{"mine.csv": [["yesterday", "today"]]}"#).unwrap();
    let out = skyline(&[
        "evaluate",
        unlabelled,
        "--labels",
        bad_windows.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("mine.csv") && err.contains("yesterday"),
        "{err}"
    );

    let out = skyline(&[
        "evaluate",
        unlabelled,
        "--labels",
        &windows_file(),
        "--label-delay",
        "soon",
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--label-delay"));

    let missing = dir.join("nothing-here.csv");
    let out = skyline(&[
        "evaluate",
        missing.to_str().unwrap(),
        "--labels",
        &windows_file(),
    ]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nothing-here.csv"));
}
