//! Muscle and nerve lengths from geometry, as OpenSim computes them: each line of action runs
//! from its origin through its via points to its insertion, every point fixed to a body (the
//! pelvis, a lumbar vertebra or a femur) and moved with it; where the model has a wrap
//! surface the segment goes around it instead of through it. Pure: no ECS.
//!
//! The lines and wrap surfaces are those of the OpenSim Rajagopal 2016 model
//! (`assets/anatomy/rajagopal2016.ron`): five wrap cylinders (gluteus maximus 1-3 at the hip,
//! psoas and iliacus over the pelvic brim), each acting on the stretch of its muscle's path the
//! model names. A derived via point inside such a stretch only stood in for the cylinder (so
//! that the drawn path stays off the bone), so for the length the cylinder replaces it. The
//! sciatic nerve's derived path wraps a sphere about the hip joint centre (the bed of short
//! external rotators it lies on), from `assets/data/posture.ron`.
//!
//! A wrapped segment is the shortest path around the surface on the side the model allows:
//! for a cylinder, straight to a tangent line, along a helix (a straight line on the unrolled
//! cylinder) and straight on; for a sphere, a great-circle arc in the plane of the two ends
//! and the centre.

use std::f32::consts::TAU;

use bevy::math::{Mat3, Vec2, Vec3};
use serde::Deserialize;

use super::kinematics::{Pose, RigJoint, Skeleton};
use crate::anatomy::{Side, Structure, StructureKind};
use crate::modelgen::data::{Anatomy, BodyFrame, gltf_from_opensim, mirror};

/// A wrap surface as the anatomy file gives it (OpenSim pelvis frame, right side).
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct WrapObject {
    /// OpenSim name.
    pub name: String,
    /// `WrapCylinder` (the only kind these muscles use).
    pub kind: String,
    /// The body it is fixed to.
    pub frame: String,
    /// Centre, metres.
    pub p: (f32, f32, f32),
    /// Body-fixed X-Y-Z Euler angles of its frame, radians.
    pub xyz_body_rotation_rad: (f32, f32, f32),
    /// Radius.
    pub radius_m: f32,
    /// Length along its axis.
    pub length_m: f32,
    /// The side of it the path may wrap on (`-x`, `+y`, `all`…).
    pub quadrant: String,
    /// The path it acts on (`psoas_r`).
    pub muscle: String,
    /// The first point of the stretch it acts on.
    pub from: String,
    /// The last point of that stretch.
    pub to: String,
}

#[derive(Deserialize)]
struct WrapSection {
    #[serde(default)]
    wrap_objects: Vec<WrapObject>,
}

/// The wrap surfaces of an anatomy file's text (the file's other fields are read by
/// [`Anatomy`]).
pub fn wrap_objects(text: &str, file: &str) -> Result<Vec<WrapObject>, crate::files::FileError> {
    ron::from_str::<WrapSection>(text)
        .map(|s| s.wrap_objects)
        .map_err(|e| crate::files::FileError::ron(file, &e))
}

/// A wrap surface in the model's frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WrapShape {
    /// An infinite-looking cylinder of finite length.
    Cylinder {
        /// Centre.
        centre_m: Vec3,
        /// Its frame's axes in the model (x, y and the cylinder axis z).
        axes: Mat3,
        /// Radius.
        radius_m: f32,
        /// Half its length along the axis.
        half_length_m: f32,
        /// The side the path must wrap on: local axis (0 = x, 1 = y) and sign; `None`: any.
        quadrant: Option<(usize, f32)>,
    },
    /// A sphere.
    Sphere {
        /// Centre.
        centre_m: Vec3,
        /// Radius.
        radius_m: f32,
    },
}

/// A wrap surface acting on a stretch of a path.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SegmentWrap {
    /// First segment it acts on (segment i joins point i and i + 1).
    pub first_segment: usize,
    /// Last segment it acts on.
    pub last_segment: usize,
    /// The body it moves with.
    pub joint: RigJoint,
    /// Its shape in the rest pose.
    pub shape: WrapShape,
}

/// One point of a path: where it is at rest and the body it moves with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Attached {
    /// The body.
    pub joint: RigJoint,
    /// Rest position, metres.
    pub rest_m: Vec3,
}

