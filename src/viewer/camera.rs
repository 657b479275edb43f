//! The camera: view presets and framing (pure), the orbit camera with its limits, the egui guard
//! and the camera commands (preset, focus on selection, reset).

use bevy::camera::primitives::Aabb;
use bevy::prelude::*;
use bevy_panorbit_camera::{FocusBoundsShape, PanOrbitCamera, PanOrbitCameraSystemSet};

use super::model::StructureTag;
use super::picking::Selection;

/// A named view of the pelvis. Model frame: the subject faces +Z, the subject's left is +X
/// ([`crate::anatomy::Side::gltf_x_sign`]), up is +Y.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum ViewPreset {
    /// From the front.
    Anterior,
    /// From behind.
    Posterior,
    /// From the subject's left.
    Left,
    /// From the subject's right.
    Right,
    /// From above.
    Superior,
    /// From behind and to the subject's right, a little above: the hip-to-back view.
    Oblique,
}

impl ViewPreset {
    /// Every preset, in button order.
    pub const ALL: [ViewPreset; 6] = [
        ViewPreset::Anterior,
        ViewPreset::Posterior,
        ViewPreset::Left,
        ViewPreset::Right,
        ViewPreset::Superior,
        ViewPreset::Oblique,
    ];

    /// Button label.
    pub fn label(self) -> &'static str {
        match self {
            ViewPreset::Anterior => "Anterior",
            ViewPreset::Posterior => "Posterior",
            ViewPreset::Left => "Left",
            ViewPreset::Right => "Right",
            ViewPreset::Superior => "Superior",
            ViewPreset::Oblique => "Oblique",
        }
    }

    /// Where the camera stands, in words (tooltips).
    pub fn description(self) -> &'static str {
        match self {
            ViewPreset::Anterior => "From the front",
            ViewPreset::Posterior => "From behind",
            ViewPreset::Left => "From the subject's left side",
            ViewPreset::Right => "From the subject's right side",
            ViewPreset::Superior => "From above",
            ViewPreset::Oblique => "From behind, to the subject's right and a little above",
        }
    }

    /// Orbit angles (yaw about +Y, pitch above the horizon), radians, in the orbit camera's
    /// convention: yaw 0, pitch 0 looks from +Z, i.e. at the subject's front, and a positive
    /// yaw swings the camera toward +X, the subject's left.
    pub fn yaw_pitch_rad(self) -> (f32, f32) {
        use std::f32::consts::{FRAC_PI_2, PI};
        match self {
            ViewPreset::Anterior => (0.0, 0.0),
            ViewPreset::Posterior => (PI, 0.0),
            ViewPreset::Left => (FRAC_PI_2, 0.0),
            ViewPreset::Right => (-FRAC_PI_2, 0.0),
            ViewPreset::Superior => (0.0, 1.5),
            // Behind (−Z) and to the subject's right (−X).
            ViewPreset::Oblique => (-0.75 * PI, 0.35),
        }
    }
}

/// Where the camera looks and from how far.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Framing {
    /// The point orbited, metres.
    pub focus: Vec3,
    /// Distance from the focus, metres.
    pub radius_m: f32,
}

/// Centre of the pelvis in the model frame (origin between the ASIS; the pelvis spans
/// y −0.14…+0.12 m and z −0.14…0 m), a little low to include the hips.
pub const PELVIS_FOCUS: Vec3 = Vec3::new(0.0, -0.03, -0.06);
/// Default distance: the pelvis and upper thighs fill the view.
pub const DEFAULT_RADIUS_M: f32 = 0.85;
/// Vertical field of view, radians.
pub const FOV_Y_RAD: f32 = std::f32::consts::FRAC_PI_4 * 0.9;
/// Closest zoom, metres.
pub const ZOOM_MIN_M: f32 = 0.12;
/// Farthest zoom, metres (the whole body still fills a good part of the view).
pub const ZOOM_MAX_M: f32 = 3.0;
/// The focus stays within this distance of [`PELVIS_FOCUS`], so panning never loses the model.
pub const FOCUS_BOUND_RADIUS_M: f32 = 0.6;

impl Default for Framing {
    fn default() -> Self {
        Self {
            focus: PELVIS_FOCUS,
            radius_m: DEFAULT_RADIUS_M,
        }
    }
}

/// The camera transform for a preset, in the orbit camera's convention.
pub fn preset_transform(preset: ViewPreset, framing: Framing) -> Transform {
    let (yaw, pitch) = preset.yaw_pitch_rad();
    let rotation = Quat::from_rotation_y(yaw) * Quat::from_rotation_x(-pitch);
    Transform {
        translation: framing.focus + rotation * Vec3::new(0.0, 0.0, framing.radius_m),
        rotation,
        scale: Vec3::ONE,
    }
}

