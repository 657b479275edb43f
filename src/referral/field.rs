//! Heat fields on the skin, as plain numbers: the skin as a graph of vertices and edges, a
//! field per source and side spread from its zones along the surface (Dijkstra on the mesh
//! edges, a Gaussian fall-off, then a few smoothing passes so zone edges are soft), the
//! per-frame combination of the active sources, and the ranking of sources against a drawing.
//! Pure: no ECS.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BinaryHeap};

use bevy::math::Vec3;
use rayon::prelude::*;

use super::data::{PainLayer, ReferralFile, SourceId};
use crate::anatomy::{Side, SkinRegion};

/// How far heat spreads past a zone's edge: the Gaussian fall-off's σ, metres.
pub const SPREAD_SIGMA_M: f32 = 0.03;
/// Beyond this geodesic distance from a zone (3σ) its heat is below 0.02 % and is dropped.
pub const SPREAD_CUTOFF_M: f32 = 3.0 * SPREAD_SIGMA_M;
/// Smoothing passes over each field (soft zone edges, no region-shaped blocks).
pub const SMOOTHING_PASSES: usize = 6;
/// Field values below this are not stored.
pub const FIELD_EPSILON: f32 = 1e-3;

/// The skin as a graph: vertices, their region, area, and edges with their lengths.
#[derive(Clone, Debug)]
pub struct SkinSurface {
    /// Vertex positions (model frame, rest pose), metres.
    pub positions: Vec<Vec3>,
    /// Each vertex's body region (`None` where the label is not a known region).
    pub regions: Vec<Option<SkinRegion>>,
    /// Area belonging to each vertex (a third of its triangles'), m².
    pub vertex_area_m2: Vec<f32>,
    /// Adjacency in compressed rows: the neighbours of `v` are
    /// `neighbours[offsets[v]..offsets[v + 1]]`.
    offsets: Vec<u32>,
    neighbours: Vec<(u32, f32)>,
}

impl SkinSurface {
    /// Builds the graph from a triangle mesh and each vertex's `_REGION` index.
    pub fn new(positions: Vec<Vec3>, indices: &[u32], region_index: &[f32]) -> Self {
        let n = positions.len();
        let mut edges: Vec<(u32, u32)> = Vec::with_capacity(indices.len() * 2);
        let mut vertex_area_m2 = vec![0.0f32; n];
        for t in indices.chunks_exact(3) {
            let [a, b, c] = [t[0], t[1], t[2]];
            if [a, b, c].iter().any(|&i| i as usize >= n) {
                continue;
            }
            let (pa, pb, pc) = (
                positions[a as usize],
                positions[b as usize],
                positions[c as usize],
            );
            let third = (pb - pa).cross(pc - pa).length() / 6.0;
            for v in [a, b, c] {
                vertex_area_m2[v as usize] += third;
            }
            for (p, q) in [(a, b), (b, c), (c, a)] {
                edges.push((p, q));
                edges.push((q, p));
            }
        }
        edges.sort_unstable();
        edges.dedup();
        let mut offsets = vec![0u32; n + 1];
        for (from, _) in &edges {
            offsets[*from as usize + 1] += 1;
        }
        for i in 0..n {
            offsets[i + 1] += offsets[i];
        }
        let neighbours = edges
            .iter()
            .map(|&(p, q)| (q, (positions[p as usize] - positions[q as usize]).length()))
            .collect();
        let regions = (0..n)
            .map(|i| {
                region_index
                    .get(i)
                    .filter(|r| r.is_finite() && **r >= 0.0 && r.fract() == 0.0)
                    .and_then(|r| SkinRegion::from_index(*r as u16))
            })
            .collect();
        Self {
            positions,
            regions,
            vertex_area_m2,
            offsets,
            neighbours,
        }
    }

    /// Number of vertices.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// Whether the surface has no vertices.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// The neighbours of `v` with the edge lengths.
    pub fn neighbours(&self, v: u32) -> &[(u32, f32)] {
        let (a, b) = (self.offsets[v as usize], self.offsets[v as usize + 1]);
        &self.neighbours[a as usize..b as usize]
    }

