//! The relay: in a team run, every question a step asks can be answered by
//! the driver's front end (console or headless flags, as in a solo run)
//! and by participants from their own machines, through the run's inbox
//! on the shared table (`TeamStore::answers`, polled while the question is
//! open). The first answer to arrive goes to the step; the step's runner
//! asks `engine/approval.rs` whether it counts (a refused answer is
//! recorded there, with who and why, and the step asks again). This
//! module decides only which inbox answers belong to which question:
//!
//! - an inbox answer is taken once, for the step it names;
//! - only for a question of the step's current attempt: its `asked` line
//!   is at least the line of the attempt's first question and at most
//!   the line of the question now open (never an earlier attempt's);
//! - its `who` is the answer's `by` participant.
//!
//! Headless: a question the flags answer goes to them once per attempt;
//! any other question (or the same step asking again after the flags'
//! answer was refused) waits for the inbox until the step's timeout or the
//! run's cancellation, and says on stderr whom it waits for. Failure and
//! interrupted-step questions stay the driver's.
//!
//! It must not decide who may answer (that is `engine::approval`), nor
//! touch the terminal.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};

use crate::engine::approval::RunPeople;
use crate::engine::event::Question;
use crate::engine::headless::HeadlessAnswers;
use crate::engine::human::{HumanReply, HumanRequest};
use crate::runbook::Runbook;
use crate::team::{TeamAnswer, TeamStore};

/// How often an open question reads the inbox.
pub const POLL: Duration = Duration::from_secs(1);

/// A display name longer than this is cut in the journal's `by`.
const MAX_NAME: usize = 120;

/// Who answers at the driver's machine.
#[derive(Debug, Clone)]
pub enum FrontEnd {
    /// A person at the console: every question goes to it too.
    Console,
    /// The command line's answers: each goes to its step's question once
    /// per attempt; other questions wait for the inbox.
    Headless(HeadlessAnswers),
}

/// The relay of one team run.
pub struct Relay {
    /// The shared table.
    pub store: Arc<dyn TeamStore>,
    /// The run.
    pub run: String,
    /// Who answers at the driver's machine.
    pub front: FrontEnd,
    /// The run's people, to say whom a headless question waits for.
    pub people: RunPeople,
    /// How often an open question reads the inbox ([`POLL`]).
    pub poll: Duration,
}

/// What the relay's question tasks share.
struct Shared {
    store: Arc<dyn TeamStore>,
    run: String,
    front: FrontEnd,
    poll: Duration,
    /// Step → owner role, to say whom a question waits for.
    owners: BTreeMap<String, String>,
    people: RunPeople,
    /// Inbox numbers already given to a step (or found to answer nothing
    /// they could ever be taken for).
    taken: Mutex<BTreeSet<u64>>,
    /// Step → (attempt, the line of that attempt's first question).
    attempts: Mutex<BTreeMap<String, (u32, u64)>>,
    /// (step, attempt) whose question the headless flags answered.
    flagged: Mutex<HashSet<(String, u32)>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Relay {
    /// Puts the relay between the engine's `questions` and the front end:
    /// returns the channel the front end reads instead (the console's, or
    /// `engine::headless::answer`'s). The relay runs on its own tasks
    /// until the engine closes `questions`.
    pub fn start(
        self,
        runbook: &Runbook,
        mut questions: mpsc::Receiver<HumanRequest>,
    ) -> mpsc::Receiver<HumanRequest> {
        let owners = runbook
            .steps
            .iter()
            .filter_map(|s| Some((s.id.value.clone(), s.owner.as_ref()?.value.clone())))
            .collect();
        let shared = Arc::new(Shared {
            store: self.store,
            run: self.run,
            front: self.front,
            poll: self.poll,
            owners,
            people: self.people,
            taken: Mutex::new(BTreeSet::new()),
            attempts: Mutex::new(BTreeMap::new()),
            flagged: Mutex::new(HashSet::new()),
        });
        let (to_front, front) = mpsc::channel(16);
        tokio::spawn(async move {
            while let Some(request) = questions.recv().await {
                tokio::spawn(shared.clone().one(request, to_front.clone()));
            }
        });
        front
    }
}

impl Shared {
    /// The lowest `asked` line an inbox answer to this question may name:
    /// the line of the first question of the step's current attempt.
    fn floor(&self, step: &str, attempt: u32, asked: u64) -> u64 {
        let mut attempts = lock(&self.attempts);
        let entry = attempts.entry(step.to_owned()).or_insert((attempt, asked));
        if entry.0 != attempt {
            *entry = (attempt, asked);
        }
        entry.1
    }

    /// Whether the driver's front end gets this question.
    fn front_answers(&self, step: &str, attempt: u32, question: &Question) -> bool {
        let FrontEnd::Headless(answers) = &self.front else {
            return true;
        };
        let given = match question {
            Question::Failure { .. } | Question::Interrupted => return true,
            Question::Confirm { .. } => answers.confirms.contains_key(step),
            _ => answers.answers.contains_key(step),
        };
        // The flags answer once: asked again (their answer was refused),
        // the step waits for the team.
        given && lock(&self.flagged).insert((step.to_owned(), attempt))
    }