/// One line of action (or the nerve's path).
#[derive(Clone, Debug, PartialEq)]
pub struct LinePath {
    /// OpenSim name without side (`piri`), or the nerve's branch names.
    pub name: String,
    /// Its points, origin first.
    pub points: Vec<Attached>,
    /// Its wrap surfaces.
    pub wraps: Vec<SegmentWrap>,
    /// The length of the polyline through every point of the data file (via points included)
    /// at rest: the figure the computed rest length is checked against.
    pub data_length_m: f32,
}

impl LinePath {
    /// The points where the pose puts them.
    pub fn posed_points(&self, pose: &Pose) -> impl Iterator<Item = Vec3> + '_ {
        let pose = *pose;
        self.points
            .iter()
            .map(move |a| pose.of(a.joint).transform_point3(a.rest_m))
    }

    /// The path's length in a pose: straight segments, wrapped where a surface is in the way.
    pub fn length_m(&self, pose: &Pose) -> f32 {
        let mut total = 0.0;
        let mut previous: Option<Vec3> = None;
        for (i, p) in self.posed_points(pose).enumerate() {
            if let Some(q) = previous {
                let segment = i - 1;
                let straight = q.distance(p);
                let wrapped = self
                    .wraps
                    .iter()
                    .filter(|w| (w.first_segment..=w.last_segment).contains(&segment))
                    .filter_map(|w| wrapped_length_m(q, p, &posed_shape(w, pose)))
                    .fold(straight, f32::max);
                total += wrapped;
            }
            previous = Some(p);
        }
        total
    }

    /// The path as it runs in a pose, as points: each point of the line, and where a wrap
    /// surface takes a segment round it, the way round in `arc_steps` steps (the wrap that
    /// makes the segment longest, as [`Self::length_m`] counts it).
    pub fn posed_route(&self, pose: &Pose, arc_steps: usize) -> Vec<Vec3> {
        let mut route = Vec::new();
        let mut previous: Option<Vec3> = None;
        for (i, p) in self.posed_points(pose).enumerate() {
            if let Some(q) = previous {
                let segment = i - 1;
                let longest = self
                    .wraps
                    .iter()
                    .filter(|w| (w.first_segment..=w.last_segment).contains(&segment))
                    .filter_map(|w| wrap_plan(q, p, &posed_shape(w, pose)))
                    .max_by(|a, b| a.length_m().total_cmp(&b.length_m()));
                if let Some(plan) = longest.filter(|plan| plan.length_m() > q.distance(p)) {
                    route.extend(plan.points(arc_steps));
                }
            }
            route.push(p);
            previous = Some(p);
        }
        route
    }
}

fn posed_shape(wrap: &SegmentWrap, pose: &Pose) -> WrapShape {
    let motion = pose.of(wrap.joint);
    match wrap.shape {
        WrapShape::Cylinder {
            centre_m,
            axes,
            radius_m,
            half_length_m,
            quadrant,
        } => WrapShape::Cylinder {
            centre_m: motion.transform_point3(centre_m),
            axes: Mat3::from(motion.matrix3) * axes,
            radius_m,
            half_length_m,
            quadrant,
        },
        WrapShape::Sphere { centre_m, radius_m } => WrapShape::Sphere {
            centre_m: motion.transform_point3(centre_m),
            radius_m,
        },
    }
}

/// Where the closest point of the line through `a` and `b` to the origin lies: its
/// parameter (0 at `a`, 1 at `b`) and the point.
fn nearest_on_line(a: Vec2, b: Vec2) -> (f32, Vec2) {
    let d = b - a;
    let t = if d.length_squared() > 0.0 {
        -a.dot(d) / d.length_squared()
    } else {
        0.0
    };
    (t, a + d * t)
}

/// The two ways around a circle of radius `r` about the origin from `p` to `s` (both
/// outside it): each as (length in the plane, tangent part from `p`, arc angle, direction).
fn ways_around(p: Vec2, s: Vec2, r: f32) -> [(f32, f32, f32, f32); 2] {
    let tangent = |v: Vec2| (v.length_squared() - r * r).max(0.0).sqrt();
    let (tp, ts) = (tangent(p), tangent(s));
    let (ap, as_) = (p.y.atan2(p.x), s.y.atan2(s.x));
    let (bp, bs) = ((r / p.length()).acos(), (r / s.length()).acos());
    [1.0f32, -1.0].map(|dir| {
        // Leave `p` along the tangent that turns `dir`-wise, arrive at `s` likewise.
        let t1 = ap + dir * bp;
        let t2 = as_ - dir * bs;
        let arc = ((t2 - t1) * dir).rem_euclid(TAU);
        (tp + r * arc + ts, tp, arc, dir)
    })
}

