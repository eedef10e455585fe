//! Runs the console's end-to-end scenarios (`console/e2e/*.js`, Node.js and
//! playwright-core driving headless Chromium) from integration tests:
//!
//! ```ignore
//! #[path = "support/browser.rs"]
//! mod browser;
//! browser::run_scenario("smoke.js", &[("SKYLINE_SMOKE_URL", url)]).assert_success();
//! ```
//!
//! `SKYLINE_CHROMIUM` and `SKYLINE_E2E_DIR` come from the environment
//! (`scripts/test` exports them), else from running `scripts/browser`.
//! Screenshots go to `<workspace>/target/console-screenshots`.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

/// How long a scenario may run unless the caller says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(180);

/// The workspace root (this module serves the console crate's tests and
/// the workspace's own, one level up).
pub fn workspace() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = if here.join("console").join("e2e").is_dir() {
        here
    } else {
        here.join("..")
    };
    dir.canonicalize().unwrap_or(dir)
}

/// Where the scenarios save screenshots (and, on failure, the page's HTML).
pub fn screenshots_dir() -> PathBuf {
    workspace().join("target").join("console-screenshots")
}

/// Panics unless each of `names` was saved as `<name>.png` (over 10 kB: a
/// page, not an empty capture).
pub fn assert_screenshots(names: &[&str]) {
    for name in names {
        let png = screenshots_dir().join(format!("{name}.png"));
        let size = std::fs::metadata(&png).map(|m| m.len()).unwrap_or(0);
        assert!(size > 10_000, "{} is missing or empty", png.display());
    }
}

/// `SKYLINE_CHROMIUM` and `SKYLINE_E2E_DIR` from the environment, else from
/// `scripts/browser` (which installs what is missing, or fails saying what to
/// install).
pub fn browser_env() -> &'static BTreeMap<String, String> {
    static S: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    S.get_or_init(|| {
        const KEYS: [&str; 2] = ["SKYLINE_CHROMIUM", "SKYLINE_E2E_DIR"];
        let mut vars = BTreeMap::new();
        for k in KEYS {
            if let Ok(v) = std::env::var(k) {
                if !v.is_empty() {
                    vars.insert(k.to_owned(), v);
                }
            }
        }
        if vars.len() < KEYS.len() {
            let out = Command::new("bash")
                .arg(workspace().join("scripts/browser"))
                .stderr(Stdio::inherit())
                .output()
                .expect("running scripts/browser");
            assert!(
                out.status.success(),
                "scripts/browser failed ({}): see its last line above",
                out.status
            );
            for line in String::from_utf8_lossy(&out.stdout).lines() {
                if let Some((k, v)) = line.trim_start_matches("export ").split_once('=') {
                    vars.entry(k.to_owned())
                        .or_insert_with(|| v.trim_matches('\'').to_owned());
                }
            }
        }
        for k in KEYS {
            assert!(
                vars.contains_key(k),
                "{k} is not set and scripts/browser did not export it"
            );
        }
        vars
    })
}

/// What a scenario did.
#[derive(Debug)]
pub struct Scenario {
    pub script: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Scenario {
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// Panics, with the scenario's output, unless it exited 0.
    pub fn assert_success(&self) -> &Self {
        assert!(
            self.success(),
            "scenario {} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            self.script,
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }
}

/// Runs `node <SKYLINE_E2E_DIR>/<script>` with `env` added, bounded by
/// [`DEFAULT_TIMEOUT`].
pub fn run_scenario(script: &str, env: &[(&str, String)]) -> Scenario {
    run_scenario_with_timeout(script, env, DEFAULT_TIMEOUT)
}

/// Runs `node <SKYLINE_E2E_DIR>/<script>` with `NODE_PATH`,
/// `SKYLINE_CHROMIUM`, `SKYLINE_SCREENSHOTS` and `env` set. Its output is
/// captured (and echoed through the test harness, which shows it when the
/// test fails). Past `timeout` the scenario is killed, with its browser, and
/// this panics saying so.
pub fn run_scenario_with_timeout(
    script: &str,
    env: &[(&str, String)],
    timeout: Duration,
) -> Scenario {
    let vars = browser_env();
    let e2e = PathBuf::from(&vars["SKYLINE_E2E_DIR"]);
    let shots = screenshots_dir();
    std::fs::create_dir_all(&shots).expect("creating target/console-screenshots");
    let mut cmd = Command::new("node");
    cmd.arg(e2e.join(script))
        .current_dir(&e2e)
        .env("NODE_PATH", e2e.join("node_modules"))
        .env("SKYLINE_CHROMIUM", &vars["SKYLINE_CHROMIUM"])
        .env("SKYLINE_SCREENSHOTS", &shots)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group, so a timeout takes the whole tree down.
        .process_group(0);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("starting node {script}: {e}"));
    let stdout = drain(child.stdout.take().expect("piped stdout"));
    let stderr = drain(child.stderr.take().expect("piped stderr"));
    let (status, timed_out) = wait_bounded(&mut child, timeout);
    let run = Scenario {
        script: script.to_owned(),
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
        elapsed: started.elapsed(),
    };
    print!("{}", run.stdout);
    eprint!("{}", run.stderr);
    assert!(
        !timed_out,
        "scenario {script} timed out after {} s and was killed:\n--- stdout\n{}\n--- stderr\n{}",
        timeout.as_secs_f64(),
        run.stdout,
        run.stderr
    );
    run
}

fn drain(mut r: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        String::from_utf8_lossy(&buf).into_owned()
    })
}

/// Waits for `child` up to `timeout`; past it, SIGTERM to its process group
/// (playwright closes the browser on it), then SIGKILL. Returns the status
/// and whether it timed out.
fn wait_bounded(child: &mut Child, timeout: Duration) -> (ExitStatus, bool) {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("waiting for node") {
            return (status, false);
        }
        if Instant::now() >= deadline {
            break;
        }
        thread::sleep(Duration::from_millis(50));
    }
    signal_group(child.id(), "TERM");
    let grace = Instant::now() + Duration::from_secs(5);
    while Instant::now() < grace {
        if let Some(status) = child.try_wait().expect("waiting for node") {
            return (status, true);
        }
        thread::sleep(Duration::from_millis(50));
    }
    signal_group(child.id(), "KILL");
    let _ = child.kill();
    (child.wait().expect("waiting for node"), true)
}

fn signal_group(pid: u32, signal: &str) {
    // bash's builtin kill: no libc binding and no procps needed.
    let _ = Command::new("bash")
        .arg("-c")
        .arg(format!("kill -s {signal} -- -{pid}"))
        .stderr(Stdio::null())
        .status();
}
