//! The 216 feature names and ids of Skyline's `TSFRESH_FEATURES`
//! (`spec/features.md` §3), the two feature sets, and [`Features`].

use crate::calculators::flag;
use crate::calculators::{ar, autocorrelation, changes, cwt, entropy, fft, peaks, stats};
use numeric::{min_max, quantile_sorted, sorted};

/// Every feature name, in Skyline id order: `FEATURE_NAMES[id - 1]`. Names
/// are exactly Skyline's, including the literal double quotes around the
/// `cwt_coefficients` names.
pub const FEATURE_NAMES: [&str; 216] = [
    "value__symmetry_looking__r_0.65",
    "value__first_location_of_maximum",
    "value__absolute_sum_of_changes",
    "value__large_number_of_peaks__n_1",
    "value__large_number_of_peaks__n_3",
    "value__large_number_of_peaks__n_5",
    "value__last_location_of_minimum",
    "value__mean_abs_change_quantiles__qh_0.4__ql_0.0",
    "value__mean_abs_change_quantiles__qh_0.4__ql_0.2",
    "value__mean_abs_change_quantiles__qh_0.4__ql_0.4",
    "value__mean_abs_change_quantiles__qh_0.4__ql_0.6",
    "value__mean_abs_change_quantiles__qh_0.4__ql_0.8",
    "value__maximum",
    "value__value_count__value_-inf",
    "value__skewness",
    "value__number_peaks__n_3",
    "value__longest_strike_above_mean",
    "value__number_peaks__n_5",
    "value__first_location_of_minimum",
    "value__large_standard_deviation__r_0.25",
    "value__augmented_dickey_fuller",
    "value__count_above_mean",
    "value__symmetry_looking__r_0.75",
    "value__percentage_of_reoccurring_datapoints_to_all_datapoints",
    "value__mean_abs_change",
    "value__mean_change",
    "value__value_count__value_1",
    "value__value_count__value_0",
    "value__minimum",
    "value__autocorrelation__lag_5",
    "value__median",
    "value__symmetry_looking__r_0.85",
    "value__mean_abs_change_quantiles__qh_0.8__ql_0.4",
    "value__symmetry_looking__r_0.05",
    "value__mean_abs_change_quantiles__qh_0.8__ql_0.6",
    "value__value_count__value_inf",
    "value__mean_abs_change_quantiles__qh_0.8__ql_0.0",
    "value__mean_abs_change_quantiles__qh_0.8__ql_0.2",
    "value__large_standard_deviation__r_0.45",
    "value__mean_abs_change_quantiles__qh_0.8__ql_0.8",
    "value__autocorrelation__lag_6",
    "value__autocorrelation__lag_7",
    "value__autocorrelation__lag_4",
    "value__last_location_of_maximum",
    "value__autocorrelation__lag_2",
    "value__autocorrelation__lag_3",
    "value__autocorrelation__lag_0",
    "value__autocorrelation__lag_1",
    "value__autocorrelation__lag_8",
    "value__autocorrelation__lag_9",
    "value__range_count__max_1__min_-1",
    "value__variance",
    "value__mean",
    "value__standard_deviation",
    "value__mean_abs_change_quantiles__qh_0.6__ql_0.6",
    "value__mean_abs_change_quantiles__qh_0.6__ql_0.4",
    "value__mean_abs_change_quantiles__qh_0.6__ql_0.2",
    "value__mean_abs_change_quantiles__qh_0.6__ql_0.0",
    "value__symmetry_looking__r_0.15",
    "value__ratio_value_number_to_time_series_length",
    "value__mean_second_derivate_central",
    "value__number_peaks__n_1",
    "value__length",
    "value__mean_abs_change_quantiles__qh_1.0__ql_0.0",
    "value__mean_abs_change_quantiles__qh_1.0__ql_0.2",
    "value__mean_abs_change_quantiles__qh_1.0__ql_0.4",
    "value__time_reversal_asymmetry_statistic__lag_3",
    "value__mean_abs_change_quantiles__qh_1.0__ql_0.6",
    "value__mean_abs_change_quantiles__qh_1.0__ql_0.8",
    "value__sum_of_reoccurring_values",
    "value__abs_energy",
    "value__variance_larger_than_standard_deviation",
    "value__mean_abs_change_quantiles__qh_0.6__ql_0.8",
    "value__kurtosis",
    "value__approximate_entropy__m_2__r_0.7",
    "value__approximate_entropy__m_2__r_0.5",
    "value__symmetry_looking__r_0.25",
    "value__approximate_entropy__m_2__r_0.3",
    "value__percentage_of_reoccurring_values_to_all_values",
    "value__approximate_entropy__m_2__r_0.1",
    "value__time_reversal_asymmetry_statistic__lag_2",
    "value__approximate_entropy__m_2__r_0.9",
    "value__time_reversal_asymmetry_statistic__lag_1",
    "value__symmetry_looking__r_0.35",
    "value__large_standard_deviation__r_0.3",
    "value__large_standard_deviation__r_0.2",
    "value__large_standard_deviation__r_0.1",
    "value__large_standard_deviation__r_0.0",
    "value__large_standard_deviation__r_0.4",
    "value__large_standard_deviation__r_0.15",
    "value__mean_autocorrelation",
    "value__binned_entropy__max_bins_10",
    "value__large_standard_deviation__r_0.35",
    "value__symmetry_looking__r_0.95",
    "value__longest_strike_below_mean",
    "value__sum_values",
    "value__symmetry_looking__r_0.45",
    "value__symmetry_looking__r_0.6",
    "value__symmetry_looking__r_0.7",
    "value__symmetry_looking__r_0.4",
    "value__symmetry_looking__r_0.5",
    "value__symmetry_looking__r_0.2",
    "value__symmetry_looking__r_0.3",
    "value__symmetry_looking__r_0.0",
    "value__symmetry_looking__r_0.1",
    "value__has_duplicate",
    "value__symmetry_looking__r_0.8",
    "value__symmetry_looking__r_0.9",
    "value__value_count__value_nan",
    "value__mean_abs_change_quantiles__qh_0.2__ql_0.8",
    "value__large_standard_deviation__r_0.05",
    "value__mean_abs_change_quantiles__qh_0.2__ql_0.2",
    "value__has_duplicate_max",
    "value__mean_abs_change_quantiles__qh_0.2__ql_0.0",
    "value__mean_abs_change_quantiles__qh_0.2__ql_0.6",
    "value__mean_abs_change_quantiles__qh_0.2__ql_0.4",
    "value__number_cwt_peaks__n_5",
    "value__number_cwt_peaks__n_1",
    "value__sample_entropy",
    "value__has_duplicate_min",
    "value__symmetry_looking__r_0.55",
    "value__count_below_mean",
    "value__quantile__q_0.1",
    "value__quantile__q_0.2",
    "value__quantile__q_0.3",
    "value__quantile__q_0.4",
    "value__quantile__q_0.6",
    "value__quantile__q_0.7",
    "value__quantile__q_0.8",
    "value__quantile__q_0.9",
    "value__ar_coefficient__k_10__coeff_0",
    "value__ar_coefficient__k_10__coeff_1",
    "value__ar_coefficient__k_10__coeff_2",
    "value__ar_coefficient__k_10__coeff_3",
    "value__ar_coefficient__k_10__coeff_4",
    "value__index_mass_quantile__q_0.1",
    "value__index_mass_quantile__q_0.2",
    "value__index_mass_quantile__q_0.3",
    "value__index_mass_quantile__q_0.4",
    "value__index_mass_quantile__q_0.6",
    "value__index_mass_quantile__q_0.7",
    "value__index_mass_quantile__q_0.8",
    "value__index_mass_quantile__q_0.9",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_0__w_2\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_1__w_2\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_2__w_2\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_3__w_2\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_4__w_2\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_5__w_2\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_6__w_2\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_7__w_2\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_8__w_2\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_9__w_2\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_10__w_2\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_11__w_2\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_12__w_2\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_13__w_2\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_14__w_2\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_0__w_5\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_1__w_5\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_2__w_5\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_3__w_5\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_4__w_5\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_5__w_5\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_6__w_5\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_7__w_5\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_8__w_5\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_9__w_5\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_10__w_5\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_11__w_5\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_12__w_5\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_13__w_5\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_14__w_5\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_0__w_10\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_1__w_10\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_2__w_10\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_3__w_10\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_4__w_10\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_5__w_10\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_6__w_10\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_7__w_10\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_8__w_10\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_9__w_10\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_10__w_10\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_11__w_10\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_12__w_10\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_13__w_10\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_14__w_10\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_0__w_20\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_1__w_20\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_2__w_20\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_3__w_20\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_4__w_20\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_5__w_20\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_6__w_20\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_7__w_20\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_8__w_20\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_9__w_20\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_10__w_20\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_11__w_20\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_12__w_20\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_13__w_20\"",
    "\"value__cwt_coefficients__widths_(2, 5, 10, 20)__coeff_14__w_20\"",
    "value__spkt_welch_density__coeff_2",
    "value__spkt_welch_density__coeff_5",
    "value__spkt_welch_density__coeff_8",
    "value__fft_coefficient__coeff_0",
    "value__fft_coefficient__coeff_1",
    "value__fft_coefficient__coeff_2",
    "value__fft_coefficient__coeff_3",
    "value__fft_coefficient__coeff_4",
    "value__fft_coefficient__coeff_5",
    "value__fft_coefficient__coeff_6",
    "value__fft_coefficient__coeff_7",
    "value__fft_coefficient__coeff_8",
    "value__fft_coefficient__coeff_9",
];

