//! The model generator: builds every structure of the pelvis model from the anatomical
//! numbers in `assets/anatomy/` and writes `assets/models/pelvis.glb`.
//!
//! Pure geometry, no ECS. Pipeline per structure: primitives placed at landmarks →
//! signed distance field on a voxel grid → surface nets → Taubin smoothing →
//! simplification to a vertex budget → normals, morph targets and skin weights.

pub mod bones;
pub mod crease;
pub mod data;
pub mod field;
pub mod glb;
pub mod hip;
pub mod mesh;
pub mod skin;
pub mod soft;
pub mod spine;
pub mod sweep;

use bevy::math::Vec3;
use rayon::prelude::*;
use thiserror::Error;

use crate::anatomy::{NerveVariant, PiriformisPassage, Side, Structure, StructureKind};
use crate::files::FileError;
use crate::posture::data::PostureFile;
use crate::posture::kinematics::RigJoint;
use data::Anatomy;
use field::{Aabb, FAR_M, Grid, Part, Primitive, rasterize, smooth_max, smooth_min};
use mesh::TriMesh;
use sweep::{JOINT_COUNT, JointWeights, SweepSample};

/// Errors of the generator.
#[derive(Debug, Error)]
pub enum ModelgenError {
    /// Bad or missing anatomical data.
    #[error(transparent)]
    Data(#[from] FileError),
    /// Writing failed.
    #[error(transparent)]
    Glb(#[from] glb::GlbError),
}

/// The look of a structure (a glTF material each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MaterialKind {
    /// Ivory.
    Bone,
    /// Red.
    Muscle,
    /// Yellow.
    Nerve,
    /// Blue, distinct.
    Joint,
    /// Translucent.
    Skin,
    /// Pale blue-white (fibrocartilage).
    Disc,
}

impl MaterialKind {
    /// In material index order.
    pub const ALL: [MaterialKind; 6] = [
        MaterialKind::Bone,
        MaterialKind::Muscle,
        MaterialKind::Nerve,
        MaterialKind::Joint,
        MaterialKind::Skin,
        MaterialKind::Disc,
    ];

