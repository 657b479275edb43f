//! Posture: the hips' angles and the pelvic tilt drive the model's rig (the femur joints, the
//! pelvis and the lumbar vertebrae), and the muscles' and the sciatic nerve's lengths follow
//! from their paths, as OpenSim computes them.
//!
//! The maths is plain Rust in [`kinematics`] (angles, limits, the joints' motion) and
//! [`muscle_length`] (paths, wrap surfaces, lengths); [`data`] reads the presets, limits and
//! sources, [`report`] shapes the numbers for `hipback report`. [`plugin`] eases between
//! postures and poses the rig; [`panel`] is the Posture window.

pub mod correctives;
pub mod data;
pub mod kinematics;
pub mod muscle_length;
pub mod panel;
pub mod plugin;
pub mod report;

use std::path::Path;

use crate::anatomy::{Layer, Side, StructureKind};
use crate::files::FileError;
use crate::modelgen::data::Anatomy;
use crate::scenario::data::opensim_lines;
use data::PostureFile;
use kinematics::{Pose, Posture, Skeleton};
use muscle_length::{Lengths, PathInputs, PathModel};

/// The anatomy file inside the assets folder.
pub const ANATOMY_FILE: &str = "anatomy/rajagopal2016.ron";

/// Everything posture needs, read and checked: the data file, the pivots and the paths.
#[derive(Clone, Debug, PartialEq)]
pub struct PostureModel {
    /// Presets, limits, sources.
    pub data: PostureFile,
    /// Where the joints turn.
    pub skeleton: Skeleton,
    /// Every followed path, with its standing length.
    pub paths: PathModel,
}

/// The disc below each rig vertebra, L5 first, as the anatomy file names it.
const DISC_LANDMARKS: [&str; 6] = [
    "disc_L5S1_centre",
    "disc_L4L5_centre",
    "disc_L3L4_centre",
    "disc_L2L3_centre",
    "disc_L1L2_centre",
    "disc_T12L1_centre",
];

/// Where the rig's joints turn, from the anatomy's hip joint centres and disc centres.
pub fn skeleton_of(anatomy: &Anatomy) -> Result<Skeleton, FileError> {
    let hip = |side| anatomy.landmark("hip_joint_centre", side);
    let mut disc_centres_m = [bevy::math::Vec3::ZERO; 6];
    for (slot, name) in disc_centres_m.iter_mut().zip(DISC_LANDMARKS) {
        *slot = anatomy.landmark(name, Side::Midline)?;
    }
    Ok(Skeleton {
        hip_centres_m: [hip(Side::Left)?, hip(Side::Right)?],
        disc_centres_m,
    })
}

impl PostureModel {
    /// Reads the posture and anatomy files of an assets folder.
    pub fn load(assets: &Path) -> Result<PostureModel, FileError> {
        let posture_path = assets.join(data::POSTURE_FILE);
        let data = PostureFile::load(&posture_path)?;
        let anatomy_path = assets.join(ANATOMY_FILE);
        let label = anatomy_path.display().to_string();
        let text = std::fs::read_to_string(&anatomy_path)
            .map_err(|e| FileError::cannot_read(&label, e))?;
        let anatomy = Anatomy::from_ron_str(&text, &label)?;
        let wraps = muscle_length::wrap_objects(&text, &label)?;
        Self::from_parts(data, &anatomy, &wraps, &posture_path.display().to_string())
    }

    /// Builds the model from parsed parts; `posture_file` names the posture data in errors
    /// (a point it names that the anatomy lacks, a path that cannot be built from them).
    pub fn from_parts(
        data: PostureFile,
        anatomy: &Anatomy,
        wraps: &[muscle_length::WrapObject],
        posture_file: &str,
    ) -> Result<PostureModel, FileError> {
        let skeleton = skeleton_of(anatomy)?;
        let muscle_lines: Vec<(StructureKind, Vec<String>)> = StructureKind::ALL
            .into_iter()
            .filter(|k| k.layer() == Layer::Muscles)
            .map(|k| {
                (
                    k,
                    opensim_lines(k).iter().map(|l| (*l).to_owned()).collect(),
                )
            })
            .collect();
        let paths = muscle_length::build(&PathInputs {
            anatomy,
            wraps,
            skeleton: &skeleton,
            muscle_lines: &muscle_lines,
            nerve_branches: &data.nerve.branches,
            nerve_wrap: (
                data.nerve.hip_wrap_radius_m,
                &data.nerve.hip_wrap_from,
                &data.nerve.hip_wrap_to,
            ),
            head_wrap: &data.femoral_head_wrap,
        })
        .map_err(|problem| {
            FileError::invalid(
                posture_file,
                format!("the muscle and nerve paths cannot be built: {problem}"),
            )
        })?;
        Ok(PostureModel {
            data,
            skeleton,
            paths,
        })
    }