/// Number of features in the comprehensive set.
pub const FEATURE_COUNT: usize = 216;

// Ids of each calculator's features (generated from the spec's table);
// `*_PARAMS` are the parameters, in the same order as the ids.
pub(crate) const ABS_ENERGY: usize = 71;
pub(crate) const ABSOLUTE_SUM_OF_CHANGES: usize = 3;
pub(crate) const AUGMENTED_DICKEY_FULLER: usize = 21;
pub(crate) const BINNED_ENTROPY: usize = 92;
pub(crate) const COUNT_ABOVE_MEAN: usize = 22;
pub(crate) const COUNT_BELOW_MEAN: usize = 122;
pub(crate) const FIRST_LOCATION_OF_MAXIMUM: usize = 2;
pub(crate) const FIRST_LOCATION_OF_MINIMUM: usize = 19;
pub(crate) const HAS_DUPLICATE: usize = 106;
pub(crate) const HAS_DUPLICATE_MAX: usize = 113;
pub(crate) const HAS_DUPLICATE_MIN: usize = 120;
pub(crate) const KURTOSIS: usize = 74;
pub(crate) const LAST_LOCATION_OF_MAXIMUM: usize = 44;
pub(crate) const LAST_LOCATION_OF_MINIMUM: usize = 7;
pub(crate) const LENGTH: usize = 63;
pub(crate) const LONGEST_STRIKE_ABOVE_MEAN: usize = 17;
pub(crate) const LONGEST_STRIKE_BELOW_MEAN: usize = 95;
pub(crate) const MAXIMUM: usize = 13;
pub(crate) const MEAN: usize = 53;
pub(crate) const MEAN_ABS_CHANGE: usize = 25;
pub(crate) const MEAN_AUTOCORRELATION: usize = 91;
pub(crate) const MEAN_CHANGE: usize = 26;
pub(crate) const MEAN_SECOND_DERIVATE_CENTRAL: usize = 61;
pub(crate) const MEDIAN: usize = 31;
pub(crate) const MINIMUM: usize = 29;
pub(crate) const PERCENTAGE_OF_REOCCURRING_DATAPOINTS_TO_ALL_DATAPOINTS: usize = 24;
pub(crate) const PERCENTAGE_OF_REOCCURRING_VALUES_TO_ALL_VALUES: usize = 79;
pub(crate) const RANGE_COUNT: usize = 51;
pub(crate) const RATIO_VALUE_NUMBER_TO_TIME_SERIES_LENGTH: usize = 60;
pub(crate) const SAMPLE_ENTROPY: usize = 119;
pub(crate) const SKEWNESS: usize = 15;
pub(crate) const STANDARD_DEVIATION: usize = 54;
pub(crate) const SUM_OF_REOCCURRING_VALUES: usize = 70;
pub(crate) const SUM_VALUES: usize = 96;
pub(crate) const VARIANCE: usize = 52;
pub(crate) const VARIANCE_LARGER_THAN_STANDARD_DEVIATION: usize = 72;
pub(crate) const SYMMETRY_LOOKING_PARAMS: [f64; 20] = [
    0.0 * 0.05,
    1.0 * 0.05,
    2.0 * 0.05,
    3.0 * 0.05,
    4.0 * 0.05,
    5.0 * 0.05,
    6.0 * 0.05,
    7.0 * 0.05,
    8.0 * 0.05,
    9.0 * 0.05,
    10.0 * 0.05,
    11.0 * 0.05,
    12.0 * 0.05,
    13.0 * 0.05,
    14.0 * 0.05,
    15.0 * 0.05,
    16.0 * 0.05,
    17.0 * 0.05,
    18.0 * 0.05,
    19.0 * 0.05,
];
pub(crate) const SYMMETRY_LOOKING_IDS: [u8; 20] = [
    104, 34, 105, 59, 102, 77, 103, 84, 100, 97, 101, 121, 98, 1, 99, 23, 107, 32, 108, 94,
];
pub(crate) const LARGE_STANDARD_DEVIATION_PARAMS: [f64; 10] = [
    0.0 * 0.05,
    1.0 * 0.05,
    2.0 * 0.05,
    3.0 * 0.05,
    4.0 * 0.05,
    5.0 * 0.05,
    6.0 * 0.05,
    7.0 * 0.05,
    8.0 * 0.05,
    9.0 * 0.05,
];
pub(crate) const LARGE_STANDARD_DEVIATION_IDS: [u8; 10] = [88, 111, 87, 90, 86, 20, 85, 93, 89, 39];
pub(crate) const QUANTILE_PARAMS: [f64; 8] = [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9];
pub(crate) const QUANTILE_IDS: [u8; 8] = [123, 124, 125, 126, 127, 128, 129, 130];
pub(crate) const INDEX_MASS_QUANTILE_PARAMS: [f64; 8] = [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9];
pub(crate) const INDEX_MASS_QUANTILE_IDS: [u8; 8] = [136, 137, 138, 139, 140, 141, 142, 143];
pub(crate) const AUTOCORRELATION_PARAMS: [usize; 10] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
pub(crate) const AUTOCORRELATION_IDS: [u8; 10] = [47, 48, 45, 46, 43, 30, 41, 42, 49, 50];
pub(crate) const TIME_REVERSAL_ASYMMETRY_STATISTIC_PARAMS: [usize; 3] = [1, 2, 3];
pub(crate) const TIME_REVERSAL_ASYMMETRY_STATISTIC_IDS: [u8; 3] = [83, 81, 67];
pub(crate) const NUMBER_CWT_PEAKS_PARAMS: [usize; 2] = [1, 5];
pub(crate) const NUMBER_CWT_PEAKS_IDS: [u8; 2] = [118, 117];
pub(crate) const NUMBER_PEAKS_PARAMS: [usize; 3] = [1, 3, 5];
pub(crate) const NUMBER_PEAKS_IDS: [u8; 3] = [62, 16, 18];
pub(crate) const LARGE_NUMBER_OF_PEAKS_IDS: [u8; 3] = [4, 5, 6];
pub(crate) const SPKT_WELCH_DENSITY_PARAMS: [usize; 3] = [2, 5, 8];
pub(crate) const SPKT_WELCH_DENSITY_IDS: [u8; 3] = [204, 205, 206];
pub(crate) const AR_COEFFICIENT_IDS: [u8; 5] = [131, 132, 133, 134, 135];
pub(crate) const FFT_COEFFICIENT_IDS: [u8; 10] = [207, 208, 209, 210, 211, 212, 213, 214, 215, 216];
pub(crate) const VALUE_COUNT_PARAMS: [f64; 5] =
    [0.0, 1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY];
