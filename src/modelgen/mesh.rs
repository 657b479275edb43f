//! Triangle meshes: extraction from a field (surface nets), smoothing, simplification and
//! the measurements the tests rely on (volume, closedness, inside tests).

use std::collections::BTreeMap;

use bevy::math::Vec3;
use fast_surface_nets::ndshape::RuntimeShape;
use fast_surface_nets::{SurfaceNetsBuffer, surface_nets};

use super::field::Grid;

/// An indexed triangle mesh, counter-clockwise seen from outside.
#[derive(Clone, Debug, Default)]
pub struct TriMesh {
    /// Vertex positions (metres).
    pub positions: Vec<Vec3>,
    /// Three indices per triangle.
    pub indices: Vec<u32>,
}

impl TriMesh {
    /// Extracts the zero level set of a grid with surface nets, oriented outward.
    pub fn from_grid(grid: &Grid) -> TriMesh {
        let shape = RuntimeShape::<u32, 3>::new(grid.dims);
        let mut buffer = SurfaceNetsBuffer::default();
        let max = [grid.dims[0] - 1, grid.dims[1] - 1, grid.dims[2] - 1];
        surface_nets(&grid.values, &shape, [0; 3], max, &mut buffer);
        let positions = buffer
            .positions
            .iter()
            .map(|p| grid.origin + Vec3::from(*p) * grid.voxel_m)
            .collect();
        let mut mesh = TriMesh {
            positions,
            indices: buffer.indices,
        };
        if mesh.signed_volume_m3() < 0.0 {
            mesh.flip();
        }
        mesh
    }

    /// Drops connected pieces smaller than `min_fraction` of the largest (by triangle
    /// count): a muscle is one piece, and crumbs left where bone was cut out of it would
    /// only show as specks.
    pub fn without_crumbs(&self, min_fraction: f32) -> TriMesh {
        let n = self.positions.len();
        let mut parent: Vec<u32> = (0..n as u32).collect();
        fn find(parent: &mut [u32], mut i: u32) -> u32 {
            while parent[i as usize] != i {
                parent[i as usize] = parent[parent[i as usize] as usize];
                i = parent[i as usize];
            }
            i
        }
        for t in self.indices.chunks_exact(3) {
            for (a, b) in [(t[0], t[1]), (t[1], t[2])] {
                let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
                if ra != rb {
                    parent[ra.max(rb) as usize] = ra.min(rb);
                }
            }
        }
        let mut size: BTreeMap<u32, usize> = BTreeMap::new();
        let roots: Vec<u32> = self
            .indices
            .chunks_exact(3)
            .map(|t| find(&mut parent, t[0]))
            .collect();
        for r in &roots {
            *size.entry(*r).or_insert(0) += 1;
        }
        let largest = size.values().copied().max().unwrap_or(0);
        let keep = |r: &u32| size[r] as f32 >= min_fraction * largest as f32;
        let indices = self
            .indices
            .chunks_exact(3)
            .zip(&roots)
            .filter(|(_, r)| keep(r))
            .flat_map(|(t, _)| t.iter().copied())
            .collect();
        let mut mesh = TriMesh {
            positions: self.positions.clone(),
            indices,
        };
        mesh.compact();
        mesh
    }

    /// Reverses every triangle's winding.
    pub fn flip(&mut self) {
        for tri in self.indices.chunks_exact_mut(3) {
            tri.swap(1, 2);
        }
    }

    /// Number of triangles.
    pub fn triangle_count(&self) -> usize {
        self.indices.len() / 3
    }

