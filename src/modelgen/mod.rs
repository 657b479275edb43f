//! The model generator: builds every structure of the pelvis model from the anatomical
//! numbers in `assets/anatomy/` and writes `assets/models/pelvis.glb`.
//!
//! Pure geometry, no ECS. Pipeline per structure: primitives placed at landmarks →
//! signed distance field on a voxel grid → surface nets → Taubin smoothing →
//! simplification to a vertex budget → normals, morph targets and skin weights.

pub mod bones;
pub mod data;
pub mod field;
pub mod glb;
pub mod mesh;
pub mod skin;
pub mod soft;
pub mod sweep;

use bevy::math::Vec3;
use rayon::prelude::*;
use thiserror::Error;

use crate::anatomy::{Side, Structure, StructureKind};
use data::{Anatomy, DataError};
use field::{FAR_M, Grid, Part, rasterize, smooth_max, smooth_min};
use mesh::TriMesh;
use sweep::{JOINT_COUNT, JointWeights, SweepSample};

/// Errors of the generator.
#[derive(Debug, Error)]
pub enum ModelgenError {
    /// Bad or missing anatomical data.
    #[error(transparent)]
    Data(#[from] DataError),
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
}

impl MaterialKind {
    /// In material index order.
    pub const ALL: [MaterialKind; 5] = [
        MaterialKind::Bone,
        MaterialKind::Muscle,
        MaterialKind::Nerve,
        MaterialKind::Joint,
        MaterialKind::Skin,
    ];

