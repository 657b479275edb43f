//! A picking backend for Bevy's picking: each structure gets a low-poly copy of its mesh
//! (a few hundred triangles, meshoptimizer), skinned on the CPU like the mesh it stands for,
//! and pointer rays are cast against those, only when a ray, a pickable flag, a visibility or
//! the skeleton changed; otherwise the last hits are sent again. On a CPU renderer this takes
//! picking from about a tenth of a second per frame (full-resolution meshes every frame) to
//! nothing while the pointer rests. Hover, click and selection work as with Bevy's mesh
//! picking: this only replaces the ray casts.

use bevy::mesh::VertexAttributeValues;
use bevy::mesh::skinning::{SkinnedMesh, SkinnedMeshInverseBindposes};
use bevy::picking::Pickable;
use bevy::picking::PickingSystems;
use bevy::picking::backend::ray::{RayId, RayMap};
use bevy::picking::backend::{HitData, PointerHits};
use bevy::platform::collections::HashMap;
use bevy::prelude::*;

use super::model::StructureTag;

/// Triangles a pick proxy keeps at most.
pub const PROXY_TRIANGLES: usize = 400;

/// A structure's low-poly copy, in its mesh's own space (rest pose), with the skin weights of
/// each vertex (skinned structures).
#[derive(Component, Clone, Debug)]
pub struct PickProxy {
    /// Vertex positions (mesh space).
    pub positions: Vec<Vec3>,
    /// Triangles.
    pub indices: Vec<u32>,
    /// Per vertex: four joints (indices into the skin's joints) and their weights.
    pub weights: Option<Vec<([u16; 4], [f32; 4])>>,
}

/// Builds a proxy from a mesh: simplified to at most `max_triangles`, vertices compacted.
pub fn proxy_of(mesh: &Mesh, max_triangles: usize) -> Option<PickProxy> {
    let Some(VertexAttributeValues::Float32x3(positions)) =
        mesh.attribute(Mesh::ATTRIBUTE_POSITION)
    else {
        return None;
    };
    let indices: Vec<u32> = match mesh.indices()? {
        bevy::mesh::Indices::U32(i) => i.clone(),
        bevy::mesh::Indices::U16(i) => i.iter().map(|v| u32::from(*v)).collect(),
    };
    let target = max_triangles * 3;
    let simplified = if indices.len() > target {
        let bytes = meshopt::typed_to_bytes(positions);
        match meshopt::VertexDataAdapter::new(bytes, 12, 0) {
            Ok(adapter) => {
                let mut s = meshopt::simplify(
                    &indices,
                    &adapter,
                    target,
                    0.02,
                    meshopt::SimplifyOptions::None,
                    None,
                );
                // Topology-preserving simplification may stop short: drop detail further.
                if s.len() > target * 2 {
                    s = meshopt::simplify_sloppy(&s, &adapter, target, 0.05, None);
                }
                s
            }
            Err(_) => indices,
        }
    } else {
        indices
    };
    // Keep only the vertices the triangles use.
    let mut remap = vec![u32::MAX; positions.len()];
    let mut kept = Vec::new();
    let mut out_indices = Vec::with_capacity(simplified.len());
    for i in simplified {
        let i = i as usize;
        if i >= positions.len() {
            continue;
        }
        if remap[i] == u32::MAX {
            remap[i] = kept.len() as u32;
            kept.push(i);
        }
        out_indices.push(remap[i]);
    }
    let weights = match (
        mesh.attribute(Mesh::ATTRIBUTE_JOINT_INDEX),
        mesh.attribute(Mesh::ATTRIBUTE_JOINT_WEIGHT),
    ) {
        (
            Some(VertexAttributeValues::Uint16x4(joints)),
            Some(VertexAttributeValues::Float32x4(w)),
        ) => Some(kept.iter().map(|&i| (joints[i], w[i])).collect()),
        _ => None,
    };
    Some(PickProxy {
        positions: kept.iter().map(|&i| Vec3::from(positions[i])).collect(),
        indices: out_indices,
        weights,
    })
}

