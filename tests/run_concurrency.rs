//! Many `judge run` at once must not collide: all succeed, distinct uids, nothing left after.
//!
//! Run inside a throwaway namespace: `unshare -m -p -f --mount-proc cargo test --test run_concurrency`.

mod common;

use std::collections::BTreeSet;
use std::thread;
use std::time::Duration;

use common::*;

const RUNS: usize = 16;

#[test]
fn sixteen_parallel_runs_get_distinct_uids_and_leave_nothing() {
    let _serial = serial();
    let mounts_before = mounts();
    programs_dir(); // compile once, before the threads race for it
    let runs: Vec<Run> = (0..RUNS)
        .map(|_| {
            thread::spawn(|| {
                Judge::new(&["--time", "5"], &["whoami", "300"])
                    .deadline(Duration::from_secs(90))
                    .run()
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().expect("a judge run panicked"))
        .collect();
    let mut uids = BTreeSet::new();
    let mut boxes = BTreeSet::new();
    for run in &runs {
        run.expect_status("ok");
        let uid: u64 = run.get("uid").parse().unwrap();
        if uid != run.num("uid") {
            run.fail("report uid differs from the uid the program saw");
        }
        if !BOX_UIDS.contains(&(uid as u32)) {
            run.fail("uid outside the box range");
        }
        uids.insert(uid);
        boxes.insert(run.report()["box_id"].to_string());
    }
    assert_eq!(uids.len(), RUNS, "concurrent runs shared uids: {uids:?}");
    assert_eq!(
        boxes.len(),
        RUNS,
        "concurrent runs shared box ids: {boxes:?}"
    );
    assert_nothing_left(&mounts_before, "after 16 parallel runs");
}

#[test]
fn parallel_boxes_do_not_see_each_other() {
    let _serial = serial();
    programs_dir();
    // While 4 boxes sleep, 4 more list their /proc: each must see only itself.
    let sleepers: Vec<_> = (0..4)
        .map(|_| thread::spawn(|| Judge::new(&[], &["sleep_ms", "1500"]).run()))
        .collect();
    wait_for_box_process("sleep_ms", Duration::from_secs(20));
    let listers: Vec<_> = (0..4)
        .map(|_| thread::spawn(|| common::run(&[], &["ps"])))
        .collect();
    for t in listers {
        let run = t.join().expect("a judge run panicked");
        run.expect_status("ok");
        if run.out().contains(" sleep_ms") {
            run.fail("a box sees another box's process");
        }
    }
    for t in sleepers {
        t.join().expect("a judge run panicked").expect_status("ok");
    }
}
