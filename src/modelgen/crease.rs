//! Posture correctives for the skin: a morph target per deep-flexion preset that undoes the
//! fold linear blend skinning makes at the groin.
//!
//! Where the thigh bends up against the belly, the skin between them has to shorten by more
//! than blending the pelvis's, the helper's and the thigh's motions can take: the blended
//! sheet folds over on itself (1 017 to 2 886 of the skin's 81 200 triangles faced against
//! their turn in the presets). Smoothing the posed sheet, or rebuilding it from its turned
//! edges, left most of the folds. What works is to ask for it directly: in each preset, move
//! the posed vertices near the fold so that every triangle faces its blended turn with at
//! least a fifth of its rest area, grows to at most 2.5 times it, and
//! stays close to where skinning put it, with a smooth displacement (gradient descent on
//! those penalties). The displacement, taken back through each vertex's blended motion, is the
//! preset's morph target; the app sets its weight from how close the posture is to the
//! preset ([`crate::posture::correctives`]), so at the preset the skin is exactly the
//! corrected one.

use bevy::math::{Mat3, Mat4, Vec3};

use super::mesh::TriMesh;
use crate::posture::kinematics::{Pose, RigJoint};

/// A triangle's area facing its blended turn, as a share of its rest area, below which it
/// counts as folding. A twentieth unfolded as well but crushed four times as many triangles
/// into a crinkled strip (1 069 against 179 in sitting when it was tuned).
const MIN_FACING: f32 = 0.2;
/// How much a triangle may grow (area over rest area) before it counts as stretched.
const MAX_AREA_RATIO: f32 = 2.5;
/// Rings of neighbours around the folding triangles that may move too.
const RINGS: usize = 6;
/// Gradient steps.
const ITERATIONS: usize = 1500;
/// Step size, in squared mean edge lengths per unit of gradient.
const STEP: f32 = 0.1;
/// Largest move of a vertex in one step, in mean edge lengths.
const MAX_STEP: f32 = 0.25;
/// Weight of staying where skinning put a vertex (per squared mean edge length).
const STAY: f32 = 1e-4;
/// Weight of a displacement like its neighbours' (per squared mean edge length; applied as
/// a pull toward the neighbours' mean displacement).
const SMOOTH: f32 = 0.02;
/// Triangles smaller than this at rest (in squared mean edge lengths) are left out: their
/// normal is undefined and their gradients unbounded.
const MIN_REST_AREA: f32 = 1e-3;
/// Largest determinant of a vertex's blended motion (its linear part) below which its
/// displacement is not taken back to rest space (a near-singular blend would magnify it).
const MIN_DETERMINANT: f32 = 0.05;

/// Weights as the glb stores them: four joints and their 8-bit weights.
pub type QuantizedWeights = ([u8; 4], [u8; 4]);

/// Each vertex's blended motion in `pose` (the skinning matrix the app computes).
fn blended_motions(weights: &[QuantizedWeights], pose: &Pose) -> Vec<Mat4> {
    let joints: Vec<Mat4> = RigJoint::ALL
        .iter()
        .map(|j| Mat4::from(pose.of(*j)))
        .collect();
    weights
        .iter()
        .map(|(js, ws)| {
            (0..4).fold(Mat4::ZERO, |sum, k| {
                let joint = joints
                    .get(usize::from(js[k]))
                    .copied()
                    .unwrap_or(Mat4::IDENTITY);
                sum + joint * (f32::from(ws[k]) / 255.0)
            })
        })
        .collect()
}

/// The mesh's triangles and, per vertex, its neighbours.
struct Topology {
    triangles: Vec<[usize; 3]>,
    neighbours: Vec<Vec<usize>>,
    mean_edge_m: f32,
}

impl Topology {
    fn new(mesh: &TriMesh) -> Self {
        let triangles: Vec<[usize; 3]> = mesh
            .indices
            .chunks_exact(3)
            .map(|t| [t[0] as usize, t[1] as usize, t[2] as usize])
            .collect();
        let neighbours: Vec<Vec<usize>> = mesh
            .neighbours()
            .into_iter()
            .map(|around| around.into_iter().map(|u| u as usize).collect())
            .collect();
        let (sum, count) = neighbours
            .iter()
            .enumerate()
            .flat_map(|(v, ns)| ns.iter().map(move |u| (v, *u)))
            .fold((0.0_f32, 0_usize), |(s, c), (v, u)| {
                (s + (mesh.positions[v] - mesh.positions[u]).length(), c + 1)
            });
        Self {
            triangles,
            neighbours,
            mean_edge_m: sum / count.max(1) as f32,
        }
    }
}

