//! Writes the generated model as binary glTF with gltf-json: one node and mesh per
//! structure, a rig (skin 0), morph targets named in `extras.targetNames`, the skin
//! regions as `_REGION`, and the anatomical source in `asset.copyright`.

use std::borrow::Cow;

use bevy::math::Vec3;
use gltf_json as json;
use json::validation::Checked::Valid;
use json::validation::USize64;
use thiserror::Error;

use super::{GeneratedModel, GeneratedStructure, MaterialKind};
use crate::anatomy::SkinRegion;

/// Problems writing the file.
#[derive(Debug, Error)]
pub enum GlbError {
    /// JSON serialisation failed.
    #[error("cannot serialise glTF JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The binary container failed.
    #[error("cannot write glb: {0}")]
    Glb(#[from] gltf::Error),
    /// The model is larger than glb allows.
    #[error("model too large for glb")]
    TooLarge,
}

struct Bin {
    data: Vec<u8>,
}

impl Bin {
    fn view(
        &mut self,
        root: &mut json::Root,
        bytes: &[u8],
        target: Option<json::buffer::Target>,
    ) -> json::Index<json::buffer::View> {
        while !self.data.len().is_multiple_of(4) {
            self.data.push(0);
        }
        let offset = self.data.len();
        self.data.extend_from_slice(bytes);
        root.push(json::buffer::View {
            buffer: json::Index::new(0),
            byte_length: USize64::from(bytes.len()),
            byte_offset: Some(USize64::from(offset)),
            byte_stride: None,
            extensions: None,
            extras: None,
            name: None,
            target: target.map(Valid),
        })
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "mirrors the glTF accessor fields"
    )]
    fn accessor(
        &mut self,
        root: &mut json::Root,
        bytes: &[u8],
        count: usize,
        component: json::accessor::ComponentType,
        kind: json::accessor::Type,
        normalized: bool,
        min_max: Option<(Vec<f32>, Vec<f32>)>,
        target: Option<json::buffer::Target>,
    ) -> json::Index<json::Accessor> {
        let view = self.view(root, bytes, target);
        let (min, max) = match min_max {
            Some((lo, hi)) => (Some(json::Value::from(lo)), Some(json::Value::from(hi))),
            None => (None, None),
        };
        root.push(json::Accessor {
            buffer_view: Some(view),
            byte_offset: Some(USize64(0)),
            count: USize64::from(count),
            component_type: Valid(json::accessor::GenericComponentType(component)),
            extensions: None,
            extras: None,
            type_: Valid(kind),
            min,
            max,
            name: None,
            normalized,
            sparse: None,
        })
    }

    /// A tightly packed per-vertex attribute.
    fn vertex_attribute(
        &mut self,
        root: &mut json::Root,
        bytes: &[u8],
        count: usize,
        component: json::accessor::ComponentType,
        kind: json::accessor::Type,
        normalized: bool,
    ) -> json::Index<json::Accessor> {
        self.accessor(
            root,
            bytes,
            count,
            component,
            kind,
            normalized,
            None,
            Some(json::buffer::Target::ArrayBuffer),
        )
    }

    /// Four bytes per vertex (joint indices, normalised weights or colours).
    fn u8x4(
        &mut self,
        root: &mut json::Root,
        values: &[[u8; 4]],
        normalized: bool,
    ) -> json::Index<json::Accessor> {
        let bytes: Vec<u8> = values.iter().flatten().copied().collect();
        self.vertex_attribute(
            root,
            &bytes,
            values.len(),
            json::accessor::ComponentType::U8,
            json::accessor::Type::Vec4,
            normalized,
        )
    }