/// How a segment goes round a wrap surface: in a plane (the cylinder's cross-section, or the
/// sphere's great circle through both ends), straight to a tangent point, round an arc and
/// straight on; on a cylinder the height along its axis grows evenly with the distance in
/// the plane (a helix).
#[derive(Clone, Copy, Debug, PartialEq)]
struct WrapPlan {
    /// Where the plane lies: its origin (the surface's centre) and its in-plane axes; the
    /// third axis carries the height.
    centre_m: Vec3,
    axes: Mat3,
    /// Both ends in the plane, and their heights.
    p2: Vec2,
    pz: f32,
    dz: f32,
    radius_m: f32,
    /// The chosen way round: length in the plane, the tangent part from `p`, the arc angle
    /// and the direction it turns.
    way: (f32, f32, f32, f32),
}

impl WrapPlan {
    fn length_m(&self) -> f32 {
        let planar = self.way.0;
        (planar * planar + self.dz * self.dz).sqrt()
    }

    /// Points along the wrapped segment: the tangent point, the arc in `arc_steps` steps and
    /// the point where it leaves the surface (the segment's ends are not included).
    fn points(&self, arc_steps: usize) -> Vec<Vec3> {
        let (planar, tangent_p, arc, dir) = self.way;
        let r = self.radius_m;
        let start = self.p2.y.atan2(self.p2.x) + dir * (r / self.p2.length()).acos();
        (0..=arc_steps.max(1))
            .map(|k| {
                let along = k as f32 / arc_steps.max(1) as f32;
                let angle = start + dir * arc * along;
                let height = self.pz + self.dz * (tangent_p + r * arc * along) / planar;
                self.centre_m + self.axes * Vec3::new(r * angle.cos(), r * angle.sin(), height)
            })
            .collect()
    }
}

/// The length of the shortest path from `p` to `s` around `shape`, if the surface is in the
/// way (`None`: the straight segment stands).
pub fn wrapped_length_m(p: Vec3, s: Vec3, shape: &WrapShape) -> Option<f32> {
    wrap_plan(p, s, shape).map(|plan| plan.length_m())
}

fn wrap_plan(p: Vec3, s: Vec3, shape: &WrapShape) -> Option<WrapPlan> {
    match *shape {
        WrapShape::Cylinder {
            centre_m,
            axes,
            radius_m: r,
            half_length_m,
            quadrant,
        } => {
            let local = |v: Vec3| axes.transpose() * (v - centre_m);
            let (lp, ls) = (local(p), local(s));
            let (p2, s2) = (lp.truncate(), ls.truncate());
            if p2.length() <= r || s2.length() <= r {
                return None;
            }
            let (t, near) = nearest_on_line(p2, s2);
            let crosses = near.length() < r && t > 0.0 && t < 1.0;
            // OpenSim's rule (WrapCylinder::wrapLine): with a quadrant, a path with an end on
            // the allowed side wraps if it crosses the cylinder, or if its ends lie on both
            // sides and it passes on the wrong one; a path with no end on the allowed side is
            // taken round it.
            let wraps = match quadrant {
                None => crosses,
                Some((axis, sign)) => {
                    let on = |v: Vec2| v[axis] * sign > 0.0;
                    if on(p2) || on(s2) {
                        crosses || (on(p2) != on(s2) && !on(near))
                    } else {
                        true
                    }
                }
            };
            if !wraps {
                return None;
            }
            let ways = ways_around(p2, s2, r);
            let allowed = |&(_, _, arc, dir): &(f32, f32, f32, f32)| {
                quadrant.is_none_or(|(axis, sign)| {
                    let t1 = p2.y.atan2(p2.x) + dir * (r / p2.length()).acos();
                    let mid = t1 + dir * arc * 0.5;
                    Vec2::new(mid.cos(), mid.sin())[axis] * sign > 0.0
                })
            };
            let shortest =
                |a: &&(f32, f32, f32, f32), b: &&(f32, f32, f32, f32)| a.0.total_cmp(&b.0);
            let way = *ways
                .iter()
                .filter(|w| allowed(w))
                .min_by(shortest)
                .or_else(|| ways.iter().min_by(shortest))?;
            let (planar, tangent_p, arc, _) = way;
            // The helix is a straight line on the unrolled cylinder: height grows evenly with
            // the distance in the plane. A wrap that touches the cylinder only beyond its ends
            // does not count.
            let dz = ls.z - lp.z;
            let z1 = lp.z + dz * tangent_p / planar;
            let z2 = lp.z + dz * (tangent_p + r * arc) / planar;
            if z1.abs() > half_length_m && z2.abs() > half_length_m {
                return None;
            }
            Some(WrapPlan {
                centre_m,
                axes,
                p2,
                pz: lp.z,
                dz,
                radius_m: r,
                way,
            })
        }
        WrapShape::Sphere {
            centre_m,
            radius_m: r,
        } => {
            let (vp, vs) = (p - centre_m, s - centre_m);
            if vp.length() <= r || vs.length() <= r {
                return None;
            }
            // The plane of the two ends and the centre.
            let e1 = vp.normalize();
            let across = vs - e1 * vs.dot(e1);
            let e2 = if across.length() > 1e-5 * vs.length() {
                across.normalize()
            } else {
                e1.any_orthonormal_vector()
            };
            let p2 = Vec2::new(vp.length(), 0.0);
            let s2 = Vec2::new(vs.dot(e1), vs.dot(e2));
            let (t, near) = nearest_on_line(p2, s2);
            if !(near.length() < r && t > 0.0 && t < 1.0) {
                return None;
            }
            let way = ways_around(p2, s2, r)
                .into_iter()
                .min_by(|a, b| a.0.total_cmp(&b.0))?;
            Some(WrapPlan {
                centre_m,
                axes: Mat3::from_cols(e1, e2, e1.cross(e2)),
                p2,
                pz: 0.0,
                dz: 0.0,
                radius_m: r,
                way,
            })
        }
    }
}

