//! Command-line parsing shared by the subcommands.

pub mod batch;
mod judging;
pub mod load;
pub mod run;
pub mod serve;
pub mod submit;
pub mod verify;

use std::time::Duration;

use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(name = "judge", version, about = "Run and judge untrusted programs in a sandbox")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run one program in a fresh sandbox and report what it did (like bubblewrap or isolate).
    Run(run::RunArgs),
    /// Judge one submission on a problem package: a per-test table and the overall verdict.
    Submit(submit::SubmitArgs),
    /// Check a problem package: every example submission must get the verdict it expects.
    Verify(verify::VerifyArgs),
    /// Grade a folder of submissions in parallel, with a progress bar and a CSV/JSON report.
    Batch(batch::BatchArgs),
    /// The judging service: HTTP API, durable queue, local workers.
    Serve(serve::ServeArgs),
    /// Workers on another machine, sharing the service's PostgreSQL database.
    Worker(serve::WorkerArgs),
    /// Bearer tokens of the service.
    Token(serve::TokenArgs),
    /// Load generator: submit N submissions (or /v1/run calls) to a service, wait for every
    /// verdict, report throughput and latency.
    Load(load::LoadArgs),
}

/// Parses a size: bytes, or a number with K, M, G (powers of 1024; "KB", "KiB" accepted too).
pub fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let mult: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => return Err(format!("invalid size {s:?}: unknown unit {unit:?} (use bytes or K, M, G)")),
    };
    let n: f64 = num.parse().map_err(|_| format!("invalid size {s:?}: expected a number like 64M, 1G or 512K"))?;
    if !n.is_finite() || n < 0.0 {
        return Err(format!("invalid size {s:?}"));
    }
    let bytes = n * mult as f64;
    if bytes > u64::MAX as f64 / 2.0 {
        return Err(format!("invalid size {s:?}: too large"));
    }
    Ok(bytes as u64)
}

/// Parses seconds: "2", "0.5".
pub fn parse_seconds(s: &str) -> Result<Duration, String> {
    let v: f64 = s.trim().parse().map_err(|_| format!("invalid time {s:?}: expected seconds like 2 or 0.5"))?;
    if !v.is_finite() || v <= 0.0 || v > 1e6 {
        return Err(format!("invalid time {s:?}: must be between 0 and 1000000 seconds"));
    }
    Ok(Duration::from_secs_f64(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64M").unwrap(), 64 << 20);
        assert_eq!(parse_size("1G").unwrap(), 1 << 30);
        assert_eq!(parse_size("512k").unwrap(), 512 << 10);
        assert_eq!(parse_size("100").unwrap(), 100);
        assert_eq!(parse_size("1.5K").unwrap(), 1536);
        assert!(parse_size("12Q").unwrap_err().contains("12Q"));
        assert!(parse_size("abc").is_err());
        assert!(parse_size("-1M").is_err());
    }

    #[test]
    fn seconds() {
        assert_eq!(parse_seconds("0.5").unwrap(), Duration::from_millis(500));
        assert!(parse_seconds("0").is_err());
        assert!(parse_seconds("x").unwrap_err().contains("\"x\""));
    }
}
