//! Where each template stands in a shell command: the quoting in force
//! (for the engine, which passes values through the environment and must
//! reference them to suit their place) and whether the shell will parse
//! the value a second time (for `check`, which refuses that).
//!
//! A small reader of POSIX sh, enough for commands written in runbooks:
//! quotes, `$'…'`, escapes, comments, `$(…)`, backticks and `$((…))`
//! nest; inside a substitution the quoting starts afresh, so a template in
//! `"$(echo {{ x }})"` is outside quotes. Words are grouped into simple
//! commands to find `eval`, `trap`, `sh -c`, `su -c`, `ssh`, `let`,
//! `(( ))` and `[[ … -eq … ]]`. It knows nothing of values.

use super::template::{Quoting, Segment, TemplateError, parse};

/// A context where the shell parses a value again after expanding it: a
/// `$(…)` or backtick in the value would run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reparse {
    /// The argument of `eval`.
    Eval,
    /// The action of `trap`, run when the signal comes.
    Trap,
    /// The command string of `sh -c` (or bash, dash, zsh, ksh…), named.
    ShellC(&'static str),
    /// The command of `su -c` or `runuser -c`.
    SuC,
    /// The remote command of `ssh`, joined and parsed by the remote shell.
    Ssh,
    /// An arithmetic expression: `$(( ))`, `(( ))` or `let`.
    Arithmetic,
    /// An operand of `-eq`, `-lt`… inside bash's `[[ ]]`, evaluated as an
    /// arithmetic expression.
    DoubleBracket,
}

/// One template of a shell command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// The quoting in force where the template starts.
    pub quoting: Quoting,
    /// Whether the shell parses its value again, and where.
    pub reparse: Option<Reparse>,
}

const SHELLS: &[(&str, &str)] = &[
    ("sh", "sh -c"),
    ("bash", "bash -c"),
    ("dash", "dash -c"),
    ("zsh", "zsh -c"),
    ("ksh", "ksh -c"),
    ("ash", "ash -c"),
    ("mksh", "mksh -c"),
    ("busybox", "busybox sh -c"),
];

/// Words that run the command after them: `sudo sh -c …`, `env X=1 eval …`.
const WRAPPERS: &[&str] = &[
    "sudo", "env", "exec", "command", "nohup", "time", "nice", "xargs", "timeout", "!", "if",
    "then", "else", "elif", "while", "until", "do", "{",
];

/// `ssh` options that take an argument.
const SSH_ARG_OPTIONS: &str = "BbcDEeFIiJLlmOoPpQRSWw";

#[derive(Default)]
struct Word {
    text: String,
    vars: Vec<usize>,
}

