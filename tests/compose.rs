//! docker-compose.yml checked without Docker: every skyline container's
//! command line goes through the real `skyline` binary's own argument parser
//! and config loader (`--check=config`, which contacts nothing), with the
//! config file the compose file mounts; and the structure a working stack
//! needs: one config file for all, listeners on 0.0.0.0, healthchecks,
//! depends_on on healthy services that exist, two analyze instances.
//!
//! The compose file that could not start (`--graphite-listen`, no
//! healthchecks, missing services) is kept below and must be refused.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_norway::Value;

use support::SERVICE_COMMANDS as SERVICES;

/// A string or the strings of a sequence.
fn strings(v: &Value) -> Vec<String> {
    match v {
        Value::Sequence(items) => items.iter().filter_map(scalar).collect(),
        other => scalar(other).into_iter().collect(),
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A service's `environment`, as a map or a list of `KEY=value`.
fn environment(service: &Value) -> BTreeMap<String, String> {
    match service.get("environment") {
        Some(Value::Mapping(m)) => m
            .iter()
            .filter_map(|(k, v)| Some((scalar(k)?, scalar(v).unwrap_or_default())))
            .collect(),
        Some(list @ Value::Sequence(_)) => strings(list)
            .into_iter()
            .filter_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                Some((k.to_owned(), v.to_owned()))
            })
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// `host:port` or `scheme://[user@]host:port/...`: the host.
fn host_of(address: &str) -> String {
    let rest = address.split_once("://").map_or(address, |(_, r)| r);
    let rest = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let end = rest.find([':', '/']).unwrap_or(rest.len());
    rest[..end].to_owned()
}

/// Runs the real binary as the container would, with the config-only
/// check: the arguments parsed, the config file (if any) loaded and
/// validated.
fn check_command(args: &[String], config: Option<&Path>) -> Result<String, String> {
    let mut command = Command::new(env!("CARGO_BIN_EXE_skyline"));
    command.args(args).arg("--check=config");
    // Only the container's environment: none of the caller's overrides.
    for (key, _) in std::env::vars() {
        if key.starts_with("SKYLINE_") {
            command.env_remove(key);
        }
    }
    if let Some(config) = config {
        command.env("SKYLINE_CONFIG", config);
    }
    let out = command.output().expect("running skyline");
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    if out.status.success() {
        Ok(stdout)
    } else {
        Err(stderr.lines().next().unwrap_or("").to_owned())
    }
}

/// Everything wrong with the compose file `text` (its relative paths
/// resolved from `dir`); empty when it would start.
fn problems(text: &str, dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let compose: Value = match serde_norway::from_str(text) {
        Ok(v) => v,
        Err(e) => return vec![format!("not YAML: {e}")],
    };
    let Some(Value::Mapping(services)) = compose.get("services") else {
        return vec!["no services".to_owned()];
    };
    let services: BTreeMap<String, &Value> = services
        .iter()
        .filter_map(|(k, v)| Some((scalar(k)?, v)))
        .collect();
    let volumes: BTreeSet<String> = match compose.get("volumes") {
        Some(Value::Mapping(m)) => m.keys().filter_map(scalar).collect(),
        _ => BTreeSet::new(),
    };

    for infra in ["kafka", "redis", "mysql"] {
        if !services.contains_key(infra) {
            found.push(format!("no {infra} service"));
        }
    }
    if let Some(kafka) = services.get("kafka") {
        let image = kafka.get("image").and_then(scalar).unwrap_or_default();
        if !image.starts_with("apache/kafka") {
            found.push(format!("kafka: image {image:?} is not apache/kafka"));
        }
        let env = environment(kafka);
        if !env
            .get("KAFKA_PROCESS_ROLES")
            .is_some_and(|r| r.contains("controller"))
        {
            found.push("kafka: not in KRaft mode (KAFKA_PROCESS_ROLES)".to_owned());
        }
        // The log directory must be on a mounted named volume.
        let mounts: Vec<(String, String)> = kafka
            .get("volumes")
            .map(strings)
            .unwrap_or_default()
            .iter()
            .filter_map(|v| {
                let mut parts = v.split(':');
                Some((parts.next()?.to_owned(), parts.next()?.to_owned()))
            })
            .collect();
        match env.get("KAFKA_LOG_DIRS") {
            None => found.push("kafka: no KAFKA_LOG_DIRS".to_owned()),
            Some(dirs) => {
                for dir in dirs.split(',') {
                    if !mounts
                        .iter()
                        .any(|(src, dst)| volumes.contains(src) && Path::new(dir).starts_with(dst))
                    {
                        found.push(format!("kafka: log dir {dir} is on no mounted volume"));
                    }
                }
            }
        }
    }

    let mut configs = BTreeSet::new();
    let mut instances: BTreeMap<String, u64> = BTreeMap::new();
    let mut published: BTreeMap<String, BTreeSet<u16>> = BTreeMap::new();
    for (name, service) in &services {
        // Healthchecks and depends_on, for every service.
        let test = service
            .get("healthcheck")
            .and_then(|h| h.get("test"))
            .map(strings)
            .unwrap_or_default();
        if test.is_empty() {
            found.push(format!("{name}: no healthcheck"));
        }
        match service.get("depends_on") {
            Some(Value::Mapping(deps)) => {
                for (dep, how) in deps {
                    let dep = scalar(dep).unwrap_or_default();
                    if !services.contains_key(&dep) {
                        found.push(format!("{name}: depends on {dep:?}, which is no service"));
                    }
                    if how.get("condition").and_then(scalar).as_deref() != Some("service_healthy") {
                        found.push(format!(
                            "{name}: depends on {dep} without condition: service_healthy"
                        ));
                    }
                }
            }
            Some(list @ Value::Sequence(_)) => {
                for dep in strings(list) {
                    if !services.contains_key(&dep) {
                        found.push(format!("{name}: depends on {dep:?}, which is no service"));
                    }
                    found.push(format!(
                        "{name}: depends on {dep} without condition: service_healthy"
                    ));
                }
            }
            _ => {}
        }
        let command = service.get("command").map(strings).unwrap_or_default();
        if command.first().map(String::as_str) != Some("skyline") {
            continue;
        }
        let args = command[1..].to_vec();
        let sub = args.first().cloned().unwrap_or_default();
        let replicas = service
            .get("deploy")
            .and_then(|d| d.get("replicas"))
            .and_then(Value::as_u64)
            .unwrap_or(1);
        *instances.entry(sub.clone()).or_default() += replicas;
        for port in service.get("ports").map(strings).unwrap_or_default() {
            // "host:container" (or "container"): the container's port.
            if let Some(Ok(p)) = port.rsplit(':').next().map(str::parse::<u16>) {
                published.entry(sub.clone()).or_default().insert(p);
            }
        }

        // The config file: named by SKYLINE_CONFIG, mounted read-only there.
        let env = environment(service);
        let host = match env.get("SKYLINE_CONFIG") {
            None => {
                found.push(format!("{name}: no SKYLINE_CONFIG"));
                None
            }
            Some(inside) => {
                let mount = service
                    .get("volumes")
                    .map(strings)
                    .unwrap_or_default()
                    .into_iter()
                    .find(|v| v.split(':').nth(1) == Some(inside.as_str()));
                match mount {
                    None => {
                        found.push(format!("{name}: mounts nothing at {inside}"));
                        None
                    }
                    Some(mount) => {
                        if mount.split(':').nth(2) != Some("ro") {
                            found.push(format!("{name}: the config is not mounted read-only"));
                        }
                        Some(dir.join(mount.split(':').next().unwrap_or_default()))
                    }
                }
            }
        };
        if let Some(host) = &host {
            configs.insert(host.clone());
        }

        // The command line, through the binary's own parser and loader.
        match check_command(&args, host.as_deref()) {
            Ok(out) if out.starts_with(&format!("ok: {sub}")) => {}
            Ok(out) => found.push(format!(
                "{name}: `skyline {}` checked as {out:?}",
                args.join(" ")
            )),
            Err(e) => found.push(format!("{name}: `skyline {}`: {e}", args.join(" "))),
        }
        let mut health = vec!["CMD".to_owned(), "skyline".to_owned()];
        health.extend(args.iter().cloned());
        health.push("--check".to_owned());
        if !test.is_empty() && test != health {
            found.push(format!(
                "{name}: healthcheck {test:?} is not its own command with --check"
            ));
        }
    }

    for sub in SERVICES {
        if !instances.contains_key(sub) {
            found.push(format!("no skyline {sub} container"));
        }
    }
    let analyzers = instances.get("analyze").copied().unwrap_or(0);
    if analyzers != 2 {
        found.push(format!("analyze has {analyzers} instance(s), not 2"));
    }
    if configs.len() > 1 {
        found.push(format!(
            "the skyline containers mount {} config files, not one",
            configs.len()
        ));
    }
    if let Some(config) = configs.iter().next() {
        found.extend(config_problems(config, &services, &published));
    }
    found
}

/// What is wrong with the shared config file in a container: not loadable,
/// listeners on loopback, the infrastructure named by no service, a
/// listener's port not published.
fn config_problems(
    path: &Path,
    services: &BTreeMap<String, &Value>,
    published: &BTreeMap<String, BTreeSet<u16>>,
) -> Vec<String> {
    let mut found = Vec::new();
    let config = match stack::Config::load(Some(path)) {
        Ok(c) => c,
        Err(e) => return vec![format!("config {}: {e:#}", path.display())],
    };
    let listeners: [(&str, &str, Option<SocketAddr>); 3] = [
        (
            "ingest",
            "ingest.graphite_listen",
            config.ingest.graphite_listen,
        ),
        ("ingest", "ingest.http_listen", config.ingest.http_listen),
        ("console", "console.listen", Some(config.console.listen)),
    ];
    for (service, key, addr) in listeners {
        let Some(addr) = addr else { continue };
        if !addr.ip().is_unspecified() {
            found.push(format!(
                "config {key} = {addr}: binds only inside its container, not 0.0.0.0"
            ));
        }
        if !published
            .get(service)
            .is_some_and(|p| p.contains(&addr.port()))
        {
            found.push(format!(
                "config {key} = {addr}: port not published by {service}"
            ));
        }
    }
    let infra = [
        (
            "kafka.bootstrap_servers",
            Some(config.kafka.bootstrap_servers.clone()),
        ),
        ("redis", config.redis.clone()),
        ("projections.database", config.projections.database.clone()),
    ];
    for (key, value) in infra {
        match value {
            None => found.push(format!("config {key} is not set")),
            Some(v) => {
                let host = host_of(v.split(',').next().unwrap_or(""));
                if !services.contains_key(&host) {
                    found.push(format!("config {key} = {v:?}: {host:?} is no service"));
                }
            }
        }
    }
    found
}

fn repo_compose() -> (String, PathBuf) {
    let repo = support::repo();
    (
        std::fs::read_to_string(repo.join("docker-compose.yml")).unwrap(),
        repo,
    )
}

/// A directory of the test's own holding `compose` and `config` as
/// docker-compose.yml and deploy/skyline.toml.
fn variant(name: &str, compose: &str, config: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("compose-{name}-{}", uuid::Uuid::now_v7().simple()));
    std::fs::create_dir_all(dir.join("deploy")).unwrap();
    std::fs::write(dir.join("docker-compose.yml"), compose).unwrap();
    std::fs::write(dir.join("deploy/skyline.toml"), config).unwrap();
    dir
}

#[test]
fn the_compose_file_would_start() {
    let (text, repo) = repo_compose();
    let found = problems(&text, &repo);
    assert!(
        found.is_empty(),
        "docker-compose.yml:\n{}",
        found.join("\n")
    );
}

/// docker-compose.yml as it was, which could not start.
const OLD_COMPOSE: &str = r#"# A production-like skyline stack for users (not used by the tests):
# Apache Kafka in KRaft mode, Redis, MySQL, and skyline's services as separate
# processes scaled out by consumer groups.
#
#   docker compose up --build
#
# Then send Graphite lines to localhost:2003, or POST JSON to
# http://localhost:8080/api/v1/datapoints, and read anomalies off the
# skyline.anomalies topic (localhost:9092).
services:
  kafka:
    image: apache/kafka:3.9.0
    environment:
      KAFKA_NODE_ID: 1
      KAFKA_PROCESS_ROLES: broker,controller
      KAFKA_LISTENERS: PLAINTEXT://:9092,CONTROLLER://:9093,EXTERNAL://:9094
      KAFKA_ADVERTISED_LISTENERS: PLAINTEXT://kafka:9092,EXTERNAL://localhost:9094
      KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,EXTERNAL:PLAINTEXT
      KAFKA_CONTROLLER_LISTENER_NAMES: CONTROLLER
      KAFKA_CONTROLLER_QUORUM_VOTERS: 1@kafka:9093
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: 1
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: 1
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: 1
      KAFKA_NUM_PARTITIONS: 6
    ports: ["9094:9094"]
    volumes: [kafka-data:/var/lib/kafka/data]

  redis:
    image: redis:7
    command: ["redis-server", "--save", "60", "1000", "--appendonly", "yes"]
    volumes: [redis-data:/data]

  mysql:
    image: mysql:8.4
    environment:
      MYSQL_ALLOW_EMPTY_PASSWORD: "yes"
      MYSQL_DATABASE: skyline
    volumes: [mysql-data:/var/lib/mysql]

  ingest:
    build: .
    command: ["skyline", "ingest", "--kafka", "kafka:9092", "--graphite-listen", "0.0.0.0:2003", "--http-listen", "0.0.0.0:8080"]
    ports: ["2003:2003", "8080:8080"]
    depends_on: [kafka]

  analyze:
    build: .
    command: ["skyline", "analyze", "--kafka", "kafka:9092", "--redis", "redis://redis:6379"]
    depends_on: [kafka, redis]
    deploy:
      replicas: 2

volumes:
  kafka-data:
  redis-data:
  mysql-data:
"#;

#[test]
fn the_old_compose_file_is_refused() {
    let (_, repo) = repo_compose();
    let found = problems(OLD_COMPOSE, &repo);
    let text = found.join("\n");
    // Its ingest passed flags skyline does not take: the binary says so.
    assert!(
        found.iter().any(|p| p
            .starts_with("ingest: `skyline ingest --kafka kafka:9092 --graphite-listen")
            && p.contains("unexpected argument '--graphite-listen'")),
        "{text}"
    );
    for missing in [
        "no skyline project container",
        "no skyline console container",
        "ingest: no healthcheck",
        "mysql: no healthcheck",
        "ingest: no SKYLINE_CONFIG",
    ] {
        assert!(found.iter().any(|p| p == missing), "{missing}: {text}");
    }
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("ingest: depends on kafka without condition")),
        "{text}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.starts_with("kafka: no KAFKA_LOG_DIRS")),
        "{text}"
    );
}

