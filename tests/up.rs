//! `skyline up --demo` as a new user runs it: nothing but the binary, an
//! embedded broker, in-memory windows. It must say where to look and find
//! the anomalies `skyline backtest` finds in the bundled series.

mod support;

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
    let expected = support::backtest_anomalies(
        &support::repo().join("data/nab/ec2_cpu_utilization_825cc2.csv"),
    );
    (dir, config, expected)
}

#[test]
fn up_demo_finds_the_backtest_anomalies_on_the_embedded_log() {
    let (dir, config, expected) = demo_run("up");

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
    assert!(
        training.contains("24h (full resolution)"),
        "the windows are there"
    );
}
