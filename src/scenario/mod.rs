//! Tension scenarios: RON files in `assets/scenarios/` (and the user's own folder) loaded
//! through a Bevy asset loader, the active scenario eased in over a moment, relief timelines
//! with play, pause, speed and a scrubber, and the result shown on the model: muscle tint and
//! `tense` morph, the nerve's `compressed` morph and glow, the SI joint's colour, pulsing
//! trigger points, nerve pulses and the relief tools.
//!
//! The maths is plain Rust in [`mod@file`], [`library`], [`state`], [`look`] and [`markers`];
//! the systems here only feed it time and files and hand the result to the viewer's single
//! writer of materials and morph weights (through [`crate::viewer::look::Tint`] and
//! [`crate::viewer::look::MorphWeight`]).

pub mod data;
pub mod effects;
pub mod file;
pub mod library;
pub mod look;
pub mod markers;
pub mod panel;
pub mod report;
pub mod state;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use bevy::asset::io::Reader;
use bevy::asset::{AssetLoader, LoadContext};
use bevy::prelude::*;

use crate::anatomy::{Layer, Structure};
use crate::files::{FileError, FileErrorKind};
use crate::posture::plugin::{PostureCommand, PostureSystems, ShownPosture};
use crate::viewer::ViewerSystems;
use crate::viewer::actions::Action;
use crate::viewer::camera::{CameraCommand, ViewPreset};
use crate::viewer::layers::FadedStructures;
use crate::viewer::look::{MorphWeight, Tint, atlas_colour};
use crate::viewer::model::StructureTag;
use data::{CompensationTable, TriggerPointTable};
use file::{ScenarioFile, ScenarioKind};
use library::Library;
use state::{BodyState, Compensation, Playback, SWITCH_DURATION_S, StretchRule, Transition};

/// The id of the calm starting point.
pub const HEALTHY: &str = "healthy";
/// The built-in scenario folder inside the assets folder.
pub const BUILTIN_FOLDER: &str = "scenarios";

/// The folder custom scenarios are saved to.
pub fn user_scenario_dir() -> PathBuf {
    crate::files::user_data_dir().join("scenarios")
}

/// How the scenario plugin is set up by each app.
#[derive(Resource, Clone, Debug)]
pub struct ScenarioOptions {
    /// The scenario to start in.
    pub start: String,
    /// For relief timelines: the moment to start at (`None`: from the beginning in the
    /// window; at the end for a settled screenshot).
    pub start_at_s: Option<f32>,
    /// Start settled (no ease from healthy): screenshots and reports.
    pub settled: bool,
    /// Picking a scenario moves the camera to its story view (the window).
    pub story_camera: bool,
    /// Poll the scenario files for changes every second (`--watch`).
    pub watch: bool,
    /// The built-in folder.
    pub builtin_dir: PathBuf,
    /// The user's folder (custom scenarios are saved here).
    pub user_dir: PathBuf,
    /// The clock runs with real time (window) or is set by the caller (screenshot, record).
    pub manual_clock: bool,
}

impl ScenarioOptions {
    /// Options for the interactive window.
    pub fn window(start: &str, watch: bool) -> Self {
        Self {
            start: start.to_owned(),
            start_at_s: None,
            settled: false,
            story_camera: true,
            watch,
            builtin_dir: crate::viewer::assets_dir().join(BUILTIN_FOLDER),
            user_dir: user_scenario_dir(),
            manual_clock: false,
        }
    }

    /// Options for a still picture of `start` at `at_s`.
    pub fn still(start: &str, at_s: Option<f32>) -> Self {
        Self {
            start_at_s: at_s,
            settled: true,
            story_camera: false,
            manual_clock: true,
            ..Self::window(start, false)
        }
    }
}

/// A scenario file as Bevy loads it: the parse result, good or bad, so that the error (with
/// its line and column) reaches the panel and the last good version stays in use.
#[derive(Asset, TypePath, Debug, Clone)]
pub struct ScenarioAsset {
    /// The file as shown to users.
    pub file: String,
    /// The text, for locating errors found across files.
    pub text: Option<String>,
    /// The parsed scenario or what is wrong with it.
    pub parsed: Result<ScenarioFile, FileError>,
}

/// Loads `*.scenario.ron` files.
#[derive(Default, TypePath)]
pub struct ScenarioLoader;

