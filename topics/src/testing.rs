//! For tests against real services (feature `testing`, a dev-dependency
//! of the crates whose tests need one): where the broker, Redis and MariaDB
//! are, and fresh names.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use uuid::Uuid;

use crate::kafka::KafkaConfig;

/// The address of a test service, by the variable `scripts/services`
/// exports for it (`SKYLINE_TEST_KAFKA`, `SKYLINE_TEST_REDIS`,
/// `SKYLINE_TEST_MYSQL`): from the environment (`scripts/test` sets them),
/// else from running `scripts/services` once, which starts what is missing
/// (the tests never skip).
pub fn service(variable: &str) -> String {
    if let Ok(address) = std::env::var(variable) {
        if !address.trim().is_empty() {
            return address;
        }
    }
    static STARTED: OnceLock<BTreeMap<String, String>> = OnceLock::new();
    let exported = STARTED.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/services");
        let out = Command::new("bash")
            .arg(&script)
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .expect("running scripts/services");
        assert!(
            out.status.success(),
            "scripts/services failed ({}): nothing to test against",
            out.status
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.trim_start_matches("export ").split_once('='))
            .map(|(k, v)| (k.to_owned(), v.trim().trim_matches('\'').to_owned()))
            .collect()
    });
    exported
        .get(variable)
        .unwrap_or_else(|| panic!("scripts/services exported no {variable}"))
        .clone()
}

/// The test broker's address ([`service`] `SKYLINE_TEST_KAFKA`).
pub fn broker() -> String {
    service("SKYLINE_TEST_KAFKA")
}

/// A client of the test broker. The session timeout is the smallest a
/// broker accepts by default: joining a group on tansu takes about half.
pub fn config() -> KafkaConfig {
    KafkaConfig {
        session_timeout_ms: 6_000,
        ..KafkaConfig::for_brokers(broker())
    }
}

/// A name no other test run uses (topics, groups).
pub fn unique(what: &str) -> String {
    format!("skyline-test-{what}-{}", Uuid::now_v7().simple())
}

/// How long a test against real services may take before it fails.
pub const TEST_LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// Runs `test` to its end, or panics when it takes longer than
/// [`TEST_LIMIT`] (a hung broker fails the test instead of the whole run).
pub async fn in_time<T>(test: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(TEST_LIMIT, test)
        .await
        .unwrap_or_else(|_| panic!("test did not finish within {TEST_LIMIT:?}"))
}

/// A profile's creation event for tests, its optional parts empty: set
/// what a test is about with struct update syntax
/// (`ProfileEvent { generation: 2, ..profile_event(id, "m") }`).
pub fn profile_event(profile: Uuid, metric: &str) -> crate::ProfileEvent {
    crate::ProfileEvent {
        id: Uuid::now_v7(),
        profile_id: profile,
        action: crate::ProfileAction::Created,
        metric: metric.to_owned(),
        parent_id: None,
        generation: 0,
        full_duration: 86_400,
        features: vec![],
        features_sum: 0.0,
        series: vec![],
        layers_json: None,
        label_id: None,
        at_ms: 0,
        validated: false,
        learn: true,
        learn_settings: None,
        description: None,
        operator: None,
        anomaly_timestamp: None,
        check_id: None,
        disabled_with: None,
    }
}
