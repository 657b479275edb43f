//! The scenario state as plain numbers: levels per structure, the load a weak muscle shifts
//! to the muscles that compensate, easing between states and relief timelines. Pure: no ECS;
//! the Bevy side only reads the result.

use serde::Serialize;

use super::file::{Relief, StructureLevels};
use crate::anatomy::{Layer, Structure, StructureKind};

/// One structure's levels, each 0–1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct StructureState {
    /// Muscle tension.
    #[serde(rename = "tension")]
    pub tension_0_to_1: f32,
    /// Muscle weakness.
    #[serde(rename = "weakness")]
    pub weakness_0_to_1: f32,
    /// Nerve compression.
    #[serde(rename = "compression")]
    pub compression_0_to_1: f32,
    /// SI joint irritation.
    #[serde(rename = "irritation")]
    pub irritation_0_to_1: f32,
}

impl StructureState {
    fn map2(self, other: Self, f: impl Fn(f32, f32) -> f32) -> Self {
        Self {
            tension_0_to_1: f(self.tension_0_to_1, other.tension_0_to_1),
            weakness_0_to_1: f(self.weakness_0_to_1, other.weakness_0_to_1),
            compression_0_to_1: f(self.compression_0_to_1, other.compression_0_to_1),
            irritation_0_to_1: f(self.irritation_0_to_1, other.irritation_0_to_1),
        }
    }

    /// Every level, in field order.
    pub fn values(self) -> [f32; 4] {
        [
            self.tension_0_to_1,
            self.weakness_0_to_1,
            self.compression_0_to_1,
            self.irritation_0_to_1,
        ]
    }
}

/// The levels of every structure of the model, in [`Structure::all`] order.
#[derive(Clone, Debug, PartialEq)]
pub struct BodyState {
    structures: Vec<Structure>,
    levels: Vec<StructureState>,
}

impl Default for BodyState {
    fn default() -> Self {
        let structures = Structure::all();
        let levels = vec![StructureState::default(); structures.len()];
        Self { structures, levels }
    }
}

impl BodyState {
    /// Everything relaxed: the healthy baseline.
    pub fn relaxed() -> Self {
        Self::default()
    }

    /// The levels a scenario file states (unlisted structures are relaxed).
    pub fn from_levels(levels: &StructureLevels) -> Self {
        let mut state = Self::default();
        for (structure, l) in &levels.0 {
            *state.get_mut(*structure) = StructureState {
                tension_0_to_1: l.tension.get(),
                weakness_0_to_1: l.weakness.get(),
                compression_0_to_1: l.compression.get(),
                irritation_0_to_1: l.irritation.get(),
            };
        }
        state
    }

    fn index(&self, structure: Structure) -> usize {
        self.structures
            .iter()
            .position(|s| *s == structure)
            .unwrap_or(0)
    }

    /// One structure's levels.
    pub fn get(&self, structure: Structure) -> StructureState {
        self.levels[self.index(structure)]
    }

    /// One structure's levels, to change.
    pub fn get_mut(&mut self, structure: Structure) -> &mut StructureState {
        let i = self.index(structure);
        &mut self.levels[i]
    }

    /// Every structure with its levels.
    pub fn iter(&self) -> impl Iterator<Item = (Structure, StructureState)> + '_ {
        self.structures
            .iter()
            .copied()
            .zip(self.levels.iter().copied())
    }

    /// `a` + (`b` − `a`)·`t` for every level; with `t` in 0–1 the result stays between the two.
    pub fn lerp(a: &BodyState, b: &BodyState, t: f32) -> BodyState {
        let t = t.clamp(0.0, 1.0);
        BodyState {
            structures: a.structures.clone(),
            levels: a
                .levels
                .iter()
                .zip(&b.levels)
                .map(|(x, y)| x.map2(*y, |p, q| p + (q - p) * t))
                .collect(),
        }
    }

    /// The largest difference of any level between two states.
    pub fn max_difference(&self, other: &BodyState) -> f32 {
        self.levels
            .iter()
            .zip(&other.levels)
            .flat_map(|(a, b)| {
                a.values()
                    .into_iter()
                    .zip(b.values())
                    .map(|(x, y)| (x - y).abs())
            })
            .fold(0.0, f32::max)
    }

    /// Every level clamped to 0–1 (a guard for states built from sliders or sums).
    pub fn clamped(mut self) -> BodyState {
        for l in &mut self.levels {
            *l = l.map2(*l, |v, _| if v.is_nan() { 0.0 } else { v.clamp(0.0, 1.0) });
        }
        self
    }
}

