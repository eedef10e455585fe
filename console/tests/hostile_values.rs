//! Values anyone who reaches the unauthenticated ingest port can send: a
//! metric's points near ±f64::MAX once hung the console (the graph's axis
//! arithmetic overflowed to infinity and the plotting library looped
//! forever on a worker thread). The pages that draw such a metric must
//! answer within a second, on a real console over real projections and
//! real (Redis) windows.

mod common;

use std::time::{Duration, Instant};

use common::*;
use projections::Topic;
use topics::MatchMethod;

const METRIC: &str = "hostile.extreme";

/// Runs `test` on a runtime of its own. When the console hangs, dropping
/// the runtime would wait for the stuck worker forever: then the runtime is
/// leaked so that the test fails instead of hanging too.
fn on_runtime<F: std::future::Future<Output = Result<(), String>>>(test: F) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    if let Err(failure) = rt.block_on(test) {
        std::mem::forget(rt);
        panic!("{failure}");
    }
}

/// GET `path` with `session`, failing past `budget`.
async fn get_within(
    client: &Client,
    f: &Fixture,
    path: &str,
    session: &str,
    budget: Duration,
) -> Result<Reply, String> {
    let started = Instant::now();
    let reply = tokio::time::timeout(budget, client.get(&f.url(path), Some(session)))
        .await
        .map_err(|_| format!("{path} did not answer within {budget:?}"))?;
    eprintln!("{path}: {} in {:?}", reply.status, started.elapsed());
    Ok(reply)
}

#[test]
fn pages_with_extreme_values_render_within_a_second() {
    on_runtime(async {
        let mut f = Fixture::start(Options {
            windows: true,
            ..Options::default()
        })
        .await;
        // A day of a real series, then the two points of the reproduction
        // (±1.7e308) and a spike the analyzer judged: the check carries
        // them, and so do the windows.
        let mut series: Vec<(i64, f64)> =
            nab("realAWSCloudwatch/ec2_cpu_utilization_825cc2.csv")[..288].to_vec();
        let end = series.last().unwrap().0;
        series.extend([
            (end + 300, 1.7e308),
            (end + 600, -1.7e308),
            (end + 900, f64::MAX),
        ]);
        let (anomaly, check) = anomaly_with_check(METRIC, &series, true);
        f.fold(&[rec(Topic::Anomalies, &anomaly), rec(Topic::Checks, &check)])
            .await;
        f.fold_points(METRIC, &series).await;
        // A profile of the metric, made (as an operator would) from a
        // day before the extremes arrived; the extreme check was then
        // judged against it, and lists as a match.
        let (_, clean) = anomaly_with_check(METRIC, &series[..288], true);
        let profile = profile_of(&clean);
        f.fold(&[
            rec(Topic::Profiles, &profile),
            rec(
                Topic::Matches,
                &a_match(&check, MatchMethod::None, None, false),
            ),
        ])
        .await;

        let client = Client::default();
        let session = client.login(&f).await;
        let budget = Duration::from_secs(1);
        let page = get_within(
            &client,
            &f,
            &format!("/anomalies/{}", anomaly.id),
            &session,
            budget,
        )
        .await?;
        if page.status != 200 || !page.body.contains("<svg") {
            return Err(format!("the training page: {} {}", page.status, page.body));
        }
        for path in [
            format!("/profiles/{}", profile.profile_id),
            format!("/profiles?metric={METRIC}"),
            "/matches".to_owned(),
            format!("/api/v1/anomalies/{}", anomaly.id),
        ] {
            let r = get_within(&client, &f, &path, &session, budget).await?;
            if r.status != 200 {
                return Err(format!("{path}: {} {}", r.status, r.body));
            }
        }
        f.stop().await;
        Ok(())
    });
}
