//! How levels look: colours along perceptual (Oklab) ramps and morph weights. Pure functions
//! of the levels; the legend in the panel samples the same functions.

use bevy::color::{LinearRgba, Mix, Oklaba, Srgba};

/// Colour a fully tense muscle shifts to: a warm coral-orange, calm rather than alarm red.
pub const TENSE_MUSCLE: Srgba = Srgba::rgb(0.95, 0.47, 0.22);
/// Colour a fully weak muscle pales toward.
pub const WEAK_MUSCLE: Srgba = Srgba::rgb(0.90, 0.78, 0.74);
/// How far a fully weak muscle pales (0–1).
pub const WEAK_PALING: f32 = 0.65;
/// The `tense` morph weight a fully weak muscle gets: negative, so the belly thins (the morph
/// thickens it when positive).
pub const WEAK_MORPH_WEIGHT: f32 = -0.6;
/// Colour an irritated SI joint shifts to.
pub const IRRITATED_JOINT: Srgba = Srgba::rgb(0.98, 0.62, 0.26);
/// Glow of a squeezed nerve at full compression (linear, added to its colour).
pub const NERVE_GLOW: LinearRgba = LinearRgba::rgb(0.9, 0.35, 0.05);

/// Mixes two sRGB colours in Oklab, so equal steps look like equal changes.
pub fn oklab_mix(a: Srgba, b: Srgba, t: f32) -> Srgba {
    // The ends exactly (an Oklab round trip moves the last bit).
    if t <= 0.0 {
        return a;
    }
    if t >= 1.0 {
        return b;
    }
    Srgba::from(Oklaba::from(a).mix(&Oklaba::from(b), t))
}

/// A muscle's colour: its atlas colour warming toward [`TENSE_MUSCLE`] with tension, then
/// paling toward [`WEAK_MUSCLE`] with weakness.
pub fn muscle_colour(atlas: Srgba, tension_0_to_1: f32, weakness_0_to_1: f32) -> Srgba {
    let tense = oklab_mix(atlas, TENSE_MUSCLE, tension_0_to_1);
    oklab_mix(tense, WEAK_MUSCLE, weakness_0_to_1 * WEAK_PALING)
}

/// The weight of a muscle's `tense` morph: tension thickens the belly, weakness thins it.
pub fn muscle_morph_weight(tension_0_to_1: f32, weakness_0_to_1: f32) -> f32 {
    tension_0_to_1.clamp(0.0, 1.0) + WEAK_MORPH_WEIGHT * weakness_0_to_1.clamp(0.0, 1.0)
}

/// A nerve's glow with compression (its colour stays the atlas yellow).
pub fn nerve_glow(compression_0_to_1: f32) -> LinearRgba {
    scaled(NERVE_GLOW, compression_0_to_1.clamp(0.0, 1.0))
}

/// A glow colour times `factor` (the alpha stays 1: emissive light has no opacity).
pub fn scaled(glow: LinearRgba, factor: f32) -> LinearRgba {
    LinearRgba::rgb(glow.red * factor, glow.green * factor, glow.blue * factor)
}

/// An SI joint's colour with irritation.
pub fn joint_colour(atlas: Srgba, irritation_0_to_1: f32) -> Srgba {
    oklab_mix(atlas, IRRITATED_JOINT, irritation_0_to_1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lightness(c: Srgba) -> f32 {
        Oklaba::from(c).lightness
    }

    #[test]
    fn the_tension_ramp_is_perceptually_even_and_monotonic() {
        let atlas = Srgba::rgb(0.72, 0.20, 0.18);
        let steps: Vec<Oklaba> = (0..=10)
            .map(|i| Oklaba::from(muscle_colour(atlas, i as f32 / 10.0, 0.0)))
            .collect();
        let gaps: Vec<f32> = steps
            .windows(2)
            .map(|w| {
                let (a, b) = (w[0], w[1]);
                ((a.lightness - b.lightness).powi(2) + (a.a - b.a).powi(2) + (a.b - b.b).powi(2))
                    .sqrt()
            })
            .collect();
        let (min, max) = gaps
            .iter()
            .fold((f32::MAX, 0.0f32), |(lo, hi), g| (lo.min(*g), hi.max(*g)));
        assert!(max / min < 1.05, "uneven steps {gaps:?}");
        // Tense is lighter and warmer than relaxed; weak is paler still.
        assert!(lightness(muscle_colour(atlas, 1.0, 0.0)) > lightness(atlas));
        let weak = muscle_colour(atlas, 0.0, 1.0);
        assert!(lightness(weak) > lightness(atlas));
        let sat = |c: Srgba| c.red.max(c.green).max(c.blue) - c.red.min(c.green).min(c.blue);
        assert!(sat(weak) < sat(atlas), "weak is paler");
        assert_eq!(muscle_colour(atlas, 0.0, 0.0), atlas);
    }

    #[test]
    fn morph_weight_thickens_with_tension_and_thins_with_weakness() {
        assert_eq!(muscle_morph_weight(0.0, 0.0), 0.0);
        assert_eq!(muscle_morph_weight(1.0, 0.0), 1.0);
        assert!(muscle_morph_weight(0.0, 1.0) < 0.0);
        assert_eq!(muscle_morph_weight(2.0, -1.0), 1.0, "clamped inputs");
        assert_eq!(nerve_glow(0.0), LinearRgba::rgb(0.0, 0.0, 0.0));
    }
}
