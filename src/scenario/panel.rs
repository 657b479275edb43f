//! The scenario panel, the main control of the app: the list of scenarios, the active one's
//! card (what you see, what people feel, what a clinician checks), its sources with evidence
//! badges, the relief timeline's controls, a legend, and the clinician's sliders with "Save as
//! scenario". Drawn by plain `*_ui(ui, state)` functions on [`ScenarioPanelState`] (no Bevy
//! types; tested with `egui_kittest`); one system copies the app state in and sends what the
//! user asked for as [`ScenarioCommand`]s.

use bevy::color::Srgba;
use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};

use super::file::{Card, Citation, ScenarioKind};
use super::library::group_label;
use super::look;
use super::state::{BodyState, SPEEDS, applies_to};
use super::{ActiveScenario, ClipJob, SaveStatus, ScenarioCommand, Scenarios, ShownState};
use crate::anatomy::{Layer, Structure};
use crate::content::EvidenceGrade;
use crate::content::guidance::{Guidance, Section};
use crate::viewer::actions::Action;
use crate::viewer::look::atlas_colour;
use crate::viewer::ui::{PanelInsets, grade_colour};

/// The line every screen carries.
pub const NOT_A_DIAGNOSIS: &str = "This shows common patterns, not a diagnosis.";

/// One row of the scenario list.
#[derive(Clone, Debug, PartialEq)]
pub struct ListItem {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// One line under it.
    pub subtitle: String,
    /// Group.
    pub kind: ScenarioKind,
}

/// The relief timeline's controls.
#[derive(Clone, Debug, PartialEq)]
pub struct ReliefView {
    /// Steps.
    pub how_to: Vec<String>,
    /// How long and how often.
    pub how_long: String,
    /// When to stop.
    pub stop_if: String,
    /// Timeline length.
    pub duration_s: f32,
    /// Position.
    pub time_s: f32,
    /// Playing.
    pub playing: bool,
    /// Speed factor.
    pub speed: f32,
}

/// The active scenario's card.
#[derive(Clone, Debug, PartialEq)]
pub struct CardView {
    /// Title.
    pub title: String,
    /// The three parts.
    pub card: Card,
    /// What is illustrative.
    pub illustrative: String,
    /// Sources.
    pub citations: Vec<Citation>,
    /// Relief controls, for relief scenarios.
    pub relief: Option<ReliefView>,
}

/// Everything the scenario panel reads and edits.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ScenarioPanelState {
    /// When to see a clinician urgently, other sources of pain, nerve symptoms.
    pub guidance: Option<Guidance>,
    /// The list, in order.
    pub items: Vec<ListItem>,
    /// The active scenario's id.
    pub active_id: String,
    /// Its card.
    pub card: Option<CardView>,
    /// Whether the levels are a clinician's own (sliders moved).
    pub custom: bool,
    /// The levels the sliders show (before weak muscles' load is shifted).
    pub levels: BodyState,
    /// File errors, one line each (`file:line:column: problem`).
    pub errors: Vec<String>,
    /// Files still loading.
    pub pending: usize,
    /// The id typed for "Save as scenario".
    pub save_id: String,
    /// The title typed for it.
    pub save_title: String,
    /// The last save's outcome.
    pub save_status: Option<Result<String, String>>,
    /// The clip recording's state, one line.
    pub clip_status: Option<String>,
    /// Whether a clip is being recorded.
    pub clip_running: bool,
    /// What the user asked for this frame.
    pub commands: Vec<ScenarioCommand>,
}

/// The whole scenario panel.
pub fn scenario_panel_ui(ui: &mut egui::Ui, state: &mut ScenarioPanelState) {
    ui.heading("Scenarios");
    ui.label(egui::RichText::new(NOT_A_DIAGNOSIS).italics().weak());
    if let Some(guidance) = &state.guidance {
        guidance_ui(ui, guidance);
    }
    ui.add_space(4.0);
    list_ui(ui, state);
    if !state.errors.is_empty() || state.pending > 0 {
        ui.add_space(4.0);
        errors_ui(ui, state);
    }
    ui.separator();
    if let Some(card) = state.card.clone() {
        card_ui(ui, &card, state);
    }
    ui.add_space(4.0);
    ui.horizontal(|ui| {
        let can_record = !state.custom && !state.clip_running;
        if ui
            .add_enabled(can_record, egui::Button::new("Save clip (GIF)"))
            .on_hover_text(if state.custom {
                "Save your levels as a scenario first"
            } else {
                "Records this scenario as a short animated GIF to take home"
            })
            .clicked()
        {
            state.commands.push(ScenarioCommand::SaveClip);
        }
    });
    if let Some(status) = &state.clip_status {
        ui.label(egui::RichText::new(status).small());
    }
    ui.separator();
    legend_ui(ui);
    ui.separator();
    egui::CollapsingHeader::new("Adjust the levels (for clinicians)")
        .id_salt("custom_levels")
        .show(ui, |ui| custom_ui(ui, state));
}

