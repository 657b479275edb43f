//! The heat map in the app: the referral files loaded, the fields precomputed in the
//! background once the skin has loaded, two coloured overlays on the skin (the heat, nerve
//! symptoms composited over referred pain, and the user's drawing) updated only when the
//! scenario state, the settings or the drawing change, what is under the pointer, and paint
//! mode with its ranking and autosave.

use std::sync::Arc;

use bevy::asset::RenderAssetUsages;
use bevy::asset::embedded_asset;
use bevy::mesh::{Indices, VertexAttributeValues};
use bevy::picking::Pickable;
use bevy::picking::mesh_picking::ray_cast::{MeshRayCast, MeshRayCastSettings, RayCastVisibility};
use bevy::prelude::*;
use bevy::render::render_resource::AsBindGroup;
use bevy::render::storage::ShaderBuffer;
use bevy::shader::ShaderRef;
use bevy::tasks::{
    AsyncComputeTaskPool, ComputeTaskPool, ParallelSlice, Task, TaskPool, block_on,
    futures_lite::future,
};
use bevy::window::PrimaryWindow;

use super::data::{self, PainLayer, ReferralFile};
use super::drawing::{self, Loaded};
use super::field::{self, Fields, Match, SkinSurface};
use super::palette::{Palette, in_band, over};
use crate::anatomy::{Side, SkinRegion, StructureKind};
use crate::files::FileError;
use crate::scenario::ShownState;
use crate::viewer::ViewerSystems;
use crate::viewer::camera::MainCamera;
use crate::viewer::look::MorphTargetWeights;
use crate::viewer::model::{ATTRIBUTE_SKIN_REGION, StructureTag};
use crate::viewer::picking::PrimaryButtonPaints;

/// How the heat map is shown.
#[derive(Resource, Clone, Copy, Debug, PartialEq)]
pub struct HeatSettings {
    /// Referred (somatic) pain layer on.
    pub somatic: bool,
    /// Nerve (neuropathic) symptoms layer on.
    pub neuropathic: bool,
    /// Overall opacity, 0–1.
    pub opacity_0_to_1: f32,
}

impl Default for HeatSettings {
    fn default() -> Self {
        Self {
            somatic: true,
            neuropathic: true,
            // Translucent enough to see the muscles under the heat.
            opacity_0_to_1: 0.6,
        }
    }
}

/// The referral patterns and what is wrong with any file (the last good data stays).
#[derive(Resource, Clone, Debug, Default)]
pub struct Referrals {
    /// The patterns.
    pub files: Vec<ReferralFile>,
    /// Problems, one per bad file.
    pub errors: Vec<FileError>,
    /// The folder the patterns are read from at start-up (default: the bundled one).
    pub folder: Option<std::path::PathBuf>,
}

/// The skin as a surface and its precomputed fields (once ready).
#[derive(Resource, Default)]
pub struct SkinHeat {
    /// The skin graph (world space, rest pose).
    pub surface: Option<Arc<SkinSurface>>,
    /// Every source's field.
    pub fields: Option<Arc<Fields>>,
    /// Heat per vertex shown now: (somatic, neuropathic).
    pub heat: (Vec<f32>, Vec<f32>),
    /// How long the precomputation took, seconds.
    pub precompute_s: Option<f32>,
    task: Option<Task<(Fields, f32)>>,
    skin: Option<Entity>,
    /// The heat's colours, tabulated.
    palette: Palette,
    /// Per skin vertex: whether it lies in a full-strength band of the nerve symptoms (set
    /// with the surface).
    bands: Vec<bool>,
}

/// The two overlays on the skin.
#[derive(Component, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overlay {
    /// The heat: nerve symptoms over referred pain, composited per vertex ([`over`]). One
    /// blended layer instead of one per kind: on a CPU renderer the second layer cost about a
    /// tenth of a frame with both shown.
    Heat,
    /// The user's drawing.
    Drawing,
}

impl Overlay {
    /// How far out of the skin each overlay sits (so they do not fight for depth), metres.
    fn offset_m(self) -> f32 {
        match self {
            Overlay::Heat => 0.0025,
            Overlay::Drawing => 0.0035,
        }
    }
}

/// What the pointer is over on the skin.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct HeatHover(pub Option<HoverInfo>);

/// A region under the pointer and who contributes to its heat.
#[derive(Clone, Debug, PartialEq)]
pub struct HoverInfo {
    /// The region.
    pub region: SkinRegion,
    /// (source label, side, layer, share 0–1), largest first.
    pub contributions: Vec<(String, Side, PainLayer, f32)>,
}

/// Paint mode: the drawing, the brush and the ranking.
#[derive(Resource, Clone, Debug)]
pub struct Painting {
    /// Painting with the left button (the camera orbits with the right one meanwhile).
    pub active: bool,
    /// Erasing instead of painting.
    pub erase: bool,
    /// Brush radius, metres.
    pub brush_radius_m: f32,
    /// One value per skin vertex.
    pub drawing: Vec<f32>,
    /// The sources ranked against the drawing, best first.
    pub ranking: Vec<Match>,
    /// One line: saved, restored, or a problem with the file.
    pub status: Option<String>,
    /// Whether the drawing changed since it was last saved and ranked.
    pub dirty: bool,
    /// The skin's fingerprint (drawings are only laid on the skin they were made on).
    pub fingerprint: u64,
    /// Where the drawing is kept.
    pub path: std::path::PathBuf,
}

