//! One measured run in its own process: the bare Bevy app, and the plugin that times frames in
//! either app and finds the first frame whose picture shows the model.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use bevy::prelude::*;
use bevy::render::renderer::RenderAdapterInfo;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use bevy::world_serialization::{WorldAsset, WorldAssetRoot};

use super::{BenchApp, RESULT_PREFIX, RunResult};
use crate::viewer::camera::{Framing, ViewPreset};
use crate::viewer::look;
use crate::viewer::screenshot::{
    FxaaPass, OffscreenCamera, RenderThisFrame, TargetImage, failure_exit, frame_to_rgb,
    offscreen_camera_plugin, save_png,
};

/// Give up when the model has not shown after this long, seconds.
const MAX_WAIT_S: f64 = 300.0;
/// A pixel belongs to the model when a channel differs from the background by more than this.
const MODEL_PIXEL_DIFFERENCE: u8 = 16;
/// The picture shows the model when at least this share of its pixels do.
const MODEL_SHARE: f64 = 0.01;

/// The engine floor: Bevy configured as hipback's off-screen apps are (same plugins, same
/// synchronous pipeline compilation), the same glb as a scene, the same off-screen camera with
/// its lights, shadows and anti-aliasing, and nothing else: no materials changed, no scenario,
/// no heat map, no picking.
pub fn bare_app(model: &Path, size: (u32, u32)) -> App {
    let mut app = crate::app::headless_app();
    app.insert_resource(ClearColor(look::BACKGROUND))
        .insert_resource(OffscreenCamera {
            width_px: size.0,
            height_px: size.1,
            view: ViewPreset::Posterior,
            framing: Framing::default(),
            fxaa: FxaaPass::InFrame,
        })
        .insert_resource(BareModel(model.to_path_buf()))
        .add_plugins(offscreen_camera_plugin)
        .add_systems(Startup, spawn_bare_model);
    app
}

#[derive(Resource)]
struct BareModel(PathBuf);

fn spawn_bare_model(mut commands: Commands, assets: Res<AssetServer>, model: Res<BareModel>) {
    let scene: Handle<WorldAsset> =
        assets.load(GltfAssetLabel::Scene(0).from_asset(model.0.clone()));
    commands.spawn(WorldAssetRoot(scene));
}

/// Where a run stands.
#[derive(Resource)]
struct Bench {
    app: BenchApp,
    started: Instant,
    /// Steady frames wanted.
    frames_wanted: usize,
    /// When each frame began, seconds since the start.
    frame_start_s: Vec<f64>,
    /// How long each frame's main schedule ran (the app's systems and Bevy's, before the
    /// renderer extracts and draws), seconds; from the start of `First` to the end of
    /// `Last`, give or take the systems there that run before or after the two marks.
    frame_update_s: Vec<f64>,
    /// The first frame (index) whose picture showed the model.
    first_model_frame: Option<usize>,
    /// Probes spawned and not yet back.
    probes_in_flight: u32,
    /// The first frame timed as steady (no probe in flight any more).
    steady_from: Option<usize>,
    /// Where to save the last timed frame.
    picture: Option<PathBuf>,
    finished: bool,
}

/// A readback of the picture made in frame `frame`.
#[derive(Component)]
struct Probe {
    frame: usize,
}

/// Runs `app` with the timing plugin; prints one [`RunResult`] line; exits.
pub fn run(
    mut app: App,
    which: BenchApp,
    frames: u32,
    started: Instant,
    picture: Option<PathBuf>,
) -> ExitCode {
    app.insert_resource(Bench {
        app: which,
        started,
        frames_wanted: frames as usize,
        frame_start_s: Vec::new(),
        frame_update_s: Vec::new(),
        first_model_frame: None,
        probes_in_flight: 0,
        steady_from: None,
        picture,
        finished: false,
    })
    .add_systems(First, mark_frame_start)
    .add_systems(Last, (mark_update_end, drive).chain())
    .set_runner(run_frames);
    match app.run() {
        AppExit::Success => ExitCode::SUCCESS,
        AppExit::Error(code) => ExitCode::from(code.get()),
    }
}

/// The off-screen apps' loop, except that frames follow each other without a pause once the
/// model shows: the pause (`app::headless_app`'s 4 ms) leaves the loading a core, but it
/// would also be a floor under every timed frame, and on a GPU a frame can take less.
fn run_frames(mut app: App) -> AppExit {
    crate::app::finish_plugins(&mut app);
    loop {
        let started = Instant::now();
        app.update();
        if let Some(exit) = app.should_exit() {
            return exit;
        }
        let showing = app
            .world()
            .get_resource::<Bench>()
            .is_some_and(|bench| bench.first_model_frame.is_some());
        if !showing {
            std::thread::sleep(crate::app::FRAME_PAUSE.saturating_sub(started.elapsed()));
        }
    }
}

fn mark_frame_start(mut bench: ResMut<Bench>, mut render: Option<ResMut<RenderThisFrame>>) {
    let now_s = bench.started.elapsed().as_secs_f64();
    bench.frame_start_s.push(now_s);
    // Both apps render every frame, as a window does.
    if let Some(render) = render.as_mut() {
        **render = RenderThisFrame::Full;
    }
}

