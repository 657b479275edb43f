//! The window's settings, kept between sessions: each layer's visibility, opacity and x-ray,
//! and the heat map's layers and opacity. Saved (atomically) a moment after they change and
//! when the app closes; a file that cannot be used is kept aside, never overwritten, and the
//! app starts from the defaults and says so in the panel.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bevy::prelude::*;
use serde::{Deserialize, Serialize};

use crate::anatomy::Layer;
use crate::files::{FileError, find_line_col, line_col_of_offset};
use crate::referral::plugin::HeatSettings;
use crate::viewer::layers::{LayerSettings, layer_index, parse_layer};

/// A layer's name in the file (as `--layers` spells it).
fn layer_key(layer: Layer) -> &'static str {
    match layer {
        Layer::Bones => "bones",
        Layer::Discs => "discs",
        Layer::Muscles => "muscles",
        Layer::Nerves => "nerves",
        Layer::Joints => "si_joint",
        Layer::Skin => "skin",
    }
}

/// The format this build writes (newer files are refused with a clear message).
pub const SETTINGS_VERSION: u32 = 1;
/// Saving waits this long after the last change (a slider drag writes once).
const SAVE_DELAY: Duration = Duration::from_secs(1);

/// The settings file as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SettingsFile {
    /// Format version.
    pub version: u32,
    /// One entry per layer, by name (`bones`, `discs`, `muscles`, `nerves`, `si_joint`,
    /// `skin`).
    pub layers: Vec<LayerEntry>,
    /// Whether the isolate switch is on.
    #[serde(default)]
    pub isolate_selection: bool,
    /// The heat map.
    pub heat: HeatEntry,
}

/// One layer's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerEntry {
    /// The layer's name.
    pub layer: String,
    /// Shown at all.
    pub visible: bool,
    /// 1 = solid, 0 = invisible.
    pub opacity_0_to_1: f32,
    /// See-through mode.
    pub xray: bool,
}

/// The heat map's settings.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct HeatEntry {
    /// Referred pain shown.
    pub somatic: bool,
    /// Nerve symptoms shown.
    pub neuropathic: bool,
    /// Opacity, 0–1.
    pub opacity_0_to_1: f32,
}

/// The settings as the app holds them.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    /// Layers.
    pub layers: LayerSettings,
    /// Heat map.
    pub heat: HeatSettings,
}

impl Settings {
    /// What is written to the file.
    pub fn to_file(&self) -> SettingsFile {
        SettingsFile {
            version: SETTINGS_VERSION,
            layers: Layer::ALL
                .iter()
                .map(|layer| {
                    let s = self.layers.get(*layer);
                    LayerEntry {
                        layer: layer_key(*layer).to_owned(),
                        visible: s.visible,
                        opacity_0_to_1: s.opacity_0_to_1,
                        xray: s.xray,
                    }
                })
                .collect(),
            isolate_selection: self.layers.isolate_selection,
            heat: HeatEntry {
                somatic: self.heat.somatic,
                neuropathic: self.heat.neuropathic,
                opacity_0_to_1: self.heat.opacity_0_to_1,
            },
        }
    }

