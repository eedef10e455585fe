//! `skyline up --demo` as a new user runs it: nothing but the binary, an
//! embedded broker, in-memory windows. It must say where to look and find
//! the anomalies `skyline backtest` finds in the bundled series.

mod support;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A scratch directory with a config whose listeners take free ports (so a
/// busy 2003/8080/8090 on the machine is no issue), and the anomalies the
/// backtest finds in the bundled series.
fn demo_run(name: &str) -> (std::path::PathBuf, std::path::PathBuf, Vec<i64>) {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("skyline.toml");
    std::fs::write(
        &config,
        "[ingest]\ngraphite_listen = \"127.0.0.1:0\"\nhttp_listen = \"127.0.0.1:0\"\n\
         [console]\nlisten = \"127.0.0.1:0\"\n",
    )
    .unwrap();
    let flagged = support::backtest_anomalies(
        &support::repo().join("data/nab/ec2_cpu_utilization_825cc2.csv"),
    );
    // One anomaly per PANORAMA_EXPIRY_TIME (900 s, the default): the
    // flagged points that open one.
    let expected = support::opened_anomalies(&flagged, 900);
    (dir, config, expected)
}

#[test]
fn up_demo_finds_the_backtest_anomalies_on_the_embedded_log() {
    let (dir, config, expected) = demo_run("up");
    let demo = || {
        Command::new(env!("CARGO_BIN_EXE_skyline"))
            .current_dir(support::repo())
            .env_remove("SKYLINE_LOG")
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
            .unwrap()
    };

    let started = Instant::now();
    let out = demo();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(started.elapsed() < Duration::from_secs(300));
    // Quiet: what an operator needs fits on a screen or two, with no
    // colour codes in a pipe and no ERROR on a clean start and stop —
    // the first start, and a second on the same data (topics there).
    let quiet = |stdout: &str, stderr: &str| {
        let lines = stdout.lines().count() + stderr.lines().count();
        assert!(lines < 100, "{lines} lines:\n{stdout}\n{stderr}");
        assert!(!stderr.contains("ERROR"), "{stderr}");
        assert!(
            !stderr.contains('\u{1b}'),
            "colour codes in a pipe: {stderr}"
        );
    };
    quiet(&stdout, &stderr);
    let again = demo();
    assert!(again.status.success());
    quiet(
        &String::from_utf8_lossy(&again.stdout),
        &String::from_utf8_lossy(&again.stderr),
    );
    // Where to look.
    assert!(stderr.contains("kafka: 127.0.0.1:"), "{stderr}");
    assert!(
        stderr.contains("anomalies: topic skyline.anomalies"),
        "{stderr}"
    );
    assert!(stderr.contains("http: POST http://127.0.0.1:"), "{stderr}");
    assert!(stderr.contains("console: http://127.0.0.1:"), "{stderr}");
    assert!(
        stderr.contains("console: log in as demo with password "),
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

/// The main job serves the console: log in with the password the demo
/// prints and see the demo's anomalies in the list, each with a graph on
/// its training page.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_demo_serves_its_anomalies_in_the_console() {
    let (dir, config, expected) = demo_run("up-console");
    let mut up = Command::new(env!("CARGO_BIN_EXE_skyline"))
        .current_dir(support::repo())
        .args(["up", "--demo", "--broker-port", "0", "--data-dir"])
        .arg(dir.join("data"))
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    struct Kill(std::process::Child);
    impl Drop for Kill {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let stderr = up.stderr.take().unwrap();
    let _up = Kill(up);
    // The password and the console's address, from what `up` prints.
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let (mut password, mut base) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(120);
    while password.is_none() || base.is_none() {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("up printed the console's address and the demo login");
        if let Some(p) = line.strip_prefix("console: log in as demo with password ") {
            password = p.split_whitespace().next().map(str::to_owned);
        }
        if let Some(rest) = line.strip_prefix("console: http://") {
            base = rest
                .split_whitespace()
                .next()
                .map(|a| format!("http://{}", a.trim_end_matches('/')));
        }
    }
    let (password, base) = (password.unwrap(), base.unwrap());
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = http.get(format!("{base}/login")).send().await.unwrap();
    let cookie = |r: &reqwest::Response, name: &str| -> String {
        r.headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|v| {
                v.split(';')
                    .next()?
                    .strip_prefix(&format!("{name}="))
                    .map(str::to_owned)
            })
            .unwrap_or_default()
    };
    let nonce = cookie(&login, "skyline_login");
    let page = login.text().await.unwrap();
    let token = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap()
        .to_owned();
    let r = http
        .post(format!("{base}/login"))
        .header("cookie", format!("skyline_login={nonce}"))
        .form(&[
            ("csrf", token.as_str()),
            ("username", "demo"),
            ("password", &password),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let session = format!("skyline_session={}", cookie(&r, "skyline_session"));
    // The projections fold the anomalies as the demo runs.
    let deadline = Instant::now() + Duration::from_secs(180);
    let list = loop {
        let list = http
            .get(format!("{base}/anomalies"))
            .header("cookie", &session)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if list.matches("<tr data-anomaly=").count() == expected.len() {
            break list;
        }
        assert!(
            Instant::now() < deadline,
            "the console never listed the demo's {} anomalies:\n{list}",
            expected.len()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(list.contains("demo.ec2_cpu_utilization_825cc2"));
    let first = list
        .split("href=\"/anomalies/")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap();
    let training = http
        .get(format!("{base}/anomalies/{first}"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(training.status(), 200);
    let training = training.text().await.unwrap();
    assert!(training.contains("<polyline"), "the judged series is drawn");
    // The console reads the in-memory windows, so the 24 h graph around
    // the anomaly is drawn at full resolution.
    assert!(
        !training.contains("The windows are not available"),
        "the windows are there"
    );
    let day = training
        .split("data-duration=\"24h\"")
        .nth(1)
        .and_then(|r| r.split("</figure>").next())
        .expect("a 24 h graph");
    assert!(day.contains("full resolution"), "{day}");
    assert!(day.contains("<polyline"), "the 24 h graph is drawn: {day}");
}

/// A child `skyline up` that is stopped with SIGINT (as Ctrl-C would) and
/// killed if a test fails first.
struct Up {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Up {
    fn start(dir: &std::path::Path, config: &std::path::Path, port: u16, extra: &[&str]) -> Up {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_skyline"));
        cmd.current_dir(support::repo())
            .args(["up", "--broker-port", &port.to_string(), "--data-dir"])
            .arg(dir.join("data"))
            .arg("--config")
            .arg(config)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .args(extra);
        let mut child = cmd.spawn().unwrap();
        let (tx, lines) = std::sync::mpsc::channel::<String>();
        for out in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    let _ = tx.send(line);
                }
            });
        }
        Up { child, lines }
    }

    /// Waits for a line starting with `prefix`; returns every line read.
    fn wait_for(&self, prefix: &str) -> Vec<String> {
        let deadline = Instant::now() + Duration::from_secs(180);
        let mut seen = Vec::new();
        loop {
            let line = self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
                .unwrap_or_else(|_| panic!("no line {prefix:?} in:\n{}", seen.join("\n")));
            let found = line.starts_with(prefix);
            seen.push(line);
            if found {
                return seen;
            }
        }
    }

    /// SIGINT, then waits for a clean exit; returns the rest of the output.
    fn stop(mut self) -> Vec<String> {
        let pid = self.child.id().to_string();
        assert!(Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success());
        let status = self.child.wait().unwrap();
        let rest: Vec<String> = self.lines.try_iter().collect();
        assert!(
            status.success(),
            "up exited with {status}:\n{}",
            rest.join("\n")
        );
        rest
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Records on each of the decision topics, read from offset 0 until the
/// log has been quiet for 3 s.
async fn decision_counts(port: u16) -> BTreeMap<&'static str, usize> {
    let config = topics::kafka::KafkaConfig {
        partitions: 1,
        ..topics::kafka::KafkaConfig::for_brokers(format!("127.0.0.1:{port}"))
    };
    let group = format!("test-count-{}", uuid::Uuid::now_v7());
    let names = ["skyline.anomalies", "skyline.checks", "skyline.matches"];
    let consumer = topics::kafka::Consumer::with_group(&config, &group, &group, &names).unwrap();
    let mut counts: BTreeMap<&'static str, usize> = names.iter().map(|n| (*n, 0)).collect();
    while let Ok(batch) =
        tokio::time::timeout(Duration::from_secs(3), consumer.next_batch(10_000)).await
    {
        for r in batch.iter() {
            if let Some(n) = names.iter().find(|n| **n == r.topic) {
                *counts.get_mut(n).unwrap() += 1;
            }
        }
    }
    consumer.close().await;
    counts
}

/// `GET` of the console's JSON API with the bearer token.
async fn api_get(base: &str, path: &str, token: &str) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!("{base}{path}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Each anomaly's state and deflecting profile as the console's API shows
/// them.
async fn console_states(base: &str, token: &str) -> BTreeMap<String, (String, Option<String>)> {
    let page = api_get(base, "/api/v1/anomalies?per_page=200", token).await;
    page["rows"]
        .as_array()
        .unwrap_or_else(|| panic!("no rows in {page}"))
        .iter()
        .map(|a| {
            (
                a["id"].as_str().unwrap().to_owned(),
                (
                    a["state"].as_str().unwrap().to_owned(),
                    a["matched_profile"].as_str().map(str::to_owned),
                ),
            )
        })
        .collect()
}

fn console_base(lines: &[String]) -> String {
    lines
        .iter()
        .find_map(|l| l.strip_prefix("console: http://"))
        .and_then(|rest| rest.split_whitespace().next())
        .map(|a| format!("http://{}", a.trim_end_matches('/')))
        .expect("up printed the console's address")
}

/// Restarts keep history: after the demo and a label, three restarts in
/// the same data directory (one re-producing the demo's datapoints) decide
/// nothing again — the decision topics keep their record counts and every
/// anomaly keeps its state — because the windows are restored up to the
/// analyzer's committed offsets and the services resume from them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restarts_restore_history_and_decide_nothing_again() {
    let (dir, config, expected) = demo_run("up-restart");
    let token = "restart-test-token";
    let toml = std::fs::read_to_string(&config).unwrap();
    std::fs::write(
        &config,
        toml.replace(
            "[console]\n",
            &format!("[console]\napi_token = \"{token}\"\n"),
        ),
    )
    .unwrap();
    let port = free_port();

    // The demo, then a start that finds its anomalies and labels one.
    let demo = Up::start(&dir, &config, port, &["--demo", "--exit-after-demo"]);
    let out = demo.wait_for("demo: 4032 points analysed");
    assert!(
        out.iter()
            .any(|l| l.contains(&format!(", {} anomalies on topic", expected.len()))),
        "{}",
        out.join("\n")
    );
    let status = { demo }.child.wait().unwrap();
    assert!(status.success());

    let up = Up::start(&dir, &config, port, &[]);
    let base = console_base(&up.wait_for("console: http://"));
    let deadline = Instant::now() + Duration::from_secs(120);
    let before = loop {
        let states = console_states(&base, token).await;
        if states.len() == expected.len() && states.values().all(|s| s.0 != "pending") {
            break states;
        }
        assert!(
            Instant::now() < deadline,
            "the anomalies never settled: {states:?}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let http = reqwest::Client::new();
    let list = api_get(&base, "/api/v1/anomalies?per_page=200", token).await;
    // The earliest anomaly (the list is newest first): the one an operator
    // would look at first.
    let rows = list["rows"].as_array().unwrap();
    let labelled_check = rows[rows.len() - 1]["check_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = http
        .post(format!("{base}/api/v1/labels"))
        .bearer_auth(token)
        .json(&serde_json::json!({
            "check_id": labelled_check, "not_anomalous": true, "operator": "restart-test"
        }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let profile = loop {
        let profiles = api_get(
            &base,
            "/api/v1/profiles?metric=demo.ec2_cpu_utilization_825cc2",
            token,
        )
        .await;
        let text = profiles.to_string();
        if let Some(id) = text
            .split("\"id\":\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
        {
            break id.to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "no profile from the label: {text}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let counts = decision_counts(port).await;
    // An anomaly is re-published as repeats extend it: at least one record
    // per anomaly (the console states above are one per anomaly).
    assert!(counts["skyline.anomalies"] >= expected.len(), "{counts:?}");
    up.stop();

    for restart in 1..=3 {
        // The second restart replays the demo: its datapoints arrive again.
        let demo = restart == 2;
        let up = Up::start(&dir, &config, port, if demo { &["--demo"] } else { &[] });
        let lines = up.wait_for("console: http://");
        let base = console_base(&lines);
        let restored = lines.iter().find(|l| {
            l.starts_with("windows: restored ") && l.contains(" datapoints of 1 metric ")
        });
        assert!(
            restored.is_some(),
            "restart {restart}:\n{}",
            lines.join("\n")
        );
        if demo {
            up.wait_for("demo: 4032 points analysed");
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(decision_counts(port).await, counts, "restart {restart}");
        let states = console_states(&base, token).await;
        assert_eq!(states, before, "restart {restart}: states changed");
        assert!(
            states
                .values()
                .all(|s| s.1.as_deref() != Some(profile.as_str())),
            "restart {restart}: a check was matched against the profile made from it"
        );
        up.stop();
    }
}