    /// Iterates triangles as vertex positions.
    pub fn triangles(&self) -> impl Iterator<Item = [Vec3; 3]> + '_ {
        self.indices.chunks_exact(3).map(|t| {
            [
                self.positions[t[0] as usize],
                self.positions[t[1] as usize],
                self.positions[t[2] as usize],
            ]
        })
    }

    /// The point of the surface closest to `p` (none for a mesh without triangles).
    pub fn closest_point(&self, p: Vec3) -> Option<Vec3> {
        self.triangles()
            .map(|t| closest_point_on_triangle(p, t))
            .filter(|q| q.is_finite())
            .min_by(|x, y| {
                (*x - p)
                    .length_squared()
                    .total_cmp(&(*y - p).length_squared())
            })
    }

    /// Enclosed volume (positive when oriented outward).
    pub fn signed_volume_m3(&self) -> f32 {
        let v: f64 = self
            .triangles()
            .map(|[a, b, c]| f64::from(a.dot(b.cross(c))))
            .sum();
        (v / 6.0) as f32
    }

    /// Axis-aligned bounds.
    pub fn bounds(&self) -> (Vec3, Vec3) {
        self.positions.iter().fold(
            (Vec3::splat(f32::MAX), Vec3::splat(f32::MIN)),
            |(lo, hi), p| (lo.min(*p), hi.max(*p)),
        )
    }

    /// Sorted, de-duplicated neighbours of every vertex.
    pub fn neighbours(&self) -> Vec<Vec<u32>> {
        let mut n: Vec<Vec<u32>> = vec![Vec::new(); self.positions.len()];
        for t in self.indices.chunks_exact(3) {
            for (a, b) in [(t[0], t[1]), (t[1], t[2]), (t[2], t[0])] {
                n[a as usize].push(b);
                n[b as usize].push(a);
            }
        }
        for list in &mut n {
            list.sort_unstable();
            list.dedup();
        }
        n
    }

    /// Taubin λ|μ smoothing: removes the voxel staircase without shrinking the shape.
    /// Vertices where `pinned` is true stay put.
    pub fn taubin_smooth(&mut self, passes: usize, pinned: &dyn Fn(Vec3) -> bool) {
        const LAMBDA: f32 = 0.5;
        const MU: f32 = -0.53;
        let neighbours = self.neighbours();
        let fixed: Vec<bool> = self.positions.iter().map(|p| pinned(*p)).collect();
        for _ in 0..passes {
            for factor in [LAMBDA, MU] {
                let next: Vec<Vec3> = self
                    .positions
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let n = &neighbours[i];
                        if n.is_empty() || fixed[i] {
                            return *p;
                        }
                        let mean = n.iter().map(|j| self.positions[*j as usize]).sum::<Vec3>()
                            / n.len() as f32;
                        *p + (mean - *p) * factor
                    })
                    .collect();
                self.positions = next;
            }
        }
    }

    /// Simplifies to at most `max_vertices` (keeps topology; meshoptimizer), then compacts
    /// and orders the vertices for the GPU cache.
    pub fn simplified(&self, max_vertices: usize) -> TriMesh {
        let mut mesh = if self.positions.len() > max_vertices {
            let flat: Vec<[f32; 3]> = self.positions.iter().map(|p| p.to_array()).collect();
            let bytes = meshopt::typed_to_bytes(&flat);
            match meshopt::VertexDataAdapter::new(bytes, 12, 0) {
                Ok(adapter) => {
                    // Surface nets make about two triangles per vertex.
                    let target_indices = max_vertices * 2 * 3;
                    let indices = meshopt::simplify(
                        &self.indices,
                        &adapter,
                        target_indices,
                        0.05,
                        meshopt::SimplifyOptions::None,
                        None,
                    );
                    TriMesh {
                        positions: self.positions.clone(),
                        indices,
                    }
                }
                Err(_) => self.clone(),
            }
        } else {
            self.clone()
        };
        mesh.compact();
        mesh
    }

    /// Drops unused vertices and orders the rest for vertex-cache and fetch locality.
    pub fn compact(&mut self) {
        let mut indices = meshopt::optimize_vertex_cache(&self.indices, self.positions.len());
        let flat: Vec<[f32; 3]> = self.positions.iter().map(|p| p.to_array()).collect();
        let kept = meshopt::optimize_vertex_fetch(&mut indices, &flat);
        let used = indices.iter().max().map_or(0, |m| *m as usize + 1);
        self.positions = kept[..used].iter().map(|p| Vec3::from(*p)).collect();
        self.indices = indices;
    }

    /// Smooth vertex normals (angle-independent, area weighted).
    pub fn normals(&self) -> Vec<Vec3> {
        let mut n = vec![Vec3::ZERO; self.positions.len()];
        for t in self.indices.chunks_exact(3) {
            let [a, b, c] = [t[0], t[1], t[2]].map(|i| self.positions[i as usize]);
            let face = (b - a).cross(c - a);
            for i in t {
                n[*i as usize] += face;
            }
        }
        n.into_iter()
            .map(|v| v.try_normalize().unwrap_or(Vec3::Y))
            .collect()
    }

    /// True when every edge has exactly one partner running the other way (closed,
    /// consistently oriented).
    pub fn is_closed(&self) -> bool {
        let mut edges: BTreeMap<(u32, u32), i32> = BTreeMap::new();
        for t in self.indices.chunks_exact(3) {
            for (a, b) in [(t[0], t[1]), (t[1], t[2]), (t[2], t[0])] {
                *edges.entry((a, b)).or_insert(0) += 1;
            }
        }
        edges
            .iter()
            .all(|((a, b), count)| edges.get(&(*b, *a)) == Some(count))
    }
}

