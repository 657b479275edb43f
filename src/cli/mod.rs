//! Command line: `hipback` (window), `hipback screenshot`, `hipback record`, `hipback report`,
//! `hipback validate`. Every failure a user can cause (bad argument, unreadable or incomplete
//! model, bad scenario, no GPU) ends with one line on stderr naming the file or argument, and
//! exit code 2 (`validate --scenarios` lists every bad file, one line each). New subcommands
//! add a [`Command`] variant and a `run_*` function.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use bevy::math::Vec3;
use bevy::prelude::AppExit;
use clap::{Args, Parser, Subcommand};

use crate::anatomy::{Layer, NerveVariant};
use crate::app::{self, AppOptions};
use crate::content::ContentTable;
use crate::posture::PostureModel;
use crate::posture::kinematics::PostureId;
use crate::posture::plugin::PostureOptions;
use crate::record::{ClipOutput, Recording};
use crate::referral::plugin::HeatSettings;
use crate::scenario::data::{self, CompensationTable};
use crate::scenario::library::{self, Library};
use crate::scenario::{self, HEALTHY, ScenarioOptions, report};
use crate::viewer::camera::{
    DEFAULT_RADIUS_M, FOCUS_BOUND_RADIUS_M, Framing, PELVIS_FOCUS, ViewPreset, ZOOM_MAX_M,
    ZOOM_MIN_M,
};
use crate::viewer::layers::{LayerSettings, parse_layer};
use crate::viewer::screenshot::{FAILURE_EXIT_CODE, OffscreenShot, SmokeTest};
use crate::viewer::{self, ViewerOptions, model};

/// hipback: a 3D viewer for low-back pain that comes from the hip.
#[derive(Debug, Parser)]
#[command(name = "hipback", version, about)]
pub struct Cli {
    /// What to do; without a subcommand the viewer window opens.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Options for the window (used when no subcommand is given).
    #[command(flatten)]
    pub window: WindowArgs,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render a view off-screen (no window) to a PNG and exit.
    Screenshot(ScreenshotArgs),
    /// Render a scenario's animation off-screen to an animated GIF (or PNG frames).
    Record(RecordArgs),
    /// Print a scenario's settled state (or a relief timeline at a moment) and the mean heat
    /// per body region; no GPU needed.
    Report(ReportArgs),
    /// Rank the likely sources of pain felt in the given body regions; no GPU needed.
    Rank(RankArgs),
    /// Check a model, or a folder of scenario files.
    Validate(ValidateArgs),
    /// Time frames off-screen: bare Bevy against hipback with everything on, alternating runs.
    Bench(crate::bench::BenchArgs),
    /// A long headless session: random scenario, posture, layer and heat changes (seeded),
    /// resident memory sampled every 1 000 frames; exit 2 on a panic or too much growth.
    Soak(crate::soak::SoakArgs),
    /// Developer tool: mutate valid files and feed them to a parser for a time budget.
    #[command(hide = true)]
    Fuzz(crate::fuzz::FuzzArgs),
}

/// Options shared by every command that shows the model.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// The model (glTF binary); default: the bundled assets/models/pelvis.glb.
    #[arg(long, value_name = "PATH", global = true)]
    pub model: Option<PathBuf>,
}

/// Window options.
#[derive(Debug, Clone, Args)]
pub struct WindowArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// Start view (default: the scenario's story view, else posterior).
    #[arg(long, value_enum)]
    pub view: Option<ViewPreset>,
    /// Start in this scenario (see `hipback report --list`).
    #[arg(long, value_name = "ID")]
    pub scenario: Option<String>,
    /// Reload scenario files when they change on disk (checked once a second).
    #[arg(long)]
    pub watch: bool,
    /// Test harness: render this many frames, save the window, exit.
    #[arg(long, hide = true, value_name = "N", requires = "smoke_screenshot")]
    pub smoke_test_frames: Option<u32>,
    /// Test harness: where the smoke test saves the window.
    #[arg(long, hide = true, value_name = "PATH", requires = "smoke_test_frames")]
    pub smoke_screenshot: Option<PathBuf>,
}

