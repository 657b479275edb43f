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
use crate::files::{FileError, FileErrorKind, Place};

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
pub fn validate_model_file(path: &Path) -> Result<ModelSummary, FileError> {
    let label = path.display().to_string();
    let unreadable = |reason: &str| model_error(FileErrorKind::Unreadable, &label, reason);
    if path.is_dir() {
        return Err(unreadable("is a folder, not a file"));
    }
    // Bevy finds the loader by the file's extension, which it reads only from UTF-8 names.
    if path.to_str().is_none() {
        return Err(unreadable(
            "the path is not UTF-8 text (rename the file or its folder)",
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| unreadable(&e.to_string()))?;
    validate_model_bytes(&bytes, &label)
}

/// A model error of `kind`: the message starts with what the kind means for a model
/// (`not a valid glTF 2.0 model: ...`).
pub fn model_error(kind: FileErrorKind, label: &str, problem: &str) -> FileError {
    let what = match kind {
        FileErrorKind::Unreadable => "cannot read the model",
        FileErrorKind::Invalid | FileErrorKind::Newer => "not a valid glTF 2.0 model",
        FileErrorKind::Incomplete => "incomplete model",
        FileErrorKind::Damaged => "damaged model data",
    };
    FileError::new(kind, label, format!("{what}: {problem}"))
}

/// A problem the `gltf` crate found, at its place: the GLB header or chunk, the JSON pointer
/// of the first invalid value, or the line and column of a JSON syntax error.
pub fn gltf_error(label: &str, error: &gltf::Error, glb: bool) -> FileError {
    use gltf::binary::{ChunkType, Error as Binary};
    let chunk = |ty: &ChunkType| match ty {
        ChunkType::Json => "JSON chunk",
        ChunkType::Bin => "BIN chunk",
    };
    let place = match error {
        gltf::Error::Binary(Binary::Length { .. } | Binary::Magic(_) | Binary::Version(_)) => {
            Some(Place::Chunk("header".to_owned()))
        }
        gltf::Error::Binary(Binary::ChunkLength { ty, .. } | Binary::ChunkType(ty)) => {
            Some(Place::Chunk(chunk(ty).to_owned()))
        }
        // In a GLB the JSON's lines are those of its chunk, not of the file.
        gltf::Error::Deserialize(_) if glb => Some(Place::Chunk("JSON chunk".to_owned())),
        gltf::Error::Deserialize(json) if json.line() > 0 => Some(Place::LineColumn {
            line: json.line(),
            column: json.column(),
        }),
        gltf::Error::Validation(problems) => problems
            .first()
            .map(|(path, _)| Place::JsonPointer(json_pointer(path.as_str()))),
        _ => None,
    };
    let text = error.to_string();
    // serde_json ends its messages with the line and column, which are the place now.
    let text = match (&place, error) {
        (Some(Place::LineColumn { .. }), gltf::Error::Deserialize(json)) => text
            .strip_suffix(&format!(
                " at line {} column {}",
                json.line(),
                json.column()
            ))
            .unwrap_or(&text)
            .to_owned(),
        _ => text,
    };
    let error = model_error(FileErrorKind::Invalid, label, &text);
    match place {
        Some(place) => error.at_place(place),
        None => error,
    }
}

/// A `gltf-json` path (`meshes[0].primitives[0].attributes["POSITION"]`) as a JSON pointer
/// (`/meshes/0/primitives/0/attributes/POSITION`).
fn json_pointer(path: &str) -> String {
    // A path may end in ` = "value"` (the value it holds): not part of the place.
    let path = path.split(" = ").next().unwrap_or(path);
    let mut pointer = String::from("/");
    for c in path.chars() {
        match c {
            '.' | '[' => pointer.push('/'),
            ']' | '"' => {}
            c => pointer.push(c),
        }
    }
    pointer.replace("//", "/")
}

/// [`validate_model_file`] on bytes already read; `label` names the file in errors. Never
/// panics and never allocates more than the file's size, whatever the bytes: every buffer,
/// view and accessor is checked against the data the file holds before a vertex is read.
pub fn validate_model_bytes(bytes: &[u8], label: &str) -> Result<ModelSummary, FileError> {
    let invalid = |reason: &str| model_error(FileErrorKind::Invalid, label, reason);
    if bytes.is_empty() {
        return Err(invalid("the file is empty"));
    }
    let glb = bytes.starts_with(b"glTF");
    if let Some(declared) = glb_declared_length(bytes)
        && declared != bytes.len() as u64
    {
        return Err(invalid(&format!(
            "it says the file is {declared} bytes long but it has {} (truncated or damaged)",
            bytes.len()
        ))
        .at_place(Place::Chunk("header".to_owned())));
    }
    // gltf-json 1.4's validation indexes the accessor list with each POSITION attribute
    // before checking the index, and panics on a bad one (found by `hipback fuzz`): check
    // the indices on the unvalidated document first.
    let unchecked =
        gltf::Gltf::from_slice_without_validation(bytes).map_err(|e| gltf_error(label, &e, glb))?;
    if let Some((pointer, problem)) = missing_accessor(unchecked.document.as_json()) {
        return Err(invalid(&problem).at_place(Place::JsonPointer(pointer)));
    }
    let gltf = gltf::Gltf::from_slice(bytes).map_err(|e| gltf_error(label, &e, glb))?;
    let doc = &gltf.document;
    let problems = model_problems(doc);
    if !problems.is_empty() {
        return Err(model_error(
            FileErrorKind::Incomplete,
            label,
            &problems.join("; "),
        ));
    }
    let damage = data_problems(doc, gltf.blob.as_deref());
    if let Some((pointer, first)) = damage.first() {
        // The first problem's pointer is the place; the others follow with theirs.
        let rest = damage
            .iter()
            .skip(1)
            .map(|(pointer, problem)| format!("; {pointer}: {problem}"));
        let message = std::iter::once(first.clone())
            .chain(rest)
            .collect::<String>();
        return Err(model_error(FileErrorKind::Damaged, label, &message)
            .at_place(Place::JsonPointer(pointer.clone())));
    }
    Ok(ModelSummary {
        structures: Structure::all().len(),
        nodes: doc.nodes().count(),
        meshes: doc.meshes().count(),
    })
}

/// The first mesh attribute or morph target that names an accessor the file does not have:
/// its JSON pointer and the problem.
fn missing_accessor(root: &gltf::json::Root) -> Option<(String, String)> {
    let count = root.accessors.len();
    for (m, mesh) in root.meshes.iter().enumerate() {
        for (p, primitive) in mesh.primitives.iter().enumerate() {
            let pointer = format!("/meshes/{m}/primitives/{p}");
            let attributes = primitive
                .attributes
                .values()
                .map(|i| ("attributes", i.value()));
            let targets = primitive.targets.iter().flatten().flat_map(|t| {
                [t.positions, t.normals, t.tangents]
                    .into_iter()
                    .flatten()
                    .map(|i| ("targets", i.value()))
            });
            let indices = primitive.indices.map(|i| ("indices", i.value()));
            if let Some((what, index)) = attributes
                .chain(targets)
                .chain(indices)
                .find(|(_, index)| *index >= count)
            {
                return Some((
                    format!("{pointer}/{what}"),
                    format!("accessor {index} does not exist (the file has {count})"),
                ));
            }
        }
    }
    None
}

/// The total length a GLB header declares (bytes 8–12), if `bytes` start like a GLB.
fn glb_declared_length(bytes: &[u8]) -> Option<u64> {
    let header = bytes.get(0..12)?;
    if header.get(0..4)? != b"glTF" {
        return None;
    }
    let length: [u8; 4] = header.get(8..12)?.try_into().ok()?;
    Some(u64::from(u32::from_le_bytes(length)))
}

/// The morph target a structure's mesh must have (by name), if any: `tense` on muscles,
/// `compressed` on nerves (see [`crate::viewer::look`]).
pub fn expected_morph_target(layer: Layer) -> Option<&'static str> {
    match layer {
        Layer::Muscles => Some("tense"),
        Layer::Nerves => Some("compressed"),
        Layer::Bones | Layer::Discs | Layer::Joints | Layer::Skin => None,
    }
}

/// The morph target names a mesh declares (`extras.targetNames`).
fn morph_target_names(mesh: &gltf::Mesh) -> Vec<String> {
    mesh.extras()
        .as_ref()
        .and_then(|raw| serde_json::from_str::<serde_json::Value>(raw.get()).ok())
        .and_then(|extras| {
            extras.get("targetNames").and_then(|names| {
                names.as_array().map(|names| {
                    names
                        .iter()
                        .map(|n| n.as_str().unwrap_or("<not a name>").to_owned())
                        .collect()
                })
            })
        })
        .unwrap_or_default()
}

/// Buffers, views and accessors that reach past the file's data, and positions (of every
/// mesh and morph target) that are not finite numbers: each problem's JSON pointer and the
/// problem.
fn data_problems(doc: &gltf::Document, blob: Option<&[u8]>) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let blob_len = blob.map_or(0, <[u8]>::len) as u64;
    for buffer in doc.buffers() {
        let pointer = format!("/buffers/{}", buffer.index());
        match buffer.source() {
            gltf::buffer::Source::Bin if buffer.length() as u64 > blob_len => {
                problems.push((
                    pointer,
                    format!(
                        "declares {} bytes but the BIN chunk holds {blob_len}",
                        buffer.length()
                    ),
                ));
            }
            gltf::buffer::Source::Bin => {}
            gltf::buffer::Source::Uri(uri) => problems.push((
                pointer,
                format!(
                    "refers to the outside file `{uri}` (the model must be one self-contained .glb)"
                ),
            )),
        }
    }
    if !problems.is_empty() {
        return problems;
    }
    for view in doc.views() {
        let end = view.offset() as u64 + view.length() as u64;
        if end > view.buffer().length() as u64 {
            problems.push((
                format!("/bufferViews/{}", view.index()),
                format!(
                    "bytes {}–{end} lie past the end of its buffer ({} bytes)",
                    view.offset(),
                    view.buffer().length()
                ),
            ));
        }
    }
    if !problems.is_empty() {
        return problems;
    }
    for accessor in doc.accessors() {
        let pointer = format!("/accessors/{}", accessor.index());
        let element = accessor.size() as u64;
        let count = accessor.count() as u64;
        match accessor.view() {
            Some(view) => {
                let stride = view.stride().map_or(element, |s| s as u64);
                if let Some(problem) =
                    past_view(count, stride, element, accessor.offset() as u64, &view)
                {
                    problems.push((pointer.clone(), problem));
                }
            }
            // No view: zeros (for a sparse accessor) that a loader allocates, so the count
            // must be one the file could plausibly describe.
            None if count > blob_len => problems.push((
                pointer.clone(),
                format!(
                    "{count} elements without data, more than the file's {blob_len} bytes could describe"
                ),
            )),
            None => {}
        }
        if let Some(sparse) = accessor.sparse() {
            let changed = sparse.count() as u64;
            let indices = sparse.indices();
            let values = sparse.values();
            let index_size = indices.index_type().size() as u64;
            if changed > count {
                problems.push((
                    format!("{pointer}/sparse"),
                    format!("changes {changed} of only {count} elements"),
                ));
            } else if let Some(problem) = past_view(
                changed,
                index_size,
                index_size,
                indices.offset() as u64,
                &indices.view(),
            )
            .or_else(|| {
                past_view(
                    changed,
                    element,
                    element,
                    values.offset() as u64,
                    &values.view(),
                )
            }) {
                problems.push((format!("{pointer}/sparse"), problem));
            }
        }
    }
    if !problems.is_empty() {
        return problems;
    }
    let Some(blob) = blob else {
        return problems;
    };
    let mut checked = BTreeSet::new();
    for mesh in doc.meshes() {
        let mesh_name = mesh.name().unwrap_or("<unnamed>");
        for primitive in mesh.primitives() {
            let targets = primitive
                .morph_targets()
                .filter_map(|t| t.positions().map(|a| (a, "morph target POSITION")));
            let positions = primitive
                .get(&gltf::Semantic::Positions)
                .map(|a| (a, "POSITION"));
            for (accessor, what) in positions.into_iter().chain(targets) {
                if !checked.insert(accessor.index()) {
                    continue;
                }
                if let Some(problem) = non_finite_position(&accessor, blob) {
                    problems.push((
                        format!("/accessors/{}", accessor.index()),
                        format!("{what} of mesh `{mesh_name}`: {problem}"),
                    ));
                }
            }
        }
    }
    problems
}

