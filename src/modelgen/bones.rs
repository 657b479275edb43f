//! Bone shapes from landmarks: each landmark is a point on the bone surface, so primitives
//! are placed one radius inside it.

use bevy::math::{Mat3, Vec3};

use super::data::Anatomy;
use super::field::{Part, Primitive};
use crate::anatomy::{Side, StructureKind};
use crate::files::FileError;

/// Femoral head radius per side (sphere fits in shared/anatomy, metres).
pub fn femoral_head_radius_m(side: Side) -> f32 {
    if side == Side::Left { 0.0232 } else { 0.0246 }
}

/// Acetabular cup radius: the head plus a cartilage gap.
const CUP_RADIUS_M: f32 = 0.0265;

/// Unit vector pointing to the subject's lateral side.
pub fn lateral(side: Side) -> Vec3 {
    Vec3::X * side.gltf_x_sign()
}

const UP: Vec3 = Vec3::Y;
const ANTERIOR: Vec3 = Vec3::Z;

fn orthonormal(axis_y: Vec3, hint_x: Vec3) -> Mat3 {
    let y = axis_y.normalize_or_zero();
    let x = (hint_x - y * hint_x.dot(y)).normalize_or_zero();
    let z = x.cross(y);
    Mat3::from_cols(x, y, z)
}

/// Points at equal arc-length steps along a polyline between arc lengths `from` and
/// `to_from_end` before its end.
fn resample_between(points: &[Vec3], n: usize, from_m: f32, to_from_end_m: f32) -> Vec<Vec3> {
    let mut cum = vec![0.0f32];
    for w in points.windows(2) {
        cum.push(cum[cum.len() - 1] + (w[1] - w[0]).length());
    }
    let total = cum[cum.len() - 1];
    let a = from_m.min(total);
    let b = (total - to_from_end_m).max(a);
    (0..n)
        .map(|i| {
            let s = a + (b - a) * i as f32 / (n - 1) as f32;
            let seg = cum
                .windows(2)
                .position(|c| s <= c[1])
                .unwrap_or(points.len() - 2);
            let f = ((s - cum[seg]) / (cum[seg + 1] - cum[seg]).max(1e-9)).clamp(0.0, 1.0);
            points[seg].lerp(points[seg + 1], f)
        })
        .collect()
}

/// Balls filling the patch between two curves (rows), with a half thickness per (u, v)
/// and an offset per (u, v): a curved plate.
pub(super) fn plate(
    top: &[Vec3],
    bottom: &[Vec3],
    step_m: f32,
    half_thickness_m: &dyn Fn(f32, f32) -> f32,
    offset: &dyn Fn(f32, f32) -> Vec3,
) -> Vec<Primitive> {
    let len = |c: &[Vec3]| c.windows(2).map(|w| (w[1] - w[0]).length()).sum::<f32>();
    let nu = ((len(top).max(len(bottom)) / step_m).ceil() as usize).max(2);
    let top = resample_between(top, nu + 1, 0.0, 0.0);
    let bottom = resample_between(bottom, nu + 1, 0.0, 0.0);
    let mut out = Vec::new();
    for i in 0..=nu {
        let u = i as f32 / nu as f32;
        let span = (bottom[i] - top[i]).length();
        let nv = ((span / step_m).ceil() as usize).max(1);
        for j in 0..=nv {
            let v = j as f32 / nv as f32;
            out.push(Primitive::Sphere {
                centre: top[i].lerp(bottom[i], v) + offset(u, v),
                radius_m: half_thickness_m(u, v),
            });
        }
    }
    out
}

