//! `hipback record`: a scenario's animation rendered off-screen frame by frame on a fixed
//! clock, written as an animated GIF (or numbered PNGs), with a progress bar on the terminal.
//! A problem scenario eases in from healthy and then holds, so the nerve pulses and trigger
//! points show; a relief timeline is played whole, sped up to fit the clip.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bevy::prelude::*;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};

use crate::scenario::state::{BodyState, Transition};
use crate::scenario::{ActiveScenario, ScenarioClock, Scenarios};
use crate::viewer::WaitingFor;
use crate::viewer::camera::ViewPreset;
use crate::viewer::model::ModelState;
use crate::viewer::screenshot::{
    FxaaPass, OffscreenCamera, RenderThisFrame, TargetImage, WARM_UP_FRAMES, failure_exit,
    frame_to_rgb, offscreen_camera_plugin, ready_or_exit,
};

/// Where the clip goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClipOutput {
    /// An animated GIF.
    Gif(PathBuf),
    /// Numbered PNG files (`frame_0000.png`, …) in a folder.
    Frames(PathBuf),
}

/// A recording request.
#[derive(Resource, Clone, Debug)]
pub struct Recording {
    /// Where it goes.
    pub output: ClipOutput,
    /// Clip length, seconds.
    pub seconds: f32,
    /// Frames per second.
    pub fps: u32,
    /// Image width, pixels.
    pub width_px: u32,
    /// Image height, pixels.
    pub height_px: u32,
    /// The view.
    pub view: ViewPreset,
}

impl Recording {
    /// How many frames the clip has.
    pub fn frame_count(&self) -> u32 {
        ((self.seconds * self.fps as f32).round() as u32).max(1)
    }
}

/// The moment of the story shown in clip frame `frame`: for a problem, the scenario clock
/// (ease in from healthy between 0.4 s and 1.6 s, then hold); for a relief, the position on
/// its timeline (the whole timeline spread over the clip).
pub fn clip_moment(
    frame: u32,
    frames: u32,
    seconds: f32,
    relief_duration_s: Option<f32>,
) -> (f64, Option<f32>) {
    let clip_s = seconds * frame as f32 / frames.max(1) as f32;
    let timeline = relief_duration_s.map(|d| {
        let last = frames.saturating_sub(1).max(1) as f32;
        d * frame as f32 / last
    });
    (f64::from(clip_s), timeline)
}

/// The ease a problem scenario's clip starts with: from healthy, 0.4 s in, over 1.2 s.
pub const CLIP_EASE: (f64, f32) = (0.4, 1.2);

/// Frames of the clip captured so far, shared with the capture observer.
#[derive(Resource, Default, Clone)]
struct Frames(Arc<Mutex<Vec<image::RgbImage>>>);

#[derive(Resource, Default)]
struct Progress {
    frame: u32,
    waiting_for_capture: bool,
    /// Frames rendered of the current clip frame.
    settle: u32,
    started: bool,
    bar: Option<indicatif::ProgressBar>,
}

/// The recording: an off-screen camera and the frame driver.
pub fn plugin(app: &mut App) {
    let recording = app.world().get_resource::<Recording>().cloned();
    if let Some(recording) = recording {
        app.insert_resource(OffscreenCamera {
            width_px: recording.width_px,
            height_px: recording.height_px,
            view: recording.view,
            framing: crate::viewer::camera::Framing::default(),
            fxaa: FxaaPass::InFrame,
        });
    }
    app.init_resource::<Frames>()
        .init_resource::<Progress>()
        .add_plugins(offscreen_camera_plugin)
        .add_systems(
            Update,
            drive_recording.in_set(crate::viewer::ViewerSystems::Input),
        );
}

