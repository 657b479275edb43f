//! The anatomical numbers the model is built from (`assets/anatomy/rajagopal2016.ron`),
//! converted to the glTF frame: metres, +Y up, subject facing +Z, origin midway between
//! the ASIS, i.e. glTF = (−z, y, x) of the OpenSim pelvis frame.

use std::collections::BTreeMap;
use std::path::Path;

use bevy::math::Vec3;
use serde::Deserialize;

use crate::anatomy::Side;
use crate::files::{FileError, FileErrorKind};

/// A side as written in the data file.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, PartialOrd, Ord)]
pub enum DataSide {
    /// Subject's left.
    Left,
    /// Subject's right.
    Right,
    /// Midline.
    Midline,
}

impl From<Side> for DataSide {
    fn from(side: Side) -> Self {
        match side {
            Side::Left => DataSide::Left,
            Side::Right => DataSide::Right,
            Side::Midline => DataSide::Midline,
        }
    }
}

#[derive(Debug, Deserialize)]
struct LandmarkRow {
    name: String,
    side: DataSide,
    frame: String,
    p: (f32, f32, f32),
}

#[derive(Debug, Deserialize)]
struct PointRow {
    name: String,
    frame: String,
    measured: bool,
    p: (f32, f32, f32),
}

#[derive(Debug, Deserialize)]
struct MuscleRow {
    muscle: String,
    points: Vec<PointRow>,
}

#[derive(Debug, Deserialize)]
struct NerveRow {
    branch: String,
    side: DataSide,
    points: Vec<PointRow>,
}

#[derive(Debug, Deserialize)]
struct AnatomyFile {
    source: String,
    torso_seating_shift_m: (f32, f32, f32),
    landmarks: Vec<LandmarkRow>,
    muscle_paths: Vec<MuscleRow>,
    nerve_branches: Vec<NerveRow>,
}

/// The body frame a point moves with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFrame {
    /// The pelvis (hip bones, sacrum).
    Pelvis,
    /// The lumbar spine.
    Torso,
    /// A thigh.
    Femur,
}

/// One point of a muscle or nerve path, in the glTF frame.
#[derive(Clone, Debug)]
pub struct PathPoint {
    /// Its name in the source.
    pub name: String,
    /// Which body it is attached to.
    pub frame: BodyFrame,
    /// Measured in the model (true) or derived (false).
    pub measured: bool,
    /// Position (glTF frame, metres).
    pub position_m: Vec3,
}

/// All anatomical input, in the glTF frame, with the L5 seating shift applied.
#[derive(Clone, Debug)]
pub struct Anatomy {
    /// Attribution for the numbers (goes into `asset.copyright`).
    pub source: String,
    file: String,
    landmarks: BTreeMap<(String, DataSide), Vec3>,
    muscles: BTreeMap<String, Vec<PathPoint>>,
    nerves: BTreeMap<(String, DataSide), Vec<PathPoint>>,
}

/// OpenSim pelvis frame (x anterior, y up, z right) → glTF (subject facing +Z).
pub fn gltf_from_opensim(p: (f32, f32, f32)) -> Vec3 {
    Vec3::new(-p.2, p.1, p.0)
}

fn frame_of(name: &str) -> BodyFrame {
    match name {
        "torso" => BodyFrame::Torso,
        n if n.starts_with("femur") => BodyFrame::Femur,
        _ => BodyFrame::Pelvis,
    }
}

impl Anatomy {
    /// The bundled data file, relative to the crate root.
    pub const DEFAULT_PATH: &'static str = "assets/anatomy/rajagopal2016.ron";