/// Why `count` elements of `element` bytes, `stride` apart from `offset`, do not fit in
/// `view` (u64 arithmetic: no overflow for any u32-sized count and stride).
fn past_view(
    count: u64,
    stride: u64,
    element: u64,
    offset: u64,
    view: &gltf::buffer::View,
) -> Option<String> {
    let needed = offset + count.saturating_sub(1) * stride + element;
    (count > 0 && needed > view.length() as u64).then(|| {
        format!(
            "{count} elements need {needed} bytes but its view /bufferViews/{} has {}",
            view.index(),
            view.length()
        )
    })
}

/// The first vertex of a position accessor (already checked to lie inside `blob`) that is
/// not a finite number, in words.
fn non_finite_position(accessor: &gltf::Accessor, blob: &[u8]) -> Option<String> {
    if accessor.data_type() != gltf::accessor::DataType::F32
        || accessor.dimensions() != gltf::accessor::Dimensions::Vec3
    {
        return Some("positions must be three 32-bit floats".to_owned());
    }
    if let Some(view) = accessor.view()
        && let Some((vertex, value)) = first_non_finite(
            blob,
            view.offset() + accessor.offset(),
            view.stride().unwrap_or(12),
            accessor.count(),
        )
    {
        return Some(format!("vertex {vertex} has a position of {value}"));
    }
    let sparse = accessor.sparse()?;
    let values = sparse.values();
    let (k, value) = first_non_finite(
        blob,
        values.view().offset() + values.offset(),
        12,
        sparse.count(),
    )?;
    Some(format!("sparse value {k} is a position of {value}"))
}

