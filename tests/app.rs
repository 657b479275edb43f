//! ECS tests without a renderer: the viewer's plugins on `MinimalPlugins` + the asset and glTF
//! plugins, run on the bundled model. The interactive app adds a window without winit, real
//! input messages, Bevy's mesh picking and the orbit camera, so pointer and keyboard input go
//! through the same systems as in the window. Plus the egui panel (`egui_kittest`) and the
//! CLI's argument and model errors (no GPU needed).
#![expect(
    clippy::unwrap_used,
    reason = "test code: a failed unwrap is a failed test, with its message"
)]

mod common;

use std::path::Path;
use std::time::Duration;

use bevy::camera::CameraPlugin;
use bevy::image::ImagePlugin;
use bevy::input::ButtonState;
use bevy::input::InputPlugin;
use bevy::input::keyboard::{Key, KeyboardInput, NativeKey};
use bevy::input::mouse::{MouseButtonInput, MouseMotion, MouseScrollUnit, MouseWheel};
use bevy::input::touch::TouchPhase;
use bevy::mesh::{MeshPlugin, VertexAttributeValues};
use bevy::picking::DefaultPickingPlugins;
use bevy::prelude::*;
use bevy::render::camera::camera_system;
use bevy::render::storage::ShaderBuffer;
use bevy::render::texture::ManualTextureViews;
use bevy::time::TimeUpdateStrategy;
use bevy::window::{CursorMoved, PrimaryWindow, WindowEvent, WindowResolution};
use bevy::world_serialization::WorldSerializationPlugin;
use bevy_panorbit_camera::PanOrbitCamera;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

use common::{assert_one_line_error, bundled_model, model_without, temp_dir};
use hipback::anatomy::NerveVariant;
use hipback::anatomy::{Layer, Side, SkinRegion, Structure};
use hipback::files::FileErrorKind;
use hipback::viewer::actions::{Action, HelpOpen};
use hipback::viewer::camera::{
    FOCUS_BOUND_RADIUS_M, Framing, MainCamera, PELVIS_FOCUS, StartView, ViewPreset, ZOOM_MAX_M,
    ZOOM_MIN_M, framing_for_box,
};
use hipback::viewer::layers::{LayerSettings, XRAY_OPACITY_0_TO_1};
use hipback::viewer::model::{
    ATTRIBUTE_SKIN_REGION, ModelSource, ModelState, NerveVariantTag, StructureTag,
};
use hipback::viewer::picking::Selection;
use hipback::viewer::ui::{PanelCommand, PanelState, SelectionCard, help_ui, panel_ui};
use hipback::viewer::{self, asset_plugin, core_plugin};

/// The viewer core on a renderer-less app, loading `model`.
fn core_app(model: &Path) -> App {
    let mut app = App::new();
    app.add_plugins((
        MinimalPlugins,
        TransformPlugin,
        asset_plugin(),
        WorldSerializationPlugin,
        MeshPlugin,
        viewer::model::gltf_plugin(),
    ))
    .init_asset::<StandardMaterial>()
    .insert_resource(ModelSource {
        path: model.to_path_buf(),
    })
    .add_plugins(core_plugin);
    app.finish();
    app.cleanup();
    app
}

const WINDOW_PX: (u32, u32) = (640, 480);
/// Simulated frame time: deterministic, so the orbit camera's easing is repeatable.
const FRAME: Duration = Duration::from_millis(50);

/// The viewer as the window app runs it, minus the renderer: a primary window (no winit),
/// keyboard and mouse input, Bevy's mesh picking and the orbit camera at `start`.
fn interactive_app(start: ViewPreset) -> App {
    interactive_app_with(start, |_| {})
}

/// [`interactive_app`] with more plugins added by `extra` before the app is finished.
fn interactive_app_with(start: ViewPreset, extra: impl FnOnce(&mut App)) -> App {
    let mut app = App::new();
    app.add_plugins((
        MinimalPlugins,
        TransformPlugin,
        InputPlugin,
        WindowPlugin {
            primary_window: Some(Window {
                resolution: WindowResolution::new(WINDOW_PX.0, WINDOW_PX.1),
                ..default()
            }),
            exit_condition: bevy::window::ExitCondition::DontExit,
            ..default()
        },
        asset_plugin(),
        ImagePlugin::default(),
        WorldSerializationPlugin,
        MeshPlugin,
        viewer::model::gltf_plugin(),
        CameraPlugin,
        // Bevy's picking pipeline; the ray casts are the app's own (viewer::pick_proxy).
        DefaultPickingPlugins,
    ))
    .init_asset::<StandardMaterial>()
    // The renderer's camera system computes viewports and projections; it needs no GPU.
    .init_resource::<ManualTextureViews>()
    .add_systems(
        PostUpdate,
        camera_system.before(TransformSystems::Propagate),
    )
    .init_resource::<bevy_egui::input::EguiWantsInput>()
    .insert_resource(TimeUpdateStrategy::ManualDuration(FRAME))
    .insert_resource(ModelSource {
        path: bundled_model(),
    })
    .insert_resource(StartView(start))
    .add_plugins((core_plugin, viewer::camera::orbit_plugin))
    .add_systems(Startup, viewer::spawn_window_camera);
    extra(&mut app);
    app.finish();
    app.cleanup();
    app
}

