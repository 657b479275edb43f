//! Swept shapes for muscles and nerves: tubes and sheets made of balls placed along
//! guide polylines, each ball remembering where it sits (t along, u across, its frame and
//! its joint weights) so the morph targets and skin weights can be read back per vertex.

use bevy::math::Vec3;

use super::field::Primitive;

/// Number of rig joints: the pelvis, the vertebrae L5 up to T12 (a chain), the femurs and
/// a helper at each hip that turns half as far as its femur.
pub const JOINT_COUNT: usize = 11;
/// Joint index of the pelvis.
pub const JOINT_PELVIS: usize = 0;
/// Joint indices of the vertebrae, in [`crate::anatomy::StructureKind::VERTEBRAE`] order
/// (T12 down to L5); in the skin they follow the chain up from the pelvis, L5 first.
pub const JOINT_VERTEBRAE: [usize; 6] = [6, 5, 4, 3, 2, 1];
/// Joint index of the left femur.
pub const JOINT_FEMUR_L: usize = 7;
/// Joint index of the right femur.
pub const JOINT_FEMUR_R: usize = 8;
/// Joint index of the left hip's half-turn helper.
pub const JOINT_HIP_HALF_L: usize = 9;
/// Joint index of the right hip's half-turn helper.
pub const JOINT_HIP_HALF_R: usize = 10;

/// Joint index of the femur of `side` (the right one for the midline, which has none).
pub fn femur_joint(side: crate::anatomy::Side) -> usize {
    if side == crate::anatomy::Side::Left {
        JOINT_FEMUR_L
    } else {
        JOINT_FEMUR_R
    }
}

/// Weights over the rig joints (sum 1).
pub type JointWeights = [f32; JOINT_COUNT];

/// One guide point: position and the joint it moves with.
#[derive(Clone, Copy, Debug)]
pub struct GuidePoint {
    /// Position (metres).
    pub position_m: Vec3,
    /// Joint index it is attached to.
    pub joint: usize,
}

/// A ball of a swept shape with its local frame.
#[derive(Clone, Copy, Debug)]
pub struct SweepSample {
    /// Ball centre.
    pub centre: Vec3,
    /// Ball radius (half thickness).
    pub radius_m: f32,
    /// 0 at the origin, 1 at the insertion.
    pub t: f32,
    /// −1 … 1 across the width.
    pub u: f32,
    /// Signed distance across the width from the middle of its cross-section (metres,
    /// along the section; 0 for tubes): morphs narrow the whole section, not each ball.
    pub across_m: f32,
    /// How far the section reaches across the fibres from its middle: its outermost balls'
    /// `across_m`, plus their radius.
    pub half_width_m: f32,
    /// Where the ball lies across the fibres, in units that stay the same along a fibre
    /// (−1…1 from one edge of the shape to the other, also where a fan narrows or its guides
    /// drift apart unevenly) ...
    pub fibre_u: f32,
    /// ... and how fast that changes per metre along `width_dir` at the ball.
    pub fibre_u_per_m: f32,
    /// Direction along the path (towards the insertion).
    pub tangent: Vec3,
    /// Across the width.
    pub width_dir: Vec3,
    /// Through the thickness.
    pub thick_dir: Vec3,
    /// Skin weights.
    pub weights: JointWeights,
}

/// Points at `n` equal arc-length steps along a polyline between arc lengths `start_m`
/// and `total − end_m`, with joint blends.
fn resample(guide: &[GuidePoint], n: usize, start_m: f32, end_m: f32) -> Vec<(Vec3, JointWeights)> {
    let mut cumulative = vec![0.0f32];
    for w in guide.windows(2) {
        let l = cumulative[cumulative.len() - 1] + (w[1].position_m - w[0].position_m).length();
        cumulative.push(l);
    }
    let total = cumulative[cumulative.len() - 1].max(1e-9);
    let from = start_m.min(0.4 * total);
    let to = (total - end_m).max(0.6 * total);
    (0..n)
        .map(|i| {
            let s = from + (to - from) * i as f32 / (n - 1) as f32;
            let seg = cumulative
                .windows(2)
                .position(|c| s <= c[1])
                .unwrap_or(guide.len() - 2);
            let span = (cumulative[seg + 1] - cumulative[seg]).max(1e-9);
            let f = ((s - cumulative[seg]) / span).clamp(0.0, 1.0);
            let p = guide[seg].position_m.lerp(guide[seg + 1].position_m, f);
            let mut w = [0.0; JOINT_COUNT];
            w[guide[seg].joint] += 1.0 - f;
            w[guide[seg + 1].joint] += f;
            (p, w)
        })
        .collect()
}

