//! `hipback fuzz` (hidden): mutates valid files for a time budget and feeds them to the
//! scenario parser, the referral parser and the model check, counting panics. No fuzzing
//! crate: a seeded `SplitMix64` picks byte flips, cuts, splices and extreme numbers, and for a
//! glb also mutates the JSON chunk and rewraps it with correct lengths so the check reaches
//! past the header. Each case that panics is written to the crash folder, to become a
//! regression test. The numbers of the long runs are in `docs/reliability.md`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Args, ValueEnum};

use crate::soak::SplitMix64;
use crate::viewer::screenshot::FAILURE_EXIT_CODE;

/// What to fuzz.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FuzzTarget {
    /// `scenario::file::parse`.
    Scenario,
    /// `referral::data::parse`.
    Referral,
    /// `viewer::model::validate_model_bytes`.
    Glb,
}

/// `fuzz` options.
#[derive(Debug, Clone, Args)]
pub struct FuzzArgs {
    /// The parser to fuzz.
    #[arg(long, value_enum)]
    pub target: FuzzTarget,
    /// Time budget, seconds.
    #[arg(long, default_value = "10")]
    pub seconds: u64,
    /// Seed of the mutations.
    #[arg(long, default_value = "1")]
    pub seed: u64,
    /// Where inputs that panic are written.
    #[arg(long, value_name = "DIR", default_value = "fuzz-crashes")]
    pub crashes: PathBuf,
}

/// What a run found.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FuzzReport {
    /// Inputs tried.
    pub cases: u64,
    /// Inputs that were accepted (parsed without error).
    pub accepted: u64,
    /// Inputs that panicked.
    pub panics: u64,
    /// The slowest single input, seconds.
    pub slowest_s: f64,
    /// The panicking inputs (the first few).
    pub crashing_inputs: Vec<Vec<u8>>,
}

/// The valid files a target starts from (bundled assets and the bad-input corpus).
pub fn seeds(target: FuzzTarget) -> Vec<Vec<u8>> {
    let assets = crate::viewer::assets_dir();
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad_inputs");
    let folders: Vec<PathBuf> = match target {
        FuzzTarget::Scenario => vec![
            assets.join(crate::scenario::BUILTIN_FOLDER),
            corpus.join("scenarios"),
        ],
        FuzzTarget::Referral => vec![
            assets.join(crate::referral::data::REFERRAL_FOLDER),
            corpus.join("referral"),
        ],
        FuzzTarget::Glb => vec![corpus.join("models")],
    };
    let mut files: Vec<PathBuf> = folders
        .iter()
        .filter_map(|d| std::fs::read_dir(d).ok())
        .flat_map(|entries| entries.filter_map(Result::ok).map(|e| e.path()))
        .filter(|p| p.is_file())
        .filter(|p| p.extension().is_some_and(|e| e == "ron" || e == "glb"))
        .collect();
    files.sort();
    files
        .iter()
        .filter_map(|p| std::fs::read(p).ok())
        .filter(|bytes| !bytes.is_empty())
        .collect()
}

/// Feeds one input to the target; whether it was accepted.
pub fn run_one(target: FuzzTarget, bytes: &[u8]) -> bool {
    match target {
        FuzzTarget::Scenario => crate::scenario::file::parse(bytes, "fuzz.scenario.ron").is_ok(),
        FuzzTarget::Referral => crate::referral::data::parse(bytes, "fuzz.ron").is_ok(),
        FuzzTarget::Glb => crate::viewer::model::validate_model_bytes(bytes, "fuzz.glb").is_ok(),
    }
}

/// Number texts that break careless parsers.
const EXTREME_NUMBERS: [&str; 12] = [
    "NaN",
    "inf",
    "-inf",
    "1e309",
    "-0",
    "4294967296",
    "18446744073709551616",
    "-1",
    "0.0000001",
    "99999999999",
    "1.5",
    "0x7fffffff",
];

/// Replaces one number in `text` (bytes) with an extreme one.
fn replace_number(bytes: &mut Vec<u8>, rng: &mut SplitMix64) {
    let starts: Vec<usize> = (0..bytes.len())
        .filter(|&i| bytes[i].is_ascii_digit() && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric()))
        .collect();
    let Some(&start) = starts.get(rng.below(starts.len())) else {
        return;
    };
    let end = (start..bytes.len())
        .find(|&i| !(bytes[i].is_ascii_digit() || bytes[i] == b'.' || bytes[i] == b'e'))
        .unwrap_or(bytes.len());
    let new = EXTREME_NUMBERS[rng.below(EXTREME_NUMBERS.len())].as_bytes();
    bytes.splice(start..end, new.iter().copied());
}