/// `screenshot` options.
#[derive(Debug, Clone, Args)]
pub struct ScreenshotArgs {
    /// Output PNG file.
    #[arg(long, value_name = "FILE.png")]
    pub out: PathBuf,
    /// The view (default: the scenario's story view, else posterior).
    #[arg(long, value_enum)]
    pub view: Option<ViewPreset>,
    /// Image size in pixels, e.g. 1280x720.
    #[arg(long, value_name = "WxH", default_value = "1280x720", value_parser = parse_size)]
    pub size: (u32, u32),
    /// Layers to show, comma-separated: bones,discs,muscles,nerve,si,skin and heat (the heat
    /// map) (default: all).
    #[arg(long, value_name = "LIST", value_parser = parse_layers)]
    pub layers: Option<LayerList>,
    /// Show this scenario's state (default: healthy).
    #[arg(long, value_name = "ID")]
    pub scenario: Option<String>,
    /// For a relief scenario: the moment on its timeline, seconds (default: its end).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub at: Option<f32>,
    /// The course of the sciatic nerve past the piriformis (Beaton & Anson type): a, b or c.
    #[arg(long, value_name = "TYPE", value_parser = parse_nerve_variant, default_value = "a")]
    pub nerve_variant: NerveVariant,
    /// Show this posture (`standing`, `sitting`, `fair`, `figure_four`, `knee_to_chest`); default: the
    /// scenario's, else standing.
    #[arg(long, value_name = "NAME", value_parser = parse_posture)]
    pub posture: Option<PostureId>,
    /// The point the camera looks at, metres in the model frame (x: subject's left, y: up,
    /// z: forward; origin between the ASIS), e.g. 0,0.12,-0.09 for the lumbar spine
    /// (default: the pelvis).
    #[arg(long, value_name = "X,Y,Z", value_parser = parse_point)]
    pub focus: Option<Vec3>,
    /// The camera's distance from the focus, metres (default 0.85: the whole pelvis).
    #[arg(long, value_name = "M", value_parser = parse_distance)]
    pub distance: Option<f32>,
}

/// `record` options.
#[derive(Debug, Clone, Args)]
pub struct RecordArgs {
    /// The scenario to record.
    #[arg(long, value_name = "ID")]
    pub scenario: String,
    /// Output GIF file.
    #[arg(long, value_name = "FILE.gif", required_unless_present = "frames")]
    pub out: Option<PathBuf>,
    /// Write numbered PNG frames into this folder instead of a GIF.
    #[arg(long, value_name = "DIR", conflicts_with = "out")]
    pub frames: Option<PathBuf>,
    /// Clip length, seconds.
    #[arg(long, value_name = "S", default_value = "6", value_parser = parse_clip_seconds)]
    pub seconds: f32,
    /// Frames per second.
    #[arg(long, value_name = "N", default_value = "10", value_parser = clap::value_parser!(u32).range(1..=30))]
    pub fps: u32,
    /// Image size in pixels.
    #[arg(long, value_name = "WxH", default_value = "480x360", value_parser = parse_size)]
    pub size: (u32, u32),
    /// The view (default: the scenario's story view, else posterior).
    #[arg(long, value_enum)]
    pub view: Option<ViewPreset>,
    /// Hold this posture (`standing`, `sitting`, `fair`, `figure_four`, `knee_to_chest`);
    /// default: the scenario's, else standing.
    #[arg(long, value_name = "NAME", value_parser = parse_posture)]
    pub posture: Option<PostureId>,
}

/// `report` options.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// The scenario (default with `--posture`: healthy).
    #[arg(long, value_name = "ID", required_unless_present_any = ["list", "posture"])]
    pub scenario: Option<String>,
    /// The posture (`standing`, `sitting`, `fair`, `figure_four`, `knee_to_chest`): adds each muscle's
    /// length change against standing and the sciatic nerve's strain; default: the
    /// scenario's, else standing.
    #[arg(long, value_name = "NAME", value_parser = parse_posture)]
    pub posture: Option<PostureId>,
    /// For a relief scenario: the moment on its timeline, seconds (default: settled, its end).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    pub at: Option<f32>,
    /// Print JSON (the shape is documented in README).
    #[arg(long, conflicts_with = "csv")]
    pub json: bool,
    /// Print the mean heat per body region as CSV (region,somatic,neuropathic).
    #[arg(long)]
    pub csv: bool,
    /// List the scenario ids instead.
    #[arg(long)]
    pub list: bool,
}

/// `rank` options.
#[derive(Debug, Clone, Args)]
pub struct RankArgs {
    /// Where it hurts: skin region names, comma-separated (e.g. `buttock_upper_r,sij_r`).
    #[arg(long, value_name = "LIST")]
    pub regions: String,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// How many sources to list.
    #[arg(long, value_name = "N", default_value = "5")]
    pub top: usize,
}