impl AssetLoader for ScenarioLoader {
    type Asset = ScenarioAsset;
    type Settings = ();
    type Error = std::io::Error;

    async fn load(
        &self,
        reader: &mut dyn Reader,
        _settings: &(),
        load_context: &mut LoadContext<'_>,
    ) -> Result<ScenarioAsset, std::io::Error> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes).await?;
        let file = load_context.path().to_string();
        Ok(ScenarioAsset {
            parsed: file::parse(&bytes, &file),
            text: String::from_utf8(bytes).ok(),
            file,
        })
    }

    fn extensions(&self) -> &[&str] {
        &["scenario.ron"]
    }
}

/// Every scenario, the data they build on, and what is wrong with any file.
#[derive(Resource, Debug, Default)]
pub struct Scenarios {
    /// The scenarios by file.
    pub library: Library,
    /// Compensation rules (weak muscle → helpers).
    pub compensation: Vec<Compensation>,
    /// Documented trigger points.
    pub trigger_points: TriggerPointTable,
    /// How a posture's stretch changes a tight muscle and the nerve under it.
    pub stretch_rule: Option<StretchRule>,
    /// Errors of the data files (compensation, trigger points, anatomy).
    pub data_errors: Vec<FileError>,
    /// Files still loading.
    pub pending: usize,
}

impl Scenarios {
    /// Every error to show: scenario files, then data files.
    pub fn errors(&self) -> Vec<FileError> {
        let mut errors = self.library.errors();
        errors.extend(self.data_errors.iter().cloned());
        errors
    }
}

/// The handles of the scenario files, by path, and their last seen modification times.
#[derive(Resource, Default)]
struct ScenarioFiles {
    handles: BTreeMap<PathBuf, Handle<ScenarioAsset>>,
    builtin: BTreeSet<PathBuf>,
    modified: BTreeMap<PathBuf, Option<SystemTime>>,
    /// Files whose load has reached the library (loaded or failed).
    arrived: BTreeSet<AssetId<ScenarioAsset>>,
    last_scan_s: f64,
}

/// The scenario clock, seconds: drives easing, timelines and pulses. Runs with real time in
/// the window; screenshots and recordings set it.
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq)]
pub struct ScenarioClock {
    /// Now.
    pub now_s: f64,
}

/// The scenario being shown.
#[derive(Resource, Clone, Debug)]
pub struct ActiveScenario {
    /// Its id.
    pub id: String,
    /// A clinician's own levels, replacing the scenario's while set.
    pub custom: Option<BodyState>,
    /// Relief timeline playback.
    pub playback: Playback,
    /// The ease from the previous state.
    pub transition: Transition,
    /// The id whose story (camera, fades) was applied last.
    story_applied: Option<String>,
}

/// What is shown now: levels per structure (weak muscles' load already shifted), the relief
/// tool's pressure and the moment on the timeline.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct ShownState {
    /// Levels as shown.
    pub state: BodyState,
    /// Relief tool pressure, 0–1.
    pub pressure_0_to_1: f32,
    /// Position on the relief timeline, seconds.
    pub timeline_s: f32,
}

/// Something the panel (or a test) asks the scenario plugin to do.
#[derive(Message, Clone, Debug, PartialEq)]
pub enum ScenarioCommand {
    /// Switch to a scenario (eased).
    Select(String),
    /// Set one structure's levels (custom state; no easing, it follows the slider).
    SetLevels(Structure, state::StructureState),
    /// Drop the custom levels.
    ClearCustom,
    /// Move the relief timeline.
    Seek(f32),
    /// Play or pause the relief timeline.
    TogglePlay,
    /// Relief playback speed.
    SetSpeed(f32),
    /// Read every scenario file again.
    Reload,
    /// Record the active scenario's clip (a GIF) in the user's folder, in the background.
    SaveClip,
    /// Save the current levels as a new scenario file in the user's folder.
    SaveCustom {
        /// The new id.
        id: String,
        /// The new title.
        title: String,
    },
}

/// The outcome of the last save, for the panel.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct SaveStatus(pub Option<Result<String, String>>);

/// A clip being recorded by a `hipback record` child process (the window keeps running).
#[derive(Resource, Default)]
pub struct ClipJob {
    child: Option<std::process::Child>,
    path: PathBuf,
    /// One line for the panel: recording, saved to…, or what went wrong.
    pub status: Option<String>,
}

