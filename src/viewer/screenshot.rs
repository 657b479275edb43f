//! Capturing frames: the off-screen `screenshot` subcommand (render to an image, no window) and
//! the window smoke test (count frames, screenshot the window, exit).

use std::num::NonZeroU8;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bevy::asset::RenderAssetUsages;
use bevy::camera::RenderTarget;
use bevy::core_pipeline::tonemapping::Tonemapping;
use bevy::prelude::*;
use bevy::render::render_resource::{PipelineCache, TextureFormat};
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use bevy::render::{Render, RenderApp, RenderSystems};

use super::camera::{Framing, MainCamera, ViewPreset, preset_transform, projection};
use super::look;
use super::model::ModelState;

/// How long to wait for the model before giving up, seconds.
pub const MAX_WAIT_SECS: f64 = 120.0;
/// Exit code for every user-facing failure (bad model, bad argument, no GPU).
pub const FAILURE_EXIT_CODE: u8 = 2;

/// The error exit.
pub fn failure_exit() -> AppExit {
    AppExit::Error(NonZeroU8::new(FAILURE_EXIT_CODE).unwrap_or(NonZeroU8::MIN))
}

/// An off-screen capture request.
#[derive(Resource, Clone, Debug)]
pub struct OffscreenShot {
    /// Output PNG.
    pub out: PathBuf,
    /// Image width, pixels.
    pub width_px: u32,
    /// Image height, pixels.
    pub height_px: u32,
    /// The view.
    pub view: ViewPreset,
    /// What the camera looks at and from how far (default: the whole pelvis).
    pub framing: Framing,
}

/// A window smoke test: render `frames` frames once everything is ready, save the window to
/// `screenshot`, exit.
#[derive(Resource, Clone, Debug)]
pub struct SmokeTest {
    /// Frames to render (counted from when the model and capabilities are ready) before the
    /// screenshot.
    pub frames: u32,
    /// Where the window screenshot goes.
    pub screenshot: PathBuf,
}

/// The image the off-screen camera renders into.
#[derive(Resource)]
pub struct TargetImage(pub Handle<Image>);

/// The size and view of an off-screen camera.
#[derive(Resource, Clone, Copy, Debug)]
pub struct OffscreenCamera {
    /// Image width, pixels.
    pub width_px: u32,
    /// Image height, pixels.
    pub height_px: u32,
    /// The view.
    pub view: ViewPreset,
    /// What the camera looks at and from how far.
    pub framing: Framing,
    /// Where its anti-aliasing runs.
    pub fxaa: FxaaPass,
}

/// Where an off-screen camera's FXAA runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FxaaPass {
    /// Bevy's pass, in every frame: the recorder keeps every frame, and the frame benchmark
    /// holds hipback and bare Bevy to the same settings.
    InFrame,
    /// On the CPU, once, on the captured picture ([`super::fxaa`]): a screenshot. On lavapipe
    /// Bevy's pass and its pipeline took about 0.15 s of a 1.15 s default screenshot.
    AfterCapture,
}

/// Where the capture stands.
#[derive(Resource, Default)]
struct CaptureProgress {
    frames: u32,
    frames_since_ready: u32,
    /// Frames, once ready, in which pipelines were still compiling.
    frames_compiling: u32,
    /// Whether frames without the camera followed the last warm-up.
    warm_up_again: bool,
    requested: bool,
    started_secs: Option<f64>,
}

/// Frames rendered before the one captured, once the camera is on. A screenshot waits after
/// them until its pipelines have compiled (the recorder and the benchmark compile them
/// synchronously, bevy#21600), so the frame is not blank; but the first one is not complete
/// either: the first frame after the camera turns on showed the tensed muscles
/// slightly off (about 1 200 pixels of a 640x400 picture, up to 37/255), while the 2nd, 3rd
/// and 6th frames were identical, pixel for pixel. The warm-up frame draws into a single
/// pixel ([`RenderThisFrame::WarmUp`]): the picture after it is identical, pixel for pixel,
/// and at 1280x720 on lavapipe the warm-up costs about half a full frame instead of a whole
/// one.
pub const WARM_UP_FRAMES: u32 = 1;

/// Whether and how the off-screen camera renders this frame: the capture drivers ask for each
/// frame they capture (or warm up). On lavapipe a rendered frame costs as much as the one that
/// is kept, so frames spent loading, or waiting for a capture to come back from the GPU,
/// render nothing; while loading they would also take the CPU from the loading itself.
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RenderThisFrame {
    /// The camera is off.
    #[default]
    Nothing,
    /// Everything is prepared and drawn, into one pixel.
    WarmUp,
    /// The whole picture.
    Full,
}

