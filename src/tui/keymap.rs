//! Every key binding in one table: a key, in a context, means an action.
//! The help overlay and `docs/keys.md` are written from this table, and a
//! user config file may rebind any entry. Every key the console reads goes
//! through [`Keymap::read`]; only characters typed into a text input are
//! not in the table.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use serde::{Deserialize, Serialize};

/// Where a key is pressed. An open dialog takes every key: text goes to its
/// input, and only the dialog's own bindings apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Context {
    /// Everywhere no dialog is open.
    Global,
    /// The start screen (parameters, mode).
    Start,
    /// The run screen (steps, output, timeline).
    Run,
    /// The recovery point picker.
    Picker,
    /// A dialog (confirmation, manual step, failure, quit).
    Dialog,
    /// The help overlay.
    Help,
    /// Where text is typed (start form fields, dialog text, the output
    /// search, the picker's filter), after the screen's or dialog's own keys.
    Input,
    /// The run screen while a question waits, put aside.
    Waiting,
}

/// What a key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Ask to leave (the run can be resumed).
    Quit,
    /// Cancel running steps; twice in a row aborts.
    Interrupt,
    /// Show or hide the help overlay.
    Help,
    /// Move up.
    Up,
    /// Move down.
    Down,
    /// A page up.
    PageUp,
    /// A page down.
    PageDown,
    /// To the first.
    Top,
    /// To the last.
    Bottom,
    /// Next field, tab or choice.
    Next,
    /// Previous field, tab or choice.
    Previous,
    /// Confirm, choose, start.
    Enter,
    /// Close, go back, or cancel a dialog.
    Back,
    /// Start the run (start screen).
    StartRun,
    /// Switch between drill and incident mode (start screen).
    ToggleMode,
    /// Switch between the steps and the timeline (run screen).
    SwitchTab,
    /// Scroll the selected step's output up.
    ScrollUp,
    /// Scroll the selected step's output down.
    ScrollDown,
    /// Search the output, or filter the picker.
    Search,
    /// Sort the picker by the next column.
    Sort,
    /// Reverse the picker's sort.
    Reverse,
    /// Reload the recovery points.
    Refresh,
    /// Turn auto-refresh of the picker on or off.
    AutoRefresh,
    /// The next choice of a field (start form).
    NextChoice,
    /// The previous choice of a field (start form).
    PreviousChoice,
    /// Delete the last character typed.
    DeleteChar,
    /// Clear the text typed.
    ClearInput,
    /// Bring back the question put aside (run screen).
    Reopen,
    /// Show or hide the raw templates of the step's fields (run screen).
    Templates,
    /// Run preflight again with the form's values (start screen).
    Preflight,
    /// Show or hide preflight's findings (start screen).
    PreflightFindings,
}

impl Action {
    /// What the action does, for the help overlay.
    pub fn describe(self) -> &'static str {
        match self {
            Action::Quit => "leave (asks first; resume later with dr-drill resume)",
            Action::Interrupt => "cancel running steps; twice aborts the run",
            Action::Help => "this help",
            Action::Up => "up",
            Action::Down => "down",
            Action::PageUp => "page up",
            Action::PageDown => "page down",
            Action::Top => "first",
            Action::Bottom => "last",
            Action::Next => "next field / tab / choice",
            Action::Previous => "previous field / choice",
            Action::Enter => "choose / confirm / start",
            Action::Back => "close / cancel",
            Action::StartRun => "start the run",
            Action::ToggleMode => "drill or incident mode",
            Action::SwitchTab => "steps or timeline",
            Action::ScrollUp => "scroll output (a dialog's text, preflight's findings) up",
            Action::ScrollDown => "scroll output (a dialog's text, preflight's findings) down",
            Action::Search => "search output / filter points",
            Action::Sort => "sort by the next column",
            Action::Reverse => "reverse the sort",
            Action::Refresh => "reload the recovery points",
            Action::AutoRefresh => "auto-refresh every 30 s",
            Action::NextChoice => "next choice (start form)",
            Action::PreviousChoice => "previous choice (start form)",
            Action::DeleteChar => "delete the last character",
            Action::ClearInput => "clear the text",
            Action::Reopen => "answer the question waiting",
            Action::Templates => "show or hide the step's raw templates",
            Action::Preflight => "run preflight again with the form's values",
            Action::PreflightFindings => "show or hide preflight's findings",
        }
    }
}

/// A key as written in the config file and the help: `q`, `ctrl-c`,
/// `enter`, `esc`, `tab`, `shift-tab`, `up`, `pgdn`, `f1`, `?`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Key {
    code: KeyCode,
    modifiers: KeyModifiers,
}

