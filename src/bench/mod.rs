//! `hipback bench`: what hipback costs on top of the engine. Two apps render the bundled model
//! off-screen on the current adapter: (a) bare Bevy loading the same glb with the same camera,
//! lights, shadows and anti-aliasing, and nothing else (the engine floor); (b) hipback with
//! everything on (all layers, the heat map, a relief timeline playing, nerve pulses, picking).
//! Each run is its own process (start-up and pipeline compilation are part of the cost), and the
//! two alternate so that machine noise falls on both alike.

pub mod child;
pub mod stats;

use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;

use clap::{Args, ValueEnum};
use serde::{Deserialize, Serialize};

use stats::{Summary, ratio_text};

/// The relief scenario that plays in the full app: the tool, the easing and the nerve pulses.
pub const FULL_APP_SCENARIO: &str = "figure_four_stretch";

/// Options of `hipback bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Steady frames timed per run, after the first frame that shows the model.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(5..=10_000))]
    pub frames: u32,
    /// Runs of each app, alternating bare Bevy and hipback.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub rounds: u32,
    /// Image size, `WIDTHxHEIGHT`.
    #[arg(long, default_value = "1280x720", value_parser = crate::cli::parse_size)]
    pub size: (u32, u32),
    /// Also write the results as JSON to this file (scripts/bench.sh reads it).
    #[arg(long, value_name = "PATH")]
    pub json: Option<PathBuf>,
    /// Save each app's last timed frame to DIR/bare.png and DIR/full.png (to check what was
    /// timed).
    #[arg(long, value_name = "DIR")]
    pub pictures: Option<PathBuf>,
    /// Internal: run one measured app in this process and print its result.
    #[arg(long, value_enum, hide = true)]
    pub child: Option<BenchApp>,
}

/// The two apps compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BenchApp {
    /// Bare Bevy: the glb, the camera, the lights, nothing else.
    Bare,
    /// hipback with everything on.
    Full,
}

impl BenchApp {
    /// The name used on the command line and in the results.
    pub fn name(self) -> &'static str {
        match self {
            BenchApp::Bare => "bare",
            BenchApp::Full => "full",
        }
    }
}

/// What one run of one app measured (printed by the child on one line).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunResult {
    /// Which app.
    pub app: BenchApp,
    /// The adapter that rendered (name and driver).
    pub adapter: String,
    /// Seconds from the process start to the end of the first frame whose picture shows the
    /// model.
    pub first_model_frame_s: f64,
    /// Durations of the steady frames after it, milliseconds.
    pub frame_ms: Vec<f64>,
    /// How long the main schedule (the app's systems and Bevy's) ran in each of those frames,
    /// milliseconds: the part of a frame before the renderer extracts and draws.
    pub update_ms: Vec<f64>,
    /// Peak resident memory of the process (`VmHWM`), MiB; `None` where the OS does not say.
    pub peak_rss_mib: Option<f64>,
}

/// The line prefix of a child's result on stdout.
pub const RESULT_PREFIX: &str = "HIPBACK_BENCH ";

/// Both apps' summaries, as `--json` writes them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BenchReport {
    /// The adapter.
    pub adapter: String,
    /// Image size, pixels.
    pub width_px: u32,
    /// Image size, pixels.
    pub height_px: u32,
    /// Steady frames timed per run.
    pub frames_per_run: u32,
    /// Runs per app.
    pub rounds: u32,
    /// Bare Bevy.
    pub bare: Summary,
    /// hipback, everything on.
    pub full: Summary,
    /// Median frame time, hipback over bare.
    pub frame_ratio: f64,
    /// Time to the first model frame, hipback over bare.
    pub first_frame_ratio: f64,
}

/// Runs the comparison (or, with `--child`, one measured app).
pub fn run(args: &BenchArgs, model: PathBuf, full_app: impl Fn() -> bevy::app::App) -> ExitCode {
    let started = Instant::now();
    if let Some(which) = args.child {
        let app = match which {
            BenchApp::Bare => child::bare_app(&model, args.size),
            BenchApp::Full => full_app(),
        };
        let picture = args
            .pictures
            .as_ref()
            .map(|dir| dir.join(format!("{}.png", which.name())));
        return child::run(app, which, args.frames, started, picture);
    }
    match compare(args, &model) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hipback bench: {e}");
            ExitCode::from(crate::viewer::screenshot::FAILURE_EXIT_CODE)
        }
    }
}

