//! Times the length update: every muscle line (both sides) and the sciatic nerves evaluated
//! for a posture, wrap surfaces included, as the app does each frame a posture changes
//! (target ≤ 0.1 ms), plus the rig pose alone. Run with `cargo bench --bench posture`.

use std::path::Path;
use std::time::Instant;

use hipback::posture::PostureModel;
use hipback::posture::kinematics::{Posture, PostureId};
use hipback::posture::muscle_length::Lengths;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("assets");
    let model = match PostureModel::load(&assets) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("posture bench: {e}");
            std::process::exit(2);
        }
    };
    let lines: usize = model.paths.muscles.iter().map(|m| m.lines.len()).sum();
    // Every preset in turn, and a point halfway to it, so wraps switch on and off.
    let postures: Vec<Posture> = PostureId::ALL
        .into_iter()
        .flat_map(|id| {
            let p = model.data.posture(id);
            [p, Posture::lerp(&Posture::default(), &p, 0.5)]
        })
        .collect();
    let mut lengths = Lengths::default();
    let (mut update, mut pose_only) = (Vec::new(), Vec::new());
    for round in 0..2000 {
        let posture = &postures[round % postures.len()];
        let started = Instant::now();
        let pose = model.pose(posture);
        pose_only.push(started.elapsed().as_secs_f64());
        model.paths.lengths_into(&pose, &mut lengths);
        update.push(started.elapsed().as_secs_f64());
        std::hint::black_box(&lengths);
    }
    let best = update.iter().copied().fold(f64::MAX, f64::min);
    println!(
        "length update ({lines} muscle lines and {} nerves, pose included): median {:.4} ms, \
         best {:.4} ms over {} (target ≤ 0.1 ms)",
        model.paths.nerves.len(),
        median(update) * 1000.0,
        best * 1000.0,
        pose_only.len()
    );
    println!(
        "rig pose alone: median {:.4} ms",
        median(pose_only) * 1000.0
    );
}
