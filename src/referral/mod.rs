//! Referred-pain heat maps on the skin, live with the scenario state, and "where does it
//! hurt?": a drawing on the skin ranked against every source's pattern.
//!
//! The data ([`data`]) and the maths ([`field`], and the helpers here: the skin read from a
//! glb, the sources' intensities from the scenario state, mean heat per region) are plain
//! Rust; [`plugin`] precomputes the fields in the background, colours an overlay on the skin
//! (nerve symptoms composited over referred pain) and another for the drawing, shows what is
//! under the pointer and runs paint mode.

pub mod data;
pub mod drawing;
pub mod field;
pub mod palette;
pub mod panel;
pub mod plugin;

use std::collections::BTreeMap;
use std::path::Path;

use bevy::math::Vec3;
use serde::Serialize;

use crate::anatomy::{Layer, Side, SkinRegion, Structure, StructureKind};
use crate::files::{FileError, FileErrorKind, Place};
use crate::scenario::state::BodyState;
use data::{PainLayer, ReferralFile, SourceId};
use field::{Fields, Intensities, SkinSurface};

/// Reads the skin of a model file (the mesh named `skin`, its `_REGION` labels) as a surface,
/// in the rest pose. Errors name the file.
pub fn skin_from_glb(path: &Path) -> Result<SkinSurface, FileError> {
    let label = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| FileError::cannot_read(&label, e))?;
    let gltf = gltf::Gltf::from_slice(&bytes)
        .map_err(|e| crate::viewer::model::gltf_error(&label, &e, bytes.starts_with(b"glTF")))?;
    let incomplete = |problem: &str| FileError::new(FileErrorKind::Incomplete, &label, problem);
    let blob = gltf
        .blob
        .as_deref()
        .ok_or_else(|| incomplete("no binary chunk"))?;
    let mesh = gltf
        .document
        .meshes()
        .find(|m| m.name() == Some("skin"))
        .ok_or_else(|| incomplete("no mesh `skin`"))?;
    let at_mesh = Place::JsonPointer(format!("/meshes/{}", mesh.index()));
    let skin_problem = |problem: &str| incomplete(problem).at_place(at_mesh.clone());
    let primitive = mesh
        .primitives()
        .next()
        .ok_or_else(|| skin_problem("mesh `skin` has no primitive"))?;
    let reader = primitive.reader(|_| Some(blob));
    let positions: Vec<Vec3> = reader
        .read_positions()
        .ok_or_else(|| skin_problem("the skin has no positions"))?
        .map(Vec3::from)
        .collect();
    let indices: Vec<u32> = reader
        .read_indices()
        .ok_or_else(|| skin_problem("the skin has no indices"))?
        .into_u32()
        .collect();
    let (_, accessor) = primitive
        .attributes()
        .find(|(s, _)| *s == gltf::Semantic::Extras("REGION".into()))
        .ok_or_else(|| skin_problem("the skin has no _REGION labels"))?;
    let regions: Vec<f32> = gltf::accessor::Iter::<f32>::new(accessor, |_| Some(blob))
        .ok_or_else(|| skin_problem("the skin's _REGION cannot be read"))?
        .collect();
    if regions.len() != positions.len() {
        return Err(skin_problem(&format!(
            "{} region labels for {} skin vertices",
            regions.len(),
            positions.len()
        )));
    }
    Ok(SkinSurface::new(positions, &indices, &regions))
}

/// How strongly each source is active in a state: its drivers' strongest level on each
/// side (muscles by tension, the SI joint by irritation, the nerve by compression).
pub fn intensities(state: &BodyState) -> Intensities {
    let mut out = Vec::new();
    for source in SourceId::ALL {
        for side in [Side::Left, Side::Right] {
            let level = source
                .drivers()
                .iter()
                .map(|kind| {
                    let l = state.get(Structure { kind: *kind, side });
                    match kind.layer() {
                        Layer::Muscles => l.tension_0_to_1,
                        Layer::Joints => l.irritation_0_to_1,
                        Layer::Nerves => l.compression_0_to_1,
                        _ => 0.0,
                    }
                })
                .fold(0.0, f32::max);
            if level > 0.0 {
                out.push((source, side, level));
            }
        }
    }
    out
}