impl ClipJob {
    /// Whether a clip is being recorded now.
    pub fn running(&self) -> bool {
        self.child.is_some()
    }
}

/// The scenario plugin without any UI (tests add it to a renderer-less app).
pub fn plugin(app: &mut App) {
    app.init_asset::<ScenarioAsset>()
        .init_asset_loader::<ScenarioLoader>()
        .add_message::<ScenarioCommand>()
        .add_message::<PostureCommand>()
        .init_resource::<Scenarios>()
        .init_resource::<ScenarioFiles>()
        .init_resource::<ScenarioClock>()
        .init_resource::<ShownState>()
        .init_resource::<SaveStatus>()
        .init_resource::<ClipJob>()
        .add_systems(Startup, (load_data, start_loading_files))
        .add_systems(
            Update,
            (scenario_actions, apply_commands)
                .chain()
                .in_set(ViewerSystems::Input),
        )
        .add_systems(
            Update,
            (
                watch_files,
                ingest_files,
                tick_clock,
                compute_shown,
                report_readiness,
            )
                .chain()
                .in_set(ViewerSystems::Simulate)
                .after(PostureSystems),
        )
        .add_systems(
            Update,
            (apply_story, derive_structure_looks, poll_clip_job).in_set(ViewerSystems::Derive),
        )
        .add_plugins(effects::plugin);
    let options = app
        .world()
        .get_resource::<ScenarioOptions>()
        .cloned()
        .unwrap_or_else(|| ScenarioOptions::window(HEALTHY, false));
    let playback = Playback {
        time_s: options.start_at_s.unwrap_or(0.0),
        playing: !options.settled,
        speed: 1.0,
    };
    app.insert_resource(ActiveScenario {
        id: options.start.clone(),
        custom: None,
        playback,
        transition: Transition {
            from: BodyState::relaxed(),
            started_s: 0.0,
            duration_s: if options.settled {
                0.0
            } else {
                SWITCH_DURATION_S
            },
        },
        story_applied: None,
    })
    .insert_resource(ScenarioClock {
        now_s: if options.manual_clock {
            f64::from(options.start_at_s.unwrap_or(0.0))
        } else {
            0.0
        },
    });
    if let Some(mut waiting) = app
        .world_mut()
        .get_resource_mut::<crate::viewer::WaitingFor>()
    {
        waiting.0.insert(WAITING_LABEL);
    }
    app.insert_resource(options);
}

/// What the scenario plugin puts in [`crate::viewer::WaitingFor`] until its scenario arrives.
const WAITING_LABEL: &str = "scenario";

/// Tells pictures and recordings when the active scenario has arrived; in a still (screenshot,
/// recording), a scenario that never arrives is an error.
fn report_readiness(
    active: Res<ActiveScenario>,
    scenarios: Res<Scenarios>,
    options: Res<ScenarioOptions>,
    waiting: Option<ResMut<crate::viewer::WaitingFor>>,
    mut exit: MessageWriter<AppExit>,
) {
    let Some(mut waiting) = waiting else { return };
    if !waiting.0.contains(WAITING_LABEL) {
        return;
    }
    if scenario_ready(&active, &scenarios) {
        waiting.0.remove(WAITING_LABEL);
    } else if options.manual_clock && scenarios.pending == 0 {
        let detail = scenarios
            .errors()
            .iter()
            .map(ToString::to_string)
            .next()
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        eprintln!(
            "hipback: scenario `{}` could not be loaded{detail}",
            active.id
        );
        exit.write(crate::viewer::screenshot::failure_exit());
    }
}

/// Reads the compensation and trigger-point tables (small, synchronous: needed at once).
fn load_data(mut scenarios: ResMut<Scenarios>) {
    let assets = crate::viewer::assets_dir();
    match data::load_ron::<CompensationTable>(&assets.join(data::COMPENSATION_FILE)) {
        Ok(table) => scenarios.compensation = table.compensations(),
        Err(e) => scenarios.data_errors.push(e),
    }
    let points_file = assets.join(data::TRIGGER_POINTS_FILE);
    match data::load_ron::<TriggerPointTable>(&points_file) {
        Ok(table) => scenarios.trigger_points = table,
        Err(e) => scenarios.data_errors.push(e),
    }
    match data::load_ron::<data::StretchRuleFile>(&assets.join(data::STRETCH_RULE_FILE)) {
        Ok(file) => scenarios.stretch_rule = Some(file.rule()),
        Err(e) => scenarios.data_errors.push(e),
    }
}

