//! The structures and skin regions of the model: one vocabulary shared by the model
//! generator, the viewer and the tests, so a name is spelled in exactly one place.

use std::fmt;

/// Which display layer a structure belongs to (the viewer toggles these together).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    /// Hip bones, sacrum, coccyx, vertebrae T12–L5 and femurs.
    Bones,
    /// The intervertebral discs T12/L1 to L5/S1.
    Discs,
    /// Gluteal muscles, piriformis and iliopsoas.
    Muscles,
    /// The sciatic nerve.
    Nerves,
    /// The sacroiliac joint surfaces.
    Joints,
    /// The translucent body surface.
    Skin,
}

impl Layer {
    /// Every layer, in panel order (inside out).
    pub const ALL: [Layer; 6] = [
        Layer::Bones,
        Layer::Discs,
        Layer::Muscles,
        Layer::Nerves,
        Layer::Joints,
        Layer::Skin,
    ];

    /// Human-readable label.
    pub fn label(self) -> &'static str {
        match self {
            Layer::Bones => "Bones",
            Layer::Discs => "Discs",
            Layer::Muscles => "Muscles",
            Layer::Nerves => "Nerve",
            Layer::Joints => "SI joint",
            Layer::Skin => "Skin",
        }
    }
}

/// The subject's side (glTF names end in `_l` / `_r`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Side {
    /// The subject's left (glTF +X: the subject faces +Z, so their left is the viewer's
    /// right when seen from the front).
    Left,
    /// The subject's right (glTF −X).
    Right,
    /// On the midline (unpaired).
    Midline,
}

impl Side {
    /// The sign of glTF X on this side: +1 for the left, −1 for the right, 0 on the midline.
    pub fn gltf_x_sign(self) -> f32 {
        match self {
            Side::Left => 1.0,
            Side::Right => -1.0,
            Side::Midline => 0.0,
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Side::Left => "_l",
            Side::Right => "_r",
            Side::Midline => "",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Side::Left => " (left)",
            Side::Right => " (right)",
            Side::Midline => "",
        }
    }
}

/// A kind of structure, without its side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum StructureKind {
    /// Ilium, ischium and pubis as one bone.
    HipBone,
    /// The sacrum.
    Sacrum,
    /// The coccyx.
    Coccyx,
    /// Twelfth thoracic vertebra.
    VertebraT12,
    /// First lumbar vertebra.
    VertebraL1,
    /// Second lumbar vertebra.
    VertebraL2,
    /// Third lumbar vertebra.
    VertebraL3,
    /// Fourth lumbar vertebra.
    VertebraL4,
    /// Fifth lumbar vertebra.
    VertebraL5,
    /// Thigh bone.
    Femur,
    /// The disc between T12 and L1.
    DiscT12L1,
    /// The disc between L1 and L2.
    DiscL1L2,
    /// The disc between L2 and L3.
    DiscL2L3,
    /// The disc between L3 and L4.
    DiscL3L4,
    /// The disc between L4 and L5.
    DiscL4L5,
    /// The disc between L5 and the sacrum.
    DiscL5S1,
    /// Gluteus maximus.
    GluteusMaximus,
    /// Gluteus medius.
    GluteusMedius,
    /// Gluteus minimus.
    GluteusMinimus,
    /// Piriformis.
    Piriformis,
    /// Psoas major.
    PsoasMajor,
    /// Iliacus.
    Iliacus,
    /// Sciatic nerve with its L4–S3 roots.
    SciaticNerve,
    /// Sacroiliac joint surface.
    SacroiliacJoint,
    /// The body surface.
    Skin,
}

impl StructureKind {
    /// Every kind, in model order.
    pub const ALL: [StructureKind; 25] = [
        StructureKind::HipBone,
        StructureKind::Sacrum,
        StructureKind::Coccyx,
        StructureKind::VertebraT12,
        StructureKind::VertebraL1,
        StructureKind::VertebraL2,
        StructureKind::VertebraL3,
        StructureKind::VertebraL4,
        StructureKind::VertebraL5,
        StructureKind::Femur,
        StructureKind::DiscT12L1,
        StructureKind::DiscL1L2,
        StructureKind::DiscL2L3,
        StructureKind::DiscL3L4,
        StructureKind::DiscL4L5,
        StructureKind::DiscL5S1,
        StructureKind::GluteusMaximus,
        StructureKind::GluteusMedius,
        StructureKind::GluteusMinimus,
        StructureKind::Piriformis,
        StructureKind::PsoasMajor,
        StructureKind::Iliacus,
        StructureKind::SciaticNerve,
        StructureKind::SacroiliacJoint,
        StructureKind::Skin,
    ];

