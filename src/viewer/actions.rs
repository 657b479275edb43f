//! Every user action in one table: its keys, its label and its tooltip. The keyboard, the help
//! overlay and the panel buttons all read this table, so a key is defined exactly once.
//! [`apply`] is pure; the systems only feed it key presses and panel clicks.

use bevy::input::keyboard::KeyCode;
use bevy::prelude::*;

use super::camera::{CameraCommand, ViewPreset};
use super::layers::LayerSettings;
use super::picking::Selection;
use crate::anatomy::Layer;

/// Something the user can ask for, by key or by button.
#[derive(Message, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Move the camera to a preset view.
    View(ViewPreset),
    /// Centre the camera on the selected structure.
    FocusSelection,
    /// Back to the start view.
    ResetView,
    /// Show or hide a layer.
    ToggleLayer(Layer),
    /// X-ray the muscles (draw them faint to see what is inside).
    XrayMuscles,
    /// Show only the selected structure.
    IsolateSelection,
    /// Close the help if it is open, otherwise clear the selection.
    Dismiss,
    /// Show or hide the keyboard help.
    ToggleHelp,
    /// Play or pause a relief timeline.
    PlayPause,
    /// The next scenario in the list.
    NextScenario,
    /// The previous scenario in the list.
    PreviousScenario,
    /// The next posture preset (standing, sitting, FAIR, figure four, knees to chest).
    NextPosture,
}

/// The mouse gestures (not actions, but listed with them in the help).
pub const MOUSE_GESTURES: &[(&str, &str)] = &[
    ("Left drag", "Orbit"),
    ("Right drag", "Pan"),
    ("Scroll", "Zoom"),
    ("Hover", "Highlight a structure"),
    ("Click", "Select a structure"),
];

impl Action {
    /// Every action, in help order.
    pub fn all() -> Vec<Action> {
        let mut all: Vec<Action> = ViewPreset::ALL.into_iter().map(Action::View).collect();
        all.extend([Action::FocusSelection, Action::ResetView]);
        all.extend(Layer::ALL.into_iter().map(Action::ToggleLayer));
        all.extend([
            Action::XrayMuscles,
            Action::IsolateSelection,
            Action::PreviousScenario,
            Action::NextScenario,
            Action::PlayPause,
            Action::NextPosture,
            Action::Dismiss,
            Action::ToggleHelp,
        ]);
        all
    }

    /// The keys that trigger it (the first one is the one shown on buttons).
    pub fn keys(self) -> &'static [KeyCode] {
        match self {
            Action::View(preset) => match preset {
                ViewPreset::Anterior => &[KeyCode::Digit1],
                ViewPreset::Posterior => &[KeyCode::Digit2],
                ViewPreset::Left => &[KeyCode::Digit3],
                ViewPreset::Right => &[KeyCode::Digit4],
                ViewPreset::Superior => &[KeyCode::Digit5],
                ViewPreset::Oblique => &[KeyCode::Digit6],
            },
            Action::FocusSelection => &[KeyCode::KeyF],
            Action::ResetView => &[KeyCode::KeyR, KeyCode::Home],
            Action::ToggleLayer(layer) => match layer {
                Layer::Bones => &[KeyCode::KeyB],
                Layer::Discs => &[KeyCode::KeyD],
                Layer::Muscles => &[KeyCode::KeyM],
                Layer::Nerves => &[KeyCode::KeyN],
                Layer::Joints => &[KeyCode::KeyJ],
                Layer::Skin => &[KeyCode::KeyS],
            },
            Action::XrayMuscles => &[KeyCode::KeyX],
            Action::IsolateSelection => &[KeyCode::KeyI],
            Action::Dismiss => &[KeyCode::Escape],
            // `?` is Shift + `/` on most layouts; Shift is not required.
            Action::ToggleHelp => &[KeyCode::Slash, KeyCode::F1],
            Action::PlayPause => &[KeyCode::Space],
            Action::NextScenario => &[KeyCode::PageDown, KeyCode::BracketRight],
            Action::PreviousScenario => &[KeyCode::PageUp, KeyCode::BracketLeft],
            Action::NextPosture => &[KeyCode::KeyP],
        }
    }

    /// The keys as the help overlay shows them, e.g. `R / Home`.
    pub fn key_label(self) -> String {
        self.keys()
            .iter()
            .map(|key| key_name(*key))
            .collect::<Vec<_>>()
            .join(" / ")
    }

    /// What it does, in a few words (button and help text).
    pub fn label(self) -> String {
        match self {
            Action::View(preset) => format!("{} view", preset.label()),
            Action::FocusSelection => "Focus on selection".to_owned(),
            Action::ResetView => "Reset view".to_owned(),
            Action::ToggleLayer(layer) => format!("{} on/off", layer.label()),
            Action::XrayMuscles => "X-ray the muscles".to_owned(),
            Action::IsolateSelection => "Isolate the selection".to_owned(),
            Action::Dismiss => "Close help, or clear the selection".to_owned(),
            Action::ToggleHelp => "Show or hide this help".to_owned(),
            Action::PlayPause => "Play or pause a relief timeline".to_owned(),
            Action::NextScenario => "Next scenario".to_owned(),
            Action::PreviousScenario => "Previous scenario".to_owned(),
            Action::NextPosture => "Next posture".to_owned(),
        }
    }

    /// Hover text for a button that performs it.
    pub fn tooltip(self) -> String {
        let what = match self {
            Action::View(preset) => preset.description().to_owned(),
            _ => self.label(),
        };
        format!("{what} (key {})", self.key_label())
    }
}

