//! FXAA on a captured frame, on the CPU: the algorithm of Bevy's FXAA pass (NVIDIA FXAA 3.11,
//! as `bevy_anti_alias`'s `fxaa.wgsl` writes it, with Bevy's default thresholds), applied to
//! the picture after it has been read back.
//!
//! Why: on lavapipe the GPU *is* the CPU. There Bevy's FXAA pass took about 70 ms of a
//! 1280x720 screenshot, and compiling its pipeline about 60 ms more, while this takes about
//! 10 ms on two cores: most pixels leave after five look-ups, and the rest run as plain code
//! rather than as a shader whose every branch runs for every pixel. The window and the
//! recorder keep Bevy's pass.

use image::RgbImage;

/// Bevy's `Sensitivity::High`, its default for both thresholds: a pixel whose 3x3 cross
/// spans less luma than `max(EDGE_THRESHOLD_MIN, brightest * EDGE_THRESHOLD_MAX)` is no edge.
const EDGE_THRESHOLD_MIN: f32 = 0.0312;
const EDGE_THRESHOLD_MAX: f32 = 0.125;
/// Steps along an edge, looking for its ends.
const ITERATIONS: i32 = 12;
/// How much of the sub-pixel blend to apply.
const SUBPIXEL_QUALITY: f32 = 0.75;

/// How far step `i` of the edge search moves, in pixels (FXAA's quality preset 12).
fn step_scale(i: i32) -> f32 {
    match i {
        5 => 1.5,
        6..=9 => 2.0,
        10 => 4.0,
        11 => 8.0,
        _ => 1.0,
    }
}

/// The picture in linear light, with its perceptual luma, sampled as the GPU samples a
/// texture through a linear-filtering, clamp-to-edge sampler.
struct LinearFrame<'a> {
    width: usize,
    height: usize,
    /// The picture's sRGB bytes, RGB.
    srgb: &'a [u8],
    /// Linear light of each sRGB byte value.
    linear: [f32; 256],
    luma: Vec<f32>,
}

fn luma_of(rgb: [f32; 3]) -> f32 {
    (rgb[0] * 0.299 + rgb[1] * 0.587 + rgb[2] * 0.114).sqrt()
}

fn srgb_to_linear(c: u8) -> f32 {
    let c = f32::from(c) / 255.0;
    if c <= 0.04045 {
        c / 12.92
    } else {
        ((c + 0.055) / 1.055).powf(2.4)
    }
}

fn linear_to_srgb(c: f32) -> u8 {
    let c = c.clamp(0.0, 1.0);
    let s = if c <= 0.003_130_8 {
        c * 12.92
    } else {
        1.055 * c.powf(1.0 / 2.4) - 0.055
    };
    // In 0..=255 after the clamp.
    (s * 255.0 + 0.5) as u8
}

