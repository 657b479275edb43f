//! Hip and pelvis kinematics as plain numbers: the posture (three angles per hip and the
//! pelvic tilt), its limits, and the rigid motion of every rig joint it implies. Pure: no ECS.
//!
//! Angles follow OpenSim's hip coordinates (Rajagopal 2016): flexion, adduction and internal
//! rotation are positive, applied in that order about the pelvis's axes (flexion about the
//! medio-lateral axis, adduction about the rotated antero-posterior axis, rotation about the
//! thigh's long axis). The hip angles of a [`Posture`] are the thigh's, measured from the
//! trunk; the pelvic tilt turns the pelvis about the line through both hip joint centres
//! while the thighs and the trunk keep their place, so the hip joint's own flexion is the
//! thigh's plus the anterior tilt, and the lumbar spine takes the tilt up as a change of
//! lordosis, shared among its segments.
//!
//! Everything is in the model's (glTF) frame: metres, +Y up, the subject faces +Z, their left
//! is +X.

use std::fmt;

use bevy::math::{Affine3A, Quat, Vec3};
use serde::{Deserialize, Serialize};

use crate::anatomy::{Side, StructureKind};

/// The posture presets; the ids are what scenario files, the command line and the data file
/// write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PostureId {
    /// Neutral standing: the reference every length change is measured against.
    Standing,
    /// Sitting, hips at 90°.
    Sitting,
    /// The FAIR test: flexion, adduction and internal rotation of the right hip.
    Fair,
    /// The figure-four stretch: right ankle over the left knee.
    FigureFour,
    /// Both knees pulled to the chest.
    KneeToChest,
}

impl PostureId {
    /// Every preset, in panel order.
    pub const ALL: [PostureId; 5] = [
        PostureId::Standing,
        PostureId::Sitting,
        PostureId::Fair,
        PostureId::FigureFour,
        PostureId::KneeToChest,
    ];

    /// The id as written in files and on the command line.
    pub fn id(self) -> &'static str {
        match self {
            PostureId::Standing => "standing",
            PostureId::Sitting => "sitting",
            PostureId::Fair => "fair",
            PostureId::FigureFour => "figure_four",
            PostureId::KneeToChest => "knee_to_chest",
        }
    }

    /// Parses an id.
    pub fn from_id(text: &str) -> Option<PostureId> {
        PostureId::ALL.into_iter().find(|p| p.id() == text)
    }

    /// Every valid id, comma-separated (for error messages).
    pub fn valid_ids() -> String {
        PostureId::ALL
            .iter()
            .map(|p| p.id())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The next preset in panel order (wrapping), for the key that steps through them.
    pub fn next(self) -> PostureId {
        let i = PostureId::ALL.iter().position(|p| *p == self).unwrap_or(0);
        PostureId::ALL[(i + 1) % PostureId::ALL.len()]
    }
}

impl fmt::Display for PostureId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// One hip's angles, degrees, OpenSim's signs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HipAngles {
    /// Flexion (+) or extension (−).
    pub flexion_deg: f32,
    /// Adduction (+) or abduction (−).
    pub adduction_deg: f32,
    /// Internal (+) or external (−) rotation.
    pub internal_rotation_deg: f32,
}

impl HipAngles {
    fn lerp(self, other: HipAngles, t: f32) -> HipAngles {
        let l = |a: f32, b: f32| a + (b - a) * t;
        HipAngles {
            flexion_deg: l(self.flexion_deg, other.flexion_deg),
            adduction_deg: l(self.adduction_deg, other.adduction_deg),
            internal_rotation_deg: l(self.internal_rotation_deg, other.internal_rotation_deg),
        }
    }

    fn values(self) -> [f32; 3] {
        [
            self.flexion_deg,
            self.adduction_deg,
            self.internal_rotation_deg,
        ]
    }
}

/// A whole posture: both hips (the thighs, from the trunk) and the pelvic tilt.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Posture {
    /// The left hip.
    pub left: HipAngles,
    /// The right hip.
    pub right: HipAngles,
    /// Anterior (+) or posterior (−) pelvic tilt from standing, degrees.
    #[serde(default)]
    pub pelvic_tilt_deg: f32,
}

impl Posture {
    /// One side's hip.
    pub fn hip(&self, side: Side) -> HipAngles {
        match side {
            Side::Left => self.left,
            _ => self.right,
        }
    }

