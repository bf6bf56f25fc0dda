//! The `judge` command.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let res = match args.command {
        cli::Command::Run(run) => return cli::run::main(run),
        cli::Command::Submit(a) => cli::submit::main(a),
        cli::Command::Verify(a) => cli::verify::main(a),
        cli::Command::Batch(a) => cli::batch::main(a),
    };
    match res {
        Ok(code) => code,
        Err(e) => {
            eprintln!("judge: {e:#}");
            ExitCode::from(2)
        }
    }
}