    /// The posture held within the normal ranges.
    pub fn clamp(&self, posture: &Posture) -> Posture {
        self.data.limits.clamp(posture)
    }

    /// Where every joint goes in a posture (held within the limits first).
    pub fn pose(&self, posture: &Posture) -> Pose {
        kinematics::pose(&self.skeleton, &self.clamp(posture), &self.data.lumbar)
    }

    /// Every length in a posture.
    pub fn lengths(&self, posture: &Posture) -> Lengths {
        self.paths.lengths(&self.pose(posture))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anatomy::Structure;
    use bevy::math::Vec3;
    use kinematics::{PostureId, RigJoint};

    fn model() -> PostureModel {
        PostureModel::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("assets")).unwrap()
    }

    fn st(kind: StructureKind, side: Side) -> Structure {
        Structure { kind, side }
    }

    /// A point the posture file names that the anatomy lacks is an error of the posture
    /// file, through the one file error type.
    #[test]
    fn a_nerve_point_missing_from_the_anatomy_is_an_error_of_the_posture_file() {
        let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
        let mut data = PostureFile::load(&assets.join(data::POSTURE_FILE)).unwrap();
        data.nerve.hip_wrap_from = "no_such_point".to_owned();
        let label = assets.join(ANATOMY_FILE).display().to_string();
        let text = std::fs::read_to_string(assets.join(ANATOMY_FILE)).unwrap();
        let anatomy = Anatomy::from_ron_str(&text, &label).unwrap();
        let wraps = muscle_length::wrap_objects(&text, &label).unwrap();
        let Err(e) = PostureModel::from_parts(data, &anatomy, &wraps, "my/posture.ron") else {
            panic!("a missing point was accepted");
        };
        assert_eq!(e.file, "my/posture.ron");
        assert_eq!(e.kind, crate::files::FileErrorKind::Invalid);
        assert!(e.to_string().contains("no_such_point"), "{e}");
    }

    #[test]
    fn standing_lengths_match_the_data_paths_within_1_percent() {
        let m = model();
        let standing = Pose::default();
        let mut lines = 0;
        for muscle in &m.paths.muscles {
            for line in &muscle.lines {
                let computed = line.length_m(&standing);
                let off = (computed / line.data_length_m - 1.0).abs();
                println!(
                    "{} {}: {:.1} mm, data {:.1} mm ({:+.2} %)",
                    muscle.structure,
                    line.name,
                    computed * 1000.0,
                    line.data_length_m * 1000.0,
                    (computed / line.data_length_m - 1.0) * 100.0
                );
                assert!(
                    off < 0.01,
                    "{} {}: {:.2} % off",
                    muscle.structure,
                    line.name,
                    off * 100.0
                );
                lines += 1;
            }
        }
        assert_eq!(lines, 2 * 12);
        for nerve in &m.paths.nerves {
            let off = (nerve.path.length_m(&standing) / nerve.path.data_length_m - 1.0).abs();
            assert!(off < 0.01, "{}: {:.2} %", nerve.structure, off * 100.0);
        }
    }

    #[test]
    fn the_piriformis_lengthens_in_the_stretches_and_shortens_turned_out() {
        let m = model();
        let piri = st(StructureKind::Piriformis, Side::Right);
        for id in [PostureId::FigureFour, PostureId::Fair] {
            let change = m.lengths(&m.data.posture(id)).change_pct(piri);
            println!("{id}: piriformis {change:+.1} %");
            assert!(change > 2.0, "{id}: {change}");
        }
        let mut turned_out = Posture::default();
        turned_out.right.internal_rotation_deg = -40.0;
        let change = m.lengths(&turned_out).change_pct(piri);
        assert!(change < -2.0, "external rotation: {change}");
    }

    #[test]
    fn the_psoas_lengthens_in_extension_and_shortens_sitting() {
        let m = model();
        for side in [Side::Left, Side::Right] {
            let psoas = st(StructureKind::PsoasMajor, side);
            let mut extended = Posture::default();
            extended.hip_mut(side).flexion_deg = -15.0;
            let e = m.lengths(&extended).change_pct(psoas);
            let s = m
                .lengths(&m.data.posture(PostureId::Sitting))
                .change_pct(psoas);
            println!("{side:?} psoas: extension {e:+.1} %, sitting {s:+.1} %");
            assert!(e > 1.0, "{side:?} extension: {e}");
            assert!(s < -5.0, "{side:?} sitting: {s}");
        }
    }