    fn of(kind: StructureKind) -> Self {
        use crate::anatomy::Layer;
        match kind.layer() {
            Layer::Bones => MaterialKind::Bone,
            Layer::Discs => MaterialKind::Disc,
            Layer::Muscles => MaterialKind::Muscle,
            Layer::Nerves => MaterialKind::Nerve,
            Layer::Joints => MaterialKind::Joint,
            Layer::Skin => MaterialKind::Skin,
        }
    }
}

/// One generated structure, positions in model space (glTF frame, metres).
#[derive(Clone, Debug)]
pub struct GeneratedStructure {
    /// Which structure (for an extra nerve variant: the sciatic nerve of its side).
    pub structure: Structure,
    /// Node and mesh name in the glTF file.
    pub name: String,
    /// The closed surface.
    pub mesh: TriMesh,
    /// Unit vertex normals.
    pub normals: Vec<Vec3>,
    /// Material.
    pub material: MaterialKind,
    /// Morph targets: name and per-vertex position deltas (a muscle's `tense`, a nerve's
    /// `compressed`, the skin's posture correctives).
    pub morphs: Vec<(String, Vec<Vec3>)>,
    /// Per-vertex four joints and normalised u8 weights (skinned meshes only).
    pub weights: Option<Vec<([u8; 4], [u8; 4])>>,
    /// Per-vertex skin region index (the skin only).
    pub regions: Option<Vec<u16>>,
    /// Per-vertex colour (RGBA, multiplies the material): fibre striping on muscles.
    pub colors: Option<Vec<[u8; 4]>>,
}

/// The whole model.
pub struct GeneratedModel {
    /// Structures in [`Structure::all`] order, then the extra nerve variants.
    pub structures: Vec<GeneratedStructure>,
    /// Rig joints in skin order.
    pub joints: Vec<glb::Joint>,
    /// Attribution.
    pub copyright: String,
}

/// Voxel size (metres), vertex budget and Taubin smoothing passes of a mesh.
type Resolution = (f32, usize, usize);

/// How finely each structure is sampled and how many vertices it may keep.
fn resolution(kind: StructureKind) -> Resolution {
    match kind {
        StructureKind::HipBone => (0.0014, 3600, 6),
        StructureKind::Sacrum => (0.0014, 2400, 6),
        StructureKind::Coccyx => (0.0008, 400, 4),
        StructureKind::VertebraT12
        | StructureKind::VertebraL1
        | StructureKind::VertebraL2
        | StructureKind::VertebraL3
        | StructureKind::VertebraL4
        | StructureKind::VertebraL5 => (0.0009, 1500, 5),
        StructureKind::DiscT12L1
        | StructureKind::DiscL1L2
        | StructureKind::DiscL2L3
        | StructureKind::DiscL3L4
        | StructureKind::DiscL4L5
        | StructureKind::DiscL5S1 => (0.0008, 500, 4),
        StructureKind::Femur => (0.0016, 2800, 6),
        StructureKind::GluteusMaximus => (0.0020, 2200, 20),
        StructureKind::GluteusMedius => (0.0018, 1600, 20),
        StructureKind::GluteusMinimus => (0.0015, 1100, 20),
        StructureKind::Piriformis => (0.0010, 700, 8),
        StructureKind::PsoasMajor => (0.0018, 1400, 8),
        StructureKind::Iliacus => (0.0015, 1600, 12),
        StructureKind::SciaticNerve => (0.0009, 1500, 6),
        StructureKind::SacroiliacJoint => (0.0007, 400, 4),
        StructureKind::Skin => (0.0048, 40_600, 14),
    }
}

/// The extra sciatic nerves (Beaton & Anson types B, C) are hidden unless asked for, and the
/// file must stay under 5 MB: coarser than the usual nerve.
const NERVE_VARIANT_RESOLUTION: Resolution = (0.0010, 1200, 6);

/// Gap kept between muscles or nerve and bone.
pub const SOFT_TISSUE_BONE_GAP_M: f32 = 0.0012;

/// A bone's (or disc's) field, with pits where a tendon attachment ended up buried in it.
fn bone_grid(a: &Anatomy, spine: &spine::Spine, s: Structure) -> Result<Grid, FileError> {
    let mut grid = rasterize(&bone_parts(a, spine, s)?, resolution(s.kind).0);
    if s.kind.layer() == crate::anatomy::Layer::Bones {
        let pits = bones::attachment_pits(a, s.kind, s.side, &|p| -grid.sample(p))?;
        grid.apply(&pits);
    }
    Ok(grid)
}

fn bone_parts(a: &Anatomy, spine: &spine::Spine, s: Structure) -> Result<Vec<Part>, FileError> {
    match s.kind {
        StructureKind::HipBone => bones::hip_bone(a, s.side),
        StructureKind::Sacrum => bones::sacrum(a),
        StructureKind::Coccyx => bones::coccyx(a),
        StructureKind::Femur => bones::femur(a, s.side),
        StructureKind::SacroiliacJoint => bones::si_joint(a, s.side),
        k if k.vertebra_level().is_some() => spine::vertebra(a, spine, k),
        k if k.disc_levels().is_some() => Ok(spine::disc(spine, k)),
        _ => Ok(Vec::new()),
    }
}

/// Skin weights of a disc: each vertex follows the vertebra above it as far as it lies up
/// towards that vertebra's endplate and the one below (or the pelvis, under L5) as far as it
/// lies down towards the lower endplate, so the disc bends between them.
fn disc_weights(
    spine: &spine::Spine,
    kind: StructureKind,
    mesh: &TriMesh,
) -> Vec<([u8; 4], [u8; 4])> {
    let Some(k) = StructureKind::DISCS.iter().position(|d| *d == kind) else {
        return Vec::new();
    };
    let disc = &spine.discs[k];
    let above = sweep::JOINT_VERTEBRAE[k];
    let below = sweep::JOINT_VERTEBRAE
        .get(k + 1)
        .copied()
        .unwrap_or(sweep::JOINT_PELVIS);
    mesh.positions
        .iter()
        .map(|p| {
            let up = disc.lower.height_m(*p);
            let down = -disc.upper.height_m(*p);
            let f = (up / (up + down).max(1e-6)).clamp(0.0, 1.0);
            let mut w = [0.0; JOINT_COUNT];
            w[above] = f;
            w[below] = 1.0 - f;
            quantize_weights(&w)
        })
        .collect()
}

fn finish(grid: &Grid, kind: StructureKind) -> TriMesh {
    finish_with(grid, kind, resolution(kind))
}

fn finish_with(grid: &Grid, kind: StructureKind, (_, budget, passes): Resolution) -> TriMesh {
    let mut mesh = TriMesh::from_grid(grid);
    // A muscle is one piece: what bone cuts off it (a corner of the piriformis's origin
    // behind a ridge of the sacrum) is dropped. A nerve keeps its divisions (a fibular
    // division that leaves the sciatic sheath high is a piece of its own) but not the
    // crumbs of a root cut between the sacrum and the piriformis.
    match kind.layer() {
        crate::anatomy::Layer::Muscles => mesh = mesh.without_crumbs(0.5),
        crate::anatomy::Layer::Nerves => mesh = mesh.without_crumbs(0.1),
        _ => {}
    }
    mesh.taubin_smooth(passes, &|_| false);
    mesh.simplified(budget)
}

/// What the weights across the hip are fitted against: the postures, and the bones' fields
/// in their rest frames.
struct HipFit<'a> {
    poses: &'a hip::HipPoses,
    bones: &'a [(Structure, Grid)],
}

impl HipFit<'_> {
    /// A skinned structure's weights with the hip's blends moved through the half-turn
    /// helpers; for a muscle or nerve of one side, the share of its vertices near that hip
    /// fitted to keep them out of bone (see [`hip`]).
    fn weights(&self, s: Structure, mesh: &TriMesh, path: Vec<JointWeights>) -> Vec<JointWeights> {
        let shares = self.fitted_shares(s, mesh, &path);
        path.iter()
            .zip(shares)
            .map(|(w, share)| hip::through_helpers(w, share.map(|t| (s.side, t))))
            .collect()
    }

    /// The thigh share fitted for each vertex near the hip of `s`'s side; none for a
    /// midline structure (or a model without the hip's bones).
    fn fitted_shares(
        &self,
        s: Structure,
        mesh: &TriMesh,
        path: &[JointWeights],
    ) -> Vec<Option<f32>> {
        let grid = |kind: StructureKind, side: Side| {
            self.bones
                .iter()
                .find(|(t, _)| t.kind == kind && t.side == side)
                .map(|(_, g)| g)
        };
        let (Side::Left | Side::Right, Some(hip_bone), Some(sacrum), Some(femur)) = (
            s.side,
            grid(StructureKind::HipBone, s.side),
            grid(StructureKind::Sacrum, Side::Midline),
            grid(StructureKind::Femur, s.side),
        ) else {
            return vec![None; path.len()];
        };
        let pelvis = |p: Vec3| hip_bone.sample(p).min(sacrum.sample(p));
        let femur = |p: Vec3| femur.sample(p);
        let prior: Vec<Option<f32>> = path.iter().map(|w| hip::thigh_share(w, s.side)).collect();
        hip::fit_shares(
            mesh,
            &prior,
            s.side,
            self.poses,
            &hip::HipBones {
                pelvis: &pelvis,
                femur: &femur,
            },
        )
    }
}

