//! Scenario files: the RON shape (serde), and every check that can be made while parsing, so
//! that each error carries the file, line and column where it happened. Pure: no ECS.
//!
//! A scenario states, per structure and side, a muscle's tension and weakness, a nerve's
//! compression and an SI joint's irritation (each 0–1), with the texts a patient and a
//! clinician read and the citations behind them. Relief scenarios add a timeline.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

use crate::anatomy::{Layer, Side, Structure};
use crate::content::EvidenceGrade;
use crate::files::{FileError, declared_version, find_line_col};
use crate::posture::kinematics::PostureId;
use crate::viewer::camera::ViewPreset;

/// The scenario file format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;
/// File name ending of scenario files (their Bevy asset extension is `scenario.ron`).
pub const FILE_SUFFIX: &str = ".scenario.ron";

/// A number from 0 to 1 (NaN and infinities are rejected while parsing).
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Fraction(f32);

impl Fraction {
    /// Zero.
    pub const ZERO: Fraction = Fraction(0.0);

    /// `value` if it lies in 0–1.
    pub fn new(value: f32) -> Option<Fraction> {
        (0.0..=1.0).contains(&value).then_some(Fraction(value))
    }

    /// `value` clamped to 0–1 (NaN becomes 0).
    pub fn clamped(value: f32) -> Fraction {
        if value.is_nan() {
            Fraction(0.0)
        } else {
            Fraction(value.clamp(0.0, 1.0))
        }
    }

    /// The value.
    pub fn get(self) -> f32 {
        self.0
    }
}

impl<'de> Deserialize<'de> for Fraction {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(deserializer)?;
        if value.is_nan() {
            return Err(de::Error::custom(
                "NaN is not a level; use a number from 0 to 1",
            ));
        }
        if !(0.0..=1.0).contains(&value) {
            return Err(de::Error::custom(format!(
                "{value} is outside 0–1 (levels run from 0 = none to 1 = most)"
            )));
        }
        Ok(Fraction(value as f32))
    }
}

/// How one structure is affected. Which fields apply depends on the structure: muscles have
/// tension and weakness, nerves compression, SI joints irritation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Levels {
    /// Muscle tension: 0 relaxed, 1 as tight as the app shows.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tension: Fraction,
    /// Muscle weakness: the muscle looks thinner and paler and its load shifts to the muscles
    /// that compensate.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub weakness: Fraction,
    /// Nerve compression: the nerve is squeezed where the muscle crosses it.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub compression: Fraction,
    /// SI joint irritation.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub irritation: Fraction,
}

fn is_zero(f: &Fraction) -> bool {
    f.0 == 0.0
}

impl Levels {
    /// The fields set (non-zero) that `structure` cannot have, by name.
    pub fn misplaced_fields(&self, structure: Structure) -> Vec<&'static str> {
        let allowed = allowed_fields(structure.layer());
        [
            ("tension", self.tension),
            ("weakness", self.weakness),
            ("compression", self.compression),
            ("irritation", self.irritation),
        ]
        .into_iter()
        .filter(|(name, value)| value.get() != 0.0 && !allowed.contains(name))
        .map(|(name, _)| name)
        .collect()
    }
}

/// Which level fields a layer's structures have.
pub fn allowed_fields(layer: Layer) -> &'static [&'static str] {
    match layer {
        Layer::Muscles => &["tension", "weakness"],
        Layer::Nerves => &["compression"],
        Layer::Joints => &["irritation"],
        Layer::Bones | Layer::Discs | Layer::Skin => &[],
    }
}

/// The per-structure levels of a scenario, keyed by glTF structure name (`piriformis_r`).
/// Unknown names, duplicates and fields the structure cannot have are parse errors.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StructureLevels(pub BTreeMap<Structure, Levels>);

impl Serialize for StructureLevels {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (structure, levels) in &self.0 {
            map.serialize_entry(&structure.gltf_name(), levels)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for StructureLevels {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct LevelsVisitor;
        impl<'de> Visitor<'de> for LevelsVisitor {
            type Value = StructureLevels;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map from structure names (e.g. \"piriformis_r\") to levels")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
                let mut out = BTreeMap::new();
                while let Some(name) = map.next_key::<String>()? {
                    let structure = Structure::from_gltf_name(&name).ok_or_else(|| {
                        de::Error::custom(format!(
                            "unknown structure `{name}` (names are like `piriformis_r`, \
                             `sciatic_nerve_l`, `sacroiliac_joint_r`)"
                        ))
                    })?;
                    let levels: Levels = map.next_value()?;
                    let misplaced = levels.misplaced_fields(structure);
                    if !misplaced.is_empty() {
                        let allowed = allowed_fields(structure.layer());
                        return Err(de::Error::custom(format!(
                            "`{name}` cannot have {} (it can have: {})",
                            misplaced.join(", "),
                            if allowed.is_empty() {
                                "nothing".to_owned()
                            } else {
                                allowed.join(", ")
                            }
                        )));
                    }
                    if out.insert(structure, levels).is_some() {
                        return Err(de::Error::custom(format!("`{name}` is listed twice")));
                    }
                }
                Ok(StructureLevels(out))
            }
        }
        deserializer.deserialize_map(LevelsVisitor)
    }
}

