//! Files: [`FileError`], the one error for every file the app reads (it names the file, the
//! place inside it and the problem, in plain words), and writing the user's files safely: to a
//! temporary file in the same folder, flushed to disk, then renamed over the target, so a crash
//! mid-write never leaves a corrupt or empty file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

/// A file the app reads that cannot be used: the file, where in it (when the problem has a
/// place) and what is wrong, in plain words. Displayed as one line, e.g.
/// ``assets/scenarios/x.ron:12:5: unknown structure `foo` ``.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{file}{}: {message}", place.as_ref().map(ToString::to_string).unwrap_or_default())]
pub struct FileError {
    /// The file, as it was given.
    pub file: String,
    /// Where in the file, if the problem has a place.
    pub place: Option<Place>,
    /// What kind of problem, for callers that treat them differently.
    pub kind: FileErrorKind,
    /// What is wrong, in plain words (several problems are joined by `; `).
    pub message: String,
}

/// Where in a file a problem lies; displayed right after the file name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Place {
    /// A line and column of a text file (1-based): `file:12:5`.
    LineColumn {
        /// The line, from 1.
        line: usize,
        /// The column, from 1.
        column: usize,
    },
    /// A JSON pointer (RFC 6901) into a glTF document, written as a URI fragment:
    /// `model.glb#/accessors/3`.
    JsonPointer(String),
    /// A part of a binary glTF file, e.g. `header` or `BIN chunk`: `model.glb (GLB header)`.
    Chunk(String),
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::LineColumn { line, column } => write!(f, ":{line}:{column}"),
            Place::JsonPointer(pointer) => write!(f, "#{pointer}"),
            Place::Chunk(chunk) => write!(f, " (GLB {chunk})"),
        }
    }
}

/// The kinds of [`FileError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileErrorKind {
    /// The file cannot be read at all (missing, a folder, no permission, not text).
    Unreadable,
    /// Its content breaks the format: bad syntax, an unknown name, a value out of range.
    Invalid,
    /// Well formed, but something the app needs is not there.
    Incomplete,
    /// Well formed, but its data is damaged (a glTF buffer too short, a position not a number).
    Damaged,
    /// Written by a newer hipback, in a format this one does not read.
    Newer,
}

impl FileError {
    /// An error of `kind` about `file`, without a place yet (see [`FileError::at`]).
    pub fn new(kind: FileErrorKind, file: &str, message: impl Into<String>) -> Self {
        Self {
            file: file.to_owned(),
            place: None,
            kind,
            message: message.into(),
        }
    }

    /// A problem with the content of `file` ([`FileErrorKind::Invalid`]).
    pub fn invalid(file: &str, message: impl Into<String>) -> Self {
        Self::new(FileErrorKind::Invalid, file, message)
    }

    /// `file` cannot be read: `cannot read: {why}`.
    pub fn cannot_read(file: &str, why: impl std::fmt::Display) -> Self {
        Self::new(
            FileErrorKind::Unreadable,
            file,
            format!("cannot read: {why}"),
        )
    }

    /// `file` is not UTF-8 text; the place is where the text stops being UTF-8.
    pub fn not_utf8(file: &str, bytes: &[u8], error: &std::str::Utf8Error) -> Self {
        Self::new(FileErrorKind::Unreadable, file, "not UTF-8 text")
            .at(line_col_of_offset(bytes, error.valid_up_to()))
    }

    /// A RON parse error of `file`, at its line and column, in plain words.
    pub fn ron(file: &str, error: &ron::error::SpannedError) -> Self {
        Self::invalid(file, ron_message(&error.code))
            .at(Some((error.span.start.line, error.span.start.col)))
    }

    /// `file` was written by a newer hipback: format `version`, this one reads up to `known`.
    pub fn newer(file: &str, version: u32, known: u32) -> Self {
        Self::new(
            FileErrorKind::Newer,
            file,
            format!("written by a newer hipback (format {version}; this one reads up to {known})"),
        )
    }

    /// The same error at a line and column (1-based), when known.
    #[must_use]
    pub fn at(mut self, line_column: Option<(usize, usize)>) -> Self {
        self.place = line_column.map(|(line, column)| Place::LineColumn { line, column });
        self
    }

    /// The same error at a place.
    #[must_use]
    pub fn at_place(mut self, place: Place) -> Self {
        self.place = Some(place);
        self
    }

    /// The line and column, if the place is one.
    pub fn line_column(&self) -> Option<(usize, usize)> {
        match self.place {
            Some(Place::LineColumn { line, column }) => Some((line, column)),
            _ => None,
        }
    }
}

