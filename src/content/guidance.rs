//! Guidance shown next to the scenarios: when to see a clinician urgently, the other common
//! sources of low-back pain (the hip is one source, not the only one), and how referred pain
//! differs from nerve symptoms. The text lives in `assets/data/guidance.ron`; this module
//! parses and checks it (pure, no ECS).

use std::path::Path;

use serde::Deserialize;

use super::Fact;
use crate::files::{FileError, FileErrorKind};

/// File name of the guidance inside the assets folder.
pub const GUIDANCE_FILE: &str = "data/guidance.ron";

/// A titled group of facts.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Section {
    /// Heading, in a patient's words.
    pub title: String,
    /// One or two plain sentences before the facts (may be empty).
    #[serde(default)]
    pub intro: String,
    /// The facts, each with its source and grade.
    pub facts: Vec<Fact>,
}

/// Everything the guidance file holds.
#[derive(Clone, Debug, PartialEq, Deserialize, bevy::prelude::Resource)]
#[serde(deny_unknown_fields)]
pub struct Guidance {
    /// Warning signs that need a clinician urgently, and the usual course of sciatica.
    pub urgent: Section,
    /// Where low-back pain comes from besides the hip muscles.
    pub other_sources: Section,
    /// Referred pain versus nerve symptoms.
    pub symptoms: Section,
}

impl Guidance {
    /// Every section, in panel order.
    pub fn sections(&self) -> [&Section; 3] {
        [&self.urgent, &self.other_sources, &self.symptoms]
    }

    /// Parses RON text; errors name the file, line and column.
    pub fn from_ron_str(text: &str, file_label: &str) -> Result<Self, FileError> {
        let guidance: Guidance = ron::from_str(text).map_err(|e| FileError::ron(file_label, &e))?;
        for section in guidance.sections() {
            if section.facts.is_empty() {
                return Err(FileError::new(
                    FileErrorKind::Incomplete,
                    file_label,
                    format!("section `{}` has no facts", section.title),
                ));
            }
        }
        Ok(guidance)
    }

    /// Reads and parses the guidance file.
    pub fn from_file(path: &Path) -> Result<Self, FileError> {
        let label = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| FileError::cannot_read(&label, e))?;
        Self::from_ron_str(&text, &label)
    }
}
