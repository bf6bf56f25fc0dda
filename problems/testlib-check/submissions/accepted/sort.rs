// testlib-check, accepted: sort_unstable (edition 2021, std only).
use std::io::{self, Read, Write};

fn main() {
    let mut input = String::new();
    io::stdin().read_to_string(&mut input).unwrap();
    let mut it = input.split_ascii_whitespace();
    let n: usize = it.next().unwrap().parse().unwrap();
    let mut a: Vec<i64> = it.take(n).map(|t| t.parse().unwrap()).collect();
    a.sort_unstable();
    let line: Vec<String> = a.iter().map(|x| x.to_string()).collect();
    writeln!(io::stdout(), "{}", line.join(" ")).unwrap();
}