    /// The first inbox answer not yet taken for `step`'s question, whose
    /// `asked` is in `floor..=asked`.
    async fn take(&self, step: &str, floor: u64, asked: u64) -> Option<TeamAnswer> {
        let inbox = match self.store.answers(&self.run, 0).await {
            Ok(inbox) => inbox,
            Err(e) => {
                tracing::warn!("reading the team's answers to {step}: {e}");
                return None;
            }
        };
        let mut taken = lock(&self.taken);
        inbox.into_iter().find_map(|(n, answer)| {
            let fits = answer.step == step && (floor..=asked).contains(&answer.asked);
            (fits && taken.insert(n)).then_some(answer)
        })
    }

    /// Whom a headless question waits for, in words.
    fn waits_for(&self, step: &str, question: &Question) -> String {
        if let Question::Approve { waiting_for, .. } = question
            && !waiting_for.is_empty()
        {
            return format!("approvals from {}", waiting_for.join(", "));
        }
        match self.owners.get(step) {
            Some(role) => match self.people.roles.get(role).filter(|p| !p.is_empty()) {
                Some(people) => format!("the `{role}` role ({})", people.join(", ")),
                None => format!("the `{role}` role"),
            },
            None => "a participant".into(),
        }
    }

    /// Relays one question: to the front end (when it answers it) and to
    /// the inbox, whichever answers first.
    async fn one(self: Arc<Self>, request: HumanRequest, to_front: mpsc::Sender<HumanRequest>) {
        let HumanRequest {
            step,
            title,
            question,
            attempt,
            asked,
            mut reply,
        } = request;
        let floor = asked.map(|a| (self.floor(&step, attempt, a), a));
        let front = if self.front_answers(&step, attempt, &question) {
            let (tx, rx) = oneshot::channel();
            let forwarded = HumanRequest {
                step: step.clone(),
                title,
                question: question.clone(),
                attempt,
                asked,
                reply: tx,
            };
            to_front.send(forwarded).await.ok().map(|()| rx)
        } else {
            None
        };
        if front.is_none() {
            let Some((_, asked)) = floor else {
                // Nobody can answer: the step says so.
                return;
            };
            let _ = writeln!(
                std::io::stderr(),
                "{}",
                crate::format::printable(&format!(
                    "{step}: waits for {} to answer from their own machine: dr-drill answer {} {step} … --team {} (until the step's timeout; question line {asked})",
                    self.waits_for(&step, &question),
                    self.run,
                    self.store.table()
                ))
            );
        }
        let from_front = async {
            match front {
                Some(rx) => rx.await.ok(),
                None => None,
            }
        };
        let from_inbox = async {
            let Some((floor, asked)) = floor else {
                return std::future::pending().await;
            };
            loop {
                if let Some(answer) = self.take(&step, floor, asked).await {
                    return answer;
                }
                tokio::time::sleep(self.poll).await;
            }
        };
        tokio::pin!(from_inbox);
        let answer = tokio::select! {
            biased;
            () = reply.closed() => return,
            Some(answer) = from_front => answer,
            answer = &mut from_inbox => from_team(answer),
        };
        let _ = reply.send(answer);
    }
}

/// A participant's inbox answer as the step receives it.
fn from_team(answer: TeamAnswer) -> HumanReply {
    let name = if answer.by.name.trim().is_empty() {
        answer.by.arn.clone()
    } else {
        answer.by.name.clone()
    };
    let name: String = name.chars().take(MAX_NAME).collect();
    HumanReply {
        answer: answer.answer,
        by: format!("{name} (team)"),
        note: answer.note,
        who: Some(answer.by),
    }
}

/// What `dr-drill answer` posts.
#[derive(Debug, Clone)]
pub struct Posting {
    /// The run.
    pub run: String,
    /// The step asked.
    pub step: String,
    /// The answer.
    pub answer: crate::engine::event::Answer,
    /// Free text with it.
    pub note: Option<String>,
    /// Who answers (STS identity and display name).
    pub by: crate::engine::participant::Participant,
    /// How long to wait for the driver to read it.
    pub wait: Duration,
    /// How often to read the shared log meanwhile.
    pub poll: Duration,
}

/// What became of a posted answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Posted {
    /// The driver's log records it and the step took it.
    Accepted,
    /// The driver's log records it and the step refused it: why.
    Refused(String),
    /// Posted (inbox number), and the driver has not read it yet.
    Unread(u64),
    /// Nothing was posted: the step asks nothing now (why).
    NoQuestion(String),
    /// Nothing was posted: the run's own record says it would be refused.
    NotEligible(String),
}

/// The run's shared log folded: the ledger, the line of each step's last
/// question, the driver, and the next line to read.
struct Folded {
    ledger: crate::engine::ledger::RunLedger,
    asked: BTreeMap<String, u64>,
    driver: Option<crate::engine::participant::Participant>,
    next: u64,
}