pub(crate) const VALUE_COUNT_IDS: [u8; 5] = [28, 27, 109, 36, 14];
pub(crate) const APPROXIMATE_ENTROPY_PARAMS: [f64; 5] = [0.1, 0.3, 0.5, 0.7, 0.9];
pub(crate) const APPROXIMATE_ENTROPY_IDS: [u8; 5] = [80, 78, 76, 75, 82];
pub(crate) const MEAN_ABS_CHANGE_QUANTILES_PARAMS: [(f64, f64); 25] = [
    (0.0, 0.2),
    (0.0, 0.4),
    (0.0, 0.6),
    (0.0, 0.8),
    (0.0, 1.0),
    (0.2, 0.2),
    (0.2, 0.4),
    (0.2, 0.6),
    (0.2, 0.8),
    (0.2, 1.0),
    (0.4, 0.2),
    (0.4, 0.4),
    (0.4, 0.6),
    (0.4, 0.8),
    (0.4, 1.0),
    (0.6, 0.2),
    (0.6, 0.4),
    (0.6, 0.6),
    (0.6, 0.8),
    (0.6, 1.0),
    (0.8, 0.2),
    (0.8, 0.4),
    (0.8, 0.6),
    (0.8, 0.8),
    (0.8, 1.0),
];
pub(crate) const MEAN_ABS_CHANGE_QUANTILES_IDS: [u8; 25] = [
    114, 8, 58, 37, 64, 112, 9, 57, 38, 65, 116, 10, 56, 33, 66, 115, 11, 55, 35, 68, 110, 12, 73,
    40, 69,
];
pub(crate) const CWT_WIDTHS: [usize; 4] = [2, 5, 10, 20];
pub(crate) const CWT_COEFFICIENTS_IDS: [[u8; 15]; 4] = [
    [
        144, 145, 146, 147, 148, 149, 150, 151, 152, 153, 154, 155, 156, 157, 158,
    ],
    [
        159, 160, 161, 162, 163, 164, 165, 166, 167, 168, 169, 170, 171, 172, 173,
    ],
    [
        174, 175, 176, 177, 178, 179, 180, 181, 182, 183, 184, 185, 186, 187, 188,
    ],
    [
        189, 190, 191, 192, 193, 194, 195, 196, 197, 198, 199, 200, 201, 202, 203,
    ],
];

