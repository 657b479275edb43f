//! What a scenario adds to the model: trigger points that pulse where the sources put them,
//! pulses that run down the nerve from where it is squeezed, and the relief tools where they
//! press. Positions come from the anatomy data and the loaded meshes ([`super::markers`]);
//! these systems spawn the entities once and then move them. Animation is by transform only,
//! so nothing is written to a material or mesh asset in frames where the levels hold still.

use std::collections::BTreeMap;

use bevy::mesh::VertexAttributeValues;
use bevy::picking::Pickable;
use bevy::prelude::*;

use super::file::ToolKind;
use super::markers::{self, PlacementInputs, ToolPlacement};
use super::{ActiveScenario, ScenarioClock, Scenarios, ShownState};
use crate::anatomy::{Layer, Side, Structure, StructureKind};
use crate::modelgen::data::Anatomy;
use crate::posture::kinematics::{Pose, RigJoint};
use crate::posture::plugin::{Postures, ShownPosture};
use crate::viewer::ViewerSystems;
use crate::viewer::layers::LayerSettings;
use crate::viewer::model::{ModelState, StructureTag};

/// Below this tension a trigger point is not shown.
pub const TRIGGER_POINT_MIN_TENSION: f32 = 0.3;
/// Trigger points pulse this many times a second (slow, calm).
pub const TRIGGER_POINT_PULSE_HZ: f32 = 0.6;
/// Below this compression no pulses run.
pub const PULSE_MIN_COMPRESSION: f32 = 0.05;
/// Pulses on one nerve at a time.
pub const PULSES_PER_NERVE: usize = 6;
/// Pulse speed down the leg at no and at full compression, metres per second.
pub const PULSE_SPEED_M_PER_S: (f32, f32) = (0.08, 0.3);
/// How far away the tool waits before it presses, metres.
pub const TOOL_APPROACH_M: f32 = 0.06;
/// Largest rocking tilt of the pressure pad, radians.
pub const ROCKING_TILT_RAD: f32 = 0.14;

/// A trigger point marker.
#[derive(Component, Clone, Copy, Debug)]
pub struct TriggerPointMarker {
    /// The muscle (with side) it lies in.
    pub muscle: Structure,
    /// Where it lies in the standing pose (model frame, metres).
    pub rest_m: Vec3,
}

/// A nerve pulse.
#[derive(Component, Clone, Copy, Debug)]
pub struct NervePulse {
    /// Which nerve.
    pub side: Side,
    /// Its place in the train (0 … [`PULSES_PER_NERVE`]).
    pub index: usize,
}

/// The relief tool being shown, with its placement.
#[derive(Component, Clone, Copy, Debug)]
pub struct ReliefTool {
    /// The scenario it belongs to... by tool kind and side.
    pub kind: ToolKind,
    /// Where it presses.
    pub placement: ToolPlacement,
    /// Rocking frequency (Hz).
    pub rocking_hz: f32,
}

/// The pressure marker: an arrow that shows where and how hard the tool presses.
#[derive(Component, Clone, Copy, Debug)]
pub struct PressureMarker;

/// Geometry computed once from the anatomy data and the loaded model.
#[derive(Resource, Default)]
pub struct EffectGeometry {
    /// Trigger points: muscle and world position.
    pub trigger_points: Vec<(Structure, Vec3)>,
    /// The path pulses run along, per side (from under the piriformis down the leg).
    pub pulse_paths: BTreeMap<Side, Vec<Vec3>>,
    /// World vertices of the structures tools are placed by.
    vertices: BTreeMap<Structure, Vec<Vec3>>,
    built: bool,
}

