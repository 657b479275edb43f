//! The Posture window: the presets, a slider per hip angle and the pelvic tilt, each muscle's
//! length change against standing and the sciatic nerve's strain, and the debated "tight hip
//! flexor" story with its evidence badges. Drawn by [`posture_panel_ui`] on
//! [`PosturePanelState`] (no Bevy types); one system copies the app state in and sends what
//! the user asked for as [`PostureCommand`]s.

use bevy::prelude::*;
use bevy_egui::{EguiContexts, EguiPrimaryContextPass, egui};

use super::data::Story;
use super::kinematics::{Limits, Posture, PostureId};
use super::plugin::{PostureCommand, PostureState, Postures, ShownPosture};
use crate::anatomy::{Side, StructureKind};
use crate::scenario::panel::badge;
use crate::viewer::actions::Action;
use crate::viewer::ui::PanelInsets;

/// One preset button.
#[derive(Clone, Debug, PartialEq)]
pub struct PresetButton {
    /// Its id.
    pub id: PostureId,
    /// Its label.
    pub label: String,
    /// What it shows (hover text).
    pub what_you_see: String,
}

/// One muscle's length change, both sides.
#[derive(Clone, Debug, PartialEq)]
pub struct LengthRow {
    /// The muscle's name.
    pub label: String,
    /// Left, per cent.
    pub left_pct: f32,
    /// Right, per cent.
    pub right_pct: f32,
}

/// Everything the Posture window reads and edits.
#[derive(Clone, Debug, PartialEq)]
pub struct PosturePanelState {
    /// The presets.
    pub presets: Vec<PresetButton>,
    /// The preset aimed at, if any.
    pub active: Option<PostureId>,
    /// The posture aimed at (the sliders edit it).
    pub posture: Posture,
    /// The ranges of motion.
    pub limits: Limits,
    /// Length changes.
    pub rows: Vec<LengthRow>,
    /// The sciatic nerve's strain, left and right, per cent.
    pub nerve_strain_pct: (f32, f32),
    /// The debated story.
    pub story: Option<Story>,
    /// Why posture is unavailable, if it is.
    pub error: Option<String>,
    /// What the user asked for this frame.
    pub commands: Vec<PostureCommand>,
}

/// The window's contents.
pub fn posture_panel_ui(ui: &mut egui::Ui, state: &mut PosturePanelState) {
    if let Some(error) = &state.error {
        ui.colored_label(egui::Color32::LIGHT_RED, error);
        return;
    }
    ui.horizontal_wrapped(|ui| {
        for preset in &state.presets {
            let selected = state.active == Some(preset.id);
            let hover = format!(
                "{} (key {} steps through the presets)",
                preset.what_you_see,
                Action::NextPosture.key_label()
            );
            if ui
                .selectable_label(selected, &preset.label)
                .on_hover_text(hover)
                .clicked()
            {
                state.commands.push(PostureCommand::Select(preset.id));
            }
        }
    });
    let mut edited = state.posture;
    egui::CollapsingHeader::new("Angles")
        .default_open(false)
        .show(ui, |ui| {
            let l = state.limits;
            let tilt = edited.pelvic_tilt_deg;
            for (side, name) in [(Side::Right, "Right hip"), (Side::Left, "Left hip")] {
                ui.label(egui::RichText::new(name).strong());
                let hip = edited.hip_mut(side);
                ui.add(
                    egui::Slider::new(&mut hip.flexion_deg, (l.flexion_deg.0 - tilt)..=(l.flexion_deg.1 - tilt))
                        .text("flexion (+) / extension")
                        .suffix("°"),
                );
                ui.add(
                    egui::Slider::new(&mut hip.adduction_deg, l.adduction_deg.0..=l.adduction_deg.1)
                        .text("adduction (+) / abduction")
                        .suffix("°"),
                );
                ui.add(
                    egui::Slider::new(
                        &mut hip.internal_rotation_deg,
                        l.internal_rotation_deg.0..=l.internal_rotation_deg.1,
                    )
                    .text("internal (+) / external rotation")
                    .suffix("°"),
                );
            }
            ui.label(egui::RichText::new("Pelvis").strong());
            ui.add(
                egui::Slider::new(&mut edited.pelvic_tilt_deg, l.pelvic_tilt_deg.0..=l.pelvic_tilt_deg.1)
                    .text("tilt: anterior (+) / posterior")
                    .suffix("°"),
            )
            .on_hover_text("The lumbar spine follows: more curve with an anterior tilt, less with a posterior one.");
        });
    if edited != state.posture {
        state.commands.push(PostureCommand::Set(edited));
    }
    ui.separator();
    ui.label(egui::RichText::new("Length against standing").strong());
    egui::Grid::new("posture_lengths")
        .num_columns(3)
        .striped(true)
        .show(ui, |ui| {
            ui.label("");
            ui.label("left");
            ui.label("right");
            ui.end_row();
            for row in &state.rows {
                ui.label(&row.label);
                ui.label(format!("{:+.1} %", row.left_pct));
                ui.label(format!("{:+.1} %", row.right_pct));
                ui.end_row();
            }
            ui.label("Sciatic nerve (strain)");
            ui.label(format!("{:+.1} %", state.nerve_strain_pct.0));
            ui.label(format!("{:+.1} %", state.nerve_strain_pct.1));
            ui.end_row();
        });
    ui.label(
        egui::RichText::new(
            "From the muscles' lines of action (OpenSim). A tight muscle that is stretched \
             shows more tension, and the nerve under the piriformis more pressure: an \
             illustrative rule.",
        )
        .small()
        .weak(),
    );
    if let Some(story) = &state.story {
        ui.separator();
        ui.label(egui::RichText::new(&story.title).strong());
        for claim in &story.claims {
            ui.horizontal_wrapped(|ui| {
                badge(ui, claim.grade);
                ui.label(&claim.text);
            });
            ui.label(egui::RichText::new(&claim.source).small().weak());
        }
        if ui
            .button(format!(
                "Show the idea: tilt the pelvis forward {:.0}°",
                story.shows_tilt_deg
            ))
            .clicked()
        {
            state.commands.push(PostureCommand::Set(Posture {
                pelvic_tilt_deg: story.shows_tilt_deg,
                ..state.posture
            }));
        }
    }
}