/// A signed distance to all bones (minimum over their grids).
struct BoneField<'a> {
    grids: Vec<&'a Grid>,
}

impl BoneField<'_> {
    fn distance_m(&self, p: Vec3) -> f32 {
        self.grids.iter().map(|g| g.sample(p)).fold(FAR_M, f32::min)
    }
}

fn quantize_weights(w: &JointWeights) -> ([u8; 4], [u8; 4]) {
    let mut order: Vec<usize> = (0..JOINT_COUNT).collect();
    order.sort_by(|a, b| w[*b].total_cmp(&w[*a]).then(a.cmp(b)));
    let top: Vec<usize> = order.into_iter().take(4).collect();
    let sum: f32 = top.iter().map(|i| w[*i].max(0.0)).sum::<f32>().max(1e-6);
    let mut q = [0u8; 4];
    let mut joints = [0u8; 4];
    for (k, i) in top.iter().enumerate() {
        joints[k] = *i as u8;
        q[k] = ((w[*i].max(0.0) / sum) * 255.0).round() as u8;
    }
    let total: i32 = q.iter().map(|v| i32::from(*v)).sum();
    q[0] = (i32::from(q[0]) + 255 - total).clamp(0, 255) as u8;
    // Unused slots point at joint 0 with weight 0 (valid glTF).
    for k in 0..4 {
        if q[k] == 0 {
            joints[k] = 0;
        }
    }
    (joints, q)
}

/// Builds a muscle or nerve from balls already pushed clear of bone: meshed, bone (and
/// whatever else `cut` holds) cut away, then morph and weights per vertex from the ball each
/// vertex came from (`morph` gets the mesh, its normals and each vertex's ball index, and
/// gives a delta per vertex).
fn soft_structure(
    s: Structure,
    name: String,
    res: Resolution,
    samples: &[SweepSample],
    cut: &(dyn Fn(Vec3) -> f32 + Sync),
    morph: &dyn Fn(&TriMesh, &[Vec3], &[usize]) -> Vec<Vec3>,
    morph_name: &str,
    hip_fit: &HipFit,
) -> (Grid, GeneratedStructure) {
    let mut grid = rasterize(&[Part::union(sweep::balls(samples), 0.0)], res.0);
    grid.map(|p, v| {
        if v > 0.01 {
            v
        } else {
            smooth_max(v, -(cut(p) - SOFT_TISSUE_BONE_GAP_M), 0.001)
        }
    });
    let mesh = finish_with(&grid, s.kind, res);
    let nearest: Vec<usize> = mesh
        .positions
        .iter()
        .map(|p| sweep::nearest_sample(samples, *p))
        .collect();
    let normals = mesh.normals();
    let deltas = morph(&mesh, &normals, &nearest);
    let weights = hip_fit
        .weights(
            s,
            &mesh,
            nearest.iter().map(|i| samples[*i].weights).collect(),
        )
        .iter()
        .map(quantize_weights)
        .collect();
    let colors = (s.kind.layer() == crate::anatomy::Layer::Muscles).then(|| {
        let bands = fibre_bands(samples);
        mesh.positions
            .iter()
            .zip(&nearest)
            .map(|(p, i)| fibre_shade(*p, &samples[*i], bands))
            .collect()
    });
    (
        grid,
        GeneratedStructure {
            structure: s,
            name,
            normals,
            material: MaterialKind::of(s.kind),
            morphs: vec![(morph_name.to_string(), deltas)],
            weights: Some(weights),
            regions: None,
            colors,
            mesh,
        },
    )
}

/// Width of one light and one dark fibre band at the widest part of a muscle: about a
/// fascicle bundle.
const FIBRE_BAND_PERIOD_M: f32 = 0.025;

/// How many light and dark band pairs run across a muscle: as many as fit its typical
/// (median) section, at least two. Not its widest: a fan's bands converge with its fibres,
/// and as many as fit the broad end would crowd into stripes finer than the mesh where it
/// narrows.
fn fibre_bands(samples: &[SweepSample]) -> f32 {
    let mut widths_m: Vec<f32> = samples.iter().map(|s| 2.0 * s.half_width_m).collect();
    widths_m.sort_by(f32::total_cmp);
    let median_m = widths_m.get(widths_m.len() / 2).copied().unwrap_or(0.0);
    (median_m / FIBRE_BAND_PERIOD_M).round().max(2.0)
}

/// Fibre striping for muscles: light and dark bands that run along the fibres (the
/// sweep's path direction), as in an anatomy atlas. The shade depends only on where a point
/// lies across the fibres (its ball's `fibre_u` plus its own offset, so it is continuous
/// from ball to ball): that stays the same along a fibre and changes across the fibres.
fn fibre_shade(p: Vec3, s: &SweepSample, bands: f32) -> [u8; 4] {
    let across = s.fibre_u + (p - s.centre).dot(s.width_dir) * s.fibre_u_per_m;
    let band = 0.5 + 0.5 * (std::f32::consts::PI * bands * across).sin();
    let shade = (255.0 * (1.0 - 0.3 * band * band)).round() as u8;
    [shade, shade, shade, 255]
}

/// How much thicker the belly of a tense muscle is: the piriformis in piriformis syndrome,
/// 11.6 vs 8.5 mm on ultrasound (Siahaan et al. 2021), +36 %.
const TENSE_THICKER: f32 = 0.36;
/// How much narrower the belly gets: 15 % (illustrative). With the thickening, the belly
/// then shortens by 1 / (1.36 × 0.85), 13.5 %, to keep its volume.
const TENSE_NARROWER: f32 = 0.15;

/// The `tense` morph of a muscle: the belly thicker, narrower and shorter so that every
/// slice keeps its volume (muscle is incompressible). Both ends stay on their attachments:
/// the length the belly gives up is taken by the thin tendinous ends, which stretch.
struct Tense {
    /// Length of the muscle's middle line.
    length_m: f32,
}