fn drive_recording(
    mut commands: Commands,
    recording: Res<Recording>,
    state: Res<ModelState>,
    waiting: Res<WaitingFor>,
    scenarios: Res<Scenarios>,
    target: Res<TargetImage>,
    frames: Res<Frames>,
    mut progress: ResMut<Progress>,
    mut clock: ResMut<ScenarioClock>,
    mut active: ResMut<ActiveScenario>,
    mut render: ResMut<RenderThisFrame>,
    mut exit: MessageWriter<AppExit>,
) {
    if !ready_or_exit(&state, &waiting, &mut exit) {
        return;
    }
    let total = recording.frame_count();
    if !progress.started {
        progress.started = true;
        let bar = indicatif::ProgressBar::new(u64::from(total));
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "recording {bar:30} {pos}/{len} frames, {elapsed} (eta {eta})",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        progress.bar = Some(bar);
        // A problem scenario eases in from healthy inside the clip.
        if scenarios.library.duration_s(&active.id).is_none() {
            active.transition = Transition {
                from: BodyState::relaxed(),
                started_s: CLIP_EASE.0,
                duration_s: CLIP_EASE.1,
            };
        }
    }
    if progress.waiting_for_capture {
        let captured = frames.0.lock().map_or(0, |f| f.len()) as u32;
        if captured <= progress.frame {
            return;
        }
        progress.waiting_for_capture = false;
        progress.frame += 1;
        if let Some(bar) = &progress.bar {
            bar.set_position(u64::from(progress.frame));
        }
        if progress.frame >= total {
            if let Some(bar) = progress.bar.take() {
                bar.finish_and_clear();
            }
            let frames = std::mem::take(&mut *frames.0.lock().unwrap_or_else(|p| p.into_inner()));
            match write_clip(&recording, frames) {
                Ok(message) => {
                    println!("{message}");
                    exit.write(AppExit::Success);
                }
                Err(err) => {
                    eprintln!("hipback: {err}");
                    exit.write(failure_exit());
                }
            }
            return;
        }
    }
    // Set the story's moment and render it: a warm-up frame first (the camera was off while
    // the last capture came back), then the captured one.
    let (clock_s, timeline_s) = clip_moment(
        progress.frame,
        total,
        recording.seconds,
        scenarios.library.duration_s(&active.id),
    );
    clock.now_s = clock_s;
    if let Some(t) = timeline_s {
        active.playback.time_s = t;
        active.playback.playing = false;
    }
    progress.settle += 1;
    if progress.settle <= WARM_UP_FRAMES {
        *render = RenderThisFrame::WarmUp;
        return;
    }
    *render = RenderThisFrame::Full;
    progress.settle = 0;
    progress.waiting_for_capture = true;
    let frames = frames.0.clone();
    commands.spawn(Screenshot::image(target.0.clone())).observe(
        move |captured: On<ScreenshotCaptured>| match frame_to_rgb(&captured.image) {
            Ok(image) => {
                if let Ok(mut frames) = frames.lock() {
                    frames.push(image);
                }
            }
            Err(err) => error!("a clip frame could not be read: {err}"),
        },
    );
}

/// Writes the frames: an animated GIF (written to a temporary file, then renamed) or PNGs.
fn write_clip(recording: &Recording, frames: Vec<image::RgbImage>) -> Result<String, String> {
    match &recording.output {
        ClipOutput::Frames(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            for (i, frame) in frames.iter().enumerate() {
                let path = dir.join(format!("frame_{i:04}.png"));
                frame
                    .save_with_format(&path, image::ImageFormat::Png)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
            }
            Ok(format!(
                "{} frames written to {}",
                frames.len(),
                dir.display()
            ))
        }
        ClipOutput::Gif(path) => {
            let bytes = encode_gif(&frames, recording.fps)?;
            crate::files::write_atomically(path, &bytes)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(format!(
                "{}: {} frames, {:.1} s, {} KiB",
                path.display(),
                frames.len(),
                recording.seconds,
                bytes.len() / 1024
            ))
        }
    }
}

/// Encodes frames as a looping animated GIF.
pub fn encode_gif(frames: &[image::RgbImage], fps: u32) -> Result<Vec<u8>, String> {
    use image::codecs::gif::{GifEncoder, Repeat};
    let mut bytes = Vec::new();
    {
        // Speed 10: a good palette for anatomy colours at a reasonable encode time.
        let mut encoder = GifEncoder::new_with_speed(&mut bytes, 10);
        encoder
            .set_repeat(Repeat::Infinite)
            .map_err(|e| format!("GIF: {e}"))?;
        let delay = image::Delay::from_numer_denom_ms(1000, fps.max(1));
        for frame in frames {
            let rgba = image::DynamicImage::ImageRgb8(frame.clone()).into_rgba8();
            encoder
                .encode_frame(image::Frame::from_parts(rgba, 0, 0, delay))
                .map_err(|e| format!("GIF: {e}"))?;
        }
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_relief_clip_covers_the_whole_timeline() {
        let frames = 40;
        let (first_clock, first) = clip_moment(0, frames, 4.0, Some(30.0));
        let (_, last) = clip_moment(frames - 1, frames, 4.0, Some(30.0));
        assert_eq!(first_clock, 0.0);
        assert_eq!(first, Some(0.0));
        assert_eq!(last, Some(30.0));
        let (clock, none) = clip_moment(20, frames, 4.0, None);
        assert!((clock - 2.0).abs() < 1e-6 && none.is_none());
    }

    #[test]
    fn frames_become_a_looping_gif() {
        let frames: Vec<image::RgbImage> = (0..3)
            .map(|i| image::RgbImage::from_pixel(8, 6, image::Rgb([i * 80, 40, 200])))
            .collect();
        let bytes = encode_gif(&frames, 10).unwrap();
        assert_eq!(&bytes[..6], b"GIF89a");
        let decoder = image::codecs::gif::GifDecoder::new(std::io::Cursor::new(&bytes)).unwrap();
        use image::AnimationDecoder as _;
        let decoded = decoder.into_frames().collect_frames().unwrap();
        assert_eq!(decoded.len(), 3);
        assert_eq!(decoded[0].delay().numer_denom_ms(), (100, 1));
    }
}
