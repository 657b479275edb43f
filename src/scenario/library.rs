//! The scenarios known to the app, by file: the last good version of each file, the error of
//! each file that is broken now, and the checks across files (duplicate ids, a relief that
//! starts from a scenario that does not exist). Pure: no ECS.

use std::collections::BTreeMap;
use std::path::Path;

use super::file::{self, ScenarioFile, ScenarioKind};
use super::state::{BodyState, Compensation, relief_phase, relief_state, with_compensation};
use crate::files::{FileError, FileErrorKind, find_line_col};

/// One file's scenario and where it came from.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The scenario (the last version that parsed and passed every check).
    pub scenario: ScenarioFile,
    /// Shipped with the app (read-only), or made by a user.
    pub builtin: bool,
}

/// Every scenario file and its state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Library {
    /// By file label (its path as shown to users).
    entries: BTreeMap<String, Entry>,
    /// The current error of each broken file.
    errors: BTreeMap<String, FileError>,
}

impl Library {
    /// Takes in a file's latest parse result. A good version replaces the file's previous one
    /// unless its id is already used by another file; a bad one is recorded and the last good
    /// version stays active.
    pub fn update(
        &mut self,
        file: &str,
        text: Option<&str>,
        result: Result<ScenarioFile, FileError>,
        builtin: bool,
    ) {
        let checked = result.and_then(|scenario| {
            let taken_by = self
                .entries
                .iter()
                .find(|(other, e)| other.as_str() != file && e.scenario.id == scenario.id)
                .map(|(other, _)| other.clone());
            match taken_by {
                Some(other) => Err(FileError::invalid(
                    file,
                    format!("duplicate id `{}` (also in {other})", scenario.id),
                )
                .at(text.and_then(|t| find_line_col(t, "id")))),
                None => Ok(scenario),
            }
        });
        match checked {
            Ok(scenario) => {
                self.errors.remove(file);
                self.entries
                    .insert(file.to_owned(), Entry { scenario, builtin });
            }
            Err(error) => {
                self.errors.insert(file.to_owned(), error);
            }
        }
    }

    /// Records a file that could not be read at all.
    pub fn fail(&mut self, file: &str, error: FileError) {
        self.errors.insert(file.to_owned(), error);
    }

    /// Forgets a file (it was deleted).
    pub fn remove(&mut self, file: &str) {
        self.entries.remove(file);
        self.errors.remove(file);
    }

    /// The scenario with this id.
    pub fn get(&self, id: &str) -> Option<&ScenarioFile> {
        self.entry(id).map(|e| &e.scenario)
    }

    /// The entry with this id.
    pub fn entry(&self, id: &str) -> Option<&Entry> {
        self.entries.values().find(|e| e.scenario.id.0 == id)
    }

    /// Every scenario in list order: baseline, problems, reliefs, custom; then by `order`
    /// and title.
    pub fn sorted(&self) -> Vec<&ScenarioFile> {
        let mut all: Vec<&ScenarioFile> = self.entries.values().map(|e| &e.scenario).collect();
        all.sort_by(|a, b| {
            (a.kind, a.order, &a.title, &a.id).cmp(&(b.kind, b.order, &b.title, &b.id))
        });
        all
    }

    /// Every current error, with the errors found across files (a relief whose starting
    /// scenario is missing).
    pub fn errors(&self) -> Vec<FileError> {
        let mut errors: Vec<FileError> = self.errors.values().cloned().collect();
        for (file, entry) in &self.entries {
            if let Some(relief) = &entry.scenario.relief
                && self.get(&relief.starts_from.0).is_none()
            {
                errors.push(FileError::invalid(
                    file,
                    format!(
                        "`starts_from: \"{}\"`: no scenario has that id",
                        relief.starts_from
                    ),
                ));
            }
        }
        errors.sort_by(|a, b| a.file.cmp(&b.file));
        errors
    }

    /// How many scenarios are usable.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no scenario is usable.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The levels a scenario states, before compensation. For a relief scenario: its state
    /// on the timeline at `at_s` (`None`: the end of the timeline).
    pub fn base_state(&self, id: &str, at_s: Option<f32>) -> Option<BodyState> {
        let scenario = self.get(id)?;
        let own = BodyState::from_levels(&scenario.structures);
        let Some(relief) = &scenario.relief else {
            return Some(own);
        };
        let at_s = at_s.unwrap_or_else(|| relief.duration_s());
        // The problem it starts from, as that scenario states it (a relief that starts from
        // another relief starts from that one's end).
        let problem = self
            .get(&relief.starts_from.0)
            .map(|p| BodyState::from_levels(&p.structures))
            .unwrap_or_default();
        Some(relief_state(&problem, &own, relief, at_s))
    }

    /// The state as shown (compensation applied).
    pub fn shown_state(
        &self,
        id: &str,
        at_s: Option<f32>,
        compensation: &[Compensation],
    ) -> Option<BodyState> {
        self.base_state(id, at_s)
            .map(|s| with_compensation(&s, compensation))
    }

    /// The relief timeline's length, for relief scenarios.
    pub fn duration_s(&self, id: &str) -> Option<f32> {
        self.get(id)
            .and_then(|s| s.relief.as_ref())
            .map(file::Relief::duration_s)
    }

    /// The tool pressure (0–1) of a relief scenario at `at_s`.
    pub fn pressure(&self, id: &str, at_s: f32) -> f32 {
        self.get(id)
            .and_then(|s| s.relief.as_ref())
            .map_or(0.0, |r| relief_phase(r, at_s).pressure_0_to_1)
    }

