//! The "Pain map" window over the 3D view: the two layers with their legends and an opacity
//! slider, the active sources with their evidence badges, what is under the pointer, and
//! "Where does it hurt?" (paint, erase, brush, clear, the ranked sources). Drawn by plain
//! `*_ui(ui, state)` functions on [`HeatPanelState`]; one system copies the app state in.

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};

use super::data::{PainLayer, ReferralFile, SourceId};
use super::plugin::{
    HeatCommand, HeatHover, HeatSettings, HoverInfo, Painting, Referrals, SkinHeat,
};
use crate::anatomy::{Side, SkinRegion, SkinRegionKind};
use crate::content::EvidenceGrade;
use crate::scenario::{ScenarioCommand, ShownState};
use crate::viewer::ui::{PanelInsets, grade_colour};

/// The line the heat map always carries.
pub const TYPICAL_PATTERNS: &str =
    "Referral maps are typical patterns that overlap, not a diagnosis.";

/// A region in a patient's words, e.g. "right upper buttock".
pub fn region_label(region: SkinRegion) -> String {
    let kind = match region.kind {
        SkinRegionKind::LumbarParaspinal => "low back beside the spine",
        SkinRegionKind::BeltLine => "belt line",
        SkinRegionKind::Sij => "SI joint area (below the dimple)",
        SkinRegionKind::ButtockUpper => "upper buttock",
        SkinRegionKind::ButtockLower => "lower buttock",
        SkinRegionKind::LateralHip => "side of the hip",
        SkinRegionKind::Groin => "groin",
        SkinRegionKind::LowerAbdomen => "lower belly",
        SkinRegionKind::AnteriorThigh => "front of the thigh",
        SkinRegionKind::LateralThigh => "side of the thigh",
        SkinRegionKind::PosteriorThigh => "back of the thigh",
        SkinRegionKind::LateralLeg => "outer lower leg",
        SkinRegionKind::Calf => "calf",
        SkinRegionKind::Foot => "foot",
        SkinRegionKind::SacrumRegion => "over the sacrum",
        SkinRegionKind::CoccyxRegion => "tailbone",
    };
    match region.side {
        Side::Left => format!("left {kind}"),
        Side::Right => format!("right {kind}"),
        Side::Midline => kind.to_owned(),
    }
}

/// An active source, as the panel lists it.
#[derive(Clone, Debug, PartialEq)]
pub struct ActiveSource {
    /// Its label and side, e.g. "Piriformis (right)".
    pub label: String,
    /// Somatic or nerve.
    pub layer: PainLayer,
    /// How active, 0–1.
    pub intensity: f32,
    /// The grades of its zones (each once), strongest first.
    pub grades: Vec<EvidenceGrade>,
}

/// One ranked source.
#[derive(Clone, Debug, PartialEq)]
pub struct RankedSource {
    /// Label and side.
    pub label: String,
    /// Weighted Jaccard score, 0–1.
    pub score: f32,
    /// One sentence on why.
    pub why: String,
    /// The scenario that shows it, if any.
    pub scenario: Option<String>,
}

/// Everything the pain-map window reads and edits.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HeatPanelState {
    /// Layers and opacity (edited in place).
    pub settings: HeatSettings,
    /// Whether the fields are ready.
    pub ready: bool,
    /// The sources active now.
    pub active: Vec<ActiveSource>,
    /// What is under the pointer.
    pub hover: Option<HoverInfo>,
    /// Paint mode on (edited in place).
    pub painting: bool,
    /// Erase instead of paint (edited in place).
    pub erase: bool,
    /// Brush radius, metres (edited in place).
    pub brush_radius_m: f32,
    /// Whether anything is drawn.
    pub drawn: bool,
    /// The best matches.
    pub ranking: Vec<RankedSource>,
    /// The drawing file's state, one line.
    pub status: Option<String>,
    /// Referral file problems, one line each.
    pub errors: Vec<String>,
    /// What the user asked for this frame.
    pub heat_commands: Vec<HeatCommand>,
    /// Scenario requests (load the best match).
    pub scenario_commands: Vec<ScenarioCommand>,
}