/// Mean heat of a region, both layers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct RegionHeat {
    /// Mean referred (somatic) heat, 0–1.
    pub somatic: f32,
    /// Mean nerve (neuropathic) heat, 0–1.
    pub neuropathic: f32,
}

/// The area-weighted mean heat of each body region, both layers, by region name.
pub fn region_heat(
    surface: &SkinSurface,
    fields: &Fields,
    intensities: &Intensities,
) -> BTreeMap<String, RegionHeat> {
    let mut somatic = Vec::new();
    let mut neuropathic = Vec::new();
    field::heat_into(fields, intensities, PainLayer::Somatic, &mut somatic);
    field::heat_into(
        fields,
        intensities,
        PainLayer::Neuropathic,
        &mut neuropathic,
    );
    let mut sums: BTreeMap<SkinRegion, (f32, f32, f32)> = BTreeMap::new();
    for v in 0..surface.len() {
        let Some(region) = surface.regions[v] else {
            continue;
        };
        let a = surface.vertex_area_m2[v];
        let entry = sums.entry(region).or_default();
        entry.0 += a;
        entry.1 += a * somatic.get(v).copied().unwrap_or(0.0);
        entry.2 += a * neuropathic.get(v).copied().unwrap_or(0.0);
    }
    SkinRegion::all()
        .into_iter()
        .map(|region| {
            let (a, s, n) = sums.get(&region).copied().unwrap_or_default();
            let mean = |x: f32| {
                if a > 0.0 {
                    ((x / a) * 10_000.0).round() / 10_000.0
                } else {
                    0.0
                }
            };
            (
                region.name(),
                RegionHeat {
                    somatic: mean(s),
                    neuropathic: mean(n),
                },
            )
        })
        .collect()
}

/// A drawing made of whole regions (for `hipback rank --regions`): 1 on their vertices.
pub fn drawing_of_regions(surface: &SkinSurface, regions: &[SkinRegion]) -> Vec<f32> {
    surface
        .regions
        .iter()
        .map(|r| match r {
            Some(r) if regions.contains(r) => 1.0,
            _ => 0.0,
        })
        .collect()
}

/// Parses a comma-separated list of region names (`buttock_upper_r,sij_r`); an unknown name
/// gives an error listing the valid ones.
pub fn parse_regions(text: &str) -> Result<Vec<SkinRegion>, String> {
    let all = SkinRegion::all();
    let mut out = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let region = all.iter().find(|r| r.name() == name).ok_or_else(|| {
            let names: Vec<String> = all.iter().map(|r| r.name()).collect();
            format!("unknown region `{name}` (valid: {})", names.join(", "))
        })?;
        if !out.contains(region) {
            out.push(*region);
        }
    }
    if out.is_empty() {
        return Err("no region named".to_owned());
    }
    Ok(out)
}

/// The referral file of a source.
pub fn referral_of(files: &[ReferralFile], source: SourceId) -> Option<&ReferralFile> {
    files.iter().find(|f| f.source == source)
}

/// One plain sentence on why a source matches a drawing.
pub fn why(m: &field::Match, files: &[ReferralFile]) -> String {
    let label = referral_of(files, m.source).map_or(m.source.name(), |f| f.label.as_str());
    format!(
        "{label} ({side}): its typical area covers {:.0} % of what was drawn, and the drawing covers {:.0} % of that area.",
        m.covers_drawing * 100.0,
        m.covers_pattern * 100.0,
        side = match m.side {
            Side::Left => "left",
            Side::Right => "right",
            Side::Midline => "middle",
        }
    )
}