/// The parent: alternate the apps, gather, print, write JSON.
fn compare(args: &BenchArgs, model: &std::path::Path) -> Result<(), String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    if let Some(dir) = &args.pictures {
        std::fs::create_dir_all(dir).map_err(|e| format!("--pictures {}: {e}", dir.display()))?;
    }
    let mut runs: Vec<(RunResult, f64)> = Vec::new();
    for round in 1..=args.rounds {
        for app in [BenchApp::Bare, BenchApp::Full] {
            eprintln!(
                "bench: round {round}/{}: {} ({} frames at {}x{})",
                args.rounds,
                app.name(),
                args.frames,
                args.size.0,
                args.size.1
            );
            let started = Instant::now();
            let output = Command::new(&exe)
                .arg("--model")
                .arg(model)
                .args(["bench", "--child", app.name()])
                .args(["--frames", &args.frames.to_string()])
                .args(["--size", &format!("{}x{}", args.size.0, args.size.1)])
                .args(
                    args.pictures
                        .iter()
                        .flat_map(|d| [std::ffi::OsStr::new("--pictures"), d.as_os_str()]),
                )
                .stdin(Stdio::null())
                .output()
                .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
            let whole_s = started.elapsed().as_secs_f64();
            let stdout = String::from_utf8_lossy(&output.stdout);
            let result = stdout
                .lines()
                .find_map(|l| l.strip_prefix(RESULT_PREFIX))
                .map(serde_json::from_str::<RunResult>);
            match result {
                Some(Ok(r)) if output.status.success() => runs.push((r, whole_s)),
                Some(Err(e)) => {
                    return Err(format!("the {} run printed a bad result: {e}", app.name()));
                }
                _ => {
                    let stderr = String::from_utf8_lossy(&output.stderr);
                    let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
                    return Err(format!(
                        "the {} run failed ({}):\n{}",
                        app.name(),
                        output.status,
                        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                    ));
                }
            }
        }
    }
    let of = |app: BenchApp| -> Vec<(RunResult, f64)> {
        runs.iter().filter(|(r, _)| r.app == app).cloned().collect()
    };
    let bare = Summary::of(&of(BenchApp::Bare)).ok_or("no bare run")?;
    let full = Summary::of(&of(BenchApp::Full)).ok_or("no full run")?;
    let report = BenchReport {
        adapter: runs
            .first()
            .map(|(r, _)| r.adapter.clone())
            .unwrap_or_default(),
        width_px: args.size.0,
        height_px: args.size.1,
        frames_per_run: args.frames,
        rounds: args.rounds,
        frame_ratio: full.median_frame_ms / bare.median_frame_ms,
        first_frame_ratio: full.first_model_frame_s / bare.first_model_frame_s,
        bare,
        full,
    };
    print_report(&report);
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
        std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(())
}

fn print_report(r: &BenchReport) {
    println!(
        "adapter: {}; {}x{}; {} runs of {} steady frames per app",
        r.adapter, r.width_px, r.height_px, r.rounds, r.frames_per_run
    );
    println!(
        "{:<28} {:>12} {:>12} {:>12}",
        "", "bare Bevy", "hipback", "hipback/bare"
    );
    let row = |label: &str, a: f64, b: f64, unit: &str| {
        println!(
            "{label:<28} {:>12} {:>12} {:>12}",
            format!("{a:.1} {unit}"),
            format!("{b:.1} {unit}"),
            ratio_text(b / a)
        );
    };
    row(
        "median frame",
        r.bare.median_frame_ms,
        r.full.median_frame_ms,
        "ms",
    );
    row("p95 frame", r.bare.p95_frame_ms, r.full.p95_frame_ms, "ms");
    row(
        "median main-schedule update",
        r.bare.median_update_ms,
        r.full.median_update_ms,
        "ms",
    );
    row(
        "p95 main-schedule update",
        r.bare.p95_update_ms,
        r.full.p95_update_ms,
        "ms",
    );
    row(
        "first model frame",
        r.bare.first_model_frame_s,
        r.full.first_model_frame_s,
        "s",
    );
    row(
        "whole process",
        r.bare.whole_process_s,
        r.full.whole_process_s,
        "s",
    );
    if let (Some(a), Some(b)) = (r.bare.peak_rss_mib, r.full.peak_rss_mib) {
        row("peak memory", a, b, "MiB");
    }
}