/// Materials the effects share (their glow is set when levels change, not per frame).
#[derive(Resource)]
struct EffectMaterials {
    trigger_point: Handle<StandardMaterial>,
    pulses: BTreeMap<Side, Handle<StandardMaterial>>,
    marker_mesh: Handle<Mesh>,
    pulse_mesh: Handle<Mesh>,
    tool: Handle<StandardMaterial>,
    pressure: Handle<StandardMaterial>,
}

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<EffectGeometry>()
        .add_systems(Startup, create_materials)
        .add_systems(
            Update,
            (
                build_geometry,
                spawn_markers,
                update_glow,
                animate_trigger_points,
                animate_pulses,
                spawn_tools,
                animate_tools,
            )
                .chain()
                .in_set(ViewerSystems::Present),
        );
}

fn glow_material(colour: Color) -> StandardMaterial {
    StandardMaterial {
        base_color: colour,
        emissive: LinearRgba::BLACK,
        unlit: false,
        perceptual_roughness: 0.4,
        ..default()
    }
}

fn create_materials(
    mut commands: Commands,
    materials: Option<ResMut<Assets<StandardMaterial>>>,
    meshes: Option<ResMut<Assets<Mesh>>>,
) {
    let (Some(mut materials), Some(mut meshes)) = (materials, meshes) else {
        return;
    };
    commands.insert_resource(EffectMaterials {
        trigger_point: materials.add(glow_material(Color::srgb(1.0, 0.55, 0.25))),
        pulses: [Side::Left, Side::Right]
            .into_iter()
            .map(|side| {
                (
                    side,
                    materials.add(glow_material(Color::srgb(1.0, 0.93, 0.55))),
                )
            })
            .collect(),
        marker_mesh: meshes.add(Sphere::new(0.006).mesh().uv(16, 10)),
        pulse_mesh: meshes.add(Capsule3d::new(0.0065, 0.012).mesh()),
        // Translucent, so the muscle it presses on stays in view.
        tool: materials.add(StandardMaterial {
            base_color: Color::srgba(0.36, 0.62, 0.70, 0.55),
            alpha_mode: AlphaMode::Blend,
            perceptual_roughness: 0.5,
            ..default()
        }),
        pressure: materials.add(StandardMaterial {
            base_color: Color::srgb(0.98, 0.85, 0.35),
            emissive: LinearRgba::rgb(0.5, 0.35, 0.05),
            ..default()
        }),
    });
}

fn world_vertices(mesh: &Mesh, to_world: &GlobalTransform) -> Vec<Vec3> {
    match mesh.attribute(Mesh::ATTRIBUTE_POSITION) {
        Some(VertexAttributeValues::Float32x3(positions)) => positions
            .iter()
            .map(|p| to_world.transform_point(Vec3::from(*p)))
            .collect(),
        _ => Vec::new(),
    }
}

/// Once the model is ready: trigger points on the muscles' surfaces, the pulse paths, and
/// the vertices the tools are placed by.
fn build_geometry(
    mut geometry: ResMut<EffectGeometry>,
    model: Res<ModelState>,
    scenarios: Res<Scenarios>,
    tagged: Query<(&StructureTag, &Mesh3d, &GlobalTransform)>,
    meshes: Res<Assets<Mesh>>,
) {
    if geometry.built || !matches!(*model, ModelState::Ready { .. }) {
        return;
    }
    let mut vertices: BTreeMap<Structure, Vec<Vec3>> = BTreeMap::new();
    for (tag, mesh, transform) in &tagged {
        let Some(mesh) = meshes.get(&mesh.0) else {
            return; // not loaded yet: try next frame
        };
        vertices
            .entry(tag.0)
            .or_default()
            .extend(world_vertices(mesh, transform));
    }
    let anatomy_path = crate::viewer::assets_dir()
        .join("anatomy")
        .join("rajagopal2016.ron");
    let anatomy = match Anatomy::load(&anatomy_path) {
        Ok(a) => Some(a),
        Err(e) => {
            warn!("{e}: no trigger points or nerve pulses");
            None
        }
    };
    geometry.trigger_points.clear();
    geometry.pulse_paths.clear();
    if let Some(anatomy) = &anatomy {
        for side in [Side::Left, Side::Right] {
            for point in &scenarios.trigger_points.points {
                let muscle = Structure {
                    kind: point.muscle.0,
                    side,
                };
                let Ok(path) = anatomy.muscle_path(&point.path, side) else {
                    continue;
                };
                let line: Vec<Vec3> = path.iter().map(|p| p.position_m).collect();
                let Some((on_line, _)) = markers::point_along(&line, point.along.get()) else {
                    continue;
                };
                // On the muscle's surface nearest to that point of its line.
                let surface = vertices
                    .get(&muscle)
                    .and_then(|v| markers::nearest(v, on_line))
                    .unwrap_or(on_line);
                geometry.trigger_points.push((muscle, surface));
            }
            let trunk = anatomy
                .nerve_branch("sciatic_trunk", side)
                .map(|b| b.iter().map(|p| p.position_m).collect::<Vec<_>>())
                .unwrap_or_default();
            let tibial = anatomy
                .nerve_branch("tibial", side)
                .map(|b| b.iter().map(|p| p.position_m).collect::<Vec<_>>())
                .unwrap_or_default();
            let crossing = crate::modelgen::soft::nerve_crossing(anatomy, side).ok();
            let mut path: Vec<Vec3> = trunk.into_iter().chain(tibial).collect();
            if let Some(crossing) = crossing {
                path = markers::from_nearest(&path, crossing);
            }
            if path.len() >= 2 {
                geometry.pulse_paths.insert(side, path);
            }
        }
    }
    geometry.vertices = vertices;
    geometry.built = true;
}

