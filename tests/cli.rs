//! The `skyline` command line as an operator meets it: input formats, bad
//! rows, `--out`, `--config`.

use std::path::PathBuf;
use std::process::{Command, Output};

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

/// `n` one-minute points, epoch seconds, no header, a spike at the end.
fn epoch_csv(n: i64) -> String {
    (0..n)
        .map(|i| {
            let v = if i >= n - 3 {
                500.0
            } else {
                10.0 + ((i * 7919) % 13) as f64 / 13.0
            };
            format!("{},{v}\n", 1_400_000_000 + i * 60)
        })
        .collect()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[test]
fn headerless_epoch_input_and_out_file() {
    let dir = scratch_dir("headerless");
    let input = dir.join("m.csv");
    std::fs::write(&input, epoch_csv(300)).unwrap();
    let out = dir.join("votes.csv");
    let o = skyline(&[
        "backtest",
        input.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "--out leaves stdout empty");
    let text = std::fs::read_to_string(&out).unwrap();
    assert_eq!(text.lines().count(), 301);
    let rows: Vec<&str> = text.lines().collect();
    let (first_spike, last) = (rows[298], rows[300]);
    assert!(first_spike.starts_with("1400017820,500,"), "{first_spike}");
    assert!(
        first_spike.ends_with(",1,1"),
        "the spike is anomalous and alerts: {first_spike}"
    );
    assert!(last.starts_with("1400017940,500,"), "{last}");
    assert!(
        last.ends_with(",1,0"),
        "still anomalous, alert expired not yet: {last}"
    );
    assert!(stderr(&o).contains("300 points"), "{}", stderr(&o));
}

#[test]
fn boundary_out_writes_where_the_boundary_rules_alert() {
    let dir = scratch_dir("boundary");
    let input = dir.join("m.csv");
    // See-sawing one-minute values (not a counter), then 500 three times.
    let csv: String = (0..300)
        .map(|i| {
            let v = if i >= 297 {
                500.0
            } else {
                10.0 + (i % 2) as f64
            };
            format!("{},{v}\n", 1_400_000_000 + i * 60)
        })
        .collect();
    std::fs::write(&input, csv).unwrap();
    let cfg = dir.join("boundary.toml");
    std::fs::write(
        &cfg,
        "[[alerters]]\nname = \"smtp\"\nkind = \"smtp\"\nhost = \"127.0.0.1\"\nsender = \"s@example.org\"\ndefault_recipients = [\"ops@example.org\"]\n\n[[alerters]]\nname = \"webhook\"\nkind = \"webhook\"\nurl = \"http://127.0.0.1:9/hook\"\n\n[[boundary]]\npattern = \"stats.web\"\nalgorithm = \"greater_than\"\nexpiration = 3600\ntrigger_value = 400.0\nalert_threshold = 2\nalerters = \"smtp|webhook\"\n",
    )
    .unwrap();
    let out = dir.join("boundary.csv");
    let o = skyline(&[
        "--config",
        cfg.to_str().unwrap(),
        "backtest",
        input.to_str().unwrap(),
        "--metric",
        "stats.web.requests",
        "--boundary-out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    // The second point over 400 alerts on both alerters; the third is
    // within the expiration.
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        "timestamp,value,algorithm,times_seen,alerters\n1400017880,500,greater_than,2,smtp|webhook\n"
    );
    assert!(
        stderr(&o).contains("1 Boundary alert from 1 matching rule"),
        "{}",
        stderr(&o)
    );

    std::fs::write(
        &cfg,
        "[[boundary]]\npattern = \"stats\"\nalgorithm = \"foo\"\nexpiration = 60\nalerters = \"smtp\"\n",
    )
    .unwrap();
    let o = skyline(&[
        "--config",
        cfg.to_str().unwrap(),
        "backtest",
        input.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("boundary[0].algorithm: unknown algorithm \"foo\""),
        "{}",
        stderr(&o)
    );
}

#[test]
fn malformed_row_names_file_and_line() {
    let dir = scratch_dir("malformed");
    let input = dir.join("bad.csv");
    let mut csv = epoch_csv(150);
    csv.push_str("1400009000,not-a-number\n1400009060,1.0,extra\n1400009120,nan\n");
    std::fs::write(&input, &csv).unwrap();
    let o = skyline(&["backtest", input.to_str().unwrap()]);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("bad.csv:151:") && err.contains("not a number"),
        "{err}"
    );

    let o = skyline(&["backtest", "--skip-bad-rows", input.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("3 bad rows skipped"), "{err}");
    assert!(err.contains("bad.csv:152: expected two columns"), "{err}");
    assert!(
        err.contains("bad.csv:153: value NaN is not finite"),
        "{err}"
    );
    assert_eq!(stdout(&o).lines().count(), 151);
}

#[test]
fn extreme_timestamps_are_a_one_line_error_naming_the_line() {
    let dir = scratch_dir("extreme");
    for (name, csv, line) in [
        ("min.csv", "-9223372036854700000,1\n0,2\n", 1),
        ("max.csv", "0,1\n9223372036854775807,2\n", 2),
        ("ms.csv", "1700000000,1\n1700000000000,2\n", 2),
    ] {
        let input = dir.join(name);
        std::fs::write(&input, csv).unwrap();
        let o = skyline(&["backtest", input.to_str().unwrap()]);
        let err = stderr(&o);
        assert!(!o.status.success(), "{name}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{name}: one line: {err}");
        assert!(
            err.contains(&format!("{name}:{line}: timestamp"))
                && err.contains("is out of range")
                && !err.contains("panicked"),
            "{name}: {err}"
        );
    }
}

#[test]
fn missing_file_is_a_clear_error() {
    let o = skyline(&["backtest", "/nonexistent/series.csv"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("cannot open /nonexistent/series.csv"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn config_file_changes_the_verdict_and_typos_are_refused() {
    let dir = scratch_dir("config");
    let input = dir.join("m.csv");
    std::fs::write(&input, epoch_csv(300)).unwrap();
    // Only grubbs and least_squares, both must agree.
    let cfg = dir.join("strict.toml");
    std::fs::write(
        &cfg,
        "[analyzer]\nalgorithms = [\"grubbs\", \"least_squares\"]\nconsensus = 2\n",
    )
    .unwrap();
    let o = skyline(&[
        "--config",
        cfg.to_str().unwrap(),
        "backtest",
        input.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let last = stdout(&o).lines().last().unwrap().to_owned();
    let f: Vec<&str> = last.split(',').collect();
    // only the configured two columns carry votes
    assert_eq!(&f[2..11], &["", "", "", "1", "", "", "", "", "1"], "{last}");
    // the flag also works after the subcommand
    let o = skyline(&[
        "backtest",
        input.to_str().unwrap(),
        "--config",
        cfg.to_str().unwrap(),
    ]);
    assert!(o.status.success());

    let typo = dir.join("typo.toml");
    std::fs::write(&typo, "[analyzer]\nconsenssus = 2\n").unwrap();
    let o = skyline(&[
        "--config",
        typo.to_str().unwrap(),
        "backtest",
        input.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("consenssus"), "{}", stderr(&o));
}

#[test]
fn no_rule_matches_means_no_alert() {
    let dir = scratch_dir("rules");
    let input = dir.join("m.csv");
    std::fs::write(&input, epoch_csv(300)).unwrap();
    let cfg = dir.join("rules.toml");
    std::fs::write(
        &cfg,
        "[[alerts]]\npattern = \"stats.web\"\nalerter = \"topic\"\n",
    )
    .unwrap();
    let o = skyline(&[
        "--config",
        cfg.to_str().unwrap(),
        "backtest",
        input.to_str().unwrap(),
        "--metric",
        "stats.db.cpu",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let last = stdout(&o).lines().last().unwrap().to_owned();
    assert!(
        last.ends_with(",1,0"),
        "anomalous, but no rule alerts: {last}"
    );
}

fn skyline_with_stdin(args: &[&str], input: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_skyline"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn hash_password_makes_a_hash_the_console_accepts() {
    let out = skyline_with_stdin(&["hash-password"], "s3cret pass\n");
    assert!(out.status.success(), "{}", stderr(&out));
    let hash = stdout(&out).trim().to_owned();
    assert!(hash.starts_with("$argon2id$"), "{hash}");
    let auth = console::Auth::new(
        vec![console::User {
            name: "alice".into(),
            password_hash: hash,
        }],
        None,
        12,
        false,
    )
    .unwrap();
    assert!(auth.verify_password("alice", "s3cret pass"));
    assert!(!auth.verify_password("alice", "s3cret pass\n"));

    let empty = skyline_with_stdin(&["hash-password"], "");
    assert!(!empty.status.success());
    assert!(
        stderr(&empty).contains("no password on stdin"),
        "{}",
        stderr(&empty)
    );
}

#[test]
fn a_bad_console_user_is_refused_with_its_name() {
    let dir = scratch_dir("console-user");
    let config = dir.join("skyline.toml");
    std::fs::write(
        &config,
        "[console]\nlisten = \"127.0.0.1:0\"\n\n[[console.users]]\nname = \"bob\"\npassword_hash = \"hunter2\"\n",
    )
    .unwrap();
    let db = dir.join("p.sqlite");
    let out = skyline(&[
        "console",
        "--config",
        config.to_str().unwrap(),
        "--sqlite",
        db.to_str().unwrap(),
        "--kafka",
        "127.0.0.1:1",
    ]);
    assert!(!out.status.success());
    let e = stderr(&out);
    assert!(e.contains("[console]") && e.contains("\"bob\""), "{e}");
}

/// A service pointed at a Kafka that is not there says so in one line,
/// naming the address and what it was doing, within seconds — not after a
/// minute of silent retries.
#[test]
fn an_unreachable_kafka_is_one_line_within_seconds() {
    for command in ["ingest", "up"] {
        let started = std::time::Instant::now();
        let out = skyline(&[command, "--kafka", "127.0.0.1:1"]);
        let waited = started.elapsed();
        assert!(!out.status.success(), "{command}: {out:?}");
        assert!(
            waited < std::time::Duration::from_secs(10),
            "{command}: took {waited:?}"
        );
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{command}: {err}");
        assert!(
            err.starts_with("error: cannot reach Kafka at 127.0.0.1:1 (creating topics): "),
            "{command}: {err}"
        );
        assert!(err.contains("Connection refused"), "{command}: {err}");
    }
}