fn start_loading_files(
    asset_server: Res<AssetServer>,
    options: Res<ScenarioOptions>,
    mut files: ResMut<ScenarioFiles>,
    mut scenarios: ResMut<Scenarios>,
) {
    for (dir, builtin) in [(&options.builtin_dir, true), (&options.user_dir, false)] {
        match file::scenario_files(dir) {
            Ok(paths) => {
                for path in paths {
                    load_file(&asset_server, &mut files, &path, builtin);
                }
            }
            Err(e) => scenarios.data_errors.push(FileError::new(
                FileErrorKind::Unreadable,
                &dir.display().to_string(),
                format!("cannot list the folder: {e}"),
            )),
        }
    }
    scenarios.pending = files.handles.len();
}

fn load_file(asset_server: &AssetServer, files: &mut ScenarioFiles, path: &Path, builtin: bool) {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    // Files inside the assets folder load by their path in it, so Bevy's file watcher (the
    // `dev` feature) matches its change events to them; others by their absolute path.
    let assets = std::path::absolute(crate::viewer::assets_dir()).unwrap_or_default();
    let handle: Handle<ScenarioAsset> = match absolute.strip_prefix(&assets) {
        Ok(inside) => asset_server.load(inside.to_path_buf()),
        Err(_) => asset_server.load(absolute.clone()),
    };
    files
        .modified
        .insert(absolute.clone(), modified_time(&absolute));
    if builtin {
        files.builtin.insert(absolute.clone());
    }
    files.handles.insert(absolute, handle);
}

/// Reloads a file by the asset path it was loaded with (inside the assets folder or absolute).
fn reload(asset_server: &AssetServer, id: AssetId<ScenarioAsset>, path: &Path) {
    match asset_server.get_path(id) {
        Some(asset_path) => asset_server.reload(asset_path.into_owned()),
        None => asset_server.reload(path.to_path_buf()),
    }
}