fn spawn_markers(
    mut commands: Commands,
    mut geometry: ResMut<EffectGeometry>,
    materials: Option<Res<EffectMaterials>>,
    existing: Query<(), Or<(With<TriggerPointMarker>, With<NervePulse>)>>,
    mut done: Local<bool>,
) {
    let Some(materials) = materials else { return };
    if *done || !geometry.built || !existing.is_empty() {
        return;
    }
    for (muscle, position) in &geometry.trigger_points {
        commands.spawn((
            Name::new(format!("trigger point ({muscle})")),
            TriggerPointMarker {
                muscle: *muscle,
                rest_m: *position,
            },
            Mesh3d(materials.marker_mesh.clone()),
            MeshMaterial3d(materials.trigger_point.clone()),
            Transform::from_translation(*position),
            Visibility::Hidden,
            Pickable::IGNORE,
        ));
    }
    for side in geometry.pulse_paths.keys().copied().collect::<Vec<_>>() {
        for index in 0..PULSES_PER_NERVE {
            commands.spawn((
                Name::new(format!("nerve pulse {index} ({side:?})")),
                NervePulse { side, index },
                Mesh3d(materials.pulse_mesh.clone()),
                MeshMaterial3d(materials.pulses[&side].clone()),
                Transform::default(),
                Visibility::Hidden,
                Pickable::IGNORE,
            ));
        }
    }
    geometry.set_changed();
    *done = true;
}

/// Sets the pulses' and trigger points' glow from the levels (only when they change).
fn update_glow(
    shown: Res<ShownState>,
    materials: Option<Res<EffectMaterials>>,
    mut assets: Option<ResMut<Assets<StandardMaterial>>>,
) {
    let (Some(materials), Some(assets)) = (materials, assets.as_mut()) else {
        return;
    };
    if !shown.is_changed() {
        return;
    }
    for (side, handle) in &materials.pulses {
        let compression = nerve_compression(&shown, *side);
        let glow = super::look::scaled(LinearRgba::rgb(1.6, 1.2, 0.3), 0.4 + 0.6 * compression);
        if let Some(current) = assets.get(handle)
            && current.emissive != glow
            && let Some(mut m) = assets.get_mut(handle)
        {
            m.emissive = glow;
        }
    }
    let hottest = shown
        .state
        .iter()
        .filter(|(s, _)| s.layer() == Layer::Muscles)
        .map(|(_, l)| l.tension_0_to_1)
        .fold(0.0, f32::max);
    let glow = super::look::scaled(LinearRgba::rgb(1.2, 0.45, 0.1), 0.3 + 0.7 * hottest);
    if let Some(current) = assets.get(&materials.trigger_point)
        && current.emissive != glow
        && let Some(mut m) = assets.get_mut(&materials.trigger_point)
    {
        m.emissive = glow;
    }
}