/// How a key is written in the help.
pub fn key_name(key: KeyCode) -> &'static str {
    match key {
        KeyCode::Digit1 => "1",
        KeyCode::Digit2 => "2",
        KeyCode::Digit3 => "3",
        KeyCode::Digit4 => "4",
        KeyCode::Digit5 => "5",
        KeyCode::Digit6 => "6",
        KeyCode::KeyB => "B",
        KeyCode::KeyD => "D",
        KeyCode::KeyF => "F",
        KeyCode::KeyI => "I",
        KeyCode::KeyJ => "J",
        KeyCode::KeyM => "M",
        KeyCode::KeyN => "N",
        KeyCode::KeyP => "P",
        KeyCode::KeyR => "R",
        KeyCode::KeyS => "S",
        KeyCode::KeyX => "X",
        KeyCode::Home => "Home",
        KeyCode::Escape => "Esc",
        KeyCode::Slash => "?",
        KeyCode::F1 => "F1",
        KeyCode::Space => "Space",
        KeyCode::PageDown => "Page Down",
        KeyCode::PageUp => "Page Up",
        KeyCode::BracketRight => "]",
        KeyCode::BracketLeft => "[",
        _ => "",
    }
}

/// The actions whose keys went down this frame.
pub fn actions_for_keys(just_pressed: impl Fn(KeyCode) -> bool) -> Vec<Action> {
    Action::all()
        .into_iter()
        .filter(|action| action.keys().iter().any(|key| just_pressed(*key)))
        .collect()
}

/// Whether the keyboard help overlay is open.
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct HelpOpen(pub bool);

/// Whether egui is using the keyboard (a text field has focus or a popup is open): the
/// shortcuts then leave the keys to egui. A focused button does not count, so a click on
/// a panel button never disables the shortcuts.
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EguiOwnsKeyboard(pub bool);

/// What the viewer's own actions change (scenario actions are handled by the scenario
/// plugin, which reads the same messages).
pub struct ViewerTargets<'a> {
    /// Layer settings.
    pub layers: &'a mut LayerSettings,
    /// Selection and hover.
    pub selection: &'a mut Selection,
    /// The help overlay.
    pub help: &'a mut HelpOpen,
    /// Camera moves requested.
    pub camera: &'a mut Vec<CameraCommand>,
}

/// Applies a viewer action to the viewer's state.
pub fn apply(action: Action, targets: &mut ViewerTargets<'_>) {
    match action {
        Action::View(preset) => targets.camera.push(CameraCommand::Preset(preset)),
        Action::FocusSelection => targets.camera.push(CameraCommand::FocusSelection),
        Action::ResetView => targets.camera.push(CameraCommand::Reset),
        Action::ToggleLayer(layer) => {
            let setting = targets.layers.get_mut(layer);
            setting.visible = !setting.visible;
        }
        Action::XrayMuscles => {
            let setting = targets.layers.get_mut(Layer::Muscles);
            setting.xray = !setting.xray;
        }
        Action::IsolateSelection => {
            targets.layers.isolate_selection = !targets.layers.isolate_selection;
        }
        Action::Dismiss => {
            if targets.help.0 {
                targets.help.0 = false;
            } else {
                targets.selection.selected = None;
            }
        }
        Action::ToggleHelp => targets.help.0 = !targets.help.0,
        Action::PlayPause
        | Action::NextScenario
        | Action::PreviousScenario
        | Action::NextPosture => {}
    }
}

pub(super) fn plugin(app: &mut App) {
    app.add_message::<Action>()
        .init_resource::<HelpOpen>()
        .init_resource::<EguiOwnsKeyboard>()
        .add_systems(
            Update,
            (keyboard_actions, perform_viewer_actions)
                .chain()
                .in_set(super::ViewerSystems::Input),
        );
}

/// Turns key presses into actions (unless egui is using the keyboard).
fn keyboard_actions(
    keys: Option<Res<ButtonInput<KeyCode>>>,
    egui_owns: Res<EguiOwnsKeyboard>,
    mut actions: MessageWriter<Action>,
) {
    let Some(keys) = keys else { return };
    if egui_owns.0 {
        return;
    }
    actions.write_batch(actions_for_keys(|key| keys.just_pressed(key)));
}

