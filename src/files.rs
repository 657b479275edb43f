//! Writing the user's files safely: to a temporary file in the same folder, flushed to disk,
//! then renamed over the target, so a crash mid-write never leaves a corrupt or empty file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

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
