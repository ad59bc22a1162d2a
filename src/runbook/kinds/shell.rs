//! `kind = "shell"`: a command run with `sh -c`; its outputs are the ones it
//! declares, and `exit_code`.

use toml_spanner::Error;

use super::{Effect, KindRules, Permission, StepChecks};
use crate::runbook::diagnostic::{Code, Diagnostic};
use crate::runbook::field::{Span, Spanned, Text, TextMap, fields};

fields! {
    /// `kind = "shell"`.
    pub struct Shell {
        /// The command, run with `sh -c`. Template values reach it through
        /// environment variables: each arrives verbatim, as one word. A
        /// template where the shell parses its value again (`eval`, `trap`,
        /// `sh -c "…"`, `ssh`, arithmetic) is a `check` error.
        run: Text = req,
        /// Extra environment variables (templates allowed, not quoted).
        #[serde(default)]
        env: TextMap = def,
        /// Working directory; defaults to the run's directory.
        cwd: Option<Text> = opt,
        /// Names of the outputs the command sets by writing `NAME=VALUE`
        /// lines to the file named by `$DR_DRILL_OUTPUT`.
        #[serde(default)]
        outputs: Vec<Spanned<String>> = def,
        /// Programs the command needs on PATH, each with an optional version:
        /// `NAME`, `NAME>=VERSION`, `NAME=VERSION` or `NAME<VERSION`, e.g.
        /// `["pg_restore>=15", "jq"]`; and `"postgres-server"` for a
        /// PostgreSQL server that accepts connections (`pg_isready`).
        /// Preflight checks them; the start screen names what is unmet, and
        /// a run refuses to start without them (headless: exit 2).
        #[serde(default)]
        requires: Vec<Spanned<String>> = def,
    }
}

impl KindRules for Shell {
    fn effect(&self) -> Effect {
        Effect::Writes
    }

    fn outputs(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.outputs.iter().map(|o| o.value.as_str()).collect();
        names.push("exit_code");
        names
    }

    fn confirm_target(&self) -> Option<&Text> {
        None
    }

    fn polled_until_done(&self) -> Option<&'static str> {
        None
    }

    fn rpo_field(&self) -> Option<&'static str> {
        None
    }

    fn change(&self, show: &dyn Fn(&str) -> String, description: Option<&str>) -> Option<String> {
        let command = format!("the command runs:\n{}", show(&self.run.value).trim_end());
        Some(match description {
            Some(d) => format!("{}\n{command}", show(d).trim_end()),
            None => command,
        })
    }

    fn uses_aws(&self) -> bool {
        false
    }

    fn permissions(&self) -> Vec<Permission<'_>> {
        vec![]
    }

    fn headless_answer_missing(&self, _id: &str, _given: Option<&str>) -> Option<String> {
        None
    }

    fn cross_field_errors(&self, _step_span: Span, _errors: &mut Vec<Error>) {}

    fn check(&self, step: &mut dyn StepChecks) {
        step.shell_quoting(&self.run);
        step.no_repeats("`outputs`", &self.outputs);
        let mut seen: Vec<String> = Vec::new();
        for entry in &self.requires {
            match Requirement::parse(&entry.value) {
                Ok(requirement) if seen.contains(&requirement.name) => step.push(
                    Diagnostic::error(
                        Code::DuplicateId,
                        entry.span,
                        format!("`requires` names `{}` twice", requirement.name),
                    )
                    .with_help("keep one entry per program, with the version it needs"),
                ),
                Ok(requirement) => seen.push(requirement.name),
                Err(problem) => step.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        entry.span,
                        format!(
                            "`requires` entry `{}` {problem}",
                            shown(&entry.value)
                        ),
                    )
                    .with_help(REQUIREMENT_HELP),
                ),
            }
        }
        for output in &self.outputs {
            if output.value == "exit_code" {
                step.push(
                    Diagnostic::error(
                        Code::Conflict,
                        output.span,
                        "`exit_code` is set by dr-drill for every shell step",
                    )
                    .with_help("remove it from `outputs`; read it as {{ steps.ID.exit_code }}"),
                );
            } else {
                step.check_id("output", output);
            }
        }
    }
}

/// The `requires` entry that asks for a reachable PostgreSQL server: the one
/// the libpq environment (`PGHOST`, `PGPORT`) of this process names accepts
/// connections, as `pg_isready` sees it (so it needs `pg_isready` too).
pub const POSTGRES_SERVER: &str = "postgres-server";

/// What `check` says about a `requires` entry it cannot read.
const REQUIREMENT_HELP: &str = "write a program name with an optional version: `NAME`, `NAME>=VERSION`, `NAME=VERSION` or `NAME<VERSION`, where VERSION is 1 to 4 dot-separated numbers, e.g. `pg_restore>=15` or `jq>=1.6`; or `postgres-server`";

