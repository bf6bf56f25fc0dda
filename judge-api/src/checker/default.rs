//! The default output validator (2025-09 semantics), streaming.
//!
//! This is the "default output validator" of the Kattis/ICPC problem package format,
//! version `2025-09` (section *Default Output Validator Specification*), with the behaviour
//! of the reference implementation, Kattis problemtools'
//! `support/default_validator/default_validator.cc`, wherever the specification leaves room.
//!
//! # Semantics
//!
//! * **Bytes, not characters.** Both files are read as strings of single-byte characters
//!   (spec: "parses the submission output and answer files as a string of single-byte
//!   characters"). Nothing is decoded: a UTF-8 byte-order mark is three ordinary
//!   non-whitespace bytes (so it becomes part of the first token), a NUL byte is an ordinary
//!   non-whitespace byte, invalid UTF-8 is fine.
//! * **Whitespace** is exactly space `0x20`, form feed `0x0c`, line feed `0x0a`, carriage
//!   return `0x0d`, horizontal tab `0x09` and vertical tab `0x0b` (spec list; the same set as
//!   C `isspace` in the "C" locale that problemtools uses). Tokens are the maximal runs of
//!   other bytes.
//! * **Default (whitespace-insensitive).** Whitespace only separates tokens: leading and
//!   trailing whitespace, CRLF vs LF, a missing final newline, blank lines... are all
//!   ignored. The token sequences must have the same length: a missing token is
//!   "User EOF while judge had more output", an extra token is "Trailing output".
//! * **`space_change_sensitive`.** Mirrors problemtools: every whitespace byte of the answer
//!   must be matched by the identical byte in the output at the same place, and the output
//!   may have no whitespace byte where the answer has none. So leading/trailing whitespace,
//!   the final newline, CR vs LF, tab vs space and the amount of whitespace all matter
//!   (spec: "reject any submission output whose whitespace sequences (including leading and
//!   trailing) differ from those in the answer file in type or amount").
//! * **String tokens.** With `case_sensitive` the tokens must be the same byte sequence;
//!   otherwise only ASCII `A`–`Z` / `a`–`z` are folded (spec; problemtools uses `strcasecmp`
//!   in the "C" locale) — `É` and `é` differ. Unlike problemtools (which compares with
//!   `strcmp`, so it stops at a NUL byte inside a token) the *whole* token is compared,
//!   because the spec says "exactly the same byte sequence".
//! * **Floats.** Only when a tolerance is set (`float_absolute_tolerance`,
//!   `float_relative_tolerance`, `float_tolerance` = both). Then every answer token that is a
//!   floating-point number is compared numerically: the output token must also be a number
//!   ("Expected float" otherwise), and is accepted if `|s−a| ≤ abs_tol` or
//!   `|s−a| ≤ rel_tol·|a|` (either tolerance suffices; spec and problemtools). Without a
//!   tolerance floats are plain strings (`1e-7` vs `0.0000001` is WA; `-0` vs `0` is WA).
//!   Integers are floats too when a tolerance is set (spec).
//! * **What is a float.** The grammar of the spec's *General Requirements*:
//!   `[+-]? ( digit* "." digit+ | digit+ "." | digit+ ) ( [Ee] [+-]? digit+ )?`.
//!   Hence, choices where problemtools (`sscanf("%lf")`) differs from the spec, the spec
//!   wins: hexadecimal floats (`0x1p3`), `inf`, `infinity` and `nan` are **not** floats (an
//!   answer token like that is compared as a string; an output token like that, where the
//!   answer has a number, is "Expected float"). Parsing rounds to the nearest `f64` (Rust's
//!   correctly-rounded `str::parse`; the spec asks for ≥52 bits of mantissa and best
//!   effort). Like problemtools' `isfloat`, a number whose value overflows to ±infinity
//!   (`1e400`) is not a float: in the answer it is compared as a string, in the output it is
//!   "Expected float". Underflow (`1e-400`) parses to 0 as in problemtools.
//! * **Flags.** Unknown flags, a tolerance without a value, a value that is not a
//!   (finite) float of the spec grammar, a negative tolerance, a tolerance given twice, and
//!   `float_tolerance` together with one of the other two are all errors (the last two per
//!   spec: "It is an error to provide any of ... more than once, or to provide a
//!   `float_tolerance` alongside ..."). For convenience each argument is also split on
//!   ASCII whitespace, so the legacy `validator_flags: "float_tolerance 1e-6"` string can be
//!   passed as one element. A [`DefaultFlags`] built by hand with a negative or NaN
//!   tolerance treats that tolerance as unset (problemtools: unset is `-1`, and floats are
//!   used iff a tolerance is `>= 0`).
//!
//! # Streaming and bounds
//!
//! Both inputs are read through 64 KiB buffers; memory is constant whatever the sizes.
//! Tokens of up to [`MAX_TOKEN_CHUNK`] (1 MiB) bytes are held whole; a longer token is
//! compared chunk by chunk (so a correct 10 MB token is accepted — the spec allows but does
//! not require rejecting unreasonably large output, and problemtools accepts it). The
//! spec lets systems "impose reasonable limits on the number of digits" of floats: a token
//! longer than 1 MiB is never treated as a float (an answer token that long is compared as a
//! string; an output token that long where the answer has a number is "Expected float").
//!
//! The comparison runs at memory speed where the two inputs are equal byte for byte (or up
//! to letter case without `case_sensitive`, or up to whitespace without
//! `space_change_sensitive`): from a token boundary, such a region compares equal under every
//! flag combination, so a fast path skips it with slice comparisons, only counting the LF
//! bytes, and hands over to the token-by-token comparison at the start of the first token
//! that differs (see `Cmp::skip_equal`). The outcome and the message are exactly those of the
//! token-by-token comparison alone (the tests check that).
//!
//! # Messages
//!
//! As problemtools' `judgemessage.txt`: `Wrong answer on line L of output (corresponding to
//! line M in answer file)` and then one of `String tokens mismatch\nJudge: "…"\nUser: "…"`,
//! `Space change error: got D expected C` (byte values, `-1` for end of file),
//! `Space change error: judge out of space, got D from user`, `Expected float, got: …`,
//! `Too large difference.` with the absolute and relative errors (the message of
//! problemtools PR #427; an unset tolerance is shown as `unset` rather than `-1`),
//! `User EOF while judge had more output…`, `Trailing output:\n…`. Line numbers count the
//! LF bytes consumed so far (as problemtools). Tokens are truncated as problemtools does
//! (`truncate`/`truncate_pair`: 30 bytes for single tokens; for a mismatch 15 bytes of the
//! common prefix and 15 bytes of each side from the first differing byte), then shown as
//! lossy UTF-8 with control characters escaped (`\0`, `\u{7f}`, ...). For tokens longer than
//! 1 MiB the "common prefix" of a case-insensitive mismatch is the case-insensitive one.
//! An accepted output gets an empty message (problemtools writes nothing).

use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

/// Size of the read buffer of each input.
const BUF_SIZE: usize = 64 * 1024;

/// Tokens up to this many bytes are held whole (and may be floats); longer ones are compared
/// chunk by chunk, this many bytes at a time.
pub const MAX_TOKEN_CHUNK: usize = 1 << 20;

/// Flags of the default validator, parsed from `output_validator_args` / validator_flags.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DefaultFlags {
    pub case_sensitive: bool,
    pub space_change_sensitive: bool,
    pub float_absolute_tolerance: Option<f64>,
    pub float_relative_tolerance: Option<f64>,
}

impl DefaultFlags {
    /// Parses args like ["case_sensitive", "float_tolerance", "1e-6"]; unknown flags → Err(message naming the flag).
    ///
    /// Each element is additionally split on ASCII whitespace, so `["float_tolerance 1e-6"]`
    /// works too. Errors (spec 2025-09): unknown flag, missing or malformed or negative
    /// tolerance value, a tolerance flag given twice, `float_tolerance` together with
    /// `float_absolute_tolerance`/`float_relative_tolerance`.
    pub fn parse<S: AsRef<str>>(args: &[S]) -> Result<Self, String> {
        let mut words = args
            .iter()
            .flat_map(|a| a.as_ref().split_ascii_whitespace());
        let mut flags = DefaultFlags::default();
        let (mut seen_abs, mut seen_rel, mut seen_both) = (false, false, false);
        while let Some(word) = words.next() {
            match word {
                "case_sensitive" => flags.case_sensitive = true,
                "space_change_sensitive" => flags.space_change_sensitive = true,
                "float_absolute_tolerance" | "float_relative_tolerance" | "float_tolerance" => {
                    let value = words.next().ok_or_else(|| {
                        format!("default output validator flag '{word}' needs a value")
                    })?;
                    let eps = parse_float(value.as_bytes()).ok_or_else(|| {
                        format!(
                            "default output validator flag '{word}': '{value}' is not a finite decimal floating-point number"
                        )
                    })?;
                    if eps < 0.0 {
                        return Err(format!(
                            "default output validator flag '{word}': tolerance '{value}' is negative"
                        ));
                    }
                    let seen = match word {
                        "float_absolute_tolerance" => &mut seen_abs,
                        "float_relative_tolerance" => &mut seen_rel,
                        _ => &mut seen_both,
                    };
                    if *seen {
                        return Err(format!(
                            "default output validator flag '{word}' is given more than once"
                        ));
                    }
                    *seen = true;
                    if seen_both && (seen_abs || seen_rel) {
                        return Err(format!(
                            "default output validator flag 'float_tolerance' cannot be combined with '{}'",
                            if seen_abs { "float_absolute_tolerance" } else { "float_relative_tolerance" }
                        ));
                    }
                    match word {
                        "float_absolute_tolerance" => flags.float_absolute_tolerance = Some(eps),
                        "float_relative_tolerance" => flags.float_relative_tolerance = Some(eps),
                        _ => {
                            flags.float_absolute_tolerance = Some(eps);
                            flags.float_relative_tolerance = Some(eps);
                        }
                    }
                }
                other => {
                    return Err(format!("unknown default output validator flag '{other}'"));
                }
            }
        }
        Ok(flags)
    }
}

/// Outcome of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Judgement {
    pub accepted: bool,
    pub message: String,
}

/// Compares the team's output against the judge's answer. Streams both: constant memory
/// whatever the sizes (see the module documentation for the exact semantics).
pub fn compare<A: Read, T: Read>(
    answer: A,
    team: T,
    flags: &DefaultFlags,
) -> io::Result<Judgement> {
    compare_impl(answer, team, flags).map(|(judgement, _)| judgement)
}

/// [`compare`] on two files.
pub fn compare_files(answer: &Path, team: &Path, flags: &DefaultFlags) -> io::Result<Judgement> {
    let a = File::open(answer)?;
    let t = File::open(team)?;
    compare(a, t, flags)
}

// ---------------------------------------------------------------------------------------
// Input

#[inline(always)]
fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// A buffered input that counts lines (LF bytes consumed) and bytes consumed.
struct Input<R> {
    inner: R,
    buf: Box<[u8]>,
    pos: usize,
    len: usize,
    eof: bool,
    /// 1-based line number: 1 + the number of LF bytes consumed.
    line: u64,
    /// Bytes consumed.
    consumed: u64,
}

impl<R: Read> Input<R> {
    fn new(inner: R) -> Self {
        Input {
            inner,
            buf: vec![0; BUF_SIZE].into_boxed_slice(),
            pos: 0,
            len: 0,
            eof: false,
            line: 1,
            consumed: 0,
        }
    }