fn nerve_compression(shown: &ShownState, side: Side) -> f32 {
    shown
        .state
        .get(Structure {
            kind: StructureKind::SciaticNerve,
            side,
        })
        .compression_0_to_1
}

/// The pulse scale of a trigger point at `now_s` for a muscle at `tension`: a slow breath.
pub fn trigger_point_scale(tension_0_to_1: f32, now_s: f64) -> f32 {
    let phase = (now_s * f64::from(TRIGGER_POINT_PULSE_HZ)).fract() as f32;
    let wave = 0.5 - 0.5 * (std::f32::consts::TAU * phase).cos();
    1.0 + tension_0_to_1 * (0.6 + 0.8 * wave)
}

/// The rig's pose now (the standing pose without the posture plugin) and the hip centres.
fn current_pose(
    shown: Option<&ShownPosture>,
    postures: Option<&Postures>,
) -> Option<(Pose, [Vec3; 2])> {
    let model = postures?.model.as_ref()?;
    let posture = shown.map(|s| s.posture).unwrap_or_default();
    Some((model.pose(&posture), model.skeleton.hip_centres_m))
}

/// A rest-pose point near the hip moved with the pose: with the pelvis above the hip centre,
/// with the thigh below it, blended from 2 cm above to 4 cm below so a path does not kink.
pub fn posed_near_hip(rest_m: Vec3, side: Side, pose: &Pose, hip_centres_m: [Vec3; 2]) -> Vec3 {
    let hip = if side == Side::Left {
        hip_centres_m[0]
    } else {
        hip_centres_m[1]
    };
    let t = ((hip.y - rest_m.y + 0.02) / 0.06).clamp(0.0, 1.0);
    let thigh_share = t * t * (3.0 - 2.0 * t);
    let with_pelvis = pose.of(RigJoint::Pelvis).transform_point3(rest_m);
    let with_thigh = pose.of(RigJoint::Femur(side)).transform_point3(rest_m);
    with_pelvis.lerp(with_thigh, thigh_share)
}

fn animate_trigger_points(
    shown: Res<ShownState>,
    clock: Res<ScenarioClock>,
    layers: Res<LayerSettings>,
    shown_posture: Option<Res<ShownPosture>>,
    postures: Option<Res<Postures>>,
    mut markers: Query<(&TriggerPointMarker, &mut Transform, &mut Visibility)>,
) {
    // The trigger points lie in the buttock and hip muscles: they move with the pelvis.
    let pelvis = current_pose(shown_posture.as_deref(), postures.as_deref())
        .map(|(pose, _)| pose.of(RigJoint::Pelvis));
    let muscles_visible = layers.get(Layer::Muscles).visible;
    for (marker, mut transform, mut visibility) in &mut markers {
        let tension = shown.state.get(marker.muscle).tension_0_to_1;
        let show = muscles_visible && tension >= TRIGGER_POINT_MIN_TENSION;
        visibility.set_if_neq(if show {
            Visibility::Inherited
        } else {
            Visibility::Hidden
        });
        if show {
            let scale = Vec3::splat(trigger_point_scale(tension, clock.now_s));
            if transform.scale != scale {
                transform.scale = scale;
            }
            let at = pelvis.map_or(marker.rest_m, |m| m.transform_point3(marker.rest_m));
            if transform.translation != at {
                transform.translation = at;
            }
        }
    }
}