impl Default for Painting {
    fn default() -> Self {
        Self {
            active: false,
            erase: false,
            brush_radius_m: 0.03,
            drawing: Vec::new(),
            ranking: Vec::new(),
            status: None,
            dirty: false,
            fingerprint: 0,
            path: drawing::drawing_path(),
        }
    }
}

/// Something the panel asks of the heat map.
#[derive(Message, Clone, Debug, PartialEq)]
pub enum HeatCommand {
    /// Erase the whole drawing.
    ClearDrawing,
}

/// What the heat map puts in [`crate::viewer::WaitingFor`] until its overlays show the state.
const WAITING_LABEL: &str = "heat map";

/// The heat map without UI (tests add it to a renderer-less app).
pub fn plugin(app: &mut App) {
    if let Some(mut waiting) = app
        .world_mut()
        .get_resource_mut::<crate::viewer::WaitingFor>()
    {
        waiting.0.insert(WAITING_LABEL);
    }
    if app.is_plugin_added::<bevy::pbr::PbrPlugin>() {
        embedded_asset!(app, "heat_overlay.wgsl");
        app.add_plugins(MaterialPlugin::<OverlayMaterial>::default());
    } else {
        // Renderer-less apps (tests) keep the overlays' materials and colours as plain assets.
        app.init_asset::<OverlayMaterial>();
        if !app.world().contains_resource::<Assets<ShaderBuffer>>() {
            app.init_asset::<ShaderBuffer>();
        }
    }
    app.init_resource::<HeatSettings>()
        .init_resource::<Referrals>()
        .init_resource::<SkinHeat>()
        .init_resource::<HeatHover>()
        .init_resource::<Painting>()
        .add_message::<HeatCommand>()
        .add_systems(Startup, load_referrals)
        .add_systems(
            Update,
            (
                start_fields,
                start_precompute,
                finish_fields,
                spawn_overlays,
            )
                .chain()
                .in_set(ViewerSystems::Derive),
        )
        .add_systems(
            Update,
            (
                apply_heat_commands,
                update_heat,
                update_drawing_overlay,
                follow_skin_correctives,
                show_overlays,
                report_readiness,
            )
                .chain()
                .in_set(ViewerSystems::Present),
        );
}

/// Hover and paint: the pointer on the skin (the window only).
pub fn pointer_plugin(app: &mut App) {
    app.add_systems(
        Update,
        (paint_buttons, hover_and_paint, save_and_rank)
            .chain()
            .in_set(ViewerSystems::Input),
    );
}

/// Tells pictures when the heat is on the skin (or that there is no heat map to wait for).
fn report_readiness(
    heat: Res<SkinHeat>,
    referrals: Res<Referrals>,
    shown: Res<ShownState>,
    painting: Res<Painting>,
    offscreen: Option<Res<crate::viewer::screenshot::OffscreenShot>>,
    overlays: Query<(), With<Overlay>>,
    waiting: Option<ResMut<crate::viewer::WaitingFor>>,
) {
    let Some(mut waiting) = waiting else { return };
    if !waiting.0.contains(WAITING_LABEL) {
        return;
    }
    let no_heat_map = referrals.files.is_empty()
        || heat.surface.as_ref().is_some_and(|s| s.is_empty())
        || offscreen_without_heat(offscreen.is_some(), Some(&waiting), &shown, &painting)
            == Some(true);
    // Overlays exist only once the fields are ready; their colours are written the frame
    // they appear.
    if no_heat_map || (heat.fields.is_some() && !overlays.is_empty() && !heat.heat.0.is_empty()) {
        waiting.0.remove(WAITING_LABEL);
    }
}

fn load_referrals(mut referrals: ResMut<Referrals>) {
    let dir = referrals
        .folder
        .clone()
        .unwrap_or_else(|| crate::viewer::assets_dir().join(data::REFERRAL_FOLDER));
    let (files, errors) = data::load_folder(&dir);
    for e in &errors {
        error!("{e}");
    }
    referrals.files = files;
    referrals.errors = errors;
}