/// A muscle (one side) and its lines.
#[derive(Clone, Debug, PartialEq)]
pub struct MusclePaths {
    /// Which muscle.
    pub structure: Structure,
    /// Its lines of action.
    pub lines: Vec<LinePath>,
    /// Each line's length standing.
    pub standing_m: Vec<f32>,
}

/// A nerve (one side) and its path.
#[derive(Clone, Debug, PartialEq)]
pub struct NervePath {
    /// Which nerve.
    pub structure: Structure,
    /// Its path.
    pub path: LinePath,
    /// Its length standing.
    pub standing_m: f32,
}

/// Every path whose length the app follows.
#[derive(Clone, Debug, PartialEq)]
pub struct PathModel {
    /// Muscles, both sides.
    pub muscles: Vec<MusclePaths>,
    /// Nerves, both sides.
    pub nerves: Vec<NervePath>,
}

/// One muscle's length in a pose.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MuscleLength {
    /// Which muscle.
    pub structure: Option<Structure>,
    /// The mean length of its lines, metres.
    pub length_m: f32,
    /// The mean length standing.
    pub standing_m: f32,
    /// The mean of its lines' length changes against standing, per cent.
    pub change_pct: f32,
}

/// One nerve's length in a pose.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct NerveLength {
    /// Which nerve.
    pub structure: Option<Structure>,
    /// Its path length, metres.
    pub length_m: f32,
    /// Standing.
    pub standing_m: f32,
    /// Strain against standing, per cent.
    pub strain_pct: f32,
}

/// Every length in a pose.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Lengths {
    /// Muscles, in [`PathModel::muscles`] order.
    pub muscles: Vec<MuscleLength>,
    /// Nerves, in [`PathModel::nerves`] order.
    pub nerves: Vec<NerveLength>,
}

impl Lengths {
    /// One muscle's length change, per cent (0 if it is not followed).
    pub fn change_pct(&self, structure: Structure) -> f32 {
        self.muscles
            .iter()
            .find(|m| m.structure == Some(structure))
            .map_or(0.0, |m| m.change_pct)
    }

    /// One nerve's strain, per cent (0 if it is not followed).
    pub fn strain_pct(&self, structure: Structure) -> f32 {
        self.nerves
            .iter()
            .find(|n| n.structure == Some(structure))
            .map_or(0.0, |n| n.strain_pct)
    }
}

