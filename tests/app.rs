//! ECS tests without rendering: the viewer's core plugins on `MinimalPlugins` + the asset and
//! glTF plugins, run on the bundled model. Plus the egui panel functions (`egui_kittest`) and the
//! CLI's argument and model errors (no GPU needed).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bevy::camera::NormalizedRenderTarget;
use bevy::mesh::MeshPlugin;
use bevy::picking::backend::HitData;
use bevy::picking::events::{Click, Pointer};
use bevy::picking::pointer::{Location, PointerButton, PointerId};
use bevy::prelude::*;
use bevy::world_serialization::WorldSerializationPlugin;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;

use hipback::anatomy::{Layer, Structure};
use hipback::viewer::camera::{CameraCommand, ViewPreset};
use hipback::viewer::layers::LayerSettings;
use hipback::viewer::model::{ModelError, ModelSource, ModelState, StructureTag};
use hipback::viewer::picking::Selection;
use hipback::viewer::ui::{PanelCommand, PanelState, SHORTCUTS, SelectionCard, help_ui, panel_ui};
use hipback::viewer::{self, asset_plugin, core_plugin};

fn bundled_model() -> PathBuf {
    let path = viewer::default_model_path();
    assert!(
        path.is_file(),
        "{}: the bundled model is missing (generate it with hipback-modelgen)",
        path.display()
    );
    path
}

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
    .insert_resource(ModelSource {
        path: model.to_path_buf(),
    })
    .add_plugins(core_plugin);
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
            // One more frame so commands issued by the observer (tags, materials) apply.
            app.update();
            app.update();
            return state;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    panic!("model still loading after 5000 frames");
}

fn tagged(app: &mut App) -> Vec<(Entity, Structure)> {
    let mut query = app.world_mut().query::<(Entity, &StructureTag)>();
    query
        .iter(app.world())
        .map(|(entity, tag)| (entity, tag.0))
        .collect()
}

#[test]
fn loading_the_bundled_model_tags_every_structure() {
    let mut app = core_app(&bundled_model());
    let state = load(&mut app);
    assert!(matches!(state, ModelState::Ready { .. }), "{state:?}");
    let tagged = tagged(&mut app);
    for structure in Structure::all() {
        let count = tagged.iter().filter(|(_, s)| *s == structure).count();
        assert_eq!(count, 1, "{structure}: {count} entities tagged");
    }
    assert_eq!(tagged.len(), Structure::all().len());
}

#[test]
fn the_skin_mesh_carries_a_region_for_every_vertex() {
    use hipback::anatomy::{SkinRegion, StructureKind};
    use hipback::viewer::model::ATTRIBUTE_SKIN_REGION;
    let mut app = core_app(&bundled_model());
    assert!(matches!(load(&mut app), ModelState::Ready { .. }));
    let skin = tagged(&mut app)
        .into_iter()
        .find(|(_, s)| s.kind == StructureKind::Skin)
        .map(|(e, _)| e)
        .unwrap();
    let handle = app.world().get::<Mesh3d>(skin).unwrap().0.clone();
    let meshes = app.world().resource::<Assets<Mesh>>();
    let mesh = meshes.get(&handle).unwrap();
    let Some(bevy::mesh::VertexAttributeValues::Float32(regions)) =
        mesh.attribute(ATTRIBUTE_SKIN_REGION)
    else {
        panic!("skin has no region attribute");
    };
    assert_eq!(regions.len(), mesh.count_vertices());
    let count = SkinRegion::all().len() as f32;
    assert!(
        regions
            .iter()
            .all(|r| r.fract() == 0.0 && *r >= 0.0 && *r < count)
    );
}