/// Runs the app until the model is ready or has failed.
fn load(app: &mut App) -> ModelState {
    for _ in 0..5_000 {
        app.update();
        let state = app.world().resource::<ModelState>().clone();
        if state != ModelState::Loading {
            // A few more frames so commands issued by the observer (tags, materials) apply
            // and bounds, visibility and the camera are computed.
            for _ in 0..3 {
                app.update();
            }
            return state;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("model still loading after 5000 frames");
}

fn load_ready(app: &mut App) {
    let state = load(app);
    assert!(matches!(state, ModelState::Ready { .. }), "{state:?}");
}

/// The tagged entities of the structures (not the nerve's other courses).
fn tagged(app: &mut App) -> Vec<(Entity, Structure)> {
    let mut query = app
        .world_mut()
        .query_filtered::<(Entity, &StructureTag), Without<NerveVariantTag>>();
    query
        .iter(app.world())
        .map(|(entity, tag)| (entity, tag.0))
        .collect()
}

fn entity_of(app: &mut App, name: &str) -> Entity {
    let structure = Structure::from_gltf_name(name).unwrap();
    tagged(app)
        .into_iter()
        .find(|(_, s)| *s == structure)
        .map(|(e, _)| e)
        .unwrap()
}

fn material_of(app: &mut App, entity: Entity) -> StandardMaterial {
    let handle = app
        .world()
        .get::<MeshMaterial3d<StandardMaterial>>(entity)
        .unwrap_or_else(|| panic!("{entity} has no material (was the model respawned?)"))
        .0
        .clone();
    app.world()
        .resource::<Assets<StandardMaterial>>()
        .get(&handle)
        .unwrap()
        .clone()
}

/// A structure's vertices in world space (rest pose), read from the loaded mesh.
fn world_vertices(app: &mut App, name: &str) -> Vec<Vec3> {
    let entity = entity_of(app, name);
    let handle = app.world().get::<Mesh3d>(entity).unwrap().0.clone();
    let to_world = *app.world().get::<GlobalTransform>(entity).unwrap();
    let meshes = app.world().resource::<Assets<Mesh>>();
    let Some(VertexAttributeValues::Float32x3(positions)) = meshes
        .get(&handle)
        .unwrap()
        .attribute(Mesh::ATTRIBUTE_POSITION)
    else {
        panic!("{name}: no positions");
    };
    positions
        .iter()
        .map(|p| to_world.transform_point(Vec3::from(*p)))
        .collect()
}

/// The mean of a structure's vertices in world space.
fn world_centre(app: &mut App, name: &str) -> Vec3 {
    let vertices = world_vertices(app, name);
    vertices.iter().copied().sum::<Vec3>() / vertices.len() as f32
}

/// A structure's world-space bounding box (min, max).
fn world_box(app: &mut App, name: &str) -> (Vec3, Vec3) {
    world_vertices(app, name)
        .into_iter()
        .fold((Vec3::MAX, Vec3::MIN), |(lo, hi), p| (lo.min(p), hi.max(p)))
}

#[test]
fn loading_the_bundled_model_tags_every_structure() {
    let mut app = core_app(&bundled_model());
    load_ready(&mut app);
    let mut q = app
        .world_mut()
        .query::<(&StructureTag, Option<&NerveVariantTag>)>();
    let tagged: Vec<(Structure, Option<NerveVariant>)> = q
        .iter(app.world())
        .map(|(t, v)| (t.0, v.map(|v| v.0)))
        .collect();
    for structure in Structure::all() {
        let count = tagged
            .iter()
            .filter(|(s, v)| *s == structure && v.is_none())
            .count();
        assert_eq!(count, 1, "{structure}: {count} entities tagged");
    }
    // The nerve's other courses carry the nerve's tag and their type.
    for side in [Side::Left, Side::Right] {
        for variant in NerveVariant::EXTRA {
            let nerve = Structure {
                kind: hipback::anatomy::StructureKind::SciaticNerve,
                side,
            };
            assert!(
                tagged.contains(&(nerve, Some(variant))),
                "{variant:?} {side:?} missing"
            );
        }
    }
    assert_eq!(tagged.len(), Structure::all().len() + 4);
}

/// Choosing a course of the nerve shows it on both sides and hides the others; they all
/// follow the nerve's state (the `compressed` morph data arrives in Bevy as in the file).
#[test]
fn nerve_variants_are_hidden_until_chosen() {
    let mut app = core_app(&bundled_model());
    load_ready(&mut app);
    let shown = |app: &mut App| {
        let mut q = app
            .world_mut()
            .query::<(&StructureTag, Option<&NerveVariantTag>, &Visibility)>();
        let mut out: Vec<(Side, NerveVariant)> = q
            .iter(app.world())
            .filter(|(t, _, v)| {
                t.0.kind == hipback::anatomy::StructureKind::SciaticNerve
                    && **v != Visibility::Hidden
            })
            .map(|(t, variant, _)| (t.0.side, variant.map_or(NerveVariant::A, |v| v.0)))
            .collect();
        out.sort();
        out
    };
    assert_eq!(
        shown(&mut app),
        vec![
            (Side::Left, NerveVariant::A),
            (Side::Right, NerveVariant::A)
        ]
    );
    for variant in NerveVariant::ALL {
        app.insert_resource(viewer::layers::ShownNerveVariant(variant));
        app.update();
        assert_eq!(
            shown(&mut app),
            vec![(Side::Left, variant), (Side::Right, variant)],
            "{variant:?}"
        );
        // Everything else stays as the layers say.
        let mut q = app.world_mut().query::<(&StructureTag, &Visibility)>();
        for (tag, visibility) in q.iter(app.world()) {
            if tag.0.kind != hipback::anatomy::StructureKind::SciaticNerve {
                assert_ne!(
                    *visibility,
                    Visibility::Hidden,
                    "{} hidden with {variant:?}",
                    tag.0
                );
            }
        }
    }
    // The morph targets (stored sparse in the file) arrive whole.
    let model = common::glb::load(&bundled_model());
    let mut q = app
        .world_mut()
        .query::<(&StructureTag, Option<&NerveVariantTag>, &Mesh3d)>();
    let nerves: Vec<(String, Handle<Mesh>)> = q
        .iter(app.world())
        .filter(|(t, _, _)| t.0.kind == hipback::anatomy::StructureKind::SciaticNerve)
        .map(|(t, v, m)| {
            let name = v.map_or_else(|| t.0.gltf_name(), |v| v.0.gltf_name(t.0.side));
            (name, m.0.clone())
        })
        .collect();
    assert_eq!(nerves.len(), 6);
    for (name, handle) in nerves {
        let meshes = app.world().resource::<Assets<Mesh>>();
        let targets = meshes.get(&handle).unwrap().morph_targets().unwrap();
        let in_file = &model.mesh(&name).morph;
        assert_eq!(targets.len(), in_file.len(), "{name}");
        let worst = targets
            .iter()
            .zip(in_file)
            .map(|(t, f)| (t.position - *f).length())
            .fold(0.0, f32::max);
        let largest = in_file.iter().map(|d| d.length()).fold(0.0, f32::max);
        assert!(worst < 1e-6, "{name}: morph differs by {worst} m");
        assert!(largest > 0.002, "{name}: morph too small ({largest} m)");
    }
}

/// The `_REGION` attribute Bevy loads equals the file's, value by value.
#[test]
fn the_skin_regions_arrive_in_bevy_exactly_as_in_the_file() {
    let bytes = std::fs::read(bundled_model()).unwrap();
    let gltf = gltf::Gltf::from_slice(&bytes).unwrap();
    let blob = gltf.blob.clone().unwrap();
    let skin_mesh = gltf
        .document
        .meshes()
        .find(|m| m.name() == Some("skin"))
        .unwrap();
    let primitive = skin_mesh.primitives().next().unwrap();
    let (_, accessor) = primitive
        .attributes()
        .find(|(s, _)| *s == gltf::Semantic::Extras("REGION".into()))
        .expect("the skin carries _REGION");
    let in_file: Vec<f32> = gltf::accessor::Iter::<f32>::new(accessor, |_| Some(&blob[..]))
        .unwrap()
        .collect();

    let mut app = core_app(&bundled_model());
    load_ready(&mut app);
    let skin = entity_of(&mut app, "skin");
    let handle = app.world().get::<Mesh3d>(skin).unwrap().0.clone();
    let meshes = app.world().resource::<Assets<Mesh>>();
    let mesh = meshes.get(&handle).unwrap();
    let Some(VertexAttributeValues::Float32(loaded)) = mesh.attribute(ATTRIBUTE_SKIN_REGION) else {
        panic!("skin has no region attribute");
    };
    assert_eq!(loaded.len(), in_file.len());
    let differing = loaded.iter().zip(&in_file).filter(|(a, b)| a != b).count();
    assert_eq!(differing, 0, "{differing} region labels changed on load");
    // And every label names a region.
    let count = SkinRegion::all().len() as f32;
    assert!(
        loaded
            .iter()
            .all(|r| r.fract() == 0.0 && (0.0..count).contains(r))
    );
}

#[test]
fn a_missing_structure_gives_a_clear_error() {
    let path = model_without("piriformis_l", &temp_dir("missing"));
    let expected = format!(
        "{}: incomplete model: missing structure `piriformis_l`",
        path.display()
    );

    // The file check (used by the CLI before Bevy starts).
    let err = viewer::model::validate_model_file(&path).unwrap_err();
    assert!(err.to_string().starts_with(&expected), "{err}");

    // The ECS load.
    let mut app = core_app(&path);
    let state = load(&mut app);
    let ModelState::Failed(err) = state else {
        panic!("expected an incomplete model, got {state:?}");
    };
    assert_eq!(err.kind, FileErrorKind::Incomplete, "{err}");
    assert_eq!(err.to_string(), expected);
}

#[test]
fn a_layer_toggle_hides_exactly_that_layer() {
    let mut app = core_app(&bundled_model());
    load_ready(&mut app);
    for layer in Layer::ALL {
        let mut settings = LayerSettings::default();
        settings.get_mut(layer).visible = false;
        app.insert_resource(settings);
        app.update();
        let mut query = app
            .world_mut()
            .query_filtered::<(&StructureTag, &Visibility), Without<NerveVariantTag>>();
        for (tag, visibility) in query.iter(app.world()) {
            let hidden = *visibility == Visibility::Hidden;
            assert_eq!(
                hidden,
                tag.0.layer() == layer,
                "{} with {layer:?} off",
                tag.0
            );
        }
    }
}

/// Opacity sliders, x-ray and isolate change the structures' actual materials.
#[test]
fn opacity_xray_and_isolate_act_on_the_materials() {
    let mut app = core_app(&bundled_model());
    load_ready(&mut app);
    let glute = entity_of(&mut app, "gluteus_maximus_l");
    let femur = entity_of(&mut app, "femur_l");
    let before = material_of(&mut app, glute);
    assert_eq!(before.base_color.alpha(), 1.0);
    assert_eq!(before.alpha_mode, AlphaMode::Opaque);

    // The opacity slider.
    app.world_mut()
        .resource_mut::<LayerSettings>()
        .get_mut(Layer::Muscles)
        .opacity_0_to_1 = 0.5;
    app.update();
    let half = material_of(&mut app, glute);
    assert!((half.base_color.alpha() - 0.5).abs() < 1e-6);
    assert_eq!(half.alpha_mode, AlphaMode::Blend);
    assert_eq!(material_of(&mut app, femur).base_color.alpha(), 1.0);

    // X-ray caps the opacity.
    app.world_mut()
        .resource_mut::<LayerSettings>()
        .get_mut(Layer::Muscles)
        .xray = true;
    app.update();
    let xray = material_of(&mut app, glute);
    assert!((xray.base_color.alpha() - XRAY_OPACITY_0_TO_1).abs() < 1e-6);

    // Isolate: only the selection is drawn, solid and highlighted.
    app.world_mut().resource_mut::<Selection>().selected =
        Structure::from_gltf_name("gluteus_maximus_l");
    app.world_mut()
        .resource_mut::<LayerSettings>()
        .isolate_selection = true;
    app.update();
    let isolated = material_of(&mut app, glute);
    assert_eq!(isolated.base_color.alpha(), 1.0);
    assert_ne!(isolated.emissive, before.emissive, "no selection highlight");
    assert_eq!(
        app.world().get::<Visibility>(femur),
        Some(&Visibility::Hidden)
    );
    assert_eq!(
        app.world().get::<Visibility>(glute),
        Some(&Visibility::Inherited)
    );
}

/// Each key of the action table does what the help says, through the real input systems.
#[test]
fn every_keyboard_shortcut_does_what_the_help_says() {
    let mut app = interactive_app(ViewPreset::Posterior);
    load_ready(&mut app);
    // Key presses arrive as winit reports them: `KeyboardInput` messages.
    let press = |app: &mut App, key: KeyCode| {
        let window = primary_window(app);
        for state in [ButtonState::Pressed, ButtonState::Released] {
            app.world_mut().write_message(KeyboardInput {
                key_code: key,
                logical_key: Key::Unidentified(NativeKey::Unidentified),
                state,
                text: None,
                repeat: false,
                window,
            });
            app.update();
        }
    };
    let layers = |app: &App| app.world().resource::<LayerSettings>().clone();
    let camera_target = |app: &mut App| {
        let mut q = app
            .world_mut()
            .query_filtered::<&PanOrbitCamera, With<MainCamera>>();
        let c = q.single(app.world()).unwrap();
        (
            c.target_yaw,
            c.target_pitch,
            c.target_focus,
            c.target_radius,
        )
    };
    for action in Action::all() {
        for key in action.keys() {
            let before_layers = layers(&app);
            let before_camera = camera_target(&mut app);
            match action {
                Action::View(preset) => {
                    // Start from another view so the move is visible.
                    let other = if preset == ViewPreset::Anterior {
                        KeyCode::Digit2
                    } else {
                        KeyCode::Digit1
                    };
                    press(&mut app, other);
                    press(&mut app, *key);
                    let (yaw, pitch, _, _) = camera_target(&mut app);
                    assert_eq!((yaw, pitch), preset.yaw_pitch_rad(), "{key:?}");
                }
                Action::ToggleLayer(layer) => {
                    press(&mut app, *key);
                    assert_eq!(
                        layers(&app).get(layer).visible,
                        !before_layers.get(layer).visible,
                        "{key:?}"
                    );
                    press(&mut app, *key);
                    assert_eq!(layers(&app), before_layers, "{key:?} twice");
                }
                Action::XrayMuscles => {
                    press(&mut app, *key);
                    assert!(layers(&app).get(Layer::Muscles).xray, "{key:?}");
                    press(&mut app, *key);
                    assert!(!layers(&app).get(Layer::Muscles).xray, "{key:?} twice");
                }
                Action::IsolateSelection => {
                    press(&mut app, *key);
                    assert!(layers(&app).isolate_selection, "{key:?}");
                    press(&mut app, *key);
                    assert!(!layers(&app).isolate_selection, "{key:?} twice");
                }
                Action::FocusSelection => {
                    app.world_mut().resource_mut::<Selection>().selected =
                        Structure::from_gltf_name("piriformis_r");
                    press(&mut app, *key);
                    let (_, _, focus, radius) = camera_target(&mut app);
                    let (lo, hi) = world_box(&mut app, "piriformis_r");
                    let centre = (lo + hi) * 0.5;
                    assert!((focus - centre).length() < 0.01, "{key:?}: {focus}");
                    assert!(radius < before_camera.3, "{key:?}: radius {radius}");
                }
                Action::ResetView => {
                    press(&mut app, KeyCode::Digit1);
                    press(&mut app, *key);
                    let (yaw, pitch, focus, radius) = camera_target(&mut app);
                    assert_eq!((yaw, pitch), ViewPreset::Posterior.yaw_pitch_rad());
                    assert_eq!((focus, radius), {
                        let f = Framing::default();
                        (f.focus, f.radius_m)
                    });
                }
                Action::ToggleHelp => {
                    press(&mut app, *key);
                    assert!(app.world().resource::<HelpOpen>().0, "{key:?}");
                    press(&mut app, *key);
                    assert!(!app.world().resource::<HelpOpen>().0, "{key:?} twice");
                }
                Action::Dismiss => {
                    app.world_mut().resource_mut::<Selection>().selected =
                        Structure::from_gltf_name("sacrum");
                    app.world_mut().resource_mut::<HelpOpen>().0 = true;
                    press(&mut app, *key);
                    assert!(!app.world().resource::<HelpOpen>().0, "Esc keeps the help");
                    assert!(app.world().resource::<Selection>().selected.is_some());
                    press(&mut app, *key);
                    assert_eq!(app.world().resource::<Selection>().selected, None);
                }
                // Scenario and posture actions are tested with the scenarios and postures.
                Action::PlayPause
                | Action::NextScenario
                | Action::PreviousScenario
                | Action::NextPosture => {}
            }
        }
    }
}

/// Moves the pointer to `position` (logical window pixels), as winit reports it.
fn move_pointer(app: &mut App, position: Vec2) {
    let window = primary_window(app);
    let mut w = app.world_mut().get_mut::<Window>(window).unwrap();
    let last = w.cursor_position();
    w.set_cursor_position(Some(position));
    let moved = CursorMoved {
        window,
        position,
        delta: last.map(|l| position - l),
    };
    app.world_mut()
        .write_message(WindowEvent::CursorMoved(moved.clone()));
    app.world_mut().write_message(moved);
    if let Some(last) = last {
        app.world_mut().write_message(MouseMotion {
            delta: position - last,
        });
    }
    app.update();
}

fn mouse_button(app: &mut App, button: MouseButton, state: ButtonState) {
    let window = primary_window(app);
    let input = MouseButtonInput {
        button,
        state,
        window,
    };
    app.world_mut()
        .write_message(WindowEvent::MouseButtonInput(input));
    app.world_mut().write_message(input);
    app.update();
}

fn click(app: &mut App, position: Vec2) {
    move_pointer(app, position);
    mouse_button(app, MouseButton::Left, ButtonState::Pressed);
    mouse_button(app, MouseButton::Left, ButtonState::Released);
    app.update();
}

fn primary_window(app: &mut App) -> Entity {
    let mut q = app
        .world_mut()
        .query_filtered::<Entity, With<PrimaryWindow>>();
    q.single(app.world()).unwrap()
}

/// Where a world point appears in the window (logical pixels), with the app's camera.
fn project(app: &mut App, point: Vec3) -> Vec2 {
    let mut q = app
        .world_mut()
        .query_filtered::<(&Camera, &GlobalTransform), With<MainCamera>>();
    let (camera, transform) = q.single(app.world()).unwrap();
    camera.world_to_viewport(transform, point).unwrap()
}

fn settle(app: &mut App, frames: usize) {
    for _ in 0..frames {
        app.update();
    }
}

/// Hover highlights and click selects through the faint skin, with Bevy's mesh picking on
/// real pointer input; moving off the model removes the highlight.
#[test]
fn pointer_input_hovers_and_selects_through_the_skin() {
    let mut app = interactive_app(ViewPreset::Posterior);
    load_ready(&mut app);
    settle(&mut app, 5);
    assert!(
        app.world()
            .resource::<LayerSettings>()
            .get(Layer::Skin)
            .visible,
        "the skin must be visible for this test"
    );
    let glute = entity_of(&mut app, "gluteus_maximus_l");
    let plain = material_of(&mut app, glute);
    // The middle of the buttock: from behind, gluteus maximus covers it.
    let target = world_centre(&mut app, "gluteus_maximus_l");
    let pixel = project(&mut app, target);
    // From behind, the subject's left is on the image's left.
    assert!(
        pixel.x < WINDOW_PX.0 as f32 / 2.0,
        "left buttock at {pixel}"
    );

    move_pointer(&mut app, pixel);
    app.update();
    let hovered = Structure::from_gltf_name("gluteus_maximus_l");
    assert_eq!(app.world().resource::<Selection>().hovered, hovered);
    let highlighted = material_of(&mut app, glute);
    assert_ne!(
        highlighted.emissive, plain.emissive,
        "hover did not highlight"
    );

    click(&mut app, pixel);
    assert_eq!(app.world().resource::<Selection>().selected, hovered);

    // Off the model: the hover ends and its highlight with it (the selection stays).
    move_pointer(&mut app, Vec2::new(5.0, 5.0));
    app.update();
    assert_eq!(app.world().resource::<Selection>().hovered, None);
    assert_eq!(app.world().resource::<Selection>().selected, hovered);
    let mut other = app.world().resource::<Selection>().to_owned();
    other.selected = None;
    app.insert_resource(other);
    app.update();
    assert_eq!(material_of(&mut app, glute).emissive, plain.emissive);
}

/// X-rayed muscles no longer catch the pointer: a click where the buttock is selects what
/// lies behind it.
#[test]
fn xrayed_muscles_let_clicks_through() {
    let mut app = interactive_app(ViewPreset::Posterior);
    load_ready(&mut app);
    settle(&mut app, 5);
    // Gluteus medius covers the outer ilium, and from behind gluteus maximus covers part of
    // it: aim at the point of the ilium nearest the middle of gluteus medius, which the
    // muscles cover from behind.
    let medius = world_centre(&mut app, "gluteus_medius_r");
    let target = world_vertices(&mut app, "hip_bone_r")
        .into_iter()
        .min_by(|a, b| a.distance(medius).total_cmp(&b.distance(medius)))
        .unwrap();
    let pixel = project(&mut app, target);
    click(&mut app, pixel);
    let solid = app.world().resource::<Selection>().selected.unwrap();
    assert_eq!(solid.layer(), Layer::Muscles, "hit {solid}");
    assert_eq!(solid.side, Side::Right, "hit {solid}");

    app.world_mut()
        .resource_mut::<LayerSettings>()
        .get_mut(Layer::Muscles)
        .xray = true;
    app.update();
    app.world_mut().resource_mut::<Selection>().selected = None;
    click(&mut app, pixel);
    let through = app.world().resource::<Selection>().selected;
    let through = through.expect("nothing behind the muscles caught the click");
    assert_eq!(through.layer(), Layer::Bones, "hit {through}");
}

/// The camera's pose relative to its focus.
fn camera_offset(app: &mut App) -> Vec3 {
    let mut q = app
        .world_mut()
        .query_filtered::<(&Transform, &PanOrbitCamera), With<MainCamera>>();
    let (transform, orbit) = q.single(app.world()).unwrap();
    transform.translation - orbit.focus
}

fn act(app: &mut App, action: Action) {
    app.world_mut().write_message(action);
    settle(app, 80);
}

/// Presets look from the side their names say, with the side read from the model itself.
#[test]
fn presets_reset_and_focus_move_the_running_camera() {
    let mut app = interactive_app(ViewPreset::Posterior);
    load_ready(&mut app);
    settle(&mut app, 5);
    // Directions read from the model, not from the camera code: the subject's left is where
    // `hip_bone_l` lies, and the front is away from the sacrum.
    let left_hip = world_centre(&mut app, "hip_bone_l");
    let right_hip = world_centre(&mut app, "hip_bone_r");
    let sacrum = world_centre(&mut app, "sacrum");
    let to_left = (left_hip - right_hip).normalize();
    let pelvis_front = ((left_hip + right_hip) * 0.5 - sacrum)
        .reject_from(Vec3::Y)
        .normalize();

    // Start view: from behind.
    let offset = camera_offset(&mut app);
    assert!(offset.normalize().dot(-pelvis_front) > 0.95, "{offset}");

    act(&mut app, Action::View(ViewPreset::Left));
    let offset = camera_offset(&mut app).normalize();
    assert!(offset.dot(to_left) > 0.95, "Left view camera at {offset}");

    act(&mut app, Action::View(ViewPreset::Right));
    let offset = camera_offset(&mut app).normalize();
    assert!(offset.dot(-to_left) > 0.95, "Right view camera at {offset}");

    act(&mut app, Action::View(ViewPreset::Oblique));
    let offset = camera_offset(&mut app).normalize();
    assert!(
        offset.dot(-to_left) > 0.4 && offset.dot(-pelvis_front) > 0.4 && offset.y > 0.0,
        "Oblique camera at {offset}: not behind, right and above"
    );

    act(&mut app, Action::View(ViewPreset::Anterior));
    let offset = camera_offset(&mut app).normalize();
    assert!(
        offset.dot(pelvis_front) > 0.95,
        "Anterior camera at {offset}"
    );

    act(&mut app, Action::View(ViewPreset::Superior));
    assert!(camera_offset(&mut app).normalize().y > 0.95);

    // Focus on the selection frames it.
    app.world_mut().resource_mut::<Selection>().selected = Structure::from_gltf_name("femur_r");
    act(&mut app, Action::FocusSelection);
    let (lo, hi) = world_box(&mut app, "femur_r");
    let mut q = app.world_mut().query::<&PanOrbitCamera>();
    let orbit = *q.single(app.world()).unwrap();
    let box_centre = (lo + hi) * 0.5;
    assert!(
        (orbit.focus - box_centre).length() < 0.02,
        "focus {} vs femur box centre {box_centre}",
        orbit.focus
    );
    let radius = orbit.radius.unwrap();
    let (lo, hi) = world_box(&mut app, "femur_r");
    let framing = framing_for_box(lo, hi);
    assert!((radius - framing.radius_m).abs() < 0.02, "radius {radius}");

    // Reset: back to the start view and framing.
    act(&mut app, Action::ResetView);
    let offset = camera_offset(&mut app);
    assert!(offset.normalize().dot(-pelvis_front) > 0.95, "{offset}");
    let mut q = app.world_mut().query::<&PanOrbitCamera>();
    let orbit = q.single(app.world()).unwrap();
    assert!((orbit.focus - PELVIS_FOCUS).length() < 0.01);
}

/// Scrolling and panning with the mouse stay within the zoom and focus limits.
#[test]
fn zoom_and_pan_stay_within_their_limits() {
    let mut app = interactive_app(ViewPreset::Posterior);
    load_ready(&mut app);
    settle(&mut app, 5);
    let centre = Vec2::new(WINDOW_PX.0 as f32 / 2.0, WINDOW_PX.1 as f32 / 2.0);
    move_pointer(&mut app, centre);
    let window = primary_window(&mut app);
    let scroll = |app: &mut App, lines: f32| {
        for _ in 0..40 {
            app.world_mut().write_message(MouseWheel {
                unit: MouseScrollUnit::Line,
                x: 0.0,
                y: lines,
                window,
                phase: TouchPhase::Moved,
            });
            app.update();
        }
        settle(app, 60);
        let mut q = app.world_mut().query::<&PanOrbitCamera>();
        q.single(app.world()).unwrap().radius.unwrap()
    };
    let closest = scroll(&mut app, 5.0);
    assert!(
        (closest - ZOOM_MIN_M).abs() < 0.01,
        "zoomed in to {closest} m"
    );
    let farthest = scroll(&mut app, -5.0);
    assert!(
        (farthest - ZOOM_MAX_M).abs() < 0.05,
        "zoomed out to {farthest} m"
    );

    // A long right-drag pans; the focus stays within its bound around the pelvis.
    mouse_button(&mut app, MouseButton::Right, ButtonState::Pressed);
    for i in 0..60 {
        move_pointer(&mut app, centre + Vec2::new(-8.0 * i as f32 % 300.0, 0.0));
    }
    mouse_button(&mut app, MouseButton::Right, ButtonState::Released);
    settle(&mut app, 60);
    let mut q = app.world_mut().query::<&PanOrbitCamera>();
    let orbit = q.single(app.world()).unwrap();
    let moved = (orbit.focus - PELVIS_FOCUS).length();
    assert!(moved > 0.05, "the drag did not pan ({moved} m)");
    assert!(
        moved <= FOCUS_BOUND_RADIUS_M + 1e-3,
        "panned {moved} m from the pelvis"
    );
}

#[test]
fn panel_layer_toggle_and_view_preset() {
    let mut harness = Harness::new_ui_state(panel_ui, PanelState::default());
    assert!(harness.state().layers.get(Layer::Muscles).visible);
    harness.get_by_label("Muscles").click();
    harness.run();
    assert!(!harness.state().layers.get(Layer::Muscles).visible);
    assert!(harness.state().layers.get(Layer::Bones).visible);

    for preset in ViewPreset::ALL {
        harness.get_by_label(preset.label()).click();
        harness.run();
        assert_eq!(
            harness.state().commands.last(),
            Some(&PanelCommand::Action(Action::View(preset))),
        );
    }
}

#[test]
fn the_panel_switches_the_course_of_the_nerve() {
    let mut harness = Harness::new_ui_state(panel_ui, PanelState::default());
    harness
        .get_by_label("Sciatic nerve: how it passes the piriformis")
        .click();
    harness.run();
    harness.get_by_label(NerveVariant::B.label()).click();
    harness.run();
    assert_eq!(harness.state().nerve_variant, NerveVariant::B);
}

#[test]
fn panel_shows_the_selection_with_sources_and_the_help_lists_every_key() {
    let content =
        hipback::content::ContentTable::from_file(&viewer::default_content_path()).unwrap();
    let nerve = Structure::from_gltf_name("sciatic_nerve_l").unwrap();
    let state = PanelState {
        selection: Some(SelectionCard::new(nerve, &content)),
        ..PanelState::default()
    };
    let mut harness = Harness::new_ui_state(panel_ui, state);
    harness.get_by_label("Sciatic nerve (left)");
    harness.get_by_label_contains("runs under the piriformis");
    assert!(harness.query_all_by_label_contains("Source: ").count() >= 2);
    harness.get_by_label("Clear").click();
    harness.run();
    assert!(
        harness
            .state()
            .commands
            .contains(&PanelCommand::ClearSelection)
    );

    let harness = Harness::new_ui(help_ui);
    for action in Action::all() {
        harness.get_by_label(&action.key_label());
        harness.get_by_label(&action.label());
    }
    // The keys the README promises.
    for key in ["Esc", "? / F1", "R / Home", "1", "6", "X", "I"] {
        harness.get_by_label(key);
    }
}

/// The hip bones really lie where the vocabulary says the subject's left and right are.
#[test]
fn the_model_puts_the_subjects_left_at_plus_x() {
    let mut app = core_app(&bundled_model());
    load_ready(&mut app);
    for (name, side) in [
        ("hip_bone_l", Side::Left),
        ("hip_bone_r", Side::Right),
        ("femur_l", Side::Left),
        ("piriformis_r", Side::Right),
    ] {
        let centre = world_centre(&mut app, name);
        assert!(
            centre.x * side.gltf_x_sign() > 0.03,
            "{name} is centred at x = {}",
            centre.x
        );
    }
}

fn hipback() -> std::process::Command {
    common::hipback(env!("CARGO_BIN_EXE_hipback"))
}

#[test]
fn cli_reports_bad_input_in_one_line_with_exit_code_2() {
    let output = hipback()
        .args(["validate", "--model", "/nonexistent/pelvis.glb"])
        .output()
        .unwrap();
    assert_one_line_error(&output, "/nonexistent/pelvis.glb: cannot read");

    let dir = temp_dir("cli");
    let garbage = dir.join("garbage.glb");
    std::fs::write(&garbage, b"hello").unwrap();
    let output = hipback()
        .args(["screenshot", "--out", "/tmp/x.png", "--model"])
        .arg(&garbage)
        .output()
        .unwrap();
    assert_one_line_error(
        &output,
        "garbage.glb:1:1: not a valid glTF 2.0 model: expected value",
    );

    let incomplete = model_without("sciatic_nerve_r", &dir);
    let output = hipback()
        .arg("validate")
        .arg("--model")
        .arg(&incomplete)
        .output()
        .unwrap();
    assert_one_line_error(&output, "missing structure `sciatic_nerve_r`");

    let output = hipback()
        .args(["screenshot", "--out", "/tmp/x.png", "--size", "big"])
        .output()
        .unwrap();
    assert_one_line_error(&output, "--size");

    let output = hipback()
        .args(["screenshot", "--out", "/nonexistent-folder/x.png"])
        .output()
        .unwrap();
    assert_one_line_error(&output, "/nonexistent-folder/x.png: folder does not exist");

    let output = hipback().args(["--view", "sideways"]).output().unwrap();
    assert_one_line_error(&output, "sideways");

    // The window needs a display; without one it says so before touching the GPU.
    let output = hipback().env_remove("DISPLAY").output().unwrap();
    assert_one_line_error(&output, "no display");

    let output = hipback().arg("validate").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("ok: all 35 structures"));
}

#[test]
fn help_and_version_exit_0() {
    for args in [&["--help"][..], &["screenshot", "--help"], &["--version"]] {
        let output = hipback().args(args).output().unwrap();
        assert!(output.status.success(), "{args:?}: {output:?}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("hipback"), "{args:?}: {stdout}");
    }
}

// ---------------------------------------------------------------------------------------
// Scenarios: the plugin on the renderer-less app, with deterministic time.

use bevy::mesh::morph::{MeshMorphWeights, MorphWeights};
use hipback::scenario::file::FILE_SUFFIX;
use hipback::scenario::state::SWITCH_DURATION_S;
use hipback::scenario::{
    ActiveScenario, SaveStatus, ScenarioCommand, ScenarioOptions, Scenarios, ShownState,
};

const BUILTIN_IDS: [&str; 9] = [
    "healthy",
    "tight_piriformis",
    "weak_glutes",
    "tight_iliopsoas",
    "si_joint_dysfunction",
    "gluteus_minimus_pseudosciatica",
    "figure_four_stretch",
    "iliacus_release",
    "si_pressure_rocking",
];

/// Counts writes to material and mesh assets (each write re-uploads them to the GPU).
#[derive(Resource, Default)]
struct AssetWrites {
    materials: usize,
    meshes: usize,
    /// The heat overlays' colour buffers.
    buffers: usize,
    /// Morph weights (muscles' tension, the skin's posture correctives), per entity and frame.
    morph_weights: usize,
}

fn count_asset_writes(
    mut materials: MessageReader<AssetEvent<StandardMaterial>>,
    mut meshes: MessageReader<AssetEvent<Mesh>>,
    mut buffers: MessageReader<AssetEvent<ShaderBuffer>>,
    morphs: Query<(), Changed<MorphWeights>>,
    mut writes: ResMut<AssetWrites>,
) {
    writes.morph_weights += morphs.iter().count();
    writes.buffers += buffers
        .read()
        .filter(|e| matches!(e, AssetEvent::Modified { .. }))
        .count();
    writes.materials += materials
        .read()
        .filter(|e| matches!(e, AssetEvent::Modified { .. }))
        .count();
    writes.meshes += meshes
        .read()
        .filter(|e| matches!(e, AssetEvent::Modified { .. }))
        .count();
}

/// The viewer core plus the scenario plugin, starting in `start`, with `user_dir` as the
/// user's scenario folder and 50 ms frames.
fn scenario_app(start: &str, user_dir: &Path) -> App {
    scenario_app_with(start, user_dir, ())
}

/// [`scenario_app`], with more plugins (the heat map, the posture).
fn scenario_app_with<M>(start: &str, user_dir: &Path, extra: impl bevy::app::Plugins<M>) -> App {
    let mut app = App::new();
    app.add_plugins((
        MinimalPlugins,
        TransformPlugin,
        asset_plugin(),
        WorldSerializationPlugin,
        MeshPlugin,
        viewer::model::gltf_plugin(),
    ))
    .init_asset::<StandardMaterial>()
    .init_asset::<ShaderBuffer>()
    .insert_resource(TimeUpdateStrategy::ManualDuration(FRAME))
    .insert_resource(ModelSource {
        path: bundled_model(),
    })
    .insert_resource(ScenarioOptions {
        user_dir: user_dir.to_path_buf(),
        ..ScenarioOptions::window(start, false)
    })
    .init_resource::<AssetWrites>()
    .add_systems(Last, count_asset_writes)
    .add_plugins((core_plugin, hipback::scenario::plugin))
    .add_plugins(extra);
    app.finish();
    app.cleanup();
    app
}

/// Loads the model and the scenario files.
fn load_scenarios(app: &mut App) {
    load_ready(app);
    for _ in 0..2_000 {
        app.update();
        if app.world().resource::<Scenarios>().pending == 0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(
        app.world().resource::<Scenarios>().pending,
        0,
        "files still loading"
    );
}

fn shown(app: &App, name: &str) -> hipback::scenario::state::StructureState {
    app.world()
        .resource::<ShownState>()
        .state
        .get(Structure::from_gltf_name(name).unwrap())
}

fn select(app: &mut App, id: &str) {
    app.world_mut()
        .write_message(ScenarioCommand::Select(id.to_owned()));
}

/// The node weights of a structure's morph targets.
fn morph_weights(app: &mut App, name: &str) -> Vec<f32> {
    let entity = entity_of(app, name);
    let Some(MeshMorphWeights::Reference(node)) = app.world().get::<MeshMorphWeights>(entity)
    else {
        panic!("{name} has no morph weights reference");
    };
    let node = *node;
    app.world()
        .get::<MorphWeights>(node)
        .unwrap()
        .weights()
        .to_vec()
}

/// The node weight of a structure's single morph target.
fn morph_weight(app: &mut App, name: &str) -> f32 {
    morph_weights(app, name)[0]
}

#[test]
fn every_builtin_scenario_loads_through_the_asset_loader() {
    let user = temp_dir("scenarios-builtin");
    let mut app = scenario_app("healthy", &user);
    load_scenarios(&mut app);
    let scenarios = app.world().resource::<Scenarios>();
    assert!(scenarios.errors().is_empty(), "{:?}", scenarios.errors());
    let ids: Vec<&str> = scenarios
        .library
        .sorted()
        .iter()
        .map(|s| s.id.0.as_str())
        .collect();
    assert_eq!(ids, BUILTIN_IDS, "the list order");
    for id in BUILTIN_IDS {
        let s = scenarios.library.get(id).unwrap();
        assert!(!s.citations.is_empty(), "{id}: no citations");
        assert!(!s.card.what_you_see.is_empty(), "{id}");
        assert_eq!(
            s.relief.is_some(),
            id.contains("stretch") || id.contains("release") || id.contains("rocking"),
            "{id}"
        );
    }
    assert!(!scenarios.compensation.is_empty());
    assert!(!scenarios.trigger_points.points.is_empty());
}

/// Switching eases every value over the set time, stays in 0–1 and arrives exactly; the
/// morph weights and materials on the entities follow.
#[test]
fn switching_eases_in_and_the_model_follows() {
    let user = temp_dir("scenarios-ease");
    let mut app = scenario_app("healthy", &user);
    load_scenarios(&mut app);
    settle(&mut app, 20);
    assert_eq!(shown(&app, "piriformis_r").tension_0_to_1, 0.0);
    let target = app
        .world()
        .resource::<Scenarios>()
        .library
        .get("tight_piriformis")
        .unwrap()
        .structures
        .0[&Structure::from_gltf_name("piriformis_r").unwrap()]
        .tension
        .get();
    select(&mut app, "tight_piriformis");
    let frames = (SWITCH_DURATION_S / FRAME.as_secs_f32()).ceil() as usize;
    let mut last = 0.0;
    let mut steps = Vec::new();
    for _ in 0..frames + 2 {
        app.update();
        let p = shown(&app, "piriformis_r").tension_0_to_1;
        for (_, l) in app.world().resource::<ShownState>().state.iter() {
            assert!(l.values().iter().all(|v| (0.0..=1.0).contains(v)));
        }
        assert!(p >= last - 1e-6, "went back from {last} to {p}");
        steps.push(p - last);
        last = p;
    }
    assert!(
        (last - target).abs() < 1e-6,
        "arrived at {last}, not {target}"
    );
    // No pop: no single frame moves more than a fifth of the way.
    let largest = steps.iter().copied().fold(0.0, f32::max);
    assert!(largest < 0.2 * target, "a frame jumped by {largest}");
    // Halfway through it is partway.
    let mut app2 = scenario_app("healthy", &user);
    load_scenarios(&mut app2);
    select(&mut app2, "tight_piriformis");
    settle(&mut app2, frames / 2);
    let mid = shown(&app2, "piriformis_r").tension_0_to_1;
    assert!(mid > 0.1 * target && mid < 0.9 * target, "halfway at {mid}");

    // The entities follow: morph weights and materials.
    settle(&mut app, 2);
    assert!((morph_weight(&mut app, "piriformis_r") - target).abs() < 1e-6);
    assert_eq!(morph_weight(&mut app, "piriformis_l"), 0.0);
    let compression = shown(&app, "sciatic_nerve_r").compression_0_to_1;
    assert!(compression > 0.3);
    assert!((morph_weight(&mut app, "sciatic_nerve_r") - compression).abs() < 1e-6);
    let piriformis = entity_of(&mut app, "piriformis_r");
    let colour = material_of(&mut app, piriformis).base_color.to_srgba();
    let atlas = viewer::look::atlas_colour(Structure::from_gltf_name("piriformis_r").unwrap());
    let wanted = hipback::scenario::look::muscle_colour(atlas, target, 0.0);
    assert!(
        (colour.red - wanted.red).abs() < 1e-4 && (colour.green - wanted.green).abs() < 1e-4,
        "{colour:?} vs {wanted:?}"
    );
    let left = entity_of(&mut app, "piriformis_l");
    assert_eq!(material_of(&mut app, left).base_color.to_srgba(), atlas);
    // The story fades what hides the piriformis, on the right only.
    let faded = &app.world().resource::<viewer::layers::FadedStructures>().0;
    assert!(faded.contains(&Structure::from_gltf_name("gluteus_maximus_r").unwrap()));
    assert!(!faded.contains(&Structure::from_gltf_name("gluteus_maximus_l").unwrap()));
    let glute_r = entity_of(&mut app, "gluteus_maximus_r");
    let glute_l = entity_of(&mut app, "gluteus_maximus_l");
    assert_eq!(
        material_of(&mut app, glute_r).base_color.alpha(),
        XRAY_OPACITY_0_TO_1,
        "the right buttock muscle is not faded"
    );
    assert_eq!(material_of(&mut app, glute_l).base_color.alpha(), 1.0);
}

/// Once the state has arrived, 100 frames write no material, no mesh and no morph weights
/// (each write is a GPU upload), with the scenario, the heat map, the posture (sitting, so the
/// skin's correctives are in), trigger points and nerve pulses all running; the pulses keep
/// moving.
#[test]
fn nothing_is_written_in_frames_where_nothing_changed() {
    let user = temp_dir("scenarios-writes");
    let mut app = scenario_app_with(
        "tight_piriformis",
        &user,
        (
            hipback::referral::plugin::plugin,
            hipback::posture::plugin::plugin,
        ),
    );
    load_scenarios(&mut app);
    wait_for_heat(&mut app);
    app.world_mut()
        .write_message(PostureCommand::Select(PostureId::Sitting));
    settle(&mut app, 40);
    assert_eq!(morph_weights(&mut app, "skin")[0], 1.0, "not sitting");
    let pulse_before: Vec<Vec3> = {
        let mut q = app
            .world_mut()
            .query_filtered::<&Transform, With<hipback::scenario::effects::NervePulse>>();
        q.iter(app.world()).map(|t| t.translation).collect()
    };
    assert!(!pulse_before.is_empty(), "no nerve pulses");
    *app.world_mut().resource_mut::<AssetWrites>() = AssetWrites::default();
    settle(&mut app, 100);
    let writes = app.world().resource::<AssetWrites>();
    assert_eq!(
        (
            writes.materials,
            writes.meshes,
            writes.buffers,
            writes.morph_weights
        ),
        (0, 0, 0, 0),
        "assets or morph weights written while nothing changed"
    );
    let pulse_after: Vec<Vec3> = {
        let mut q = app
            .world_mut()
            .query_filtered::<&Transform, With<hipback::scenario::effects::NervePulse>>();
        q.iter(app.world()).map(|t| t.translation).collect()
    };
    assert_ne!(pulse_before, pulse_after, "the pulses did not move");
    // A change writes again.
    select(&mut app, "healthy");
    settle(&mut app, 3);
    let writes = app.world().resource::<AssetWrites>();
    assert!(writes.materials > 0 && writes.morph_weights > 0);
}

fn write_scenario(dir: &Path, id: &str, body: &str) -> std::path::PathBuf {
    let path = dir.join(format!("{id}{FILE_SUFFIX}"));
    std::fs::write(&path, body).unwrap();
    path
}

fn custom_text(id: &str, levels: &str) -> String {
    format!(
        "(\n    id: \"{id}\",\n    title: \"Mine\",\n    subtitle: \"a test\",\n    kind: custom,\n    card: (what_you_see: \"x\", what_people_feel: \"y\", what_a_clinician_checks: \"z\"),\n    structures: {{\n        {levels}\n    }},\n)\n"
    )
}

fn reload(app: &mut App) {
    app.world_mut().write_message(ScenarioCommand::Reload);
    for _ in 0..400 {
        app.update();
        std::thread::sleep(Duration::from_millis(2));
        if app.world().resource::<Scenarios>().pending == 0 {
            break;
        }
    }
    settle(app, 5);
}

/// The scenario app showing the custom scenario `mine` (a left piriformis at 0.6 tension)
/// from `user`, loaded and settled; and that file.
fn app_showing_mine(user: &Path) -> (App, std::path::PathBuf) {
    let path = write_scenario(
        user,
        "mine",
        &custom_text("mine", "\"piriformis_l\": (tension: 0.6),"),
    );
    let mut app = scenario_app("mine", user);
    load_scenarios(&mut app);
    settle(&mut app, 30);
    (app, path)
}

/// Each bad edit gives its own error with file, line and column; the last good version stays
/// active and the other scenarios keep working.
#[test]
fn a_bad_edit_gives_its_own_error_and_keeps_the_last_good_state() {
    let user = temp_dir("scenarios-bad");
    let (mut app, path) = app_showing_mine(&user);
    assert!(app.world().resource::<Scenarios>().errors().is_empty());
    assert!((shown(&app, "piriformis_l").tension_0_to_1 - 0.6).abs() < 1e-6);

    let cases = [
        // A missing comma: reported where the next entry starts.
        (
            "\"piriformis_l\": (tension: 0.6)\n        \"iliacus_l\": (tension: 0.1),",
            "Expected comma",
            9,
        ),
        (
            "\"piriformis_q\": (tension: 0.6),",
            "unknown structure `piriformis_q`",
            8,
        ),
        ("\"piriformis_l\": (tension: 1.6),", "outside 0–1", 8),
        ("\"piriformis_l\": (tension: NaN),", "NaN", 8),
        (
            "\"sciatic_nerve_l\": (tension: 0.5),",
            "cannot have tension",
            8,
        ),
    ];
    for (levels, message, line) in cases {
        std::fs::write(&path, custom_text("mine", levels)).unwrap();
        reload(&mut app);
        let errors = app.world().resource::<Scenarios>().errors();
        assert_eq!(errors.len(), 1, "{levels}: {errors:?}");
        let e = &errors[0];
        assert!(e.message.contains(message), "{levels}: {e}");
        assert_eq!(e.line_column().map(|l| l.0), Some(line), "{levels}: {e}");
        assert!(
            e.to_string().starts_with(&path.display().to_string()),
            "{e}"
        );
        // The last good version is still shown.
        assert!(
            (shown(&app, "piriformis_l").tension_0_to_1 - 0.6).abs() < 1e-6,
            "{levels}"
        );
    }
    // Another scenario still works.
    select(&mut app, "tight_piriformis");
    settle(&mut app, 30);
    assert!(shown(&app, "piriformis_r").tension_0_to_1 > 0.5);

    // A second file with a taken id is an error of that file; the first keeps its id.
    let dup = write_scenario(
        &user,
        "mine_copy",
        &custom_text("mine", "\"iliacus_r\": (tension: 0.9),"),
    );
    std::fs::write(
        &path,
        custom_text("mine", "\"piriformis_l\": (tension: 0.6),"),
    )
    .unwrap();
    reload(&mut app);
    let errors = app.world().resource::<Scenarios>().errors();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].message.contains("duplicate id `mine`"),
        "{}",
        errors[0]
    );
    assert_eq!(errors[0].file, dup.display().to_string());
    assert_eq!(errors[0].line_column(), Some((2, 5)));
}

/// A custom scenario file deleted while the app runs leaves the list on Reload, with no
/// "cannot read" error for the file that is gone.
#[test]
fn a_deleted_scenario_file_leaves_the_list_on_reload_without_an_error() {
    let user = temp_dir("scenarios-deleted");
    let (mut app, path) = app_showing_mine(&user);
    let listed = |app: &App, id: &str| {
        app.world()
            .resource::<Scenarios>()
            .library
            .get(id)
            .is_some()
    };
    assert!(listed(&app, "mine"));
    std::fs::remove_file(&path).unwrap();
    reload(&mut app);
    let scenarios = app.world().resource::<Scenarios>();
    assert!(scenarios.errors().is_empty(), "{:?}", scenarios.errors());
    assert_eq!(scenarios.pending, 0);
    assert!(
        !listed(&app, "mine"),
        "the deleted scenario is still listed"
    );
    // The built-in scenarios are still there, and a second Reload stays quiet.
    assert!(listed(&app, "tight_piriformis"));
    reload(&mut app);
    assert!(app.world().resource::<Scenarios>().errors().is_empty());
}

/// Updates the app (real time passing) until `done`, for at most 10 s; whether it got there.
fn update_until(app: &mut App, done: impl Fn(&App) -> bool) -> bool {
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        app.update();
        std::thread::sleep(Duration::from_millis(20));
        if done(app) {
            return true;
        }
    }
    false
}

