//! The lumbar spine: vertebrae T12–L5 and the discs between them, down to the sacrum.
//!
//! The discs sit on their measured centres (`disc_*_centre`, with the L5 seating shift), so
//! the column has the lordosis of the source. Each vertebra's axis runs from the disc below
//! it to the disc above; its endplates are square to that axis, so the discs between two
//! differently tilted vertebrae are wedges, taller in front. Widths and depths are published
//! means (shared/anatomy/dimensions.md §1d, §7); the heights of the bodies and discs are the
//! published means scaled by one factor so that they fill the measured spacing of the
//! discs (the source's spine is about a fifth shorter than the CT means).

use bevy::math::{Mat3, Vec3};

use super::data::Anatomy;
use super::field::{Part, Primitive, Slab};
use super::sweep::{JOINT_COUNT, JOINT_PELVIS, JOINT_VERTEBRAE, JointWeights};
use crate::anatomy::{Side, StructureKind};
use crate::files::FileError;

/// Published sizes of one vertebra.
struct LevelSize {
    /// Body height, the mean of its anterior and posterior heights (men; Busscher et al.
    /// 2010; L5: NZ CT study, dimensions.md §1d).
    body_height_mm: f32,
    /// Endplate width (men; Yadav et al. 2020; L5: Bhat et al. 2025).
    width_mm: f32,
    /// Endplate depth, front to back: L5 37.1 mm (men, dimensions.md §1d); the L2–L5 mean is
    /// 35.0 mm (Clouthier 2023) and no per-level figure was found, so the levels above are
    /// graded down by about 1.5 mm a level, as the bodies grow smaller upwards.
    depth_mm: f32,
    /// Pedicle width (Panjabi 1991/1992; L5: dimensions.md §1d).
    pedicle_width_mm: f32,
    /// Width of the spinal canal between the pedicles: L5 28.2 mm (dimensions.md §1d); the
    /// canal narrows upwards, to about 21 mm at T12 (Gray's Anatomy, 42nd ed.), graded
    /// evenly in between.
    canal_width_mm: f32,
    /// How far the transverse process's tip lies from the midline where no tip was
    /// measured: the process's root about 17 mm out (as at L4, whose tip is measured) plus
    /// its length (L1 10, L2 15, L3 19 mm; Li Bing et al. 2003); T12's is a short stub.
    transverse_tip_lateral_mm: f32,
}

/// T12 to L5.
const LEVELS: [LevelSize; 6] = [
    LevelSize {
        body_height_mm: 27.05,
        width_mm: 37.0,
        depth_mm: 31.0,
        pedicle_width_mm: 8.7,
        canal_width_mm: 21.0,
        transverse_tip_lateral_mm: 23.0,
    },
    LevelSize {
        body_height_mm: 27.0,
        width_mm: 40.2,
        depth_mm: 32.5,
        pedicle_width_mm: 8.6,
        canal_width_mm: 22.4,
        transverse_tip_lateral_mm: 27.3,
    },
    LevelSize {
        body_height_mm: 28.55,
        width_mm: 42.6,
        depth_mm: 34.0,
        pedicle_width_mm: 8.3,
        canal_width_mm: 23.9,
        transverse_tip_lateral_mm: 32.3,
    },
    LevelSize {
        body_height_mm: 29.25,
        width_mm: 44.3,
        depth_mm: 35.0,
        pedicle_width_mm: 10.2,
        canal_width_mm: 25.3,
        transverse_tip_lateral_mm: 36.3,
    },
    LevelSize {
        body_height_mm: 27.9,
        width_mm: 46.4,
        depth_mm: 36.0,
        pedicle_width_mm: 14.1,
        canal_width_mm: 26.8,
        transverse_tip_lateral_mm: 32.3,
    },
    LevelSize {
        body_height_mm: 28.75,
        width_mm: 47.4,
        depth_mm: 37.1,
        pedicle_width_mm: 16.1,
        canal_width_mm: 28.2,
        transverse_tip_lateral_mm: 32.3,
    },
];