    /// One side's hip, to change.
    pub fn hip_mut(&mut self, side: Side) -> &mut HipAngles {
        match side {
            Side::Left => &mut self.left,
            _ => &mut self.right,
        }
    }

    /// The hip joint's own angles (femur against pelvis): the thigh's, with the pelvic tilt
    /// added to the flexion.
    pub fn joint_angles(&self, side: Side) -> HipAngles {
        let hip = self.hip(side);
        HipAngles {
            flexion_deg: hip.flexion_deg + self.pelvic_tilt_deg,
            ..hip
        }
    }

    /// `a` + (`b` − `a`)·`t`, every angle (`t` clamped to 0–1).
    pub fn lerp(a: &Posture, b: &Posture, t: f32) -> Posture {
        let t = t.clamp(0.0, 1.0);
        Posture {
            left: a.left.lerp(b.left, t),
            right: a.right.lerp(b.right, t),
            pelvic_tilt_deg: a.pelvic_tilt_deg + (b.pelvic_tilt_deg - a.pelvic_tilt_deg) * t,
        }
    }

    /// The largest difference of any angle between two postures, degrees.
    pub fn max_difference_deg(&self, other: &Posture) -> f32 {
        self.left
            .values()
            .into_iter()
            .chain(self.right.values())
            .chain([self.pelvic_tilt_deg])
            .zip(
                other
                    .left
                    .values()
                    .into_iter()
                    .chain(other.right.values())
                    .chain([other.pelvic_tilt_deg]),
            )
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max)
    }
}

/// A range, degrees: (least, most).
pub type RangeDeg = (f32, f32);

fn clamp_to(value: f32, (lo, hi): RangeDeg) -> f32 {
    if value.is_nan() {
        0.0
    } else {
        value.clamp(lo, hi)
    }
}

/// The normal ranges of motion a posture is held within.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub struct Limits {
    /// Hip flexion (+) / extension (−) of the joint.
    pub flexion_deg: RangeDeg,
    /// Hip adduction (+) / abduction (−).
    pub adduction_deg: RangeDeg,
    /// Hip internal (+) / external (−) rotation.
    pub internal_rotation_deg: RangeDeg,
    /// Pelvic tilt, anterior (+) / posterior (−).
    pub pelvic_tilt_deg: RangeDeg,
}

impl Limits {
    /// The posture held within the limits: the tilt first, then each hip, whose joint
    /// flexion (thigh plus tilt) must stay in range; NaN becomes 0.
    pub fn clamp(&self, posture: &Posture) -> Posture {
        let tilt = clamp_to(posture.pelvic_tilt_deg, self.pelvic_tilt_deg);
        let hip = |h: HipAngles| HipAngles {
            flexion_deg: clamp_to(
                h.flexion_deg,
                (self.flexion_deg.0 - tilt, self.flexion_deg.1 - tilt),
            ),
            adduction_deg: clamp_to(h.adduction_deg, self.adduction_deg),
            internal_rotation_deg: clamp_to(h.internal_rotation_deg, self.internal_rotation_deg),
        };
        Posture {
            left: hip(posture.left),
            right: hip(posture.right),
            pelvic_tilt_deg: tilt,
        }
    }

    /// Whether `posture` lies within the limits (to 0.01°).
    pub fn contains(&self, posture: &Posture) -> bool {
        self.clamp(posture).max_difference_deg(posture) < 0.01
    }
}

/// How the lumbar spine follows a pelvic tilt: degrees of lordosis change per degree of tilt
/// (anterior and posterior), shared among the segments from L5/S1 up to T12/L1.
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
pub struct LumbarRule {
    /// Lordosis gained per degree of anterior tilt.
    pub lordosis_per_anterior_tilt: f32,
    /// Lordosis lost per degree of posterior tilt.
    pub lordosis_per_posterior_tilt: f32,
    /// Each segment's share of the change: L5/S1, L4/L5, L3/L4, L2/L3, L1/L2, T12/L1.
    pub shares: [f32; 6],
}

impl LumbarRule {
    /// Each lumbar segment's extension (+, more lordosis) for a tilt, degrees, L5/S1 first.
    pub fn segment_extension_deg(&self, tilt_deg: f32) -> [f32; 6] {
        let ratio = if tilt_deg >= 0.0 {
            self.lordosis_per_anterior_tilt
        } else {
            self.lordosis_per_posterior_tilt
        };
        self.shares.map(|share| tilt_deg * ratio * share)
    }
}