/// Perspective projection used by every camera of the app.
pub fn projection() -> PerspectiveProjection {
    PerspectiveProjection {
        fov: FOV_Y_RAD,
        near: 0.01,
        far: 20.0,
        ..default()
    }
}

/// Framing that shows a box (min, max corners) comfortably.
pub fn framing_for_box(min: Vec3, max: Vec3) -> Framing {
    let centre = (min + max) * 0.5;
    let half_diagonal_m = ((max - min) * 0.5).length();
    let radius_m = (half_diagonal_m / (FOV_Y_RAD * 0.5).tan() * 1.3).clamp(0.25, ZOOM_MAX_M);
    Framing {
        focus: centre,
        radius_m,
    }
}

/// A request to move the camera.
#[derive(Message, Clone, Copy, Debug, PartialEq)]
pub enum CameraCommand {
    /// Go to a preset view.
    Preset(ViewPreset),
    /// Centre on the selected structure.
    FocusSelection,
    /// Back to the start view.
    Reset,
}

/// The main 3D camera.
#[derive(Component)]
pub struct MainCamera;

/// The view the app starts with (and resets to).
#[derive(Resource, Clone, Copy, Debug)]
pub struct StartView(pub ViewPreset);

/// An orbit camera with sensible limits, starting at `preset`.
pub fn orbit_camera(preset: ViewPreset) -> PanOrbitCamera {
    let (yaw, pitch) = preset.yaw_pitch_rad();
    let framing = Framing::default();
    PanOrbitCamera {
        focus: framing.focus,
        target_focus: framing.focus,
        yaw: Some(yaw),
        target_yaw: yaw,
        pitch: Some(pitch),
        target_pitch: pitch,
        radius: Some(framing.radius_m),
        target_radius: framing.radius_m,
        zoom_lower_limit: ZOOM_MIN_M,
        zoom_upper_limit: Some(ZOOM_MAX_M),
        pitch_upper_limit: Some(1.55),
        pitch_lower_limit: Some(-1.55),
        focus_bounds_origin: PELVIS_FOCUS,
        focus_bounds_shape: Some(FocusBoundsShape::Sphere(Sphere::new(FOCUS_BOUND_RADIUS_M))),
        zoom_sensitivity: 0.6,
        ..default()
    }
}

/// Camera commands for any app (window or not); the orbit parts only act on orbit cameras.
pub(super) fn plugin(app: &mut App) {
    app.add_message::<CameraCommand>().add_systems(
        Update,
        apply_camera_commands.after(super::ViewerSystems::Input),
    );
}

/// Orbit controls and the egui guard (window app only).
pub fn orbit_plugin(app: &mut App) {
    app.add_plugins(bevy_panorbit_camera::PanOrbitCameraPlugin)
        .add_systems(
            PostUpdate,
            egui_guard
                .after(bevy_egui::EguiPostUpdateSet::ProcessOutput)
                .before(PanOrbitCameraSystemSet),
        );
}

/// Moves orbit cameras toward the requested view (they ease there).
fn apply_camera_commands(
    mut commands: MessageReader<CameraCommand>,
    mut cameras: Query<&mut PanOrbitCamera>,
    start: Option<Res<StartView>>,
    selection: Res<Selection>,
    structures: Query<(&StructureTag, &GlobalTransform, &Aabb)>,
) {
    for command in commands.read() {
        let target = match *command {
            CameraCommand::Preset(preset) => Some((preset.yaw_pitch_rad(), Framing::default())),
            CameraCommand::Reset => {
                let preset = start.as_ref().map_or(ViewPreset::Posterior, |s| s.0);
                Some((preset.yaw_pitch_rad(), Framing::default()))
            }
            CameraCommand::FocusSelection => {
                selected_box(&selection, &structures).map(|(min, max)| {
                    let framing = framing_for_box(min, max);
                    (current_angles(&cameras), framing)
                })
            }
        };
        let Some(((yaw, pitch), framing)) = target else {
            continue;
        };
        for mut camera in &mut cameras {
            camera.target_yaw = yaw;
            camera.target_pitch = pitch;
            camera.target_focus = framing.focus;
            camera.target_radius = framing.radius_m;
        }
    }
}

fn current_angles(cameras: &Query<&mut PanOrbitCamera>) -> (f32, f32) {
    cameras
        .iter()
        .next()
        .map_or((0.0, 0.0), |c| (c.target_yaw, c.target_pitch))
}

