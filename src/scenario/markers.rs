//! Where the scenario's markers go, as plain geometry: points along polylines, points on a
//! structure's surface, where a ray leaves the skin, the nerve pulses' path, and the relief
//! tools' placement and tube meshes. Pure: no ECS (Bevy's math types only).

use bevy::math::{Quat, Vec3};

use super::file::ToolKind;

/// Total length of a polyline.
pub fn polyline_length(points: &[Vec3]) -> f32 {
    points.windows(2).map(|w| (w[1] - w[0]).length()).sum()
}

/// The point and unit direction at `fraction` (0–1) of a polyline's length.
pub fn point_along(points: &[Vec3], fraction: f32) -> Option<(Vec3, Vec3)> {
    let total = polyline_length(points);
    if points.len() < 2 || total <= 0.0 {
        return None;
    }
    let mut remaining = fraction.clamp(0.0, 1.0) * total;
    for w in points.windows(2) {
        let segment = (w[1] - w[0]).length();
        if segment <= 0.0 {
            continue;
        }
        if remaining <= segment {
            let dir = (w[1] - w[0]) / segment;
            return Some((w[0] + dir * remaining, dir));
        }
        remaining -= segment;
    }
    let last = points.len() - 1;
    let dir = (points[last] - points[last - 1]).normalize_or_zero();
    Some((points[last], dir))
}

/// The polyline from the point nearest `start` onward (the part of the nerve below the
/// piriformis, where pulses run).
pub fn from_nearest(points: &[Vec3], start: Vec3) -> Vec<Vec3> {
    let Some((index, _)) = points
        .iter()
        .enumerate()
        .min_by(|a, b| (*a.1 - start).length().total_cmp(&(*b.1 - start).length()))
    else {
        return Vec::new();
    };
    let mut out = vec![start];
    out.extend(points[index..].iter().copied().filter(|p| *p != start));
    out
}

/// The vertex nearest to `p`.
pub fn nearest(vertices: &[Vec3], p: Vec3) -> Option<Vec3> {
    vertices.iter().copied().min_by(|a, b| {
        (*a - p)
            .length_squared()
            .total_cmp(&(*b - p).length_squared())
    })
}

/// The mean of some vertices.
pub fn centroid(vertices: &[Vec3]) -> Option<Vec3> {
    (!vertices.is_empty()).then(|| vertices.iter().copied().sum::<Vec3>() / vertices.len() as f32)
}

/// Where a ray from `origin` along `dir` leaves a closed surface given by its vertices: the
/// farthest vertex within `radius_m` of the ray (the skin is closed, so that is its outside).
pub fn exit_point(vertices: &[Vec3], origin: Vec3, dir: Vec3, radius_m: f32) -> Option<Vec3> {
    let dir = dir.normalize_or_zero();
    vertices
        .iter()
        .copied()
        .filter_map(|v| {
            let along = (v - origin).dot(dir);
            let off = (v - origin - dir * along).length();
            (along > 0.0 && off <= radius_m).then_some((along, v))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(along, _)| origin + dir * along)
}

/// Where a relief tool sits at full pressure and which way it presses.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ToolPlacement {
    /// Where the tool touches the body (on the skin, or for the hook just inside it), metres.
    pub contact_m: Vec3,
    /// Unit direction the tool presses in (into the body).
    pub press_dir: Vec3,
}

impl ToolPlacement {
    /// A rotation that turns +Y into the direction facing out of the body (`-press_dir`).
    pub fn outward_rotation(&self) -> Quat {
        Quat::from_rotation_arc(Vec3::Y, -self.press_dir.normalize_or_zero())
    }
}

/// What the placement rules need from the model (world space, rest pose).
pub struct PlacementInputs<'a> {
    /// Skin vertices.
    pub skin: &'a [Vec3],
    /// The piriformis on the tool's side.
    pub piriformis: &'a [Vec3],
    /// The iliacus on the tool's side.
    pub iliacus: &'a [Vec3],
    /// The SI joint on the tool's side.
    pub si_joint: &'a [Vec3],
}