fn lerp3(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

impl<'a> LinearFrame<'a> {
    fn new(image: &'a RgbImage) -> Self {
        let linear = std::array::from_fn(|c| srgb_to_linear(c as u8));
        let srgb: &[u8] = image.as_raw();
        let mut frame = Self {
            width: image.width() as usize,
            height: image.height() as usize,
            srgb,
            linear,
            luma: Vec::new(),
        };
        frame.luma = (0..frame.width * frame.height)
            .map(|i| luma_of(frame.texel(i)))
            .collect();
        frame
    }

    /// The linear colour of texel `i`.
    fn texel(&self, i: usize) -> [f32; 3] {
        let p = &self.srgb[i * 3..i * 3 + 3];
        [
            self.linear[usize::from(p[0])],
            self.linear[usize::from(p[1])],
            self.linear[usize::from(p[2])],
        ]
    }

    fn index(&self, x: i64, y: i64) -> usize {
        let x = x.clamp(0, self.width as i64 - 1) as usize;
        let y = y.clamp(0, self.height as i64 - 1) as usize;
        y * self.width + x
    }

    /// The luma of the texel at (x, y), clamped to the edge.
    fn texel_luma(&self, x: i64, y: i64) -> f32 {
        self.luma[self.index(x, y)]
    }

    /// The colour at a position in pixels (texel centres at +0.5), filtered bilinearly.
    fn sample(&self, at: [f32; 2]) -> [f32; 3] {
        let fx = at[0] - 0.5;
        let fy = at[1] - 0.5;
        let (x0, y0) = (fx.floor(), fy.floor());
        let (tx, ty) = (fx - x0, fy - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let texel = |x, y| self.texel(self.index(x, y));
        let top = lerp3(texel(x0, y0), texel(x0 + 1, y0), tx);
        let bottom = lerp3(texel(x0, y0 + 1), texel(x0 + 1, y0 + 1), tx);
        lerp3(top, bottom, ty)
    }

    fn sample_luma(&self, at: [f32; 2]) -> f32 {
        luma_of(self.sample(at))
    }

    /// The anti-aliased colour of pixel (x, y), or `None` where it is no edge and keeps its
    /// own colour. Line for line Bevy's shader (the names are its names), in pixels instead
    /// of texture coordinates.
    fn pixel(&self, x: i64, y: i64) -> Option<[f32; 3]> {
        let luma_center = self.texel_luma(x, y);
        let luma_down = self.texel_luma(x, y - 1);
        let luma_up = self.texel_luma(x, y + 1);
        let luma_left = self.texel_luma(x - 1, y);
        let luma_right = self.texel_luma(x + 1, y);
        let luma_min = luma_center.min(luma_down.min(luma_up).min(luma_left.min(luma_right)));
        let luma_max = luma_center.max(luma_down.max(luma_up).max(luma_left.max(luma_right)));
        let luma_range = luma_max - luma_min;
        if luma_range < EDGE_THRESHOLD_MIN.max(luma_max * EDGE_THRESHOLD_MAX) {
            return None;
        }
        let luma_down_left = self.texel_luma(x - 1, y - 1);
        let luma_up_right = self.texel_luma(x + 1, y + 1);
        let luma_up_left = self.texel_luma(x - 1, y + 1);
        let luma_down_right = self.texel_luma(x + 1, y - 1);
        let luma_down_up = luma_down + luma_up;
        let luma_left_right = luma_left + luma_right;
        let luma_left_corners = luma_down_left + luma_up_left;
        let luma_down_corners = luma_down_left + luma_down_right;
        let luma_right_corners = luma_down_right + luma_up_right;
        let luma_up_corners = luma_up_right + luma_up_left;
        let edge_horizontal = (-2.0 * luma_left + luma_left_corners).abs()
            + (-2.0 * luma_center + luma_down_up).abs() * 2.0
            + (-2.0 * luma_right + luma_right_corners).abs();
        let edge_vertical = (-2.0 * luma_up + luma_up_corners).abs()
            + (-2.0 * luma_center + luma_left_right).abs() * 2.0
            + (-2.0 * luma_down + luma_down_corners).abs();
        let is_horizontal = edge_horizontal >= edge_vertical;
        let mut step_length = 1.0_f32;
        let (luma1, luma2) = if is_horizontal {
            (luma_down, luma_up)
        } else {
            (luma_left, luma_right)
        };
        let gradient1 = luma1 - luma_center;
        let gradient2 = luma2 - luma_center;
        let is1_steepest = gradient1.abs() >= gradient2.abs();
        let gradient_scaled = 0.25 * gradient1.abs().max(gradient2.abs());
        let luma_local_average = if is1_steepest {
            step_length = -step_length;
            0.5 * (luma1 + luma_center)
        } else {
            0.5 * (luma2 + luma_center)
        };

        let tex_coord = [x as f32 + 0.5, y as f32 + 0.5];
        let mut current = tex_coord;
        let offset = if is_horizontal {
            current[1] += step_length * 0.5;
            [1.0, 0.0]
        } else {
            current[0] += step_length * 0.5;
            [0.0, 1.0]
        };
        let along = |p: [f32; 2], k: f32| [p[0] + offset[0] * k, p[1] + offset[1] * k];
        let mut uv1 = along(current, -1.0);
        let mut uv2 = along(current, 1.0);
        let mut luma_end1 = self.sample_luma(uv1) - luma_local_average;
        let mut luma_end2 = self.sample_luma(uv2) - luma_local_average;
        let mut reached1 = luma_end1.abs() >= gradient_scaled;
        let mut reached2 = luma_end2.abs() >= gradient_scaled;
        let mut reached_both = reached1 && reached2;
        if !reached1 {
            uv1 = along(uv1, -1.0);
        }
        // Bevy's shader steps the second end back here as well (`uv2 - offset`, where FXAA
        // 3.11 steps forward): kept, so the picture matches the window's pass.
        if !reached2 {
            uv2 = along(uv2, -1.0);
        }
        if !reached_both {
            for i in 2..ITERATIONS {
                if !reached1 {
                    luma_end1 = self.sample_luma(uv1) - luma_local_average;
                }
                if !reached2 {
                    luma_end2 = self.sample_luma(uv2) - luma_local_average;
                }
                reached1 = luma_end1.abs() >= gradient_scaled;
                reached2 = luma_end2.abs() >= gradient_scaled;
                reached_both = reached1 && reached2;
                if !reached1 {
                    uv1 = along(uv1, -step_scale(i));
                }
                if !reached2 {
                    uv2 = along(uv2, step_scale(i));
                }
                if reached_both {
                    break;
                }
            }
        }

        let (distance1, distance2) = if is_horizontal {
            (tex_coord[0] - uv1[0], uv2[0] - tex_coord[0])
        } else {
            (tex_coord[1] - uv1[1], uv2[1] - tex_coord[1])
        };
        let is_direction1 = distance1 < distance2;
        let distance_final = distance1.min(distance2);
        let edge_thickness = distance1 + distance2;
        let is_luma_center_smaller = luma_center < luma_local_average;
        let correct_variation1 = (luma_end1 < 0.0) != is_luma_center_smaller;
        let correct_variation2 = (luma_end2 < 0.0) != is_luma_center_smaller;
        let correct_variation = if is_direction1 {
            correct_variation1
        } else {
            correct_variation2
        };
        let pixel_offset = -distance_final / edge_thickness + 0.5;
        let edge_offset = if correct_variation { pixel_offset } else { 0.0 };

        let luma_average = (1.0 / 12.0)
            * (2.0 * (luma_down_up + luma_left_right) + luma_left_corners + luma_right_corners);
        let sub_pixel_offset1 = ((luma_average - luma_center).abs() / luma_range).clamp(0.0, 1.0);
        let sub_pixel_offset2 =
            (-2.0 * sub_pixel_offset1 + 3.0) * sub_pixel_offset1 * sub_pixel_offset1;
        let sub_pixel_offset_final = sub_pixel_offset2 * sub_pixel_offset2 * SUBPIXEL_QUALITY;
        let final_offset = edge_offset.max(sub_pixel_offset_final);

        let mut final_uv = tex_coord;
        if is_horizontal {
            final_uv[1] += final_offset * step_length;
        } else {
            final_uv[0] += final_offset * step_length;
        }
        Some(self.sample(final_uv))
    }
}

/// `image` (sRGB) anti-aliased with FXAA, as Bevy's FXAA pass would have drawn it. Bands of
/// rows go to as many threads as the machine has cores (the renderer is idle by then).
pub fn fxaa(image: &RgbImage) -> RgbImage {
    let frame = LinearFrame::new(image);
    let mut out = image.clone();
    let row_bytes = frame.width * 3;
    if row_bytes == 0 {
        return out;
    }
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let rows_per_band = frame.height.div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for (band, bytes) in out.chunks_mut(rows_per_band * row_bytes).enumerate() {
            let frame = &frame;
            scope.spawn(move || {
                for (row, row_out) in bytes.chunks_mut(row_bytes).enumerate() {
                    let y = (band * rows_per_band + row) as i64;
                    for (x, pixel) in row_out.chunks_mut(3).enumerate() {
                        if let Some(rgb) = frame.pixel(x as i64, y) {
                            pixel.copy_from_slice(&rgb.map(linear_to_srgb));
                        }
                    }
                }
            });
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    fn image_from(width: u32, height: u32, colour: impl Fn(u32, u32) -> [u8; 3]) -> RgbImage {
        RgbImage::from_fn(width, height, |x, y| Rgb(colour(x, y)))
    }

    #[test]
    fn srgb_round_trips_every_byte() {
        for c in 0..=255u8 {
            assert_eq!(linear_to_srgb(srgb_to_linear(c)), c);
        }
    }

    #[test]
    fn a_flat_picture_and_a_gentle_ramp_are_left_alone() {
        let flat = image_from(16, 9, |_, _| [120, 90, 60]);
        assert_eq!(fxaa(&flat), flat);
        // One step in 255 per pixel: far below the edge threshold.
        let ramp = image_from(64, 8, |x, _| [x as u8 + 60, 80, 80]);
        assert_eq!(fxaa(&ramp), ramp);
    }

    /// A staircase edge (a dark disc on a light ground): FXAA puts in-between colours on the
    /// steps, and only near the edge.
    #[test]
    fn a_jagged_edge_gets_in_between_colours_only_along_it() {
        let (w, h) = (64u32, 64u32);
        let inside = |x: u32, y: u32| {
            let (dx, dy) = (x as f32 - 31.5, y as f32 - 31.5);
            dx * dx + dy * dy < 20.0 * 20.0
        };
        let disc = image_from(w, h, |x, y| {
            if inside(x, y) {
                [20, 20, 20]
            } else {
                [230, 230, 230]
            }
        });
        let smooth = fxaa(&disc);
        let mut blended = 0;
        for (x, y, p) in smooth.enumerate_pixels() {
            let before = disc.get_pixel(x, y).0;
            if p.0 == before {
                continue;
            }
            // Changed pixels lie on the edge: some 4-neighbour is on the other side.
            let near_edge = [(0i64, 1i64), (0, -1), (1, 0), (-1, 0)]
                .iter()
                .any(|(dx, dy)| {
                    let (nx, ny) = (x as i64 + dx, y as i64 + dy);
                    (0..w as i64).contains(&nx)
                        && (0..h as i64).contains(&ny)
                        && inside(nx as u32, ny as u32) != inside(x, y)
                });
            assert!(near_edge, "pixel ({x}, {y}) changed away from the edge");
            // And to a colour between the two sides, grey as they are.
            assert!(
                p.0[0] > 20 && p.0[0] < 230,
                "pixel ({x}, {y}) became {:?}",
                p.0
            );
            assert_eq!(p.0[0], p.0[1]);
            blended += 1;
        }
        // Most of the circle's ~250 edge pixels soften.
        assert!(blended > 100, "only {blended} pixels blended");
    }

    /// Mirroring the picture mirrors the result: no side is favoured (but for Bevy's own
    /// asymmetric step, which this test would not see on a symmetric shape).
    #[test]
    fn a_symmetric_shape_stays_symmetric() {
        let (w, h) = (41u32, 41u32);
        let diamond = image_from(w, h, |x, y| {
            let d = (x as i64 - 20).abs() + (y as i64 - 20).abs();
            if d < 12 { [200, 40, 40] } else { [40, 40, 50] }
        });
        let smooth = fxaa(&diamond);
        assert_ne!(smooth, diamond);
        for (x, y, p) in smooth.enumerate_pixels() {
            let mirrored = smooth.get_pixel(w - 1 - x, y).0;
            let diff = p.0.iter().zip(mirrored).map(|(a, b)| a.abs_diff(b)).max();
            assert!(
                diff <= Some(1),
                "({x}, {y}): {:?} against {mirrored:?}",
                p.0
            );
        }
    }

    /// Thin and odd-sized pictures: one pixel, one row, one column, and heights that do not
    /// split evenly into the threads' bands. Each comes out as one thread would draw it.
    #[test]
    fn odd_sizes_match_a_single_pass_over_the_pixels() {
        for (w, h) in [(1u32, 1u32), (1, 5), (5, 1), (7, 3), (9, 13), (4, 31)] {
            let picture = image_from(w, h, |x, y| {
                let v = ((x * 37 + y * 91) % 5) as u8 * 50;
                [v, 255 - v, (v / 2).wrapping_add(30)]
            });
            let frame = LinearFrame::new(&picture);
            let mut expected = picture.clone();
            for (x, y, p) in expected.enumerate_pixels_mut() {
                if let Some(rgb) = frame.pixel(i64::from(x), i64::from(y)) {
                    p.0 = rgb.map(linear_to_srgb);
                }
            }
            assert_eq!(fxaa(&picture), expected, "{w}x{h}");
        }
    }
}
