//! The egui side panel and help overlay. The panel is drawn by plain `*_ui(ui, state)` functions
//! on [`PanelState`] (no Bevy types, tested with `egui_kittest`); one system copies the app state
//! in, draws, and applies what changed.

use bevy::camera::{CameraOutputMode, Viewport, visibility::RenderLayers};
use bevy::prelude::*;
use bevy::render::render_resource::BlendState;
use bevy::render::view::screenshot::{Screenshot, ScreenshotCaptured};
use bevy::window::PrimaryWindow;
use bevy_egui::{
    EguiContexts, EguiGlobalSettings, EguiPrimaryContextPass, PrimaryEguiContext, egui,
};

use super::actions::{Action, EguiOwnsKeyboard, HelpOpen, MOUSE_GESTURES};
use super::camera::{MainCamera, ViewPreset};
use super::layers::{LayerSettings, ShownNerveVariant};
use super::model::ModelState;
use super::picking::Selection;
use crate::anatomy::{Layer, NerveVariant, NerveVariantFacts, Structure};
use crate::content::{ContentTable, Fact};

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
    /// An action from the action table (the same as its key).
    Action(Action),
    /// Deselect.
    ClearSelection,
    /// Save the 3D view as a PNG in the user's folder.
    SavePicture,
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
    /// Where the last picture went (or why it failed).
    pub picture_status: Option<String>,
    /// A problem with the saved settings (the app then starts from the defaults).
    pub settings_status: Option<String>,
    /// The course of the sciatic nerve shown (edited in place).
    pub nerve_variant: NerveVariant,
    /// How common each course is, with sources.
    pub variant_facts: Option<NerveVariantFacts>,
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
    egui::CollapsingHeader::new("Sciatic nerve: how it passes the piriformis")
        .id_salt("nerve_course")
        .show(ui, |ui| nerve_course_ui(ui, state));
    ui.add_space(6.0);
    ui.separator();
    ui.strong("View");
    view_ui(ui, &mut state.commands);
    ui.add_space(6.0);
    ui.separator();
    selection_ui(ui, state);
    ui.add_space(6.0);
    ui.separator();
    ui.horizontal(|ui| {
        if action_button(ui, "Keyboard shortcuts", Action::ToggleHelp) {
            state.show_help = !state.show_help;
        }
        if ui
            .button("Save picture")
            .on_hover_text("Saves the 3D view as a PNG in your hipback folder")
            .clicked()
        {
            state.commands.push(PanelCommand::SavePicture);
        }
    });
    if let Some(status) = &state.picture_status {
        ui.label(egui::RichText::new(status).small());
    }
    if let Some(status) = &state.settings_status {
        ui.label(egui::RichText::new(status).small());
    }
}

/// A horizontal colour bar of `size`, in `steps` flat steps of `colour(0…1)` (the legends of
/// the tension ramps and of the heat map).
pub fn colour_bar(
    ui: &mut egui::Ui,
    size: egui::Vec2,
    steps: usize,
    colour: impl Fn(f32) -> Srgba,
) {
    let (rect, _) = ui.allocate_exact_size(size, egui::Sense::hover());
    for i in 0..steps {
        let c = colour(i as f32 / (steps - 1) as f32);
        let x0 = rect.left() + rect.width() * i as f32 / steps as f32;
        let x1 = rect.left() + rect.width() * (i + 1) as f32 / steps as f32;
        ui.painter().rect_filled(
            egui::Rect::from_min_max(egui::pos2(x0, rect.top()), egui::pos2(x1, rect.bottom())),
            0.0,
            egui::Color32::from_rgb(
                (c.red * 255.0) as u8,
                (c.green * 255.0) as u8,
                (c.blue * 255.0) as u8,
            ),
        );
    }
}

