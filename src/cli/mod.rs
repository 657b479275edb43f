//! Command line: `hipback` (window), `hipback screenshot`, `hipback validate`. Every failure a
//! user can cause (bad argument, unreadable or incomplete model, no GPU) ends with one line on
//! stderr naming the file or argument, and exit code 2. New subcommands (scenarios, heat maps,
//! posture) add a [`Command`] variant and a `run_*` function.

use std::path::PathBuf;
use std::process::ExitCode;

use bevy::prelude::AppExit;
use clap::{Args, Parser, Subcommand};

use crate::anatomy::Layer;
use crate::content::ContentTable;
use crate::viewer::camera::ViewPreset;
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
    /// Check that a model has every structure the viewer needs.
    Validate(ValidateArgs),
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
    /// Start view.
    #[arg(long, value_enum, default_value_t = ViewPreset::Posterior)]
    pub view: ViewPreset,
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
    /// The view.
    #[arg(long, value_enum, default_value_t = ViewPreset::Posterior)]
    pub view: ViewPreset,
    /// Image size in pixels, e.g. 1280x720.
    #[arg(long, value_name = "WxH", default_value = "1280x720", value_parser = parse_size)]
    pub size: (u32, u32),
    /// Layers to show, comma-separated: bones,muscles,nerve,si,skin (default: all).
    #[arg(long, value_name = "LIST", value_parser = parse_layers)]
    pub layers: Option<LayerList>,
}

/// A comma-separated list of layers, as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerList(pub Vec<Layer>);

/// `validate` options (the model comes from the global `--model`).
#[derive(Debug, Clone, Args)]
pub struct ValidateArgs {}

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
    for name in text.split(',').filter(|s| !s.trim().is_empty()) {
        let layer = parse_layer(name).ok_or_else(|| {
            format!(
                "unknown layer `{}` (use bones, muscles, nerve, si, skin)",
                name.trim()
            )
        })?;
        if !layers.contains(&layer) {
            layers.push(layer);
        }
    }
    if layers.is_empty() {
        return Err("no layer named".to_owned());
    }
    Ok(LayerList(layers))
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
        Some(Command::Validate(_)) => run_validate(&cli.window.model),
    }
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
    Ok(ViewerOptions {
        model_path,
        view,
        layers,
        content,
    })
}

fn exit_code(exit: AppExit) -> ExitCode {
    match exit {
        AppExit::Success => ExitCode::SUCCESS,
        AppExit::Error(code) => ExitCode::from(code.get()),
    }
}

fn run_window(args: &WindowArgs) -> Result<ExitCode, String> {
    let options = prepare(&args.model, args.view, LayerSettings::default())?;
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
    Ok(exit_code(viewer::window_app(&options, smoke).run()))
}

fn run_screenshot(model: &ModelArgs, args: &ScreenshotArgs) -> Result<ExitCode, String> {
    let layers = args
        .layers
        .as_ref()
        .map_or_else(LayerSettings::default, |list| LayerSettings::only(&list.0));
    let options = prepare(model, args.view, layers)?;
    if let Some(parent) = args.out.parent()
        && !parent.as_os_str().is_empty()
        && !parent.is_dir()
    {
        return Err(format!(
            "--out {}: folder does not exist",
            args.out.display()
        ));
    }
    let shot = OffscreenShot {
        out: args.out.clone(),
        width_px: args.size.0,
        height_px: args.size.1,
        view: args.view,
    };
    Ok(exit_code(viewer::offscreen_app(&options, shot).run()))
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
            Ok(LayerList(vec![Layer::Bones, Layer::Nerves]))
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
        assert_eq!(args.view, ViewPreset::Left);
        assert_eq!(args.size, (64, 32));
        assert_eq!(args.layers, Some(LayerList(vec![Layer::Bones])));
        assert_eq!(cli.window.model.model, Some(PathBuf::from("/m.glb")));
        assert!(Cli::try_parse_from(["hipback", "--view", "sideways"]).is_err());
    }
}