/// Polyline length.
pub fn length_m(guide: &[GuidePoint]) -> f32 {
    guide
        .windows(2)
        .map(|w| (w[1].position_m - w[0].position_m).length())
        .sum()
}

/// How a swept shape is built.
pub struct SweepSpec<'a> {
    /// One guide (tube or flat band) or several side by side (sheet), origin first.
    pub guides: Vec<Vec<GuidePoint>>,
    /// Extra width beyond the outer guides (sheets, in units of the guide spacing) or the
    /// half-width (single guide, metres), at the origin and at the insertion.
    pub spread: (f32, f32),
    /// Half thickness (metres) at (u in −1…1, t in 0…1).
    pub half_thickness_m: &'a dyn Fn(f32, f32) -> f32,
    /// Which way the width of a single-guide band lies.
    pub width_hint: Vec3,
    /// Smallest ball spacing (metres).
    pub min_step_m: f32,
}

/// One place on a cross-section of a swept shape.
struct Across {
    point: Vec3,
    width_dir: Vec3,
    weights: JointWeights,
    tangent: Vec3,
    /// Distance across from the section's middle.
    across_m: f32,
    /// How fast u changes per metre across.
    u_per_m: f32,
}

/// A cross-section of a swept shape: from u (−1…1) and the ball radius there to the place.
type CrossSection = Box<dyn Fn(f32, f32) -> Across>;

fn lerp_w(a: &JointWeights, b: &JointWeights, f: f32) -> JointWeights {
    let mut w = [0.0; JOINT_COUNT];
    for i in 0..JOINT_COUNT {
        w[i] = a[i] + (b[i] - a[i]) * f;
    }
    w
}

