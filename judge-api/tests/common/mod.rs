//! What the privileged test files of judge-api share.
#![allow(dead_code)]

use std::sync::OnceLock;

use runner::Sandbox;

/// The process's sandbox; panics with how to run the tests when it cannot start (not root).
pub fn sandbox(test_file: &str) -> &'static Sandbox {
    static SB: OnceLock<Sandbox> = OnceLock::new();
    SB.get_or_init(|| {
        Sandbox::with_defaults().unwrap_or_else(|e| {
            panic!(
                "Sandbox::with_defaults: {e}\nthese tests need root; run them in a throwaway namespace: \
                 `unshare -m -p -f --mount-proc cargo test -p judge-api --test {test_file}`"
            )
        })
    })
}