/// The joints of the model's rig.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RigJoint {
    /// The root: the pelvis.
    Pelvis,
    /// A vertebra, 0 = L5 up to 5 = T12 (the chain up from the pelvis).
    Vertebra(usize),
    /// A thigh.
    Femur(Side),
    /// A helper at the hip that turns half as far as the thigh: tissue that crosses the
    /// joint blends pelvis → helper → thigh, which keeps its distance from the joint
    /// centre where a straight pelvis–thigh blend would pull it into the bone.
    HipHalf(Side),
}

/// The lumbar vertebrae up the chain from the pelvis: L5 first, T12 last.
pub const VERTEBRAE_UP: [StructureKind; 6] = [
    StructureKind::VertebraL5,
    StructureKind::VertebraL4,
    StructureKind::VertebraL3,
    StructureKind::VertebraL2,
    StructureKind::VertebraL1,
    StructureKind::VertebraT12,
];

impl RigJoint {
    /// Every joint, parents before children.
    pub const ALL: [RigJoint; 11] = [
        RigJoint::Pelvis,
        RigJoint::Vertebra(0),
        RigJoint::Vertebra(1),
        RigJoint::Vertebra(2),
        RigJoint::Vertebra(3),
        RigJoint::Vertebra(4),
        RigJoint::Vertebra(5),
        RigJoint::Femur(Side::Left),
        RigJoint::Femur(Side::Right),
        RigJoint::HipHalf(Side::Left),
        RigJoint::HipHalf(Side::Right),
    ];

    /// The joint node's name in the model.
    pub fn node_name(self) -> &'static str {
        match self {
            RigJoint::Pelvis => "pelvis",
            RigJoint::Vertebra(i) => VERTEBRAE_UP.get(i).map_or("vertebra_l5", |k| k.base_name()),
            RigJoint::Femur(Side::Left) => "femur_l",
            RigJoint::Femur(_) => "femur_r",
            RigJoint::HipHalf(Side::Left) => "hip_half_l",
            RigJoint::HipHalf(_) => "hip_half_r",
        }
    }

    /// Whether the joint only helps the skinning (a model may lack it).
    pub fn is_helper(self) -> bool {
        matches!(self, RigJoint::HipHalf(_))
    }

    /// The joint it hangs on (`None` for the root).
    pub fn parent(self) -> Option<RigJoint> {
        match self {
            RigJoint::Pelvis => None,
            RigJoint::Vertebra(0) | RigJoint::Femur(_) | RigJoint::HipHalf(_) => {
                Some(RigJoint::Pelvis)
            }
            RigJoint::Vertebra(i) => Some(RigJoint::Vertebra(i - 1)),
        }
    }

    fn index(self) -> usize {
        match self {
            RigJoint::Pelvis => 0,
            RigJoint::Vertebra(i) => 1 + i.min(5),
            RigJoint::Femur(Side::Left) => 7,
            RigJoint::Femur(_) => 8,
            RigJoint::HipHalf(Side::Left) => 9,
            RigJoint::HipHalf(_) => 10,
        }
    }
}

/// The points the joints turn about, in the rest pose.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Skeleton {
    /// Hip joint centres, left and right.
    pub hip_centres_m: [Vec3; 2],
    /// The disc below each vertebra (its pivot), L5/S1 first up to T12/L1.
    pub disc_centres_m: [Vec3; 6],
}

impl Skeleton {
    /// One side's hip joint centre.
    pub fn hip_centre(&self, side: Side) -> Vec3 {
        match side {
            Side::Left => self.hip_centres_m[0],
            _ => self.hip_centres_m[1],
        }
    }
}

/// Where every rig joint has moved: each joint's world-from-rest rigid motion. A point fixed
/// to a joint at `p` in the rest pose is at `pose.of(joint).transform_point3(p)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pose {
    moves: [Affine3A; RigJoint::ALL.len()],
}

impl Default for Pose {
    fn default() -> Self {
        Self {
            moves: [Affine3A::IDENTITY; RigJoint::ALL.len()],
        }
    }
}

impl Pose {
    /// One joint's motion.
    pub fn of(&self, joint: RigJoint) -> Affine3A {
        self.moves[joint.index()]
    }

