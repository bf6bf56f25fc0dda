// guess, run time error: a correct binary search that forgot the reply
// "correct" and panics on it (exit status 101). It crashes only after the
// validator has accepted, so the verdict does not depend on whether the
// submission or the validator is seen to finish first.
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
        let reply = lines.next().unwrap().unwrap();
        match reply.trim() {
            "lower" => hi = g - 1,
            "higher" => lo = g + 1,
            other => panic!("unexpected reply {:?}", other),
        }
    }
}