/// Once the skin's mesh has arrived: its surface, and the fields computed on a background
/// thread (about a second; the window keeps running).
fn start_fields(
    mut heat: ResMut<SkinHeat>,
    referrals: Res<Referrals>,
    skins: Query<(Entity, &StructureTag, &Mesh3d, &GlobalTransform)>,
    meshes: Res<Assets<Mesh>>,
    mut painting: ResMut<Painting>,
) {
    if heat.surface.is_some() || referrals.files.is_empty() {
        return;
    }
    let Some((entity, _, mesh, transform)) = skins
        .iter()
        .find(|(_, tag, _, _)| tag.0.kind == StructureKind::Skin)
    else {
        return;
    };
    let Some(mesh) = meshes.get(&mesh.0) else {
        return;
    };
    let Some(surface) = surface_of(mesh, transform) else {
        warn!("the skin has no region labels: no heat map");
        heat.surface = Some(Arc::new(SkinSurface::new(Vec::new(), &[], &[])));
        return;
    };
    let surface = Arc::new(surface);
    painting.fingerprint = drawing::fingerprint(&surface.positions);
    painting.drawing = vec![0.0; surface.len()];
    match drawing::load(&painting.path, surface.len(), painting.fingerprint) {
        Loaded::Nothing => {}
        Loaded::Drawing(d) => {
            painting.drawing = d;
            painting.dirty = true;
            painting.status = Some(format!(
                "Your drawing is back ({}).",
                painting.path.display()
            ));
        }
        Loaded::Unusable(why) => {
            let kept = crate::files::keep_aside(&painting.path).map_or_else(
                |e| format!(" ({e})"),
                |p| format!("; kept as {}", p.display()),
            );
            painting.status = Some(format!("{why}{kept}"));
        }
    }
    heat.bands = surface.positions.iter().map(|p| in_band(*p)).collect();
    heat.surface = Some(surface);
    heat.skin = Some(entity);
}

/// Whether an off-screen picture will show no heat: everything else it waits for is in
/// place, no source is hot and nothing is drawn. `None` while that is not known yet.
fn offscreen_without_heat(
    offscreen: bool,
    waiting: Option<&crate::viewer::WaitingFor>,
    shown: &ShownState,
    painting: &Painting,
) -> Option<bool> {
    if !offscreen {
        return Some(false);
    }
    let others_pending = waiting.is_some_and(|w| w.0.iter().any(|l| *l != WAITING_LABEL));
    if others_pending {
        return None;
    }
    Some(super::intensities(&shown.state).is_empty() && !painting.drawing.iter().any(|d| *d > 0.0))
}

/// Starts the fields' precompute on a background thread once the skin's surface is known;
/// an off-screen picture that will show no heat never starts it (30 ms, 0.59 s before the
/// fields went dense), and
/// one still waiting for its scenario starts it once that is in.
fn start_precompute(
    mut heat: ResMut<SkinHeat>,
    referrals: Res<Referrals>,
    shown: Res<ShownState>,
    painting: Res<Painting>,
    offscreen: Option<Res<crate::viewer::screenshot::OffscreenShot>>,
    waiting: Option<Res<crate::viewer::WaitingFor>>,
) {
    if heat.task.is_some() || heat.fields.is_some() {
        return;
    }
    let Some(surface) = heat.surface.clone() else {
        return;
    };
    if surface.is_empty() {
        return;
    }
    match offscreen_without_heat(offscreen.is_some(), waiting.as_deref(), &shown, &painting) {
        Some(false) => {}
        Some(true) | None => return,
    }
    let files = referrals.files.clone();
    heat.task = Some(AsyncComputeTaskPool::get().spawn(async move {
        let started = std::time::Instant::now();
        let fields = field::precompute(&surface, &files);
        (fields, started.elapsed().as_secs_f32())
    }));
}

/// The skin mesh as a surface in world space.
fn surface_of(mesh: &Mesh, transform: &GlobalTransform) -> Option<SkinSurface> {
    let Some(VertexAttributeValues::Float32x3(positions)) =
        mesh.attribute(Mesh::ATTRIBUTE_POSITION)
    else {
        return None;
    };
    let Some(VertexAttributeValues::Float32(regions)) = mesh.attribute(ATTRIBUTE_SKIN_REGION)
    else {
        return None;
    };
    let indices: Vec<u32> = match mesh.indices()? {
        Indices::U32(i) => i.clone(),
        Indices::U16(i) => i.iter().map(|v| u32::from(*v)).collect(),
    };
    let positions = positions
        .iter()
        .map(|p| transform.transform_point(Vec3::from(*p)))
        .collect();
    Some(SkinSurface::new(positions, &indices, regions))
}

fn finish_fields(mut heat: ResMut<SkinHeat>) {
    let Some(task) = heat.task.as_mut() else {
        return;
    };
    let Some((fields, seconds)) = block_on(future::poll_once(task)) else {
        return;
    };
    info!("heat fields precomputed in {seconds:.2} s");
    heat.task = None;
    heat.fields = Some(Arc::new(fields));
    heat.precompute_s = Some(seconds);
}

/// What an overlay is drawn with: a colour per vertex from [`OverlayColours`], unlit,
/// blended over the skin.
#[derive(Asset, AsBindGroup, TypePath, Clone, Debug)]
pub struct OverlayMaterial {
    /// One straight-alpha linear RGBA colour per vertex of the overlay's mesh.
    #[storage(0, read_only)]
    pub colours: Handle<ShaderBuffer>,
    /// The skin's posture correctives (its morph targets), target after target, a position
    /// offset per vertex. The overlay applies them itself: Bevy 0.19 gave a morphed mesh
    /// shown after its first frame another mesh's morph descriptor.
    #[storage(1, read_only)]
    pub correctives: Handle<ShaderBuffer>,
    /// How much of each corrective the posture takes (the skin's `MorphTargetWeights`).
    #[uniform(2)]
    pub corrective_weights: Vec4,
}

const OVERLAY_SHADER: &str = "embedded://hipback/referral/heat_overlay.wgsl";

