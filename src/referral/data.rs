//! Referral pattern files (`assets/referral/*.ron`): for each source of referred pain or
//! nerve symptoms, the body regions it refers to, each with a weight, its citation and its
//! evidence grade. Pure: parsing and checks with file, line and column in every error.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::de;
use serde::{Deserialize, Deserializer, Serialize};

use crate::anatomy::{Layer, SkinRegionKind, StructureKind};
use crate::content::EvidenceGrade;
use crate::files::{FileError, FileErrorKind, declared_version, find_line_col};
use crate::scenario::file::Fraction;

/// The referral format this build reads.
pub const FORMAT_VERSION: u32 = 1;
/// The folder of the bundled referral files, inside the assets folder.
pub const REFERRAL_FOLDER: &str = "referral";

/// Where a source's symptoms are felt: two layers, as the sources keep them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PainLayer {
    /// Referred (somatic) pain: a deep ache felt away from its source.
    Somatic,
    /// Nerve (neuropathic) symptoms: shooting pain, numbness, tingling along a nerve.
    Neuropathic,
}

/// The sources of referred pain and nerve symptoms the app knows, by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceId {
    /// Gluteus maximus trigger points.
    GluteusMaximus,
    /// Gluteus medius trigger points.
    GluteusMedius,
    /// Gluteus minimus, anterior fibres.
    GluteusMinimusAnterior,
    /// Gluteus minimus, posterior fibres.
    GluteusMinimusPosterior,
    /// Piriformis trigger points.
    Piriformis,
    /// Psoas major and iliacus.
    Iliopsoas,
    /// The sacroiliac joint.
    SacroiliacJoint,
    /// Sciatic nerve compression.
    SciaticNerve,
}

impl SourceId {
    /// Every source, in panel order.
    pub const ALL: [SourceId; 8] = [
        SourceId::GluteusMaximus,
        SourceId::GluteusMedius,
        SourceId::GluteusMinimusAnterior,
        SourceId::GluteusMinimusPosterior,
        SourceId::Piriformis,
        SourceId::Iliopsoas,
        SourceId::SacroiliacJoint,
        SourceId::SciaticNerve,
    ];

    /// The file name stem and JSON name, e.g. `gluteus_minimus_anterior`.
    pub fn name(self) -> &'static str {
        match self {
            SourceId::GluteusMaximus => "gluteus_maximus",
            SourceId::GluteusMedius => "gluteus_medius",
            SourceId::GluteusMinimusAnterior => "gluteus_minimus_anterior",
            SourceId::GluteusMinimusPosterior => "gluteus_minimus_posterior",
            SourceId::Piriformis => "piriformis",
            SourceId::Iliopsoas => "iliopsoas",
            SourceId::SacroiliacJoint => "sacroiliac_joint",
            SourceId::SciaticNerve => "sciatic_nerve",
        }
    }

    /// The structures whose level drives the source (the strongest one counts), and which
    /// level: muscles by tension, the SI joint by irritation, the nerve by compression.
    pub fn drivers(self) -> &'static [StructureKind] {
        match self {
            SourceId::GluteusMaximus => &[StructureKind::GluteusMaximus],
            SourceId::GluteusMedius => &[StructureKind::GluteusMedius],
            SourceId::GluteusMinimusAnterior | SourceId::GluteusMinimusPosterior => {
                &[StructureKind::GluteusMinimus]
            }
            SourceId::Piriformis => &[StructureKind::Piriformis],
            SourceId::Iliopsoas => &[StructureKind::PsoasMajor, StructureKind::Iliacus],
            SourceId::SacroiliacJoint => &[StructureKind::SacroiliacJoint],
            SourceId::SciaticNerve => &[StructureKind::SciaticNerve],
        }
    }

    /// The layer its level is read from (tension, irritation or compression).
    pub fn driver_layer(self) -> Layer {
        self.drivers().first().map_or(Layer::Muscles, |k| k.layer())
    }
}

/// A skin region kind named in a referral file (`buttock_upper`, `sacrum_region`), checked
/// while parsing. Paired regions are taken on the source's side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionName(pub SkinRegionKind);

impl Serialize for RegionName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.0.base_name())
    }
}

impl<'de> Deserialize<'de> for RegionName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        SkinRegionKind::ALL
            .into_iter()
            .find(|k| k.base_name() == name)
            .map(RegionName)
            .ok_or_else(|| {
                let names: Vec<&str> = SkinRegionKind::ALL
                    .into_iter()
                    .map(SkinRegionKind::base_name)
                    .collect();
                de::Error::custom(format!(
                    "unknown region `{name}` (one of: {})",
                    names.join(", ")
                ))
            })
    }
}

/// Essential (felt by essentially every patient with the source active) or spillover (felt
/// by some), the Travell & Simons distinction; `prevalence` where a study gives the share of
/// patients who felt pain there (Slipman 2000 for the SI joint).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneKind {
    /// Essential zone.
    Essential,
    /// Spillover zone.
    Spillover,
    /// A measured share of patients.
    Prevalence,
}