impl Word {
    fn is_empty(&self) -> bool {
        self.text.is_empty() && self.vars.is_empty()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Closer {
    Top,
    Paren,
    Backtick,
}

struct Cmd {
    closer: Closer,
    depth: u32,
    words: Vec<Word>,
    word: Word,
    bracket: bool,
    comment: bool,
}

enum Frame {
    Cmd(Cmd),
    Double,
    Single,
    Ansi,
    Arith(u32),
}

enum Tok {
    Char(char),
    Var(usize),
}

/// Every template of `text` in order, with where it stands.
pub fn place(text: &str) -> Result<Vec<(Segment<'_>, Placed)>, TemplateError> {
    let segments = parse(text)?;
    let mut toks = Vec::new();
    let mut vars = 0;
    for s in &segments {
        match s {
            Segment::Literal(l) => toks.extend(l.chars().map(Tok::Char)),
            Segment::Var(..) => {
                toks.push(Tok::Var(vars));
                vars += 1;
            }
        }
    }
    let mut placed = vec![
        Placed {
            quoting: Quoting::Plain,
            reparse: None,
        };
        vars
    ];
    Reader {
        stack: vec![Frame::Cmd(Cmd::new(Closer::Top))],
        placed: &mut placed,
    }
    .read(&toks);
    let mut placed = placed.into_iter();
    Ok(segments
        .into_iter()
        .map(|s| {
            let p = match &s {
                Segment::Var(..) => placed.next().expect("one placement per template"),
                Segment::Literal(_) => Placed {
                    quoting: Quoting::Plain,
                    reparse: None,
                },
            };
            (s, p)
        })
        .collect())
}

impl Cmd {
    fn new(closer: Closer) -> Self {
        Cmd {
            closer,
            depth: 0,
            words: Vec::new(),
            word: Word::default(),
            bracket: false,
            comment: false,
        }
    }
}

struct Reader<'a> {
    stack: Vec<Frame>,
    placed: &'a mut [Placed],
}

impl Reader<'_> {
    fn read(&mut self, toks: &[Tok]) {
        let mut i = 0;
        let at = |i: usize| match toks.get(i) {
            Some(Tok::Char(c)) => Some(*c),
            _ => None,
        };
        while i < toks.len() {
            let c = match toks[i] {
                Tok::Var(v) => {
                    self.var(v);
                    i += 1;
                    continue;
                }
                Tok::Char(c) => c,
            };
            i += 1;
            let next = at(i);
            match self.stack.last_mut().expect("the top frame stays") {
                Frame::Single => {
                    if c == '\'' {
                        self.stack.pop();
                    }
                    self.push_text(c);
                }
                Frame::Ansi => {
                    match c {
                        '\\' => i += 1,
                        '\'' => {
                            self.stack.pop();
                        }
                        _ => {}
                    }
                    self.push_text(c);
                }
                Frame::Double => match c {
                    '\\' => {
                        if let Some(n) = next {
                            self.push_text(n);
                        }
                        i += 1;
                    }
                    '"' => {
                        self.stack.pop();
                        self.push_text(c);
                    }
                    '`' => self.stack.push(Frame::Cmd(Cmd::new(Closer::Backtick))),
                    '$' => i += self.dollar(next, at(i + 1)),
                    c => self.push_text(c),
                },
                Frame::Arith(depth) => match c {
                    '(' => *depth += 1,
                    ')' if *depth == 0 => {
                        i += usize::from(next == Some(')'));
                        self.stack.pop();
                    }
                    ')' => *depth -= 1,
                    '$' => i += self.dollar(next, at(i + 1)),
                    '`' => self.stack.push(Frame::Cmd(Cmd::new(Closer::Backtick))),
                    _ => {}
                },
                Frame::Cmd(cmd) => {
                    if cmd.comment {
                        if c == '\n' {
                            cmd.comment = false;
                            self.end_command();
                        }
                        continue;
                    }
                    match c {
                        '\\' => {
                            if let Some(n) = next {
                                cmd.word.text.push(n);
                            }
                            i += 1;
                        }
                        '#' if cmd.word.is_empty() => cmd.comment = true,
                        '<' | '>' => {
                            i += usize::from(next == Some('&'));
                            self.end_word();
                        }
                        ' ' | '\t' => self.end_word(),
                        '\n' | ';' | '&' | '|' if !cmd.bracket => self.end_command(),
                        '\n' | ';' | '&' | '|' => self.end_word(),
                        '(' if cmd.word.is_empty() && next == Some('(') && !cmd.bracket => {
                            i += 1;
                            self.stack.push(Frame::Arith(0));
                        }
                        '(' if cmd.closer == Closer::Paren => {
                            cmd.depth += 1;
                            self.end_command();
                        }
                        ')' if cmd.closer == Closer::Paren && cmd.depth == 0 => {
                            self.end_command();
                            self.stack.pop();
                        }
                        ')' if cmd.closer == Closer::Paren => {
                            cmd.depth -= 1;
                            self.end_command();
                        }
                        '(' | ')' if cmd.bracket => self.end_word(),
                        '(' | ')' => self.end_command(),
                        '`' if cmd.closer == Closer::Backtick => {
                            self.end_command();
                            self.stack.pop();
                        }
                        '`' => {
                            cmd.word.text.push('`');
                            self.stack.push(Frame::Cmd(Cmd::new(Closer::Backtick)));
                        }
                        '\'' => {
                            cmd.word.text.push('\'');
                            self.stack.push(Frame::Single);
                        }
                        '"' => {
                            cmd.word.text.push('"');
                            self.stack.push(Frame::Double);
                        }
                        '$' => {
                            cmd.word.text.push('$');
                            i += self.dollar(next, at(i + 1));
                        }
                        c => cmd.word.text.push(c),
                    }
                }
            }
        }
        while self.stack.len() > 1 {
            self.end_command();
            self.stack.pop();
        }
        self.end_command();
    }