    /// Makes sure there is at least one buffered byte; `false` at end of input.
    #[inline]
    fn fill(&mut self) -> io::Result<bool> {
        if self.pos < self.len {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        loop {
            match self.inner.read(&mut self.buf) {
                Ok(0) => {
                    self.eof = true;
                    self.pos = 0;
                    self.len = 0;
                    return Ok(false);
                }
                Ok(n) => {
                    self.pos = 0;
                    self.len = n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    #[inline]
    fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(if self.fill()? {
            Some(self.buf[self.pos])
        } else {
            None
        })
    }

    /// Consumes the byte last returned by `peek`.
    #[inline]
    fn bump(&mut self) {
        let b = self.buf[self.pos];
        self.pos += 1;
        self.consumed += 1;
        if b == b'\n' {
            self.line += 1;
        }
    }

    /// Skips whitespace.
    fn skip_ws(&mut self) -> io::Result<()> {
        // Most runs are short and buffered: a plain loop over a few bytes first.
        let end = self.len.min(self.pos + 16);
        let mut i = self.pos;
        let mut lines = 0;
        while i < end && is_ws(self.buf[i]) {
            lines += u64::from(self.buf[i] == b'\n');
            i += 1;
        }
        self.line += lines;
        self.consumed += (i - self.pos) as u64;
        self.pos = i;
        if i < end {
            return Ok(());
        }
        while self.fill()? {
            let avail = &self.buf[self.pos..self.len];
            let n = avail.iter().position(|&b| !is_ws(b)).unwrap_or(avail.len());
            self.line += avail[..n].iter().filter(|&&b| b == b'\n').count() as u64;
            self.pos += n;
            self.consumed += n as u64;
            if self.pos < self.len {
                break;
            }
        }
        Ok(())
    }

    /// Fast path: moves the unconsumed bytes to the front of the buffer and reads more after
    /// them. `Ok(false)` at end of input (the unconsumed bytes stay available). The caller
    /// keeps the unconsumed bytes well below the buffer size, so there is always room.
    fn refill_keeping(&mut self) -> io::Result<bool> {
        if self.eof {
            return Ok(false);
        }
        let keep = self.len - self.pos;
        debug_assert!(keep < self.buf.len());
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.len, 0);
            self.pos = 0;
            self.len = keep;
        }
        loop {
            match self.inner.read(&mut self.buf[keep..]) {
                Ok(0) => {
                    self.eof = true;
                    return Ok(false);
                }
                Ok(n) => {
                    self.len += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Fast path: consumes `n` buffered bytes containing `lines` LF bytes.
    #[inline]
    fn advance(&mut self, n: usize, lines: u64) {
        debug_assert!(self.pos + n <= self.len);
        self.pos += n;
        self.consumed += n as u64;
        self.line += lines;
    }

    /// Appends token bytes to `out` until whitespace, end of input, or `out.len() == limit`.
    /// Returns whether the token is complete (the next byte is whitespace or end of input).
    fn read_token(&mut self, out: &mut Vec<u8>, limit: usize) -> io::Result<bool> {
        loop {
            let room = limit.saturating_sub(out.len());
            if room == 0 {
                return Ok(match self.peek()? {
                    None => true,
                    Some(b) => is_ws(b),
                });
            }
            if !self.fill()? {
                return Ok(true);
            }
            let avail = &self.buf[self.pos..self.len];
            let scan = &avail[..avail.len().min(room)];
            match scan.iter().position(|&b| is_ws(b)) {
                Some(i) => {
                    out.extend_from_slice(&scan[..i]);
                    self.pos += i;
                    self.consumed += i as u64;
                    return Ok(true);
                }
                None => {
                    let n = scan.len();
                    out.extend_from_slice(scan);
                    self.pos += n;
                    self.consumed += n as u64;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Fast path helpers

/// Number of LF bytes in `s`. Counted into a `u8` per block of 192 bytes (fewer than 256, so
/// it cannot overflow): the compiler vectorizes that into byte compares and subtractions
/// (tens of GB/s), where a plain `filter().count()` widens every byte to 64 bits (2-4 GB/s).
fn count_lf(s: &[u8]) -> u64 {
    s.chunks(192)
        .map(|c| u64::from(c.iter().fold(0u8, |n, &b| n + u8::from(b == b'\n'))))
        .sum()
}

/// Length of the longest common prefix of `a` and `b`: byte for byte, or, unless
/// `case_sensitive`, up to ASCII letter case.
fn common_prefix(a: &[u8], b: &[u8], case_sensitive: bool) -> usize {
    const WORDS: usize = 32;
    const BLOCK: usize = 256;
    const FOLD_BLOCK: usize = 64;
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut i = 0;
    loop {
        // A few words first (a short equal run is the usual case where the inputs keep
        // differing), then identical blocks with `==` (memcmp, vectorized), then words up to
        // the first differing byte.
        let mut d = first_diff(a, b, i, (i + WORDS).min(n));
        if d == i + WORDS {
            i = d;
            while i + BLOCK <= n && a[i..i + BLOCK] == b[i..i + BLOCK] {
                i += BLOCK;
            }
            d = first_diff(a, b, i, n);
        }
        if d == n || case_sensitive {
            return d;
        }
        // A difference, maybe of letter case only: go on byte by byte up to case for a while,
        // and if that holds, with blocks equal up to case (vectorized) for as long as they do.
        let end = (d + FOLD_BLOCK).min(n);
        i = d + a[d..end]
            .iter()
            .zip(&b[d..end])
            .take_while(|(x, y)| x.eq_ignore_ascii_case(y))
            .count();
        if i < end || i == n {
            return i;
        }
        while i + FOLD_BLOCK <= n && eq_fold(&a[i..i + FOLD_BLOCK], &b[i..i + FOLD_BLOCK]) {
            i += FOLD_BLOCK;
        }
    }
}

/// The first index in `from..to` where `a` and `b` differ, or `to`.
#[inline]
fn first_diff(a: &[u8], b: &[u8], from: usize, to: usize) -> usize {
    let mut i = from;
    // 8-byte words: the first differing byte is the lowest set byte of the XOR.
    while i + 8 <= to {
        let x = u64::from_le_bytes(a[i..i + 8].try_into().unwrap())
            ^ u64::from_le_bytes(b[i..i + 8].try_into().unwrap());
        if x != 0 {
            return i + (x.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < to && a[i] == b[i] {
        i += 1;
    }
    i
}

/// Whether `a` and `b` (of the same length) are equal up to ASCII letter case; without an
/// early exit, so that it vectorizes.
#[inline]
fn eq_fold(a: &[u8], b: &[u8]) -> bool {
    a.iter().zip(b).fold(0u8, |d, (x, y)| {
        d | (x.to_ascii_lowercase() ^ y.to_ascii_lowercase())
    }) == 0
}

// ---------------------------------------------------------------------------------------
// Floats

/// Parses a token as a float of the spec grammar
/// `[+-]? ( digit* "." digit+ | digit+ "." | digit+ ) ( [Ee] [+-]? digit+ )?`,
/// to the nearest `f64`. `None` if the token does not match, or if its value overflows to
/// an infinity (as problemtools' `isfloat`, which rejects inf). No hex, inf, nan.
fn parse_float(tok: &[u8]) -> Option<f64> {
    let n = tok.len();
    let mut i = 0;
    if i < n && (tok[i] == b'+' || tok[i] == b'-') {
        i += 1;
    }
    let int_start = i;
    while i < n && tok[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < n && tok[i] == b'.' {
        i += 1;
        let frac_start = i;
        while i < n && tok[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - frac_start;
    }
    if int_digits == 0 && frac_digits == 0 {
        return None;
    }
    if i < n && (tok[i] == b'e' || tok[i] == b'E') {
        i += 1;
        if i < n && (tok[i] == b'+' || tok[i] == b'-') {
            i += 1;
        }
        let exp_start = i;
        while i < n && tok[i].is_ascii_digit() {
            i += 1;
        }
        if i == exp_start {
            return None;
        }
    }
    if i != n {
        return None;
    }
    // The grammar is a subset of what `f64::from_str` accepts, and is ASCII.
    let v: f64 = std::str::from_utf8(tok).ok()?.parse().ok()?;
    v.is_finite().then_some(v)
}

/// C's `%e` (`printf("%e")`): 6 decimals, exponent with a sign and at least two digits.
fn c_exp(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    let s = format!("{x:.6e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    format!(
        "{mant}e{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.unsigned_abs()
    )
}

fn show_tolerance(t: Option<f64>) -> String {
    t.map_or_else(|| "unset".to_string(), c_exp)
}

// ---------------------------------------------------------------------------------------
// Message helpers

/// problemtools' `truncate`: `bytes` is the start of a string of `total` bytes (`bytes`
/// holds at least `min(total, limit + 4)` bytes). A string of at most `limit + 5` bytes is
/// kept whole; otherwise it is cut after `limit` bytes (extended by at most 3 UTF-8
/// continuation bytes) and "..." is appended.
fn truncate(bytes: &[u8], total: u64, limit: usize) -> Vec<u8> {
    if total <= (limit + 5) as u64 {
        return bytes[..(total as usize).min(bytes.len())].to_vec();
    }
    let mut cut = limit.min(bytes.len());
    while cut < bytes.len() && cut < limit + 4 && (bytes[cut] & 0xC0) == 0x80 {
        cut += 1;
    }
    let mut v = bytes[..cut].to_vec();
    v.extend_from_slice(b"...");
    v
}

/// Token bytes for a message: lossy UTF-8, control characters escaped.
fn show(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    if !s.chars().any(char::is_control) {
        return s.into_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_debug());
        } else {
            out.push(c);
        }
    }
    out
}

/// `truncate(token, 30)` of a whole token, shown.
fn show_token(tok: &[u8], complete: bool) -> String {
    show(&truncate(
        tok,
        if complete { tok.len() as u64 } else { u64::MAX },
        30,
    ))
}

fn string_mismatch(judge: &str, user: &str) -> String {
    format!("String tokens mismatch\nJudge: \"{judge}\"\nUser: \"{user}\"")
}

/// problemtools' `truncate_pair` for two whole tokens: the byte-exact common prefix cut to
/// 15 bytes, then each side from the first differing byte cut to 15 bytes.
fn mismatch_whole(judge: &[u8], user: &[u8]) -> String {
    let d = judge.iter().zip(user).take_while(|(a, b)| a == b).count();
    let p = truncate(&judge[..d], d as u64, 15);
    let j = [&p[..], &truncate(&judge[d..], (judge.len() - d) as u64, 15)].concat();
    let u = [&p[..], &truncate(&user[d..], (user.len() - d) as u64, 15)].concat();
    string_mismatch(&show(&j), &show(&u))
}

#[inline]
fn bytes_eq(a: &[u8], b: &[u8], case_sensitive: bool) -> bool {
    if case_sensitive {
        a == b
    } else {
        a.eq_ignore_ascii_case(b)
    }
}

#[inline]
fn first_mismatch(a: &[u8], b: &[u8], case_sensitive: bool) -> Option<usize> {
    // `==` first: vectorized, and the usual case for the (long) chunks compared here.
    if a == b || bytes_eq(a, b, case_sensitive) {
        return None;
    }
    Some(if case_sensitive {
        a.iter().zip(b).take_while(|(x, y)| x == y).count()
    } else {
        a.iter()
            .zip(b)
            .take_while(|(x, y)| x.eq_ignore_ascii_case(y))
            .count()
    })
}

// ---------------------------------------------------------------------------------------
// The comparison

/// Bytes of a common prefix kept for the message of a long-token mismatch.
const HEAD: usize = 24;

/// The fast path leaves a partly identical token longer than this to the token logic (it is
/// moved to the front of the buffer on every refill, so it must stay well below `BUF_SIZE`).
const FAST_MAX_PARTIAL: usize = BUF_SIZE / 4;

/// A fast-path attempt that consumed fewer bytes than this counts as a failure (backoff).
const FAST_MIN_SKIP: u64 = 64;

/// Longest backoff of the fast path, in tokens.
const FAST_MAX_WAIT: u32 = 63;

struct Cmp<'f, A, T> {
    ans: Input<A>,
    team: Input<T>,
    flags: &'f DefaultFlags,
    abs_tol: Option<f64>,
    rel_tol: Option<f64>,
    jt: Vec<u8>,
    tt: Vec<u8>,
    /// Largest capacity the token buffers reached (tests check it stays bounded).
    max_cap: usize,
    /// Whether to use the fast path (`skip_equal`); off only to test it against the
    /// token logic alone.
    fast: bool,
}

/// `Ok(Err(message))` is a wrong answer.
type Step = io::Result<Result<(), String>>;

fn compare_impl<A: Read, T: Read>(
    answer: A,
    team: T,
    flags: &DefaultFlags,
) -> io::Result<(Judgement, usize)> {
    compare_with(answer, team, flags, true)
}

/// [`compare_impl`], with or without the fast path.
fn compare_with<A: Read, T: Read>(
    answer: A,
    team: T,
    flags: &DefaultFlags,
    fast: bool,
) -> io::Result<(Judgement, usize)> {
    // A tolerance is "set" iff it is >= 0 (problemtools: unset = -1; NaN compares false).
    let tol = |t: Option<f64>| t.filter(|e| *e >= 0.0);
    let mut c = Cmp {
        ans: Input::new(answer),
        team: Input::new(team),
        flags,
        abs_tol: tol(flags.float_absolute_tolerance),
        rel_tol: tol(flags.float_relative_tolerance),
        jt: Vec::new(),
        tt: Vec::new(),
        max_cap: 0,
        fast,
    };
    let verdict = c.run()?;
    let judgement = match verdict {
        Ok(()) => Judgement {
            accepted: true,
            message: String::new(),
        },
        Err(msg) => Judgement {
            accepted: false,
            message: format!(
                "Wrong answer on line {} of output (corresponding to line {} in answer file)\n{}",
                c.team.line, c.ans.line, msg
            ),
        },
    };
    Ok((judgement, c.max_cap))
}

impl<A: Read, T: Read> Cmp<'_, A, T> {
    fn note_cap(&mut self) {
        self.max_cap = self.max_cap.max(self.jt.capacity()).max(self.tt.capacity());
    }

    /// The fast path. Both inputs must be at a token boundary (what the main loop sees at
    /// its start: the start of input, or a byte after a token or a whitespace byte).
    ///
    /// A region that is byte-identical in both inputs from there compares equal under every
    /// flag combination: identical tokens, identical whitespace, identical floats. So does a
    /// region that is equal up to ASCII letter case unless `case_sensitive`: whitespace bytes
    /// are not letters (so the whitespace and the token boundaries are identical), the tokens
    /// are equal as strings, and a float stays the same float (its only letters are `e`/`E`).
    /// Such a region is consumed with slice comparisons, only counting LF bytes, up to and
    /// including its last whitespace byte: the inputs are left at a token boundary again, at
    /// the start of the token that holds the first difference (or that goes on past the
    /// buffered bytes), and the token logic takes over from there exactly as if it had
    /// consumed the region itself. The partly compared token is kept in the buffers: when a
    /// buffer runs out, its unconsumed bytes are moved to its front and more is read after
    /// them.
    ///
    /// Without `space_change_sensitive`, a difference where both inputs have whitespace (the
    /// token before, if any, ended in both: "\n" vs "\r\n", " " vs "\t"), or where one of
    /// them has whitespace at a token boundary (more whitespace in one), is skipped too: the
    /// token is consumed, then the whitespace of each input, and the comparison goes on.
    ///
    /// Stops at any other difference, at the end of either input, or when the partly compared
    /// token grows past `FAST_MAX_PARTIAL` bytes (a long token is left to the token logic).
    /// Sets `token` to 1 if it was 0 and a token was consumed. Returns the number of answer
    /// bytes consumed.
    fn skip_equal(&mut self, token: &mut u64) -> io::Result<u64> {
        let start = self.ans.consumed;
        let cs = self.flags.case_sensitive;
        let scs = self.flags.space_change_sensitive;
        // Bytes after `pos`, equal in both inputs and without whitespace: the start of a token,
        // compared but not consumed yet. 0 iff both inputs are at a token boundary.
        let mut partial = 0usize;
        loop {
            if self.ans.pos + partial == self.ans.len && !self.ans.refill_keeping()? {
                break;
            }
            if self.team.pos + partial == self.team.len && !self.team.refill_keeping()? {
                break;
            }
            let a = &self.ans.buf[self.ans.pos..self.ans.len];
            let t = &self.team.buf[self.team.pos..self.team.len];
            let avail = a.len().min(t.len());
            let same = partial + common_prefix(&a[partial..avail], &t[partial..avail], cs);
            // Whether the differing bytes are whitespace.
            let ws_at_diff = (same < avail).then(|| (is_ws(a[same]), is_ws(t[same])));
            let mut cut = 0;
            if let Some(w) = a[partial..same].iter().rposition(|&b| is_ws(b)) {
                // Consume up to and including the last whitespace byte of the equal region.
                cut = partial + w + 1;
                let region = &a[..cut];
                let lines = count_lf(region);
                if *token == 0 && region.iter().any(|&b| !is_ws(b)) {
                    *token = 1;
                }
                self.ans.advance(cut, lines);
                self.team.advance(cut, lines);
            }
            partial = same - cut;
            let Some((x, y)) = ws_at_diff else {
                // One buffer ran out: refill it (keeping the partial token) and go on.
                if partial > FAST_MAX_PARTIAL {
                    break;
                }
                continue;
            };
            if scs || !((x && y) || (partial == 0 && (x || y))) {
                break;
            }
            if partial > 0 {
                // The token ended in both inputs, equal: consume it (no LF in it).
                *token = (*token).max(1);
                self.ans.advance(partial, 0);
                self.team.advance(partial, 0);
                partial = 0;
            }
            self.ans.skip_ws()?;
            self.team.skip_ws()?;
        }
        Ok(self.ans.consumed - start)
    }

    fn run(&mut self) -> Step {
        let use_floats = self.abs_tol.is_some() || self.rel_tol.is_some();
        let mut token: u64 = 0;
        // Backoff of the fast path where the tokens keep differing (e.g. "1.0" vs "1.00" with
        // a tolerance on every line): after an attempt that consumed less than
        // `FAST_MIN_SKIP` bytes, wait for twice as many tokens as before (1, 3, 7, ...,
        // `FAST_MAX_WAIT`) before the next attempt; a successful attempt resets it.
        let (mut fast_wait, mut fast_backoff) = (0u32, 0u32);
        loop {
            if self.fast {
                if fast_wait == 0 {
                    let skipped = self.skip_equal(&mut token)?;
                    fast_backoff = if skipped >= FAST_MIN_SKIP {
                        0
                    } else {
                        (fast_backoff * 2 + 1).min(FAST_MAX_WAIT)
                    };
                    fast_wait = fast_backoff;
                } else {
                    fast_wait -= 1;
                }
            }
            // Space! Can't live with it, can't live without it... (problemtools)
            if self.flags.space_change_sensitive {
                while let Some(c) = self.ans.peek()? {
                    if !is_ws(c) {
                        break;
                    }
                    match self.team.peek()? {
                        Some(d) if d == c => self.team.bump(),
                        d => {
                            let d = d.map_or(-1, i32::from);
                            return Ok(Err(format!("Space change error: got {d} expected {c}")));
                        }
                    }
                    self.ans.bump();
                }
                if let Some(d) = self.team.peek()? {
                    if is_ws(d) {
                        return Ok(Err(format!(
                            "Space change error: judge out of space, got {d} from user"
                        )));
                    }
                }
            } else {
                self.ans.skip_ws()?;
                self.team.skip_ws()?;
            }

            if self.ans.peek()?.is_none() {
                break;
            }
            self.jt.clear();
            let j_done = self.ans.read_token(&mut self.jt, MAX_TOKEN_CHUNK)?;

            if self.team.peek()?.is_none() {
                let next = show_token(&self.jt, j_done);
                return Ok(Err(if token > 0 {
                    format!("User EOF while judge had more output\n(Next judge token: {next})")
                } else if self.team.consumed == 0 {
                    format!("User EOF while judge had more output; user output was empty.\n(Next judge token: {next})")
                } else {
                    format!("User EOF while judge had more output; user output contained only whitespace.\n(Next judge token: {next})")
                }));
            }
            self.tt.clear();
            let t_done = self.team.read_token(&mut self.tt, MAX_TOKEN_CHUNK)?;
            self.note_cap();

            if j_done && t_done {
                if let Err(msg) = self.compare_whole(use_floats) {
                    return Ok(Err(msg));
                }
            } else if let Err(msg) = self.compare_long(use_floats, j_done, t_done)? {
                return Ok(Err(msg));
            }
            token += 1;
        }

        if self.team.peek()?.is_some() {
            self.tt.clear();
            let done = self.team.read_token(&mut self.tt, 64)?;
            return Ok(Err(format!(
                "Trailing output:\n{}",
                show_token(&self.tt, done)
            )));
        }
        Ok(Ok(()))
    }

    /// Both tokens are whole in `jt` / `tt`.
    fn compare_whole(&self, use_floats: bool) -> Result<(), String> {
        let (judge, user) = (&self.jt[..], &self.tt[..]);
        if use_floats {
            // Identical tokens are equal (the same number, or the same string): no parsing.
            if judge == user {
                return Ok(());
            }
            if let Some(jv) = parse_float(judge) {
                let Some(tv) = parse_float(user) else {
                    return Err(format!("Expected float, got: {}", show_token(user, true)));
                };
                let diff = (jv - tv).abs();
                let ok_abs = self.abs_tol.is_some_and(|e| diff <= e);
                let ok_rel = self.rel_tol.is_some_and(|e| diff <= e * jv.abs());
                if !ok_abs && !ok_rel {
                    return Err(format!(
                        "Too large difference.\n Judge: {}\n User:  {}\n Absolute error: {} (abs tolerance {})\n Relative error: {} (rel tolerance {})",
                        show_token(judge, true),
                        show_token(user, true),
                        c_exp(diff),
                        show_tolerance(self.abs_tol),
                        c_exp(diff / jv.abs()),
                        show_tolerance(self.rel_tol),
                    ));
                }
                return Ok(());
            }
        }
        if bytes_eq(judge, user, self.flags.case_sensitive) {
            Ok(())
        } else {
            Err(mismatch_whole(judge, user))
        }
    }

    /// At least one of the tokens is longer than `MAX_TOKEN_CHUNK`: `jt` / `tt` hold their
    /// first chunks; compare the rest chunk by chunk.
    fn compare_long(&mut self, use_floats: bool, mut j_done: bool, mut t_done: bool) -> Step {
        if use_floats && j_done && parse_float(&self.jt).is_some() {
            // The answer is a (short) number and the output token is over the size limit:
            // not accepted as a float.
            return Ok(Err(format!(
                "Expected float, got: {}",
                show_token(&self.tt, false)
            )));
        }
        let cs = self.flags.case_sensitive;
        let mut head: Vec<u8> = Vec::with_capacity(HEAD);
        let mut common: u64 = 0;
        let (mut jo, mut to) = (0usize, 0usize);
        loop {
            let jr = &self.jt[jo..];
            let tr = &self.tt[to..];
            let m = jr.len().min(tr.len());
            let mismatch = first_mismatch(&jr[..m], &tr[..m], cs);
            let same = mismatch.unwrap_or(m);
            if head.len() < HEAD {
                let take = (HEAD - head.len()).min(same);
                head.extend_from_slice(&jr[..take]);
            }
            common += same as u64;
            jo += same;
            to += same;
            if mismatch.is_some() {
                break;
            }
            if jo == self.jt.len() && !j_done {
                self.jt.clear();
                jo = 0;
                j_done = self.ans.read_token(&mut self.jt, MAX_TOKEN_CHUNK)?;
            }
            if to == self.tt.len() && !t_done {
                self.tt.clear();
                to = 0;
                t_done = self.team.read_token(&mut self.tt, MAX_TOKEN_CHUNK)?;
            }
            self.note_cap();
            let j_end = jo == self.jt.len();
            let t_end = to == self.tt.len();
            if j_end && t_end {
                return Ok(Ok(()));
            }
            if j_end || t_end {
                break;
            }
        }
        // Mismatch at offset `common` (a differing byte, or one token ended there).
        // Make sure each side has enough bytes after the mismatch for the message.
        let need = 15 + 6;
        // Drop the compared part first, so the buffers do not grow past one chunk + `need`.
        self.jt.drain(..jo);
        self.tt.drain(..to);
        let (jo, to) = (0usize, 0usize);
        if self.jt.len() - jo < need && !j_done {
            let limit = self.jt.len() + need;
            j_done = self.ans.read_token(&mut self.jt, limit)?;
        }
        if self.tt.len() - to < need && !t_done {
            let limit = self.tt.len() + need;
            t_done = self.team.read_token(&mut self.tt, limit)?;
        }
        self.note_cap();
        let side = |buf: &[u8], off: usize, done: bool| {
            let rest = &buf[off..];
            truncate(rest, if done { rest.len() as u64 } else { u64::MAX }, 15)
        };
        let p = truncate(&head, common, 15);
        let j = [&p[..], &side(&self.jt, jo, j_done)].concat();
        let u = [&p[..], &side(&self.tt, to, t_done)].concat();
        Ok(Err(string_mismatch(&show(&j), &show(&u))))
    }
}

// ---------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn flags(args: &[&str]) -> DefaultFlags {
        DefaultFlags::parse(args).expect("flags")
    }

    fn run(ans: &[u8], team: &[u8], args: &[&str]) -> Judgement {
        let f = flags(args);
        let whole = compare(ans, team, &f).unwrap();
        // The same through one-byte reads (every buffer boundary), must agree exactly.
        let bytewise = compare(OneByte(ans), OneByte(team), &f).unwrap();
        assert_eq!(
            whole, bytewise,
            "byte-at-a-time reads disagree for {ans:?} vs {team:?}"
        );
        whole
    }

    fn ac(ans: &str, team: &str, args: &[&str]) {
        let j = run(ans.as_bytes(), team.as_bytes(), args);
        assert!(
            j.accepted,
            "expected AC for {ans:?} vs {team:?} {args:?}: {}",
            j.message
        );
        assert_eq!(j.message, "");
    }

    fn wa(ans: &str, team: &str, args: &[&str]) -> String {
        let j = run(ans.as_bytes(), team.as_bytes(), args);
        assert!(!j.accepted, "expected WA for {ans:?} vs {team:?} {args:?}");
        j.message
    }

    /// A reader that hands out one byte per `read`, and is interrupted before each.
    struct OneByte<'a>(&'a [u8]);
    impl Read for OneByte<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.0[0];
            self.0 = &self.0[1..];
            Ok(1)
        }
    }

    /// Generates `count` repetitions of each pattern in turn, on the fly.
    struct Gen {
        segs: Vec<(Vec<u8>, u64)>,
        seg: usize,
        off: usize,
        left: u64,
    }
    impl Gen {
        fn new(segs: Vec<(Vec<u8>, u64)>) -> Self {
            let left = segs.first().map_or(0, |s| s.1);
            Gen {
                segs,
                seg: 0,
                off: 0,
                left,
            }
        }
    }
    impl Read for Gen {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let mut n = 0;
            while n < buf.len() && self.seg < self.segs.len() {
                if self.left == 0 {
                    self.seg += 1;
                    self.off = 0;
                    self.left = self.segs.get(self.seg).map_or(0, |s| s.1);
                    continue;
                }
                let pat = &self.segs[self.seg].0;
                let k = (pat.len() - self.off).min(buf.len() - n);
                buf[n..n + k].copy_from_slice(&pat[self.off..self.off + k]);
                n += k;
                self.off += k;
                if self.off == pat.len() {
                    self.off = 0;
                    self.left -= 1;
                }
            }
            Ok(n)
        }
    }

    // ----- flags

    #[test]
    fn parse_flags() {
        assert_eq!(
            DefaultFlags::parse::<&str>(&[]).unwrap(),
            DefaultFlags::default()
        );
        let f = flags(&[
            "case_sensitive",
            "space_change_sensitive",
            "float_absolute_tolerance",
            "1e-6",
        ]);
        assert!(f.case_sensitive && f.space_change_sensitive);
        assert_eq!(f.float_absolute_tolerance, Some(1e-6));
        assert_eq!(f.float_relative_tolerance, None);
        let f = flags(&[
            "float_relative_tolerance",
            ".5",
            "float_absolute_tolerance",
            "2",
        ]);
        assert_eq!(
            (f.float_absolute_tolerance, f.float_relative_tolerance),
            (Some(2.0), Some(0.5))
        );
        let f = flags(&["float_tolerance", "1E-4"]);
        assert_eq!(
            (f.float_absolute_tolerance, f.float_relative_tolerance),
            (Some(1e-4), Some(1e-4))
        );
        // A legacy `validator_flags` string as one element.
        assert_eq!(
            flags(&["case_sensitive  float_tolerance 1e-6"]),
            flags(&["case_sensitive", "float_tolerance", "1e-6"])
        );
        // Repeating a boolean flag is harmless.
        assert!(flags(&["case_sensitive", "case_sensitive"]).case_sensitive);
    }

    #[test]
    fn parse_flag_errors() {
        let e = DefaultFlags::parse(&["case_sensitive", "ignore_case"]).unwrap_err();
        assert!(e.contains("'ignore_case'"), "{e}");
        let e = DefaultFlags::parse(&["float_tolerance"]).unwrap_err();
        assert!(e.contains("float_tolerance") && e.contains("value"), "{e}");
        for bad in ["abc", "0x1p-3", "nan", "inf", "1e", "", "1e400", "1,5"] {
            let r = DefaultFlags::parse(&["float_tolerance".to_string(), bad.to_string()]);
            // "" is dropped by the whitespace split, so it is a missing value.
            assert!(r.is_err(), "{bad:?} accepted");
        }
        assert!(DefaultFlags::parse(&["float_absolute_tolerance", "-1e-6"])
            .unwrap_err()
            .contains("negative"));
        let e = DefaultFlags::parse(&[
            "float_absolute_tolerance",
            "1",
            "float_absolute_tolerance",
            "2",
        ])
        .unwrap_err();
        assert!(e.contains("more than once"), "{e}");
        assert!(DefaultFlags::parse(&["float_tolerance", "1", "float_tolerance", "1"]).is_err());
        let e = DefaultFlags::parse(&["float_tolerance", "1", "float_relative_tolerance", "2"])
            .unwrap_err();
        assert!(e.contains("cannot be combined"), "{e}");
        assert!(
            DefaultFlags::parse(&["float_absolute_tolerance", "1", "float_tolerance", "2"])
                .is_err()
        );
    }

    // ----- basics, emptiness, lengths

    #[test]
    fn identical_is_accepted() {
        ac("1 2 3\nhello world\n", "1 2 3\nhello world\n", &[]);
        ac(
            "1 2 3\nhello world\n",
            "1 2 3\nhello world\n",
            &["space_change_sensitive", "case_sensitive"],
        );
    }

    #[test]
    fn empty_output_vs_empty_answer() {
        ac("", "", &[]);
        ac("", "", &["space_change_sensitive"]);
        // Whitespace-only answer and output are both "no tokens".
        ac("", " \n\t\r\n", &[]);
        ac("\n\n", "", &[]);
        assert!(wa("", "\n", &["space_change_sensitive"])
            .ends_with("Space change error: judge out of space, got 10 from user"));
        assert!(wa("\n", "", &["space_change_sensitive"])
            .ends_with("Space change error: got -1 expected 10"));
    }

    #[test]
    fn empty_output_vs_nonempty_answer() {
        let m = wa("42\n", "", &[]);
        assert_eq!(m, "Wrong answer on line 1 of output (corresponding to line 1 in answer file)\nUser EOF while judge had more output; user output was empty.\n(Next judge token: 42)");
        let m = wa("42\n", " \n \n", &[]);
        assert_eq!(m, "Wrong answer on line 3 of output (corresponding to line 1 in answer file)\nUser EOF while judge had more output; user output contained only whitespace.\n(Next judge token: 42)");
    }

    #[test]
    fn shorter_output_is_wrong() {
        let m = wa("1 2\n3\n", "1 2\n", &[]);
        assert_eq!(m, "Wrong answer on line 2 of output (corresponding to line 2 in answer file)\nUser EOF while judge had more output\n(Next judge token: 3)");
    }

    #[test]
    fn trailing_output_is_wrong() {
        let m = wa("1 2\n", "1 2\n3\n", &[]);
        assert_eq!(m, "Wrong answer on line 2 of output (corresponding to line 2 in answer file)\nTrailing output:\n3");
        assert!(wa("", "x", &[]).ends_with("Trailing output:\nx"));
        assert!(wa("A B", "A B\n\n\n\n\n \n\n X", &[]).contains("Trailing output"));
        assert!(wa("A B", "X A B", &[]).contains("String tokens mismatch"));
        // A long trailing token is truncated to 30 bytes.
        let long = "y".repeat(100);
        let m = wa("1", &format!("1 {long}"), &[]);
        assert!(
            m.ends_with(&format!("Trailing output:\n{}...", "y".repeat(30))),
            "{m}"
        );
    }

    #[test]
    fn mismatch_message_has_line_numbers() {
        let m = wa("a\nb\nc d\n", "a b\nc X\n", &[]);
        assert_eq!(m, "Wrong answer on line 2 of output (corresponding to line 3 in answer file)\nString tokens mismatch\nJudge: \"d\"\nUser: \"X\"");
    }

    // ----- case

    #[test]
    fn case_insensitive_by_default() {
        ac("Hello WORLD yes", "hello world YES", &[]);
        let m = wa("Hello", "hello", &["case_sensitive"]);
        assert!(
            m.ends_with("String tokens mismatch\nJudge: \"Hello\"\nUser: \"hello\""),
            "{m}"
        );
        ac("Hello", "Hello", &["case_sensitive"]);
    }

    #[test]
    fn case_folding_is_ascii_only() {
        wa("É", "é", &[]);
        ac("éA", "éa", &[]);
        // Non-letters are never folded ('@' is 0x40, '`' is 0x60; '[' vs '{').
        wa("@", "`", &[]);
        wa("[", "{", &[]);
    }

    // ----- whitespace, default mode

    #[test]
    fn whitespace_insensitive_by_default() {
        ac("1 2\n3\n", "1\t\t2 3", &[]);
        ac("1 2\n3\n", "\n\n  1\n2\n\n3   \n\n", &[]);
        ac("A B", " A  B \t\n", &[]);
        ac("a\x0bb\x0cc", "a b c", &[]);
    }

    #[test]
    fn trailing_whitespace_default() {
        ac("1 2\n", "1 2   \n", &[]);
        ac("1 2\n", "1 2\n\n\n", &[]);
        ac("1 2 \n", "1 2\n", &[]);
    }

    #[test]
    fn missing_final_newline_default() {
        ac("1 2\n", "1 2", &[]);
        ac("1 2", "1 2\n", &[]);
    }

    #[test]
    fn crlf_default() {
        ac("1 2\n3\n", "1 2\r\n3\r\n", &[]);
        // Line numbers count LF bytes only.
        let m = wa("1\n2\n3\n", "1\r\n2\r\n4\r\n", &[]);
        assert!(
            m.starts_with(
                "Wrong answer on line 3 of output (corresponding to line 3 in answer file)\n"
            ),
            "{m}"
        );
    }

    #[test]
    fn only_the_six_whitespace_bytes_separate() {
        // NBSP (U+00A0) and NEL are not whitespace: part of the token.
        wa("a b", "a\u{a0}b", &[]);
        wa("a b", "a\u{85}b", &[]);
        // 0x1c..0x1f (C isspace does not include them either).
        wa("a b", "a\x1fb", &[]);
    }

    // ----- whitespace, space_change_sensitive

    const SCS: &[&str] = &["space_change_sensitive"];

    #[test]
    fn space_change_sensitive_exact_match() {
        ac("1 2\n3\n", "1 2\n3\n", SCS);
        ac("  a\t\tb \r\n\n", "  a\t\tb \r\n\n", SCS);
        // Still case-insensitive unless case_sensitive.
        ac("a B\n", "A b\n", SCS);
    }

    #[test]
    fn space_change_sensitive_trailing_whitespace() {
        let m = wa("1 2\n", "1 2 \n", SCS);
        assert_eq!(m, "Wrong answer on line 1 of output (corresponding to line 1 in answer file)\nSpace change error: got 32 expected 10");
        let m = wa("1 2\n", "1 2\n\n", SCS);
        assert_eq!(m, "Wrong answer on line 2 of output (corresponding to line 2 in answer file)\nSpace change error: judge out of space, got 10 from user");
        let m = wa("1 2 \n", "1 2\n", SCS);
        assert!(m.ends_with("Space change error: got 10 expected 32"), "{m}");
    }

    #[test]
    fn space_change_sensitive_missing_final_newline() {
        let m = wa("1 2\n", "1 2", SCS);
        assert_eq!(m, "Wrong answer on line 1 of output (corresponding to line 1 in answer file)\nSpace change error: got -1 expected 10");
        let m = wa("1 2", "1 2\n", SCS);
        assert!(
            m.ends_with("Space change error: judge out of space, got 10 from user"),
            "{m}"
        );
    }

    #[test]
    fn space_change_sensitive_crlf_and_kinds() {
        assert!(wa("1\n2\n", "1\r\n2\r\n", SCS).ends_with("got 13 expected 10"));
        assert!(wa("1 2", "1\t2", SCS).ends_with("got 9 expected 32"));
        assert!(wa("1 2", "1  2", SCS).ends_with("judge out of space, got 32 from user"));
        assert!(wa("1  2", "1 2", SCS).ends_with("got 50 expected 32"));
        assert!(wa("1 2", " 1 2", SCS).ends_with("judge out of space, got 32 from user"));
        assert!(wa(" 1 2", "1 2", SCS).ends_with("got 49 expected 32"));
    }

    #[test]
    fn space_change_sensitive_message_like_problemtools() {
        // problemtools test_space_sensitive_wa: "got 119 expected 32" on line 2 / line 2.
        let m = wa("hello there\nbig world\n", "hello there\nbigworld\n", SCS);
        assert_eq!(m, "Wrong answer on line 2 of output (corresponding to line 2 in answer file)\nString tokens mismatch\nJudge: \"big\"\nUser: \"bigworld\"");
        let m = wa("hello\nbig  world\n", "hello\nbig world\n", SCS);
        assert_eq!(m, "Wrong answer on line 2 of output (corresponding to line 2 in answer file)\nSpace change error: got 119 expected 32");
        let m = wa("a b\nc d\n", "a b\nc\x0bd\n", SCS);
        assert_eq!(m, "Wrong answer on line 2 of output (corresponding to line 2 in answer file)\nSpace change error: got 11 expected 32");
    }

    // ----- floats

    #[test]
    fn floats_without_tolerance_are_strings() {
        wa("0.0000001", "1e-7", &[]);
        wa("1.0", "1", &[]);
        wa("1.50", "1.5", &[]);
        ac("1E5", "1e5", &[]); // only case folding
        wa("1E5", "1e5", &["case_sensitive"]);
    }

    #[test]
    fn floats_with_tolerance() {
        ac("0.0000001", "1e-7", &["float_tolerance", "1e-6"]);
        ac("0.0314", "3.14000000e-2", &["float_tolerance", "1e-9"]);
        ac("1.0", "1", &["float_tolerance", "0"]);
        ac("100", "100.5", &["float_absolute_tolerance", "0.5"]);
        wa("100", "100.6", &["float_absolute_tolerance", "0.5"]);
        ac("100", "100.5", &["float_relative_tolerance", "0.005"]);
        wa("100", "100.6", &["float_relative_tolerance", "0.005"]);
        // Either tolerance suffices.
        ac(
            "100",
            "101",
            &[
                "float_absolute_tolerance",
                "1e-9",
                "float_relative_tolerance",
                "0.01",
            ],
        );
        ac(
            "0",
            "0.001",
            &[
                "float_absolute_tolerance",
                "0.01",
                "float_relative_tolerance",
                "1e-9",
            ],
        );
        // Relative tolerance of 0 only accepts exact values, including for a zero answer.
        ac("0", "0.0", &["float_relative_tolerance", "0.1"]);
        wa("0", "1e-300", &["float_relative_tolerance", "0.1"]);
        // Mixed lines: only answer tokens that are floats are compared numerically.
        ac(
            "case 1: 2.5 ok\n",
            "Case 1: 2.50000001 OK\n",
            &["float_tolerance", "1e-6"],
        );
    }

    #[test]
    fn float_tolerance_boundary_is_inclusive() {
        ac("1.5", "1.75", &["float_absolute_tolerance", "0.25"]);
        ac("2", "2.5", &["float_relative_tolerance", "0.25"]);
        wa("2", "2.5000001", &["float_relative_tolerance", "0.25"]);
    }

    #[test]
    fn float_message() {
        let m = wa("100", "105", &["float_relative_tolerance", "0.01"]);
        assert_eq!(m, "Wrong answer on line 1 of output (corresponding to line 1 in answer file)\nToo large difference.\n Judge: 100\n User:  105\n Absolute error: 5.000000e+00 (abs tolerance unset)\n Relative error: 5.000000e-02 (rel tolerance 1.000000e-02)");
        let m = wa(
            "155432.5",
            "155432.2666462104",
            &["float_tolerance", "1e-6"],
        );
        assert!(
            m.contains("Absolute error: 2.333538e-01 (abs tolerance 1.000000e-06)"),
            "{m}"
        );
        assert!(m.contains("(rel tolerance 1.000000e-06)"), "{m}");
    }

    #[test]
    fn negative_zero() {
        wa("0", "-0", &[]);
        wa("0.0", "-0.0", &[]);
        ac("0", "-0", &["float_tolerance", "1e-9"]);
        ac("-0.0", "0", &["float_absolute_tolerance", "0"]);
    }

    #[test]
    fn integers_are_floats_with_tolerance() {
        ac("3", "3.0000001", &["float_tolerance", "1e-6"]);
        ac("3", "+3", &["float_tolerance", "0"]);
        wa("3", "+3", &[]);
    }

    #[test]
    fn output_not_a_float() {
        let m = wa("1.5", "abc", &["float_tolerance", "1e-6"]);
        assert!(m.ends_with("Expected float, got: abc"), "{m}");
        assert!(wa("1.5", "1.5.0", &["float_tolerance", "1e-6"]).contains("Expected float"));
        assert!(wa("1.5", "1.5x", &["float_tolerance", "1e-6"]).contains("Expected float"));
        assert!(wa("1", "1,0", &["float_tolerance", "1e-6"]).contains("Expected float"));
    }

    #[test]
    fn answer_non_floats_compare_as_strings_with_tolerance() {
        ac("Yes 1.0", "YES 1", &["float_tolerance", "1e-6"]);
        wa("Yes", "No", &["float_tolerance", "1e-6"]);
        // The answer token is not a float, so the output token needs not be either.
        ac("abc", "ABC", &["float_tolerance", "1e-6"]);
    }

    #[test]
    fn float_grammar_of_the_spec() {
        for ok in [
            "0",
            "-1",
            "+1",
            ".5",
            "5.",
            "-.5e-3",
            "1e5",
            "1E+05",
            "00012.3400",
            "1e-400",
        ] {
            assert!(parse_float(ok.as_bytes()).is_some(), "{ok}");
        }
        for bad in [
            "", ".", "+", "-", "e5", ".e5", "1e", "1e+", "1.2.3", "0x10", "0x1p3", "inf", "-inf",
            "Infinity", "nan", "NaN", "1e400", "1_000", " 1", "1d0", "١",
        ] {
            assert!(parse_float(bad.as_bytes()).is_none(), "{bad}");
        }
        assert_eq!(parse_float(b".5"), Some(0.5));
        assert_eq!(parse_float(b"-2.5E+2"), Some(-250.0));
        // At least 30 digits before and after the point (spec).
        let long = format!("{}.{}", "1".repeat(30), "2".repeat(30));
        assert_eq!(
            parse_float(long.as_bytes()),
            Some(long.parse::<f64>().unwrap())
        );
        // Correctly rounded.
        assert_eq!(parse_float(b"0.1"), Some(0.1));
        assert_eq!(parse_float(b"9007199254740993"), Some(9007199254740992.0));
    }

    #[test]
    fn hex_inf_nan_are_not_floats() {
        let t = &["float_tolerance", "1e-6"];
        // In the output, where the answer has a number: not a float.
        assert!(wa("16", "0x10", t).contains("Expected float, got: 0x10"));
        assert!(wa("8", "0x1p3", t).contains("Expected float"));
        assert!(wa("1e400", "inf", t)
            .ends_with("String tokens mismatch\nJudge: \"1e400\"\nUser: \"inf\""));
        assert!(wa("1", "nan", t).contains("Expected float"));
        assert!(wa("1", "1e400", t).contains("Expected float, got: 1e400"));
        // In the answer: strings (case-insensitive by default).
        ac("0x10", "0X10", t);
        wa("0x10", "16", t);
        ac("nan inf", "NaN INF", t);
        wa("inf", "1e400", t);
        ac("1e400", "1E400", t);
    }

    // ----- bytes: NUL, BOM, non-UTF-8

    #[test]
    fn nul_bytes_are_token_bytes() {
        wa("", "\0", &[]);
        wa("1", "1\0", &[]);
        wa("1", "\x001", &[]);
        ac("a\0b", "A\0B", &[]);
        // The whole token is compared (problemtools' strcmp would stop at the NUL).
        let m = wa("a\0b", "a\0c", &[]);
        assert!(
            m.ends_with("String tokens mismatch\nJudge: \"a\\0b\"\nUser: \"a\\0c\""),
            "{m}"
        );
        // NUL is not whitespace.
        wa("1 2", "1\x002", &[]);
    }

    #[test]
    fn utf8_bom_is_not_skipped() {
        let m = wa("42\n", "\u{feff}42\n", &[]);
        assert!(
            m.ends_with("String tokens mismatch\nJudge: \"42\"\nUser: \"\u{feff}42\""),
            "{m}"
        );
        ac("\u{feff}42\n", "\u{feff}42\n", &[]);
        wa("42\n", "\u{feff}42\n", &["float_tolerance", "1e-6"]);
        wa("42\n", "\u{feff}\n42\n", &[]);
    }

    #[test]
    fn invalid_utf8_is_fine() {
        let j = run(b"\xff\xfe x", b"\xff\xfe X", &[]);
        assert!(j.accepted);
        let j = run(b"\xff", b"\xfe", &[]);
        assert!(!j.accepted);
        assert!(
            j.message
                .ends_with("Judge: \"\u{fffd}\"\nUser: \"\u{fffd}\""),
            "{}",
            j.message
        );
    }

    // ----- message truncation

    #[test]
    fn long_tokens_are_truncated_in_messages() {
        // truncate_pair: 15 bytes of the common prefix, then 15 bytes of each side.
        let judge = format!("{}{}", "a".repeat(40), "b".repeat(40));
        let user = format!("{}{}", "a".repeat(40), "c".repeat(40));
        let m = wa(&judge, &user, &["case_sensitive"]);
        let p = format!("{}...", "a".repeat(15));
        assert!(
            m.ends_with(&format!(
                "Judge: \"{p}{}...\"\nUser: \"{p}{}...\"",
                "b".repeat(15),
                "c".repeat(15)
            )),
            "{m}"
        );
        // Short enough (<= limit + 5) parts are not cut.
        let m = wa("abcdefghijklmnopqrstX", "abcdefghijklmnopqrstY", &[]);
        assert!(
            m.ends_with("Judge: \"abcdefghijklmnopqrstX\"\nUser: \"abcdefghijklmnopqrstY\""),
            "{m}"
        );
        // The next judge token of a User EOF is cut to 30 bytes.
        let m = wa(&format!("1 {}", "z".repeat(36)), "1", &[]);
        assert!(
            m.ends_with(&format!("(Next judge token: {}...)", "z".repeat(30))),
            "{m}"
        );
        let m = wa(&format!("1 {}", "z".repeat(35)), "1", &[]);
        assert!(
            m.ends_with(&format!("(Next judge token: {})", "z".repeat(35))),
            "{m}"
        );
        // UTF-8 characters are not cut in the middle.
        let m = wa("1", &format!("1 {}{}", "y".repeat(29), "é".repeat(10)), &[]);
        assert!(
            m.ends_with(&format!("Trailing output:\n{}é...", "y".repeat(29))),
            "{m}"
        );
    }

    #[test]
    fn truncate_like_problemtools() {
        assert_eq!(truncate(b"abc", 3, 30), b"abc");
        let s = "x".repeat(35);
        assert_eq!(truncate(s.as_bytes(), 35, 30), s.as_bytes());
        let s = "x".repeat(36);
        assert_eq!(
            truncate(s.as_bytes(), 36, 30),
            format!("{}...", "x".repeat(30)).as_bytes()
        );
        assert_eq!(
            mismatch_whole(b"abc", b"abd"),
            "String tokens mismatch\nJudge: \"abc\"\nUser: \"abd\""
        );
        assert_eq!(
            mismatch_whole(b"ab", b"abd"),
            "String tokens mismatch\nJudge: \"ab\"\nUser: \"abd\""
        );
        assert_eq!(c_exp(0.2333538), "2.333538e-01");
        assert_eq!(c_exp(-1.0), "-1.000000e+00");
        assert_eq!(c_exp(1e-300), "1.000000e-300");
        assert_eq!(c_exp(f64::INFINITY), "inf");
    }

    // ----- files, errors

    #[test]
    fn compare_files_works() {
        let dir = tempfile::tempdir().unwrap();
        let (a, t) = (dir.path().join("a.ans"), dir.path().join("t.out"));
        std::fs::File::create(&a)
            .unwrap()
            .write_all(b"1 2\n3\n")
            .unwrap();
        std::fs::File::create(&t)
            .unwrap()
            .write_all(b"1 2 3")
            .unwrap();
        assert!(
            compare_files(&a, &t, &DefaultFlags::default())
                .unwrap()
                .accepted
        );
        let j = compare_files(&a, &t, &flags(&["space_change_sensitive"])).unwrap();
        assert!(!j.accepted);
        assert!(compare_files(&a, &dir.path().join("missing"), &DefaultFlags::default()).is_err());
    }

    #[test]
    fn read_errors_propagate() {
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("boom"))
            }
        }
        assert_eq!(
            compare(&b"1"[..], Broken, &DefaultFlags::default())
                .unwrap_err()
                .to_string(),
            "boom"
        );
        assert!(compare(Broken, &b"1"[..], &DefaultFlags::default()).is_err());
    }

    #[test]
    fn interrupted_reads_are_retried() {
        struct Flaky<'a>(&'a [u8], bool);
        impl Read for Flaky<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                self.1 = !self.1;
                if self.1 {
                    return Err(io::ErrorKind::Interrupted.into());
                }
                let n = buf.len().min(2);
                (&mut self.0).read(&mut buf[..n])
            }
        }
        let j = compare(
            Flaky(b"1 2 3\n", false),
            Flaky(b"1\n2\n3", false),
            &DefaultFlags::default(),
        )
        .unwrap();
        assert!(j.accepted, "{}", j.message);
    }