/// Places the balls of a swept shape.
pub fn sweep(spec: &SweepSpec<'_>) -> Vec<SweepSample> {
    let length = spec
        .guides
        .iter()
        .map(|g| length_m(g))
        .fold(0.0f32, f32::max);
    let n = ((length / spec.min_step_m).ceil() as usize).max(8);
    // End balls are pulled in by their radius so the muscle's surface, not its core,
    // reaches the measured attachment.
    let start_r = (spec.half_thickness_m)(0.0, 0.0);
    let end_r = (spec.half_thickness_m)(0.0, 1.0);
    let rails: Vec<Vec<(Vec3, JointWeights)>> = spec
        .guides
        .iter()
        .map(|g| resample(g, n + 1, start_r, end_r))
        .collect();
    let mut out = Vec::new();
    let mut i = 0.0f32;
    while i <= n as f32 + 1e-3 {
        let t = i / n as f32;
        let ti = (i.floor() as usize).min(n - 1);
        let f = i - ti as f32;
        let at = |rail: &Vec<(Vec3, JointWeights)>| {
            (
                rail[ti].0.lerp(rail[ti + 1].0, f),
                lerp_w(&rail[ti].1, &rail[ti + 1].1, f),
            )
        };
        let tangent_of = |rail: &Vec<(Vec3, JointWeights)>| {
            (rail[ti + 1].0 - rail[ti].0)
                .try_normalize()
                .unwrap_or(Vec3::Y)
        };
        let spread = spec.spread.0 + (spec.spread.1 - spec.spread.0) * t;
        // Cross-section at this t.
        let (width_m, cross): (f32, CrossSection) = if rails.len() == 1 {
            let (c, w) = at(&rails[0]);
            let tan = tangent_of(&rails[0]);
            let wd = (spec.width_hint - tan * spec.width_hint.dot(tan))
                .try_normalize()
                .unwrap_or(Vec3::X);
            (
                2.0 * spread,
                // u is the fraction of the band's half-width (to the surface), so a
                // tapering band's fibres keep their u.
                Box::new(move |u, r| Across {
                    point: c + wd * (u * spread),
                    width_dir: wd,
                    weights: w,
                    tangent: tan,
                    across_m: u * spread,
                    u_per_m: 1.0 / (spread + r).max(1e-4),
                }),
            )
        } else {
            let hint = spec.width_hint;
            let pts: Vec<(Vec3, JointWeights)> = rails.iter().map(at).collect();
            let tans: Vec<Vec3> = rails.iter().map(tangent_of).collect();
            let k = pts.len() - 1;
            let total: f32 = pts.windows(2).map(|p| (p[1].0 - p[0].0).length()).sum();
            let width = total * (1.0 + 2.0 * spread / k as f32);
            // Distance across the fibres up to each guide: the section's arc length
            // without its part along the guides (where guides run into one another,
            // as at a fan's apex, the section lies along them and is no width).
            let mean_tan = tans.iter().copied().sum::<Vec3>().normalize_or_zero();
            let across_len = move |v: Vec3| (v - mean_tan * v.dot(mean_tan)).length();
            let mut arc = vec![0.0f32];
            for p in pts.windows(2) {
                arc.push(arc[arc.len() - 1] + across_len(p[1].0 - p[0].0));
            }
            let arc_total = arc[k];
            (
                width,
                Box::new(move |u, r| {
                    // u −1…1 maps to guide coordinate g −spread…k+spread.
                    let g = (u + 1.0) * 0.5 * (k as f32 + 2.0 * spread) - spread;
                    let at_g = |g: f32| {
                        let seg = (g.floor().max(0.0) as usize).min(k - 1);
                        (seg, g - seg as f32)
                    };
                    let point = |g: f32| {
                        let (seg, f) = at_g(g);
                        pts[seg].0.lerp(pts[seg + 1].0, f)
                    };
                    let (seg, f) = at_g(g);
                    let a = pts[seg].0;
                    let b = pts[seg + 1].0;
                    let tan = tans[seg]
                        .lerp(tans[seg + 1], f.clamp(0.0, 1.0))
                        .try_normalize()
                        .unwrap_or(Vec3::Y);
                    // Across the sheet over half a guide spacing and the ball's radius each
                    // way: the smoothed surface of thick balls does not follow a bend of
                    // the section at a guide, so the frame may not either; where the
                    // section has no width across the fibres (a fan's apex), across the
                    // hint as for a single guide.
                    let reach = 0.5 + r / (b - a).length().max(1e-3);
                    let across = point(g + reach) - point(g - reach);
                    let across = across - tan * across.dot(tan);
                    // The hint counts for a few millimetres: enough to steady the frame
                    // where the guides come together, nothing against a real width.
                    let hint = hint - tan * hint.dot(tan);
                    let hint = if hint.dot(across) < 0.0 { -hint } else { hint };
                    let wd = (across + hint * 0.003).try_normalize().unwrap_or(Vec3::X);
                    Across {
                        point: a.lerp(b, f),
                        width_dir: wd,
                        weights: lerp_w(&pts[seg].1, &pts[seg + 1].1, f.clamp(0.0, 1.0)),
                        tangent: tan,
                        across_m: arc[seg] + f * across_len(b - a) - 0.5 * arc_total,
                        u_per_m: 2.0 / ((k as f32 + 2.0 * spread) * (b - a).length().max(1e-4)),
                    }
                }),
            )
        };
        let reach = |u: f32| {
            let r = (spec.half_thickness_m)(u, t);
            cross(u, r).across_m.abs() + r
        };
        let half_width_m = 0.5 * (reach(-1.0) + reach(1.0));
        let mut u = -1.0f32;
        let mut local_step = f32::MAX;
        loop {
            let r = (spec.half_thickness_m)(u, t);
            let at = cross(u, r);
            // For a single guide u runs over the ball centres: measure it to the surface.
            let fibre_u = if rails.len() == 1 {
                at.across_m * at.u_per_m
            } else {
                u
            };
            out.push(SweepSample {
                centre: at.point,
                radius_m: r,
                t,
                u,
                across_m: at.across_m,
                half_width_m,
                fibre_u,
                fibre_u_per_m: at.u_per_m,
                tangent: at.tangent,
                width_dir: at.width_dir,
                thick_dir: at
                    .tangent
                    .cross(at.width_dir)
                    .try_normalize()
                    .unwrap_or(Vec3::Z),
                weights: at.weights,
            });
            local_step = local_step.min((0.45 * r).max(spec.min_step_m));
            if width_m <= 1e-6 || u >= 1.0 {
                break;
            }
            u = (u + 2.0 * (0.45 * r).max(spec.min_step_m) / width_m).min(1.0);
        }
        i += (local_step / (length / n as f32)).clamp(0.05, 1.0);
    }
    out
}

