// groups-sum, accepted: sort_unstable and prefix sums in i64 (edition 2021).
use std::io::{self, Read};

fn main() {
    let mut input = String::new();
    io::stdin().read_to_string(&mut input).unwrap();
    let mut it = input.split_ascii_whitespace();
    let n: usize = it.next().unwrap().parse().unwrap();
    let mut a: Vec<i64> = it.take(n).map(|t| t.parse().unwrap()).collect();
    a.sort_unstable();
    let (mut total, mut prefix) = (0i64, 0i64);
    for (i, &x) in a.iter().enumerate() {
        total += x * i as i64 - prefix;
        prefix += x;
    }
    println!("{}", total);
}