/// `--watch`: an edited file is picked up without pressing Reload, and a deleted one leaves
/// the list without an error.
#[test]
fn watched_files_reload_when_edited() {
    let user = temp_dir("scenarios-watch");
    let path = write_scenario(
        &user,
        "watched",
        &custom_text("watched", "\"iliacus_r\": (tension: 0.2),"),
    );
    let mut app = scenario_app("watched", &user);
    app.world_mut().resource_mut::<ScenarioOptions>().watch = true;
    load_scenarios(&mut app);
    settle(&mut app, 30);
    assert!((shown(&app, "iliacus_r").tension_0_to_1 - 0.2).abs() < 1e-6);
    // File times have a resolution of about a millisecond; the watcher checks once a second.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::write(
        &path,
        custom_text("watched", "\"iliacus_r\": (tension: 0.8),"),
    )
    .unwrap();
    assert!(
        update_until(&mut app, |app| (shown(app, "iliacus_r").tension_0_to_1
            - 0.8)
            .abs()
            < 1e-6),
        "the edit was not picked up: iliacus at {}",
        shown(&app, "iliacus_r").tension_0_to_1
    );
    std::fs::remove_file(&path).unwrap();
    let gone = |app: &App| {
        let scenarios = app.world().resource::<Scenarios>();
        scenarios.library.get("watched").is_none() && scenarios.errors().is_empty()
    };
    assert!(
        update_until(&mut app, gone),
        "the deleted file is still listed or has an error: {:?}",
        app.world().resource::<Scenarios>().errors()
    );
}