    /// The settings a file holds, on top of the defaults for anything it leaves out; `Err`
    /// says what is wrong with it and where (`text` is the file's text, `file` names it).
    pub fn from_file(parsed: &SettingsFile, text: &str, file: &str) -> Result<Settings, FileError> {
        if parsed.version > SETTINGS_VERSION {
            return Err(FileError::newer(file, parsed.version, SETTINGS_VERSION)
                .at(find_line_col(text, "version")));
        }
        // A layer's entry is found by its quoted name, the heat settings by their field.
        let place_of_layer = |name: &str| {
            text.find(&format!("\"{name}\""))
                .and_then(|offset| line_col_of_offset(text.as_bytes(), offset))
        };
        let in_range = |what: &str, v: f32, place: Option<(usize, usize)>| {
            if (0.0..=1.0).contains(&v) {
                Ok(v)
            } else {
                Err(
                    FileError::invalid(file, format!("{what}: opacity {v} is outside 0–1"))
                        .at(place),
                )
            }
        };
        let mut layers = LayerSettings::default();
        for entry in &parsed.layers {
            let place = place_of_layer(&entry.layer);
            let layer = parse_layer(&entry.layer).ok_or_else(|| {
                FileError::invalid(file, format!("unknown layer `{}`", entry.layer)).at(place)
            })?;
            let s = &mut layers.layers[layer_index(layer)];
            s.visible = entry.visible;
            s.opacity_0_to_1 = in_range(&entry.layer, entry.opacity_0_to_1, place)?;
            s.xray = entry.xray;
        }
        layers.isolate_selection = parsed.isolate_selection;
        let heat = HeatSettings {
            somatic: parsed.heat.somatic,
            neuropathic: parsed.heat.neuropathic,
            opacity_0_to_1: in_range(
                "heat",
                parsed.heat.opacity_0_to_1,
                find_line_col(text, "heat"),
            )?,
        };
        Ok(Settings { layers, heat })
    }
}

/// What reading the settings file gave.
#[derive(Debug, PartialEq)]
pub enum Loaded {
    /// No file yet: the defaults.
    Missing,
    /// The saved settings.
    Settings(Settings),
    /// A file that cannot be used: why, and where it was put aside (`None` if it could not be
    /// moved; then it is not overwritten either).
    Unusable {
        /// The problem, naming the file.
        why: FileError,
        /// Where the file now is.
        kept_as: Option<PathBuf>,
    },
}

/// Reads the settings file at `path`; an unusable one is moved aside.
pub fn load(path: &Path) -> Loaded {
    let label = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Loaded::Missing,
        Err(e) => {
            return Loaded::Unusable {
                why: FileError::cannot_read(&label, e),
                kept_as: None,
            };
        }
    };
    let parsed = std::str::from_utf8(&bytes)
        .map_err(|e| FileError::not_utf8(&label, &bytes, &e))
        .and_then(|text| {
            ron::from_str::<SettingsFile>(text)
                .map_err(|e| FileError::ron(&label, &e))
                .and_then(|file| Settings::from_file(&file, text, &label))
        });
    match parsed {
        Ok(settings) => Loaded::Settings(settings),
        Err(why) => {
            let kept_as = crate::files::keep_aside(path).ok();
            Loaded::Unusable { why, kept_as }
        }
    }
}

