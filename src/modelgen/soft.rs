//! Muscles and the sciatic nerve as swept shapes along the measured paths.

use bevy::math::Vec3;

use super::bones::lateral;
use super::data::{Anatomy, BodyFrame, DataError, PathPoint};
use super::sweep::{
    GuidePoint, JOINT_FEMUR_L, JOINT_FEMUR_R, JOINT_L4, JOINT_L5, JOINT_PELVIS, SweepSample,
    SweepSpec, fusiform, sweep,
};
use crate::anatomy::{Side, StructureKind};

fn joint_of(p: &PathPoint, side: Side, l4l5_y: f32) -> usize {
    match p.frame {
        BodyFrame::Pelvis => JOINT_PELVIS,
        BodyFrame::Torso if p.position_m.y > l4l5_y => JOINT_L4,
        BodyFrame::Torso => JOINT_L5,
        BodyFrame::Femur if side == Side::Left => JOINT_FEMUR_L,
        BodyFrame::Femur => JOINT_FEMUR_R,
    }
}

fn guide(points: &[PathPoint], side: Side, l4l5_y: f32) -> Vec<GuidePoint> {
    points
        .iter()
        .map(|p| GuidePoint {
            position_m: p.position_m,
            joint: joint_of(p, side, l4l5_y),
        })
        .collect()
}

/// The muscle volume each muscle is sized to (cm³) and where the figure comes from; the
/// same numbers are in `assets/anatomy/dimensions.ron` for the tests.
pub fn target_volume_cm3(kind: StructureKind) -> f32 {
    match kind {
        StructureKind::GluteusMaximus => 873.0,
        StructureKind::GluteusMedius => 332.0,
        StructureKind::GluteusMinimus => 107.0,
        StructureKind::Piriformis => 15.2,
        StructureKind::PsoasMajor => 285.0,
        StructureKind::Iliacus => 182.0,
        _ => 0.0,
    }
}

/// The balls of a muscle, before they are pushed clear of bone.
pub fn muscle(a: &Anatomy, kind: StructureKind, side: Side) -> Result<Vec<SweepSample>, DataError> {
    let l4l5 = a.landmark("disc_L4L5_centre", Side::Midline)?.y;
    let path = |name: &str| -> Result<Vec<GuidePoint>, DataError> {
        Ok(guide(&a.muscle_path(name, side)?, side, l4l5))
    };
    let lat = lateral(side);
    let samples = match kind {
        StructureKind::GluteusMaximus => {
            // A broad, fairly even sheet: thick belly, thin margins and aponeurosis.
            let ht = |u: f32, t: f32| {
                let edge = 0.3 + 0.7 * (1.0 - u.powi(4)).max(0.0).sqrt();
                (fusiform(t, 0.004, 0.021, 0.35) * edge).max(0.0025)
            };
            sweep(&SweepSpec {
                guides: vec![path("glmax1")?, path("glmax2")?, path("glmax3")?],
                spread: (0.5, 0.22),
                half_thickness_m: &ht,
                width_hint: Vec3::Y,
                min_step_m: 0.0015,
            })
        }
        StructureKind::GluteusMedius => {
            let ht = |u: f32, t: f32| {
                let edge = 0.4 + 0.6 * (1.0 - u * u).max(0.0).sqrt();
                (fusiform(t, 0.004, 0.016, 0.45) * edge).max(0.0025)
            };
            // The OpenSim lines start mid-wing; the muscle's fan reaches up to the crest
            // between the gluteal lines, so each line is extended to just under the crest.
            let mut guides = Vec::new();
            for (line, crest_index) in [("glmed1", 3), ("glmed2", 5), ("glmed3", 8)] {
                let crest = a.landmark(&format!("iliac_crest_{crest_index:02}"), side)?;
                let mut g = path(line)?;
                g.insert(
                    0,
                    GuidePoint {
                        position_m: crest - Vec3::Y * 0.012 + lat * 0.004,
                        joint: JOINT_PELVIS,
                    },
                );
                guides.push(g);
            }
            sweep(&SweepSpec {
                guides,
                spread: (0.35, 0.02),
                half_thickness_m: &ht,
                width_hint: Vec3::Y,
                min_step_m: 0.0015,
            })
        }
        StructureKind::GluteusMinimus => {
            let ht = |u: f32, t: f32| {
                let edge = 0.4 + 0.6 * (1.0 - u * u).max(0.0).sqrt();
                (fusiform(t, 0.003, 0.019, 0.5) * edge).max(0.002)
            };
            sweep(&SweepSpec {
                guides: vec![path("glmin1")?, path("glmin2")?, path("glmin3")?],
                spread: (0.6, 0.05),
                half_thickness_m: &ht,
                width_hint: Vec3::Y,
                min_step_m: 0.0012,
            })
        }
        StructureKind::Piriformis => {
            let ht = |_u: f32, t: f32| fusiform(t, 0.002, 0.0047, 0.8);
            sweep(&SweepSpec {
                guides: vec![path("piri")?],
                spread: (0.007, 0.001),
                half_thickness_m: &ht,
                width_hint: Vec3::Y,
                min_step_m: 0.001,
            })
        }
        StructureKind::PsoasMajor => {
            let ht = |_u: f32, t: f32| fusiform(t.powf(0.75), 0.004, 0.0185, 0.6);
            sweep(&SweepSpec {
                guides: vec![path("psoas")?],
                spread: (0.0, 0.0),
                half_thickness_m: &ht,
                width_hint: lat,
                min_step_m: 0.0015,
            })
        }
        StructureKind::Iliacus => {
            // One measured line; the fan spreads it along the inner iliac crest.
            let centre = a.muscle_path("iliacus", side)?;
            let crest = |i: usize| a.landmark(&format!("iliac_crest_{i:02}"), side);
            // The middle line starts at the measured origin in the iliac fossa; the outer
            // ones inside the wing, medial of the crest and below it.
            let origins = [
                crest(2)? - lat * 0.014 - Vec3::Y * 0.016,
                centre[0].position_m,
                crest(8)? - lat * 0.014 - Vec3::Y * 0.016,
            ];
            let brim = centre[1].position_m;
            let mut guides = Vec::new();
            for (k, o) in origins.iter().enumerate() {
                let start = *o;
                let mut g = vec![GuidePoint {
                    position_m: start,
                    joint: JOINT_PELVIS,
                }];
                let spread = (k as f32 - 1.0) * 0.012;
                g.push(GuidePoint {
                    position_m: brim + Vec3::Z * spread - lat * 0.004,
                    joint: JOINT_PELVIS,
                });
                g.extend(guide(&centre[2..], side, l4l5));
                guides.push(g);
            }
            let ht = |u: f32, t: f32| {
                let edge = 0.45 + 0.55 * (1.0 - u * u).max(0.0).sqrt();
                (fusiform(t.powf(0.8), 0.003, 0.0125, 0.6) * edge).max(0.002)
            };
            sweep(&SweepSpec {
                guides,
                spread: (0.12, 0.0),
                half_thickness_m: &ht,
                width_hint: Vec3::Z,
                min_step_m: 0.0015,
            })
        }
        _ => Vec::new(),
    };
    Ok(samples)
}

