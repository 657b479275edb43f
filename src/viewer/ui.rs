//! The egui side panel and help overlay. The panel is drawn by plain `*_ui(ui, state)` functions
//! on [`PanelState`] (no Bevy types, tested with `egui_kittest`); one system copies the app state
//! in, draws, and applies what changed.

use bevy::camera::{CameraOutputMode, Viewport, visibility::RenderLayers};
use bevy::input::keyboard::KeyCode;
use bevy::prelude::*;
use bevy::render::render_resource::BlendState;
use bevy::window::PrimaryWindow;
use bevy_egui::{
    EguiContexts, EguiGlobalSettings, EguiPrimaryContextPass, PrimaryEguiContext, egui,
};

use super::camera::{CameraCommand, MainCamera, ViewPreset};
use super::layers::LayerSettings;
use super::model::ModelState;
use super::picking::Selection;
use crate::anatomy::{Layer, Structure};
use crate::content::{ContentTable, Fact};

/// Keyboard shortcuts, as listed in the help overlay: (keys, what they do).
pub const SHORTCUTS: &[(&str, &str)] = &[
    ("Left drag", "Orbit"),
    ("Right drag", "Pan"),
    ("Scroll", "Zoom"),
    ("Click", "Select a structure"),
    (
        "1 … 6",
        "Anterior, posterior, left, right, superior, oblique view",
    ),
    ("F", "Focus on the selection"),
    ("R / Home", "Reset the view"),
    ("B M N J S", "Bones, muscles, nerve, SI joint, skin on/off"),
    ("X", "X-ray the muscles"),
    ("I", "Isolate the selection"),
    ("Esc", "Clear the selection"),
    ("? / F1", "Show or hide this help"),
];

/// What the panel shows about the selected structure.
#[derive(Clone, Debug, PartialEq)]
pub struct SelectionCard {
    /// The structure's name, e.g. "Piriformis (left)".
    pub title: String,
    /// What it does.
    pub function: Option<Fact>,
    /// Key clinical point.
    pub clinical: Option<Fact>,
    /// Debated or uncertain point.
    pub caveat: Option<Fact>,
}

impl SelectionCard {
    /// The card for a structure, with its content entry if there is one.
    pub fn new(structure: Structure, content: &ContentTable) -> Self {
        let info = content.info(structure.kind);
        Self {
            title: structure.label(),
            function: info.map(|i| i.function.clone()),
            clinical: info.map(|i| i.clinical.clone()),
            caveat: info.and_then(|i| i.caveat.clone()),
        }
    }
}

/// Something the panel asks the app to do.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum PanelCommand {
    /// Move the camera.
    Camera(CameraCommand),
    /// Deselect.
    ClearSelection,
}

/// Everything the panel reads and edits.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PanelState {
    /// Layer settings (edited in place).
    pub layers: LayerSettings,
    /// The selected structure, if any.
    pub selection: Option<SelectionCard>,
    /// Whether the help overlay is open.
    pub show_help: bool,
    /// One line about the model (loading, ready, error).
    pub model_status: String,
    /// What the user asked for this frame.
    pub commands: Vec<PanelCommand>,
}

/// The whole side panel.
pub fn panel_ui(ui: &mut egui::Ui, state: &mut PanelState) {
    ui.heading("Hip and low back");
    if !state.model_status.is_empty() {
        ui.label(egui::RichText::new(&state.model_status).weak());
    }
    ui.add_space(6.0);
    ui.strong("Layers");
    layers_ui(ui, &mut state.layers);
    ui.add_space(6.0);
    ui.separator();
    ui.strong("View");
    view_ui(ui, &mut state.commands);
    ui.add_space(6.0);
    ui.separator();
    selection_ui(ui, state);
    ui.add_space(6.0);
    ui.separator();
    if ui.button("Keyboard shortcuts (?)").clicked() {
        state.show_help = !state.show_help;
    }
}

/// Layer toggles, opacity sliders and x-ray switches.
pub fn layers_ui(ui: &mut egui::Ui, layers: &mut LayerSettings) {
    egui::Grid::new("layers")
        .num_columns(3)
        .spacing([10.0, 6.0])
        .show(ui, |ui| {
            ui.label(egui::RichText::new("Layer").small().weak());
            ui.label(egui::RichText::new("Opacity").small().weak());
            ui.label(egui::RichText::new("X-ray").small().weak());
            ui.end_row();
            for layer in Layer::ALL {
                let setting = layers.get_mut(layer);
                ui.checkbox(&mut setting.visible, layer.label());
                ui.add_enabled(
                    setting.visible,
                    egui::Slider::new(&mut setting.opacity_0_to_1, 0.0..=1.0)
                        .show_value(false)
                        .custom_formatter(|v, _| format!("{:.0} %", v * 100.0)),
                )
                .on_hover_text(format!("{} opacity", layer.label()));
                ui.add_enabled(
                    setting.visible,
                    egui::Checkbox::without_text(&mut setting.xray),
                )
                .on_hover_text(format!("X-ray {}: draw faint to see inside", layer.label()));
                ui.end_row();
            }
        });
    ui.checkbox(&mut layers.isolate_selection, "Isolate selection");
}