/// Moves balls out of an obstacle (a signed distance: bones) so each ends `gap_m` clear of
/// it: muscles then wrap over bone instead of cutting through it.
pub fn push_out(samples: &mut [SweepSample], obstacle: &dyn Fn(Vec3) -> f32, gap_m: f32) {
    const H: f32 = 0.0005;
    for s in samples.iter_mut() {
        for _ in 0..3 {
            let d = obstacle(s.centre);
            let need = s.radius_m + gap_m;
            // A centre inside bone stays: pushing it could cross a thin plate to the wrong
            // side; the bone is cut out of the muscle afterwards instead (and attachments
            // buried in bone get a pit, see `bones::attachment_pits`).
            if d >= need || d < 0.0 {
                break;
            }
            let grad = Vec3::new(
                obstacle(s.centre + Vec3::X * H) - obstacle(s.centre - Vec3::X * H),
                obstacle(s.centre + Vec3::Y * H) - obstacle(s.centre - Vec3::Y * H),
                obstacle(s.centre + Vec3::Z * H) - obstacle(s.centre - Vec3::Z * H),
            );
            let Some(n) = grad.try_normalize() else { break };
            s.centre += n * (need - d);
        }
    }
}

/// Like [`push_out`], and a ball whose centre lies inside the obstacle is moved along
/// `out(ball)` (a unit direction: the side of the bone the shape lies on; zero: leave it)
/// until it is clear, up to 4 cm: a nerve root or a muscle band that runs into a bone then comes out on the
/// side it belongs to instead of being cut off.
pub fn push_out_along(
    samples: &mut [SweepSample],
    obstacle: &dyn Fn(Vec3) -> f32,
    gap_m: f32,
    out: &dyn Fn(&SweepSample) -> Vec3,
) {
    const STEP_M: f32 = 0.0005;
    for s in samples.iter_mut() {
        let need = s.radius_m + gap_m;
        if obstacle(s.centre) >= 0.0 {
            continue;
        }
        let dir = out(s);
        if dir == Vec3::ZERO {
            continue;
        }
        let mut moved_m = 0.0;
        while moved_m < 0.04 && obstacle(s.centre) < need {
            s.centre += dir * STEP_M;
            moved_m += STEP_M;
        }
    }
    push_out(samples, obstacle, gap_m);
}

/// Measures each cross-section's `across_m` and `half_width_m` again from where its balls
/// are now: laying a sheet on a curved surface or pushing balls off bone moves them apart
/// or together across the fibres, and the `tense` morph narrows what is there, not what
/// was planned. A section is the run of balls with the same t, in order across.
pub fn remeasure_across(samples: &mut [SweepSample]) {
    let mut start = 0;
    while start < samples.len() {
        let t = samples[start].t;
        let end = start + samples[start..].iter().take_while(|s| s.t == t).count();
        let section = &mut samples[start..end];
        if section.len() > 1 {
            let mut arc = vec![0.0f32; section.len()];
            for i in 1..section.len() {
                let step = section[i].centre - section[i - 1].centre;
                let tangent = section[i].tangent;
                arc[i] = arc[i - 1] + (step - tangent * step.dot(tangent)).length();
            }
            let middle = 0.5 * arc[section.len() - 1];
            let half_width_m = section
                .iter()
                .zip(&arc)
                .map(|(b, a)| (a - middle).abs() + b.radius_m)
                .fold(0.0f32, f32::max);
            for (b, a) in section.iter_mut().zip(&arc) {
                b.across_m = a - middle;
                b.half_width_m = half_width_m;
            }
        }
        start = end;
    }
}

