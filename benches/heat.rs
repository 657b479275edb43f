//! Times the heat map: the field precomputation on the bundled skin, and the per-frame
//! update (both layers, every source active on both sides; target ≤ 0.3 ms), plus a ranking
//! of a drawing. Run with `cargo bench --bench heat`.

use std::path::Path;
use std::time::Instant;

use hipback::anatomy::Side;
use hipback::referral::data::{self, PainLayer, SourceId};
use hipback::referral::{self, field};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let surface = match referral::skin_from_glb(&assets.join("models/pelvis.glb")) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("heat bench: {e}");
            std::process::exit(2);
        }
    };
    let (files, errors) = data::load_folder(&assets.join(data::REFERRAL_FOLDER));
    if let Some(e) = errors.first() {
        eprintln!("heat bench: {e}");
        std::process::exit(2);
    }
    let mut precompute = Vec::new();
    let mut fields = field::Fields::default();
    for _ in 0..3 {
        let started = Instant::now();
        fields = field::precompute(&surface, &files);
        precompute.push(started.elapsed().as_secs_f64());
    }
    let stored: usize = fields.fields.iter().map(|f| f.field.values.len()).sum();
    println!(
        "precompute: median {:.0} ms over 3 runs ({} skin vertices, {} fields, {stored} stored values)",
        median(precompute) * 1000.0,
        surface.len(),
        fields.fields.len()
    );

    let all: field::Intensities = SourceId::ALL
        .into_iter()
        .flat_map(|s| [(s, Side::Left, 0.8), (s, Side::Right, 0.6)])
        .collect();
    let (mut somatic, mut neuropathic) = (Vec::new(), Vec::new());
    let mut update = Vec::new();
    for _ in 0..200 {
        let started = Instant::now();
        field::heat_into(&fields, &all, PainLayer::Somatic, &mut somatic);
        field::heat_into(&fields, &all, PainLayer::Neuropathic, &mut neuropathic);
        update.push(started.elapsed().as_secs_f64());
    }
    let best = update.iter().copied().fold(f64::MAX, f64::min);
    println!(
        "heat update (both layers, all 16 sources): median {:.3} ms, best {:.3} ms over 200 (target ≤ 0.3 ms)",
        median(update) * 1000.0,
        best * 1000.0
    );

    let drawing = referral::drawing_of_regions(
        &surface,
        &referral::parse_regions("buttock_upper_r,sij_r").unwrap_or_default(),
    );
    let mut rank = Vec::new();
    for _ in 0..20 {
        let started = Instant::now();
        let ranked = field::rank(&surface, &fields, &drawing);
        rank.push(started.elapsed().as_secs_f64());
        std::hint::black_box(ranked);
    }
    println!(
        "rank a drawing: median {:.2} ms over 20",
        median(rank) * 1000.0
    );
}
