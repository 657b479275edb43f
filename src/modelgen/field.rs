//! Signed distance fields sampled on voxel grids.
//!
//! A structure is a list of [`Part`]s. Each part is a hard union of primitives (so a dense
//! cloud of balls does not inflate), and parts are combined with smooth union or smooth
//! subtraction. Primitives are "splatted": each one only touches the voxels inside its own
//! bounding box, which is what keeps the whole model inside the time budget.

use bevy::math::{Mat3, Vec3};
use rayon::prelude::*;

/// Value of voxels no primitive has reached ("far outside").
pub const FAR_M: f32 = 1.0;

/// A shape with a signed distance (negative inside), in metres.
#[derive(Clone, Copy, Debug)]
pub enum Primitive {
    /// A ball.
    Sphere {
        /// Centre.
        centre: Vec3,
        /// Radius.
        radius_m: f32,
    },
    /// A segment with a radius varying linearly from `a` to `b` (a rounded cone).
    Capsule {
        /// Start.
        a: Vec3,
        /// End.
        b: Vec3,
        /// Radius at `a`.
        radius_a_m: f32,
        /// Radius at `b`.
        radius_b_m: f32,
    },
    /// An ellipsoid with semi-axes along the columns of `axes` (orthonormal).
    Ellipsoid {
        /// Centre.
        centre: Vec3,
        /// Orthonormal axes (columns).
        axes: Mat3,
        /// Semi-axis lengths.
        radii_m: Vec3,
    },
    /// An elliptic cylinder along `axes.y_axis` with rounded rims (vertebral bodies,
    /// condyles): semi-axes `radii_m.x`, `radii_m.z`, half-height `radii_m.y`.
    Cylinder {
        /// Centre.
        centre: Vec3,
        /// Orthonormal axes (columns); the cylinder axis is the second column.
        axes: Mat3,
        /// Semi-axes (x, z) and half-height (y).
        radii_m: Vec3,
        /// Rim rounding.
        rounding_m: f32,
    },
    /// A vertebral body or an intervertebral disc: a rounded, kidney-shaped prism (a
    /// superellipse with its back wall hollowed for the spinal canal) between two planes (the
    /// endplates, which need not be parallel: a wedge), narrower (or, with a negative
    /// `waist`, fuller) halfway between them.
    Slab(Slab),
}

/// The shape of a [`Primitive::Slab`].
#[derive(Clone, Copy, Debug)]
pub struct Slab {
    /// Centre of the outline (on the spine's axis).
    pub centre: Vec3,
    /// Orthonormal axes (columns): lateral, along the spine (up), anterior.
    pub axes: Mat3,
    /// Half the width (lateral) and half the depth (front to back) at the endplates.
    pub half_width_m: f32,
    /// See `half_width_m`.
    pub half_depth_m: f32,
    /// How deep the back wall is hollowed (metres).
    pub notch_m: f32,
    /// How much narrower the outline is halfway between the endplates than at them, as a
    /// fraction (vertebral bodies are waisted; a disc bulges: negative).
    pub waist: f32,
    /// The lower endplate: a point on it and its normal, pointing up the spine.
    pub lower: (Vec3, Vec3),
    /// The upper endplate, likewise.
    pub upper: (Vec3, Vec3),
    /// Rim rounding.
    pub rounding_m: f32,
}

/// Exponent of the body outline's superellipse: squarer than an ellipse, as a vertebral
/// body's posterolateral corners are full where the pedicles join them.
const SLAB_OUTLINE_POWER: f32 = 2.3;

impl Slab {
    fn distance_m(&self, p: Vec3) -> f32 {
        let q = self.axes.transpose() * (p - self.centre);
        let above_lower = (p - self.lower.0).dot(self.lower.1);
        let below_upper = (self.upper.0 - p).dot(self.upper.1);
        let s = (above_lower / (above_lower + below_upper).max(1e-6)).clamp(0.0, 1.0);
        let f = 1.0 - self.waist * 4.0 * s * (1.0 - s);
        let r = self.rounding_m;
        let a = (self.half_width_m * f - r).max(1e-4);
        let b = (self.half_depth_m * f - r).max(1e-4);
        // Superellipse |x/a|^n + |z/b|^n = 1, distance to first order (value over gradient).
        let n = SLAB_OUTLINE_POWER;
        let (x, z) = (q.x.abs() / a, q.z.abs() / b);
        let g = (x.powf(n) + z.powf(n)).max(1e-12);
        let level = g.powf(1.0 / n);
        let common = g.powf(1.0 / n - 1.0);
        let grad =
            bevy::math::Vec2::new(common * x.powf(n - 1.0) / a, common * z.powf(n - 1.0) / b)
                .length()
                .max(1e-6);
        let outline = (level - 1.0) / grad;
        // The canal's hollow in the back wall: a circle three times the notch wide.
        let notch_r = 3.0 * self.notch_m.max(1e-4);
        let notch_centre = bevy::math::Vec2::new(0.0, -(b + notch_r - self.notch_m));
        let notch = (bevy::math::Vec2::new(q.x, q.z) - notch_centre).length() - notch_r;
        let radial = smooth_max(outline, -notch, 0.003);
        let axial = (-above_lower).max(-below_upper) + r;
        let outside = bevy::math::Vec2::new(radial.max(0.0), axial.max(0.0)).length();
        outside + radial.max(axial).min(0.0) - r
    }