/// Disc heights at their middle, T12/L1 … L5/S1: CT, men (Yadav et al. 2020) down to L3/L4;
/// L4/L5 and L5/S1 on MRI (Nepal study, dimensions.md §1d).
const DISC_HEIGHT_MM: [f32; 6] = [6.45, 7.33, 8.66, 9.76, 12.0, 11.1];

/// Facet joints' angle from the midsagittal plane, T11/T12 … L5/S1: about 26–34° at
/// T12–L2 and 40–56° at L3–L5 (Masharawi et al., 240 skeletons, dimensions.md §7).
const FACET_ANGLE_DEG: [f32; 7] = [24.0, 26.0, 30.0, 34.0, 40.0, 48.0, 56.0];

/// The gap between the two articular surfaces of a facet joint (cartilage and joint space).
const FACET_GAP_M: f32 = 0.0016;

/// An endplate: a point on it (on the spine's axis) and its normal, pointing up the spine.
#[derive(Clone, Copy, Debug)]
pub struct Plane {
    /// On the plane.
    pub point: Vec3,
    /// Unit normal, cranial.
    pub normal: Vec3,
}

impl Plane {
    /// Signed height of `p` above the plane.
    pub fn height_m(&self, p: Vec3) -> f32 {
        (p - self.point).dot(self.normal)
    }

    fn pair(&self) -> (Vec3, Vec3) {
        (self.point, self.normal)
    }
}

/// One vertebra of the model.
#[derive(Clone, Debug)]
pub struct Vertebra {
    /// Which one.
    pub kind: StructureKind,
    /// Its level as the data names it (`T12`, `L1` … `L5`).
    pub level: &'static str,
    /// Body centre: the landmark (midway between the discs) for L1–L5, midway between its
    /// endplates for T12 (no landmark); the rig joint stands here.
    pub centre: Vec3,
    /// Lateral (+X), along the spine (up) and anterior axes.
    pub axes: Mat3,
    /// The inferior endplate (the disc below it starts here).
    pub inferior: Plane,
    /// The superior endplate.
    pub superior: Plane,
    /// Half the endplates' width and depth.
    pub half_width_m: f32,
    /// See `half_width_m`.
    pub half_depth_m: f32,
}

/// One intervertebral disc of the model.
#[derive(Clone, Debug)]
pub struct Disc {
    /// Which one.
    pub kind: StructureKind,
    /// Its measured centre (with the L5 seating shift).
    pub measured_centre: Vec3,
    /// Where the disc is centred in the model (the measured centre, except L5/S1, which
    /// stands on the sacrum's endplate).
    pub centre: Vec3,
    /// The mid axes (lateral, up, anterior).
    pub axes: Mat3,
    /// Its lower surface (the superior endplate of the vertebra below, or S1).
    pub lower: Plane,
    /// Its upper surface (the inferior endplate of the vertebra above).
    pub upper: Plane,
    /// Half width and depth (a little fuller than the bodies: the annulus bulges).
    pub half_width_m: f32,
    /// See `half_width_m`.
    pub half_depth_m: f32,
}

/// A facet joint (one side): where the articular processes meet.
#[derive(Clone, Copy, Debug)]
pub struct Facet {
    /// Centre of the joint.
    pub centre: Vec3,
    /// Normal of the joint plane, from the inferior articular process of the vertebra above
    /// (medial, behind) to the superior articular process of the one below (lateral, in
    /// front).
    pub normal: Vec3,
    /// Along the spine there.
    pub up: Vec3,
}

/// The spine of the model, top down.
#[derive(Clone, Debug)]
pub struct Spine {
    /// T12 … L5.
    pub vertebrae: Vec<Vertebra>,
    /// T12/L1 … L5/S1 (`discs[i]` is below `vertebrae[i]`).
    pub discs: Vec<Disc>,
    /// The sacrum's endplate (S1).
    pub s1: Plane,
    /// How much shorter the model's bodies and discs are than the published heights.
    pub height_scale: f32,
}

