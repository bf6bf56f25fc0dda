//! Limits: CPU time (all processes and threads), wall time, memory of the whole box, pids,
//! output size, and /tmp charged to the box. Each test burns real resources in the box.
//!
//! All tests here take `serial()`: they measure time and would disturb each other on 2 cores.
//! Run inside a throwaway namespace: `unshare -m -p -f --mount-proc cargo test --test run_limits`.

mod common;

use std::fs;
use std::process::Command;
use std::thread;
use std::time::Duration;

use common::*;

/// How far past the CPU limit the box may get before judge stops it.
const CPU_SLACK_MS: u64 = 50;

fn assert_cpu_stopped_at(run: &Run, limit_ms: u64) {
    let cpu = run.num("cpu_time_ms");
    if !(limit_ms..=limit_ms + CPU_SLACK_MS).contains(&cpu) {
        run.fail(&format!(
            "cpu_time_ms {cpu} not in [{limit_ms}, {}]",
            limit_ms + CPU_SLACK_MS
        ));
    }
}

#[test]
fn busy_loop_hits_time_limit() {
    let _serial = serial();
    let run = run(&["--time", "1"], &["spin"]);
    run.expect_status("time_limit");
    assert_cpu_stopped_at(&run, 1000);
}

#[test]
fn fractional_time_limit() {
    let _serial = serial();
    let run = run(&["--time", "0.5"], &["spin"]);
    run.expect_status("time_limit");
    assert_cpu_stopped_at(&run, 500);
}

#[test]
fn sleeper_hits_wall_time_limit() {
    let _serial = serial();
    let run = run(&["--wall", "1"], &["sleep_ms", "30000"]);
    run.expect_status("wall_time_limit");
    let wall = run.num("wall_time_ms");
    if !(1000..2000).contains(&wall) {
        run.fail(&format!("wall_time_ms {wall} not in [1000, 2000)"));
    }
    if run.num("cpu_time_ms") > 100 {
        run.fail("a sleeping program used more than 100 ms of CPU");
    }
}

/// wall / cpu of `threads 4` run for a moment on the host (a busy loop is not hostile): how
/// parallel 4 threads can be on this host right now (0.5 on 2 idle cores).
fn host_threads_ratio() -> f64 {
    let (cpu_ms, wall, _) = host_run("threads", &["4"], Some(Duration::from_millis(400)));
    wall.as_secs_f64() * 1000.0 / cpu_ms.max(1.0)
}

#[test]
fn threads_share_one_cpu_budget() {
    let _serial = serial();
    // 4 threads on 2 cores: CPU time grows about twice as fast as wall time, so wall < 0.8 * cpu.
    // Other load on the host can eat a core; then the bar is what the host itself achieves
    // right now (+25%). If CPU time counted only one thread, wall would be about 4x what the
    // host achieves, and if the box were held to one CPU, it would be 2x on an idle host.
    let mut attempts = Vec::new();
    for _ in 0..3 {
        let host = host_threads_ratio();
        let run = run(&["--time", "1"], &["threads", "4"]);
        run.expect_status("time_limit");
        assert_cpu_stopped_at(&run, 1000);
        let (cpu, wall) = (
            run.num("cpu_time_ms") as f64,
            run.num("wall_time_ms") as f64,
        );
        let bar = f64::max(0.8, 1.25 * host);
        if wall < bar * cpu {
            return;
        }
        attempts.push(format!(
            "box: cpu {cpu} ms, wall {wall} ms; host wall/cpu {host:.2}; load {}",
            loadavg()
        ));
    }
    panic!("box wall/cpu too high on every attempt: the threads did not run in parallel, or CPU time counts only one thread: {attempts:#?}");
}

#[test]
fn child_process_cpu_counts() {
    let _serial = serial();
    let run = run(&["--time", "1"], &["childspin"]);
    run.expect_status("time_limit");
    assert_cpu_stopped_at(&run, 1000);
}

#[test]
fn memory_hog_hits_memory_limit() {
    let _serial = serial();
    let run = run(&["--mem", "64M"], &["memhog", "256"]);
    run.expect_status("memory_limit");
    if run.num("memory_bytes") > 64 * MIB {
        run.fail("peak memory above the 64M limit");
    }
    if run.out().contains("touched") {
        run.fail("the program touched all 256 MiB under a 64M limit");
    }
}

