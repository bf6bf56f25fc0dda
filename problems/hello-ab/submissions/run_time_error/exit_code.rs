// hello-ab, run time error: prints the right answer but exits with status 3.
use std::io::{self, Read};
use std::process;

fn main() {
    let mut input = String::new();
    io::stdin().read_to_string(&mut input).unwrap();
    let v: Vec<i64> = input.split_ascii_whitespace().map(|t| t.parse().unwrap()).collect();
    println!("{}", v[0] + v[1]);
    process::exit(3);
}