/// Like [`plate`], but the sheet between the two curves is relaxed into a smooth membrane
/// (as a soap film spans its frame) before the balls are placed: a ruled sheet between a
/// winding edge (the iliac crest) and a straighter one folds where the winding edge turns;
/// the membrane keeps both edges and the straight sides and bends evenly in between.
///
/// `targets` are points measured on the real bone's surface, each with the direction its
/// face looks (out of the bone): the sheet is then bent, smoothly over a few centimetres
/// (Gaussian bumps fitted exactly at the points), so that its face passes through each.
fn membrane_plate(
    top: &[Vec3],
    bottom: &[Vec3],
    step_m: f32,
    half_thickness_m: &dyn Fn(f32, f32) -> f32,
    offset: &dyn Fn(f32, f32) -> Vec3,
    targets: &[(Vec3, Vec3)],
) -> Vec<Primitive> {
    const NU: usize = 48;
    const NV: usize = 20;
    let top = resample_between(top, NU + 1, 0.0, 0.0);
    let bottom = resample_between(bottom, NU + 1, 0.0, 0.0);
    let mut grid: Vec<Vec<Vec3>> = (0..=NV)
        .map(|j| {
            let v = j as f32 / NV as f32;
            (0..=NU).map(|i| top[i].lerp(bottom[i], v)).collect()
        })
        .collect();
    // Jacobi relaxation of the inside points (the four edges stay), weighting the
    // neighbours across and along so that the rows' unequal spacing does not pull them.
    let du = 1.0 / NU as f32;
    let dv = 1.0 / NV as f32;
    let (wu, wv) = (1.0 / (du * du), 1.0 / (dv * dv));
    for _ in 0..400 {
        let prev = grid.clone();
        for j in 1..NV {
            for i in 1..NU {
                grid[j][i] = ((prev[j][i - 1] + prev[j][i + 1]) * wu
                    + (prev[j - 1][i] + prev[j + 1][i]) * wv)
                    / (2.0 * (wu + wv));
            }
        }
    }
    let relaxed = |u: f32, v: f32| {
        let x = (u * NU as f32).clamp(0.0, NU as f32 - 1e-3);
        let y = (v * NV as f32).clamp(0.0, NV as f32 - 1e-3);
        let (i, j) = (x.floor() as usize, y.floor() as usize);
        let (fx, fy) = (x - i as f32, y - j as f32);
        let row = |j: usize| grid[j][i].lerp(grid[j][i + 1], fx);
        row(j).lerp(row(j + 1), fy) + offset(u, v)
    };
    // Bend the sheet through the targets: Gaussian bumps along each target's face
    // direction, their heights solved so the bent face passes through every target. The
    // bumps move the sheet sideways where it lies oblique, so the fit is repeated a few
    // times on the bent sheet.
    const REACH_M: f32 = 0.028;
    let bump = |a: Vec3, b: Vec3| (-((a - b).length() / REACH_M).powi(2)).exp();
    // The top edge (the crest, whose landmarks are placed already) does not move.
    let free = |v: f32| {
        let x = (v / 0.3).clamp(0.0, 1.0);
        x * x * (3.0 - 2.0 * x)
    };
    let mut bumps: Vec<(Vec3, Vec3, f32)> = Vec::new();
    let bent = |bumps: &[(Vec3, Vec3, f32)], u: f32, v: f32| {
        let p = relaxed(u, v);
        let w = free(v);
        bumps.iter().fold(p, |q, (centre, out, a)| {
            q + *out * (*a * w * bump(p, *centre))
        })
    };
    let nodes: Vec<(f32, f32)> = (0..=NV)
        .flat_map(|j| (0..=NU).map(move |i| (i as f32 / NU as f32, j as f32 / NV as f32)))
        .collect();
    for _ in 0..4 {
        // Where on the sheet each target lies (the nearest point, found on the grid and
        // then within a grid step of it) and how far the face there misses it.
        let fits: Vec<(Vec3, Vec3, f32, f32)> = targets
            .iter()
            .map(|(p, out)| {
                let distance = |uv: &(f32, f32)| (bent(&bumps, uv.0, uv.1) - *p).length();
                let nearest = |list: &mut dyn Iterator<Item = (f32, f32)>| {
                    list.min_by(|a, b| distance(a).total_cmp(&distance(b)))
                        .unwrap_or((0.5, 0.5))
                };
                let (u0, v0) = nearest(&mut nodes.iter().copied());
                let (u, v) = nearest(&mut (-8..=8).flat_map(|a| {
                    (-8..=8).map(move |b| {
                        (
                            (u0 + a as f32 * du / 8.0).clamp(0.0, 1.0),
                            (v0 + b as f32 * dv / 8.0).clamp(0.0, 1.0),
                        )
                    })
                }));
                let miss = (*p - *out * half_thickness_m(u, v) - bent(&bumps, u, v)).dot(*out);
                (relaxed(u, v), *out, miss, free(v))
            })
            .collect();
        // Heights so that the new bumps together make up every miss (a small linear system).
        let n = fits.len();
        let mut m: Vec<Vec<f32>> = (0..n)
            .map(|k| {
                (0..n)
                    .map(|j| fits[k].3 * bump(fits[k].0, fits[j].0) * fits[j].1.dot(fits[k].1))
                    .chain(std::iter::once(fits[k].2))
                    .collect()
            })
            .collect();
        for c in 0..n {
            let pivot = (c..n)
                .max_by(|a, b| m[*a][c].abs().total_cmp(&m[*b][c].abs()))
                .unwrap_or(c);
            m.swap(c, pivot);
            let d = m[c][c];
            if d.abs() < 1e-6 {
                continue;
            }
            for r in 0..n {
                if r != c {
                    let f = m[r][c] / d;
                    let row = m[c].clone();
                    for (x, y) in m[r].iter_mut().zip(row) {
                        *x -= f * y;
                    }
                }
            }
        }
        for k in 0..n {
            if m[k][k].abs() >= 1e-6 {
                bumps.push((fits[k].0, fits[k].1, m[k][n] / m[k][k]));
            }
        }
    }
    let at = |u: f32, v: f32| bent(&bumps, u, v);
    let span_u = (0..NU)
        .map(|i| (grid[NV / 2][i + 1] - grid[NV / 2][i]).length())
        .sum::<f32>()
        .max(top.windows(2).map(|w| (w[1] - w[0]).length()).sum());
    let nu = ((span_u / step_m).ceil() as usize).max(2);
    let mut out = Vec::new();
    for a in 0..=nu {
        let u = a as f32 / nu as f32;
        let span_v = (at(u, 0.0) - at(u, 1.0)).length() * 1.15;
        let nv = ((span_v / step_m).ceil() as usize).max(1);
        for b in 0..=nv {
            let v = b as f32 / nv as f32;
            out.push(Primitive::Sphere {
                centre: at(u, v),
                radius_m: half_thickness_m(u, v),
            });
        }
    }
    out
}