    /// Whether `id` names a shipped scenario (custom scenarios may not take its id).
    pub fn is_builtin_id(&self, id: &str) -> bool {
        self.entry(id).is_some_and(|e| e.builtin)
    }
}

/// Reads every scenario file of a folder into a library, in file-name order (so the first
/// file with an id keeps it). The result lists the usable scenarios and every error.
pub fn load_folder(dir: &Path, builtin: bool, library: &mut Library) -> Result<(), FileError> {
    let label = dir.display().to_string();
    if dir.exists() && !dir.is_dir() {
        return Err(FileError::new(
            FileErrorKind::Unreadable,
            &label,
            "not a folder",
        ));
    }
    let files = file::scenario_files(dir).map_err(|e| {
        FileError::new(
            FileErrorKind::Unreadable,
            &label,
            format!("cannot list the folder: {e}"),
        )
    })?;
    for path in files {
        let name = path.display().to_string();
        match std::fs::read(&path) {
            Ok(bytes) => {
                let text = std::str::from_utf8(&bytes).ok();
                library.update(&name, text, file::parse(&bytes, &name), builtin);
            }
            Err(e) => library.fail(&name, FileError::cannot_read(&name, e)),
        }
    }
    Ok(())
}

/// Which scenarios a kind groups under, for the list.
pub fn group_label(kind: ScenarioKind) -> &'static str {
    match kind {
        ScenarioKind::Baseline => "Start here",
        ScenarioKind::Problem => "When the hip is part of it",
        ScenarioKind::Relief => "Relief",
        ScenarioKind::Custom => "Your scenarios",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario(id: &str, extra: &str) -> String {
        format!(
            r#"(id: "{id}", title: "T {id}", subtitle: "s",
               card: (what_you_see: "a", what_people_feel: "b", what_a_clinician_checks: "c"),
               structures: {{ "piriformis_r": (tension: 0.8) }},
               {extra}
               citations: [(claim: "x", source: "y", grade: EST)])"#
        )
    }

    fn add(library: &mut Library, file: &str, text: &str) {
        library.update(file, Some(text), file::parse(text.as_bytes(), file), true);
    }

    #[test]
    fn a_broken_edit_keeps_the_last_good_version() {
        let mut library = Library::default();
        add(&mut library, "a.scenario.ron", &scenario("tight", ""));
        assert!(library.get("tight").is_some());
        add(
            &mut library,
            "a.scenario.ron",
            &scenario("tight", "").replace("0.8", "8.0"),
        );
        let errors = library.errors();
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].to_string().starts_with("a.scenario.ron:"),
            "{}",
            errors[0]
        );
        // Still the good version.
        let piri = crate::anatomy::Structure::from_gltf_name("piriformis_r").unwrap();
        let state = library.base_state("tight", None).unwrap();
        assert_eq!(state.get(piri).tension_0_to_1, 0.8);
        // Fixing it clears the error.
        add(
            &mut library,
            "a.scenario.ron",
            &scenario("tight", "").replace("0.8", "0.7"),
        );
        assert!(library.errors().is_empty());
        assert_eq!(
            library
                .base_state("tight", None)
                .unwrap()
                .get(piri)
                .tension_0_to_1,
            0.7
        );
    }

    #[test]
    fn a_duplicate_id_is_an_error_in_the_second_file_only() {
        let mut library = Library::default();
        add(&mut library, "a.scenario.ron", &scenario("same", ""));
        add(&mut library, "b.scenario.ron", &scenario("same", ""));
        let errors = library.errors();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].file, "b.scenario.ron");
        assert!(errors[0].message.contains("duplicate id `same`"));
        assert_eq!(errors[0].line_column(), Some((1, 2)));
        assert_eq!(library.len(), 1);
    }

    #[test]
    fn relief_states_come_from_the_problem_they_start_from() {
        let mut library = Library::default();
        add(&mut library, "p.scenario.ron", &scenario("problem", ""));
        let relief = scenario(
            "relief",
            r#"kind: relief, relief: Some((starts_from: "problem", tool: massage_hump, side: right,
               press_s: 2.0, release_s: 10.0, settle_s: 2.0, how_to: ["x"], how_long: "y", stop_if: "z")),"#,
        )
        .replace("tension: 0.8", "tension: 0.1");
        add(&mut library, "r.scenario.ron", &relief);
        assert!(library.errors().is_empty(), "{:?}", library.errors());
        let piri = crate::anatomy::Structure::from_gltf_name("piriformis_r").unwrap();
        let at = |t| {
            library
                .base_state("relief", Some(t))
                .unwrap()
                .get(piri)
                .tension_0_to_1
        };
        assert_eq!(at(0.0), 0.8);
        assert_eq!(at(2.0), 0.8);
        assert!((at(7.0) - 0.45).abs() < 1e-5);
        assert!((at(14.0) - 0.1).abs() < 1e-6);
        assert_eq!(library.duration_s("relief"), Some(14.0));
        assert_eq!(library.pressure("relief", 5.0), 1.0);
        // A relief whose problem is missing is reported.
        library.remove("p.scenario.ron");
        assert!(
            library.errors()[0]
                .message
                .contains("no scenario has that id")
        );
        // Sorted: problems before reliefs.
        add(&mut library, "p.scenario.ron", &scenario("problem", ""));
        let ids: Vec<&str> = library.sorted().iter().map(|s| s.id.0.as_str()).collect();
        assert_eq!(ids, ["problem", "relief"]);
    }
}