/// View preset buttons, focus and reset.
pub fn view_ui(ui: &mut egui::Ui, commands: &mut Vec<PanelCommand>) {
    egui::Grid::new("views").num_columns(3).show(ui, |ui| {
        for (i, preset) in ViewPreset::ALL.into_iter().enumerate() {
            if ui
                .button(preset.label())
                .on_hover_text(format!("Key {}", i + 1))
                .clicked()
            {
                commands.push(PanelCommand::Camera(CameraCommand::Preset(preset)));
            }
            if i % 3 == 2 {
                ui.end_row();
            }
        }
    });
    ui.horizontal(|ui| {
        if ui
            .button("Focus on selection")
            .on_hover_text("Key F")
            .clicked()
        {
            commands.push(PanelCommand::Camera(CameraCommand::FocusSelection));
        }
        if ui.button("Reset view").on_hover_text("Key R").clicked() {
            commands.push(PanelCommand::Camera(CameraCommand::Reset));
        }
    });
}

/// The selected structure: name, what it does, key clinical point, each with its source.
pub fn selection_ui(ui: &mut egui::Ui, state: &mut PanelState) {
    let Some(card) = &state.selection else {
        ui.label(egui::RichText::new("Click a structure to learn about it.").italics());
        return;
    };
    ui.horizontal(|ui| {
        ui.heading(&card.title);
        if ui
            .small_button("Clear")
            .on_hover_text("Clear selection (Esc)")
            .clicked()
        {
            state.commands.push(PanelCommand::ClearSelection);
        }
    });
    for (title, fact) in [
        ("What it does", &card.function),
        ("Key clinical point", &card.clinical),
        ("But note", &card.caveat),
    ] {
        if let Some(fact) = fact {
            fact_ui(ui, title, fact);
        }
    }
    if card.function.is_none() {
        ui.label("No description available.");
    }
}

fn fact_ui(ui: &mut egui::Ui, title: &str, fact: &Fact) {
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        ui.strong(title);
        ui.label(
            egui::RichText::new(format!("[{}]", fact.grade.tag()))
                .small()
                .color(grade_colour(fact.grade)),
        )
        .on_hover_text(fact.grade.meaning());
    });
    ui.label(&fact.text);
    ui.label(
        egui::RichText::new(format!("Source: {}", fact.source))
            .small()
            .weak(),
    );
}

fn grade_colour(grade: crate::content::EvidenceGrade) -> egui::Color32 {
    use crate::content::EvidenceGrade;
    match grade {
        EvidenceGrade::Established => egui::Color32::from_rgb(110, 190, 120),
        EvidenceGrade::Convention => egui::Color32::from_rgb(120, 170, 230),
        EvidenceGrade::Debated => egui::Color32::from_rgb(235, 170, 80),
        EvidenceGrade::Unverified => egui::Color32::from_rgb(170, 170, 170),
    }
}

/// The help overlay's contents.
pub fn help_ui(ui: &mut egui::Ui) {
    egui::Grid::new("shortcuts")
        .num_columns(2)
        .spacing([16.0, 4.0])
        .striped(true)
        .show(ui, |ui| {
            for (keys, what) in SHORTCUTS {
                ui.strong(*keys);
                ui.label(*what);
                ui.end_row();
            }
        });
}

/// Whether the help overlay is open.
#[derive(Resource, Default)]
pub struct HelpOpen(pub bool);

/// Width of the side panel in logical pixels (for the 3D viewport).
#[derive(Resource, Default)]
pub struct PanelWidth(pub f32);

pub(super) fn plugin(app: &mut App) {
    app.add_plugins(bevy_egui::EguiPlugin::default())
        .init_resource::<HelpOpen>()
        .init_resource::<PanelWidth>()
        .add_systems(Startup, spawn_ui_camera)
        .add_systems(EguiPrimaryContextPass, panel_system)
        .add_systems(Update, (keyboard_shortcuts, fit_viewport));
}

/// A dedicated egui camera drawn over the 3D view, so the 3D camera can use only the area the
/// panel leaves free.
fn spawn_ui_camera(mut commands: Commands, mut settings: ResMut<EguiGlobalSettings>) {
    settings.auto_create_primary_context = false;
    commands.spawn((
        PrimaryEguiContext,
        Camera2d,
        RenderLayers::none(),
        Camera {
            order: 1,
            output_mode: CameraOutputMode::Write {
                blend_state: Some(BlendState::ALPHA_BLENDING),
                clear_color: ClearColorConfig::None,
            },
            clear_color: ClearColorConfig::Custom(Color::NONE),
            ..default()
        },
    ));
}

fn status_line(state: &ModelState) -> String {
    match state {
        ModelState::Loading => "Loading model…".to_owned(),
        ModelState::Ready { .. } => String::new(),
        ModelState::Failed(err) => format!("Model problem: {err}"),
    }
}

