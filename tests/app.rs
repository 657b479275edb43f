//! ECS tests without a renderer: the viewer's plugins on `MinimalPlugins` + the asset and glTF
//! plugins, run on the bundled model. The interactive app adds a window without winit, real
//! input messages, Bevy's mesh picking and the orbit camera, so pointer and keyboard input go
//! through the same systems as in the window. Plus the egui panel (`egui_kittest`) and the
//! CLI's argument and model errors (no GPU needed).

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
use bevy::picking::mesh_picking::MeshPickingPlugin;
use bevy::prelude::*;
use bevy::render::camera::camera_system;
use bevy::render::texture::ManualTextureViews;
use bevy::time::TimeUpdateStrategy;
use bevy::window::{CursorMoved, PrimaryWindow, WindowEvent, WindowResolution};
use bevy::world_serialization::WorldSerializationPlugin;
use bevy_panorbit_camera::PanOrbitCamera;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

use common::{assert_one_line_error, bundled_model, model_without, temp_dir};
use hipback::anatomy::{Layer, Side, SkinRegion, Structure};
use hipback::viewer::actions::{Action, HelpOpen};
use hipback::viewer::camera::{
    FOCUS_BOUND_RADIUS_M, Framing, MainCamera, PELVIS_FOCUS, StartView, ViewPreset, ZOOM_MAX_M,
    ZOOM_MIN_M, framing_for_box,
};
use hipback::viewer::layers::{LayerSettings, XRAY_OPACITY_0_TO_1};
use hipback::viewer::model::{
    ATTRIBUTE_SKIN_REGION, ModelError, ModelSource, ModelState, StructureTag,
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
        DefaultPickingPlugins,
        MeshPickingPlugin,
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

fn tagged(app: &mut App) -> Vec<(Entity, Structure)> {
    let mut query = app.world_mut().query::<(Entity, &StructureTag)>();
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
        .unwrap()
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
    let tagged = tagged(&mut app);
    for structure in Structure::all() {
        let count = tagged.iter().filter(|(_, s)| *s == structure).count();
        assert_eq!(count, 1, "{structure}: {count} entities tagged");
    }
    assert_eq!(tagged.len(), Structure::all().len());
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
    let ModelState::Failed(err @ ModelError::Incomplete { .. }) = state else {
        panic!("expected an incomplete model, got {state:?}");
    };
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
        let mut query = app.world_mut().query::<(&StructureTag, &Visibility)>();
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
                // Scenario actions are tested with the scenarios.
                Action::PlayPause | Action::NextScenario | Action::PreviousScenario => {}
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
    // it: aim through the middle of gluteus medius, where a bone lies behind the muscles.
    let target = world_centre(&mut app, "gluteus_medius_r");
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
    let orbit = q.single(app.world()).unwrap().clone();
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
    assert_one_line_error(&output, "garbage.glb: not a valid glTF");

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
    assert!(String::from_utf8_lossy(&output.stdout).contains("ok: all 25 structures"));
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