/// The longest program name `requires` accepts.
const NAME_MAX: usize = 128;

/// One entry of `requires`, read: a program (or [`POSTGRES_SERVER`]) and
/// the version it must have. The grammar, in full:
/// `NAME [OP VERSION]`, spaces allowed around `OP`; NAME is 1 to 128 of
/// `A-Z a-z 0-9 . _ + - /`, not starting with `-`; OP is `>=`, `=` or `<`;
/// VERSION is 1 to 4 numbers of at most 9 digits, joined by dots.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Requirement {
    /// The program, as looked up on `PATH` (a path when it has a `/`).
    pub name: String,
    /// The version it must have, when the entry names one.
    pub constraint: Option<Constraint>,
}

/// A version a program must have: `>=15`, `=16`, `<17`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Constraint {
    /// How the program's version compares.
    pub op: VersionOp,
    /// The version it is compared with.
    pub version: Version,
}

/// How a program's version must compare with a [`Constraint`]'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VersionOp {
    /// `>=`: this version or a later one.
    AtLeast,
    /// `=`: this version, compared on the numbers given (`=16` admits
    /// 16.4, `=16.4` does not admit 16.5).
    Equal,
    /// `<`: an earlier version.
    Below,
}

/// A dotted version number, 1 to 4 parts (`15`, `1.6`, `15.18`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(Vec<u64>);

impl Version {
    /// `text` as a version: 1 to 4 numbers of 1 to 9 digits joined by dots.
    pub fn parse(text: &str) -> Option<Version> {
        let parts: Vec<&str> = text.split('.').collect();
        if parts.len() > 4 {
            return None;
        }
        parts
            .iter()
            .map(|p| {
                (!p.is_empty() && p.len() <= 9 && p.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| p.parse::<u64>().ok())
                    .flatten()
            })
            .collect::<Option<Vec<u64>>>()
            .map(Version)
    }

    /// The first dotted number in a program's `--version` output (`15.18`
    /// in `pg_restore (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)`, `1.6`
    /// in `jq-1.6`): digits, a dot, digits, up to four parts (more are
    /// dropped); a part over 9 digits makes that number no version.
    pub fn first_in(output: &str) -> Option<Version> {
        let bytes = output.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if !bytes[i].is_ascii_digit() {
                i += 1;
                continue;
            }
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            let run = output[start..i].trim_end_matches('.');
            if run.contains('.') {
                let parts: Vec<&str> = run.split('.').take(4).collect();
                if let Some(v) = Version::parse(&parts.join(".")) {
                    return Some(v);
                }
            }
        }
        None
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(u64::to_string).collect();
        f.write_str(&parts.join("."))
    }
}

impl Constraint {
    /// Whether a program at `version` meets this constraint. Missing parts
    /// count as 0 (`15` is `15.0`), except for `=`, which compares only the
    /// parts it names.
    pub fn admits(&self, version: &Version) -> bool {
        let part = |v: &Version, i: usize| v.0.get(i).copied().unwrap_or(0);
        let width = self.version.0.len().max(version.0.len());
        let order = (0..width)
            .map(|i| part(version, i).cmp(&part(&self.version, i)))
            .find(|o| o.is_ne())
            .unwrap_or(std::cmp::Ordering::Equal);
        match self.op {
            VersionOp::AtLeast => order.is_ge(),
            VersionOp::Below => order.is_lt(),
            VersionOp::Equal => (0..self.version.0.len())
                .all(|i| part(version, i) == part(&self.version, i)),
        }
    }

    /// What to install, in words: `15 or later`, `16`, `older than 17`.
    pub fn wanted(&self) -> String {
        match self.op {
            VersionOp::AtLeast => format!("{} or later", self.version),
            VersionOp::Equal => self.version.to_string(),
            VersionOp::Below => format!("older than {}", self.version),
        }
    }
}

impl std::fmt::Display for Constraint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let op = match self.op {
            VersionOp::AtLeast => ">=",
            VersionOp::Equal => "=",
            VersionOp::Below => "<",
        };
        write!(f, "{op}{}", self.version)
    }
}

impl std::fmt::Display for Requirement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name)?;
        match &self.constraint {
            Some(c) => write!(f, "{c}"),
            None => Ok(()),
        }
    }
}