/// Writes the settings (to a temporary file, then renamed over the old one).
pub fn save(path: &Path, settings: &Settings) -> Result<(), String> {
    let text = ron::ser::to_string_pretty(&settings.to_file(), ron::ser::PrettyConfig::default())
        .map_err(|e| e.to_string())?;
    crate::files::write_atomically(path, text.as_bytes())
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// Where the window keeps its settings.
#[derive(Resource, Clone, Debug)]
pub struct SettingsPath(pub PathBuf);

impl Default for SettingsPath {
    fn default() -> Self {
        Self(crate::files::user_data_dir().join("settings.ron"))
    }
}

/// A line for the panel about the settings file (a problem, or where it went).
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct SettingsStatus(pub Option<String>);

/// When the settings last changed and whether that is saved.
#[derive(Resource, Default)]
struct SaveState {
    changed_at_s: Option<f64>,
    /// A file that could not be read and could not be moved aside is never overwritten.
    read_only: bool,
}

/// Loads the settings at start and saves them after changes (the window app only; screenshots
/// and tests start from the defaults).
pub fn plugin(app: &mut App) {
    app.init_resource::<SettingsPath>()
        .init_resource::<SettingsStatus>()
        .init_resource::<SaveState>()
        .add_systems(PreStartup, load_settings)
        .add_systems(Last, save_settings);
}

fn load_settings(
    path: Res<SettingsPath>,
    mut layers: ResMut<LayerSettings>,
    mut heat: ResMut<HeatSettings>,
    mut status: ResMut<SettingsStatus>,
    mut save: ResMut<SaveState>,
) {
    match load(&path.0) {
        Loaded::Missing => {}
        Loaded::Settings(s) => {
            *layers = s.layers;
            *heat = s.heat;
        }
        Loaded::Unusable { why, kept_as } => {
            let message = match &kept_as {
                Some(aside) => format!(
                    "{why}. Starting from the default settings; the old file is kept as {}.",
                    aside.display()
                ),
                None => format!("{why}. Starting from the default settings."),
            };
            warn!("{message}");
            save.read_only = kept_as.is_none();
            status.0 = Some(message);
        }
    }
}

fn save_settings(
    path: Res<SettingsPath>,
    layers: Res<LayerSettings>,
    heat: Res<HeatSettings>,
    time: Res<Time<Real>>,
    mut pending: ResMut<SaveState>,
    mut status: ResMut<SettingsStatus>,
    mut exit: MessageReader<AppExit>,
) {
    let now_s = time.elapsed_secs_f64();
    if (layers.is_changed() && !layers.is_added()) || (heat.is_changed() && !heat.is_added()) {
        pending.changed_at_s = Some(now_s);
    }
    let closing = exit.read().count() > 0;
    let Some(changed_at_s) = pending.changed_at_s else {
        return;
    };
    if pending.read_only || !(closing || now_s - changed_at_s >= SAVE_DELAY.as_secs_f64()) {
        return;
    }
    pending.changed_at_s = None;
    let settings = Settings {
        layers: layers.clone(),
        heat: *heat,
    };
    if let Err(e) = save(&path.0, &settings) {
        warn!("settings not saved: {e}");
        status.0 = Some(format!("Settings not saved: {e}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("hipback-settings-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("settings.ron")
    }

    fn changed() -> Settings {
        let mut layers = LayerSettings::default();
        layers.get_mut(Layer::Skin).visible = false;
        layers.get_mut(Layer::Muscles).opacity_0_to_1 = 0.4;
        layers.get_mut(Layer::Bones).xray = true;
        Settings {
            layers,
            heat: HeatSettings {
                somatic: false,
                neuropathic: true,
                opacity_0_to_1: 0.3,
            },
        }
    }

    #[test]
    fn settings_survive_saving_and_reading() {
        let path = temp("roundtrip");
        assert_eq!(load(&path), Loaded::Missing);
        save(&path, &changed()).unwrap();
        assert_eq!(load(&path), Loaded::Settings(changed()));
        // No temporary file is left beside it.
        let files = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
        assert_eq!(files, 1);
    }

    #[test]
    fn an_unusable_file_is_kept_aside_and_named() {
        for (name, text, problem) in [
            ("syntax", "(version: 1, layers: [", "Expected"),
            (
                "range",
                "(version: 1, layers: [(layer: \"muscles\", visible: true, opacity_0_to_1: 1.7, xray: false)], heat: (somatic: true, neuropathic: true, opacity_0_to_1: 0.6))",
                "outside 0–1",
            ),
            (
                "layer",
                "(version: 1, layers: [(layer: \"organs\", visible: true, opacity_0_to_1: 1.0, xray: false)], heat: (somatic: true, neuropathic: true, opacity_0_to_1: 0.6))",
                "unknown layer `organs`",
            ),
            (
                "newer",
                "(version: 9, layers: [], heat: (somatic: true, neuropathic: true, opacity_0_to_1: 0.6))",
                "newer hipback",
            ),
        ] {
            let path = temp(name);
            std::fs::write(&path, text).unwrap();
            let Loaded::Unusable { why, kept_as } = load(&path) else {
                panic!("{name}: accepted");
            };
            assert_eq!(why.file, path.display().to_string(), "{why}");
            assert!(why.message.contains(problem), "{name}: {why}");
            // Every one of these problems has a line and column.
            assert!(why.line_column().is_some(), "{name}: {why}");
            let aside = kept_as.unwrap();
            assert_eq!(std::fs::read_to_string(&aside).unwrap(), text, "{name}");
            // The broken file is gone from its place, so the next save cannot overwrite it.
            assert!(!path.exists());
            save(&path, &changed()).unwrap();
            assert_eq!(std::fs::read_to_string(&aside).unwrap(), text);
        }
    }
}