    /// The vertices of a region.
    pub fn vertices_of(&self, region: SkinRegion) -> Vec<u32> {
        (0..self.len() as u32)
            .filter(|&v| self.regions[v as usize] == Some(region))
            .collect()
    }
}

#[derive(Clone, Copy, PartialEq)]
struct Visit {
    distance_m: f32,
    vertex: u32,
}

impl Eq for Visit {}

impl Ord for Visit {
    fn cmp(&self, other: &Self) -> Ordering {
        // Smallest distance first (BinaryHeap is a max-heap).
        other
            .distance_m
            .total_cmp(&self.distance_m)
            .then(other.vertex.cmp(&self.vertex))
    }
}

impl PartialOrd for Visit {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Distances along the surface's edges from the nearest seed, up to `max_m`, visiting only
/// vertices `allowed` says yes to (so heat cannot cross to the other side). Sparse: only
/// vertices reached.
pub fn geodesic_distances(
    surface: &SkinSurface,
    seeds: &[u32],
    allowed: &dyn Fn(u32) -> bool,
    max_m: f32,
) -> BTreeMap<u32, f32> {
    // Dense while searching (a map per step was the slow part), sparse for the answer.
    let mut best = vec![f32::INFINITY; surface.len()];
    let mut reached = Vec::new();
    let mut heap = BinaryHeap::new();
    for &s in seeds {
        if (s as usize) < surface.len() && allowed(s) {
            if best[s as usize].is_infinite() {
                reached.push(s);
            }
            best[s as usize] = 0.0;
            heap.push(Visit {
                distance_m: 0.0,
                vertex: s,
            });
        }
    }
    while let Some(Visit { distance_m, vertex }) = heap.pop() {
        if best[vertex as usize] < distance_m {
            continue;
        }
        for &(next, length) in surface.neighbours(vertex) {
            let d = distance_m + length;
            if d > max_m || !allowed(next) {
                continue;
            }
            let old = &mut best[next as usize];
            // An unreached vertex takes any distance, as the map this replaced did.
            if old.is_infinite() || d < *old {
                if old.is_infinite() {
                    reached.push(next);
                }
                *old = d;
                heap.push(Visit {
                    distance_m: d,
                    vertex: next,
                });
            }
        }
    }
    reached.into_iter().map(|v| (v, best[v as usize])).collect()
}

/// A field over the skin: a value in 0–1 at the vertices it reaches (sparse, sorted).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Field {
    /// (vertex, value) pairs, vertex ascending.
    pub values: Vec<(u32, f32)>,
}

impl Field {
    /// The value at a vertex (0 where the field does not reach).
    pub fn at(&self, v: u32) -> f32 {
        self.values
            .binary_search_by_key(&v, |(i, _)| *i)
            .map_or(0.0, |i| self.values[i].1)
    }
}

/// One zone of a field: its seed vertices and weight.
pub struct ZoneSeeds {
    /// The zone's vertices.
    pub vertices: Vec<u32>,
    /// Its weight, 0–1.
    pub weight: f32,
}

/// The field of a set of zones: each zone at full weight inside, falling off as a Gaussian
/// of the geodesic distance outside; the largest zone value wins; then smoothed so edges are
/// soft. Only `allowed` vertices get heat.
pub fn zone_field(
    surface: &SkinSurface,
    zones: &[ZoneSeeds],
    allowed: &dyn Fn(u32) -> bool,
) -> Field {
    // Dense over the skin's vertices: maps and sets per pass took most of the precompute.
    let allowed_mask: Vec<bool> = (0..surface.len() as u32).map(allowed).collect();
    let mut raw = vec![0.0_f32; surface.len()];
    for zone in zones {
        let distances = geodesic_distances(surface, &zone.vertices, allowed, SPREAD_CUTOFF_M);
        for (v, d) in distances {
            let value = zone.weight * (-(d / SPREAD_SIGMA_M).powi(2)).exp();
            let entry = &mut raw[v as usize];
            *entry = entry.max(value);
        }
    }
    // Smoothing: each pass averages a vertex with its neighbours (over allowed vertices).
    let mut next = vec![0.0_f32; surface.len()];
    for _ in 0..SMOOTHING_PASSES {
        for (v, out) in next.iter_mut().enumerate() {
            *out = 0.0;
            if !allowed_mask[v] {
                continue;
            }
            let own = raw[v];
            let (mut sum, mut count) = (0.0_f32, 0_u32);
            for &(n, _) in surface.neighbours(v as u32) {
                if allowed_mask[n as usize] {
                    sum += raw[n as usize];
                    count += 1;
                }
            }
            let value = if count == 0 {
                own
            } else {
                0.5 * own + 0.5 * sum / count as f32
            };
            if value > FIELD_EPSILON {
                *out = value;
            }
        }
        std::mem::swap(&mut raw, &mut next);
    }
    Field {
        values: raw
            .into_iter()
            .enumerate()
            .filter(|(_, value)| *value > FIELD_EPSILON)
            .map(|(v, value)| (v as u32, value.min(1.0)))
            .collect(),
    }
}