    /// Each joint node's local transform (relative to its parent) in this pose, given the
    /// joint nodes' rest positions (translations only, as the model's rig has them).
    pub fn local_transform(
        &self,
        joint: RigJoint,
        rest_position: impl Fn(RigJoint) -> Vec3,
    ) -> Affine3A {
        let world = |j: RigJoint| self.of(j) * Affine3A::from_translation(rest_position(j));
        match joint.parent() {
            Some(parent) => world(parent).inverse() * world(joint),
            None => world(joint),
        }
    }
}

/// The medio-lateral axis about which flexion turns the thigh (the glTF −X, both sides).
const FLEXION_AXIS: Vec3 = Vec3::NEG_X;

/// The hip joint's rotation (femur against pelvis) for its own angles.
pub fn hip_rotation(side: Side, joint: HipAngles) -> Quat {
    // OpenSim's left hip mirrors adduction and rotation: their axes flip with the side.
    let medial = -side.gltf_x_sign();
    let flexion = Quat::from_axis_angle(FLEXION_AXIS, joint.flexion_deg.to_radians());
    let adduction = Quat::from_axis_angle(Vec3::Z * medial, joint.adduction_deg.to_radians());
    let rotation =
        Quat::from_axis_angle(Vec3::Y * medial, joint.internal_rotation_deg.to_radians());
    flexion * adduction * rotation
}

/// A rotation about an axis through `pivot`.
fn turn_about(pivot: Vec3, rotation: Quat) -> Affine3A {
    Affine3A::from_translation(pivot)
        * Affine3A::from_quat(rotation)
        * Affine3A::from_translation(-pivot)
}