/// Which features to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FeatureSet {
    /// All 216 (tsfresh's `ComprehensiveFCParameters`; Skyline's baselines).
    #[default]
    Comprehensive,
    /// The 210 that production profiles hold (`EfficientFCParameters`):
    /// without the high-cost `approximate_entropy` (5) and `sample_entropy`.
    Efficient,
}

impl FeatureSet {
    /// Whether feature `id` belongs to this set.
    pub fn contains(self, id: u16) -> bool {
        match self {
            FeatureSet::Comprehensive => (1..=216).contains(&id),
            FeatureSet::Efficient => {
                (1..=216).contains(&id)
                    && id as usize != SAMPLE_ENTROPY
                    && !APPROXIMATE_ENTROPY_IDS.contains(&(id as u8))
            }
        }
    }

    /// The set's ids in ascending order.
    pub fn ids(self) -> Vec<u16> {
        (1..=216u16).filter(|&id| self.contains(id)).collect()
    }
}

impl std::str::FromStr for FeatureSet {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "comprehensive" => Ok(FeatureSet::Comprehensive),
            "efficient" => Ok(FeatureSet::Efficient),
            other => Err(format!(
                "unknown feature set {other:?} (expected comprehensive or efficient)"
            )),
        }
    }
}

/// The features version profiles are made with: part of a label's profile
/// id, so re-deriving profiles after a features change makes new ones.
pub const FEATURES_VERSION: &str = "tsfresh-0.20.3-skyline/efficient-210";

