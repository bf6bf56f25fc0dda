// float-mean, run time error: reads one element too many (index n is out of
// bounds), so the program panics and exits with status 101.
use std::io::{self, Read};

fn main() {
    let mut input = String::new();
    io::stdin().read_to_string(&mut input).unwrap();
    let v: Vec<i64> = input.split_ascii_whitespace().map(|t| t.parse().unwrap()).collect();
    let n = v[0] as usize;
    let a = &v[1..];
    let mut sum = 0i64;
    for i in 0..=n {
        sum += a[i];
    }
    println!("{} 0", sum as f64 / n as f64);
}