/// A muscle that takes over part of a weak muscle's load on the same side.
#[derive(Clone, Debug, PartialEq)]
pub struct Compensation {
    /// The weak muscle.
    pub weak: StructureKind,
    /// Each muscle that takes over, with the share of the weakness added to its tension.
    pub takes_over: Vec<(StructureKind, f32)>,
}

/// The state as shown: each muscle's tension rises by the weakness of the muscles it
/// compensates for (times its share), on the same side; the result is clamped to 0–1.
pub fn with_compensation(base: &BodyState, rules: &[Compensation]) -> BodyState {
    let mut out = base.clone();
    for (structure, levels) in base.iter() {
        if levels.weakness_0_to_1 <= 0.0 {
            continue;
        }
        for rule in rules.iter().filter(|r| r.weak == structure.kind) {
            for (kind, share) in &rule.takes_over {
                let helper = Structure {
                    kind: *kind,
                    side: structure.side,
                };
                let h = out.get_mut(helper);
                h.tension_0_to_1 =
                    (h.tension_0_to_1 + levels.weakness_0_to_1 * share).clamp(0.0, 1.0);
            }
        }
    }
    out
}

/// The illustrative stretch rule: a tight muscle that a posture stretches shows more tension,
/// and a nerve that runs under it more compression; one it shortens, less. Parameters are
/// design defaults from `assets/data/stretch_rule.ron`.
#[derive(Clone, Debug, PartialEq)]
pub struct StretchRule {
    /// The length change (per cent) at which the effect is full.
    pub full_stretch_pct: f32,
    /// At a full stretch, the share of its own tension a tight muscle gains.
    pub tension_gain: f32,
    /// At a full stretch, the share of the muscle's tension added to the nerve's compression.
    pub compression_gain: f32,
    /// Muscles and the nerves that run under them, on the same side.
    pub nerves_under: Vec<(StructureKind, StructureKind)>,
}

/// The state with the stretch rule applied: with `s` a muscle's length change against standing
/// over the full stretch (held to −1…1) and `t` its tension, the tension becomes
/// `t + t·tension_gain·s` and the compression of each nerve under it rises by
/// `t·compression_gain·s` (less when `s` < 0), every level held to 0–1. A relaxed muscle
/// (`t` = 0) changes nothing.
pub fn with_stretch(
    state: &BodyState,
    stretch_pct: impl Fn(Structure) -> f32,
    rule: &StretchRule,
) -> BodyState {
    let mut out = state.clone();
    for (structure, levels) in state.iter() {
        let t = levels.tension_0_to_1;
        if structure.layer() != Layer::Muscles || t <= 0.0 {
            continue;
        }
        let s = (stretch_pct(structure) / rule.full_stretch_pct).clamp(-1.0, 1.0);
        if s.is_nan() {
            continue;
        }
        let m = out.get_mut(structure);
        m.tension_0_to_1 = (t + t * rule.tension_gain * s).clamp(0.0, 1.0);
        for (_, nerve) in rule
            .nerves_under
            .iter()
            .filter(|(m, _)| *m == structure.kind)
        {
            let n = out.get_mut(Structure {
                kind: *nerve,
                side: structure.side,
            });
            n.compression_0_to_1 =
                (n.compression_0_to_1 + t * rule.compression_gain * s).clamp(0.0, 1.0);
        }
    }
    out
}

/// 6x⁵ − 15x⁴ + 10x³ on 0–1: starts and ends with zero speed and acceleration, so a value
/// eased with it never pops.
pub fn smootherstep(x: f32) -> f32 {
    let x = x.clamp(0.0, 1.0);
    x * x * x * (x * (x * 6.0 - 15.0) + 10.0)
}

/// How long switching scenario takes.
pub const SWITCH_DURATION_S: f32 = 0.8;

