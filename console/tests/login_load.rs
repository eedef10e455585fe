//! Memory under a burst of logins (issue 14: 90 logins, 30 at once, grew
//! the console from 144 to 412 MiB, and it stayed). Not part of the suite:
//! it measures, it does not judge. Run it once per bound, each in a
//! process of its own (the peak is the process's):
//!
//! ```text
//! SKYLINE_PASSWORD_CHECKS=1000 cargo test -p skyline-console --test login_load -- --ignored --nocapture
//! SKYLINE_PASSWORD_CHECKS=2    cargo test -p skyline-console --test login_load -- --ignored --nocapture
//! ```
//!
//! 1000 is as good as no bound. The console serves from this process, so
//! the figures are this process's: resident memory before the logins, its
//! peak (VmHWM) and what stays after. `SKYLINE_LOGIN_LOAD_SMAPS=1` also
//! lists the mappings above 4 MiB.

mod common;

use std::time::Instant;

use common::*;

/// A `/proc/self/status` field in MiB.
fn status_mib(field: &str) -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| {
            l.strip_prefix(field)?
                .trim()
                .strip_suffix("kB")?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("{field} in /proc/self/status"));
    kib / 1024.0
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement: run it by hand, see the module's comment"]
async fn peak_memory_of_100_concurrent_logins() {
    let checks: usize = std::env::var("SKYLINE_PASSWORD_CHECKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(Options::default().password_checks);
    let f = Fixture::start(Options {
        password_checks: checks,
        ..Options::default()
    })
    .await;
    // One login first, so that what every login needs is loaded.
    Client::default().login(&f).await;
    let before = status_mib("VmRSS:");
    let started = Instant::now();
    let logins: Vec<_> = (0..100)
        .map(|_| async { Client::default().try_login(&f, USER, PASSWORD).await.status })
        .collect();
    let statuses = futures::future::join_all(logins).await;
    let elapsed = started.elapsed();
    let peak = status_mib("VmHWM:");
    let after = status_mib("VmRSS:");
    let ok = statuses.iter().filter(|s| **s == 303).count();
    println!(
        "password_checks = {checks}: 100 concurrent logins, {ok} logged in, in {:.1} s; \
         RSS before {before:.0} MiB, peak {peak:.0} MiB (+{:.0}), after {after:.0} MiB",
        elapsed.as_secs_f64(),
        peak - before,
    );
    if std::env::var_os("SKYLINE_LOGIN_LOAD_SMAPS").is_some() {
        // The mappings above 4 MiB: where the memory is.
        let smaps = std::fs::read_to_string("/proc/self/smaps").unwrap();
        let mut current = String::new();
        let mut big = Vec::new();
        for line in smaps.lines() {
            if line.contains('-') && !line.starts_with(|c: char| c.is_ascii_uppercase()) {
                current = line.to_owned();
            } else if let Some(rss) = line.strip_prefix("Rss:") {
                let kib: u64 = rss
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse()
                    .unwrap_or(0);
                if kib > 4096 {
                    big.push((kib / 1024, current.clone()));
                }
            }
        }
        for (mib, m) in big {
            println!("{mib:>5} MiB {m}");
        }
    }
    f.stop().await;
}