    fn bounds(&self) -> Aabb {
        let reach = self.half_width_m.max(self.half_depth_m)
            + (self.lower.0 - self.centre)
                .length()
                .max((self.upper.0 - self.centre).length())
            + 0.01;
        Aabb::around(self.centre, reach)
    }
}

impl Primitive {
    /// Signed distance at `p` (exact for spheres, a close bound for the others).
    pub fn distance_m(&self, p: Vec3) -> f32 {
        match *self {
            Primitive::Sphere { centre, radius_m } => (p - centre).length() - radius_m,
            Primitive::Capsule {
                a,
                b,
                radius_a_m,
                radius_b_m,
            } => {
                let ab = b - a;
                let len2 = ab.length_squared();
                let t = if len2 > 0.0 {
                    ((p - a).dot(ab) / len2).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let r = radius_a_m + (radius_b_m - radius_a_m) * t;
                (p - (a + ab * t)).length() - r
            }
            Primitive::Ellipsoid {
                centre,
                axes,
                radii_m,
            } => {
                // Inigo Quilez's ellipsoid bound: accurate near the surface.
                let q = axes.transpose() * (p - centre);
                let k0 = (q / radii_m).length();
                let k1 = (q / (radii_m * radii_m)).length();
                if k1 <= f32::EPSILON {
                    -radii_m.min_element()
                } else {
                    k0 * (k0 - 1.0) / k1
                }
            }
            Primitive::Cylinder {
                centre,
                axes,
                radii_m,
                rounding_m,
            } => {
                let q = axes.transpose() * (p - centre);
                let ra = (radii_m.x - rounding_m).max(1e-4);
                let rb = (radii_m.z - rounding_m).max(1e-4);
                let flat = bevy::math::Vec2::new(q.x / ra, q.z / rb);
                let k = flat.length();
                let grad = bevy::math::Vec2::new(q.x / (ra * ra), q.z / (rb * rb)).length();
                let radial = if grad <= f32::EPSILON {
                    -ra.min(rb)
                } else {
                    k * (k - 1.0) / grad
                };
                let axial = q.y.abs() - (radii_m.y - rounding_m).max(1e-4);
                let outside = bevy::math::Vec2::new(radial.max(0.0), axial.max(0.0)).length();
                outside + radial.max(axial).min(0.0) - rounding_m
            }
            Primitive::Slab(slab) => slab.distance_m(p),
        }
    }

    /// Axis-aligned bounds of the solid.
    pub fn bounds(&self) -> Aabb {
        match *self {
            Primitive::Sphere { centre, radius_m } => Aabb::around(centre, radius_m),
            Primitive::Capsule {
                a,
                b,
                radius_a_m,
                radius_b_m,
            } => Aabb {
                min: a.min(b),
                max: a.max(b),
            }
            .grown(radius_a_m.max(radius_b_m)),
            Primitive::Ellipsoid {
                centre, radii_m, ..
            }
            | Primitive::Cylinder {
                centre, radii_m, ..
            } => Aabb::around(centre, radii_m.length()),
            Primitive::Slab(slab) => slab.bounds(),
        }
    }
}

/// How a part joins the structure built so far.
#[derive(Clone, Copy, Debug)]
pub enum Blend {
    /// Smooth union with fillet radius `k`.
    Union {
        /// Fillet size (metres).
        k_m: f32,
    },
    /// Smooth subtraction (cut the part out) with rounding `k`.
    Subtract {
        /// Rounding size (metres).
        k_m: f32,
    },
}

/// A hard union of primitives joined to the structure with one blend.
#[derive(Clone, Debug)]
pub struct Part {
    /// The primitives.
    pub primitives: Vec<Primitive>,
    /// How the part joins.
    pub blend: Blend,
}

impl Part {
    /// A part added with a smooth union.
    pub fn union(primitives: Vec<Primitive>, k_m: f32) -> Self {
        Part {
            primitives,
            blend: Blend::Union { k_m },
        }
    }