    /// After a `$`: opens `$((`, `$(` or `$'`; returns the characters used.
    fn dollar(&mut self, next: Option<char>, after: Option<char>) -> usize {
        match (next, after) {
            (Some('('), Some('(')) => {
                self.stack.push(Frame::Arith(0));
                2
            }
            (Some('('), _) => {
                self.stack.push(Frame::Cmd(Cmd::new(Closer::Paren)));
                1
            }
            (Some('\''), _) if !matches!(self.stack.last(), Some(Frame::Double)) => {
                self.stack.push(Frame::Ansi);
                1
            }
            _ => 0,
        }
    }

    /// Quoted text belongs to the word of the command it is in.
    fn push_text(&mut self, c: char) {
        if let Some(Frame::Cmd(cmd)) = self
            .stack
            .iter_mut()
            .rev()
            .find(|f| matches!(f, Frame::Cmd(_)))
        {
            cmd.word.text.push(c);
        }
    }

    fn var(&mut self, v: usize) {
        let quoting = match self.stack.last() {
            Some(Frame::Double) => Quoting::Double,
            Some(Frame::Single | Frame::Ansi) => Quoting::Single,
            _ => Quoting::Plain,
        };
        self.placed[v].quoting = quoting;
        if self.stack.iter().any(|f| matches!(f, Frame::Arith(_))) {
            self.placed[v].reparse = Some(Reparse::Arithmetic);
        }
        // The template belongs to the word of every command it is nested
        // in: `trap "$(echo {{ x }})" EXIT` runs the value at exit too.
        for frame in &mut self.stack {
            if let Frame::Cmd(cmd) = frame {
                cmd.word.vars.push(v);
            }
        }
    }

    fn top_cmd(&mut self) -> &mut Cmd {
        match self.stack.last_mut() {
            Some(Frame::Cmd(cmd)) => cmd,
            _ => unreachable!("words end only in a command"),
        }
    }

    fn end_word(&mut self) {
        let cmd = self.top_cmd();
        if cmd.word.is_empty() {
            return;
        }
        let word = std::mem::take(&mut cmd.word);
        if !cmd.bracket && word.text == "[[" && word.vars.is_empty() {
            cmd.bracket = true;
            cmd.words.push(word);
            return;
        }
        let closes = cmd.bracket && word.text == "]]";
        cmd.words.push(word);
        if closes {
            cmd.bracket = false;
            let start = cmd.words.iter().rposition(|w| w.text == "[[").unwrap_or(0);
            let inside = &cmd.words[start..];
            let arithmetic = inside.iter().any(|w| {
                matches!(
                    w.text.as_str(),
                    "-eq" | "-ne" | "-lt" | "-le" | "-gt" | "-ge"
                )
            });
            if arithmetic {
                let vars: Vec<usize> = inside.iter().flat_map(|w| w.vars.clone()).collect();
                for v in vars {
                    self.placed[v].reparse = Some(Reparse::DoubleBracket);
                }
            }
        }
    }

    fn end_command(&mut self) {
        if !matches!(self.stack.last(), Some(Frame::Cmd(_))) {
            return;
        }
        self.end_word();
        let cmd = self.top_cmd();
        if cmd.bracket {
            return;
        }
        let words = std::mem::take(&mut cmd.words);
        for (v, reparse) in reparsed(&words) {
            self.placed[v].reparse.get_or_insert(reparse);
        }
    }
}