impl Material for OverlayMaterial {
    fn vertex_shader() -> ShaderRef {
        OVERLAY_SHADER.into()
    }

    fn fragment_shader() -> ShaderRef {
        OVERLAY_SHADER.into()
    }

    fn alpha_mode(&self) -> AlphaMode {
        AlphaMode::Blend
    }

    // Painted on a see-through skin: nothing to add to a depth prepass or a shadow map.
    fn enable_prepass() -> bool {
        false
    }

    fn enable_shadows() -> bool {
        false
    }
}

/// Two copies of the skin (heat, drawing), a little outside it, coloured per vertex.
fn spawn_overlays(
    mut commands: Commands,
    heat: Res<SkinHeat>,
    existing: Query<(), With<Overlay>>,
    skins: Query<(
        &Mesh3d,
        Option<&bevy::mesh::skinning::SkinnedMesh>,
        Option<&MorphTargetWeights>,
        Option<&ChildOf>,
    )>,
    mut meshes: ResMut<Assets<Mesh>>,
    materials: Option<ResMut<Assets<OverlayMaterial>>>,
    buffers: Option<ResMut<Assets<ShaderBuffer>>>,
) {
    let (Some(skin), Some(_)) = (heat.skin, heat.fields.as_ref()) else {
        return;
    };
    if !existing.is_empty() {
        return;
    }
    let (Some(mut materials), Some(mut buffers)) = (materials, buffers) else {
        return;
    };
    let Ok((mesh, skinned, corrective_weights, parent)) = skins.get(skin) else {
        return;
    };
    let Some(source) = meshes.get(&mesh.0).cloned() else {
        return;
    };
    let triangles = OverlayTriangles(Arc::new(match source.indices() {
        Some(Indices::U32(i)) => i.clone(),
        Some(Indices::U16(i)) => i.iter().map(|v| u32::from(*v)).collect(),
        None => (0..source.count_vertices() as u32).collect(),
    }));
    // The skin's posture correctives, for the overlays to apply themselves (a storage buffer
    // is never empty).
    let mut offsets: Vec<[f32; 4]> = source
        .try_morph_targets()
        .map(|targets| {
            targets
                .iter()
                .map(|t| t.position.extend(0.0).to_array())
                .collect()
        })
        .unwrap_or_default();
    if offsets.is_empty() {
        offsets.push([0.0; 4]);
    }
    let correctives = buffers.add(ShaderBuffer::new(
        &colour_bytes(&offsets),
        RenderAssetUsages::default(),
    ));
    let corrective_weights = corrective_weights.map_or(Vec4::ZERO, |w| weights_vec4(&w.0));
    for overlay in [Overlay::Heat, Overlay::Drawing] {
        // Positions and skin weights only: unlit, coloured from its own buffer, and no morph
        // targets (the correctives come through the material).
        let mut copy = Mesh::new(source.primitive_topology(), source.asset_usage);
        for attribute in [Mesh::ATTRIBUTE_JOINT_INDEX, Mesh::ATTRIBUTE_JOINT_WEIGHT] {
            if let Some(values) = source.attribute(attribute) {
                copy.insert_attribute(attribute, values.clone());
            }
        }
        match (
            source.attribute(Mesh::ATTRIBUTE_POSITION),
            source.attribute(Mesh::ATTRIBUTE_NORMAL),
        ) {
            (
                Some(VertexAttributeValues::Float32x3(positions)),
                Some(VertexAttributeValues::Float32x3(normals)),
            ) => {
                let moved: Vec<[f32; 3]> = positions
                    .iter()
                    .zip(normals)
                    .map(|(p, n)| (Vec3::from(*p) + Vec3::from(*n) * overlay.offset_m()).to_array())
                    .collect();
                copy.insert_attribute(Mesh::ATTRIBUTE_POSITION, moved);
            }
            (Some(positions), _) => {
                copy.insert_attribute(Mesh::ATTRIBUTE_POSITION, positions.clone());
            }
            (None, _) => {}
        }
        let clear = vec![[0.0f32; 4]; copy.count_vertices()];
        copy.insert_indices(Indices::U32(shown_triangles(&triangles.0, &clear)));
        let buffer = buffers.add(ShaderBuffer::new(
            &colour_bytes(&clear),
            RenderAssetUsages::default(),
        ));
        let material = materials.add(OverlayMaterial {
            colours: buffer.clone(),
            correctives: correctives.clone(),
            corrective_weights,
        });
        let mut entity = commands.spawn((
            Name::new(format!("heat overlay {overlay:?}")),
            overlay,
            triangles.clone(),
            OverlayColours {
                buffer,
                colours: clear,
            },
            Mesh3d(meshes.add(copy)),
            MeshMaterial3d(material),
            Transform::default(),
            Visibility::Hidden,
            Pickable::IGNORE,
        ));
        if let Some(skinned) = skinned {
            entity.insert(skinned.clone());
        }
        if let Some(parent) = parent {
            entity.insert(ChildOf(parent.parent()));
        }
    }
}