const DISC_NAMES: [&str; 6] = ["T12L1", "L1L2", "L2L3", "L3L4", "L4L5", "L5S1"];

/// The S1 endplate from the sacrum's landmarks: through its centre, square to the line from
/// the promontory to its posterior edge, facing up.
pub fn s1_endplate(a: &Anatomy) -> Result<Plane, FileError> {
    let m = |n: &str| a.landmark(n, Side::Midline);
    let promontory = m("sacral_promontory")?;
    let posterior = m("S1_endplate_posterior_superior")?;
    let along = (posterior - promontory).normalize_or_zero();
    let normal = Vec3::new(0.0, -along.z, along.y).normalize_or_zero();
    Ok(Plane {
        point: m("S1_endplate_centre")?,
        normal: if normal.y < 0.0 { -normal } else { normal },
    })
}

fn frame(up: Vec3) -> Mat3 {
    let y = up.normalize_or_zero();
    let x = (Vec3::X - y * Vec3::X.dot(y)).normalize_or_zero();
    Mat3::from_cols(x, y, x.cross(y))
}

impl Spine {
    /// Lays the spine out from the landmarks.
    pub fn new(a: &Anatomy) -> Result<Spine, FileError> {
        let disc_centres: Vec<Vec3> = DISC_NAMES
            .iter()
            .map(|n| a.landmark(&format!("disc_{n}_centre"), Side::Midline))
            .collect::<Result<_, _>>()?;
        let s1 = s1_endplate(a)?;
        // One height scale: the measured chain from the T12/L1 disc's centre down to the S1
        // endplate over the published heights of the same stretch.
        let measured_m: f32 = disc_centres
            .windows(2)
            .map(|w| (w[0] - w[1]).length())
            .sum::<f32>()
            + s1.height_m(disc_centres[5]);
        let published_mm: f32 = 0.5 * DISC_HEIGHT_MM[0]
            + LEVELS[1..].iter().map(|l| l.body_height_mm).sum::<f32>()
            + DISC_HEIGHT_MM[1..].iter().sum::<f32>();
        let height_scale = measured_m * 1000.0 / published_mm;
        let disc_height_m = |k: usize| DISC_HEIGHT_MM[k] * height_scale / 1000.0;

        // Each vertebra's axis: from the disc below it to the disc above (T12, with no disc
        // above in the model, continues L1's).
        let mut axis = Vec::new();
        for i in 0..6 {
            let up = if i == 0 {
                disc_centres[0] - disc_centres[1]
            } else {
                disc_centres[i - 1] - disc_centres[i]
            };
            axis.push(up.normalize_or_zero());
        }
        // Disc surfaces: square to the vertebra above and below, half the disc's height
        // from its centre; L5/S1 stands on the sacrum.
        let mut discs = Vec::new();
        for k in 0..6 {
            let below_axis = if k == 5 { s1.normal } else { axis[k + 1] };
            let mid = (axis[k] + below_axis).normalize_or_zero();
            let h = disc_height_m(k);
            let (centre, lower) = if k == 5 {
                (s1.point + s1.normal * (0.5 * h), s1)
            } else {
                let centre = disc_centres[k];
                (
                    centre,
                    Plane {
                        point: centre - mid * (0.5 * h),
                        normal: below_axis,
                    },
                )
            };
            let upper = Plane {
                point: centre + mid * (0.5 * h),
                normal: axis[k],
            };
            let (above, below) = (&LEVELS[k], LEVELS.get(k + 1).unwrap_or(&LEVELS[5]));
            discs.push(Disc {
                kind: StructureKind::DISCS[k],
                measured_centre: disc_centres[k],
                centre,
                axes: frame(mid),
                lower,
                upper,
                // The annulus bulges half a millimetre past the bodies' rims.
                half_width_m: (0.25 * (above.width_mm + below.width_mm) + 0.5) / 1000.0,
                half_depth_m: (0.25 * (above.depth_mm + below.depth_mm) + 0.5) / 1000.0,
            });
        }
        let mut vertebrae = Vec::new();
        for (i, kind) in StructureKind::VERTEBRAE.iter().enumerate() {
            let level = kind.vertebra_level().unwrap_or("L5");
            let inferior = discs[i].upper;
            let superior = if i == 0 {
                let h = LEVELS[0].body_height_mm * height_scale / 1000.0;
                Plane {
                    point: inferior.point + axis[0] * h,
                    normal: axis[0],
                }
            } else {
                discs[i - 1].lower
            };
            let centre = if i == 0 {
                0.5 * (inferior.point + superior.point)
            } else {
                a.landmark(&format!("{level}_body_centre"), Side::Midline)?
            };
            vertebrae.push(Vertebra {
                kind: *kind,
                level,
                centre,
                axes: frame(axis[i]),
                inferior,
                superior,
                half_width_m: LEVELS[i].width_mm / 2000.0,
                half_depth_m: LEVELS[i].depth_mm / 2000.0,
            });
        }
        Ok(Spine {
            vertebrae,
            discs,
            s1,
            height_scale,
        })
    }

