//! The body surface: trunk to the lower ribs, buttocks, thighs, legs and feet, sized from
//! ANSUR II means for men 1.68–1.72 m / 70–81 kg (shared/anatomy/dimensions.md §5a), and
//! smooth-unioned with every inner structure dilated by a soft-tissue layer so it always
//! encloses them. Region rules label every vertex.

use bevy::math::{Mat3, Vec3};

use super::data::Anatomy;
use super::field::{Part, Primitive};
use super::spine::Spine;
use super::sweep::{JOINT_FEMUR_L, JOINT_FEMUR_R, JointWeights};
use crate::anatomy::{Side, SkinRegion, SkinRegionKind};
use crate::files::FileError;

/// Height of the top of the modelled trunk (about the lower ribs), metres above the ASIS.
pub const TRUNK_TOP_Y_M: f32 = 0.27;
/// Where the back of the trunk lies at the lumbar hollow (the L4/L5 disc), from the trunk's
/// depth (ANSUR II, as the trunk column).
const TRUNK_BACK_Z_M: f32 = -0.159;
/// The slices that carry the back's curve: across the back but inside the trunk's sides,
/// thin in height (they blend into one surface), deep enough to reach into the trunk.
const BACK_SLICE_RADII_M: Vec3 = Vec3::new(0.11, 0.04, 0.07);
/// Height of the ankle centre.
pub const ANKLE_Y_M: f32 = -0.88;
/// Soft tissue kept over every inner structure.
pub const MIN_SOFT_TISSUE_M: f32 = 0.010;

/// Landmark-derived levels the body and the region rules use.
#[derive(Clone, Debug)]
pub struct BodyLevels {
    knee: [Vec3; 2],
    hip: [Vec3; 2],
    psis: Vec3,
    /// The iliac crest seen from behind: (|x|, height) from its most lateral point to its
    /// most medial one, |x| increasing.
    crest_profile: Vec<(f32, f32)>,
    /// Height of the greater trochanter tip, left and right (the femurs differ slightly).
    gt_tip_y: [f32; 2],
    it_y: f32,
    spine: Spine,
    coccyx_tip: Vec3,
    asis: Vec3,
}

impl BodyLevels {
    /// Reads the levels from the anatomy (right side; the body is symmetric).
    pub fn new(a: &Anatomy) -> Result<Self, FileError> {
        let r = Side::Right;
        Ok(BodyLevels {
            knee: [
                a.landmark("knee_joint_centre", Side::Left)?,
                a.landmark("knee_joint_centre", r)?,
            ],
            hip: [
                a.landmark("hip_joint_centre", Side::Left)?,
                a.landmark("hip_joint_centre", r)?,
            ],
            psis: a.landmark("PSIS", r)?,
            crest_profile: crest_profile(a)?,
            gt_tip_y: [
                a.landmark("greater_trochanter_tip", Side::Left)?.y,
                a.landmark("greater_trochanter_tip", r)?.y,
            ],
            it_y: a.landmark("ischial_tuberosity_lowest", r)?.y,
            spine: Spine::new(a)?,
            coccyx_tip: a.landmark("sacral_apex_coccyx_tip", Side::Midline)?,
            asis: a.landmark("ASIS", r)?,
        })
    }

    /// The back of the trunk, (height, z) from T12 down to the L4/L5 disc: the trunk's back
    /// at the disc, following the column's curve above it.
    fn back_line(&self) -> Vec<(f32, f32)> {
        let column = &self.spine;
        let hollow = column.discs[4].centre;
        column
            .vertebrae
            .iter()
            .zip(&column.discs)
            .take(5)
            .flat_map(|(v, d)| [v.centre, d.centre])
            .map(|c| (c.y, TRUNK_BACK_Z_M + (c.z - hollow.z)))
            .collect()
    }

    /// How far the back lies behind the trunk column's back at height `y` (0 at and below
    /// the lumbar hollow, and above the top slice).
    fn back_extension_m(&self, y: f32) -> f32 {
        let line = self.back_line();
        let behind = |z: f32| (TRUNK_BACK_Z_M - z).max(0.0);
        // Above the top slice's centre the back rounds off into the trunk's top as that
        // slice does.
        if let Some((top_y, z)) = line.first().filter(|(top_y, _)| y >= *top_y) {
            let fade = (1.0 - (y - top_y) / BACK_SLICE_RADII_M.y).max(0.0);
            return behind(*z) * fade;
        }
        line.windows(2)
            .find(|w| y <= w[0].0 && y >= w[1].0)
            .map_or(0.0, |w| {
                let f = (w[0].0 - y) / (w[0].0 - w[1].0).max(1e-6);
                behind(w[0].1 + (w[1].1 - w[0].1) * f)
            })
    }