/// Applies every viewer action of this frame, from keys or buttons.
fn perform_viewer_actions(
    mut actions: MessageReader<Action>,
    mut layers: ResMut<LayerSettings>,
    mut selection: ResMut<Selection>,
    mut help: ResMut<HelpOpen>,
    mut camera_commands: MessageWriter<CameraCommand>,
) {
    let actions: Vec<Action> = actions.read().copied().collect();
    if actions.is_empty() {
        return;
    }
    let mut new_layers = layers.clone();
    let mut new_selection = *selection;
    let mut new_help = *help;
    let mut camera = Vec::new();
    let mut targets = ViewerTargets {
        layers: &mut new_layers,
        selection: &mut new_selection,
        help: &mut new_help,
        camera: &mut camera,
    };
    for action in actions {
        apply(action, &mut targets);
    }
    // Write only what changed, so change detection stays meaningful downstream.
    if new_layers != *layers {
        *layers = new_layers;
    }
    selection.set_if_neq(new_selection);
    help.set_if_neq(new_help);
    camera_commands.write_batch(camera);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_key_belongs_to_one_action() {
        let mut seen = HashSet::new();
        for action in Action::all() {
            assert!(!action.keys().is_empty(), "{action:?} has no key");
            for key in action.keys() {
                assert!(seen.insert(*key), "{key:?} is bound twice");
                assert!(!key_name(*key).is_empty(), "{key:?} has no name");
            }
        }
    }

    fn run(actions: &[Action], state: (LayerSettings, Selection, HelpOpen)) -> Outcome {
        let (mut layers, mut selection, mut help) = state;
        let mut camera = Vec::new();
        let mut targets = ViewerTargets {
            layers: &mut layers,
            selection: &mut selection,
            help: &mut help,
            camera: &mut camera,
        };
        for action in actions {
            apply(*action, &mut targets);
        }
        Outcome {
            layers,
            selection,
            help,
            camera,
        }
    }

    struct Outcome {
        layers: LayerSettings,
        selection: Selection,
        help: HelpOpen,
        camera: Vec<CameraCommand>,
    }

    fn default_state() -> (LayerSettings, Selection, HelpOpen) {
        (
            LayerSettings::default(),
            Selection::default(),
            HelpOpen::default(),
        )
    }

    #[test]
    fn escape_closes_the_help_first_then_clears_the_selection() {
        let piriformis = crate::anatomy::Structure::from_gltf_name("piriformis_r");
        let state = (
            LayerSettings::default(),
            Selection {
                selected: piriformis,
                hovered: None,
            },
            HelpOpen(true),
        );
        let once = run(&[Action::Dismiss], state.clone());
        assert!(!once.help.0);
        assert_eq!(once.selection.selected, piriformis);
        let twice = run(&[Action::Dismiss, Action::Dismiss], state);
        assert!(!twice.help.0);
        assert_eq!(twice.selection.selected, None);
    }

    #[test]
    fn layer_actions_toggle_exactly_their_setting() {
        for layer in Layer::ALL {
            let out = run(&[Action::ToggleLayer(layer)], default_state());
            for other in Layer::ALL {
                assert_eq!(out.layers.get(other).visible, other != layer, "{layer:?}");
            }
        }
        let out = run(&[Action::XrayMuscles], default_state());
        assert!(out.layers.get(Layer::Muscles).xray);
        let out = run(&[Action::IsolateSelection], default_state());
        assert!(out.layers.isolate_selection);
        let out = run(&[Action::ToggleHelp], default_state());
        assert!(out.help.0);
    }

    #[test]
    fn camera_actions_request_their_move() {
        for preset in ViewPreset::ALL {
            let out = run(&[Action::View(preset)], default_state());
            assert_eq!(out.camera, vec![CameraCommand::Preset(preset)]);
        }
        let out = run(
            &[Action::FocusSelection, Action::ResetView],
            default_state(),
        );
        assert_eq!(
            out.camera,
            vec![CameraCommand::FocusSelection, CameraCommand::Reset]
        );
    }

    #[test]
    fn keys_map_to_their_actions() {
        assert_eq!(
            actions_for_keys(|k| k == KeyCode::Digit3),
            vec![Action::View(ViewPreset::Left)]
        );
        assert_eq!(
            actions_for_keys(|k| k == KeyCode::Home),
            vec![Action::ResetView]
        );
        assert_eq!(
            actions_for_keys(|k| k == KeyCode::Escape),
            vec![Action::Dismiss]
        );
        assert!(actions_for_keys(|k| k == KeyCode::KeyQ).is_empty());
        assert_eq!(Action::ResetView.key_label(), "R / Home");
        assert!(Action::View(ViewPreset::Left).tooltip().contains("key 3"));
    }
}