/// A relief timeline plays, pauses, seeks and changes speed; the tool presses and lifts.
#[test]
fn a_relief_timeline_plays_and_the_tool_presses() {
    let user = temp_dir("scenarios-relief");
    let mut app = scenario_app("figure_four_stretch", &user);
    load_scenarios(&mut app);
    settle(&mut app, 25);
    let library = &app.world().resource::<Scenarios>().library;
    let relief = library
        .get("figure_four_stretch")
        .unwrap()
        .relief
        .clone()
        .unwrap();
    let problem = library.get(&relief.starts_from.0).unwrap().clone();
    let piri = Structure::from_gltf_name("piriformis_r").unwrap();
    let start_tension = problem.structures.0[&piri].tension.get();
    // Early on it is the problem state, tool coming in.
    let early = app.world().resource::<ShownState>().clone();
    assert!(early.timeline_s > 0.0 && early.timeline_s < relief.press_s.get());
    assert!((early.state.get(piri).tension_0_to_1 - start_tension).abs() < 0.05);
    let tools: usize = {
        let mut q = app
            .world_mut()
            .query::<&hipback::scenario::effects::ReliefTool>();
        q.iter(app.world()).count()
    };
    assert_eq!(tools, 1, "the hump is shown");
    // Pause: time holds.
    app.world_mut().write_message(ScenarioCommand::TogglePlay);
    settle(&mut app, 2);
    let paused_at = app.world().resource::<ShownState>().timeline_s;
    settle(&mut app, 10);
    assert_eq!(app.world().resource::<ShownState>().timeline_s, paused_at);
    // Seek to the end: relaxed, tool lifted.
    app.world_mut()
        .write_message(ScenarioCommand::Seek(relief.duration_s()));
    settle(&mut app, 2);
    let end = app.world().resource::<ShownState>().clone();
    assert!(end.state.get(piri).tension_0_to_1 < 0.3);
    assert_eq!(end.pressure_0_to_1, 0.0);
    // Mid-release: the tool presses fully.
    app.world_mut().write_message(ScenarioCommand::Seek(
        relief.press_s.get() + relief.release_s.get() * 0.5,
    ));
    settle(&mut app, 2);
    assert_eq!(app.world().resource::<ShownState>().pressure_0_to_1, 1.0);
    // Play at 4×: time runs four times as fast.
    app.world_mut()
        .write_message(ScenarioCommand::SetSpeed(4.0));
    app.world_mut().write_message(ScenarioCommand::TogglePlay);
    settle(&mut app, 2);
    let t0 = app.world().resource::<ShownState>().timeline_s;
    settle(&mut app, 10);
    let t1 = app.world().resource::<ShownState>().timeline_s;
    assert!(
        ((t1 - t0) - 10.0 * FRAME.as_secs_f32() * 4.0).abs() < 0.06,
        "{t0} → {t1}"
    );
    // The next-scenario key moves on; the tool goes.
    app.world_mut().write_message(Action::NextScenario);
    settle(&mut app, 3);
    assert_eq!(
        app.world().resource::<ActiveScenario>().id,
        "iliacus_release"
    );
}