    /// The closest point to `p` on a polyline: the point, and whether it lies at either end.
    fn closest_on(polyline: &[Vec3], p: Vec3) -> (Vec3, bool) {
        let mut best = (polyline[0], true, f32::MAX);
        for (i, w) in polyline.windows(2).enumerate() {
            let d = w[1] - w[0];
            let t = ((p - w[0]).dot(d) / d.length_squared()).clamp(0.0, 1.0);
            let c = w[0] + d * t;
            let at_end = (i == 0 && t == 0.0) || (i == polyline.len() - 2 && t == 1.0);
            if c.distance(p) < best.2 {
                best = (c, at_end, c.distance(p));
            }
        }
        (best.0, best.1)
    }

    /// Points every `step_m` along a polyline.
    fn densify(route: &[Vec3], step_m: f32) -> Vec<Vec3> {
        let mut out = vec![route[0]];
        for w in route.windows(2) {
            let n = (w[0].distance(w[1]) / step_m).ceil().max(1.0) as usize;
            out.extend((1..=n).map(|k| w[0].lerp(w[1], k as f32 / n as f32)));
        }
        out
    }

    /// The sciatic nerve leaves the pelvis below the piriformis (type A, the model's course)
    /// and must stay there as the thigh moves: in the pelvis's own frame, wherever the
    /// nerve's path (its wrap round the hip included) comes within 3 cm of the piriformis's
    /// line, it lies on the lower side of it. Checked in every preset and on the way there.
    #[test]
    fn the_nerve_stays_below_the_piriformis_in_every_posture() {
        let m = model();
        for id in PostureId::ALL {
            let target = m.data.posture(id);
            // Points checked per side: the nerve must come near the muscle on both.
            let mut checked = [0usize; 2];
            let mut closest_mm = f32::MAX;
            let mut lowest_mm = f32::MAX;
            for t in [0.25f32, 0.5, 0.75, 1.0] {
                let pose = m.pose(&Posture::lerp(&Posture::default(), &target, t));
                let to_pelvis = pose.of(RigJoint::Pelvis).inverse();
                let down = Vec3::NEG_Y;
                for (side_index, side) in [Side::Left, Side::Right].into_iter().enumerate() {
                    let piri = m.paths.muscle(st(StructureKind::Piriformis, side)).unwrap();
                    let nerve = m
                        .paths
                        .nerve(st(StructureKind::SciaticNerve, side))
                        .unwrap();
                    let muscle: Vec<Vec3> = piri.lines[0]
                        .posed_route(&pose, 16)
                        .into_iter()
                        .map(|p| to_pelvis.transform_point3(p))
                        .collect();
                    let route: Vec<Vec3> = nerve
                        .path
                        .posed_route(&pose, 16)
                        .into_iter()
                        .map(|p| to_pelvis.transform_point3(p))
                        .collect();
                    for n in densify(&route, 0.002) {
                        let (c, at_end) = closest_on(&muscle, n);
                        let gap = n - c;
                        if at_end || gap.length() > 0.03 {
                            continue;
                        }
                        // Below: on the side of the muscle's line that "down" points to.
                        let along = muscle
                            .windows(2)
                            .find(|w| closest_on(w, c).0.distance(c) < 1e-6)
                            .map_or(Vec3::X, |w| (w[1] - w[0]).normalize());
                        let inferior = (down - along * down.dot(along)).normalize();
                        let below_m = gap.dot(inferior);
                        closest_mm = closest_mm.min(gap.length() * 1000.0);
                        lowest_mm = lowest_mm.min(below_m * 1000.0);
                        checked[side_index] += 1;
                        assert!(
                            below_m > 0.005,
                            "{id} at {t}: {side:?} nerve {:.1} mm below the piriformis at {n}",
                            below_m * 1000.0
                        );
                    }
                }
            }
            println!(
                "{id}: nerve within {closest_mm:.1} mm of the piriformis, at least \
                 {lowest_mm:.1} mm below it ({checked:?} points)"
            );
            // The check saw the crossing on both sides.
            assert!(
                checked.iter().all(|n| *n > 4),
                "{id}: {checked:?} points checked"
            );
        }
    }

    #[test]
    fn flexion_strains_the_nerve_and_the_glutes_lengthen() {
        let m = model();
        let sitting = m.lengths(&m.data.posture(PostureId::Sitting));
        for side in [Side::Left, Side::Right] {
            let nerve = sitting.strain_pct(st(StructureKind::SciaticNerve, side));
            let glmax = sitting.change_pct(st(StructureKind::GluteusMaximus, side));
            assert!(nerve > 2.0, "{side:?} nerve: {nerve}");
            assert!(glmax > 10.0, "{side:?} gluteus maximus: {glmax}");
        }
        // The left leg does not move in FAIR: nothing on the left changes.
        let fair = m.lengths(&m.data.posture(PostureId::Fair));
        for muscle in &fair.muscles {
            if muscle.structure.is_some_and(|s| s.side == Side::Left) {
                assert!(muscle.change_pct.abs() < 1e-3, "{muscle:?}");
            }
        }
    }
}