/// An off-screen camera rendering into [`TargetImage`] (no window), only in the frames a
/// driver asks for ([`RenderThisFrame`]).
pub fn offscreen_camera_plugin(app: &mut App) {
    app.init_resource::<RenderThisFrame>()
        .add_systems(Startup, spawn_offscreen_camera)
        .add_systems(
            PostUpdate,
            // Before visibility: an inactive camera leaves every mesh invisible, and the
            // renderer skips the morphs and skins of invisible meshes.
            render_only_when_asked
                .before(bevy::camera::visibility::VisibilitySystems::CheckVisibility)
                .before(bevy::camera::CameraUpdateSystems),
        );
}

/// Switches the off-screen camera on for the frames asked for, then clears the request.
fn render_only_when_asked(
    mut render: ResMut<RenderThisFrame>,
    mut cameras: Query<&mut Camera, With<MainCamera>>,
) {
    let wanted = std::mem::take(&mut *render);
    let active = wanted != RenderThisFrame::Nothing;
    let viewport = (wanted == RenderThisFrame::WarmUp).then(|| bevy::camera::Viewport {
        physical_position: UVec2::ZERO,
        physical_size: UVec2::ONE,
        ..default()
    });
    let size = |v: &Option<bevy::camera::Viewport>| v.as_ref().map(|v| v.physical_size);
    for mut camera in &mut cameras {
        // Written only on change: the camera's change ticks stay quiet in steady frames.
        if camera.is_active != active {
            camera.is_active = active;
        }
        if size(&camera.viewport) != size(&viewport) {
            camera.viewport = viewport.clone();
        }
    }
}

/// One off-screen picture of [`OffscreenShot`]: wait for the model (and anything in
/// [`super::WaitingFor`]), pre-roll, capture, save, exit.
pub fn offscreen_plugin(app: &mut App) {
    let shot = app.world().get_resource::<OffscreenShot>().cloned();
    if let Some(shot) = shot {
        app.insert_resource(OffscreenCamera {
            width_px: shot.width_px,
            height_px: shot.height_px,
            view: shot.view,
            framing: shot.framing,
            fxaa: FxaaPass::AfterCapture,
        });
    }
    app.init_resource::<CaptureProgress>()
        .add_plugins((offscreen_camera_plugin, count_compiling_plugin))
        .add_systems(Update, drive_offscreen_capture);
}

/// The window smoke test.
pub fn smoke_plugin(app: &mut App) {
    app.add_plugins(count_compiling_plugin)
        .init_resource::<CaptureProgress>()
        .add_systems(Update, drive_smoke_test);
}

/// How many render pipelines were still compiling after the last rendered frame, shared by
/// the main and render worlds. A window (and a screenshot, see
/// [`crate::app::PipelineCompilation`]) compiles its pipelines in the background and draws
/// nothing with a pipeline until it is ready: on a busy machine that took more than the
/// smoke test's frames, and it saved an empty window.
#[derive(Resource, Clone, Default)]
struct PipelinesCompiling(Arc<AtomicUsize>);

/// Keeps [`PipelinesCompiling`] up to date.
fn count_compiling_plugin(app: &mut App) {
    let compiling = PipelinesCompiling::default();
    if let Some(render_app) = app.get_sub_app_mut(RenderApp) {
        render_app.insert_resource(compiling.clone()).add_systems(
            Render,
            count_compiling_pipelines.in_set(RenderSystems::Cleanup),
        );
    }
    app.insert_resource(compiling);
}

fn count_compiling_pipelines(cache: Res<PipelineCache>, compiling: Res<PipelinesCompiling>) {
    compiling
        .0
        .store(cache.waiting_pipelines().count(), Ordering::Relaxed);
}

fn spawn_offscreen_camera(
    mut commands: Commands,
    mut images: ResMut<Assets<Image>>,
    shot: Res<OffscreenCamera>,
) {
    let mut image = Image::new_target_texture(
        shot.width_px,
        shot.height_px,
        TextureFormat::Rgba8UnormSrgb,
        None,
    );
    image.asset_usage = RenderAssetUsages::default();
    let handle = images.add(image);
    let camera = commands
        .spawn((
            MainCamera,
            Camera3d::default(),
            RenderTarget::Image(handle.clone().into()),
            Camera {
                clear_color: ClearColorConfig::Custom(look::BACKGROUND),
                // Off until a driver asks for a frame.
                is_active: false,
                ..default()
            },
            Projection::Perspective(projection()),
            Tonemapping::None,
            // FXAA (in the frame or after capture), as in the window: lavapipe shades every
            // MSAA sample, and 4x MSAA made a 1280x720 frame about 1.4x slower for a picture
            // that differs only along edges.
            Msaa::Off,
            look::ambient(),
            preset_transform(shot.view, shot.framing),
        ))
        .id();
    if shot.fxaa == FxaaPass::InFrame {
        commands
            .entity(camera)
            .insert(bevy::anti_alias::fxaa::Fxaa::default());
    }
    look::spawn_camera_lights(&mut commands, camera, false);
    commands.insert_resource(TargetImage(handle));
}

