//! Layers on/off, per-layer opacity and x-ray, isolate-selection, and how each structure looks
//! as a result. [`appearance`] is pure; the systems only apply it.

use std::collections::BTreeSet;

use bevy::mesh::morph::{MeshMorphWeights, MorphWeights};
use bevy::picking::Pickable;
use bevy::prelude::*;

use super::look::{self, MorphTargetWeights, MorphWeight, Tint};
use super::model::{NerveVariantTag, StructureTag};
use super::picking::Selection;
use crate::anatomy::{Layer, NerveVariant, Structure};

/// Opacity a layer is drawn with while in x-ray mode.
pub const XRAY_OPACITY_0_TO_1: f32 = 0.22;
/// Below this opacity a structure no longer catches clicks (so you can pick through the skin).
pub const PICKABLE_MIN_OPACITY_0_TO_1: f32 = 0.35;

/// One layer's display settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerSetting {
    /// Shown at all.
    pub visible: bool,
    /// 1 = solid, 0 = invisible.
    pub opacity_0_to_1: f32,
    /// See-through mode: drawn faint so deeper layers show.
    pub xray: bool,
}

impl LayerSetting {
    /// The opacity actually drawn.
    pub fn effective_opacity_0_to_1(self) -> f32 {
        let opacity = self.opacity_0_to_1.clamp(0.0, 1.0);
        if self.xray {
            opacity.min(XRAY_OPACITY_0_TO_1)
        } else {
            opacity
        }
    }
}

/// Display settings of every layer, plus isolate-selection.
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct LayerSettings {
    /// Indexed like [`Layer::ALL`].
    pub layers: [LayerSetting; 6],
    /// Show only the selected structure (when something is selected).
    pub isolate_selection: bool,
}

impl Default for LayerSettings {
    fn default() -> Self {
        let solid = LayerSetting {
            visible: true,
            opacity_0_to_1: 1.0,
            xray: false,
        };
        let mut layers = [solid; 6];
        // The skin starts as a faint outline of the body so the anatomy inside reads.
        layers[layer_index(Layer::Skin)] = LayerSetting {
            visible: true,
            opacity_0_to_1: 0.2,
            xray: false,
        };
        Self {
            layers,
            isolate_selection: false,
        }
    }
}

impl LayerSettings {
    /// Settings of one layer.
    pub fn get(&self, layer: Layer) -> LayerSetting {
        self.layers[layer_index(layer)]
    }

    /// Mutable settings of one layer.
    pub fn get_mut(&mut self, layer: Layer) -> &mut LayerSetting {
        &mut self.layers[layer_index(layer)]
    }

    /// Only the given layers visible (the others keep their opacity but are hidden).
    pub fn only(layers: &[Layer]) -> Self {
        let mut settings = Self::default();
        for layer in Layer::ALL {
            settings.get_mut(layer).visible = layers.contains(&layer);
        }
        settings
    }
}

/// Index of a layer in [`Layer::ALL`].
pub fn layer_index(layer: Layer) -> usize {
    match layer {
        Layer::Bones => 0,
        Layer::Discs => 1,
        Layer::Muscles => 2,
        Layer::Nerves => 3,
        Layer::Joints => 4,
        Layer::Skin => 5,
    }
}

/// Parses a layer name as typed on the command line (`bones`, `discs`, `muscles`, `nerve`, `si`,
/// `skin`).
pub fn parse_layer(name: &str) -> Option<Layer> {
    match name.trim().to_ascii_lowercase().as_str() {
        "bone" | "bones" => Some(Layer::Bones),
        "disc" | "discs" => Some(Layer::Discs),
        "muscle" | "muscles" => Some(Layer::Muscles),
        "nerve" | "nerves" => Some(Layer::Nerves),
        "joint" | "joints" | "si" | "si_joint" | "si-joint" => Some(Layer::Joints),
        "skin" => Some(Layer::Skin),
        _ => None,
    }
}

