//! The posture data file (`assets/data/posture.ron`): the normal ranges of motion, how the
//! lumbar spine follows a pelvic tilt, the presets, which OpenSim lines make each muscle, the
//! nerve's path, and the "tight hip flexor" story; every number with its sources. Pure:
//! parsing and checks, no ECS.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Deserialize;

use super::kinematics::{Limits, LumbarRule, Posture, PostureId};
use super::muscle_length::HeadWrap;
use crate::content::Fact;
use crate::files::{FileError, find_line_col};

/// File name of the posture data inside the assets folder.
pub const POSTURE_FILE: &str = "data/posture.ron";
/// The format this build reads.
pub const FORMAT_VERSION: u32 = 1;

/// One preset posture, with what it shows and where its angles come from.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    /// Its id.
    pub id: PostureId,
    /// Short name for buttons.
    pub label: String,
    /// The angles.
    pub posture: Posture,
    /// What the picture shows, in plain words.
    pub what_you_see: String,
    /// Where the angles come from.
    pub sources: Vec<Fact>,
}

/// The nerve whose strain is reported, and what keeps it behind the hip.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NerveSpec {
    /// Its branches, in order, from the anatomy file (the first point of each after the first
    /// repeats the last of the one before).
    pub branches: Vec<String>,
    /// A sphere about the hip joint centre the nerve wraps around rather than cut through.
    pub hip_wrap_radius_m: f32,
    /// The first and last point of the stretch the sphere acts on.
    pub hip_wrap_from: String,
    /// See `hip_wrap_from`.
    pub hip_wrap_to: String,
    /// Why, and what it rests on.
    pub sources: Vec<Fact>,
}

/// A short story told with its evidence badges (the debated "tight hip flexor" idea).
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Story {
    /// Heading.
    pub title: String,
    /// The pelvic tilt that shows the idea, degrees.
    pub shows_tilt_deg: f32,
    /// Each claim with its source and grade.
    pub claims: Vec<Fact>,
}

/// The whole file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostureFile {
    /// Format version.
    pub version: u32,
    /// Normal ranges of motion.
    pub limits: Limits,
    /// Where they come from.
    pub limit_sources: Vec<Fact>,
    /// How the lumbar spine follows the pelvis.
    pub lumbar: LumbarRule,
    /// Where that comes from.
    pub lumbar_sources: Vec<Fact>,
    /// Every preset, once each.
    pub presets: Vec<Preset>,
    /// Lines that wrap the femoral head where they cross the hip.
    pub femoral_head_wrap: HeadWrap,
    /// Why.
    pub femoral_head_sources: Vec<Fact>,
    /// The nerve.
    pub nerve: NerveSpec,
    /// "Tight hip flexor → more lordosis", with its badges.
    pub tilt_story: Story,
}

impl PostureFile {
    /// The bundled file, from the project root (where `hipback-modelgen` runs).
    pub const DEFAULT_PATH: &'static str = "assets/data/posture.ron";

    /// A preset by id (every id is present in a checked file).
    pub fn preset(&self, id: PostureId) -> Option<&Preset> {
        self.presets.iter().find(|p| p.id == id)
    }

    /// The posture of a preset, standing if the file lacks it.
    pub fn posture(&self, id: PostureId) -> Posture {
        self.preset(id).map(|p| p.posture).unwrap_or_default()
    }

    /// Every sourced statement of the file, with where it sits (for the content checks).
    pub fn facts(&self) -> Vec<(String, &Fact)> {
        let mut out: Vec<(String, &Fact)> = Vec::new();
        out.extend(self.limit_sources.iter().map(|f| ("limits".to_owned(), f)));
        out.extend(self.lumbar_sources.iter().map(|f| ("lumbar".to_owned(), f)));
        for p in &self.presets {
            out.extend(p.sources.iter().map(|f| (format!("preset {}", p.id), f)));
        }
        out.extend(
            self.femoral_head_sources
                .iter()
                .map(|f| ("femoral_head_wrap".to_owned(), f)),
        );
        out.extend(self.nerve.sources.iter().map(|f| ("nerve".to_owned(), f)));
        out.extend(
            self.tilt_story
                .claims
                .iter()
                .map(|f| ("tilt_story".to_owned(), f)),
        );
        out
    }

