//! The console's state and how it changes. Messages (keys, engine events,
//! questions, recovery point pages, ticks) go in through [`App::update`];
//! what the loop must do (start the run, list points, leave) comes out as
//! [`Command`]s. Keys go to the top layer only ([`App::layer`]); each
//! screen and dialog handles its own in its module (`start`, `run_screen`,
//! `prompt`, `picker`, `quit`, `help`), and this module acts on what they
//! ask. Drawing reads this state and never changes it.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use crossterm::event::{KeyEvent, MouseEvent, MouseEventKind};
use jiff::Timestamp;

use super::keymap::{Action, KeyScope, Keymap, Keypress};
pub use super::layer::{Layer, Overlay, Overlays};
use super::picker::PickerRequest;
pub use super::prompt::{FAILURE_CHOICES, INTERRUPTED_CHOICES, Prompt, PromptRequest};
use super::run_screen::RunRequest;
pub use super::run_view::{OUTPUT_LINES, RunView, StepRow, StepStatus, Tab};
pub use super::start::{Field, FormRequest, StartForm};
use super::start_despite::{StartDespite, StartDespiteChoice};
use super::theme::Theme;
use super::{help, quit};
use crate::cloud::points::Listing;
use crate::cloud::{Identity, PointSource};
use crate::engine::event::{Answer, Outcome, RunEvent};
use crate::engine::human::{HumanReply, HumanRequest};
use crate::engine::plan::Plan;
use crate::engine::values::Values;
use crate::format::SimulatedTime;
use crate::preflight::{Finding, Preflight};
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
    /// A finding of preflight `u64`.
    Preflight(u64, Finding),
    /// Preflight `u64` finished, or why it could not run.
    PreflightDone(u64, Result<Box<Preflight>, String>),
}

/// What the loop must do for the state.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Start the run with these values.
    StartRun {
        /// Parameter values.
        params: BTreeMap<String, String>,
        /// Drill or incident.
        mode: Mode,
        /// The declared outage start (incident).
        t0: Option<Timestamp>,
        /// Who holds each role (the form's roles field).
        roles: crate::engine::participant::Roles,
    },
    /// List recovery points of these sources as listing generation `u64`;
    /// the listing before it, if still going, is cancelled.
    ListPoints(u64, Vec<PointSource>),
    /// Cancel the recovery point listing still going: its question was
    /// answered.
    StopListing,
    /// Cancel the running steps; the run stops.
    CancelRun,
    /// Leave the console.
    Quit,
    /// Run preflight `generation` on these values (the one before it, if
    /// still going, is dropped).
    Preflight {
        /// Which preflight: findings of an earlier one are dropped.
        generation: u64,
        /// Parameter values.
        params: BTreeMap<String, String>,
        /// Drill or incident.
        mode: Mode,
    },
}

/// Which screen.
#[derive(Debug, Clone)]
pub enum Screen {
    /// Parameters and mode, before anything runs.
    Start(StartForm),
    /// The run.
    Run(Box<RunView>),
}

/// The console.
pub struct App {
    /// The runbook.
    pub runbook: Arc<Runbook>,
    /// Who and where AWS actions go.
    pub identity: Identity,
    /// For a simulated world, how its time reads beside real time (the
    /// header's RTO is judged in world time).
    pub simulated_time: Option<SimulatedTime>,
    /// Key bindings.
    pub keymap: Keymap,
    /// Colours.
    pub theme: Theme,
    /// The screen, under every overlay.
    pub screen: Screen,
    /// Questions waiting, oldest first; the first is on screen while the
    /// [`Overlay::Question`] is open.
    pub prompts: VecDeque<Prompt>,
    /// The overlays open over the screen.
    pub overlays: Overlays,
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
    /// The first line of the help overlay shown (it scrolls).
    pub help_scroll: u16,
    /// AWS prices for the header's cost so far (none: no cost shown).
    pub prices: Option<crate::cost::prices::Prices>,
    /// The preflight's cost estimate, shown beside the cost so far.
    pub cost_estimate: Option<crate::cost::prices::Money>,
    /// "Start despite failed checks?", while open.
    pub start_despite: Option<StartDespite>,
    /// The run was started despite failed preflight checks (the journal
    /// records it as a forced preflight).
    pub start_forced: bool,
    /// The listing generation a picker waits for.
    pub(super) listing: u64,
    /// The plan for the mode chosen.
    plan_for: Option<Mode>,
    /// Watching a run another process drives (`dr-drill watch`):
    /// read-only.
    pub watch: Option<super::watch::Watch>,
}