impl Tense {
    /// How much of the change applies at t: all of it mid-belly, none at the ends. The
    /// square root of a sine: a belly is fleshy over most of its length, so the change
    /// stays near full over the middle half (≥ 84 % from t = 0.25 to 0.75) and falls off
    /// only towards the tendons.
    fn belly(t: f32) -> f32 {
        (std::f32::consts::PI * t).sin().max(0.0).sqrt()
    }

    /// Cross-section area of the tense muscle over the area at rest, at t.
    fn section_factor(t: f32) -> f32 {
        let b = Self::belly(t);
        (1.0 + TENSE_THICKER * b) * (1.0 - TENSE_NARROWER * b)
    }

    /// Shift along the path (metres) at t = i / (n − 1), the belly shortening `shortening`
    /// times what keeps each slice's volume.
    fn shifts_m(&self, shortening: f32) -> Vec<f32> {
        const N: usize = 257;
        let dt = 1.0 / (N - 1) as f32;
        let mid = |i: usize| (i as f32 + 0.5) * dt;
        // Where the belly shortens each slice by 1 / section factor; where the tendinous
        // ends are (weight (1 − belly)³), they stretch by as much in total.
        let belly_strain = |t: f32| shortening * (1.0 / Self::section_factor(t) - 1.0);
        let end_weight = |t: f32| (1.0 - Self::belly(t)).powi(3);
        let shorter: f32 = (0..N - 1).map(|i| belly_strain(mid(i)) * dt).sum();
        let ends: f32 = (0..N - 1).map(|i| end_weight(mid(i)) * dt).sum();
        let stretch = -shorter / ends.max(1e-6);
        let mut shift_m = vec![0.0f32; N];
        for i in 0..N - 1 {
            let t = mid(i);
            shift_m[i + 1] =
                shift_m[i] + (belly_strain(t) + stretch * end_weight(t)) * dt * self.length_m;
        }
        shift_m
    }

    /// The morph of a whole muscle (each vertex of `mesh` with the index of the ball it came
    /// from). The stretched tendinous ends and the balls pushed off bone add or take a few
    /// per cent of volume, so the belly's shortening is scaled (within ½ to 1½ times what
    /// each slice needs) until the whole muscle keeps its volume.
    fn deltas(&self, samples: &[SweepSample], mesh: &TriMesh, nearest: &[usize]) -> Vec<Vec3> {
        let at = |shortening: f32| -> Vec<Vec3> {
            let shifts = self.shifts_m(shortening);
            mesh.positions
                .iter()
                .zip(nearest)
                .map(|(p, i)| Self::delta(*p, &samples[*i], &shifts))
                .collect()
        };
        let volume_ratio = |deltas: &[Vec3]| {
            let tense = TriMesh {
                positions: mesh
                    .positions
                    .iter()
                    .zip(deltas)
                    .map(|(p, d)| *p + *d)
                    .collect(),
                indices: mesh.indices.clone(),
            };
            tense.signed_volume_m3() / mesh.signed_volume_m3()
        };
        // The volume changes almost linearly with the shortening: one secant step.
        let (k0, k1) = (1.0, 1.5);
        let (v0, v1) = (volume_ratio(&at(k0)), volume_ratio(&at(k1)));
        let k = if (v1 - v0).abs() > 1e-6 {
            k0 + (1.0 - v0) * (k1 - k0) / (v1 - v0)
        } else {
            k0
        };
        at(k.clamp(0.5, 1.5))
    }

    fn delta(p: Vec3, s: &SweepSample, shifts_m: &[f32]) -> Vec3 {
        let b = Self::belly(s.t);
        let off = p - s.centre;
        // Narrower about the middle of the whole cross-section, not each ball about its own.
        let across_m = s.across_m + off.dot(s.width_dir);
        let x = s.t.clamp(0.0, 1.0) * (shifts_m.len() - 1) as f32;
        let i = (x.floor() as usize).min(shifts_m.len() - 2);
        let shift_m = shifts_m[i] + (shifts_m[i + 1] - shifts_m[i]) * (x - i as f32);
        s.thick_dir * (off.dot(s.thick_dir) * TENSE_THICKER * b)
            - s.width_dir * (across_m * TENSE_NARROWER * b)
            + s.tangent * shift_m
    }
}

/// Length of a swept shape's middle line (through the balls nearest the middle of each
/// cross-section).
fn middle_line_length_m(samples: &[SweepSample]) -> f32 {
    let mut line: Vec<(f32, Vec3, f32)> = Vec::new();
    for s in samples {
        match line.last_mut() {
            Some(last) if last.0 == s.t => {
                if s.across_m.abs() < last.2 {
                    *last = (s.t, s.centre, s.across_m.abs());
                }
            }
            _ => line.push((s.t, s.centre, s.across_m.abs())),
        }
    }
    line.windows(2).map(|w| (w[1].1 - w[0].1).length()).sum()
}

/// How much of its thickness a nerve keeps where the piriformis presses on it (two
/// thirds; illustrative: no study measured the flattening).
const NERVE_FLATTENED_TO: f32 = 2.0 / 3.0;
/// Cross-section just downstream of the compression over the cross-section at rest: +20 %,
/// as in S1 radiculopathy at the gluteal fold (39.6 vs 32.9 mm², `referral_facts.md` §3.3).
const NERVE_SWELLING_AREA: f32 = 1.2;