/// A button that performs `action`, with the action's tooltip (its key); true when clicked.
pub fn action_button(ui: &mut egui::Ui, text: &str, action: Action) -> bool {
    ui.button(text).on_hover_text(action.tooltip()).clicked()
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

/// The anatomical variants of the sciatic nerve (Beaton & Anson types), with how common each
/// is and its source.
pub fn nerve_course_ui(ui: &mut egui::Ui, state: &mut PanelState) {
    for variant in NerveVariant::ALL {
        ui.radio_value(&mut state.nerve_variant, variant, variant.label());
        if let Some(fact) = state
            .variant_facts
            .as_ref()
            .and_then(|f| f.of(variant))
            .map(|f| &f.prevalence)
        {
            ui.horizontal_wrapped(|ui| {
                ui.add_space(18.0);
                ui.label(
                    egui::RichText::new(format!("[{}]", fact.grade.tag()))
                        .small()
                        .color(grade_colour(fact.grade)),
                )
                .on_hover_text(format!(
                    "{}\nSource: {}",
                    fact.grade.meaning(),
                    fact.source
                ));
                ui.label(egui::RichText::new(&fact.text).small());
            });
        }
    }
}

/// View preset buttons, focus and reset (labels and key hints from the action table).
pub fn view_ui(ui: &mut egui::Ui, commands: &mut Vec<PanelCommand>) {
    egui::Grid::new("views").num_columns(3).show(ui, |ui| {
        for (i, preset) in ViewPreset::ALL.into_iter().enumerate() {
            let action = Action::View(preset);
            if action_button(ui, preset.label(), action) {
                commands.push(PanelCommand::Action(action));
            }
            if i % 3 == 2 {
                ui.end_row();
            }
        }
    });
    ui.horizontal(|ui| {
        for action in [Action::FocusSelection, Action::ResetView] {
            if action_button(ui, &action.label(), action) {
                commands.push(PanelCommand::Action(action));
            }
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
            .on_hover_text(format!(
                "Clear the selection (key {})",
                Action::Dismiss.key_label()
            ))
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

/// The colour of an evidence grade's badge.
pub fn grade_colour(grade: crate::content::EvidenceGrade) -> egui::Color32 {
    use crate::content::EvidenceGrade;
    match grade {
        EvidenceGrade::Established => egui::Color32::from_rgb(110, 190, 120),
        EvidenceGrade::Convention => egui::Color32::from_rgb(120, 170, 230),
        EvidenceGrade::Debated => egui::Color32::from_rgb(235, 170, 80),
        EvidenceGrade::Unverified => egui::Color32::from_rgb(170, 170, 170),
    }
}

/// The help overlay's contents: the mouse gestures, then every action with its keys.
pub fn help_ui(ui: &mut egui::Ui) {
    egui::Grid::new("shortcuts")
        .num_columns(2)
        .spacing([16.0, 4.0])
        .striped(true)
        .show(ui, |ui| {
            for (gesture, what) in MOUSE_GESTURES {
                ui.strong(*gesture);
                ui.label(*what);
                ui.end_row();
            }
            for action in Action::all() {
                ui.strong(action.key_label());
                ui.label(action.label());
                ui.end_row();
            }
        });
}

/// How common each course of the sciatic nerve is (`assets/anatomy/nerve_variants.ron`).
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct NerveVariantInfo(pub NerveVariantFacts);

/// Where the last "Save picture" went.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct PictureStatus(pub Option<String>);

/// Widths of the panels at the window's left and right edges, logical pixels: the 3D view
/// uses what they leave free. Each panel writes its own side.
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq)]
pub struct PanelInsets {
    /// Left panel width.
    pub left: f32,
    /// Right panel width.
    pub right: f32,
}

pub fn plugin(app: &mut App) {
    app.add_plugins(bevy_egui::EguiPlugin::default())
        .init_resource::<PanelInsets>()
        .init_resource::<PictureStatus>()
        .add_systems(Startup, spawn_ui_camera)
        .add_systems(EguiPrimaryContextPass, panel_system)
        .add_systems(Update, fit_viewport);
}

/// A dedicated egui camera drawn over the 3D view, so the 3D camera can use only the area the
/// panel leaves free.
fn spawn_ui_camera(mut commands: Commands, mut settings: ResMut<EguiGlobalSettings>) {
    settings.auto_create_primary_context = false;
    commands.spawn((
        PrimaryEguiContext,
        Camera2d,
        // Without MSAA the camera's clear lands on the texture egui draws into; with it the
        // clear went to a multisampled texture that, with nothing else drawn, was never
        // resolved, so a window that shrank left its old pixels behind.
        Msaa::Off,
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
    mut insets: ResMut<PanelInsets>,
    content: Res<ContentTable>,
    model: Res<ModelState>,
    mut egui_owns_keyboard: ResMut<EguiOwnsKeyboard>,
    mut actions: MessageWriter<Action>,
    mut commands: Commands,
    picture: Res<PictureStatus>,
    camera: Query<&Camera, With<MainCamera>>,
    mut shown_variant: ResMut<ShownNerveVariant>,
    variant_facts: Option<Res<NerveVariantInfo>>,
    settings_status: Option<Res<crate::settings::SettingsStatus>>,
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
        picture_status: picture.0.clone(),
        settings_status: settings_status.and_then(|s| s.0.clone()),
        nerve_variant: shown_variant.0,
        variant_facts: variant_facts.map(|f| f.0.clone()),
        commands: Vec::new(),
    };
    let mut root = egui::Ui::new(
        ctx.clone(),
        "viewport".into(),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );
    let width = egui::Panel::right("hipback_panel")
        .resizable(true)
        .default_size(300.0)
        .size_range(240.0..=520.0)
        .show(&mut root, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| panel_ui(ui, &mut state));
        })
        .response
        .rect
        .width();
    if (insets.right - width).abs() > 0.5 {
        insets.right = width;
    }
    if state.show_help {
        let mut open = true;
        egui::Window::new("Keyboard shortcuts")
            .open(&mut open)
            .collapsible(false)
            .resizable(false)
            .anchor(egui::Align2::CENTER_CENTER, [0.0, 0.0])
            .show(&ctx, help_ui);
        state.show_help &= open;
    }
    if state.layers != *settings {
        *settings = state.layers;
    }
    shown_variant.set_if_neq(ShownNerveVariant(state.nerve_variant));
    if help.0 != state.show_help {
        help.0 = state.show_help;
    }
    for command in state.commands {
        match command {
            PanelCommand::Action(action) => {
                actions.write(action);
            }
            PanelCommand::ClearSelection => selection.selected = None,
            PanelCommand::SavePicture => {
                let path = crate::files::user_media_dir()
                    .join(format!("hipback-{}.png", crate::files::now_stamp()));
                let crop = camera
                    .iter()
                    .next()
                    .and_then(Camera::physical_viewport_rect);
                commands
                    .spawn(Screenshot::primary_window())
                    .observe(save_picture(path, crop));
            }
        }
    }
    // Keys belong to egui only while it edits text or shows a popup; a focused button
    // (every clicked button keeps focus in egui) must not swallow the shortcuts.
    egui_owns_keyboard.set_if_neq(EguiOwnsKeyboard(
        ctx.text_edit_focused() || ctx.any_popup_open(),
    ));
    Ok(())
}

/// Saves a captured window, cropped to the 3D view, and reports where it went.
fn save_picture(
    path: std::path::PathBuf,
    crop: Option<URect>,
) -> impl FnMut(On<ScreenshotCaptured>, ResMut<PictureStatus>) {
    move |captured, mut status| {
        let result = super::screenshot::frame_to_rgb(&captured.image).and_then(|frame| {
            let frame = match crop {
                Some(r) if r.max.x <= frame.width() && r.max.y <= frame.height() => {
                    image::imageops::crop_imm(&frame, r.min.x, r.min.y, r.width(), r.height())
                        .to_image()
                }
                _ => frame,
            };
            let mut png = Vec::new();
            frame
                .write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
                .map_err(|e| e.to_string())?;
            crate::files::write_atomically(&path, &png).map_err(|e| e.to_string())
        });
        status.0 = Some(match result {
            Ok(()) => format!("Picture saved to {}", path.display()),
            Err(e) => format!("Could not save the picture ({}): {e}", path.display()),
        });
    }
}

/// Keeps the 3D camera's viewport between the panels.
fn fit_viewport(
    insets: Res<PanelInsets>,
    window: Single<&Window, With<PrimaryWindow>>,
    mut camera: Single<&mut Camera, With<MainCamera>>,
) {
    let scale = window.scale_factor();
    let left_px = (insets.left * scale).round() as u32;
    let right_px = (insets.right * scale).round() as u32;
    let size = UVec2::new(window.physical_width(), window.physical_height());
    let viewport = if left_px + right_px + 16 < size.x && size.y > 16 {
        Some(Viewport {
            physical_position: UVec2::new(left_px, 0),
            physical_size: UVec2::new(size.x - left_px - right_px, size.y),
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
