//! The viewer's shell: model loading, camera, picking, layers, the one writer of materials and
//! morph weights, the side panel, actions and screenshots, each a plugin. `crate::app`
//! composes them with the capabilities (scenarios) into the window, screenshot and recording
//! apps; tests compose the core plugins without a renderer. The shell never imports a
//! capability.

pub mod actions;
pub mod camera;
pub mod fxaa;
pub mod layers;
pub mod look;
pub mod model;
pub mod pick_proxy;
pub mod picking;
pub mod screenshot;
pub mod ui;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use bevy::asset::{AssetMetaCheck, UnapprovedPathMode};
use bevy::core_pipeline::tonemapping::Tonemapping;
use bevy::prelude::*;

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
    /// How common each course of the sciatic nerve is.
    pub nerve_variants: Option<crate::anatomy::NerveVariantFacts>,
    /// The course of the sciatic nerve shown at start.
    pub nerve_variant: crate::anatomy::NerveVariant,
}

impl ViewerOptions {
    /// The model file as an absolute path (the asset server resolves relative paths against
    /// the assets folder, not the working directory).
    pub fn absolute_model_path(&self) -> PathBuf {
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
        // Bevy's file watcher (hot reload of the assets folder) only in `dev` builds; release
        // builds reload scenario files with `--watch` or the Reload button.
        watch_for_changes_override: Some(cfg!(feature = "dev")),
        ..default()
    }
}

/// The order of the viewer's work in `Update`, decided here once: every plugin puts its
/// systems in one of these sets.
#[derive(SystemSet, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ViewerSystems {
    /// Keys and panel clicks become actions; actions change settings.
    Input,
    /// Time-driven state: scenario easing and timelines.
    Simulate,
    /// Values derived from the state (effective tension, colours, pulses).
    Derive,
    /// The one writer of materials, visibility and morph weights.
    Present,
}

/// What a capability is still preparing (a scenario file loading): screenshots and
/// recordings wait until this is empty, besides the model.
#[derive(Resource, Clone, Debug, Default, PartialEq, Eq)]
pub struct WaitingFor(pub BTreeSet<&'static str>);

/// Loading, tagging, layers, selection, actions and camera commands: everything that needs no
/// renderer. Tests add it to `MinimalPlugins` + asset/glTF plugins.
pub fn core_plugin(app: &mut App) {
    app.init_resource::<WaitingFor>();
    app.configure_sets(
        Update,
        (
            ViewerSystems::Input,
            ViewerSystems::Simulate,
            ViewerSystems::Derive,
            ViewerSystems::Present,
        )
            .chain(),
    )
    .add_plugins((
        model::plugin,
        actions::plugin,
        layers::plugin,
        picking::plugin,
        pick_proxy::plugin,
        camera::plugin,
    ));
}

/// Puts the viewer's options into an app.
pub fn insert_options(app: &mut App, options: &ViewerOptions) {
    app.insert_resource(ModelSource {
        path: options.absolute_model_path(),
    })
    .insert_resource(options.layers.clone())
    .insert_resource(options.content.clone())
    .insert_resource(StartView(options.view))
    .insert_resource(ClearColor(look::BACKGROUND));
    if let Some(facts) = &options.nerve_variants {
        app.insert_resource(ui::NerveVariantInfo(facts.clone()));
    }
    app.insert_resource(layers::ShownNerveVariant(options.nerve_variant));
}

/// Spawns the window's orbit camera at the start view, with its lights.
pub fn spawn_window_camera(mut commands: Commands, start: Res<StartView>) {
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