    /// Index (0 = T12 … 5 = L5) of the vertebra whose stretch of the column holds height
    /// `y` (from the centre of the disc below it to the centre of the disc above); `None`
    /// below the L5/S1 disc's centre, which is the pelvis's.
    pub fn segment_at(&self, y: f32) -> Option<usize> {
        self.discs.iter().position(|d| y >= d.centre.y)
    }

    /// The rig joint a point at height `y` on the column moves with.
    pub fn joint_at(&self, y: f32) -> usize {
        self.segment_at(y)
            .map_or(JOINT_PELVIS, |i| JOINT_VERTEBRAE[i])
    }

    /// Weights for soft tissue beside the column at height `y`: each vertebra at its body's
    /// centre, blended linearly between neighbours, the pelvis from the sacrum's endplate
    /// down, so the trunk bends smoothly with the spine.
    pub fn blended_weights(&self, y: f32) -> JointWeights {
        let mut anchors: Vec<(f32, usize)> = self
            .vertebrae
            .iter()
            .zip(JOINT_VERTEBRAE)
            .map(|(v, j)| (v.centre.y, j))
            .collect();
        anchors.push((self.s1.point.y, JOINT_PELVIS));
        let mut w = [0.0; JOINT_COUNT];
        if y >= anchors[0].0 {
            w[anchors[0].1] = 1.0;
            return w;
        }
        for pair in anchors.windows(2) {
            let ((hi, j_hi), (lo, j_lo)) = (pair[0], pair[1]);
            if y >= lo {
                let f = (y - lo) / (hi - lo).max(1e-6);
                w[j_hi] = f;
                w[j_lo] = 1.0 - f;
                return w;
            }
        }
        w[JOINT_PELVIS] = 1.0;
        w
    }

    /// Where a lumbar nerve root leaves the spine on `side`: the intervertebral foramen
    /// above the disc `index` (4: L4/L5, where the L4 root leaves; 5: L5/S1, the L5 root),
    /// level with the disc's upper part, in line with the pedicles, at the back of the disc.
    pub fn foramen(&self, index: usize, side: Side) -> Vec3 {
        let d = &self.discs[index];
        let height = (d.upper.point - d.lower.point).length();
        d.centre + d.axes.y_axis * (0.5 * height + 0.003) - d.axes.z_axis * d.half_depth_m
            + Vec3::X * (side.gltf_x_sign() * (pedicle_lateral_m(&LEVELS[index]) + 0.002))
    }

    /// A vertebra by kind.
    pub fn vertebra(&self, kind: StructureKind) -> Option<&Vertebra> {
        self.vertebrae.iter().find(|v| v.kind == kind)
    }

    /// A disc by kind.
    pub fn disc(&self, kind: StructureKind) -> Option<&Disc> {
        self.discs.iter().find(|d| d.kind == kind)
    }

