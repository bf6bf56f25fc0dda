// guess, accepted: binary search (edition 2021, std only); explicit flush.
use std::io::{self, BufRead, Write};

fn main() {
    let stdin = io::stdin();
    let mut lines = stdin.lock().lines();
    let mut out = io::stdout();
    let (mut lo, mut hi) = (1, 1000);
    loop {
        let g = (lo + hi) / 2;
        writeln!(out, "{}", g).unwrap();
        out.flush().unwrap();
        let reply = match lines.next() {
            Some(Ok(line)) => line,
            _ => return,
        };
        match reply.trim() {
            "correct" => return,
            "lower" => hi = g - 1,
            _ => lo = g + 1,
        }
    }
}