    fn of(kind: StructureKind) -> Self {
        use crate::anatomy::Layer;
        match kind.layer() {
            Layer::Bones => MaterialKind::Bone,
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
    /// Which structure.
    pub structure: Structure,
    /// The closed surface.
    pub mesh: TriMesh,
    /// Unit vertex normals.
    pub normals: Vec<Vec3>,
    /// Material.
    pub material: MaterialKind,
    /// Morph target name and per-vertex position deltas.
    pub morph: Option<(String, Vec<Vec3>)>,
    /// Per-vertex four joints and normalised u8 weights (skinned meshes only).
    pub weights: Option<Vec<([u8; 4], [u8; 4])>>,
    /// Per-vertex skin region index (the skin only).
    pub regions: Option<Vec<u16>>,
    /// Per-vertex colour (RGBA, multiplies the material): fibre striping on muscles.
    pub colors: Option<Vec<[u8; 4]>>,
}

/// The whole model.
pub struct GeneratedModel {
    /// Structures in [`Structure::all`] order.
    pub structures: Vec<GeneratedStructure>,
    /// Rig joints in skin order.
    pub joints: Vec<glb::Joint>,
    /// Attribution.
    pub copyright: String,
}

/// How finely each structure is sampled and how many vertices it may keep.
fn resolution(kind: StructureKind) -> (f32, usize, usize) {
    // (voxel size m, vertex budget, Taubin passes)
    match kind {
        StructureKind::HipBone => (0.0014, 3600, 6),
        StructureKind::Sacrum => (0.0014, 2400, 6),
        StructureKind::Coccyx => (0.0008, 400, 4),
        StructureKind::VertebraL4 | StructureKind::VertebraL5 => (0.0010, 1400, 5),
        StructureKind::Femur => (0.0016, 2800, 6),
        StructureKind::GluteusMaximus => (0.0020, 2200, 20),
        StructureKind::GluteusMedius => (0.0018, 1600, 20),
        StructureKind::GluteusMinimus => (0.0015, 1100, 20),
        StructureKind::Piriformis => (0.0010, 700, 8),
        StructureKind::PsoasMajor => (0.0018, 1400, 8),
        StructureKind::Iliacus => (0.0015, 1100, 12),
        StructureKind::SciaticNerve => (0.0009, 1500, 6),
        StructureKind::SacroiliacJoint => (0.0007, 400, 4),
        StructureKind::Skin => (0.0048, 40_600, 14),
    }
}

/// Gap kept between muscles or nerve and bone.
pub const SOFT_TISSUE_BONE_GAP_M: f32 = 0.0012;

/// A bone's field, with pits where a tendon attachment ended up buried in it.
fn bone_grid(a: &Anatomy, s: Structure) -> Result<Grid, DataError> {
    let mut grid = rasterize(&bone_parts(a, s)?, resolution(s.kind).0);
    if s.kind != StructureKind::SacroiliacJoint {
        let pits = bones::attachment_pits(a, s.kind, s.side, &|p| -grid.sample(p))?;
        grid.apply(&pits);
    }
    Ok(grid)
}

fn bone_parts(a: &Anatomy, s: Structure) -> Result<Vec<Part>, DataError> {
    match s.kind {
        StructureKind::HipBone => bones::hip_bone(a, s.side),
        StructureKind::Sacrum => bones::sacrum(a),
        StructureKind::Coccyx => bones::coccyx(a),
        StructureKind::VertebraL4 => bones::vertebra(a, "L4"),
        StructureKind::VertebraL5 => bones::vertebra(a, "L5"),
        StructureKind::Femur => bones::femur(a, s.side),
        StructureKind::SacroiliacJoint => bones::si_joint(a, s.side),
        _ => Ok(Vec::new()),
    }
}

fn finish(grid: &Grid, kind: StructureKind) -> TriMesh {
    let (_, budget, passes) = resolution(kind);
    let mut mesh = TriMesh::from_grid(grid);
    if kind.layer() == crate::anatomy::Layer::Muscles {
        mesh = mesh.without_crumbs(0.02);
    }
    mesh.taubin_smooth(passes, &|_| false);
    mesh.simplified(budget)
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

/// Builds a muscle or nerve: balls pushed clear of bone, meshed, bone cut away, then
/// morph and weights per vertex from the ball each vertex came from.
fn soft_structure(
    s: Structure,
    mut samples: Vec<SweepSample>,
    bones: &BoneField<'_>,
    morph: &dyn Fn(Vec3, &SweepSample) -> Vec3,
    morph_name: &str,
) -> (Grid, GeneratedStructure) {
    let (voxel, _, _) = resolution(s.kind);
    sweep::push_out(
        &mut samples,
        &|p| bones.distance_m(p),
        SOFT_TISSUE_BONE_GAP_M,
    );
    let mut grid = rasterize(&[Part::union(sweep::balls(&samples), 0.0)], voxel);
    grid.map(|p, v| {
        if v > 0.01 {
            v
        } else {
            smooth_max(v, -(bones.distance_m(p) - SOFT_TISSUE_BONE_GAP_M), 0.001)
        }
    });
    let mesh = finish(&grid, s.kind);
    let nearest: Vec<&SweepSample> = mesh
        .positions
        .iter()
        .map(|p| &samples[sweep::nearest_sample(&samples, *p)])
        .collect();
    let deltas = mesh
        .positions
        .iter()
        .zip(&nearest)
        .map(|(p, n)| morph(*p, n))
        .collect();
    let weights = nearest
        .iter()
        .map(|n| quantize_weights(&n.weights))
        .collect();
    let colors = (s.kind.layer() == crate::anatomy::Layer::Muscles).then(|| {
        mesh.positions
            .iter()
            .zip(&nearest)
            .map(|(p, n)| fibre_shade(*p, n))
            .collect()
    });
    let normals = mesh.normals();
    (
        grid,
        GeneratedStructure {
            structure: s,
            normals,
            material: MaterialKind::of(s.kind),
            morph: Some((morph_name.to_string(), deltas)),
            weights: Some(weights),
            regions: None,
            colors,
            mesh,
        },
    )
}

/// Fibre striping for muscles: light and dark bands that run along the fibres (the
/// sweep's path direction), across the width of sheets and around tubes, so the fibre
/// direction reads at a glance as in an anatomy atlas.
fn fibre_shade(p: Vec3, s: &SweepSample) -> [u8; 4] {
    let off = p - s.centre;
    let around = off.dot(s.thick_dir).atan2(off.dot(s.width_dir)) / std::f32::consts::TAU;
    let phase = s.u * 5.0 + around * 5.0;
    let band = 0.5 + 0.5 * (std::f32::consts::TAU * phase).sin();
    let shade = (255.0 * (1.0 - 0.3 * band * band)).round() as u8;
    [shade, shade, shade, 255]
}

/// The "tense" morph: belly thicker (+36 %, piriformis syndrome on ultrasound), narrower
/// and slightly shorter so the volume stays roughly the same.
fn tense_delta(p: Vec3, s: &SweepSample, length_m: f32) -> Vec3 {
    let belly = (std::f32::consts::PI * s.t).sin().max(0.0);
    let off = p - s.centre;
    s.thick_dir * (off.dot(s.thick_dir) * 0.36 * belly)
        - s.width_dir * (off.dot(s.width_dir) * 0.15 * belly)
        + s.tangent * ((0.5 - s.t) * length_m * 0.16 * belly)
}

fn chord_length_m(samples: &[SweepSample]) -> f32 {
    let mean = |f: &dyn Fn(f32) -> bool| {
        let pts: Vec<Vec3> = samples
            .iter()
            .filter(|s| f(s.t))
            .map(|s| s.centre)
            .collect();
        pts.iter().copied().sum::<Vec3>() / pts.len().max(1) as f32
    };
    (mean(&|t| t > 0.98) - mean(&|t| t < 0.02)).length()
}

/// The `compressed` morph of a sciatic nerve: pressed away from the piriformis where it
/// crosses under it, swollen just downstream (illustrative; no study measured it).
struct Compression {
    /// Where along the trunk (0…1) the nerve passes under the piriformis.
    t_cross: f32,
    trunk_length_m: f32,
    /// From the crossing towards the piriformis.
    press_dir: Vec3,
}

impl Compression {
    fn delta(&self, p: Vec3, s: &SweepSample) -> Vec3 {
        if s.u != 0.0 {
            // Roots and terminal branches stay as they are.
            return Vec3::ZERO;
        }
        let d = (s.t - self.t_cross) * self.trunk_length_m;
        let off = p - s.centre;
        let dir = (self.press_dir - s.tangent * self.press_dir.dot(s.tangent)).normalize_or_zero();
        let radial = off - s.tangent * off.dot(s.tangent);
        let mut delta = Vec3::ZERO;
        if d.abs() < 0.014 {
            let w = (std::f32::consts::PI * d / 0.028).cos().powi(2);
            let toward = off.dot(dir);
            delta -= dir * (toward.max(0.0) * 0.6 + toward.min(0.0) * 0.15) * w;
        }
        if d > 0.012 && d < 0.052 {
            let w = (std::f32::consts::PI * (d - 0.012) / 0.04).sin();
            delta += radial * (0.35 * w);
        }
        delta
    }
}

/// A sciatic nerve, kept clear of bone and of the piriformis, with its compression morph.
fn nerve_structure(
    a: &Anatomy,
    side: Side,
    bones: &BoneField<'_>,
    muscles: &[(Grid, GeneratedStructure)],
) -> Result<(Grid, GeneratedStructure), DataError> {
    let samples = soft::nerve(a, side)?;
    let crossing = soft::nerve_crossing(a, side)?;
    let piriformis = muscles
        .iter()
        .find(|(_, m)| m.structure.kind == StructureKind::Piriformis && m.structure.side == side);
    let mut grids = bones.grids.clone();
    if let Some((g, _)) = piriformis {
        grids.push(g);
    }
    let distance_to = |p: Vec3| (p - crossing).length();
    let t_cross = samples
        .iter()
        .filter(|s| s.u == 0.0)
        .min_by(|x, y| distance_to(x.centre).total_cmp(&distance_to(y.centre)))
        .map_or(0.2, |s| s.t);
    let press_dir = piriformis
        .and_then(|(_, m)| {
            m.mesh
                .positions
                .iter()
                .min_by(|x, y| distance_to(**x).total_cmp(&distance_to(**y)))
        })
        .map_or(Vec3::Y, |p| (*p - crossing).normalize_or_zero());
    let trunk_length_m = sweep::length_m(&soft::nerve_trunk_guide(a, side)?).max(1e-3);
    let compression = Compression {
        t_cross,
        trunk_length_m,
        press_dir,
    };
    let s = Structure {
        kind: StructureKind::SciaticNerve,
        side,
    };
    Ok(soft_structure(
        s,
        samples,
        &BoneField { grids },
        &|p, n| compression.delta(p, n),
        "compressed",
    ))
}

/// How far the skin's field is grown around the inner structures: the minimum soft-tissue
/// layer plus 4 mm for what smoothing and simplification take off the skin.
const SKIN_OVER_INNER_M: f32 = skin::MIN_SOFT_TISSUE_M + 0.004;

/// The body surface around every inner structure (their fields grown by the soft-tissue
/// layer), with regions and skin weights per vertex.
fn skin_structure(a: &Anatomy, inner: &[&Grid]) -> Result<GeneratedStructure, DataError> {
    let levels = skin::BodyLevels::new(a)?;
    let mut skin_grid = rasterize(
        &skin::body_parts(&levels),
        resolution(StructureKind::Skin).0,
    );
    skin_grid.map(|p, v| {
        let d = inner.iter().map(|g| g.sample(p)).fold(FAR_M, f32::min);
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
    let skin_weights = skin_mesh
        .positions
        .iter()
        .map(|p| quantize_weights(&skin::skin_weights(&levels, *p)))
        .collect();
    Ok(GeneratedStructure {
        structure: Structure {
            kind: StructureKind::Skin,
            side: Side::Midline,
        },
        normals: skin_mesh.normals(),
        material: MaterialKind::Skin,
        morph: None,
        weights: Some(skin_weights),
        regions: Some(regions),
        colors: None,
        mesh: skin_mesh,
    })
}

/// Generates the model from the anatomy.
pub fn generate(a: &Anatomy) -> Result<GeneratedModel, ModelgenError> {
    let all = Structure::all();
    let is_bone = |s: &Structure| {
        s.kind.layer() == crate::anatomy::Layer::Bones || s.kind == StructureKind::SacroiliacJoint
    };
    // 1. Bones and SI joints.
    let bone_list: Vec<Structure> = all.iter().copied().filter(is_bone).collect();
    let bone_grids: Vec<(Structure, Grid)> = bone_list
        .par_iter()
        .map(|s| Ok((*s, bone_grid(a, *s)?)))
        .collect::<Result<_, DataError>>()?;
    let bone_meshes: Vec<GeneratedStructure> = bone_grids
        .par_iter()
        .map(|(s, g)| {
            let mesh = finish(g, s.kind);
            GeneratedStructure {
                structure: *s,
                normals: mesh.normals(),
                material: MaterialKind::of(s.kind),
                morph: None,
                weights: None,
                regions: None,
                colors: None,
                mesh,
            }
        })
        .collect();
    let field = BoneField {
        grids: bone_grids
            .iter()
            .filter(|(s, _)| s.kind != StructureKind::SacroiliacJoint)
            .map(|(_, g)| g)
            .collect(),
    };

    // 2. Muscles.
    let muscle_list: Vec<Structure> = all
        .iter()
        .copied()
        .filter(|s| s.kind.layer() == crate::anatomy::Layer::Muscles)
        .collect();
    let muscles: Vec<(Grid, GeneratedStructure)> = muscle_list
        .par_iter()
        .map(|s| {
            let samples = soft::muscle(a, s.kind, s.side)?;
            let length = chord_length_m(&samples);
            Ok(soft_structure(
                *s,
                samples,
                &field,
                &|p, n| tense_delta(p, n, length),
                "tense",
            ))
        })
        .collect::<Result<_, DataError>>()?;

    // 3. Nerves, kept clear of bone and of the piriformis above them.
    let nerves: Vec<(Grid, GeneratedStructure)> = [Side::Left, Side::Right]
        .par_iter()
        .map(|side| nerve_structure(a, *side, &field, &muscles))
        .collect::<Result<_, DataError>>()?;

    // 4. Skin around everything.
    let inner: Vec<&Grid> = bone_grids
        .iter()
        .map(|(_, g)| g)
        .chain(muscles.iter().map(|(g, _)| g))
        .chain(nerves.iter().map(|(g, _)| g))
        .collect();
    let skin_structure = skin_structure(a, &inner)?;

    let mut by_structure: Vec<GeneratedStructure> = bone_meshes
        .into_iter()
        .chain(muscles.into_iter().map(|(_, m)| m))
        .chain(nerves.into_iter().map(|(_, m)| m))
        .chain(std::iter::once(skin_structure))
        .collect();
    by_structure.sort_by_key(|s| all.iter().position(|x| *x == s.structure));

    let lm = |n: &str, side| a.landmark(n, side);
    let l5 = lm("L5_body_centre", Side::Midline)?;
    let l4 = lm("L4_body_centre", Side::Midline)?;
    let joints = vec![
        glb::Joint {
            name: "pelvis",
            parent: None,
            position_m: Vec3::ZERO,
        },
        glb::Joint {
            name: "vertebra_l5",
            parent: Some(0),
            position_m: l5,
        },
        glb::Joint {
            name: "vertebra_l4",
            parent: Some(1),
            position_m: l4,
        },
        glb::Joint {
            name: "femur_l",
            parent: Some(0),
            position_m: lm("hip_joint_centre", Side::Left)?,
        },
        glb::Joint {
            name: "femur_r",
            parent: Some(0),
            position_m: lm("hip_joint_centre", Side::Right)?,
        },
    ];
    Ok(GeneratedModel {
        structures: by_structure,
        joints,
        copyright: format!("Generated by hipback-modelgen. {}", a.source),
    })
}

/// Generates the model and serialises it to glb bytes.
pub fn generate_glb(a: &Anatomy) -> Result<Vec<u8>, ModelgenError> {
    let model = generate(a)?;
    Ok(glb::write(&model)?)
}