/// The templates of one simple command that the shell parses again.
fn reparsed(words: &[Word]) -> Vec<(usize, Reparse)> {
    let mut out = Vec::new();
    let name = |w: &Word| {
        let t = w.text.trim_matches(['"', '\'']);
        t.rsplit('/').next().unwrap_or(t).to_owned()
    };
    let after = |from: usize, r: Reparse, out: &mut Vec<(usize, Reparse)>| {
        for w in &words[from..] {
            out.extend(w.vars.iter().map(|&v| (v, r)));
        }
    };
    // A shell with `-c` anywhere, e.g. after `find -exec` or `docker exec`.
    for (j, w) in words.iter().enumerate() {
        let Some(&(_, shown)) = SHELLS.iter().find(|(s, _)| *s == name(w)) else {
            continue;
        };
        let mut k = j + 1;
        let mut has_c = false;
        while let Some(opt) = words.get(k) {
            let t = opt.text.as_str();
            let busybox_sh = t == "sh" && name(w) == "busybox";
            if !busybox_sh && !t.starts_with('-') {
                break;
            }
            has_c |= !t.starts_with("--") && t.starts_with('-') && t.contains('c');
            k += 1;
        }
        if has_c && let Some(script) = words.get(k) {
            out.extend(script.vars.iter().map(|&v| (v, Reparse::ShellC(shown))));
        }
    }
    let Some(start) = command_start(words) else {
        return out;
    };
    match name(&words[start]).as_str() {
        "eval" => after(start + 1, Reparse::Eval, &mut out),
        "trap" => after(start + 1, Reparse::Trap, &mut out),
        "let" => after(start + 1, Reparse::Arithmetic, &mut out),
        "su" | "runuser" => {
            for (k, w) in words.iter().enumerate().skip(start + 1) {
                if (w.text == "-c" || w.text == "--command")
                    && let Some(script) = words.get(k + 1)
                {
                    out.extend(script.vars.iter().map(|&v| (v, Reparse::SuC)));
                }
                if w.text.starts_with("--command=") || w.text.starts_with("-c") && w.text.len() > 2
                {
                    out.extend(w.vars.iter().map(|&v| (v, Reparse::SuC)));
                }
            }
        }
        "ssh" => {
            let mut k = start + 1;
            while let Some(w) = words.get(k) {
                let t = w.text.as_str();
                if t == "--" {
                    k += 1;
                    break;
                }
                if !t.starts_with('-') {
                    break;
                }
                let takes_arg = t.len() == 2 && t[1..].chars().all(|c| SSH_ARG_OPTIONS.contains(c));
                k += if takes_arg { 2 } else { 1 };
            }
            // `words[k]` is the destination; the rest is the remote command.
            if k < words.len() {
                after(k + 1, Reparse::Ssh, &mut out);
            }
        }
        _ => {}
    }
    out
}

