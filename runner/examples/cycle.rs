//! Times N sandboxed runs of /bin/true through the library: `cargo run --release --example cycle -- 200`.
use std::time::Instant;

fn main() {
    let n: u32 = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(200);
    let sb = runner::Sandbox::with_defaults().expect("sandbox");
    let spec = runner::RunSpec::new("/bin/true");
    sb.run(&spec).expect("warm-up run");
    let t = Instant::now();
    for _ in 0..n {
        let r = sb.run(&spec).expect("run");
        assert_eq!(r.status, runner::Status::Ok);
    }
    println!("{:.3} ms per run", t.elapsed().as_secs_f64() * 1000.0 / n as f64);
}