    /// glTF base name (without side suffix).
    pub fn base_name(self) -> &'static str {
        match self {
            StructureKind::HipBone => "hip_bone",
            StructureKind::Sacrum => "sacrum",
            StructureKind::Coccyx => "coccyx",
            StructureKind::VertebraT12 => "vertebra_t12",
            StructureKind::VertebraL1 => "vertebra_l1",
            StructureKind::VertebraL2 => "vertebra_l2",
            StructureKind::VertebraL3 => "vertebra_l3",
            StructureKind::VertebraL4 => "vertebra_l4",
            StructureKind::VertebraL5 => "vertebra_l5",
            StructureKind::Femur => "femur",
            StructureKind::DiscT12L1 => "disc_t12_l1",
            StructureKind::DiscL1L2 => "disc_l1_l2",
            StructureKind::DiscL2L3 => "disc_l2_l3",
            StructureKind::DiscL3L4 => "disc_l3_l4",
            StructureKind::DiscL4L5 => "disc_l4_l5",
            StructureKind::DiscL5S1 => "disc_l5_s1",
            StructureKind::GluteusMaximus => "gluteus_maximus",
            StructureKind::GluteusMedius => "gluteus_medius",
            StructureKind::GluteusMinimus => "gluteus_minimus",
            StructureKind::Piriformis => "piriformis",
            StructureKind::PsoasMajor => "psoas_major",
            StructureKind::Iliacus => "iliacus",
            StructureKind::SciaticNerve => "sciatic_nerve",
            StructureKind::SacroiliacJoint => "sacroiliac_joint",
            StructureKind::Skin => "skin",
        }
    }

    /// Human-readable name.
    pub fn label(self) -> &'static str {
        match self {
            StructureKind::HipBone => "Hip bone",
            StructureKind::Sacrum => "Sacrum",
            StructureKind::Coccyx => "Coccyx",
            StructureKind::VertebraT12 => "T12 vertebra",
            StructureKind::VertebraL1 => "L1 vertebra",
            StructureKind::VertebraL2 => "L2 vertebra",
            StructureKind::VertebraL3 => "L3 vertebra",
            StructureKind::VertebraL4 => "L4 vertebra",
            StructureKind::VertebraL5 => "L5 vertebra",
            StructureKind::Femur => "Femur",
            StructureKind::DiscT12L1 => "T12/L1 disc",
            StructureKind::DiscL1L2 => "L1/L2 disc",
            StructureKind::DiscL2L3 => "L2/L3 disc",
            StructureKind::DiscL3L4 => "L3/L4 disc",
            StructureKind::DiscL4L5 => "L4/L5 disc",
            StructureKind::DiscL5S1 => "L5/S1 disc",
            StructureKind::GluteusMaximus => "Gluteus maximus",
            StructureKind::GluteusMedius => "Gluteus medius",
            StructureKind::GluteusMinimus => "Gluteus minimus",
            StructureKind::Piriformis => "Piriformis",
            StructureKind::PsoasMajor => "Psoas major",
            StructureKind::Iliacus => "Iliacus",
            StructureKind::SciaticNerve => "Sciatic nerve",
            StructureKind::SacroiliacJoint => "Sacroiliac joint",
            StructureKind::Skin => "Skin",
        }
    }

    /// Whether the structure exists on both sides.
    pub fn is_paired(self) -> bool {
        matches!(
            self,
            StructureKind::HipBone
                | StructureKind::Femur
                | StructureKind::GluteusMaximus
                | StructureKind::GluteusMedius
                | StructureKind::GluteusMinimus
                | StructureKind::Piriformis
                | StructureKind::PsoasMajor
                | StructureKind::Iliacus
                | StructureKind::SciaticNerve
                | StructureKind::SacroiliacJoint
        )
    }

    /// The display layer.
    pub fn layer(self) -> Layer {
        match self {
            StructureKind::HipBone
            | StructureKind::Sacrum
            | StructureKind::Coccyx
            | StructureKind::VertebraT12
            | StructureKind::VertebraL1
            | StructureKind::VertebraL2
            | StructureKind::VertebraL3
            | StructureKind::VertebraL4
            | StructureKind::VertebraL5
            | StructureKind::Femur => Layer::Bones,
            StructureKind::DiscT12L1
            | StructureKind::DiscL1L2
            | StructureKind::DiscL2L3
            | StructureKind::DiscL3L4
            | StructureKind::DiscL4L5
            | StructureKind::DiscL5S1 => Layer::Discs,
            StructureKind::GluteusMaximus
            | StructureKind::GluteusMedius
            | StructureKind::GluteusMinimus
            | StructureKind::Piriformis
            | StructureKind::PsoasMajor
            | StructureKind::Iliacus => Layer::Muscles,
            StructureKind::SciaticNerve => Layer::Nerves,
            StructureKind::SacroiliacJoint => Layer::Joints,
            StructureKind::Skin => Layer::Skin,
        }
    }

    /// The vertebrae of the model, from the top down.
    pub const VERTEBRAE: [StructureKind; 6] = [
        StructureKind::VertebraT12,
        StructureKind::VertebraL1,
        StructureKind::VertebraL2,
        StructureKind::VertebraL3,
        StructureKind::VertebraL4,
        StructureKind::VertebraL5,
    ];

    /// The intervertebral discs of the model, from the top down: [`Self::DISCS`]`[i]` lies
    /// below [`Self::VERTEBRAE`]`[i]`.
    pub const DISCS: [StructureKind; 6] = [
        StructureKind::DiscT12L1,
        StructureKind::DiscL1L2,
        StructureKind::DiscL2L3,
        StructureKind::DiscL3L4,
        StructureKind::DiscL4L5,
        StructureKind::DiscL5S1,
    ];

    /// The spinal level of a vertebra as the anatomy data names it (`T12`, `L1` … `L5`).
    pub fn vertebra_level(self) -> Option<&'static str> {
        match self {
            StructureKind::VertebraT12 => Some("T12"),
            StructureKind::VertebraL1 => Some("L1"),
            StructureKind::VertebraL2 => Some("L2"),
            StructureKind::VertebraL3 => Some("L3"),
            StructureKind::VertebraL4 => Some("L4"),
            StructureKind::VertebraL5 => Some("L5"),
            _ => None,
        }
    }

    /// The levels above and below a disc as the anatomy data names them (e.g. `L5`, `S1`).
    pub fn disc_levels(self) -> Option<(&'static str, &'static str)> {
        match self {
            StructureKind::DiscT12L1 => Some(("T12", "L1")),
            StructureKind::DiscL1L2 => Some(("L1", "L2")),
            StructureKind::DiscL2L3 => Some(("L2", "L3")),
            StructureKind::DiscL3L4 => Some(("L3", "L4")),
            StructureKind::DiscL4L5 => Some(("L4", "L5")),
            StructureKind::DiscL5S1 => Some(("L5", "S1")),
            _ => None,
        }
    }
}