/// Whether everything a picture needs is ready: the model loaded, no capability waiting.
/// `Err` carries the model's problem.
fn ready_to_capture(state: &ModelState, waiting: &super::WaitingFor) -> Result<bool, String> {
    match state {
        ModelState::Failed(err) => Err(err.to_string()),
        ModelState::Loading => Ok(false),
        ModelState::Ready { .. } => Ok(waiting.0.is_empty()),
    }
}

/// `ready_to_capture` for the capture drivers: a failed load is printed and ends the app
/// with a failure status; `true` once everything is ready.
pub fn ready_or_exit(
    state: &ModelState,
    waiting: &super::WaitingFor,
    exit: &mut MessageWriter<AppExit>,
) -> bool {
    match ready_to_capture(state, waiting) {
        Ok(ready) => ready,
        Err(err) => {
            eprintln!("hipback: {err}");
            exit.write(failure_exit());
            false
        }
    }
}

fn drive_offscreen_capture(
    mut commands: Commands,
    mut progress: ResMut<CaptureProgress>,
    state: Res<ModelState>,
    waiting: Res<super::WaitingFor>,
    target: Res<TargetImage>,
    shot: Res<OffscreenShot>,
    camera: Res<OffscreenCamera>,
    compiling: Res<PipelinesCompiling>,
    time: Res<Time<Real>>,
    mut render: ResMut<RenderThisFrame>,
    mut exit: MessageWriter<AppExit>,
) {
    progress.frames += 1;
    if time.elapsed_secs_f64() > MAX_WAIT_SECS {
        eprintln!(
            "hipback: {}: no frame captured after {MAX_WAIT_SECS} s",
            shot.out.display()
        );
        exit.write(failure_exit());
        return;
    }
    let ready = ready_or_exit(&state, &waiting, &mut exit);
    // Where a screenshot's time goes (RUST_LOG=hipback=debug): start-up, loading, the frames.
    debug!(
        "frame {} at {:.2} s (ready: {ready})",
        progress.frames,
        time.elapsed_secs_f64()
    );
    if !ready || progress.requested {
        return;
    }
    // After the warm-up has asked for every pipeline the picture needs, wait (rendering
    // nothing) until they have compiled in the background, then warm up again: frames
    // without the camera leave the next one as incomplete as a first (the tensed muscles
    // off, as above).
    if progress.frames_since_ready >= WARM_UP_FRAMES && compiling.0.load(Ordering::Relaxed) > 0 {
        progress.frames_compiling += 1;
        progress.warm_up_again = true;
        return;
    }
    if std::mem::take(&mut progress.warm_up_again) {
        *render = RenderThisFrame::WarmUp;
        return;
    }
    progress.frames_since_ready += 1;
    if progress.frames_since_ready <= WARM_UP_FRAMES {
        *render = RenderThisFrame::WarmUp;
        return;
    }
    debug!(
        "{} frames waited for pipelines to compile",
        progress.frames_compiling
    );
    *render = RenderThisFrame::Full;
    progress.requested = true;
    let out = shot.out.clone();
    commands
        .spawn(Screenshot::image(target.0.clone()))
        .observe(save_then_exit(
            out,
            Capture::OffScreen(camera.fxaa),
            |path| {
                info!("screenshot saved to {}", path.display());
            },
        ));
}

fn drive_smoke_test(
    mut commands: Commands,
    mut progress: ResMut<CaptureProgress>,
    state: Res<ModelState>,
    waiting: Res<super::WaitingFor>,
    smoke: Res<SmokeTest>,
    compiling: Res<PipelinesCompiling>,
    time: Res<Time<Real>>,
    cameras: Query<&Camera, With<MainCamera>>,
    mut exit: MessageWriter<AppExit>,
) {
    progress.frames += 1;
    if time.elapsed_secs_f64() > MAX_WAIT_SECS {
        eprintln!(
            "hipback: smoke test: no screenshot after {} frames",
            progress.frames
        );
        exit.write(failure_exit());
        return;
    }
    // Only frames drawn once everything is ready (the model, and what capabilities prepare,
    // as the off-screen path waits for) with no pipeline still compiling count, so a short
    // run never saves a window still loading or not yet drawn.
    if !ready_or_exit(&state, &waiting, &mut exit) {
        return;
    }
    if compiling.0.load(Ordering::Relaxed) > 0 {
        progress.frames_compiling += 1;
        return;
    }
    progress.frames_since_ready += 1;
    if progress.frames_since_ready == 1 {
        progress.started_secs = Some(time.elapsed_secs_f64());
    }
    if progress.requested || progress.frames_since_ready < smoke.frames {
        return;
    }
    progress.requested = true;
    if let Some(start) = progress.started_secs {
        let frames = progress.frames_since_ready.saturating_sub(1).max(1);
        let mean_ms = (time.elapsed_secs_f64() - start) * 1000.0 / f64::from(frames);
        println!(
            "smoke: {} frames rendered ({} after ready and compiled, {} waiting for pipelines \
             to compile), mean frame time {mean_ms:.1} ms",
            progress.frames, progress.frames_since_ready, progress.frames_compiling
        );
    }
    // Where the 3D view lies in the window (physical pixels), so the test can look there.
    for camera in &cameras {
        if let Some(rect) = camera.physical_viewport_rect() {
            println!(
                "smoke: 3d viewport {},{} {}x{}",
                rect.min.x,
                rect.min.y,
                rect.width(),
                rect.height()
            );
        }
    }
    let out = smoke.screenshot.clone();
    commands
        .spawn(Screenshot::primary_window())
        .observe(save_then_exit(out, Capture::Window, |path| {
            println!("smoke: window screenshot saved to {}", path.display());
        }));
}