    #[test]
    fn hand_built_negative_tolerance_is_unset() {
        let f = DefaultFlags {
            float_absolute_tolerance: Some(-1.0),
            ..Default::default()
        };
        // No tolerance is set: floats compare as strings.
        assert!(!compare(&b"1.0"[..], &b"1"[..], &f).unwrap().accepted);
        assert!(compare(&b"1.0"[..], &b"1.0"[..], &f).unwrap().accepted);
        let f = DefaultFlags {
            float_relative_tolerance: Some(f64::NAN),
            ..Default::default()
        };
        assert!(!compare(&b"1.0"[..], &b"1"[..], &f).unwrap().accepted);
    }

    // ----- streaming, big inputs

    #[test]
    fn streaming_200mb_is_accepted() {
        // ~200 MB of answer generated on the fly; the output has other whitespace and case.
        let ans_pat = b"Hello 1234567 -3.25 world\n".to_vec();
        let team_pat = b"hello\t1234567  -3.25 WORLD\r\n".to_vec();
        let reps = 200_000_000 / ans_pat.len() as u64;
        let ans = Gen::new(vec![(ans_pat, reps)]);
        let team = Gen::new(vec![(team_pat, reps)]);
        let (j, cap) = compare_impl(ans, team, &DefaultFlags::default()).unwrap();
        assert!(j.accepted, "{}", j.message);
        assert!(cap <= 64, "token buffers grew to {cap}");

        // And a difference at the very end is found, with the right line numbers.
        let ans = Gen::new(vec![
            (b"ab 12\n".to_vec(), 10_000_000),
            (b"x\n".to_vec(), 1),
        ]);
        let team = Gen::new(vec![
            (b"AB 12\n".to_vec(), 10_000_000),
            (b"y\n".to_vec(), 1),
        ]);
        let j = compare(ans, team, &DefaultFlags::default()).unwrap();
        assert_eq!(j.message, "Wrong answer on line 10000001 of output (corresponding to line 10000001 in answer file)\nString tokens mismatch\nJudge: \"x\"\nUser: \"y\"");
    }

