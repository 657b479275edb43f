//! Reads a glb into plain data for the tests, with the gltf crate (no renderer): every mesh
//! in model space, as a viewer shows it in the rest pose. Plain nodes are placed by their
//! full world transform (translation, rotation and scale of the node and all its parents);
//! skinned meshes by their skin in the bind pose (the joints' world transforms times the
//! inverse bind matrices, blended by the vertex weights).
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test code: a failed unwrap is a failed test, with its message"
)]

use std::collections::BTreeMap;
use std::path::Path;

use bevy::math::{Mat3, Mat4, Quat, Vec3};
use hipback::modelgen::mesh::TriMesh;

/// One mesh of the file (the first primitive), in model space.
pub struct MeshData {
    /// The mesh's name.
    pub name: String,
    /// The name of the node that shows it.
    pub node_name: String,
    /// Positions (model space) and triangles.
    pub mesh: TriMesh,
    /// The material's name.
    pub material: String,
    /// Morph target names (`extras.targetNames`).
    pub morph_names: Vec<String>,
    /// The first morph target's position deltas (model space), empty without one.
    pub morph: Vec<Vec3>,
    /// Every morph target's position deltas (model space), in the file's order.
    pub morphs: Vec<Vec<Vec3>>,
    /// `WEIGHTS_0`, empty when absent.
    pub weights: Vec<[f32; 4]>,
    /// `JOINTS_0`, empty when absent.
    pub joints: Vec<[u16; 4]>,
    /// `_REGION`, empty when absent.
    pub regions: Vec<f32>,
    /// `extras.regionNames`.
    pub region_names: Vec<String>,
    /// `COLOR_0` as RGBA 0…1, empty when absent.
    pub colors: Vec<[f32; 4]>,
    /// Whether the node has a skin.
    pub skinned: bool,
    /// For a mesh without a skin: the rig joint it moves with (its node, or the nearest
    /// ancestor that is a joint of skin 0).
    pub rig_joint: Option<String>,
}

/// A joint of skin 0.
pub struct Joint {
    /// Node name.
    pub name: String,
    /// World transform of the joint node (rest pose).
    pub world: Mat4,
    /// Its inverse bind matrix from the skin.
    pub inverse_bind: Mat4,
    /// The name of its parent node, if any.
    pub parent: Option<String>,
}

/// The whole file.
pub struct GlbModel {
    /// The file's bytes.
    pub bytes: Vec<u8>,
    /// Meshes by mesh name.
    pub meshes: BTreeMap<String, MeshData>,
    /// Joints of skin 0, in skin order.
    pub joints: Vec<Joint>,
    /// `asset.copyright`.
    pub copyright: String,
    /// Every node's name.
    pub node_names: Vec<String>,
}

impl GlbModel {
    /// A mesh by name; panics with the name when it is missing.
    pub fn mesh(&self, name: &str) -> &MeshData {
        self.meshes
            .get(name)
            .unwrap_or_else(|| panic!("no mesh {name}"))
    }

    /// A mesh's vertices moved by the rig: `motion(joint name)` is each joint's
    /// world-from-rest motion; skinned vertices blend their joints' motions by weight (the
    /// rig's rest skin matrices are the identity), the others move with their joint.
    pub fn posed_positions(&self, mesh: &MeshData, motion: &dyn Fn(&str) -> Mat4) -> Vec<Vec3> {
        self.vertex_motions(mesh, motion)
            .iter()
            .zip(&mesh.mesh.positions)
            .map(|(m, p)| m.transform_point3(*p))
            .collect()
    }

    /// Each vertex's world-from-rest motion, as [`GlbModel::posed_positions`] applies it.
    pub fn vertex_motions(&self, mesh: &MeshData, motion: &dyn Fn(&str) -> Mat4) -> Vec<Mat4> {
        let motions: Vec<Mat4> = self.joints.iter().map(|j| motion(&j.name)).collect();
        let rigid = mesh.rig_joint.as_deref().map(motion);
        (0..mesh.mesh.positions.len())
            .map(|i| {
                rigid.unwrap_or_else(|| {
                    (0..4)
                        .map(|k| motions[usize::from(mesh.joints[i][k])] * mesh.weights[i][k])
                        .fold(Mat4::ZERO, |sum, m| sum + m)
                })
            })
            .collect()
    }

    /// Index of a joint of skin 0 by node name.
    pub fn joint_index(&self, name: &str) -> Option<u16> {
        self.joints
            .iter()
            .position(|j| j.name == name)
            .and_then(|i| u16::try_from(i).ok())
    }
}

fn local_matrix(node: &gltf::Node) -> Mat4 {
    let (t, r, s) = node.transform().decomposed();
    Mat4::from_scale_rotation_translation(Vec3::from(s), Quat::from_array(r), Vec3::from(t))
}

fn extras_value(extras: &Option<Box<serde_json::value::RawValue>>) -> serde_json::Value {
    extras
        .as_ref()
        .and_then(|e| serde_json::from_str(e.get()).ok())
        .unwrap_or(serde_json::Value::Null)
}

fn strings(v: &serde_json::Value, key: &str) -> Vec<String> {
    v.get(key)
        .cloned()
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default()
}