/// Where the command name is, past assignments and wrappers.
fn command_start(words: &[Word]) -> Option<usize> {
    let is_assignment = |w: &Word| {
        w.text.split_once('=').is_some_and(|(n, _)| {
            !n.is_empty()
                && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !n.starts_with(|c: char| c.is_ascii_digit())
        })
    };
    let mut i = 0;
    while let Some(w) = words.get(i) {
        if is_assignment(w) {
            i += 1;
        } else if WRAPPERS.contains(&w.text.as_str()) {
            let timeout = w.text == "timeout";
            i += 1;
            while words.get(i).is_some_and(|w| w.text.starts_with('-')) {
                i += 1;
            }
            if timeout {
                i += 1;
            }
        } else {
            return Some(i);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placed(cmd: &str) -> Vec<Placed> {
        place(cmd)
            .unwrap()
            .into_iter()
            .filter(|(s, _)| matches!(s, Segment::Var(..)))
            .map(|(_, p)| p)
            .collect()
    }

    fn quoting(cmd: &str) -> Vec<Quoting> {
        placed(cmd).into_iter().map(|p| p.quoting).collect()
    }

    fn reparse(cmd: &str) -> Vec<Option<Reparse>> {
        placed(cmd).into_iter().map(|p| p.reparse).collect()
    }

    #[test]
    fn a_substitution_inside_double_quotes_starts_outside_quotes() {
        use Quoting::*;
        assert_eq!(quoting("echo \"$(basename {{ params.k }})\""), [Plain]);
        assert_eq!(quoting("echo \"`basename {{ params.k }}`\""), [Plain]);
        assert_eq!(
            quoting("echo \"$(printf %s \"{{ params.k }}\") {{ params.j }}\""),
            [Double, Double]
        );
        assert_eq!(quoting("echo \"$(( 1 + 2 )) {{ params.k }}\""), [Double]);
        assert_eq!(quoting("echo $'it\\'s' {{ params.k }}"), [Plain]);
        assert_eq!(quoting("echo \"$'\" {{ params.k }}"), [Plain]);
        assert_eq!(
            quoting("# it's a comment\necho {{ params.k }}"),
            [Plain],
            "a quote in a comment opens nothing"
        );
        assert_eq!(quoting("echo '{{ params.k }}'"), [Single]);
    }

    #[test]
    fn contexts_the_shell_parses_twice_are_found() {
        let x = "{{ steps.pick.key }}";
        let cases = [
            (format!("trap \"rm -f {x}\" EXIT"), Reparse::Trap),
            (format!("trap \"$(echo {x})\" EXIT"), Reparse::Trap),
            (format!("eval \"ls {x}\""), Reparse::Eval),
            (format!("eval {x}"), Reparse::Eval),
            (format!("sh -c \"ls {x}\""), Reparse::ShellC("sh -c")),
            (format!("sudo bash -ec {x}"), Reparse::ShellC("bash -c")),
            (
                format!("find . -exec sh -c \"echo {x}\" \\;"),
                Reparse::ShellC("sh -c"),
            ),
            (format!("su postgres -c \"psql {x}\""), Reparse::SuC),
            (format!("ssh -p 22 db1 \"ls {x}\""), Reparse::Ssh),
            (format!("ssh db1 ls {x}"), Reparse::Ssh),
            (format!("echo $(( {x} + 1 ))"), Reparse::Arithmetic),
            (format!("(( {x} > 3 )) && echo big"), Reparse::Arithmetic),
            (format!("let n={x}+1"), Reparse::Arithmetic),
            (
                format!("[[ {x} -eq 3 ]] && echo three"),
                Reparse::DoubleBracket,
            ),
            (format!("X=1 env Y=2 eval {x}"), Reparse::Eval),
            (format!("if true; then eval {x}; fi"), Reparse::Eval),
        ];
        for (cmd, want) in cases {
            assert_eq!(reparse(&cmd), [Some(want)], "{cmd}");
        }
    }

    #[test]
    fn the_safe_patterns_are_left_alone() {
        let x = "{{ steps.pick.key }}";
        let safe = [
            format!("sh -c 'ls \"$1\"' _ {x}"),
            format!("sh -c \"ls \\\"\\$1\\\"\" restore {x}"),
            format!("v={x}; trap 'rm -f \"$v\"' EXIT"),
            format!("printf '%s\\n' {x} | ssh db1 'read -r v; ls \"$v\"'"),
            format!("ssh {x} uptime"),
            format!("[ {x} -eq 3 ]"),
            format!("[[ {x} == done ]]"),
            format!("echo \"evaluated: {x}\""),
            format!("n=$((n + 1)); echo {x}"),
            format!("value=$(sh -c \"cat \\\"\\$1\\\"\" read {x})"),
            format!("cmd 2>&1 {x} | tee log"),
        ];
        for cmd in safe {
            assert_eq!(reparse(&cmd), [None], "{cmd}");
        }
    }
}
