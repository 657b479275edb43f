//! Hover highlights, click selects (Bevy's built-in mesh picking). The observers are global and
//! read the hit primitive (`original_event_target`), so they work for any glTF hierarchy.

use bevy::picking::events::{Click, Out, Over, Pointer};
use bevy::picking::pointer::PointerButton;
use bevy::prelude::*;

use super::model::StructureTag;
use crate::anatomy::Structure;

/// What is selected and hovered.
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Selection {
    /// The selected structure.
    pub selected: Option<Structure>,
    /// The structure under the pointer.
    pub hovered: Option<Structure>,
}

/// Whether the primary button paints on the skin (the heat map's paint mode): its clicks then
/// select nothing, so a stroke over a muscle does not pick that muscle out as if it were the
/// answer.
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PrimaryButtonPaints(pub bool);

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<Selection>()
        .init_resource::<PrimaryButtonPaints>()
        .add_observer(select_on_click)
        .add_observer(hover_on_over)
        .add_observer(unhover_on_out);
}

/// Primary click on a structure selects it; a click on the selected one keeps it selected.
/// While the primary button paints, clicks select nothing.
pub fn select_on_click(
    click: On<Pointer<Click>>,
    tags: Query<&StructureTag>,
    paints: Option<Res<PrimaryButtonPaints>>,
    mut selection: ResMut<Selection>,
) {
    // Pointer events bubble up the hierarchy; handle each click once, at the hit entity.
    if click.event_target() != click.original_event_target()
        || click.event.button != PointerButton::Primary
        || paints.is_some_and(|p| p.0)
    {
        return;
    }
    if let Ok(tag) = tags.get(click.original_event_target()) {
        selection.set_if_neq(Selection {
            selected: Some(tag.0),
            ..*selection
        });
    }
}

fn hover_on_over(
    over: On<Pointer<Over>>,
    tags: Query<&StructureTag>,
    mut selection: ResMut<Selection>,
) {
    if over.event_target() != over.original_event_target() {
        return;
    }
    if let Ok(tag) = tags.get(over.original_event_target()) {
        selection.set_if_neq(Selection {
            hovered: Some(tag.0),
            ..*selection
        });
    }
}

fn unhover_on_out(
    out: On<Pointer<Out>>,
    tags: Query<&StructureTag>,
    mut selection: ResMut<Selection>,
) {
    if out.event_target() != out.original_event_target() {
        return;
    }
    if let Ok(tag) = tags.get(out.original_event_target())
        && selection.hovered == Some(tag.0)
    {
        selection.hovered = None;
    }
}