impl PathModel {
    /// Every length in a pose.
    pub fn lengths(&self, pose: &Pose) -> Lengths {
        let mut out = Lengths::default();
        self.lengths_into(pose, &mut out);
        out
    }

    /// [`Self::lengths`] into a buffer (no allocation once it has the right size).
    pub fn lengths_into(&self, pose: &Pose, out: &mut Lengths) {
        out.muscles
            .resize(self.muscles.len(), MuscleLength::default());
        out.nerves.resize(self.nerves.len(), NerveLength::default());
        for (m, slot) in self.muscles.iter().zip(&mut out.muscles) {
            let n = m.lines.len().max(1) as f32;
            let (mut length, mut standing, mut change) = (0.0, 0.0, 0.0);
            for (line, rest) in m.lines.iter().zip(&m.standing_m) {
                let l = line.length_m(pose);
                length += l;
                standing += rest;
                change += (l / rest - 1.0) * 100.0;
            }
            *slot = MuscleLength {
                structure: Some(m.structure),
                length_m: length / n,
                standing_m: standing / n,
                change_pct: change / n,
            };
        }
        for (nerve, slot) in self.nerves.iter().zip(&mut out.nerves) {
            let l = nerve.path.length_m(pose);
            *slot = NerveLength {
                structure: Some(nerve.structure),
                length_m: l,
                standing_m: nerve.standing_m,
                strain_pct: (l / nerve.standing_m - 1.0) * 100.0,
            };
        }
    }

    /// A muscle's paths.
    pub fn muscle(&self, structure: Structure) -> Option<&MusclePaths> {
        self.muscles.iter().find(|m| m.structure == structure)
    }

    /// A nerve's path.
    pub fn nerve(&self, structure: Structure) -> Option<&NervePath> {
        self.nerves.iter().find(|n| n.structure == structure)
    }
}

/// What the paths are built from.
pub struct PathInputs<'a> {
    /// The anatomical numbers.
    pub anatomy: &'a Anatomy,
    /// Their wrap surfaces.
    pub wraps: &'a [WrapObject],
    /// The pivots (for which vertebra a torso point moves with).
    pub skeleton: &'a Skeleton,
    /// Each muscle and its OpenSim lines.
    pub muscle_lines: &'a [(StructureKind, Vec<String>)],
    /// The nerve's branches, in order.
    pub nerve_branches: &'a [String],
    /// The nerve's sphere about the hip: radius, first and last point it acts between.
    pub nerve_wrap: (f32, &'a str, &'a str),
    /// The femoral head that some lines wrap instead of the model's cylinders.
    pub head_wrap: &'a HeadWrap,
}

/// Lines that wrap the femoral head (a sphere about the hip joint centre) where they cross
/// the hip, instead of the model's own wrap cylinders and the via points that stood in for
/// them.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HeadWrap {
    /// The lines (OpenSim names without side).
    pub lines: Vec<String>,
    /// The sphere's radius.
    pub radius_m: f32,
    /// The model's wrap surfaces it replaces (right-side names).
    pub replaces_wraps: Vec<String>,
    /// The derived via points it replaces.
    pub replaces_points: Vec<String>,
}

/// The vertebra a torso point moves with: the one whose body it lies beside (above the disc
/// below it).
fn vertebra_of(skeleton: &Skeleton, p: Vec3) -> RigJoint {
    let index = skeleton
        .disc_centres_m
        .iter()
        .rposition(|disc| disc.y <= p.y + 0.001)
        .unwrap_or(0);
    RigJoint::Vertebra(index)
}

fn joint_of(frame: BodyFrame, side: Side, p: Vec3, skeleton: &Skeleton) -> RigJoint {
    match frame {
        BodyFrame::Pelvis => RigJoint::Pelvis,
        BodyFrame::Torso => vertebra_of(skeleton, p),
        BodyFrame::Femur => RigJoint::Femur(side),
    }
}

fn polyline_m(points: impl IntoIterator<Item = Vec3>) -> f32 {
    let points: Vec<Vec3> = points.into_iter().collect();
    points.windows(2).map(|w| w[0].distance(w[1])).sum()
}