/// A comma-separated list of layers, as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerList {
    /// The structure layers.
    pub layers: Vec<Layer>,
    /// Whether the heat map is listed (`heat`).
    pub heat: bool,
}

/// `validate` options: the model (global `--model`), or a folder of scenarios.
#[derive(Debug, Clone, Args)]
pub struct ValidateArgs {
    /// Check every `*.scenario.ron` file in this folder instead of the model.
    #[arg(long, value_name = "DIR", conflicts_with = "referral")]
    pub scenarios: Option<PathBuf>,
    /// Check every referral pattern file (`*.ron`) in this folder instead of the model.
    #[arg(long, value_name = "DIR")]
    pub referral: Option<PathBuf>,
}

/// Parses a time in seconds (finite, ≥ 0).
pub fn parse_seconds(text: &str) -> Result<f32, String> {
    text.trim()
        .parse::<f32>()
        .ok()
        .filter(|v| v.is_finite() && *v >= 0.0)
        .ok_or_else(|| format!("`{text}` is not a time in seconds (0 or more)"))
}

/// Parses a nerve course: `a`, `b` or `c`.
pub fn parse_nerve_variant(text: &str) -> Result<NerveVariant, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "a" => Ok(NerveVariant::A),
        "b" => Ok(NerveVariant::B),
        "c" => Ok(NerveVariant::C),
        _ => Err(format!("`{text}` is not a nerve course (use a, b or c)")),
    }
}

/// Parses a posture id.
pub fn parse_posture(text: &str) -> Result<PostureId, String> {
    PostureId::from_id(text.trim()).ok_or_else(|| {
        format!(
            "`{text}` is not a posture (one of: {})",
            PostureId::valid_ids()
        )
    })
}

/// Parses a clip length (0.5–120 s).
pub fn parse_clip_seconds(text: &str) -> Result<f32, String> {
    parse_seconds(text)?;
    text.trim()
        .parse::<f32>()
        .ok()
        .filter(|v| (0.5..=120.0).contains(v))
        .ok_or_else(|| format!("`{text}`: a clip lasts from 0.5 to 120 seconds"))
}

/// Parses a camera focus `X,Y,Z` in metres (each within the focus bound of the pelvis).
pub fn parse_point(text: &str) -> Result<Vec3, String> {
    let v: Vec<f32> = text
        .split(',')
        .map(|s| s.trim().parse::<f32>())
        .collect::<Result<_, _>>()
        .map_err(|_| format!("`{text}` is not X,Y,Z in metres, e.g. 0,0.12,-0.09"))?;
    match v[..] {
        [x, y, z] if (Vec3::new(x, y, z) - PELVIS_FOCUS).length() <= FOCUS_BOUND_RADIUS_M => {
            Ok(Vec3::new(x, y, z))
        }
        [_, _, _] => Err(format!(
            "`{text}` is more than {FOCUS_BOUND_RADIUS_M} m from the pelvis"
        )),
        _ => Err(format!(
            "`{text}` is not X,Y,Z in metres, e.g. 0,0.12,-0.09"
        )),
    }
}

/// Parses a camera distance in metres (within the zoom range).
pub fn parse_distance(text: &str) -> Result<f32, String> {
    text.trim()
        .parse::<f32>()
        .ok()
        .filter(|v| (ZOOM_MIN_M..=ZOOM_MAX_M).contains(v))
        .ok_or_else(|| format!("`{text}`: the distance is {ZOOM_MIN_M} to {ZOOM_MAX_M} m"))
}

/// Parses `WxH` (each 16…8192 pixels).
pub fn parse_size(text: &str) -> Result<(u32, u32), String> {
    let (w, h) = text
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("`{text}` is not WIDTHxHEIGHT, e.g. 640x480"))?;
    let parse = |s: &str| {
        s.trim()
            .parse::<u32>()
            .ok()
            .filter(|v| (16..=8192).contains(v))
            .ok_or_else(|| format!("`{text}`: each side must be a whole number from 16 to 8192"))
    };
    Ok((parse(w)?, parse(h)?))
}

/// Parses a comma-separated layer list.
pub fn parse_layers(text: &str) -> Result<LayerList, String> {
    let mut layers = Vec::new();
    let mut heat = false;
    for name in text.split(',').filter(|s| !s.trim().is_empty()) {
        if name.trim().eq_ignore_ascii_case("heat") {
            heat = true;
            continue;
        }
        let layer = parse_layer(name).ok_or_else(|| {
            format!(
                "unknown layer `{}` (use bones, discs, muscles, nerve, si, skin, heat)",
                name.trim()
            )
        })?;
        if !layers.contains(&layer) {
            layers.push(layer);
        }
    }
    if layers.is_empty() && !heat {
        return Err("no layer named".to_owned());
    }
    Ok(LayerList { layers, heat })
}