/// Chaikin corner cutting, `rounds` times; the end points stay where they are.
fn chaikin(points: &[Vec3], rounds: usize) -> Vec<Vec3> {
    let mut pts = points.to_vec();
    for _ in 0..rounds {
        if pts.len() < 3 {
            break;
        }
        let mut next = vec![pts[0]];
        for w in pts.windows(2) {
            next.push(w[0].lerp(w[1], 0.25));
            next.push(w[0].lerp(w[1], 0.75));
        }
        next.push(pts[pts.len() - 1]);
        // Drop the cut points next to the fixed ends: they would double back.
        next.remove(1);
        next.remove(next.len() - 2);
        pts = next;
    }
    pts
}

fn chain(points: &[Vec3], radii_m: &[f32]) -> Vec<Primitive> {
    points
        .windows(2)
        .zip(radii_m.windows(2))
        .map(|(p, r)| Primitive::Capsule {
            a: p[0],
            b: p[1],
            radius_a_m: r[0],
            radius_b_m: r[1],
        })
        .collect()
}

/// The muscle paths whose ends attach to bone (`OpenSim` names without side).
pub const MUSCLE_PATHS: [&str; 12] = [
    "glmax1", "glmax2", "glmax3", "glmed1", "glmed2", "glmed3", "glmin1", "glmin2", "glmin3",
    "piri", "psoas", "iliacus",
];

/// Small pits where tendons attach: a measured attachment lies on the real bone's surface,
/// so where the generated bone is fuller than the real one the pit keeps the tendon end on
/// the surface instead of buried in it.
pub fn attachment_pits(
    a: &Anatomy,
    bone: StructureKind,
    side: Side,
    depth_m: &dyn Fn(Vec3) -> f32,
) -> Result<Part, FileError> {
    use super::data::BodyFrame;
    let sides: &[Side] = if side == Side::Midline {
        &[Side::Left, Side::Right]
    } else {
        std::slice::from_ref(&side)
    };
    let mut pits = Vec::new();
    for s in sides {
        for name in MUSCLE_PATHS {
            let path = a.muscle_path(name, *s)?;
            let ends = [
                (path.first(), path.get(1)),
                (
                    path.last(),
                    path.len().checked_sub(2).and_then(|i| path.get(i)),
                ),
            ];
            for (end, next) in ends {
                let (Some(end), Some(next)) = (end, next) else {
                    continue;
                };
                let on_this_bone = match end.frame {
                    BodyFrame::Femur => bone == StructureKind::Femur,
                    BodyFrame::Pelvis => matches!(
                        bone,
                        StructureKind::HipBone | StructureKind::Sacrum | StructureKind::Coccyx
                    ),
                    BodyFrame::Torso => false,
                };
                // Only where the attachment is buried more than a millimetre and a half.
                if on_this_bone && end.measured && depth_m(end.position_m) > 0.0015 {
                    // A short groove from the attachment towards where the tendon comes
                    // from, so a buried attachment opens to the outside.
                    let dir = (next.position_m - end.position_m).normalize_or_zero();
                    pits.push(Primitive::Capsule {
                        a: end.position_m,
                        b: end.position_m + dir * 0.012,
                        radius_a_m: 0.0025,
                        radius_b_m: 0.003,
                    });
                }
            }
        }
    }
    Ok(Part::subtract(pits, 0.001))
}

/// The acetabular opening direction: lateral, down and forward (inclination ≈ 45°,
/// anteversion ≈ 20°; shared/anatomy/dimensions.md §1a).
pub fn acetabular_axis(side: Side) -> Vec3 {
    (lateral(side) * 0.70 - UP * 0.62 + ANTERIOR * 0.30).normalize()
}

/// Samples of the SI joint patch (outline fan), in glTF frame.
pub fn si_patch(anatomy: &Anatomy, side: Side, step_m: f32) -> Result<Vec<Vec3>, FileError> {
    let centre = anatomy.landmark("SI_joint_centre", side)?;
    let mut outline = Vec::new();
    for i in 0..12 {
        match anatomy.landmark(&format!("SI_joint_outline_{i:02}"), side) {
            Ok(p) => outline.push(p),
            Err(_) if i >= 5 => break,
            Err(e) => return Err(e),
        }
    }
    // Project onto the joint plane so the plate is flat and even.
    let n = si_normal(side);
    let flat = |p: Vec3| p - n * (p - centre).dot(n);
    let mut out = Vec::new();
    for k in 0..outline.len() {
        let a = flat(outline[k]);
        let b = flat(outline[(k + 1) % outline.len()]);
        let rings = (((a - centre).length().max((b - centre).length())) / step_m).ceil() as usize;
        for r in 0..=rings {
            let f = r as f32 / rings.max(1) as f32;
            let pa = centre.lerp(a, f);
            let pb = centre.lerp(b, f);
            let n_ab = (((pb - pa).length() / step_m).ceil() as usize).max(1);
            for s in 0..n_ab {
                out.push(pa.lerp(pb, s as f32 / n_ab as f32));
            }
        }
    }
    Ok(out)
}