    /// Height along the vertebra's axis between its endplates, at its centre.
    pub fn body_height_m(v: &Vertebra) -> f32 {
        let up = v.axes.y_axis;
        let at = |p: &Plane| p.normal.dot(p.point - v.centre) / p.normal.dot(up);
        at(&v.superior) - at(&v.inferior)
    }

    /// The facet joint on `side` between the vertebra `index` (0 = T12) and the one below
    /// it (index 5: L5 on the sacrum); index −1 is T12's joint with T11, above the model.
    pub fn facet(&self, index: isize, side: Side) -> Facet {
        let lat = Vec3::X * side.gltf_x_sign();
        // The joint lies behind the pillar of the vertebra below (where its pedicle meets
        // the lamina), at about the level of the disc's upper surface.
        let (below, centre, axes) = if index < 0 {
            let v = &self.vertebrae[0];
            (0usize, v.superior.point + v.axes.y_axis * 0.002, v.axes)
        } else {
            let i = index as usize;
            let d = &self.discs[i];
            ((i + 1).min(5), d.centre + d.axes.y_axis * 0.001, d.axes)
        };
        let size = &LEVELS[below];
        let v = &self.vertebrae[below];
        let pillar_lateral_m = pedicle_lateral_m(size) + 0.0015;
        let back_m = v.half_depth_m + 0.010 * self.height_scale / 0.8;
        let angle = FACET_ANGLE_DEG[(index + 1) as usize].to_radians();
        let normal = lat * angle.cos() + axes.z_axis * angle.sin();
        Facet {
            centre: centre + lat * pillar_lateral_m - axes.z_axis * back_m,
            normal,
            up: axes.y_axis,
        }
    }
}

/// How far the pedicle's middle lies from the midline.
fn pedicle_lateral_m(size: &LevelSize) -> f32 {
    (0.5 * size.canal_width_mm + 0.5 * size.pedicle_width_mm) / 1000.0
}

/// A slab between two endplates.
fn slab(
    centre: Vec3,
    axes: Mat3,
    half_size_m: (f32, f32),
    waist: f32,
    lower: &Plane,
    upper: &Plane,
    rounding_m: f32,
) -> Primitive {
    Primitive::Slab(Slab {
        centre,
        axes,
        half_width_m: half_size_m.0,
        half_depth_m: half_size_m.1,
        notch_m: 0.0035,
        waist,
        lower: lower.pair(),
        upper: upper.pair(),
        rounding_m,
    })
}

/// An articular process: a plate lying against its facet joint.
fn articular_process(f: &Facet, towards: f32, lift_m: f32) -> Primitive {
    let half_thickness_m = 0.0028;
    let across = f.up.cross(f.normal).normalize_or_zero();
    Primitive::Ellipsoid {
        centre: f.centre
            + f.normal * (towards * (0.5 * FACET_GAP_M + half_thickness_m))
            + f.up * lift_m,
        axes: Mat3::from_cols(f.normal, f.up, across),
        radii_m: Vec3::new(half_thickness_m, 0.0085, 0.0065),
    }
}

