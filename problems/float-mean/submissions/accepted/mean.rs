// float-mean, accepted: scientific notation from Rust's {:e} (e.g. "1.5e0 5e-1").
use std::io::{self, Read};

fn main() {
    let mut input = String::new();
    io::stdin().read_to_string(&mut input).unwrap();
    let mut it = input.split_ascii_whitespace();
    let n: usize = it.next().unwrap().parse().unwrap();
    let a: Vec<i64> = it.take(n).map(|t| t.parse().unwrap()).collect();
    let mean = a.iter().sum::<i64>() as f64 / n as f64;
    let sq: f64 = a.iter().map(|&x| (x as f64 - mean) * (x as f64 - mean)).sum();
    println!("{:e} {:e}", mean, (sq / n as f64).sqrt());
}