/// The motion of every rig joint for a posture (already within its limits).
pub fn pose(skeleton: &Skeleton, posture: &Posture, lumbar: &LumbarRule) -> Pose {
    let mut moves = [Affine3A::IDENTITY; RigJoint::ALL.len()];
    // Anterior tilt turns the top of the pelvis forward (+Z): +X rotation.
    let axis_point = (skeleton.hip_centres_m[0] + skeleton.hip_centres_m[1]) * 0.5;
    let pelvis = turn_about(
        axis_point,
        Quat::from_rotation_x(posture.pelvic_tilt_deg.to_radians()),
    );
    moves[RigJoint::Pelvis.index()] = pelvis;
    // Each segment extends (turns backward, −X) about the disc below its vertebra.
    let mut below = pelvis;
    for (i, extension_deg) in lumbar
        .segment_extension_deg(posture.pelvic_tilt_deg)
        .into_iter()
        .enumerate()
    {
        let vertebra = below
            * turn_about(
                skeleton.disc_centres_m[i],
                Quat::from_rotation_x(-extension_deg.to_radians()),
            );
        moves[RigJoint::Vertebra(i).index()] = vertebra;
        below = vertebra;
    }
    for side in [Side::Left, Side::Right] {
        let rotation = hip_rotation(side, posture.joint_angles(side));
        moves[RigJoint::Femur(side).index()] =
            pelvis * turn_about(skeleton.hip_centre(side), rotation);
        moves[RigJoint::HipHalf(side).index()] = pelvis
            * turn_about(
                skeleton.hip_centre(side),
                Quat::IDENTITY.slerp(rotation, 0.5),
            );
    }
    Pose { moves }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skeleton() -> Skeleton {
        Skeleton {
            hip_centres_m: [
                Vec3::new(0.077, -0.08, -0.056),
                Vec3::new(-0.077, -0.08, -0.056),
            ],
            disc_centres_m: [0.05f32, 0.08, 0.11, 0.14, 0.17, 0.20]
                .map(|y| Vec3::new(0.0, y, -0.08)),
        }
    }

    fn lumbar() -> LumbarRule {
        LumbarRule {
            lordosis_per_anterior_tilt: 0.95,
            lordosis_per_posterior_tilt: 1.0,
            shares: [0.4, 0.25, 0.2, 0.1, 0.05, 0.0],
        }
    }

    fn limits() -> Limits {
        Limits {
            flexion_deg: (-15.0, 120.0),
            adduction_deg: (-45.0, 30.0),
            internal_rotation_deg: (-60.0, 40.0),
            pelvic_tilt_deg: (-8.0, 11.0),
        }
    }

    /// Where the knee (40 cm below the hip) of a side goes.
    fn knee(pose: &Pose, side: Side) -> Vec3 {
        let hip = skeleton().hip_centre(side);
        pose.of(RigJoint::Femur(side))
            .transform_point3(hip - Vec3::Y * 0.4)
            - hip
    }

    fn hip(side: Side, flexion: f32, adduction: f32, rotation: f32) -> Posture {
        let mut p = Posture::default();
        *p.hip_mut(side) = HipAngles {
            flexion_deg: flexion,
            adduction_deg: adduction,
            internal_rotation_deg: rotation,
        };
        p
    }

    #[test]
    fn each_angle_moves_the_thigh_the_way_its_name_says() {
        let s = skeleton();
        for side in [Side::Left, Side::Right] {
            let lateral = Vec3::X * side.gltf_x_sign();
            // Flexion brings the knee forward.
            let k = knee(&pose(&s, &hip(side, 90.0, 0.0, 0.0), &lumbar()), side);
            assert!((k - Vec3::Z * 0.4).length() < 1e-4, "{side:?} flexion: {k}");
            // Abduction takes it out to the side, adduction across the midline.
            let k = knee(&pose(&s, &hip(side, 0.0, -30.0, 0.0), &lumbar()), side);
            assert!(k.dot(lateral) > 0.19, "{side:?} abduction: {k}");
            let k = knee(&pose(&s, &hip(side, 0.0, 20.0, 0.0), &lumbar()), side);
            assert!(k.dot(lateral) < -0.13, "{side:?} adduction: {k}");
            // Internal rotation of a flexed hip swings the shin (along the thigh's forward
            // axis at rest) out to the side: test it on a point in front of the knee.
            let p = pose(&s, &hip(side, 0.0, 0.0, 30.0), &lumbar());
            let front = p.of(RigJoint::Femur(side)).transform_vector3(Vec3::Z);
            assert!(
                front.dot(lateral) < -0.49,
                "{side:?} internal rotation: {front}"
            );
        }
    }

    #[test]
    fn the_tilt_turns_the_pelvis_but_not_the_thighs_or_the_trunk() {
        let s = skeleton();
        let mut p = Posture {
            pelvic_tilt_deg: 10.0,
            ..Posture::default()
        };
        let posed = pose(&s, &p, &lumbar());
        // The ASIS (in front, above the hips) goes forward and down.
        let asis = Vec3::new(-0.12, 0.0, 0.0);
        let moved = posed.of(RigJoint::Pelvis).transform_point3(asis);
        assert!(moved.z > 0.005 && moved.y < -0.0, "{moved}");
        // The hip centres stay; the thighs keep hanging straight down.
        for side in [Side::Left, Side::Right] {
            let k = knee(&posed, side);
            assert!((k + Vec3::Y * 0.4).length() < 1e-4, "{side:?}: {k}");
            assert!(
                (posed
                    .of(RigJoint::Pelvis)
                    .transform_point3(s.hip_centre(side))
                    - s.hip_centre(side))
                .length()
                    < 1e-6
            );
        }
        // The lumbar spine takes up all but 5 % of the tilt: the top vertebra leans 0.5°.
        let up = posed.of(RigJoint::Vertebra(5)).transform_vector3(Vec3::Y);
        let lean_deg = up.z.atan2(up.y).to_degrees();
        assert!((lean_deg - 0.5).abs() < 0.01, "{lean_deg}");
        // The hip joint flexes by the tilt.
        assert_eq!(p.joint_angles(Side::Left).flexion_deg, 10.0);
        p.pelvic_tilt_deg = -5.0;
        let posed = pose(&s, &p, &lumbar());
        let up = posed.of(RigJoint::Vertebra(5)).transform_vector3(Vec3::Y);
        assert!(up.z.atan2(up.y).to_degrees().abs() < 1e-3);
    }

    #[test]
    fn limits_hold_the_joint_within_its_range() {
        let l = limits();
        let wild = Posture {
            left: HipAngles {
                flexion_deg: 150.0,
                adduction_deg: 80.0,
                internal_rotation_deg: f32::NAN,
            },
            right: HipAngles {
                flexion_deg: -40.0,
                adduction_deg: -90.0,
                internal_rotation_deg: -90.0,
            },
            pelvic_tilt_deg: 30.0,
        };
        let c = l.clamp(&wild);
        assert_eq!(c.pelvic_tilt_deg, 11.0);
        // The joint's flexion (thigh + tilt) stops at 120°.
        assert_eq!(c.joint_angles(Side::Left).flexion_deg, 120.0);
        assert_eq!(c.left.adduction_deg, 30.0);
        assert_eq!(c.left.internal_rotation_deg, 0.0);
        assert_eq!(c.joint_angles(Side::Right).flexion_deg, -15.0);
        assert_eq!(c.right.adduction_deg, -45.0);
        assert_eq!(c.right.internal_rotation_deg, -60.0);
        assert!(l.contains(&c) && !l.contains(&wild));
    }

    #[test]
    fn the_hip_helper_turns_half_as_far_as_the_thigh_about_the_same_centre() {
        let s = skeleton();
        let p = Posture {
            right: HipAngles {
                flexion_deg: 100.0,
                adduction_deg: -20.0,
                internal_rotation_deg: 30.0,
            },
            pelvic_tilt_deg: -6.0,
            ..Posture::default()
        };
        let posed = pose(&s, &p, &lumbar());
        let pelvis = posed.of(RigJoint::Pelvis);
        let relative = |j: RigJoint| Quat::from_affine3a(&(pelvis.inverse() * posed.of(j)));
        for side in [Side::Left, Side::Right] {
            // Twice the helper's turn is the thigh's turn; each is about the hip centre.
            let thigh = relative(RigJoint::Femur(side));
            let half = relative(RigJoint::HipHalf(side));
            assert!((half * half).angle_between(thigh) < 1e-3, "{side:?}");
            let centre = s.hip_centre(side);
            for j in [RigJoint::Femur(side), RigJoint::HipHalf(side)] {
                let moved = (pelvis.inverse() * posed.of(j)).transform_point3(centre);
                assert!(moved.distance(centre) < 1e-5, "{j:?}");
            }
        }
        let thigh = relative(RigJoint::Femur(Side::Right));
        assert!(thigh.angle_between(Quat::IDENTITY) > 1.5);
    }

    #[test]
    fn local_transforms_rebuild_the_world_motion() {
        let s = skeleton();
        let p = Posture {
            left: HipAngles {
                flexion_deg: 60.0,
                adduction_deg: 10.0,
                internal_rotation_deg: -20.0,
            },
            pelvic_tilt_deg: 8.0,
            ..Posture::default()
        };
        let posed = pose(&s, &p, &lumbar());
        let rest = |j: RigJoint| match j {
            RigJoint::Pelvis => Vec3::ZERO,
            RigJoint::Vertebra(i) => s.disc_centres_m[i] + Vec3::Y * 0.012,
            RigJoint::Femur(side) | RigJoint::HipHalf(side) => s.hip_centre(side),
        };
        for joint in RigJoint::ALL {
            // Chain the locals from the root, as the scene graph does.
            let mut world = Affine3A::IDENTITY;
            let mut chain = vec![joint];
            while let Some(parent) = chain.last().and_then(|j| j.parent()) {
                chain.push(parent);
            }
            for j in chain.iter().rev() {
                world *= posed.local_transform(*j, rest);
            }
            let expected = posed.of(joint) * Affine3A::from_translation(rest(joint));
            let probe = Vec3::new(0.03, -0.2, 0.05);
            assert!(
                (world.transform_point3(probe) - expected.transform_point3(probe)).length() < 1e-5,
                "{joint:?}"
            );
        }
    }

    #[test]
    fn ids_parse_and_step() {
        for id in PostureId::ALL {
            assert_eq!(PostureId::from_id(id.id()), Some(id));
        }
        assert_eq!(PostureId::from_id("lotus"), None);
        assert_eq!(PostureId::KneeToChest.next(), PostureId::Standing);
        assert_eq!(
            PostureId::valid_ids(),
            "standing, sitting, fair, figure_four, knee_to_chest"
        );
    }

    #[test]
    fn postures_ease_between_each_other() {
        let a = Posture::default();
        let b = hip(Side::Right, 90.0, -30.0, 40.0);
        let half = Posture::lerp(&a, &b, 0.5);
        assert_eq!(half.right.flexion_deg, 45.0);
        assert_eq!(half.max_difference_deg(&b), 45.0);
        assert_eq!(Posture::lerp(&a, &b, 3.0), b);
    }
}
