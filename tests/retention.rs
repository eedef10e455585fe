//! Retention by design, end to end with the real `skyline` binary and the
//! test broker (tansu, which answers DescribeConfigs with the configs a
//! topic was created with): a labels topic an operator made with a week's
//! retention stops every long-running service at start with one line, and
//! `--allow-short-retention` lets each start; the topics the binary creates
//! carry their retention; a configured datapoints retention below what is
//! replayed is a configuration error.

mod support;

use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use support::{Run, Services};
use topics::kafka::{describe_retention, ensure_topics_with_configs, TopicSpec};
use topics::retention::DAY_MS;

use support::SERVICE_COMMANDS as SERVICES;

const WEEK_MS: &str = "604800000";

fn run_with_week_of_labels(name: &str) -> Run {
    let run = Run::new(name, "\n[console]\nlisten = \"127.0.0.1:0\"\n");
    let labels = run.topic("labels");
    let kafka = run.kafka_config();
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        ensure_topics_with_configs(
            &kafka,
            &[TopicSpec {
                name: &labels,
                configs: vec![("retention.ms", WEEK_MS.to_owned())],
            }],
            Some(1),
        )
        .await
        .expect("creating the operator's labels topic");
    });
    run
}

/// `skyline <service>` on the run's config (projections in the run's own
/// SQLite file), logging warnings and errors only.
fn service(run: &Run, service: &str, log: &str, allow: Option<&str>) -> Child {
    let sqlite = run.dir.join("projections.sqlite");
    let mut command = run.command(&[service, "--sqlite", sqlite.to_str().unwrap()], log);
    command.env("SKYLINE_LOG", "warn");
    match allow {
        Some("flag") => {
            command.arg("--allow-short-retention");
        }
        Some("env") => {
            command.env("SKYLINE_ALLOW_SHORT_RETENTION", "true");
        }
        _ => {}
    }
    command.spawn().expect("starting skyline")
}

fn wait_for_exit(child: &mut Child, within: Duration) -> Option<ExitStatus> {
    let started = Instant::now();
    while started.elapsed() < within {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

#[test]
fn every_service_refuses_a_week_of_labels_in_one_line() {
    let run = run_with_week_of_labels("retention-refused");
    let labels = run.topic("labels");
    // The console creates no topics, it only checks them: it goes last, once
    // the others have created theirs (a topic not there yet is not judged).
    let (console, creators) = SERVICES.split_last().unwrap();
    let mut children = Services(
        creators
            .iter()
            .map(|s| service(&run, s, &format!("refused-{s}"), None))
            .collect(),
    );
    let mut statuses: Vec<ExitStatus> = (children.0.iter_mut())
        .zip(creators)
        .map(|(child, name)| {
            wait_for_exit(child, Duration::from_secs(90))
                .unwrap_or_else(|| panic!("skyline {name} did not stop on a week of labels"))
        })
        .collect();
    children
        .0
        .push(service(&run, console, &format!("refused-{console}"), None));
    statuses.push(
        wait_for_exit(children.0.last_mut().unwrap(), Duration::from_secs(90))
            .unwrap_or_else(|| panic!("skyline {console} did not stop on a week of labels")),
    );
    for (name, status) in SERVICES.iter().zip(statuses) {
        let log = run.log(&format!("refused-{name}"));
        assert!(!status.success(), "skyline {name} exited {status}:\n{log}");
        let lines: Vec<&str> = log.lines().collect();
        assert_eq!(
            lines.len(),
            1,
            "skyline {name}: stderr must be the one error line:\n{log}"
        );
        let line = lines[0];
        assert!(
            line.starts_with(&format!(
                "error: topic {labels} keeps 7 days (retention.ms={WEEK_MS}) but skyline needs it forever (retention.ms=-1)"
            )),
            "skyline {name}: {line}"
        );
        assert!(
            line.contains(&format!(
                "--entity-name {labels} --add-config retention.ms=-1"
            )) && line.ends_with("or pass --allow-short-retention"),
            "skyline {name}: {line}"
        );
    }
    drop(children);

    // The refusal came after creating the topics, with their configs: read
    // back what the binary asked for.
    let names = run.topic_names();
    let all: Vec<&str> = names.all().to_vec();
    let reported = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut topics = all.clone();
        topics.push(run.input_topic.as_str());
        describe_retention(&run.kafka_config(), &topics)
            .await
            .expect("describing the topics")
    });
    let retention_ms = |topic: &str| {
        reported[topic]
            .as_ref()
            .expect("no error for the topic")
            .retention_ms
            .clone()
    };
    assert_eq!(
        retention_ms(&labels).as_deref(),
        Some(WEEK_MS),
        "left as the operator made it"
    );
    for topic in [&names.profiles, &names.mutes] {
        let found = reported[topic.as_str()].as_ref().unwrap();
        assert_eq!(found.retention_ms.as_deref(), Some("-1"), "{topic}");
        assert_eq!(found.retention_bytes.as_deref(), Some("-1"), "{topic}");
        assert_eq!(found.cleanup_policy.as_deref(), Some("delete"), "{topic}");
    }
    assert_eq!(
        retention_ms(&names.datapoints),
        Some((32 * DAY_MS).to_string()),
        "datapoints: the 30-day roll-up + 2 days"
    );
    for topic in [
        &names.anomalies,
        &names.checks,
        &names.matches,
        &names.alerts,
        &names.deliveries,
        &names.seasonal,
    ] {
        assert_eq!(
            retention_ms(topic),
            Some((400 * DAY_MS).to_string()),
            "{topic}"
        );
    }
    assert_eq!(
        retention_ms(&names.deadletter),
        Some((30 * DAY_MS).to_string())
    );
    // The operator's input topic is created with the broker's defaults.
    assert_eq!(retention_ms(&run.input_topic), None);
}

