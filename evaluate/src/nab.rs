//! NAB scoring (placeholder until the helper's branch lands).
use crate::windows_file::Window;

/// A cost profile.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostProfile {
    /// Name.
    pub name: &'static str,
    /// tp.
    pub tp: f64,
    /// fp.
    pub fp: f64,
    /// fn.
    pub fn_weight: f64,
}
/// Profiles.
pub const PROFILES: [CostProfile; 3] = [
    CostProfile { name: "standard", tp: 1.0, fp: 0.11, fn_weight: 1.0 },
    CostProfile { name: "reward_low_FP_rate", tp: 1.0, fp: 0.22, fn_weight: 1.0 },
    CostProfile { name: "reward_low_FN_rate", tp: 1.0, fp: 0.11, fn_weight: 2.0 },
];
/// Score.
#[derive(Debug, Clone, Copy, Default, PartialEq, serde::Serialize)]
pub struct NabScore {
    /// raw.
    pub raw: f64,
    /// null.
    pub null: f64,
    /// perfect.
    pub perfect: f64,
}
impl NabScore {
    /// normalised.
    pub fn normalised(&self) -> Option<f64> {
        (self.perfect != self.null).then(|| 100.0 * (self.raw - self.null) / (self.perfect - self.null))
    }
}
impl std::ops::AddAssign for NabScore {
    fn add_assign(&mut self, o: NabScore) {
        self.raw += o.raw;
        self.null += o.null;
        self.perfect += o.perfect;
    }
}
/// score.
pub fn score(_t: &[i64], _w: &[Window], _d: &[i64], _p: &CostProfile) -> NabScore {
    NabScore::default()
}