    /// A morph target's position deltas: sparse (only the vertices that move, with their
    /// indices) when that is smaller, as for a nerve whose compression moves a few hundred of
    /// its vertices; otherwise one delta per vertex.
    fn morph_positions(
        &mut self,
        root: &mut json::Root,
        deltas: &[Vec3],
    ) -> json::Index<json::Accessor> {
        let moving: Vec<usize> = (0..deltas.len())
            .filter(|i| deltas[*i] != Vec3::ZERO)
            .collect();
        let wide = deltas.len() > usize::from(u16::MAX);
        let index_size = if wide { 4 } else { 2 };
        if moving.is_empty() || moving.len() * (12 + index_size) >= deltas.len() * 12 {
            return self.vec3s(root, deltas, true);
        }
        // Bounds over every vertex, the ones that stay (zero) included.
        let (lo, hi) = deltas.iter().fold(
            (Vec3::splat(f32::MAX), Vec3::splat(f32::MIN)),
            |(lo, hi), d| (lo.min(*d), hi.max(*d)),
        );
        let index_bytes: Vec<u8> = moving
            .iter()
            .flat_map(|i| {
                if wide {
                    (*i as u32).to_le_bytes().to_vec()
                } else {
                    (*i as u16).to_le_bytes().to_vec()
                }
            })
            .collect();
        let value_bytes: Vec<u8> = moving
            .iter()
            .flat_map(|i| deltas[*i].to_array())
            .flat_map(f32::to_le_bytes)
            .collect();
        let indices = self.view(root, &index_bytes, None);
        let values = self.view(root, &value_bytes, None);
        root.push(json::Accessor {
            buffer_view: None,
            byte_offset: None,
            count: USize64::from(deltas.len()),
            component_type: Valid(json::accessor::GenericComponentType(
                json::accessor::ComponentType::F32,
            )),
            extensions: None,
            extras: None,
            type_: Valid(json::accessor::Type::Vec3),
            min: Some(json::Value::from(lo.to_array().to_vec())),
            max: Some(json::Value::from(hi.to_array().to_vec())),
            name: None,
            normalized: false,
            sparse: Some(json::accessor::sparse::Sparse {
                count: USize64::from(moving.len()),
                indices: json::accessor::sparse::Indices {
                    buffer_view: indices,
                    byte_offset: USize64(0),
                    component_type: Valid(json::accessor::IndexComponentType(if wide {
                        json::accessor::ComponentType::U32
                    } else {
                        json::accessor::ComponentType::U16
                    })),
                    extensions: None,
                    extras: None,
                },
                values: json::accessor::sparse::Values {
                    buffer_view: values,
                    byte_offset: USize64(0),
                    extensions: None,
                    extras: None,
                },
                extensions: None,
                extras: None,
            }),
        })
    }

    fn vec3s(
        &mut self,
        root: &mut json::Root,
        values: &[Vec3],
        with_bounds: bool,
    ) -> json::Index<json::Accessor> {
        let mut bytes = Vec::with_capacity(values.len() * 12);
        let mut lo = Vec3::splat(f32::MAX);
        let mut hi = Vec3::splat(f32::MIN);
        for v in values {
            lo = lo.min(*v);
            hi = hi.max(*v);
            for c in v.to_array() {
                bytes.extend_from_slice(&c.to_le_bytes());
            }
        }
        let bounds = with_bounds.then(|| (lo.to_array().to_vec(), hi.to_array().to_vec()));
        self.accessor(
            root,
            &bytes,
            values.len(),
            json::accessor::ComponentType::F32,
            json::accessor::Type::Vec3,
            false,
            bounds,
            Some(json::buffer::Target::ArrayBuffer),
        )
    }
}

fn raw(value: serde_json::Value) -> Result<Option<Box<json::extras::RawValue>>, GlbError> {
    Ok(Some(json::extras::RawValue::from_string(
        value.to_string(),
    )?))
}

