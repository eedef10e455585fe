//! `skyline import-skyline --mysql URL`: an existing Skyline's features
//! profiles and layers as profile events (`stack::import_skyline`), with a
//! line per Skyline profile saying what became of it.

use std::io::Write;

use anyhow::Result;
use stack::Config;

#[derive(clap::Args)]
pub struct ImportSkylineArgs {
    /// The Skyline database, e.g. `mysql://skyline:PASSWORD@db:3306/skyline`.
    #[arg(long)]
    mysql: String,
    /// Print what would be imported, produce nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print the report as one JSON object instead of lines.
    #[arg(long)]
    json: bool,
}

/// Reads, reports, produces.
pub async fn run(config: Config, args: ImportSkylineArgs) -> Result<()> {
    let done = stack::import_skyline::import_skyline(&config, &args.mysql, args.dry_run).await?;
    let reports = &done.import.reports;
    let imported = reports.iter().filter(|r| r.profile_id.is_some()).count();
    let worst = done.import.worst_feature().and_then(|r| {
        r.worst_feature
            .as_ref()
            .map(|w| (r.skyline_id, w.0.clone(), w.1, w.2, w.3))
    });
    let mut out = std::io::stdout().lock();
    if args.json {
        let json = serde_json::json!({
            "profiles": reports,
            "imported": imported,
            "not_imported": reports.len() - imported,
            "events": done.import.events.len(),
            "produced": done.produced,
            "already_imported": done.already,
            "dry_run": args.dry_run,
            "worst_feature": worst.as_ref().map(|w| serde_json::json!({
                "skyline_id": w.0, "feature": w.1, "stored": w.2, "ours": w.3, "relative_difference": w.4,
            })),
        });
        writeln!(out, "{json}")?;
        return Ok(());
    }
    for r in reports {
        match (r.profile_id, &r.problem) {
            (Some(id), problem) => {
                write!(
                    out,
                    "features profile {} ({}): imported as {id}",
                    r.skyline_id, r.metric
                )?;
                if let Some((name, stored, ours, d)) = &r.worst_feature {
                    write!(
                        out,
                        "; {} features compared, worst {name}: stored {stored}, ours {ours} (relative {d:.2e})",
                        r.features_compared
                    )?;
                }
                if let Some(p) = problem {
                    write!(out, "; {p}")?;
                }
                writeln!(out)?;
            }
            (None, problem) => writeln!(
                out,
                "features profile {} ({}): not imported: {}",
                r.skyline_id,
                r.metric,
                problem.as_deref().unwrap_or("unknown")
            )?,
        }
    }
    writeln!(
        out,
        "{imported} of {} features profiles imported ({} events; {} produced, {} already imported{})",
        reports.len(),
        done.import.events.len(),
        done.produced,
        done.already,
        if args.dry_run {
            "; dry run: nothing produced"
        } else {
            ""
        }
    )?;
    if let Some((id, name, stored, ours, d)) = worst {
        writeln!(
            out,
            "worst feature difference: profile {id}, {name}: stored {stored}, ours {ours} (relative {d:.2e})"
        )?;
    }
    Ok(())
}