impl Key {
    /// Parses `ctrl-c`, `shift-tab`, `enter`, `x`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut modifiers = KeyModifiers::NONE;
        let mut rest = text.trim();
        loop {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                modifiers |= KeyModifiers::CONTROL;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                modifiers |= KeyModifiers::ALT;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("shift-") {
                modifiers |= KeyModifiers::SHIFT;
                rest = r;
            } else {
                break;
            }
        }
        let code = match rest {
            "enter" => KeyCode::Enter,
            "esc" => KeyCode::Esc,
            "backspace" => KeyCode::Backspace,
            "tab" if modifiers.contains(KeyModifiers::SHIFT) => {
                modifiers -= KeyModifiers::SHIFT;
                KeyCode::BackTab
            }
            "tab" => KeyCode::Tab,
            "backtab" => KeyCode::BackTab,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pgup" => KeyCode::PageUp,
            "pgdn" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "space" => KeyCode::Char(' '),
            f if f.len() > 1 && f.starts_with('f') && f[1..].parse::<u8>().is_ok() => {
                KeyCode::F(f[1..].parse().unwrap_or(1))
            }
            c if c.chars().count() == 1 => KeyCode::Char(c.chars().next().unwrap_or(' ')),
            other => {
                return Err(format!(
                    "`{other}` is not a key (e.g. q, ctrl-c, enter, esc, tab, shift-tab, up, pgdn, f1)"
                ));
            }
        };
        Ok(Self { code, modifiers })
    }

    /// Whether a terminal key event is this key. Shift on a character is
    /// part of the character (`?`, `G`), so it is not compared.
    pub fn matches(&self, event: &KeyEvent) -> bool {
        let mods = event.modifiers - KeyModifiers::SHIFT;
        let want = self.modifiers - KeyModifiers::SHIFT;
        self.code == event.code
            && (mods == want
                || !matches!(event.code, KeyCode::Char(_)) && event.modifiers == self.modifiers)
    }
}

impl TryFrom<String> for Key {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Key::parse(&s)
    }
}

impl From<Key> for String {
    fn from(k: Key) -> String {
        k.to_string()
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.modifiers.contains(KeyModifiers::CONTROL) {
            f.write_str("ctrl-")?;
        }
        if self.modifiers.contains(KeyModifiers::ALT) {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCode::Enter => f.write_str("enter"),
            KeyCode::Esc => f.write_str("esc"),
            KeyCode::Backspace => f.write_str("backspace"),
            KeyCode::Tab => f.write_str("tab"),
            KeyCode::BackTab => f.write_str("shift-tab"),
            KeyCode::Up => f.write_str("up"),
            KeyCode::Down => f.write_str("down"),
            KeyCode::Left => f.write_str("left"),
            KeyCode::Right => f.write_str("right"),
            KeyCode::PageUp => f.write_str("pgup"),
            KeyCode::PageDown => f.write_str("pgdn"),
            KeyCode::Home => f.write_str("home"),
            KeyCode::End => f.write_str("end"),
            KeyCode::Char(' ') => f.write_str("space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::F(n) => write!(f, "f{n}"),
            _ => f.write_str("?"),
        }
    }
}

/// The character a key types, if it types one (no Ctrl or Alt).
pub fn typed_char(event: &KeyEvent) -> Option<char> {
    match event.code {
        KeyCode::Char(c)
            if !event
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            Some(c)
        }
        _ => None,
    }
}

/// Whether the top layer takes typed characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Typing {
    /// No: every key is looked up, `Global` last.
    No,
    /// A text input has the focus: a character is text.
    Text,
    /// A dialog or form whose focus takes no text (a choice): a character
    /// is only looked up in the layer's own contexts, never in `Global`.
    Guarded,
}

/// Where the top layer reads keys: its contexts in order (then `Global`),
/// and whether characters are text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyScope {
    /// Contexts searched in order before `Global`.
    pub contexts: Vec<Context>,
    /// Whether characters are text.
    pub typing: Typing,
}

impl KeyScope {
    /// Keys of `contexts`, then `Global`; no text.
    pub fn keys(contexts: &[Context]) -> Self {
        Self {
            contexts: contexts.to_vec(),
            typing: Typing::No,
        }
    }

    /// The same contexts, with characters as `typing` says.
    pub fn typing(mut self, typing: Typing) -> Self {
        self.typing = typing;
        self
    }
}

/// What a key means to the top layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keypress {
    /// An action of the keymap.
    Act(Action),
    /// A character typed into the focused text input.
    Type(char),
}

