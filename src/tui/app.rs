//! The console's state and how it changes. Messages (keys, engine events,
//! questions, recovery point pages, ticks) go in through [`App::update`];
//! what the loop must do (start the run, list points, leave) comes out as
//! [`Effect`]s. Drawing reads this state and never changes it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseEvent, MouseEventKind};
use jiff::Timestamp;

use super::keymap::{Action, Context, Keymap};
use super::picker::Picker;
pub use super::run_view::{OUTPUT_LINES, RunView, StepRow, StepStatus, Tab};
use super::theme::Theme;
use crate::cloud::points::Listing;
use crate::cloud::{Identity, PointSource, RecoveryPoint};
use crate::engine::event::{Answer, Outcome, Question, RunEvent};
use crate::engine::human::{HumanReply, HumanRequest};
use crate::engine::plan::Plan;
use crate::engine::values::Values;
use crate::runbook::{Mode, Runbook};

/// Something that happened, for the console to take in.
#[derive(Debug)]
pub enum Msg {
    /// A key.
    Key(KeyEvent),
    /// A mouse event.
    Mouse(MouseEvent),
    /// The terminal was resized.
    Resize,
    /// An engine event.
    Engine(RunEvent),
    /// A step asks a person something.
    Question(HumanRequest),
    /// A page (or the end) of a recovery point listing of generation `u64`.
    Listing(u64, Listing),
    /// Time passed (clocks, auto-refresh).
    Tick,
    /// The run is over (or could not go on).
    RunEnded(Result<Outcome, String>),
    /// The drill report was written (its Markdown file), or why not.
    ReportWritten(Result<String, String>),
}

/// What the loop must do for the state.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Start the run with these values.
    StartRun {
        /// Parameter values.
        params: BTreeMap<String, String>,
        /// Drill or incident.
        mode: Mode,
        /// The declared outage start (incident).
        t0: Option<Timestamp>,
    },
    /// List recovery points of these sources as listing generation `u64`.
    ListPoints(u64, Vec<PointSource>),
    /// Cancel the running steps; the run stops.
    CancelRun,
    /// Leave the console.
    Quit,
}

/// A field of the start form.
#[derive(Debug, Clone)]
pub struct Field {
    /// Parameter name, or `mode` / `t0`.
    pub name: String,
    /// The text typed (or the choice).
    pub value: String,
    /// Shown as dots.
    pub secret: bool,
    /// Must not be empty.
    pub required: bool,
    /// Allowed values (cycled with left/right or space).
    pub choices: Vec<String>,
    /// Shown beside it.
    pub description: Option<String>,
}

/// The start screen: parameters, mode, T0.
#[derive(Debug, Clone)]
pub struct StartForm {
    /// Parameters, then mode, then T0.
    pub fields: Vec<Field>,
    /// The field being edited.
    pub focus: usize,
    /// Why the run could not start.
    pub error: Option<String>,
}

impl StartForm {
    fn new(runbook: &Runbook, given: &BTreeMap<String, String>, mode: Mode) -> Self {
        let mut fields: Vec<Field> = runbook
            .params
            .iter()
            .map(|p| Field {
                name: p.name.value.clone(),
                value: given
                    .get(&p.name.value)
                    .cloned()
                    .or_else(|| p.default.as_ref().map(|d| d.value.clone()))
                    .unwrap_or_default(),
                secret: p.secret,
                required: p.required,
                choices: p.choices.iter().map(|c| c.value.clone()).collect(),
                description: p.description.clone(),
            })
            .collect();
        fields.push(Field {
            name: "mode".into(),
            value: mode.as_str().into(),
            secret: false,
            required: true,
            choices: vec!["drill".into(), "incident".into()],
            description: Some("a planned drill (T0 is now) or a real incident".into()),
        });
        fields.push(Field {
            name: "t0".into(),
            value: String::new(),
            secret: false,
            required: false,
            choices: Vec::new(),
            description: Some(
                "incident only: the declared outage start, RFC 3339 (2026-11-22T03:10:00Z)".into(),
            ),
        });
        let focus = fields
            .iter()
            .position(|f| f.required && f.value.is_empty())
            .unwrap_or(0);
        Self {
            fields,
            focus,
            error: None,
        }
    }