/// Runs the command line; the process exit code.
pub fn main() -> ExitCode {
    install_gpu_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            use clap::error::ErrorKind;
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = err.print();
                return ExitCode::SUCCESS;
            }
            // One line: clap's first line names the argument and the problem.
            let rendered = err.render().to_string();
            let line = rendered
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid arguments");
            eprintln!(
                "hipback: {} (see hipback --help)",
                line.trim_start_matches("error: ")
            );
            return ExitCode::from(FAILURE_EXIT_CODE);
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("hipback: {message}");
            ExitCode::from(FAILURE_EXIT_CODE)
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<ExitCode, String> {
    match cli.command {
        None => run_window(&cli.window),
        Some(Command::Screenshot(args)) => run_screenshot(&cli.window.model, &args),
        Some(Command::Record(args)) => run_record(&cli.window.model, &args),
        Some(Command::Report(args)) => run_report(&cli.window.model, &args),
        Some(Command::Rank(args)) => run_rank(&cli.window.model, &args),
        Some(Command::Validate(args)) => match (&args.scenarios, &args.referral) {
            (Some(dir), _) => run_validate_scenarios(dir),
            (None, Some(dir)) => run_validate_referral(dir),
            (None, None) => run_validate(&cli.window.model),
        },
        Some(Command::Bench(args)) => run_bench(&cli.window.model, &args),
        Some(Command::Soak(args)) => run_soak(&cli.window.model, &args),
        Some(Command::Fuzz(args)) => Ok(crate::fuzz::run(&args)),
    }
}

fn run_bench(model: &ModelArgs, args: &crate::bench::BenchArgs) -> Result<ExitCode, String> {
    let view = ViewPreset::Posterior;
    let viewer = prepare(model, view, LayerSettings::default())?;
    let scenario = ScenarioOptions {
        story_camera: false,
        ..ScenarioOptions::window(crate::bench::FULL_APP_SCENARIO, false)
    };
    let options = AppOptions {
        viewer,
        scenario,
        guidance: None,
        heat: HeatSettings::default(),
        // The scenario moves the hips into its posture (figure four), easing.
        posture: PostureOptions::default(),
    };
    let model_path = options.viewer.absolute_model_path();
    Ok(crate::bench::run(args, model_path, || {
        app::bench_app(&options, args.size)
    }))
}

/// The off-screen app with everything on and its camera off (nothing is drawn: the soak
/// measures the app's own state, not the renderer's), starting healthy and standing.
fn run_soak(model: &ModelArgs, args: &crate::soak::SoakArgs) -> Result<ExitCode, String> {
    let viewer = prepare(model, ViewPreset::Posterior, LayerSettings::default())?;
    let options = AppOptions {
        viewer,
        scenario: ScenarioOptions::window(HEALTHY, false),
        guidance: None,
        heat: HeatSettings::default(),
        posture: PostureOptions::default(),
    };
    Ok(crate::soak::run(
        || {
            let mut app = app::bench_app(&options, (320, 240));
            app::finish_plugins(&mut app);
            app
        },
        args,
    ))
}

fn model_path(args: &ModelArgs) -> PathBuf {
    args.model
        .clone()
        .unwrap_or_else(viewer::default_model_path)
}

/// Checks the model and content before any window or GPU is touched.
fn prepare(
    args: &ModelArgs,
    view: ViewPreset,
    layers: LayerSettings,
) -> Result<ViewerOptions, String> {
    let model_path = model_path(args);
    model::validate_model_file(&model_path).map_err(|e| e.to_string())?;
    let content =
        ContentTable::from_file(&viewer::default_content_path()).map_err(|e| e.to_string())?;
    let variants_file = viewer::assets_dir()
        .join("anatomy")
        .join("nerve_variants.ron");
    let nerve_variants =
        crate::anatomy::NerveVariantFacts::load(&variants_file).map_err(|e| e.to_string())?;
    Ok(ViewerOptions {
        model_path,
        view,
        layers,
        content,
        nerve_variants: Some(nerve_variants),
        nerve_variant: NerveVariant::A,
    })
}

