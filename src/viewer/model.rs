//! Loading the model: a file check before Bevy starts ([`validate_model_file`], pure, with the
//! `gltf` crate), then the Bevy load that tags every mesh entity with its [`Structure`].

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use bevy::gltf::{GltfAssetLabel, GltfMeshName, GltfPlugin};
use bevy::mesh::MeshVertexAttribute;
use bevy::prelude::*;
use bevy::render::render_resource::VertexFormat;
use bevy::world_serialization::{WorldAsset, WorldAssetRoot, WorldInstanceReady};

use crate::anatomy::{Layer, NerveVariant, Structure, StructureKind};

/// Name of the rig root node (no mesh).
pub const RIG_ROOT_NODE: &str = "pelvis";

/// The skin's body-region label per vertex (glTF `_REGION`, the index into
/// [`crate::anatomy::SkinRegion::all`]); heat maps read it from the mesh.
pub const ATTRIBUTE_SKIN_REGION: MeshVertexAttribute =
    MeshVertexAttribute::new("SkinRegion", 0x6869_7062_6163_6b01, VertexFormat::Float32);

/// The glTF loader, taught the model's custom `_REGION` attribute. The gltf crate hands
/// Bevy the name without its leading underscore, so that is the key that matches.
pub fn gltf_plugin() -> GltfPlugin {
    GltfPlugin::default().add_custom_vertex_attribute("REGION", ATTRIBUTE_SKIN_REGION)
}

/// A model that cannot be shown; every variant names the file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// The file cannot be read at all.
    #[error("{path}: cannot read the model: {reason}")]
    Unreadable {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The file is not a valid glTF 2.0 file.
    #[error("{path}: not a valid glTF 2.0 model: {reason}")]
    Invalid {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The file loads but lacks structures or has them in the wrong shape.
    #[error("{path}: incomplete model: {}", .problems.join("; "))]
    Incomplete {
        /// The file.
        path: String,
        /// Each problem in a few words, e.g. "missing structure `piriformis_l`".
        problems: Vec<String>,
    },
}

/// What a valid model contains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelSummary {
    /// Structures found (all of them, when valid).
    pub structures: usize,
    /// Nodes in the file.
    pub nodes: usize,
    /// Meshes in the file.
    pub meshes: usize,
}

/// The glTF material name each layer's meshes must use.
pub fn material_name(layer: Layer) -> &'static str {
    match layer {
        Layer::Bones => "bone",
        Layer::Discs => "disc",
        Layer::Muscles => "muscle",
        Layer::Nerves => "nerve",
        Layer::Joints => "joint",
        Layer::Skin => "skin",
    }
}

/// Reads and checks a model file: readable, valid glTF, every structure present as a node with
/// a one-primitive mesh of the same name and the right material, and the rig root present.
pub fn validate_model_file(path: &Path) -> Result<ModelSummary, ModelError> {
    let label = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| ModelError::Unreadable {
        path: label.clone(),
        reason: e.to_string(),
    })?;
    validate_model_bytes(&bytes, &label)
}

/// [`validate_model_file`] on bytes already read; `label` names the file in errors.
pub fn validate_model_bytes(bytes: &[u8], label: &str) -> Result<ModelSummary, ModelError> {
    let gltf = gltf::Gltf::from_slice(bytes).map_err(|e| ModelError::Invalid {
        path: label.to_owned(),
        reason: e.to_string(),
    })?;
    let doc = &gltf.document;
    let problems = model_problems(doc);
    if problems.is_empty() {
        Ok(ModelSummary {
            structures: Structure::all().len(),
            nodes: doc.nodes().count(),
            meshes: doc.meshes().count(),
        })
    } else {
        Err(ModelError::Incomplete {
            path: label.to_owned(),
            problems,
        })
    }
}

/// Every problem with a parsed glTF document, in structure order.
fn model_problems(doc: &gltf::Document) -> Vec<String> {
    let mut problems = Vec::new();
    if !doc.nodes().any(|n| n.name() == Some(RIG_ROOT_NODE)) {
        problems.push(format!("missing rig root node `{RIG_ROOT_NODE}`"));
    }
    for structure in Structure::all() {
        let name = structure.gltf_name();
        let Some(node) = doc.nodes().find(|n| n.name() == Some(name.as_str())) else {
            problems.push(format!("missing structure `{name}`"));
            continue;
        };
        let Some(mesh) = node.mesh() else {
            problems.push(format!("node `{name}` has no mesh"));
            continue;
        };
        if mesh.name() != Some(name.as_str()) {
            problems.push(format!(
                "node `{name}` carries mesh `{}` (expected `{name}`)",
                mesh.name().unwrap_or("<unnamed>")
            ));
        }
        let primitives: Vec<_> = mesh.primitives().collect();
        if primitives.len() != 1 {
            problems.push(format!(
                "mesh `{name}` has {} primitives (expected 1)",
                primitives.len()
            ));
        }
        let expected = material_name(structure.layer());
        for primitive in &primitives {
            let material = primitive.material().name().unwrap_or("<none>");
            if material != expected {
                problems.push(format!(
                    "mesh `{name}` uses material `{material}` (expected `{expected}`)"
                ));
            }
        }
    }
    problems
}

/// Which structure a mesh entity shows.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq)]
pub struct StructureTag(pub Structure);

/// On the extra nodes of a sciatic nerve's anatomical variants (Beaton & Anson types B, C):
/// the entity also carries the nerve's [`StructureTag`] and is shown only when its type is
/// chosen. The usual nerve (type A) has no such tag.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq)]
pub struct NerveVariantTag(pub NerveVariant);