/// Up to four morph-target weights as the overlay shader takes them.
fn weights_vec4(weights: &[f32]) -> Vec4 {
    Vec4::from_array(std::array::from_fn(|k| {
        weights.get(k).copied().unwrap_or(0.0)
    }))
}

/// The overlays take the skin's posture correctives as the skin does: written into their
/// materials when the skin's weights change.
fn follow_skin_correctives(
    heat: Res<SkinHeat>,
    skins: Query<&MorphTargetWeights, Changed<MorphTargetWeights>>,
    overlays: Query<&MeshMaterial3d<OverlayMaterial>, With<Overlay>>,
    materials: Option<ResMut<Assets<OverlayMaterial>>>,
) {
    let (Some(skin), Some(mut materials)) = (heat.skin, materials) else {
        return;
    };
    let Ok(weights) = skins.get(skin) else {
        return;
    };
    let wanted = weights_vec4(&weights.0);
    for material in &overlays {
        if materials
            .get(&material.0)
            .is_some_and(|m| m.corrective_weights != wanted)
            && let Some(mut m) = materials.get_mut(&material.0)
        {
            m.corrective_weights = wanted;
        }
    }
}

fn apply_heat_commands(mut commands: MessageReader<HeatCommand>, mut painting: ResMut<Painting>) {
    for command in commands.read() {
        match command {
            HeatCommand::ClearDrawing => {
                painting.drawing.iter_mut().for_each(|d| *d = 0.0);
                painting.dirty = true;
            }
        }
    }
}

/// Recomputes the heat when the state or the settings change, and writes the overlays'
/// colours only where they changed.
fn update_heat(
    shown: Res<ShownState>,
    settings: Res<HeatSettings>,
    mut heat: ResMut<SkinHeat>,
    mut overlays: OverlayQuery,
    added: Query<(), Added<Overlay>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut buffers: ResMut<Assets<ShaderBuffer>>,
) {
    let Some(fields) = heat.fields.clone() else {
        return;
    };
    if heat.surface.is_none() || (!shown.is_changed() && !settings.is_changed() && added.is_empty())
    {
        return;
    }
    let intensities = super::intensities(&shown.state);
    let (mut somatic, mut neuropathic) = std::mem::take(&mut heat.heat);
    field::heat_into(&fields, &intensities, PainLayer::Somatic, &mut somatic);
    field::heat_into(
        &fields,
        &intensities,
        PainLayer::Neuropathic,
        &mut neuropathic,
    );
    let (palette, bands) = (&heat.palette, &heat.bands);
    let none = [0.0; 4];
    let opacity = settings.opacity_0_to_1.clamp(0.0, 1.0);
    let colour = |i: usize| {
        let below = if settings.somatic {
            palette.somatic(somatic[i])
        } else {
            none
        };
        let above = if settings.neuropathic {
            palette.neuropathic(neuropathic[i], bands[i])
        } else {
            none
        };
        over(above, below, opacity)
    };
    // Every vertex, every frame of an easing: in chunks on the compute threads.
    let count = somatic.len().min(neuropathic.len()).min(bands.len());
    let colours: Vec<[f32; 4]> = (&somatic[..count])
        .par_chunk_map(
            ComputeTaskPool::get_or_init(TaskPool::default),
            COLOUR_CHUNK,
            |k, chunk| {
                (0..chunk.len())
                    .map(|j| colour(k * COLOUR_CHUNK + j))
                    .collect::<Vec<_>>()
            },
        )
        .concat();
    write_overlay_of(
        Overlay::Heat,
        &mut overlays,
        &mut meshes,
        &mut buffers,
        colours,
    );
    heat.heat = (somatic, neuropathic);
}

/// The overlays with what [`write_overlay`] needs of each.
type OverlayQuery<'w, 's> = Query<
    'w,
    's,
    (
        &'static Overlay,
        &'static Mesh3d,
        &'static OverlayTriangles,
        &'static mut OverlayColours,
    ),
>;

/// [`write_overlay`] for the overlay of `kind`.
fn write_overlay_of(
    kind: Overlay,
    overlays: &mut OverlayQuery,
    meshes: &mut Assets<Mesh>,
    buffers: &mut Assets<ShaderBuffer>,
    colours: Vec<[f32; 4]>,
) {
    if let Some((_, mesh, triangles, mut shown)) =
        overlays.iter_mut().find(|(overlay, ..)| **overlay == kind)
    {
        write_overlay(meshes, buffers, &mesh.0, &mut shown, colours, triangles);
    }
}