fn modified_time(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Moves each newly loaded or reloaded file into the library.
fn ingest_files(
    mut events: MessageReader<AssetEvent<ScenarioAsset>>,
    mut failures: MessageReader<bevy::asset::AssetLoadFailedEvent<ScenarioAsset>>,
    assets: Res<Assets<ScenarioAsset>>,
    mut files: ResMut<ScenarioFiles>,
    mut scenarios: ResMut<Scenarios>,
) {
    for event in events.read() {
        let (AssetEvent::Added { id } | AssetEvent::Modified { id }) = event else {
            continue;
        };
        let Some(asset) = assets.get(*id) else {
            continue;
        };
        files.arrived.insert(*id);
        let builtin = files
            .handles
            .iter()
            .find(|(_, h)| h.id() == *id)
            .is_some_and(|(path, _)| files.builtin.contains(path));
        match &asset.parsed {
            Ok(_) => info!("scenario file {} loaded", asset.file),
            Err(e) => error!("{e}"),
        }
        scenarios.library.update(
            &asset.file,
            asset.text.as_deref(),
            asset.parsed.clone(),
            builtin,
        );
    }
    for failure in failures.read() {
        files.arrived.insert(failure.id);
        let file = failure.path.to_string();
        let error = FileError::cannot_read(&file, &failure.error);
        error!("{error}");
        scenarios.library.fail(&file, error);
    }
    let pending = files
        .handles
        .values()
        .filter(|h| !files.arrived.contains(&h.id()))
        .count();
    if scenarios.pending != pending {
        scenarios.pending = pending;
    }
}

/// With `--watch` (or the `dev` feature's file watcher off), checks the folders once a second
/// for new or changed files and reloads them.
fn watch_files(
    options: Res<ScenarioOptions>,
    time: Res<Time<Real>>,
    asset_server: Res<AssetServer>,
    mut files: ResMut<ScenarioFiles>,
    mut scenarios: ResMut<Scenarios>,
) {
    if !options.watch {
        return;
    }
    let now = time.elapsed_secs_f64();
    if now - files.last_scan_s < 1.0 {
        return;
    }
    files.last_scan_s = now;
    rescan(&options, &asset_server, &mut files, &mut scenarios.library);
}

/// Forgets deleted files and their scenarios, reloads changed files and loads new ones.
fn rescan(
    options: &ScenarioOptions,
    asset_server: &AssetServer,
    files: &mut ScenarioFiles,
    library: &mut Library,
) {
    forget_deleted(asset_server, files, library);
    for (dir, builtin) in [(&options.builtin_dir, true), (&options.user_dir, false)] {
        let Ok(paths) = file::scenario_files(dir) else {
            continue;
        };
        for path in paths {
            let absolute = std::path::absolute(&path).unwrap_or(path);
            let modified = modified_time(&absolute);
            match files.modified.get(&absolute) {
                None => load_file(asset_server, files, &absolute, builtin),
                Some(seen) if *seen != modified => {
                    files.modified.insert(absolute.clone(), modified);
                    if let Some(id) = files.handles.get(&absolute).map(Handle::id) {
                        files.arrived.remove(&id);
                        reload(asset_server, id, &absolute);
                    }
                }
                Some(_) => {}
            }
        }
    }
}

/// Forgets the files that no longer exist: their scenarios leave the list, and no reload of
/// them is asked for (it could only fail with "cannot read").
fn forget_deleted(asset_server: &AssetServer, files: &mut ScenarioFiles, library: &mut Library) {
    let gone: Vec<PathBuf> = files
        .handles
        .keys()
        .filter(|path| {
            std::fs::metadata(path).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
        })
        .cloned()
        .collect();
    for path in gone {
        if let Some(handle) = files.handles.remove(&path) {
            // The library knows the file by the asset path it was loaded with.
            let label = asset_server
                .get_path(handle.id())
                .map_or_else(|| path.display().to_string(), |p| p.to_string());
            library.remove(&label);
            files.arrived.remove(&handle.id());
        }
        files.modified.remove(&path);
        files.builtin.remove(&path);
    }
}

/// The scenario keys: next, previous, play/pause.
fn scenario_actions(
    mut actions: MessageReader<Action>,
    scenarios: Res<Scenarios>,
    active: Res<ActiveScenario>,
    mut commands: MessageWriter<ScenarioCommand>,
) {
    for action in actions.read() {
        let step: i32 = match action {
            Action::NextScenario => 1,
            Action::PreviousScenario => -1,
            Action::PlayPause => {
                commands.write(ScenarioCommand::TogglePlay);
                continue;
            }
            _ => continue,
        };
        let ids: Vec<&str> = scenarios
            .library
            .sorted()
            .iter()
            .map(|s| s.id.0.as_str())
            .collect();
        if ids.is_empty() {
            continue;
        }
        let current = ids.iter().position(|id| *id == active.id).unwrap_or(0) as i32;
        let next = (current + step).rem_euclid(ids.len() as i32) as usize;
        commands.write(ScenarioCommand::Select(ids[next].to_owned()));
    }
}

/// Applies the panel's and the keys' scenario commands.
fn apply_commands(
    mut commands: MessageReader<ScenarioCommand>,
    mut active: ResMut<ActiveScenario>,
    mut scenarios: ResMut<Scenarios>,
    mut files: ResMut<ScenarioFiles>,
    shown: Res<ShownState>,
    clock: Res<ScenarioClock>,
    options: Res<ScenarioOptions>,
    asset_server: Res<AssetServer>,
    mut save_status: ResMut<SaveStatus>,
    mut clip: ResMut<ClipJob>,
    model: Option<Res<crate::viewer::model::ModelSource>>,
) {
    for command in commands.read() {
        match command {
            ScenarioCommand::Select(id) => {
                if scenarios.library.get(id).is_none() {
                    warn!("no scenario `{id}`");
                    continue;
                }
                active.transition = Transition {
                    from: shown.state.clone(),
                    started_s: clock.now_s,
                    duration_s: SWITCH_DURATION_S,
                };
                active.id = id.clone();
                active.custom = None;
                active.playback = Playback {
                    speed: active.playback.speed,
                    ..Playback::default()
                };
            }
            ScenarioCommand::SetLevels(structure, levels) => {
                // Sliders edit the levels before compensation.
                let duration = scenarios.library.duration_s(&active.id);
                let mut base = active.custom.clone().unwrap_or_else(|| {
                    scenarios
                        .library
                        .base_state(&active.id, duration.map(|_| active.playback.time_s))
                        .unwrap_or_default()
                });
                *base.get_mut(*structure) = *levels;
                active.custom = Some(base.clamped());
                active.playback.playing = false;
                active.transition.duration_s = 0.0;
            }
            ScenarioCommand::ClearCustom => {
                active.transition = Transition {
                    from: shown.state.clone(),
                    started_s: clock.now_s,
                    duration_s: SWITCH_DURATION_S,
                };
                active.custom = None;
            }
            ScenarioCommand::Seek(t) => {
                let duration = scenarios.library.duration_s(&active.id).unwrap_or(0.0);
                active.playback.time_s = t.clamp(0.0, duration);
            }
            ScenarioCommand::TogglePlay => {
                if let Some(duration) = scenarios.library.duration_s(&active.id) {
                    active.playback.toggle(duration);
                }
            }
            ScenarioCommand::SetSpeed(speed) => {
                if speed.is_finite() && *speed > 0.0 {
                    active.playback.speed = *speed;
                }
            }
            ScenarioCommand::Reload => {
                forget_deleted(&asset_server, &mut files, &mut scenarios.library);
                let reloading: Vec<(PathBuf, AssetId<ScenarioAsset>)> = files
                    .handles
                    .iter()
                    .map(|(path, handle)| (path.clone(), handle.id()))
                    .collect();
                for (path, id) in reloading {
                    // Pending again until the new version arrives.
                    files.arrived.remove(&id);
                    reload(&asset_server, id, &path);
                }
                files.last_scan_s = f64::MIN;
                rescan(&options, &asset_server, &mut files, &mut scenarios.library);
            }
            ScenarioCommand::SaveClip => {
                if clip.running() {
                    continue;
                }
                let path = crate::files::user_media_dir().join(format!(
                    "hipback-{}-{}.gif",
                    active.id,
                    crate::files::now_stamp()
                ));
                let model = model.as_ref().map(|m| m.path.clone());
                match start_clip(&active.id, &path, model.as_deref()) {
                    Ok(child) => {
                        clip.child = Some(child);
                        clip.status = Some(format!("Recording the clip… ({})", path.display()));
                        clip.path = path;
                    }
                    Err(e) => clip.status = Some(format!("Could not start recording: {e}")),
                }
            }
            ScenarioCommand::SaveCustom { id, title } => {
                let levels = active.custom.clone().unwrap_or_else(|| {
                    scenarios
                        .library
                        .base_state(&active.id, Some(active.playback.time_s))
                        .unwrap_or_default()
                });
                let result = save_custom(&options.user_dir, id, title, &levels, &scenarios.library);
                match &result {
                    Ok(path) => {
                        let file_label = path.display().to_string();
                        match std::fs::read(path) {
                            Ok(bytes) => scenarios.library.update(
                                &file_label,
                                std::str::from_utf8(&bytes).ok(),
                                file::parse(&bytes, &file_label),
                                false,
                            ),
                            Err(e) => error!("{file_label}: {e}"),
                        }
                        load_file(&asset_server, &mut files, path, false);
                        active.id = id.clone();
                        active.custom = None;
                    }
                    Err(e) => warn!("saving the scenario: {e}"),
                }
                save_status.0 = Some(result.map(|p| p.display().to_string()));
            }
        }
    }
}

/// Starts `hipback record` for `id` in the background, writing to `path`.
fn start_clip(id: &str, path: &Path, model: Option<&Path>) -> std::io::Result<std::process::Child> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut command = std::process::Command::new(std::env::current_exe()?);
    command
        .args(["record", "--scenario", id, "--size", "640x480", "--out"])
        .arg(path)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped());
    if let Some(model) = model {
        command.arg("--model").arg(model);
    }
    command.spawn()
}

