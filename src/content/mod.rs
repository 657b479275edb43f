//! Side-panel content: what each structure does and a key clinical point, each with its source
//! and evidence grade. The text lives in `assets/data/structures.ron`; this module only parses
//! and checks it (pure, no ECS).

pub mod guidance;

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::anatomy::StructureKind;
use crate::files::{FileError, FileErrorKind, line_col_of_offset};

/// File name of the content table inside the assets folder.
pub const CONTENT_FILE: &str = "data/structures.ron";

/// How strong the evidence behind a fact is (the labels of `referral_facts.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
pub enum EvidenceGrade {
    /// Well established: anatomy, meta-analyses, block-confirmed studies.
    #[serde(rename = "EST")]
    Established,
    /// Clinical convention: a widely taught typical pattern, not a diagnosis.
    #[serde(rename = "CONV")]
    Convention,
    /// Debated: weak or conflicting evidence.
    #[serde(rename = "DEB")]
    Debated,
    /// The primary source could not be checked.
    #[serde(rename = "UNVER")]
    Unverified,
}

impl EvidenceGrade {
    /// Short tag shown next to a fact, e.g. `EST`.
    pub fn tag(self) -> &'static str {
        match self {
            EvidenceGrade::Established => "EST",
            EvidenceGrade::Convention => "CONV",
            EvidenceGrade::Debated => "DEB",
            EvidenceGrade::Unverified => "UNVER",
        }
    }

    /// Plain-words meaning of the grade.
    pub fn meaning(self) -> &'static str {
        match self {
            EvidenceGrade::Established => "well established",
            EvidenceGrade::Convention => "typical pattern taught in clinics, not a diagnosis",
            EvidenceGrade::Debated => "debated: evidence is weak or conflicting",
            EvidenceGrade::Unverified => "source not checked",
        }
    }
}

/// One statement with where it comes from.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct Fact {
    /// The statement, in plain words.
    pub text: String,
    /// Where it comes from.
    pub source: String,
    /// How strong the evidence is.
    pub grade: EvidenceGrade,
}

/// Everything the side panel says about one kind of structure.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct StructureInfo {
    /// The structure kind's glTF base name, e.g. `piriformis`.
    pub kind: String,
    /// What it is and what it does.
    pub function: Fact,
    /// One key clinical point.
    pub clinical: Fact,
    /// A debated or uncertain point that goes with the clinical point.
    #[serde(default)]
    pub caveat: Option<Fact>,
}

impl StructureInfo {
    /// Every fact of the entry: function, clinical point and the caveat if any.
    pub fn facts(&self) -> impl Iterator<Item = &Fact> {
        [&self.function, &self.clinical]
            .into_iter()
            .chain(self.caveat.as_ref())
    }
}

#[derive(Deserialize)]
struct ContentFile {
    structures: Vec<StructureInfo>,
}

/// The parsed content, one entry per [`StructureKind`].
#[derive(Clone, Debug, Default, bevy::prelude::Resource)]
pub struct ContentTable {
    by_kind: HashMap<StructureKind, StructureInfo>,
}

impl ContentTable {
    /// Parses and checks RON text; `file_label` names the file in errors.
    pub fn from_ron_str(text: &str, file_label: &str) -> Result<Self, FileError> {
        let parsed: ContentFile =
            ron::from_str(text).map_err(|e| FileError::ron(file_label, &e))?;
        // An entry is found by its quoted kind.
        let place_of = |kind: &str| {
            text.find(&format!("\"{kind}\""))
                .and_then(|offset| line_col_of_offset(text.as_bytes(), offset))
        };
        let mut by_kind = HashMap::new();
        for info in parsed.structures {
            let Some(kind) = StructureKind::ALL
                .iter()
                .copied()
                .find(|k| k.base_name() == info.kind)
            else {
                return Err(FileError::invalid(
                    file_label,
                    format!("unknown structure kind `{}`", info.kind),
                )
                .at(place_of(&info.kind)));
            };
            if by_kind.contains_key(&kind) {
                // The second entry is the one to remove.
                let second = text
                    .match_indices(&format!("\"{}\"", info.kind))
                    .nth(1)
                    .and_then(|(offset, _)| line_col_of_offset(text.as_bytes(), offset));
                return Err(FileError::invalid(
                    file_label,
                    format!("structure kind `{}` appears twice", info.kind),
                )
                .at(second));
            }
            by_kind.insert(kind, info);
        }
        let missing: Vec<String> = StructureKind::ALL
            .iter()
            .filter(|k| !by_kind.contains_key(k))
            .map(|k| k.base_name().to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(FileError::new(
                FileErrorKind::Incomplete,
                file_label,
                format!("no entry for {}", missing.join(", ")),
            ));
        }
        Ok(Self { by_kind })
    }