/// Whether a side's heat may reach a vertex: its own regions, and the source's half of the
/// midline regions (sacrum, coccyx), so heat never crosses to the other side.
fn vertex_allowed(surface: &SkinSurface, v: u32, side: Side) -> bool {
    match surface.regions[v as usize] {
        Some(region) if region.side == side => true,
        Some(region) if region.side == Side::Midline => {
            // Half a centimetre past the midline: the vertices on it.
            surface.positions[v as usize].x * side.gltf_x_sign() >= -0.005
        }
        _ => false,
    }
}

/// A source's field on one side.
#[derive(Clone, Debug)]
pub struct SourceField {
    /// Which source.
    pub source: SourceId,
    /// Which side of the body.
    pub side: Side,
    /// Somatic or neuropathic.
    pub layer: PainLayer,
    /// The field.
    pub field: Field,
}

/// Every source's field on both sides, precomputed once per skin.
#[derive(Clone, Debug, Default)]
pub struct Fields {
    /// One per source and side.
    pub fields: Vec<SourceField>,
    /// Vertices of the skin the fields belong to.
    pub vertex_count: usize,
}

/// Precomputes every referral file's field on both sides of `surface`, the fields in
/// parallel (each is its own Dijkstra; one after another they took 0.59 s of a scenario's
/// screenshot on 2 cores). In file order, left then right.
pub fn precompute(surface: &SkinSurface, referrals: &[ReferralFile]) -> Fields {
    let jobs: Vec<(&ReferralFile, Side)> = referrals
        .iter()
        .flat_map(|referral| [Side::Left, Side::Right].map(|side| (referral, side)))
        .collect();
    let fields = jobs
        .par_iter()
        .map(|(referral, side)| source_field(surface, referral, *side))
        .collect();
    Fields {
        fields,
        vertex_count: surface.len(),
    }
}

/// One referral file's field on one side.
fn source_field(surface: &SkinSurface, referral: &ReferralFile, side: Side) -> SourceField {
    let zones: Vec<ZoneSeeds> = referral
        .zones
        .iter()
        .map(|zone| {
            let mut vertices = surface.vertices_of(SkinRegion::on_side(zone.region.0, side));
            if let Some(band_m) = zone.beside_spine_m {
                // The subject's midline is x = 0 in the model frame.
                vertices.retain(|v| surface.positions[*v as usize].x.abs() <= band_m);
            }
            if let Some(upper_m) = zone.upper_m {
                let top = vertices
                    .iter()
                    .map(|v| surface.positions[*v as usize].y)
                    .fold(f32::MIN, f32::max);
                vertices.retain(|v| surface.positions[*v as usize].y >= top - upper_m);
            }
            ZoneSeeds {
                vertices,
                weight: zone.weight.get(),
            }
        })
        .collect();
    let allowed = |v: u32| vertex_allowed(surface, v, side);
    SourceField {
        source: referral.source,
        side,
        layer: referral.layer,
        field: zone_field(surface, &zones, &allowed),
    }
}

/// How strongly each source is active now: (source, side, intensity 0–1).
pub type Intensities = Vec<(SourceId, Side, f32)>;