/// Lays the part of a sheet between `t_from` and `t_to` onto a surface: each ball there is
/// moved to where a probe coming from `reach_m` out along `dir` first comes within its radius
/// and `gap_m` of the obstacle (so a ball that lay inside the bone, behind it or off it ends
/// on the surface facing `dir`), but never more than `max_in_m` towards it (a muscle bridges
/// a hollow instead of sinking into it). The moves are then averaged over neighbouring
/// balls of the sheet, so it follows the surface without copying its every bump, and fade
/// out over the last fifth of the range so the sheet leaves the surface smoothly. Balls whose probe meets nothing stay.
pub fn lay_on(
    samples: &mut [SweepSample],
    obstacle: &dyn Fn(Vec3) -> f32,
    gap_m: f32,
    dir: Vec3,
    (t_from, t_to): (f32, f32),
    reach_m: f32,
    max_in_m: f32,
) {
    const STEP_M: f32 = 0.0005;
    let fade_from = t_to - 0.2 * (t_to - t_from);
    let moves: Vec<Option<Vec3>> = samples
        .iter()
        .map(|s| {
            if s.t < t_from || s.t > t_to {
                return None;
            }
            let need = s.radius_m + gap_m;
            let steps = (2.0 * reach_m / STEP_M) as usize;
            let start = s.centre + dir * reach_m;
            let hit = (0..steps)
                .map(|k| start - dir * (k as f32 * STEP_M))
                .find(|q| obstacle(*q) < need)?;
            // Back out to exactly the clearance.
            let mut target = hit;
            for _ in 0..8 {
                let d = obstacle(target);
                if d >= need {
                    break;
                }
                target += dir * (need - d).max(STEP_M * 0.25);
            }
            let mut step = target - s.centre;
            let inward = -step.dot(dir);
            if inward > max_in_m {
                step += dir * (inward - max_in_m);
            }
            let w = if s.t > fade_from {
                1.0 - (s.t - fade_from) / (t_to - fade_from).max(1e-6)
            } else {
                1.0
            };
            Some(step * w)
        })
        .collect();
    // Average the moves over neighbouring balls in the sheet's own coordinates (along t,
    // across u), so that balls side by side move together even where the sheet is thin.
    const NT: usize = 48;
    const NU: usize = 24;
    let index = |t: f32, u: f32| {
        let i = ((t.clamp(0.0, 1.0) * NT as f32) as usize).min(NT - 1);
        let j = (((u.clamp(-1.0, 1.0) + 1.0) * 0.5 * NU as f32) as usize).min(NU - 1);
        (i, j)
    };
    let mut cells = vec![(Vec3::ZERO, 0usize); NT * NU];
    for (s, m) in samples.iter().zip(&moves) {
        if let Some(m) = m {
            let (i, j) = index(s.t, s.u);
            cells[i * NU + j].0 += *m;
            cells[i * NU + j].1 += 1;
        }
    }
    let averaged: Vec<Option<Vec3>> = (0..NT * NU)
        .map(|k| (cells[k].1 > 0).then(|| cells[k].0 / cells[k].1 as f32))
        .collect();
    // Smoothed at every cell, then read between cells (bilinear), so neighbouring balls
    // never step apart.
    const R: i32 = 3;
    let smoothed: Vec<Option<Vec3>> = (0..NT * NU)
        .map(|k| {
            let (i, j) = ((k / NU) as i32, (k % NU) as i32);
            let (mut sum, mut weight) = (Vec3::ZERO, 0.0f32);
            for di in -R..=R {
                for dj in -R..=R {
                    let (a, b) = (i + di, j + dj);
                    if a < 0 || b < 0 || a >= NT as i32 || b >= NU as i32 {
                        continue;
                    }
                    if let Some(m) = averaged[a as usize * NU + b as usize] {
                        let w = (R + 1 - di.abs()) as f32 * (R + 1 - dj.abs()) as f32;
                        sum += m * w;
                        weight += w;
                    }
                }
            }
            (weight > 0.0).then(|| sum / weight)
        })
        .collect();
    let read = |t: f32, u: f32| -> Option<Vec3> {
        let x = (t.clamp(0.0, 1.0) * NT as f32 - 0.5).clamp(0.0, (NT - 1) as f32);
        let y = ((u.clamp(-1.0, 1.0) + 1.0) * 0.5 * NU as f32 - 0.5).clamp(0.0, (NU - 1) as f32);
        let (i0, j0) = (x.floor() as usize, y.floor() as usize);
        let (i1, j1) = ((i0 + 1).min(NT - 1), (j0 + 1).min(NU - 1));
        let (fx, fy) = (x - i0 as f32, y - j0 as f32);
        let (mut sum, mut weight) = (Vec3::ZERO, 0.0f32);
        for (i, j, w) in [
            (i0, j0, (1.0 - fx) * (1.0 - fy)),
            (i1, j0, fx * (1.0 - fy)),
            (i0, j1, (1.0 - fx) * fy),
            (i1, j1, fx * fy),
        ] {
            if let Some(m) = smoothed[i * NU + j] {
                sum += m * w;
                weight += w;
            }
        }
        (weight > 1e-6).then(|| sum / weight)
    };
    for (s, m) in samples.iter_mut().zip(&moves) {
        if m.is_some()
            && let Some(step) = read(s.t, s.u)
        {
            s.centre += step;
        }
    }
}