/// A RON error in plain words: the value or field that is not known and the ones that are,
/// without the Rust type names RON puts in its messages (such as the name of the enum).
pub fn ron_message(code: &ron::Error) -> String {
    match code {
        ron::Error::NoSuchEnumVariant {
            expected, found, ..
        } => format!("unknown value `{found}` (one of: {})", expected.join(", ")),
        ron::Error::NoSuchStructField {
            expected, found, ..
        } => format!("unknown field `{found}` (known: {})", expected.join(", ")),
        ron::Error::MissingStructField { field, .. } => format!("`{field}` is missing"),
        ron::Error::DuplicateStructField { field, .. } => format!("`{field}` is given twice"),
        other => other.to_string(),
    }
}

/// The `version:` number a file declares, if it can be read without parsing the rest.
pub fn declared_version(text: &str) -> Option<u32> {
    let start = text.find("version")?;
    let rest = text[start + "version".len()..]
        .trim_start()
        .strip_prefix(':')?;
    let digits: String = rest
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// 1-based line and column of the first `needle:` field in `text` (for errors found after
/// parsing).
pub fn find_line_col(text: &str, needle: &str) -> Option<(usize, usize)> {
    let pattern = format!("{needle}:");
    let offset = text
        .match_indices(&pattern)
        .map(|(i, _)| i)
        .find(|&i| i == 0 || !text.as_bytes()[i - 1].is_ascii_alphanumeric())?;
    line_col_of_offset(text.as_bytes(), offset)
}

/// 1-based line and column of a byte offset.
pub fn line_col_of_offset(bytes: &[u8], offset: usize) -> Option<(usize, usize)> {
    let before = bytes.get(..offset)?;
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    Some((line, col))
}

/// Where the user's own files live: `$HIPBACK_DATA_DIR`, else `$XDG_DATA_HOME/hipback`, else
/// `~/.local/share/hipback`.
pub fn user_data_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("HIPBACK_DATA_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir).join("hipback");
    }
    std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".local/share/hipback"))
        .unwrap_or_else(|| PathBuf::from(".hipback"))
}

/// The folder pictures and clips saved from the window go to.
pub fn user_media_dir() -> PathBuf {
    user_data_dir().join("saved")
}

/// A file-name-safe UTC time stamp, e.g. `2026-11-27_16-40-12`.
pub fn timestamp(since_epoch: std::time::Duration) -> String {
    let secs = since_epoch.as_secs();
    let days = (secs / 86_400) as i64;
    let rest = secs % 86_400;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}_{:02}-{:02}-{:02}",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    )
}

/// [`timestamp`] of now.
pub fn now_stamp() -> String {
    timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default(),
    )
}

/// Moves an unusable `.ron` file aside (`NAME.ron.unusable-STAMP`), so that nothing saved
/// later overwrites it; the new name.
pub fn keep_aside(path: &Path) -> Result<PathBuf, String> {
    let aside = path.with_extension(format!("ron.unusable-{}", now_stamp()));
    std::fs::rename(path, &aside).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(aside)
}