    #[test]
    fn streaming_floats_with_tolerance() {
        let ans = Gen::new(vec![(b"0.5 1e-3 7\n".to_vec(), 500_000)]);
        let team = Gen::new(vec![(b"0.5000001 0.001 7.0\n".to_vec(), 500_000)]);
        let j = compare(ans, team, &flags(&["float_tolerance", "1e-6"])).unwrap();
        assert!(j.accepted, "{}", j.message);
    }

    #[test]
    fn ten_mb_single_token() {
        const N: u64 = 10 * 1024 * 1024 / 64;
        let a64 = b"a".repeat(64);
        let big_a64 = b"A".repeat(64);
        let flags0 = DefaultFlags::default();

        // Equal (up to case): accepted, with bounded buffers.
        let ans = Gen::new(vec![(a64.clone(), N), (b"\n".to_vec(), 1)]);
        let team = Gen::new(vec![(big_a64.clone(), N)]);
        let (j, cap) = compare_impl(ans, team, &flags0).unwrap();
        assert!(j.accepted, "{}", j.message);
        assert!(cap <= MAX_TOKEN_CHUNK + 64, "token buffers grew to {cap}");

        // Case-sensitive: mismatch at byte 0.
        let ans = Gen::new(vec![(a64.clone(), N)]);
        let team = Gen::new(vec![(big_a64.clone(), N)]);
        let j = compare(ans, team, &flags(&["case_sensitive"])).unwrap();
        assert!(
            j.message.ends_with(&format!(
                "Judge: \"{}...\"\nUser: \"{}...\"",
                "a".repeat(15),
                "A".repeat(15)
            )),
            "{}",
            j.message
        );

        // A different last byte.
        let ans = Gen::new(vec![(a64.clone(), N), (b"b 1".to_vec(), 1)]);
        let team = Gen::new(vec![(a64.clone(), N), (b"c 1".to_vec(), 1)]);
        let (j, cap) = compare_impl(ans, team, &flags0).unwrap();
        let p = format!("{}...", "a".repeat(15));
        assert_eq!(j.message, format!("Wrong answer on line 1 of output (corresponding to line 1 in answer file)\nString tokens mismatch\nJudge: \"{p}b\"\nUser: \"{p}c\""));
        assert!(cap <= MAX_TOKEN_CHUNK + 64);

        // One byte longer / shorter.
        let ans = Gen::new(vec![(a64.clone(), N)]);
        let team = Gen::new(vec![(a64.clone(), N), (b"a".to_vec(), 1)]);
        let j = compare(ans, team, &flags0).unwrap();
        assert!(
            j.message
                .ends_with(&format!("Judge: \"{p}\"\nUser: \"{p}a\"")),
            "{}",
            j.message
        );
        let ans = Gen::new(vec![(a64.clone(), N), (b"a".to_vec(), 1)]);
        let team = Gen::new(vec![(a64.clone(), N), (b"\n".to_vec(), 1)]);
        let j = compare(ans, team, &flags0).unwrap();
        assert!(
            j.message
                .ends_with(&format!("Judge: \"{p}a\"\nUser: \"{p}\"")),
            "{}",
            j.message
        );

        // Exactly MAX_TOKEN_CHUNK bytes (the chunk boundary), then more tokens.
        let ans = Gen::new(vec![
            (b"q".to_vec(), MAX_TOKEN_CHUNK as u64),
            (b" 1 2".to_vec(), 1),
        ]);
        let team = Gen::new(vec![
            (b"q".to_vec(), MAX_TOKEN_CHUNK as u64),
            (b"\n1\n2\n".to_vec(), 1),
        ]);
        assert!(compare(ans, team, &flags0).unwrap().accepted);
        let ans = Gen::new(vec![
            (b"q".to_vec(), MAX_TOKEN_CHUNK as u64),
            (b" 1 2".to_vec(), 1),
        ]);
        let team = Gen::new(vec![
            (b"q".to_vec(), MAX_TOKEN_CHUNK as u64 + 1),
            (b"\n1\n2\n".to_vec(), 1),
        ]);
        assert!(!compare(ans, team, &flags0).unwrap().accepted);

        // A huge token is never a float: in the answer a string, in the output "Expected float".
        let digits = b"1".repeat(64);
        let t = flags(&["float_tolerance", "1e-6"]);
        let ans = Gen::new(vec![(digits.clone(), N)]);
        let team = Gen::new(vec![(digits.clone(), N)]);
        assert!(compare(ans, team, &t).unwrap().accepted);
        let ans = Gen::new(vec![(b"1.5".to_vec(), 1)]);
        let team = Gen::new(vec![
            (b"1.5".to_vec(), 1),
            (b"0".to_vec(), 2 * MAX_TOKEN_CHUNK as u64),
        ]);
        let j = compare(ans, team, &t).unwrap();
        assert!(
            j.message
                .ends_with(&format!("Expected float, got: 1.5{}...", "0".repeat(27))),
            "{}",
            j.message
        );
    }