/// Marks the entity that holds the spawned model.
#[derive(Component)]
pub struct ModelRoot;

/// Where the model comes from (an absolute file path, or a path inside the asset folder).
#[derive(Resource, Clone, Debug)]
pub struct ModelSource {
    /// The model file.
    pub path: PathBuf,
}

/// Where loading the model stands.
#[derive(Resource, Clone, Debug, Default, PartialEq, Eq)]
pub enum ModelState {
    /// Still loading.
    #[default]
    Loading,
    /// Spawned, every structure tagged.
    Ready {
        /// How many mesh entities carry a [`StructureTag`].
        tagged: usize,
    },
    /// The model cannot be shown.
    Failed(ModelError),
}

/// The scene's handle, kept so a load failure can be noticed.
#[derive(Resource)]
struct ModelHandles {
    scene: Handle<WorldAsset>,
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<ModelState>()
        .add_systems(Startup, spawn_model)
        .add_systems(Update, watch_load_failure);
}

/// Starts loading the model and spawns its root. Only the scene is requested: a second
/// request for the file itself could race with it, load the file twice and replace the
/// scene asset, which respawns the whole model (new entities) a few frames later.
fn spawn_model(mut commands: Commands, asset_server: Res<AssetServer>, source: Res<ModelSource>) {
    let scene: Handle<WorldAsset> =
        asset_server.load(GltfAssetLabel::Scene(0).from_asset(source.path.clone()));
    commands
        .spawn((
            ModelRoot,
            Name::new("model"),
            WorldAssetRoot(scene.clone()),
            Transform::default(),
            Visibility::default(),
        ))
        .observe(tag_structures);
    commands.insert_resource(ModelHandles { scene });
}

/// Turns a failed asset load into [`ModelState::Failed`].
fn watch_load_failure(
    asset_server: Res<AssetServer>,
    handles: Option<Res<ModelHandles>>,
    source: Res<ModelSource>,
    mut state: ResMut<ModelState>,
) {
    let Some(handles) = handles else { return };
    if *state != ModelState::Loading {
        return;
    }
    if let Some(bevy::asset::LoadState::Failed(err)) = asset_server.get_load_state(&handles.scene) {
        *state = ModelState::Failed(ModelError::Invalid {
            path: source.path.display().to_string(),
            reason: err.to_string(),
        });
    }
}

/// Tags every mesh entity of the spawned model and checks that every structure is there.
fn tag_structures(
    ready: On<WorldInstanceReady>,
    mut commands: Commands,
    children: Query<&Children>,
    names: Query<&GltfMeshName>,
    source: Res<ModelSource>,
    mut state: ResMut<ModelState>,
) {
    let mut found = BTreeSet::new();
    let mut tagged = 0;
    for entity in children.iter_descendants(ready.entity) {
        let Ok(name) = names.get(entity) else {
            continue;
        };
        if let Some(structure) = Structure::from_gltf_name(&name.0) {
            commands.entity(entity).insert(StructureTag(structure));
            found.insert(structure);
            tagged += 1;
        } else if let Some((variant, side)) = NerveVariant::from_gltf_name(&name.0) {
            // Another course of the same nerve: it shows that nerve's state, when chosen.
            let nerve = Structure {
                kind: StructureKind::SciaticNerve,
                side,
            };
            commands
                .entity(entity)
                .insert((StructureTag(nerve), NerveVariantTag(variant)));
        } else {
            warn!("model mesh `{}` is not a known structure; ignored", name.0);
        }
    }
    *state = match missing_structures(&found) {
        missing if missing.is_empty() => ModelState::Ready { tagged },
        missing => ModelState::Failed(ModelError::Incomplete {
            path: source.path.display().to_string(),
            problems: missing
                .iter()
                .map(|s| format!("missing structure `{s}`"))
                .collect(),
        }),
    };
}

/// The structures of [`Structure::all`] that are not in `found`.
pub fn missing_structures(found: &BTreeSet<Structure>) -> Vec<Structure> {
    Structure::all()
        .into_iter()
        .filter(|s| !found.contains(s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_invalid_and_names_the_file() {
        let err = validate_model_bytes(b"not a model", "m.glb").unwrap_err();
        assert!(matches!(err, ModelError::Invalid { .. }));
        assert!(
            err.to_string().starts_with("m.glb: not a valid glTF"),
            "{err}"
        );
    }

    #[test]
    fn unreadable_file_names_the_file() {
        let err = validate_model_file(Path::new("/nonexistent/x.glb")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("/nonexistent/x.glb: cannot read")
        );
    }

    #[test]
    fn empty_gltf_lists_every_structure() {
        let json = br#"{"asset":{"version":"2.0"}}"#;
        let Err(ModelError::Incomplete { problems, .. }) = validate_model_bytes(json, "e.gltf")
        else {
            panic!("expected incomplete");
        };
        assert_eq!(problems.len(), Structure::all().len() + 1);
        assert!(problems.contains(&"missing structure `sciatic_nerve_r`".to_owned()));
    }

    #[test]
    fn missing_structures_lists_the_rest() {
        let mut found: BTreeSet<Structure> = Structure::all().into_iter().collect();
        let gone = Structure::from_gltf_name("piriformis_l").unwrap();
        found.remove(&gone);
        assert_eq!(missing_structures(&found), vec![gone]);
    }
}