/// The balls as primitives.
pub fn balls(samples: &[SweepSample]) -> Vec<Primitive> {
    samples
        .iter()
        .map(|s| Primitive::Sphere {
            centre: s.centre,
            radius_m: s.radius_m,
        })
        .collect()
}

/// Index of the sample nearest to `p` relative to its radius (the ball the vertex came from).
pub fn nearest_sample(samples: &[SweepSample], p: Vec3) -> usize {
    let mut best = 0;
    let mut best_d = f32::MAX;
    for (i, s) in samples.iter().enumerate() {
        let d = (p - s.centre).length() - s.radius_m;
        if d < best_d {
            best_d = d;
            best = i;
        }
    }
    best
}

/// The classic fusiform profile: `end + (belly − end)·sin(πt)^p`.
pub fn fusiform(t: f32, end_m: f32, belly_m: f32, power: f32) -> f32 {
    // sin(π) is slightly negative in f32: clamp before the power.
    end_m
        + (belly_m - end_m)
            * (std::f32::consts::PI * t.clamp(0.0, 1.0))
                .sin()
                .max(0.0)
                .powf(power)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tube_samples_cover_path_and_blend_weights() {
        let guide = vec![
            GuidePoint {
                position_m: Vec3::ZERO,
                joint: JOINT_PELVIS,
            },
            GuidePoint {
                position_m: Vec3::new(0.0, -0.1, 0.0),
                joint: JOINT_FEMUR_L,
            },
        ];
        let ht = |_u: f32, t: f32| fusiform(t, 0.002, 0.01, 1.0);
        let s = sweep(&SweepSpec {
            guides: vec![guide],
            spread: (0.0, 0.0),
            half_thickness_m: &ht,
            width_hint: Vec3::X,
            min_step_m: 0.001,
        });
        assert!(s.len() > 50);
        let first = s.first().unwrap();
        let last = s.last().unwrap();
        // End balls are pulled in by their radius (2 mm) so their surfaces reach the ends.
        assert!((first.centre.y + 0.002).abs() < 1e-4, "{}", first.centre);
        assert!((last.centre.y + 0.098).abs() < 1e-4, "{}", last.centre);
        assert!(first.weights[JOINT_PELVIS] > 0.95);
        assert!(last.weights[JOINT_FEMUR_L] > 0.95);
        assert!(
            s.iter()
                .any(|x| (x.weights[JOINT_PELVIS] - 0.5).abs() < 0.05)
        );
        assert!((fusiform(0.5, 0.002, 0.01, 1.0) - 0.01).abs() < 1e-6);
    }
}