    #[test]
    fn long_token_vs_short_token() {
        let flags0 = DefaultFlags::default();
        let ans = Gen::new(vec![(b"x".to_vec(), 3 * MAX_TOKEN_CHUNK as u64)]);
        let team = Gen::new(vec![(b"xx 1".to_vec(), 1)]);
        let j = compare(ans, team, &flags0).unwrap();
        assert!(
            j.message
                .ends_with(&format!("Judge: \"xx{}...\"\nUser: \"xx\"", "x".repeat(15))),
            "{}",
            j.message
        );
    }

    // ----- the fast path (equal regions skipped with slice comparisons)

    /// Reads at most `.1` bytes at a time.
    struct Chunked<'a>(&'a [u8], usize);
    impl Read for Chunked<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// The judgement with the fast path must be exactly the one of the token logic alone,
    /// whatever the read sizes (the answer and the output in different pieces, so that their
    /// buffers are not aligned). Returns it.
    fn check(ans: &[u8], team: &[u8], args: &[&str]) -> Judgement {
        let f = flags(args);
        let (reference, _) = compare_with(ans, team, &f, false).unwrap();
        let pieces: &[(usize, usize)] = if ans.len() + team.len() <= 4096 {
            &[(usize::MAX, usize::MAX), (1, 1), (1, 3), (5, 2), (64, 63)]
        } else {
            &[
                (usize::MAX, usize::MAX),
                (4099, BUF_SIZE),
                (BUF_SIZE, 61),
                (1000, 1001),
            ]
        };
        for &(pa, pt) in pieces {
            let (j, _) = compare_with(Chunked(ans, pa), Chunked(team, pt), &f, true).unwrap();
            assert_eq!(
                j, reference,
                "fast path vs token logic, reads of {pa}/{pt} bytes, flags {args:?}"
            );
        }
        reference
    }

    fn check_ac(ans: &[u8], team: &[u8], args: &[&str]) {
        let j = check(ans, team, args);
        assert!(j.accepted, "expected AC with {args:?}: {}", j.message);
    }

    fn check_wa(ans: &[u8], team: &[u8], args: &[&str]) -> String {
        let j = check(ans, team, args);
        assert!(!j.accepted, "expected WA with {args:?}");
        j.message
    }

    /// At least `len` bytes of lines like the bench's ("12 84.000012"), and their number.
    fn prefix(len: usize) -> (Vec<u8>, u64) {
        let mut v = Vec::with_capacity(len + 32);
        let mut lines = 0;
        while v.len() < len {
            v.extend_from_slice(format!("{lines} {}.{:06}\n", lines * 7, lines % 1000).as_bytes());
            lines += 1;
        }
        (v, lines)
    }

    fn cat(a: &[u8], b: &[u8]) -> Vec<u8> {
        [a, b].concat()
    }

    fn on_line(team: u64, ans: u64, msg: &str) -> String {
        format!("Wrong answer on line {team} of output (corresponding to line {ans} in answer file)\n{msg}")
    }

    const ALL_FLAGS: [&[&str]; 8] = [
        &[],
        &["case_sensitive"],
        &["space_change_sensitive"],
        &["case_sensitive", "space_change_sensitive"],
        &["float_tolerance", "1e-6"],
        &["case_sensitive", "float_tolerance", "1e-6"],
        &["space_change_sensitive", "float_absolute_tolerance", "1e-6"],
        &[
            "case_sensitive",
            "space_change_sensitive",
            "float_relative_tolerance",
            "1e-6",
        ],
    ];

    fn has_tolerance(f: &[&str]) -> bool {
        f.iter().any(|a| a.contains("tolerance"))
    }

    #[test]
    fn fast_path_identical() {
        let (p, _) = prefix(300_000);
        for f in ALL_FLAGS {
            check_ac(&p, &p, f);
        }
        // Without a final newline, and whitespace-only.
        check_ac(&p[..p.len() - 1], &p[..p.len() - 1], SCS);
        let ws = b" \n\t\r\n".repeat(50_000);
        check_ac(&ws, &ws, SCS);
        check_ac(&ws, &ws, &[]);
    }

    #[test]
    fn fast_path_difference_after_long_identical_prefix() {
        let (p, n) = prefix(300_000);
        for f in ALL_FLAGS {
            let m = check_wa(&cat(&p, b"x 1\n"), &cat(&p, b"y 1\n"), f);
            let expected = "String tokens mismatch\nJudge: \"x\"\nUser: \"y\"";
            assert_eq!(m, on_line(n + 1, n + 1, expected), "{f:?}");
            // One byte more or less in the last token.
            let m = check_wa(&cat(&p, b"12 3"), &cat(&p, b"123 3"), f);
            let m2 = check_wa(&cat(&p, b"123"), &cat(&p, b"12"), f);
            if has_tolerance(f) {
                assert!(m.starts_with(&on_line(n + 1, n + 1, "Too large difference.")));
                assert!(m2.starts_with(&on_line(n + 1, n + 1, "Too large difference.")));
            } else {
                assert!(m.ends_with("Judge: \"12\"\nUser: \"123\""), "{m}");
                assert!(m2.ends_with("Judge: \"123\"\nUser: \"12\""), "{m2}");
            }
        }
        // Missing and trailing output.
        let m = check_wa(&cat(&p, b"z\n"), &p, &[]);
        let expected = "User EOF while judge had more output\n(Next judge token: z)";
        assert_eq!(m, on_line(n + 1, n + 1, expected));
        let m = check_wa(&p, &cat(&p, b"\n\nextra\n"), &[]);
        assert_eq!(m, on_line(n + 3, n + 1, "Trailing output:\nextra"));
        let m = check_wa(&p, &cat(&p, b"extra"), SCS);
        assert_eq!(m, on_line(n + 1, n + 1, "Trailing output:\nextra"));
        // The token before the end of the output was consumed by the fast path (through a
        // whitespace difference): "User EOF" counts it.
        let m = check_wa(b"a\nb", b"a\r\n", &[]);
        assert_eq!(
            m,
            on_line(
                2,
                2,
                "User EOF while judge had more output\n(Next judge token: b)"
            )
        );
        let m = check_wa(&cat(&p, b"a\nb"), &cat(&p, b"a\r\n"), &[]);
        let expected = "User EOF while judge had more output\n(Next judge token: b)";
        assert_eq!(m, on_line(n + 2, n + 2, expected));
        // Whitespace only, then a difference.
        let ws = b" \n".repeat(100_000);
        let m = check_wa(&cat(&ws, b"x"), &ws, &[]);
        let expected = "User EOF while judge had more output; user output contained only whitespace.\n(Next judge token: x)";
        assert_eq!(m, on_line(100_001, 100_001, expected));
    }

    #[test]
    fn fast_path_difference_inside_a_token_that_began_in_the_identical_region() {
        let (p, n) = prefix(200_000);
        let token = "abcdefghijklmnopqrstuvwxyz0123456789";
        let ans = cat(&p, format!("{token}X tail\n").as_bytes());
        let team = cat(&p, format!("{token}Y tail\n").as_bytes());
        let expected =
            "String tokens mismatch\nJudge: \"abcdefghijklmno...X\"\nUser: \"abcdefghijklmno...Y\"";
        for f in ALL_FLAGS {
            assert_eq!(
                check_wa(&ans, &team, f),
                on_line(n + 1, n + 1, expected),
                "{f:?}"
            );
        }
        // The number of the bench lines: the difference is in the last digits.
        let ans = cat(&p, b"1234567 8\n");
        let team = cat(&p, b"1234568 8\n");
        let m = check_wa(&ans, &team, &[]);
        assert!(m.ends_with("Judge: \"1234567\"\nUser: \"1234568\""), "{m}");
        // With a tolerance those are numbers.
        let m = check_wa(&ans, &team, &["float_tolerance", "1e-9"]);
        assert!(m.contains("Too large difference."), "{m}");
        check_ac(&ans, &team, &["float_absolute_tolerance", "1"]);
        // A long token (more than the fast path keeps, and than a buffer) that begins in
        // the identical region.
        for len in [
            FAST_MAX_PARTIAL - 1,
            FAST_MAX_PARTIAL + 1,
            BUF_SIZE + 10,
            3 * BUF_SIZE,
        ] {
            let long = "q".repeat(len);
            let ans = cat(&p, format!("{long} 1\n").as_bytes());
            check_ac(&ans, &ans, &["case_sensitive", "space_change_sensitive"]);
            check_ac(
                &ans,
                &cat(&p, format!("{} 1", long.to_uppercase()).as_bytes()),
                &[],
            );
            let team = cat(&p, format!("{long}r 1\n").as_bytes());
            let m = check_wa(&ans, &team, &[]);
            let q15 = "q".repeat(15);
            assert!(
                m.ends_with(&format!("Judge: \"{q15}...\"\nUser: \"{q15}...r\"")),
                "{m}"
            );
        }
    }

    #[test]
    fn fast_path_at_buffer_boundaries() {
        // A difference at (and around) the end of the first and second 64 KiB buffers, in a
        // token, at its first or last byte, or in whitespace; also tokens straddling the
        // boundary that are equal.
        let (p, _) = prefix(3 * BUF_SIZE);
        for boundary in [BUF_SIZE, 2 * BUF_SIZE] {
            for off in boundary - 9..boundary + 9 {
                let b = p[off];
                let mut team = p.clone();
                if b.is_ascii_digit() {
                    team[off] = if b == b'9' { b'0' } else { b + 1 };
                    for f in ALL_FLAGS {
                        // (With a tolerance, a change of the last decimal may be accepted.)
                        let j = check(&p, &team, f);
                        assert!(has_tolerance(f) || !j.accepted, "{f:?}");
                    }
                    // A letter instead: "Expected float" with a tolerance.
                    team[off] = b'x';
                    check_wa(&p, &team, &["float_tolerance", "1e-6"]);
                } else if b == b'.' {
                    team[off] = b',';
                    check_wa(&p, &team, &["float_tolerance", "1e-6"]);
                } else {
                    // Whitespace: other whitespace, more, or none.
                    team[off] = if b == b'\n' { b' ' } else { b'\t' };
                    check_ac(&p, &team, &[]);
                    check_wa(&p, &team, SCS);
                    let more = [&p[..off], b"\r", &p[off..]].concat();
                    check_ac(&p, &more, &[]);
                    check_wa(&p, &more, SCS);
                    check_ac(&more, &p, &[]);
                    check_wa(&more, &p, SCS);
                    let none = [&p[..off], &p[off + 1..]].concat();
                    check_wa(&p, &none, &[]);
                }
                // The answer and the output cut right there.
                check(&p[..off], &p, &[]);
                check(&p, &p[..off], SCS);
                check(&p[..off], &p[..off + 1], &["float_tolerance", "1e-6"]);
            }
        }
        // Case differences and float differences straddling a boundary.
        let mut v = vec![b'a'; BUF_SIZE - 3];
        v.extend_from_slice(b" abcdef 1.000000 ");
        let mut team = v.clone();
        team[BUF_SIZE - 1..BUF_SIZE + 2].copy_from_slice(b"BCD");
        check_ac(&v, &team, &[]);
        check_ac(&v, &team, SCS);
        check_wa(&v, &team, &["case_sensitive"]);
        let team = [&v[..BUF_SIZE + 12], b"0", &v[BUF_SIZE + 12..]].concat();
        assert_eq!(&team[BUF_SIZE + 4..BUF_SIZE + 14], b" 1.0000000");
        check_ac(&v, &team, &["float_tolerance", "1e-6"]);
        check_wa(&v, &team, &[]);
    }

    #[test]
    fn fast_path_case_differences() {
        let (p, n) = prefix(200_000);
        let (ans, team) = (cat(&p, b"ABC 1\n"), cat(&p, b"abc 1\n"));
        check_ac(&ans, &team, &[]);
        check_ac(&ans, &team, SCS);
        check_ac(&ans, &team, &["float_tolerance", "1e-6"]);
        let m = check_wa(&ans, &team, &["case_sensitive"]);
        let expected = "String tokens mismatch\nJudge: \"ABC\"\nUser: \"abc\"";
        assert_eq!(m, on_line(n + 1, n + 1, expected));
        // Long regions that differ in case everywhere, with a real difference deep inside.
        let text: Vec<u8> = (0..20_000)
            .flat_map(|i| format!("Case #{i}: Yes 1e5\n").into_bytes())
            .collect();
        let upper = text.to_ascii_uppercase();
        let lower = text.to_ascii_lowercase();
        check_ac(&text, &upper, &[]);
        check_ac(&upper, &lower, SCS);
        check_wa(
            &text,
            &upper,
            &["case_sensitive", "float_tolerance", "1e-6"],
        );
        check_wa(&text, &upper, &["case_sensitive"]);
        let mut bad = upper.clone();
        let at = bad.len() - 1000;
        let line = bad[..at].iter().filter(|&&b| b == b'\n').count() as u64 + 1;
        bad[at] = b'@'; // '@' vs '`' would be equal if non-letters were folded
        let m = check_wa(&text, &bad, &[]);
        assert!(
            m.starts_with(&on_line(line, line, "String tokens mismatch")),
            "{m}"
        );
        // Non-ASCII letters are not folded.
        check_wa(&cat(&p, "É".as_bytes()), &cat(&p, "é".as_bytes()), &[]);
        check_wa(&cat(&p, b"["), &cat(&p, b"{"), &[]);
    }

    #[test]
    fn fast_path_floats_with_tolerance() {
        let (p, n) = prefix(200_000);
        let t = &["float_tolerance", "1e-6"];
        let (ans, team) = (cat(&p, b"1.0\n"), cat(&p, b"1.00\n"));
        check_ac(&ans, &team, t);
        check_ac(
            &ans,
            &team,
            &["space_change_sensitive", "float_absolute_tolerance", "0"],
        );
        let m = check_wa(&ans, &team, &[]);
        let expected = "String tokens mismatch\nJudge: \"1.0\"\nUser: \"1.00\"";
        assert_eq!(m, on_line(n + 1, n + 1, expected));
        check_ac(
            &cat(&p, b"3.14159265358979 x"),
            &cat(&p, b"3.14159265358978 X"),
            t,
        );
        let m = check_wa(&cat(&p, b"1.5\n"), &cat(&p, b"1.6\n"), t);
        assert!(
            m.starts_with(&on_line(n + 1, n + 1, "Too large difference.")),
            "{m}"
        );
        let m = check_wa(&cat(&p, b"1.5\n"), &cat(&p, b"1.5x\n"), t);
        assert_eq!(m, on_line(n + 1, n + 1, "Expected float, got: 1.5x"));
        // e vs E is the same number (and, without case_sensitive, the same string).
        check_ac(
            &cat(&p, b"1e5"),
            &cat(&p, b"1E5"),
            &["case_sensitive", "float_tolerance", "0"],
        );
        check_wa(&cat(&p, b"1e5"), &cat(&p, b"1E5"), &["case_sensitive"]);
        // Every line of the bench pattern with one more zero: all numbers differ as strings.
        let zeros: Vec<u8> = p
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .flat_map(|l| [l, b"0\n"].concat())
            .collect();
        check_ac(&p, &zeros, t);
        check_wa(&p, &zeros, &[]);
    }

    #[test]
    fn fast_path_space_change_sensitive() {
        let (p, n) = prefix(200_000);
        let m = check_wa(&cat(&p, b"1 2\n"), &cat(&p, b"1  2\n"), SCS);
        let expected = "Space change error: judge out of space, got 32 from user";
        assert_eq!(m, on_line(n + 1, n + 1, expected));
        let m = check_wa(&cat(&p, b"1\n"), &cat(&p, b"1\r\n"), SCS);
        assert_eq!(
            m,
            on_line(n + 1, n + 1, "Space change error: got 13 expected 10")
        );
        let m = check_wa(&cat(&p, b"1\t2"), &cat(&p, b"1 2"), SCS);
        assert_eq!(
            m,
            on_line(n + 1, n + 1, "Space change error: got 32 expected 9")
        );
        // A missing final newline.
        let m = check_wa(&p, &p[..p.len() - 1], SCS);
        assert_eq!(m, on_line(n, n, "Space change error: got -1 expected 10"));
        check_ac(&p, &p[..p.len() - 1], &[]);
        // A missing whitespace run between two tokens that are equal up to case.
        let m = check_wa(&cat(&p, b"ab cd"), &cat(&p, b"ABCD"), SCS);
        assert!(m.ends_with("Judge: \"ab\"\nUser: \"ABCD\""), "{m}");
        check_ac(&cat(&p, b"a B\n"), &cat(&p, b"A b\n"), SCS);
    }

    #[test]
    fn fast_path_crlf_and_whitespace_in_default_mode() {
        let (p, n) = prefix(200_000);
        let crlf: Vec<u8> = p
            .iter()
            .flat_map(|&b| {
                if b == b'\n' {
                    b"\r\n".to_vec()
                } else {
                    vec![b]
                }
            })
            .collect();
        check_ac(&p, &crlf, &[]);
        check_ac(&crlf, &p, &["float_tolerance", "1e-6"]);
        check_wa(&p, &crlf, SCS);
        // A difference at the end: the line numbers count the LF bytes.
        let m = check_wa(&cat(&p, b"x\n"), &cat(&crlf, b"y\r\n"), &[]);
        let expected = "String tokens mismatch\nJudge: \"x\"\nUser: \"y\"";
        assert_eq!(m, on_line(n + 1, n + 1, expected));
        let m = check_wa(&cat(&p, b"\n\n\nx\n"), &cat(&crlf, b"y\r\n"), &[]);
        assert_eq!(m, on_line(n + 1, n + 4, expected));
        // Tabs, several spaces, blank lines, trailing spaces.
        let loose: Vec<u8> = p
            .iter()
            .flat_map(|&b| match b {
                b' ' => b"\t  ".to_vec(),
                b'\n' => b"  \n\n".to_vec(),
                _ => vec![b],
            })
            .collect();
        check_ac(&p, &loose, &[]);
        check_ac(&loose, &p, &[]);
        let m = check_wa(&cat(&p, b"x"), &cat(&loose, b"y"), &[]);
        assert_eq!(m, on_line(2 * n + 1, n + 1, expected));
        // Tokens glued together or split are differences.
        check_wa(&cat(&p, b"ab"), &cat(&p, b"a b"), &[]);
        check_wa(&cat(&p, b"a b"), &cat(&p, b"ab"), &[]);
    }

    #[test]
    fn fast_path_matches_token_logic_on_random_inputs() {
        // Random texts of tokens and whitespace, and mutated copies, under every flag
        // combination: the fast path must give exactly the judgement of the token logic.
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rnd = move |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let tokens: [&[u8]; 12] = [
            b"1", b"1.0", b"1.00", b"-0", b"0", b"1e5", b"1E5", b"abc", b"ABC", b"x", b"2.5",
            b"Yes",
        ];
        let spaces: [&[u8]; 6] = [b" ", b"\n", b"\r\n", b"\t", b"  ", b"\n\n"];
        for round in 0..90 {
            let len = match round % 10 {
                9 => 150_000,
                0..=3 => 1 + rnd(20),
                _ => 2 + rnd(600),
            };
            let mut ans = Vec::new();
            if rnd(4) == 0 {
                ans.extend_from_slice(spaces[rnd(spaces.len())]);
            }
            while ans.len() < len {
                ans.extend_from_slice(tokens[rnd(tokens.len())]);
                ans.extend_from_slice(spaces[rnd(spaces.len())]);
            }
            if rnd(3) == 0 {
                ans.pop();
            }
            let mut team = ans.clone();
            for _ in 0..rnd(4) {
                let at = rnd(team.len() + 1);
                match rnd(6) {
                    0 => team.insert(at, b"x \n\r1.A"[rnd(7)]),
                    1 if at < team.len() => {
                        team.remove(at);
                    }
                    2 if at < team.len() => team[at] = team[at].to_ascii_uppercase(),
                    3 if at < team.len() => team[at] = team[at].to_ascii_lowercase(),
                    4 => team.insert(at, b'0'),
                    _ => team.truncate(at),
                };
            }
            if rnd(2) == 0 {
                // A final difference, so that the line numbers are checked too.
                ans.extend_from_slice(b"\nEND");
                team.extend_from_slice(b"\nFIN");
            }
            for f in ALL_FLAGS {
                check(&ans, &team, f);
                check(&team, &ans, f);
            }
        }
    }
}
