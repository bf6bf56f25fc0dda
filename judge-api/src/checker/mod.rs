//! Output checking: the default output validator, custom validators, testlib checkers.
pub mod default;
