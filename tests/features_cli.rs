//! `skyline features`: the CLI prints exactly the library's features, in
//! id order, for a real CSV file and for Skyline's JSON; bad input names
//! the line (CSV) or the entry (JSON).

use std::path::PathBuf;
use std::process::{Command, Output};

use fingerprint::{FeatureSet, Features};

fn skyline(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_skyline"))
        .args(args)
        .output()
        .unwrap()
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn nab(rel: &str) -> PathBuf {
    let shared = std::env::var_os("SKYLINE_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data"));
    shared.join("nab").join(rel)
}

fn nab_values(rel: &str) -> Vec<f64> {
    std::fs::read_to_string(nab(rel))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().trim().parse().unwrap())
        .collect()
}

/// `name,value` lines parsed back (the name may itself contain commas).
fn parse(out: &Output) -> Vec<(String, f64)> {
    assert!(
        out.status.success(),
        "skyline features failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| {
            let (name, v) = l.rsplit_once(',').unwrap();
            (name.to_string(), v.parse::<f64>().unwrap())
        })
        .collect()
}

fn same(cli: &[(String, f64)], lib: &Features) {
    assert_eq!(cli.len(), lib.len());
    for ((name, v), (_, lib_name, lib_v)) in cli.iter().zip(lib.iter()) {
        assert_eq!(name, lib_name);
        // full precision: the printed value parses back to the same bits
        assert!(
            v.to_bits() == lib_v.to_bits() || (v.is_nan() && lib_v.is_nan()),
            "{name}: {v} vs {lib_v}"
        );
    }
}

#[test]
fn csv_file_matches_the_library_in_id_order() {
    let rel = "realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv";
    let file = nab(rel);
    let out = skyline(&["features", file.to_str().unwrap(), "--first", "1440"]);
    let cli = parse(&out);
    let lib = Features::compute(&nab_values(rel)[..1440], FeatureSet::Comprehensive);
    same(&cli, &lib);
    assert_eq!(cli[0].0, "value__symmetry_looking__r_0.65");
    assert_eq!(cli[215].0, "value__fft_coefficient__coeff_9");

    let out = skyline(&[
        "features",
        file.to_str().unwrap(),
        "--first",
        "60",
        "--set",
        "efficient",
    ]);
    let cli = parse(&out);
    assert_eq!(cli.len(), 210);
    same(
        &cli,
        &Features::compute(&nab_values(rel)[..60], FeatureSet::Efficient),
    );
}

#[test]
fn skyline_json_input() {
    let dir = scratch_dir("features_json");
    let file = dir.join("series.json");
    let values = nab_values("realAWSCloudwatch/grok_asg_anomaly.csv");
    // out of order, with a null point that Skyline would have dropped
    let mut results: Vec<String> = values[..100]
        .iter()
        .enumerate()
        .map(|(i, v)| format!("[{}, {v:?}]", 1_369_677_886 + 10 * i as i64))
        .collect();
    results.swap(3, 40);
    results.insert(7, "[1369677000, null]".into());
    std::fs::write(&file, format!("{{\"results\": [{}]}}", results.join(", "))).unwrap();
    let cli = parse(&skyline(&[
        "features",
        file.to_str().unwrap(),
        "--first",
        "60",
    ]));
    same(
        &cli,
        &Features::compute(&values[..60], FeatureSet::Comprehensive),
    );
}

#[test]
fn bad_input_names_the_line_or_entry() {
    let dir = scratch_dir("features_bad");
    let csv = dir.join("bad.csv");
    std::fs::write(&csv, "timestamp,value\n1400000000,1.5\n1400000060,oops\n").unwrap();
    let out = skyline(&["features", csv.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.csv:3"), "{err}");

    let json = dir.join("bad.json");
    std::fs::write(&json, r#"{"results": [[1, 2.0], [2, "x"]]}"#).unwrap();
    let out = skyline(&["features", json.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("results[1]"), "{err}");

    let out = skyline(&["features", csv.to_str().unwrap(), "--set", "everything"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("everything"));
}