/// Places a relief tool from the model's own geometry: the hump under the buttock below
/// and behind the piriformis (where it sits on a seat), the hook's tip at the front of the
/// iliacus just inside the pelvic rim, the pad on the skin over the SI joint.
pub fn place_tool(kind: ToolKind, inputs: &PlacementInputs<'_>) -> Option<ToolPlacement> {
    // The subject faces +Z: the back is −Z.
    let backward = Vec3::NEG_Z;
    match kind {
        ToolKind::MassageHump => {
            // Sitting on it: it presses up and forward into the lower buttock.
            let down_back = Vec3::new(0.0, -0.6, -0.8);
            let target = centroid(inputs.piriformis)?;
            let exit = exit_point(inputs.skin, target, down_back, 0.012)?;
            Some(ToolPlacement {
                contact_m: exit,
                press_dir: -down_back.normalize(),
            })
        }
        ToolKind::PressurePad => {
            let target = centroid(inputs.si_joint)?;
            let exit = exit_point(inputs.skin, target, backward, 0.012)?;
            Some(ToolPlacement {
                contact_m: exit,
                press_dir: -backward,
            })
        }
        ToolKind::HookedTool => {
            // The front-top of the iliacus: the fibres just inside the rim, behind the ASIS.
            let top_front = inputs
                .iliacus
                .iter()
                .copied()
                .max_by(|a, b| (a.y + a.z).total_cmp(&(b.y + b.z)))?;
            // The hook presses down and back, in toward the inner side of the rim.
            let press_dir = Vec3::new(0.0, -0.55, -0.83).normalize();
            Some(ToolPlacement {
                contact_m: top_front,
                press_dir,
            })
        }
    }
}

/// The centre line of the hooked tool, from its handle's end to its tip at `tip`: a hook
/// (a half circle of 3 cm) that curls over the pelvic rim down to the tip, and a handle that
/// leaves the body along the opposite of the press direction.
pub fn hook_centre_line(tip: Vec3, press_dir: Vec3, lateral: Vec3) -> Vec<Vec3> {
    let up = -press_dir.normalize_or_zero();
    let out = up.cross(lateral.normalize_or_zero()).normalize_or_zero();
    let radius_m = 0.03;
    let centre = tip + up * radius_m;
    // From the top of the hook (angle π) down to the tip (angle 0), bulging toward `out`.
    let arc: Vec<Vec3> = (0..=12)
        .rev()
        .map(|i| {
            let angle = std::f32::consts::PI * i as f32 / 12.0;
            centre + (-up * angle.cos() + out * angle.sin()) * radius_m
        })
        .collect();
    let top = arc[0];
    let handle_end = top + up * 0.11 - out * 0.03;
    let mut line = vec![handle_end, (handle_end + top) * 0.5];
    line.extend(arc);
    let last = line.len() - 1;
    line[last] = tip;
    line
}