impl App {
    /// A console on the start screen.
    /// The start form with its roles field, filled with `roles`
    /// (`--role`), when the runbook names roles or roles were given.
    pub fn with_roles(mut self, roles: &crate::engine::participant::Roles) -> Self {
        if let Screen::Start(form) = &mut self.screen {
            form.with_roles(&self.runbook, roles);
        }
        self
    }

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
            simulated_time: None,
            keymap: Keymap::default(),
            theme: Theme::default(),
            screen: Screen::Start(form),
            prompts: VecDeque::new(),
            overlays: Overlays::default(),
            toast: None,
            interrupt_armed: None,
            now: Timestamp::now(),
            log_path: None,
            config_path: None,
            report: None,
            help_scroll: 0,
            prices: None,
            cost_estimate: None,
            start_despite: None,
            start_forced: false,
            listing: 0,
            plan_for: None,
            watch: None,
        }
    }

    /// What the console does as it opens: on the start screen, preflight
    /// of the form's values (the panel fills in as it goes).
    pub fn open(&mut self) -> Vec<Command> {
        match &mut self.screen {
            Screen::Start(form) => vec![form.ask_preflight()],
            Screen::Run(_) => Vec::new(),
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

    /// Whether the first question is on screen (not put aside).
    pub fn prompt_open(&self) -> bool {
        self.overlays.is_open(Overlay::Question) && !self.prompts.is_empty()
    }

    /// The layers on screen, the screen first and the top one last.
    pub fn layers(&self) -> Vec<Layer> {
        let mut layers = vec![match self.screen {
            Screen::Start(_) => Layer::Start,
            Screen::Run(_) => Layer::Run,
        }];
        for overlay in self.overlays.iter() {
            layers.push(match overlay {
                Overlay::Question => match self.prompts.front() {
                    Some(p) if p.picking().is_some() => Layer::Picker,
                    Some(_) => Layer::Question,
                    None => continue,
                },
                Overlay::StartDespite if self.start_despite.is_some() => Layer::StartDespite,
                Overlay::StartDespite => continue,
                Overlay::Quit => Layer::Quit,
                Overlay::Help => Layer::Help,
            });
        }
        layers
    }

    /// The layer that reads keys: the top one.
    pub fn layer(&self) -> Layer {
        self.layers().last().copied().unwrap_or(Layer::Start)
    }

    /// Where `layer` reads keys.
    fn scope(&self, layer: Layer) -> KeyScope {
        match (layer, &self.screen, self.prompts.front()) {
            (Layer::Start, Screen::Start(form), _) => form.scope(),
            (Layer::Run, Screen::Run(view), _) => view.scope(),
            (Layer::Picker, _, Some(prompt)) => match prompt.picking() {
                Some(picker) => picker.scope(),
                None => prompt.scope(),
            },
            (Layer::Question, _, Some(prompt)) => prompt.scope(),
            (Layer::Help, ..) => help::scope(),
            (Layer::StartDespite, ..) => StartDespite::scope(),
            _ => quit::scope(),
        }
    }

    pub(super) fn toast(&mut self, message: impl Into<String>) {
        self.toast = Some((
            message.into(),
            self.now + jiff::SignedDuration::from_secs(5),
        ));
    }

    /// Takes in a message; returns what the loop must do.
    pub fn update(&mut self, msg: Msg) -> Vec<Command> {
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
            Msg::Preflight(generation, finding) => {
                if let Screen::Start(form) = &mut self.screen {
                    form.preflight.take(generation, finding);
                }
                Vec::new()
            }
            Msg::PreflightDone(generation, result) => {
                if let Screen::Start(form) = &mut self.screen {
                    form.preflight.finish(generation, result);
                }
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
                // Questions of a finished run have no one to answer, nor
                // their points anyone to list them for.
                let listing = self.prompts.iter().any(|p| p.picker.is_some());
                self.prompts.clear();
                self.overlays.close(Overlay::Question);
                if listing {
                    vec![Command::StopListing]
                } else {
                    Vec::new()
                }
            }
        }
    }

    fn on_tick(&mut self) -> Vec<Command> {
        self.now = Timestamp::now();
        if self
            .toast
            .as_ref()
            .is_some_and(|(_, until)| *until <= self.now)
        {
            self.toast = None;
        }
        let mut commands = self.drop_answered_elsewhere();
        if let Some(picker) = self.prompts.front_mut().and_then(|p| p.picker.as_mut())
            && picker.auto_refresh_due(self.now)
        {
            self.listing += 1;
            picker.reload(self.now);
            commands.push(Command::ListPoints(self.listing, picker.sources.clone()));
        }
        commands
    }

    fn on_question(&mut self, request: HumanRequest) -> Vec<Command> {
        let t0 = match &self.screen {
            Screen::Run(v) => v.t0,
            Screen::Start(_) => None,
        };
        let prompt = Prompt::new(request, t0.unwrap_or(self.now), self.now);
        let mut commands = Vec::new();
        // Only the first question's picker lists; a later one lists when
        // its turn comes.
        if let Some(picker) = &prompt.picker
            && self.prompts.is_empty()
        {
            self.listing += 1;
            commands.push(Command::ListPoints(self.listing, picker.sources.clone()));
        }
        self.prompts.push_back(prompt);
        self.overlays.open(Overlay::Question);
        self.follow_question();
        commands
    }

    fn reply(&mut self, answer: Answer, note: Option<String>) -> Vec<Command> {
        let Some(prompt) = self.prompts.pop_front() else {
            return Vec::new();
        };
        let by = crate::engine::operator();
        let _ = prompt.request.reply.send(HumanReply {
            answer,
            by,
            note: note.filter(|n| !n.trim().is_empty()),
            who: None,
        });
        self.next_question(prompt.picker.is_some())
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Command> {
        let layer = self.layer();
        let Some(press) = self.keymap.read(&self.scope(layer), &key) else {
            return Vec::new();
        };
        if let Some(commands) = super::watch::key(self, layer, press) {
            return commands;
        }
        // Two actions are the console's in every layer.
        match press {
            Keypress::Act(Action::Interrupt) => return self.interrupt(),
            Keypress::Act(Action::Help) => {
                if self.overlays.is_open(Overlay::Help) {
                    self.overlays.close(Overlay::Help);
                } else {
                    self.overlays.open(Overlay::Help);
                }
                return Vec::new();
            }
            _ => {}
        }
        match layer {
            Layer::Start => {
                let Screen::Start(form) = &mut self.screen else {
                    return Vec::new();
                };
                match form.handle(press) {
                    Some(FormRequest::Leave) => self.overlays.open(Overlay::Quit),
                    Some(FormRequest::Start) => return self.submit_start(),
                    Some(FormRequest::Preflight) => return vec![form.ask_preflight()],
                    None => {}
                }
            }
            Layer::Run => {
                let Screen::Run(view) = &mut self.screen else {
                    return Vec::new();
                };
                match view.handle(press) {
                    Some(RunRequest::Leave) => self.overlays.open(Overlay::Quit),
                    // Reopen a question that was put aside with Esc.
                    Some(RunRequest::Reopen) if !self.prompts.is_empty() => {
                        self.overlays.open(Overlay::Question);
                        self.follow_question();
                    }
                    _ => {}
                }
            }
            Layer::Question => {
                let Some(prompt) = self.prompts.front_mut() else {
                    return Vec::new();
                };
                match prompt.handle(press) {
                    Some(PromptRequest::PutAside) => {
                        // The step keeps waiting; Enter on the run screen
                        // brings it back.
                        let step = prompt.request.step.clone();
                        self.overlays.close(Overlay::Question);
                        self.toast(format!(
                            "`{step}` still waits for you; press Enter to answer"
                        ));
                    }
                    Some(PromptRequest::Answer(answer, note)) => return self.reply(answer, note),
                    None => {}
                }
            }
            Layer::Picker => return self.picker_key(press),
            Layer::StartDespite => {
                let Some(dialog) = &mut self.start_despite else {
                    return Vec::new();
                };
                match dialog.handle(press) {
                    Some(StartDespiteChoice::Start(command)) => {
                        let names = dialog
                            .failures
                            .iter()
                            .map(|f| crate::tui::preflight::clean(&f.subject))
                            .collect::<Vec<_>>()
                            .join("; ");
                        tracing::warn!(failures = %names, "run started despite failed preflight checks");
                        self.start_despite = None;
                        self.start_forced = true;
                        self.overlays.close(Overlay::StartDespite);
                        return vec![command];
                    }
                    Some(StartDespiteChoice::Back) => {
                        self.start_despite = None;
                        self.overlays.close(Overlay::StartDespite);
                    }
                    None => {}
                }
            }
            Layer::Quit => match quit::handle(press) {
                Some(quit::QuitChoice::Leave) => return self.leave(),
                Some(quit::QuitChoice::Stay) => self.overlays.close(Overlay::Quit),
                None => {}
            },
            Layer::Help => {
                let mut scroll = self.help_scroll;
                if help::handle(press, self, &mut scroll) {
                    self.overlays.close(Overlay::Help);
                }
                self.help_scroll = scroll;
            }
        }
        Vec::new()
    }

    fn picker_key(&mut self, press: Keypress) -> Vec<Command> {
        let now = self.now;
        let Some(prompt) = self.prompts.front_mut() else {
            return Vec::new();
        };
        let Some(picker) = prompt.picking_mut() else {
            return Vec::new();
        };
        match picker.handle(press) {
            Some(PickerRequest::Reload) => {
                self.listing += 1;
                picker.reload(now);
                return vec![Command::ListPoints(self.listing, picker.sources.clone())];
            }
            Some(PickerRequest::Pick(point)) => prompt.pick(*point),
            Some(PickerRequest::Close) => self.overlays.close(Overlay::Question),
            None => {}
        }
        Vec::new()
    }

    fn interrupt(&mut self) -> Vec<Command> {
        let running = matches!(&self.screen, Screen::Run(v) if v.outcome.is_none());
        if !running {
            return self.leave();
        }
        let now = self.now;
        match self.interrupt_armed {
            Some(at) if now.duration_since(at) <= jiff::SignedDuration::from_secs(3) => {
                self.interrupt_armed = None;
                self.toast("aborting: running steps are being cancelled");
                vec![Command::CancelRun]
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

    fn leave(&mut self) -> Vec<Command> {
        let running = matches!(&self.screen, Screen::Run(v) if v.outcome.is_none());
        // A watcher's leaving never affects the run.
        if running && self.watch.is_none() {
            vec![Command::CancelRun, Command::Quit]
        } else {
            vec![Command::Quit]
        }
    }

    fn submit_start(&mut self) -> Vec<Command> {
        let Screen::Start(form) = &mut self.screen else {
            return Vec::new();
        };
        match form.submit() {
            Ok(command) => {
                form.error = None;
                // Failed checks are named and the start confirmed; a
                // preflight still going never holds the start back.
                let failures: Vec<Finding> =
                    form.preflight.failures().into_iter().cloned().collect();
                if failures.is_empty() {
                    self.start_forced = false;
                    return vec![command];
                }
                let running = form.preflight.running();
                self.start_despite = Some(StartDespite::new(command, failures, running));
                self.overlays.open(Overlay::StartDespite);
                Vec::new()
            }
            Err(e) => {
                form.error = Some(e);
                Vec::new()
            }
        }
    }

    fn on_mouse(&mut self, mouse: MouseEvent) {
        let down = match mouse.kind {
            MouseEventKind::ScrollDown => true,
            MouseEventKind::ScrollUp => false,
            _ => return,
        };
        let open = self.prompt_open();
        if let Some(picker) = self.prompts.front_mut().and_then(|p| p.picker.as_mut())
            && open
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
    use crate::tui::keymap::Context;
    use crossterm::event::{KeyCode, KeyModifiers};

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
        assert!(!app.overlays.is_open(Overlay::Help));
        let Screen::Start(form) = &app.screen else {
            panic!("not on the start screen")
        };
        assert_eq!(form.fields[0].value, "x?");
        press(&mut app, KeyCode::F(1));
        assert!(app.overlays.is_open(Overlay::Help));
        press(&mut app, KeyCode::Esc);
        assert!(!app.overlays.is_open(Overlay::Help));
    }

    fn form(app: &App) -> &StartForm {
        let Screen::Start(form) = &app.screen else {
            panic!("not on the start screen")
        };
        form
    }

    fn rebind(app: &mut App, context: Context, action: Action, key: &str) {
        app.keymap.rebind(
            context,
            action,
            &[crate::tui::keymap::Key::parse(key).unwrap()],
        );
    }

    #[test]
    fn keys_that_were_hard_wired_follow_their_rebinding() {
        let mut app = app();
        // Enter on the start form: next field (and on the last, start).
        rebind(&mut app, Context::Input, Action::Enter, "f2");
        press(&mut app, KeyCode::Enter);
        assert_eq!(form(&app).focus, 0, "enter no longer moves on");
        press(&mut app, KeyCode::F(2));
        assert_eq!(form(&app).fields[form(&app).focus].name, "mode");
        // A choice: space and right were the only keys that changed it.
        rebind(&mut app, Context::Input, Action::NextChoice, "f3");
        press(&mut app, KeyCode::Char(' '));
        assert_eq!(form(&app).mode(), Mode::Drill);
        press(&mut app, KeyCode::F(3));
        assert_eq!(form(&app).mode(), Mode::Incident);
        // The help closed on Esc and q whatever the keymap said.
        rebind(&mut app, Context::Help, Action::Back, "x");
        press(&mut app, KeyCode::F(1));
        press(&mut app, KeyCode::Esc);
        press(&mut app, KeyCode::Char('q'));
        assert_eq!(app.layer(), Layer::Help);
        press(&mut app, KeyCode::Char('x'));
        assert_eq!(app.layer(), Layer::Start);
    }

    #[test]
    fn only_the_top_layer_reads_keys() {
        let mut app = app();
        press(&mut app, KeyCode::Esc);
        assert_eq!(app.layer(), Layer::Quit);
        // Over the "leave?" dialog the help takes every key; under it the
        // dialog and the form get none.
        press(&mut app, KeyCode::F(1));
        assert_eq!(app.layers(), [Layer::Start, Layer::Quit, Layer::Help]);
        press(&mut app, KeyCode::Enter);
        press(&mut app, KeyCode::Char('z'));
        assert_eq!(app.layer(), Layer::Help);
        assert_eq!(form(&app).fields[0].value, "x");
        press(&mut app, KeyCode::Esc);
        // The dialog: a character is nothing, not the help.
        press(&mut app, KeyCode::Char('?'));
        assert_eq!(app.layer(), Layer::Quit);
        assert_eq!(
            app.update(Msg::Key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE))),
            [Command::Quit]
        );
    }
}
