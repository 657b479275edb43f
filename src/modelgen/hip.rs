//! Skin weights across the hip. Tissue that crosses the joint blends the pelvis, a helper
//! that turns half as far as the thigh, and the thigh: a straight pelvis–thigh blend moves a
//! vertex along the chord of its arc, toward the joint centre and into the femoral head or
//! the acetabular rim, and the helper halves that chord.
//!
//! Where a muscle or nerve lies against the hip bone and the femur at once (the iliopsoas
//! over the joint, the gluteal fans by the trochanter), no single share of pelvis and thigh
//! along its path keeps it out of both in every posture. There each vertex's share is
//! fitted over the presets (each on its way from standing): the share that goes least
//! into bone in its worst posture while staying close to its neighbours' shares, since
//! neighbours that turn by different amounts fold the surface (see [`fit_shares`]).

use bevy::math::{Affine3A, Mat4, Vec3};

use super::mesh::TriMesh;
use super::sweep::{
    JOINT_FEMUR_L, JOINT_FEMUR_R, JOINT_HIP_HALF_L, JOINT_HIP_HALF_R, JOINT_PELVIS, JointWeights,
    femur_joint,
};
use crate::anatomy::Side;
use crate::posture::data::PostureFile;
use crate::posture::kinematics::{Pose, Posture, PostureId, RigJoint, Skeleton};

/// How far from the hip centre a vertex's share is fitted (further out, the path's share
/// stands: the joint's turn moves tissue there clear of the hip's bones).
const FIT_REACH_M: f32 = 0.08;
/// Shares tried from 0 (pelvis) to 1 (thigh).
const FIT_STEPS: usize = 20;
/// How deep into bone (by the bones' fields) a fitted vertex may go in a posture at no
/// cost: the meshes lie within about a millimetre of their fields, and the model's check
/// allows 2 mm.
const FIT_ALLOWED_DEPTH_M: f32 = 0.0008;
/// Going this much deeper costs 1, and the cost grows with the square.
const FIT_DEPTH_SCALE_M: f32 = 0.0002;
/// The cost of a share unlike its neighbours' (per unit of mean squared difference): a
/// vertex goes 0.2 mm deeper rather than differ from its neighbours by 0.22. Measured on
/// the bundled model, 1 to 100 changed the folded triangles at the full presets by 3 %; a
/// hard limit on depth, smoothed after, left a shredded patch on the distal iliopsoas.
const FIT_FOLD_COST: f32 = 20.0;
/// Passes over the fitted vertices.
const FIT_PASSES: usize = 30;
/// Steps from standing to each preset at which the fit is checked: a quarter of the way
/// each, as the model's check samples them.
const STEPS_TO_PRESET: usize = 4;

/// The postures the hip's weights are fitted over: every preset, and the way there from
/// standing in equal steps, with the hip centres they turn about.
pub struct HipPoses {
    /// Where the joints turn.
    pub skeleton: Skeleton,
    /// The rig's motion in each posture.
    pub poses: Vec<Pose>,
}

impl HipPoses {
    /// The presets of a posture file, held within its limits.
    pub fn new(skeleton: &Skeleton, data: &PostureFile) -> Self {
        let poses = PostureId::ALL
            .into_iter()
            .flat_map(|id| {
                let target = data.posture(id);
                (1..=STEPS_TO_PRESET).map(move |k| {
                    Posture::lerp(
                        &Posture::default(),
                        &target,
                        k as f32 / STEPS_TO_PRESET as f32,
                    )
                })
            })
            // Standing is the rest pose: every share puts a vertex where it is built.
            .filter(|p| *p != Posture::default())
            .map(|p| {
                crate::posture::kinematics::pose(skeleton, &data.limits.clamp(&p), &data.lumbar)
            })
            .collect();
        HipPoses {
            skeleton: *skeleton,
            poses,
        }
    }
}

/// The joint indices of one hip: its femur and its half-turn helper.
fn hip_joints(side: Side) -> (usize, usize) {
    let half = if side == Side::Left {
        JOINT_HIP_HALF_L
    } else {
        JOINT_HIP_HALF_R
    };
    (femur_joint(side), half)
}

/// The thigh's share (0 … 1) of a vertex that moves only with the pelvis and the femur of
/// `side` (either or both); `None` for any other.
pub fn thigh_share(w: &JointWeights, side: Side) -> Option<f32> {
    let (femur, _) = hip_joints(side);
    let (p, f) = (w[JOINT_PELVIS], w[femur]);
    let rest: f32 = w.iter().sum::<f32>() - p - f;
    (p + f > 0.0 && rest <= 1e-6).then(|| f / (p + f))
}