/// The whole pain-map window.
pub fn heat_panel_ui(ui: &mut egui::Ui, state: &mut HeatPanelState) {
    ui.label(egui::RichText::new(TYPICAL_PATTERNS).italics().small());
    if !state.ready {
        ui.label(egui::RichText::new("Preparing the pain map…").weak());
    }
    ui.horizontal(|ui| {
        ui.checkbox(&mut state.settings.somatic, "Referred pain");
        legend_bar(ui, super::palette::somatic_colour);
    });
    ui.horizontal(|ui| {
        ui.checkbox(&mut state.settings.neuropathic, "Nerve symptoms");
        legend_bar(ui, |h| super::palette::neuropathic_colour(h, Vec3::ZERO));
    });
    ui.add(
        egui::Slider::new(&mut state.settings.opacity_0_to_1, 0.0..=1.0)
            .text("opacity")
            .show_value(false),
    );
    ui.label(
        egui::RichText::new(
            "Warm colours: a deep ache felt away from its source. Banded green: shooting pain, \
             numbness or tingling along the nerve. Brighter means more.",
        )
        .small(),
    );
    if !state.active.is_empty() {
        ui.add_space(2.0);
        ui.label(egui::RichText::new("Shown now").small().strong());
        for source in &state.active {
            ui.horizontal(|ui| {
                for grade in &source.grades {
                    ui.label(
                        egui::RichText::new(format!("[{}]", grade.tag()))
                            .small()
                            .color(grade_colour(*grade)),
                    )
                    .on_hover_text(grade.meaning());
                }
                ui.label(
                    egui::RichText::new(format!(
                        "{} {:.0} %",
                        source.label,
                        source.intensity * 100.0
                    ))
                    .small(),
                );
            });
        }
    }
    if let Some(hover) = &state.hover {
        ui.add_space(2.0);
        hover_ui(ui, hover);
    }
    ui.separator();
    paint_ui(ui, state);
    for error in &state.errors {
        ui.label(
            egui::RichText::new(format!("⚠ {error}"))
                .small()
                .color(egui::Color32::from_rgb(235, 170, 80)),
        );
    }
}

fn legend_bar(ui: &mut egui::Ui, colour: impl Fn(f32) -> [f32; 4]) {
    crate::viewer::ui::colour_bar(ui, egui::vec2(80.0, 10.0), 16, |h| {
        let [r, g, b, _] = colour(h);
        Color::linear_rgb(r, g, b).to_srgba()
    });
}

/// The region under the pointer and who contributes how much.
pub fn hover_ui(ui: &mut egui::Ui, hover: &HoverInfo) {
    ui.label(egui::RichText::new(region_label(hover.region)).strong());
    if hover.contributions.is_empty() {
        ui.label(
            egui::RichText::new("No pattern shown here now.")
                .small()
                .weak(),
        );
    }
    for (label, side, layer, value) in &hover.contributions {
        let kind = match layer {
            PainLayer::Somatic => "referred pain",
            PainLayer::Neuropathic => "nerve symptoms",
        };
        ui.label(
            egui::RichText::new(format!(
                "{label} ({}), {kind}: {:.0} %",
                side_word(*side),
                value * 100.0
            ))
            .small(),
        );
    }
}

fn side_word(side: Side) -> &'static str {
    match side {
        Side::Left => "left",
        Side::Right => "right",
        Side::Midline => "middle",
    }
}

/// Paint mode, the brush, and the ranked sources.
pub fn paint_ui(ui: &mut egui::Ui, state: &mut HeatPanelState) {
    ui.strong("Where does it hurt?");
    ui.horizontal(|ui| {
        ui.toggle_value(&mut state.painting, "🖌 Paint")
            .on_hover_text("Paint with the left button; the right button orbits meanwhile");
        ui.toggle_value(&mut state.erase, "Erase");
        if ui.button("Clear").clicked() {
            state.heat_commands.push(HeatCommand::ClearDrawing);
        }
    });
    let mut brush_cm = state.brush_radius_m * 100.0;
    if ui
        .add(egui::Slider::new(&mut brush_cm, 1.0..=8.0).text("brush (cm)"))
        .changed()
    {
        state.brush_radius_m = brush_cm / 100.0;
    }
    if let Some(status) = &state.status {
        ui.label(egui::RichText::new(status).small().weak());
    }
    if state.drawn && state.ranking.is_empty() {
        ui.label(egui::RichText::new("Ranking…").small().weak());
    }
    if !state.ranking.is_empty() {
        ui.label(
            egui::RichText::new(
                "Sources whose typical pattern best matches the drawing (weighted overlap):",
            )
            .small(),
        );
    }
    for (i, ranked) in state.ranking.iter().enumerate() {
        ui.horizontal_wrapped(|ui| {
            ui.strong(format!("{}. {}", i + 1, ranked.label));
            ui.label(format!("{:.0} %", ranked.score * 100.0));
            if let Some(id) = &ranked.scenario
                && ui
                    .small_button("Show")
                    .on_hover_text("Open the scenario that shows it")
                    .clicked()
            {
                state
                    .scenario_commands
                    .push(ScenarioCommand::Select(id.clone()));
            }
        });
        ui.label(egui::RichText::new(&ranked.why).small());
    }
}