    /// Reads and parses a content file.
    pub fn from_file(path: &Path) -> Result<Self, FileError> {
        let label = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| FileError::cannot_read(&label, e))?;
        Self::from_ron_str(&text, &label)
    }

    /// The entry for a structure kind.
    pub fn info(&self, kind: StructureKind) -> Option<&StructureInfo> {
        self.by_kind.get(&kind)
    }
}

/// Words that mark a statement as uncertain. A debated (DEB) claim must use one, so it is
/// never worded as fact.
pub const HEDGES: &[&str] = &[
    "debated",
    "controversial",
    "cannot tell",
    "not reliable",
    "not proven",
    "unclear",
    "uncertain",
    "may",
    "might",
    "one idea",
    "suggest",
    "hypothesis",
    "proposed",
    "not confirmed",
    "doubtful",
    "weak evidence",
    "unknown",
];

/// Words that frighten rather than inform; no text the app shows uses them.
pub const FEAR_WORDS: &[&str] = &[
    "danger",
    "dangerous",
    "damage",
    "damaged",
    "degenerate",
    "degeneration",
    "degenerative",
    "crippling",
    "wear and tear",
    "alarming",
    "severe",
    "teaching point",
];

/// Whether `text` contains `word` (or phrase) as whole words, in any case.
pub fn contains_word(text: &str, word: &str) -> bool {
    let text = text.to_lowercase();
    let is_word_char = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    text.match_indices(word).any(|(i, m)| {
        !is_word_char(text[..i].chars().next_back())
            && !is_word_char(text[i + m.len()..].chars().next())
    })
}

