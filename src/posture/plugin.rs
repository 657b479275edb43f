//! The posture in the app: presets and sliders become a target posture, the shown posture
//! eases toward it, the model's rig joints (pelvis, lumbar vertebrae, femurs) are set from it
//! (muscles, nerves and skin follow through skinning), and the lengths are measured again.
//! The maths is in [`super::kinematics`] and [`super::muscle_length`].

use std::collections::HashMap;
use std::sync::Arc;

use bevy::mesh::skinning::SkinnedMesh;
use bevy::prelude::*;

use super::PostureModel;
use super::correctives;
use super::kinematics::{Posture, PostureId, RigJoint};
use super::muscle_length::Lengths;
use crate::anatomy::StructureKind;
use crate::scenario::state::smootherstep;
use crate::viewer::actions::Action;
use crate::viewer::look::MorphTargetWeights;
use crate::viewer::model::{ModelState, StructureTag};
use crate::viewer::{ViewerSystems, WaitingFor};

/// How long a change of preset takes.
pub const SWITCH_DURATION_S: f32 = 1.2;

/// What the posture plugin puts in [`WaitingFor`] until the rig shows the posture.
const WAITING_LABEL: &str = "posture";

/// The posture systems (inside [`ViewerSystems::Simulate`]); the scenario's shown state is
/// computed after them, so it sees this frame's lengths.
#[derive(SystemSet, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PostureSystems;

/// How an app starts the posture.
#[derive(Resource, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PostureOptions {
    /// A posture fixed on the command line (scenarios then do not change it).
    pub start: Option<PostureId>,
    /// Show postures at once, without easing (screenshots, recordings).
    pub settled: bool,
}

/// The posture data and paths, or why they could not be read.
#[derive(Resource, Clone, Debug, Default)]
pub struct Postures {
    /// The model.
    pub model: Option<Arc<PostureModel>>,
    /// What went wrong reading it.
    pub error: Option<String>,
}

/// Something the panel, the keys or a scenario asks of the posture.
#[derive(Message, Clone, Copy, Debug, PartialEq)]
pub enum PostureCommand {
    /// Ease to a preset.
    Select(PostureId),
    /// The active scenario names this posture, or none (back to standing if the last one
    /// came from a scenario). Ignored while the command line fixes the posture.
    FromScenario(Option<PostureId>),
    /// Follow the sliders: set at once.
    Set(Posture),
}

/// Where the posture is going and where it came from.
#[derive(Resource, Clone, Debug, PartialEq)]
pub struct PostureState {
    /// The posture eased toward.
    pub target: Posture,
    /// The preset it is, if any.
    pub preset: Option<PostureId>,
    /// What was shown when the change began.
    pub from: Posture,
    /// When it began, seconds.
    pub started_s: f64,
    /// How long it takes.
    pub duration_s: f32,
    /// The target came from a scenario.
    pub from_scenario: bool,
    /// Fixed on the command line.
    pub pinned: bool,
}

impl PostureState {
    /// Settled at `target` from `started_s` on: nothing left to ease, not from a scenario, not
    /// pinned.
    pub fn settled(target: Posture, preset: Option<PostureId>, started_s: f64) -> Self {
        Self {
            target,
            preset,
            from: target,
            started_s,
            duration_s: 0.0,
            from_scenario: false,
            pinned: false,
        }
    }
}

/// The posture shown this frame and every length in it.
#[derive(Resource, Clone, Debug, Default, PartialEq)]
pub struct ShownPosture {
    /// The angles (within the limits).
    pub posture: Posture,
    /// The lengths.
    pub lengths: Lengths,
}

/// The model's rig joints and their rest positions.
#[derive(Resource, Debug, Default)]
struct PostureRig {
    joints: Vec<(RigJoint, Entity)>,
    rest_m: HashMap<RigJoint, Vec3>,
    posed: Option<Posture>,
}

