//! The data the scenarios build on, each with its sources: which muscles take over when one
//! is weak (`assets/data/compensation.ron`) and where trigger points lie
//! (`assets/data/trigger_points.ron`). Pure: parsing and checks, no ECS.

use std::path::Path;

use serde::de;
use serde::{Deserialize, Deserializer};

use super::file::Fraction;
use super::state::{Compensation, StretchRule};
use crate::anatomy::{Layer, StructureKind};
use crate::content::{EvidenceGrade, Fact};
use crate::files::FileError;

/// File name of the compensation table inside the assets folder.
pub const COMPENSATION_FILE: &str = "data/compensation.ron";
/// File name of the trigger-point table inside the assets folder.
pub const TRIGGER_POINTS_FILE: &str = "data/trigger_points.ron";
/// File name of the stretch rule inside the assets folder.
pub const STRETCH_RULE_FILE: &str = "data/stretch_rule.ron";

/// A muscle kind named by its glTF base name (`gluteus_medius`), checked while parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MuscleName(pub StructureKind);

impl<'de> Deserialize<'de> for MuscleName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        StructureKind::ALL
            .into_iter()
            .find(|k| k.base_name() == name && k.layer() == Layer::Muscles)
            .map(MuscleName)
            .ok_or_else(|| {
                let muscles: Vec<&str> = StructureKind::ALL
                    .into_iter()
                    .filter(|k| k.layer() == Layer::Muscles)
                    .map(StructureKind::base_name)
                    .collect();
                de::Error::custom(format!(
                    "unknown muscle `{name}` (one of: {})",
                    muscles.join(", ")
                ))
            })
    }
}

/// One muscle that takes over, with its share of the weakness.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Helper {
    /// The muscle.
    pub muscle: MuscleName,
    /// Share of the weak muscle's weakness added to its tension (0–1).
    pub share: Fraction,
}

/// One compensation rule, with its reasoning and source.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompensationRule {
    /// The weak muscle.
    pub weak: MuscleName,
    /// Who takes over.
    pub takes_over: Vec<Helper>,
    /// Why, in plain words.
    pub why: String,
    /// The source.
    pub source: String,
    /// How strong the evidence is.
    pub grade: EvidenceGrade,
    /// Whether the shares are a design default rather than measured (they always are today:
    /// no study gives numbers).
    pub shares_are_design_defaults: bool,
}

/// The compensation table.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompensationTable {
    /// The rules.
    pub rules: Vec<CompensationRule>,
}

impl CompensationTable {
    /// The rules as the state maths uses them.
    pub fn compensations(&self) -> Vec<Compensation> {
        self.rules
            .iter()
            .map(|r| Compensation {
                weak: r.weak.0,
                takes_over: r
                    .takes_over
                    .iter()
                    .map(|h| (h.muscle.0, h.share.get()))
                    .collect(),
            })
            .collect()
    }
}

/// Where a trigger point lies and what it refers to.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerPoint {
    /// Unique id.
    pub id: String,
    /// The muscle it lies in.
    pub muscle: MuscleName,
    /// The OpenSim line of action it lies on (`piri`, `glmax1`, … in
    /// `assets/anatomy/rajagopal2016.ron`).
    pub path: String,
    /// Where along that line, by length: 0 at the origin, 1 at the insertion.
    pub along: Fraction,
    /// Short name.
    pub label: String,
    /// Where it is, in words (as the source describes it).
    pub location: String,
    /// The source.
    pub source: String,
    /// How strong the evidence is.
    pub grade: EvidenceGrade,
}

/// The trigger-point table.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TriggerPointTable {
    /// Every documented trigger point.
    pub points: Vec<TriggerPoint>,
}

/// The illustrative stretch rule as its data file gives it (`assets/data/stretch_rule.ron`):
/// how much a stretched tight muscle's tension, and the compression of the sciatic nerve
/// under it, rise with the stretch.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StretchRuleFile {
    /// The length change (per cent) at which the effect is full.
    pub full_stretch_pct: f32,
    /// At a full stretch, the share of its own tension a tight muscle gains.
    pub tension_gain: Fraction,
    /// At a full stretch, the share of the muscle's tension added to the nerve's compression.
    pub compression_gain: Fraction,
    /// The muscles the sciatic nerve runs under (same side).
    pub sciatic_nerve_under: Vec<MuscleName>,
    /// The gains are design defaults, not measured (no study gives them).
    pub gains_are_design_defaults: bool,
    /// What the rule rests on, each with its source and grade.
    pub claims: Vec<Fact>,
}

impl StretchRuleFile {
    /// The rule as the state maths uses it.
    pub fn rule(&self) -> StretchRule {
        StretchRule {
            full_stretch_pct: self.full_stretch_pct.max(f32::EPSILON),
            tension_gain: self.tension_gain.get(),
            compression_gain: self.compression_gain.get(),
            nerves_under: self
                .sciatic_nerve_under
                .iter()
                .map(|m| (m.0, StructureKind::SciaticNerve))
                .collect(),
        }
    }
}