    /// A part cut out with a smooth subtraction.
    pub fn subtract(primitives: Vec<Primitive>, k_m: f32) -> Self {
        Part {
            primitives,
            blend: Blend::Subtract { k_m },
        }
    }
}

/// Polynomial smooth minimum (Quilez); `k = 0` is the plain minimum.
pub fn smooth_min(a: f32, b: f32, k: f32) -> f32 {
    if k <= 0.0 {
        return a.min(b);
    }
    let h = (0.5 + 0.5 * (b - a) / k).clamp(0.0, 1.0);
    b + (a - b) * h - k * h * (1.0 - h)
}

/// Polynomial smooth maximum.
pub fn smooth_max(a: f32, b: f32, k: f32) -> f32 {
    -smooth_min(-a, -b, k)
}

/// A signed distance field sampled at voxel corners.
#[derive(Clone, Debug)]
pub struct Grid {
    /// Position of voxel (0, 0, 0).
    pub origin: Vec3,
    /// Voxel edge length.
    pub voxel_m: f32,
    /// Number of samples along x, y, z.
    pub dims: [u32; 3],
    /// Samples, x fastest.
    pub values: Vec<f32>,
}

impl Grid {
    /// A grid covering `[min, max]` plus two voxels of padding, filled with [`FAR_M`].
    pub fn new(min: Vec3, max: Vec3, voxel_m: f32) -> Self {
        let origin = min - Vec3::splat(2.0 * voxel_m);
        let span = (max - min) / voxel_m + Vec3::splat(5.0);
        let dims = [
            span.x.ceil() as u32,
            span.y.ceil() as u32,
            span.z.ceil() as u32,
        ];
        let n = dims.iter().map(|d| *d as usize).product();
        Grid {
            origin,
            voxel_m,
            dims,
            values: vec![FAR_M; n],
        }
    }

    /// Linear index of a sample.
    pub fn index(&self, x: u32, y: u32, z: u32) -> usize {
        x as usize + self.dims[0] as usize * (y as usize + self.dims[1] as usize * z as usize)
    }

    /// World position of a sample.
    pub fn point(&self, x: u32, y: u32, z: u32) -> Vec3 {
        self.origin + Vec3::new(x as f32, y as f32, z as f32) * self.voxel_m
    }

    /// Sample index range covering a box, clamped to the grid.
    fn range(&self, b: Aabb) -> Option<([u32; 3], [u32; 3])> {
        let lo = ((b.min - self.origin) / self.voxel_m).floor();
        let hi = ((b.max - self.origin) / self.voxel_m).ceil();
        let mut a = [0u32; 3];
        let mut b = [0u32; 3];
        for i in 0..3 {
            let l = lo[i].max(0.0);
            let h = hi[i].min(self.dims[i] as f32 - 1.0);
            if h < l {
                return None;
            }
            a[i] = l as u32;
            b[i] = h as u32;
        }
        Some((a, b))
    }