    /// The chosen mode.
    pub fn mode(&self) -> Mode {
        match self.field("mode") {
            Some("incident") => Mode::Incident,
            _ => Mode::Drill,
        }
    }

    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .rev()
            .find(|f| f.name == name)
            .map(|f| f.value.as_str())
    }

    /// Whether field `i` is shown (T0 only in incident mode).
    pub fn visible(&self, i: usize) -> bool {
        self.fields[i].name != "t0" || i + 1 != self.fields.len() || self.mode() == Mode::Incident
    }

    fn move_focus(&mut self, forward: bool) {
        let n = self.fields.len();
        for _ in 0..n {
            self.focus = if forward {
                (self.focus + 1) % n
            } else {
                (self.focus + n - 1) % n
            };
            if self.visible(self.focus) {
                break;
            }
        }
    }

    fn edit(&mut self, key: &KeyEvent) {
        let field = &mut self.fields[self.focus];
        if !field.choices.is_empty() {
            let i = field
                .choices
                .iter()
                .position(|c| *c == field.value)
                .unwrap_or(0);
            let n = field.choices.len();
            let next = match key.code {
                KeyCode::Right | KeyCode::Char(' ') => Some((i + 1) % n),
                KeyCode::Left => Some((i + n - 1) % n),
                _ => None,
            };
            if let Some(next) = next {
                field.value = field.choices[next].clone();
            }
            return;
        }
        edit_text(&mut field.value, key);
    }

    /// The values to start with, or what is wrong.
    fn submit(&self) -> Result<Effect, String> {
        let mut params = BTreeMap::new();
        let n = self.fields.len() - 2;
        for f in &self.fields[..n] {
            if f.required && f.value.trim().is_empty() {
                return Err(format!("`{}` is required", f.name));
            }
            if !f.value.is_empty() {
                params.insert(f.name.clone(), f.value.clone());
            }
        }
        let mode = self.mode();
        let t0 = match (mode, self.field("t0").unwrap_or_default().trim()) {
            (Mode::Incident, "") => {
                return Err(
                    "an incident needs T0, the declared outage start (e.g. 2026-11-22T03:10:00Z)"
                        .into(),
                );
            }
            (Mode::Incident, text) => Some(
                text.parse::<Timestamp>()
                    .map_err(|e| format!("T0 `{text}` is not an RFC 3339 time: {e}"))?,
            ),
            (Mode::Drill, _) => None,
        };
        Ok(Effect::StartRun { params, mode, t0 })
    }
}

/// Whether `key` types a character (so it is text where text is typed).
fn is_text(key: &KeyEvent) -> bool {
    matches!(key.code, KeyCode::Char(_))
        && !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
}

/// Applies a key to a line of text being typed.
pub fn edit_text(text: &mut String, key: &KeyEvent) {
    match key.code {
        KeyCode::Char(c)
            if !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            text.push(c)
        }
        KeyCode::Backspace => {
            text.pop();
        }
        KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => text.clear(),
        _ => {}
    }
}

/// Which screen.
#[derive(Debug, Clone)]
pub enum Screen {
    /// Parameters and mode, before anything runs.
    Start(StartForm),
    /// The run.
    Run(Box<RunView>),
}

/// The choices of a failed or interrupted step.
pub const FAILURE_CHOICES: [(&str, Answer); 3] = [
    ("retry", Answer::Retry),
    ("skip", Answer::Skip),
    ("abort", Answer::Abort),
];
/// The choices of a step interrupted by a crash.
pub const INTERRUPTED_CHOICES: [(&str, Answer); 3] = [
    ("rerun", Answer::Rerun),
    ("mark done", Answer::MarkDone),
    ("abort", Answer::Abort),
];