/// An ease from the state shown when the switch began toward a (possibly moving) target.
#[derive(Clone, Debug, PartialEq)]
pub struct Transition {
    /// What was shown when the switch began.
    pub from: BodyState,
    /// When it began, seconds on the scenario clock.
    pub started_s: f64,
    /// How long it takes.
    pub duration_s: f32,
}

impl Transition {
    /// Progress 0–1 at `now_s`.
    pub fn progress(&self, now_s: f64) -> f32 {
        if self.duration_s <= 0.0 {
            return 1.0;
        }
        smootherstep(((now_s - self.started_s) / f64::from(self.duration_s)) as f32)
    }

    /// The state shown at `now_s` while easing toward `target`.
    pub fn shown(&self, target: &BodyState, now_s: f64) -> BodyState {
        BodyState::lerp(&self.from, target, self.progress(now_s))
    }

    /// Whether the ease is over.
    pub fn done(&self, now_s: f64) -> bool {
        now_s - self.started_s >= f64::from(self.duration_s)
    }
}

/// The relief timeline's phase at `t_s`: how far the tissue has let go (0–1) and how hard
/// the tool presses (0–1).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ReliefPhase {
    /// 0 = the problem state, 1 = the scenario's end levels.
    pub released_0_to_1: f32,
    /// 0 = the tool is away, 1 = pressing fully.
    pub pressure_0_to_1: f32,
}

/// Where a relief timeline stands at `t_s` seconds: the tool moves in and presses over
/// `press_s`; the tissue lets go over `release_s` while it presses; over `settle_s` the tool
/// lifts and the state holds.
pub fn relief_phase(relief: &Relief, t_s: f32) -> ReliefPhase {
    let press = relief.press_s.get();
    let release = relief.release_s.get();
    let settle = relief.settle_s.get();
    let t = t_s.clamp(0.0, relief.duration_s());
    let ramp = |x: f32, span: f32| {
        if span <= 0.0 {
            1.0
        } else {
            smootherstep(x / span)
        }
    };
    let released = if t <= press {
        0.0
    } else {
        ramp(t - press, release)
    };
    let pressure = if t <= press {
        ramp(t, press)
    } else if t <= press + release {
        1.0
    } else {
        1.0 - ramp(t - press - release, settle)
    };
    ReliefPhase {
        released_0_to_1: released,
        pressure_0_to_1: pressure,
    }
}

/// The relief state at `t_s`: from `problem` toward `end` as the tissue lets go.
pub fn relief_state(problem: &BodyState, end: &BodyState, relief: &Relief, t_s: f32) -> BodyState {
    BodyState::lerp(problem, end, relief_phase(relief, t_s).released_0_to_1)
}

/// Play, pause, speed and position of a relief timeline.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Playback {
    /// Position on the timeline.
    pub time_s: f32,
    /// Whether time runs.
    pub playing: bool,
    /// Speed factor (1 = real time).
    pub speed: f32,
}

impl Default for Playback {
    fn default() -> Self {
        Self {
            time_s: 0.0,
            playing: true,
            speed: 1.0,
        }
    }
}

/// The speeds offered.
pub const SPEEDS: [f32; 5] = [0.5, 1.0, 2.0, 4.0, 8.0];

impl Playback {
    /// Advances by `dt_s` of real time; stops at the end of a timeline `duration_s` long.
    pub fn advance(&mut self, dt_s: f32, duration_s: f32) {
        if !self.playing {
            return;
        }
        self.time_s = (self.time_s + dt_s * self.speed).clamp(0.0, duration_s);
        if self.time_s >= duration_s {
            self.playing = false;
        }
    }

    /// Play from where it is; from the start if it had ended.
    pub fn toggle(&mut self, duration_s: f32) {
        if self.playing {
            self.playing = false;
        } else {
            if self.time_s >= duration_s {
                self.time_s = 0.0;
            }
            self.playing = true;
        }
    }
}