/// How one structure is drawn.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Appearance {
    /// Drawn at all.
    pub visible: bool,
    /// 1 = solid.
    pub opacity_0_to_1: f32,
    /// Catches hover and clicks.
    pub pickable: bool,
    /// Highlight strength: 0 none, hover, selected.
    pub highlight: Highlight,
}

/// Highlight state of a structure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Highlight {
    /// Normal.
    None,
    /// Under the pointer.
    Hovered,
    /// Selected.
    Selected,
}

/// Which course of the sciatic nerve past the piriformis is shown (Beaton & Anson types; the
/// usual one, A, at start).
#[derive(Resource, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShownNerveVariant(pub NerveVariant);

impl Default for ShownNerveVariant {
    fn default() -> Self {
        Self(NerveVariant::A)
    }
}

/// Whether an entity of a nerve (the usual one when `variant` is `None`) is the course shown.
pub fn variant_shown(variant: Option<NerveVariant>, shown: NerveVariant) -> bool {
    variant.unwrap_or(NerveVariant::A) == shown
}

/// Structures a capability fades to x-ray because they hide what it shows (a scenario's
/// story: gluteus maximus over the piriformis). They come back when the set is emptied.
#[derive(Resource, Clone, Debug, Default, PartialEq, Eq)]
pub struct FadedStructures(pub BTreeSet<Structure>);

/// How `structure` is drawn given the layer settings, the current selection and hover, and
/// whether a capability fades it.
pub fn appearance(
    structure: Structure,
    settings: &LayerSettings,
    selected: Option<Structure>,
    hovered: Option<Structure>,
    faded: bool,
) -> Appearance {
    let layer = settings.get(structure.layer());
    let is_selected = selected == Some(structure);
    let isolated_away = settings.isolate_selection && selected.is_some() && !is_selected;
    let (visible, opacity) = if isolated_away {
        (false, 0.0)
    } else if settings.isolate_selection && is_selected {
        // An isolated structure is always shown solid, whatever its layer says.
        (true, 1.0)
    } else {
        let mut opacity = layer.effective_opacity_0_to_1();
        if faded {
            opacity = opacity.min(XRAY_OPACITY_0_TO_1);
        }
        (layer.visible && opacity > 0.0, opacity)
    };
    let highlight = if is_selected {
        Highlight::Selected
    } else if hovered == Some(structure) {
        Highlight::Hovered
    } else {
        Highlight::None
    };
    Appearance {
        visible,
        opacity_0_to_1: opacity,
        pickable: visible && opacity >= PICKABLE_MIN_OPACITY_0_TO_1,
        highlight,
    }
}

/// Each tagged entity's own material (so highlight and opacity are per structure).
#[derive(Component)]
pub struct OwnMaterial;

pub(super) fn plugin(app: &mut App) {
    app.init_resource::<LayerSettings>()
        .init_resource::<FadedStructures>()
        .init_resource::<ShownNerveVariant>()
        .add_systems(
            Update,
            (
                give_own_material,
                apply_appearance,
                apply_morph_weights,
                apply_morph_target_weights,
            )
                .chain()
                .in_set(super::ViewerSystems::Present),
        );
}

/// Replaces the glTF material of each newly tagged entity with its own atlas-coloured one.
fn give_own_material(
    mut commands: Commands,
    new: Query<(Entity, &StructureTag), Without<OwnMaterial>>,
    materials: Option<ResMut<Assets<StandardMaterial>>>,
) {
    let Some(mut materials) = materials else {
        for (entity, _) in &new {
            commands.entity(entity).insert(OwnMaterial);
        }
        return;
    };
    for (entity, tag) in &new {
        let handle = materials.add(look::base_material(tag.0));
        commands
            .entity(entity)
            .insert((OwnMaterial, MeshMaterial3d(handle)));
    }
}