/// Whether Ionosphere stores and compares feature `id`: not the 60
/// `cwt_coefficients` (their names carry literal quotes) nor the 10 whose
/// parameter tsfresh spells with a float artefact
/// (`r_0.15000000000000002`), because those names never match at storage
/// time (`spec/features.md` §3).
pub fn is_stored(id: u16) -> bool {
    const FLOAT_ARTEFACT: [u16; 10] = [32, 59, 84, 85, 90, 93, 94, 98, 99, 103];
    (1..=216).contains(&id) && !(144..=203).contains(&id) && !FLOAT_ARTEFACT.contains(&id)
}

/// Feature id of a name (`None` if it is not one of the 216).
pub fn feature_id(name: &str) -> Option<u16> {
    FEATURE_NAMES
        .iter()
        .position(|n| *n == name)
        .map(|i| i as u16 + 1)
}

/// A series' features: ids (ascending), names and values.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    ids: Vec<u16>,
    values: Vec<f64>,
}

impl Features {
    /// Computes `set` for the series `x` (values in time order), on the
    /// calling thread.
    pub fn compute(x: &[f64], set: FeatureSet) -> Features {
        Self::from_all(compute_all(x, set, false), set)
    }

    /// [`Features::compute`] with the expensive calculators run in
    /// parallel on rayon's pool (worth it from about a thousand points).
    pub fn compute_parallel(x: &[f64], set: FeatureSet) -> Features {
        Self::from_all(compute_all(x, set, true), set)
    }

    fn from_all(all: [f64; FEATURE_COUNT], set: FeatureSet) -> Features {
        let ids = set.ids();
        let values = ids.iter().map(|&id| all[id as usize - 1]).collect();
        Features { ids, values }
    }

    /// Builds a value from `(id, value)` pairs (e.g. a stored profile);
    /// ids outside 1..=216 are dropped, the rest sorted by id.
    pub fn from_pairs(pairs: impl IntoIterator<Item = (u16, f64)>) -> Features {
        let mut v: Vec<(u16, f64)> = pairs
            .into_iter()
            .filter(|(id, _)| (1..=216).contains(id))
            .collect();
        v.sort_by_key(|p| p.0);
        v.dedup_by_key(|p| p.0);
        Features {
            ids: v.iter().map(|p| p.0).collect(),
            values: v.iter().map(|p| p.1).collect(),
        }
    }

    /// Feature ids, ascending.
    pub fn ids(&self) -> &[u16] {
        &self.ids
    }