/// The sciatic trunk's guide polyline (plexus to bifurcation).
pub fn nerve_trunk_guide(a: &Anatomy, side: Side) -> Result<Vec<GuidePoint>, DataError> {
    let l4l5 = a.landmark("disc_L4L5_centre", Side::Midline)?.y;
    Ok(guide(&a.nerve_branch("sciatic_trunk", side)?, side, l4l5))
}

/// Where along the nerve trunk it passes under the piriformis (the infrapiriform exit).
pub fn nerve_crossing(a: &Anatomy, side: Side) -> Result<Vec3, DataError> {
    let trunk = a.nerve_branch("sciatic_trunk", side)?;
    trunk
        .iter()
        .find(|p| p.name.contains("infrapiriform"))
        .or_else(|| trunk.get(1))
        .map(|p| p.position_m)
        .ok_or_else(|| DataError::Missing {
            file: "anatomy".into(),
            what: "sciatic trunk infrapiriform point".into(),
        })
}

/// The sciatic nerve: roots L4–S3, lumbosacral trunk, the trunk down the thigh and the
/// two terminal stubs. Samples of the trunk have `u` = 0 and `t` along the trunk; others
/// get `u` = 2 so morphs can tell them apart.
pub fn nerve(a: &Anatomy, side: Side) -> Result<Vec<SweepSample>, DataError> {
    let l4l5 = a.landmark("disc_L4L5_centre", Side::Midline)?.y;
    let branch = |b: &str| -> Result<Vec<GuidePoint>, DataError> {
        Ok(guide(&a.nerve_branch(b, side)?, side, l4l5))
    };
    let lat = lateral(side);
    let mut out = Vec::new();
    for (b, r0, r1) in [
        ("L4_root", 0.0024, 0.0026),
        ("L5_root", 0.0025, 0.003),
        ("lumbosacral_trunk", 0.003, 0.0034),
        ("S1_root", 0.0026, 0.003),
        ("S2_root", 0.0022, 0.0026),
        ("S3_root", 0.0018, 0.0022),
        ("tibial", 0.0028, 0.0024),
        ("common_fibular", 0.0022, 0.0019),
    ] {
        let ht = move |_u: f32, t: f32| r0 + (r1 - r0) * t;
        let mut s = sweep(&SweepSpec {
            guides: vec![branch(b)?],
            spread: (0.0, 0.0),
            half_thickness_m: &ht,
            width_hint: lat,
            min_step_m: 0.0008,
        });
        for x in &mut s {
            x.u = 2.0;
        }
        out.extend(s);
    }
    // The trunk: a flat band in the buttock (≈ 13 × 5 mm) rounding to ≈ 7 mm in the thigh
    // (shared/anatomy README §6; dimensions.md §3).
    let ht = |_u: f32, t: f32| 0.0025 + 0.0011 * t;
    let mut trunk = sweep(&SweepSpec {
        guides: vec![nerve_trunk_guide(a, side)?],
        spread: (0.0045, 0.0),
        half_thickness_m: &ht,
        width_hint: lat,
        min_step_m: 0.0008,
    });
    for s in &mut trunk {
        s.u = 0.0;
    }
    out.extend(trunk);
    Ok(out)
}
