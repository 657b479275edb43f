//! The posture part of `hipback report`: the angles and, per muscle and side, the length
//! change against standing, and the sciatic nerve's strain. Pure: no ECS.

use std::collections::BTreeMap;

use serde::Serialize;

use super::PostureModel;
use super::kinematics::{HipAngles, Posture, PostureId};
use super::muscle_length::Lengths;
use crate::anatomy::Side;

/// One hip: the thigh's angles (from the trunk) and the joint's own (the tilt included).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct HipReport {
    /// The thigh's angles, as the sliders and presets give them.
    pub thigh: HipAngles,
    /// The hip joint's angles (femur against pelvis).
    pub joint: HipAngles,
}

/// One muscle's length.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct MuscleReport {
    /// Mean length of its lines of action now, metres.
    pub length_m: f32,
    /// The same, standing.
    pub standing_length_m: f32,
    /// The mean of its lines' length changes against standing, per cent.
    pub length_change_pct: f32,
}

/// One nerve's length.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct NerveReport {
    /// Path length now (sacral plexus to the back of the knee), metres.
    pub length_m: f32,
    /// The same, standing.
    pub standing_length_m: f32,
    /// Strain against standing, per cent.
    pub strain_pct: f32,
}

/// The posture's part of the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PostureReport {
    /// The preset (`null` for angles set by hand).
    pub id: Option<PostureId>,
    /// Anterior (+) pelvic tilt, degrees.
    pub pelvic_tilt_deg: f32,
    /// Both hips, `left` and `right`.
    pub hips: BTreeMap<&'static str, HipReport>,
    /// Every muscle by glTF name.
    pub muscles: BTreeMap<String, MuscleReport>,
    /// The sciatic nerves by glTF name.
    pub nerves: BTreeMap<String, NerveReport>,
}

fn round(value: f32, decimals: i32) -> f32 {
    let scale = 10f32.powi(decimals);
    (value * scale).round() / scale
}

fn rounded(h: HipAngles) -> HipAngles {
    HipAngles {
        flexion_deg: round(h.flexion_deg, 2),
        adduction_deg: round(h.adduction_deg, 2),
        internal_rotation_deg: round(h.internal_rotation_deg, 2),
    }
}

/// The report for a posture (held within the limits); lengths rounded to 0.1 mm and per
/// cents to 0.01, so the JSON is stable across float noise.
pub fn report(model: &PostureModel, id: Option<PostureId>, posture: &Posture) -> PostureReport {
    let posture = model.clamp(posture);
    let lengths = model.lengths(&posture);
    from_lengths(id, &posture, &lengths)
}

/// The report from lengths already computed.
pub fn from_lengths(id: Option<PostureId>, posture: &Posture, lengths: &Lengths) -> PostureReport {
    let hips = [("left", Side::Left), ("right", Side::Right)]
        .into_iter()
        .map(|(name, side)| {
            (
                name,
                HipReport {
                    thigh: rounded(posture.hip(side)),
                    joint: rounded(posture.joint_angles(side)),
                },
            )
        })
        .collect();
    let muscles = lengths
        .muscles
        .iter()
        .filter_map(|m| {
            m.structure.map(|s| {
                (
                    s.gltf_name(),
                    MuscleReport {
                        length_m: round(m.length_m, 4),
                        standing_length_m: round(m.standing_m, 4),
                        length_change_pct: round(m.change_pct, 2),
                    },
                )
            })
        })
        .collect();
    let nerves = lengths
        .nerves
        .iter()
        .filter_map(|n| {
            n.structure.map(|s| {
                (
                    s.gltf_name(),
                    NerveReport {
                        length_m: round(n.length_m, 4),
                        standing_length_m: round(n.standing_m, 4),
                        strain_pct: round(n.strain_pct, 2),
                    },
                )
            })
        })
        .collect();
    PostureReport {
        id,
        pelvic_tilt_deg: round(posture.pelvic_tilt_deg, 2),
        hips,
        muscles,
        nerves,
    }
}

/// The posture part as lines for people (the report without `--json`).
pub fn to_text(report: &PostureReport) -> String {
    let mut out = format!(
        "posture {} (pelvic tilt {:+.1}°)\n",
        report.id.map_or("custom", PostureId::id),
        report.pelvic_tilt_deg
    );
    for (name, m) in &report.muscles {
        out.push_str(&format!("  {name}: {:+.1} % length\n", m.length_change_pct));
    }
    for (name, n) in &report.nerves {
        out.push_str(&format!("  {name}: {:+.1} % strain\n", n.strain_pct));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standing_reports_no_change_and_fair_moves_only_the_right() {
        let model =
            PostureModel::load(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets"))
                .unwrap();
        let standing = report(&model, Some(PostureId::Standing), &Posture::default());
        assert_eq!(standing.muscles.len(), 12);
        assert!(
            standing
                .muscles
                .values()
                .all(|m| m.length_change_pct == 0.0)
        );
        assert!(standing.nerves.values().all(|n| n.strain_pct == 0.0));
        let fair = report(
            &model,
            Some(PostureId::Fair),
            &model.data.posture(PostureId::Fair),
        );
        assert!(fair.muscles["piriformis_r"].length_change_pct > 0.0);
        assert_eq!(fair.muscles["piriformis_l"].length_change_pct, 0.0);
        assert_eq!(fair.hips["right"].joint.flexion_deg, 60.0);
        let json = serde_json::to_value(&fair).unwrap();
        assert_eq!(json["id"], "fair");
        assert!(json["nerves"]["sciatic_nerve_r"]["strain_pct"].is_number());
        assert!(to_text(&fair).contains("piriformis_r: +"));
    }
}