/// Lateral-pointing normal of the SI joint plane (shared/anatomy §4).
pub fn si_normal(side: Side) -> Vec3 {
    // OpenSim (−0.28, −0.13, 0.95) for the right side → glTF (−0.95, −0.13, −0.28).
    Vec3::new(0.95 * side.gltf_x_sign(), -0.13, -0.28).normalize()
}

/// Half-width of the gap between the SI joint surfaces (CT joint space ≈ 2 mm).
pub const SI_HALF_GAP_M: f32 = 0.0012;

/// Half axes of the obturator foramen in its plane: across (towards the hip joint) and
/// along its long axis (ischium to pubis). The foramen is a large oval, about 4.5 by 2.3 cm
/// (dimensions.md §1b has no figure; male foramina are oval and large, earthslab), its edge
/// towards the hip kept a few millimetres below the acetabulum so that bone closes the
/// acetabular notch off from it.
pub const OBTURATOR_HALF_AXES_M: (f32, f32) = (0.0115, 0.0225);

/// The plane of the obturator foramen and the bone ring around it.
pub struct ObturatorPlane {
    /// The foramen's centre (landmark).
    pub centre: Vec3,
    /// Unit normal, facing out (lateral, forward, down).
    pub normal: Vec3,
    /// In the plane, towards the hip joint centre.
    pub e1: Vec3,
    /// In the plane, along the foramen's long axis towards the pubis (forward).
    pub e2: Vec3,
}

impl ObturatorPlane {
    /// The plane through the foramen's centre, the ischial tuberosity and the pubic body.
    pub fn new(centre: Vec3, tuberosity: Vec3, pubic_body: Vec3, hjc: Vec3, lat: Vec3) -> Self {
        let n = (tuberosity - centre)
            .cross(pubic_body - centre)
            .normalize_or_zero();
        let normal = if n.dot(lat) < 0.0 { -n } else { n };
        let to_hip = hjc - centre;
        let e1 = (to_hip - normal * to_hip.dot(normal)).normalize_or_zero();
        let e2 = normal.cross(e1);
        let e2 = if e2.z < 0.0 { -e2 } else { e2 };
        ObturatorPlane {
            centre,
            normal,
            e1,
            e2,
        }
    }

    /// The point at in-plane coordinates (metres along `e1`, `e2`).
    pub fn at(&self, r1: f32, r2: f32) -> Vec3 {
        self.centre + self.e1 * r1 + self.e2 * r2
    }
}