/// Heat per vertex of one layer: `1 − Π (1 − intensity · field)` over the active sources.
/// Each source alone gives its intensity times its field; several sources add up without
/// ever passing 1 (like independent chances). Writes into `out` (resized to the skin).
pub fn heat_into(fields: &Fields, intensities: &Intensities, layer: PainLayer, out: &mut Vec<f32>) {
    out.clear();
    out.resize(fields.vertex_count, 1.0);
    for f in fields.fields.iter().filter(|f| f.layer == layer) {
        let Some(intensity) = intensities
            .iter()
            .find(|(s, side, _)| *s == f.source && *side == f.side)
            .map(|(_, _, i)| i.clamp(0.0, 1.0))
            .filter(|i| *i > 0.0)
        else {
            continue;
        };
        for &(v, value) in &f.field.values {
            if let Some(remaining) = out.get_mut(v as usize) {
                *remaining *= 1.0 - intensity * value;
            }
        }
    }
    for h in out.iter_mut() {
        *h = (1.0 - *h).clamp(0.0, 1.0);
    }
}

/// How each active source contributes at one vertex: (source, side, intensity × field).
pub fn contributions_at(
    fields: &Fields,
    intensities: &Intensities,
    vertex: u32,
) -> Vec<(SourceId, Side, PainLayer, f32)> {
    let mut out: Vec<(SourceId, Side, PainLayer, f32)> = fields
        .fields
        .iter()
        .filter_map(|f| {
            let intensity = intensities
                .iter()
                .find(|(s, side, _)| *s == f.source && *side == f.side)
                .map(|(_, _, i)| *i)?;
            let value = intensity * f.field.at(vertex);
            (value > 0.01).then_some((f.source, f.side, f.layer, value))
        })
        .collect();
    out.sort_by(|a, b| b.3.total_cmp(&a.3));
    out
}

/// How well a source's field explains a drawing.
#[derive(Clone, Debug, PartialEq)]
pub struct Match {
    /// The source.
    pub source: SourceId,
    /// Its side.
    pub side: Side,
    /// Its layer.
    pub layer: PainLayer,
    /// Weighted Jaccard overlap, 0–1: Σ a·min(D, F) / Σ a·max(D, F) over the skin, with a
    /// the vertex area, D the drawing and F the field.
    pub score: f32,
    /// Share of the drawing the field covers (Σ a·min / Σ a·D).
    pub covers_drawing: f32,
    /// Share of the field the drawing covers (Σ a·min / Σ a·F).
    pub covers_pattern: f32,
}

