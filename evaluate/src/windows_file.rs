//! NAB labelled windows (placeholder until the helper's branch lands).

/// One labelled anomaly window, inclusive bounds, unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Window {
    /// First second inside.
    pub start: i64,
    /// Last second inside.
    pub end: i64,
}

/// Placeholder.
#[derive(Debug, Default)]
pub struct LabelledWindows {
    windows: std::collections::BTreeMap<String, Vec<Window>>,
}

/// Placeholder error.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct WindowsFileError(String);

impl LabelledWindows {
    /// Placeholder.
    pub fn read(path: &std::path::Path) -> Result<LabelledWindows, WindowsFileError> {
        let text = std::fs::read_to_string(path).map_err(|e| WindowsFileError(e.to_string()))?;
        let raw: std::collections::BTreeMap<String, Vec<(String, String)>> =
            serde_json::from_str(&text).map_err(|e| WindowsFileError(e.to_string()))?;
        let parse = |s: &str| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
                .map(|d| d.and_utc().timestamp())
                .map_err(|e| WindowsFileError(e.to_string()))
        };
        let mut windows = std::collections::BTreeMap::new();
        for (k, v) in raw {
            let w = v
                .iter()
                .map(|(a, b)| Ok(Window { start: parse(a)?, end: parse(b)? }))
                .collect::<Result<Vec<_>, WindowsFileError>>()?;
            windows.insert(k, w);
        }
        Ok(LabelledWindows { windows })
    }
    /// Placeholder.
    pub fn for_series(&self, path: &std::path::Path) -> Result<Option<(&str, &[Window])>, WindowsFileError> {
        let p = path.to_string_lossy();
        Ok(self
            .windows
            .iter()
            .filter(|(k, _)| p.ends_with(k.as_str()))
            .max_by_key(|(k, _)| k.len())
            .map(|(k, v)| (k.as_str(), v.as_slice())))
    }
}
