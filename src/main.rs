//! The `judge` command.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    if !matches!(args.command, cli::Command::Run(_)) {
        // Like any Unix filter: `judge verify ... | head` ends quietly. (`judge run` keeps
        // SIGPIPE ignored: it forwards the box's output and must clean up if the reader goes.)
        // SAFETY: signal(2) with SIG_DFL before any other thread exists.
        unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    }
    let res = match args.command {
        cli::Command::Run(run) => return cli::run::main(run),
        cli::Command::Submit(a) => cli::submit::main(a),
        cli::Command::Verify(a) => cli::verify::main(a),
        cli::Command::Batch(a) => cli::batch::main(a),
        cli::Command::Serve(a) => cli::serve::serve(a),
        cli::Command::Worker(a) => cli::serve::worker(a),
        cli::Command::Token(a) => cli::serve::token(a),
        cli::Command::Load(a) => cli::load::main(a),
    };
    match res {
        Ok(code) => code,
        Err(e) => {
            eprintln!("judge: {e:#}");
            ExitCode::from(2)
        }
    }
}
