//! The language table.