/// One named structure of the model: a kind on a side. Its glTF node and mesh carry
/// [`Structure::gltf_name`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Structure {
    /// What it is.
    pub kind: StructureKind,
    /// Which side; [`Side::Midline`] for unpaired structures.
    pub side: Side,
}

impl Structure {
    /// Every structure of the model, paired ones left then right, in model order.
    pub fn all() -> Vec<Structure> {
        StructureKind::ALL
            .iter()
            .flat_map(|&kind| {
                let sides: &[Side] = if kind.is_paired() {
                    &[Side::Left, Side::Right]
                } else {
                    &[Side::Midline]
                };
                sides.iter().map(move |&side| Structure { kind, side })
            })
            .collect()
    }

    /// The exact node and mesh name in the glTF file.
    pub fn gltf_name(self) -> String {
        format!("{}{}", self.kind.base_name(), self.side.suffix())
    }

    /// Parses a glTF node or mesh name; `None` for names outside the vocabulary.
    pub fn from_gltf_name(name: &str) -> Option<Structure> {
        Structure::all().into_iter().find(|s| s.gltf_name() == name)
    }

    /// Human-readable name, e.g. "Piriformis (left)".
    pub fn label(self) -> String {
        format!("{}{}", self.kind.label(), self.side.label())
    }

    /// The display layer.
    pub fn layer(self) -> Layer {
        self.kind.layer()
    }
}

impl fmt::Display for Structure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.gltf_name())
    }
}