/// One byte-level mutation; `other` is another seed to splice from.
fn mutate_bytes(bytes: &mut Vec<u8>, other: &[u8], rng: &mut SplitMix64) {
    const INTERESTING: &[u8] = b"\0\xff\"',:;()[]{}-.0123456789eE \n#/\\";
    let len = bytes.len();
    match rng.below(8) {
        0 if len > 0 => {
            let i = rng.below(len);
            bytes[i] ^= 1 << rng.below(8);
        }
        1 if len > 0 => {
            let i = rng.below(len);
            bytes[i] = INTERESTING[rng.below(INTERESTING.len())];
        }
        2 if len > 0 => {
            let start = rng.below(len);
            let end = (start + 1 + rng.below(64)).min(len);
            bytes.drain(start..end);
        }
        3 if !other.is_empty() => {
            let from = rng.below(other.len());
            let piece = &other[from..(from + 1 + rng.below(128)).min(other.len())];
            let at = rng.below(len + 1);
            bytes.splice(at..at, piece.iter().copied());
        }
        4 if len > 0 => bytes.truncate(rng.below(len)),
        5 if len >= 4 => {
            let i = rng.below(len - 3);
            let value = match rng.below(4) {
                0 => u32::MAX,
                1 => 0,
                2 => 0x8000_0000,
                _ => rng.next_u64() as u32,
            };
            bytes[i..i + 4].copy_from_slice(&value.to_le_bytes());
        }
        6 if len > 0 => {
            // Duplicate a slice in place (repeated entries, repeated ids).
            let start = rng.below(len);
            let piece: Vec<u8> = bytes[start..(start + 1 + rng.below(256)).min(len)].to_vec();
            bytes.splice(start..start, piece);
        }
        _ => replace_number(bytes, rng),
    }
}

/// A glb's JSON chunk and what follows it, if `bytes` are a glb with a readable JSON header.
fn split_glb(bytes: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    if bytes.get(0..4)? != b"glTF" {
        return None;
    }
    let json_len = u32::from_le_bytes(bytes.get(12..16)?.try_into().ok()?) as usize;
    let json = bytes.get(20..20 + json_len)?.to_vec();
    let rest = bytes.get(20 + json_len..)?.to_vec();
    Some((json, rest))
}

/// A glb with `json` as its JSON chunk and `rest` after it, lengths made right.
fn join_glb(mut json: Vec<u8>, rest: &[u8]) -> Vec<u8> {
    while !json.len().is_multiple_of(4) {
        json.push(b' ');
    }
    let total = 20 + json.len() + rest.len();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(b"glTF");
    out.extend_from_slice(&2u32.to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out.extend_from_slice(&(json.len() as u32).to_le_bytes());
    out.extend_from_slice(b"JSON");
    out.extend_from_slice(&json);
    out.extend_from_slice(rest);
    out
}

/// One fuzz input from the seeds.
pub fn mutant(target: FuzzTarget, seeds: &[Vec<u8>], rng: &mut SplitMix64) -> Vec<u8> {
    let base = &seeds[rng.below(seeds.len())];
    let other = &seeds[rng.below(seeds.len())];
    let rounds = 1 + rng.below(4);
    if target == FuzzTarget::Glb
        && rng.below(4) != 0
        && let Some((mut json, rest)) = split_glb(base)
    {
        // Mostly the JSON, rewrapped with correct lengths: the check then reads deeper.
        let other_json = split_glb(other).map(|(j, _)| j).unwrap_or_default();
        for _ in 0..rounds {
            mutate_bytes(&mut json, &other_json, rng);
        }
        let mut out = join_glb(json, &rest);
        if rng.below(8) == 0 {
            // And now and then the binary chunk too.
            let len = out.len();
            if len > 20 {
                let i = 20 + rng.below(len - 20);
                out[i] ^= 1 << rng.below(8);
            }
        }
        return out;
    }
    let mut bytes = base.clone();
    for _ in 0..rounds {
        mutate_bytes(&mut bytes, other, rng);
    }
    bytes
}

/// Runs `target` for `budget` from `seed`.
pub fn fuzz(target: FuzzTarget, budget: Duration, seed: u64) -> FuzzReport {
    let seeds = seeds(target);
    let mut report = FuzzReport::default();
    if seeds.is_empty() {
        return report;
    }
    let mut rng = SplitMix64(seed);
    let started = Instant::now();
    // Panics are counted here, not printed one by one.
    let previous_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    while started.elapsed() < budget {
        let input = mutant(target, &seeds, &mut rng);
        let case_started = Instant::now();
        let outcome = std::panic::catch_unwind(|| run_one(target, &input));
        report.slowest_s = report.slowest_s.max(case_started.elapsed().as_secs_f64());
        report.cases += 1;
        match outcome {
            Ok(true) => report.accepted += 1,
            Ok(false) => {}
            Err(_) => {
                report.panics += 1;
                if report.crashing_inputs.len() < 16 {
                    report.crashing_inputs.push(input);
                }
            }
        }
    }
    std::panic::set_hook(previous_hook);
    report
}

/// `hipback fuzz`: prints the counts; exit code 2 if anything panicked (inputs saved).
pub fn run(args: &FuzzArgs) -> ExitCode {
    let started = Instant::now();
    let report = fuzz(args.target, Duration::from_secs(args.seconds), args.seed);
    let mut saved = Vec::new();
    if !report.crashing_inputs.is_empty() {
        let _ = std::fs::create_dir_all(&args.crashes);
        for (i, input) in report.crashing_inputs.iter().enumerate() {
            let path = args
                .crashes
                .join(format!("{:?}-seed{}-{i}", args.target, args.seed).to_lowercase());
            if std::fs::write(&path, input).is_ok() {
                saved.push(path.display().to_string());
            }
        }
    }
    println!(
        "fuzz {:?}: {} cases in {:.0} s (seed {}), {} accepted, {} panics, slowest case {:.1} ms",
        args.target,
        report.cases,
        started.elapsed().as_secs_f64(),
        args.seed,
        report.accepted,
        report.panics,
        report.slowest_s * 1000.0
    );
    if report.panics > 0 {
        eprintln!(
            "hipback: fuzz {:?}: {} inputs panicked (saved: {})",
            args.target,
            report.panics,
            saved.join(", ")
        );
        return ExitCode::from(FAILURE_EXIT_CODE);
    }
    ExitCode::SUCCESS
}