/// Writes an overlay's colours if they differ, and draws only its triangles that show any
/// colour. An overlay is a copy of the whole skin (80k triangles): drawn whole, the two heat
/// layers (then two overlays) nearly doubled what the renderer had to process, and on a CPU
/// renderer cost about 40 % of a frame, mostly for empty skin. The colours live in their own
/// buffer ([`OverlayColours`]), so a change uploads them alone; the triangles are chosen again
/// (a mesh change, which Bevy uploads whole) only when the set of vertices that show changes:
/// while a scenario eases, the heat changes every frame but its extent seldom does. The
/// overlay's indices are always [`shown_triangles`] of its colours (from the spawn on).
fn write_overlay(
    meshes: &mut Assets<Mesh>,
    buffers: &mut Assets<ShaderBuffer>,
    mesh: &Handle<Mesh>,
    shown: &mut OverlayColours,
    colours: Vec<[f32; 4]>,
    triangles: &OverlayTriangles,
) {
    if shown.colours == colours {
        return;
    }
    let same_extent = shown.colours.len() == colours.len()
        && shown
            .colours
            .iter()
            .zip(&colours)
            .all(|(a, b)| shows(a) == shows(b));
    if !same_extent && let Some(mut mesh) = meshes.get_mut(mesh) {
        mesh.insert_indices(Indices::U32(shown_triangles(&triangles.0, &colours)));
    }
    if let Some(mut buffer) = buffers.get_mut(&shown.buffer) {
        buffer.data = Some(colour_bytes(&colours));
    }
    shown.colours = colours;
}

/// An overlay's colours: the buffer its material reads, and what was last written to it.
#[derive(Component, Clone, Debug)]
pub struct OverlayColours {
    /// One straight-alpha linear RGBA colour per vertex ([`OverlayMaterial::colours`]).
    pub buffer: Handle<ShaderBuffer>,
    /// The same colours, kept to compare.
    pub colours: Vec<[f32; 4]>,
}

/// Skin vertices coloured per task.
const COLOUR_CHUNK: usize = 4096;

/// Colours as the shader reads them: four little-endian `f32` each.
fn colour_bytes(colours: &[[f32; 4]]) -> Vec<u8> {
    colours
        .iter()
        .flatten()
        .flat_map(|c| c.to_le_bytes())
        .collect()
}

/// Whether a vertex colour shows: alpha above half a step of 8 bits.
fn shows(colour: &[f32; 4]) -> bool {
    const VISIBLE_ALPHA: f32 = 0.5 / 255.0;
    colour[3] > VISIBLE_ALPHA
}

/// The skin's whole triangle list, kept by each overlay (its mesh draws only a part of it).
#[derive(Component, Clone, Debug)]
pub struct OverlayTriangles(pub Arc<Vec<u32>>);

/// The triangles of `indices` with any vertex visible (alpha above half a step of 8 bits);
/// one degenerate triangle when none is, so the mesh stays valid.
pub fn shown_triangles(indices: &[u32], colours: &[[f32; 4]]) -> Vec<u32> {
    let visible = |v: u32| colours.get(v as usize).is_some_and(shows);
    let shown: Vec<u32> = indices
        .chunks_exact(3)
        .filter(|t| t.iter().any(|v| visible(*v)))
        .flatten()
        .copied()
        .collect();
    if shown.is_empty() {
        vec![0, 0, 0]
    } else {
        shown
    }
}

/// Colours of the drawing: a calm blue where painted.
fn update_drawing_overlay(
    painting: Res<Painting>,
    mut overlays: OverlayQuery,
    added: Query<(), Added<Overlay>>,
    mut meshes: ResMut<Assets<Mesh>>,
    mut buffers: ResMut<Assets<ShaderBuffer>>,
) {
    if !painting.is_changed() && added.is_empty() {
        return;
    }
    let colours = painting
        .drawing
        .iter()
        .map(|d| [0.25, 0.55, 1.0, 0.75 * d])
        .collect();
    write_overlay_of(
        Overlay::Drawing,
        &mut overlays,
        &mut meshes,
        &mut buffers,
        colours,
    );
}

/// Which overlays are drawn (the heat's opacity is in its colours, see [`over`]).
fn show_overlays(
    settings: Res<HeatSettings>,
    painting: Res<Painting>,
    mut overlays: Query<(&Overlay, &mut Visibility)>,
    added: Query<(), Added<Overlay>>,
) {
    if !settings.is_changed() && !painting.is_changed() && added.is_empty() {
        return;
    }
    for (overlay, mut visibility) in &mut overlays {
        let shown = match overlay {
            Overlay::Heat => settings.somatic || settings.neuropathic,
            Overlay::Drawing => painting.active || painting.drawing.iter().any(|d| *d > 0.0),
        };
        visibility.set_if_neq(if shown {
            Visibility::Inherited
        } else {
            Visibility::Hidden
        });
    }
}

/// In paint mode the left button paints, so the camera orbits with the right button and pans
/// with the middle one, and a click selects no structure.
fn paint_buttons(
    painting: Res<Painting>,
    mut cameras: Query<&mut bevy_panorbit_camera::PanOrbitCamera>,
    paints: Option<ResMut<PrimaryButtonPaints>>,
) {
    if !painting.is_changed() {
        return;
    }
    if let Some(mut paints) = paints {
        paints.set_if_neq(PrimaryButtonPaints(painting.active));
    }
    for mut camera in &mut cameras {
        let (orbit, pan) = if painting.active {
            (MouseButton::Right, MouseButton::Middle)
        } else {
            (MouseButton::Left, MouseButton::Right)
        };
        if camera.button_orbit != orbit {
            camera.button_orbit = orbit;
            camera.button_pan = pan;
        }
    }
}

