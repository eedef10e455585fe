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
