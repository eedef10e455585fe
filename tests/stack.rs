//! `scripts/stack` end to end: the compose file's skyline services started
//! natively, with the compose file's own config (deploy/skyline.toml), on
//! the test broker, Redis and MariaDB under a prefix of this run's own; a
//! NAB series POSTed to the HTTP ingest; its anomalies and alerts read back
//! from the MariaDB projections, every alert's anomaly there and every
//! alert delivered by the configured `downstream` alerter; `scripts/stack
//! status` healthy (each service's compose healthcheck, `skyline <command>
//! --check`, run natively); `scripts/stack down` stops them all.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use sqlx::{Connection, Row};

const SERIES: &str = "realAWSCloudwatch/ec2_cpu_utilization_24ae8d.csv";
const METRIC: &str = "nab.ec2_cpu_utilization_24ae8d";

fn stack(args: &[&str], dir: &Path) -> Output {
    Command::new(support::repo().join("scripts/stack"))
        .args(args)
        .arg("--dir")
        .arg(dir)
        .output()
        .expect("running scripts/stack")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Stops the stack whatever happens, and drops the database.
struct Teardown {
    dir: PathBuf,
}

impl Drop for Teardown {
    fn drop(&mut self) {
        let _ = stack(&["down"], &self.dir);
    }
}

/// Whether `pid` is a live process (not gone, not a zombie waiting for a
/// parent that no longer exists to reap it).
fn running(pid: i64) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state is the first field after the command's closing paren.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z"),
        Err(_) => false,
    }
}

