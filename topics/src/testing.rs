//! For tests against a real broker (feature `testing`, a dev-dependency
//! of the crates whose tests need one): where the broker is and fresh names.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use uuid::Uuid;

use crate::kafka::KafkaConfig;

/// The test broker's address: `SKYLINE_TEST_KAFKA`, or what
/// `scripts/services` exports after making sure a broker runs (the tests
/// never skip).
pub fn broker() -> String {
    static ADDRESS: OnceLock<String> = OnceLock::new();
    ADDRESS
        .get_or_init(|| {
            if let Ok(address) = std::env::var("SKYLINE_TEST_KAFKA") {
                if !address.trim().is_empty() {
                    return address;
                }
            }
            let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/services");
            let out = Command::new("bash")
                .arg(&script)
                .stdin(Stdio::null())
                .stderr(Stdio::inherit())
                .output()
                .expect("running scripts/services");
            assert!(
                out.status.success(),
                "scripts/services failed ({}): no broker to test against",
                out.status
            );
            String::from_utf8_lossy(&out.stdout)
                .lines()
                .find_map(|l| l.strip_prefix("export SKYLINE_TEST_KAFKA="))
                .map(|v| v.trim().trim_matches('\'').to_owned())
                .expect("scripts/services printed no SKYLINE_TEST_KAFKA")
        })
        .clone()
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