/// Where pulse `index` of `count` is along a path `length_m` long at `now_s`, as a fraction:
/// evenly spaced, moving down the leg at a speed that rises with compression.
pub fn pulse_fraction(
    index: usize,
    count: usize,
    compression_0_to_1: f32,
    length_m: f32,
    now_s: f64,
) -> f32 {
    let (slow, fast) = PULSE_SPEED_M_PER_S;
    let speed = slow + (fast - slow) * compression_0_to_1.clamp(0.0, 1.0);
    let travelled = now_s * f64::from(speed) / f64::from(length_m.max(1e-3));
    ((travelled + index as f64 / count.max(1) as f64).fract()) as f32
}

fn animate_pulses(
    shown: Res<ShownState>,
    clock: Res<ScenarioClock>,
    layers: Res<LayerSettings>,
    geometry: Res<EffectGeometry>,
    shown_posture: Option<Res<ShownPosture>>,
    postures: Option<Res<Postures>>,
    mut pulses: Query<(&NervePulse, &mut Transform, &mut Visibility)>,
) {
    // The paths were taken in the standing pose: move them with the hips.
    let pose = current_pose(shown_posture.as_deref(), postures.as_deref());
    let posed_paths: BTreeMap<Side, Vec<Vec3>> = geometry
        .pulse_paths
        .iter()
        .map(|(side, path)| {
            let posed = match &pose {
                Some((pose, hips)) => path
                    .iter()
                    .map(|p| posed_near_hip(*p, *side, pose, *hips))
                    .collect(),
                None => path.clone(),
            };
            (*side, posed)
        })
        .collect();
    let nerves_visible = layers.get(Layer::Nerves).visible;
    for (pulse, mut transform, mut visibility) in &mut pulses {
        let compression = nerve_compression(&shown, pulse.side);
        let Some(path) = posed_paths.get(&pulse.side) else {
            continue;
        };
        let show = nerves_visible && compression >= PULSE_MIN_COMPRESSION;
        visibility.set_if_neq(if show {
            Visibility::Inherited
        } else {
            Visibility::Hidden
        });
        if !show {
            continue;
        }
        let length = markers::polyline_length(path);
        let f = pulse_fraction(
            pulse.index,
            PULSES_PER_NERVE,
            compression,
            length,
            clock.now_s,
        );
        if let Some((position, direction)) = markers::point_along(path, f) {
            // Brighter pulses are also a little bigger; they fade in and out at the ends.
            let ends = (f / 0.08).min((1.0 - f) / 0.15).clamp(0.0, 1.0);
            let wanted = Transform {
                translation: position,
                rotation: Quat::from_rotation_arc(Vec3::Y, direction),
                scale: Vec3::splat((0.8 + 0.5 * compression) * ends.max(0.05)),
            };
            if *transform != wanted {
                *transform = wanted;
            }
        }
    }
}