/// What a capture driver saves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Capture {
    /// The window, as drawn.
    Window,
    /// The off-screen screenshot: anti-aliased after capture if its camera says so, and the
    /// process ends as soon as the picture is on disk.
    OffScreen(FxaaPass),
}

/// An observer that saves the captured frame to `out`, reports it with `saved`, and exits
/// (with the failure code and one line on stderr if the file cannot be written).
fn save_then_exit(
    out: PathBuf,
    capture: Capture,
    saved: fn(&Path),
) -> impl FnMut(On<ScreenshotCaptured>, MessageWriter<AppExit>) {
    move |captured, mut exit| {
        let written = match capture {
            Capture::Window => save_png(&captured.image, &out),
            Capture::OffScreen(FxaaPass::InFrame) => save_png(&captured.image, &out),
            Capture::OffScreen(FxaaPass::AfterCapture) => frame_to_rgb(&captured.image)
                .and_then(|frame| write_png(&super::fxaa::fxaa(&frame), &out)),
        };
        match written {
            Ok(()) => {
                saved(&out);
                if matches!(capture, Capture::OffScreen(_)) {
                    exit_now();
                }
                exit.write(AppExit::Success);
            }
            Err(err) => {
                eprintln!("hipback: {}: {err}", out.display());
                exit.write(failure_exit());
            }
        }
    }
}

/// Ends the process with success once the picture is saved: tearing the renderer down took
/// about 30 ms on lavapipe and would only delay the exit. `process::exit` still runs the C
/// exit handlers (Mesa finishes its shader-cache writes there), with the renderer's threads
/// idle; dozens of runs here, the render tests among them, all exited cleanly.
fn exit_now() -> ! {
    use std::io::Write as _;
    // `process::exit` runs no destructors: flush what the log has buffered.
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    std::process::exit(0)
}

/// A captured frame as an RGB image.
pub fn frame_to_rgb(frame: &Image) -> Result<image::RgbImage, String> {
    let width = frame.width();
    let height = frame.height();
    let Some(data) = frame.data.as_ref() else {
        return Err("the captured frame has no pixel data".to_owned());
    };
    let swap_red_blue = match frame.texture_descriptor.format {
        TextureFormat::Rgba8UnormSrgb | TextureFormat::Rgba8Unorm => false,
        TextureFormat::Bgra8UnormSrgb | TextureFormat::Bgra8Unorm => true,
        other => return Err(format!("cannot save frames in format {other:?}")),
    };
    let pixels = (width as usize) * (height as usize);
    if data.len() < pixels * 4 {
        return Err(format!(
            "captured frame is {} bytes, expected {}",
            data.len(),
            pixels * 4
        ));
    }
    let mut rgb = Vec::with_capacity(pixels * 3);
    for px in data.chunks_exact(4).take(pixels) {
        if swap_red_blue {
            rgb.extend_from_slice(&[px[2], px[1], px[0]]);
        } else {
            rgb.extend_from_slice(&[px[0], px[1], px[2]]);
        }
    }
    image::RgbImage::from_raw(width, height, rgb)
        .ok_or_else(|| "captured frame has the wrong size".to_owned())
}

/// Writes a captured frame as an RGB PNG.
pub fn save_png(frame: &Image, path: &Path) -> Result<(), String> {
    write_png(&frame_to_rgb(frame)?, path)
}

/// Writes an RGB picture as a PNG, creating its folder.
fn write_png(buffer: &image::RgbImage, path: &Path) -> Result<(), String> {
    if let Some(parent) = path.parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent).map_err(|e| format!("cannot create folder: {e}"))?;
    }
    buffer
        .save_with_format(path, image::ImageFormat::Png)
        .map_err(|e| format!("cannot write PNG: {e}"))
}
