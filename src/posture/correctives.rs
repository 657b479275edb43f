//! How much of each of the skin's posture correctives a posture takes: the model's skin has
//! one morph target per deep-flexion preset ([`crate::modelgen::crease`]), each exact at its
//! preset. In between, and for slider postures, the weights are interpolated over the hips'
//! six angles with Gaussian radial basis functions (pose-space deformation, Lewis et al.
//! 2000): standing and every preset are the samples, each corrective is 1 at its own preset
//! and 0 at the others and at standing, and it fades with distance from them.

use super::kinematics::{Posture, PostureId};

/// The presets with a corrective, in the order of the skin's morph targets (named by id).
pub const PRESETS: [PostureId; 4] = [
    PostureId::Sitting,
    PostureId::Fair,
    PostureId::FigureFour,
    PostureId::KneeToChest,
];

/// The kernel's width, degrees over the six angles (the presets lie 51–177° from each other
/// and from standing there).
const WIDTH_DEG: f32 = 40.0;

/// Weights this close to 0 or 1 are taken as 0 or 1.
const SNAP: f32 = 1e-4;

/// The six hip angles, degrees. The pelvic tilt is left out: it bends the hips too (the
/// knee-to-chest preset tilts the pelvis back), but the presets are told apart without it.
fn angles(posture: &Posture) -> [f32; 6] {
    let (l, r) = (posture.left, posture.right);
    [
        l.flexion_deg,
        l.adduction_deg,
        l.internal_rotation_deg,
        r.flexion_deg,
        r.adduction_deg,
        r.internal_rotation_deg,
    ]
}

fn kernel(a: &[f32; 6], b: &[f32; 6]) -> f32 {
    let d2: f32 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
    (-d2 / (WIDTH_DEG * WIDTH_DEG)).exp()
}

/// Solves `m x = b` (Gaussian elimination with partial pivoting); `None` if singular.
fn solve<const N: usize>(mut m: [[f32; N]; N], mut b: [f32; N]) -> Option<[f32; N]> {
    for col in 0..N {
        let pivot = (col..N).max_by(|i, j| m[*i][col].abs().total_cmp(&m[*j][col].abs()))?;
        if m[pivot][col].abs() < 1e-9 {
            return None;
        }
        m.swap(col, pivot);
        b.swap(col, pivot);
        let pivot_row = m[col];
        for row in col + 1..N {
            let f = m[row][col] / pivot_row[col];
            for (cell, above) in m[row][col..].iter_mut().zip(&pivot_row[col..]) {
                *cell -= f * above;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = [0.0; N];
    for row in (0..N).rev() {
        let tail: f32 = (row + 1..N).map(|k| m[row][k] * x[k]).sum();
        x[row] = (b[row] - tail) / m[row][row];
    }
    Some(x)
}

/// The correctives' weights for a posture (0–1 each, in [`PRESETS`] order), given the
/// presets' postures (as the posture file holds them, clamped to the limits).
pub fn weights(posture: &Posture, presets: &[Posture; PRESETS.len()]) -> [f32; PRESETS.len()] {
    // Samples: standing, then the presets.
    let mut samples = [[0.0_f32; 6]; PRESETS.len() + 1];
    for (sample, preset) in samples[1..].iter_mut().zip(presets) {
        *sample = angles(preset);
    }
    let mut gram = [[0.0_f32; PRESETS.len() + 1]; PRESETS.len() + 1];
    for (i, row) in gram.iter_mut().enumerate() {
        for (j, cell) in row.iter_mut().enumerate() {
            *cell = kernel(&samples[i], &samples[j]);
        }
    }
    let here = angles(posture);
    let mut out = [0.0; PRESETS.len()];
    for (k, weight) in out.iter_mut().enumerate() {
        let mut wanted = [0.0; PRESETS.len() + 1];
        wanted[k + 1] = 1.0;
        let Some(coefficients) = solve(gram, wanted) else {
            continue;
        };
        let value: f32 = samples
            .iter()
            .zip(coefficients)
            .map(|(s, c)| c * kernel(&here, s))
            .sum();
        // Snapped at the ends, so standing takes none and a preset all of its own exactly.
        *weight = if value < SNAP {
            0.0
        } else if value > 1.0 - SNAP {
            1.0
        } else {
            value
        };
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::posture::kinematics::HipAngles;

    fn hips(flexion: f32, adduction: f32, rotation: f32) -> HipAngles {
        HipAngles {
            flexion_deg: flexion,
            adduction_deg: adduction,
            internal_rotation_deg: rotation,
        }
    }

    fn presets() -> [Posture; 4] {
        [
            Posture {
                left: hips(90.0, 0.0, 0.0),
                right: hips(90.0, 0.0, 0.0),
                pelvic_tilt_deg: 0.0,
            },
            Posture {
                left: hips(0.0, 0.0, 0.0),
                right: hips(90.0, 15.0, 30.0),
                pelvic_tilt_deg: 0.0,
            },
            Posture {
                left: hips(90.0, 0.0, 0.0),
                right: hips(80.0, -30.0, -40.0),
                pelvic_tilt_deg: 0.0,
            },
            Posture {
                left: hips(120.0, 0.0, 0.0),
                right: hips(120.0, 0.0, 0.0),
                pelvic_tilt_deg: 0.0,
            },
        ]
    }

    #[test]
    fn each_preset_takes_its_own_corrective_whole_and_no_other() {
        let p = presets();
        for (k, preset) in p.iter().enumerate() {
            let w = weights(preset, &p);
            for (j, value) in w.iter().enumerate() {
                assert_eq!(*value, if j == k { 1.0 } else { 0.0 }, "preset {k}: {w:?}");
            }
        }
    }

    #[test]
    fn standing_takes_none_and_the_way_there_fades_in() {
        let p = presets();
        assert_eq!(weights(&Posture::default(), &p), [0.0; 4]);
        let mut last = 0.0;
        for step in 1..=10 {
            let t = step as f32 / 10.0;
            let w = weights(&Posture::lerp(&Posture::default(), &p[0], t), &p);
            assert!(w.iter().all(|v| (0.0..=1.0).contains(v)), "{w:?}");
            assert!(w[0] >= last - 0.05, "sitting's weight fell at {t}: {w:?}");
            last = w[0];
        }
        // A pose far from every preset (both legs back) takes next to nothing.
        let back = Posture {
            left: hips(-20.0, 0.0, 0.0),
            right: hips(-20.0, 0.0, 0.0),
            pelvic_tilt_deg: 0.0,
        };
        assert!(weights(&back, &p).iter().all(|v| *v < 0.05));
    }

    #[test]
    fn the_linear_solver_solves() {
        let m = [[2.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 4.0]];
        let x = solve(m, [3.0, 5.0, 5.0]).unwrap_or([f32::NAN; 3]);
        for (got, want) in x.iter().zip([1.0, 1.0, 1.0]) {
            assert!((got - want).abs() < 1e-5, "{x:?}");
        }
        assert!(solve([[1.0, 2.0], [2.0, 4.0]], [1.0, 2.0]).is_none());
    }
}
