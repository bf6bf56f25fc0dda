// any-pair, wrong answer: prints 0-based positions (off by one).
use std::collections::HashMap;
use std::io::{self, Read};

fn main() {
    let mut input = String::new();
    io::stdin().read_to_string(&mut input).unwrap();
    let v: Vec<i64> = input.split_ascii_whitespace().map(|t| t.parse().unwrap()).collect();
    let (n, s) = (v[0] as usize, v[1]);
    let mut pos: HashMap<i64, usize> = HashMap::new();
    for (j, &x) in v[2..2 + n].iter().enumerate() {
        if let Some(&i) = pos.get(&(s - x)) {
            println!("{} {}", i, j);
            return;
        }
        pos.entry(x).or_insert(j);
    }
}
