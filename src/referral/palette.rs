//! The heat map's colours: referred pain on inferno, nerve symptoms on hatched viridis, the two
//! composited per vertex, and a lookup table of both so that colouring the whole skin every
//! frame of an easing costs a table read per vertex instead of a spline and a power. No ECS.

use bevy::color::Color;
use bevy::math::Vec3;

/// The colour of referred-pain heat: inferno (perceptually uniform, colour-blind-safe),
/// its dark end left out so low heat reads as a faint purple rather than black.
pub fn somatic_colour(heat_0_to_1: f32) -> [f32; 4] {
    colormap(colorous::INFERNO, 0.3 + 0.65 * heat_0_to_1, heat_0_to_1)
}

/// The colour of nerve symptoms: viridis (also uniform and colour-blind-safe, and unlike
/// inferno), hatched in bands across the leg so it reads as a different kind of symptom.
pub fn neuropathic_colour(heat_0_to_1: f32, position: Vec3) -> [f32; 4] {
    neuropathic_colour_hatched(heat_0_to_1, in_band(position))
}

/// Whether a skin point lies in one of the nerve symptoms' full-strength bands (2.5 cm apart).
pub fn in_band(position: Vec3) -> bool {
    (position.y / 0.025).rem_euclid(1.0) < 0.5
}

fn neuropathic_colour_hatched(heat_0_to_1: f32, band: bool) -> [f32; 4] {
    let hatch = if band { 1.0 } else { 0.35 };
    colormap(
        colorous::VIRIDIS,
        0.35 + 0.6 * heat_0_to_1,
        heat_0_to_1 * hatch,
    )
}

fn colormap(gradient: colorous::Gradient, t: f32, alpha: f32) -> [f32; 4] {
    let c = gradient.eval_continuous(f64::from(t.clamp(0.0, 1.0)));
    let linear = Color::srgb_u8(c.r, c.g, c.b).to_linear();
    // Low heat fades out rather than tinting the whole body.
    let a = alpha.clamp(0.0, 1.0).powf(0.8);
    [linear.red, linear.green, linear.blue, a]
}

/// `above` over `below` (straight alpha), each first faded to `opacity`: what drawing the two
/// layers one after the other would give at a vertex.
pub fn over(above: [f32; 4], below: [f32; 4], opacity: f32) -> [f32; 4] {
    let (a, b) = (
        above[3] * opacity,
        below[3] * opacity * (1.0 - above[3] * opacity),
    );
    let alpha = a + b;
    if alpha <= 0.0 {
        return [0.0; 4];
    }
    let mix = |i: usize| (above[i] * a + below[i] * b) / alpha;
    [mix(0), mix(1), mix(2), alpha]
}

/// Steps of the lookup table over heat 0–1. Read with linear interpolation, it stays within
/// one 8-bit sRGB step per channel and half a step of alpha of the functions above (tested).
const STEPS: usize = 1024;

/// [`somatic_colour`] and both hatchings of [`neuropathic_colour`], tabulated.
#[derive(Clone, Debug)]
pub struct Palette {
    somatic: Vec<[f32; 4]>,
    neuropathic_band: Vec<[f32; 4]>,
    neuropathic_gap: Vec<[f32; 4]>,
}

impl Default for Palette {
    fn default() -> Self {
        let table = |colour: &dyn Fn(f32) -> [f32; 4]| -> Vec<[f32; 4]> {
            (0..=STEPS)
                .map(|i| colour(i as f32 / STEPS as f32))
                .collect()
        };
        Self {
            somatic: table(&somatic_colour),
            neuropathic_band: table(&|h| neuropathic_colour_hatched(h, true)),
            neuropathic_gap: table(&|h| neuropathic_colour_hatched(h, false)),
        }
    }
}

impl Palette {
    /// [`somatic_colour`] from the table.
    pub fn somatic(&self, heat_0_to_1: f32) -> [f32; 4] {
        lookup(&self.somatic, heat_0_to_1)
    }

    /// [`neuropathic_colour`] from the table, for a point in a band or not ([`in_band`]).
    pub fn neuropathic(&self, heat_0_to_1: f32, band: bool) -> [f32; 4] {
        let table = if band {
            &self.neuropathic_band
        } else {
            &self.neuropathic_gap
        };
        lookup(table, heat_0_to_1)
    }
}