/// The first of `count` three-float elements, `stride` bytes apart from `start`, with a
/// coordinate that is not a finite number: its number and that coordinate.
fn first_non_finite(
    blob: &[u8],
    start: usize,
    stride: usize,
    count: usize,
) -> Option<(usize, f32)> {
    (0..count).find_map(|vertex| {
        let at = start + vertex * stride;
        (0..3).find_map(|axis| {
            let bytes: [u8; 4] = blob
                .get(at + axis * 4..at + axis * 4 + 4)?
                .try_into()
                .ok()?;
            let value = f32::from_le_bytes(bytes);
            (!value.is_finite()).then_some((vertex, value))
        })
    })
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
        if let Some(target) = expected_morph_target(structure.layer()) {
            let names = morph_target_names(&mesh);
            let counts: Vec<usize> = primitives
                .iter()
                .map(|p| p.morph_targets().count())
                .collect();
            if names.is_empty() || counts.contains(&0) {
                problems.push(format!("mesh `{name}` has no morph target `{target}`"));
            } else if names != [target] || counts.iter().any(|c| *c != 1) {
                problems.push(format!(
                    "mesh `{name}` has morph targets [{}] (expected just `{target}`)",
                    names.join(", ")
                ));
            }
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
    Failed(FileError),
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
        *state = ModelState::Failed(model_error(
            FileErrorKind::Invalid,
            &source.path.display().to_string(),
            &err.to_string(),
        ));
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
        missing => ModelState::Failed(model_error(
            FileErrorKind::Incomplete,
            &source.path.display().to_string(),
            &missing
                .iter()
                .map(|s| format!("missing structure `{s}`"))
                .collect::<Vec<_>>()
                .join("; "),
        )),
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
        assert_eq!(err.kind, FileErrorKind::Invalid);
        assert!(
            err.to_string()
                .starts_with("m.glb:1:2: not a valid glTF 2.0 model: expected ident"),
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
        let err = validate_model_bytes(json, "e.gltf").unwrap_err();
        assert_eq!(err.kind, FileErrorKind::Incomplete, "{err}");
        // Every problem is in the one message.
        assert_eq!(
            err.message.split("; ").count(),
            Structure::all().len() + 1,
            "{err}"
        );
        assert!(
            err.message.contains("missing structure `sciatic_nerve_r`"),
            "{err}"
        );
    }

    #[test]
    fn missing_structures_lists_the_rest() {
        let mut found: BTreeSet<Structure> = Structure::all().into_iter().collect();
        let gone = Structure::from_gltf_name("piriformis_l").unwrap();
        found.remove(&gone);
        assert_eq!(missing_structures(&found), vec![gone]);
    }
}