/// The distance along `ray` to the nearest triangle of `triangles` it hits (both faces).
pub fn ray_hit(
    origin: Vec3,
    dir: Vec3,
    positions: &[Vec3],
    indices: &[u32],
) -> Option<(f32, Vec3)> {
    let mut best: Option<(f32, Vec3)> = None;
    for t in indices.chunks_exact(3) {
        let (Some(a), Some(b), Some(c)) = (
            positions.get(t[0] as usize),
            positions.get(t[1] as usize),
            positions.get(t[2] as usize),
        ) else {
            continue;
        };
        // Möller–Trumbore.
        let e1 = *b - *a;
        let e2 = *c - *a;
        let p = dir.cross(e2);
        let det = e1.dot(p);
        if det.abs() < 1e-12 {
            continue;
        }
        let inv = 1.0 / det;
        let s = origin - *a;
        let u = s.dot(p) * inv;
        if !(0.0..=1.0).contains(&u) {
            continue;
        }
        let q = s.cross(e1);
        let v = dir.dot(q) * inv;
        if v < 0.0 || u + v > 1.0 {
            continue;
        }
        let distance = e2.dot(q) * inv;
        if distance > 0.0 && best.is_none_or(|(d, _)| distance < d) {
            best = Some((distance, e1.cross(e2).normalize_or_zero()));
        }
    }
    best
}

pub(super) fn plugin(app: &mut App) {
    // Registered here too, so apps without Bevy's picking (tests, screenshots) run the same.
    app.add_message::<PointerHits>()
        .add_systems(Update, build_proxies.in_set(super::ViewerSystems::Present))
        .add_systems(PreUpdate, cast_rays.in_set(PickingSystems::Backend));
}

/// An app with no pointer (an off-screen picture or recording): nothing is picked, so no
/// proxies are built. Simplifying the 39 meshes took about 0.1 s of a screenshot's start,
/// with nothing else running beside it.
#[derive(Resource, Clone, Copy, Debug, Default)]
pub struct NoPointer;

fn build_proxies(
    mut commands: Commands,
    new: Query<(Entity, &Mesh3d), (With<StructureTag>, Without<PickProxy>)>,
    meshes: Res<Assets<Mesh>>,
    no_pointer: Option<Res<NoPointer>>,
) {
    if no_pointer.is_some() {
        return;
    }
    for (entity, mesh) in &new {
        if let Some(proxy) = meshes
            .get(&mesh.0)
            .and_then(|m| proxy_of(m, PROXY_TRIANGLES))
        {
            commands.entity(entity).insert(proxy);
        }
    }
}

/// The last rays and their hits, re-sent while nothing changed.
#[derive(Default)]
struct Cast {
    rays: HashMap<RayId, Ray3d>,
    hits: Vec<PointerHits>,
}

type Targets<'w, 's> = Query<
    'w,
    's,
    (
        Entity,
        Ref<'static, PickProxy>,
        Ref<'static, GlobalTransform>,
        Option<&'static SkinnedMesh>,
        Option<Ref<'static, Pickable>>,
        Ref<'static, InheritedVisibility>,
    ),
>;

