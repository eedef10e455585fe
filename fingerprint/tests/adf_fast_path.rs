//! The ADF statistic's fast path (centred cross-products, used from 200
//! points) against the exact QR computation (`numeric::adf`, shared with
//! the analyze crate and verified in the numeric crate against statsmodels) on
//! windows of every real NAB series.

use std::path::PathBuf;

use fingerprint::calculators::autocorrelation::augmented_dickey_fuller;

use numeric::reference::shared_data;

#[test]
fn fast_path_agrees_with_the_exact_statistic() {
    let mut worst = (0.0f64, String::new());
    let mut checked = 0;
    for dir in [
        "realAWSCloudwatch",
        "artificialWithAnomaly",
        "artificialNoAnomaly",
    ] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(shared_data().join("nab").join(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "csv"))
            .collect();
        files.sort();
        for f in files {
            let x: Vec<f64> = std::fs::read_to_string(&f)
                .unwrap()
                .lines()
                .skip(1)
                .filter_map(|l| l.rsplit(',').next()?.trim().parse().ok())
                .collect();
            for len in [200, 333, 1440, 4000] {
                if x.len() < len + 7 {
                    continue;
                }
                let w = &x[7..7 + len];
                let exact = numeric::adf::adfuller(w, None).map(|r| r.statistic);
                let fast = augmented_dickey_fuller(w);
                match exact {
                    Ok(e) if e.abs() < 1e8 => {
                        let d = (fast - e).abs() / e.abs().max(1e-300);
                        assert!(d < 1e-8, "{} [{len}]: fast {fast} exact {e}", f.display());
                        if d > worst.0 {
                            worst = (d, format!("{} [{len}]", f.display()));
                        }
                        checked += 1;
                    }
                    // an exact fit (noiseless synthetic series): both sides
                    // divide by rounding noise
                    Ok(_) => {}
                    Err(_) => assert!(fast.is_nan()),
                }
            }
        }
    }
    println!(
        "{checked} windows, worst relative difference {:.2e} at {}",
        worst.0, worst.1
    );
    assert!(checked > 100);
}