/// The guidance sections, each one click away (collapsed at start).
pub fn guidance_ui(ui: &mut egui::Ui, guidance: &Guidance) {
    for (i, section) in guidance.sections().into_iter().enumerate() {
        // The urgent signs stand out, calmly.
        let title = if i == 0 {
            egui::RichText::new(format!("⚠ {}", section.title))
                .strong()
                .color(egui::Color32::from_rgb(235, 190, 110))
        } else {
            egui::RichText::new(&section.title).strong()
        };
        egui::CollapsingHeader::new(title)
            .id_salt(("guidance", i))
            .show(ui, |ui| section_ui(ui, section));
    }
}

fn section_ui(ui: &mut egui::Ui, section: &Section) {
    if !section.intro.is_empty() {
        ui.label(&section.intro);
    }
    for fact in &section.facts {
        ui.add_space(2.0);
        ui.horizontal_wrapped(|ui| {
            badge(ui, fact.grade);
            ui.label(&fact.text);
        });
        ui.label(
            egui::RichText::new(format!("Source: {}", fact.source))
                .small()
                .weak(),
        );
    }
}

/// The scenario list, grouped, with the active one highlighted.
pub fn list_ui(ui: &mut egui::Ui, state: &mut ScenarioPanelState) {
    let mut last_kind = None;
    for item in &state.items {
        if last_kind != Some(item.kind) {
            ui.add_space(2.0);
            ui.label(egui::RichText::new(group_label(item.kind)).small().strong());
            last_kind = Some(item.kind);
        }
        let active = item.id == state.active_id;
        let text = egui::RichText::new(&item.title).strong();
        let response = ui
            .selectable_label(active, text)
            .on_hover_text(&item.subtitle);
        // The list stays short enough to see the card below it: only the active scenario
        // shows its one-line subtitle (the others on hover).
        if active {
            ui.label(egui::RichText::new(&item.subtitle).small());
        }
        if response.clicked() && (!active || state.custom) {
            state
                .commands
                .push(ScenarioCommand::Select(item.id.clone()));
        }
    }
    ui.horizontal(|ui| {
        if ui
            .small_button("◀ Previous")
            .on_hover_text(Action::PreviousScenario.tooltip())
            .clicked()
        {
            state
                .commands
                .push(ScenarioCommand::Select(step(state, -1)));
        }
        if ui
            .small_button("Next ▶")
            .on_hover_text(Action::NextScenario.tooltip())
            .clicked()
        {
            state.commands.push(ScenarioCommand::Select(step(state, 1)));
        }
        if ui
            .small_button("Reload")
            .on_hover_text("Read the scenario files again")
            .clicked()
        {
            state.commands.push(ScenarioCommand::Reload);
        }
    });
}

fn step(state: &ScenarioPanelState, by: i32) -> String {
    let n = state.items.len().max(1) as i32;
    let current = state
        .items
        .iter()
        .position(|i| i.id == state.active_id)
        .unwrap_or(0) as i32;
    state
        .items
        .get((current + by).rem_euclid(n) as usize)
        .map_or_else(|| state.active_id.clone(), |i| i.id.clone())
}

/// Files that could not be read, each with its place; the last good version stays in use.
pub fn errors_ui(ui: &mut egui::Ui, state: &ScenarioPanelState) {
    if state.pending > 0 {
        ui.label(egui::RichText::new(format!("Loading {} files…", state.pending)).weak());
    }
    for error in &state.errors {
        ui.label(
            egui::RichText::new(format!("⚠ {error}"))
                .small()
                .color(egui::Color32::from_rgb(235, 170, 80)),
        );
    }
    if !state.errors.is_empty() {
        ui.label(
            egui::RichText::new("The last good version of each file stays in use.")
                .small()
                .weak(),
        );
    }
}