/// The pain-map window in the app.
pub fn plugin(app: &mut App) {
    app.add_systems(EguiPrimaryContextPass, heat_panel_system);
}

/// The grades of a file's zones, strongest first, each once.
fn grades_of(file: Option<&ReferralFile>) -> Vec<EvidenceGrade> {
    let order = [
        EvidenceGrade::Established,
        EvidenceGrade::Convention,
        EvidenceGrade::Debated,
        EvidenceGrade::Unverified,
    ];
    let present: Vec<EvidenceGrade> = file
        .map(|f| f.zones.iter().map(|z| z.grade).collect())
        .unwrap_or_default();
    order.into_iter().filter(|g| present.contains(g)).collect()
}

fn label_of(files: &[ReferralFile], source: SourceId, side: Side) -> String {
    let label = super::referral_of(files, source).map_or(source.name(), |f| f.label.as_str());
    format!("{label} ({})", side_word(side))
}

fn heat_panel_system(
    mut contexts: EguiContexts,
    mut settings: ResMut<HeatSettings>,
    mut painting: ResMut<Painting>,
    heat: Res<SkinHeat>,
    hover: Res<HeatHover>,
    referrals: Res<Referrals>,
    shown: Res<ShownState>,
    insets: Res<PanelInsets>,
    mut heat_commands: MessageWriter<HeatCommand>,
    mut scenario_commands: MessageWriter<ScenarioCommand>,
) -> Result {
    let ctx = contexts.ctx_mut()?.clone();
    let files = &referrals.files;
    let mut state = HeatPanelState {
        settings: *settings,
        ready: heat.fields.is_some(),
        active: super::intensities(&shown.state)
            .into_iter()
            .filter(|(_, _, i)| *i >= 0.05)
            .map(|(source, side, intensity)| ActiveSource {
                label: label_of(files, source, side),
                layer: super::referral_of(files, source).map_or(PainLayer::Somatic, |f| f.layer),
                intensity,
                grades: grades_of(super::referral_of(files, source)),
            })
            .collect(),
        hover: hover.0.clone(),
        painting: painting.active,
        erase: painting.erase,
        brush_radius_m: painting.brush_radius_m,
        drawn: painting.drawing.iter().any(|d| *d > 0.0),
        ranking: painting
            .ranking
            .iter()
            .take(3)
            .map(|m| RankedSource {
                label: label_of(files, m.source, m.side),
                score: m.score,
                why: super::why(m, files),
                scenario: super::referral_of(files, m.source).and_then(|f| f.scenario.clone()),
            })
            .collect(),
        status: painting.status.clone(),
        errors: referrals.errors.iter().map(ToString::to_string).collect(),
        heat_commands: Vec::new(),
        scenario_commands: Vec::new(),
    };
    egui::Window::new("Pain map")
        .id(egui::Id::new("pain_map"))
        .default_open(true)
        .resizable(false)
        .default_width(250.0)
        .anchor(egui::Align2::LEFT_BOTTOM, [insets.left + 8.0, -8.0])
        .show(&ctx, |ui| heat_panel_ui(ui, &mut state));
    settings.set_if_neq(state.settings);
    if painting.active != state.painting
        || painting.erase != state.erase
        || painting.brush_radius_m != state.brush_radius_m
    {
        painting.active = state.painting;
        painting.erase = state.erase;
        painting.brush_radius_m = state.brush_radius_m;
    }
    heat_commands.write_batch(state.heat_commands);
    scenario_commands.write_batch(state.scenario_commands);
    Ok(())
}