impl Keypress {
    /// Applies the key to a line of text being typed; false when it is not
    /// a text edit.
    pub fn edit(self, text: &mut String) -> bool {
        match self {
            Keypress::Type(c) => text.push(c),
            Keypress::Act(Action::DeleteChar) => {
                text.pop();
            }
            Keypress::Act(Action::ClearInput) => text.clear(),
            Keypress::Act(_) => return false,
        }
        true
    }
}

/// One binding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Binding {
    /// Where.
    pub context: Context,
    /// Which key.
    pub key: Key,
    /// What it does.
    pub action: Action,
}

/// The bindings, searched in order: the first match wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keymap {
    /// Every binding.
    pub bindings: Vec<Binding>,
}

/// The default bindings, as `(context, key, action)`.
const DEFAULTS: &[(Context, &str, Action)] = {
    use Action::*;
    use Context::*;
    &[
        (Global, "ctrl-c", Interrupt),
        (Global, "?", Action::Help),
        (Global, "f1", Action::Help),
        (Start, "tab", Next),
        (Start, "down", Next),
        (Start, "shift-tab", Previous),
        (Start, "up", Previous),
        (Start, "ctrl-s", StartRun),
        (Start, "f5", StartRun),
        (Start, "ctrl-t", ToggleMode),
        (Start, "pgdn", PageDown),
        (Start, "pgup", PageUp),
        (Start, "esc", Quit),
        (Start, "ctrl-r", Preflight),
        (Start, "ctrl-e", PreflightFindings),
        (Start, "ctrl-down", ScrollDown),
        (Start, "ctrl-up", ScrollUp),
        (Run, "q", Quit),
        (Run, "up", Up),
        (Run, "k", Up),
        (Run, "down", Down),
        (Run, "j", Down),
        (Run, "home", Top),
        (Run, "g", Top),
        (Run, "end", Bottom),
        (Run, "G", Bottom),
        (Run, "tab", SwitchTab),
        (Run, "t", SwitchTab),
        (Run, "pgup", ScrollUp),
        (Run, "pgdn", ScrollDown),
        (Run, "/", Search),
        (Run, "v", Templates),
        (Run, "esc", Back),
        (Picker, "up", Up),
        (Picker, "k", Up),
        (Picker, "down", Down),
        (Picker, "j", Down),
        (Picker, "pgup", PageUp),
        (Picker, "pgdn", PageDown),
        (Picker, "home", Top),
        (Picker, "end", Bottom),
        (Picker, "enter", Enter),
        (Picker, "/", Search),
        (Picker, "s", Sort),
        (Picker, "S", Reverse),
        (Picker, "r", Refresh),
        (Picker, "a", AutoRefresh),
        (Picker, "esc", Back),
        (Dialog, "enter", Enter),
        (Dialog, "esc", Back),
        (Dialog, "tab", Next),
        (Dialog, "shift-tab", Previous),
        (Dialog, "up", Previous),
        (Dialog, "down", Next),
        (Dialog, "right", Next),
        (Dialog, "left", Previous),
        (Dialog, "pgup", ScrollUp),
        (Dialog, "pgdn", ScrollDown),
        (Context::Help, "esc", Back),
        (Context::Help, "q", Back),
        (Context::Help, "up", Up),
        (Context::Help, "k", Up),
        (Context::Help, "down", Down),
        (Context::Help, "j", Down),
        (Context::Help, "pgup", PageUp),
        (Context::Help, "pgdn", PageDown),
        (Context::Help, "home", Top),
        (Context::Help, "end", Bottom),
        (Input, "enter", Enter),
        (Input, "esc", Back),
        (Input, "backspace", DeleteChar),
        (Input, "ctrl-u", ClearInput),
        (Input, "right", NextChoice),
        (Input, "space", NextChoice),
        (Input, "left", PreviousChoice),
        (Waiting, "enter", Reopen),
    ]
};

impl Default for Keymap {
    fn default() -> Self {
        Self {
            bindings: DEFAULTS
                .iter()
                .map(|(context, key, action)| Binding {
                    context: *context,
                    key: Key::parse(key).unwrap_or(Key {
                        code: KeyCode::Null,
                        modifiers: KeyModifiers::NONE,
                    }),
                    action: *action,
                })
                .collect(),
        }
    }
}

impl Keymap {
    /// The action of `event` in `context` (then in `Global`).
    pub fn action(&self, context: Context, event: &KeyEvent) -> Option<Action> {
        self.bound(context, event)
            .or_else(|| self.bound(Context::Global, event))
    }

    /// The action of `event` in `context` alone.
    pub fn bound(&self, context: Context, event: &KeyEvent) -> Option<Action> {
        self.bindings
            .iter()
            .find(|b| b.context == context && b.key.matches(event))
            .map(|b| b.action)
    }