/// A scenario id: lower-case letters, digits and `_`, like a file name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct ScenarioId(pub String);

impl ScenarioId {
    /// Whether `text` is a valid id.
    pub fn is_valid(text: &str) -> bool {
        !text.is_empty()
            && text.len() <= 64
            && text
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            && text.starts_with(|c: char| c.is_ascii_lowercase())
    }
}

impl fmt::Display for ScenarioId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for ScenarioId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if ScenarioId::is_valid(&text) {
            Ok(ScenarioId(text))
        } else {
            Err(de::Error::custom(format!(
                "`{text}` is not a valid id (lower-case letters, digits and _, starting with a letter)"
            )))
        }
    }
}

/// What kind of scenario it is (the list groups them).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioKind {
    /// The calm starting point.
    Baseline,
    /// A problem state.
    #[default]
    Problem,
    /// A relief timeline.
    Relief,
    /// Made by a clinician with the sliders.
    Custom,
}

/// One cited statement.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Citation {
    /// What the source supports, in plain words.
    pub claim: String,
    /// The source.
    pub source: String,
    /// How strong the evidence is.
    pub grade: EvidenceGrade,
}

/// The three-part card a patient reads.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Card {
    /// What the animation shows (one or two sentences).
    pub what_you_see: String,
    /// Where people feel it, in plain words.
    pub what_people_feel: String,
    /// What a clinician would check (one line).
    pub what_a_clinician_checks: String,
}

/// How the camera tells the story when the scenario is picked.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Story {
    /// The view that shows it best.
    #[serde(default)]
    pub view: Option<StoryView>,
    /// Structures that hide the story and fade to x-ray while the scenario is active.
    #[serde(default)]
    pub fade: Vec<StructureName>,
}

/// A preset view, as written in scenario files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StoryView {
    /// From the front.
    Anterior,
    /// From behind.
    Posterior,
    /// From the subject's left.
    Left,
    /// From the subject's right.
    Right,
    /// From above.
    Superior,
    /// From behind and to the subject's right, a little above.
    Oblique,
}

impl From<StoryView> for ViewPreset {
    fn from(view: StoryView) -> Self {
        match view {
            StoryView::Anterior => ViewPreset::Anterior,
            StoryView::Posterior => ViewPreset::Posterior,
            StoryView::Left => ViewPreset::Left,
            StoryView::Right => ViewPreset::Right,
            StoryView::Superior => ViewPreset::Superior,
            StoryView::Oblique => ViewPreset::Oblique,
        }
    }
}

/// A structure named in a scenario file, checked while parsing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct StructureName(pub Structure);

impl Serialize for StructureName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.gltf_name())
    }
}

impl<'de> Deserialize<'de> for StructureName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Structure::from_gltf_name(&name)
            .map(StructureName)
            .ok_or_else(|| de::Error::custom(format!("unknown structure `{name}`")))
    }
}

/// A posture preset named in a scenario file (`"figure_four"`), checked while parsing so an
/// unknown one names the file, line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PostureName(pub PostureId);

impl Serialize for PostureName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.id())
    }
}

impl<'de> Deserialize<'de> for PostureName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        PostureId::from_id(&name).map(PostureName).ok_or_else(|| {
            de::Error::custom(format!(
                "unknown posture `{name}` (one of: {})",
                PostureId::valid_ids()
            ))
        })
    }
}

/// The tool a relief scenario shows, where it presses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ToolKind {
    /// A firm massage hump or ball under the buttock.
    MassageHump,
    /// A firm hooked tool pressed in just inside the front of the pelvic rim.
    HookedTool,
    /// A pressure pad over the SI joint.
    PressurePad,
}

/// A side of the body, as written in scenario files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BodySide {
    /// The subject's left.
    Left,
    /// The subject's right.
    Right,
}

impl From<BodySide> for Side {
    fn from(side: BodySide) -> Self {
        match side {
            BodySide::Left => Side::Left,
            BodySide::Right => Side::Right,
        }
    }
}