    fn side_index(x: f32) -> usize {
        if x >= 0.0 { 0 } else { 1 }
    }

    /// Centre of the leg cross-section at height y on the side of x.
    fn limb_axis(&self, x: f32, y: f32) -> Vec3 {
        let s = Self::side_index(x);
        let sign = if s == 0 { 1.0 } else { -1.0 };
        let top = Vec3::new(sign * 0.095, -0.11, -0.035);
        let knee = Vec3::new(self.knee[s].x, self.knee[s].y, self.knee[s].z + 0.005);
        let ankle = Vec3::new(self.knee[s].x * 0.9, ANKLE_Y_M, self.knee[s].z - 0.005);
        if y >= knee.y {
            let f = ((top.y - y) / (top.y - knee.y)).clamp(0.0, 1.0);
            top.lerp(knee, f)
        } else {
            let f = ((knee.y - y) / (knee.y - ankle.y)).clamp(0.0, 1.0);
            knee.lerp(ankle, f)
        }
    }
}

/// Body primitives (without the inner structures).
pub fn body_parts(levels: &BodyLevels) -> Vec<Part> {
    let mut trunk = Vec::new();
    // Trunk: one elliptic column from the pelvis to the lower ribs (waist ≈ 887 mm round),
    // rounded at the top; one piece, so it has no rings.
    let bottom_y = -0.03;
    trunk.push(Primitive::Cylinder {
        centre: Vec3::new(
            0.0,
            0.5 * (TRUNK_TOP_Y_M + bottom_y),
            TRUNK_BACK_Z_M + 0.112,
        ),
        axes: Mat3::IDENTITY,
        radii_m: Vec3::new(0.156, 0.5 * (TRUNK_TOP_Y_M - bottom_y), 0.112),
        rounding_m: 0.035,
    });
    // The back follows the lumbar lordosis: it keeps the trunk's depth behind the column
    // at the L4/L5 disc (the hollow of the low back) and follows the column's own curve
    // (the measured disc and body centres, T12–L4) backwards from there up to T12, so the
    // back rises out of the hollow as the spine does.
    let back: Vec<Primitive> = levels
        .back_line()
        .into_iter()
        .map(|(y, z)| Primitive::Ellipsoid {
            centre: Vec3::new(0.0, y, z + BACK_SLICE_RADII_M.z),
            axes: Mat3::IDENTITY,
            radii_m: BACK_SLICE_RADII_M,
        })
        .collect();
    // Buttocks (hip circumference ≈ 977 mm, buttock depth ≈ 233 mm).
    let mut hips = Vec::new();
    for sign in [1.0f32, -1.0] {
        hips.push(Primitive::Ellipsoid {
            centre: Vec3::new(sign * 0.062, -0.085, -0.105),
            axes: Mat3::IDENTITY,
            radii_m: Vec3::new(0.085, 0.095, 0.085),
        });
        hips.push(Primitive::Ellipsoid {
            centre: Vec3::new(sign * 0.085, -0.06, -0.045),
            axes: Mat3::IDENTITY,
            radii_m: Vec3::new(0.085, 0.085, 0.075),
        });
    }
    let mut legs = Vec::new();
    let mut calves = Vec::new();
    let mut feet = Vec::new();
    for (s, sign) in [(0usize, 1.0f32), (1, -1.0)] {
        let x = sign * 0.1;
        let top = levels.limb_axis(x, -0.11);
        let knee = levels.limb_axis(x, levels.knee[s].y);
        let ankle = levels.limb_axis(x, ANKLE_Y_M);
        // Thigh ≈ 599 mm round at the gluteal furrow, 393 mm above the knee.
        legs.push(Primitive::Capsule {
            a: top,
            b: knee,
            radius_a_m: 0.092,
            radius_b_m: 0.058,
        });
        // Calf ≈ 378 mm round.
        legs.push(Primitive::Capsule {
            a: knee,
            b: ankle,
            radius_a_m: 0.055,
            radius_b_m: 0.033,
        });
        // Calf bulge and foot join with their own fillets (no hard creases).
        calves.push(Primitive::Ellipsoid {
            centre: knee.lerp(ankle, 0.33) - Vec3::Z * 0.016,
            axes: Mat3::IDENTITY,
            radii_m: Vec3::new(0.045, 0.14, 0.048),
        });
        // Foot: heel under the ankle, about 25 cm long.
        feet.push(Primitive::Ellipsoid {
            centre: ankle + Vec3::new(0.0, -0.045, 0.06),
            axes: Mat3::IDENTITY,
            radii_m: Vec3::new(0.042, 0.028, 0.125),
        });
        feet.push(Primitive::Sphere {
            centre: ankle + Vec3::new(0.0, -0.045, -0.02),
            radius_m: 0.03,
        });
    }
    // Each slice blends softly into the next so the trunk has no rings.
    let mut parts: Vec<Part> = trunk
        .into_iter()
        .map(|p| Part::union(vec![p], 0.09))
        .collect();
    // One part: the slices overlap into one smooth back, which then blends into the trunk
    // (a small blend: a wide one would swell the hollow out).
    parts.push(Part::union(back, 0.02));
    parts.push(Part::union(hips, 0.05));
    parts.push(Part::union(legs, 0.06));
    parts.push(Part::union(calves, 0.05));
    parts.push(Part::union(feet, 0.035));
    parts
}