/// Ranks every source and side by the weighted Jaccard overlap of its field with `drawing`
/// (one value 0–1 per vertex), best first.
pub fn rank(surface: &SkinSurface, fields: &Fields, drawing: &[f32]) -> Vec<Match> {
    let area = |v: usize| surface.vertex_area_m2.get(v).copied().unwrap_or(0.0);
    let drawn: f32 = drawing
        .iter()
        .enumerate()
        .map(|(v, d)| area(v) * d.clamp(0.0, 1.0))
        .sum();
    let mut matches: Vec<Match> = fields
        .fields
        .iter()
        .map(|f| {
            let mut both = 0.0f32;
            let mut field_total = 0.0f32;
            let mut either_extra = 0.0f32;
            for &(v, value) in &f.field.values {
                let d = drawing
                    .get(v as usize)
                    .copied()
                    .unwrap_or(0.0)
                    .clamp(0.0, 1.0);
                let a = area(v as usize);
                both += a * d.min(value);
                field_total += a * value;
                // max(D, F) = D + F − min(D, F); the D part is added once below.
                either_extra += a * (value - d.min(value));
            }
            let union = drawn + either_extra;
            Match {
                source: f.source,
                side: f.side,
                layer: f.layer,
                score: if union > 0.0 { both / union } else { 0.0 },
                covers_drawing: if drawn > 0.0 { both / drawn } else { 0.0 },
                covers_pattern: if field_total > 0.0 {
                    both / field_total
                } else {
                    0.0
                },
            }
        })
        .collect();
    matches.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.source.cmp(&b.source))
            .then(a.side.cmp(&b.side))
    });
    matches
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anatomy::SkinRegionKind;

    /// A strip of quads along x, `n` long, 1 cm apart, two vertices wide; regions by x.
    fn strip(n: usize, region_of_x: impl Fn(f32) -> SkinRegion) -> SkinSurface {
        let mut positions = Vec::new();
        for i in 0..n {
            for j in 0..2 {
                positions.push(Vec3::new(i as f32 * 0.01, 0.0, j as f32 * 0.01));
            }
        }
        let mut indices = Vec::new();
        for i in 0..n as u32 - 1 {
            let (a, b, c, d) = (2 * i, 2 * i + 1, 2 * i + 2, 2 * i + 3);
            indices.extend([a, c, b, b, c, d]);
        }
        let regions: Vec<f32> = positions
            .iter()
            .map(|p| f32::from(region_of_x(p.x).index()))
            .collect();
        SkinSurface::new(positions, &indices, &regions)
    }

    fn region(kind: SkinRegionKind, side: Side) -> SkinRegion {
        SkinRegion { kind, side }
    }

    #[test]
    fn distances_follow_the_surface() {
        let s = strip(30, |_| region(SkinRegionKind::ButtockUpper, Side::Right));
        let d = geodesic_distances(&s, &[0], &|_| true, 1.0);
        assert!((d[&2] - 0.01).abs() < 1e-6, "one step along");
        assert!((d[&20] - 0.10).abs() < 1e-5, "ten steps along");
        let near = geodesic_distances(&s, &[0], &|_| true, 0.05);
        assert!(!near.contains_key(&20), "the cut-off holds");
    }

    /// Around a cylinder (a thigh, say) the way to the far side is half the circumference
    /// along the skin, not the diameter through the body.
    #[test]
    fn distances_go_around_a_cylinder_not_through_it() {
        let (around, rows, radius_m, step_m) = (64u32, 11u32, 0.1f32, 0.01f32);
        let mut positions = Vec::new();
        for row in 0..rows {
            for k in 0..around {
                let angle = std::f32::consts::TAU * k as f32 / around as f32;
                positions.push(Vec3::new(
                    radius_m * angle.cos(),
                    row as f32 * step_m,
                    radius_m * angle.sin(),
                ));
            }
        }
        let at = |row: u32, k: u32| row * around + k % around;
        let mut indices = Vec::new();
        for row in 0..rows - 1 {
            for k in 0..around {
                let (a, b, c, d) = (
                    at(row, k),
                    at(row, k + 1),
                    at(row + 1, k),
                    at(row + 1, k + 1),
                );
                indices.extend([a, c, b, b, c, d]);
            }
        }
        let regions = vec![
            f32::from(region(SkinRegionKind::PosteriorThigh, Side::Right).index());
            positions.len()
        ];
        let s = SkinSurface::new(positions, &indices, &regions);
        let d = geodesic_distances(&s, &[at(0, 0)], &|_| true, 1.0);
        // Half the polygon's perimeter: 32 chords of 2 r sin(π/64).
        let half_round_m = 32.0 * 2.0 * radius_m * (std::f32::consts::PI / 64.0).sin();
        let far = d[&at(0, around / 2)];
        assert!(
            (far - half_round_m).abs() < 1e-4,
            "far side at {far} m, around the surface {half_round_m} m (through it: 0.2 m)"
        );
        assert!((d[&at(10, 0)] - 0.10).abs() < 1e-5, "straight up the side");
        // A field seeded on one side of the cylinder fades before the far side.
        let f = zone_field(
            &s,
            &[ZoneSeeds {
                vertices: (0..rows).map(|row| at(row, 0)).collect(),
                weight: 1.0,
            }],
            &|_| true,
        );
        // Strongest on the seeded line, falling off the same way both ways round, least on the
        // far side.
        let ring: Vec<f32> = (0..=around / 2).map(|k| f.at(at(5, k))).collect();
        assert!(ring[0] > 0.0, "no heat on its own zone");
        assert!(
            ring.windows(2).all(|w| w[1] <= w[0] + 1e-6),
            "not falling off around the cylinder: {ring:?}"
        );
        assert!(ring[2] > ring[around as usize / 2], "{ring:?}");
        for k in 1..around / 2 {
            assert!((f.at(at(5, k)) - f.at(at(5, around - k))).abs() < 1e-5);
        }
    }

    #[test]
    fn a_field_is_full_in_its_zone_and_falls_off_smoothly_along_the_strip() {
        // Zone: the first 10 cm; the rest another region of the same side.
        let s = strip(40, |x| {
            if x < 0.095 {
                region(SkinRegionKind::ButtockUpper, Side::Right)
            } else {
                region(SkinRegionKind::PosteriorThigh, Side::Right)
            }
        });
        let zone = ZoneSeeds {
            vertices: s.vertices_of(region(SkinRegionKind::ButtockUpper, Side::Right)),
            weight: 1.0,
        };
        let f = zone_field(&s, &[zone], &|_| true);
        let at_x = |i: u32| f.at(2 * i);
        assert!(at_x(2) > 0.95, "inside the zone: {}", at_x(2));
        // Monotonic fall-off away from the zone, soft at its edge, gone far away.
        let mut last = 1.0;
        for i in 8..40 {
            let v = at_x(i);
            assert!(v <= last + 1e-6, "not monotonic at {i}");
            last = v;
        }
        let (inside_edge, outside_edge) = (at_x(9), at_x(11));
        assert!(
            inside_edge - outside_edge < 0.3,
            "a hard edge: {inside_edge} → {outside_edge}"
        );
        assert!(at_x(30) < 0.01, "heat far away: {}", at_x(30));
    }

    #[test]
    fn no_heat_crosses_a_gap_or_to_the_other_side() {
        // Two strips that do not touch: heat stays on the first.
        let a = strip(10, |_| region(SkinRegionKind::ButtockUpper, Side::Right));
        let mut positions = a.positions.clone();
        let offset = positions.len() as u32;
        positions.extend(a.positions.iter().map(|p| *p + Vec3::new(0.0, 0.005, 0.0)));
        let mut indices = Vec::new();
        for i in 0..9u32 {
            let (p, q, r, t) = (2 * i, 2 * i + 1, 2 * i + 2, 2 * i + 3);
            indices.extend([p, r, q, q, r, t]);
            indices.extend([
                p + offset,
                r + offset,
                q + offset,
                q + offset,
                r + offset,
                t + offset,
            ]);
        }
        let regions = vec![
            f32::from(region(SkinRegionKind::ButtockUpper, Side::Right).index());
            positions.len()
        ];
        let s = SkinSurface::new(positions, &indices, &regions);
        let f = zone_field(
            &s,
            &[ZoneSeeds {
                vertices: vec![0, 1],
                weight: 1.0,
            }],
            &|_| true,
        );
        assert!(f.at(2) > 0.5);
        assert!(
            (offset..2 * offset).all(|v| f.at(v) == 0.0),
            "heat crossed the gap"
        );

        // One strip, left half and right half: a right-side source stays right.
        let s = strip(30, |x| {
            if x < 0.145 {
                region(SkinRegionKind::ButtockUpper, Side::Right)
            } else {
                region(SkinRegionKind::ButtockUpper, Side::Left)
            }
        });
        let right = |v: u32| vertex_allowed(&s, v, Side::Right);
        let f = zone_field(
            &s,
            &[ZoneSeeds {
                vertices: vec![24, 25],
                weight: 1.0,
            }],
            &right,
        );
        // Judged by where the vertices lie, not by the rule under test: the left half of the
        // strip (x from 0.15 m) gets nothing, though the heat reaches right up to it.
        let x_of = |v: u32| s.positions[v as usize].x;
        assert!(
            f.values.iter().all(|(v, _)| x_of(*v) < 0.145),
            "heat on the left side"
        );
        assert!(f.at(28) > 0.0, "no heat next to the midline (x = 0.14 m)");
    }

    #[test]
    fn heat_combines_without_passing_one() {
        let fields = Fields {
            vertex_count: 3,
            fields: vec![
                SourceField {
                    source: SourceId::Piriformis,
                    side: Side::Right,
                    layer: PainLayer::Somatic,
                    field: Field {
                        values: vec![(0, 1.0), (1, 0.5)],
                    },
                },
                SourceField {
                    source: SourceId::SacroiliacJoint,
                    side: Side::Right,
                    layer: PainLayer::Somatic,
                    field: Field {
                        values: vec![(1, 0.5), (2, 1.0)],
                    },
                },
                SourceField {
                    source: SourceId::SciaticNerve,
                    side: Side::Right,
                    layer: PainLayer::Neuropathic,
                    field: Field {
                        values: vec![(0, 1.0), (1, 1.0), (2, 1.0)],
                    },
                },
            ],
        };
        let mut heat = Vec::new();
        let active = vec![
            (SourceId::Piriformis, Side::Right, 0.8),
            (SourceId::SacroiliacJoint, Side::Right, 1.0),
        ];
        heat_into(&fields, &active, PainLayer::Somatic, &mut heat);
        assert!((heat[0] - 0.8).abs() < 1e-6, "alone: intensity × field");
        // Both at vertex 1: 1 − (1 − 0.4)(1 − 0.5) = 0.7.
        assert!((heat[1] - 0.7).abs() < 1e-6);
        assert!((heat[2] - 1.0).abs() < 1e-6);
        // The nerve's layer is separate and inactive here.
        heat_into(&fields, &active, PainLayer::Neuropathic, &mut heat);
        assert!(heat.iter().all(|h| *h == 0.0));
        // Never past 1.
        let strong = vec![
            (SourceId::Piriformis, Side::Right, 5.0),
            (SourceId::SacroiliacJoint, Side::Right, 5.0),
        ];
        heat_into(&fields, &strong, PainLayer::Somatic, &mut heat);
        assert!(heat.iter().all(|h| (0.0..=1.0).contains(h)));
        let c = contributions_at(&fields, &active, 1);
        assert_eq!(c[0].0, SourceId::SacroiliacJoint);
        assert!((c[1].3 - 0.4).abs() < 1e-6);
    }

    #[test]
    fn the_best_match_is_the_pattern_drawn() {
        let s = strip(40, |x| {
            if x < 0.195 {
                region(SkinRegionKind::ButtockUpper, Side::Right)
            } else {
                region(SkinRegionKind::PosteriorThigh, Side::Right)
            }
        });
        let near = zone_field(
            &s,
            &[ZoneSeeds {
                vertices: s.vertices_of(region(SkinRegionKind::ButtockUpper, Side::Right)),
                weight: 1.0,
            }],
            &|_| true,
        );
        let far = zone_field(
            &s,
            &[ZoneSeeds {
                vertices: s.vertices_of(region(SkinRegionKind::PosteriorThigh, Side::Right)),
                weight: 1.0,
            }],
            &|_| true,
        );
        let fields = Fields {
            vertex_count: s.len(),
            fields: vec![
                SourceField {
                    source: SourceId::Piriformis,
                    side: Side::Right,
                    layer: PainLayer::Somatic,
                    field: near,
                },
                SourceField {
                    source: SourceId::GluteusMinimusPosterior,
                    side: Side::Right,
                    layer: PainLayer::Somatic,
                    field: far,
                },
            ],
        };
        // Draw on the thigh part.
        let drawing: Vec<f32> = s
            .positions
            .iter()
            .map(|p| if p.x > 0.25 { 1.0 } else { 0.0 })
            .collect();
        let ranked = rank(&s, &fields, &drawing);
        assert_eq!(ranked[0].source, SourceId::GluteusMinimusPosterior);
        assert!(ranked[0].score > 0.5 && ranked[1].score < 0.2, "{ranked:?}");
        assert!(ranked[0].covers_drawing > 0.95);
        // Nothing drawn: every score is 0.
        let none = rank(&s, &fields, &vec![0.0; s.len()]);
        assert!(none.iter().all(|m| m.score == 0.0));
    }
}
