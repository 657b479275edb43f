//! Times the model generator (goal, issue 10: ≤ 5 s on the project's 2-core machines).
//! Run with `cargo bench --bench modelgen`; prints one line per run and the best and median.

use std::path::Path;
use std::time::Instant;

use hipback::modelgen::{self, data::Anatomy};
use hipback::posture::data::PostureFile;

fn main() {
    let runs: usize = std::env::var("HIPBACK_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3);
    let loaded = Anatomy::load(Path::new(Anatomy::DEFAULT_PATH))
        .and_then(|a| Ok((a, PostureFile::load(Path::new(PostureFile::DEFAULT_PATH))?)));
    let (anatomy, postures) = match loaded {
        Ok(both) => both,
        Err(e) => {
            eprintln!("modelgen bench: {e}");
            std::process::exit(2);
        }
    };
    let mut seconds = Vec::new();
    for run in 1..=runs {
        let started = Instant::now();
        let bytes = match modelgen::generate_glb(&anatomy, &postures) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("modelgen bench: {e}");
                std::process::exit(2);
            }
        };
        let s = started.elapsed().as_secs_f64();
        println!("run {run}: {s:.2} s, {} bytes", bytes.len());
        seconds.push(s);
    }
    seconds.sort_by(f64::total_cmp);
    println!(
        "modelgen: best {:.2} s, median {:.2} s over {runs} runs (goal ≤ 5 s)",
        seconds[0],
        seconds[seconds.len() / 2]
    );
}