/// Reports when a background recording ends.
fn poll_clip_job(mut clip: ResMut<ClipJob>) {
    let Some(child) = clip.child.as_mut() else {
        return;
    };
    let Ok(Some(status)) = child.try_wait() else {
        return;
    };
    let mut stderr = String::new();
    if let Some(mut pipe) = child.stderr.take() {
        use std::io::Read as _;
        let _ = pipe.read_to_string(&mut stderr);
    }
    let path = clip.path.display().to_string();
    clip.child = None;
    clip.status = Some(if status.success() {
        format!("Clip saved to {path}")
    } else {
        let why = stderr
            .lines()
            .rev()
            .find(|l| l.starts_with("hipback: "))
            .unwrap_or("the recorder stopped")
            .to_owned();
        format!("Could not record the clip: {why}")
    });
}

/// Writes the levels as a new custom scenario `dir/<id>.scenario.ron`, atomically, never over
/// a built-in scenario or an existing file.
pub fn save_custom(
    dir: &Path,
    id: &str,
    title: &str,
    levels: &BodyState,
    library: &Library,
) -> Result<PathBuf, String> {
    if !file::ScenarioId::is_valid(id) {
        return Err(format!(
            "`{id}` is not a valid id: use lower-case letters, digits and _, starting with a letter"
        ));
    }
    if library.get(id).is_some() {
        return Err(format!(
            "a scenario with the id `{id}` exists already{}; choose another id",
            if library.is_builtin_id(id) {
                " (built in)"
            } else {
                ""
            }
        ));
    }
    let title = title.trim();
    let scenario = ScenarioFile {
        version: file::FORMAT_VERSION,
        id: file::ScenarioId(id.to_owned()),
        title: if title.is_empty() {
            id.replace('_', " ")
        } else {
            title.to_owned()
        },
        subtitle: "Made with the sliders".to_owned(),
        kind: ScenarioKind::Custom,
        order: 0,
        card: file::Card {
            what_you_see: "Levels set by a clinician with the sliders.".to_owned(),
            what_people_feel: String::new(),
            what_a_clinician_checks: String::new(),
        },
        illustrative: "A custom state: the levels are a clinician's choice, not measurements."
            .to_owned(),
        structures: file::StructureLevels(
            levels
                .iter()
                .filter(|(_, l)| l.values().iter().any(|v| *v > 0.0))
                .map(|(structure, l)| (structure, levels_of(structure, l)))
                .collect(),
        ),
        story: file::Story::default(),
        posture: None,
        relief: None,
        citations: Vec::new(),
    };
    let text = file::to_ron(&scenario)?;
    // Refuse to write what could not be read back.
    file::parse(text.as_bytes(), id).map_err(|e| e.to_string())?;
    let path = dir.join(format!("{id}{}", file::FILE_SUFFIX));
    if path.exists() {
        return Err(format!(
            "{} exists already; choose another id",
            path.display()
        ));
    }
    crate::files::write_atomically(&path, text.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// The file levels of one structure (only the fields it can have, rounded to 2 decimals).
fn levels_of(structure: Structure, l: state::StructureState) -> file::Levels {
    let (tension, weakness, compression, irritation) = state::applies_to(structure.layer());
    let f = |on: bool, v: f32| {
        if on {
            file::Fraction::clamped((v * 100.0).round() / 100.0)
        } else {
            file::Fraction::ZERO
        }
    };
    file::Levels {
        tension: f(tension, l.tension_0_to_1),
        weakness: f(weakness, l.weakness_0_to_1),
        compression: f(compression, l.compression_0_to_1),
        irritation: f(irritation, l.irritation_0_to_1),
    }
}

/// Advances the clock and the relief playback with real time (not in stills and recordings).
fn tick_clock(
    options: Res<ScenarioOptions>,
    time: Res<Time>,
    mut clock: ResMut<ScenarioClock>,
    mut active: ResMut<ActiveScenario>,
    scenarios: Res<Scenarios>,
) {
    if options.manual_clock {
        return;
    }
    let dt = time.delta_secs();
    clock.now_s += f64::from(dt);
    if let Some(duration) = scenarios.library.duration_s(&active.id)
        && active.playback.playing
    {
        active.playback.advance(dt, duration);
    }
}

/// The state shown this frame: the scenario's levels, weak muscles' load shifted, and the
/// posture's stretch applied (the illustrative stretch rule).
fn compute_shown(
    active: Res<ActiveScenario>,
    scenarios: Res<Scenarios>,
    clock: Res<ScenarioClock>,
    posture: Option<Res<ShownPosture>>,
    mut shown: ResMut<ShownState>,
) {
    let library = &scenarios.library;
    let duration = library.duration_s(&active.id);
    let timeline_s = match duration {
        Some(d) => active.playback.time_s.min(d),
        None => 0.0,
    };
    let base = match &active.custom {
        Some(custom) => Some(custom.clone()),
        None => library.base_state(&active.id, duration.map(|_| timeline_s)),
    };
    // Until the scenario's file has loaded, stay where we are.
    let Some(base) = base else { return };
    let mut target = state::with_compensation(&base, &scenarios.compensation);
    if let (Some(posture), Some(rule)) = (posture, scenarios.stretch_rule.as_ref()) {
        target = state::with_stretch(&target, |s| posture.lengths.change_pct(s), rule);
    }
    let next = ShownState {
        state: active.transition.shown(&target, clock.now_s),
        pressure_0_to_1: if active.custom.is_some() {
            0.0
        } else {
            library.pressure(&active.id, timeline_s)
        },
        timeline_s,
    };
    if *shown != next {
        *shown = next;
    }
}

/// Whether the active scenario has arrived (screenshots wait for it).
pub fn scenario_ready(active: &ActiveScenario, scenarios: &Scenarios) -> bool {
    scenarios.library.get(&active.id).is_some()
}

/// On a scenario change: fades what hides the story, (in the window) moves the camera to the
/// story's view, and sets the posture the scenario names (or none).
fn apply_story(
    mut active: ResMut<ActiveScenario>,
    scenarios: Res<Scenarios>,
    options: Res<ScenarioOptions>,
    mut faded: ResMut<FadedStructures>,
    mut camera: MessageWriter<CameraCommand>,
    mut posture: MessageWriter<PostureCommand>,
) {
    if active.story_applied.as_deref() == Some(active.id.as_str()) {
        return;
    }
    let Some(scenario) = scenarios.library.get(&active.id) else {
        return;
    };
    let fades: BTreeSet<Structure> = scenario.story.fade.iter().map(|s| s.0).collect();
    if faded.0 != fades {
        faded.0 = fades;
    }
    if options.story_camera
        && let Some(view) = scenario.story.view
    {
        camera.write(CameraCommand::Preset(ViewPreset::from(view)));
    }
    posture.write(PostureCommand::FromScenario(scenario.posture.map(|p| p.0)));
    active.story_applied = Some(active.id.clone());
}

/// The tint and morph weight of every structure from the shown state, set only where they
/// change (the viewer's material and morph writers pick them up).
fn derive_structure_looks(
    shown: Res<ShownState>,
    mut commands: Commands,
    mut structures: Query<(
        Entity,
        &StructureTag,
        Option<&mut Tint>,
        Option<&mut MorphWeight>,
    )>,
    added: Query<(), Added<StructureTag>>,
) {
    if !shown.is_changed() && added.is_empty() {
        return;
    }
    for (entity, tag, tint, weight) in &mut structures {
        let levels = shown.state.get(tag.0);
        let atlas = atlas_colour(tag.0);
        let (wanted_tint, wanted_weight) = match tag.0.layer() {
            Layer::Muscles => (
                Tint {
                    colour: look::muscle_colour(
                        atlas,
                        levels.tension_0_to_1,
                        levels.weakness_0_to_1,
                    ),
                    emissive: LinearRgba::BLACK,
                },
                Some(look::muscle_morph_weight(
                    levels.tension_0_to_1,
                    levels.weakness_0_to_1,
                )),
            ),
            Layer::Nerves => (
                Tint {
                    colour: atlas,
                    emissive: look::nerve_glow(levels.compression_0_to_1),
                },
                Some(levels.compression_0_to_1),
            ),
            Layer::Joints => (
                Tint {
                    colour: look::joint_colour(atlas, levels.irritation_0_to_1),
                    emissive: look::nerve_glow(levels.irritation_0_to_1 * 0.5),
                },
                None,
            ),
            Layer::Bones | Layer::Discs | Layer::Skin => continue,
        };
        match tint {
            Some(mut tint) => {
                tint.set_if_neq(wanted_tint);
            }
            None => {
                commands.entity(entity).insert(wanted_tint);
            }
        }
        if let Some(w) = wanted_weight {
            match weight {
                Some(mut weight) => {
                    weight.set_if_neq(MorphWeight(w));
                }
                None => {
                    commands.entity(entity).insert(MorphWeight(w));
                }
            }
        }
    }
}