/// The body regions every skin vertex is labelled with (glTF attribute `_REGION`, the
/// index into [`SkinRegion::all`]; the names are also in the skin mesh's `extras.regionNames`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SkinRegionKind {
    /// Paraspinal lumbar skin.
    LumbarParaspinal,
    /// Over the posterior iliac crest.
    BeltLine,
    /// The 3 × 10 cm area below the PSIS.
    Sij,
    /// Upper buttock (above the greater trochanter tip).
    ButtockUpper,
    /// Lower buttock.
    ButtockLower,
    /// Over the greater trochanter.
    LateralHip,
    /// Inguinal region.
    Groin,
    /// Below the umbilicus, in front.
    LowerAbdomen,
    /// Front of the thigh.
    AnteriorThigh,
    /// Side of the thigh.
    LateralThigh,
    /// Back of the thigh.
    PosteriorThigh,
    /// Side of the lower leg.
    LateralLeg,
    /// Back of the lower leg.
    Calf,
    /// The foot.
    Foot,
    /// Midline skin over the sacrum.
    SacrumRegion,
    /// Midline skin over the coccyx.
    CoccyxRegion,
}

impl SkinRegionKind {
    /// Every region kind.
    pub const ALL: [SkinRegionKind; 16] = [
        SkinRegionKind::LumbarParaspinal,
        SkinRegionKind::BeltLine,
        SkinRegionKind::Sij,
        SkinRegionKind::ButtockUpper,
        SkinRegionKind::ButtockLower,
        SkinRegionKind::LateralHip,
        SkinRegionKind::Groin,
        SkinRegionKind::LowerAbdomen,
        SkinRegionKind::AnteriorThigh,
        SkinRegionKind::LateralThigh,
        SkinRegionKind::PosteriorThigh,
        SkinRegionKind::LateralLeg,
        SkinRegionKind::Calf,
        SkinRegionKind::Foot,
        SkinRegionKind::SacrumRegion,
        SkinRegionKind::CoccyxRegion,
    ];

    /// Base name (without side suffix).
    pub fn base_name(self) -> &'static str {
        match self {
            SkinRegionKind::LumbarParaspinal => "lumbar_paraspinal",
            SkinRegionKind::BeltLine => "belt_line",
            SkinRegionKind::Sij => "sij",
            SkinRegionKind::ButtockUpper => "buttock_upper",
            SkinRegionKind::ButtockLower => "buttock_lower",
            SkinRegionKind::LateralHip => "lateral_hip",
            SkinRegionKind::Groin => "groin",
            SkinRegionKind::LowerAbdomen => "lower_abdomen",
            SkinRegionKind::AnteriorThigh => "anterior_thigh",
            SkinRegionKind::LateralThigh => "lateral_thigh",
            SkinRegionKind::PosteriorThigh => "posterior_thigh",
            SkinRegionKind::LateralLeg => "lateral_leg",
            SkinRegionKind::Calf => "calf",
            SkinRegionKind::Foot => "foot",
            SkinRegionKind::SacrumRegion => "sacrum_region",
            SkinRegionKind::CoccyxRegion => "coccyx_region",
        }
    }

    /// Whether the region is on the midline (no `_l` / `_r`).
    pub fn is_midline(self) -> bool {
        matches!(
            self,
            SkinRegionKind::SacrumRegion | SkinRegionKind::CoccyxRegion
        )
    }
}

/// A skin region with its side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SkinRegion {
    /// Which region.
    pub kind: SkinRegionKind,
    /// Which side; [`Side::Midline`] for the midline regions.
    pub side: Side,
}

impl SkinRegion {
    /// Every region, in `_REGION` index order.
    pub fn all() -> Vec<SkinRegion> {
        SkinRegionKind::ALL
            .iter()
            .flat_map(|&kind| {
                let sides: &[Side] = if kind.is_midline() {
                    &[Side::Midline]
                } else {
                    &[Side::Left, Side::Right]
                };
                sides.iter().map(move |&side| SkinRegion { kind, side })
            })
            .collect()
    }

    /// The region of `kind` on `side`; a midline kind (such as the sacral region) has no
    /// side, so it is the midline region whatever `side` says.
    pub fn on_side(kind: SkinRegionKind, side: Side) -> SkinRegion {
        let side = if kind.is_midline() {
            Side::Midline
        } else {
            side
        };
        SkinRegion { kind, side }
    }

    /// Region name, e.g. `buttock_upper_l` or `sacrum_region`.
    pub fn name(self) -> String {
        format!("{}{}", self.kind.base_name(), self.side.suffix())
    }