/// The active scenario's card: the three parts, relief steps and controls, sources.
pub fn card_ui(ui: &mut egui::Ui, card: &CardView, state: &mut ScenarioPanelState) {
    ui.heading(if state.custom {
        format!("{} (adjusted)", card.title)
    } else {
        card.title.clone()
    });
    for (title, text) in [
        ("What you see", &card.card.what_you_see),
        ("What people feel", &card.card.what_people_feel),
        (
            "What a clinician checks",
            &card.card.what_a_clinician_checks,
        ),
    ] {
        if text.is_empty() {
            continue;
        }
        ui.add_space(3.0);
        ui.strong(title);
        ui.label(text);
    }
    if let Some(relief) = &card.relief {
        ui.add_space(3.0);
        ui.strong("What to do");
        for (i, step) in relief.how_to.iter().enumerate() {
            ui.label(format!("{}. {step}", i + 1));
        }
        ui.label(egui::RichText::new(&relief.how_long).small());
        ui.label(
            egui::RichText::new(format!("Stop if: {}", relief.stop_if))
                .color(egui::Color32::from_rgb(235, 190, 110)),
        );
        ui.add_space(3.0);
        playback_ui(ui, relief, &mut state.commands);
    }
    if !card.illustrative.is_empty() {
        ui.label(
            egui::RichText::new(&card.illustrative)
                .small()
                .italics()
                .weak(),
        );
    }
    let debated = card
        .citations
        .iter()
        .any(|c| c.grade == EvidenceGrade::Debated);
    ui.horizontal(|ui| {
        if debated {
            badge(ui, EvidenceGrade::Debated)
                .on_hover_text("Part of this story is debated: see the sources");
        }
        ui.label(egui::RichText::new(format!("{} sources", card.citations.len())).small());
    });
    egui::CollapsingHeader::new("Sources")
        .id_salt("scenario_sources")
        .show(ui, |ui| {
            for citation in &card.citations {
                ui.horizontal_wrapped(|ui| {
                    badge(ui, citation.grade);
                    ui.label(&citation.claim);
                });
                ui.label(egui::RichText::new(&citation.source).small().weak());
                ui.add_space(2.0);
            }
        });
}

/// An evidence grade as a small coloured tag, its meaning on hover.
pub(crate) fn badge(ui: &mut egui::Ui, grade: EvidenceGrade) -> egui::Response {
    ui.label(
        egui::RichText::new(format!("[{}]", grade.tag()))
            .small()
            .color(grade_colour(grade)),
    )
    .on_hover_text(grade.meaning())
}

/// Play/pause, speed and the scrubber of a relief timeline.
pub fn playback_ui(ui: &mut egui::Ui, relief: &ReliefView, commands: &mut Vec<ScenarioCommand>) {
    ui.horizontal(|ui| {
        let label = if relief.playing {
            "⏸ Pause"
        } else {
            "▶ Play"
        };
        if ui
            .button(label)
            .on_hover_text(Action::PlayPause.tooltip())
            .clicked()
        {
            commands.push(ScenarioCommand::TogglePlay);
        }
        ui.label("Speed");
        let mut speed = relief.speed;
        egui::ComboBox::from_id_salt("relief_speed")
            .selected_text(format!("{speed}×"))
            .width(60.0)
            .show_ui(ui, |ui| {
                for s in SPEEDS {
                    ui.selectable_value(&mut speed, s, format!("{s}×"));
                }
            });
        if speed != relief.speed {
            commands.push(ScenarioCommand::SetSpeed(speed));
        }
    });
    let mut time = relief.time_s;
    let response = ui.add(
        egui::Slider::new(&mut time, 0.0..=relief.duration_s)
            .text("time")
            .custom_formatter(|v, _| format!("{v:.0} s")),
    );
    if response.changed() {
        commands.push(ScenarioCommand::Seek(time));
    }
}