/// The layer each level applies to (for sliders and reports).
pub fn applies_to(layer: Layer) -> (bool, bool, bool, bool) {
    match layer {
        Layer::Muscles => (true, true, false, false),
        Layer::Nerves => (false, false, true, false),
        Layer::Joints => (false, false, false, true),
        Layer::Bones | Layer::Discs | Layer::Skin => (false, false, false, false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anatomy::Side;
    use crate::scenario::file::{BodySide, Fraction, Seconds, ToolKind};

    fn s(name: &str) -> Structure {
        Structure::from_gltf_name(name).unwrap()
    }

    fn relief(press: f32, release: f32, settle: f32) -> Relief {
        Relief {
            starts_from: crate::scenario::file::ScenarioId("x".into()),
            tool: ToolKind::MassageHump,
            side: BodySide::Right,
            press_s: Seconds::new(press).unwrap(),
            release_s: Seconds::new(release).unwrap(),
            settle_s: Seconds::new(settle).unwrap(),
            rocking_hz: Fraction::ZERO,
            how_to: Vec::new(),
            how_long: String::new(),
            stop_if: String::new(),
        }
    }

    #[test]
    fn easing_reaches_its_target_in_the_set_time_and_stays_in_range() {
        let mut target = BodyState::relaxed();
        target.get_mut(s("piriformis_r")).tension_0_to_1 = 0.9;
        target.get_mut(s("sciatic_nerve_r")).compression_0_to_1 = 1.0;
        let mut from = BodyState::relaxed();
        from.get_mut(s("piriformis_r")).tension_0_to_1 = 0.2;
        from.get_mut(s("gluteus_medius_l")).weakness_0_to_1 = 1.0;
        let t = Transition {
            from: from.clone(),
            started_s: 10.0,
            duration_s: SWITCH_DURATION_S,
        };
        assert_eq!(t.shown(&target, 10.0), from);
        let mut last = 0.0;
        for step in 0..=100 {
            let now = 10.0 + f64::from(SWITCH_DURATION_S) * f64::from(step) / 100.0;
            let shown = t.shown(&target, now);
            for (_, l) in shown.iter() {
                assert!(l.values().iter().all(|v| (0.0..=1.0).contains(v)));
            }
            // Monotonic toward the target, no overshoot.
            let p = shown.get(s("piriformis_r")).tension_0_to_1;
            assert!(p >= last - 1e-6 && p <= 0.9 + 1e-6, "{p} after {last}");
            last = p;
        }
        assert!(t.done(10.0 + f64::from(SWITCH_DURATION_S)));
        assert_eq!(
            t.shown(&target, 10.0 + f64::from(SWITCH_DURATION_S)),
            target
        );
        assert!(!t.done(10.5));
        // No pop: the first and last steps are tiny.
        let first = t.shown(&target, 10.0 + 0.016).max_difference(&from);
        assert!(first < 0.01, "first frame jumps by {first}");
    }

    fn stretch_rule() -> StretchRule {
        StretchRule {
            full_stretch_pct: 15.0,
            tension_gain: 0.3,
            compression_gain: 0.3,
            nerves_under: vec![(StructureKind::Piriformis, StructureKind::SciaticNerve)],
        }
    }

    #[test]
    fn a_stretched_tight_muscle_tenses_and_presses_the_nerve_under_it() {
        let mut tight = BodyState::relaxed();
        tight.get_mut(s("piriformis_r")).tension_0_to_1 = 0.6;
        tight.get_mut(s("sciatic_nerve_r")).compression_0_to_1 = 0.4;
        tight.get_mut(s("gluteus_maximus_l")).tension_0_to_1 = 0.5;
        let stretch =
            |pct: f32| move |st: Structure| if st.side == Side::Right { pct } else { 0.0 };
        // Half the full stretch: tension 0.6 + 0.6·0.3·0.5, compression 0.4 + the same.
        let half = with_stretch(&tight, stretch(7.5), &stretch_rule());
        assert!((half.get(s("piriformis_r")).tension_0_to_1 - 0.69).abs() < 1e-6);
        assert!((half.get(s("sciatic_nerve_r")).compression_0_to_1 - 0.49).abs() < 1e-6);
        // More stretch, more of both; beyond the full stretch no more.
        let full = with_stretch(&tight, stretch(15.0), &stretch_rule());
        let beyond = with_stretch(&tight, stretch(40.0), &stretch_rule());
        assert!(
            full.get(s("piriformis_r")).tension_0_to_1 > half.get(s("piriformis_r")).tension_0_to_1
        );
        assert_eq!(full, beyond);
        // Shortened: less. The other side and relaxed muscles do not change.
        let short = with_stretch(&tight, stretch(-7.5), &stretch_rule());
        assert!(short.get(s("piriformis_r")).tension_0_to_1 < 0.6);
        assert!(short.get(s("sciatic_nerve_r")).compression_0_to_1 < 0.4);
        assert_eq!(
            short.get(s("gluteus_maximus_l")),
            tight.get(s("gluteus_maximus_l"))
        );
        let relaxed = with_stretch(&BodyState::relaxed(), stretch(15.0), &stretch_rule());
        assert_eq!(relaxed, BodyState::relaxed());
        // Levels stay within 0–1.
        let mut very = tight.clone();
        very.get_mut(s("piriformis_r")).tension_0_to_1 = 1.0;
        very.get_mut(s("sciatic_nerve_r")).compression_0_to_1 = 0.95;
        let capped = with_stretch(&very, stretch(15.0), &stretch_rule());
        assert_eq!(capped.get(s("piriformis_r")).tension_0_to_1, 1.0);
        assert_eq!(capped.get(s("sciatic_nerve_r")).compression_0_to_1, 1.0);
    }

    #[test]
    fn weakness_shifts_load_to_the_compensating_muscles_on_the_same_side() {
        let rules = vec![Compensation {
            weak: StructureKind::GluteusMedius,
            takes_over: vec![
                (StructureKind::GluteusMinimus, 0.5),
                (StructureKind::Piriformis, 0.3),
            ],
        }];
        let mut base = BodyState::relaxed();
        base.get_mut(s("gluteus_medius_r")).weakness_0_to_1 = 0.8;
        base.get_mut(s("piriformis_r")).tension_0_to_1 = 0.9;
        let shown = with_compensation(&base, &rules);
        assert!((shown.get(s("gluteus_minimus_r")).tension_0_to_1 - 0.4).abs() < 1e-6);
        // Clamped at 1.
        assert_eq!(shown.get(s("piriformis_r")).tension_0_to_1, 1.0);
        // The other side is untouched.
        assert_eq!(shown.get(s("gluteus_minimus_l")), StructureState::default());
        assert_eq!(
            shown.get(s("gluteus_medius_r")).weakness_0_to_1,
            0.8,
            "the weak muscle stays weak"
        );
    }

    #[test]
    fn a_relief_timeline_presses_releases_and_lifts() {
        let r = relief(2.0, 10.0, 3.0);
        assert_eq!(r.duration_s(), 15.0);
        let at = |t| relief_phase(&r, t);
        assert_eq!(at(0.0).pressure_0_to_1, 0.0);
        assert_eq!(at(0.0).released_0_to_1, 0.0);
        assert_eq!(at(2.0).pressure_0_to_1, 1.0);
        assert_eq!(at(2.0).released_0_to_1, 0.0);
        assert!((at(7.0).released_0_to_1 - 0.5).abs() < 1e-6);
        assert_eq!(at(12.0).released_0_to_1, 1.0);
        assert_eq!(at(12.0).pressure_0_to_1, 1.0);
        assert_eq!(at(15.0).pressure_0_to_1, 0.0);
        assert_eq!(at(99.0), at(15.0));

        let mut problem = BodyState::relaxed();
        problem.get_mut(s("piriformis_r")).tension_0_to_1 = 0.9;
        let mut end = BodyState::relaxed();
        end.get_mut(s("piriformis_r")).tension_0_to_1 = 0.1;
        let mut last = 1.0;
        for i in 0..=150 {
            let v = relief_state(&problem, &end, &r, i as f32 * 0.1)
                .get(s("piriformis_r"))
                .tension_0_to_1;
            assert!(v <= last + 1e-6 && (0.1 - 1e-6..=0.9 + 1e-6).contains(&v));
            last = v;
        }
        assert!((last - 0.1).abs() < 1e-6);
    }

    #[test]
    fn playback_stops_at_the_end_and_restarts() {
        let mut p = Playback {
            speed: 2.0,
            ..Playback::default()
        };
        p.advance(3.0, 5.0);
        assert_eq!(p.time_s, 5.0);
        assert!(!p.playing);
        p.toggle(5.0);
        assert!(p.playing && p.time_s == 0.0);
        p.toggle(5.0);
        assert!(!p.playing);
        p.advance(1.0, 5.0);
        assert_eq!(p.time_s, 0.0, "paused time does not run");
    }
}