    /// Index in [`SkinRegion::all`] (the value stored in `_REGION`).
    pub fn index(self) -> u16 {
        SkinRegion::all()
            .iter()
            .position(|r| *r == self)
            .and_then(|i| u16::try_from(i).ok())
            .unwrap_or(u16::MAX)
    }

    /// The region stored as `index` in `_REGION`, if any.
    pub fn from_index(index: u16) -> Option<SkinRegion> {
        SkinRegion::all().get(usize::from(index)).copied()
    }
}

/// How a sciatic nerve division passes the piriformis.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize)]
pub enum PiriformisPassage {
    /// Below the muscle, through the infrapiriform foramen (the usual course).
    Below,
    /// Through the muscle belly.
    Through,
    /// Above the muscle, through the suprapiriform foramen.
    Above,
}

/// The sciatic nerve's relation to the piriformis, Beaton & Anson's types (Anat Rec 1937).
/// Type A is the usual nerve, the required `sciatic_nerve_*` structures; the other types are
/// extra, whole nerves in the model (roots, divisions, down the thigh) under their own names,
/// hidden unless the viewer shows them. Prevalence and sources are data:
/// [`NerveVariantFacts`] in `assets/anatomy/nerve_variants.ron`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Deserialize)]
pub enum NerveVariant {
    /// Undivided nerve below the piriformis (the usual course).
    #[default]
    A,
    /// Divided: the common fibular division through the piriformis, the tibial below.
    B,
    /// Divided: the common fibular division above the piriformis, the tibial below.
    C,
}

impl NerveVariant {
    /// Every type in the model, usual first.
    pub const ALL: [NerveVariant; 3] = [NerveVariant::A, NerveVariant::B, NerveVariant::C];

    /// The types generated as extra nodes besides the usual nerve.
    pub const EXTRA: [NerveVariant; 2] = [NerveVariant::B, NerveVariant::C];

    /// Node and mesh name in the glTF file: type A is the usual `sciatic_nerve_l` / `_r`.
    pub fn gltf_name(self, side: Side) -> String {
        match self {
            NerveVariant::A => Structure {
                kind: StructureKind::SciaticNerve,
                side,
            }
            .gltf_name(),
            NerveVariant::B => format!("sciatic_nerve_variant_b{}", side.suffix()),
            NerveVariant::C => format!("sciatic_nerve_variant_c{}", side.suffix()),
        }
    }

    /// Parses a glTF node or mesh name of an extra nerve (types B, C); `None` otherwise.
    pub fn from_gltf_name(name: &str) -> Option<(NerveVariant, Side)> {
        NerveVariant::EXTRA.iter().find_map(|v| {
            [Side::Left, Side::Right]
                .into_iter()
                .find(|s| v.gltf_name(*s) == name)
                .map(|s| (*v, s))
        })
    }

    /// Human-readable name.
    pub fn label(self) -> &'static str {
        match self {
            NerveVariant::A => "Sciatic nerve, type A: undivided, below the piriformis (usual)",
            NerveVariant::B => {
                "Sciatic nerve, type B: common fibular division through the piriformis, \
                 tibial division below"
            }
            NerveVariant::C => {
                "Sciatic nerve, type C: common fibular division above the piriformis, \
                 tibial division below"
            }
        }
    }

    /// The geometry rule: how the (common fibular, tibial) divisions pass the piriformis.
    /// An undivided nerve has both parts in one trunk.
    pub fn passages(self) -> (PiriformisPassage, PiriformisPassage) {
        match self {
            NerveVariant::A => (PiriformisPassage::Below, PiriformisPassage::Below),
            NerveVariant::B => (PiriformisPassage::Through, PiriformisPassage::Below),
            NerveVariant::C => (PiriformisPassage::Above, PiriformisPassage::Below),
        }
    }

    /// Whether the nerve is divided where it passes the piriformis.
    pub fn is_divided(self) -> bool {
        self != NerveVariant::A
    }
}

/// What is known about one nerve type: its prevalence with source and evidence grade.
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct NerveVariantFact {
    /// Which type.
    pub variant: NerveVariant,
    /// How common it is, with its source and grade.
    pub prevalence: crate::content::Fact,
}

/// The nerve types' facts, as read from [`NerveVariantFacts::DEFAULT_PATH`].
#[derive(Clone, Debug, PartialEq, serde::Deserialize)]
pub struct NerveVariantFacts {
    /// One entry per type.
    pub variants: Vec<NerveVariantFact>,
}