    /// Values, in the order of [`Features::ids`].
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// Names, in the order of [`Features::ids`].
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.ids.iter().map(|&id| FEATURE_NAMES[id as usize - 1])
    }

    /// `(id, name, value)` in id order.
    pub fn iter(&self) -> impl Iterator<Item = (u16, &'static str, f64)> + '_ {
        self.ids
            .iter()
            .zip(&self.values)
            .map(|(&id, &v)| (id, FEATURE_NAMES[id as usize - 1], v))
    }

    /// The value of feature `id`, if present.
    pub fn get(&self, id: u16) -> Option<f64> {
        self.ids.binary_search(&id).ok().map(|i| self.values[i])
    }

    /// The value of the feature named `name`, if present.
    pub fn get_by_name(&self, name: &str) -> Option<f64> {
        feature_id(name).and_then(|id| self.get(id))
    }

    /// Number of features held.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Whether no feature is held.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The features sum: Σ of every value, NaN skipped (see
    /// [`crate::compare::features_sum`]).
    pub fn sum(&self) -> f64 {
        crate::compare::features_sum(&self.values)
    }
}

/// Values shared by many calculators, computed once.
struct Prep {
    mean: f64,
    std: f64,
    var: f64,
    min: f64,
    max: f64,
    /// sorted copy, NaN last
    sorted: Vec<f64>,
    /// `sorted` without NaN
    finite_sorted_len: usize,
}

fn put(all: &mut [f64; FEATURE_COUNT], id: usize, v: f64) {
    all[id - 1] = v;
}

fn put_many<T: Copy>(
    all: &mut [f64; FEATURE_COUNT],
    ids: &[u8],
    values: &[T],
    f: impl Fn(T) -> f64,
) {
    for (&id, &p) in ids.iter().zip(values) {
        all[id as usize - 1] = f(p);
    }
}