#[test]
fn memory_limit_covers_all_processes_of_the_box() {
    let _serial = serial();
    // 4 processes x 24 MiB: each alone is under 64M, together they are not.
    let run = run(&["--mem", "64M"], &["memhog", "24", "4", "1000"]);
    run.expect_status("memory_limit");
    // A process may print "touched" and be OOM-killed later to make room for another, so
    // counting the lines proves nothing; the box's peak does: never above the box's limit.
    let peak = run.report()["memory_bytes"].as_u64().unwrap_or(0);
    if peak > 64 * MIB {
        run.fail(&format!("the box's peak {peak} exceeds its 64M limit"));
    }
    if peak < 48 * MIB {
        run.fail(&format!("the box's peak {peak} is below what two processes touched: the processes were not charged together"));
    }
}

#[test]
fn fork_bomb_is_contained() {
    let _serial = serial();
    let mut running = Judge::new(&["--pids", "16", "--time", "2"], &["forkbomb"])
        .deadline(Duration::from_secs(30))
        .spawn();
    // Count the bomb's processes from outside while it runs.
    let mut most = 0;
    while !running.has_exited() {
        most = most.max(box_tasks());
        thread::sleep(Duration::from_millis(5));
    }
    let run = running.wait();
    assert!(
        run.exit.success() && run.report.is_some(),
        "judge failed on a fork bomb:\n{}",
        run.dump()
    );
    let status = run.status();
    if status != "time_limit" && status != "wall_time_limit" {
        run.fail(&format!(
            "fork bomb ended with {status}, expected time_limit or wall_time_limit"
        ));
    }
    if most == 0 {
        run.fail("saw no box process while the bomb ran: the sampling is blind");
    }
    if most > 16 {
        run.fail(&format!("{most} box processes at once under --pids 16"));
    }
    // pids_peak is read from the cgroup, which also holds judge's init in the box (pids.max is
    // N + 1), so it may show N + 1.
    if let Some(peak) = run.report()["pids_peak"].as_u64() {
        if peak > 17 {
            run.fail(&format!(
                "pids_peak {peak} exceeds --pids 16 (+1 for judge's init)"
            ));
        }
    }
    if run.num("wall_time_ms") > 6000 {
        run.fail("the run lasted past its wall limit (2 * 2 + 1 s)");
    }
    let left = box_processes();
    assert!(
        left.is_empty(),
        "fork bomb processes survived judge: {} of them, e.g. {:?}",
        left.len(),
        left.first()
    );
    let host = Command::new("/bin/true")
        .status()
        .expect("the host can no longer fork");
    assert!(host.success());
}

#[test]
fn stdout_file_is_capped_at_output_limit() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("stdout");
    let run = run(
        &["--output", "1M", "--stdout", out.to_str().unwrap()],
        &["flood", &(8 * MIB).to_string()],
    );
    run.expect_status("output_limit");
    let size = fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    if size > MIB {
        run.fail(&format!("stdout file is {size} bytes, above the 1M limit"));
    }
}

#[test]
fn pumped_stdout_is_capped_at_output_limit() {
    let _serial = serial();
    let run = run(&["--output", "1M"], &["flood", &(8 * MIB).to_string()]);
    run.expect_status("output_limit");
    if run.stdout.len() as u64 > MIB {
        run.fail(&format!(
            "judge passed {} bytes of stdout, above the 1M limit",
            run.stdout.len()
        ));
    }
}

#[test]
fn file_written_in_the_box_is_capped_at_output_limit() {
    let _serial = serial();
    let run = run(&["--output", "1M"], &["fillfile", "/box/big", "8"]);
    run.expect_status("output_limit");
    if run.out().contains("wrote") {
        run.fail("the program wrote an 8 MiB file under --output 1M");
    }
}

#[test]
fn tmp_cannot_hold_more_than_the_box_memory() {
    let _serial = serial();
    let run = Judge::new(
        &["--mem", "64M", "--output", "300M"],
        &["fillfile", "/tmp/big", "200"],
    )
    .deadline(Duration::from_secs(60))
    .run();
    let status = run.status();
    let out = run.out();
    if out.contains("wrote 200 MiB") {
        run.fail("the box stored a 200 MiB file in /tmp with --mem 64M");
    }
    let saw_error = out.contains("error");
    if !(status == "memory_limit" || status == "output_limit" || saw_error) {
        run.fail(&format!(
            "status {status} and the program saw no write error: /tmp is not bounded"
        ));
    }
    if run.num("memory_bytes") > 64 * MIB {
        run.fail("peak memory above the 64M limit");
    }
}

#[test]
fn tmp_files_are_charged_to_the_box() {
    let _serial = serial();
    let run = run(
        &["--mem", "256M", "--output", "100M"],
        &["fillfile", "/tmp/f", "30"],
    );
    run.expect_status("ok");
    if !run.out().contains("wrote 30 MiB") {
        run.fail("could not write a 30 MiB file to /tmp");
    }
    if run.num("memory_bytes") < 30 * MIB {
        run.fail("a 30 MiB /tmp file is not charged to the box's memory");
    }
}