impl NerveVariantFacts {
    /// The bundled file, relative to the crate root.
    pub const DEFAULT_PATH: &'static str = "assets/anatomy/nerve_variants.ron";

    /// Parses the file's text; the error names `file`, the line and the column.
    pub fn from_ron_str(text: &str, file: &str) -> Result<Self, crate::files::FileError> {
        ron::from_str(text).map_err(|e| crate::files::FileError::ron(file, &e))
    }

    /// Reads and parses the file at `path`.
    pub fn load(path: &std::path::Path) -> Result<Self, crate::files::FileError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| crate::files::FileError::cannot_read(&file, e))?;
        Self::from_ron_str(&text, &file)
    }

    /// The entry of one type.
    pub fn of(&self, variant: NerveVariant) -> Option<&NerveVariantFact> {
        self.variants.iter().find(|f| f.variant == variant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let all = Structure::all();
        assert_eq!(all.len(), 35);
        let mut names: Vec<String> = all.iter().map(|s| s.gltf_name()).collect();
        for s in &all {
            assert_eq!(Structure::from_gltf_name(&s.gltf_name()), Some(*s));
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), all.len());
        assert!(names.contains(&"piriformis_l".to_string()));
        assert!(names.contains(&"vertebra_l5".to_string()));
        assert!(names.contains(&"vertebra_t12".to_string()));
        assert!(names.contains(&"disc_l5_s1".to_string()));
        for (i, v) in StructureKind::VERTEBRAE.iter().enumerate() {
            let (above, _) = StructureKind::DISCS[i].disc_levels().unwrap();
            assert_eq!(v.vertebra_level(), Some(above), "{v:?}");
            assert_eq!(StructureKind::DISCS[i].layer(), Layer::Discs);
        }
        assert_eq!(Structure::from_gltf_name("piriformis"), None);
    }

    #[test]
    fn regions_index_round_trip() {
        let all = SkinRegion::all();
        assert_eq!(all.len(), 30);
        for r in &all {
            assert_eq!(SkinRegion::from_index(r.index()), Some(*r));
        }
        assert_eq!(all[0].name(), "lumbar_paraspinal_l");
        assert!(all.iter().any(|r| r.name() == "sacrum_region"));
    }
    #[test]
    fn nerve_variant_names_are_distinct_and_round_trip() {
        let mut names = Vec::new();
        for v in NerveVariant::ALL {
            for side in [Side::Left, Side::Right] {
                let name = v.gltf_name(side);
                if v == NerveVariant::A {
                    assert_eq!(
                        Structure::from_gltf_name(&name).map(|s| s.kind),
                        Some(StructureKind::SciaticNerve)
                    );
                    assert_eq!(NerveVariant::from_gltf_name(&name), None);
                } else {
                    assert_eq!(Structure::from_gltf_name(&name), None, "{name} clashes");
                    assert_eq!(NerveVariant::from_gltf_name(&name), Some((v, side)));
                }
                names.push(name);
            }
        }
        assert!(names.contains(&"sciatic_nerve_variant_b_l".to_string()));
        assert!(names.contains(&"sciatic_nerve_variant_c_r".to_string()));
        names.sort();
        names.dedup();
        assert_eq!(names.len(), 2 * NerveVariant::ALL.len());
        assert_eq!(NerveVariant::B.passages().0, PiriformisPassage::Through);
        assert_eq!(NerveVariant::C.passages().0, PiriformisPassage::Above);
    }

    #[test]
    fn every_nerve_variant_has_a_sourced_prevalence() {
        let path = NerveVariantFacts::DEFAULT_PATH;
        let text = std::fs::read_to_string(path).unwrap();
        let facts = NerveVariantFacts::from_ron_str(&text, path).unwrap();
        assert_eq!(facts.variants.len(), NerveVariant::ALL.len());
        for v in NerveVariant::ALL {
            let f = facts.of(v).unwrap_or_else(|| panic!("{v:?} missing"));
            assert!(
                f.prevalence.text.contains('%'),
                "{v:?}: {}",
                f.prevalence.text
            );
            assert!(!f.prevalence.source.is_empty(), "{v:?} has no source");
        }
        let err = NerveVariantFacts::from_ron_str("(variants: [", "x.ron").unwrap_err();
        assert!(err.to_string().starts_with("x.ron:1:"), "{err}");
    }
}