    /// Adds a part: hard union of its primitives, then the part's blend.
    pub fn apply(&mut self, part: &Part) {
        let k = match part.blend {
            Blend::Union { k_m } | Blend::Subtract { k_m } => k_m,
        };
        // Evaluate the part only where it can matter: its bounds plus the blend and a
        // margin of voxels so surface nets sees exact values next to every crossing.
        let margin = k + 3.0 * self.voxel_m;
        let Some(bounds) = part
            .primitives
            .iter()
            .map(Primitive::bounds)
            .reduce(Aabb::union)
        else {
            return;
        };
        let Some((lo, hi)) = self.range(bounds.grown(margin)) else {
            return;
        };
        let nx = (hi[0] - lo[0] + 1) as usize;
        let ny = (hi[1] - lo[1] + 1) as usize;
        let nz = (hi[2] - lo[2] + 1) as usize;
        let ranges: Vec<Option<([u32; 3], [u32; 3])>> = part
            .primitives
            .iter()
            .map(|prim| self.range(prim.bounds().grown(margin)))
            .collect();
        // A z-slice per task: the minimum over primitives does not depend on their order
        // across slices, so the grid is the same for any thread count.
        let mut local = vec![FAR_M; nx * ny * nz];
        let this = &*self;
        local
            .par_chunks_mut(nx * ny)
            .enumerate()
            .for_each(|(dz, slice)| {
                let z = lo[2] + dz as u32;
                for (prim, range) in part.primitives.iter().zip(&ranges) {
                    let Some((plo, phi)) = range else { continue };
                    if z < plo[2] || z > phi[2] {
                        continue;
                    }
                    for y in plo[1].max(lo[1])..=phi[1].min(hi[1]) {
                        for x in plo[0].max(lo[0])..=phi[0].min(hi[0]) {
                            let li = (x - lo[0]) as usize + nx * (y - lo[1]) as usize;
                            let d = prim.distance_m(this.point(x, y, z));
                            if d < slice[li] {
                                slice[li] = d;
                            }
                        }
                    }
                }
            });
        for z in lo[2]..=hi[2] {
            for y in lo[1]..=hi[1] {
                for x in lo[0]..=hi[0] {
                    let li = (x - lo[0]) as usize
                        + nx * ((y - lo[1]) as usize + ny * (z - lo[2]) as usize);
                    let d = local[li];
                    let gi = self.index(x, y, z);
                    let v = self.values[gi];
                    self.values[gi] = match part.blend {
                        Blend::Union { k_m } => smooth_min(v, d, k_m),
                        Blend::Subtract { k_m } => smooth_max(v, -d, k_m),
                    };
                }
            }
        }
    }

    /// The box in which [`Grid::sample`] can be below [`FAR_M`] (a voxel wider, so the test
    /// is conservative).
    pub fn bounds(&self) -> Aabb {
        let last = Vec3::new(
            self.dims[0] as f32,
            self.dims[1] as f32,
            self.dims[2] as f32,
        );
        Aabb {
            min: self.origin - Vec3::splat(self.voxel_m),
            max: self.origin + last * self.voxel_m,
        }
    }

    /// Trilinear sample; [`FAR_M`] outside the grid.
    pub fn sample(&self, p: Vec3) -> f32 {
        let g = (p - self.origin) / self.voxel_m;
        if g.min_element() < 0.0
            || g.x >= (self.dims[0] - 1) as f32
            || g.y >= (self.dims[1] - 1) as f32
            || g.z >= (self.dims[2] - 1) as f32
        {
            return FAR_M;
        }
        let (x, y, z) = (g.x as u32, g.y as u32, g.z as u32);
        let f = g - Vec3::new(x as f32, y as f32, z as f32);
        let v = |dx: u32, dy: u32, dz: u32| self.values[self.index(x + dx, y + dy, z + dz)];
        let lerp = |a: f32, b: f32, t: f32| a + (b - a) * t;
        let c00 = lerp(v(0, 0, 0), v(1, 0, 0), f.x);
        let c10 = lerp(v(0, 1, 0), v(1, 1, 0), f.x);
        let c01 = lerp(v(0, 0, 1), v(1, 0, 1), f.x);
        let c11 = lerp(v(0, 1, 1), v(1, 1, 1), f.x);
        lerp(lerp(c00, c10, f.y), lerp(c01, c11, f.y), f.z)
    }

    /// Applies `f(position, value) -> value` to every sample (in place), a z-slice per task:
    /// each sample is independent, so the result does not depend on the thread count.
    pub fn map(&mut self, f: impl Fn(Vec3, f32) -> f32 + Sync) {
        // The values are taken out for the tasks to write while `point` reads the grid.
        let mut values = std::mem::take(&mut self.values);
        let [nx, ny, _] = self.dims;
        let this = &*self;
        values
            .par_chunks_mut(nx as usize * ny as usize)
            .enumerate()
            .for_each(|(z, slice)| {
                for y in 0..ny {
                    for x in 0..nx {
                        let i = x as usize + nx as usize * y as usize;
                        slice[i] = f(this.point(x, y, z as u32), slice[i]);
                    }
                }
            });
        self.values = values;
    }
}

/// An axis-aligned box.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Aabb {
    /// Lowest corner.
    pub min: Vec3,
    /// Highest corner.
    pub max: Vec3,
}

impl Aabb {
    /// The box that contains nothing (the identity of [`Aabb::union`]).
    pub const EMPTY: Aabb = Aabb {
        min: Vec3::splat(f32::INFINITY),
        max: Vec3::splat(f32::NEG_INFINITY),
    };

    /// The cube of half-size `reach_m` about `centre`.
    pub fn around(centre: Vec3, reach_m: f32) -> Aabb {
        Aabb {
            min: centre - Vec3::splat(reach_m),
            max: centre + Vec3::splat(reach_m),
        }
    }