/// The Posture window in the app.
pub fn plugin(app: &mut App) {
    app.add_systems(EguiPrimaryContextPass, posture_panel_system);
}

/// The muscles in the table, in order.
const MUSCLES: [StructureKind; 6] = [
    StructureKind::Piriformis,
    StructureKind::GluteusMaximus,
    StructureKind::GluteusMedius,
    StructureKind::GluteusMinimus,
    StructureKind::PsoasMajor,
    StructureKind::Iliacus,
];

/// The panel's state from the app's.
pub fn panel_state(
    postures: &Postures,
    state: &PostureState,
    shown: &ShownPosture,
) -> Option<PosturePanelState> {
    let Some(model) = postures.model.as_ref() else {
        return postures.error.as_ref().map(|e| PosturePanelState {
            presets: Vec::new(),
            active: None,
            posture: Posture::default(),
            limits: Limits {
                flexion_deg: (0.0, 0.0),
                adduction_deg: (0.0, 0.0),
                internal_rotation_deg: (0.0, 0.0),
                pelvic_tilt_deg: (0.0, 0.0),
            },
            rows: Vec::new(),
            nerve_strain_pct: (0.0, 0.0),
            story: None,
            error: Some(format!("Posture is not available: {e}")),
            commands: Vec::new(),
        });
    };
    let of = |kind: StructureKind, side: Side| crate::anatomy::Structure { kind, side };
    Some(PosturePanelState {
        presets: model
            .data
            .presets
            .iter()
            .map(|p| PresetButton {
                id: p.id,
                label: p.label.clone(),
                what_you_see: p.what_you_see.clone(),
            })
            .collect(),
        active: state.preset,
        posture: state.target,
        limits: model.data.limits,
        rows: MUSCLES
            .into_iter()
            .map(|kind| LengthRow {
                label: kind.label().to_owned(),
                left_pct: shown.lengths.change_pct(of(kind, Side::Left)),
                right_pct: shown.lengths.change_pct(of(kind, Side::Right)),
            })
            .collect(),
        nerve_strain_pct: (
            shown
                .lengths
                .strain_pct(of(StructureKind::SciaticNerve, Side::Left)),
            shown
                .lengths
                .strain_pct(of(StructureKind::SciaticNerve, Side::Right)),
        ),
        story: Some(model.data.tilt_story.clone()),
        error: None,
        commands: Vec::new(),
    })
}

fn posture_panel_system(
    mut contexts: EguiContexts,
    postures: Res<Postures>,
    state: Res<PostureState>,
    shown: Res<ShownPosture>,
    insets: Res<PanelInsets>,
    mut commands: MessageWriter<PostureCommand>,
) -> Result {
    let ctx = contexts.ctx_mut()?.clone();
    let Some(mut panel) = panel_state(&postures, &state, &shown) else {
        return Ok(());
    };
    egui::Window::new("Posture")
        .id(egui::Id::new("posture"))
        .default_open(false)
        .resizable(false)
        .default_width(280.0)
        .anchor(egui::Align2::RIGHT_BOTTOM, [-insets.right - 8.0, -8.0])
        .show(&ctx, |ui| posture_panel_ui(ui, &mut panel));
    commands.write_batch(panel.commands);
    Ok(())
}
