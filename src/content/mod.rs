//! Side-panel content: what each structure does and a key clinical point, each with its source
//! and evidence grade. The text lives in `assets/data/structures.ron`; this module only parses
//! and checks it (pure, no ECS).

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use crate::anatomy::StructureKind;

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

/// A content file that cannot be used; every variant names the file.
#[derive(Debug, thiserror::Error)]
pub enum ContentError {
    /// The file could not be read.
    #[error("{file}: cannot read: {source}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid RON for the expected shape.
    #[error("{file}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// The parser's message, with line and column.
        message: String,
    },
    /// An entry names a structure kind that does not exist.
    #[error("{file}: unknown structure kind `{kind}`")]
    UnknownKind {
        /// The file.
        file: String,
        /// The name found.
        kind: String,
    },
    /// A structure kind has two entries.
    #[error("{file}: structure kind `{kind}` appears twice")]
    Duplicate {
        /// The file.
        file: String,
        /// The name found twice.
        kind: String,
    },
    /// Some structure kinds have no entry.
    #[error("{file}: no entry for {}", .kinds.join(", "))]
    Missing {
        /// The file.
        file: String,
        /// The kinds without an entry.
        kinds: Vec<String>,
    },
}

/// The parsed content, one entry per [`StructureKind`].
#[derive(Clone, Debug, Default, bevy::prelude::Resource)]
pub struct ContentTable {
    by_kind: HashMap<StructureKind, StructureInfo>,
}

impl ContentTable {
    /// Parses and checks RON text; `file_label` names the file in errors.
    pub fn from_ron_str(text: &str, file_label: &str) -> Result<Self, ContentError> {
        let parsed: ContentFile = ron::from_str(text).map_err(|e| ContentError::Parse {
            file: file_label.to_owned(),
            message: e.to_string(),
        })?;
        let mut by_kind = HashMap::new();
        for info in parsed.structures {
            let Some(kind) = StructureKind::ALL
                .iter()
                .copied()
                .find(|k| k.base_name() == info.kind)
            else {
                return Err(ContentError::UnknownKind {
                    file: file_label.to_owned(),
                    kind: info.kind,
                });
            };
            if by_kind.contains_key(&kind) {
                return Err(ContentError::Duplicate {
                    file: file_label.to_owned(),
                    kind: info.kind,
                });
            }
            by_kind.insert(kind, info);
        }
        let missing: Vec<String> = StructureKind::ALL
            .iter()
            .filter(|k| !by_kind.contains_key(k))
            .map(|k| k.base_name().to_owned())
            .collect();
        if !missing.is_empty() {
            return Err(ContentError::Missing {
                file: file_label.to_owned(),
                kinds: missing,
            });
        }
        Ok(Self { by_kind })
    }

    /// Reads and parses a content file.
    pub fn from_file(path: &Path) -> Result<Self, ContentError> {
        let label = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ContentError::Io {
            file: label.clone(),
            source,
        })?;
        Self::from_ron_str(&text, &label)
    }

    /// The entry for a structure kind.
    pub fn info(&self, kind: StructureKind) -> Option<&StructureInfo> {
        self.by_kind.get(&kind)
    }
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

    #[test]
    fn debated_claims_are_worded_as_debated() {
        let table = ContentTable::from_ron_str(&bundled(), "structures.ron").unwrap();
        for kind in StructureKind::ALL {
            let info = table.info(kind).unwrap();
            for fact in info.facts() {
                if fact.grade == EvidenceGrade::Debated {
                    let text = fact.text.to_lowercase();
                    assert!(
                        ["debated", "controversial", "cannot tell", "not reliable"]
                            .iter()
                            .any(|w| text.contains(w)),
                        "{kind:?}: a [DEB] fact must say it is debated: {}",
                        fact.text
                    );
                }
            }
        }
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
        assert!(err.to_string().starts_with("x.ron: "), "{err}");
        let err = ContentTable::from_ron_str("(structures: [])", "y.ron").unwrap_err();
        assert!(matches!(err, ContentError::Missing { .. }));
        assert!(
            err.to_string().contains("y.ron: no entry for hip_bone"),
            "{err}"
        );
        let bogus = r#"(structures: [(kind: "spleen",
            function: (text: "a", source: "b", grade: EST),
            clinical: (text: "a", source: "b", grade: CONV))])"#;
        let err = ContentTable::from_ron_str(bogus, "z.ron").unwrap_err();
        assert_eq!(err.to_string(), "z.ron: unknown structure kind `spleen`");
    }
}
