//! `skyline up --demo` as a new user runs it: nothing but the binary, an
//! embedded broker, in-memory windows. It must say where to look and find
//! the anomalies `skyline backtest` finds in the bundled series.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn up_demo_finds_the_backtest_anomalies_on_the_embedded_log() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("up-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    // Listeners on free ports, so a busy 2003/8080 on the machine is no issue.
    let config = dir.join("skyline.toml");
    std::fs::write(
        &config,
        "[ingest]\ngraphite_listen = \"127.0.0.1:0\"\nhttp_listen = \"127.0.0.1:0\"\n\
         [console]\nlisten = \"127.0.0.1:0\"\n",
    )
    .unwrap();
    let expected = support::backtest_anomalies(
        &support::repo().join("data/nab/ec2_cpu_utilization_825cc2.csv"),
    );

    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_skyline"))
        .current_dir(support::repo())
        .args([
            "up",
            "--demo",
            "--exit-after-demo",
            "--broker-port",
            "0",
            "--data-dir",
        ])
        .arg(dir.join("data"))
        .arg("--config")
        .arg(&config)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(started.elapsed() < Duration::from_secs(300));
    // Where to look.
    assert!(stderr.contains("kafka: 127.0.0.1:"), "{stderr}");
    assert!(
        stderr.contains("anomalies: topic skyline.anomalies"),
        "{stderr}"
    );
    assert!(stderr.contains("http: POST http://127.0.0.1:"), "{stderr}");
    assert!(
        stderr.contains("console API: POST http://127.0.0.1:"),
        "{stderr}"
    );
    // What it found: the backtest's anomalies, one line each (up to 25).
    assert!(stdout.contains("demo: 4032 points analysed in"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            ", {} anomalies on topic skyline.anomalies",
            expected.len()
        )),
        "{stdout}"
    );
    let lines = stdout.lines().filter(|l| l.starts_with("anomaly ")).count();
    assert_eq!(lines, expected.len().min(25), "{stdout}");
    // The log is on disk in the data dir.
    assert!(dir.join("data/broker").read_dir().unwrap().next().is_some());
}