/// The drivers of a source, for a structure kind (used to tell which structures feed a
/// source).
pub fn sources_of(kind: StructureKind) -> Vec<SourceId> {
    SourceId::ALL
        .into_iter()
        .filter(|s| s.drivers().contains(&kind))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::anatomy::SkinRegionKind;

    fn assets() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("assets")
    }

    fn real() -> &'static (SkinSurface, Vec<ReferralFile>, Fields) {
        static REAL: std::sync::OnceLock<(SkinSurface, Vec<ReferralFile>, Fields)> =
            std::sync::OnceLock::new();
        REAL.get_or_init(|| {
            let surface = skin_from_glb(&assets().join("models/pelvis.glb")).unwrap();
            let (files, errors) = data::load_folder(&assets().join(data::REFERRAL_FOLDER));
            assert!(errors.is_empty(), "{errors:?}");
            let fields = field::precompute(&surface, &files);
            (surface, files, fields)
        })
    }

    fn region_mean(source: SourceId, side: Side, region: SkinRegion) -> f32 {
        let (surface, _, fields) = real();
        let heat = region_heat(surface, fields, &vec![(source, side, 1.0)]);
        let layer_heat = heat[&region.name()];
        layer_heat.somatic.max(layer_heat.neuropathic)
    }

    /// On the real skin: each source's essential regions get more heat than its spillover
    /// regions, and regions it does not refer to (away from its zones) stay near zero.
    #[test]
    fn every_source_heats_its_zones_in_order_on_the_real_skin() {
        let (_, files, _) = real();
        assert_eq!(files.len(), SourceId::ALL.len());
        let mut far_regions_checked = 0;
        for file in files {
            let side = Side::Right;
            let at = |kind: SkinRegionKind| {
                region_mean(file.source, side, SkinRegion::on_side(kind, side))
            };
            // A zone's heat: the mean over its own vertices (the band beside the spine where
            // it is one).
            let zone_mean = |zone: &data::Zone| {
                let (surface, _, fields) = real();
                let region = SkinRegion::on_side(zone.region.0, side);
                let vertices: Vec<u32> = surface
                    .vertices_of(region)
                    .into_iter()
                    .filter(|v| {
                        zone.beside_spine_m
                            .is_none_or(|b| surface.positions[*v as usize].x.abs() <= b)
                    })
                    .collect();
                let top = vertices
                    .iter()
                    .map(|v| surface.positions[*v as usize].y)
                    .fold(f32::MIN, f32::max);
                let vertices: Vec<u32> = vertices
                    .into_iter()
                    .filter(|v| {
                        zone.upper_m
                            .is_none_or(|u| surface.positions[*v as usize].y >= top - u)
                    })
                    .collect();
                let f = fields
                    .fields
                    .iter()
                    .find(|f| f.source == file.source && f.side == side)
                    .unwrap();
                vertices.iter().map(|v| f.field.at(*v)).sum::<f32>() / vertices.len().max(1) as f32
            };
            let essential: Vec<f32> = file
                .zones
                .iter()
                .filter(|z| z.kind == data::ZoneKind::Essential)
                .map(zone_mean)
                .collect();
            let spillover: Vec<f32> = file
                .zones
                .iter()
                .filter(|z| z.kind == data::ZoneKind::Spillover)
                .map(zone_mean)
                .collect();
            if let (Some(low_essential), Some(high_spillover)) = (
                essential.iter().copied().reduce(f32::min),
                spillover.iter().copied().reduce(f32::max),
            ) {
                assert!(
                    low_essential > high_spillover,
                    "{:?}: essential {essential:?} vs spillover {spillover:?}",
                    file.source
                );
            }
            // The other side never gets heat.
            for region in SkinRegion::all()
                .into_iter()
                .filter(|r| r.side == Side::Left)
            {
                assert_eq!(
                    region_mean(file.source, side, region),
                    0.0,
                    "{:?} heats {}",
                    file.source,
                    region.name()
                );
            }
            // Nor the other side's half of the midline regions.
            let (surface, _, fields) = real();
            let f = fields
                .fields
                .iter()
                .find(|f| f.source == file.source && f.side == side)
                .unwrap();
            let crossed = (0..surface.len() as u32)
                .filter(|v| surface.positions[*v as usize].x > 0.01 && f.field.at(*v) > 0.0)
                .count();
            assert_eq!(crossed, 0, "{:?} crosses the midline", file.source);
            // Every region it does not refer to stays near zero, unless part of it lies within
            // 10 cm of a zone along the skin (zone edges are soft on purpose).
            let named: Vec<SkinRegionKind> = file.zones.iter().map(|z| z.region.0).collect();
            let own = |kind: SkinRegionKind| SkinRegion::on_side(kind, side);
            let seeds: Vec<u32> = named
                .iter()
                .flat_map(|k| surface.vertices_of(own(*k)))
                .collect();
            let near = field::geodesic_distances(surface, &seeds, &|_| true, 0.10);
            let mut checked = 0;
            for far in SkinRegionKind::ALL {
                let vertices = surface.vertices_of(own(far));
                if named.contains(&far) || vertices.iter().any(|v| near.contains_key(v)) {
                    continue;
                }
                checked += 1;
                assert!(
                    at(far) < 0.05,
                    "{:?} heats {far:?}: {}",
                    file.source,
                    at(far)
                );
            }
            far_regions_checked += checked;
        }
        // Sources that refer down the whole leg leave few far regions; all together many.
        assert!(
            far_regions_checked >= 10,
            "only {far_regions_checked} far regions checked"
        );
    }

    /// The SI joint keeps Slipman's published order: buttock > lower lumbar > thigh > below
    /// the knee > groin.
    #[test]
    fn the_si_joint_keeps_the_published_order() {
        let r = |kind| SkinRegion {
            kind,
            side: Side::Right,
        };
        use SkinRegionKind as K;
        let at = |kind| region_mean(SourceId::SacroiliacJoint, Side::Right, r(kind));
        // The lower lumbar zone is the band beside the spine: its own mean.
        let (surface, _, fields) = real();
        let band: Vec<u32> = surface
            .vertices_of(r(K::LumbarParaspinal))
            .into_iter()
            .filter(|v| surface.positions[*v as usize].x.abs() <= 0.07)
            .collect();
        let si = fields
            .fields
            .iter()
            .find(|f| f.source == SourceId::SacroiliacJoint && f.side == Side::Right)
            .unwrap();
        let lumbar = band.iter().map(|v| si.field.at(*v)).sum::<f32>() / band.len() as f32;
        let order = [
            at(K::ButtockUpper),
            lumbar,
            at(K::PosteriorThigh),
            at(K::Calf),
            at(K::Groin),
        ];
        assert!(
            order.windows(2).all(|w| w[0] > w[1]),
            "buttock, lumbar, thigh, calf, groin: {order:?}"
        );
    }

    #[test]
    fn a_buttock_drawing_ranks_a_buttock_source_first() {
        let (surface, _, fields) = real();
        let drawing = drawing_of_regions(
            surface,
            &parse_regions("buttock_upper_r,buttock_lower_r,sij_r").unwrap(),
        );
        let ranked = field::rank(surface, fields, &drawing);
        assert_eq!(ranked[0].side, Side::Right);
        assert_eq!(ranked[0].layer, PainLayer::Somatic);
        assert!(
            [
                SourceId::GluteusMaximus,
                SourceId::Piriformis,
                SourceId::SacroiliacJoint
            ]
            .contains(&ranked[0].source),
            "{ranked:?}"
        );
        let leg = drawing_of_regions(
            surface,
            &parse_regions("posterior_thigh_l,calf_l,foot_l").unwrap(),
        );
        let ranked = field::rank(surface, fields, &leg);
        assert_eq!(
            (ranked[0].source, ranked[0].side),
            (SourceId::SciaticNerve, Side::Left),
            "{ranked:?}"
        );
        assert!(
            parse_regions("buttock_upper_q")
                .unwrap_err()
                .contains("valid: lumbar_paraspinal_l")
        );
    }

    #[test]
    fn intensities_follow_the_state() {
        let mut state = BodyState::relaxed();
        state
            .get_mut(Structure::from_gltf_name("iliacus_r").unwrap())
            .tension_0_to_1 = 0.4;
        state
            .get_mut(Structure::from_gltf_name("psoas_major_r").unwrap())
            .tension_0_to_1 = 0.7;
        state
            .get_mut(Structure::from_gltf_name("sacroiliac_joint_l").unwrap())
            .irritation_0_to_1 = 0.5;
        let i = intensities(&state);
        assert!(i.contains(&(SourceId::Iliopsoas, Side::Right, 0.7)));
        assert!(i.contains(&(SourceId::SacroiliacJoint, Side::Left, 0.5)));
        assert_eq!(i.len(), 2);
    }
}