/// The rows a query returns, as strings per column.
async fn rows(db: &str, sql: &str) -> Vec<Vec<String>> {
    let mut conn = sqlx::AnyConnection::connect(db).await.unwrap();
    sqlx::query(sql)
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| (0..r.len()).map(|i| r.get::<String, _>(i)).collect())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_nab_series_through_scripts_stack_ends_as_anomalies_and_alerts_in_mariadb() {
    let prefix = format!("stack{}", &uuid::Uuid::now_v7().simple().to_string()[20..]);
    let database = format!("skyline_{prefix}");
    support::mysql_admin(&format!("CREATE DATABASE {database}")).await;
    let db = format!("{}/{database}", support::mysql_server());
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(&prefix);
    let started = Instant::now();

    let up = Command::new(support::repo().join("scripts/stack"))
        .args(["up", "--prefix", &prefix, "--dir"])
        .arg(&dir)
        .args(["--bin", env!("CARGO_BIN_EXE_skyline")])
        .args(["--kafka", &support::kafka(), "--redis", &support::redis()])
        .args(["--mysql", &db])
        .output()
        .expect("running scripts/stack up");
    let teardown = Teardown { dir: dir.clone() };
    assert!(up.status.success(), "scripts/stack up:\n{}", text(&up));
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("stack.json")).unwrap()).unwrap();
    // The compose file's nine skyline containers, as nine processes.
    let services: BTreeSet<String> = state["services"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        services,
        [
            "alert",
            "analyze-1",
            "analyze-2",
            "console",
            "fingerprint",
            "ingest",
            "learn",
            "project",
            "seasonal"
        ]
        .map(String::from)
        .into(),
    );
    assert_eq!(
        state["topics"]["datapoints"],
        format!("{prefix}.datapoints")
    );
    for (name, service) in state["services"].as_object().unwrap() {
        assert_eq!(
            Path::new(service["config"].as_str().unwrap()),
            support::repo()
                .join("deploy/skyline.toml")
                .canonicalize()
                .unwrap(),
            "{name} runs with the compose file's config"
        );
    }

    // Every service's compose healthcheck, natively: Kafka, Redis and the
    // database answer as each service uses them.
    let status = stack(&["status"], &dir);
    assert!(
        status.status.success(),
        "scripts/stack status:\n{}",
        text(&status)
    );
    let said = text(&status);
    assert_eq!(said.matches("running").count(), 9, "{said}");
    assert!(
        said.contains(&format!(
            "ok: project: configuration valid; kafka {}",
            support::kafka()
        )),
        "{said}"
    );

    // The series, POSTed to the HTTP ingest in batches.
    let points = support::nab(SERIES);
    let url = state["http"].as_str().unwrap().to_owned();
    let client = reqwest::Client::new();
    for batch in points.chunks(1000) {
        let body: Vec<serde_json::Value> = batch
            .iter()
            .map(|(t, v)| serde_json::json!({"metric": METRIC, "timestamp": t, "value": v}))
            .collect();
        let answer = client.post(&url).json(&body).send().await.unwrap();
        assert_eq!(
            answer.status().as_u16(),
            202,
            "{}",
            answer.text().await.unwrap()
        );
    }

    // Anomalies and alerts folded into MariaDB; the last alert delivered.
    let flagged = support::backtest_anomalies(&support::shared_data().join("nab").join(SERIES));
    assert!(!flagged.is_empty(), "the series has anomalies to find");
    let deadline = Instant::now() + Duration::from_secs(120);
    let (mut anomalies, mut alerts, mut delivered);
    let mut last = (0, 0);
    let mut steady = 0;
    loop {
        anomalies = rows(
            &db,
            "SELECT id, CAST(anomaly_timestamp AS CHAR) FROM anomalies",
        )
        .await;
        alerts = rows(&db, "SELECT id, anomaly_id, alerter FROM alerts").await;
        delivered = rows(
            &db,
            "SELECT alert_id FROM deliveries WHERE outcome = 'delivered'",
        )
        .await;
        // Settled: something found, every alert delivered, and no new row
        // for five polls in a row.
        let counts = (anomalies.len(), alerts.len());
        steady = if counts == last { steady + 1 } else { 0 };
        last = counts;
        let settled =
            !anomalies.is_empty() && !alerts.is_empty() && delivered.len() >= alerts.len();
        if (settled && steady >= 5) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let logs = || {
        ["ingest", "analyze-1", "analyze-2", "project", "alert"]
            .map(|s| {
                let log =
                    std::fs::read_to_string(dir.join(format!("logs/{s}.log"))).unwrap_or_default();
                format!("--- {s}\n{}", &log[log.len().saturating_sub(1500)..])
            })
            .join("\n")
    };
    assert!(!anomalies.is_empty(), "no anomaly in MariaDB\n{}", logs());
    assert!(!alerts.is_empty(), "no alert in MariaDB\n{}", logs());
    // The same Analyzer as `skyline backtest`: the anomalies are the points
    // it flags, all of them.
    let flagged: BTreeSet<i64> = flagged.into_iter().collect();
    let found: BTreeSet<i64> = anomalies.iter().map(|r| r[1].parse().unwrap()).collect();
    assert_eq!(found, flagged, "anomalies in MariaDB vs skyline backtest");
    // Consistent: every alert is of an anomaly in the table, to the
    // configured alerter, and delivered.
    let ids: BTreeSet<&str> = anomalies.iter().map(|r| r[0].as_str()).collect();
    let delivered: BTreeSet<&str> = delivered.iter().map(|r| r[0].as_str()).collect();
    for alert in &alerts {
        assert!(
            ids.contains(alert[1].as_str()),
            "alert {} of no anomaly",
            alert[0]
        );
        assert_eq!(alert[2], "downstream");
        assert!(
            delivered.contains(alert[0].as_str()),
            "alert {} not delivered\n{}",
            alert[0],
            logs()
        );
    }
    println!(
        "{} points -> {} anomalies ({} flagged by backtest), {} alerts delivered, in {:.1} s",
        points.len(),
        anomalies.len(),
        flagged.len(),
        alerts.len(),
        started.elapsed().as_secs_f64()
    );

    // Down: every recorded process gone.
    let pids: Vec<i64> = state["services"]
        .as_object()
        .unwrap()
        .values()
        .map(|s| s["pid"].as_i64().unwrap())
        .collect();
    let down = stack(&["down"], &dir);
    assert!(down.status.success(), "{}", text(&down));
    assert!(
        text(&down).contains("stopped 9 service(s)"),
        "{}",
        text(&down)
    );
    for pid in pids {
        assert!(!running(pid), "pid {pid} still running after down");
    }
    let status = stack(&["status"], &dir);
    assert!(!status.status.success());
    drop(teardown);
    support::mysql_admin(&format!("DROP DATABASE {database}")).await;
}