fn mark_update_end(mut bench: ResMut<Bench>) {
    let now_s = bench.started.elapsed().as_secs_f64();
    let began_s = bench.frame_start_s.last().copied().unwrap_or(now_s);
    bench.frame_update_s.push(now_s - began_s);
}

fn drive(
    mut commands: Commands,
    mut bench: ResMut<Bench>,
    target: Option<Res<TargetImage>>,
    adapter: Option<Res<RenderAdapterInfo>>,
    mut exit: MessageWriter<AppExit>,
) {
    if bench.finished {
        return;
    }
    let frame = bench.frame_start_s.len() - 1;
    if bench.started.elapsed().as_secs_f64() > MAX_WAIT_S {
        eprintln!("hipback bench: the model did not show within {MAX_WAIT_S} s");
        exit.write(failure_exit());
        bench.finished = true;
        return;
    }
    let Some(first) = bench.first_model_frame else {
        // Probe every frame until one shows the model: a readback costs the same in both
        // apps, and the frames timed later carry none.
        if let Some(target) = target {
            bench.probes_in_flight += 1;
            commands
                .spawn((Screenshot::image(target.0.clone()), Probe { frame }))
                .observe(read_probe);
        }
        return;
    };
    if bench.probes_in_flight > 0 {
        return;
    }
    let steady_from = *bench.steady_from.get_or_insert(frame + 1);
    // Frame i lasted from its start to the next frame's start.
    let timed = bench.frame_start_s.len().saturating_sub(steady_from + 1);
    if timed < bench.frames_wanted {
        return;
    }
    let starts = &bench.frame_start_s[steady_from..];
    let frame_ms: Vec<f64> = starts
        .windows(2)
        .take(bench.frames_wanted)
        .map(|w| (w[1] - w[0]) * 1000.0)
        .collect();
    let update_ms: Vec<f64> = bench.frame_update_s[steady_from..]
        .iter()
        .take(bench.frames_wanted)
        .map(|s| s * 1000.0)
        .collect();
    let result = RunResult {
        app: bench.app,
        adapter: adapter.map_or_else(
            || "unknown".to_owned(),
            |a| format!("{} ({:?}, {})", a.name, a.backend, a.driver_info),
        ),
        // The first model frame ended when the next one began.
        first_model_frame_s: bench.frame_start_s[first + 1],
        frame_ms,
        update_ms,
        peak_rss_mib: peak_rss_mib(),
    };
    match serde_json::to_string(&result) {
        Ok(line) => {
            println!("{RESULT_PREFIX}{line}");
            match (&bench.picture, target) {
                // The picture of the frame after the timed ones: the timing is done.
                (Some(out), Some(target)) => {
                    let out = out.clone();
                    commands.spawn(Screenshot::image(target.0.clone())).observe(
                        move |captured: On<ScreenshotCaptured>,
                              mut exit: MessageWriter<AppExit>| {
                            if let Err(e) = save_png(&captured.image, &out) {
                                eprintln!("hipback bench: {}: {e}", out.display());
                            }
                            exit.write(AppExit::Success);
                        },
                    );
                }
                _ => {
                    exit.write(AppExit::Success);
                }
            }
        }
        Err(e) => {
            eprintln!("hipback bench: {e}");
            exit.write(failure_exit());
        }
    }
    bench.finished = true;
}

fn read_probe(captured: On<ScreenshotCaptured>, probes: Query<&Probe>, mut bench: ResMut<Bench>) {
    bench.probes_in_flight = bench.probes_in_flight.saturating_sub(1);
    let Ok(probe) = probes.get(captured.entity) else {
        return;
    };
    let shows = frame_to_rgb(&captured.image).is_ok_and(|rgb| shows_model(&rgb));
    if shows && bench.first_model_frame.is_none_or(|f| probe.frame < f) {
        bench.first_model_frame = Some(probe.frame);
    }
}

/// Whether a picture shows the model: enough pixels differ from the background.
pub fn shows_model(rgb: &image::RgbImage) -> bool {
    let background = look::BACKGROUND.to_srgba().to_u8_array();
    let differs = rgb
        .pixels()
        .filter(|p| {
            p.0.iter()
                .zip(background)
                .any(|(a, b)| a.abs_diff(b) > MODEL_PIXEL_DIFFERENCE)
        })
        .count();
    differs as f64 >= MODEL_SHARE * f64::from(rgb.width() * rgb.height())
}

/// The process's peak resident memory (Linux `VmHWM`), MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_background_picture_does_not_show_the_model_and_a_patch_does() {
        let bg = look::BACKGROUND.to_srgba().to_u8_array();
        let mut rgb = image::RgbImage::from_pixel(100, 100, image::Rgb([bg[0], bg[1], bg[2]]));
        assert!(!shows_model(&rgb));
        // 0.5 % of the pixels: noise, not the model.
        for x in 0..50 {
            rgb.put_pixel(x, 0, image::Rgb([200, 150, 140]));
        }
        assert!(!shows_model(&rgb));
        for y in 0..10 {
            for x in 0..20 {
                rgb.put_pixel(x, y, image::Rgb([200, 150, 140]));
            }
        }
        assert!(shows_model(&rgb));
    }
}