/// Answers "is this point inside the closed mesh?" quickly, by casting a ray along +X and
/// counting crossings, with triangles binned in the YZ plane.
pub struct InsideTester {
    triangles: Vec<[Vec3; 3]>,
    min: Vec3,
    cell_m: f32,
    cells: [usize; 2],
    bins: Vec<Vec<u32>>,
}

impl InsideTester {
    /// Prepares a tester for a closed mesh.
    pub fn new(mesh: &TriMesh) -> Self {
        let (min, max) = mesh.bounds();
        let cell_m = 0.005;
        let cells = [
            ((max.y - min.y) / cell_m).ceil() as usize + 1,
            ((max.z - min.z) / cell_m).ceil() as usize + 1,
        ];
        let triangles: Vec<[Vec3; 3]> = mesh.triangles().collect();
        let mut bins = vec![Vec::new(); cells[0] * cells[1]];
        for (i, [a, b, c]) in triangles.iter().enumerate() {
            let lo = a.min(*b).min(*c);
            let hi = a.max(*b).max(*c);
            let y0 = ((lo.y - min.y) / cell_m) as usize;
            let y1 = ((hi.y - min.y) / cell_m) as usize;
            let z0 = ((lo.z - min.z) / cell_m) as usize;
            let z1 = ((hi.z - min.z) / cell_m) as usize;
            for y in y0..=y1.min(cells[0] - 1) {
                for z in z0..=z1.min(cells[1] - 1) {
                    bins[y + cells[0] * z].push(i as u32);
                }
            }
        }
        InsideTester {
            triangles,
            min,
            cell_m,
            cells,
            bins,
        }
    }

    /// Whether `p` lies inside.
    pub fn contains(&self, p: Vec3) -> bool {
        let gy = (p.y - self.min.y) / self.cell_m;
        let gz = (p.z - self.min.z) / self.cell_m;
        if gy < 0.0 || gz < 0.0 {
            return false;
        }
        let (y, z) = (gy as usize, gz as usize);
        if y >= self.cells[0] || z >= self.cells[1] {
            return false;
        }
        let mut crossings = 0;
        for &i in &self.bins[y + self.cells[0] * z] {
            let [a, b, c] = self.triangles[i as usize];
            // Barycentric test of (p.y, p.z) in the projected triangle.
            let d = (b.y - a.y) * (c.z - a.z) - (c.y - a.y) * (b.z - a.z);
            if d.abs() < 1e-14 {
                continue;
            }
            let u = ((p.y - a.y) * (c.z - a.z) - (c.y - a.y) * (p.z - a.z)) / d;
            let v = ((b.y - a.y) * (p.z - a.z) - (p.y - a.y) * (b.z - a.z)) / d;
            if u < 0.0 || v < 0.0 || u + v > 1.0 {
                continue;
            }
            let x = a.x + u * (b.x - a.x) + v * (c.x - a.x);
            if x > p.x {
                crossings += 1;
            }
        }
        crossings % 2 == 1
    }
}

/// The point of triangle `[a, b, c]` closest to `p` (Ericson, *Real-Time Collision
/// Detection*, 5.1.5).
pub fn closest_point_on_triangle(p: Vec3, [a, b, c]: [Vec3; 3]) -> Vec3 {
    let ab = b - a;
    let ac = c - a;
    let ap = p - a;
    let d1 = ab.dot(ap);
    let d2 = ac.dot(ap);
    if d1 <= 0.0 && d2 <= 0.0 {
        return a;
    }
    let bp = p - b;
    let d3 = ab.dot(bp);
    let d4 = ac.dot(bp);
    if d3 >= 0.0 && d4 <= d3 {
        return b;
    }
    let vc = d1 * d4 - d3 * d2;
    // Each division below guards a zero-length edge or a flat triangle (0/0 would be NaN).
    if vc <= 0.0 && d1 >= 0.0 && d3 <= 0.0 {
        return a + ab * safe_ratio(d1, d1 - d3);
    }
    let cp = p - c;
    let d5 = ab.dot(cp);
    let d6 = ac.dot(cp);
    if d6 >= 0.0 && d5 <= d6 {
        return c;
    }
    let vb = d5 * d2 - d1 * d6;
    if vb <= 0.0 && d2 >= 0.0 && d6 <= 0.0 {
        return a + ac * safe_ratio(d2, d2 - d6);
    }
    let va = d3 * d6 - d5 * d4;
    if va <= 0.0 && (d4 - d3) >= 0.0 && (d5 - d6) >= 0.0 {
        return b + (c - b) * safe_ratio(d4 - d3, (d4 - d3) + (d5 - d6));
    }
    let sum = va + vb + vc;
    if sum.abs() <= 1e-20 {
        // A flat triangle: the nearest of its corners.
        return [a, b, c]
            .into_iter()
            .min_by(|x, y| {
                (*x - p)
                    .length_squared()
                    .total_cmp(&(*y - p).length_squared())
            })
            .unwrap_or(a);
    }
    a + ab * (vb / sum) + ac * (vc / sum)
}

