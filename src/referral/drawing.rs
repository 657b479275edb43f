//! A pain drawing on the skin: one value 0–1 per skin vertex, painted with a round brush,
//! saved to a small versioned file (written atomically) so nothing drawn is lost. Pure.

use std::path::{Path, PathBuf};

use bevy::math::Vec3;
use serde::{Deserialize, Serialize};

use crate::files::{FileError, declared_version, find_line_col};

/// The drawing file format this build writes and reads.
pub const FORMAT_VERSION: u32 = 1;

/// Where the drawing is kept between sessions.
pub fn drawing_path() -> PathBuf {
    crate::files::user_data_dir()
        .join("drawings")
        .join("pain-drawing.ron")
}

/// The file: which skin it belongs to and the painted vertices.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DrawingFile {
    /// Format version.
    pub version: u32,
    /// Vertices of the skin it was drawn on.
    pub vertex_count: usize,
    /// A fingerprint of that skin's vertex positions.
    pub skin_fingerprint: u64,
    /// (vertex, value) for every painted vertex.
    pub painted: Vec<(u32, f32)>,
}

/// A fingerprint of a skin's vertex positions (FNV-1a over positions rounded to 0.1 mm), so
/// a drawing is never laid on a different skin.
pub fn fingerprint(positions: &[Vec3]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for p in positions {
        for c in p.to_array() {
            let q = (c * 10_000.0).round() as i64;
            for byte in q.to_le_bytes() {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0100_0000_01b3);
            }
        }
    }
    hash
}

/// Paints (or erases, with `value` 0) every vertex within `radius_m` of `centre`; returns
/// whether anything changed.
pub fn paint(
    positions: &[Vec3],
    drawing: &mut [f32],
    centre: Vec3,
    radius_m: f32,
    value: f32,
) -> bool {
    let mut changed = false;
    let r2 = radius_m * radius_m;
    for (p, d) in positions.iter().zip(drawing.iter_mut()) {
        if (*p - centre).length_squared() <= r2 && *d != value {
            *d = value;
            changed = true;
        }
    }
    changed
}

/// Writes the drawing atomically.
pub fn save(path: &Path, drawing: &[f32], skin_fingerprint: u64) -> Result<(), String> {
    let file = DrawingFile {
        version: FORMAT_VERSION,
        vertex_count: drawing.len(),
        skin_fingerprint,
        painted: drawing
            .iter()
            .enumerate()
            .filter(|(_, d)| **d > 0.0)
            .map(|(i, d)| (i as u32, *d))
            .collect(),
    };
    let text = ron::ser::to_string(&file).map_err(|e| e.to_string())?;
    crate::files::write_atomically(path, text.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// What reading a drawing file found.
#[derive(Clone, Debug, PartialEq)]
pub enum Loaded {
    /// No file yet.
    Nothing,
    /// The drawing, one value per vertex.
    Drawing(Vec<f32>),
    /// A file that cannot be used on this skin (another model, a newer version, broken):
    /// why. The caller keeps the file aside instead of overwriting it.
    Unusable(FileError),
}

/// Reads a drawing for a skin of `vertex_count` vertices with `skin_fingerprint`.
pub fn load(path: &Path, vertex_count: usize, skin_fingerprint: u64) -> Loaded {
    let label = path.display().to_string();
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Loaded::Nothing,
        Err(e) => return Loaded::Unusable(FileError::cannot_read(&label, e)),
    };
    // A newer hipback's file: say so before its new fields read as errors.
    if let Some(version) = declared_version(&text)
        && version > FORMAT_VERSION
    {
        return Loaded::Unusable(
            FileError::newer(&label, version, FORMAT_VERSION).at(find_line_col(&text, "version")),
        );
    }
    let file: DrawingFile = match ron::from_str(&text) {
        Ok(file) => file,
        Err(e) => return Loaded::Unusable(FileError::ron(&label, &e)),
    };
    if file.vertex_count != vertex_count || file.skin_fingerprint != skin_fingerprint {
        return Loaded::Unusable(FileError::invalid(&label, "drawn on another model's skin"));
    }
    let mut drawing = vec![0.0; vertex_count];
    for (v, value) in file.painted {
        if let Some(d) = drawing.get_mut(v as usize) {
            *d = value.clamp(0.0, 1.0);
        }
    }
    Loaded::Drawing(drawing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::FileErrorKind;

    #[test]
    fn a_drawing_survives_saving_and_refuses_another_skin() {
        let dir = std::env::temp_dir().join(format!("hipback-drawing-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join("d.ron");
        let positions: Vec<Vec3> = (0..10)
            .map(|i| Vec3::new(i as f32 * 0.01, 0.0, 0.0))
            .collect();
        let fp = fingerprint(&positions);
        let mut drawing = vec![0.0; 10];
        assert!(paint(
            &positions,
            &mut drawing,
            Vec3::new(0.03, 0.0, 0.0),
            0.015,
            1.0
        ));
        assert_eq!(drawing, [0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        assert!(!paint(
            &positions,
            &mut drawing,
            Vec3::new(0.03, 0.0, 0.0),
            0.015,
            1.0
        ));
        assert!(paint(
            &positions,
            &mut drawing,
            Vec3::new(0.04, 0.0, 0.0),
            0.001,
            0.0
        ));
        assert_eq!(load(&path, 10, fp), Loaded::Nothing);
        save(&path, &drawing, fp).unwrap();
        assert_eq!(load(&path, 10, fp), Loaded::Drawing(drawing.clone()));
        // Another skin: unusable, and kept aside rather than overwritten.
        let other = fingerprint(&positions[1..]);
        assert!(matches!(load(&path, 10, other), Loaded::Unusable(_)));
        std::fs::write(
            &path,
            "(version: 9, vertex_count: 10, skin_fingerprint: 1, painted: [])",
        )
        .unwrap();
        let Loaded::Unusable(why) = load(&path, 10, fp) else {
            panic!("a newer file was accepted");
        };
        assert_eq!(why.kind, FileErrorKind::Newer, "{why}");
        assert!(why.message.contains("newer"), "{why}");
        assert_eq!(why.line_column(), Some((1, 2)), "{why}");
        std::fs::write(&path, "garbage").unwrap();
        let Loaded::Unusable(why) = load(&path, 10, fp) else {
            panic!("garbage was accepted");
        };
        assert!(why.line_column().is_some(), "{why}");
        let aside = crate::files::keep_aside(&path).unwrap();
        assert!(aside.exists() && !path.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
