//! The atlas look: colours and materials per structure, lights that follow the camera, a neutral
//! background.

use bevy::prelude::*;

use super::layers::{Appearance, Highlight};
use crate::anatomy::{Layer, Structure, StructureKind};

/// Neutral background (dark warm grey, so ivory bone and red muscle both read).
pub const BACKGROUND: Color = Color::srgb(0.17, 0.18, 0.19);

/// Atlas colour (sRGB) of a structure.
pub fn atlas_colour(structure: Structure) -> Srgba {
    match structure.kind {
        // Bone: ivory.
        StructureKind::HipBone
        | StructureKind::Sacrum
        | StructureKind::Coccyx
        | StructureKind::VertebraT12
        | StructureKind::VertebraL1
        | StructureKind::VertebraL2
        | StructureKind::VertebraL3
        | StructureKind::VertebraL4
        | StructureKind::VertebraL5
        | StructureKind::Femur => Srgba::rgb(0.90, 0.86, 0.76),
        // Discs: the pale blue-white of fibrocartilage, so they stand apart from bone.
        StructureKind::DiscT12L1
        | StructureKind::DiscL1L2
        | StructureKind::DiscL2L3
        | StructureKind::DiscL3L4
        | StructureKind::DiscL4L5
        | StructureKind::DiscL5S1 => Srgba::rgb(0.72, 0.80, 0.90),
        // Muscles: atlas red, deep ones a little darker so neighbours separate.
        StructureKind::GluteusMaximus => Srgba::rgb(0.72, 0.20, 0.18),
        StructureKind::GluteusMedius => Srgba::rgb(0.78, 0.27, 0.22),
        StructureKind::GluteusMinimus => Srgba::rgb(0.66, 0.18, 0.17),
        StructureKind::Piriformis => Srgba::rgb(0.80, 0.30, 0.24),
        StructureKind::PsoasMajor => Srgba::rgb(0.70, 0.22, 0.20),
        StructureKind::Iliacus => Srgba::rgb(0.76, 0.26, 0.22),
        // Nerve: atlas yellow.
        StructureKind::SciaticNerve => Srgba::rgb(0.98, 0.82, 0.18),
        // Joint: cartilage blue.
        StructureKind::SacroiliacJoint => Srgba::rgb(0.45, 0.66, 0.90),
        // Skin: warm light tone.
        StructureKind::Skin => Srgba::rgb(0.96, 0.82, 0.72),
    }
}

/// Surface roughness per layer (bone matte, muscle slightly moist, nerve glossy sheath).
fn roughness(layer: Layer) -> f32 {
    match layer {
        Layer::Bones => 0.75,
        Layer::Discs => 0.45,
        Layer::Muscles => 0.55,
        Layer::Nerves => 0.35,
        Layer::Joints => 0.4,
        Layer::Skin => 0.6,
    }
}

/// A colour and glow that a capability (a scenario's tension, irritation, compression) asks
/// for on a structure, instead of its atlas colour. The material writer in `layers` is the
/// only system that turns it into a material.
#[derive(Component, Clone, Copy, Debug, PartialEq)]
pub struct Tint {
    /// Base colour (sRGB), replacing the atlas colour.
    pub colour: Srgba,
    /// Glow added to the highlight's.
    pub emissive: LinearRgba,
}

/// The weight a capability asks for on a structure's single morph target (`tense` on
/// muscles, `compressed` on nerves). The morph writer in `layers` applies it.
#[derive(Component, Clone, Copy, Debug, PartialEq)]
pub struct MorphWeight(pub f32);

/// The weights a capability asks for on all of a structure's morph targets, in the mesh's
/// order (the skin's posture correctives). The morph writer in `layers` applies them.
#[derive(Component, Clone, Debug, PartialEq)]
pub struct MorphTargetWeights(pub Vec<f32>);

