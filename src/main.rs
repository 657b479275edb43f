//! The `hipback` binary: see [`hipback::cli`].

fn main() -> std::process::ExitCode {
    hipback::cli::main()
}