/// Sliders make a custom state; saving writes a new file atomically, never over a built-in
/// scenario or an existing file.
#[test]
fn a_custom_state_saves_as_a_new_scenario() {
    let user = temp_dir("scenarios-save");
    let mut app = scenario_app("healthy", &user);
    load_scenarios(&mut app);
    let levels = hipback::scenario::state::StructureState {
        tension_0_to_1: 0.75,
        ..Default::default()
    };
    let psoas = Structure::from_gltf_name("psoas_major_l").unwrap();
    app.world_mut()
        .write_message(ScenarioCommand::SetLevels(psoas, levels));
    settle(&mut app, 2);
    assert!((shown(&app, "psoas_major_l").tension_0_to_1 - 0.75).abs() < 1e-6);

    for (id, problem) in [("healthy", "exists already"), ("Bad Id", "not a valid id")] {
        app.world_mut().write_message(ScenarioCommand::SaveCustom {
            id: id.to_owned(),
            title: "x".to_owned(),
        });
        settle(&mut app, 2);
        let status = app.world().resource::<SaveStatus>().0.clone();
        let Some(Err(message)) = status else {
            panic!("{id}: saved: {status:?}");
        };
        assert!(message.contains(problem), "{message}");
    }
    let builtin = viewer::assets_dir().join("scenarios/healthy.scenario.ron");
    let before = std::fs::read(&builtin).unwrap();

    app.world_mut().write_message(ScenarioCommand::SaveCustom {
        id: "tight_left_psoas".to_owned(),
        title: "Tight left psoas".to_owned(),
    });
    settle(&mut app, 3);
    let Some(Ok(saved)) = app.world().resource::<SaveStatus>().0.clone() else {
        panic!("not saved");
    };
    let path = user.join("tight_left_psoas.scenario.ron");
    assert_eq!(saved, path.display().to_string());
    let text = std::fs::read_to_string(&path).unwrap();
    let parsed = hipback::scenario::file::parse(text.as_bytes(), "saved").unwrap();
    assert_eq!(parsed.structures.0[&psoas].tension.get(), 0.75);
    assert_eq!(
        std::fs::read(&builtin).unwrap(),
        before,
        "a built-in file changed"
    );
    // Only the file itself: no temporary file left behind.
    let names: Vec<_> = std::fs::read_dir(&user)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert_eq!(
        app.world().resource::<ActiveScenario>().id,
        "tight_left_psoas"
    );
    assert!(
        app.world()
            .resource::<Scenarios>()
            .library
            .get("tight_left_psoas")
            .is_some()
    );
    // Saving the same id again is refused.
    app.world_mut().write_message(ScenarioCommand::SaveCustom {
        id: "tight_left_psoas".to_owned(),
        title: String::new(),
    });
    settle(&mut app, 2);
    assert!(matches!(
        app.world().resource::<SaveStatus>().0,
        Some(Err(_))
    ));
}

#[test]
fn report_prints_the_settled_state_as_json() {
    let output = hipback()
        .args(["report", "--scenario", "tight_piriformis", "--json"])
        .output()
        .unwrap();
    common::assert_success(&output, "report");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["format"], "hipback-report");
    assert_eq!(json["version"], 1);
    assert_eq!(json["scenario"]["id"], "tight_piriformis");
    assert_eq!(json["scenario"]["kind"], "problem");
    assert!(json["at_s"].is_null());
    let structures = json["structures"].as_object().unwrap();
    assert_eq!(structures.len(), Structure::all().len());
    for s in Structure::all() {
        let entry = &structures[&s.gltf_name()];
        for key in ["tension", "weakness", "compression", "irritation"] {
            let v = entry[key].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&v), "{s} {key} {v}");
        }
    }
    assert!(structures["piriformis_r"]["tension"].as_f64().unwrap() > 0.8);
    assert!(
        structures["sciatic_nerve_r"]["compression"]
            .as_f64()
            .unwrap()
            > 0.5
    );
    assert_eq!(structures["piriformis_l"]["tension"], 0.0);

    // A relief timeline at a moment, and at its end.
    let at = |t: &str| {
        let output = hipback()
            .args([
                "report",
                "--scenario",
                "figure_four_stretch",
                "--json",
                "--at",
                t,
            ])
            .output()
            .unwrap();
        common::assert_success(&output, "report --at");
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()
    };
    let start = at("0");
    let late = at("1000");
    assert_eq!(start["at_s"], 0.0);
    assert!(start["scenario"]["duration_s"].as_f64().unwrap() > 10.0);
    let tension =
        |v: &serde_json::Value| v["structures"]["piriformis_r"]["tension"].as_f64().unwrap();
    assert!(
        tension(&start) > 0.8 && tension(&late) < 0.3,
        "{} → {}",
        tension(&start),
        tension(&late)
    );

    // Weak glutes: the load shifts to the muscles that compensate.
    let output = hipback()
        .args(["report", "--scenario", "weak_glutes", "--json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(
        json["structures"]["gluteus_medius_r"]["weakness"]
            .as_f64()
            .unwrap()
            > 0.3
    );
    assert!(
        json["structures"]["gluteus_minimus_r"]["tension"]
            .as_f64()
            .unwrap()
            > 0.1
    );
    assert_eq!(json["structures"]["gluteus_minimus_l"]["tension"], 0.0);

    let output = hipback()
        .args(["report", "--scenario", "tight_everything", "--json"])
        .output()
        .unwrap();
    assert_one_line_error(&output, "no such scenario");
    let output = hipback()
        .args(["report", "--scenario", "healthy", "--at=-3"])
        .output()
        .unwrap();
    assert_one_line_error(&output, "--at");
}

#[test]
fn validate_scenarios_lists_every_bad_file_and_exits_2() {
    let output = hipback()
        .args(["validate", "--scenarios"])
        .arg(viewer::assets_dir().join("scenarios"))
        .output()
        .unwrap();
    common::assert_success(&output, "validate the built-ins");
    assert!(String::from_utf8_lossy(&output.stdout).contains("ok: 9 scenario files"));
    // A byte-for-byte copy of the built-in folder (another checkout's) is the built-ins, not
    // nine clashing custom scenarios; change one file and its id clashes again.
    let copy = temp_dir("validate-scenarios-copy");
    for entry in std::fs::read_dir(viewer::assets_dir().join("scenarios")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, copy.join(path.file_name().unwrap())).unwrap();
    }
    let output = hipback()
        .args(["validate", "--scenarios"])
        .arg(&copy)
        .output()
        .unwrap();
    common::assert_success(&output, "validate a copy of the built-ins");
    let edited = copy.join(format!("healthy{FILE_SUFFIX}"));
    let text = std::fs::read_to_string(&edited).unwrap();
    std::fs::write(&edited, text.replacen("title: \"", "title: \"My ", 1)).unwrap();
    let output = hipback()
        .args(["validate", "--scenarios"])
        .arg(&copy)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("duplicate id `healthy`"));

    let dir = temp_dir("validate-scenarios");
    write_scenario(
        &dir,
        "good",
        &custom_text("good", "\"iliacus_r\": (tension: 0.2),"),
    );
    write_scenario(
        &dir,
        "range",
        &custom_text("range", "\"iliacus_r\": (tension: 2),"),
    );
    write_scenario(&dir, "syntax", "(id: \"syntax\", title: ");
    write_scenario(&dir, "dup", &custom_text("healthy", ""));
    std::fs::write(
        dir.join(format!("binary{FILE_SUFFIX}")),
        [0u8, 159, 146, 150, 255],
    )
    .unwrap();
    std::fs::create_dir(dir.join(format!("folder{FILE_SUFFIX}"))).unwrap();
    let output = hipback()
        .args(["validate", "--scenarios"])
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for (file, needle) in [
        ("range", ":8:"),
        ("syntax", ":1:"),
        ("dup", "duplicate id `healthy`"),
        ("binary", "UTF-8"),
        ("folder", "cannot read"),
    ] {
        let line = stderr
            .lines()
            .find(|l| l.contains(&format!("{file}{FILE_SUFFIX}")))
            .unwrap_or_else(|| panic!("{file} not reported: {stderr}"));
        assert!(line.contains(needle), "{line}");
    }
    assert!(!stderr.contains("good.scenario.ron"), "{stderr}");
    assert!(
        stderr.contains("5 of 6 scenario files have problems"),
        "{stderr}"
    );
}

fn panel_state_for(id: &str) -> hipback::scenario::panel::ScenarioPanelState {
    use hipback::scenario::panel::{CardView, ListItem, ReliefView, ScenarioPanelState};
    let mut library = hipback::scenario::library::Library::default();
    hipback::scenario::library::load_folder(
        &viewer::assets_dir().join("scenarios"),
        true,
        &mut library,
    )
    .unwrap();
    let s = library.get(id).unwrap();
    ScenarioPanelState {
        items: library
            .sorted()
            .iter()
            .map(|s| ListItem {
                id: s.id.0.clone(),
                title: s.title.clone(),
                subtitle: s.subtitle.clone(),
                kind: s.kind,
            })
            .collect(),
        active_id: id.to_owned(),
        card: Some(CardView {
            title: s.title.clone(),
            card: s.card.clone(),
            illustrative: s.illustrative.clone(),
            citations: s.citations.clone(),
            relief: s.relief.as_ref().map(|r| ReliefView {
                how_to: r.how_to.clone(),
                how_long: r.how_long.clone(),
                stop_if: r.stop_if.clone(),
                duration_s: r.duration_s(),
                time_s: 3.0,
                playing: true,
                speed: 1.0,
            }),
        }),
        levels: library.base_state(id, None).unwrap(),
        ..Default::default()
    }
}

#[test]
fn the_scenario_panel_lists_explains_and_sends_commands() {
    use hipback::scenario::panel::{NOT_A_DIAGNOSIS, scenario_panel_ui};
    // Tall enough to hold the whole panel (in the app it scrolls).
    let tall = |state| {
        Harness::builder()
            .with_size(bevy_egui::egui::vec2(420.0, 2400.0))
            .build_ui_state(scenario_panel_ui, state)
    };
    let mut harness = tall(panel_state_for("tight_piriformis"));
    harness.get_by_label(NOT_A_DIAGNOSIS);
    // The card's three parts and the debated badge.
    for part in [
        "What you see",
        "What people feel",
        "What a clinician checks",
    ] {
        harness.get_by_label(part);
    }
    harness.get_by_label("[DEB]");
    // Picking another scenario.
    harness.get_by_label("Weak buttock muscles").click();
    harness.run();
    assert_eq!(
        harness.state().commands.last(),
        Some(&ScenarioCommand::Select("weak_glutes".to_owned()))
    );
    harness.get_by_label("Save clip (GIF)").click();
    harness.run();
    assert_eq!(
        harness.state().commands.last(),
        Some(&ScenarioCommand::SaveClip)
    );

    // A relief card: its steps, when to stop, and the player.
    let mut harness = tall(panel_state_for("figure_four_stretch"));
    harness.get_by_label("What to do");
    harness.get_by_label_contains("Stop if:");
    harness.get_by_label("⏸ Pause").click();
    harness.run();
    assert_eq!(
        harness.state().commands.last(),
        Some(&ScenarioCommand::TogglePlay)
    );

    // The urgent signs and the other sources of pain are one click from the start.
    let mut state = panel_state_for("healthy");
    state.guidance = Some(
        hipback::content::guidance::Guidance::from_file(
            &viewer::assets_dir().join(hipback::content::guidance::GUIDANCE_FILE),
        )
        .unwrap(),
    );
    let guidance = state.guidance.clone().unwrap();
    let mut harness = tall(state);
    assert!(
        harness
            .query_by_label_contains(&guidance.urgent.facts[0].text)
            .is_none(),
        "the urgent section starts collapsed"
    );
    harness
        .get_by_label_contains("When to see a clinician urgently")
        .click();
    harness.run();
    for fact in &guidance.urgent.facts {
        harness.get_by_label_contains(&fact.text);
    }
    harness
        .get_by_label_contains(&guidance.other_sources.title)
        .click();
    harness.run();
    harness.get_by_label_contains(&guidance.other_sources.facts[0].text);

    // Errors are listed with their place.
    let mut state = panel_state_for("healthy");
    state.errors = vec!["mine.scenario.ron:7:28: 1.6 is outside 0–1".to_owned()];
    let harness = Harness::new_ui_state(scenario_panel_ui, state);
    harness.get_by_label_contains("mine.scenario.ron:7:28");
}

/// README's shortcut table is the action table: same keys, same words, same order.
#[test]
fn readme_lists_every_shortcut_as_the_app_does() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    // The table under the heading: from its header row to the first line that is not a row.
    let rows: Vec<&str> = readme
        .lines()
        .skip_while(|l| !l.starts_with("### Keyboard shortcuts"))
        .skip_while(|l| !l.starts_with("| Key"))
        .skip(2)
        .take_while(|l| l.starts_with("| "))
        .collect();
    let expected: Vec<String> = Action::all()
        .into_iter()
        .map(|a| format!("| {} | {} |", a.key_label(), a.label()))
        .collect();
    assert_eq!(rows, expected);
}

// ---------------------------------------------------------------------------------------
// Heat maps.

use hipback::referral::plugin::{Overlay, OverlayColours, SkinHeat};