/// Writes `bytes` to `path` atomically (creating the folder if needed).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_owned());
    let temp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_error_is_one_line_with_the_file_the_place_and_the_problem() {
        let gone = FileError::cannot_read("a.ron", "No such file or directory");
        assert_eq!(
            gone.to_string(),
            "a.ron: cannot read: No such file or directory"
        );
        assert_eq!(gone.kind, FileErrorKind::Unreadable);
        assert_eq!(gone.place, None);
        let bad = FileError::invalid("x.ron", "unknown structure `foo`").at(Some((12, 5)));
        assert_eq!(bad.to_string(), "x.ron:12:5: unknown structure `foo`");
        assert_eq!(bad.line_column(), Some((12, 5)));
        let damaged = FileError::new(FileErrorKind::Damaged, "m.glb", "vertex 1 is NaN")
            .at_place(Place::JsonPointer("/accessors/3".to_owned()));
        assert_eq!(damaged.to_string(), "m.glb#/accessors/3: vertex 1 is NaN");
        assert_eq!(damaged.line_column(), None);
        let header =
            FileError::invalid("m.glb", "too short").at_place(Place::Chunk("header".to_owned()));
        assert_eq!(header.to_string(), "m.glb (GLB header): too short");
        let newer = FileError::newer("s.ron", 3, 1).at(None);
        assert_eq!(
            newer.to_string(),
            "s.ron: written by a newer hipback (format 3; this one reads up to 1)"
        );
        assert_eq!(newer.kind, FileErrorKind::Newer);
        assert!(!newer.to_string().contains('\n'));
    }

    #[test]
    fn find_line_col_finds_fields() {
        assert_eq!(
            find_line_col("(\n  id: 1,\n  kind: x)", "kind"),
            Some((3, 3))
        );
        assert_eq!(find_line_col("(subkind: 1)", "kind"), None);
    }

    /// Every loader's error carries the place of the problem where it has one: the line and
    /// column of a RON file, the JSON pointer or GLB part of a model.
    #[test]
    fn every_loader_names_the_place() {
        let broken = "(\n  x: ]";
        let bytes = broken.as_bytes();
        let errors = [
            crate::scenario::file::parse(bytes, "f.ron").map(drop),
            crate::referral::data::parse(bytes, "f.ron").map(drop),
            crate::scenario::data::parse_ron::<crate::scenario::data::TriggerPointTable>(
                bytes, "f.ron",
            )
            .map(drop),
            crate::posture::data::PostureFile::from_ron_str(broken, "f.ron").map(drop),
            crate::content::ContentTable::from_ron_str(broken, "f.ron").map(drop),
            crate::content::guidance::Guidance::from_ron_str(broken, "f.ron").map(drop),
            crate::anatomy::NerveVariantFacts::from_ron_str(broken, "f.ron").map(drop),
            crate::modelgen::data::Anatomy::from_ron_str(broken, "f.ron").map(drop),
            crate::posture::muscle_length::wrap_objects(broken, "f.ron").map(drop),
        ];
        for (loader, result) in errors.into_iter().enumerate() {
            let e = result.expect_err("broken text was accepted");
            assert!(
                e.to_string().starts_with("f.ron:2:"),
                "loader {loader}: {e}"
            );
            assert_eq!(e.line_column().map(|(line, _)| line), Some(2), "{e}");
        }

        // The user's files: a pain drawing and the settings.
        let dir = std::env::temp_dir().join(format!("hipback-places-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("f.ron");
        std::fs::write(&path, broken).unwrap();
        let crate::referral::drawing::Loaded::Unusable(e) =
            crate::referral::drawing::load(&path, 1, 1)
        else {
            panic!("a broken drawing was accepted");
        };
        assert_eq!(e.line_column().map(|(line, _)| line), Some(2), "{e}");
        let crate::settings::Loaded::Unusable { why, .. } = crate::settings::load(&path) else {
            panic!("broken settings were accepted");
        };
        assert_eq!(why.line_column().map(|(line, _)| line), Some(2), "{why}");
        let _ = std::fs::remove_dir_all(&dir);

        // Models: a damaged buffer by its JSON pointer, a cut file by its header.
        let models = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_inputs/models");
        let model =
            |name: &str| crate::viewer::model::validate_model_file(&models.join(name)).unwrap_err();
        let e = model("huge_buffer.glb");
        assert_eq!(e.kind, FileErrorKind::Damaged, "{e}");
        assert_eq!(
            e.place,
            Some(Place::JsonPointer("/buffers/0".to_owned())),
            "{e}"
        );
        let e = model("missing_accessor.glb");
        assert_eq!(
            e.place,
            Some(Place::JsonPointer(
                "/meshes/2/primitives/0/attributes".to_owned()
            )),
            "{e}"
        );
        let e = model("truncated.glb");
        assert_eq!(e.place, Some(Place::Chunk("header".to_owned())), "{e}");
        // The skin reader shares the model's places.
        let e = crate::referral::skin_from_glb(&models.join("truncated.glb")).unwrap_err();
        assert_eq!(e.place, Some(Place::Chunk("header".to_owned())), "{e}");
        // A glTF JSON syntax error: its line and column.
        let e =
            crate::viewer::model::validate_model_bytes(b"{\n  \"asset\": ]", "m.gltf").unwrap_err();
        assert_eq!(e.line_column().map(|(line, _)| line), Some(2), "{e}");
        // A value gltf-json finds invalid: the JSON pointer of the first one.
        let e = crate::viewer::model::validate_model_bytes(
            br#"{"asset":{"version":"2.0"},"scene":3}"#,
            "m.gltf",
        )
        .unwrap_err();
        assert_eq!(
            e.place,
            Some(Place::JsonPointer("/scene".to_owned())),
            "{e}"
        );
    }

    #[test]
    fn time_stamps_are_calendar_dates() {
        let at = |s| timestamp(std::time::Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01_00-00-00");
        // 2024-02-29 12:34:56 UTC (a leap day).
        assert_eq!(at(1_709_210_096), "2024-02-29_12-34-56");
        assert_eq!(at(1_798_761_600), "2027-01-01_00-00-00");
    }

    #[test]
    fn writes_replace_whole_files_and_leave_no_temp_behind() {
        let dir = std::env::temp_dir().join(format!("hipback-files-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("sub").join("a.txt");
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        // A folder where the file should be: an error, nothing written.
        assert!(write_atomically(&dir.join("sub"), b"x").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