/// The posture plugin without any UI (tests add it to a renderer-less app).
pub fn plugin(app: &mut App) {
    let options = app
        .world()
        .get_resource::<PostureOptions>()
        .copied()
        .unwrap_or_default();
    let postures = match PostureModel::load(&crate::viewer::assets_dir()) {
        Ok(model) => Postures {
            model: Some(Arc::new(model)),
            error: None,
        },
        Err(e) => {
            error!("{e}");
            Postures {
                model: None,
                error: Some(e.to_string()),
            }
        }
    };
    let start = options.start.unwrap_or(PostureId::Standing);
    let target = postures
        .model
        .as_ref()
        .map(|m| m.data.posture(start))
        .unwrap_or_default();
    let shown = Posture::default();
    let lengths = postures
        .model
        .as_ref()
        .map(|m| m.lengths(&shown))
        .unwrap_or_default();
    app.add_message::<PostureCommand>()
        .add_message::<Action>()
        .insert_resource(PostureState {
            target,
            preset: Some(start),
            from: if options.settled { target } else { shown },
            started_s: 0.0,
            duration_s: if options.settled {
                0.0
            } else {
                SWITCH_DURATION_S
            },
            from_scenario: false,
            pinned: options.start.is_some(),
        })
        .insert_resource(ShownPosture {
            posture: shown,
            lengths,
        })
        .insert_resource(postures)
        .insert_resource(options)
        .init_resource::<PostureRig>()
        .configure_sets(Update, PostureSystems.in_set(ViewerSystems::Simulate))
        .add_systems(Update, posture_actions.in_set(ViewerSystems::Input))
        .add_systems(
            Update,
            (apply_commands, ease_posture)
                .chain()
                .in_set(PostureSystems),
        )
        .add_systems(
            Update,
            (find_rig, pose_rig, weigh_skin_correctives)
                .chain()
                .in_set(ViewerSystems::Derive),
        );
    if let Some(mut waiting) = app.world_mut().get_resource_mut::<WaitingFor>() {
        waiting.0.insert(WAITING_LABEL);
    }
}

/// The key that steps through the presets.
fn posture_actions(
    mut actions: MessageReader<Action>,
    state: Res<PostureState>,
    mut commands: MessageWriter<PostureCommand>,
) {
    for action in actions.read() {
        if *action == Action::NextPosture {
            let next = state.preset.map_or(PostureId::Standing, PostureId::next);
            commands.write(PostureCommand::Select(next));
        }
    }
}

fn apply_commands(
    mut commands: MessageReader<PostureCommand>,
    mut state: ResMut<PostureState>,
    shown: Res<ShownPosture>,
    postures: Res<Postures>,
    options: Res<PostureOptions>,
    time: Res<Time>,
) {
    let Some(model) = postures.model.as_ref() else {
        commands.clear();
        return;
    };
    let duration_s = if options.settled {
        0.0
    } else {
        SWITCH_DURATION_S
    };
    for command in commands.read() {
        let (preset, from_scenario) = match *command {
            PostureCommand::Select(id) => (id, false),
            PostureCommand::FromScenario(named) => {
                if state.pinned || (named.is_none() && !state.from_scenario) {
                    continue;
                }
                (named.unwrap_or(PostureId::Standing), named.is_some())
            }
            PostureCommand::Set(posture) => {
                let posture = model.clamp(&posture);
                let preset = PostureId::ALL
                    .into_iter()
                    .find(|id| model.data.posture(*id) == posture);
                *state = PostureState::settled(posture, preset, time.elapsed_secs_f64());
                continue;
            }
        };
        let target = model.data.posture(preset);
        if state.target == target && state.preset == Some(preset) {
            state.from_scenario = from_scenario;
            continue;
        }
        *state = PostureState {
            target,
            preset: Some(preset),
            from: shown.posture,
            started_s: time.elapsed_secs_f64(),
            duration_s,
            from_scenario,
            pinned: state.pinned && from_scenario,
        };
    }
}

/// The posture shown now: eased from where the change began (smootherstep, so it never
/// jerks), and its lengths, written only when they change.
fn ease_posture(
    state: Res<PostureState>,
    postures: Res<Postures>,
    time: Res<Time>,
    mut shown: ResMut<ShownPosture>,
) {
    let Some(model) = postures.model.as_ref() else {
        return;
    };
    let progress = if state.duration_s <= 0.0 {
        1.0
    } else {
        smootherstep(
            ((time.elapsed_secs_f64() - state.started_s) / f64::from(state.duration_s)) as f32,
        )
    };
    let posture = model.clamp(&Posture::lerp(&state.from, &state.target, progress));
    if posture == shown.posture && !shown.lengths.muscles.is_empty() {
        return;
    }
    let lengths = model.lengths(&posture);
    *shown = ShownPosture { posture, lengths };
}

