//! Muscles and the sciatic nerve (with its Beaton & Anson variants) as swept shapes along
//! the measured paths.

use bevy::math::Vec3;

use super::bones::lateral;
use super::data::{Anatomy, BodyFrame, PathPoint};
use super::spine::Spine;
use super::sweep::{
    GuidePoint, JOINT_FEMUR_L, JOINT_FEMUR_R, JOINT_PELVIS, SweepSample, SweepSpec, fusiform, sweep,
};
use crate::anatomy::{NerveVariant, PiriformisPassage, Side, StructureKind};
use crate::files::FileError;

fn joint_of(p: &PathPoint, side: Side, spine: &Spine) -> usize {
    match p.frame {
        BodyFrame::Pelvis => JOINT_PELVIS,
        // A point on the lumbar spine moves with the vertebra beside it.
        BodyFrame::Torso => spine.joint_at(p.position_m.y),
        BodyFrame::Femur if side == Side::Left => JOINT_FEMUR_L,
        BodyFrame::Femur => JOINT_FEMUR_R,
    }
}

fn guide(points: &[PathPoint], side: Side, spine: &Spine) -> Vec<GuidePoint> {
    points
        .iter()
        .map(|p| GuidePoint {
            position_m: p.position_m,
            joint: joint_of(p, side, spine),
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
pub fn muscle(a: &Anatomy, kind: StructureKind, side: Side) -> Result<Vec<SweepSample>, FileError> {
    let spine = Spine::new(a)?;
    let path = |name: &str| -> Result<Vec<GuidePoint>, FileError> {
        Ok(guide(&a.muscle_path(name, side)?, side, &spine))
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
                width_hint: PIRIFORMIS_WIDTH_HINT,
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
                // The front line (from the crest near the ASIS) passes the brim in front
                // (+Z), the back line behind, so the fan does not twist.
                let spread = (1.0 - k as f32) * 0.012;
                g.push(GuidePoint {
                    position_m: brim + Vec3::Z * spread - lat * 0.004,
                    joint: JOINT_PELVIS,
                });
                g.extend(guide(&centre[2..], side, &spine));
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
pub fn nerve_trunk_guide(a: &Anatomy, side: Side) -> Result<Vec<GuidePoint>, FileError> {
    let spine = Spine::new(a)?;
    Ok(guide(&a.nerve_branch("sciatic_trunk", side)?, side, &spine))
}

/// Where along the nerve trunk it passes under the piriformis (the infrapiriform exit).
pub fn nerve_crossing(a: &Anatomy, side: Side) -> Result<Vec3, FileError> {
    let trunk = a.nerve_branch("sciatic_trunk", side)?;
    trunk
        .iter()
        .find(|p| p.name.contains("infrapiriform"))
        .or_else(|| trunk.get(1))
        .map(|p| p.position_m)
        .ok_or_else(|| a.missing("sciatic trunk infrapiriform point"))
}

/// The piriformis band's width direction for a tangent: the same hint its sweep uses.
const PIRIFORMIS_WIDTH_HINT: Vec3 = Vec3::Y;

/// Where a divided nerve's common fibular division meets the piriformis, as a fraction of
/// the way from the greater sciatic notch (`piri` P2) to the insertion: through the belly
/// just outside the notch, where the muscle is free of bone; over its upper border in the
/// notch itself (the suprapiriform foramen).
fn variant_crossing_fraction(passage: PiriformisPassage) -> f32 {
    match passage {
        PiriformisPassage::Through => 0.15,
        PiriformisPassage::Above | PiriformisPassage::Below => 0.0,
    }
}

/// A point on the piriformis's line of action with the muscle's frame there.
#[derive(Clone, Copy, Debug)]
pub struct PiriformisFrame {
    /// On the line of action.
    pub centre: Vec3,
    /// Along the fibres, towards the insertion.
    pub tangent: Vec3,
    /// Across the band (mostly up).
    pub width_dir: Vec3,
    /// Through the band, towards its posterior (gluteal) surface.
    pub thick_dir: Vec3,
}

/// The piriformis's frame where the common fibular division of a divided nerve passes it.
pub fn piriformis_frame_at_crossing(
    a: &Anatomy,
    side: Side,
    passage: PiriformisPassage,
) -> Result<PiriformisFrame, FileError> {
    let piri = a.muscle_path("piri", side)?;
    let (notch, insertion) = match piri.as_slice() {
        [.., n, i] => (n.position_m, i.position_m),
        _ => {
            return Err(a.missing("piri path with a point in the notch"));
        }
    };
    let tangent = (insertion - notch).normalize_or_zero();
    let width_dir =
        (PIRIFORMIS_WIDTH_HINT - tangent * PIRIFORMIS_WIDTH_HINT.dot(tangent)).normalize_or_zero();
    let mut thick_dir = tangent.cross(width_dir);
    // Posterior is −Z in the model frame.
    if thick_dir.z > 0.0 {
        thick_dir = -thick_dir;
    }
    Ok(PiriformisFrame {
        centre: notch.lerp(insertion, variant_crossing_fraction(passage)),
        tangent,
        width_dir,
        thick_dir,
    })
}

/// One division of a sciatic nerve: the trunk of the usual nerve, or a common fibular or
/// tibial division of a divided one.
pub struct NerveDivision {
    /// Its balls (before they are pushed clear of bone).
    pub samples: Vec<SweepSample>,
    /// Its guide, from the sacral plexus down.
    pub guide: Vec<GuidePoint>,
    /// Where it passes the piriformis.
    pub crossing: Vec3,
    /// How it passes the piriformis.
    pub passage: PiriformisPassage,
}

/// A whole sciatic nerve: roots and terminal branches, and the division(s) that pass the
/// piriformis (which the `compressed` morph acts on).
pub struct NerveSweep {
    /// Roots and terminal branches.
    pub branches: Vec<SweepSample>,
    /// The trunk, or the two divisions.
    pub divisions: Vec<NerveDivision>,
}

fn offset_guide(points: &[GuidePoint], by: Vec3) -> Vec<GuidePoint> {
    points
        .iter()
        .map(|g| GuidePoint {
            position_m: g.position_m + by,
            joint: g.joint,
        })
        .collect()
}

/// A division as a band `half_width_m` wide beyond its balls at the plexus, round at its
/// end, its radius going from `radii_m.0` to `radii_m.1`.
fn division_samples(
    guide: &[GuidePoint],
    half_width_m: f32,
    radii_m: (f32, f32),
    lat: Vec3,
) -> Vec<SweepSample> {
    let ht = move |_u: f32, t: f32| radii_m.0 + (radii_m.1 - radii_m.0) * t;
    sweep(&SweepSpec {
        guides: vec![guide.to_vec()],
        spread: (half_width_m, 0.0),
        half_thickness_m: &ht,
        width_hint: lat,
        min_step_m: 0.0008,
    })
}

/// A sciatic nerve of the given type: roots L4–S3 and the lumbosacral trunk into the
/// plexus; then either the usual trunk below the piriformis down the thigh with its two
/// terminal stubs (type A), or two divisions (types B, C) that run side by side down the
/// thigh, the tibial one on the usual course below the muscle, the common fibular one through
/// or above it, each going on as its terminal branch.
pub fn nerve(a: &Anatomy, side: Side, variant: NerveVariant) -> Result<NerveSweep, FileError> {
    let spine = Spine::new(a)?;
    let branch = |b: &str| -> Result<Vec<GuidePoint>, FileError> {
        Ok(guide(&a.nerve_branch(b, side)?, side, &spine))
    };
    let lat = lateral(side);
    let tube = |b: &str, r0: f32, r1: f32| -> Result<Vec<SweepSample>, FileError> {
        let ht = move |_u: f32, t: f32| r0 + (r1 - r0) * t;
        Ok(sweep(&SweepSpec {
            guides: vec![branch(b)?],
            spread: (0.0, 0.0),
            half_thickness_m: &ht,
            width_hint: lat,
            min_step_m: 0.0008,
        }))
    };
    let mut branches = Vec::new();
    for (b, r0, r1) in [
        ("L4_root", 0.0024, 0.0026),
        ("L5_root", 0.0025, 0.003),
        ("lumbosacral_trunk", 0.003, 0.0034),
        ("S1_root", 0.0026, 0.003),
        ("S2_root", 0.0022, 0.0026),
        ("S3_root", 0.0018, 0.0022),
    ] {
        branches.extend(tube(b, r0, r1)?);
    }
    let trunk = nerve_trunk_guide(a, side)?;
    let exit = nerve_crossing(a, side)?;
    let (fibular_passage, _) = variant.passages();
    if !variant.is_divided() {
        branches.extend(tube("tibial", 0.0028, 0.0024)?);
        branches.extend(tube("common_fibular", 0.0022, 0.0019)?);
        // The trunk: a flat band in the buttock (≈ 13 × 5 mm) rounding to ≈ 7 mm in the
        // thigh (shared/anatomy README §6; dimensions.md §3).
        return Ok(NerveSweep {
            branches,
            divisions: vec![NerveDivision {
                samples: division_samples(&trunk, 0.0045, (0.0025, 0.0036), lat),
                guide: trunk,
                crossing: exit,
                passage: PiriformisPassage::Below,
            }],
        });
    }
    // Divided nerve: the tibial division (about 3/5 of the trunk's cross-section) on the
    // usual course; the common fibular division (about 2/5) 9 mm lateral to it from the hip
    // joint down, each going on into its terminal branch.
    let tibial_guide: Vec<GuidePoint> = trunk
        .iter()
        .copied()
        .chain(branch("tibial")?.into_iter().skip(1))
        .collect();
    let plexus = trunk[0];
    let beside = offset_guide(&trunk[2..], lat * 0.009);
    let fibular_end = branch("common_fibular")?;
    let frame = piriformis_frame_at_crossing(a, side, fibular_passage)?;
    // How far the fibular division's centre passes from the piriformis's line of action:
    // the muscle's half-thickness (4.7 mm), the division's radius and a gap.
    let clear_m = 0.0047 + 0.0026 + 0.0030;
    let crossing = match fibular_passage {
        PiriformisPassage::Through => frame.centre,
        // Above the band: its half-width in the notch (≈ 4.7 + 4.6 mm) plus the same
        // clearance.
        _ => frame.centre + frame.width_dir * (0.0093 + 0.0026 + 0.0030),
    };
    // In front of the muscle, across it (or over it) and out behind it. Coming from the
    // plexus, a division that goes through the muscle first swings forward, so that it
    // enters the muscle's pelvic face instead of running inside along it.
    let approach = match fibular_passage {
        PiriformisPassage::Through => Some(crossing - frame.thick_dir * (clear_m + 0.006)),
        _ => None,
    };
    let waypoints: Vec<Vec3> = approach
        .into_iter()
        .chain([
            crossing - frame.thick_dir * clear_m,
            crossing,
            crossing + frame.thick_dir * clear_m,
        ])
        .collect();
    let fibular_guide: Vec<GuidePoint> = std::iter::once(plexus)
        .chain(waypoints.iter().map(|p| GuidePoint {
            position_m: *p,
            joint: plexus.joint,
        }))
        .chain(beside)
        .chain(fibular_end.into_iter().skip(1))
        .collect();
    Ok(NerveSweep {
        branches,
        divisions: vec![
            NerveDivision {
                samples: division_samples(&tibial_guide, 0.003, (0.0022, 0.0026), lat),
                guide: tibial_guide,
                crossing: exit,
                passage: PiriformisPassage::Below,
            },
            NerveDivision {
                samples: division_samples(&fibular_guide, 0.0, (0.0026, 0.0021), lat),
                guide: fibular_guide,
                crossing,
                passage: fibular_passage,
            },
        ],
    })
}