/// A wrap cylinder of the file, in the model's frame on `side`.
fn cylinder(w: &WrapObject, side: Side) -> Result<WrapShape, String> {
    let (a, b, c) = w.xyz_body_rotation_rad;
    let rotation = Mat3::from_rotation_x(a) * Mat3::from_rotation_y(b) * Mat3::from_rotation_z(c);
    let to_model = |v: Vec3| {
        let g = gltf_from_opensim((v.x, v.y, v.z));
        if side == Side::Left { mirror(g) } else { g }
    };
    let centre = to_model(Vec3::new(w.p.0, w.p.1, w.p.2));
    let axes = Mat3::from_cols(
        to_model(rotation.x_axis),
        to_model(rotation.y_axis),
        to_model(rotation.z_axis),
    );
    let quadrant = match w.quadrant.as_str() {
        "all" => None,
        q => {
            let sign = if q.starts_with('-') { -1.0 } else { 1.0 };
            let axis = match q.trim_start_matches(['-', '+']) {
                "x" => 0,
                "y" => 1,
                other => return Err(format!("wrap {}: unknown quadrant `{other}`", w.name)),
            };
            Some((axis, sign))
        }
    };
    if w.kind != "WrapCylinder" {
        return Err(format!("wrap {}: unsupported kind `{}`", w.name, w.kind));
    }
    Ok(WrapShape::Cylinder {
        centre_m: centre,
        axes,
        radius_m: w.radius_m,
        half_length_m: w.length_m * 0.5,
        quadrant,
    })
}

fn position_of(names: &[String], name: &str, what: &str) -> Result<usize, String> {
    names
        .iter()
        .position(|n| n == name)
        .ok_or_else(|| format!("{what}: no point `{name}`"))
}