/// The material a structure starts with.
pub fn base_material(structure: Structure) -> StandardMaterial {
    styled_material(
        structure,
        Appearance {
            visible: true,
            opacity_0_to_1: 1.0,
            pickable: true,
            highlight: Highlight::None,
        },
        None,
    )
}

/// The material for a structure in a given appearance, with a capability's tint if any.
pub fn styled_material(
    structure: Structure,
    look: Appearance,
    tint: Option<&Tint>,
) -> StandardMaterial {
    let colour = tint.map_or_else(|| atlas_colour(structure), |t| t.colour);
    let opacity = look.opacity_0_to_1.clamp(0.0, 1.0);
    let highlight = match look.highlight {
        Highlight::None => LinearRgba::BLACK,
        Highlight::Hovered => LinearRgba::rgb(0.06, 0.06, 0.05),
        Highlight::Selected => LinearRgba::rgb(0.22, 0.17, 0.02),
    };
    let glow = tint.map_or(LinearRgba::BLACK, |t| t.emissive);
    let emissive = LinearRgba::rgb(
        highlight.red + glow.red,
        highlight.green + glow.green,
        highlight.blue + glow.blue,
    );
    let translucent = opacity < 0.999;
    // Only the thin joint patch is drawn from both sides; closed surfaces cull their back
    // faces, which also keeps translucent layers free of sorting bands.
    let two_sided = structure.layer() == Layer::Joints;
    // The skin is lit like everything else, so the faint layer still shows the body's
    // form (buttocks, flanks, thighs); its back faces are culled, so from inside the body
    // it disappears instead of veiling the view.
    let unlit = false;
    StandardMaterial {
        base_color: Color::Srgba(colour.with_alpha(opacity)),
        perceptual_roughness: roughness(structure.layer()),
        reflectance: 0.35,
        emissive,
        unlit,
        alpha_mode: if translucent {
            AlphaMode::Blend
        } else {
            AlphaMode::Opaque
        },
        double_sided: two_sided,
        cull_mode: if two_sided {
            None
        } else {
            Some(bevy::render::render_resource::Face::Back)
        },
        ..default()
    }
}

/// Whether two materials look the same (the fields [`styled_material`] sets).
pub fn same_style(a: &StandardMaterial, b: &StandardMaterial) -> bool {
    a.base_color == b.base_color
        && a.emissive == b.emissive
        && a.alpha_mode == b.alpha_mode
        && a.double_sided == b.double_sided
        && a.cull_mode == b.cull_mode
        && a.perceptual_roughness == b.perceptual_roughness
        && a.unlit == b.unlit
}

/// Marks the lights that ride along with the camera.
#[derive(Component)]
pub struct CameraLight;

/// Lights as children of the camera, so the shape reads from every view: a soft key light from
/// the upper left, a weaker fill from the right, and a rim from behind.
pub fn spawn_camera_lights(commands: &mut Commands, camera: Entity, shadows: bool) {
    let lights = [
        // (direction the light comes from in camera space, illuminance in lux, shadows)
        (Vec3::new(-0.6, 0.8, 0.6), 3_000.0, shadows),
        (Vec3::new(0.8, 0.1, 0.5), 900.0, false),
        (Vec3::new(0.0, 0.5, -1.0), 700.0, false),
    ];
    for (from, lux, shadows_enabled) in lights {
        let transform = Transform::from_translation(from).looking_at(Vec3::ZERO, Vec3::Y);
        let light = commands
            .spawn((
                CameraLight,
                DirectionalLight {
                    illuminance: lux,
                    shadow_maps_enabled: shadows_enabled,
                    color: Color::srgb(1.0, 0.98, 0.95),
                    ..default()
                },
                transform,
            ))
            .id();
        commands.entity(camera).add_child(light);
    }
}

/// Soft ambient light for a camera.
pub fn ambient() -> AmbientLight {
    AmbientLight {
        color: Color::srgb(0.85, 0.88, 0.95),
        brightness: 220.0,
        affects_lightmapped_meshes: true,
    }
}