fn cast_rays(
    ray_map: Option<Res<RayMap>>,
    targets: Targets,
    joints: Query<Ref<GlobalTransform>>,
    bindposes: Res<Assets<SkinnedMeshInverseBindposes>>,
    cameras: Query<&Camera>,
    mut last: Local<Cast>,
    mut output: MessageWriter<PointerHits>,
) {
    let Some(ray_map) = ray_map else { return };
    let rays: HashMap<RayId, Ray3d> = ray_map.iter().map(|(id, ray)| (*id, *ray)).collect();
    let skeleton_moved = targets
        .iter()
        .any(|(_, proxy, transform, skinned, pickable, visible)| {
            proxy.is_changed()
                || transform.is_changed()
                || visible.is_changed()
                || pickable.is_some_and(|p| p.is_changed())
                || skinned.is_some_and(|s| {
                    s.joints
                        .iter()
                        .any(|j| joints.get(*j).is_ok_and(|t| t.is_changed()))
                })
        });
    if rays == last.rays && !skeleton_moved {
        output.write_batch(last.hits.iter().cloned());
        return;
    }
    // The proxies in world space, this frame.
    let world: Vec<(Entity, Vec<Vec3>, &PickProxy)> = targets
        .iter()
        .filter(|(_, _, _, _, pickable, visible)| {
            visible.get() && pickable.as_ref().is_none_or(|p| p.is_hoverable)
        })
        .map(|(entity, proxy, transform, skinned, _, _)| {
            let positions = match (skinned, &proxy.weights) {
                (Some(skinned), Some(weights)) => {
                    let matrices: Vec<Mat4> = bindposes
                        .get(&skinned.inverse_bindposes)
                        .map(|ibm| {
                            skinned
                                .joints
                                .iter()
                                .zip(ibm.iter())
                                .map(|(j, inverse)| {
                                    joints.get(*j).map_or(Mat4::IDENTITY, |t| t.to_matrix())
                                        * *inverse
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    proxy
                        .positions
                        .iter()
                        .zip(weights)
                        .map(|(p, (js, ws))| {
                            let mut sum = Vec3::ZERO;
                            let mut total = 0.0;
                            for k in 0..4 {
                                if let Some(m) = matrices.get(js[k] as usize) {
                                    sum += m.transform_point3(*p) * ws[k];
                                    total += ws[k];
                                }
                            }
                            if total > 0.0 { sum / total } else { *p }
                        })
                        .collect()
                }
                _ => proxy
                    .positions
                    .iter()
                    .map(|p| transform.transform_point(*p))
                    .collect(),
            };
            (entity, positions, proxy.into_inner())
        })
        .collect();
    let mut all = Vec::new();
    for (id, ray) in &rays {
        let dir = Vec3::from(ray.direction);
        let mut picks: Vec<(Entity, HitData)> = world
            .iter()
            .filter_map(|(entity, positions, proxy)| {
                ray_hit(ray.origin, dir, positions, &proxy.indices).map(|(depth, normal)| {
                    (
                        *entity,
                        HitData::new(
                            id.camera,
                            depth,
                            Some(ray.origin + dir * depth),
                            Some(normal),
                        ),
                    )
                })
            })
            .collect();
        picks.sort_by(|a, b| a.1.depth.total_cmp(&b.1.depth));
        let order = cameras.get(id.camera).map_or(0.0, |c| c.order as f32);
        all.push(PointerHits::new(id.pointer, picks, order));
    }
    output.write_batch(all.iter().cloned());
    last.rays = rays;
    last.hits = all;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rays_hit_the_nearest_triangle() {
        // Two parallel squares along z.
        let positions = vec![
            Vec3::new(-1.0, -1.0, 0.0),
            Vec3::new(1.0, -1.0, 0.0),
            Vec3::new(1.0, 1.0, 0.0),
            Vec3::new(-1.0, 1.0, 0.0),
            Vec3::new(-1.0, -1.0, 2.0),
            Vec3::new(1.0, -1.0, 2.0),
            Vec3::new(1.0, 1.0, 2.0),
            Vec3::new(-1.0, 1.0, 2.0),
        ];
        let indices = vec![0, 1, 2, 0, 2, 3, 4, 5, 6, 4, 6, 7];
        let (d, _) = ray_hit(Vec3::new(0.2, 0.1, 5.0), Vec3::NEG_Z, &positions, &indices).unwrap();
        assert!((d - 3.0).abs() < 1e-5);
        assert!(ray_hit(Vec3::new(3.0, 0.0, 5.0), Vec3::NEG_Z, &positions, &indices).is_none());
        assert!(ray_hit(Vec3::new(0.0, 0.0, 5.0), Vec3::Z, &positions, &indices).is_none());
    }

    #[test]
    fn a_proxy_keeps_the_shape_with_few_triangles() {
        let sphere = Sphere::new(0.1).mesh().ico(5).unwrap();
        let proxy = proxy_of(&sphere, 200).unwrap();
        assert!(
            proxy.indices.len() / 3 <= 400,
            "{} triangles",
            proxy.indices.len() / 3
        );
        assert!(proxy.indices.len() / 3 >= 50);
        // Still a sphere: every ray through the centre hits near the radius.
        for dir in [
            Vec3::X,
            Vec3::Y,
            Vec3::Z,
            Vec3::new(1.0, 1.0, 1.0).normalize(),
        ] {
            let (d, _) = ray_hit(-dir * 1.0, dir, &proxy.positions, &proxy.indices).unwrap();
            assert!((d - 0.9).abs() < 0.01, "{dir}: {d}");
        }
    }
}
