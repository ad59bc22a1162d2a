//! Questions to a human, sent by a step that waits for the answer. The
//! console answers them with dialogs; headless mode answers them from the
//! command line. There is one code path for both.

use tokio::sync::oneshot;

use super::event::{Answer, Question};
use super::participant::Participant;

/// A question from a step, with the channel to answer on.
#[derive(Debug)]
pub struct HumanRequest {
    /// The step that asks.
    pub step: String,
    /// The step's title, for display.
    pub title: String,
    /// What is asked.
    pub question: Question,
    /// The step's attempt (1 for the first).
    pub attempt: u32,
    /// The journal line (the shared log's sequence number) of the
    /// `human_asked` event; `None` when the run keeps no journal. A team
    /// participant's answer names it (`TeamAnswer.asked`).
    pub asked: Option<u64>,
    /// Where the answer goes.
    pub reply: oneshot::Sender<HumanReply>,
}

/// An answer, who gave it, and an optional note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HumanReply {
    /// The answer.
    pub answer: Answer,
    /// Who answered: `user@host`, or `headless (--flag)`.
    pub by: String,
    /// Free text (why a step was skipped, lessons learned).
    pub note: Option<String>,
    /// Who answered, by AWS identity; `None` for the driver at this
    /// process's console or command line (the step fills it in).
    pub who: Option<Participant>,
}

impl HumanReply {
    /// An answer from `by`, without a note.
    pub fn new(answer: Answer, by: impl Into<String>) -> Self {
        Self {
            answer,
            by: by.into(),
            note: None,
            who: None,
        }
    }
}