/// One body region a source refers to.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Zone {
    /// The region (on the source's side when paired).
    pub region: RegionName,
    /// Essential, spillover or a prevalence.
    pub kind: ZoneKind,
    /// 0–1: how strongly the region is claimed.
    pub weight: Fraction,
    /// Whether the weight is a design default (essential 1.0, spillover 0.4) rather than
    /// data.
    pub design_default: bool,
    /// Where the zone comes from.
    pub source: String,
    /// How strong the evidence is.
    pub grade: EvidenceGrade,
    /// Only the part of the region within this distance of the midline, metres: a band
    /// beside the spine (the skin's `lumbar_paraspinal` region covers the whole back above
    /// the iliac crest).
    #[serde(default)]
    pub beside_spine_m: Option<f32>,
    /// Only the top part of the region, this many metres down from its highest point (the
    /// "upper anterior thigh", the "proximal two-thirds of the posterior thigh").
    #[serde(default)]
    pub upper_m: Option<f32>,
}

/// A whole referral file.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReferralFile {
    /// Format version.
    #[serde(default = "format_version")]
    pub version: u32,
    /// Which source.
    pub source: SourceId,
    /// Name shown in the panel.
    pub label: String,
    /// Somatic or neuropathic.
    pub layer: PainLayer,
    /// One plain sentence: what this source typically feels like and where.
    pub summary: String,
    /// The scenario that shows this source (loaded from a drawing's best match).
    #[serde(default)]
    pub scenario: Option<String>,
    /// The regions it refers to.
    pub zones: Vec<Zone>,
}

fn format_version() -> u32 {
    FORMAT_VERSION
}

/// Parses one referral file's bytes; `file` names it in errors. Never panics.
pub fn parse(bytes: &[u8], file: &str) -> Result<ReferralFile, FileError> {
    let text = std::str::from_utf8(bytes).map_err(|e| FileError::not_utf8(file, bytes, &e))?;
    let newer = |version| {
        FileError::newer(file, version, FORMAT_VERSION).at(find_line_col(text, "version"))
    };
    // A newer hipback's file: say so before its new fields read as errors.
    if let Some(version) = declared_version(text)
        && version > FORMAT_VERSION
    {
        return Err(newer(version));
    }
    let referral: ReferralFile = ron::from_str(text).map_err(|e| FileError::ron(file, &e))?;
    let at = |needle: &str, message: String| {
        FileError::invalid(file, message).at(find_line_col(text, needle))
    };
    if referral.version > FORMAT_VERSION {
        return Err(newer(referral.version));
    }
    if referral.zones.is_empty() {
        return Err(at(
            "zones",
            "a referral pattern needs at least one zone".to_owned(),
        ));
    }
    let mut seen = BTreeSet::new();
    for zone in &referral.zones {
        if !seen.insert(zone.region) {
            return Err(at(
                "zones",
                format!("region `{}` is listed twice", zone.region.0.base_name()),
            ));
        }
        if zone.source.trim().is_empty() {
            return Err(at("zones", "every zone needs its source".to_owned()));
        }
        for (name, value) in [
            ("beside_spine_m", zone.beside_spine_m),
            ("upper_m", zone.upper_m),
        ] {
            if let Some(v) = value
                && !(v.is_finite() && v > 0.0 && v <= 1.0)
            {
                return Err(at(
                    name,
                    format!("{name} {v} must be above 0 and at most 1 m"),
                ));
            }
        }
    }
    let expected_layer = if referral.source == SourceId::SciaticNerve {
        PainLayer::Neuropathic
    } else {
        PainLayer::Somatic
    };
    if referral.layer != expected_layer {
        return Err(at(
            "layer",
            format!(
                "`{}` belongs to the {expected_layer:?} layer",
                referral.source.name()
            ),
        ));
    }
    Ok(referral)
}

/// Every referral file of a folder (`*.ron`), sorted by name.
pub fn referral_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "ron"))
        .collect();
    files.sort();
    Ok(files)
}

/// The referral patterns of a folder: the good files, and an error per bad file (a
/// duplicate source is an error of the later file; a missing source is an error of the
/// folder).
pub fn load_folder(dir: &Path) -> (Vec<ReferralFile>, Vec<FileError>) {
    let label = dir.display().to_string();
    let files = match referral_files(dir) {
        Ok(files) => files,
        Err(e) => {
            return (
                Vec::new(),
                vec![FileError::new(
                    FileErrorKind::Unreadable,
                    &label,
                    format!("cannot list the folder: {e}"),
                )],
            );
        }
    };
    let mut good: Vec<ReferralFile> = Vec::new();
    let mut errors = Vec::new();
    for path in files {
        let name = path.display().to_string();
        let parsed = std::fs::read(&path)
            .map_err(|e| FileError::cannot_read(&name, e))
            .and_then(|bytes| {
                parse(&bytes, &name).and_then(|r| {
                    if good.iter().any(|g| g.source == r.source) {
                        Err(FileError::invalid(
                            &name,
                            format!("source `{}` has another file", r.source.name()),
                        )
                        .at(std::str::from_utf8(&bytes)
                            .ok()
                            .and_then(|t| find_line_col(t, "source"))))
                    } else {
                        Ok(r)
                    }
                })
            });
        match parsed {
            Ok(r) => good.push(r),
            Err(e) => errors.push(e),
        }
    }
    let missing: Vec<&str> = SourceId::ALL
        .into_iter()
        .filter(|s| !good.iter().any(|g| g.source == *s))
        .map(SourceId::name)
        .collect();
    if !missing.is_empty() && errors.is_empty() {
        errors.push(FileError::new(
            FileErrorKind::Incomplete,
            &label,
            format!("no referral file for {}", missing.join(", ")),
        ));
    }
    (good, errors)
}