/// The cheap calculators: statistics, counts, locations, changes, peaks,
/// quantiles, the legacy FFT coefficients.
fn simple_features(x: &[f64], p: &Prep, all: &mut [f64; FEATURE_COUNT]) {
    let s = &p.sorted;
    let has_nan = p.finite_sorted_len < s.len();
    put(all, LENGTH, stats::length(x));
    put(all, SUM_VALUES, stats::sum_values(x));
    put(all, MEAN, p.mean);
    let median = stats::median_sorted(s);
    put(all, MEDIAN, median);
    put(all, MAXIMUM, p.max);
    put(all, MINIMUM, p.min);
    put(all, VARIANCE, p.var);
    put(all, STANDARD_DEVIATION, p.std);
    put(
        all,
        VARIANCE_LARGER_THAN_STANDARD_DEVIATION,
        flag(p.var > p.std),
    );
    put(all, SKEWNESS, stats::skewness(x));
    put(all, KURTOSIS, stats::kurtosis(x));
    put(all, ABS_ENERGY, stats::abs_energy(x));
    put_many(all, &QUANTILE_IDS, &QUANTILE_PARAMS, |q| {
        if has_nan {
            f64::NAN
        } else {
            quantile_sorted(s, q)
        }
    });
    let range = p.max - p.min;
    put_many(
        all,
        &LARGE_STANDARD_DEVIATION_IDS,
        &LARGE_STANDARD_DEVIATION_PARAMS,
        |r| flag(p.std > r * range),
    );
    let mm = (p.mean - median).abs();
    put_many(all, &SYMMETRY_LOOKING_IDS, &SYMMETRY_LOOKING_PARAMS, |r| {
        flag(mm < r * range)
    });
    put(
        all,
        COUNT_ABOVE_MEAN,
        x.iter().filter(|&&v| v > p.mean).count() as f64,
    );
    put(
        all,
        COUNT_BELOW_MEAN,
        x.iter().filter(|&&v| v < p.mean).count() as f64,
    );
    put(all, RANGE_COUNT, stats::range_count(x, -1.0, 1.0));
    put_many(all, &VALUE_COUNT_IDS, &VALUE_COUNT_PARAMS, |v| {
        stats::value_count(x, v)
    });
    let vc = stats::value_counts(s);
    put(all, HAS_DUPLICATE, flag(vc.len() != x.len()));
    put(
        all,
        HAS_DUPLICATE_MAX,
        flag(x.iter().filter(|&&v| v == p.max).count() >= 2),
    );
    put(
        all,
        HAS_DUPLICATE_MIN,
        flag(x.iter().filter(|&&v| v == p.min).count() >= 2),
    );
    let n = x.len() as f64;
    if x.is_empty() {
        put(all, RATIO_VALUE_NUMBER_TO_TIME_SERIES_LENGTH, f64::NAN);
        put(
            all,
            PERCENTAGE_OF_REOCCURRING_DATAPOINTS_TO_ALL_DATAPOINTS,
            f64::NAN,
        );
        put(
            all,
            PERCENTAGE_OF_REOCCURRING_VALUES_TO_ALL_VALUES,
            f64::NAN,
        );
    } else {
        put(
            all,
            RATIO_VALUE_NUMBER_TO_TIME_SERIES_LENGTH,
            vc.len() as f64 / n,
        );
        let repeated = vc.iter().filter(|(_, c)| *c > 1).count();
        put(
            all,
            PERCENTAGE_OF_REOCCURRING_DATAPOINTS_TO_ALL_DATAPOINTS,
            repeated as f64 / vc.len() as f64,
        );
        let occurrences: usize = vc
            .iter()
            .filter(|(u, c)| *c > 1 && !u.is_nan())
            .map(|(_, c)| c)
            .sum();
        put(
            all,
            PERCENTAGE_OF_REOCCURRING_VALUES_TO_ALL_VALUES,
            occurrences as f64 / n,
        );
    }
    let terms: Vec<f64> = vc
        .iter()
        .map(|&(u, c)| if c > 1 { u * c as f64 } else { 0.0 * u })
        .collect();
    put(all, SUM_OF_REOCCURRING_VALUES, numeric::sum(&terms));
    put(
        all,
        FIRST_LOCATION_OF_MAXIMUM,
        stats::first_location_of_maximum(x),
    );
    put(
        all,
        LAST_LOCATION_OF_MAXIMUM,
        stats::last_location_of_maximum(x),
    );
    put(
        all,
        FIRST_LOCATION_OF_MINIMUM,
        stats::first_location_of_minimum(x),
    );
    put(
        all,
        LAST_LOCATION_OF_MINIMUM,
        stats::last_location_of_minimum(x),
    );
    let imq = stats::index_mass_quantiles(x, &INDEX_MASS_QUANTILE_PARAMS);
    put_many(all, &INDEX_MASS_QUANTILE_IDS, &imq, |v| v);

    put(
        all,
        ABSOLUTE_SUM_OF_CHANGES,
        changes::absolute_sum_of_changes(x),
    );
    put(all, MEAN_ABS_CHANGE, changes::mean_abs_change(x));
    put(all, MEAN_CHANGE, changes::mean_change(x));
    put(
        all,
        MEAN_SECOND_DERIVATE_CENTRAL,
        changes::mean_second_derivate_central(x),
    );
    put(
        all,
        LONGEST_STRIKE_ABOVE_MEAN,
        changes::longest_strike_above_mean(x),
    );
    put(
        all,
        LONGEST_STRIKE_BELOW_MEAN,
        changes::longest_strike_below_mean(x),
    );
    let finite = &s[..p.finite_sorted_len];
    put_many(
        all,
        &MEAN_ABS_CHANGE_QUANTILES_IDS,
        &MEAN_ABS_CHANGE_QUANTILES_PARAMS,
        |(ql, qh)| changes::mean_abs_change_quantiles_sorted(x, finite, ql, qh),
    );

    put_many(all, &NUMBER_PEAKS_IDS, &NUMBER_PEAKS_PARAMS, |k| {
        peaks::number_peaks(x, k)
    });
    put_many(all, &LARGE_NUMBER_OF_PEAKS_IDS, &NUMBER_PEAKS_PARAMS, |k| {
        peaks::large_number_of_peaks(x, k)
    });

    put_many(all, &AUTOCORRELATION_IDS, &AUTOCORRELATION_PARAMS, |lag| {
        autocorrelation::autocorrelation(x, lag)
    });
    put_many(
        all,
        &TIME_REVERSAL_ASYMMETRY_STATISTIC_IDS,
        &TIME_REVERSAL_ASYMMETRY_STATISTIC_PARAMS,
        |lag| autocorrelation::time_reversal_asymmetry_statistic(x, lag),
    );
    put(all, BINNED_ENTROPY, entropy::binned_entropy(x, 10));

    let fftc = fft::fft_coefficients(x, &(0..10).collect::<Vec<_>>());
    put_many(all, &FFT_COEFFICIENT_IDS, &fftc, |v| v);
    let welch = fft::spkt_welch_density(x, &SPKT_WELCH_DENSITY_PARAMS);
    put_many(all, &SPKT_WELCH_DENSITY_IDS, &welch, |v| v);
    for (wi, &w) in CWT_WIDTHS.iter().enumerate() {
        let c = cwt::cwt_coefficients(x, w, 15);
        put_many(all, &CWT_COEFFICIENTS_IDS[wi], &c, |v| v);
    }
}