/// Every scenario the app would load (built-in and the user's), read now.
pub fn load_library() -> Library {
    let mut library = Library::default();
    let builtin = viewer::assets_dir().join(scenario::BUILTIN_FOLDER);
    if let Err(e) = library::load_folder(&builtin, true, &mut library) {
        library.fail(&e.file.clone(), e);
    }
    if let Err(e) = library::load_folder(&scenario::user_scenario_dir(), false, &mut library) {
        library.fail(&e.file.clone(), e);
    }
    library
}

/// The scenario `id` exists and loads; otherwise one line saying which ids exist (or what is
/// wrong with its file).
fn check_scenario(library: &Library, id: &str) -> Result<(), String> {
    if library.get(id).is_some() {
        return Ok(());
    }
    if let Some(error) = library.errors().into_iter().find(|e| {
        e.file
            .contains(&format!("{id}{}", scenario::file::FILE_SUFFIX))
    }) {
        return Err(format!("scenario `{id}`: {error}"));
    }
    let known: Vec<&str> = library.sorted().iter().map(|s| s.id.0.as_str()).collect();
    Err(format!(
        "--scenario {id}: no such scenario (known: {})",
        known.join(", ")
    ))
}

/// The view to start with: the one asked for, else the scenario's story view, else posterior.
fn start_view(asked: Option<ViewPreset>, library: &Library, id: &str) -> ViewPreset {
    asked
        .or_else(|| {
            library
                .get(id)
                .and_then(|s| s.story.view)
                .map(ViewPreset::from)
        })
        .unwrap_or(ViewPreset::Posterior)
}

/// An output file's folder must exist (checked before the GPU starts).
fn check_out_folder(flag: &str, out: &Path) -> Result<(), String> {
    if let Some(parent) = out.parent()
        && !parent.as_os_str().is_empty()
        && !parent.is_dir()
    {
        return Err(format!("{flag} {}: folder does not exist", out.display()));
    }
    if out.is_dir() {
        return Err(format!("{flag} {}: is a folder, not a file", out.display()));
    }
    Ok(())
}

fn exit_code(exit: AppExit) -> ExitCode {
    match exit {
        AppExit::Success => ExitCode::SUCCESS,
        AppExit::Error(code) => ExitCode::from(code.get()),
    }
}

fn run_window(args: &WindowArgs) -> Result<ExitCode, String> {
    let library = load_library();
    let id = args.scenario.clone().unwrap_or_else(|| HEALTHY.to_owned());
    if args.scenario.is_some() {
        check_scenario(&library, &id)?;
    }
    let view = start_view(args.view, &library, &id);
    let viewer = prepare(&args.model, view, LayerSettings::default())?;
    if let Some(problem) = display_problem(std::env::var_os("DISPLAY").as_deref()) {
        return Err(problem);
    }
    let smoke = match (args.smoke_test_frames, &args.smoke_screenshot) {
        (Some(frames), Some(screenshot)) => Some(SmokeTest {
            frames,
            screenshot: screenshot.clone(),
        }),
        _ => None,
    };
    let guidance_file = viewer::assets_dir().join(crate::content::guidance::GUIDANCE_FILE);
    let guidance =
        crate::content::guidance::Guidance::from_file(&guidance_file).map_err(|e| e.to_string())?;
    let options = AppOptions {
        viewer,
        scenario: ScenarioOptions::window(&id, args.watch),
        guidance: Some(guidance),
        heat: HeatSettings::default(),
        posture: PostureOptions::default(),
    };
    Ok(exit_code(app::window_app(&options, smoke).run()))
}

fn run_screenshot(model: &ModelArgs, args: &ScreenshotArgs) -> Result<ExitCode, String> {
    let layers = args
        .layers
        .as_ref()
        .map_or_else(LayerSettings::default, |list| {
            LayerSettings::only(&list.layers)
        });
    let heat = HeatSettings {
        somatic: args.layers.as_ref().is_none_or(|l| l.heat),
        neuropathic: args.layers.as_ref().is_none_or(|l| l.heat),
        ..HeatSettings::default()
    };
    let library = load_library();
    let id = args.scenario.clone().unwrap_or_else(|| HEALTHY.to_owned());
    check_scenario(&library, &id)?;
    let view = start_view(args.view, &library, &id);
    let mut viewer = prepare(model, view, layers)?;
    viewer.nerve_variant = args.nerve_variant;
    check_out_folder("--out", &args.out)?;
    let shot = OffscreenShot {
        out: args.out.clone(),
        width_px: args.size.0,
        height_px: args.size.1,
        view,
        framing: Framing {
            focus: args.focus.unwrap_or(PELVIS_FOCUS),
            radius_m: args.distance.unwrap_or(DEFAULT_RADIUS_M),
        },
    };
    let options = AppOptions {
        viewer,
        scenario: ScenarioOptions::still(&id, args.at),
        guidance: None,
        heat,
        posture: PostureOptions {
            start: args.posture,
            settled: true,
        },
    };
    Ok(exit_code(app::offscreen_app(&options, shot).run()))
}