/// Draws the panel and applies what the user changed.
fn panel_system(
    mut contexts: EguiContexts,
    mut styled: Local<bool>,
    mut settings: ResMut<LayerSettings>,
    mut selection: ResMut<Selection>,
    mut help: ResMut<HelpOpen>,
    mut panel_width: ResMut<PanelWidth>,
    content: Res<ContentTable>,
    model: Res<ModelState>,
    mut camera_commands: MessageWriter<CameraCommand>,
) -> Result {
    let ctx = contexts.ctx_mut()?.clone();
    if !*styled {
        // Readable at 1080p and on HiDPI (egui already scales by the window's scale factor).
        ctx.all_styles_mut(|style| {
            for (text_style, font) in style.text_styles.iter_mut() {
                font.size = match text_style {
                    egui::TextStyle::Heading => 21.0,
                    egui::TextStyle::Small => 12.5,
                    _ => 15.0,
                };
            }
            style.spacing.item_spacing = egui::vec2(8.0, 6.0);
        });
        *styled = true;
    }
    let mut state = PanelState {
        layers: settings.clone(),
        selection: selection.selected.map(|s| SelectionCard::new(s, &content)),
        show_help: help.0,
        model_status: status_line(&model),
        commands: Vec::new(),
    };
    let mut root = egui::Ui::new(
        ctx.clone(),
        "viewport".into(),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );
    let width = egui::Panel::left("hipback_panel")
        .resizable(true)
        .default_size(340.0)
        .size_range(260.0..=560.0)
        .show(&mut root, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| panel_ui(ui, &mut state));
        })
        .response
        .rect
        .width();
    if (panel_width.0 - width).abs() > 0.5 {
        panel_width.0 = width;
    }
    if state.show_help {
        egui::Window::new("Keyboard shortcuts")
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
            .show(&ctx, help_ui);
    }
    if state.layers != *settings {
        *settings = state.layers;
    }
    if help.0 != state.show_help {
        help.0 = state.show_help;
    }
    for command in state.commands {
        match command {
            PanelCommand::Camera(c) => {
                camera_commands.write(c);
            }
            PanelCommand::ClearSelection => selection.selected = None,
        }
    }
    Ok(())
}

/// Keeps the 3D camera's viewport to the right of the panel.
fn fit_viewport(
    panel_width: Res<PanelWidth>,
    window: Single<&Window, With<PrimaryWindow>>,
    mut camera: Single<&mut Camera, With<MainCamera>>,
) {
    let scale = window.scale_factor();
    let left_px = (panel_width.0 * scale).round() as u32;
    let size = UVec2::new(window.physical_width(), window.physical_height());
    let viewport = if left_px + 16 < size.x && size.y > 16 {
        Some(Viewport {
            physical_position: UVec2::new(left_px, 0),
            physical_size: UVec2::new(size.x - left_px, size.y),
            ..default()
        })
    } else {
        None
    };
    let unchanged = match (&camera.viewport, &viewport) {
        (Some(a), Some(b)) => {
            a.physical_position == b.physical_position && a.physical_size == b.physical_size
        }
        (None, None) => true,
        _ => false,
    };
    if !unchanged {
        camera.viewport = viewport;
    }
}

/// Keyboard shortcuts (ignored while egui has keyboard focus, e.g. in a text field).
fn keyboard_shortcuts(
    keys: Res<ButtonInput<KeyCode>>,
    wants: Option<Res<bevy_egui::input::EguiWantsInput>>,
    mut settings: ResMut<LayerSettings>,
    mut selection: ResMut<Selection>,
    mut help: ResMut<HelpOpen>,
    mut camera_commands: MessageWriter<CameraCommand>,
) {
    if wants.is_some_and(|w| w.wants_any_keyboard_input()) {
        return;
    }
    for preset in ViewPreset::ALL {
        if keys.just_pressed(preset.key()) {
            camera_commands.write(CameraCommand::Preset(preset));
        }
    }
    if keys.just_pressed(KeyCode::KeyF) {
        camera_commands.write(CameraCommand::FocusSelection);
    }
    if keys.any_just_pressed([KeyCode::KeyR, KeyCode::Home]) {
        camera_commands.write(CameraCommand::Reset);
    }
    for (key, layer) in [
        (KeyCode::KeyB, Layer::Bones),
        (KeyCode::KeyM, Layer::Muscles),
        (KeyCode::KeyN, Layer::Nerves),
        (KeyCode::KeyJ, Layer::Joints),
        (KeyCode::KeyS, Layer::Skin),
    ] {
        if keys.just_pressed(key) {
            let setting = settings.get_mut(layer);
            setting.visible = !setting.visible;
        }
    }
    if keys.just_pressed(KeyCode::KeyX) {
        let setting = settings.get_mut(Layer::Muscles);
        setting.xray = !setting.xray;
    }
    if keys.just_pressed(KeyCode::KeyI) {
        settings.isolate_selection = !settings.isolate_selection;
    }
    if keys.just_pressed(KeyCode::Escape) {
        if help.0 {
            help.0 = false;
        } else if selection.selected.is_some() {
            selection.selected = None;
        }
    }
    if keys.any_just_pressed([KeyCode::F1, KeyCode::Slash]) {
        help.0 = !help.0;
    }
}