async fn fold(
    store: &dyn TeamStore,
    run: &str,
) -> Result<(Folded, crate::runbook::Runbook), super::follow::FollowError> {
    use super::follow::{Follow, FollowError, TeamFollower};
    let mut follower = TeamFollower::open(store, run).await?;
    let header = follower.header().clone();
    let runbook = crate::runbook::read_recorded(&header.runbook_text)
        .runbook
        .ok_or_else(|| FollowError::Damaged {
            table: store.table().into(),
            run: run.into(),
            seq: 0,
            message: "the runbook in the header does not load".into(),
        })?;
    let mut folded = Folded {
        ledger: crate::engine::ledger::RunLedger::new(&runbook),
        asked: BTreeMap::new(),
        driver: None,
        next: 1,
    };
    loop {
        let events = follower.poll().await?;
        if events.is_empty() {
            break;
        }
        for event in events {
            folded.see(&event);
        }
    }
    Ok((folded, runbook))
}

impl Folded {
    fn see(&mut self, event: &crate::engine::event::RunEvent) {
        use crate::engine::event::EventKind;
        match &event.kind {
            EventKind::HumanAsked { step, .. } => {
                self.asked.insert(step.clone(), self.next);
            }
            EventKind::DriverChanged { driver, .. } => self.driver = Some(driver.clone()),
            _ => {}
        }
        self.ledger.apply(event);
        self.next += 1;
    }
}

/// `dr-drill answer`: finds `posting.step`'s open question on the shared
/// log, checks what the run's record can tell (the driver approving their
/// own step), posts the answer, and waits for the driver's log to say
/// whether the step took it.
pub async fn post(
    store: &dyn TeamStore,
    posting: &Posting,
) -> Result<Posted, super::follow::FollowError> {
    use crate::engine::event::{EventKind, Question};
    use crate::engine::ledger::StepStatus;
    let (folded, runbook) = fold(store, &posting.run).await?;
    let step = &posting.step;
    let Some(state) = folded.ledger.step(step) else {
        return Ok(Posted::NoQuestion(format!(
            "run {} has no step `{step}`",
            posting.run
        )));
    };
    if let Some(outcome) = folded.ledger.outcome() {
        return Ok(Posted::NoQuestion(format!(
            "run {} has ended ({}); nothing more is asked",
            posting.run,
            outcome.word()
        )));
    }
    let (Some(&asked), StepStatus::Asking) = (folded.asked.get(step), state.status) else {
        return Ok(Posted::NoQuestion(format!(
            "step `{step}` of run {} is not asking anything now",
            posting.run
        )));
    };
    // What the record can tell early (the driver decides all the same):
    // the driver approving their own step, and approvers all named by
    // identity. Roles are not in the shared log, so a role is never
    // judged here.
    if let (Some(Question::Approve { .. }), Some(i)) =
        (folded.ledger.question(step), folded.ledger.position(step))
        && let crate::runbook::StepAction::Approve(approve) = &runbook.steps[i].action
    {
        use crate::runbook::kinds::{Named, read_named};
        let people = RunPeople {
            driver: folded.driver.clone(),
            roles: Default::default(),
            team: true,
        };
        let by_identity = approve
            .approvers
            .iter()
            .all(|e| matches!(read_named(&e.value), Ok(Named::Person)));
        let what = runbook.steps[i].display_title().to_owned();
        if let Err(why) =
            crate::engine::approval::may_approve(approve, &what, &people, &posting.by, &[])
            && (people.is_driver(&posting.by) || by_identity)
        {
            return Ok(Posted::NotEligible(why));
        }
    }
    let number = store
        .post_answer(
            &posting.run,
            &TeamAnswer {
                step: step.clone(),
                asked,
                answer: posting.answer.clone(),
                note: posting.note.clone(),
                by: posting.by.clone(),
                at: jiff::Timestamp::now(),
            },
        )
        .await?;
    // The driver records the answer (`human_answered` with our ARN), then
    // a refusal as the step's next progress line.
    let deadline = tokio::time::Instant::now() + posting.wait;
    let mut follower = super::follow::TeamFollower::open(store, &posting.run).await?;
    let mut seq = 0u64;
    let mut ours = false;
    loop {
        use super::follow::Follow as _;
        for event in follower.poll().await? {
            seq += 1;
            if seq <= asked {
                continue;
            }
            match &event.kind {
                EventKind::HumanAnswered { step: s, who, .. }
                    if s == step && who.as_ref().is_some_and(|w| w.arn == posting.by.arn) =>
                {
                    ours = true;
                }
                EventKind::StepProgress { step: s, message } if ours && s == step => {
                    if message.starts_with("refused") {
                        return Ok(Posted::Refused(message.clone()));
                    }
                    return Ok(Posted::Accepted);
                }
                k if ours && k.step() == Some(step.as_str()) => return Ok(Posted::Accepted),
                _ => {}
            }
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(if ours {
                Posted::Accepted
            } else {
                Posted::Unread(number)
            });
        }
        tokio::time::sleep(posting.poll).await;
    }
}