fn run_record(model: &ModelArgs, args: &RecordArgs) -> Result<ExitCode, String> {
    let library = load_library();
    check_scenario(&library, &args.scenario)?;
    let view = start_view(args.view, &library, &args.scenario);
    let viewer = prepare(model, view, LayerSettings::default())?;
    let output = match (&args.out, &args.frames) {
        (_, Some(dir)) => {
            if dir.exists() && !dir.is_dir() {
                return Err(format!("--frames {}: not a folder", dir.display()));
            }
            ClipOutput::Frames(dir.clone())
        }
        (Some(out), None) => {
            check_out_folder("--out", out)?;
            ClipOutput::Gif(out.clone())
        }
        (None, None) => return Err("give --out FILE.gif or --frames DIR".to_owned()),
    };
    let recording = Recording {
        output,
        seconds: args.seconds,
        fps: args.fps,
        width_px: args.size.0,
        height_px: args.size.1,
        view,
    };
    let options = AppOptions {
        viewer,
        scenario: ScenarioOptions::still(&args.scenario, None),
        guidance: None,
        heat: HeatSettings::default(),
        posture: PostureOptions {
            start: args.posture,
            settled: true,
        },
    };
    Ok(exit_code(app::record_app(&options, recording).run()))
}

/// The skin of the model and every referral pattern's field on it (computed now).
fn heat_fields(
    model: &ModelArgs,
) -> Result<
    (
        crate::referral::field::SkinSurface,
        Vec<crate::referral::data::ReferralFile>,
        crate::referral::field::Fields,
    ),
    String,
> {
    let surface = crate::referral::skin_from_glb(&model_path(model)).map_err(|e| e.to_string())?;
    let dir = viewer::assets_dir().join(crate::referral::data::REFERRAL_FOLDER);
    let (files, errors) = crate::referral::data::load_folder(&dir);
    if let Some(e) = errors.first() {
        return Err(e.to_string());
    }
    let fields = crate::referral::field::precompute(&surface, &files);
    Ok((surface, files, fields))
}

/// The report with the mean heat per region (the scenario report's shape, plus `regions`).
#[derive(serde::Serialize)]
struct FullReport<'a> {
    #[serde(flatten)]
    report: &'a report::Report,
    /// Mean somatic and neuropathic heat (0–1) per skin region name.
    regions: std::collections::BTreeMap<String, crate::referral::RegionHeat>,
}