fn smoothstep(e0: f32, e1: f32, x: f32) -> f32 {
    let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// How the piriformis presses on a nerve division.
#[derive(Clone, Copy, Debug)]
enum Press {
    /// The muscle lies on one side: the side facing it is pushed away, the far side stays.
    Beside,
    /// The division runs through the muscle: squeezed from both sides.
    Through,
}

/// The `compressed` morph of a nerve division: flattened where the piriformis presses on
/// it and swollen just downstream (illustrative; no study measured it).
struct Compression {
    /// Where along the division (0…1) it passes the piriformis.
    t_cross: f32,
    /// Length of the division's guide.
    length_m: f32,
    /// From the division towards the muscle (for `Through`: across the muscle's fibres).
    press_dir: Vec3,
    press: Press,
}

impl Compression {
    fn delta(&self, p: Vec3, s: &SweepSample) -> Vec3 {
        // Distance downstream of the crossing along the division.
        let d = (s.t - self.t_cross) * self.length_m;
        let centre = s.centre - s.width_dir * s.across_m;
        let off = p - centre;
        let radial = off - s.tangent * off.dot(s.tangent);
        let dir = (self.press_dir - s.tangent * self.press_dir.dot(s.tangent)).normalize_or_zero();
        let mut delta = Vec3::ZERO;
        // Flattened over the width of the muscle's edge (≈ 16 mm), fading out over 12 mm.
        let flatten = 1.0 - smoothstep(0.008, 0.020, d.abs());
        if flatten > 0.0 {
            // The section's half-extent towards the muscle.
            let band_m = s.half_width_m - s.radius_m;
            let half_m = s.radius_m + band_m * s.width_dir.dot(dir).abs();
            let x = off.dot(dir);
            let squeeze = 1.0 - NERVE_FLATTENED_TO;
            let shift_m = match self.press {
                Press::Beside => (x + half_m) * squeeze,
                Press::Through => x * squeeze,
            };
            delta -= dir * (shift_m * flatten);
        }
        // Swollen 3–5 cm downstream.
        let swell = smoothstep(0.020, 0.030, d) * (1.0 - smoothstep(0.050, 0.065, d));
        delta + radial * ((NERVE_SWELLING_AREA.sqrt() - 1.0) * swell)
    }
}

/// A sciatic nerve of one of Beaton & Anson's types, kept clear of bone and (where it does
/// not run through it) of the piriformis, with its compression morph.
fn nerve_structure(
    a: &Anatomy,
    side: Side,
    variant: NerveVariant,
    bones: &BoneField<'_>,
    muscles: &[(Grid, GeneratedStructure)],
    hip_fit: &HipFit,
) -> Result<(Grid, GeneratedStructure), FileError> {
    let piriformis = muscles
        .iter()
        .find(|(_, m)| m.structure.kind == StructureKind::Piriformis && m.structure.side == side);
    // How far the piriformis reaches above its line where a divided nerve passes it.
    let frame = soft::piriformis_frame_at_crossing(a, side, variant.passages().0)?;
    // (The first step out of the muscle after one in it: if the line of action missed the
    // generated muscle, the default rather than a height of zero.)
    let above_m = piriformis.map_or(0.012, |(g, _)| {
        let outside = |h: &f32| g.sample(frame.centre + frame.width_dir * *h) > 0.0;
        (0..100)
            .map(|k| k as f32 * 0.0005)
            .skip_while(outside)
            .find(outside)
            .unwrap_or(0.012)
    });
    let nerve = soft::nerve(a, side, variant, above_m)?;
    let mut with_piriformis = bones.grids.clone();
    if let Some((g, _)) = piriformis {
        with_piriformis.push(g);
    }
    let with_piriformis = BoneField {
        grids: with_piriformis,
    };
    fn clear(samples: &mut [SweepSample], field: &BoneField<'_>) {
        sweep::push_out(samples, &|p| field.distance_m(p), SOFT_TISSUE_BONE_GAP_M);
    }
    let mut samples = nerve.branches;
    // The roots run on the front of the sacrum and the piriformis: a root ball that starts
    // inside the bone or the muscle comes out in front of it.
    sweep::push_out_along(
        &mut samples,
        &|p| with_piriformis.distance_m(p),
        SOFT_TISSUE_BONE_GAP_M,
        &|_| Vec3::Z,
    );
    let mut division_of: Vec<Option<usize>> = vec![None; samples.len()];
    let mut compressions = Vec::new();
    // Balls of a division that runs through the piriformis, where they are in it.
    let mut in_muscle: Vec<SweepSample> = Vec::new();
    for d in nerve.divisions {
        let through = d.passage == PiriformisPassage::Through;
        let mut ds = d.samples;
        clear(&mut ds, if through { bones } else { &with_piriformis });
        if through {
            in_muscle.extend(
                ds.iter()
                    .filter(|s| with_piriformis.distance_m(s.centre) < s.radius_m + 0.003),
            );
        }
        let distance_to = |p: Vec3| (p - d.crossing).length();
        let Some(at_crossing) = ds
            .iter()
            .min_by(|x, y| distance_to(x.centre).total_cmp(&distance_to(y.centre)))
        else {
            continue;
        };
        let t_cross = at_crossing.t;
        // The middle of the division's cross-section there (after it was pushed clear).
        let middle = at_crossing.centre - at_crossing.width_dir * at_crossing.across_m;
        let press_dir = if through {
            soft::piriformis_frame_at_crossing(a, side, d.passage)?.width_dir
        } else {
            // Towards the nearest point of the muscle's surface (a vertex would do on a
            // fine mesh; on a broad face it can lie well to one side).
            piriformis
                .and_then(|(_, m)| m.mesh.closest_point(middle))
                .map_or(Vec3::Y, |p| (p - middle).normalize_or_zero())
        };
        let k = compressions.len();
        compressions.push(Compression {
            t_cross,
            length_m: sweep::length_m(&d.guide).max(1e-3),
            press_dir,
            press: if through {
                Press::Through
            } else {
                Press::Beside
            },
        });
        division_of.extend(std::iter::repeat_n(Some(k), ds.len()));
        samples.extend(ds);
    }
    let structure = Structure {
        kind: StructureKind::SciaticNerve,
        side,
    };
    let res = if variant == NerveVariant::A {
        resolution(StructureKind::SciaticNerve)
    } else {
        NERVE_VARIANT_RESOLUTION
    };
    Ok(soft_structure(
        structure,
        variant.gltf_name(side),
        res,
        &samples,
        // Bone is cut out everywhere, the piriformis everywhere but where a division runs
        // through it.
        &|p| {
            let in_it = in_muscle
                .iter()
                .any(|s| (p - s.centre).length() < s.radius_m + 0.004);
            if in_it {
                bones.distance_m(p)
            } else {
                with_piriformis.distance_m(p)
            }
        },
        &|mesh, _, nearest| {
            mesh.positions
                .iter()
                .zip(nearest)
                .map(|(p, i)| {
                    division_of[*i].map_or(Vec3::ZERO, |k| compressions[k].delta(*p, &samples[*i]))
                })
                .collect()
        },
        "compressed",
        hip_fit,
    ))
}

/// How far the skin's field is grown around the inner structures: the minimum soft-tissue
/// layer plus 4 mm for what smoothing and simplification take off the skin.
const SKIN_OVER_INNER_M: f32 = skin::MIN_SOFT_TISSUE_M + 0.004;

/// The body surface around every inner structure (their fields grown by the soft-tissue
/// layer), with regions and skin weights per vertex.
fn skin_structure(
    a: &Anatomy,
    inner: &[&Grid],
    hip_fit: &HipFit,
) -> Result<GeneratedStructure, FileError> {
    let levels = skin::BodyLevels::new(a)?;
    let mut skin_grid = rasterize(
        &skin::body_parts(&levels),
        resolution(StructureKind::Skin).0,
    );
    let inner_boxes: Vec<Aabb> = inner.iter().map(|g| g.bounds()).collect();
    let all_inner = inner_boxes
        .iter()
        .copied()
        .reduce(Aabb::union)
        .unwrap_or(Aabb::EMPTY);
    skin_grid.map(|p, v| {
        // Most of the body lies away from every inner structure: one box test there, and a
        // box test per grid before its trilinear sample (outside its box it is FAR_M).
        if !all_inner.contains(p) {
            return v;
        }
        let d = inner
            .iter()
            .zip(&inner_boxes)
            .filter(|(_, b)| b.contains(p))
            .map(|(g, _)| g.sample(p))
            .fold(FAR_M, f32::min);
        if d >= FAR_M {
            v
        } else {
            smooth_min(v, d - SKIN_OVER_INNER_M, 0.035)
        }
    });
    let skin_mesh = finish(&skin_grid, StructureKind::Skin);
    let regions = skin_mesh
        .positions
        .iter()
        .map(|p| skin::region_of(&levels, *p).index())
        .collect();
    let structure = Structure {
        kind: StructureKind::Skin,
        side: Side::Midline,
    };
    let skin_weights = skin_mesh
        .positions
        .iter()
        .map(|p| skin::skin_weights(&levels, *p))
        .collect();
    let skin_weights = hip_fit
        .weights(structure, &skin_mesh, skin_weights)
        .iter()
        .map(quantize_weights)
        .collect();
    Ok(GeneratedStructure {
        structure,
        name: structure.gltf_name(),
        normals: skin_mesh.normals(),
        material: MaterialKind::Skin,
        morphs: Vec::new(),
        weights: Some(skin_weights),
        regions: Some(regions),
        colors: None,
        mesh: skin_mesh,
    })
}

/// The skin's posture correctives ([`crease`]): a morph target per preset in
/// [`crate::posture::correctives::PRESETS`], named by its id, computed in parallel.
fn skin_correctives(
    skin: &GeneratedStructure,
    skeleton: &crate::posture::kinematics::Skeleton,
    postures: &PostureFile,
) -> Vec<(String, Vec<Vec3>)> {
    let Some(weights) = &skin.weights else {
        return Vec::new();
    };
    crate::posture::correctives::PRESETS
        .par_iter()
        .map(|id| {
            let posture = postures.limits.clamp(&postures.posture(*id));
            let pose = crate::posture::kinematics::pose(skeleton, &posture, &postures.lumbar);
            (
                id.to_string(),
                crease::corrective(&skin.mesh, weights, &pose),
            )
        })
        .collect()
}

/// A muscle: its balls laid on what it lies on (as [`soft::layering`] says), pushed clear
/// of bone and of the soft structures under it (`earlier`, found by kind and side), meshed
/// with those cut out, with its `tense` morph.
fn muscle_structure(
    a: &Anatomy,
    s: Structure,
    bones: &[(Structure, Grid)],
    earlier: &[&(Grid, GeneratedStructure)],
    hip_fit: &HipFit,
) -> Result<(Grid, GeneratedStructure), FileError> {
    let layering = soft::layering(s.kind, s.side);
    let on_side = |t: &Structure| t.side == s.side || t.side == Side::Midline;
    let grids_of = |kinds: &[StructureKind]| -> Vec<&Grid> {
        bones
            .iter()
            .filter(|(t, _)| kinds.contains(&t.kind) && on_side(t))
            .map(|(_, g)| g)
            .chain(
                earlier
                    .iter()
                    .filter(|(_, m)| kinds.contains(&m.structure.kind) && on_side(&m.structure))
                    .map(|(g, _)| g),
            )
            .collect()
    };
    let obstacles = BoneField {
        grids: bones
            .iter()
            .filter(|(t, _)| t.kind != StructureKind::SacroiliacJoint)
            .map(|(_, g)| g)
            .chain(grids_of(layering.over))
            .collect(),
    };
    let mut samples = soft::muscle(a, s.kind, s.side)?;
    if let Some((dir, range, onto, max_in_m)) = layering.lay {
        let surface = BoneField {
            grids: bones
                .iter()
                .filter(|(t, _)| onto.contains(&t.kind) && on_side(t))
                .map(|(_, g)| g)
                .collect(),
        };
        let bed = bed_field(
            earlier
                .iter()
                .filter(|(_, m)| onto.contains(&m.structure.kind) && on_side(&m.structure))
                .map(|(_, m)| m),
        );
        let surface_m = |p: Vec3| {
            let d = surface.distance_m(p);
            bed.as_ref().map_or(d, |g| d.min(g.sample(p)))
        };
        sweep::lay_on(
            &mut samples,
            &surface_m,
            SOFT_TISSUE_BONE_GAP_M,
            dir,
            range,
            0.04,
            max_in_m,
        );
    }
    // A muscle laid over its whole length already lies on what is under it; pushing its
    // balls one by one would only make bumps (what still overlaps is cut out below).
    let laid_whole = layering.lay.is_some_and(|(_, (_, to), _, _)| to >= 1.0);
    match layering.out {
        _ if laid_whole => {}
        Some((out, t_max)) => sweep::push_out_along(
            &mut samples,
            &|p| obstacles.distance_m(p),
            SOFT_TISSUE_BONE_GAP_M,
            &|b| if b.t <= t_max { out } else { Vec3::ZERO },
        ),
        None => sweep::push_out(
            &mut samples,
            &|p| obstacles.distance_m(p),
            SOFT_TISSUE_BONE_GAP_M,
        ),
    }
    // A muscle that reaches the midline (gluteus maximus at the natal cleft) stays on its
    // own side, its surface a little off the midline.
    let sign = s.side.gltf_x_sign();
    if layering.own_side {
        for b in &mut samples {
            let min_x = b.radius_m + MIDLINE_CLEARANCE_M;
            if b.centre.x * sign < min_x {
                b.centre.x = min_x * sign;
            }
        }
    }
    sweep::remeasure_across(&mut samples);
    let tense = Tense {
        length_m: middle_line_length_m(&samples),
    };
    let own_side = layering.own_side;
    Ok(soft_structure(
        s,
        s.gltf_name(),
        resolution(s.kind),
        &samples,
        &|p| {
            let d = obstacles.distance_m(p);
            if own_side {
                // The midline counts as an obstacle: one gap plus the clearance away.
                d.min(p.x * sign - MIDLINE_CLEARANCE_M + SOFT_TISSUE_BONE_GAP_M)
            } else {
                d
            }
        },
        &|p, _, i| tense.deltas(&samples, p, i),
        "tense",
        hip_fit,
    ))
}

/// How far beyond a soft structure's surface its bed field (for laying other muscles on
/// it) is right, and how fine.
const BED_REACH_M: f32 = 0.026;
const BED_VOXEL_M: f32 = 0.003;

/// A distance field around soft structures that is right far from them (the structures'
/// own fields are only right close to their surface): the distance to their mesh vertices,
/// for laying a muscle on them. A nerve counts as a broad ridge (the fat and fascia around
/// it), so a muscle laid on it bridges it instead of closing round it.
fn bed_field<'a>(under: impl Iterator<Item = &'a GeneratedStructure>) -> Option<Grid> {
    let mut points = Vec::new();
    for m in under {
        let radius_m = if m.structure.kind == StructureKind::SciaticNerve {
            NERVE_BED_M
        } else {
            0.0
        };
        points.extend(
            m.mesh
                .positions
                .iter()
                .step_by(2)
                .map(|p| Primitive::Sphere {
                    centre: *p,
                    radius_m,
                }),
        );
    }
    let bounds = points
        .iter()
        .map(Primitive::bounds)
        .reduce(Aabb::union)?
        .grown(BED_REACH_M);
    let mut grid = Grid::new(bounds.min, bounds.max, BED_VOXEL_M);
    grid.apply(&Part::union(points, BED_REACH_M));
    Some(grid)
}

