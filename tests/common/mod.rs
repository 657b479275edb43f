//! Fixtures shared by the integration-test binaries: the `hipback` command, temporary
//! folders, the "one line on stderr, exit code 2" check and model-file helpers.
// Each test binary uses a different part of these fixtures, so `dead_code` cannot be
// `expect`ed: whether it fires depends on the binary.
#![allow(dead_code, reason = "each test binary uses a different part")]
#![expect(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test, with its message"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The bundled model, asserted present.
pub fn bundled_model() -> PathBuf {
    let path = hipback::viewer::default_model_path();
    assert!(
        path.is_file(),
        "{}: the bundled model is missing (generate it with hipback-modelgen)",
        path.display()
    );
    path
}

/// A fresh folder for one test (unique per process and name).
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hipback-test-{name}-{}", std::process::id()));
    if dir.exists() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The `hipback` binary with the environment every test run wants (lavapipe, quiet logs).
pub fn hipback(exe: &str) -> Command {
    // The user's own files (a saved pain drawing, settings) would show in the pictures: each
    // test process gets an empty folder instead, unless a test names its own.
    let data = std::env::temp_dir().join(format!("hipback-test-data-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&data);
    let mut command = Command::new(exe);
    command
        .env("WGPU_BACKEND", "vulkan")
        .env("XDG_RUNTIME_DIR", "/tmp")
        .env("RUST_LOG", "warn")
        .env("HIPBACK_DATA_DIR", data);
    command
}

/// The process failed with exit code 2 and exactly one non-empty stderr line that contains
/// `needle`, and nothing panicked.
pub fn assert_one_line_error(output: &Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        // Bevy and Mesa may log on stderr (Bevy's B0006 software-renderer warning); ours
        // start with `hipback: `.
        .filter(|l| l.starts_with("hipback: ") || !is_log_line(l))
        .collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {stderr}");
    assert!(lines[0].contains(needle), "{needle} not in: {}", lines[0]);
}

/// Log lines from Bevy's logger (coloured level tags) or Mesa, not messages of ours.
fn is_log_line(line: &str) -> bool {
    ["WARN", "INFO", "ERROR"]
        .iter()
        .any(|level| line.contains(level))
        || line.contains("MESA")
        || line.starts_with("WARNING: lavapipe")
}

/// The process succeeded; otherwise fail with its output.
pub fn assert_success(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed ({:?}).\nstdout:\n{}\nstderr:\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A copy of the bundled model with its glTF JSON rewritten by `edit`, written to
/// `dir/name` (the binary chunk is kept as it is).
pub fn model_with_json_edit(dir: &Path, name: &str, edit: impl FnOnce(&str) -> String) -> PathBuf {
    let bytes = std::fs::read(bundled_model()).unwrap();
    assert_eq!(&bytes[0..4], b"glTF");
    let json_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let json = std::str::from_utf8(&bytes[20..20 + json_len]).unwrap();
    let edited = edit(json);
    let mut json_chunk = edited.into_bytes();
    while !json_chunk.len().is_multiple_of(4) {
        json_chunk.push(b' ');
    }
    let rest = &bytes[20 + json_len..];
    let total = 12 + 8 + json_chunk.len() + rest.len();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"glTF");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&u32::try_from(total).unwrap().to_le_bytes());
    out.extend_from_slice(&u32::try_from(json_chunk.len()).unwrap().to_le_bytes());
    out.extend_from_slice(b"JSON");
    out.extend_from_slice(&json_chunk);
    out.extend_from_slice(rest);
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, out).unwrap();
    path
}

/// A copy of the bundled model in which `structure`'s node and mesh are renamed, so that
/// structure is missing.
pub fn model_without(structure: &str, dir: &Path) -> PathBuf {
    model_with_json_edit(dir, &format!("without-{structure}.glb"), |json| {
        let renamed = json.replace(&format!("\"{structure}\""), "\"not_a_structure\"");
        assert_ne!(renamed, json, "{structure} not found in the model");
        renamed
    })
}
pub mod glb;