/// (pelvis, helper, thigh) weights for a thigh share: the first half of the way blends
/// pelvis and helper, the second helper and thigh.
fn split(share: f32) -> [f32; 3] {
    let s = share.clamp(0.0, 1.0);
    if s <= 0.5 {
        [1.0 - 2.0 * s, 2.0 * s, 0.0]
    } else {
        [0.0, 2.0 - 2.0 * s, 2.0 * s - 1.0]
    }
}

/// Moves the pelvis–femur blend of each hip through its helper: the pelvis and femur
/// weights `p`, `f` become pelvis, helper and femur weights for the share `f / (p + f)`
/// (or `share` where given, for the vertex's own side), keeping their sum. Without a given
/// share a vertex on the pelvis alone or a femur alone keeps its weights; where both femurs
/// pull on one vertex (the skin between the thighs) each takes its part of the pelvis.
pub fn through_helpers(w: &JointWeights, share: Option<(Side, f32)>) -> JointWeights {
    let mut out = *w;
    let femurs = w[JOINT_FEMUR_L] + w[JOINT_FEMUR_R];
    for side in [Side::Left, Side::Right] {
        let (femur, half) = hip_joints(side);
        let own = share.filter(|(s, _)| *s == side).map(|(_, t)| t);
        let f = w[femur];
        let p = if femurs > 0.0 {
            w[JOINT_PELVIS] * f / femurs
        } else if own.is_some() {
            w[JOINT_PELVIS]
        } else {
            0.0
        };
        let sum = p + f;
        if sum <= 0.0 {
            continue;
        }
        let [a, b, c] = split(own.unwrap_or(f / sum));
        out[JOINT_PELVIS] += a * sum - p;
        out[half] += b * sum;
        out[femur] = c * sum;
    }
    out
}

/// The bones a hip's tissue must stay out of: signed distances (negative inside) in their
/// rest frames.
pub struct HipBones<'a> {
    /// The pelvis's bones (the hip bone of the side, the sacrum).
    pub pelvis: &'a (dyn Fn(Vec3) -> f32 + Sync),
    /// The femur of the side.
    pub femur: &'a (dyn Fn(Vec3) -> f32 + Sync),
}

/// Fits the thigh share of every vertex near the hip of `side` that moves with the pelvis
/// and that femur (`prior`: its share along the path, from [`thigh_share`]); the others
/// stay `None`. Each fitted vertex takes the share that costs least: going deeper than
/// 0.8 mm into bone in its worst posture costs steeply, and so does a share
/// unlike its neighbours' (along the mesh's edges), since neighbours that turn by
/// different amounts fold the surface; a pass sets each vertex in turn, from the shares
/// nearest the path's.
pub fn fit_shares(
    mesh: &TriMesh,
    prior: &[Option<f32>],
    side: Side,
    poses: &HipPoses,
    bones: &HipBones,
) -> Vec<Option<f32>> {
    let centre = poses.skeleton.hip_centre(side);
    let motions: Vec<[Mat4; 3]> = poses
        .poses
        .iter()
        .map(|pose| {
            let m = |j: RigJoint| Mat4::from(pose.of(j));
            [
                m(RigJoint::Pelvis),
                m(RigJoint::HipHalf(side)),
                m(RigJoint::Femur(side)),
            ]
        })
        .collect();
    let rest_from: Vec<[Affine3A; 2]> = poses
        .poses
        .iter()
        .map(|pose| {
            [
                pose.of(RigJoint::Pelvis).inverse(),
                pose.of(RigJoint::Femur(side)).inverse(),
            ]
        })
        .collect();
    // How deep into either bone the vertex goes in its worst posture, at a share.
    let depth = |p: Vec3, share: f32| -> f32 {
        let [a, b, c] = split(share);
        motions
            .iter()
            .zip(&rest_from)
            .map(|(m, [to_pelvis, to_femur])| {
                let posed = (m[0] * a + m[1] * b + m[2] * c).transform_point3(p);
                let in_pelvis = -(bones.pelvis)(to_pelvis.transform_point3(posed));
                let in_femur = -(bones.femur)(to_femur.transform_point3(posed));
                in_pelvis.max(in_femur)
            })
            .fold(f32::NEG_INFINITY, f32::max)
    };
    let shares: Vec<f32> = (0..=FIT_STEPS)
        .map(|k| k as f32 / FIT_STEPS as f32)
        .collect();
    // What going into bone costs at each share, for each vertex fitted.
    let bone_cost: Vec<Option<Vec<f32>>> = {
        use rayon::prelude::*;
        mesh.positions
            .par_iter()
            .zip(prior)
            .map(|(p, prior)| {
                (prior.is_some() && (*p - centre).length() <= FIT_REACH_M).then(|| {
                    shares
                        .iter()
                        .map(|s| {
                            let over = (depth(*p, *s) - FIT_ALLOWED_DEPTH_M).max(0.0);
                            (over / FIT_DEPTH_SCALE_M).powi(2)
                        })
                        .collect()
                })
            })
            .collect()
    };
    let neighbours = mesh.neighbours();
    let mut fitted: Vec<Option<f32>> = bone_cost
        .iter()
        .zip(prior)
        .map(|(cost, prior)| cost.as_ref().and(*prior))
        .collect();
    for _ in 0..FIT_PASSES {
        for i in 0..mesh.positions.len() {
            let Some(cost) = &bone_cost[i] else { continue };
            let around: Vec<f32> = neighbours[i]
                .iter()
                .filter_map(|j| fitted[*j as usize].or(prior[*j as usize]))
                .collect();
            let total = |k: usize| {
                let s = shares[k];
                cost[k]
                    + FIT_FOLD_COST * around.iter().map(|t| (s - t).powi(2)).sum::<f32>()
                        / around.len().max(1) as f32
            };
            fitted[i] = (0..shares.len())
                .min_by(|a, b| total(*a).total_cmp(&total(*b)))
                .map(|k| shares[k]);
        }
    }
    fitted
}