/// What the colours and markers mean.
pub fn legend_ui(ui: &mut egui::Ui) {
    ui.strong("Legend");
    let atlas = atlas_colour(Structure {
        kind: crate::anatomy::StructureKind::GluteusMaximus,
        side: crate::anatomy::Side::Right,
    });
    ramp_ui(ui, "relaxed", "tense", |t| {
        look::muscle_colour(atlas, t, 0.0)
    });
    ramp_ui(ui, "strong", "weak (thinner, paler)", |t| {
        look::muscle_colour(atlas, 0.0, t)
    });
    let joint = atlas_colour(Structure {
        kind: crate::anatomy::StructureKind::SacroiliacJoint,
        side: crate::anatomy::Side::Right,
    });
    ramp_ui(ui, "SI joint calm", "irritated", |t| {
        look::joint_colour(joint, t)
    });
    ui.label(
        egui::RichText::new(
            "● Pulsing dots: trigger points. ● Glowing bands running down the nerve: it is \
             being squeezed; faster and brighter means more. How much the nerve is squeezed \
             and how fast tissue lets go are illustrative: no study has measured them.",
        )
        .small(),
    );
}

fn ramp_ui(ui: &mut egui::Ui, from: &str, to: &str, colour: impl Fn(f32) -> Srgba) {
    ui.horizontal(|ui| {
        ui.label(egui::RichText::new(from).small());
        crate::viewer::ui::colour_bar(ui, egui::vec2(90.0, 12.0), 18, colour);
        ui.label(egui::RichText::new(to).small());
    });
}

/// Sliders per structure and side, and "Save as scenario".
pub fn custom_ui(ui: &mut egui::Ui, state: &mut ScenarioPanelState) {
    ui.label(
        egui::RichText::new("Moving a slider starts your own state from what is shown.").small(),
    );
    for (title, layer) in [
        ("Muscles", Layer::Muscles),
        ("Nerve", Layer::Nerves),
        ("SI joint", Layer::Joints),
    ] {
        ui.add_space(3.0);
        ui.strong(title);
        egui::Grid::new(format!("levels_{title}"))
            .num_columns(3)
            .spacing([6.0, 3.0])
            .show(ui, |ui| {
                for structure in Structure::all().into_iter().filter(|s| s.layer() == layer) {
                    levels_row_ui(ui, structure, state);
                }
            });
    }
    if state.custom && ui.button("Back to the scenario's levels").clicked() {
        state.commands.push(ScenarioCommand::ClearCustom);
    }
    ui.add_space(4.0);
    ui.strong("Save as scenario");
    egui::Grid::new("save_custom")
        .num_columns(2)
        .show(ui, |ui| {
            ui.label("Id");
            ui.add(
                egui::TextEdit::singleline(&mut state.save_id)
                    .hint_text("e.g. left_hip_flare")
                    .desired_width(150.0),
            );
            ui.end_row();
            ui.label("Title");
            ui.add(egui::TextEdit::singleline(&mut state.save_title).desired_width(150.0));
            ui.end_row();
        });
    if ui
        .add_enabled(!state.save_id.trim().is_empty(), egui::Button::new("Save"))
        .on_hover_text("Writes a new scenario file to your own folder (never over a built-in one)")
        .clicked()
    {
        state.commands.push(ScenarioCommand::SaveCustom {
            id: state.save_id.trim().to_owned(),
            title: state.save_title.trim().to_owned(),
        });
    }
    match &state.save_status {
        Some(Ok(path)) => {
            ui.label(egui::RichText::new(format!("Saved to {path}")).small());
        }
        Some(Err(e)) => {
            ui.label(
                egui::RichText::new(e)
                    .small()
                    .color(egui::Color32::from_rgb(235, 170, 80)),
            );
        }
        None => {}
    }
}

fn levels_row_ui(ui: &mut egui::Ui, structure: Structure, state: &mut ScenarioPanelState) {
    let (tension, weakness, compression, irritation) = applies_to(structure.layer());
    let current = state.levels.get(structure);
    let mut edited = current;
    ui.label(structure.label());
    let slider = |ui: &mut egui::Ui, value: &mut f32, name: &str| {
        ui.add(
            egui::Slider::new(value, 0.0..=1.0)
                .show_value(false)
                .text(name),
        )
        .on_hover_text(format!(
            "{} {name}: {:.0} %",
            structure.label(),
            *value * 100.0
        ));
    };
    if tension {
        slider(ui, &mut edited.tension_0_to_1, "tension");
    }
    if weakness {
        slider(ui, &mut edited.weakness_0_to_1, "weakness");
    }
    if compression {
        slider(ui, &mut edited.compression_0_to_1, "compression");
        ui.label("");
    }
    if irritation {
        slider(ui, &mut edited.irritation_0_to_1, "irritation");
        ui.label("");
    }
    ui.end_row();
    if edited != current {
        state
            .commands
            .push(ScenarioCommand::SetLevels(structure, edited));
    }
}