/// `n / d` clamped to 0…1, and 0 where `d` is (nearly) zero.
fn safe_ratio(n: f32, d: f32) -> f32 {
    if d.abs() <= 1e-20 {
        0.0
    } else {
        (n / d).clamp(0.0, 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modelgen::field::{Part, Primitive, rasterize};

    fn ball() -> TriMesh {
        let g = rasterize(
            &[Part::union(
                vec![Primitive::Sphere {
                    centre: Vec3::ZERO,
                    radius_m: 0.02,
                }],
                0.0,
            )],
            0.002,
        );
        TriMesh::from_grid(&g)
    }

    #[test]
    fn sphere_mesh_is_closed_with_right_volume() {
        let mut m = ball();
        assert!(m.is_closed());
        m.taubin_smooth(10, &|_| false);
        let exact = 4.0 / 3.0 * std::f32::consts::PI * 0.02f32.powi(3);
        let v = m.signed_volume_m3();
        assert!((v / exact - 1.0).abs() < 0.05, "{v} vs {exact}");
        let s = m.simplified(200);
        assert!(s.positions.len() <= 220, "{}", s.positions.len());
        assert!(s.is_closed());
        assert!(s.signed_volume_m3() > 0.9 * exact);
    }

    #[test]
    fn crumbs_are_dropped_and_the_main_piece_kept() {
        let g = rasterize(
            &[Part::union(
                vec![
                    Primitive::Sphere {
                        centre: Vec3::ZERO,
                        radius_m: 0.02,
                    },
                    Primitive::Sphere {
                        centre: Vec3::X * 0.05,
                        radius_m: 0.003,
                    },
                ],
                0.0,
            )],
            0.001,
        );
        let m = TriMesh::from_grid(&g);
        let clean = m.without_crumbs(0.05);
        assert!(clean.triangle_count() < m.triangle_count());
        assert!(clean.positions.iter().all(|p| p.x < 0.03));
        assert!(clean.is_closed());
    }

    #[test]
    fn inside_tester_agrees_with_sphere() {
        let m = ball();
        let t = InsideTester::new(&m);
        assert!(t.contains(Vec3::new(0.001, 0.002, -0.003)));
        assert!(t.contains(Vec3::new(0.015, 0.0, 0.0)));
        assert!(!t.contains(Vec3::new(0.025, 0.0, 0.0)));
        assert!(!t.contains(Vec3::new(0.0, 0.03, 0.0)));
    }

    #[test]
    fn closest_point_on_triangle_finds_the_face_edges_and_corners() {
        let t = [Vec3::ZERO, Vec3::X, Vec3::Y];
        let near = |p: Vec3, want: Vec3| {
            let got = closest_point_on_triangle(p, t);
            assert!((got - want).length() < 1e-6, "{p} -> {got}, not {want}");
        };
        near(Vec3::new(0.2, 0.2, 1.0), Vec3::new(0.2, 0.2, 0.0));
        near(Vec3::new(-1.0, -1.0, 0.3), Vec3::ZERO);
        near(Vec3::new(2.0, -0.5, 0.0), Vec3::X);
        near(Vec3::new(0.5, -1.0, 0.0), Vec3::new(0.5, 0.0, 0.0));
        near(Vec3::new(1.0, 1.0, 0.0), Vec3::new(0.5, 0.5, 0.0));
        near(Vec3::new(-0.5, 0.5, 0.0), Vec3::new(0.0, 0.5, 0.0));
        // Degenerate triangles give a point on them, never NaN.
        for t in [
            [Vec3::ZERO, Vec3::ZERO, Vec3::Y],
            [Vec3::ZERO; 3],
            [Vec3::ZERO, Vec3::X, Vec3::X * 2.0],
        ] {
            let q = closest_point_on_triangle(Vec3::new(0.3, 0.4, 0.5), t);
            assert!(q.is_finite(), "{t:?} -> {q}");
        }
    }
}