/// Parses a RON data file's bytes into `T`; errors carry file, line and column.
pub fn parse_ron<T: for<'de> Deserialize<'de>>(bytes: &[u8], file: &str) -> Result<T, FileError> {
    let text = std::str::from_utf8(bytes).map_err(|e| FileError::not_utf8(file, bytes, &e))?;
    ron::from_str(text).map_err(|e| FileError::ron(file, &e))
}

/// Reads and parses a RON data file.
pub fn load_ron<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, FileError> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| FileError::cannot_read(&file, e))?;
    parse_ron(&bytes, &file)
}

/// Checks the trigger points against the anatomy: every line exists and belongs to its
/// muscle, and ids are unique.
pub fn check_trigger_points(
    table: &TriggerPointTable,
    anatomy: &crate::modelgen::data::Anatomy,
    file: &str,
) -> Result<(), FileError> {
    let mut seen = std::collections::BTreeSet::new();
    for point in &table.points {
        if !seen.insert(point.id.as_str()) {
            return Err(FileError::invalid(
                file,
                format!("trigger point `{}` is listed twice", point.id),
            ));
        }
        if anatomy
            .muscle_path(&point.path, crate::anatomy::Side::Right)
            .is_err()
        {
            return Err(FileError::invalid(
                file,
                format!(
                    "trigger point `{}`: no muscle line `{}`",
                    point.id, point.path
                ),
            ));
        }
        if !opensim_lines(point.muscle.0).contains(&point.path.as_str()) {
            return Err(FileError::invalid(
                file,
                format!(
                    "trigger point `{}`: line `{}` is not part of {}",
                    point.id,
                    point.path,
                    point.muscle.0.base_name()
                ),
            ));
        }
    }
    Ok(())
}

/// The OpenSim lines of action of a muscle (the model generator sweeps along the same ones).
pub fn opensim_lines(kind: StructureKind) -> &'static [&'static str] {
    match kind {
        StructureKind::GluteusMaximus => &["glmax1", "glmax2", "glmax3"],
        StructureKind::GluteusMedius => &["glmed1", "glmed2", "glmed3"],
        StructureKind::GluteusMinimus => &["glmin1", "glmin2", "glmin3"],
        StructureKind::Piriformis => &["piri"],
        StructureKind::PsoasMajor => &["psoas"],
        StructureKind::Iliacus => &["iliacus"],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_tables_parse_and_match_the_anatomy() {
        let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
        let compensation: CompensationTable = load_ron(&assets.join(COMPENSATION_FILE)).unwrap();
        assert!(!compensation.rules.is_empty());
        let weak: Vec<StructureKind> = compensation.rules.iter().map(|r| r.weak.0).collect();
        assert!(weak.contains(&StructureKind::GluteusMedius));
        assert!(weak.contains(&StructureKind::GluteusMaximus));
        for rule in &compensation.rules {
            assert!(!rule.source.is_empty() && !rule.why.is_empty());
        }
        let points: TriggerPointTable = load_ron(&assets.join(TRIGGER_POINTS_FILE)).unwrap();
        let anatomy =
            crate::modelgen::data::Anatomy::load(&assets.join("anatomy").join("rajagopal2016.ron"))
                .unwrap();
        check_trigger_points(&points, &anatomy, TRIGGER_POINTS_FILE).unwrap();
        let stretch: StretchRuleFile = load_ron(&assets.join(STRETCH_RULE_FILE)).unwrap();
        let rule = stretch.rule();
        assert!(rule.full_stretch_pct > 0.0 && stretch.gains_are_design_defaults);
        assert_eq!(
            rule.nerves_under,
            vec![(StructureKind::Piriformis, StructureKind::SciaticNerve)]
        );
        for kind in StructureKind::ALL
            .into_iter()
            .filter(|k| k.layer() == Layer::Muscles)
        {
            assert!(
                points.points.iter().any(|p| p.muscle.0 == kind),
                "{kind:?} has no trigger point"
            );
        }
    }

    #[test]
    fn bad_data_names_the_place() {
        let e = parse_ron::<CompensationTable>(
            br#"(rules: [(weak: "gluteus_mediu", takes_over: [], why: "", source: "", grade: DEB, shares_are_design_defaults: true)])"#,
            "c.ron",
        )
        .unwrap_err();
        assert!(e.message.contains("unknown muscle `gluteus_mediu`"), "{e}");
        assert_eq!(e.line_column().map(|l| l.0), Some(1));
        let e = parse_ron::<CompensationTable>(
            br#"(rules: [(weak: "gluteus_medius", takes_over: [(muscle: "piriformis", share: 2.0)], why: "", source: "", grade: DEB, shares_are_design_defaults: true)])"#,
            "c.ron",
        )
        .unwrap_err();
        assert!(e.message.contains("outside 0–1"), "{e}");
    }
}
