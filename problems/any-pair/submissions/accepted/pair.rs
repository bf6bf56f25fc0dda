// any-pair, accepted: HashMap from value to position (edition 2021, std only).
use std::collections::HashMap;
use std::io::{self, Read};

fn main() {
    let mut input = String::new();
    io::stdin().read_to_string(&mut input).unwrap();
    let v: Vec<i64> = input.split_ascii_whitespace().map(|t| t.parse().unwrap()).collect();
    let (n, s) = (v[0] as usize, v[1]);
    let a = &v[2..2 + n];
    let mut pos: HashMap<i64, usize> = HashMap::new();
    for (j, &x) in a.iter().enumerate() {
        if let Some(&i) = pos.get(&(s - x)) {
            println!("{} {}", i + 1, j + 1);
            return;
        }
        pos.entry(x).or_insert(j);
    }
}