/// Applies [`appearance`] to every tagged entity: visibility, pickability and material. The
/// only writer of the structures' materials.
fn apply_appearance(
    settings: Res<LayerSettings>,
    selection: Res<Selection>,
    faded: Res<FadedStructures>,
    variant: Res<ShownNerveVariant>,
    mut commands: Commands,
    mut entities: Query<(
        Entity,
        &StructureTag,
        Option<&mut Visibility>,
        Option<&MeshMaterial3d<StandardMaterial>>,
        Option<&Pickable>,
        Option<&Tint>,
        Option<&NerveVariantTag>,
    )>,
    added: Query<(), Added<OwnMaterial>>,
    tinted: Query<(), Changed<Tint>>,
    mut removed_tints: RemovedComponents<Tint>,
    materials: Option<ResMut<Assets<StandardMaterial>>>,
) {
    let tints_removed = removed_tints.read().count() > 0;
    if !settings.is_changed()
        && !selection.is_changed()
        && !faded.is_changed()
        && !variant.is_changed()
        && added.is_empty()
        && tinted.is_empty()
        && !tints_removed
    {
        return;
    }
    let mut materials = materials;
    for (entity, tag, visibility, material, pickable, tint, nerve_variant) in &mut entities {
        let mut look = appearance(
            tag.0,
            &settings,
            selection.selected,
            selection.hovered,
            faded.0.contains(&tag.0),
        );
        let is_nerve = tag.0.kind == crate::anatomy::StructureKind::SciaticNerve;
        if is_nerve && !variant_shown(nerve_variant.map(|v| v.0), variant.0) {
            look.visible = false;
            look.pickable = false;
        }
        let wanted_visibility = if look.visible {
            Visibility::Inherited
        } else {
            Visibility::Hidden
        };
        match visibility {
            Some(mut visibility) => {
                visibility.set_if_neq(wanted_visibility);
            }
            None => {
                commands.entity(entity).insert(wanted_visibility);
            }
        }
        let wanted_pickable = if look.pickable {
            Pickable::default()
        } else {
            Pickable::IGNORE
        };
        if pickable != Some(&wanted_pickable) {
            commands.entity(entity).insert(wanted_pickable);
        }
        if let (Some(materials), Some(material)) = (materials.as_mut(), material) {
            let wanted = look::styled_material(tag.0, look, tint);
            // Write only on change: every write re-uploads the material (0.19 `AssetMut`).
            if let Some(current) = materials.get(&material.0)
                && !look::same_style(current, &wanted)
                && let Some(mut current) = materials.get_mut(&material.0)
            {
                *current = wanted;
            }
        }
    }
}

/// Writes each structure's [`MorphWeight`] into the glTF node's `MorphWeights` (the mesh
/// entity refers to its node), only when it differs. The only writer of morph weights.
fn apply_morph_weights(
    wanted: Query<(&MorphWeight, &MeshMorphWeights), Changed<MorphWeight>>,
    mut weights: Query<&mut MorphWeights>,
) {
    for (weight, mesh_weights) in &wanted {
        let target = match mesh_weights {
            MeshMorphWeights::Reference(node) => *node,
            MeshMorphWeights::Value { .. } => continue,
        };
        let Ok(mut node_weights) = weights.get_mut(target) else {
            continue;
        };
        if node_weights.weights().first() != Some(&weight.0)
            && let Some(first) = node_weights.weights_mut().first_mut()
        {
            *first = weight.0;
        }
    }
}