/// The iliac crest seen from behind, from the crest landmarks (ASIS to PSIS): the part from
/// its most lateral point to its most medial one, as (|x|, height) with |x| increasing.
fn crest_profile(a: &Anatomy) -> Result<Vec<(f32, f32)>, FileError> {
    let mut crest = Vec::new();
    for i in 0.. {
        match a.landmark(&format!("iliac_crest_{i:02}"), Side::Right) {
            Ok(p) => crest.push(p),
            Err(e) if i < 2 => return Err(e),
            Err(_) => break,
        }
    }
    let by_x = |p: &&Vec3, q: &&Vec3| p.x.abs().total_cmp(&q.x.abs());
    let lateral = crest.iter().enumerate().max_by(|p, q| by_x(&p.1, &q.1));
    let medial = crest.iter().enumerate().min_by(|p, q| by_x(&p.1, &q.1));
    let (Some((lo, _)), Some((hi, _))) = (lateral, medial) else {
        return Ok(Vec::new());
    };
    let mut profile: Vec<(f32, f32)> = crest[lo.min(hi)..=hi.max(lo)]
        .iter()
        .map(|p| (p.x.abs(), p.y))
        .collect();
    profile.sort_by(|p, q| p.0.total_cmp(&q.0));
    Ok(profile)
}

/// Height of the iliac crest seen from behind at |x| (held level beyond its ends).
fn crest_y_at(levels: &BodyLevels, ax: f32) -> f32 {
    let profile = &levels.crest_profile;
    let Some(first) = profile.first() else {
        return levels.psis.y;
    };
    if ax <= first.0 {
        return first.1;
    }
    for w in profile.windows(2) {
        if ax <= w[1].0 {
            let f = (ax - w[0].0) / (w[1].0 - w[0].0).max(1e-6);
            return w[0].1 + (w[1].1 - w[0].1) * f;
        }
    }
    profile[profile.len() - 1].1
}

/// How far below the coccyx tip the skin still counts as over the coccyx; below it is the
/// natal cleft of the lower buttock.
const COCCYX_REGION_BELOW_TIP_M: f32 = 0.02;

