//! Muscles and the sciatic nerve (with its Beaton & Anson variants) as swept shapes along
//! the measured paths.

use bevy::math::Vec3;

use super::bones::lateral;
use super::data::{Anatomy, BodyFrame, PathPoint};
use super::spine::Spine;
use super::sweep::{
    GuidePoint, JOINT_PELVIS, JOINT_VERTEBRAE, SweepSample, SweepSpec, femur_joint, fusiform, sweep,
};
use crate::anatomy::{NerveVariant, PiriformisPassage, Side, StructureKind};
use crate::files::FileError;

fn joint_of(p: &PathPoint, side: Side, spine: &Spine) -> usize {
    match p.frame {
        BodyFrame::Pelvis => JOINT_PELVIS,
        // A point on the lumbar spine moves with the vertebra beside it.
        BodyFrame::Torso => spine.joint_at(p.position_m.y),
        BodyFrame::Femur => femur_joint(side),
    }
}

/// A muscle path from the anatomy data with at least `n` points, or an error that names the
/// file and the path (a short path must not panic the generator).
fn points(a: &Anatomy, name: &str, side: Side, n: usize) -> Result<Vec<PathPoint>, FileError> {
    let path = a.muscle_path(name, side)?;
    if path.len() < n {
        return Err(a.missing(format!(
            "points on muscle path `{name}`: it has {}, the model needs {n} or more",
            path.len()
        )));
    }
    Ok(path)
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

/// What a muscle lies on and how it is laid there.
pub struct Layering {
    /// Soft structures of the same side it lies over (besides bone, which every muscle is
    /// kept clear of): it is kept clear of them too.
    pub over: &'static [StructureKind],
    /// Its origin laid onto a surface: the direction away from that surface, the stretch
    /// of the muscle (t from … to) that lies on it, what the surface belongs to, and how far
    /// at most a ball is moved in towards it (a muscle bridges a deeper hollow).
    pub lay: Option<(Vec3, (f32, f32), &'static [StructureKind], f32)>,
    /// Which way a ball that starts inside bone is moved out (the side of the bone the
    /// muscle belongs on), up to which t; elsewhere such balls stay and the bone is cut out.
    pub out: Option<(Vec3, f32)>,
    /// Keeps the muscle on its own side of the midline.
    pub own_side: bool,
}

/// How each muscle is laid: the gluteal fans on the outer face of the ilium (minimus
/// under medius), gluteus maximus on the back of the sacrum and over medius, the
/// piriformis and the nerve; the iliacus in the iliac fossa; the piriformis on the front of
/// the sacrum; the psoas against the sides of the vertebral bodies.
pub fn layering(kind: StructureKind, side: Side) -> Layering {
    let lat = lateral(side);
    let none = Layering {
        over: &[],
        lay: None,
        out: None,
        own_side: false,
    };
    match kind {
        StructureKind::GluteusMinimus => Layering {
            lay: Some((
                lat,
                (0.0, 1.05),
                &[StructureKind::HipBone, StructureKind::Femur],
                0.025,
            )),
            ..none
        },
        StructureKind::GluteusMedius => Layering {
            over: &[StructureKind::GluteusMinimus],
            lay: Some((
                (lat + Vec3::Y * 0.15).normalize(),
                (0.0, 1.05),
                &[
                    StructureKind::HipBone,
                    StructureKind::GluteusMinimus,
                    StructureKind::Femur,
                ],
                0.025,
            )),
            ..none
        },
        StructureKind::GluteusMaximus => Layering {
            over: &[
                StructureKind::GluteusMedius,
                StructureKind::Piriformis,
                StructureKind::SciaticNerve,
            ],
            // The whole sheet lies on what is under it, from the sacrum over medius, the
            // piriformis and the nerve to the femur, bridging the hollows between them.
            lay: Some((
                (lat * 0.45 - Vec3::Z).normalize(),
                (0.0, 1.05),
                &[
                    StructureKind::Sacrum,
                    StructureKind::Coccyx,
                    StructureKind::HipBone,
                    StructureKind::GluteusMedius,
                    StructureKind::Piriformis,
                    StructureKind::SciaticNerve,
                    StructureKind::Femur,
                ],
                0.012,
            )),
            out: None,
            own_side: true,
        },
        StructureKind::Piriformis => Layering {
            lay: Some((Vec3::Z, (0.0, 0.22), &[StructureKind::Sacrum], 0.015)),
            out: Some((Vec3::Z, 0.3)),
            ..none
        },
        StructureKind::PsoasMajor => Layering {
            // Beside the lumbar spine only: at the hip it runs over bone the usual way.
            out: Some((lat, 0.45)),
            ..none
        },
        _ => none,
    }
}

/// How far above and below the piriformis's line the band's upper and lower guides pass
/// through the greater sciatic notch (it fills the upper part of the greater sciatic
/// foramen; the nerve leaves below it).
pub const PIRIFORMIS_NOTCH_ABOVE_M: f32 = 0.0075;
/// See [`PIRIFORMIS_NOTCH_ABOVE_M`].
pub const PIRIFORMIS_NOTCH_BELOW_M: f32 = 0.0035;
/// Half the piriformis's thickness at mid-belly.
pub const PIRIFORMIS_HALF_THICKNESS_M: f32 = 0.0047;

/// The balls of a muscle, before they are laid and pushed clear of bone.
pub fn muscle(a: &Anatomy, kind: StructureKind, side: Side) -> Result<Vec<SweepSample>, FileError> {
    let spine = Spine::new(a)?;
    // Every line has an origin and an insertion; the code below reads those two by index
    // (and the piriformis's point in the notch, the iliacus's on the brim: see `points`).
    let path = |name: &str| -> Result<Vec<GuidePoint>, FileError> {
        Ok(guide(&points(a, name, side, 2)?, side, &spine))
    };
    let lat = lateral(side);
    let crest = |i: usize| a.landmark(&format!("iliac_crest_{i:02}"), side);
    // A point on the crest at a fractional index (between its landmarks).
    let crest_at = |x: f32| -> Result<Vec3, FileError> {
        let i = x.floor() as usize;
        let f = x - i as f32;
        if f == 0.0 {
            return crest(i);
        }
        Ok(crest(i)?.lerp(crest(i + 1)?, f))
    };
    let pelvis_point = |p: Vec3| GuidePoint {
        position_m: p,
        joint: JOINT_PELVIS,
    };
    let samples = match kind {
        StructureKind::GluteusMaximus => {
            // The origin runs from the posterior crest behind the posterior gluteal line,
            // past the PSIS, down the edge of the sacrum to the coccyx; the OpenSim lines
            // give the middle of it and the insertions (iliotibial tract, gluteal
            // tuberosity).
            let g1 = path("glmax1")?;
            let g2 = path("glmax2")?;
            let g3 = path("glmax3")?;
            // The upper line starts on the crest and runs down through the measured
            // origin of the first line.
            let g1: Vec<GuidePoint> =
                std::iter::once(pelvis_point(crest_at(7.6)? + lat * 0.004 - Vec3::Y * 0.004))
                    .chain(g1)
                    .collect();
            let ht = |u: f32, t: f32| {
                let edge = 0.3 + 0.7 * (1.0 - u.powi(4)).max(0.0).sqrt();
                (fusiform(t, 0.004, 0.021, 0.35) * edge).max(0.0025)
            };
            sweep(&SweepSpec {
                guides: vec![g1, g2, g3],
                spread: (0.12, 0.2),
                half_thickness_m: &ht,
                width_hint: Vec3::Y,
                min_step_m: 0.0015,
            })
        }
        StructureKind::GluteusMedius => {
            let ht = |u: f32, t: f32| {
                let edge = 0.25 + 0.75 * (1.0 - u * u).max(0.0).sqrt();
                (fusiform(t, 0.004, 0.0145, 0.45) * edge).max(0.0025)
            };
            // A fan over the whole outer ilium: from the crest, from just behind the ASIS
            // to the posterior gluteal line, down over the wing (through the OpenSim
            // origins) to the greater trochanter.
            let on_outer_lip = |x: f32| -> Result<GuidePoint, FileError> {
                Ok(pelvis_point(crest_at(x)? + Vec3::Y * 0.003 + lat * 0.005))
            };
            let m1 = path("glmed1")?;
            let m2 = path("glmed2")?;
            let m3 = path("glmed3")?;
            let front = vec![
                on_outer_lip(1.5)?,
                pelvis_point(m1[0].position_m + Vec3::Z * 0.014 - Vec3::Y * 0.004),
                GuidePoint {
                    position_m: m1[1].position_m + Vec3::Z * 0.004,
                    joint: m1[1].joint,
                },
            ];
            let guides = vec![
                front,
                std::iter::once(on_outer_lip(3.0)?).chain(m1).collect(),
                std::iter::once(on_outer_lip(5.0)?).chain(m2).collect(),
                std::iter::once(on_outer_lip(7.0)?).chain(m3).collect(),
            ];
            sweep(&SweepSpec {
                guides,
                spread: (0.1, 0.02),
                half_thickness_m: &ht,
                width_hint: Vec3::Y,
                min_step_m: 0.0015,
            })
        }
        StructureKind::GluteusMinimus => {
            let ht = |u: f32, t: f32| {
                let edge = 0.45 + 0.55 * (1.0 - u * u).max(0.0).sqrt();
                (fusiform(t, 0.003, 0.0125, 0.5) * edge).max(0.002)
            };
            // A broad fan under medius: from the wing between the anterior and inferior
            // gluteal lines (from near the front of the crest back to above the greater
            // sciatic notch), through the OpenSim origins, to the front of the greater
            // trochanter.
            let n1 = path("glmin1")?;
            let n2 = path("glmin2")?;
            let n3 = path("glmin3")?;
            let asis = a.landmark("ASIS", side)?;
            let aiis = a.landmark("AIIS", side)?;
            let notch = a.landmark("greater_sciatic_notch_deepest", side)?;
            let above = |g: &[GuidePoint], rise_m: f32| {
                std::iter::once(pelvis_point(g[0].position_m + Vec3::Y * rise_m))
                    .chain(g.iter().copied())
                    .collect::<Vec<_>>()
            };
            let front = vec![
                pelvis_point(asis.lerp(aiis, 0.5) - Vec3::Z * 0.012 + Vec3::Y * 0.006),
                pelvis_point(n1[0].position_m + Vec3::Z * 0.008),
                n1[n1.len() - 1],
            ];
            let back = vec![
                pelvis_point(notch + Vec3::Y * 0.016 + lat * 0.004 + Vec3::Z * 0.004),
                pelvis_point(n3[0].position_m - Vec3::Z * 0.010 - Vec3::Y * 0.006),
            ]
            .into_iter()
            .chain(n3.iter().skip(1).copied())
            .collect();
            sweep(&SweepSpec {
                guides: vec![
                    front,
                    above(&n1, 0.038),
                    above(&n2, 0.036),
                    above(&n3, 0.026),
                    back,
                ],
                spread: (0.08, 0.04),
                half_thickness_m: &ht,
                width_hint: Vec3::Y,
                min_step_m: 0.0012,
            })
        }
        StructureKind::Piriformis => {
            // A flat pyramid: a broad origin on the front of S2–S4 between the anterior
            // sacral foramina (its upper and lower digitations, and the measured origin
            // between them), narrowing through the greater sciatic notch (filling its upper
            // part) to the top of the greater trochanter.
            let p = guide(&points(a, "piri", side, 3)?, side, &spine);
            let (origin, notch, insertion) = (p[0], p[1], p[2]);
            // The front of the sacrum where the upper and lower digitations arise: level
            // with the S2 and S4 foramina, as far out from the midline as the measured
            // origin, on the sacrum's forward curve (the wrap lays them on it).
            let digitation = |dy: f32, dz: f32| {
                pelvis_point(origin.position_m + Vec3::Y * dy + Vec3::Z * dz - lat * 0.002)
            };
            // The origin's edge a few millimetres towards the midline of the measured point,
            // so that the point lies under the muscle rather than at its rounded end.
            let mut p = p;
            p[0].position_m -= lat * 0.004;
            let top = vec![
                digitation(0.017, 0.005),
                pelvis_point(notch.position_m + Vec3::Y * PIRIFORMIS_NOTCH_ABOVE_M),
                insertion,
            ];
            let bottom = vec![
                digitation(-0.021, -0.010),
                pelvis_point(notch.position_m - Vec3::Y * PIRIFORMIS_NOTCH_BELOW_M),
                insertion,
            ];
            let ht = |_u: f32, t: f32| {
                (fusiform(t, 0.0022, PIRIFORMIS_HALF_THICKNESS_M, 0.8) * (1.0 - 0.25 * t))
                    .max(0.0018)
            };
            // The borders round off through the notch instead of bending at it.
            let rounded = |g: Vec<GuidePoint>| {
                let mut out = vec![g[0]];
                for w in g.windows(2) {
                    for f in [0.25, 0.75] {
                        out.push(GuidePoint {
                            position_m: w[0].position_m.lerp(w[1].position_m, f),
                            joint: if f < 0.5 { w[0].joint } else { w[1].joint },
                        });
                    }
                }
                out.push(g[g.len() - 1]);
                out
            };
            sweep(&SweepSpec {
                guides: vec![rounded(top), p, rounded(bottom)],
                spread: (0.05, 0.0),
                half_thickness_m: &ht,
                width_hint: PIRIFORMIS_WIDTH_HINT,
                min_step_m: 0.001,
            })
        }
        StructureKind::PsoasMajor => {
            // From the sides of T12 to L4 and their discs. The data's line starts at the
            // T12/L1 disc, 15 mm out from the discs' edges: the muscle begins 12 mm higher, at
            // the side of T12's body, and runs 4 mm nearer the bodies (what then meets bone is
            // cut out, so its inner face lies on them).
            let mut g = path("psoas")?;
            for p in g.iter_mut().filter(|p| JOINT_VERTEBRAE.contains(&p.joint)) {
                p.position_m -= lat * 0.004;
            }
            let top = GuidePoint {
                position_m: g[0].position_m + Vec3::Y * 0.012,
                joint: g[0].joint,
            };
            g.insert(0, top);
            // Thicker at its top, where it arises from the bodies, than at its tendon.
            let ht = |_u: f32, t: f32| {
                fusiform(t.powf(0.75), 0.0045, 0.0175, 0.6) + 0.0015 * (1.0 - t).powi(4)
            };
            sweep(&SweepSpec {
                guides: vec![g],
                spread: (0.006, 0.0),
                half_thickness_m: &ht,
                width_hint: lat,
                min_step_m: 0.0015,
            })
        }
        StructureKind::Iliacus => {
            // One measured line; the fan spreads it over the upper two-thirds of the iliac
            // fossa, from the inner lip of the crest (from just behind the ASIS to the back
            // of the fossa), the middle line through the measured origin.
            let centre = points(a, "iliacus", side, 3)?;
            // 8 mm in from the crest's outer edge (its landmarks) and level with its top: what
            // of the end ball lies in the bone is cut away, so the muscle meets the inner lip.
            let inner_lip = |x: f32| -> Result<Vec3, FileError> {
                Ok(crest_at(x)? - lat * 0.008 + Vec3::Y * 0.002)
            };
            let brim = centre[1].position_m;
            // Seven lines from the crest, from just behind the ASIS (landmark 1.5) to the back
            // of the fossa (7), so the fan's top follows the crest's curve instead of its
            // chord, its fibres converging on the brim. Front to back, each passes the brim a
            // little further back (+Z is forward) so the fan does not twist, 2 mm in front of
            // the measured point: the tendon lies on the hip's capsule, which the model has no
            // mesh for. Each bows into the fossa as the middle line does, which passes through
            // the measured origin.
            let starts: Vec<f32> = (0..7).map(|i| 1.5 + 5.5 * i as f32 / 6.0).collect();
            let at_brim = |spread: f32| brim + Vec3::Z * (spread + 0.002) - lat * 0.004;
            let middle = inner_lip(4.0)?;
            let chord = at_brim(0.0) - middle;
            let origin_at = (centre[0].position_m - middle).dot(chord) / chord.length_squared();
            let bow = centre[0].position_m - (middle + chord * origin_at);
            let mut guides = Vec::new();
            for (k, x) in starts.iter().enumerate() {
                let spread = 0.012 - 0.024 * k as f32 / (starts.len() - 1) as f32;
                let lip = inner_lip(*x)?;
                let mut g = vec![pelvis_point(lip)];
                g.push(pelvis_point(lip.lerp(at_brim(spread), origin_at) + bow));
                g.push(pelvis_point(at_brim(spread)));
                g.extend(guide(&centre[2..], side, &spine));
                guides.push(g);
            }
            let ht = |u: f32, t: f32| {
                let edge = 0.45 + 0.55 * (1.0 - u * u).max(0.0).sqrt();
                // A 10.5 mm half-thickness keeps the broad fan at the published volume.
                (fusiform(t.powf(0.8), 0.003, 0.0105, 0.6) * edge).max(0.002)
            };
            sweep(&SweepSpec {
                guides,
                // A little wider than the outer lines, as much as three lines spread 0.12.
                spread: (0.36, 0.0),
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
///
/// `piriformis_above_m` is how far the piriformis reaches above its line of action where a
/// divided nerve's common fibular division passes over or through it (measured on the
/// generated muscle): a division that passes above clears it by a few millimetres.
pub fn nerve(
    a: &Anatomy,
    side: Side,
    variant: NerveVariant,
    piriformis_above_m: f32,
) -> Result<NerveSweep, FileError> {
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
    // The L4 and L5 roots leave through the foramina of the model's spine (the data's
    // foramina were placed on the source's smaller discs), L4 running down beside the L5
    // body, to where they join as the lumbosacral trunk.
    let trunk_origin = branch("lumbosacral_trunk")?[0];
    let l5 = spine
        .vertebra(StructureKind::VertebraL5)
        .ok_or_else(|| a.missing("vertebra L5"))?;
    let at_spine = |p: Vec3| GuidePoint {
        position_m: p,
        joint: spine.joint_at(p.y),
    };
    for (guide, r0, r1) in [
        (
            vec![
                at_spine(spine.foramen(4, side)),
                at_spine(l5.centre + lat * (l5.half_width_m + 0.0055) - l5.axes.z_axis * 0.004),
                trunk_origin,
            ],
            0.0024,
            0.0028,
        ),
        (
            vec![at_spine(spine.foramen(5, side)), trunk_origin],
            0.0025,
            0.003,
        ),
    ] {
        let ht = move |_u: f32, t: f32| r0 + (r1 - r0) * t;
        branches.extend(sweep(&SweepSpec {
            guides: vec![guide],
            spread: (0.0, 0.0),
            half_thickness_m: &ht,
            width_hint: lat,
            min_step_m: 0.0008,
        }));
    }
    for (b, r0, r1) in [
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
        // The trunk: a flat band in the buttock (≈ 18 × 5 mm where it leaves the pelvis;
        // about 2 cm wide there, 17 ± 3.7 mm at the infrapiriform exit in cadavers,
        // dimensions.md §3, §7) rounding to ≈ 7 mm in the thigh.
        return Ok(NerveSweep {
            branches,
            divisions: vec![NerveDivision {
                samples: division_samples(&trunk, 0.0065, (0.0025, 0.0036), lat),
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
    // the muscle's half-thickness, the division's radius and a gap.
    let clear_m = PIRIFORMIS_HALF_THICKNESS_M + 0.0026 + 0.0030;
    let crossing = match fibular_passage {
        PiriformisPassage::Through => frame.centre,
        // Above the band: its top plus the division's radius and a gap.
        _ => frame.centre + frame.width_dir * (piriformis_above_m + 0.0026 + 0.0025),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A muscle path too short for the shape built from it is an error naming the file and
    /// the path, not a panic.
    #[test]
    fn a_short_muscle_path_is_an_error_not_a_panic() {
        let text = std::fs::read_to_string(Anatomy::DEFAULT_PATH).unwrap();
        let short = text.replace(
            "            (name: \"piri_r-P2\", frame: \"pelvis\", measured: true, p: (-0.102, -0.0307, 0.0609)),\n",
            "",
        );
        assert_ne!(
            short, text,
            "the piriformis's notch point was not found to remove"
        );
        let a = Anatomy::from_ron_str(&short, "short.ron").unwrap();
        let Err(e) = muscle(&a, StructureKind::Piriformis, Side::Right) else {
            panic!("a two-point piriformis was accepted");
        };
        let message = e.to_string();
        assert!(message.starts_with("short.ron"), "{message}");
        assert!(
            message.contains("`piri`") && message.contains("it has 2"),
            "{message}"
        );
    }
}
