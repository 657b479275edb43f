//! `hipback-modelgen`: generates the pelvis model from the anatomical data.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use clap::Parser;
use hipback::modelgen::{self, data::Anatomy};
use hipback::posture::data::PostureFile;

/// Generate assets/models/pelvis.glb from the anatomical numbers (OpenSim Rajagopal2016).
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Where to write the .glb.
    #[arg(long, default_value = "assets/models/pelvis.glb")]
    out: PathBuf,
    /// The anatomical data file (RON).
    #[arg(long, default_value = Anatomy::DEFAULT_PATH)]
    anatomy: PathBuf,
    /// The posture presets the weights across the hips are fitted over (RON).
    #[arg(long, default_value = PostureFile::DEFAULT_PATH)]
    posture: PathBuf,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let started = Instant::now();
    let result = Anatomy::load(&args.anatomy)
        .and_then(|a| Ok((a, PostureFile::load(&args.posture)?)))
        .map_err(modelgen::ModelgenError::from)
        .and_then(|(a, postures)| modelgen::generate_glb(&a, &postures));
    let bytes = match result {
        Ok(b) => b,
        Err(e) => {
            eprintln!("hipback-modelgen: {e}");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = std::fs::write(&args.out, &bytes) {
        eprintln!(
            "hipback-modelgen: {}: cannot write: {e}",
            args.out.display()
        );
        return ExitCode::from(2);
    }
    println!(
        "wrote {} ({:.2} MB) in {:.2} s",
        args.out.display(),
        bytes.len() as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    ExitCode::SUCCESS
}