#[cfg(test)]
mod tests {
    use super::super::sweep::JOINT_COUNT;
    use super::*;
    use crate::posture::kinematics::{HipAngles, LumbarRule};

    fn weights(pairs: &[(usize, f32)]) -> JointWeights {
        let mut w = [0.0; JOINT_COUNT];
        for (j, v) in pairs {
            w[*j] = *v;
        }
        w
    }

    #[test]
    fn the_helper_takes_the_middle_of_the_blend_and_the_sum_stays() {
        let w = weights(&[(JOINT_PELVIS, 0.75), (JOINT_FEMUR_R, 0.25)]);
        let out = through_helpers(&w, None);
        assert_eq!(out[JOINT_PELVIS], 0.5);
        assert_eq!(out[JOINT_HIP_HALF_R], 0.5);
        assert_eq!(out[JOINT_FEMUR_R], 0.0);
        let out = through_helpers(&w, Some((Side::Right, 0.75)));
        assert_eq!(
            [out[JOINT_PELVIS], out[JOINT_HIP_HALF_R], out[JOINT_FEMUR_R]],
            [0.0, 0.5, 0.5]
        );
        // A share for the other side leaves this one on its path's share.
        assert_eq!(
            through_helpers(&w, Some((Side::Left, 1.0))),
            through_helpers(&w, None)
        );
        // A pelvis-only vertex given a share of its side's thigh takes it.
        let out = through_helpers(&weights(&[(JOINT_PELVIS, 1.0)]), Some((Side::Left, 0.25)));
        assert_eq!([out[JOINT_PELVIS], out[JOINT_HIP_HALF_L]], [0.5, 0.5]);
        // Without a share: pelvis alone, femur alone, a vertebra unchanged.
        for w in [
            weights(&[(JOINT_PELVIS, 1.0)]),
            weights(&[(JOINT_FEMUR_L, 1.0)]),
            weights(&[(1, 0.4), (JOINT_PELVIS, 0.6)]),
        ] {
            assert_eq!(through_helpers(&w, None), w);
        }
        // Both thighs on one vertex: each takes its part of the pelvis.
        let w = weights(&[
            (JOINT_PELVIS, 0.5),
            (JOINT_FEMUR_L, 0.25),
            (JOINT_FEMUR_R, 0.25),
        ]);
        let out = through_helpers(&w, None);
        assert!((out.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert_eq!(out[JOINT_HIP_HALF_L], 0.5);
        assert_eq!(out[JOINT_HIP_HALF_R], 0.5);
        assert_eq!(out[JOINT_PELVIS], 0.0);
    }

    #[test]
    fn the_thigh_share_is_only_for_the_pelvis_and_the_femur_of_the_side() {
        let w = weights(&[(JOINT_PELVIS, 0.6), (JOINT_FEMUR_L, 0.4)]);
        assert!((thigh_share(&w, Side::Left).unwrap_or(0.0) - 0.4).abs() < 1e-6);
        assert_eq!(thigh_share(&w, Side::Right), None);
        assert_eq!(
            thigh_share(&weights(&[(JOINT_PELVIS, 1.0)]), Side::Left),
            Some(0.0)
        );
        assert_eq!(
            thigh_share(&weights(&[(JOINT_FEMUR_L, 1.0)]), Side::Left),
            Some(1.0)
        );
        assert_eq!(
            thigh_share(&weights(&[(JOINT_FEMUR_R, 1.0)]), Side::Left),
            None
        );
        let with_vertebra = weights(&[(1, 0.2), (JOINT_PELVIS, 0.4), (JOINT_FEMUR_L, 0.4)]);
        assert_eq!(thigh_share(&with_vertebra, Side::Left), None);
    }

    /// A toy hip: a ball for the femoral head on a rod for the neck and shaft, a slab of
    /// pelvis above and in front of it, and a sheet of tissue between them.
    #[test]
    fn a_fitted_share_keeps_tissue_out_of_both_bones_where_the_path_share_does_not() {
        let centre = Vec3::new(0.0, 0.0, 0.0);
        let skeleton = Skeleton {
            hip_centres_m: [centre, centre],
            disc_centres_m: [Vec3::new(0.0, 0.2, -0.05); 6],
        };
        let lumbar = LumbarRule {
            lordosis_per_anterior_tilt: 0.0,
            lordosis_per_posterior_tilt: 0.0,
            shares: [0.0; 6],
        };
        let poses = HipPoses {
            skeleton,
            poses: (1..=6)
                .map(|k| {
                    let p = Posture {
                        left: HipAngles {
                            flexion_deg: 20.0 * k as f32,
                            ..HipAngles::default()
                        },
                        ..Posture::default()
                    };
                    crate::posture::kinematics::pose(&skeleton, &p, &lumbar)
                })
                .collect(),
        };
        // Femur: the head (radius 24 mm) and the shaft straight down.
        let femur = |p: Vec3| {
            let head = p.length() - 0.024;
            let shaft = Vec3::new(p.x, 0.0, p.z).length() - 0.012;
            head.min(if p.y < 0.0 { shaft } else { head })
        };
        // Pelvis: a block in front of and above the head, from 36 mm out.
        let pelvis = |p: Vec3| (0.036 - p.z).max(-p.y - 0.01);
        let bones = HipBones {
            pelvis: &pelvis,
            femur: &femur,
        };
        // Tissue in front of the head, below the block: halfway along its path.
        let positions: Vec<Vec3> = (0..5)
            .map(|k| Vec3::new(0.002 * k as f32, -0.02, 0.028))
            .collect();
        let prior = vec![Some(0.5); positions.len()];
        let sheet = TriMesh {
            positions: positions.clone(),
            indices: vec![0, 1, 2, 1, 3, 2, 2, 3, 4],
        };
        let fitted = fit_shares(&sheet, &prior, Side::Left, &poses, &bones);
        let depth_at = |p: Vec3, share: f32| {
            poses
                .poses
                .iter()
                .map(|pose| {
                    let [a, b, c] = split(share);
                    let m = Mat4::from(pose.of(RigJoint::Pelvis)) * a
                        + Mat4::from(pose.of(RigJoint::HipHalf(Side::Left))) * b
                        + Mat4::from(pose.of(RigJoint::Femur(Side::Left))) * c;
                    let q = m.transform_point3(p);
                    let to_f = pose.of(RigJoint::Femur(Side::Left)).inverse();
                    (-pelvis(q)).max(-femur(to_f.transform_point3(q)))
                })
                .fold(f32::NEG_INFINITY, f32::max)
        };
        for (p, share) in positions.iter().zip(&fitted) {
            let share = share.unwrap_or(f32::NAN);
            assert!(depth_at(*p, 0.5) > 0.002, "the path's share cuts into bone");
            assert!(
                depth_at(*p, share) <= 0.0,
                "share {share}: {}",
                depth_at(*p, share)
            );
        }
        // Far from the hip, or not a pelvis–femur blend: not fitted.
        let apart = TriMesh {
            positions: vec![Vec3::new(0.0, 0.2, 0.0), Vec3::new(0.0, -0.02, 0.028)],
            indices: Vec::new(),
        };
        let far = fit_shares(&apart, &[Some(0.5), None], Side::Left, &poses, &bones);
        assert_eq!(far, vec![None, None]);
    }
}
