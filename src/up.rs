//! `skyline up`: every service in one process ([`stack::up::Up`]), and
//! `--demo`: a bundled real series through the same path an operator's
//! metric stream takes.

use std::path::PathBuf;

use anyhow::Result;
use stack::demo::{Demo, DEMO_METRIC, DEMO_TOPIC};
use stack::services::shutdown_on_ctrl_c;
use stack::up::{Up, UpOptions};
use stack::Config;

use crate::{console_cmd, serve, utc};

/// How many of the demo's anomalies are printed one by one.
const DEMO_PRINTED: usize = 25;

#[derive(clap::Args)]
pub struct UpArgs {
    /// Replay the bundled real series (two weeks of EC2 CPU from NAB)
    /// through the pipeline and print the anomalies found.
    #[arg(long)]
    demo: bool,
    /// Where the embedded broker keeps its log (and, unless a database is
    /// named, the projections' SQLite file).
    #[arg(long, default_value = "skyline-data")]
    data_dir: PathBuf,
    /// Port of the embedded broker (0: any free port).
    #[arg(long, default_value_t = 9092)]
    broker_port: u16,
    /// Stop once the demo series has been analysed.
    #[arg(long)]
    exit_after_demo: bool,
}

pub async fn run(config: Config, args: UpArgs, embedded_broker: bool) -> Result<()> {
    let (stop, shutdown) = shutdown_on_ctrl_c();
    let options = UpOptions {
        embedded_broker,
        demo: args.demo,
        data_dir: args.data_dir,
        broker_port: args.broker_port,
    };
    let up = Up::start(config, &options, &shutdown).await?;
    let config = &up.config;
    eprintln!("skyline up");
    eprintln!("kafka: {}", config.kafka.bootstrap_servers);
    eprintln!(
        "windows: {}",
        config
            .redis
            .as_deref()
            .unwrap_or("in memory (restored from the log at start)")
    );
    serve::print_restored(&up.restored);
    serve::print_listeners(config, &up.ingest);
    eprintln!("projections: {}", up.database);
    if let Some(password) = &up.demo_password {
        eprintln!("console: log in as demo with password {password} (this run only)");
    }
    console_cmd::announce(config, up.console);
    eprintln!(
        "anomalies: topic {} (alerts: {}, checks: {}, refused input: {})",
        config.topics.anomalies,
        config.topics.alerts,
        config.topics.checks,
        config.topics.deadletter
    );

    if args.demo {
        let demo = Demo::load()?;
        eprintln!(
            "demo: producing {} points of {DEMO_METRIC} as Graphite lines to {DEMO_TOPIC} ({})",
            demo.points.len(),
            demo.file.display()
        );
        let mut printed = 0;
        let run = demo
            .run(config, &up.producer, &up.windows, &shutdown, |a| {
                if printed < DEMO_PRINTED {
                    println!(
                        "anomaly {}  {}  value {}  triggered: {}",
                        utc(a.timestamp),
                        a.metric,
                        a.value,
                        a.triggered_algorithms.join(", ")
                    );
                    printed += 1;
                }
            })
            .await?;
        if run.anomalies > DEMO_PRINTED {
            println!("... and {} more", run.anomalies - DEMO_PRINTED);
        }
        println!(
            "demo: {} points analysed in {:.1}s, {} anomalies on topic {} (NAB labels this series' anomaly window 2014-04-15 07:24 to 2014-04-16 11:54 UTC)",
            demo.points.len(),
            run.seconds,
            run.anomalies,
            config.topics.anomalies
        );
        if args.exit_after_demo {
            let _ = stop.send(true);
        } else {
            // The lines above scroll away: say again where to look.
            let login = match &up.demo_password {
                Some(password) => format!(" (log in as demo with password {password})"),
                None => String::new(),
            };
            eprintln!("\nconsole: http://{}/{login}; Ctrl-C stops", up.console);
        }
    }
    shutdown.wait().await;
    let report = up.stop().await;
    if let Some(s) = report.analyzed {
        eprintln!("analyze: {} datapoints in {} batches", s.records, s.batches);
    }
    for (name, failure) in &report.failures {
        eprintln!("{name} {failure}");
    }
    if let Some(s) = report.projected {
        eprintln!("projections: {} records, {} rows written", s.events, s.rows);
    }
    serve::print_ingested(&report.ingested);
    Ok(())
}
