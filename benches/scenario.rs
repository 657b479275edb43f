//! Times one frame of scenario easing for every structure: the relief timeline's state at the
//! moment, the compensation rules, the ease from the previous scenario, and each structure's
//! colour and morph weight, as `compute_shown` and `derive_structure_looks` do in the app.
//! Run with `cargo bench --bench scenario`.

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use hipback::anatomy::Layer;
use hipback::scenario::data::{self, CompensationTable};
use hipback::scenario::library::{self, Library};
use hipback::scenario::state::{BodyState, Transition};
use hipback::scenario::{BUILTIN_FOLDER, look};
use hipback::viewer::look::atlas_colour;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let mut library = Library::default();
    if let Err(e) = library::load_folder(&assets.join(BUILTIN_FOLDER), true, &mut library) {
        eprintln!("scenario bench: {e}");
        std::process::exit(2);
    }
    let compensation =
        match data::load_ron::<CompensationTable>(&assets.join(data::COMPENSATION_FILE)) {
            Ok(table) => table.compensations(),
            Err(e) => {
                eprintln!("scenario bench: {e}");
                std::process::exit(2);
            }
        };
    let ids: Vec<String> = library.sorted().iter().map(|s| s.id.0.clone()).collect();
    // Mid-ease from the relaxed body, on every scenario's timeline.
    let transition = Transition {
        from: BodyState::relaxed(),
        started_s: 0.0,
        duration_s: 0.8,
    };
    let mut per_frame = Vec::new();
    let mut structures = 0;
    for frame in 0..2_000 {
        let id = &ids[frame % ids.len()];
        let t_s = (frame % 300) as f32 * 0.1;
        let started = Instant::now();
        let duration = library.duration_s(id);
        let base = library
            .base_state(id, duration.map(|d| t_s.min(d)))
            .unwrap_or_default();
        let target = hipback::scenario::state::with_compensation(&base, &compensation);
        let shown = transition.shown(&target, 0.4);
        structures = 0;
        for (structure, levels) in shown.iter() {
            let atlas = atlas_colour(structure);
            match structure.layer() {
                Layer::Muscles => {
                    black_box(look::muscle_colour(
                        atlas,
                        levels.tension_0_to_1,
                        levels.weakness_0_to_1,
                    ));
                    black_box(look::muscle_morph_weight(
                        levels.tension_0_to_1,
                        levels.weakness_0_to_1,
                    ));
                }
                Layer::Nerves => {
                    black_box(look::nerve_glow(levels.compression_0_to_1));
                }
                Layer::Joints => {
                    black_box(look::joint_colour(atlas, levels.irritation_0_to_1));
                }
                Layer::Bones | Layer::Discs | Layer::Skin => {}
            }
            structures += 1;
        }
        black_box(library.pressure(id, t_s));
        per_frame.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let best = per_frame.iter().copied().fold(f64::MAX, f64::min);
    println!(
        "scenario easing (all {structures} structures, {} scenarios): median {:.4} ms, best {:.4} ms over {} frames",
        ids.len(),
        median(per_frame.clone()),
        best,
        per_frame.len()
    );
}