fn run_rank(model: &ModelArgs, args: &RankArgs) -> Result<ExitCode, String> {
    let regions =
        crate::referral::parse_regions(&args.regions).map_err(|e| format!("--regions: {e}"))?;
    let (surface, files, fields) = heat_fields(model)?;
    let drawing = crate::referral::drawing_of_regions(&surface, &regions);
    let ranking = crate::referral::field::rank(&surface, &fields, &drawing);
    #[derive(serde::Serialize)]
    struct Ranked {
        source: crate::referral::data::SourceId,
        side: &'static str,
        layer: crate::referral::data::PainLayer,
        score: f32,
        covers_drawing: f32,
        covers_pattern: f32,
        why: String,
        scenario: Option<String>,
    }
    let round = |v: f32| (v * 10_000.0).round() / 10_000.0;
    let ranked: Vec<Ranked> = ranking
        .iter()
        .take(args.top.max(1))
        .map(|m| Ranked {
            source: m.source,
            side: match m.side {
                crate::anatomy::Side::Left => "left",
                crate::anatomy::Side::Right => "right",
                crate::anatomy::Side::Midline => "midline",
            },
            layer: m.layer,
            score: round(m.score),
            covers_drawing: round(m.covers_drawing),
            covers_pattern: round(m.covers_pattern),
            why: crate::referral::why(m, &files),
            scenario: crate::referral::referral_of(&files, m.source)
                .and_then(|f| f.scenario.clone()),
        })
        .collect();
    if args.json {
        let value = serde_json::json!({
            "format": "hipback-rank",
            "version": 1,
            "regions": regions.iter().map(|r| r.name()).collect::<Vec<_>>(),
            "score": "weighted Jaccard overlap of the drawing and each source's pattern",
            "ranking": ranked,
        });
        let text = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?;
        println!("{text}");
    } else {
        for (i, r) in ranked.iter().enumerate() {
            println!("{}. {} ({:.0} %)", i + 1, r.why, r.score * 100.0);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Checks every referral file of a folder: each bad one on its own line, exit 2 if any.
fn run_validate_referral(dir: &Path) -> Result<ExitCode, String> {
    if !dir.is_dir() {
        return Err(format!("--referral {}: not a folder", dir.display()));
    }
    let (files, errors) = crate::referral::data::load_folder(dir);
    for error in &errors {
        eprintln!("hipback: {error}");
    }
    if errors.is_empty() {
        println!("{}: ok: {} referral files", dir.display(), files.len());
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(FAILURE_EXIT_CODE))
    }
}

fn run_report(model: &ModelArgs, args: &ReportArgs) -> Result<ExitCode, String> {
    let library = load_library();
    if args.list {
        for s in library.sorted() {
            println!("{}\t{}", s.id, s.title);
        }
        return Ok(ExitCode::SUCCESS);
    }
    let id = args.scenario.clone().unwrap_or_else(|| HEALTHY.to_owned());
    check_scenario(&library, &id)?;
    let assets = viewer::assets_dir();
    let compensation = data::load_ron::<CompensationTable>(&assets.join(data::COMPENSATION_FILE))
        .map_err(|e| e.to_string())?
        .compensations();
    let rule = data::load_ron::<data::StretchRuleFile>(&assets.join(data::STRETCH_RULE_FILE))
        .map_err(|e| e.to_string())?
        .rule();
    // The posture asked for, else the scenario's, else standing.
    let posture_id = args
        .posture
        .or_else(|| library.get(&id).and_then(|s| s.posture).map(|p| p.0))
        .unwrap_or(PostureId::Standing);
    let postures = PostureModel::load(&assets).map_err(|e| e.to_string())?;
    let posture = postures.data.posture(posture_id);
    let lengths = postures.lengths(&posture);
    let posture_report =
        crate::posture::report::from_lengths(Some(posture_id), &postures.clamp(&posture), &lengths);
    let effect = report::PostureEffect {
        report: &posture_report,
        lengths: &lengths,
        rule: &rule,
    };
    let report = report::report(&library, &compensation, &id, args.at, Some(effect))?;
    let state = report::shown_state(&library, &compensation, &id, args.at, Some(effect))
        .ok_or_else(|| format!("unknown scenario `{id}`"))?;
    let (surface, _, fields) = heat_fields(model)?;
    let regions =
        crate::referral::region_heat(&surface, &fields, &crate::referral::intensities(&state));
    if args.json {
        let full = FullReport {
            report: &report,
            regions,
        };
        let text = serde_json::to_string_pretty(&full).map_err(|e| e.to_string())?;
        println!("{text}");
    } else if args.csv {
        println!("region,somatic,neuropathic");
        for (name, heat) in &regions {
            println!("{name},{},{}", heat.somatic, heat.neuropathic);
        }
    } else {
        print!("{}", report::to_text(&report));
    }
    Ok(ExitCode::SUCCESS)
}

/// Checks every scenario file of a folder: each bad one on its own line, exit 2 if any. The
/// built-in scenarios are read first (unless that is the folder checked), so a relief may
/// start from one of them and a duplicate of a built-in id is caught.
/// Whether `dir` (holding `files`) is the built-in scenario folder: the same folder, or a
/// copy of it with every file byte for byte (another checkout's `assets/scenarios` checked by
/// this binary). Its files are then the built-ins themselves, not custom scenarios that would
/// clash with them.
fn is_bundled_folder(dir: &Path, builtin: &Path, files: &[PathBuf]) -> bool {
    if std::fs::canonicalize(dir).ok() == std::fs::canonicalize(builtin).ok() {
        return true;
    }
    let Ok(builtin_files) = scenario::file::scenario_files(builtin) else {
        return false;
    };
    builtin_files.len() == files.len()
        && files.iter().all(|f| {
            let twin = f.file_name().map(|name| builtin.join(name));
            match (std::fs::read(f), twin.map(std::fs::read)) {
                (Ok(a), Some(Ok(b))) => a == b,
                _ => false,
            }
        })
}

fn run_validate_scenarios(dir: &Path) -> Result<ExitCode, String> {
    if !dir.is_dir() {
        return Err(format!("--scenarios {}: not a folder", dir.display()));
    }
    let files = scenario::file::scenario_files(dir)
        .map_err(|e| format!("--scenarios {}: {e}", dir.display()))?;
    let mut library = Library::default();
    let builtin = viewer::assets_dir().join(scenario::BUILTIN_FOLDER);
    if !is_bundled_folder(dir, &builtin, &files) {
        library::load_folder(&builtin, true, &mut library).map_err(|e| e.to_string())?;
    }
    library::load_folder(dir, false, &mut library).map_err(|e| e.to_string())?;
    let checked: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    let errors: Vec<_> = library
        .errors()
        .into_iter()
        .filter(|e| checked.contains(&e.file))
        .collect();
    for error in &errors {
        eprintln!("hipback: {error}");
    }
    let bad: std::collections::BTreeSet<&str> = errors.iter().map(|e| e.file.as_str()).collect();
    if bad.is_empty() {
        println!("{}: ok: {} scenario files", dir.display(), files.len());
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!(
            "hipback: {}: {} of {} scenario files have problems",
            dir.display(),
            bad.len(),
            files.len()
        );
        Ok(ExitCode::from(FAILURE_EXIT_CODE))
    }
}

fn run_validate(args: &ModelArgs) -> Result<ExitCode, String> {
    let path = model_path(args);
    let summary = model::validate_model_file(&path).map_err(|e| e.to_string())?;
    println!(
        "{}: ok: all {} structures present ({} nodes, {} meshes)",
        path.display(),
        summary.structures,
        summary.nodes,
        summary.meshes
    );
    Ok(ExitCode::SUCCESS)
}

/// The window needs an X11 display (the build has no native Wayland; `XWayland` works).
/// Without one winit would panic, so say so in one line first.
pub fn display_problem(display: Option<&std::ffi::OsStr>) -> Option<String> {
    match display {
        Some(d) if !d.is_empty() => None,
        _ => Some(
            "no display: DISPLAY is not set; the window needs X11 or XWayland \
             (run `xvfb-run -a hipback`, or `hipback screenshot --out FILE.png` without a window)"
                .to_owned(),
        ),
    }
}

/// Bevy panics when no GPU adapter is found; turn that into the one-line error and exit 2.
fn install_gpu_panic_hook() {
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        if message.contains("GPU") || message.contains("adapter") {
            eprintln!(
                "hipback: no usable GPU or Vulkan driver ({}); install Mesa lavapipe (mesa-vulkan-drivers) and set WGPU_BACKEND=vulkan",
                message.lines().next().unwrap_or_default()
            );
            std::process::exit(i32::from(FAILURE_EXIT_CODE));
        }
        default_hook(info);
    }));
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn a_missing_display_is_one_clear_line() {
        let problem = display_problem(None).unwrap_or_default();
        assert!(problem.contains("DISPLAY") && !problem.contains('\n'));
        assert!(display_problem(Some(std::ffi::OsStr::new(""))).is_some());
        assert!(display_problem(Some(std::ffi::OsStr::new(":99"))).is_none());
    }

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sizes_and_layers_parse() {
        assert_eq!(parse_size("640x480"), Ok((640, 480)));
        assert!(parse_size("640").is_err());
        assert!(parse_size("0x10").is_err());
        assert_eq!(
            parse_layers("bones, nerve"),
            Ok(LayerList {
                layers: vec![Layer::Bones, Layer::Nerves],
                heat: false
            })
        );
        assert!(parse_layers("bones,liver").unwrap_err().contains("liver"));
    }

    #[test]
    fn screenshot_arguments_parse() {
        let cli = Cli::try_parse_from([
            "hipback",
            "screenshot",
            "--out",
            "/tmp/x.png",
            "--view",
            "left",
            "--size",
            "64x32",
            "--layers",
            "bones",
            "--model",
            "/m.glb",
        ])
        .unwrap();
        let Some(Command::Screenshot(args)) = cli.command else {
            panic!("expected screenshot");
        };
        assert_eq!(args.view, Some(ViewPreset::Left));
        assert_eq!(args.size, (64, 32));
        assert_eq!(
            args.layers,
            Some(LayerList {
                layers: vec![Layer::Bones],
                heat: false
            })
        );
        assert_eq!(cli.window.model.model, Some(PathBuf::from("/m.glb")));
        assert!(Cli::try_parse_from(["hipback", "--view", "sideways"]).is_err());
    }
}