/// One expensive calculator (or family) and the values it produced.
type Part = Vec<(usize, f64)>;

fn adf_part(x: &[f64]) -> Part {
    vec![(
        AUGMENTED_DICKEY_FULLER,
        autocorrelation::augmented_dickey_fuller(x),
    )]
}

fn ar_part(x: &[f64]) -> Part {
    let c = ar::ar_coefficients(x, 10);
    AR_COEFFICIENT_IDS
        .iter()
        .zip(c)
        .map(|(&id, v)| (id as usize, v))
        .collect()
}

fn cwt_peaks_part(x: &[f64]) -> Part {
    NUMBER_CWT_PEAKS_IDS
        .iter()
        .zip(cwt::number_cwt_peaks_many(x, &NUMBER_CWT_PEAKS_PARAMS))
        .map(|(&id, v)| (id as usize, v))
        .collect()
}

fn autocorr_part(x: &[f64]) -> Part {
    vec![(
        MEAN_AUTOCORRELATION,
        autocorrelation::mean_autocorrelation(x),
    )]
}

fn entropy_part(x: &[f64], set: FeatureSet, parallel: bool) -> Part {
    if set == FeatureSet::Efficient {
        return Vec::new();
    }
    let mut out = vec![(SAMPLE_ENTROPY, entropy::sample_entropy(x))];
    let ap = entropy::approximate_entropies_with(x, 2, &APPROXIMATE_ENTROPY_PARAMS, parallel);
    out.extend(
        APPROXIMATE_ENTROPY_IDS
            .iter()
            .zip(ap)
            .map(|(&id, v)| (id as usize, v)),
    );
    out
}

fn compute_all(x: &[f64], set: FeatureSet, parallel: bool) -> [f64; FEATURE_COUNT] {
    let mut all = [f64::NAN; FEATURE_COUNT];
    let simple = |all: &mut [f64; FEATURE_COUNT]| {
        let mean = numeric::mean(x);
        let var = numeric::var_with_mean(x, mean);
        let (min, max) = min_max(x);
        let s = sorted(x);
        let finite_sorted_len = s.iter().take_while(|v| !v.is_nan()).count();
        let prep = Prep {
            mean,
            std: var.sqrt(),
            var,
            min,
            max,
            sorted: s,
            finite_sorted_len,
        };
        simple_features(x, &prep, all);
    };
    let parts: Vec<Part> = if parallel {
        let ((a, b), ((c, d), e)) = rayon::join(
            || rayon::join(|| adf_part(x), || ar_part(x)),
            || {
                rayon::join(
                    || rayon::join(|| cwt_peaks_part(x), || autocorr_part(x)),
                    || {
                        let mut local = [f64::NAN; FEATURE_COUNT];
                        simple(&mut local);
                        (local, entropy_part(x, set, true))
                    },
                )
            },
        );
        let (local, ent) = e;
        all = local;
        vec![a, b, c, d, ent]
    } else {
        simple(&mut all);
        vec![
            adf_part(x),
            ar_part(x),
            cwt_peaks_part(x),
            autocorr_part(x),
            entropy_part(x, set, false),
        ]
    };
    for part in parts {
        for (id, v) in part {
            all[id - 1] = v;
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_consistent() {
        assert_eq!(FEATURE_NAMES.len(), 216);
        let mut seen = std::collections::HashSet::new();
        assert!(FEATURE_NAMES.iter().all(|n| seen.insert(*n)));
        assert_eq!(FeatureSet::Efficient.ids().len(), 210);
        assert_eq!(FeatureSet::Comprehensive.ids().len(), 216);
        assert_eq!(feature_id("value__mean"), Some(53));
        assert_eq!((1..=216).filter(|&id| is_stored(id)).count(), 146);
        // every id is written by compute_all
        let x: Vec<f64> = (0..100)
            .map(|i| (i as f64 * 0.3).sin() * 10.0 + i as f64)
            .collect();
        let f = Features::compute(&x, FeatureSet::Comprehensive);
        for (id, name, v) in f.iter() {
            assert!(v.is_finite(), "{id} {name} = {v}");
        }
        assert_eq!(f, Features::compute_parallel(&x, FeatureSet::Comprehensive));
    }
}