/// Spawns the active relief scenario's tool (and removes another scenario's).
fn spawn_tools(
    mut commands: Commands,
    active: Res<ActiveScenario>,
    scenarios: Res<Scenarios>,
    geometry: Res<EffectGeometry>,
    materials: Option<Res<EffectMaterials>>,
    mut meshes: Option<ResMut<Assets<Mesh>>>,
    tools: Query<(Entity, &ReliefTool)>,
    mut shown_for: Local<Option<(String, bool)>>,
) {
    let (Some(materials), Some(meshes)) = (materials, meshes.as_mut()) else {
        return;
    };
    if !geometry.built {
        return;
    }
    let relief = if active.custom.is_none() {
        scenarios
            .library
            .get(&active.id)
            .and_then(|s| s.relief.clone())
    } else {
        None
    };
    let key = (active.id.clone(), relief.is_some());
    if shown_for.as_ref() == Some(&key) {
        return;
    }
    for (entity, _) in &tools {
        commands.entity(entity).despawn();
    }
    *shown_for = Some(key);
    let Some(relief) = relief else { return };
    let side: Side = relief.side.into();
    let of = |kind| {
        geometry
            .vertices
            .get(&Structure { kind, side })
            .map_or(&[][..], Vec::as_slice)
    };
    let skin = geometry
        .vertices
        .get(&Structure {
            kind: StructureKind::Skin,
            side: Side::Midline,
        })
        .map_or(&[][..], Vec::as_slice);
    let inputs = PlacementInputs {
        skin,
        piriformis: of(StructureKind::Piriformis),
        iliacus: of(StructureKind::Iliacus),
        si_joint: of(StructureKind::SacroiliacJoint),
    };
    let Some(placement) = markers::place_tool(relief.tool, &inputs) else {
        warn!("cannot place the {:?} on this model", relief.tool);
        return;
    };
    let tool_mesh = match relief.tool {
        ToolKind::MassageHump => meshes.add(Sphere::new(0.04).mesh().uv(32, 18)),
        ToolKind::PressurePad => meshes.add(Cylinder::new(0.032, 0.014).mesh().resolution(32)),
        ToolKind::HookedTool => {
            // Built in the tool's own frame: the tip at the origin.
            let lateral = Vec3::X * side.gltf_x_sign();
            let line = markers::hook_centre_line(Vec3::ZERO, placement.press_dir, lateral);
            let (positions, normals, indices) = markers::tube(&line, 0.007, 12);
            meshes.add(
                Mesh::new(
                    bevy::mesh::PrimitiveTopology::TriangleList,
                    bevy::asset::RenderAssetUsages::default(),
                )
                .with_inserted_attribute(
                    Mesh::ATTRIBUTE_POSITION,
                    positions.iter().map(|p| p.to_array()).collect::<Vec<_>>(),
                )
                .with_inserted_attribute(
                    Mesh::ATTRIBUTE_NORMAL,
                    normals.iter().map(|n| n.to_array()).collect::<Vec<_>>(),
                )
                .with_inserted_indices(bevy::mesh::Indices::U32(indices)),
            )
        }
    };
    // The hump and the pad are flattened along the press direction (local Y after the
    // rotation); the hook's mesh is already in place around its tip.
    let (scale, centre_offset_m) = match relief.tool {
        ToolKind::MassageHump => (Vec3::new(1.2, 0.75, 1.0), 0.04 * 0.75),
        ToolKind::PressurePad => (Vec3::ONE, 0.007),
        ToolKind::HookedTool => (Vec3::ONE, 0.0),
    };
    let rotation = match relief.tool {
        ToolKind::HookedTool => Quat::IDENTITY,
        _ => placement.outward_rotation(),
    };
    let arrow_mesh = meshes.add(Cone::new(0.009, 0.024).mesh());
    let out = -placement.press_dir;
    commands
        .spawn((
            Name::new(format!("relief tool {:?}", relief.tool)),
            ReliefTool {
                kind: relief.tool,
                placement,
                rocking_hz: relief.rocking_hz.get(),
            },
            Transform::from_translation(placement.contact_m),
            Visibility::Hidden,
        ))
        .with_children(|root| {
            root.spawn((
                Mesh3d(tool_mesh),
                MeshMaterial3d(materials.tool.clone()),
                Transform {
                    translation: out * centre_offset_m,
                    rotation,
                    scale,
                },
                Pickable::IGNORE,
            ));
            // The pressure marker: an arrow outside the body pointing where the tool presses.
            root.spawn((
                PressureMarker,
                Mesh3d(arrow_mesh),
                MeshMaterial3d(materials.pressure.clone()),
                Transform {
                    translation: out * 0.075,
                    rotation: Quat::from_rotation_arc(Vec3::Y, placement.press_dir),
                    scale: Vec3::ONE,
                },
                Pickable::IGNORE,
            ));
        });
}