/// Hip bone (ilium, ischium, pubis).
pub fn hip_bone(a: &Anatomy, side: Side) -> Result<Vec<Part>, FileError> {
    let lat = lateral(side);
    let l = |n: &str| a.landmark(n, side);
    let hjc = l("hip_joint_centre")?;
    let crest: Vec<Vec3> = (0..12)
        .map(|i| l(&format!("iliac_crest_{i:02}")))
        .collect::<Result<_, _>>()?;
    let aiis = l("AIIS")?;
    let psis = l("PSIS")?;
    let notch = l("greater_sciatic_notch_deepest")?;
    let spine = l("ischial_spine")?;
    let it_low = l("ischial_tuberosity_lowest")?;
    let tubercle = l("pubic_tubercle")?;
    let sym = a.landmark("pubic_symphysis_centre", Side::Midline)?;
    let obturator = l("obturator_foramen_centre")?;
    let si_centre = l("SI_joint_centre")?;

    let crest_r = 0.0055;
    let piis = psis - UP * 0.028 + ANTERIOR * 0.011;
    let supra_acetabular = hjc + UP * 0.034 + lat * 0.004;
    // Wing: the crest down to the body of the ilium. Crest points are on the bone's edge,
    // so each is moved into the wing (perpendicular to the crest, towards the body) by the
    // crest radius: the rim then passes through the landmarks.
    // Corner-cut both edges so the wing between them is a smooth curved sheet, not facets
    // meeting at creases.
    let crest_dense = resample_between(&chaikin(&crest, 1), 60, 0.0, 0.0);
    let bottom = resample_between(
        &chaikin(
            &[
                aiis - ANTERIOR * 0.005,
                supra_acetabular,
                notch + UP * 0.004,
                piis,
            ],
            3,
        ),
        60,
        0.0,
        0.0,
    );
    let top: Vec<Vec3> = (0..crest_dense.len())
        .map(|i| {
            let prev = crest_dense[i.saturating_sub(1)];
            let next = crest_dense[(i + 1).min(crest_dense.len() - 1)];
            let tangent = (next - prev).normalize_or_zero();
            let down = bottom[i] - crest_dense[i];
            let inward = (down - tangent * down.dot(tangent)).normalize_or_zero();
            // Towards the PSIS the crest turns down; there the rim is pushed straight
            // forward so the PSIS stays the most posterior point, as on the real bone.
            let u = i as f32 / (crest_dense.len() - 1) as f32;
            let f = ((u - 0.7) / 0.2).clamp(0.0, 1.0);
            let inward = inward.lerp(ANTERIOR, f).normalize_or_zero();
            crest_dense[i] + inward * crest_r
        })
        .collect();
    let wing_ht = |u: f32, v: f32| {
        let crest = (1.0 - v / 0.15).clamp(0.0, 1.0);
        let body = ((v - 0.7) / 0.3).clamp(0.0, 1.0);
        let tuber = (-((u - 0.12) / 0.08).powi(2)).exp();
        let posterior = ((u - 0.8) / 0.2).clamp(0.0, 1.0);
        let base = 0.0023
            + 0.0055 * body * (1.0 - 0.6 * posterior)
            + 0.004 * posterior * (2.0 * v.min(1.0 - v));
        base.max(crest_r * crest + 0.003 * tuber * crest)
    };
    let bulge = move |u: f32, v: f32| {
        lat * (0.010 * (std::f32::consts::PI * u).sin() * (std::f32::consts::PI * v).sin())
    };
    // The wing's faces pass through the muscle origins measured on them: the gluteal
    // muscles' on the outer face, the iliacus's on the inner (the iliac fossa).
    let mut targets = Vec::new();
    for (line, face) in [
        ("glmed1", lat),
        ("glmed2", lat),
        ("glmed3", lat),
        ("glmin1", lat),
        ("glmin2", lat),
        ("glmin3", lat),
        ("iliacus", -lat),
    ] {
        if let Some(origin) = a.muscle_path(line, side)?.first() {
            targets.push((origin.position_m, face));
        }
    }
    let wing = membrane_plate(&top, &bottom, 0.0012, &wing_ht, &bulge, &targets);

    // Below the notch: the plate down to the ischial spine and the back of the acetabulum.
    let post_acetabular = hjc - ANTERIOR * 0.021 - UP * 0.018 - lat * 0.006;
    let column = plate(
        &[notch + UP * 0.004, spine - lat * 0.0],
        &[supra_acetabular, post_acetabular],
        0.0015,
        &|_, v| 0.0035 + 0.003 * v,
        &|_, _| Vec3::ZERO,
    );
    let spine_dir = (spine - post_acetabular).normalize_or_zero();
    let spine_part = vec![Primitive::Capsule {
        a: post_acetabular,
        b: spine - spine_dir * 0.003,
        radius_a_m: 0.008,
        radius_b_m: 0.003,
    }];

    // Acetabulum: a rim body around the joint centre, the cup cut out later.
    let axis = acetabular_axis(side);
    let acetabulum = vec![Primitive::Ellipsoid {
        centre: hjc - axis * 0.008,
        axes: orthonormal(axis, ANTERIOR),
        radii_m: Vec3::new(0.036, 0.028, 0.036),
    }];

    // Ischium and tuberosity: the tuberosity's lowest point is the landmark.
    let it_centre = it_low + UP * 0.012;
    let ischium = vec![
        Primitive::Capsule {
            a: post_acetabular,
            b: it_centre,
            radius_a_m: 0.0095,
            radius_b_m: 0.0095,
        },
        Primitive::Ellipsoid {
            centre: it_centre,
            axes: orthonormal(UP, lat),
            radii_m: Vec3::new(0.011, 0.012, 0.017),
        },
    ];

    // The pelvic ring below the acetabulum (pubis and ischium around the obturator
    // foramen): one plate in the foramen's plane, which passes through the foramen's centre,
    // the ischial tuberosity and the pubic body and faces forward, down and out, filled
    // between its upper border (from the tuberosity up behind the acetabulum, under it and
    // along the superior pubic ramus to the pubic body) and its lower border (the ischial
    // and inferior pubic rami); the foramen is cut out of it below. Flat bars, not tubes:
    // the rami are about twice as wide as they are thick.
    let body_c = Vec3::new(lat.x * 0.013, sym.y, sym.z);
    let ring = ObturatorPlane::new(obturator, it_centre, body_c, hjc, lat);
    let upper: Vec<Vec3> = [
        (0.006, -0.040),
        (0.024, -0.026),
        (0.026, -0.006),
        (0.025, 0.012),
        (0.014, 0.030),
        (-0.004, 0.047),
    ]
    .iter()
    .map(|(r1, r2)| ring.at(*r1, *r2))
    .collect();
    let lower: Vec<Vec3> = [
        (-0.008, -0.038),
        (-0.017, -0.020),
        (-0.0235, 0.000),
        (-0.027, 0.021),
        (-0.031, 0.040),
    ]
    .iter()
    .map(|(r1, r2)| ring.at(*r1, *r2))
    .collect();
    let rami = plate(
        &chaikin(&upper, 2),
        &chaikin(&lower, 2),
        0.0014,
        // Thicker at the tuberosity and the pubic body than along the rami.
        &|u, _| 0.0036 + 0.0024 * (1.0 - u / 0.2).max(0.0) + 0.0016 * ((u - 0.85) / 0.15).max(0.0),
        &|_, _| Vec3::ZERO,
    );
    let tub_c = tubercle - ANTERIOR * 0.0045;
    let pubis = vec![
        Primitive::Ellipsoid {
            centre: body_c,
            axes: orthonormal(UP, lat),
            radii_m: Vec3::new(0.0095, 0.018, 0.0085),
        },
        // The pubic tubercle and the crest leading to it: a flat knob on the ramus.
        Primitive::Ellipsoid {
            centre: tub_c,
            axes: orthonormal(UP, lat),
            radii_m: Vec3::new(0.0075, 0.0055, 0.0045),
        },
        Primitive::Capsule {
            a: tub_c,
            b: Vec3::new(lat.x * 0.014, sym.y + 0.012, sym.z + 0.002),
            radius_a_m: 0.005,
            radius_b_m: 0.0055,
        },
    ];
    // The superior ramus's upper edge (pecten) runs on as the pelvic brim behind the
    // acetabulum: a low ridge from the ramus to the wing's base.
    let pecten = chain(
        &[ring.at(0.022, 0.022), ring.at(0.030, 0.004) + lat * -0.004],
        &[0.0040, 0.0045],
    );
    let foramen = vec![Primitive::Ellipsoid {
        centre: obturator,
        axes: Mat3::from_cols(ring.e1, ring.e2, ring.normal),
        radii_m: Vec3::new(OBTURATOR_HALF_AXES_M.0, OBTURATOR_HALF_AXES_M.1, 0.02),
    }];

    // The auricular surface: a block behind the SI joint, one gap away from it.
    let n = si_normal(side);
    // The joint's outline reaches up behind, next to the PSIS; the wing covers that part,
    // and a block there would stick out behind the PSIS.
    let auricular: Vec<Primitive> = si_patch(a, side, 0.003)?
        .into_iter()
        .filter(|p| p.z > psis.z + 0.012)
        .map(|p| Primitive::Sphere {
            centre: p + n * (SI_HALF_GAP_M + 0.006),
            radius_m: 0.006,
        })
        .collect();
    let tuberosity = vec![Primitive::Capsule {
        a: si_centre + n * 0.014,
        b: psis - lat * 0.002 + ANTERIOR * 0.011 - UP * 0.006,
        radius_a_m: 0.009,
        radius_b_m: 0.008,
    }];

    Ok(vec![
        Part::union(wing, 0.0),
        Part::union(column, 0.006),
        Part::union(spine_part, 0.004),
        Part::union(acetabulum, 0.010),
        Part::union(ischium, 0.008),
        Part::union(rami, 0.006),
        Part::union(pubis, 0.006),
        Part::union(pecten, 0.004),
        Part::union(auricular, 0.006),
        Part::union(tuberosity, 0.010),
        // The cup and its opening.
        Part::subtract(
            vec![
                Primitive::Sphere {
                    centre: hjc,
                    radius_m: CUP_RADIUS_M,
                },
                Primitive::Capsule {
                    a: hjc + axis * 0.008,
                    b: hjc + axis * 0.05,
                    radius_a_m: 0.021,
                    radius_b_m: 0.030,
                },
            ],
            0.003,
        ),
        // Obturator foramen: a large oval, its long axis from the ischium up to the pubis.
        Part::subtract(foramen, 0.003),
        // Keep the cup clear where other parts blend into it.
        Part::subtract(
            vec![Primitive::Sphere {
                centre: hjc,
                radius_m: CUP_RADIUS_M - 0.001,
            }],
            0.0,
        ),
    ])
}