/// The skin under the pointer: hover information, and in paint mode a brush stroke.
fn hover_and_paint(
    window: Query<&Window, With<PrimaryWindow>>,
    camera: Query<(&Camera, &GlobalTransform), With<MainCamera>>,
    egui: Option<Res<bevy_egui::input::EguiWantsInput>>,
    mouse: Res<ButtonInput<MouseButton>>,
    heat: Res<SkinHeat>,
    referrals: Res<Referrals>,
    shown: Res<ShownState>,
    mut hover: ResMut<HeatHover>,
    mut painting: ResMut<Painting>,
    mut ray_cast: MeshRayCast,
    mut last: Local<(Option<Vec2>, Option<u32>)>,
) {
    // Ray casts against the 40k-vertex skin cost milliseconds on a CPU renderer: cast only
    // when the pointer moved (or a stroke starts where it rests); when only the state
    // changed, refresh the contributions at the vertex already found.
    let cursor = window.single().ok().and_then(Window::cursor_position);
    let stroke_starts = painting.active && mouse.just_pressed(MouseButton::Left);
    let moved = cursor != last.0 || stroke_starts;
    if !moved && !shown.is_changed() && !heat.is_changed() {
        return;
    }
    let vertex = if moved {
        last.0 = cursor;
        let over_panel = egui.is_some_and(|e| e.wants_any_pointer_input());
        let hit = (|| {
            let skin = heat.skin?;
            let cursor = cursor?;
            let (camera, transform) = camera.single().ok()?;
            // The cursor as the window has it: Bevy 0.19 takes the viewport's offset off
            // itself. Taking it off here too aimed every ray a side panel's width to the left,
            // and neither hover nor paint ever found the skin.
            let ray = camera.viewport_to_world(transform, cursor).ok()?;
            let filter = |e: Entity| e == skin;
            let settings = MeshRayCastSettings::default()
                .with_filter(&filter)
                .with_visibility(RayCastVisibility::Any);
            ray_cast
                .cast_ray(ray, &settings)
                .first()
                .map(|(_, hit)| hit.point)
        })();
        let point = if over_panel { None } else { hit };
        let (Some(surface), Some(point)) = (heat.surface.as_ref(), point) else {
            last.1 = None;
            hover.set_if_neq(HeatHover(None));
            return;
        };
        // Paint while the left button is held.
        if painting.active && mouse.pressed(MouseButton::Left) {
            let value = if painting.erase { 0.0 } else { 1.0 };
            let radius = painting.brush_radius_m;
            let mut drawing = std::mem::take(&mut painting.drawing);
            if drawing::paint(&surface.positions, &mut drawing, point, radius, value) {
                painting.dirty = true;
            }
            painting.drawing = drawing;
        }
        last.1 = nearest_vertex(surface, point);
        last.1
    } else {
        last.1
    };
    let info = (|| {
        let vertex = vertex?;
        let region = heat.surface.as_ref()?.regions[vertex as usize]?;
        let fields = heat.fields.as_ref()?;
        let contributions =
            field::contributions_at(fields, &super::intensities(&shown.state), vertex)
                .into_iter()
                .map(|(source, side, layer, value)| {
                    let label = super::referral_of(&referrals.files, source)
                        .map_or_else(|| source.name().to_owned(), |f| f.label.clone());
                    (label, side, layer, value)
                })
                .collect();
        Some(HoverInfo {
            region,
            contributions,
        })
    })();
    hover.set_if_neq(HeatHover(info));
}

fn nearest_vertex(surface: &SkinSurface, point: Vec3) -> Option<u32> {
    surface
        .positions
        .iter()
        .enumerate()
        .min_by(|a, b| {
            (*a.1 - point)
                .length_squared()
                .total_cmp(&(*b.1 - point).length_squared())
        })
        .map(|(i, _)| i as u32)
}