/// Reads a glb file; panics on anything unreadable.
pub fn load(path: &Path) -> GlbModel {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let gltf = gltf::Gltf::from_slice(&bytes).unwrap();
    let blob = gltf.blob.clone().expect("glb without a binary chunk");
    let doc = &gltf.document;
    let buffer = |_: gltf::Buffer| Some(&blob[..]);

    // World transform of every node reached from the scenes.
    let mut world = vec![Mat4::IDENTITY; doc.nodes().count()];
    let mut parent_of: Vec<Option<String>> = vec![None; doc.nodes().count()];
    let mut parent_index: Vec<Option<usize>> = vec![None; doc.nodes().count()];
    for n in doc.nodes() {
        for c in n.children() {
            parent_of[c.index()] = n.name().map(String::from);
            parent_index[c.index()] = Some(n.index());
        }
    }
    let joint_nodes: Vec<usize> = doc
        .skins()
        .next()
        .map(|skin| skin.joints().map(|j| j.index()).collect())
        .unwrap_or_default();
    let node_names: Vec<Option<String>> = doc.nodes().map(|n| n.name().map(String::from)).collect();
    let rig_joint_of = |mut i: usize| -> Option<String> {
        loop {
            if joint_nodes.contains(&i) {
                return node_names[i].clone();
            }
            i = parent_index[i]?;
        }
    };
    fn walk(n: gltf::Node, parent: Mat4, world: &mut Vec<Mat4>) {
        let m = parent * local_matrix(&n);
        world[n.index()] = m;
        for c in n.children() {
            walk(c, m, world);
        }
    }
    for scene in doc.scenes() {
        for n in scene.nodes() {
            walk(n, Mat4::IDENTITY, &mut world);
        }
    }

    let joints: Vec<Joint> = doc
        .skins()
        .next()
        .map(|skin| {
            let ibms: Vec<Mat4> = skin
                .reader(buffer)
                .read_inverse_bind_matrices()
                .map(|it| it.map(|m| Mat4::from_cols_array_2d(&m)).collect())
                .unwrap_or_default();
            skin.joints()
                .enumerate()
                .map(|(i, j)| Joint {
                    name: j.name().unwrap_or("").to_string(),
                    world: world[j.index()],
                    inverse_bind: ibms.get(i).copied().unwrap_or(Mat4::IDENTITY),
                    parent: parent_of[j.index()].clone(),
                })
                .collect()
        })
        .unwrap_or_default();
    let skin_matrices: Vec<Mat4> = joints.iter().map(|j| j.world * j.inverse_bind).collect();

    let mut meshes = BTreeMap::new();
    for node in doc.nodes() {
        let Some(mesh) = node.mesh() else { continue };
        let prim = mesh.primitives().next().expect("mesh without primitives");
        let reader = prim.reader(buffer);
        let skinned = node.skin().is_some();
        let raw: Vec<Vec3> = reader
            .read_positions()
            .expect("mesh without positions")
            .map(Vec3::from)
            .collect();
        let indices: Vec<u32> = reader
            .read_indices()
            .expect("mesh without indices")
            .into_u32()
            .collect();
        let raw_morphs: Vec<Vec<Vec3>> = reader
            .read_morph_targets()
            .map(|(p, _, _)| p.map(|it| it.map(Vec3::from).collect()).unwrap_or_default())
            .collect();
        let weights: Vec<[f32; 4]> = reader
            .read_weights(0)
            .map(|w| w.into_f32().collect())
            .unwrap_or_default();
        let joint_ids: Vec<[u16; 4]> = reader
            .read_joints(0)
            .map(|j| j.into_u16().collect())
            .unwrap_or_default();
        let colors = reader
            .read_colors(0)
            .map(|c| c.into_rgba_f32().collect())
            .unwrap_or_default();
        let regions = prim
            .attributes()
            .find(|(s, _)| *s == gltf::Semantic::Extras("REGION".into()))
            .map(|(_, acc)| {
                gltf::accessor::Iter::<f32>::new(acc, buffer)
                    .expect("unreadable _REGION")
                    .collect()
            })
            .unwrap_or_default();
        // Per vertex: the matrix that places it (and the linear part for morph deltas).
        let placement = |i: usize| -> Mat4 {
            if skinned {
                let (w, j) = (weights[i], joint_ids[i]);
                let mut m = Mat4::ZERO;
                for k in 0..4 {
                    m += skin_matrices[usize::from(j[k])] * w[k];
                }
                m
            } else {
                world[node.index()]
            }
        };
        let positions: Vec<Vec3> = raw
            .iter()
            .enumerate()
            .map(|(i, p)| placement(i).transform_point3(*p))
            .collect();
        let morphs: Vec<Vec<Vec3>> = raw_morphs
            .iter()
            .map(|deltas| {
                deltas
                    .iter()
                    .enumerate()
                    .map(|(i, d)| Mat3::from_mat4(placement(i)) * *d)
                    .collect()
            })
            .collect();
        let morph = morphs.first().cloned().unwrap_or_default();
        let extras = extras_value(mesh.extras());
        meshes.insert(
            mesh.name().unwrap_or("").to_string(),
            MeshData {
                name: mesh.name().unwrap_or("").to_string(),
                node_name: node.name().unwrap_or("").to_string(),
                mesh: TriMesh { positions, indices },
                material: prim.material().name().unwrap_or("").to_string(),
                morph_names: strings(&extras, "targetNames"),
                region_names: strings(&extras, "regionNames"),
                morph,
                morphs,
                weights,
                joints: joint_ids,
                regions,
                colors,
                skinned,
                rig_joint: if skinned {
                    None
                } else {
                    rig_joint_of(node.index())
                },
            },
        );
    }
    GlbModel {
        copyright: doc.as_json().asset.copyright.clone().unwrap_or_default(),
        node_names: doc
            .nodes()
            .filter_map(|n| n.name().map(String::from))
            .collect(),
        bytes,
        meshes,
        joints,
    }
}
