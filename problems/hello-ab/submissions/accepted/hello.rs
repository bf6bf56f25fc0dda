// hello-ab, accepted: i64 arithmetic (edition 2021, std only).
use std::io::{self, Read};

fn main() {
    let mut input = String::new();
    io::stdin().read_to_string(&mut input).unwrap();
    let mut it = input.split_ascii_whitespace().map(|t| t.parse::<i64>().unwrap());
    let a = it.next().unwrap();
    let b = it.next().unwrap();
    println!("{}", a + b);
}