/// Sacrum: S1 body, a curved column down to the apex, alae, and lateral masses that carry
/// the auricular surfaces; anterior sacral foramina cut through.
pub fn sacrum(a: &Anatomy) -> Result<Vec<Part>, FileError> {
    let m = |n: &str| a.landmark(n, Side::Midline);
    let s1 = m("S1_endplate_centre")?;
    let promontory = m("sacral_promontory")?;
    let s1_post = m("S1_endplate_posterior_superior")?;
    let tip = m("sacral_apex_coccyx_tip")?;
    // S1 endplate plane: normal perpendicular to promontory → posterior superior edge.
    let plate_dir = (s1_post - promontory).normalize_or_zero();
    let normal = Vec3::new(0.0, -plate_dir.z, plate_dir.y).normalize_or_zero();
    let normal = if normal.y < 0.0 { -normal } else { normal };
    let body_half_height = 0.013;
    let s1_body = vec![Primitive::Cylinder {
        centre: s1 - normal * body_half_height,
        axes: orthonormal(normal, Vec3::X),
        radii_m: Vec3::new(0.024, body_half_height, 0.0235),
        rounding_m: 0.004,
    }];
    let apex = Vec3::new(0.0, -0.038, tip.z + 0.014);
    let column_pts = [
        s1 - normal * 0.02,
        Vec3::new(0.0, 0.016, s1.z - 0.016),
        Vec3::new(0.0, -0.008, s1.z - 0.024),
        Vec3::new(0.0, -0.026, apex.z + 0.002),
        apex,
    ];
    let column = chain(&column_pts, &[0.016, 0.0125, 0.010, 0.0075, 0.0065]);
    let mut masses = Vec::new();
    let mut alae = Vec::new();
    let mut foramina = Vec::new();
    for side in [Side::Left, Side::Right] {
        let lat = lateral(side);
        let n = si_normal(side);
        let patch = si_patch(a, side, 0.003)?;
        masses.extend(patch.iter().map(|p| Primitive::Sphere {
            centre: *p - n * (SI_HALF_GAP_M + 0.006),
            radius_m: 0.006,
        }));
        // Web from the auricular plate to the column at each level.
        for p in patch.iter().step_by(6) {
            let inner = *p - n * (SI_HALF_GAP_M + 0.008);
            let target = Vec3::new(0.0, inner.y, column_z_at(&column_pts, inner.y));
            masses.push(Primitive::Capsule {
                a: inner,
                b: target,
                radius_a_m: 0.008,
                radius_b_m: 0.009,
            });
        }
        let ala_tip = Vec3::new(lat.x * 0.047, s1.y - 0.004, s1.z + 0.002);
        alae.push(Primitive::Capsule {
            a: s1 - normal * 0.010,
            b: ala_tip,
            radius_a_m: 0.011,
            radius_b_m: 0.0085,
        });
        for (k, y) in [0.024f32, 0.004, -0.013, -0.026].iter().enumerate() {
            let z = column_z_at(&column_pts, *y);
            let x = lat.x * (0.016 - 0.0015 * k as f32);
            foramina.push(Primitive::Capsule {
                // Anterior foramina: into the bone from the front, not through it.
                a: Vec3::new(x, *y, z + 0.03),
                b: Vec3::new(x, *y, z + 0.001),
                radius_a_m: 0.0036 - 0.0004 * k as f32,
                radius_b_m: 0.003 - 0.0004 * k as f32,
            });
        }
    }
    // The body of the sacrum below the joints: a curved triangle tapering to the apex.
    let level = |y: f32, half_width: f32| -> Vec<Vec3> {
        let z = column_z_at(&column_pts, y);
        vec![
            Vec3::new(half_width, y, z - 0.002),
            Vec3::new(-half_width, y, z - 0.002),
        ]
    };
    let lower = plate(
        &level(0.018, 0.040),
        &level(apex.y + 0.004, 0.006),
        0.002,
        &|_, v| 0.0075 - 0.0025 * v,
        &|u, _| Vec3::Z * (0.004 * (std::f32::consts::PI * u).sin()),
    );
    let spine = super::spine::Spine::new(a)?;
    Ok(vec![
        Part::union(s1_body, 0.0),
        Part::union(lower, 0.008),
        Part::union(column, 0.008),
        Part::union(alae, 0.010),
        Part::union(masses, 0.010),
        Part::union(super::spine::sacral_articular_processes(&spine), 0.006),
        Part::subtract(foramina, 0.002),
    ])
}