/// Copies the bundled model with one node and mesh renamed, so that structure is missing.
fn model_without(structure: &str, dir: &Path) -> PathBuf {
    let bytes = std::fs::read(bundled_model()).unwrap();
    assert_eq!(&bytes[0..4], b"glTF");
    let json_len = u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize;
    let json: &str = std::str::from_utf8(&bytes[20..20 + json_len]).unwrap();
    let renamed = json.replace(&format!("\"{structure}\""), "\"not_a_structure\"");
    assert_ne!(renamed, json, "{structure} not found in the model");
    let mut json_chunk = renamed.into_bytes();
    while json_chunk.len() % 4 != 0 {
        json_chunk.push(b' ');
    }
    let rest = &bytes[20 + json_len..];
    let total = 12 + 8 + json_chunk.len() + rest.len();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"glTF");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&u32::try_from(total).unwrap().to_le_bytes());
    out.extend_from_slice(&u32::try_from(json_chunk.len()).unwrap().to_le_bytes());
    out.extend_from_slice(b"JSON");
    out.extend_from_slice(&json_chunk);
    out.extend_from_slice(rest);
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("incomplete.glb");
    std::fs::write(&path, out).unwrap();
    path
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hipback-test-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
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
    assert!(matches!(load(&mut app), ModelState::Ready { .. }));
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

#[test]
fn clicking_a_structure_selects_it() {
    let mut app = core_app(&bundled_model());
    assert!(matches!(load(&mut app), ModelState::Ready { .. }));
    let piriformis = Structure::from_gltf_name("piriformis_l").unwrap();
    let (entity, _) = tagged(&mut app)
        .into_iter()
        .find(|(_, s)| *s == piriformis)
        .unwrap();
    let camera = app.world_mut().spawn_empty().id();
    let click = Pointer::new(
        PointerId::Mouse,
        Location {
            target: NormalizedRenderTarget::None {
                width: 64,
                height: 64,
            },
            position: Vec2::new(32.0, 32.0),
        },
        Click {
            button: PointerButton::Primary,
            hit: HitData::new(camera, 0.5, None, None),
            duration: Duration::from_millis(80),
            count: 1,
        },
        entity,
    );
    app.world_mut().trigger(click);
    app.update();
    assert_eq!(
        app.world().resource::<Selection>().selected,
        Some(piriformis)
    );

    // Isolating the selection hides everything else.
    app.world_mut()
        .resource_mut::<LayerSettings>()
        .isolate_selection = true;
    app.update();
    let mut query = app.world_mut().query::<(&StructureTag, &Visibility)>();
    for (tag, visibility) in query.iter(app.world()) {
        assert_eq!(
            *visibility != Visibility::Hidden,
            tag.0 == piriformis,
            "{}",
            tag.0
        );
    }
}

#[test]
fn panel_layer_toggle_and_view_preset() {
    let mut harness = Harness::new_ui_state(panel_ui, PanelState::default());
    assert!(harness.state().layers.get(Layer::Muscles).visible);
    harness.get_by_label("Muscles").click();
    harness.run();
    assert!(!harness.state().layers.get(Layer::Muscles).visible);
    assert!(harness.state().layers.get(Layer::Bones).visible);

    harness.get_by_label("Posterior").click();
    harness.run();
    assert!(
        harness
            .state()
            .commands
            .contains(&PanelCommand::Camera(CameraCommand::Preset(
                ViewPreset::Posterior
            ))),
        "{:?}",
        harness.state().commands
    );
}

#[test]
fn panel_shows_the_selection_with_sources_and_the_help_lists_shortcuts() {
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
    for (keys, _) in SHORTCUTS {
        harness.get_by_label(keys);
    }
}

fn hipback() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hipback"));
    command.env("XDG_RUNTIME_DIR", "/tmp");
    command
}

fn assert_one_line_error(output: &std::process::Output, needle: &str) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr: {stderr}");
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "expected one line, got: {stderr}");
    assert!(lines[0].contains(needle), "{needle} not in: {}", lines[0]);
    assert!(!stderr.contains("panicked"), "{stderr}");
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

    let output = hipback().args(["--view", "sideways"]).output().unwrap();
    assert_one_line_error(&output, "sideways");

    let output = hipback().arg("validate").output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("ok: all 25 structures"));
}
