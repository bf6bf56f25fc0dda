//! The default output validator (2025-09 semantics), streaming.