/// Finds the rig's joint nodes (the joints of the model's skin, by name) once the model is
/// in, and again if it was spawned anew.
fn find_rig(
    model: Res<ModelState>,
    mut rig: ResMut<PostureRig>,
    skins: Query<&SkinnedMesh>,
    nodes: Query<(&Name, &Transform)>,
) {
    if !matches!(*model, ModelState::Ready { .. }) {
        return;
    }
    let complete = !rig.joints.is_empty() && rig.joints.iter().all(|(_, e)| nodes.contains(*e));
    if complete {
        return;
    }
    let Some(skin) = skins.iter().next() else {
        return;
    };
    let mut joints = Vec::new();
    let mut local_m = HashMap::new();
    for joint in RigJoint::ALL {
        let found = skin.joints.iter().find_map(|e| {
            nodes
                .get(*e)
                .ok()
                .filter(|(name, _)| name.as_str() == joint.node_name())
                .map(|(_, t)| (*e, t.translation))
        });
        if let Some((entity, translation)) = found {
            joints.push((joint, entity));
            local_m.insert(joint, translation);
        }
    }
    // The hip helpers are optional: a model made before them still moves, with a straight
    // pelvis–thigh blend.
    let required = RigJoint::ALL.iter().filter(|j| !j.is_helper()).count();
    if joints.iter().filter(|(j, _)| !j.is_helper()).count() != required {
        return;
    }
    // Rest positions in the model: the rig's joints are pure translations at rest.
    let mut rest_m = HashMap::new();
    for joint in RigJoint::ALL {
        let parent = joint
            .parent()
            .and_then(|p| rest_m.get(&p).copied())
            .unwrap_or(Vec3::ZERO);
        rest_m.insert(
            joint,
            parent + local_m.get(&joint).copied().unwrap_or_default(),
        );
    }
    *rig = PostureRig {
        joints,
        rest_m,
        posed: None,
    };
}

/// Asks for the skin's posture correctives ([`correctives`]) for the shown posture, on the
/// skin's entity: when the posture changed or the skin is new.
fn weigh_skin_correctives(
    mut commands: Commands,
    shown: Res<ShownPosture>,
    postures: Res<Postures>,
    mut skins: Query<(Entity, &StructureTag, Option<&mut MorphTargetWeights>)>,
    new: Query<(), Added<StructureTag>>,
) {
    let Some(model) = postures.model.as_ref() else {
        return;
    };
    if !shown.is_changed() && new.is_empty() {
        return;
    }
    let presets = correctives::PRESETS.map(|id| model.clamp(&model.data.posture(id)));
    let wanted =
        MorphTargetWeights(correctives::weights(&model.clamp(&shown.posture), &presets).to_vec());
    for (entity, tag, current) in &mut skins {
        if tag.0.kind != StructureKind::Skin {
            continue;
        }
        match current {
            Some(mut current) => {
                current.set_if_neq(wanted.clone());
            }
            None => {
                commands.entity(entity).insert(wanted.clone());
            }
        }
    }
}

/// Sets the joint nodes' transforms for the shown posture, only when it changed.
fn pose_rig(
    shown: Res<ShownPosture>,
    state: Res<PostureState>,
    postures: Res<Postures>,
    mut rig: ResMut<PostureRig>,
    mut transforms: Query<&mut Transform>,
    waiting: Option<ResMut<WaitingFor>>,
) {
    let Some(model) = postures.model.as_ref() else {
        // Without posture data the model stays standing; nothing to wait for.
        if let Some(mut waiting) = waiting {
            waiting.0.remove(WAITING_LABEL);
        }
        return;
    };
    if rig.joints.is_empty() {
        return;
    }
    if rig.posed != Some(shown.posture) {
        let pose = model.pose(&shown.posture);
        let rest = |j: RigJoint| rig.rest_m.get(&j).copied().unwrap_or_default();
        for (joint, entity) in &rig.joints {
            let local = pose.local_transform(*joint, rest);
            if let Ok(mut transform) = transforms.get_mut(*entity) {
                transform.set_if_neq(Transform::from_matrix(Mat4::from(local)));
            }
        }
        rig.posed = Some(shown.posture);
    }
    let settled = model.clamp(&state.target) == shown.posture;
    if let Some(mut waiting) = waiting
        && settled
        && waiting.0.contains(WAITING_LABEL)
    {
        waiting.0.remove(WAITING_LABEL);
    }
}