#[test]
fn every_service_starts_with_allow_short_retention() {
    let run = run_with_week_of_labels("retention-allowed");
    let labels = run.topic("labels");
    // One through the environment variable, the others through the flag.
    let mut children = Services(
        SERVICES
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let how = if i == 0 { "env" } else { "flag" };
                service(&run, s, &format!("allowed-{s}"), Some(how))
            })
            .collect(),
    );
    let warned = |name: &str| {
        run.log(&format!("allowed-{name}")).lines().any(|l| {
            l.contains("WARN")
                && l.contains(&format!("topic {labels} keeps 7 days"))
                && l.ends_with("; starting anyway (--allow-short-retention)")
        })
    };
    let started = Instant::now();
    while !SERVICES.iter().all(|s| warned(s)) && started.elapsed() < Duration::from_secs(90) {
        std::thread::sleep(Duration::from_millis(200));
    }
    for name in SERVICES {
        assert!(
            warned(name),
            "skyline {name} did not warn of the short labels topic:\n{}",
            run.log(&format!("allowed-{name}"))
        );
    }
    // Past the check: still running a few seconds later.
    std::thread::sleep(Duration::from_secs(5));
    for (name, child) in SERVICES.iter().zip(children.0.iter_mut()) {
        assert!(
            child.try_wait().unwrap().is_none(),
            "skyline {name} stopped after the check:\n{}",
            run.log(&format!("allowed-{name}"))
        );
        assert!(
            !run.log(&format!("allowed-{name}")).contains("error:"),
            "skyline {name}:\n{}",
            run.log(&format!("allowed-{name}"))
        );
    }
    drop(children);
}

#[test]
fn a_datapoints_retention_below_the_replayed_window_is_a_config_error() {
    let run = Run::new("retention-config", "\n[retention]\ndatapoints = 20\n");
    let out = run
        .command(&["analyze"], "config")
        .stderr(std::process::Stdio::piped())
        .output()
        .expect("running skyline");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "error: invalid configuration: retention.datapoints = 20 days is below the 32 days skyline needs of {} to rebuild the windows learn and seasonal read (windows.rollup_duration: 30 days, plus retention.datapoints_margin_days: 2); raise it, or remove it to use that minimum",
            run.topic("datapoints")
        )
    );
}