fn line(inputs: &PathInputs, name: &str, side: Side) -> Result<LinePath, String> {
    let raw = inputs
        .anatomy
        .muscle_path(name, side)
        .map_err(|e| e.to_string())?;
    let data_length_m = polyline_m(raw.iter().map(|p| p.position_m));
    let head = inputs.head_wrap;
    let wraps_head = head.lines.iter().any(|l| l == name);
    let wraps: Vec<&WrapObject> = inputs
        .wraps
        .iter()
        .filter(|w| w.muscle == format!("{name}_r"))
        .filter(|w| !(wraps_head && head.replaces_wraps.contains(&w.name)))
        .collect();
    let names: Vec<String> = raw.iter().map(|p| p.name.clone()).collect();
    // Derived via points inside a wrapped stretch stood in for the surface: drop them.
    let mut dropped = vec![false; raw.len()];
    for w in &wraps {
        let (a, b) = (
            position_of(&names, &w.from, &w.name)?,
            position_of(&names, &w.to, &w.name)?,
        );
        for flag in dropped.iter_mut().take(b).skip(a + 1) {
            *flag = true;
        }
    }
    if wraps_head {
        for (flag, p) in dropped.iter_mut().zip(&raw) {
            *flag |= head.replaces_points.contains(&p.name);
        }
    }
    let kept: Vec<_> = raw
        .iter()
        .zip(&dropped)
        .filter(|(p, drop)| p.measured || !**drop)
        .map(|(p, _)| p)
        .collect();
    let kept_names: Vec<String> = kept.iter().map(|p| p.name.clone()).collect();
    let points: Vec<Attached> = kept
        .iter()
        .map(|p| Attached {
            joint: joint_of(p.frame, side, p.position_m, inputs.skeleton),
            rest_m: p.position_m,
        })
        .collect();
    let mut segment_wraps = wraps
        .iter()
        .map(|w| {
            let first = position_of(&kept_names, &w.from, &w.name)?;
            let last = position_of(&kept_names, &w.to, &w.name)?;
            Ok(SegmentWrap {
                first_segment: first,
                last_segment: last.saturating_sub(1).max(first),
                joint: RigJoint::Pelvis,
                shape: cylinder(w, side)?,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    if wraps_head {
        // Every segment that crosses the hip: from a point on the trunk side to the femur.
        let on_femur = |a: &Attached| matches!(a.joint, RigJoint::Femur(_));
        for (i, pair) in points.windows(2).enumerate() {
            if on_femur(&pair[0]) != on_femur(&pair[1]) {
                segment_wraps.push(SegmentWrap {
                    first_segment: i,
                    last_segment: i,
                    joint: RigJoint::Pelvis,
                    shape: WrapShape::Sphere {
                        centre_m: inputs.skeleton.hip_centre(side),
                        radius_m: head.radius_m,
                    },
                });
            }
        }
    }
    Ok(LinePath {
        name: name.to_owned(),
        points,
        wraps: segment_wraps,
        data_length_m,
    })
}

fn nerve(inputs: &PathInputs, side: Side) -> Result<LinePath, String> {
    let mut raw = Vec::new();
    for branch in inputs.nerve_branches {
        let points = inputs
            .anatomy
            .nerve_branch(branch, side)
            .map_err(|e| e.to_string())?;
        // Each branch after the first starts where the one before ends.
        let skip = usize::from(!raw.is_empty());
        raw.extend(points.into_iter().skip(skip));
    }
    let names: Vec<String> = raw.iter().map(|p| p.name.clone()).collect();
    let (radius_m, from, to) = inputs.nerve_wrap;
    let first = position_of(&names, from, "nerve wrap")?;
    let last = position_of(&names, to, "nerve wrap")?;
    let centre_m = inputs.skeleton.hip_centre(side);
    Ok(LinePath {
        name: inputs.nerve_branches.join("+"),
        data_length_m: polyline_m(raw.iter().map(|p| p.position_m)),
        points: raw
            .iter()
            .map(|p| Attached {
                joint: joint_of(p.frame, side, p.position_m, inputs.skeleton),
                rest_m: p.position_m,
            })
            .collect(),
        wraps: vec![SegmentWrap {
            first_segment: first,
            last_segment: last.saturating_sub(1).max(first),
            joint: RigJoint::Pelvis,
            shape: WrapShape::Sphere { centre_m, radius_m },
        }],
    })
}

/// Builds every path, both sides, and measures them standing.
pub fn build(inputs: &PathInputs) -> Result<PathModel, String> {
    let standing = Pose::default();
    let mut muscles = Vec::new();
    let mut nerves = Vec::new();
    for side in [Side::Left, Side::Right] {
        for (kind, names) in inputs.muscle_lines {
            let kind = *kind;
            let lines = names
                .iter()
                .map(|n| line(inputs, n, side))
                .collect::<Result<Vec<_>, String>>()?;
            let standing_m = lines.iter().map(|l| l.length_m(&standing)).collect();
            muscles.push(MusclePaths {
                structure: Structure { kind, side },
                lines,
                standing_m,
            });
        }
        let path = nerve(inputs, side)?;
        nerves.push(NervePath {
            structure: Structure {
                kind: StructureKind::SciaticNerve,
                side,
            },
            standing_m: path.length_m(&standing),
            path,
        });
    }
    Ok(PathModel { muscles, nerves })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cyl(quadrant: Option<(usize, f32)>) -> WrapShape {
        WrapShape::Cylinder {
            centre_m: Vec3::ZERO,
            axes: Mat3::IDENTITY,
            radius_m: 1.0,
            half_length_m: 10.0,
            quadrant,
        }
    }

    #[test]
    fn a_segment_clear_of_the_cylinder_stays_straight() {
        let (p, s) = (Vec3::new(-3.0, 2.0, 0.0), Vec3::new(3.0, 2.0, 0.0));
        assert_eq!(wrapped_length_m(p, s, &cyl(None)), None);
    }

    #[test]
    fn a_segment_through_the_cylinder_goes_round_the_near_side() {
        // From (-2, 0) to (2, 0) past the unit circle: two tangents of √3 and an arc of
        // π − 2·(π/3) = π/3 over the top or the bottom.
        let (p, s) = (Vec3::new(-2.0, 0.1, 0.0), Vec3::new(2.0, 0.1, 0.0));
        let l = wrapped_length_m(p, s, &cyl(None)).unwrap();
        let flat = Vec3::new(-2.0, 0.0, 0.0);
        let expected = wrapped_length_m(flat, -flat, &cyl(None)).unwrap();
        assert!((expected - (2.0 * 3f32.sqrt() + std::f32::consts::FRAC_PI_3)).abs() < 1e-4);
        // Passing 0.1 above the centre, over the top: a little shorter than through it, far
        // shorter than round the bottom.
        assert!(l < expected && l > expected - 0.15, "{l} {expected}");
        // Rising along the axis: the unrolled helix, by Pythagoras.
        let lift = wrapped_length_m(flat, Vec3::new(2.0, 0.0, 1.5), &cyl(None)).unwrap();
        assert!((lift - (expected * expected + 1.5 * 1.5).sqrt()).abs() < 1e-4);
    }

    #[test]
    fn a_quadrant_forces_the_allowed_side() {
        // Passing above the centre (+y) but only -y is allowed: round the bottom, and even a
        // segment clear of the cylinder on the wrong side is taken round it.
        let (p, s) = (Vec3::new(-2.0, 0.5, 0.0), Vec3::new(2.0, 0.5, 0.0));
        let free = wrapped_length_m(p, s, &cyl(None)).unwrap();
        let forced = wrapped_length_m(p, s, &cyl(Some((1, -1.0)))).unwrap();
        assert!(forced > free + 0.5, "{forced} {free}");
        let allowed = wrapped_length_m(p, s, &cyl(Some((1, 1.0)))).unwrap();
        assert!((allowed - free).abs() < 1e-5);
        // Both ends on the allowed side and clear: straight.
        let (p, s) = (Vec3::new(-2.0, -1.5, 0.0), Vec3::new(2.0, -1.5, 0.0));
        assert_eq!(wrapped_length_m(p, s, &cyl(Some((1, -1.0)))), None);
    }

    #[test]
    fn a_cylinder_only_counts_along_its_length() {
        let short = WrapShape::Cylinder {
            centre_m: Vec3::ZERO,
            axes: Mat3::IDENTITY,
            radius_m: 1.0,
            half_length_m: 0.5,
            quadrant: None,
        };
        let (p, s) = (Vec3::new(-2.0, 0.0, 3.0), Vec3::new(2.0, 0.0, 3.0));
        assert_eq!(wrapped_length_m(p, s, &short), None);
    }

    #[test]
    fn the_route_runs_round_the_surface_and_is_as_long_as_the_length() {
        let centre = Vec3::new(0.1, 0.2, 0.3);
        let line = LinePath {
            name: "test".into(),
            points: [
                Vec3::new(-2.0, 0.1, 0.0),
                Vec3::new(2.0, 0.1, 0.5),
                Vec3::new(3.0, 2.0, 0.0),
            ]
            .map(|p| Attached {
                joint: RigJoint::Pelvis,
                rest_m: p + centre,
            })
            .to_vec(),
            wraps: vec![
                SegmentWrap {
                    first_segment: 0,
                    last_segment: 0,
                    joint: RigJoint::Pelvis,
                    shape: WrapShape::Sphere {
                        centre_m: centre,
                        radius_m: 1.0,
                    },
                },
                SegmentWrap {
                    first_segment: 0,
                    last_segment: 1,
                    joint: RigJoint::Pelvis,
                    shape: WrapShape::Cylinder {
                        centre_m: centre,
                        axes: Mat3::IDENTITY,
                        radius_m: 0.5,
                        half_length_m: 10.0,
                        quadrant: None,
                    },
                },
            ],
            data_length_m: 0.0,
        };
        let pose = Pose::default();
        let route = line.posed_route(&pose, 64);
        let polyline: f32 = route.windows(2).map(|w| w[0].distance(w[1])).sum();
        let length = line.length_m(&pose);
        assert!((polyline - length).abs() < 1e-3, "{polyline} {length}");
        // The first segment goes round the sphere (the longer wrap), never inside it.
        let first_end = route
            .iter()
            .position(|p| *p == line.points[1].rest_m)
            .unwrap();
        assert!(first_end > 60, "the arc is in the route");
        for p in &route[..first_end] {
            assert!(p.distance(centre) > 1.0 - 1e-4, "{p}");
        }
        // The second segment passes clear of the cylinder: straight.
        assert_eq!(route.len(), first_end + 2);
    }

    #[test]
    fn a_sphere_wraps_on_a_great_circle() {
        let sphere = WrapShape::Sphere {
            centre_m: Vec3::new(1.0, 1.0, 1.0),
            radius_m: 1.0,
        };
        let offset = Vec3::new(1.0, 1.0, 1.0);
        let dir = Vec3::new(1.0, 2.0, -0.5).normalize() * 2.0;
        let l = wrapped_length_m(offset - dir, offset + dir, &sphere).unwrap();
        assert!((l - (2.0 * 3f32.sqrt() + std::f32::consts::FRAC_PI_3)).abs() < 1e-4);
        assert_eq!(
            wrapped_length_m(
                offset + Vec3::X * 2.0,
                offset + Vec3::Y * 2.0 + Vec3::X * 2.0,
                &sphere
            ),
            None
        );
    }
}