    /// Parses and checks a file's text; `file` names it in errors.
    pub fn from_ron_str(text: &str, file: &str) -> Result<PostureFile, FileError> {
        let parsed: PostureFile = ron::from_str(text).map_err(|e| FileError::ron(file, &e))?;
        let at = |needle: &str, message: String| {
            FileError::invalid(file, message).at(find_line_col(text, needle))
        };
        if parsed.version > FORMAT_VERSION {
            return Err(FileError::newer(file, parsed.version, FORMAT_VERSION)
                .at(find_line_col(text, "version")));
        }
        let l = &parsed.limits;
        for (name, (lo, hi)) in [
            ("flexion_deg", l.flexion_deg),
            ("adduction_deg", l.adduction_deg),
            ("internal_rotation_deg", l.internal_rotation_deg),
            ("pelvic_tilt_deg", l.pelvic_tilt_deg),
        ] {
            if !(lo.is_finite() && hi.is_finite() && lo < 0.0 && 0.0 < hi) {
                return Err(at(
                    name,
                    format!("{name}: the range ({lo}, {hi}) must run from below 0 to above 0"),
                ));
            }
        }
        let shares: f32 = parsed.lumbar.shares.iter().sum();
        if (shares - 1.0).abs() > 0.01 || parsed.lumbar.shares.iter().any(|s| *s < 0.0) {
            return Err(at(
                "shares",
                format!(
                    "the lumbar shares must be 0 or more and add up to 1 (they add up to {shares})"
                ),
            ));
        }
        let mut seen = BTreeSet::new();
        for p in &parsed.presets {
            if !seen.insert(p.id) {
                return Err(at("presets", format!("preset `{}` is listed twice", p.id)));
            }
            if !parsed.limits.contains(&p.posture) {
                return Err(at(
                    "presets",
                    format!("preset `{}` lies outside the ranges of motion", p.id),
                ));
            }
            if p.sources.is_empty() {
                return Err(at("presets", format!("preset `{}` has no source", p.id)));
            }
        }
        if let Some(missing) = PostureId::ALL.into_iter().find(|id| !seen.contains(id)) {
            return Err(at("presets", format!("no preset `{missing}`")));
        }
        if parsed.preset(PostureId::Standing).map(|p| p.posture) != Some(Posture::default()) {
            return Err(at(
                "presets",
                "`standing` is the reference: every angle 0".to_owned(),
            ));
        }
        if !(parsed.nerve.hip_wrap_radius_m > 0.0 && parsed.nerve.hip_wrap_radius_m < 0.2) {
            return Err(at(
                "hip_wrap_radius_m",
                "the nerve's wrap radius must lie between 0 and 0.2 m".to_owned(),
            ));
        }
        Ok(parsed)
    }

    /// Reads and checks a file.
    pub fn load(path: &Path) -> Result<PostureFile, FileError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| FileError::cannot_read(&file, e))?;
        Self::from_ron_str(&text, &file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled_text() -> String {
        std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("assets")
                .join(POSTURE_FILE),
        )
        .unwrap()
    }

    #[test]
    fn the_bundled_file_has_every_preset_within_the_limits() {
        let f = PostureFile::from_ron_str(&bundled_text(), "posture.ron").unwrap();
        for id in PostureId::ALL {
            let p = f.preset(id).unwrap();
            assert!(f.limits.contains(&p.posture), "{id}");
        }
        // Sitting has both hips at 90°; FAIR flexes, adducts and turns the right hip in;
        // the figure four flexes, abducts and turns it out.
        let sitting = f.posture(PostureId::Sitting);
        assert_eq!(
            sitting.joint_angles(crate::anatomy::Side::Left).flexion_deg,
            90.0
        );
        assert_eq!(
            sitting
                .joint_angles(crate::anatomy::Side::Right)
                .flexion_deg,
            90.0
        );
        let fair = f.posture(PostureId::Fair).right;
        assert!(
            fair.flexion_deg > 0.0 && fair.adduction_deg > 0.0 && fair.internal_rotation_deg > 0.0
        );
        let four = f.posture(PostureId::FigureFour).right;
        assert!(
            four.flexion_deg > 0.0 && four.adduction_deg < 0.0 && four.internal_rotation_deg < 0.0
        );
        assert!(f.facts().len() >= 10);
    }

    #[test]
    fn bad_files_name_the_file_and_line() {
        let text = bundled_text();
        let e = PostureFile::from_ron_str(&text.replacen("id: fair", "id: lotus", 1), "p.ron")
            .unwrap_err();
        assert!(e.to_string().starts_with("p.ron:"), "{e}");
        assert!(e.line_column().is_some(), "{e}");
        let e = PostureFile::from_ron_str(&text.replacen("id: fair", "id: sitting", 1), "p.ron")
            .unwrap_err();
        assert!(e.message.contains("`sitting` is listed twice"), "{e}");
        let e = PostureFile::from_ron_str(
            &text.replacen(
                "flexion_deg: (-15.0, 120.0)",
                "flexion_deg: (-15.0, 50.0)",
                1,
            ),
            "p.ron",
        )
        .unwrap_err();
        assert!(e.message.contains("outside the ranges"), "{e}");
    }
}