impl Requirement {
    /// Reads one `requires` entry; the error completes "`requires` entry
    /// `…` ".
    pub fn parse(entry: &str) -> Result<Requirement, String> {
        let split = entry.find(['>', '=', '<']).unwrap_or(entry.len());
        // Spaces are allowed around an operator only.
        let name = match split < entry.len() {
            true => entry[..split].trim_end_matches(' '),
            false => entry,
        };
        let rest = &entry[split..];
        if name.is_empty() {
            return Err("names no program".into());
        }
        if name.len() > NAME_MAX {
            return Err(format!("has a name over {NAME_MAX} characters"));
        }
        if name.starts_with('-') {
            return Err("starts with `-`, which a program would read as an option".into());
        }
        if let Some(c) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-' | '/')))
        {
            return Err(format!(
                "has `{}` in its name, which a program name does not",
                c.escape_debug()
            ));
        }
        if rest.is_empty() {
            return Ok(Requirement {
                name: name.to_owned(),
                constraint: None,
            });
        }
        if name == POSTGRES_SERVER {
            return Err(format!(
                "gives `{POSTGRES_SERVER}` a version, which dr-drill cannot check (pg_isready does not tell it)"
            ));
        }
        // `rest` starts with `>`, `=` or `<`; `>` alone, `==`, `<=`, `=>`
        // are refused.
        let (op, version) = if let Some(v) = rest.strip_prefix(">=") {
            (Some(VersionOp::AtLeast), v)
        } else if let Some(v) = rest.strip_prefix('=') {
            (Some(VersionOp::Equal), v)
        } else if let Some(v) = rest.strip_prefix('<') {
            (Some(VersionOp::Below), v)
        } else {
            (None, rest)
        };
        let Some(op) = op.filter(|_| !version.starts_with(['>', '=', '<'])) else {
            return Err("compares with an operator dr-drill does not know (`>=`, `=` and `<` are known)".into());
        };
        let version = version.trim_start_matches(' ');
        match Version::parse(version) {
            Some(version) => Ok(Requirement {
                name: name.to_owned(),
                constraint: Some(Constraint { op, version }),
            }),
            None => Err("has a version that is not 1 to 4 numbers joined by dots".into()),
        }
    }
}

impl Shell {
    /// The `requires` entries, read (entries `check` rejected are left out;
    /// a checked runbook has none).
    pub fn requirements(&self) -> Vec<Requirement> {
        self.requires
            .iter()
            .filter_map(|r| Requirement::parse(&r.value).ok())
            .collect()
    }
}

/// An entry as an error names it: at most 60 characters, escaped.
fn shown(entry: &str) -> String {
    let mut text: String = entry.chars().take(60).collect();
    if text.len() < entry.len() {
        text.push('…');
    }
    text.escape_debug().to_string()
}