/// Waits for the heat fields (computed on a background thread).
fn wait_for_heat(app: &mut App) {
    for _ in 0..3_000 {
        app.update();
        if app.world().resource::<SkinHeat>().fields.is_some() {
            settle(app, 3);
            return;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    panic!("the heat fields were not ready after 3000 frames");
}

fn heat_app(start: &str) -> App {
    let user = temp_dir(&format!("heat-{start}"));
    let mut app = scenario_app_with(start, &user, hipback::referral::plugin::plugin);
    // Never the user's own drawing.
    app.world_mut()
        .resource_mut::<hipback::referral::plugin::Painting>()
        .path = user.join("drawing.ron");
    app
}

/// The interactive app with scenarios and the heat map's pointer (paint mode), its drawing
/// kept in `dir`.
fn paint_app(dir: &Path) -> App {
    let dir = dir.to_path_buf();
    interactive_app_with(ViewPreset::Posterior, move |app| {
        app.insert_resource(ScenarioOptions {
            user_dir: dir.clone(),
            ..ScenarioOptions::window("healthy", false)
        })
        .add_plugins((
            hipback::scenario::plugin,
            hipback::referral::plugin::plugin,
            hipback::referral::plugin::pointer_plugin,
        ));
        app.world_mut()
            .resource_mut::<hipback::referral::plugin::Painting>()
            .path = dir.join("drawing.ron");
    })
}

/// Paint mode: a stroke on the right buttock paints it, ranks a right buttock source first,
/// is saved as the stroke ends, and is back after a restart. The 3D view sits right of a side
/// panel, as in the window, so the stroke's rays must start from the window's cursor.
#[test]
fn a_pain_drawing_ranks_sources_and_survives_a_restart() {
    use hipback::referral::plugin::Painting;
    let dir = temp_dir("paint");
    let mut app = paint_app(&dir);
    load_ready(&mut app);
    wait_for_heat(&mut app);
    {
        let mut q = app
            .world_mut()
            .query_filtered::<&mut Camera, With<MainCamera>>();
        q.single_mut(app.world_mut()).unwrap().viewport = Some(bevy::camera::Viewport {
            physical_position: UVec2::new(WINDOW_PX.0 / 4, 0),
            physical_size: UVec2::new(WINDOW_PX.0 * 3 / 4, WINDOW_PX.1),
            ..default()
        });
    }
    settle(&mut app, 2);
    app.world_mut().resource_mut::<Painting>().active = true;
    settle(&mut app, 2);
    // Painting turns the orbit button to the right one.
    let mut q = app.world_mut().query::<&PanOrbitCamera>();
    assert_eq!(
        q.single(app.world()).unwrap().button_orbit,
        MouseButton::Right
    );
    let centre = world_centre(&mut app, "gluteus_maximus_r");
    let start = project(&mut app, centre);
    move_pointer(&mut app, start);
    mouse_button(&mut app, MouseButton::Left, ButtonState::Pressed);
    for i in 0..8 {
        move_pointer(&mut app, start + Vec2::new(0.0, 6.0 * i as f32));
    }
    mouse_button(&mut app, MouseButton::Left, ButtonState::Released);
    settle(&mut app, 3);
    assert_eq!(
        app.world().resource::<Selection>().selected,
        None,
        "the stroke selected a structure"
    );
    let painting = app.world().resource::<Painting>().clone();
    let painted = painting.drawing.iter().filter(|d| **d > 0.0).count();
    assert!(painted > 20, "{painted} vertices painted");
    let best = painting.ranking.first().expect("no ranking");
    assert_eq!(best.side, Side::Right);
    assert!(best.score > 0.0);
    assert!(
        dir.join("drawing.ron").is_file(),
        "the stroke was not saved"
    );
    // The orbit camera did not turn while painting with the left button.
    let heat = app.world().resource::<SkinHeat>();
    let surface = heat.surface.clone().unwrap();
    let right_side = painting
        .drawing
        .iter()
        .enumerate()
        .filter(|(_, d)| **d > 0.0)
        .all(|(v, _)| surface.positions[v].x < 0.0);
    assert!(right_side, "paint landed on the left side");
    // A new session restores it.
    drop(app);
    let mut again = paint_app(&dir);
    load_ready(&mut again);
    wait_for_heat(&mut again);
    settle(&mut again, 3);
    let restored = again.world().resource::<Painting>().clone();
    assert_eq!(restored.drawing, painting.drawing);
    assert!(restored.status.unwrap_or_default().contains("back"));
}

/// Mean heat of one layer over a region's vertices.
fn mean_heat(app: &App, region: &str, neuropathic: bool) -> f32 {
    let heat = app.world().resource::<SkinHeat>();
    let surface = heat.surface.as_ref().unwrap();
    let region = SkinRegion::all()
        .into_iter()
        .find(|r| r.name() == region)
        .unwrap();
    let values = if neuropathic {
        &heat.heat.1
    } else {
        &heat.heat.0
    };
    let vertices = surface.vertices_of(region);
    vertices.iter().map(|v| values[*v as usize]).sum::<f32>() / vertices.len() as f32
}

#[test]
fn the_heat_follows_the_scenario_on_the_skin() {
    let mut app = heat_app("healthy");
    load_scenarios(&mut app);
    wait_for_heat(&mut app);
    assert_eq!(
        mean_heat(&app, "buttock_upper_r", false),
        0.0,
        "heat while healthy"
    );
    select(&mut app, "tight_piriformis");
    settle(&mut app, 30);
    let right = mean_heat(&app, "buttock_upper_r", false);
    assert!(right > 0.3, "right buttock {right}");
    assert_eq!(mean_heat(&app, "buttock_upper_l", false), 0.0);
    assert!(
        mean_heat(&app, "calf_r", true) > 0.2,
        "no nerve symptoms down the leg"
    );
    assert_eq!(mean_heat(&app, "calf_l", true), 0.0);
    // The overlays carry it: the heat overlay shows on the buttock, the drawing is hidden.
    let mut q = app.world_mut().query::<(&Overlay, &Visibility)>();
    let overlays: Vec<(Overlay, Visibility)> = q.iter(app.world()).map(|(o, v)| (*o, *v)).collect();
    assert_eq!(overlays.len(), 2);
    assert!(overlays.contains(&(Overlay::Drawing, Visibility::Hidden)));
    let heat = app.world().resource::<SkinHeat>();
    let surface = heat.surface.clone().unwrap();
    let buttock = surface.vertices_of(
        SkinRegion::all()
            .into_iter()
            .find(|r| r.name() == "buttock_upper_r")
            .unwrap(),
    );
    // The heat overlay's mean alpha on the right upper buttock, and whether it is drawn.
    let buttock_alpha = |app: &mut App| {
        let mut q = app
            .world_mut()
            .query::<(&Overlay, &OverlayColours, &Visibility)>();
        let (colours, visibility) = q
            .iter(app.world())
            .find(|(o, _, _)| **o == Overlay::Heat)
            .map(|(_, c, v)| (c.colours.clone(), *v))
            .unwrap();
        let alpha =
            buttock.iter().map(|v| colours[*v as usize][3]).sum::<f32>() / buttock.len() as f32;
        (alpha, visibility)
    };
    let (both, visibility) = buttock_alpha(&mut app);
    assert!(both > 0.2, "heat alpha {both} on the buttock");
    assert_eq!(visibility, Visibility::Inherited);
    // Once settled, frames write nothing.
    settle(&mut app, 5);
    *app.world_mut().resource_mut::<AssetWrites>() = AssetWrites::default();
    settle(&mut app, 10);
    let writes = app.world().resource::<AssetWrites>();
    assert_eq!((writes.materials, writes.meshes, writes.buffers), (0, 0, 0));
    // Switching the referred-pain layer off fades the buttock (most of its heat there is
    // referred pain); switching off nerve symptoms too hides the overlay.
    app.world_mut()
        .resource_mut::<hipback::referral::plugin::HeatSettings>()
        .somatic = false;
    app.update();
    let (alpha, visibility) = buttock_alpha(&mut app);
    assert!(
        alpha < 0.5 * both,
        "buttock alpha {alpha} without referred pain, {both} with it"
    );
    assert_eq!(visibility, Visibility::Inherited);
    app.world_mut()
        .resource_mut::<hipback::referral::plugin::HeatSettings>()
        .neuropathic = false;
    app.update();
    assert_eq!(buttock_alpha(&mut app).1, Visibility::Hidden);
}

#[test]
fn report_rank_and_validate_referral_from_the_command_line() {
    let output = hipback()
        .args(["report", "--scenario", "si_joint_dysfunction", "--json"])
        .output()
        .unwrap();
    common::assert_success(&output, "report");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let regions = json["regions"].as_object().unwrap();
    assert_eq!(regions.len(), SkinRegion::all().len());
    let somatic = |r: &str| regions[r]["somatic"].as_f64().unwrap();
    assert!(somatic("sij_r") > 0.5 && somatic("buttock_upper_r") > somatic("groin_r"));
    assert_eq!(somatic("sij_l"), 0.0);
    assert_eq!(
        json["structures"]["sacroiliac_joint_r"]["irritation"]
            .as_f64()
            .map(|v| v > 0.5),
        Some(true)
    );

    let output = hipback()
        .args(["report", "--scenario", "tight_piriformis", "--csv"])
        .output()
        .unwrap();
    common::assert_success(&output, "report --csv");
    let csv = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "region,somatic,neuropathic");
    assert_eq!(lines.len(), SkinRegion::all().len() + 1);
    let calf_r: Vec<f64> = lines
        .iter()
        .find(|l| l.starts_with("calf_r,"))
        .unwrap()
        .split(',')
        .skip(1)
        .map(|v| v.parse().unwrap())
        .collect();
    assert!(calf_r[1] > 0.2, "nerve symptoms in the calf: {calf_r:?}");

    let output = hipback()
        .args([
            "rank",
            "--regions",
            "posterior_thigh_l,calf_l,foot_l",
            "--json",
        ])
        .output()
        .unwrap();
    common::assert_success(&output, "rank");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(json["format"], "hipback-rank");
    let best = &json["ranking"][0];
    assert_eq!(best["source"], "sciatic_nerve");
    assert_eq!(best["side"], "left");
    assert!(best["score"].as_f64().unwrap() > 0.2);
    assert!(best["why"].as_str().unwrap().contains("covers"));

    let output = hipback()
        .args(["rank", "--regions", "buttock_upper_r,elbow_r"])
        .output()
        .unwrap();
    assert_one_line_error(
        &output,
        "unknown region `elbow_r` (valid: lumbar_paraspinal_l",
    );

    let output = hipback()
        .args(["validate", "--referral"])
        .arg(viewer::assets_dir().join("referral"))
        .output()
        .unwrap();
    common::assert_success(&output, "validate --referral");
    assert!(String::from_utf8_lossy(&output.stdout).contains("ok: 8 referral files"));

    let dir = temp_dir("validate-referral");
    for entry in std::fs::read_dir(viewer::assets_dir().join("referral")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
    }
    let break_file = |name: &str, from: &str, to: &str| {
        let path = dir.join(name);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{name}: {from}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    };
    break_file("piriformis.ron", "region: \"sij\"", "region: \"sij_zone\"");
    break_file("iliopsoas.ron", "weight: 1.0", "weight: 1.5");
    break_file("gluteus_medius.ron", "zones: [", "zones: [[");
    let output = hipback()
        .args(["validate", "--referral"])
        .arg(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for (file, needle) in [
        ("piriformis.ron", "unknown region `sij_zone`"),
        ("iliopsoas.ron", "outside 0–1"),
        ("gluteus_medius.ron", ":"),
    ] {
        let line = stderr
            .lines()
            .find(|l| l.contains(file))
            .unwrap_or_else(|| panic!("{file} not reported: {stderr}"));
        assert!(line.contains(needle), "{line}");
        // file:line:column
        let after = line.split(file).nth(1).unwrap();
        assert!(
            after.starts_with(':') && after[1..].split(':').next().unwrap().parse::<u32>().is_ok(),
            "{line}"
        );
    }
}

#[test]
fn the_pain_map_window_shows_layers_sources_and_the_ranking() {
    use hipback::referral::panel::{HeatPanelState, RankedSource, TYPICAL_PATTERNS, heat_panel_ui};
    let state = HeatPanelState {
        ready: true,
        ranking: vec![RankedSource {
            label: "Piriformis (right)".to_owned(),
            score: 0.42,
            why: "Piriformis (right): its typical area covers 80 % of what was drawn.".to_owned(),
            scenario: Some("tight_piriformis".to_owned()),
        }],
        drawn: true,
        brush_radius_m: 0.03,
        ..HeatPanelState::default()
    };
    let mut harness = Harness::builder()
        .with_size(bevy_egui::egui::vec2(320.0, 900.0))
        .build_ui_state(heat_panel_ui, state);
    harness.get_by_label(TYPICAL_PATTERNS);
    harness.get_by_label("Referred pain").click();
    harness.run();
    assert!(!harness.state().settings.somatic);
    harness.get_by_label("🖌 Paint").click();
    harness.run();
    assert!(harness.state().painting);
    harness.get_by_label_contains("1. Piriformis (right)");
    harness.get_by_label("Show").click();
    harness.run();
    assert_eq!(
        harness.state().scenario_commands,
        vec![ScenarioCommand::Select("tight_piriformis".to_owned())]
    );
    harness.get_by_label("Clear").click();
    harness.run();
    assert_eq!(
        harness.state().heat_commands,
        vec![hipback::referral::plugin::HeatCommand::ClearDrawing]
    );
}

// ---------------------------------------------------------------------------------------
// Posture.

use hipback::posture::PostureModel;
use hipback::posture::kinematics::{Posture, PostureId, RigJoint};
use hipback::posture::plugin::{PostureCommand, PostureState, ShownPosture};

/// The scenario app with the posture plugin.
fn posture_app(start: &str, user_dir: &Path) -> App {
    scenario_app_with(start, user_dir, hipback::posture::plugin::plugin)
}

fn postures() -> PostureModel {
    PostureModel::load(&viewer::assets_dir()).unwrap()
}

/// The rig joint node of that name: a joint of the model's skin (the scene root shares the
/// pelvis's name).
fn joint_node(app: &mut App, name: &str) -> Entity {
    let mut skins = app
        .world_mut()
        .query::<&bevy::mesh::skinning::SkinnedMesh>();
    let joints = skins.iter(app.world()).next().unwrap().joints.clone();
    let found: Vec<Entity> = joints
        .into_iter()
        .filter(|e| {
            app.world()
                .get::<Name>(*e)
                .is_some_and(|n| n.as_str() == name)
        })
        .collect();
    assert_eq!(found.len(), 1, "joint node {name}");
    found[0]
}

/// How far a joint node has turned from its rest orientation, degrees.
fn turned_deg(app: &App, joint: Entity) -> f32 {
    app.world()
        .get::<Transform>(joint)
        .unwrap()
        .rotation
        .angle_between(Quat::IDENTITY)
        .to_degrees()
}

/// Picking a preset turns the femur joints smoothly (no frame jumps) to the preset's
/// angles, the thighs end where the kinematics puts them, and the key steps to the next one.
#[test]
fn choosing_a_posture_turns_the_femur_joints_smoothly() {
    let user = temp_dir("posture-ease");
    let mut app = posture_app("healthy", &user);
    load_scenarios(&mut app);
    settle(&mut app, 3);
    let femur_r = joint_node(&mut app, "femur_r");
    let femur_l = joint_node(&mut app, "femur_l");
    let l5 = joint_node(&mut app, "vertebra_l5");
    assert!(turned_deg(&app, femur_r) < 1e-3, "not standing at start");
    app.world_mut()
        .write_message(PostureCommand::Select(PostureId::Sitting));
    let frames =
        (hipback::posture::plugin::SWITCH_DURATION_S / FRAME.as_secs_f32()).ceil() as usize;
    let mut last = 0.0;
    let mut steps = Vec::new();
    for _ in 0..frames + 3 {
        app.update();
        let a = turned_deg(&app, femur_r);
        assert!(a >= last - 1e-3, "went back from {last} to {a}");
        steps.push(a - last);
        last = a;
    }
    assert!((last - 90.0).abs() < 0.05, "arrived at {last}°");
    assert!((turned_deg(&app, femur_l) - 90.0).abs() < 0.05);
    let largest = steps.iter().copied().fold(0.0, f32::max);
    assert!(largest < 0.2 * 90.0, "a frame jumped by {largest}°");
    assert!(turned_deg(&app, l5) < 1e-3, "no tilt, so the spine stays");
    // The knee, 40 cm down the thigh from the hip at rest, is now 40 cm in front of it.
    let model = postures();
    let hip = model.skeleton.hip_centre(Side::Right);
    let knee = app
        .world()
        .get::<GlobalTransform>(femur_r)
        .unwrap()
        .transform_point(Vec3::new(0.0, -0.4, 0.0));
    assert!(
        (knee - (hip + Vec3::Z * 0.4)).length() < 1e-3,
        "knee at {knee}, hip at {hip}"
    );
    let shown = app.world().resource::<ShownPosture>();
    assert_eq!(shown.posture, model.data.posture(PostureId::Sitting));
    // The key steps to the next preset.
    app.world_mut().write_message(Action::NextPosture);
    settle(&mut app, 2);
    assert_eq!(
        app.world().resource::<PostureState>().preset,
        Some(PostureId::Fair)
    );
    // A pelvic tilt turns the pelvis and the lumbar vertebrae the other way.
    let tilted = Posture {
        pelvic_tilt_deg: 10.0,
        ..Posture::default()
    };
    app.world_mut().write_message(PostureCommand::Set(tilted));
    settle(&mut app, 2);
    let pelvis = joint_node(&mut app, "pelvis");
    assert!((turned_deg(&app, pelvis) - 10.0).abs() < 0.05);
    assert!(turned_deg(&app, l5) > 1.0, "L5 follows with more lordosis");
    let t12 = joint_node(&mut app, "vertebra_t12");
    let up = app
        .world()
        .get::<GlobalTransform>(t12)
        .unwrap()
        .affine()
        .transform_vector3(Vec3::Y);
    assert!(
        up.z.atan2(up.y).to_degrees().abs() < 1.0,
        "the trunk stays upright: {up}"
    );
    let rest = RigJoint::Femur(Side::Right);
    assert_eq!(rest.node_name(), "femur_r");
}

/// A scenario's posture is applied (and undone by the next scenario without one); FAIR makes
/// a tight piriformis tenser and the nerve under it more compressed, by the stretch rule.
#[test]
fn a_scenario_sets_its_posture_and_fair_worsens_a_tight_piriformis() {
    let user = temp_dir("posture-scenario");
    let mut app = posture_app("tight_piriformis", &user);
    load_scenarios(&mut app);
    settle(&mut app, 40);
    let model = postures();
    let femur_r = joint_node(&mut app, "femur_r");
    assert!(turned_deg(&app, femur_r) < 1e-3);
    let tension = shown(&app, "piriformis_r").tension_0_to_1;
    let compression = shown(&app, "sciatic_nerve_r").compression_0_to_1;
    assert!(tension > 0.8 && compression > 0.5);

    select(&mut app, "figure_four_stretch");
    settle(&mut app, 40);
    assert_eq!(
        app.world().resource::<PostureState>().preset,
        Some(PostureId::FigureFour)
    );
    let four = model.data.posture(PostureId::FigureFour);
    assert_eq!(app.world().resource::<ShownPosture>().posture, four);
    assert!(turned_deg(&app, femur_r) > 60.0);
    let lengths = &app.world().resource::<ShownPosture>().lengths;
    for muscle in ["piriformis_r", "gluteus_maximus_r", "gluteus_medius_r"] {
        let change = lengths.change_pct(Structure::from_gltf_name(muscle).unwrap());
        assert!(change > 2.0, "{muscle}: {change} %");
    }

    // Back to a scenario without a posture: standing again.
    select(&mut app, "tight_piriformis");
    settle(&mut app, 40);
    assert_eq!(
        app.world().resource::<ShownPosture>().posture,
        Posture::default()
    );
    assert!((shown(&app, "piriformis_r").tension_0_to_1 - tension).abs() < 1e-5);

    // FAIR: the tight piriformis is stretched over the nerve.
    app.world_mut()
        .write_message(PostureCommand::Select(PostureId::Fair));
    settle(&mut app, 40);
    let fair_tension = shown(&app, "piriformis_r").tension_0_to_1;
    let fair_compression = shown(&app, "sciatic_nerve_r").compression_0_to_1;
    println!(
        "FAIR: tension {tension} → {fair_tension}, compression {compression} → {fair_compression}"
    );
    assert!(fair_tension > tension + 0.05, "{tension} → {fair_tension}");
    assert!(
        fair_compression > compression + 0.1,
        "{compression} → {fair_compression}"
    );
    // The left side is untouched.
    assert_eq!(shown(&app, "piriformis_l").tension_0_to_1, 0.0);
    assert_eq!(shown(&app, "sciatic_nerve_l").compression_0_to_1, 0.0);
}

/// `report --posture`: per muscle and side the length change against standing and the
/// nerve's strain; it combines with `--scenario`; a wrong name lists the valid ones.
#[test]
fn report_gives_the_length_changes_of_a_posture() {
    let run = |args: &[&str]| {
        let output = hipback().arg("report").args(args).output().unwrap();
        common::assert_success(&output, &format!("report {args:?}"));
        serde_json::from_slice::<serde_json::Value>(&output.stdout).unwrap()
    };
    let json = run(&["--posture", "figure_four", "--json"]);
    assert_eq!(json["scenario"]["id"], "healthy");
    assert_eq!(json["posture"]["id"], "figure_four");
    let muscles = json["posture"]["muscles"].as_object().unwrap();
    assert_eq!(muscles.len(), 12);
    let change = |j: &serde_json::Value, m: &str| {
        j["posture"]["muscles"][m]["length_change_pct"]
            .as_f64()
            .unwrap()
    };
    assert!(change(&json, "piriformis_r") > 2.0);
    assert!(json["posture"]["nerves"]["sciatic_nerve_r"]["strain_pct"].is_number());
    let standing = run(&["--posture", "standing", "--json"]);
    for m in muscles.keys() {
        assert_eq!(change(&standing, m), 0.0, "{m}");
    }
    // The scenario's own posture when none is asked for; FAIR with a tight piriformis.
    let four = run(&["--scenario", "figure_four_stretch", "--json"]);
    assert_eq!(four["posture"]["id"], "figure_four");
    let tight = run(&["--scenario", "tight_piriformis", "--json"]);
    let fair = run(&[
        "--scenario",
        "tight_piriformis",
        "--posture",
        "fair",
        "--json",
    ]);
    let level = |j: &serde_json::Value, s: &str, k: &str| j["structures"][s][k].as_f64().unwrap();
    assert!(
        level(&fair, "sciatic_nerve_r", "compression")
            > level(&tight, "sciatic_nerve_r", "compression") + 0.1
    );
    assert!(level(&fair, "piriformis_r", "tension") > level(&tight, "piriformis_r", "tension"));
    let output = hipback()
        .args(["report", "--posture", "lotus", "--json"])
        .output()
        .unwrap();
    assert_one_line_error(
        &output,
        "standing, sitting, fair, figure_four, knee_to_chest",
    );
    let output = hipback()
        .args(["screenshot", "--out", "/tmp/x.png", "--posture", "lotus"])
        .output()
        .unwrap();
    assert_one_line_error(&output, "`lotus` is not a posture");
    let output = hipback()
        .args([
            "record",
            "--scenario",
            "healthy",
            "--out",
            "/tmp/x.gif",
            "--posture",
            "lotus",
        ])
        .output()
        .unwrap();
    assert_one_line_error(&output, "`lotus` is not a posture");
}

/// The Posture window: a button per preset, sliders that send the angles, the length table,
/// and the debated story with its badge.
#[test]
fn the_posture_window_sends_presets_and_angles() {
    use hipback::posture::panel::{panel_state, posture_panel_ui};
    use hipback::posture::plugin::Postures;
    let model = postures();
    let data = std::sync::Arc::new(model);
    let postures = Postures {
        model: Some(data.clone()),
        error: None,
    };
    let state = PostureState::settled(Posture::default(), Some(PostureId::Standing), 0.0);
    let shown = ShownPosture {
        posture: data.data.posture(PostureId::Fair),
        lengths: data.lengths(&data.data.posture(PostureId::Fair)),
    };
    let panel = panel_state(&postures, &state, &shown).unwrap();
    let mut harness = Harness::builder()
        .with_size(bevy_egui::egui::vec2(420.0, 1600.0))
        .build_ui_state(posture_panel_ui, panel);
    for label in [
        "Standing",
        "Sitting",
        "FAIR test",
        "Figure four",
        "Knees to chest",
    ] {
        harness.get_by_label(label);
    }
    harness.get_by_label("Piriformis");
    assert!(harness.get_all_by_label("[DEB]").count() >= 2);
    harness.get_by_label_contains("Tight hip flexor");
    harness.get_by_label("Figure four").click();
    harness.run();
    assert_eq!(
        harness.state().commands.last(),
        Some(&PostureCommand::Select(PostureId::FigureFour))
    );
    harness
        .get_by_label_contains("Show the idea: tilt the pelvis forward")
        .click();
    harness.run();
    let Some(PostureCommand::Set(p)) = harness.state().commands.last().copied() else {
        panic!("no posture set");
    };
    assert_eq!(p.pelvic_tilt_deg, 10.0);
    // The angles open to a slider per angle.
    harness.get_by_label("Angles").click();
    harness.run();
    let sliders = harness
        .query_all_by_role(bevy_egui::egui::accesskit::Role::Slider)
        .count();
    assert_eq!(sliders, 7, "three per hip and the tilt");
}

// ---------------------------------------------------------------------------------------
// The bad-input corpus (tests/bad_inputs): every file gets its expected one-line message,
// from the command line and in the app, which keeps running on the last good data.

/// How a corpus file is read (see `tests/bad_inputs/expected.ron`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
enum Via {
    Model,
    Scenarios,
    Referral,
    Drawing,
}

/// One corpus file and the message it must get.
#[derive(Clone, Debug, serde::Deserialize)]
struct BadInput {
    input: String,
    via: Via,
    expect: String,
}

fn bad_inputs_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_inputs")
}

fn bad_inputs(via: Via) -> Vec<BadInput> {
    let text = std::fs::read_to_string(bad_inputs_dir().join("expected.ron")).unwrap();
    let all: Vec<BadInput> = ron::from_str(&text).unwrap();
    let listed: Vec<BadInput> = all.into_iter().filter(|c| c.via == via).collect();
    assert!(!listed.is_empty(), "no {via:?} cases");
    listed
}

/// A folder holding the bundled referral files plus `extra` (copied).
fn referral_folder(name: &str, extra: &[&Path]) -> std::path::PathBuf {
    let dir = temp_dir(name);
    let bundled = viewer::assets_dir().join("referral");
    for file in std::fs::read_dir(bundled).unwrap() {
        let file = file.unwrap().path();
        std::fs::copy(&file, dir.join(file.file_name().unwrap())).unwrap();
    }
    for file in extra {
        std::fs::copy(file, dir.join(file.file_name().unwrap())).unwrap();
    }
    dir
}

#[test]
fn every_bad_input_gets_its_one_line_message_from_the_command_line() {
    let corpus = bad_inputs_dir();
    // The model the damaged ones come from is valid: each fails for its one reason.
    let minimal = corpus.join("models/minimal.glb");
    let output = hipback()
        .arg("validate")
        .arg("--model")
        .arg(&minimal)
        .output()
        .unwrap();
    common::assert_success(&output, "validate minimal.glb");

    let out_dir = temp_dir("bad-inputs-cli");
    for case in bad_inputs(Via::Model) {
        let path = corpus.join(&case.input);
        let output = hipback()
            .arg("validate")
            .arg("--model")
            .arg(&path)
            .output()
            .unwrap();
        assert_one_line_error(&output, &case.expect);
        let output = hipback()
            .arg("screenshot")
            .arg("--out")
            .arg(out_dir.join("x.png"))
            .arg("--model")
            .arg(&path)
            .output()
            .unwrap();
        assert_one_line_error(&output, &case.expect);
    }

    for case in bad_inputs(Via::Scenarios) {
        let dir = temp_dir("bad-inputs-scenarios");
        let path = corpus.join(&case.input);
        std::fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        let output = hipback()
            .arg("validate")
            .arg("--scenarios")
            .arg(&dir)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{}: {stderr}", case.input);
        assert!(!stderr.contains("panicked"), "{stderr}");
        // One line names the file and the problem (then a count of bad files).
        let naming: Vec<&str> = stderr
            .lines()
            .filter(|l| l.contains(path.file_name().unwrap().to_str().unwrap()))
            .collect();
        assert_eq!(naming.len(), 1, "{}: {stderr}", case.input);
        assert!(naming[0].contains(&case.expect), "{}: {stderr}", case.input);
    }

    for case in bad_inputs(Via::Referral) {
        let dir = referral_folder("bad-inputs-referral", &[&corpus.join(&case.input)]);
        let output = hipback()
            .arg("validate")
            .arg("--referral")
            .arg(&dir)
            .output()
            .unwrap();
        assert_one_line_error(&output, &case.expect);
    }

    // Paths: a model whose path is not UTF-8, and a scenario folder whose name is not.
    use std::os::unix::ffi::OsStrExt as _;
    let odd = out_dir.join(std::ffi::OsStr::from_bytes(b"pelvis-\xff.glb"));
    std::fs::copy(&minimal, &odd).unwrap();
    let output = hipback()
        .arg("validate")
        .arg("--model")
        .arg(&odd)
        .output()
        .unwrap();
    assert_one_line_error(
        &output,
        "pelvis-\u{fffd}.glb: cannot read the model: the path is not UTF-8 text",
    );
    let odd_dir = out_dir.join(std::ffi::OsStr::from_bytes(b"scen\xfe"));
    std::fs::create_dir_all(&odd_dir).unwrap();
    std::fs::copy(
        corpus.join("scenarios/out_of_range.scenario.ron"),
        odd_dir.join("out_of_range.scenario.ron"),
    )
    .unwrap();
    let output = hipback()
        .arg("validate")
        .arg("--scenarios")
        .arg(&odd_dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("scen\u{fffd}/out_of_range.scenario.ron:9:35: 1.6 is outside 0–1"),
        "{stderr}"
    );
    // A file where a folder is expected.
    let output = hipback()
        .arg("validate")
        .arg("--scenarios")
        .arg(&minimal)
        .output()
        .unwrap();
    assert_one_line_error(&output, "minimal.glb: not a folder");
}

/// Each bad scenario file, dropped into the user's folder next to a good one, shows its
/// message in the panel's error list; the good scenario stays shown and the app runs on.
#[test]
fn every_bad_scenario_file_shows_in_the_panel_and_the_last_good_state_stays() {
    let user = temp_dir("bad-inputs-app");
    let (mut app, _) = app_showing_mine(&user);
    for case in bad_inputs(Via::Scenarios) {
        let from = bad_inputs_dir().join(&case.input);
        let to = user.join(from.file_name().unwrap());
        std::fs::copy(&from, &to).unwrap();
        reload(&mut app);
        let errors: Vec<String> = app
            .world()
            .resource::<Scenarios>()
            .errors()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(errors.len(), 1, "{}: {errors:?}", case.input);
        assert!(
            errors[0].contains(&case.expect),
            "{}: {errors:?}",
            case.input
        );
        // The panel lists it.
        let state = hipback::scenario::panel::ScenarioPanelState {
            errors: errors.clone(),
            ..Default::default()
        };
        let harness = Harness::new_ui(|ui| hipback::scenario::panel::errors_ui(ui, &state));
        harness.get_by_label(&format!("⚠ {}", errors[0]));
        assert_eq!(app.world().resource::<ActiveScenario>().id, "mine");
        assert!((shown(&app, "piriformis_l").tension_0_to_1 - 0.6).abs() < 1e-6);
        // Fixed in place: the error goes.
        let stem = to
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .trim_end_matches(FILE_SUFFIX);
        let fixed = format!("fixed_{stem}");
        std::fs::write(&to, custom_text(&fixed, "\"iliacus_r\": (tension: 0.1),")).unwrap();
    }
    reload(&mut app);
    assert!(app.world().resource::<Scenarios>().errors().is_empty());
}

/// The bad referral files, in the folder the heat map reads, each give their own error in the
/// pain-map panel while the bundled patterns still make the heat map; a pain drawing from a
/// newer hipback is refused with its message and kept aside, not overwritten.
#[test]
fn bad_referral_files_and_a_newer_drawing_show_their_messages_and_the_heat_map_runs() {
    use hipback::referral::plugin::{Painting, Referrals};
    let corpus = bad_inputs_dir();
    let cases = bad_inputs(Via::Referral);
    let extra: Vec<std::path::PathBuf> = cases.iter().map(|c| corpus.join(&c.input)).collect();
    let extra: Vec<&Path> = extra.iter().map(std::path::PathBuf::as_path).collect();
    let folder = referral_folder("bad-inputs-heat", &extra);
    let drawing_case = bad_inputs(Via::Drawing).remove(0);
    let user = temp_dir("bad-inputs-heat-user");
    let drawing = user.join("pain_drawing_newer.ron");
    std::fs::copy(corpus.join(&drawing_case.input), &drawing).unwrap();
    let mut app = interactive_app_with(ViewPreset::Posterior, {
        let (folder, user, drawing) = (folder.clone(), user.clone(), drawing.clone());
        move |app| {
            app.insert_resource(ScenarioOptions {
                user_dir: user,
                ..ScenarioOptions::window("tight_piriformis", false)
            })
            .add_plugins((hipback::scenario::plugin, hipback::referral::plugin::plugin));
            app.world_mut().resource_mut::<Referrals>().folder = Some(folder);
            app.world_mut().resource_mut::<Painting>().path = drawing;
        }
    });
    load_ready(&mut app);
    wait_for_heat(&mut app);
    settle(&mut app, 5);
    let referrals = app.world().resource::<Referrals>();
    let errors: Vec<String> = referrals.errors.iter().map(ToString::to_string).collect();
    assert_eq!(errors.len(), cases.len(), "{errors:?}");
    for case in &cases {
        assert!(
            errors.iter().any(|e| e.contains(&case.expect)),
            "{}: {errors:?}",
            case.expect
        );
    }
    // Every source still has its bundled pattern: the heat map runs on the good data.
    assert_eq!(referrals.files.len(), 8);
    assert!(mean_heat(&app, "buttock_upper_r", false) > 0.0);
    let status = app
        .world()
        .resource::<Painting>()
        .status
        .clone()
        .unwrap_or_default();
    assert!(status.contains(&drawing_case.expect), "{status}");
    assert!(!drawing.exists(), "the newer drawing was not kept aside");
    let kept: Vec<_> = std::fs::read_dir(&user)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("pain_drawing_newer.ron.unusable-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
}

// ---------------------------------------------------------------------------------------
// Window edge cases: minimised (0×0), 1×1, a new scale factor. Nothing may panic, and the
// camera and picking must stay finite while the window is tiny and after it is back.

/// The camera's transform and projection are finite numbers.
fn camera_is_finite(app: &mut App) -> bool {
    let mut q = app
        .world_mut()
        .query_filtered::<(&GlobalTransform, &Projection, &Camera), With<MainCamera>>();
    let (transform, projection, camera) = q.single(app.world()).unwrap();
    let matrix_ok = transform.to_matrix().is_finite();
    let projection_ok = match projection {
        Projection::Perspective(p) => p.aspect_ratio.is_finite() && p.fov.is_finite(),
        _ => true,
    };
    let clip_ok = camera.clip_from_view().is_finite();
    matrix_ok && projection_ok && clip_ok
}

fn set_window(app: &mut App, change: impl FnOnce(&mut Window)) {
    let entity = primary_window(app);
    let mut window = app.world_mut().get_mut::<Window>(entity).unwrap();
    change(&mut window);
}

#[test]
fn minimising_a_one_pixel_window_and_a_new_scale_factor_do_not_break_the_camera() {
    let mut app = interactive_app(ViewPreset::Posterior);
    load_ready(&mut app);
    settle(&mut app, 10);
    assert!(camera_is_finite(&mut app));
    let centre = world_centre(&mut app, "piriformis_r");
    let steps: [(&str, fn(&mut Window)); 5] = [
        ("minimised (0×0)", |w| {
            w.resolution.set_physical_resolution(0, 0);
        }),
        ("1×1", |w| w.resolution.set_physical_resolution(1, 1)),
        ("scale factor 3", |w| {
            w.resolution.set_physical_resolution(640, 480);
            w.resolution.set_scale_factor_override(Some(3.0));
        }),
        ("scale factor 0.5", |w| {
            w.resolution.set_scale_factor_override(Some(0.5));
        }),
        ("back", |w| {
            w.resolution.set_scale_factor_override(None);
            w.resolution
                .set_physical_resolution(WINDOW_PX.0, WINDOW_PX.1);
        }),
    ];
    for (what, change) in steps {
        set_window(&mut app, change);
        // The pointer moves and clicks and the wheel turns while the window is in that state.
        move_pointer(&mut app, Vec2::new(0.5, 0.5));
        click(&mut app, Vec2::new(0.5, 0.5));
        let window = primary_window(&mut app);
        app.world_mut().write_message(MouseWheel {
            unit: MouseScrollUnit::Line,
            x: 0.0,
            y: 1.0,
            window,
            phase: TouchPhase::Moved,
        });
        settle(&mut app, 10);
        assert!(
            camera_is_finite(&mut app),
            "{what}: the camera is not finite"
        );
        let offset = camera_offset(&mut app);
        assert!(offset.is_finite(), "{what}: {offset}");
    }
    // Back to the full window: picking works again.
    let at = project(&mut app, centre);
    assert!(at.is_finite(), "{at}");
}

// ---------------------------------------------------------------------------------------
// Long sessions and fuzzing, short versions (the long runs are in docs/reliability.md).

/// `hipback soak`, briefly: random changes run without a panic and the report is printed.
#[test]
fn a_short_soak_run_changes_everything_without_a_panic() {
    let output = hipback()
        .args(["soak", "--frames", "300", "--seed", "7"])
        .output()
        .unwrap();
    common::assert_success(&output, "hipback soak");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let summary = stdout
        .lines()
        .find(|l| l.starts_with("soak: 300 frames, "))
        .unwrap_or_else(|| panic!("no summary in: {stdout}"));
    let changes: u32 = summary
        .trim_start_matches("soak: 300 frames, ")
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap();
    // A change every 1–40 frames.
    assert!(changes >= 300 / 40, "{summary}");
    assert!(stdout.contains("frame    300:"), "{stdout}");
}

/// Each fuzz target, for two seconds: many cases, no panic (the long runs are in the docs).
#[test]
fn a_short_fuzz_run_finds_no_panic() {
    use hipback::fuzz::{FuzzTarget, fuzz};
    for target in [FuzzTarget::Scenario, FuzzTarget::Referral, FuzzTarget::Glb] {
        let report = fuzz(target, Duration::from_secs(2), 11);
        assert!(report.cases > 50, "{target:?}: {report:?}");
        assert_eq!(report.panics, 0, "{target:?}: {:?}", report.crashing_inputs);
    }
}

/// Issue 11, window edge cases for the egui side: every panel laid out in a window shrunk to
/// one pixel and at extreme scale factors (0.5 and 3 pixels per point), a few frames each,
/// without a panic (no division by a zero size, no layout assertion).
#[test]
fn every_panel_survives_a_one_pixel_window_and_extreme_scale_factors() {
    use bevy_egui::egui::vec2;
    use hipback::posture::panel::{panel_state, posture_panel_ui};
    use hipback::posture::plugin::Postures;
    use hipback::referral::panel::{HeatPanelState, heat_panel_ui};
    use hipback::scenario::panel::scenario_panel_ui;
    let model = std::sync::Arc::new(postures());
    let posture_panel = panel_state(
        &Postures {
            model: Some(model.clone()),
            error: None,
        },
        &PostureState::settled(Posture::default(), Some(PostureId::Standing), 0.0),
        &ShownPosture {
            posture: Posture::default(),
            lengths: model.lengths(&Posture::default()),
        },
    )
    .unwrap();
    for (size, pixels_per_point) in [
        (vec2(1.0, 1.0), 1.0),
        (vec2(1.0, 1.0), 3.0),
        (vec2(2.0, 800.0), 0.5),
        (vec2(1440.0, 900.0), 3.0),
        (vec2(1440.0, 900.0), 0.5),
    ] {
        fn builder<S>(
            size: bevy_egui::egui::Vec2,
            pixels_per_point: f32,
        ) -> egui_kittest::HarnessBuilder<S> {
            Harness::builder()
                .with_size(size)
                .with_pixels_per_point(pixels_per_point)
        }
        builder(size, pixels_per_point)
            .build_ui_state(panel_ui, PanelState::default())
            .run_steps(3);
        builder(size, pixels_per_point)
            .build_ui_state(|ui, _: &mut ()| help_ui(ui), ())
            .run_steps(3);
        builder(size, pixels_per_point)
            .build_ui_state(scenario_panel_ui, panel_state_for("tight_piriformis"))
            .run_steps(3);
        builder(size, pixels_per_point)
            .build_ui_state(heat_panel_ui, HeatPanelState::default())
            .run_steps(3);
        builder(size, pixels_per_point)
            .build_ui_state(posture_panel_ui, posture_panel.clone())
            .run_steps(3);
    }
}

/// Issue 11: the window's settings come back at the next start; an unusable settings file
/// is kept aside (never overwritten), the app starts from the defaults and the panel says
/// so; a change is saved a moment later.
#[test]
fn settings_come_back_and_a_broken_file_is_kept_aside() {
    use hipback::referral::plugin::HeatSettings;
    use hipback::settings::{SettingsPath, SettingsStatus};
    use hipback::viewer::layers::LayerSettings;
    let dir = temp_dir("settings-app");
    let path = dir.join("settings.ron");
    let settings_app = || {
        let mut app = App::new();
        app.add_plugins(MinimalPlugins)
            .insert_resource(LayerSettings::default())
            .insert_resource(HeatSettings::default())
            .insert_resource(SettingsPath(path.clone()))
            .add_plugins(hipback::settings::plugin);
        app.update();
        app
    };
    // A broken file: defaults, a message naming it, the file kept aside.
    std::fs::write(&path, "(version: 1, layers: [").unwrap();
    let mut app = settings_app();
    let status = app.world().resource::<SettingsStatus>().0.clone().unwrap();
    assert!(
        status.contains("settings.ron") && status.contains("default"),
        "{status}"
    );
    assert_eq!(
        *app.world().resource::<LayerSettings>(),
        LayerSettings::default()
    );
    let aside: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("unusable"))
        .collect();
    assert_eq!(aside.len(), 1);
    assert_eq!(
        std::fs::read_to_string(&aside[0]).unwrap(),
        "(version: 1, layers: ["
    );
    // A change is saved about a second later.
    app.world_mut()
        .resource_mut::<LayerSettings>()
        .get_mut(Layer::Skin)
        .visible = false;
    app.world_mut()
        .resource_mut::<HeatSettings>()
        .opacity_0_to_1 = 0.25;
    app.update();
    assert!(!path.exists(), "saved at once, not after the pause");
    std::thread::sleep(Duration::from_millis(1_100));
    app.update();
    assert!(path.exists(), "not saved");
    // The next start has them back, and no message.
    let app = settings_app();
    assert!(
        !app.world()
            .resource::<LayerSettings>()
            .get(Layer::Skin)
            .visible
    );
    assert_eq!(app.world().resource::<HeatSettings>().opacity_0_to_1, 0.25);
    assert_eq!(app.world().resource::<SettingsStatus>().0, None);
}

/// The skin's node weights on its morph targets (its posture correctives).
fn skin_corrective_weights(app: &mut App) -> Vec<f32> {
    morph_weights(app, "skin")
}

/// Issue 9: the skin takes its posture correctives as the hips move: none standing, some on
/// the way from standing to a preset, and at the preset its own corrective whole and no other.
#[test]
fn the_skin_takes_the_posture_correctives_of_the_preset_it_reaches() {
    use hipback::posture::correctives::PRESETS;
    let user = temp_dir("posture-correctives");
    let mut app = posture_app("healthy", &user);
    load_scenarios(&mut app);
    settle(&mut app, 3);
    let frames =
        (hipback::posture::plugin::SWITCH_DURATION_S / FRAME.as_secs_f32()).ceil() as usize;
    let go = |app: &mut App, id: PostureId, updates: usize| {
        app.world_mut().write_message(PostureCommand::Select(id));
        for _ in 0..updates {
            app.update();
        }
    };
    assert_eq!(skin_corrective_weights(&mut app), vec![0.0; PRESETS.len()]);
    for (k, id) in PRESETS.into_iter().enumerate() {
        // Halfway there some corrective is partly in (halfway to knee-to-chest is a shallow
        // sit: sitting's).
        go(&mut app, id, frames / 2);
        let halfway = skin_corrective_weights(&mut app);
        assert!(
            halfway.iter().sum::<f32>() > 0.0 && halfway.iter().all(|w| *w < 1.0),
            "halfway to {id}: {halfway:?}"
        );
        go(&mut app, id, frames + 3);
        let mut expected = vec![0.0; PRESETS.len()];
        expected[k] = 1.0;
        assert_eq!(skin_corrective_weights(&mut app), expected, "at {id}");
        go(&mut app, PostureId::Standing, frames + 3);
        assert_eq!(
            skin_corrective_weights(&mut app),
            vec![0.0; PRESETS.len()],
            "back from {id}"
        );
    }
}