/// Writes each structure's [`MorphTargetWeights`] into the glTF node's `MorphWeights`, only
/// where one differs. With [`apply_morph_weights`], the only writer of morph weights.
fn apply_morph_target_weights(
    wanted: Query<(&MorphTargetWeights, &MeshMorphWeights), Changed<MorphTargetWeights>>,
    mut weights: Query<&mut MorphWeights>,
) {
    for (wanted, mesh_weights) in &wanted {
        let MeshMorphWeights::Reference(node) = mesh_weights else {
            continue;
        };
        let Ok(mut node_weights) = weights.get_mut(*node) else {
            continue;
        };
        let count = wanted.0.len().min(node_weights.weights().len());
        if node_weights.weights()[..count] != wanted.0[..count] {
            node_weights.weights_mut()[..count].copy_from_slice(&wanted.0[..count]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anatomy::{Side, StructureKind};

    fn s(kind: StructureKind, side: Side) -> Structure {
        Structure { kind, side }
    }

    #[test]
    fn hiding_a_layer_hides_only_its_structures() {
        let mut settings = LayerSettings::default();
        settings.get_mut(Layer::Muscles).visible = false;
        for structure in Structure::all() {
            let look = appearance(structure, &settings, None, None, false);
            assert_eq!(
                look.visible,
                structure.layer() != Layer::Muscles,
                "{structure}"
            );
        }
    }

    #[test]
    fn isolate_shows_only_the_selection_solid() {
        let settings = LayerSettings {
            isolate_selection: true,
            ..LayerSettings::only(&[Layer::Bones])
        };
        let piri = s(StructureKind::Piriformis, Side::Left);
        for structure in Structure::all() {
            let look = appearance(structure, &settings, Some(piri), None, false);
            assert_eq!(look.visible, structure == piri);
        }
        let look = appearance(piri, &settings, Some(piri), None, false);
        assert_eq!(look.opacity_0_to_1, 1.0);
        assert_eq!(look.highlight, Highlight::Selected);
        // With nothing selected, isolate changes nothing.
        let bone = s(StructureKind::Sacrum, Side::Midline);
        assert!(appearance(bone, &settings, None, None, false).visible);
    }

    #[test]
    fn faint_layers_are_not_pickable() {
        let settings = LayerSettings::default();
        let skin = s(StructureKind::Skin, Side::Midline);
        let look = appearance(skin, &settings, None, None, false);
        assert!(look.visible && !look.pickable);
        let mut xray = LayerSettings::default();
        xray.get_mut(Layer::Muscles).xray = true;
        let glute = s(StructureKind::GluteusMaximus, Side::Right);
        let look = appearance(glute, &xray, None, Some(glute), false);
        assert_eq!(look.opacity_0_to_1, XRAY_OPACITY_0_TO_1);
        assert!(!look.pickable);
        assert_eq!(look.highlight, Highlight::Hovered);
    }

    #[test]
    fn a_faded_structure_is_drawn_faint_and_not_pickable() {
        let settings = LayerSettings::default();
        let glute = s(StructureKind::GluteusMaximus, Side::Right);
        let look = appearance(glute, &settings, None, None, true);
        assert!(look.visible);
        assert_eq!(look.opacity_0_to_1, XRAY_OPACITY_0_TO_1);
        assert!(!look.pickable);
        // A faded structure that is isolated is shown solid.
        let isolated = LayerSettings {
            isolate_selection: true,
            ..LayerSettings::default()
        };
        assert_eq!(
            appearance(glute, &isolated, Some(glute), None, true).opacity_0_to_1,
            1.0
        );
    }

    #[test]
    fn only_the_chosen_course_of_the_nerve_is_shown() {
        assert!(variant_shown(None, NerveVariant::A));
        assert!(!variant_shown(Some(NerveVariant::B), NerveVariant::A));
        assert!(variant_shown(Some(NerveVariant::B), NerveVariant::B));
        assert!(!variant_shown(None, NerveVariant::C));
    }

    #[test]
    fn layer_names_parse() {
        assert_eq!(parse_layer("Bones"), Some(Layer::Bones));
        assert_eq!(parse_layer("nerve"), Some(Layer::Nerves));
        assert_eq!(parse_layer("si"), Some(Layer::Joints));
        assert_eq!(parse_layer("liver"), None);
    }
}
