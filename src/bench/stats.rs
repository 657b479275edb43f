//! Statistics of the frame benchmark: medians, percentiles, ratios. No ECS.

use serde::{Deserialize, Serialize};

use super::RunResult;

/// The `q`-quantile (0–1) of `values` by nearest rank; `None` when empty.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    // Nearest rank: the smallest value with at least q of the values at or below it.
    let rank = (q.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.saturating_sub(1).min(sorted.len() - 1)])
}

/// The median (nearest rank, the lower of the two middle values for an even count).
pub fn median(values: &[f64]) -> Option<f64> {
    quantile(values, 0.5)
}

/// A ratio as the docs write it: `1.07×`.
pub fn ratio_text(ratio: f64) -> String {
    format!("{ratio:.2}×")
}

/// One app's runs, summarised.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    /// Runs summarised.
    pub runs: usize,
    /// Median of every steady frame of every run, milliseconds.
    pub median_frame_ms: f64,
    /// 95th percentile of the same frames, milliseconds.
    pub p95_frame_ms: f64,
    /// Median of the same frames' main-schedule updates (the app's systems and Bevy's, before
    /// the renderer extracts and draws), milliseconds.
    pub median_update_ms: f64,
    /// 95th percentile of those updates, milliseconds.
    pub p95_update_ms: f64,
    /// Median over runs of the time to the first frame that shows the model, seconds.
    pub first_model_frame_s: f64,
    /// Median over runs of the whole process (start to exit), seconds.
    pub whole_process_s: f64,
    /// Highest peak resident memory of any run, MiB.
    pub peak_rss_mib: Option<f64>,
}

impl Summary {
    /// Summarises runs, each with its whole-process time in seconds; `None` without runs.
    pub fn of(runs: &[(RunResult, f64)]) -> Option<Self> {
        let frames: Vec<f64> = runs
            .iter()
            .flat_map(|(r, _)| r.frame_ms.iter().copied())
            .collect();
        let updates: Vec<f64> = runs
            .iter()
            .flat_map(|(r, _)| r.update_ms.iter().copied())
            .collect();
        let first: Vec<f64> = runs.iter().map(|(r, _)| r.first_model_frame_s).collect();
        let whole: Vec<f64> = runs.iter().map(|(_, s)| *s).collect();
        Some(Self {
            runs: runs.len(),
            median_frame_ms: median(&frames)?,
            p95_frame_ms: quantile(&frames, 0.95)?,
            median_update_ms: median(&updates)?,
            p95_update_ms: quantile(&updates, 0.95)?,
            first_model_frame_s: median(&first)?,
            whole_process_s: median(&whole)?,
            peak_rss_mib: runs
                .iter()
                .filter_map(|(r, _)| r.peak_rss_mib)
                .reduce(f64::max),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::BenchApp;

    #[test]
    fn quantiles_by_nearest_rank() {
        let v: Vec<f64> = (1..=20).map(f64::from).rev().collect();
        assert_eq!(median(&v), Some(10.0));
        assert_eq!(quantile(&v, 0.95), Some(19.0));
        assert_eq!(quantile(&v, 1.0), Some(20.0));
        assert_eq!(quantile(&v, 0.0), Some(1.0));
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn summary_pools_frames_and_takes_medians_over_runs() {
        let run = |frames: &[f64], first_s: f64, rss: Option<f64>| RunResult {
            app: BenchApp::Full,
            adapter: "test".to_owned(),
            first_model_frame_s: first_s,
            frame_ms: frames.to_vec(),
            update_ms: frames.iter().map(|f| f / 10.0).collect(),
            peak_rss_mib: rss,
        };
        let runs = [
            (run(&[10.0, 11.0, 12.0], 2.0, Some(300.0)), 5.0),
            (run(&[13.0, 14.0, 100.0], 4.0, None), 7.0),
            (run(&[9.0, 10.0, 10.0], 3.0, Some(320.0)), 6.0),
        ];
        let s = Summary::of(&runs).unwrap();
        assert_eq!(s.runs, 3);
        // Pooled: 9 10 10 10 11 12 13 14 100.
        assert_eq!(s.median_frame_ms, 11.0);
        assert_eq!(s.p95_frame_ms, 100.0);
        assert_eq!(s.median_update_ms, 1.1);
        assert_eq!(s.p95_update_ms, 10.0);
        assert_eq!(s.first_model_frame_s, 3.0);
        assert_eq!(s.whole_process_s, 6.0);
        assert_eq!(s.peak_rss_mib, Some(320.0));
        assert_eq!(Summary::of(&[]), None);
    }

    #[test]
    fn ratios_read_like_the_docs() {
        assert_eq!(ratio_text(1.0666), "1.07×");
        assert_eq!(ratio_text(18.7), "18.70×");
    }
}