/// When a stroke ends (or the drawing was cleared or restored): save it and rank the sources.
fn save_and_rank(
    mouse: Res<ButtonInput<MouseButton>>,
    heat: Res<SkinHeat>,
    mut painting: ResMut<Painting>,
) {
    if !painting.dirty || (painting.active && mouse.pressed(MouseButton::Left)) {
        return;
    }
    let (Some(surface), Some(fields)) = (heat.surface.as_ref(), heat.fields.as_ref()) else {
        return;
    };
    painting.dirty = false;
    painting.ranking = if painting.drawing.iter().any(|d| *d > 0.0) {
        field::rank(surface, fields, &painting.drawing)
    } else {
        Vec::new()
    };
    let saved = drawing::save(&painting.path, &painting.drawing, painting.fingerprint);
    if let Err(e) = saved {
        painting.status = Some(format!("Could not save the drawing: {e}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::viewer::WaitingFor;

    /// An off-screen picture waits for the heat map (and has its fields computed) only when
    /// it will show something; a window always does.
    #[test]
    fn an_offscreen_picture_without_heat_skips_the_fields() {
        let folder = crate::viewer::assets_dir().join(data::REFERRAL_FOLDER);
        let (files, errors) = data::load_folder(&folder);
        assert!(errors.is_empty() && !files.is_empty());
        let run = |others: &[&'static str], hot: bool, offscreen: bool| {
            let mut app = App::new();
            app.add_plugins(TaskPoolPlugin::default());
            let mut shown = ShownState::default();
            if hot {
                let piriformis = crate::anatomy::Structure::from_gltf_name("piriformis_r");
                shown
                    .state
                    .get_mut(piriformis.expect("a structure"))
                    .tension_0_to_1 = 0.9;
            }
            let surface = SkinSurface::new(
                vec![Vec3::ZERO, Vec3::X * 0.01, Vec3::Y * 0.01],
                &[0, 1, 2],
                &[0.0, 0.0, 0.0],
            );
            app.insert_resource(SkinHeat {
                surface: Some(Arc::new(surface)),
                ..SkinHeat::default()
            })
            .insert_resource(Referrals {
                files: files.clone(),
                ..Referrals::default()
            })
            .insert_resource(shown)
            .insert_resource(Painting::default())
            .insert_resource(WaitingFor(
                others.iter().copied().chain([WAITING_LABEL]).collect(),
            ))
            .add_systems(Update, (start_precompute, report_readiness).chain());
            if offscreen {
                app.insert_resource(crate::viewer::screenshot::OffscreenShot {
                    out: "unused.png".into(),
                    width_px: 64,
                    height_px: 64,
                    view: crate::viewer::camera::ViewPreset::Posterior,
                    framing: crate::viewer::camera::Framing::default(),
                });
            }
            app.update();
            let waits = app
                .world()
                .resource::<WaitingFor>()
                .0
                .contains(WAITING_LABEL);
            let computes = app.world().resource::<SkinHeat>().task.is_some();
            (waits, computes)
        };
        assert_eq!(run(&[], false, true), (false, false), "nothing hot");
        assert_eq!(
            run(&["scenario"], false, true),
            (true, false),
            "decided later"
        );
        assert_eq!(run(&[], true, true), (true, true), "a hot piriformis");
        assert_eq!(run(&[], false, false), (true, true), "a window");
    }

    /// However the colours change, an overlay draws exactly the triangles that show colour,
    /// and its buffer holds the last colours written.
    #[test]
    fn an_overlay_keeps_drawing_the_triangles_that_show() {
        let indices = vec![0, 1, 2, 2, 1, 3, 3, 4, 5];
        let triangles = OverlayTriangles(Arc::new(indices.clone()));
        let clear = [0.0; 4];
        let mut mesh = Mesh::new(
            bevy::mesh::PrimitiveTopology::TriangleList,
            RenderAssetUsages::default(),
        );
        mesh.insert_attribute(Mesh::ATTRIBUTE_POSITION, vec![[0.0f32; 3]; 6]);
        mesh.insert_indices(Indices::U32(shown_triangles(&indices, &[clear; 6])));
        let mut meshes = Assets::<Mesh>::default();
        let handle = meshes.add(mesh);
        let mut buffers = Assets::<ShaderBuffer>::default();
        let mut shown = OverlayColours {
            buffer: buffers.add(ShaderBuffer::new(
                &colour_bytes(&[clear; 6]),
                RenderAssetUsages::default(),
            )),
            colours: vec![clear; 6],
        };
        let warm = |a: f32| [1.0, 0.5, 0.0, a];
        let steps: [[[f32; 4]; 6]; 5] = [
            [clear, warm(0.2), clear, clear, clear, clear],
            // Brighter, same extent.
            [clear, warm(0.6), clear, clear, clear, clear],
            // Spreads to vertex 4.
            [clear, warm(0.6), clear, clear, warm(0.1), clear],
            // Fades below half an 8-bit step at vertex 1.
            [clear, warm(0.001), clear, clear, warm(0.3), clear],
            [clear; 6],
        ];
        for colours in steps {
            write_overlay(
                &mut meshes,
                &mut buffers,
                &handle,
                &mut shown,
                colours.to_vec(),
                &triangles,
            );
            let Some(Indices::U32(drawn)) = meshes.get(&handle).and_then(|m| m.indices()) else {
                panic!("u32 indices");
            };
            assert_eq!(*drawn, shown_triangles(&indices, &colours), "{colours:?}");
            let buffer = buffers.get(&shown.buffer).expect("the colour buffer");
            assert_eq!(buffer.data, Some(colour_bytes(&colours)), "{colours:?}");
            assert_eq!(shown.colours, colours.to_vec());
        }
        assert_eq!(colour_bytes(&[[1.0, 0.0, 0.5, 0.25]]).len(), 16);
    }

    #[test]
    fn overlays_draw_only_triangles_with_colour() {
        let indices = [0, 1, 2, 2, 1, 3, 3, 4, 5];
        let clear = [0.0; 4];
        let mut colours = vec![clear; 6];
        // Nothing shows: one degenerate triangle keeps the mesh valid.
        assert_eq!(shown_triangles(&indices, &colours), vec![0, 0, 0]);
        // One visible vertex keeps every triangle that uses it, whole.
        colours[1] = [1.0, 0.0, 0.0, 0.2];
        assert_eq!(shown_triangles(&indices, &colours), vec![0, 1, 2, 2, 1, 3]);
        // Below half an 8-bit step is invisible.
        colours[1][3] = 0.001;
        colours[5][3] = 0.01;
        assert_eq!(shown_triangles(&indices, &colours), vec![3, 4, 5]);
    }
}