/// A duration in seconds: finite, ≥ 0 and at most an hour.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Seconds(f32);

impl Seconds {
    /// The value.
    pub fn get(self) -> f32 {
        self.0
    }

    /// `value` if it is a valid duration.
    pub fn new(value: f32) -> Option<Seconds> {
        (value.is_finite() && (0.0..=3600.0).contains(&value)).then_some(Seconds(value))
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = f64::deserialize(deserializer)?;
        Seconds::new(value as f32).ok_or_else(|| {
            de::Error::custom(format!("{value} is not a duration (0 to 3600 seconds)"))
        })
    }
}

/// A relief timeline: from a problem state, the tool presses, the tissue lets go toward the
/// scenario's own levels (near baseline), the tool lifts.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Relief {
    /// The problem scenario it starts from.
    pub starts_from: ScenarioId,
    /// The tool and where it presses.
    pub tool: ToolKind,
    /// The side it works on.
    pub side: BodySide,
    /// The tool moves in and presses.
    pub press_s: Seconds,
    /// The tissue lets go (illustrative where no study measured it).
    pub release_s: Seconds,
    /// The tool stays, then lifts.
    pub settle_s: Seconds,
    /// Gentle rocking while pressing, cycles per second (0 = none).
    #[serde(default)]
    pub rocking_hz: Fraction,
    /// What to do, in steps.
    pub how_to: Vec<String>,
    /// How long and how often.
    pub how_long: String,
    /// When to stop (with the source in the citations).
    pub stop_if: String,
}

impl Relief {
    /// The whole timeline's length.
    pub fn duration_s(&self) -> f32 {
        self.press_s.get() + self.release_s.get() + self.settle_s.get()
    }
}

/// A whole scenario file.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// File format version (newer files are refused with a clear message).
    #[serde(default = "format_version")]
    pub version: u32,
    /// Unique id, e.g. `tight_piriformis`.
    pub id: ScenarioId,
    /// Short plain title.
    pub title: String,
    /// One line under the title.
    pub subtitle: String,
    /// What kind of scenario.
    #[serde(default)]
    pub kind: ScenarioKind,
    /// Position in the list (lower first).
    #[serde(default)]
    pub order: i32,
    /// The patient card.
    pub card: Card,
    /// What in the animation is illustrative rather than measured (one short line).
    #[serde(default)]
    pub illustrative: String,
    /// Per-structure levels (for relief scenarios: where the timeline ends).
    #[serde(default)]
    pub structures: StructureLevels,
    /// The camera story.
    #[serde(default)]
    pub story: Story,
    /// The posture it is shown in (`None`: as it stands; a scenario without one returns a
    /// posture set by the scenario before it to standing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub posture: Option<PostureName>,
    /// The relief timeline, for relief scenarios.
    #[serde(default)]
    pub relief: Option<Relief>,
    /// Sources, each with its grade.
    #[serde(default)]
    pub citations: Vec<Citation>,
}

fn format_version() -> u32 {
    FORMAT_VERSION
}

/// Parses and checks one scenario file's bytes; `file` names it in errors. Never panics,
/// whatever the bytes.
pub fn parse(bytes: &[u8], file: &str) -> Result<ScenarioFile, FileError> {
    let text = std::str::from_utf8(bytes).map_err(|e| FileError::not_utf8(file, bytes, &e))?;
    // Files from a newer hipback: say so before their new fields read as errors.
    if let Some(version) = declared_version(text)
        && version > FORMAT_VERSION
    {
        return Err(
            FileError::newer(file, version, FORMAT_VERSION).at(find_line_col(text, "version"))
        );
    }
    let scenario: ScenarioFile = ron::from_str(text).map_err(|e| FileError::ron(file, &e))?;
    check(&scenario, text, file)?;
    Ok(scenario)
}

/// Checks that need the whole file (the parser has already checked every value).
fn check(s: &ScenarioFile, text: &str, file: &str) -> Result<(), FileError> {
    let at = |needle: &str, message: String| {
        FileError::invalid(file, message).at(find_line_col(text, needle))
    };
    if s.title.trim().is_empty() {
        return Err(at("title", "the title is empty".to_owned()));
    }
    match (&s.relief, s.kind) {
        (None, ScenarioKind::Relief) => {
            return Err(at(
                "kind",
                "a relief scenario needs a `relief: Some((...))` timeline".to_owned(),
            ));
        }
        (Some(_), kind) if kind != ScenarioKind::Relief => {
            return Err(at(
                "relief",
                "only scenarios of kind `relief` have a timeline".to_owned(),
            ));
        }
        (Some(relief), _) => {
            if relief.duration_s() <= 0.0 || relief.release_s.get() <= 0.0 {
                return Err(at(
                    "release_s",
                    "the timeline needs a release time above 0 s".to_owned(),
                ));
            }
            if relief.starts_from == s.id {
                return Err(at(
                    "starts_from",
                    "a relief scenario cannot start from itself".to_owned(),
                ));
            }
        }
        (None, _) => {}
    }
    if s.citations.is_empty() && s.kind != ScenarioKind::Custom {
        return Err(at(
            "citations",
            "a built-in scenario needs at least one citation".to_owned(),
        ));
    }
    Ok(())
}