/// Whether a claim of this grade is worded as its grade allows: a DEB claim hedges.
pub fn worded_for_grade(text: &str, grade: EvidenceGrade) -> bool {
    grade != EvidenceGrade::Debated || HEDGES.iter().any(|h| contains_word(text, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("assets")
            .join(CONTENT_FILE);
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn every_structure_kind_has_an_entry_with_sources() {
        let table = ContentTable::from_ron_str(&bundled(), "structures.ron").unwrap();
        for kind in StructureKind::ALL {
            let info = table.info(kind).unwrap();
            for fact in info.facts() {
                assert!(!fact.text.trim().is_empty(), "{kind:?}");
                assert!(!fact.source.trim().is_empty(), "{kind:?}");
            }
        }
    }

    fn assets() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets")
    }

    /// One claim the app shows, with where it comes from, for the checks below.
    struct Claim {
        place: String,
        text: String,
        source: String,
        grade: EvidenceGrade,
        anatomy: bool,
    }

    impl Claim {
        /// A sourced fact that is not plain anatomy, at `place`.
        fn of(place: String, fact: &Fact) -> Claim {
            Claim {
                place,
                text: fact.text.clone(),
                source: fact.source.clone(),
                grade: fact.grade,
                anatomy: false,
            }
        }
    }

    /// Every claim of every text file the app shows: the structure entries, the guidance, the
    /// scenarios' citations and cards, the trigger points, the posture data, the stretch rule
    /// and the compensation rules.
    fn every_claim() -> Vec<Claim> {
        let mut claims = Vec::new();
        let table = ContentTable::from_ron_str(&bundled(), "structures.ron").unwrap();
        for kind in StructureKind::ALL {
            let info = table.info(kind).unwrap();
            for (i, fact) in info.facts().enumerate() {
                claims.push(Claim {
                    place: format!("structures.ron {}/{i}", kind.base_name()),
                    text: fact.text.clone(),
                    source: fact.source.clone(),
                    grade: fact.grade,
                    // The first fact says what the structure is and does: plain anatomy.
                    anatomy: i == 0,
                });
            }
        }
        let guidance =
            guidance::Guidance::from_file(&assets().join(guidance::GUIDANCE_FILE)).unwrap();
        for section in guidance.sections() {
            for fact in &section.facts {
                claims.push(Claim::of(format!("guidance.ron {}", section.title), fact));
            }
        }
        let mut library = crate::scenario::library::Library::default();
        crate::scenario::library::load_folder(&assets().join("scenarios"), true, &mut library)
            .unwrap();
        assert!(library.errors().is_empty(), "{:?}", library.errors());
        for scenario in library.sorted() {
            for citation in &scenario.citations {
                claims.push(Claim {
                    place: format!("{}.scenario.ron", scenario.id),
                    text: citation.claim.clone(),
                    source: citation.source.clone(),
                    grade: citation.grade,
                    anatomy: false,
                });
            }
        }
        let points: crate::scenario::data::TriggerPointTable = crate::scenario::data::load_ron(
            &assets().join(crate::scenario::data::TRIGGER_POINTS_FILE),
        )
        .unwrap();
        for p in &points.points {
            claims.push(Claim {
                place: format!("trigger_points.ron {}", p.id),
                text: p.location.clone(),
                source: p.source.clone(),
                grade: p.grade,
                anatomy: false,
            });
        }
        let variants_text =
            std::fs::read_to_string(assets().join("anatomy/nerve_variants.ron")).unwrap();
        let variants =
            crate::anatomy::NerveVariantFacts::from_ron_str(&variants_text, "nerve_variants.ron")
                .unwrap();
        for v in &variants.variants {
            claims.push(Claim {
                place: format!("nerve_variants.ron {:?}", v.variant),
                text: v.prevalence.text.clone(),
                source: v.prevalence.source.clone(),
                grade: v.prevalence.grade,
                anatomy: false,
            });
        }
        let postures = crate::posture::data::PostureFile::load(
            &assets().join(crate::posture::data::POSTURE_FILE),
        )
        .unwrap();
        for (place, fact) in postures.facts() {
            claims.push(Claim::of(format!("posture.ron {place}"), fact));
        }
        let stretch: crate::scenario::data::StretchRuleFile = crate::scenario::data::load_ron(
            &assets().join(crate::scenario::data::STRETCH_RULE_FILE),
        )
        .unwrap();
        for fact in &stretch.claims {
            claims.push(Claim::of("stretch_rule.ron".to_owned(), fact));
        }
        let rules: crate::scenario::data::CompensationTable = crate::scenario::data::load_ron(
            &assets().join(crate::scenario::data::COMPENSATION_FILE),
        )
        .unwrap();
        for r in &rules.rules {
            claims.push(Claim {
                place: format!("compensation.ron {}", r.weak.0.base_name()),
                text: r.why.clone(),
                source: r.source.clone(),
                grade: r.grade,
                anatomy: false,
            });
        }
        // The referral patterns: each file's summary sentence (shown in the heat-map panel)
        // speaks for all its zones, so it carries their least certain grade and their sources.
        let (referrals, errors) = crate::referral::data::load_folder(
            &assets().join(crate::referral::data::REFERRAL_FOLDER),
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert!(
            referrals.len() >= 8,
            "only {} referral files",
            referrals.len()
        );
        let uncertainty = |g: EvidenceGrade| match g {
            EvidenceGrade::Established => 0,
            EvidenceGrade::Convention => 1,
            EvidenceGrade::Debated => 2,
            EvidenceGrade::Unverified => 3,
        };
        for file in &referrals {
            let grade = file
                .zones
                .iter()
                .map(|z| z.grade)
                .max_by_key(|g| uncertainty(*g))
                .unwrap_or(EvidenceGrade::Unverified);
            let sources: Vec<&str> = file.zones.iter().map(|z| z.source.as_str()).collect();
            claims.push(Claim {
                place: format!("referral {:?} summary", file.source),
                text: file.summary.clone(),
                source: sources.join("; "),
                grade,
                anatomy: false,
            });
            // The label only names the source: checked for its words, not for a grade.
            claims.push(Claim {
                place: format!("referral {:?} label", file.source),
                text: file.label.clone(),
                source: sources.join("; "),
                grade: EvidenceGrade::Established,
                anatomy: false,
            });
        }
        claims
    }

    #[test]
    fn every_claim_has_a_source_a_grade_and_the_wording_its_grade_allows() {
        let claims = every_claim();
        assert!(claims.len() > 80, "only {} claims found", claims.len());
        for c in &claims {
            assert!(!c.text.trim().is_empty(), "{}: empty text", c.place);
            assert!(!c.source.trim().is_empty(), "{}: no source", c.place);
            assert!(
                worded_for_grade(&c.text, c.grade),
                "{}: a [DEB] claim must be worded as debated: {}",
                c.place,
                c.text
            );
            assert!(
                !(c.anatomy && c.grade == EvidenceGrade::Unverified),
                "{}: plain anatomy graded UNVER: {}",
                c.place,
                c.text
            );
            for word in FEAR_WORDS {
                assert!(
                    !contains_word(&c.text, word),
                    "{}: `{word}` in: {}",
                    c.place,
                    c.text
                );
            }
        }
    }

    #[test]
    fn the_cards_use_calm_words() {
        let mut library = crate::scenario::library::Library::default();
        crate::scenario::library::load_folder(&assets().join("scenarios"), true, &mut library)
            .unwrap();
        for s in library.sorted() {
            for text in [
                &s.card.what_you_see,
                &s.card.what_people_feel,
                &s.card.what_a_clinician_checks,
                &s.subtitle,
            ] {
                for word in FEAR_WORDS {
                    assert!(!contains_word(text, word), "{}: `{word}` in: {text}", s.id);
                }
            }
        }
    }

    #[test]
    fn hedge_words_are_found_as_words() {
        assert!(contains_word("It may help", "may"));
        assert!(!contains_word("In Mayo's series", "may"));
        assert!(!contains_word("dismay", "may"));
        assert!(worded_for_grade("This is debated.", EvidenceGrade::Debated));
        assert!(!worded_for_grade(
            "Tight hip flexors cause lordosis.",
            EvidenceGrade::Debated
        ));
        assert!(worded_for_grade("Plain fact.", EvidenceGrade::Established));
    }

    #[test]
    fn the_sciatic_nerve_point_mentions_the_piriformis() {
        let table = ContentTable::from_ron_str(&bundled(), "structures.ron").unwrap();
        let info = table.info(StructureKind::SciaticNerve).unwrap();
        assert!(info.clinical.text.contains("under the piriformis"));
    }

    #[test]
    fn errors_name_the_file() {
        let err = ContentTable::from_ron_str("(structures: [", "x.ron").unwrap_err();
        assert!(err.to_string().starts_with("x.ron:1:"), "{err}");
        let err = ContentTable::from_ron_str("(structures: [])", "y.ron").unwrap_err();
        assert_eq!(err.kind, FileErrorKind::Incomplete);
        assert!(
            err.to_string().contains("y.ron: no entry for hip_bone"),
            "{err}"
        );
        let bogus = r#"(structures: [(kind: "spleen",
            function: (text: "a", source: "b", grade: EST),
            clinical: (text: "a", source: "b", grade: CONV))])"#;
        let err = ContentTable::from_ron_str(bogus, "z.ron").unwrap_err();
        assert_eq!(
            err.to_string(),
            "z.ron:1:22: unknown structure kind `spleen`"
        );
    }
}
