//! `judge run`: one program, one box, one JSON report.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use runner::{BindMount, CancelToken, Error, Input, Limits, Output, RunSpec, Sandbox};

use super::{parse_seconds, parse_size};

/// Exit code when the program could not be sandboxed.
const EXIT_SANDBOX_ERROR: u8 = 2;

#[derive(Args, Debug)]
#[command(after_help = "Defaults: --time 10, --wall 2*time+1, --mem 512M, --pids 64, --output 64M. \
The box sees a read-only / with /usr, /lib*, /bin, /sbin and the parts of /etc that loaders and \
compilers read, its own /proc, a minimal /dev, a writable /tmp and a writable working directory /box. \
Exit status: 0 when a report was produced (whatever the program did), 2 when the program could not be sandboxed.")]
pub struct RunArgs {
    /// CPU time limit in seconds, all processes and threads of the box together.
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    time: Option<Duration>,
    /// Wall-clock limit in seconds (default: twice the CPU limit plus one second).
    #[arg(long, value_name = "SECONDS", value_parser = parse_seconds)]
    wall: Option<Duration>,
    /// Memory limit of the whole box (e.g. 64M, 1G); swap never extends it.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    mem: Option<u64>,
    /// Processes plus threads the program may have at once.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pids: Option<u32>,
    /// Largest file the box may write, stdout and stderr included.
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    output: Option<u64>,
    /// Mount host path SRC read-only at DEST in the box.
    #[arg(long = "ro-bind", num_args = 2, value_names = ["SRC", "DEST"], action = clap::ArgAction::Append)]
    ro_bind: Vec<PathBuf>,
    /// Mount host path SRC read-write at DEST in the box.
    #[arg(long = "bind", num_args = 2, value_names = ["SRC", "DEST"], action = clap::ArgAction::Append)]
    bind: Vec<PathBuf>,
    /// Set an environment variable in the box.
    #[arg(long, value_name = "KEY=VALUE")]
    env: Vec<String>,
    /// Working directory in the box.
    #[arg(long, value_name = "DIR", default_value = runner::spec::DEFAULT_WORKDIR)]
    chdir: PathBuf,
    /// Host file for the program's stdin ("-" for judge's own stdin; default /dev/null).
    #[arg(long, value_name = "FILE")]
    stdin: Option<PathBuf>,
    /// Host file for the program's stdout (default: judge's stdout, limited by --output).
    #[arg(long, value_name = "FILE")]
    stdout: Option<PathBuf>,
    /// Host file for the program's stderr (default: judge's stderr, limited by --output).
    #[arg(long, value_name = "FILE")]
    stderr: Option<PathBuf>,
    /// Write the JSON report to FILE ("-" for stdout).
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// CPUs the box may run on, e.g. "0" or "0,1" (cpuset).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    cpus: Option<Vec<u32>>,
    /// cgroup v2: a delegated cgroup to put the box under (default: $JUDGE_CGROUP, else the
    /// judge's own cgroup when it is delegated, else <cgroup2 root>/judge).
    #[arg(long, value_name = "PATH")]
    cgroup: Option<PathBuf>,
    /// The program and its arguments.
    #[arg(last = true, required = true, value_name = "PROGRAM")]
    command: Vec<String>,
}