/// What the panel keeps between frames (typed text).
#[derive(Resource, Default)]
struct PanelMemory {
    save_id: String,
    save_title: String,
}

/// The scenario panel in the window (on the left; the viewer's panel is on the right).
pub fn plugin(app: &mut App) {
    app.init_resource::<PanelMemory>()
        .add_systems(EguiPrimaryContextPass, scenario_panel_system);
}

fn panel_state(
    scenarios: &Scenarios,
    active: &ActiveScenario,
    shown: &ShownState,
    memory: &PanelMemory,
    save: &SaveStatus,
    clip: &ClipJob,
    guidance: Option<&Guidance>,
) -> ScenarioPanelState {
    let library = &scenarios.library;
    let items = library
        .sorted()
        .into_iter()
        .map(|s| ListItem {
            id: s.id.0.clone(),
            title: s.title.clone(),
            subtitle: s.subtitle.clone(),
            kind: s.kind,
        })
        .collect();
    let card = library.get(&active.id).map(|s| CardView {
        title: s.title.clone(),
        card: s.card.clone(),
        illustrative: s.illustrative.clone(),
        citations: s.citations.clone(),
        relief: s.relief.as_ref().map(|r| ReliefView {
            how_to: r.how_to.clone(),
            how_long: r.how_long.clone(),
            stop_if: r.stop_if.clone(),
            duration_s: r.duration_s(),
            time_s: shown.timeline_s,
            playing: active.playback.playing,
            speed: active.playback.speed,
        }),
    });
    let levels = active.custom.clone().unwrap_or_else(|| {
        library
            .base_state(
                &active.id,
                library.duration_s(&active.id).map(|_| shown.timeline_s),
            )
            .unwrap_or_default()
    });
    ScenarioPanelState {
        guidance: guidance.cloned(),
        items,
        active_id: active.id.clone(),
        card,
        custom: active.custom.is_some(),
        levels,
        errors: scenarios.errors().iter().map(ToString::to_string).collect(),
        pending: scenarios.pending,
        save_id: memory.save_id.clone(),
        save_title: memory.save_title.clone(),
        save_status: save.0.clone(),
        clip_status: clip.status.clone(),
        clip_running: clip.running(),
        commands: Vec::new(),
    }
}

fn scenario_panel_system(
    mut contexts: EguiContexts,
    scenarios: Res<Scenarios>,
    active: Res<ActiveScenario>,
    shown: Res<ShownState>,
    save: Res<SaveStatus>,
    clip: Res<ClipJob>,
    guidance: Option<Res<Guidance>>,
    mut memory: ResMut<PanelMemory>,
    mut insets: ResMut<PanelInsets>,
    mut commands: MessageWriter<ScenarioCommand>,
) -> Result {
    let ctx = contexts.ctx_mut()?.clone();
    let mut state = panel_state(
        &scenarios,
        &active,
        &shown,
        &memory,
        &save,
        &clip,
        guidance.as_deref(),
    );
    let mut root = egui::Ui::new(
        ctx.clone(),
        "scenario_viewport".into(),
        egui::UiBuilder::new()
            .layer_id(egui::LayerId::background())
            .max_rect(ctx.viewport_rect()),
    );
    let width = egui::Panel::left("scenario_panel")
        .resizable(true)
        .default_size(330.0)
        .size_range(260.0..=520.0)
        .show(&mut root, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| scenario_panel_ui(ui, &mut state));
        })
        .response
        .rect
        .width();
    if (insets.left - width).abs() > 0.5 {
        insets.left = width;
    }
    if memory.save_id != state.save_id {
        memory.save_id = std::mem::take(&mut state.save_id);
    }
    if memory.save_title != state.save_title {
        memory.save_title = std::mem::take(&mut state.save_title);
    }
    commands.write_batch(state.commands);
    Ok(())
}