fn lookup(table: &[[f32; 4]], heat_0_to_1: f32) -> [f32; 4] {
    let x = heat_0_to_1.clamp(0.0, 1.0) * STEPS as f32;
    let i = (x as usize).min(STEPS - 1);
    let f = x - i as f32;
    let (a, b) = (table[i], table[i + 1]);
    [0, 1, 2, 3].map(|k| a[k] + (b[k] - a[k]) * f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bevy::color::ColorToPacked;

    /// The composited heat over a background is what blending its two layers over it one
    /// after the other gives, at any opacity; a clear layer leaves the other as it is.
    #[test]
    fn the_composited_heat_blends_like_its_two_layers() {
        let blend = |dst: [f32; 3], src: [f32; 4]| -> [f32; 3] {
            [0, 1, 2].map(|i| src[i] * src[3] + dst[i] * (1.0 - src[3]))
        };
        let background = [0.8, 0.7, 0.6];
        let below = [0.9, 0.2, 0.1, 0.7];
        let above = [0.1, 0.6, 0.4, 0.5];
        for opacity in [0.0, 0.3, 0.6, 1.0] {
            let faded = |c: [f32; 4]| [c[0], c[1], c[2], c[3] * opacity];
            let one_by_one = blend(blend(background, faded(below)), faded(above));
            let at_once = blend(background, over(above, below, opacity));
            for i in 0..3 {
                assert!(
                    (one_by_one[i] - at_once[i]).abs() < 1e-5,
                    "opacity {opacity}: {one_by_one:?} against {at_once:?}"
                );
            }
        }
        let clear = [0.0; 4];
        let same = |x: [f32; 4], y: [f32; 4]| x.iter().zip(&y).all(|(a, b)| (a - b).abs() < 1e-6);
        assert!(same(over(clear, below, 1.0), below));
        assert!(same(over(above, clear, 1.0), above));
        assert_eq!(over(clear, clear, 1.0), clear);
    }

    /// The table gives the functions' colours, between its steps too: within one 8-bit sRGB
    /// step per channel (colorous rounds its colours to 8 bits, and between two table steps
    /// that straddle a rounding the table blends the two) and half a step of alpha. Heat
    /// outside 0–1 reads as its end.
    #[test]
    fn the_table_matches_the_colour_functions() {
        let palette = Palette::default();
        let srgb = |c: [f32; 4]| Color::linear_rgb(c[0], c[1], c[2]).to_srgba().to_u8_array();
        let (mut channel_steps, mut alpha) = (0u8, 0.0f32);
        let mut compare = |table: [f32; 4], exact: [f32; 4]| {
            let (t, e) = (srgb(table), srgb(exact));
            for k in 0..3 {
                channel_steps = channel_steps.max(t[k].abs_diff(e[k]));
            }
            alpha = alpha.max((table[3] - exact[3]).abs());
        };
        for i in 0..=10_000 {
            let h = i as f32 / 10_000.0;
            compare(palette.somatic(h), somatic_colour(h));
            compare(
                palette.neuropathic(h, true),
                neuropathic_colour(h, Vec3::ZERO),
            );
            compare(
                palette.neuropathic(h, false),
                neuropathic_colour(h, Vec3::Y * 0.0125),
            );
        }
        assert!(channel_steps <= 1, "{channel_steps} sRGB steps apart");
        assert!(alpha < 0.5 / 255.0, "alpha {alpha} apart");
        assert_eq!(palette.somatic(-1.0), somatic_colour(0.0));
        assert_eq!(palette.somatic(2.0), somatic_colour(1.0));
        assert_eq!(palette.neuropathic(0.0, true)[3], 0.0);
    }

    #[test]
    fn bands_alternate_every_one_and_a_quarter_centimetres() {
        assert!(in_band(Vec3::Y * 0.005));
        assert!(!in_band(Vec3::Y * 0.018));
        assert!(in_band(Vec3::Y * 0.030));
        assert!(!in_band(Vec3::Y * -0.005));
    }
}