/// Moves the tool in as the pressure rises and out as it lifts; rocks the pad; pulses the
/// arrow with the pressure.
fn animate_tools(
    shown: Res<ShownState>,
    clock: Res<ScenarioClock>,
    mut tools: Query<(&ReliefTool, &mut Transform, &mut Visibility), Without<PressureMarker>>,
    mut arrows: Query<&mut Transform, With<PressureMarker>>,
) {
    let pressure = shown.pressure_0_to_1;
    for (tool, mut transform, mut visibility) in &mut tools {
        visibility.set_if_neq(if pressure > 0.01 {
            Visibility::Inherited
        } else {
            Visibility::Hidden
        });
        let away = -tool.placement.press_dir * (1.0 - pressure) * TOOL_APPROACH_M;
        let tilt = if tool.rocking_hz > 0.0 {
            let phase = (clock.now_s * f64::from(tool.rocking_hz)).fract() as f32;
            ROCKING_TILT_RAD * pressure * (std::f32::consts::TAU * phase).sin()
        } else {
            0.0
        };
        let axis = tool.placement.press_dir.any_orthonormal_vector();
        let wanted = Transform {
            translation: tool.placement.contact_m + away,
            rotation: Quat::from_axis_angle(axis, tilt),
            scale: Vec3::ONE,
        };
        if *transform != wanted {
            *transform = wanted;
        }
    }
    let beat = (clock.now_s * 1.2).fract() as f32;
    let scale =
        Vec3::splat((0.6 + 0.6 * pressure) * (1.0 + 0.15 * (std::f32::consts::TAU * beat).sin()));
    for mut arrow in &mut arrows {
        if arrow.scale != scale {
            arrow.scale = scale;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pulse_paths_follow_the_thigh_below_the_hip_and_the_pelvis_above_it() {
        let assets = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
        let model = crate::posture::PostureModel::load(&assets).unwrap();
        let hips = model.skeleton.hip_centres_m;
        let hip_r = hips[1];
        let above = hip_r + Vec3::new(0.0, 0.05, -0.05);
        let below = hip_r + Vec3::new(0.0, -0.15, -0.03);
        // Standing: nothing moves.
        let standing = model.pose(&Default::default());
        for p in [above, below] {
            assert!((posed_near_hip(p, Side::Right, &standing, hips) - p).length() < 1e-5);
        }
        // Sitting (hips at 90°): below the hip the path turns with the thigh, staying as far
        // from the hip centre; above it, it stays with the pelvis.
        let sitting = model.pose(
            &model
                .data
                .posture(crate::posture::kinematics::PostureId::Sitting),
        );
        let moved_below = posed_near_hip(below, Side::Right, &sitting, hips);
        let thigh = sitting
            .of(RigJoint::Femur(Side::Right))
            .transform_point3(below);
        assert!((moved_below - thigh).length() < 1e-5);
        assert!(
            (moved_below - below).length() > 0.1,
            "did not follow the thigh"
        );
        let moved_above = posed_near_hip(above, Side::Right, &sitting, hips);
        let pelvis = sitting.of(RigJoint::Pelvis).transform_point3(above);
        assert!((moved_above - pelvis).length() < 1e-5);
    }

    #[test]
    fn pulses_run_down_faster_with_more_compression() {
        let at = |c, t| pulse_fraction(0, 6, c, 0.5, t);
        assert_eq!(at(0.5, 0.0), 0.0);
        // Moving away from the crossing (down the leg).
        assert!(at(0.5, 0.5) > at(0.5, 0.1));
        assert!(at(1.0, 0.5) > at(0.2, 0.5));
        // Evenly spaced.
        let spacing = pulse_fraction(1, 6, 0.5, 0.5, 0.0) - pulse_fraction(0, 6, 0.5, 0.5, 0.0);
        assert!((spacing - 1.0 / 6.0).abs() < 1e-6);
        assert!((0.0..1.0).contains(&at(1.0, 1000.0)));
    }

    #[test]
    fn trigger_points_breathe_with_tension() {
        assert_eq!(trigger_point_scale(0.0, 0.3), 1.0);
        let calm = trigger_point_scale(0.5, 1.0 / f64::from(TRIGGER_POINT_PULSE_HZ) / 2.0);
        let tight = trigger_point_scale(1.0, 1.0 / f64::from(TRIGGER_POINT_PULSE_HZ) / 2.0);
        assert!(tight > calm && calm > 1.0);
    }
}