/// z of the sacral column at height y (linear between its points).
fn column_z_at(points: &[Vec3], y: f32) -> f32 {
    for w in points.windows(2) {
        let (hi, lo) = (w[0], w[1]);
        if y <= hi.y && y >= lo.y {
            let f = (hi.y - y) / (hi.y - lo.y).max(1e-6);
            return hi.z + (lo.z - hi.z) * f;
        }
    }
    if y > points[0].y {
        points[0].z
    } else {
        points[points.len() - 1].z
    }
}

/// Coccyx: three to four fused segments curving forward to the tip landmark.
pub fn coccyx(a: &Anatomy) -> Result<Vec<Part>, FileError> {
    let tip = a.landmark("sacral_apex_coccyx_tip", Side::Midline)?;
    let top = Vec3::new(0.0, -0.0445, tip.z + 0.012);
    let mid = Vec3::new(0.0, -0.056, tip.z + 0.006);
    let dir = (tip - mid).normalize_or_zero();
    let end = tip - dir * 0.0035;
    // Three small fused segments, each a little wider than the bar joining them.
    let segments: Vec<Primitive> = [
        (top, 0.0085),
        (top.lerp(mid, 0.6), 0.0068),
        (mid.lerp(end, 0.5), 0.0052),
    ]
    .iter()
    .map(|(c, r)| Primitive::Ellipsoid {
        centre: *c,
        axes: Mat3::IDENTITY,
        radii_m: Vec3::new(*r * 1.3, *r * 0.75, *r * 0.9),
    })
    .collect();
    Ok(vec![
        Part::union(chain(&[top, mid, end], &[0.006, 0.0048, 0.0035]), 0.0),
        Part::union(segments, 0.003),
    ])
}

