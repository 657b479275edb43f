//! The 3D viewer: one plugin per capability, composed into a window app, an off-screen
//! screenshot app, or (for tests) a core app without any renderer.

pub mod camera;
pub mod layers;
pub mod look;
pub mod model;
pub mod picking;
pub mod screenshot;
pub mod ui;

use std::path::{Path, PathBuf};
use std::time::Duration;

use bevy::app::ScheduleRunnerPlugin;
use bevy::asset::{AssetMetaCheck, UnapprovedPathMode};
use bevy::core_pipeline::tonemapping::Tonemapping;
use bevy::picking::mesh_picking::MeshPickingPlugin;
use bevy::prelude::*;
use bevy::render::RenderPlugin;
use bevy::render::pipelined_rendering::PipelinedRenderingPlugin;
use bevy::window::ExitCondition;
use bevy::winit::WinitPlugin;

use crate::content::ContentTable;
use camera::{MainCamera, StartView, ViewPreset};
use layers::LayerSettings;
use model::ModelSource;

/// The folder holding `models/` and `data/`: `$BEVY_ASSET_ROOT/assets` if set, otherwise the
/// crate's `assets/` folder, otherwise `assets/` next to the executable (an installed copy).
pub fn assets_dir() -> PathBuf {
    if let Some(root) = std::env::var_os("BEVY_ASSET_ROOT") {
        return PathBuf::from(root).join("assets");
    }
    let crate_assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    if crate_assets.is_dir() {
        return crate_assets;
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join("assets")))
        .unwrap_or(crate_assets)
}

/// The bundled model.
pub fn default_model_path() -> PathBuf {
    assets_dir().join("models").join("pelvis.glb")
}

/// The bundled side-panel content.
pub fn default_content_path() -> PathBuf {
    assets_dir().join(crate::content::CONTENT_FILE)
}

/// What every viewer app needs to know.
#[derive(Clone, Debug)]
pub struct ViewerOptions {
    /// The model file (absolute, or relative to the working directory).
    pub model_path: PathBuf,
    /// The start view.
    pub view: ViewPreset,
    /// Layer settings at start.
    pub layers: LayerSettings,
    /// Side-panel content.
    pub content: ContentTable,
}

impl ViewerOptions {
    fn absolute_model_path(&self) -> PathBuf {
        std::path::absolute(&self.model_path).unwrap_or_else(|_| self.model_path.clone())
    }
}

/// The asset plugin as every viewer app configures it: the crate's assets folder, no `.meta`
/// files, and model files from anywhere on disk (`--model`).
pub fn asset_plugin() -> AssetPlugin {
    AssetPlugin {
        file_path: assets_dir().display().to_string(),
        meta_check: AssetMetaCheck::Never,
        unapproved_path_mode: UnapprovedPathMode::Allow,
        watch_for_changes_override: Some(false),
        ..default()
    }
}

/// Loading, tagging, layers, selection and camera commands: everything that needs no renderer.
/// Tests add it to `MinimalPlugins` + asset/glTF plugins.
pub fn core_plugin(app: &mut App) {
    app.add_plugins((
        model::plugin,
        layers::plugin,
        picking::plugin,
        camera::plugin,
    ));
}

fn insert_options(app: &mut App, options: &ViewerOptions) {
    app.insert_resource(ModelSource {
        path: options.absolute_model_path(),
    })
    .insert_resource(options.layers.clone())
    .insert_resource(options.content.clone())
    .insert_resource(StartView(options.view))
    .insert_resource(ClearColor(look::BACKGROUND));
}

/// The interactive window app; with `smoke` it renders that many frames, saves the window and
/// exits.
pub fn window_app(options: &ViewerOptions, smoke: Option<screenshot::SmokeTest>) -> App {
    let mut app = App::new();
    app.add_plugins((
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: Some(Window {
                    title: "hipback: hip and low back".to_owned(),
                    // Smaller for the smoke test: lavapipe renders on the CPU.
                    resolution: if smoke.is_some() {
                        (800, 500).into()
                    } else {
                        (1440, 900).into()
                    },
                    ..default()
                }),
                ..default()
            })
            .set(asset_plugin())
            .set(model::gltf_plugin()),
        MeshPickingPlugin,
    ));
    insert_options(&mut app, options);
    app.add_plugins((core_plugin, camera::orbit_plugin, ui::plugin))
        .add_systems(Startup, spawn_window_camera);
    if let Some(smoke) = smoke {
        app.insert_resource(smoke)
            .add_plugins(screenshot::smoke_plugin);
    }
    app
}

fn spawn_window_camera(mut commands: Commands, start: Res<StartView>) {
    let camera = commands
        .spawn((
            MainCamera,
            Camera3d::default(),
            camera::orbit_camera(start.0),
            Projection::Perspective(camera::projection()),
            Tonemapping::None,
            // FXAA, not MSAA: Mesa lavapipe shades every MSAA sample, which made a window
            // frame ~4x slower; FXAA is one cheap pass.
            Msaa::Off,
            bevy::anti_alias::fxaa::Fxaa::default(),
            look::ambient(),
            camera::preset_transform(start.0, camera::Framing::default()),
        ))
        .id();
    look::spawn_camera_lights(&mut commands, camera, false);
}

/// The off-screen app: renders one frame of `shot` into an image, saves it, exits. No window.
pub fn offscreen_app(options: &ViewerOptions, shot: screenshot::OffscreenShot) -> App {
    let mut app = App::new();
    app.add_plugins(
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: None,
                exit_condition: ExitCondition::DontExit,
                ..default()
            })
            .set(asset_plugin())
            .set(model::gltf_plugin())
            .set(RenderPlugin {
                // lavapipe: avoid exiting while pipelines compile (bevy PR #20195).
                synchronous_pipeline_compilation: true,
                ..default()
            })
            .disable::<WinitPlugin>()
            .disable::<PipelinedRenderingPlugin>(),
    )
    .add_plugins(ScheduleRunnerPlugin::run_loop(Duration::ZERO));
    insert_options(&mut app, options);
    app.insert_resource(shot)
        .add_plugins((core_plugin, screenshot::offscreen_plugin));
    app
}