/// The corrective for one preset: a rest-space displacement per vertex (zero where nothing
/// folds) such that skinning `mesh` moved by it, with `weights`, in `pose` gives an unfolded
/// sheet.
pub fn corrective(mesh: &TriMesh, weights: &[QuantizedWeights], pose: &Pose) -> Vec<Vec3> {
    let n = mesh.positions.len();
    let topology = Topology::new(mesh);
    let motions = blended_motions(weights, pose);
    let posed: Vec<Vec3> = motions
        .iter()
        .zip(&mesh.positions)
        .map(|(m, p)| m.transform_point3(*p))
        .collect();
    // Per triangle: the unit normal its blended turn asks for, and its rest doubled area.
    let wanted: Vec<(Vec3, f32)> = topology
        .triangles
        .iter()
        .map(|&[a, b, c]| {
            let p = &mesh.positions;
            let rest = (p[b] - p[a]).cross(p[c] - p[a]);
            (
                motions[a].transform_vector3(rest).normalize_or_zero(),
                rest.length().max(1e-12),
            )
        })
        .collect();
    let h = topology.mean_edge_m;
    // Doubled areas: a triangle of MIN_REST_AREA h² has a cross product twice that.
    let usable = |t: usize| wanted[t].1 > 2.0 * MIN_REST_AREA * h * h;
    let facing = |x: &[Vec3], t: usize| {
        let [a, b, c] = topology.triangles[t];
        (x[b] - x[a]).cross(x[c] - x[a]).dot(wanted[t].0) / wanted[t].1
    };
    let mut free = vec![false; n];
    for (t, corners) in topology.triangles.iter().enumerate() {
        if usable(t) && facing(&posed, t) < MIN_FACING {
            corners.iter().for_each(|v| free[*v] = true);
        }
    }
    if !free.contains(&true) {
        return vec![Vec3::ZERO; n];
    }
    for _ in 0..RINGS {
        let ring: Vec<usize> = (0..n).filter(|v| free[*v]).collect();
        for v in ring {
            for u in &topology.neighbours[v] {
                free[*u] = true;
            }
        }
    }
    let free_vertices: Vec<usize> = (0..n).filter(|v| free[*v]).collect();
    let active: Vec<usize> = (0..topology.triangles.len())
        .filter(|t| usable(*t) && topology.triangles[*t].iter().any(|v| free[*v]))
        .collect();

    let mut x = posed.clone();
    let mut gradient = vec![Vec3::ZERO; n];
    for _ in 0..ITERATIONS {
        for v in &free_vertices {
            gradient[*v] = Vec3::ZERO;
        }
        // Folding and stretching, per triangle, onto its corners.
        for &t in &active {
            let [a, b, c] = topology.triangles[t];
            let (normal, rest) = wanted[t];
            let cross = (x[b] - x[a]).cross(x[c] - x[a]);
            // d(cross · dir)/d(corner), over the rest area.
            let corners = |dir: Vec3| {
                [
                    (x[b] - x[c]).cross(dir) / rest,
                    (x[c] - x[a]).cross(dir) / rest,
                    dir.cross(x[b] - x[a]) / rest,
                ]
            };
            let mut add = |pull: f32, dir: Vec3| {
                for (v, g) in [a, b, c].into_iter().zip(corners(dir)) {
                    gradient[v] += pull * g;
                }
            };
            let face = cross.dot(normal) / rest;
            if face < MIN_FACING {
                add(-2.0 * (MIN_FACING - face), normal);
            }
            let area = cross.length() / rest;
            if area > MAX_AREA_RATIO {
                add(2.0 * (area - MAX_AREA_RATIO), cross / cross.length());
            }
        }
        // Staying close, smoothly.
        for &v in &free_vertices {
            let moved = x[v] - posed[v];
            let around = &topology.neighbours[v];
            let unlike: Vec3 = around
                .iter()
                .map(|u| moved - (x[*u] - posed[*u]))
                .sum::<Vec3>()
                / around.len().max(1) as f32;
            gradient[v] += (2.0 * STAY * moved + 2.0 * SMOOTH * unlike) / (h * h);
        }
        for &v in &free_vertices {
            let step = gradient[v] * STEP * h * h;
            let length = step.length();
            x[v] -= if length > MAX_STEP * h {
                step * (MAX_STEP * h / length)
            } else {
                step
            };
        }
    }
    // Back to rest space: skinning applies a vertex's blended motion to its morphed position.
    (0..n)
        .map(|v| {
            if !free[v] {
                return Vec3::ZERO;
            }
            let linear = Mat3::from_mat4(motions[v]);
            if linear.determinant() < MIN_DETERMINANT {
                return Vec3::ZERO;
            }
            linear.inverse() * (x[v] - posed[v])
        })
        .collect()
}