/// A question on screen, and what has been typed or chosen so far.
#[derive(Debug)]
pub struct Prompt {
    /// The question, with its reply channel.
    pub request: HumanRequest,
    /// Text typed: the confirmation, the answer, or a note.
    pub input: String,
    /// The selected choice, where there are choices.
    pub choice: usize,
    /// Why Enter did nothing.
    pub error: Option<String>,
    /// The recovery point picker, for a pick question.
    pub picker: Option<Picker>,
    /// The point chosen in the picker, waiting for its confirmation.
    pub chosen: Option<RecoveryPoint>,
}

/// The console.
pub struct App {
    /// The runbook.
    pub runbook: Arc<Runbook>,
    /// Who and where AWS actions go.
    pub identity: Identity,
    /// Key bindings.
    pub keymap: Keymap,
    /// Colours.
    pub theme: Theme,
    /// The screen.
    pub screen: Screen,
    /// Questions waiting, oldest first; the first is on screen when open.
    pub prompts: VecDeque<Prompt>,
    /// Whether the first prompt is shown (Esc hides it; the step waits).
    pub prompt_open: bool,
    /// The "leave?" dialog is open.
    pub quitting: bool,
    /// The help overlay is open.
    pub help: bool,
    /// A short message at the bottom (and until when).
    pub toast: Option<(String, Timestamp)>,
    /// When Ctrl-C was pressed once (a second press within 3 s aborts).
    pub interrupt_armed: Option<Timestamp>,
    /// The wall clock at the last tick.
    pub now: Timestamp,
    /// Where the log file is.
    pub log_path: Option<String>,
    /// Where the config file is read from.
    pub config_path: Option<String>,
    /// The drill report written at the run's end (its path), or why not.
    pub report: Option<Result<String, String>>,
    /// The listing generation a picker waits for.
    listing: u64,
    /// The plan for the mode chosen.
    plan_for: Option<Mode>,
}

impl App {
    /// A console on the start screen.
    pub fn new(
        runbook: Arc<Runbook>,
        identity: Identity,
        given: &BTreeMap<String, String>,
        mode: Mode,
    ) -> Self {
        let form = StartForm::new(&runbook, given, mode);
        Self {
            runbook,
            identity,
            keymap: Keymap::default(),
            theme: Theme::default(),
            screen: Screen::Start(form),
            prompts: VecDeque::new(),
            prompt_open: false,
            quitting: false,
            help: false,
            toast: None,
            interrupt_armed: None,
            now: Timestamp::now(),
            log_path: None,
            config_path: None,
            report: None,
            listing: 0,
            plan_for: None,
        }
    }

    /// The run screen for `plan`, once the run starts.
    pub fn started(
        &mut self,
        plan: &Plan,
        mode: Mode,
        t0: Option<Timestamp>,
        journal: Option<String>,
        values: Values,
    ) {
        let mut view = RunView::new(&self.runbook, plan, mode, t0);
        view.journal = journal;
        view.values = Values {
            params: crate::engine::redacted(&self.runbook, &values.params),
            ..values
        };
        self.screen = Screen::Run(Box::new(view));
        self.plan_for = Some(mode);
    }

    /// Shows why the run could not start, on the start screen.
    pub fn start_failed(&mut self, error: String) {
        if let Screen::Start(form) = &mut self.screen {
            form.error = Some(error);
        }
    }

    /// The context keys are looked up in.
    pub fn context(&self) -> Context {
        if self.quitting || (self.prompt_open && !self.prompts.is_empty()) {
            if self
                .prompts
                .front()
                .is_some_and(|p| p.picker.is_some() && p.chosen.is_none())
                && !self.quitting
            {
                return Context::Picker;
            }
            return Context::Dialog;
        }
        match self.screen {
            Screen::Start(_) => Context::Start,
            Screen::Run(_) => Context::Run,
        }
    }

    fn toast(&mut self, message: impl Into<String>) {
        self.toast = Some((
            message.into(),
            self.now + jiff::SignedDuration::from_secs(5),
        ));
    }

