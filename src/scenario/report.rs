//! `hipback report`: the settled state of a scenario (or a relief timeline at a moment) as
//! JSON with a stable, documented shape. Pure: no ECS, no GPU.

use std::collections::BTreeMap;

use serde::Serialize;

use super::file::ScenarioKind;
use super::library::Library;
use super::state::{BodyState, Compensation, StretchRule, StructureState, with_stretch};
use crate::posture::muscle_length::Lengths;
use crate::posture::report::PostureReport;

/// The report's format name (first key of the JSON object).
pub const REPORT_FORMAT: &str = "hipback-report";
/// The report's shape version: bumped when a field changes meaning or disappears (new fields
/// may be added without a bump).
pub const REPORT_VERSION: u32 = 1;

/// The scenario a report describes.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReportScenario {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// `baseline`, `problem`, `relief` or `custom`.
    pub kind: ScenarioKind,
    /// The relief timeline's length, seconds (`null` for other kinds).
    pub duration_s: Option<f32>,
    /// The view that tells its story (`posterior`, …; `null` if it names none).
    pub story_view: Option<super::file::StoryView>,
}

/// The whole report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// Always [`REPORT_FORMAT`].
    pub format: &'static str,
    /// Always [`REPORT_VERSION`].
    pub version: u32,
    /// Which scenario.
    pub scenario: ReportScenario,
    /// The moment on a relief timeline; `null` for the settled state (a relief's end).
    pub at_s: Option<f32>,
    /// Tool pressure 0–1 at that moment (relief scenarios; 0 otherwise).
    pub tool_pressure: f32,
    /// Every structure of the model by glTF name, with its four levels (0–1) as shown:
    /// weak muscles' load already added to the muscles that compensate, and the posture's
    /// stretch applied.
    pub structures: BTreeMap<String, StructureState>,
    /// The posture: angles, each muscle's length change against standing, the nerve's strain
    /// (absent when the report is made without one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub posture: Option<PostureReport>,
}

/// What a posture adds to a report: its numbers, and the stretch rule that turns its lengths
/// into tension and compression.
#[derive(Clone, Copy, Debug)]
pub struct PostureEffect<'a> {
    /// The posture's report.
    pub report: &'a PostureReport,
    /// Its lengths.
    pub lengths: &'a Lengths,
    /// The stretch rule.
    pub rule: &'a StretchRule,
}

/// The state shown for scenario `id` at `at_s` (`None`: settled), in a posture if given.
pub fn shown_state(
    library: &Library,
    compensation: &[Compensation],
    id: &str,
    at_s: Option<f32>,
    posture: Option<PostureEffect>,
) -> Option<BodyState> {
    let state = library.shown_state(id, at_s, compensation)?;
    Some(match posture {
        Some(p) => with_stretch(&state, |s| p.lengths.change_pct(s), p.rule),
        None => state,
    })
}

/// The report for scenario `id` at `at_s` (`None`: settled), in a posture if given.
pub fn report(
    library: &Library,
    compensation: &[Compensation],
    id: &str,
    at_s: Option<f32>,
    posture: Option<PostureEffect>,
) -> Result<Report, String> {
    let scenario = library.get(id).ok_or_else(|| {
        let known: Vec<&str> = library.sorted().iter().map(|s| s.id.0.as_str()).collect();
        format!("unknown scenario `{id}` (known: {})", known.join(", "))
    })?;
    if let Some(t) = at_s
        && !(t.is_finite() && t >= 0.0)
    {
        return Err(format!("--at {t}: must be a time in seconds, 0 or more"));
    }
    let state = shown_state(library, compensation, id, at_s, posture)
        .ok_or_else(|| format!("unknown scenario `{id}`"))?;
    let duration_s = library.duration_s(id);
    Ok(Report {
        format: REPORT_FORMAT,
        version: REPORT_VERSION,
        scenario: ReportScenario {
            id: scenario.id.0.clone(),
            title: scenario.title.clone(),
            kind: scenario.kind,
            duration_s,
            story_view: scenario.story.view,
        },
        at_s,
        tool_pressure: match (duration_s, at_s) {
            (Some(_), Some(t)) => library.pressure(id, t),
            _ => 0.0,
        },
        structures: state
            .iter()
            .map(|(structure, levels)| (structure.gltf_name(), rounded(levels)))
            .collect(),
        posture: posture.map(|p| p.report.clone()),
    })
}

/// Levels rounded to 4 decimals, so the JSON is stable across float noise.
fn rounded(levels: StructureState) -> StructureState {
    let r = |v: f32| (v * 10_000.0).round() / 10_000.0;
    StructureState {
        tension_0_to_1: r(levels.tension_0_to_1),
        weakness_0_to_1: r(levels.weakness_0_to_1),
        compression_0_to_1: r(levels.compression_0_to_1),
        irritation_0_to_1: r(levels.irritation_0_to_1),
    }
}

/// The report as a short table for people (the command without `--json`).
pub fn to_text(report: &Report) -> String {
    let mut out = format!(
        "{} ({}){}\n",
        report.scenario.title,
        report.scenario.id,
        report
            .at_s
            .map(|t| format!(" at {t:.1} s, tool pressure {:.2}", report.tool_pressure))
            .unwrap_or_default()
    );
    for (name, l) in &report.structures {
        let parts: Vec<String> = [
            ("tension", l.tension_0_to_1),
            ("weakness", l.weakness_0_to_1),
            ("compression", l.compression_0_to_1),
            ("irritation", l.irritation_0_to_1),
        ]
        .into_iter()
        .filter(|(_, v)| *v > 0.0)
        .map(|(n, v)| format!("{n} {v:.2}"))
        .collect();
        if !parts.is_empty() {
            out.push_str(&format!("  {name}: {}\n", parts.join(", ")));
        }
    }
    if let Some(posture) = &report.posture {
        out.push_str(&crate::posture::report::to_text(posture));
    }
    out
}