/// Steps of this kind for the tests, with the fields that add IAM
/// actions set.
#[cfg(test)]
pub(super) const EXAMPLE: &str = r#"
[[step]]
id = "shell"
kind = "shell"
run = "true"
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::check_str;

    fn req(entry: &str) -> Requirement {
        Requirement::parse(entry).unwrap_or_else(|e| panic!("{entry}: {e}"))
    }

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    #[test]
    fn an_entry_is_a_name_with_an_optional_version() {
        assert_eq!(req("jq").to_string(), "jq");
        assert_eq!(req("jq").constraint, None);
        assert_eq!(req("pg_restore>=15").to_string(), "pg_restore>=15");
        assert_eq!(req("pg_restore >= 15").to_string(), "pg_restore>=15");
        assert_eq!(req("psql=16").constraint.unwrap().op, VersionOp::Equal);
        assert_eq!(req("psql<17.2").constraint.unwrap().op, VersionOp::Below);
        assert_eq!(req("g++>=12.1.0.4").name, "g++");
        assert_eq!(req("/opt/pg/bin/pg_restore>=15").name, "/opt/pg/bin/pg_restore");
        assert_eq!(req(POSTGRES_SERVER).name, POSTGRES_SERVER);
    }

    #[test]
    fn hostile_entries_are_refused_with_what_is_wrong() {
        for (entry, says) in [
            ("", "names no program"),
            (">=15", "names no program"),
            ("jq ", "has ` ` in its name"),
            (" jq", "has ` ` in its name"),
            ("jq>=", "not 1 to 4 numbers"),
            ("jq>=1.", "not 1 to 4 numbers"),
            ("jq>=.6", "not 1 to 4 numbers"),
            ("jq>=1.6.0.0.1", "not 1 to 4 numbers"),
            ("jq>=1234567890", "not 1 to 4 numbers"),
            ("jq>=-1", "not 1 to 4 numbers"),
            ("jq>=1.6rc1", "not 1 to 4 numbers"),
            ("jq>=١", "not 1 to 4 numbers"),
            ("jq==1.6", "operator dr-drill does not know"),
            ("jq<=1.6", "operator dr-drill does not know"),
            ("jq>1.6", "operator dr-drill does not know"),
            ("jq=>1.6", "operator dr-drill does not know"),
            ("--version", "starts with `-`"),
            ("jq;rm -rf /", "has `;` in its name"),
            ("$(reboot)", "has `$` in its name"),
            ("jq\u{1b}]0;x\u{7}", "has `\\u{1b}` in its name"),
            ("jq\n", "has `\\n` in its name"),
            ("pg_rest\u{f3}re", "has `\u{f3}` in its name"),
            ("postgres-server>=15", "gives `postgres-server` a version"),
        ] {
            let err = Requirement::parse(entry).expect_err(entry);
            assert!(err.contains(says), "{entry:?}: {err}");
        }
        let long = "a".repeat(NAME_MAX + 1);
        assert!(Requirement::parse(&long).unwrap_err().contains("over 128"));
        assert!(Requirement::parse(&"a".repeat(NAME_MAX)).is_ok());
    }

    #[test]
    fn constraints_compare_missing_parts_as_zero_and_equal_on_its_parts() {
        let c = |e: &str| req(e).constraint.unwrap();
        assert!(c("p>=15").admits(&v("15")));
        assert!(c("p>=15").admits(&v("15.18")));
        assert!(!c("p>=15").admits(&v("14.99")));
        assert!(c("p>=1.6").admits(&v("1.10")), "numbers, not text");
        assert!(!c("p>=1.10").admits(&v("1.9")));
        assert!(c("p=16").admits(&v("16.4")));
        assert!(!c("p=16.4").admits(&v("16.5")));
        assert!(!c("p=16").admits(&v("1.6")));
        assert!(c("p<17").admits(&v("16.9")));
        assert!(!c("p<17").admits(&v("17")));
        assert!(!c("p<17").admits(&v("17.0.1")));
        assert_eq!(c("p>=15").wanted(), "15 or later");
        assert_eq!(c("p<17").wanted(), "older than 17");
    }

    #[test]
    fn the_version_is_the_first_dotted_number_printed() {
        let first = |t: &str| Version::first_in(t).map(|v| v.to_string());
        assert_eq!(
            first("pg_restore (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)").as_deref(),
            Some("15.18")
        );
        assert_eq!(first("jq-1.6").as_deref(), Some("1.6"));
        assert_eq!(first("GNU bash, version 5.2.15(1)-release").as_deref(), Some("5.2.15"));
        assert_eq!(first("tool 2 (build 7) 3.4").as_deref(), Some("3.4"));
        assert_eq!(first("v1.2.3.4.5.6").as_deref(), Some("1.2.3.4"));
        assert_eq!(first("x 12345678901.2 then 1.0").as_deref(), Some("1.0"));
        assert_eq!(first("version 7."), None);
        assert_eq!(first("psql (PostgreSQL) 17devel"), None);
        assert_eq!(first(""), None);
    }

    proptest::proptest! {
        /// Whatever an entry or a program prints, reading it never panics.
        #[test]
        fn reading_never_panics(text in "\\PC{0,80}|[a-z0-9 .<>=_-]{0,40}") {
            let _ = Requirement::parse(&text);
            let _ = Version::first_in(&text);
        }

        /// Every entry that reads, reads back the same from its shown form.
        #[test]
        fn a_read_entry_shows_as_it_reads(text in "[a-z_/+.-]{1,12}( ?(>=|=|<) ?[0-9]{1,3}(\\.[0-9]{1,3}){0,3})?") {
            if let Ok(r) = Requirement::parse(&text) {
                proptest::prop_assert_eq!(Requirement::parse(&r.to_string()), Ok(r));
            }
        }
    }

    fn runbook(requires: &str) -> String {
        format!(
            r#"
[runbook]
format = 1
id = "t"
title = "T"

[[step]]
id = "restore"
kind = "shell"
run = "true"
requires = {requires}
"#
        )
    }

    #[test]
    fn check_names_the_line_and_the_bad_entry() {
        let text = runbook(r#"["jq", "pg_restore>=fifteen", "jq>=1.6"]"#);
        let checked = check_str(&text);
        assert_eq!(checked.errors(), 2, "{:#?}", checked.diagnostics);
        let shown = checked
            .diagnostics
            .iter()
            .map(|d| d.render("t.toml", &text, false))
            .collect::<Vec<_>>()
            .join("\n");
        assert!(
            shown.contains("`requires` entry `pg_restore>=fifteen` has a version that is not 1 to 4 numbers joined by dots"),
            "{shown}"
        );
        assert!(shown.contains("`requires` names `jq` twice"), "{shown}");
        assert!(shown.contains("t.toml:11:"), "{shown}");
        assert!(shown.contains("e.g. `pg_restore>=15`"), "{shown}");
        assert!(check_str(&runbook(r#"["pg_restore >= 15", "jq", "postgres-server"]"#)).runbook.is_some());
    }
}
