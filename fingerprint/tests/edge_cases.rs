//! Outside input never panics and gives the reference's value: constant
//! series, lengths 0–3, NaN/±inf values, negative values.

use fingerprint::calculators::{ar, autocorrelation, changes, cwt, entropy, fft, peaks, stats};
use fingerprint::{FeatureSet, Features, FEATURE_NAMES};

fn all(x: &[f64]) -> Features {
    let f = Features::compute(x, FeatureSet::Comprehensive);
    assert_eq!(f.len(), 216);
    let p = Features::compute_parallel(x, FeatureSet::Comprehensive);
    let bits = |f: &Features| f.values().iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&f), bits(&p), "parallel and sequential differ");
    f
}

fn v(f: &Features, name: &str) -> f64 {
    f.get_by_name(name).unwrap_or_else(|| panic!("no {name}"))
}

#[test]
fn every_length_from_0_to_30_computes_without_panicking() {
    let base: Vec<f64> = (0..30).map(|i| ((i * 7) % 11) as f64 - 4.5).collect();
    for n in 0..=30 {
        let f = all(&base[..n]);
        assert_eq!(v(&f, "value__length"), n as f64);
    }
}

#[test]
fn empty_series() {
    let f = all(&[]);
    assert_eq!(v(&f, "value__sum_values"), 0.0);
    for name in [
        "value__mean",
        "value__median",
        "value__maximum",
        "value__quantile__q_0.1",
        "value__first_location_of_maximum",
        "value__augmented_dickey_fuller",
        "value__ar_coefficient__k_10__coeff_0",
        "value__mean_change",
    ] {
        assert!(v(&f, name).is_nan(), "{name}");
    }
}

#[test]
fn lengths_one_to_three() {
    let f = all(&[4.0]);
    assert_eq!(v(&f, "value__mean"), 4.0);
    assert_eq!(v(&f, "value__standard_deviation"), 0.0);
    assert!(v(&f, "value__mean_change").is_nan());
    assert!(v(&f, "value__mean_abs_change").is_nan());
    assert_eq!(v(&f, "value__absolute_sum_of_changes"), 0.0);
    assert!(v(&f, "value__skewness").is_nan());
    assert_eq!(v(&f, "value__mean_autocorrelation"), 0.0);
    assert!(v(&f, "value__autocorrelation__lag_1").is_nan());
    assert_eq!(v(&f, "value__fft_coefficient__coeff_0"), 4.0);
    assert_eq!(v(&f, "value__fft_coefficient__coeff_1"), 0.0);
    assert!(v(&f, "value__spkt_welch_density__coeff_2").is_nan());
    assert!(v(&f, "value__sample_entropy").is_nan());
    assert_eq!(v(&f, "value__approximate_entropy__m_2__r_0.1"), 0.0);

    let f = all(&[1.0, 3.0]);
    assert_eq!(v(&f, "value__mean_change"), 2.0);
    assert!(v(&f, "value__mean_second_derivate_central").is_nan());
    assert!(v(&f, "value__augmented_dickey_fuller").is_nan());
    assert_eq!(
        v(&f, "value__time_reversal_asymmetry_statistic__lag_1"),
        3.0 * 3.0 * 1.0 - 1.0 * 1.0
    );

    let f = all(&[1.0, 3.0, 2.0]);
    assert_eq!(
        v(&f, "value__mean_second_derivate_central"),
        (2.0 - 3.0 - 3.0 + 1.0) / 2.0
    );
    assert_eq!(v(&f, "value__skewness"), 0.0);
    assert!(v(&f, "value__kurtosis").is_nan());
    assert_eq!(v(&f, "value__number_peaks__n_1"), 1.0);
}

#[test]
fn constant_series() {
    let x = vec![7.5; 100];
    let f = all(&x);
    assert_eq!(v(&f, "value__variance"), 0.0);
    assert_eq!(v(&f, "value__skewness"), 0.0);
    assert_eq!(v(&f, "value__kurtosis"), 0.0);
    assert!(v(&f, "value__autocorrelation__lag_1").is_nan());
    assert!(v(&f, "value__autocorrelation__lag_0").is_nan());
    assert_eq!(v(&f, "value__mean_autocorrelation"), 0.0);
    assert!(v(&f, "value__augmented_dickey_fuller").is_nan()); // statsmodels: "x is constant"
    assert_eq!(v(&f, "value__sample_entropy"), f64::INFINITY);
    assert_eq!(v(&f, "value__binned_entropy__max_bins_10"), 0.0);
    assert_eq!(v(&f, "value__has_duplicate_max"), 1.0);
    assert_eq!(
        v(&f, "value__ratio_value_number_to_time_series_length"),
        0.01
    );
    assert_eq!(v(&f, "value__sum_of_reoccurring_values"), 750.0);
    assert_eq!(
        v(&f, "value__mean_abs_change_quantiles__qh_1.0__ql_0.0"),
        0.0
    );
    assert_eq!(v(&f, "value__large_standard_deviation__r_0.0"), 0.0);
    assert_eq!(v(&f, "value__symmetry_looking__r_0.0"), 0.0);
    // scipy's find_peaks_cwt finds the partial-overlap edges (2 and 1)
    assert_eq!(v(&f, "value__number_cwt_peaks__n_5"), 2.0);
    assert_eq!(v(&f, "value__number_cwt_peaks__n_1"), 1.0);
    assert_eq!(v(&f, "value__spkt_welch_density__coeff_2"), 0.0);
    assert_eq!(v(&f, "value__approximate_entropy__m_2__r_0.5"), 0.0);
    // statsmodels AutoReg's minimum-norm fit of a constant: 7.5 / (1 + 10·7.5²)
    let c0 = v(&f, "value__ar_coefficient__k_10__coeff_0");
    assert!((c0 - 7.5 / (1.0 + 10.0 * 56.25)).abs() < 1e-12, "{c0}");
    // all zeros: index mass is undefined
    let z = all(&[0.0; 50]);
    assert!(v(&z, "value__index_mass_quantile__q_0.6").is_nan());
    assert_eq!(v(&z, "value__value_count__value_0"), 50.0);
}