/// The body region of a skin vertex (rules relative to landmarks; see README).
pub fn region_of(levels: &BodyLevels, p: Vec3) -> SkinRegion {
    use SkinRegionKind as K;
    let side = if p.x >= 0.0 { Side::Left } else { Side::Right };
    let ax = p.x.abs();
    let region = |kind: K| SkinRegion::on_side(kind, side);
    let s = BodyLevels::side_index(p.x);
    let knee_y = levels.knee[s].y;
    // Lower limb below the knee.
    if p.y < ANKLE_Y_M + 0.04 {
        return region(K::Foot);
    }
    let limb = levels.limb_axis(p.x, p.y);
    // Angle around the limb: 0 = front, π = back.
    let limb_angle = (ax - limb.x.abs()).atan2(p.z - limb.z);
    if p.y < knee_y - 0.03 {
        return if limb_angle.abs() > 1.9 {
            region(K::Calf)
        } else {
            region(K::LateralLeg)
        };
    }
    // Where the thigh begins: the gluteal fold behind, the groin crease in front.
    let fold_y = levels.it_y - 0.035;
    let groin_y = levels.hip[s].y - 0.045 - 0.25 * (ax - 0.05).max(0.0);
    let behind = p.z < -0.075;
    // Where the two thighs touch, the skin near the midline belongs to the thigh too.
    let in_thigh = if behind { p.y < fold_y } else { p.y < groin_y };
    if in_thigh {
        return if limb_angle.abs() > 2.0 {
            region(K::PosteriorThigh)
        } else if limb_angle > 0.9 {
            region(K::LateralThigh)
        } else {
            region(K::AnteriorThigh)
        };
    }
    // Trunk and pelvis: angle around the trunk centre (half the back's lordotic rise behind
    // the column's), 0 = front.
    let trunk_angle = ax.atan2(p.z + 0.045 + 0.5 * levels.back_extension_m(p.y));
    let crest_y = crest_y_at(levels, ax);
    if trunk_angle > 2.0 {
        // Back.
        if ax < 0.026
            && p.y < levels.psis.y + 0.03
            && p.y >= levels.coccyx_tip.y - COCCYX_REGION_BELOW_TIP_M
        {
            return if p.y < levels.coccyx_tip.y + 0.025 {
                region(K::CoccyxRegion)
            } else {
                region(K::SacrumRegion)
            };
        }
        if (ax - levels.psis.x.abs()).abs() <= 0.015
            && p.y <= levels.psis.y
            && p.y >= levels.psis.y - 0.10
        {
            return region(K::Sij);
        }
        if p.y > crest_y + 0.005 {
            return region(K::LumbarParaspinal);
        }
        if p.y >= crest_y - 0.025 {
            return region(K::BeltLine);
        }
        return if p.y > levels.gt_tip_y[s] {
            region(K::ButtockUpper)
        } else {
            region(K::ButtockLower)
        };
    }
    if trunk_angle > 1.0 {
        // Side of the hip and flank.
        if p.y > crest_y + 0.005 {
            return if trunk_angle > 1.6 {
                region(K::LumbarParaspinal)
            } else {
                region(K::LowerAbdomen)
            };
        }
        if p.y >= crest_y - 0.025 && trunk_angle > 1.6 {
            return region(K::BeltLine);
        }
        return region(K::LateralHip);
    }
    // Front.
    if p.y < levels.asis.y - 0.035 {
        region(K::Groin)
    } else {
        region(K::LowerAbdomen)
    }
}

/// Skin weights: legs follow their femur, the trunk the vertebra beside it (blended from
/// one to the next), the pelvis in between. Across the hip the blend is broad behind and at
/// the side (from 13 cm below the hip centre to 5 cm above: the buttock's skin stretches over
/// a bent hip) and narrow in front (9 cm below to 2 cm above, where the groin creases). A
/// blend as narrow all round stretched 1 500 to 2 200 skin triangles past three times their
/// area in sitting, the figure four and knee-to-chest (webs), against 40 to 260 now.
pub fn skin_weights(levels: &BodyLevels, p: Vec3) -> JointWeights {
    let smooth = |e0: f32, e1: f32, x: f32| {
        let t = ((x - e0) / (e1 - e0)).clamp(0.0, 1.0);
        t * t * (3.0 - 2.0 * t)
    };
    let s = BodyLevels::side_index(p.x);
    let femur = if s == 0 { JOINT_FEMUR_L } else { JOINT_FEMUR_R };
    // Thigh-ness: below the hip joint, over a band that narrows towards the front.
    let hip = levels.hip[s];
    let front = smooth(0.01, 0.06, p.z - hip.z);
    let (below_m, above_m) = (0.13 + (0.09 - 0.13) * front, 0.05 + (0.02 - 0.05) * front);
    let leg = 1.0 - smooth(hip.y - below_m, hip.y + above_m, p.y);
    let mut w = levels.spine.blended_weights(p.y);
    for x in &mut w {
        *x *= 1.0 - leg;
    }
    w[femur] += leg;
    w
}