/// Writes a scenario as RON text, with a header comment.
pub fn to_ron(scenario: &ScenarioFile) -> Result<String, String> {
    let config = ron::ser::PrettyConfig::new()
        .depth_limit(4)
        .struct_names(false)
        .indentor("    ".to_owned());
    let body = ron::ser::to_string_pretty(scenario, config).map_err(|e| e.to_string())?;
    Ok(format!(
        "// hipback scenario (format {FORMAT_VERSION}). Levels run from 0 to 1.\n{body}\n"
    ))
}

/// The scenario files of a folder (`*.scenario.ron`), sorted by name. A missing folder has none.
pub fn scenario_files(dir: &Path) -> std::io::Result<Vec<std::path::PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut files: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(FILE_SUFFIX))
        })
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"(
    id: "tight_piriformis",
    title: "Tight piriformis",
    subtitle: "A deep buttock muscle presses on the nerve",
    card: (
        what_you_see: "a",
        what_people_feel: "b",
        what_a_clinician_checks: "c",
    ),
    structures: {
        "piriformis_r": (tension: 0.9),
        "sciatic_nerve_r": (compression: 0.6),
    },
    citations: [(claim: "x", source: "y", grade: CONV)],
)"#;

    fn err(text: &str) -> FileError {
        parse(text.as_bytes(), "t.scenario.ron").unwrap_err()
    }

    #[test]
    fn a_good_file_parses() {
        let s = parse(GOOD.as_bytes(), "t").unwrap();
        assert_eq!(s.id.0, "tight_piriformis");
        let piri = Structure::from_gltf_name("piriformis_r").unwrap();
        assert_eq!(s.structures.0[&piri].tension.get(), 0.9);
        assert_eq!(s.version, FORMAT_VERSION);
    }

    #[test]
    fn each_bad_value_names_its_line_and_column() {
        let e = err(&GOOD.replace("(tension: 0.9)", "(tension: 1.5)"));
        assert_eq!(e.line_column().map(|l| l.0), Some(11), "{e}");
        assert!(e.message.contains("outside 0–1"), "{e}");
        assert!(e.to_string().starts_with("t.scenario.ron:11:"), "{e}");

        let e = err(&GOOD.replace("(tension: 0.9)", "(tension: NaN)"));
        assert!(e.message.contains("NaN"), "{e}");
        assert_eq!(e.line_column().map(|l| l.0), Some(11));

        let e = err(&GOOD.replace("\"piriformis_r\"", "\"piriformis_x\""));
        assert!(
            e.message.contains("unknown structure `piriformis_x`"),
            "{e}"
        );
        assert_eq!(e.line_column().map(|l| l.0), Some(11));

        let e = err(&GOOD.replace("(compression: 0.6)", "(tension: 0.6)"));
        assert!(e.message.contains("cannot have tension"), "{e}");

        let e = err(&GOOD.replace(
            "\"sciatic_nerve_r\": (compression: 0.6),",
            "\"piriformis_r\": (tension: 0.2),",
        ));
        assert!(e.message.contains("listed twice"), "{e}");

        let e = err(&GOOD.replace("subtitle:", "subtitel:"));
        assert!(e.message.contains("subtitel"), "{e}");
        assert_eq!(e.line_column().map(|l| l.0), Some(4));

        let e = err(&GOOD.replace("grade: CONV", "grade: SURE"));
        assert_eq!(e.line_column().map(|l| l.0), Some(14), "{e}");

        // A syntax error: a missing comma.
        let e = err(&GOOD.replace("(tension: 0.9),", "(tension: 0.9)"));
        assert!(e.line_column().is_some(), "{e}");
    }

    #[test]
    fn a_posture_is_named_by_its_id_and_a_wrong_one_by_its_line() {
        let with = GOOD.replace(
            "citations:",
            "posture: Some(\"figure_four\"),\n    citations:",
        );
        let s = parse(with.as_bytes(), "t").unwrap();
        assert_eq!(s.posture, Some(PostureName(PostureId::FigureFour)));
        assert_eq!(parse(GOOD.as_bytes(), "t").unwrap().posture, None);
        let e = err(&GOOD.replace("citations:", "posture: Some(\"lotus\"),\n    citations:"));
        assert!(e.message.contains("unknown posture `lotus`"), "{e}");
        assert!(
            e.message
                .contains("standing, sitting, fair, figure_four, knee_to_chest"),
            "{e}"
        );
        assert!(e.to_string().starts_with("t.scenario.ron:14:"), "{e}");
        // Written back, it reads the same.
        let again = parse(to_ron(&s).unwrap().as_bytes(), "t2").unwrap();
        assert_eq!(again.posture, s.posture);
    }

    #[test]
    fn newer_files_and_bad_bytes_are_refused_clearly() {
        let e = err(&GOOD.replace("(\n    id:", "(\n    version: 7,\n    id:"));
        assert!(e.message.contains("newer hipback"), "{e}");
        assert_eq!(e.line_column(), Some((2, 5)));
        let e = parse(&[0xff, 0xfe, 0x00], "bin.scenario.ron").unwrap_err();
        assert!(e.message.contains("UTF-8"), "{e}");
        assert!(parse(b"", "empty.scenario.ron").is_err());
    }

    #[test]
    fn relief_rules_are_checked() {
        let relief = GOOD.replace(
            "citations:",
            r#"kind: relief,
    relief: Some((starts_from: "tight_piriformis", tool: massage_hump, side: right,
        press_s: 2.0, release_s: 20.0, settle_s: 3.0, how_to: ["sit"], how_long: "1 min",
        stop_if: "pain")),
    citations:"#,
        );
        let e = err(&relief);
        assert!(e.message.contains("cannot start from itself"), "{e}");
        let ok = relief.replace(
            "starts_from: \"tight_piriformis\"",
            "starts_from: \"other\"",
        );
        let s = parse(ok.as_bytes(), "t").unwrap();
        assert_eq!(s.relief.unwrap().duration_s(), 25.0);
        let e = err(&ok.replace("release_s: 20.0", "release_s: -1.0"));
        assert!(e.message.contains("not a duration"), "{e}");
        let e = err(&GOOD.replace("citations:", "kind: relief,\n    citations:"));
        assert!(e.message.contains("needs a `relief"), "{e}");
    }

    #[test]
    fn a_scenario_survives_writing_and_reading() {
        let s = parse(GOOD.as_bytes(), "t").unwrap();
        let text = to_ron(&s).unwrap();
        let again = parse(text.as_bytes(), "t2").unwrap();
        assert_eq!(s, again, "{text}");
    }

    /// `SplitMix64`: a few lines of well-known PRNG, seeded, so every run checks the same inputs.
    /// (Not proptest: its `rand` features differ from the app's, and as a dev-dependency they
    /// made `cargo test` compile all of Bevy a second time after `cargo run`.)
    struct SplitMix64(u64);

    impl SplitMix64 {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
    }

    // Whatever bytes a file holds, parsing returns (an error names the file): random bytes,
    // and random picks from the characters RON is made of.
    #[test]
    fn arbitrary_bytes_never_panic() {
        let mut rng = SplitMix64(0x0068_6970_6261_636b);
        let ron_bytes = b"()[]{}:,\"'.-+0123456789eE_abcdefghijklmnopqrstuvwxyz #/*\n\\";
        for case in 0..4_000 {
            let len = (rng.next() % 400) as usize;
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    let r = rng.next();
                    if case % 2 == 0 {
                        r as u8
                    } else {
                        ron_bytes[(r % ron_bytes.len() as u64) as usize]
                    }
                })
                .collect();
            if let Err(e) = parse(&bytes, "fuzz.scenario.ron") {
                assert!(
                    e.to_string().starts_with("fuzz.scenario.ron"),
                    "{e} for {bytes:?}"
                );
            }
        }
    }

    // A good file with any one byte changed (to each byte that matters to RON), or cut short
    // anywhere.
    #[test]
    fn damaged_good_files_never_panic() {
        let good = GOOD.as_bytes();
        for at in 0..good.len() {
            for byte in [
                0u8, b'(', b')', b'[', b']', b'"', b',', b':', b'9', b'-', b'x', 0xFF,
            ] {
                let mut bytes = good.to_vec();
                bytes[at] = byte;
                let _ = parse(&bytes, "damaged");
            }
            let _ = parse(&good[..at], "cut");
        }
    }
}