/// How far a muscle lying over a nerve stays off it, besides the usual gap.
const NERVE_BED_M: f32 = 0.008;

/// How far a muscle that reaches the midline stays off it (half the natal cleft).
const MIDLINE_CLEARANCE_M: f32 = 0.0015;

/// Generates the model from the anatomy; the weights across the hips are fitted over the
/// posture presets of `postures`.
pub fn generate(a: &Anatomy, postures: &PostureFile) -> Result<GeneratedModel, ModelgenError> {
    let all = Structure::all();
    let spine = spine::Spine::new(a)?;
    let is_bone = |s: &Structure| {
        matches!(
            s.kind.layer(),
            crate::anatomy::Layer::Bones | crate::anatomy::Layer::Discs
        ) || s.kind == StructureKind::SacroiliacJoint
    };
    // 1. Bones, discs and SI joints.
    let bone_list: Vec<Structure> = all.iter().copied().filter(is_bone).collect();
    let bone_grids: Vec<(Structure, Grid)> = bone_list
        .par_iter()
        .map(|s| Ok((*s, bone_grid(a, &spine, *s)?)))
        .collect::<Result<_, FileError>>()?;
    let bone_meshes: Vec<GeneratedStructure> = bone_grids
        .par_iter()
        .map(|(s, g)| {
            let mesh = finish(g, s.kind);
            // Discs bend between their vertebrae: skinned; bones hang on their joint or
            // move with the pelvis.
            let weights = (s.kind.layer() == crate::anatomy::Layer::Discs)
                .then(|| disc_weights(&spine, s.kind, &mesh));
            GeneratedStructure {
                structure: *s,
                name: s.gltf_name(),
                normals: mesh.normals(),
                material: MaterialKind::of(s.kind),
                morphs: Vec::new(),
                weights,
                regions: None,
                colors: None,
                mesh,
            }
        })
        .collect();
    let hip_poses = hip::HipPoses::new(&crate::posture::skeleton_of(a)?, postures);
    let hip_fit = HipFit {
        poses: &hip_poses,
        bones: &bone_grids,
    };
    let field = BoneField {
        grids: bone_grids
            .iter()
            .filter(|(s, _)| s.kind != StructureKind::SacroiliacJoint)
            .map(|(_, g)| g)
            .collect(),
    };

    // 2. Muscles, in layers: each is laid on and kept clear of what lies under it (bone,
    // and the muscles and nerve it covers), so the deep ones go first.
    let build = |kinds: &[StructureKind], earlier: &[&(Grid, GeneratedStructure)]| {
        let list: Vec<Structure> = all
            .iter()
            .copied()
            .filter(|s| kinds.contains(&s.kind))
            .collect();
        list.par_iter()
            .map(|s| muscle_structure(a, *s, &bone_grids, earlier, &hip_fit))
            .collect::<Result<Vec<_>, FileError>>()
    };
    let deep = build(
        &[
            StructureKind::PsoasMajor,
            StructureKind::Iliacus,
            StructureKind::Piriformis,
            StructureKind::GluteusMinimus,
        ],
        &[],
    )?;

    // 3. Nerves, kept clear of bone and of the piriformis above them; the usual nerve
    // (type A) and the extra types, each side. Gluteus medius (over minimus) meanwhile.
    let nerve_list: Vec<(Side, NerveVariant)> = NerveVariant::ALL
        .iter()
        .flat_map(|v| [(Side::Left, *v), (Side::Right, *v)])
        .collect();
    let (all_nerves, medius) = rayon::join(
        || {
            nerve_list
                .par_iter()
                .map(|(side, v)| Ok((*v, nerve_structure(a, *side, *v, &field, &deep, &hip_fit)?)))
                .collect::<Result<Vec<_>, FileError>>()
        },
        || {
            build(
                &[StructureKind::GluteusMedius],
                &deep.iter().collect::<Vec<_>>(),
            )
        },
    );
    let (nerves, variants): (Vec<_>, Vec<_>) = all_nerves?
        .into_iter()
        .partition(|(v, _)| *v == NerveVariant::A);
    let nerves: Vec<(Grid, GeneratedStructure)> = nerves.into_iter().map(|(_, n)| n).collect();
    let variants: Vec<(Grid, GeneratedStructure)> = variants.into_iter().map(|(_, n)| n).collect();
    let medius = medius?;
    // Gluteus maximus over all of them (every nerve type kept out of it).
    let under_maximus: Vec<&(Grid, GeneratedStructure)> = deep
        .iter()
        .chain(&medius)
        .chain(&nerves)
        .chain(&variants)
        .collect();
    let maximus = build(&[StructureKind::GluteusMaximus], &under_maximus)?;
    let muscles: Vec<(Grid, GeneratedStructure)> =
        deep.into_iter().chain(medius).chain(maximus).collect();

    // 4. Skin around everything.
    let inner: Vec<&Grid> = bone_grids
        .iter()
        .map(|(_, g)| g)
        .chain(muscles.iter().map(|(g, _)| g))
        .chain(nerves.iter().map(|(g, _)| g))
        .chain(variants.iter().map(|(g, _)| g))
        .collect();
    let mut skin_structure = skin_structure(a, &inner, &hip_fit)?;
    skin_structure.morphs = skin_correctives(&skin_structure, &hip_poses.skeleton, postures);

    let mut by_structure: Vec<GeneratedStructure> = bone_meshes
        .into_iter()
        .chain(muscles.into_iter().map(|(_, m)| m))
        .chain(nerves.into_iter().map(|(_, m)| m))
        .chain(std::iter::once(skin_structure))
        .collect();
    by_structure.sort_by_key(|s| all.iter().position(|x| *x == s.structure));
    by_structure.extend(variants.into_iter().map(|(_, m)| m));

    let lm = |n: &str, side| a.landmark(n, side);
    // The pelvis is the root; the vertebrae a chain up from it (L5 on the pelvis, L4 on L5 …
    // T12 on L1), each at its body's centre; the femurs at the hip joint centres.
    let mut joints = vec![glb::Joint {
        name: "pelvis",
        parent: None,
        position_m: Vec3::ZERO,
    }];
    for (k, v) in spine.vertebrae.iter().enumerate().rev() {
        debug_assert_eq!(joints.len(), sweep::JOINT_VERTEBRAE[k]);
        joints.push(glb::Joint {
            name: v.kind.base_name(),
            parent: Some(joints.len() - 1),
            position_m: v.centre,
        });
    }
    // The femurs, then the hips' half-turn helpers, all on the pelvis at the hip centres,
    // by the names the app poses them by.
    for joint in [
        RigJoint::Femur(Side::Left),
        RigJoint::Femur(Side::Right),
        RigJoint::HipHalf(Side::Left),
        RigJoint::HipHalf(Side::Right),
    ] {
        let (RigJoint::Femur(side) | RigJoint::HipHalf(side)) = joint else {
            continue;
        };
        joints.push(glb::Joint {
            name: joint.node_name(),
            parent: Some(0),
            position_m: lm("hip_joint_centre", side)?,
        });
    }
    debug_assert_eq!(joints.len(), JOINT_COUNT);
    Ok(GeneratedModel {
        structures: by_structure,
        joints,
        copyright: format!("Generated by hipback-modelgen. {}", a.source),
    })
}

/// Generates the model and serialises it to glb bytes.
pub fn generate_glb(a: &Anatomy, postures: &PostureFile) -> Result<Vec<u8>, ModelgenError> {
    let model = generate(a, postures)?;
    Ok(glb::write(&model)?)
}