/// A vertebra: the waisted, kidney-shaped body, pedicles, laminae, the spinous process,
/// transverse processes (to their measured tips at L4 and L5) and the superior and inferior
/// articular processes facing their neighbours' across the facet joints.
pub fn vertebra(a: &Anatomy, spine: &Spine, kind: StructureKind) -> Result<Vec<Part>, FileError> {
    let Some(index) = StructureKind::VERTEBRAE.iter().position(|k| *k == kind) else {
        return Ok(Vec::new());
    };
    let v = &spine.vertebrae[index];
    let size = &LEVELS[index];
    let (x, up, ant) = (v.axes.x_axis, v.axes.y_axis, v.axes.z_axis);
    let local = |lateral_m: f32, along_m: f32, anterior_m: f32| {
        v.centre + x * lateral_m + up * along_m + ant * anterior_m
    };
    let h = Spine::body_height_m(v);
    let hd = v.half_depth_m;
    let s = spine.height_scale / 0.8;
    let body = vec![slab(
        v.centre,
        v.axes,
        (v.half_width_m, hd),
        0.07,
        &v.inferior,
        &v.superior,
        0.0025,
    )];
    // Posterior elements, placed relative to the body; their lengths front to back shrink
    // with the heights, as the source's measured tips (L4, L5) show.
    let ped_x = pedicle_lateral_m(size);
    let ped_y = 0.5 * h - 0.0065 * s;
    let pillar_back = hd + 0.0075 * s;
    let lamina_back = hd + 0.0165 * s;
    let spinous_tip = a
        .landmark(&format!("{}_spinous_process_tip", v.level), Side::Midline)
        .unwrap_or_else(|_| {
            // L4's tip, placed like it on the levels without a measured one.
            local(0.0, -0.0074 * s, -0.0496)
        });
    let mut arch = Vec::new();
    for side in [Side::Left, Side::Right] {
        let sx = side.gltf_x_sign();
        let pillar = local(sx * ped_x, ped_y, -pillar_back);
        // Pedicle: an oval bar from the back of the body to the pillar.
        arch.push(Primitive::Ellipsoid {
            centre: local(sx * ped_x, ped_y, -hd - 0.002 * s),
            axes: v.axes,
            radii_m: Vec3::new(0.5 * size.pedicle_width_mm / 1000.0, 0.0062 * s, 0.0075 * s),
        });
        // Lamina: a sloping plate from the pillar to the base of the spinous process.
        let mid_top = local(0.0, ped_y + 0.001, -lamina_back);
        let mid_bottom = local(0.0, -0.5 * h - 0.003 * s, -lamina_back - 0.003 * s);
        let side_top = local(sx * (ped_x + 0.001), ped_y + 0.004 * s, -pillar_back);
        let side_bottom = local(sx * (ped_x - 0.002), -0.5 * h + 0.001, -pillar_back - 0.002);
        arch.extend(super::bones::plate(
            &[side_top, mid_top],
            &[side_bottom, mid_bottom],
            0.0015,
            &|_, _| 0.0026,
            &|_, _| Vec3::ZERO,
        ));
        // Transverse process: from the pillar to the measured tip (L4, L5) or out as far as
        // the level's process reaches.
        let tip = a
            .landmark(&format!("{}_transverse_process_tip", v.level), side)
            .unwrap_or_else(|_| {
                local(
                    sx * size.transverse_tip_lateral_mm / 1000.0,
                    0.0068 * s,
                    -0.0221,
                )
            });
        let root = local(sx * ped_x, ped_y - 0.001, -hd - 0.005 * s);
        let (r_root, r_tip) = if v.level == "L5" {
            (0.0058, 0.0045)
        } else if v.level == "T12" {
            (0.0045, 0.0032)
        } else {
            (0.0050, 0.0034)
        };
        // A flat bar, taller than thick, as the lumbar transverse processes are.
        let dir = (tip - root).normalize_or_zero();
        let end = tip - dir * r_tip;
        let rise = (up - dir * up.dot(dir)).normalize_or_zero();
        arch.extend(super::bones::plate(
            &[root + rise * (0.6 * r_root), end + rise * (0.5 * r_tip)],
            &[root - rise * (0.6 * r_root), end - rise * (0.5 * r_tip)],
            0.0012,
            &|u, _| 0.6 * (r_root + (r_tip - r_root) * u),
            &|_, _| Vec3::ZERO,
        ));
        // Superior articular process: up from the pillar to the joint with the vertebra
        // above; inferior: down from the lamina to the joint with the one below.
        let above = spine.facet(index as isize - 1, side);
        let below = spine.facet(index as isize, side);
        let sap = articular_process(&above, 1.0, 0.002);
        let iap = articular_process(&below, -1.0, -0.003);
        let centre_of = |p: &Primitive| match p {
            Primitive::Ellipsoid { centre, .. } => *centre,
            _ => pillar,
        };
        arch.push(Primitive::Capsule {
            a: pillar,
            b: centre_of(&sap) - above.up * 0.002,
            radius_a_m: 0.0045,
            radius_b_m: 0.0035,
        });
        arch.push(Primitive::Capsule {
            a: side_bottom + up * 0.004,
            b: centre_of(&iap) + below.up * 0.002,
            radius_a_m: 0.0042,
            radius_b_m: 0.0035,
        });
        arch.push(sap);
        arch.push(iap);
    }
    // Spinous process: a blade from the laminae back to the tip, clubbed at its end.
    let base_top = local(0.0, ped_y, -lamina_back);
    let base_bottom = local(0.0, -0.5 * h - 0.001, -lamina_back - 0.002);
    let back = (spinous_tip - local(0.0, 0.0, -lamina_back)).normalize_or_zero();
    let tip_centre = spinous_tip - back * 0.0042;
    let blade_half_height_m = 0.0085 * s;
    arch.extend(super::bones::plate(
        &[base_top, tip_centre + up * blade_half_height_m],
        &[base_bottom, tip_centre - up * blade_half_height_m],
        0.0014,
        &|u, _| 0.0026 + 0.0016 * u * u,
        &|_, _| Vec3::ZERO,
    ));
    Ok(vec![Part::union(body, 0.0), Part::union(arch, 0.0035)])
}