    /// What `event` means where `scope` says keys are read: a character
    /// typed into a text input, or an action of the scope's contexts, then
    /// of `Global`. Where text is typed, a character is never a `Global`
    /// key (`?` is a question mark there; `f1` still opens the help).
    pub fn read(&self, scope: &KeyScope, event: &KeyEvent) -> Option<Keypress> {
        let typed = typed_char(event);
        if let (Typing::Text, Some(c)) = (scope.typing, typed) {
            return Some(Keypress::Type(c));
        }
        if let Some(action) = scope.contexts.iter().find_map(|&c| self.bound(c, event)) {
            return Some(Keypress::Act(action));
        }
        if scope.typing != Typing::No && typed.is_some() {
            return None;
        }
        self.bound(Context::Global, event).map(Keypress::Act)
    }

    /// Replaces every binding of `(context, action)` by `keys`.
    pub fn rebind(&mut self, context: Context, action: Action, keys: &[Key]) {
        self.bindings
            .retain(|b| !(b.context == context && b.action == action));
        for key in keys {
            self.bindings.insert(
                0,
                Binding {
                    context,
                    key: key.clone(),
                    action,
                },
            );
        }
    }

    /// The keys of `action` in `context`, for hints: `q`, `ctrl-c`.
    pub fn keys(&self, context: Context, action: Action) -> Vec<String> {
        self.bindings
            .iter()
            .filter(|b| b.context == context && b.action == action)
            .map(|b| b.key.to_string())
            .collect()
    }

    /// The bindings of `context` grouped by action, in table order.
    pub fn table(&self, context: Context) -> Vec<(Action, Vec<String>)> {
        let mut out: Vec<(Action, Vec<String>)> = Vec::new();
        for b in self.bindings.iter().filter(|b| b.context == context) {
            match out.iter_mut().find(|(a, _)| *a == b.action) {
                Some((_, keys)) => keys.push(b.key.to_string()),
                None => out.push((b.action, vec![b.key.to_string()])),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, modifiers)
    }

    #[test]
    fn every_default_key_parses_and_prints_back() {
        for (_, text, _) in DEFAULTS {
            let k = Key::parse(text).unwrap();
            assert_eq!(k.to_string(), *text);
        }
    }

    #[test]
    fn a_context_binding_wins_over_a_global_one() {
        let map = Keymap::default();
        let q = key(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(map.action(Context::Run, &q), Some(Action::Quit));
        assert_eq!(map.action(Context::Picker, &q), None);
        let help = key(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert_eq!(map.action(Context::Picker, &help), Some(Action::Help));
        let ctrl_c = key(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(map.action(Context::Run, &ctrl_c), Some(Action::Interrupt));
        let c = key(KeyCode::Char('c'), KeyModifiers::NONE);
        assert_eq!(map.action(Context::Run, &c), None);
    }

    #[test]
    fn rebinding_replaces_the_keys_of_an_action() {
        let mut map = Keymap::default();
        map.rebind(Context::Run, Action::Quit, &[Key::parse("x").unwrap()]);
        let x = key(KeyCode::Char('x'), KeyModifiers::NONE);
        let q = key(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(map.action(Context::Run, &x), Some(Action::Quit));
        assert_eq!(map.action(Context::Run, &q), None);
    }

    #[test]
    fn where_text_is_typed_a_character_is_text_and_never_a_global_key() {
        let map = Keymap::default();
        let question = key(KeyCode::Char('?'), KeyModifiers::SHIFT);
        let f1 = key(KeyCode::F(1), KeyModifiers::NONE);
        let space = key(KeyCode::Char(' '), KeyModifiers::NONE);
        let text = KeyScope::keys(&[Context::Start, Context::Input]).typing(Typing::Text);
        assert_eq!(map.read(&text, &question), Some(Keypress::Type('?')));
        assert_eq!(map.read(&text, &space), Some(Keypress::Type(' ')));
        assert_eq!(map.read(&text, &f1), Some(Keypress::Act(Action::Help)));
        // A choice has the focus: characters are only the form's keys.
        let choice = text.typing(Typing::Guarded);
        assert_eq!(map.read(&choice, &question), None);
        assert_eq!(
            map.read(&choice, &space),
            Some(Keypress::Act(Action::NextChoice))
        );
        // Where nothing is typed, `?` is the help.
        let run = KeyScope::keys(&[Context::Run]);
        assert_eq!(map.read(&run, &question), Some(Keypress::Act(Action::Help)));
        let ctrl_c = key(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(
            map.read(&choice, &ctrl_c),
            Some(Keypress::Act(Action::Interrupt))
        );
    }
}