impl RunArgs {
    fn spec(&self) -> Result<RunSpec, String> {
        let mut spec = RunSpec::new(self.command[0].clone());
        spec.args = self.command[1..].to_vec();
        let cpu = self.time.unwrap_or(runner::spec::DEFAULT_CPU_TIME);
        spec.limits = Limits {
            cpu_time: cpu,
            wall_time: self.wall.unwrap_or_else(|| Limits::default_wall_for(cpu)),
            memory_bytes: self.mem.unwrap_or(runner::spec::DEFAULT_MEMORY_BYTES),
            pids: self.pids.unwrap_or(runner::spec::DEFAULT_PIDS),
            output_bytes: self.output.unwrap_or(runner::spec::DEFAULT_OUTPUT_BYTES),
        };
        for (pairs, writable) in [(&self.ro_bind, false), (&self.bind, true)] {
            for p in pairs.chunks(2) {
                spec.mounts.push(BindMount { src: p[0].clone(), dest: p[1].clone(), writable });
            }
        }
        for e in &self.env {
            let (k, v) = e.split_once('=').ok_or_else(|| format!("--env {e:?}: expected KEY=VALUE"))?;
            if k.is_empty() {
                return Err(format!("--env {e:?}: empty variable name"));
            }
            spec.env.push((k.to_owned(), v.to_owned()));
        }
        spec.workdir = self.chdir.clone();
        spec.stdin = match &self.stdin {
            None => Input::Null,
            Some(p) if p.as_os_str() == "-" => Input::Fd(0),
            Some(p) => Input::File(p.clone()),
        };
        spec.stdout = self.stdout.clone().map(Output::File).unwrap_or(Output::Pump(1));
        spec.stderr = self.stderr.clone().map(Output::File).unwrap_or(Output::Pump(2));
        spec.cpus = self.cpus.clone();
        Ok(spec)
    }
}

fn write_report(dest: &PathBuf, json: &serde_json::Value) -> Result<(), String> {
    let text = serde_json::to_string_pretty(json).expect("reports serialize") + "\n";
    if dest.as_os_str() == "-" {
        std::io::stdout().write_all(text.as_bytes()).map_err(|e| format!("write the report to stdout: {e}"))
    } else {
        std::fs::write(dest, text).map_err(|e| format!("write the report to {}: {e}", dest.display()))
    }
}

/// SIGINT and SIGTERM cancel the run: the box is killed and cleaned up before judge exits.
fn install_signal_handlers(token: &CancelToken) -> Result<(), String> {
    for sig in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM, signal_hook::consts::SIGHUP] {
        let t = token.clone();
        // SAFETY: the handler only writes to an eventfd (async-signal-safe).
        unsafe { signal_hook::low_level::register(sig, move || t.cancel()) }
            .map_err(|e| format!("install a handler for signal {sig}: {e}"))?;
    }
    Ok(())
}

pub fn main(args: RunArgs) -> ExitCode {
    let fail = |msg: String, report: &Option<PathBuf>| {
        eprintln!("judge run: {msg}");
        if let Some(dest) = report {
            let _ = write_report(dest, &serde_json::json!({ "status": "sandbox_error", "message": msg }));
        }
        ExitCode::from(EXIT_SANDBOX_ERROR)
    };
    let spec = match args.spec() {
        Ok(s) => s,
        Err(m) => return fail(m, &args.report),
    };
    let config = runner::SandboxConfig { runs_hint: Some(1), cgroup: args.cgroup.clone(), ..Default::default() };
    let sandbox = match Sandbox::new(config) {
        Ok(s) => s,
        Err(e) => return fail(e.to_string(), &args.report),
    };
    let token = match CancelToken::new() {
        Ok(t) => t,
        Err(e) => return fail(format!("create an eventfd: {e}"), &args.report),
    };
    if let Err(m) = install_signal_handlers(&token) {
        return fail(m, &args.report);
    }
    match sandbox.run_with_cancel(&spec, Some(&token)) {
        Ok(report) => {
            let json = serde_json::to_value(&report).expect("reports serialize");
            match &args.report {
                Some(dest) => {
                    if let Err(m) = write_report(dest, &json) {
                        eprintln!("judge run: {m}");
                        return ExitCode::from(EXIT_SANDBOX_ERROR);
                    }
                }
                None => eprintln!(
                    "judge run: {} ({}; cpu {} ms, wall {} ms, memory {} KiB)",
                    report.status.as_str(),
                    report.message,
                    report.cpu_time_ms,
                    report.wall_time_ms,
                    report.memory_bytes / 1024
                ),
            }
            ExitCode::SUCCESS
        }
        Err(Error::Cancelled) => {
            eprintln!("judge run: interrupted; the box was killed and removed");
            ExitCode::from(130)
        }
        Err(e) => fail(e.to_string(), &args.report),
    }
}