/// World-space box around the selected structure's meshes.
fn selected_box(
    selection: &Selection,
    structures: &Query<(&StructureTag, &GlobalTransform, &Aabb)>,
) -> Option<(Vec3, Vec3)> {
    let selected = selection.selected?;
    let mut bounds: Option<(Vec3, Vec3)> = None;
    for (tag, transform, aabb) in structures {
        if tag.0 != selected {
            continue;
        }
        let centre = Vec3::from(aabb.center);
        let half = Vec3::from(aabb.half_extents);
        for corner in 0..8 {
            let sign = Vec3::new(
                if corner & 1 == 0 { -1.0 } else { 1.0 },
                if corner & 2 == 0 { -1.0 } else { 1.0 },
                if corner & 4 == 0 { -1.0 } else { 1.0 },
            );
            let point = transform.transform_point(centre + half * sign);
            bounds = Some(match bounds {
                None => (point, point),
                Some((min, max)) => (min.min(point), max.max(point)),
            });
        }
    }
    bounds
}

/// Whether egui owns the pointer this frame (so the orbit camera must ignore it), and the drag
/// owner to remember: a drag keeps the owner it started with, so orbiting across the panel
/// edge does not stall and dragging a slider into the 3D view does not orbit. Without a
/// button held (hover, scroll), egui owns the pointer whenever it is over the panel.
pub fn pointer_owner(
    button_pressed: bool,
    drag_started_over_egui: Option<bool>,
    egui_wants_pointer: bool,
) -> (bool, Option<bool>) {
    let drag = button_pressed.then(|| drag_started_over_egui.unwrap_or(egui_wants_pointer));
    (drag.unwrap_or(egui_wants_pointer), drag)
}

/// Stops the orbit camera from reacting to drags and scrolls that belong to the egui panel
/// (panorbit's own egui feature targets an older `bevy_egui`).
fn egui_guard(
    wants: Res<bevy_egui::input::EguiWantsInput>,
    mouse: Res<ButtonInput<MouseButton>>,
    mut drag_started_over_egui: Local<Option<bool>>,
    mut cameras: Query<&mut PanOrbitCamera>,
) {
    let pressed = mouse.get_pressed().next().is_some();
    let (egui_owns_pointer, drag) = pointer_owner(
        pressed,
        *drag_started_over_egui,
        wants.wants_any_pointer_input(),
    );
    *drag_started_over_egui = drag;
    for mut camera in &mut cameras {
        if camera.enabled == egui_owns_pointer {
            camera.enabled = !egui_owns_pointer;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_look_from_the_named_side() {
        let framing = Framing {
            focus: Vec3::ZERO,
            radius_m: 1.0,
        };
        let position = |p| preset_transform(p, framing).translation;
        // The sides come from the shared vocabulary, not from this module: the subject faces
        // +Z and their left is where `Side::Left` says (the model test checks that
        // `hip_bone_l` really lies there).
        use crate::anatomy::Side;
        let front = Vec3::Z;
        let left = Vec3::X * Side::Left.gltf_x_sign();
        let right = Vec3::X * Side::Right.gltf_x_sign();
        assert!(position(ViewPreset::Anterior).dot(front) > 0.99);
        assert!(position(ViewPreset::Posterior).dot(-front) > 0.99);
        assert!(position(ViewPreset::Left).dot(left) > 0.99);
        assert!(position(ViewPreset::Right).dot(right) > 0.99);
        assert!(position(ViewPreset::Superior).y > 0.99);
        let oblique = position(ViewPreset::Oblique);
        assert!(oblique.dot(-front) > 0.3 && oblique.dot(right) > 0.3 && oblique.y > 0.0);
        // Every preset looks at the focus.
        for preset in ViewPreset::ALL {
            let t = preset_transform(preset, framing);
            let forward = t.forward().as_vec3();
            assert!(
                forward.dot(-t.translation.normalize()) > 0.999,
                "{preset:?}"
            );
        }
    }

    #[test]
    fn a_drag_keeps_the_owner_it_started_with() {
        // Hovering or scrolling over the panel: egui owns the pointer.
        assert_eq!(pointer_owner(false, None, true), (true, None));
        assert_eq!(pointer_owner(false, None, false), (false, None));
        // A drag that starts on the panel stays egui's when it moves over the 3D view.
        let (owned, drag) = pointer_owner(true, None, true);
        assert!(owned);
        assert_eq!(pointer_owner(true, drag, false), (true, Some(true)));
        // An orbit that starts in the 3D view keeps orbiting over the panel.
        let (owned, drag) = pointer_owner(true, None, false);
        assert!(!owned);
        assert_eq!(pointer_owner(true, drag, true), (false, Some(false)));
        // Releasing the button ends the drag.
        assert_eq!(pointer_owner(false, drag, true), (true, None));
    }

    #[test]
    fn framing_a_box_keeps_it_in_view() {
        let framing = framing_for_box(Vec3::new(-0.1, -0.1, -0.1), Vec3::new(0.1, 0.1, 0.1));
        assert_eq!(framing.focus, Vec3::ZERO);
        let half_height_at_focus = framing.radius_m * (FOV_Y_RAD * 0.5).tan();
        assert!(half_height_at_focus > 0.17);
        assert!(framing.radius_m <= ZOOM_MAX_M);
    }
}