/// A closed tube of `radius_m` around a polyline (`segments` around), as positions, normals
/// and triangle indices; the ends are capped with fans.
pub fn tube(points: &[Vec3], radius_m: f32, segments: usize) -> (Vec<Vec3>, Vec<Vec3>, Vec<u32>) {
    let mut positions = Vec::new();
    let mut normals = Vec::new();
    let mut indices = Vec::new();
    if points.len() < 2 || segments < 3 {
        return (positions, normals, indices);
    }
    let mut normal_ref = {
        let t = (points[1] - points[0]).normalize_or_zero();
        t.any_orthonormal_vector()
    };
    for (i, p) in points.iter().enumerate() {
        let prev = points[i.saturating_sub(1)];
        let next = points[(i + 1).min(points.len() - 1)];
        let tangent = (next - prev).normalize_or_zero();
        // Parallel transport of the ring frame keeps the tube from twisting.
        normal_ref = (normal_ref - tangent * normal_ref.dot(tangent)).normalize_or_zero();
        if normal_ref == Vec3::ZERO {
            normal_ref = tangent.any_orthonormal_vector();
        }
        let binormal = tangent.cross(normal_ref);
        for k in 0..segments {
            let a = std::f32::consts::TAU * k as f32 / segments as f32;
            let n = normal_ref * a.cos() + binormal * a.sin();
            positions.push(*p + n * radius_m);
            normals.push(n);
        }
    }
    let ring = |i: usize, k: usize| (i * segments + k % segments) as u32;
    for i in 0..points.len() - 1 {
        for k in 0..segments {
            indices.extend([ring(i, k), ring(i + 1, k), ring(i + 1, k + 1)]);
            indices.extend([ring(i, k), ring(i + 1, k + 1), ring(i, k + 1)]);
        }
    }
    // Caps.
    for (end, inward) in [(0usize, true), (points.len() - 1, false)] {
        let centre = positions.len() as u32;
        let tangent = if end == 0 {
            (points[0] - points[1]).normalize_or_zero()
        } else {
            (points[end] - points[end - 1]).normalize_or_zero()
        };
        positions.push(points[end]);
        normals.push(tangent);
        for k in 0..segments {
            if inward {
                indices.extend([centre, ring(end, k + 1), ring(end, k)]);
            } else {
                indices.extend([centre, ring(end, k), ring(end, k + 1)]);
            }
        }
    }
    (positions, normals, indices)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_along_a_polyline() {
        let line = [Vec3::ZERO, Vec3::X, Vec3::new(1.0, 1.0, 0.0)];
        assert_eq!(polyline_length(&line), 2.0);
        let (p, d) = point_along(&line, 0.25).unwrap();
        assert!((p - Vec3::new(0.5, 0.0, 0.0)).length() < 1e-6 && d == Vec3::X);
        let (p, d) = point_along(&line, 0.75).unwrap();
        assert!((p - Vec3::new(1.0, 0.5, 0.0)).length() < 1e-6 && d == Vec3::Y);
        assert_eq!(point_along(&line, 1.0).unwrap().0, line[2]);
        assert!(point_along(&[Vec3::ZERO], 0.5).is_none());
        let rest = from_nearest(&line, Vec3::new(0.9, 0.1, 0.0));
        assert_eq!(rest[0], Vec3::new(0.9, 0.1, 0.0));
        assert_eq!(rest.last(), Some(&line[2]));
    }

    #[test]
    fn a_ray_leaves_a_sphere_on_its_far_side() {
        // Vertices of a unit sphere.
        let mut sphere = Vec::new();
        for i in 0..40 {
            for j in 0..80 {
                let (t, p) = (
                    std::f32::consts::PI * i as f32 / 39.0,
                    std::f32::consts::TAU * j as f32 / 80.0,
                );
                sphere.push(Vec3::new(t.sin() * p.cos(), t.cos(), t.sin() * p.sin()));
            }
        }
        let exit = exit_point(&sphere, Vec3::ZERO, Vec3::NEG_Z, 0.1).unwrap();
        assert!((exit.z + 1.0).abs() < 0.01, "{exit}");
        assert!(exit_point(&sphere, Vec3::new(5.0, 0.0, 0.0), Vec3::X, 0.1).is_none());
    }

    #[test]
    fn a_tube_is_closed_and_the_right_size() {
        let line: Vec<Vec3> = (0..5)
            .map(|i| Vec3::new(0.0, i as f32 * 0.1, 0.0))
            .collect();
        let (positions, normals, indices) = tube(&line, 0.01, 8);
        assert_eq!(positions.len(), normals.len());
        assert_eq!(indices.len() % 3, 0);
        // Every edge is shared by exactly two triangles: the tube is closed.
        let mut edges = std::collections::HashMap::new();
        for t in indices.chunks_exact(3) {
            for (a, b) in [(t[0], t[1]), (t[1], t[2]), (t[2], t[0])] {
                *edges.entry((a.min(b), a.max(b))).or_insert(0) += 1;
            }
        }
        assert!(edges.values().all(|&n| n == 2));
        for (p, _) in positions.iter().zip(&normals).take(8 * 5) {
            assert!((Vec3::new(p.x, 0.0, p.z).length() - 0.01).abs() < 1e-5);
        }
    }

    #[test]
    fn the_hook_ends_at_its_tip() {
        let tip = Vec3::new(0.1, 0.0, 0.05);
        let line = hook_centre_line(tip, Vec3::new(0.0, -0.6, -0.8), Vec3::X);
        assert_eq!(*line.last().unwrap(), tip);
        // The handle's end is above and in front of the tip.
        assert!(line[0].y > tip.y + 0.05 && line[0].z > tip.z);
    }
}
