//! How much of a step's output the journal keeps, whatever the step
//! prints. Output is read in pieces of at most [`LINE_PIECE`] bytes (a
//! longer line is split, each further piece marked with
//! [`CONTINUED`]); the journal keeps the first [`JOURNALED_HEAD`] and the
//! last [`JOURNALED_TAIL`] bytes of a step attempt's output and records
//! how many lines and bytes it left out between them
//! ([`OutputLeftOut`]); the full output is written to a file beside the
//! journal (`steps/<id>/output-<attempt>.log`).
//!
//! This module owns the caps and the bookkeeping; it must not touch the
//! process, the terminal nor the journal's files.

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

use super::event::Stream;
use crate::format::human_bytes;

/// Longest piece of a line read at once: a longer line is split here, so
/// one line without a newline never costs more than this in memory.
pub const LINE_PIECE: usize = 64 * 1024;

/// Starts every piece of a line after its first.
pub const CONTINUED: &str = "↪ ";

/// Bytes of a step attempt's output journaled from its start.
pub const JOURNALED_HEAD: usize = 256 * 1024;

/// Bytes of a step attempt's output journaled from its end.
pub const JOURNALED_TAIL: usize = 256 * 1024;

/// What a journaled line costs beyond its text (the event's time, step and
/// stream): the caps count it, so many short lines cost what they weigh.
pub const EVENT_OVERHEAD: usize = 128;

/// Output the journal left out of a step attempt (between its head and
/// its tail).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputLeftOut {
    /// Lines (or pieces of over-long lines) left out.
    pub lines: u64,
    /// Bytes left out.
    pub bytes: u64,
    /// The file holding the full output, relative to the run directory.
    pub file: String,
}

impl OutputLeftOut {
    /// `12,345 lines / 40.2 MB left out, full output in steps/x/output-1.log
    /// (in the run directory)`.
    pub fn phrase(&self) -> String {
        format!(
            "{} lines / {} left out, full output in {} (in the run directory)",
            self.lines,
            human_bytes(self.bytes),
            self.file
        )
    }
}

/// One piece of output as read: a line, or a piece of an over-long line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Which stream.
    pub stream: Stream,
    /// The text as journaled (without its newline).
    pub text: String,
    /// Bytes it stood for in the output.
    pub bytes: usize,
}

/// Bytes `text` takes in the journal's JSON: a control character is
/// written as `\u00XX`, a quote or backslash escaped, so a piece of NUL
/// bytes counts six times its length.
fn journaled_size(text: &str) -> usize {
    text.len()
        + text
            .bytes()
            .filter(|&b| b < 0x20 || b == b'"' || b == b'\\')
            .count()
            * 5
}

/// Decides which pieces the journal keeps: the head as they come, the tail
/// at the end; counts the rest.
#[derive(Debug, Default)]
pub struct OutputCap {
    head: usize,
    tail: VecDeque<Piece>,
    tail_bytes: usize,
    lines_left_out: u64,
    bytes_left_out: u64,
}

impl OutputCap {
    /// Takes a piece: returns it when it is to be journaled now (the head);
    /// otherwise holds it for the tail.
    pub fn admit(&mut self, piece: Piece) -> Option<Piece> {
        let cost = journaled_size(&piece.text) + EVENT_OVERHEAD;
        if self.tail.is_empty() && self.head + cost <= JOURNALED_HEAD {
            self.head += cost;
            return Some(piece);
        }
        self.tail_bytes += cost;
        self.tail.push_back(piece);
        while self.tail_bytes > JOURNALED_TAIL {
            let Some(old) = self.tail.pop_front() else {
                break;
            };
            self.tail_bytes -= journaled_size(&old.text) + EVENT_OVERHEAD;
            self.lines_left_out += 1;
            self.bytes_left_out += old.bytes as u64;
        }
        None
    }

    /// The pieces kept for the tail, in order, and what was left out (with
    /// `file` as where the full output is).
    pub fn finish(self, file: &str) -> (Option<OutputLeftOut>, VecDeque<Piece>) {
        let left_out = (self.lines_left_out > 0).then(|| OutputLeftOut {
            lines: self.lines_left_out,
            bytes: self.bytes_left_out,
            file: file.to_owned(),
        });
        (left_out, self.tail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(n: usize) -> Piece {
        Piece {
            stream: Stream::Stdout,
            text: "x".repeat(n - 1),
            bytes: n,
        }
    }

    #[test]
    fn keeps_the_head_and_the_tail_and_counts_what_is_between() {
        let mut cap = OutputCap::default();
        let mut journaled = 0;
        for _ in 0..100_000 {
            journaled += cap.admit(piece(100)).map_or(0, |p| p.bytes);
        }
        let (left_out, tail) = cap.finish("steps/a/output-1.log");
        let tail_bytes: usize = tail.iter().map(|p| p.bytes).sum();
        let cost = |bytes| bytes / 100 * (99 + EVENT_OVERHEAD);
        assert!(cost(journaled) <= JOURNALED_HEAD && cost(journaled) > JOURNALED_HEAD - 228);
        assert!(cost(tail_bytes) <= JOURNALED_TAIL && cost(tail_bytes) > JOURNALED_TAIL - 228);
        let left_out = left_out.unwrap();
        assert_eq!(
            left_out.bytes as usize + journaled + tail_bytes,
            100 * 100_000
        );
        assert_eq!(left_out.lines as usize * 100, left_out.bytes as usize);
        assert!(
            left_out
                .phrase()
                .starts_with(&format!("{} lines / 9.", left_out.lines))
        );
    }

    #[test]
    fn small_output_is_kept_whole() {
        let mut cap = OutputCap::default();
        assert!(cap.admit(piece(10)).is_some());
        let (left_out, tail) = cap.finish("f");
        assert!(left_out.is_none() && tail.is_empty());
    }

    #[test]
    fn escaped_bytes_count_as_what_they_weigh_in_the_journal() {
        let mut cap = OutputCap::default();
        let nul = |_| Piece {
            stream: Stream::Stdout,
            text: "\0".repeat(1000),
            bytes: 1000,
        };
        let journaled = (0..1000).filter_map(|i| cap.admit(nul(i))).count();
        assert_eq!(journaled, JOURNALED_HEAD / (6000 + EVENT_OVERHEAD));
    }
}