#[test]
fn a_broken_variant_names_what_is_wrong() {
    let (text, repo) = repo_compose();
    let original = std::fs::read_to_string(repo.join("deploy/skyline.toml")).unwrap();
    let config = &original;
    // Each variant breaks one thing; the check names it.
    let cases: Vec<(&str, String, String, &str)> = vec![
        (
            "loopback",
            text.clone(),
            config.replace("0.0.0.0:8080", "127.0.0.1:8080"),
            "config ingest.http_listen = 127.0.0.1:8080: binds only inside its container",
        ),
        (
            "flag",
            text.replace(r#"["skyline", "seasonal"]"#, r#"["skyline", "seasonal", "--checks-per-minute", "5"]"#),
            config.to_owned(),
            "seasonal: `skyline seasonal --checks-per-minute 5`: error: unexpected argument '--checks-per-minute'",
        ),
        (
            "config-key",
            text.clone(),
            config.replace("[[alerts]]\npattern", "[[alerts]]\npatern"),
            "ingest: `skyline ingest`: error: invalid configuration",
        ),
        (
            "alerter",
            text.clone(),
            config.replace("alerter = \"downstream\"", "alerter = \"ops-pager\""),
            "alerts[0].alerter names \"ops-pager\", which no [[alerters]] table declares",
        ),
        (
            "one-analyzer",
            text.replace("  analyze-2:\n", "  analyze-two:\n    deploy: {replicas: 0}\n"),
            config.to_owned(),
            "analyze has 1 instance(s), not 2",
        ),
        (
            "depends",
            text.replacen("      redis:\n        condition: service_healthy\n", "      redis-cache:\n        condition: service_healthy\n", 1),
            config.to_owned(),
            "depends on \"redis-cache\", which is no service",
        ),
        (
            "healthcheck",
            text.replace(r#"["CMD", "skyline", "learn", "--check"]"#, r#"["CMD", "true"]"#),
            config.to_owned(),
            "learn: healthcheck [\"CMD\", \"true\"] is not its own command with --check",
        ),
        (
            "kafka-host",
            text.clone(),
            config.replace("kafka:9092", "broker:9092"),
            "config kafka.bootstrap_servers = \"broker:9092\": \"broker\" is no service",
        ),
    ];
    for (name, compose, config, expected) in cases {
        assert!(
            compose != text || config != original,
            "{name}: the variant changes nothing"
        );
        let dir = variant(name, &compose, &config);
        let found = problems(&compose, &dir);
        assert!(
            found.iter().any(|p| p.contains(expected)),
            "{name}: expected {expected:?} in:\n{}",
            found.join("\n")
        );
    }
}

/// `skyline <args>` with no config file and none of the caller's
/// overrides: (exit code, stdout, stderr).
fn skyline(args: &[&str]) -> (i32, String, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_skyline"));
    for (key, _) in std::env::vars() {
        if key.starts_with("SKYLINE_") {
            command.env_remove(key);
        }
    }
    let out = command.args(args).output().expect("running skyline");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_healthcheck_that_fails_says_why_on_one_line_and_exits_1() {
    let kafka = support::kafka();
    // What answers, and what does not: Redis on a closed port.
    let (code, out, err) = skyline(&["analyze", "--kafka", &kafka, "--check"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        format!("ok: analyze: configuration valid; kafka {kafka} answered\n")
    );
    let (code, out, err) = skyline(&[
        "analyze",
        "--kafka",
        &kafka,
        "--redis",
        "redis://127.0.0.1:1",
        "--check",
    ]);
    assert_eq!((code, out.as_str()), (1, ""), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: connecting to Redis at redis://127.0.0.1:1"),
        "{err}"
    );
    // The config-only form contacts nothing: the same unreachable Redis is
    // no error there.
    let (code, out, err) = skyline(&[
        "analyze",
        "--redis",
        "redis://127.0.0.1:1",
        "--check=config",
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "ok: analyze: configuration valid (nothing contacted)\n"
    );
    // Arguments that do not parse: one line and 1 (Docker reserves 2).
    let (code, _, err) = skyline(&["ingest", "--graphite-listen", "0.0.0.0:2003", "--check"]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        err.trim(),
        "error: unexpected argument '--graphite-listen' found"
    );
    // A configuration the service would refuse: one line, naming the key.
    let dir = variant(
        "bad-console",
        "services: {}\n",
        "[console]\nclient_address_header = \"bad header\"\n",
    );
    let config = dir.join("deploy/skyline.toml");
    let (code, _, err) = skyline(&[
        "console",
        "--config",
        config.to_str().unwrap(),
        "--check=config",
    ]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        err.trim(),
        "error: invalid configuration: [console]: [console] client_address_header: \"bad header\" is not a header name"
    );
}