    /// Reads and parses a data file.
    pub fn load(path: &Path) -> Result<Self, FileError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| FileError::cannot_read(&file, e))?;
        Self::from_ron_str(&text, &file)
    }

    /// Parses data from text; `file` names it in errors.
    pub fn from_ron_str(text: &str, file: &str) -> Result<Self, FileError> {
        let raw: AnatomyFile = ron::from_str(text).map_err(|e| FileError::ron(file, &e))?;
        let shift = Vec3::from(raw.torso_seating_shift_m);
        // The shift is given in the OpenSim frame; map it like a point.
        let shift_gltf = gltf_from_opensim((shift.x, shift.y, shift.z));
        let place = |frame: &str, p: (f32, f32, f32)| {
            let q = gltf_from_opensim(p);
            if frame == "torso" { q + shift_gltf } else { q }
        };
        let mut landmarks = BTreeMap::new();
        for row in &raw.landmarks {
            landmarks.insert((row.name.clone(), row.side), place(&row.frame, row.p));
        }
        let to_points = |rows: &[PointRow]| -> Vec<PathPoint> {
            rows.iter()
                .map(|r| PathPoint {
                    name: r.name.clone(),
                    frame: frame_of(&r.frame),
                    measured: r.measured,
                    position_m: place(&r.frame, r.p),
                })
                .collect()
        };
        let muscles = raw
            .muscle_paths
            .iter()
            .map(|m| (m.muscle.clone(), to_points(&m.points)))
            .collect();
        let nerves = raw
            .nerve_branches
            .iter()
            .map(|n| ((n.branch.clone(), n.side), to_points(&n.points)))
            .collect();
        Ok(Anatomy {
            source: raw.source,
            file: file.to_string(),
            landmarks,
            muscles,
            nerves,
        })
    }

    /// An error of this file: `missing {what}`.
    pub fn missing(&self, what: impl std::fmt::Display) -> FileError {
        FileError::new(
            FileErrorKind::Incomplete,
            &self.file,
            format!("missing {what}"),
        )
    }

    /// A landmark on a side (glTF frame). Paired landmarks only given on the right are
    /// mirrored.
    pub fn landmark(&self, name: &str, side: Side) -> Result<Vec3, FileError> {
        if let Some(p) = self.landmarks.get(&(name.to_string(), side.into())) {
            return Ok(*p);
        }
        if side == Side::Left
            && let Some(p) = self.landmarks.get(&(name.to_string(), DataSide::Right))
        {
            return Ok(mirror(*p));
        }
        Err(self.missing(format!("landmark {name} ({side:?})")))
    }

    /// A muscle path by its OpenSim name without side (e.g. `glmax1`), mirrored for the left.
    pub fn muscle_path(&self, muscle: &str, side: Side) -> Result<Vec<PathPoint>, FileError> {
        let points = self
            .muscles
            .get(&format!("{muscle}_r"))
            .ok_or_else(|| self.missing(format!("muscle path {muscle}_r")))?;
        Ok(points
            .iter()
            .map(|p| PathPoint {
                position_m: if side == Side::Left {
                    mirror(p.position_m)
                } else {
                    p.position_m
                },
                ..p.clone()
            })
            .collect())
    }

    /// A nerve branch polyline on a side.
    pub fn nerve_branch(&self, branch: &str, side: Side) -> Result<Vec<PathPoint>, FileError> {
        self.nerves
            .get(&(branch.to_string(), side.into()))
            .cloned()
            .ok_or_else(|| self.missing(format!("nerve branch {branch} ({side:?})")))
    }
}

/// Mirror between the subject's sides (glTF X).
pub fn mirror(p: Vec3) -> Vec3 {
    Vec3::new(-p.x, p.y, p.z)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_frames_and_mirrors() {
        let a = Anatomy::load(Path::new(Anatomy::DEFAULT_PATH)).unwrap();
        // OpenSim right ASIS (0, 0, 0.1208) → glTF (−0.1208, 0, 0): the right side is −X.
        let asis_r = a.landmark("ASIS", Side::Right).unwrap();
        assert!((asis_r - Vec3::new(-0.1208, 0.0, 0.0)).length() < 1e-6);
        let asis_l = a.landmark("ASIS", Side::Left).unwrap();
        assert!(asis_l.x > 0.1);
        // L5 is shifted by (+0.0131, −0.0217, 0) OpenSim = (0, −0.0217, +0.0131) glTF.
        let l5 = a.landmark("L5_body_centre", Side::Midline).unwrap();
        assert!((l5 - Vec3::new(0.0, 0.0892 - 0.0217, -0.0902 + 0.0131)).length() < 1e-5);
        let piri_l = a.muscle_path("piri", Side::Left).unwrap();
        assert!(piri_l[0].position_m.x > 0.0);
    }

    #[test]
    fn broken_file_names_file_and_line() {
        let err = Anatomy::from_ron_str("(source: 3", "x.ron").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("x.ron:1:"), "{msg}");
        assert_eq!(err.line_column().map(|(line, _)| line), Some(1), "{msg}");
    }
}