/// Femur: head, neck at the measured neck-shaft angle, greater and lesser trochanter,
/// shaft through the mid-thigh landmark, condyles.
pub fn femur(a: &Anatomy, side: Side) -> Result<Vec<Part>, FileError> {
    let lat = lateral(side);
    let l = |n: &str| a.landmark(n, side);
    let head = l("femoral_head_centre")?;
    let gt_tip = l("greater_trochanter_tip")?;
    let gt_lat = l("greater_trochanter_lateral")?;
    let lt = l("lesser_trochanter")?;
    let mid = l("femoral_shaft_midthigh")?;
    let cond = l("femoral_condyles_centre")?;
    let lowest = l("femoral_condyles_lowest")?;
    let med_epi = l("medial_epicondyle")?;
    let lat_epi = l("lateral_epicondyle")?;
    // The proximal shaft curves back from the mid-thigh to sit under the trochanters (the
    // femur bows forward), so its axis is placed from the trochanter landmarks rather than
    // extrapolated from the thigh.
    let below_lt = Vec3::new(
        gt_lat.x - lat.x * 0.027,
        lt.y,
        0.5 * (gt_lat.z + lt.z) + 0.004,
    );
    let proximal_up = (below_lt - mid).normalize_or_zero();
    let top = below_lt + proximal_up * ((gt_tip.y - 0.018 - below_lt.y) / proximal_up.y.max(1e-3));
    let neck_base = neck_base(head, below_lt, proximal_up);
    let shaft_up = (mid - cond).normalize_or_zero();
    let head_r = femoral_head_radius_m(side);
    let head_part = vec![Primitive::Sphere {
        centre: head,
        radius_m: head_r,
    }];
    let neck_dir = (head - neck_base).normalize_or_zero();
    let neck = vec![Primitive::Capsule {
        a: neck_base,
        b: head - neck_dir * 0.010,
        radius_a_m: 0.0175,
        radius_b_m: 0.0150,
    }];
    let gt = vec![
        Primitive::Capsule {
            a: gt_tip - UP * 0.011 - lat * 0.002,
            b: gt_lat - lat * 0.011,
            radius_a_m: 0.011,
            radius_b_m: 0.011,
        },
        Primitive::Capsule {
            a: gt_tip - UP * 0.014 - lat * 0.006,
            b: top - UP * 0.02,
            radius_a_m: 0.012,
            radius_b_m: 0.016,
        },
    ];
    let to_axis = (below_lt - lt).normalize_or_zero();
    let lt_part = vec![Primitive::Capsule {
        a: lt + to_axis * 0.007,
        b: below_lt + UP * 0.012,
        radius_a_m: 0.007,
        radius_b_m: 0.012,
    }];
    let distal = cond + shaft_up * 0.07;
    let shaft = chain(
        &[top, below_lt, mid, distal],
        &[0.017, 0.0155, 0.0145, 0.0165],
    );
    let medial_dir = -lat;
    let cond_y = lowest.y + 0.023;
    let mut condyles = Vec::new();
    for (epi, inward) in [(med_epi, lat), (lat_epi, medial_dir)] {
        condyles.push(Primitive::Ellipsoid {
            centre: Vec3::new(epi.x, cond_y, cond.z - 0.006) + inward * 0.0125,
            axes: Mat3::IDENTITY,
            radii_m: Vec3::new(0.0135, 0.023, 0.029),
        });
    }
    condyles.push(Primitive::Capsule {
        a: distal,
        b: Vec3::new(cond.x, cond_y + 0.004, cond.z - 0.002),
        radius_a_m: 0.017,
        radius_b_m: 0.027,
    });
    Ok(vec![
        Part::union(shaft, 0.0),
        Part::union(neck, 0.010),
        Part::union(head_part, 0.006),
        Part::union(gt, 0.010),
        Part::union(lt_part, 0.008),
        Part::union(condyles, 0.012),
    ])
}

/// The neck-shaft angle the femur is built with (Carmona et al., 3D CT: 124.7 ± 6.2°).
pub const NECK_SHAFT_ANGLE_DEG: f32 = 125.0;

/// Point on the shaft axis from which the neck meets the head at the neck-shaft angle.
pub fn neck_base(head: Vec3, on_axis: Vec3, shaft_up: Vec3) -> Vec3 {
    let target = NECK_SHAFT_ANGLE_DEG.to_radians();
    let mut best = on_axis;
    let mut best_err = f32::MAX;
    for i in 0..400 {
        let s = -0.05 + 0.4 * i as f32 / 400.0;
        let p = on_axis + shaft_up * s;
        let angle = (head - p).angle_between(-shaft_up);
        let err = (angle - target).abs();
        if err < best_err {
            best_err = err;
            best = p;
        }
    }
    best
}

/// The SI joint surface: a thin plate filling the gap between sacrum and ilium.
pub fn si_joint(a: &Anatomy, side: Side) -> Result<Vec<Part>, FileError> {
    let patch = si_patch(a, side, 0.0015)?;
    Ok(vec![Part::union(
        patch
            .into_iter()
            .map(|p| Primitive::Sphere {
                centre: p,
                radius_m: 0.0016,
            })
            .collect(),
        0.0,
    )])
}
