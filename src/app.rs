//! The apps: the viewer's shell and the capabilities composed into the interactive window, the
//! off-screen screenshot and the off-screen recording.

use std::time::Duration;

use bevy::app::{ScheduleRunnerPlugin, TaskPoolOptions, TaskPoolThreadAssignmentPolicy};
use bevy::prelude::*;
use bevy::render::RenderPlugin;
use bevy::render::pipelined_rendering::PipelinedRenderingPlugin;
use bevy::window::ExitCondition;
use bevy::winit::WinitPlugin;

use crate::posture;
use crate::posture::plugin::PostureOptions;
use crate::record::{self, Recording};
use crate::referral;
use crate::referral::plugin::HeatSettings;
use crate::scenario::{self, ScenarioOptions};
use crate::settings;
use crate::viewer::screenshot::{self, OffscreenShot, SmokeTest};
use crate::viewer::{self, ViewerOptions, asset_plugin, core_plugin, model};

/// Everything an app needs to know.
#[derive(Clone, Debug)]
pub struct AppOptions {
    /// The viewer's options (model, view, layers, content).
    pub viewer: ViewerOptions,
    /// The scenario options.
    pub scenario: ScenarioOptions,
    /// When to see a clinician, other sources of pain (the window shows it).
    pub guidance: Option<crate::content::guidance::Guidance>,
    /// How the heat map starts.
    pub heat: HeatSettings,
    /// How the posture starts.
    pub posture: PostureOptions,
}

/// The interactive window app; with `smoke` it renders that many frames, saves the window and
/// exits.
pub fn window_app(options: &AppOptions, smoke: Option<SmokeTest>) -> App {
    let mut app = App::new();
    app.add_plugins((
        DefaultPlugins
            .set(WindowPlugin {
                primary_window: Some(Window {
                    title: "hipback: hip and low back".to_owned(),
                    // Smaller for the smoke test: lavapipe renders on the CPU.
                    resolution: if smoke.is_some() {
                        (1000, 560).into()
                    } else {
                        (1440, 900).into()
                    },
                    ..default()
                }),
                ..default()
            })
            .set(asset_plugin())
            .set(model::gltf_plugin()),
        // Picking casts against low-poly proxies (viewer::pick_proxy), not Bevy's mesh picking.
    ));
    viewer::insert_options(&mut app, &options.viewer);
    if let Some(guidance) = &options.guidance {
        app.insert_resource(guidance.clone());
    }
    app.insert_resource(options.scenario.clone())
        .insert_resource(options.heat)
        .insert_resource(options.posture)
        .add_plugins((
            core_plugin,
            viewer::camera::orbit_plugin,
            viewer::ui::plugin,
            scenario::plugin,
            scenario::panel::plugin,
            posture::plugin::plugin,
            posture::panel::plugin,
            referral::plugin::plugin,
            referral::plugin::pointer_plugin,
            referral::panel::plugin,
        ))
        .add_systems(Startup, viewer::spawn_window_camera);
    match smoke {
        Some(smoke) => {
            app.insert_resource(smoke)
                .add_plugins(screenshot::smoke_plugin);
        }
        // The smoke test starts from the defaults and leaves the user's settings alone.
        None => {
            app.add_plugins(settings::plugin);
        }
    }
    app
}

/// How an off-screen app compiles its render pipelines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PipelineCompilation {
    /// Each one in the frame that first needs it, so every frame is whole: the recorder keeps
    /// every frame and the frame benchmark times them.
    Synchronous,
    /// In the background on two threads, while the model loads; the one picture waits until
    /// none is left ([`screenshot::offscreen_plugin`]). Synchronously they were compiled one
    /// after another on one thread: 1.39–1.44 s for a default screenshot on 2 cores, against
    /// 1.08–1.15 s, the same picture byte for byte.
    Background,
}

/// The off-screen apps' shortest frame: while loading, frames render nothing, and a busy loop
/// would take a core from the loading.
pub const FRAME_PAUSE: Duration = Duration::from_millis(4);

/// Bevy without a window, rendering on demand into images, compiling pipelines
/// synchronously (recordings, the frame benchmark).
pub fn headless_app() -> App {
    headless_app_compiling(PipelineCompilation::Synchronous)
}

/// Bevy without a window, rendering on demand into images.
pub fn headless_app_compiling(compilation: PipelineCompilation) -> App {
    let background = compilation == PipelineCompilation::Background;
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
                // Synchronous on lavapipe unless the app waits for the pipelines before it
                // exits: exiting while they compile fails (bevy PR #20195).
                synchronous_pipeline_compilation: !background,
                ..default()
            })
            .set(TaskPoolPlugin {
                task_pool_options: TaskPoolOptions {
                    // Pipelines compile on the async compute pool: Bevy gives it one thread
                    // on 2 cores, so they would compile one at a time.
                    async_compute: TaskPoolThreadAssignmentPolicy {
                        min_threads: if background { 2 } else { 1 },
                        ..TaskPoolOptions::default().async_compute
                    },
                    ..default()
                },
            })
            .disable::<WinitPlugin>()
            .disable::<PipelinedRenderingPlugin>(),
    )
    .add_plugins(ScheduleRunnerPlugin::run_loop(FRAME_PAUSE));
    app
}

/// What every off-screen app has: the headless engine, the options, the viewer core, the
/// scenario, the posture and the heat map; the caller adds how frames are driven and captured.
fn off_screen_app(options: &AppOptions, compilation: PipelineCompilation) -> App {
    let mut app = headless_app_compiling(compilation);
    viewer::insert_options(&mut app, &options.viewer);
    app.insert_resource(options.scenario.clone())
        .insert_resource(options.heat)
        .insert_resource(options.posture)
        .add_plugins((
            core_plugin,
            scenario::plugin,
            posture::plugin::plugin,
            referral::plugin::plugin,
        ));
    app
}

/// The off-screen app: renders one frame of `shot` into an image, saves it, exits.
pub fn offscreen_app(options: &AppOptions, shot: OffscreenShot) -> App {
    let mut app = off_screen_app(options, PipelineCompilation::Background);
    app.insert_resource(shot)
        .insert_resource(viewer::pick_proxy::NoPointer)
        .add_plugins(screenshot::offscreen_plugin);
    app
}

/// The off-screen recording app: renders the scenario's clip frame by frame, writes a GIF (or
/// PNG frames), exits.
pub fn record_app(options: &AppOptions, recording: Recording) -> App {
    let mut app = off_screen_app(options, PipelineCompilation::Synchronous);
    app.insert_resource(recording)
        .insert_resource(viewer::pick_proxy::NoPointer)
        .add_plugins(record::plugin);
    app
}

/// Finishes building `app` as `App::run` would (waiting for plugins that set up
/// asynchronously, such as the renderer), for callers that drive it with `App::update`.
pub fn finish_plugins(app: &mut App) {
    while app.plugins_state() == bevy::app::PluginsState::Adding {
        bevy::tasks::tick_global_task_pools_on_main_thread();
    }
    app.finish();
    app.cleanup();
}

/// The frame benchmark's hipback: everything on, rendering every frame into an image of
/// `size` (`hipback bench` times it against bare Bevy).
pub fn bench_app(options: &AppOptions, size: (u32, u32)) -> App {
    let mut app = off_screen_app(options, PipelineCompilation::Synchronous);
    app.insert_resource(screenshot::OffscreenCamera {
        width_px: size.0,
        height_px: size.1,
        view: options.viewer.view,
        framing: viewer::camera::Framing::default(),
        fxaa: screenshot::FxaaPass::InFrame,
    })
    .add_plugins(screenshot::offscreen_camera_plugin);
    app
}