fn material(kind: MaterialKind) -> json::Material {
    let (name, rgba, roughness, blend) = match kind {
        MaterialKind::Bone => ("bone", [0.89, 0.85, 0.74, 1.0], 0.65, false),
        MaterialKind::Muscle => ("muscle", [0.66, 0.17, 0.15, 1.0], 0.55, false),
        MaterialKind::Nerve => ("nerve", [0.98, 0.82, 0.22, 1.0], 0.45, false),
        MaterialKind::Joint => ("joint", [0.20, 0.62, 0.92, 1.0], 0.4, false),
        MaterialKind::Skin => ("skin", [0.90, 0.72, 0.62, 0.28], 0.7, true),
        MaterialKind::Disc => ("disc", [0.72, 0.80, 0.90, 1.0], 0.45, false),
    };
    json::Material {
        alpha_mode: Valid(if blend {
            json::material::AlphaMode::Blend
        } else {
            json::material::AlphaMode::Opaque
        }),
        name: Some(name.to_string()),
        pbr_metallic_roughness: json::material::PbrMetallicRoughness {
            base_color_factor: json::material::PbrBaseColorFactor(rgba),
            metallic_factor: json::material::StrengthFactor(0.0),
            roughness_factor: json::material::StrengthFactor(roughness),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// Rig joint nodes in skin order, with their parents (index into this list) and world
/// positions.
pub struct Joint {
    /// Node name.
    pub name: &'static str,
    /// Parent joint (index), `None` for the root.
    pub parent: Option<usize>,
    /// Bind-pose position (model space).
    pub position_m: Vec3,
}

fn mesh_primitive(
    root: &mut json::Root,
    bin: &mut Bin,
    s: &GeneratedStructure,
    offset: Vec3,
    material_index: json::Index<json::Material>,
) -> json::mesh::Primitive {
    let positions: Vec<Vec3> = s.mesh.positions.iter().map(|p| *p - offset).collect();
    let pos = bin.vec3s(root, &positions, true);
    let nor = bin.vec3s(root, &s.normals, false);
    let mut attributes = std::collections::BTreeMap::new();
    attributes.insert(Valid(json::mesh::Semantic::Positions), pos);
    attributes.insert(Valid(json::mesh::Semantic::Normals), nor);
    if let Some(weights) = &s.weights {
        let joints: Vec<[u8; 4]> = weights.iter().map(|(j, _)| *j).collect();
        let w: Vec<[u8; 4]> = weights.iter().map(|(_, w)| *w).collect();
        let ja = bin.u8x4(root, &joints, false);
        let wa = bin.u8x4(root, &w, true);
        attributes.insert(Valid(json::mesh::Semantic::Joints(0)), ja);
        attributes.insert(Valid(json::mesh::Semantic::Weights(0)), wa);
    }
    if let Some(colors) = &s.colors {
        let ca = bin.u8x4(root, colors, true);
        attributes.insert(Valid(json::mesh::Semantic::Colors(0)), ca);
    }
    if let Some(regions) = &s.regions {
        let bytes: Vec<u8> = regions
            .iter()
            .flat_map(|r| f32::from(*r).to_le_bytes())
            .collect();
        let ra = bin.vertex_attribute(
            root,
            &bytes,
            regions.len(),
            json::accessor::ComponentType::F32,
            json::accessor::Type::Scalar,
            false,
        );
        attributes.insert(
            Valid(json::mesh::Semantic::Extras("REGION".to_string())),
            ra,
        );
    }
    let indices = if s.mesh.positions.len() <= usize::from(u16::MAX) {
        let bytes: Vec<u8> = s
            .mesh
            .indices
            .iter()
            .flat_map(|i| (*i as u16).to_le_bytes())
            .collect();
        bin.accessor(
            root,
            &bytes,
            s.mesh.indices.len(),
            json::accessor::ComponentType::U16,
            json::accessor::Type::Scalar,
            false,
            None,
            Some(json::buffer::Target::ElementArrayBuffer),
        )
    } else {
        let bytes: Vec<u8> = s
            .mesh
            .indices
            .iter()
            .flat_map(|i| i.to_le_bytes())
            .collect();
        bin.accessor(
            root,
            &bytes,
            s.mesh.indices.len(),
            json::accessor::ComponentType::U32,
            json::accessor::Type::Scalar,
            false,
            None,
            Some(json::buffer::Target::ElementArrayBuffer),
        )
    };
    let targets = (!s.morphs.is_empty()).then(|| {
        s.morphs
            .iter()
            .map(|(_, deltas)| json::mesh::MorphTarget {
                positions: Some(bin.morph_positions(root, deltas)),
                normals: None,
                tangents: None,
            })
            .collect()
    });
    json::mesh::Primitive {
        attributes,
        extensions: None,
        extras: None,
        indices: Some(indices),
        material: Some(material_index),
        mode: Valid(json::mesh::Mode::Triangles),
        targets,
    }
}

/// Serialises the model to glb bytes (deterministic: no hash-map order anywhere).
pub fn write(model: &GeneratedModel) -> Result<Vec<u8>, GlbError> {
    let mut root = json::Root {
        asset: json::Asset {
            copyright: Some(model.copyright.clone()),
            generator: Some(format!("hipback-modelgen {}", env!("CARGO_PKG_VERSION"))),
            version: "2.0".to_string(),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut bin = Bin { data: Vec::new() };
    root.push(json::Buffer {
        byte_length: USize64(0),
        extensions: None,
        extras: None,
        name: None,
        uri: None,
    });
    let materials: Vec<json::Index<json::Material>> = MaterialKind::ALL
        .iter()
        .map(|k| root.push(material(*k)))
        .collect();

    // Joint nodes first so their indices are known; meshes get attached below.
    let joint_nodes: Vec<json::Index<json::Node>> = model
        .joints
        .iter()
        .map(|j| {
            let parent_pos = j.parent.map_or(Vec3::ZERO, |p| model.joints[p].position_m);
            let t = j.position_m - parent_pos;
            root.push(json::Node {
                name: Some(j.name.to_string()),
                translation: (t != Vec3::ZERO).then(|| t.to_array()),
                ..Default::default()
            })
        })
        .collect();

    let mut skinned_nodes = Vec::new();
    let mut pelvis_children = Vec::new();
    let mut joint_children: Vec<Vec<json::Index<json::Node>>> =
        vec![Vec::new(); model.joints.len()];
    for s in &model.structures {
        let joint = model.joints.iter().position(|j| j.name == s.name);
        let offset = joint.map_or(Vec3::ZERO, |j| model.joints[j].position_m);
        let prim = mesh_primitive(
            &mut root,
            &mut bin,
            s,
            if s.weights.is_some() {
                Vec3::ZERO
            } else {
                offset
            },
            materials[s.material as usize],
        );
        let mut extras = serde_json::Map::new();
        if !s.morphs.is_empty() {
            let names: Vec<&str> = s.morphs.iter().map(|(name, _)| name.as_str()).collect();
            extras.insert("targetNames".into(), serde_json::json!(names));
        }
        if s.regions.is_some() {
            let names: Vec<String> = SkinRegion::all().iter().map(|r| r.name()).collect();
            extras.insert("regionAttribute".into(), serde_json::json!("_REGION"));
            extras.insert("regionNames".into(), serde_json::json!(names));
        }
        let mesh = root.push(json::Mesh {
            extensions: None,
            extras: if extras.is_empty() {
                None
            } else {
                raw(serde_json::Value::Object(extras))?
            },
            name: Some(s.name.clone()),
            primitives: vec![prim],
            weights: (!s.morphs.is_empty()).then(|| vec![0.0; s.morphs.len()]),
        });
        match joint {
            // A bone that is itself a rig joint: the joint node carries the mesh.
            Some(j) => {
                if let Some(node) = root.nodes.get_mut(joint_nodes[j].value()) {
                    node.mesh = Some(mesh);
                }
            }
            None if s.weights.is_some() => {
                let node = root.push(json::Node {
                    name: Some(s.name.clone()),
                    mesh: Some(mesh),
                    skin: Some(json::Index::new(0)),
                    ..Default::default()
                });
                skinned_nodes.push(node);
            }
            None => {
                let node = root.push(json::Node {
                    name: Some(s.name.clone()),
                    mesh: Some(mesh),
                    ..Default::default()
                });
                pelvis_children.push(node);
            }
        }
    }
    for (i, j) in model.joints.iter().enumerate() {
        if let Some(p) = j.parent {
            joint_children[p].push(joint_nodes[i]);
        }
    }
    joint_children[0].extend(pelvis_children);
    for (i, children) in joint_children.into_iter().enumerate() {
        if !children.is_empty()
            && let Some(node) = root.nodes.get_mut(joint_nodes[i].value())
        {
            node.children = Some(children);
        }
    }

    // Inverse bind matrices: joints are pure translations in the bind pose.
    let mut ibm = Vec::new();
    for j in &model.joints {
        let m = bevy::math::Mat4::from_translation(-j.position_m);
        for c in m.to_cols_array() {
            ibm.extend_from_slice(&c.to_le_bytes());
        }
    }
    let ibm_acc = bin.accessor(
        &mut root,
        &ibm,
        model.joints.len(),
        json::accessor::ComponentType::F32,
        json::accessor::Type::Mat4,
        false,
        None,
        None,
    );
    root.push(json::Skin {
        extensions: None,
        extras: None,
        inverse_bind_matrices: Some(ibm_acc),
        joints: joint_nodes.clone(),
        name: Some("rig".to_string()),
        skeleton: Some(joint_nodes[0]),
    });
    let mut scene_nodes = vec![joint_nodes[0]];
    scene_nodes.extend(skinned_nodes);
    let scene = root.push(json::Scene {
        extensions: None,
        extras: None,
        name: Some("pelvis".to_string()),
        nodes: scene_nodes,
    });
    root.scene = Some(scene);

    while !bin.data.len().is_multiple_of(4) {
        bin.data.push(0);
    }
    if let Some(buffer) = root.buffers.get_mut(0) {
        buffer.byte_length = USize64::from(bin.data.len());
    }
    let mut json_bytes = json::serialize::to_vec(&root)?;
    while !json_bytes.len().is_multiple_of(4) {
        json_bytes.push(b' ');
    }
    let length = 12 + 8 + json_bytes.len() + 8 + bin.data.len();
    let glb = gltf::binary::Glb {
        header: gltf::binary::Header {
            magic: *b"glTF",
            version: 2,
            length: u32::try_from(length).map_err(|_| GlbError::TooLarge)?,
        },
        json: Cow::Owned(json_bytes),
        bin: Some(Cow::Owned(bin.data)),
    };
    Ok(glb.to_vec()?)
}