    /// The box grown by `by_m` on every side.
    pub fn grown(self, by_m: f32) -> Aabb {
        Aabb {
            min: self.min - Vec3::splat(by_m),
            max: self.max + Vec3::splat(by_m),
        }
    }

    /// Whether `p` lies in the box (edges included).
    pub fn contains(&self, p: Vec3) -> bool {
        p.cmpge(self.min).all() && p.cmple(self.max).all()
    }

    /// The smallest box holding both.
    pub fn union(self, other: Aabb) -> Aabb {
        Aabb {
            min: self.min.min(other.min),
            max: self.max.max(other.max),
        }
    }
}

/// Builds a grid for parts: bounds from the union parts, then every part in order.
pub fn rasterize(parts: &[Part], voxel_m: f32) -> Grid {
    let bounds = parts
        .iter()
        .filter(|p| matches!(p.blend, Blend::Union { .. }))
        .flat_map(|p| p.primitives.iter().map(Primitive::bounds))
        .reduce(Aabb::union)
        .unwrap_or(Aabb {
            min: Vec3::ZERO,
            max: Vec3::ZERO,
        });
    let mut grid = Grid::new(bounds.min, bounds.max, voxel_m);
    for part in parts {
        grid.apply(part);
    }
    grid
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grid_samples_far_outside_its_bounds_only() {
        let g = rasterize(
            &[Part::union(
                vec![Primitive::Sphere {
                    centre: Vec3::ZERO,
                    radius_m: 0.01,
                }],
                0.0,
            )],
            0.001,
        );
        let b = g.bounds();
        for (k, p) in [
            Vec3::ZERO,
            b.min + Vec3::splat(0.0011),
            b.max - Vec3::splat(0.0021),
            b.min - Vec3::splat(0.0001),
            b.max + Vec3::new(0.0, 0.0, 0.0001),
        ]
        .into_iter()
        .enumerate()
        {
            assert_eq!(b.contains(p), k < 3, "point {k}: {p}");
            if !b.contains(p) {
                assert_eq!(g.sample(p), FAR_M);
            } else {
                assert!(g.sample(p) < FAR_M, "point {k}: {p}");
            }
        }
        let u = b.union(Aabb {
            min: Vec3::splat(1.0),
            max: Vec3::splat(2.0),
        });
        assert!(u.contains(Vec3::ZERO) && u.contains(Vec3::splat(1.5)));
        assert_eq!(Aabb::EMPTY.union(b), b);
        assert!(!Aabb::EMPTY.contains(Vec3::ZERO));
    }

    #[test]
    fn sphere_grid_samples_distance() {
        let parts = vec![Part::union(
            vec![Primitive::Sphere {
                centre: Vec3::ZERO,
                radius_m: 0.01,
            }],
            0.0,
        )];
        let g = rasterize(&parts, 0.001);
        assert!((g.sample(Vec3::ZERO) + 0.01).abs() < 1e-4);
        assert!((g.sample(Vec3::new(0.0105, 0.0, 0.0)) - 0.0005).abs() < 2e-4);
        // Beyond the padded bounds nothing was evaluated.
        assert_eq!(g.sample(Vec3::new(0.05, 0.0, 0.0)), FAR_M);
    }

    #[test]
    fn smooth_min_is_below_min_by_at_most_quarter_k() {
        for (a, b) in [(0.0, 0.0), (0.1, 0.2), (-0.3, 0.05)] {
            let m = smooth_min(a, b, 0.1);
            assert!(m <= a.min(b) + 1e-6);
            assert!(m >= a.min(b) - 0.025 - 1e-6);
        }
    }

    #[test]
    fn capsule_and_ellipsoid_distances() {
        let c = Primitive::Capsule {
            a: Vec3::ZERO,
            b: Vec3::X,
            radius_a_m: 0.1,
            radius_b_m: 0.2,
        };
        assert!((c.distance_m(Vec3::new(0.5, 0.5, 0.0)) - 0.35).abs() < 1e-5);
        let e = Primitive::Ellipsoid {
            centre: Vec3::ZERO,
            axes: Mat3::IDENTITY,
            radii_m: Vec3::new(0.3, 0.2, 0.1),
        };
        assert!(e.distance_m(Vec3::new(0.3, 0.0, 0.0)).abs() < 1e-6);
        assert!(e.distance_m(Vec3::ZERO) < 0.0);
    }
}