/// An intervertebral disc: the space between two endplates, a little fuller than the bodies
/// (the annulus bulges), with the same hollow at the back.
pub fn disc(spine: &Spine, kind: StructureKind) -> Vec<Part> {
    let Some(d) = spine.disc(kind) else {
        return Vec::new();
    };
    vec![Part::union(
        vec![slab(
            d.centre,
            d.axes,
            (d.half_width_m, d.half_depth_m),
            -0.03,
            &d.lower,
            &d.upper,
            0.0012,
        )],
        0.0,
    )]
}

/// The sacrum's superior articular processes: the joints L5's inferior processes rest on.
pub fn sacral_articular_processes(spine: &Spine) -> Vec<Primitive> {
    let mut out = Vec::new();
    for side in [Side::Left, Side::Right] {
        let f = spine.facet(5, side);
        let sap = articular_process(&f, 1.0, 0.001);
        // A root down into the sacrum's back, below the process.
        out.push(Primitive::Capsule {
            a: f.centre + f.normal * 0.004 - f.up * 0.002,
            b: f.centre + f.normal * 0.006 - f.up * 0.016,
            radius_a_m: 0.0045,
            radius_b_m: 0.006,
        });
        out.push(sap);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn spine() -> Spine {
        let a = Anatomy::load(Path::new(Anatomy::DEFAULT_PATH)).unwrap();
        Spine::new(&a).unwrap()
    }

    #[test]
    fn bodies_and_discs_fill_the_measured_spacing_without_overlap() {
        let s = spine();
        assert!(
            (0.7..0.9).contains(&s.height_scale),
            "height scale {}",
            s.height_scale
        );
        for (i, v) in s.vertebrae.iter().enumerate() {
            let h = Spine::body_height_m(v);
            assert!((0.018..0.026).contains(&h), "{} body {h} m", v.level);
            // The disc below shares the vertebra's inferior endplate.
            let d = &s.discs[i];
            assert!((d.upper.point - v.inferior.point).length() < 1e-6);
            if i > 0 {
                assert!((s.discs[i - 1].lower.point - v.superior.point).length() < 1e-6);
            }
        }
        for d in &s.discs {
            let off = (d.centre - d.measured_centre).length();
            assert!(off < 0.003, "{:?} centred {off} m off", d.kind);
            // A lordotic wedge or close to parallel, never crossing.
            let front = d.centre + d.axes.z_axis * d.half_depth_m;
            let back = d.centre - d.axes.z_axis * d.half_depth_m;
            for p in [front, back] {
                let t = (d.upper.point - p).dot(d.upper.normal)
                    - (d.lower.point - p).dot(d.lower.normal);
                assert!(t > 0.002, "{:?}: {t} m high at its rim", d.kind);
            }
        }
    }
}