    /// Takes in a message; returns what the loop must do.
    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(key) => self.on_key(key),
            Msg::Mouse(mouse) => {
                self.on_mouse(mouse);
                Vec::new()
            }
            Msg::Resize => Vec::new(),
            Msg::Engine(event) => {
                if let Screen::Run(view) = &mut self.screen {
                    view.apply(&event);
                }
                Vec::new()
            }
            Msg::Question(request) => self.on_question(request),
            Msg::Listing(generation, listing) => {
                if generation == self.listing
                    && let Some(picker) = self.prompts.front_mut().and_then(|p| p.picker.as_mut())
                {
                    picker.take(listing);
                }
                Vec::new()
            }
            Msg::Tick => self.on_tick(),
            Msg::ReportWritten(report) => {
                self.report = Some(report);
                Vec::new()
            }
            Msg::RunEnded(result) => {
                let report = match &self.report {
                    Some(Ok(path)) => format!("; report: {path}"),
                    Some(Err(_)) => "; the report was NOT written (see it on leaving)".into(),
                    None => String::new(),
                };
                match result {
                    Ok(outcome) => self.toast(format!(
                        "the run {}{report}; press q to leave",
                        match outcome {
                            Outcome::Succeeded => "succeeded",
                            Outcome::Failed => "FAILED",
                            _ => "stopped",
                        }
                    )),
                    Err(e) => self.toast(format!("the run stopped: {e}")),
                }
                // Questions of a finished run have no one to answer.
                self.prompts.clear();
                Vec::new()
            }
        }
    }

    fn on_tick(&mut self) -> Vec<Effect> {
        self.now = Timestamp::now();
        if self
            .toast
            .as_ref()
            .is_some_and(|(_, until)| *until <= self.now)
        {
            self.toast = None;
        }
        let mut effects = Vec::new();
        if let Some(picker) = self.prompts.front_mut().and_then(|p| p.picker.as_mut())
            && picker.auto_refresh_due(self.now)
        {
            self.listing += 1;
            picker.reload(self.now);
            effects.push(Effect::ListPoints(self.listing, picker.sources.clone()));
        }
        effects
    }

    fn on_question(&mut self, request: HumanRequest) -> Vec<Effect> {
        let mut effects = Vec::new();
        let picker = match &request.question {
            Question::PickRecoveryPoint { sources, .. } => {
                let t0 = match &self.screen {
                    Screen::Run(v) => v.t0,
                    Screen::Start(_) => None,
                };
                if self.prompts.is_empty() {
                    self.listing += 1;
                    effects.push(Effect::ListPoints(self.listing, sources.clone()));
                }
                Some(Picker::new(
                    sources.clone(),
                    t0.unwrap_or(self.now),
                    self.now,
                ))
            }
            _ => None,
        };
        let input = match &request.question {
            Question::Acknowledge { choices, .. } if !choices.is_empty() => choices[0].clone(),
            _ => String::new(),
        };
        // The step that asks comes into view.
        if let Screen::Run(view) = &mut self.screen
            && let Some(i) = view.steps.iter().position(|s| s.id == request.step)
        {
            view.selected = i;
            view.scroll = 0;
        }
        self.prompts.push_back(Prompt {
            request,
            input,
            choice: 0,
            error: None,
            picker,
            chosen: None,
        });
        self.prompt_open = true;
        effects
    }

    fn reply(&mut self, answer: Answer, note: Option<String>) -> Vec<Effect> {
        let Some(prompt) = self.prompts.pop_front() else {
            return Vec::new();
        };
        let by = crate::engine::operator();
        let _ = prompt.request.reply.send(HumanReply {
            answer,
            by,
            note: note.filter(|n| !n.trim().is_empty()),
        });
        // The next question, if any, opens; a picker starts listing.
        let mut effects = Vec::new();
        if let Some(next) = self.prompts.front()
            && let Some(picker) = &next.picker
        {
            self.listing += 1;
            effects.push(Effect::ListPoints(self.listing, picker.sources.clone()));
        }
        self.prompt_open = !self.prompts.is_empty();
        effects
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let context = self.context();
        let action = self.keymap.action(context, &key);
        if action == Some(Action::Interrupt) {
            return self.interrupt();
        }
        if self.help {
            if matches!(action, Some(Action::Help | Action::Back))
                || matches!(key.code, KeyCode::Esc | KeyCode::Char('q'))
            {
                self.help = false;
            }
            return Vec::new();
        }
        // Where keys are text, a character (`?`) is typed; a key that
        // cannot be text (F1) still opens the help.
        if action == Some(Action::Help) && (!self.typing(context) || !is_text(&key)) {
            self.help = true;
            return Vec::new();
        }
        if self.quitting {
            return match action {
                Some(Action::Enter) => self.leave(),
                Some(Action::Back) => {
                    self.quitting = false;
                    Vec::new()
                }
                _ => Vec::new(),
            };
        }
        match context {
            Context::Dialog => self.dialog_key(key, action),
            Context::Picker => self.picker_key(key, action),
            Context::Start => self.start_key(key, action),
            Context::Run | Context::Global => self.run_key(key, action),
        }
    }

    /// Whether keys go to a text input (so `?` is text, not help).
    fn typing(&self, context: Context) -> bool {
        match context {
            Context::Start | Context::Dialog => true,
            Context::Picker => self
                .prompts
                .front()
                .and_then(|p| p.picker.as_ref())
                .is_some_and(|p| p.filtering),
            Context::Run => {
                matches!(&self.screen, Screen::Run(v) if matches!(v.search, Some((_, true))))
            }
            Context::Global => false,
        }
    }

    fn interrupt(&mut self) -> Vec<Effect> {
        let running = matches!(&self.screen, Screen::Run(v) if v.outcome.is_none());
        if !running {
            return self.leave();
        }
        let now = self.now;
        match self.interrupt_armed {
            Some(at) if now.duration_since(at) <= jiff::SignedDuration::from_secs(3) => {
                self.interrupt_armed = None;
                self.toast("aborting: running steps are being cancelled");
                vec![Effect::CancelRun]
            }
            _ => {
                self.interrupt_armed = Some(now);
                self.toast(
                    "press Ctrl-C again within 3 s to abort the run (running steps are cancelled)",
                );
                Vec::new()
            }
        }
    }

    fn leave(&mut self) -> Vec<Effect> {
        let running = matches!(&self.screen, Screen::Run(v) if v.outcome.is_none());
        if running {
            vec![Effect::CancelRun, Effect::Quit]
        } else {
            vec![Effect::Quit]
        }
    }

    fn start_key(&mut self, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
        let Screen::Start(form) = &mut self.screen else {
            return Vec::new();
        };
        match action {
            Some(Action::Next) => form.move_focus(true),
            Some(Action::Previous) => form.move_focus(false),
            Some(Action::ToggleMode) => {
                if let Some(f) = form.fields.iter_mut().find(|f| f.name == "mode") {
                    f.value = if f.value == "drill" {
                        "incident"
                    } else {
                        "drill"
                    }
                    .into();
                }
            }
            Some(Action::Quit) => self.quitting = true,
            Some(Action::StartRun) => return self.submit_start(),
            _ if key.code == KeyCode::Enter => {
                let last = form.fields.len() - 1;
                if form.focus == last || (form.focus == last - 1 && form.mode() == Mode::Drill) {
                    return self.submit_start();
                }
                form.move_focus(true);
            }
            _ => form.edit(&key),
        }
        Vec::new()
    }

    fn submit_start(&mut self) -> Vec<Effect> {
        let Screen::Start(form) = &mut self.screen else {
            return Vec::new();
        };
        match form.submit() {
            Ok(effect) => {
                form.error = None;
                vec![effect]
            }
            Err(e) => {
                form.error = Some(e);
                Vec::new()
            }
        }
    }

    fn run_key(&mut self, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
        let Screen::Run(view) = &mut self.screen else {
            return Vec::new();
        };
        if let Some((text, typing @ true)) = &mut view.search {
            match key.code {
                KeyCode::Enter => *typing = false,
                KeyCode::Esc => view.search = None,
                _ => edit_text(text, &key),
            }
            return Vec::new();
        }
        let last = view.steps.len().saturating_sub(1);
        match action {
            Some(Action::Quit) => self.quitting = true,
            Some(Action::Up) => {
                view.selected = view.selected.saturating_sub(1);
                view.scroll = 0;
            }
            Some(Action::Down) => {
                view.selected = (view.selected + 1).min(last);
                view.scroll = 0;
            }
            Some(Action::Top) => view.selected = 0,
            Some(Action::Bottom) => view.selected = last,
            Some(Action::SwitchTab) => {
                view.tab = match view.tab {
                    Tab::Steps => Tab::Timeline,
                    Tab::Timeline => Tab::Steps,
                }
            }
            Some(Action::ScrollUp) => view.scroll = view.scroll.saturating_add(10),
            Some(Action::ScrollDown) => view.scroll = view.scroll.saturating_sub(10),
            Some(Action::Search) => view.search = Some((String::new(), true)),
            Some(Action::Back) => view.search = None,
            // Reopen a question that was put aside with Esc.
            _ if key.code == KeyCode::Enter && !self.prompts.is_empty() => {
                self.prompt_open = true;
            }
            _ => {}
        }
        Vec::new()
    }

    fn dialog_key(&mut self, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
        let Some(prompt) = self.prompts.front_mut() else {
            return Vec::new();
        };
        if action == Some(Action::Back) {
            if prompt.chosen.take().is_none() {
                // Put aside: the step keeps waiting; Enter on the run
                // screen brings it back.
                let step = prompt.request.step.clone();
                self.prompt_open = false;
                self.toast(format!(
                    "`{step}` still waits for you; press Enter to answer"
                ));
            }
            return Vec::new();
        }
        let n_choices = match &prompt.request.question {
            Question::Failure { .. } => FAILURE_CHOICES.len(),
            Question::Interrupted => INTERRUPTED_CHOICES.len(),
            Question::Approve { .. } => 2,
            Question::Acknowledge { choices, .. } => choices.len(),
            _ => 0,
        };
        match action {
            Some(Action::Next) if n_choices > 0 => {
                prompt.choice = (prompt.choice + 1) % n_choices;
                if let Question::Acknowledge { choices, .. } = &prompt.request.question {
                    prompt.input = choices[prompt.choice].clone();
                }
                return Vec::new();
            }
            Some(Action::Previous) if n_choices > 0 => {
                prompt.choice = (prompt.choice + n_choices - 1) % n_choices;
                if let Question::Acknowledge { choices, .. } = &prompt.request.question {
                    prompt.input = choices[prompt.choice].clone();
                }
                return Vec::new();
            }
            Some(Action::Enter) => return self.answer(),
            _ => {}
        }
        let choices_only = matches!(&prompt.request.question, Question::Acknowledge { choices, .. } if !choices.is_empty());
        if !choices_only && prompt.chosen.is_none() {
            edit_text(&mut prompt.input, &key);
            prompt.error = None;
        }
        Vec::new()
    }

    /// Enter in a dialog: answers, or says why not.
    fn answer(&mut self) -> Vec<Effect> {
        let Some(prompt) = self.prompts.front_mut() else {
            return Vec::new();
        };
        let note = Some(prompt.input.clone());
        let (answer, note) = match &prompt.request.question {
            Question::Confirm { text, .. } => {
                // Empty or wrong text does nothing: no single key confirms.
                if prompt.input != *text {
                    prompt.error = Some(if prompt.input.is_empty() {
                        format!("type `{text}` to confirm, or Esc to leave the step waiting")
                    } else {
                        format!("`{}` is not `{text}`", prompt.input)
                    });
                    return Vec::new();
                }
                (
                    Answer::Confirmed {
                        typed: prompt.input.clone(),
                    },
                    None,
                )
            }
            Question::Acknowledge { question, .. } => {
                if question.is_some() && prompt.input.trim().is_empty() {
                    prompt.error = Some("type an answer first".into());
                    return Vec::new();
                }
                (
                    Answer::Acknowledged {
                        answer: question.as_ref().map(|_| prompt.input.trim().to_owned()),
                    },
                    None,
                )
            }
            Question::Approve { .. } => (
                if prompt.choice == 0 {
                    Answer::Approved
                } else {
                    Answer::Declined
                },
                note,
            ),
            Question::Failure { .. } => (FAILURE_CHOICES[prompt.choice].1.clone(), note),
            Question::Interrupted => (INTERRUPTED_CHOICES[prompt.choice].1.clone(), note),
            Question::PickRecoveryPoint { .. } => match prompt.chosen.take() {
                Some(point) => (Answer::Picked { point: point.id }, None),
                None => return Vec::new(),
            },
        };
        self.reply(answer, note)
    }

    fn picker_key(&mut self, key: KeyEvent, action: Option<Action>) -> Vec<Effect> {
        let now = self.now;
        let Some(prompt) = self.prompts.front_mut() else {
            return Vec::new();
        };
        let Some(picker) = prompt.picker.as_mut() else {
            return Vec::new();
        };
        if picker.filtering {
            match key.code {
                KeyCode::Enter | KeyCode::Esc => picker.filtering = false,
                _ => {
                    let mut text = picker.filter.clone();
                    edit_text(&mut text, &key);
                    picker.set_filter(text);
                }
            }
            return Vec::new();
        }
        match action {
            Some(Action::Up) => picker.move_by(-1),
            Some(Action::Down) => picker.move_by(1),
            Some(Action::PageUp) => picker.move_by(-20),
            Some(Action::PageDown) => picker.move_by(20),
            Some(Action::Top) => picker.move_by(isize::MIN / 2),
            Some(Action::Bottom) => picker.move_by(isize::MAX / 2),
            Some(Action::Search) => picker.filtering = true,
            Some(Action::Sort) => picker.next_sort(),
            Some(Action::Reverse) => picker.reverse(),
            Some(Action::AutoRefresh) => picker.auto_refresh = !picker.auto_refresh,
            Some(Action::Refresh) => {
                self.listing += 1;
                picker.reload(now);
                return vec![Effect::ListPoints(self.listing, picker.sources.clone())];
            }
            Some(Action::Enter) => {
                if let Some(point) = picker.current().cloned() {
                    if point.is_restorable() {
                        prompt.chosen = Some(point);
                    } else {
                        prompt.error = Some(format!(
                            "{} cannot be restored now (status {}{})",
                            point.id,
                            point.status,
                            if point.archive.is_some() {
                                ", archived"
                            } else {
                                ""
                            }
                        ));
                    }
                }
            }
            Some(Action::Back) => {
                self.prompt_open = false;
            }
            _ => {}
        }
        Vec::new()
    }

    fn on_mouse(&mut self, mouse: MouseEvent) {
        let down = match mouse.kind {
            MouseEventKind::ScrollDown => true,
            MouseEventKind::ScrollUp => false,
            _ => return,
        };
        if let Some(picker) = self.prompts.front_mut().and_then(|p| p.picker.as_mut())
            && self.prompt_open
        {
            picker.move_by(if down { 3 } else { -3 });
        } else if let Screen::Run(view) = &mut self.screen {
            view.scroll = if down {
                view.scroll.saturating_sub(3)
            } else {
                view.scroll.saturating_add(3)
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app() -> App {
        let text = r#"
[runbook]
format = 1
id = "t"
title = "T"

[params]
name = { default = "x" }

[[step]]
id = "s"
kind = "manual"
instructions = "do it"
"#;
        let runbook = crate::runbook::check_str(text).runbook.unwrap();
        App::new(
            Arc::new(runbook),
            Identity::default(),
            &BTreeMap::new(),
            Mode::Drill,
        )
    }

    fn press(app: &mut App, code: KeyCode) {
        app.update(Msg::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    #[test]
    fn on_the_start_form_question_mark_is_text_and_f1_opens_the_help() {
        let mut app = app();
        press(&mut app, KeyCode::Char('?'));
        assert!(!app.help);
        let Screen::Start(form) = &app.screen else {
            panic!("not on the start screen")
        };
        assert_eq!(form.fields[0].value, "x?");
        press(&mut app, KeyCode::F(1));
        assert!(app.help);
        press(&mut app, KeyCode::Esc);
        assert!(!app.help);
    }
}
