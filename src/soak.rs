//! `hipback soak`: a long headless session. The off-screen app (camera off: nothing is drawn)
//! runs for many frames while scenarios, postures, layers and heat settings change at random
//! (seeded, so a failure can be replayed); the resident memory is sampled every 1 000 frames.
//! A panic, or memory growing by more than the limit after warm-up, fails with exit code 2.

use std::process::ExitCode;

use bevy::prelude::*;
use clap::Args;

use crate::anatomy::Layer;
use crate::posture::kinematics::PostureId;
use crate::referral::plugin::HeatSettings;
use crate::scenario::{ScenarioCommand, Scenarios};
use crate::viewer::layers::LayerSettings;
use crate::viewer::screenshot::FAILURE_EXIT_CODE;

/// `soak` options.
#[derive(Debug, Clone, Args)]
pub struct SoakArgs {
    /// Frames to run.
    #[arg(long, default_value = "20000")]
    pub frames: u32,
    /// Seed of the random changes.
    #[arg(long, default_value = "1")]
    pub seed: u64,
    /// Frames that count as warm-up (memory growth is measured after them); default: a tenth
    /// of the frames, at least 1 000.
    #[arg(long, value_name = "N")]
    pub warm_up: Option<u32>,
    /// The most the resident memory may grow after warm-up, MB.
    #[arg(long, value_name = "MB", default_value = "10")]
    pub max_growth_mb: f64,
}

/// Frames between memory samples.
pub const SAMPLE_EVERY_FRAMES: u32 = 1_000;

/// The process's resident memory (`VmRSS` of `/proc/self/status`), MB; `None` off Linux.
pub fn resident_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// `SplitMix64`: a small seeded generator (no dependency), the same one the parser tests use.
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// A number from 0 to 1.
    pub fn unit(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// What a soak run measured.
#[derive(Clone, Debug, PartialEq)]
pub struct SoakReport {
    /// Frames run.
    pub frames: u32,
    /// Random changes made.
    pub changes: u32,
    /// (frame, resident MB) every [`SAMPLE_EVERY_FRAMES`] frames.
    pub samples: Vec<(u32, f64)>,
    /// Resident memory at the end of warm-up, MB.
    pub after_warm_up_mb: f64,
    /// The most the resident memory rose above `after_warm_up_mb` later, MB.
    pub growth_mb: f64,
}

/// One random change: a scenario, a posture, a layer or the heat map.
fn random_change(app: &mut App, rng: &mut SplitMix64, scenario_ids: &[String]) {
    let world = app.world_mut();
    match rng.below(4) {
        0 => {
            if let Some(id) = scenario_ids.get(rng.below(scenario_ids.len())) {
                world.write_message(ScenarioCommand::Select(id.clone()));
            }
        }
        1 => {
            let posture = PostureId::ALL[rng.below(PostureId::ALL.len())];
            world.write_message(crate::posture::plugin::PostureCommand::Select(posture));
        }
        2 => {
            let index = rng.below(Layer::ALL.len());
            let (visible, xray, opacity) = (rng.below(4) != 0, rng.below(3) == 0, rng.unit());
            let mut layers = world.resource_mut::<LayerSettings>();
            let layer = &mut layers.layers[index];
            layer.visible = visible;
            layer.xray = xray;
            layer.opacity_0_to_1 = opacity;
        }
        _ => {
            let (somatic, neuropathic, opacity) =
                (rng.below(2) == 0, rng.below(2) == 0, rng.unit());
            let mut heat = world.resource_mut::<HeatSettings>();
            heat.somatic = somatic;
            heat.neuropathic = neuropathic;
            heat.opacity_0_to_1 = opacity;
        }
    }
}

/// Runs `app` (already built, not yet updated) for `args.frames` frames with random changes
/// every few frames; the memory samples and growth.
pub fn soak(app: &mut App, args: &SoakArgs) -> SoakReport {
    let mut rng = SplitMix64(args.seed);
    let warm_up = args
        .warm_up
        .unwrap_or((args.frames / 10).max(SAMPLE_EVERY_FRAMES))
        .min(args.frames);
    let mut scenario_ids: Vec<String> = Vec::new();
    let mut samples = Vec::new();
    let mut after_warm_up_mb = resident_mb().unwrap_or(0.0);
    let mut peak_after_mb = after_warm_up_mb;
    let mut changes = 0;
    // Between changes: a few frames, so some switches ease to their end and some are cut short.
    let mut next_change = 0;
    for frame in 0..args.frames {
        if scenario_ids.is_empty()
            && let Some(scenarios) = app.world().get_resource::<Scenarios>()
            && scenarios.pending == 0
        {
            scenario_ids = scenarios
                .library
                .sorted()
                .iter()
                .map(|s| s.id.0.clone())
                .collect();
        }
        if frame == next_change {
            random_change(app, &mut rng, &scenario_ids);
            changes += 1;
            next_change = frame + 1 + rng.below(40) as u32;
        }
        app.update();
        // Every 1 000 frames, and the last one.
        if (frame + 1) % SAMPLE_EVERY_FRAMES == 0 || frame + 1 == args.frames {
            let mb = resident_mb().unwrap_or(0.0);
            // As it goes: a long run shows its progress.
            println!("frame {:>6}: {mb:.1} MB resident", frame + 1);
            samples.push((frame + 1, mb));
            if frame + 1 == warm_up {
                after_warm_up_mb = mb;
                peak_after_mb = mb;
            } else if frame + 1 > warm_up {
                peak_after_mb = peak_after_mb.max(mb);
            }
        }
    }
    SoakReport {
        frames: args.frames,
        changes,
        samples,
        after_warm_up_mb,
        growth_mb: (peak_after_mb - after_warm_up_mb).max(0.0),
    }
}

/// `hipback soak`: prints the samples and the growth; exit code 2 on a panic or too much
/// growth.
pub fn run(app: impl FnOnce() -> App, args: &SoakArgs) -> ExitCode {
    let started = std::time::Instant::now();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut app = app();
        soak(&mut app, args)
    }));
    let Ok(report) = result else {
        eprintln!(
            "hipback: soak: panicked (seed {}; the panic message is above)",
            args.seed
        );
        return ExitCode::from(FAILURE_EXIT_CODE);
    };
    println!(
        "soak: {} frames, {} random changes, seed {}, {:.0} s; resident after warm-up {:.1} MB, growth after warm-up {:.1} MB (limit {:.1} MB)",
        report.frames,
        report.changes,
        args.seed,
        started.elapsed().as_secs_f64(),
        report.after_warm_up_mb,
        report.growth_mb,
        args.max_growth_mb
    );
    if report.growth_mb > args.max_growth_mb {
        eprintln!(
            "hipback: soak: resident memory grew {:.1} MB after warm-up (limit {:.1} MB)",
            report.growth_mb, args.max_growth_mb
        );
        return ExitCode::from(FAILURE_EXIT_CODE);
    }
    ExitCode::SUCCESS
}