#[test]
fn nan_and_infinite_values() {
    let mut x: Vec<f64> = (0..60).map(|i| (i as f64 * 0.7).sin() * 3.0).collect();
    x[10] = f64::NAN;
    x[20] = f64::INFINITY;
    x[30] = f64::NEG_INFINITY;
    let f = all(&x);
    assert_eq!(v(&f, "value__value_count__value_nan"), 1.0);
    assert_eq!(v(&f, "value__value_count__value_inf"), 1.0);
    assert_eq!(v(&f, "value__value_count__value_-inf"), 1.0);
    assert_eq!(v(&f, "value__length"), 60.0);
    for name in [
        "value__mean",
        "value__median",
        "value__maximum",
        "value__quantile__q_0.9",
        "value__augmented_dickey_fuller",
        "value__ar_coefficient__k_10__coeff_1",
        "value__binned_entropy__max_bins_10",
        "value__spkt_welch_density__coeff_2",
    ] {
        assert!(v(&f, name).is_nan(), "{name} = {}", v(&f, name));
    }
    // only infinities (no NaN): max/min are the infinities
    let mut y: Vec<f64> = (0..40).map(|i| i as f64).collect();
    y[3] = f64::INFINITY;
    y[4] = f64::NEG_INFINITY;
    let f = all(&y);
    assert_eq!(v(&f, "value__maximum"), f64::INFINITY);
    assert_eq!(v(&f, "value__minimum"), f64::NEG_INFINITY);
    assert_eq!(v(&f, "value__first_location_of_maximum"), 3.0 / 40.0);
    // the features sum skips NaN but every name is still reported
    assert_eq!(f.names().count(), FEATURE_NAMES.len());
    let _ = f.sum();
    // every calculator on its own, NaN everywhere: no panic
    let n = vec![f64::NAN; 25];
    let _ = (
        stats::skewness(&n),
        stats::kurtosis(&n),
        changes::mean_abs_change_quantiles(&n, 0.2, 0.8),
        autocorrelation::mean_autocorrelation(&n),
        autocorrelation::augmented_dickey_fuller(&n),
        ar::ar_coefficients(&n, 10),
        entropy::sample_entropy(&n),
        entropy::approximate_entropies(&n, 2, &[0.1, 0.9]),
        entropy::binned_entropy(&n, 10),
        fft::spkt_welch_density(&n, &[2, 5, 8]),
        fft::fft_coefficients(&n, &[0, 9]),
        cwt::number_cwt_peaks(&n, 5),
        cwt::cwt_coefficients(&n, 20, 15),
        peaks::number_peaks(&n, 3),
    );
}

#[test]
fn negative_values() {
    let x: Vec<f64> = (0..80).map(|i| -100.0 - ((i * 13) % 17) as f64).collect();
    let f = all(&x);
    assert!(v(&f, "value__mean") < -100.0);
    assert_eq!(v(&f, "value__range_count__max_1__min_-1"), 0.0);
    assert!(v(&f, "value__abs_energy") > 0.0);
    // index mass uses |x|
    let imq = v(&f, "value__index_mass_quantile__q_0.6");
    assert!(imq > 0.5 && imq < 0.7, "{imq}");
    assert!(v(&f, "value__quantile__q_0.1") < v(&f, "value__quantile__q_0.9"));
    // negating the series flips skewness and the mean, keeps the variance
    let neg: Vec<f64> = x.iter().map(|v| -v).collect();
    let g = all(&neg);
    assert_eq!(v(&g, "value__variance"), v(&f, "value__variance"));
    assert!((v(&g, "value__skewness") + v(&f, "value__skewness")).abs() < 1e-12);
    assert_eq!(
        v(&g, "value__sample_entropy"),
        v(&f, "value__sample_entropy")
    );
}

#[test]
fn efficient_set_is_the_comprehensive_set_without_the_entropies() {
    let x: Vec<f64> = (0..300)
        .map(|i| (i as f64 * 0.05).cos() * 10.0 + (i % 7) as f64)
        .collect();
    let c = Features::compute(&x, FeatureSet::Comprehensive);
    let e = Features::compute(&x, FeatureSet::Efficient);
    assert_eq!(e.len(), 210);
    for (id, name, value) in e.iter() {
        assert!(
            !name.contains("entropy") || name.contains("binned"),
            "{name}"
        );
        assert_eq!(c.get(id).unwrap().to_bits(), value.to_bits(), "{name}");
    }
    assert!(c.get_by_name("value__sample_entropy").is_some());
    assert!(e.get_by_name("value__sample_entropy").is_none());
}
