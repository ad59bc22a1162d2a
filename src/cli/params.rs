//! Where parameter values come from on the command line: `--param
//! NAME=VALUE`, `--param NAME=@env:VAR`, `--param-file FILE` (a TOML table
//! of strings, refused unless only its owner can read it) and, for a
//! secret parameter given none of these, a prompt without echo on the
//! terminal. Values given with `--param` win over the file's.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::runbook::Runbook;

/// The prefix of a `--param` value read from an environment variable.
const FROM_ENV: &str = "@env:";

/// The values of `--param-file` files, then of `--param` flags.
pub fn gather(
    files: &[PathBuf],
    params: &[(String, String)],
) -> Result<BTreeMap<String, String>, String> {
    let mut values = BTreeMap::new();
    for file in files {
        values.extend(read_file(file)?);
    }
    for (name, value) in params {
        let value = match value.strip_prefix(FROM_ENV) {
            Some(var) => std::env::var(var).map_err(|_| {
                format!(
                    "--param {name}={FROM_ENV}{var}: the environment variable `{var}` is not set \
                     (or is not UTF-8); export it, or give the value another way"
                )
            })?,
            None => value.clone(),
        };
        values.insert(name.clone(), value);
    }
    Ok(values)
}

/// A parameter file: `NAME = "value"` lines of TOML (multi-line values in
/// `"""` or `'''`), readable by its owner only.
pub fn read_file(path: &Path) -> Result<BTreeMap<String, String>, String> {
    let shown = path.display();
    let mut file = std::fs::File::open(path)
        .map_err(|e| format!("--param-file {shown}: cannot open it ({e})"))?;
    let meta = file
        .metadata()
        .map_err(|e| format!("--param-file {shown}: cannot read its mode ({e})"))?;
    let me = nix::unistd::getuid().as_raw();
    if meta.uid() != me {
        return Err(format!(
            "--param-file {shown} is owned by uid {}, not by you (uid {me}): a file of \
             secrets must be yours; copy it and `chmod 600` the copy",
            meta.uid()
        ));
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(format!(
            "--param-file {shown} can be read by others (mode {mode:04o}); \
             run `chmod 600 {shown}` and try again"
        ));
    }
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| format!("--param-file {shown}: cannot read it as UTF-8 text ({e})"))?;
    parse_file(&text).map_err(|e| format!("--param-file {shown}:{e}"))
}

/// `NAME = "value"` pairs; an error says `LINE: what is wrong`.
fn parse_file(text: &str) -> Result<BTreeMap<String, String>, String> {
    let line_of = |offset: u32| {
        text[..(offset as usize).min(text.len())]
            .lines()
            .count()
            .max(1)
    };
    let arena = toml_spanner::Arena::new();
    let doc = toml_spanner::parse(text, &arena)
        .map_err(|e| format!("{}: not TOML ({e})", line_of(e.span().start)))?;
    let mut values = BTreeMap::new();
    for (key, item) in doc.table().iter() {
        let Some(value) = item.as_str() else {
            return Err(format!(
                "{}: `{}` is not a string; write {} = \"...\"",
                line_of(item.span().start),
                key.name,
                key.name
            ));
        };
        values.insert(key.name.to_owned(), value.to_owned());
    }
    Ok(values)
}

/// Secret parameters of `runbook` that must have a value and have none:
/// required ones without a default, and those in `again` (secrets a
/// resumed run had, which its journal does not keep).
pub fn missing_secrets<'a>(
    runbook: &'a Runbook,
    given: &BTreeMap<String, String>,
    again: &[String],
) -> Vec<&'a str> {
    runbook
        .params
        .iter()
        .filter(|p| p.secret && !given.contains_key(&p.name.value))
        .filter(|p| (p.required && p.default.is_none()) || again.contains(&p.name.value))
        .map(|p| p.name.value.as_str())
        .collect()
}

/// Asks for each of `names` on the terminal without echo; without a
/// terminal, refuses naming the first and the three ways to give it.
pub fn ask_secrets(names: &[&str]) -> Result<BTreeMap<String, String>, String> {
    let mut values = BTreeMap::new();
    if names.is_empty() {
        return Ok(values);
    }
    if !std::io::stdin().is_terminal() {
        let name = names[0];
        return Err(format!(
            "the secret parameter `{name}` has no value and there is no terminal to ask for it; \
             give it with --param-file FILE (a line `{name} = \"...\"`, mode 0600), \
             --param {name}=@env:VAR (from an environment variable), or run in a terminal to \
             be asked without echo (--param {name}=VALUE works too, but `ps` shows it)"
        ));
    }
    for name in names {
        values.insert((*name).to_owned(), read_hidden(name)?);
    }
    Ok(values)
}

/// One line from the terminal with echo off. The terminal is read a key at
/// a time with signals off too, so Ctrl-C (or Ctrl-D on an empty line)
/// cancels here, and the terminal's modes are restored on every path.
fn read_hidden(name: &str) -> Result<String, String> {
    use nix::sys::termios::{LocalFlags, SetArg, SpecialCharacterIndices, tcgetattr, tcsetattr};
    use std::io::Read;
    let stdin = std::io::stdin();
    let fail = |e: &dyn std::fmt::Display| format!("cannot ask for `{name}`: {e}");
    let before = tcgetattr(&stdin).map_err(|e| fail(&e))?;
    let mut quiet = before.clone();
    quiet
        .local_flags
        .remove(LocalFlags::ECHO | LocalFlags::ICANON | LocalFlags::ISIG);
    quiet.control_chars[SpecialCharacterIndices::VMIN as usize] = 1;
    quiet.control_chars[SpecialCharacterIndices::VTIME as usize] = 0;
    let mut err = std::io::stderr();
    let _ = write!(err, "{name} (secret, not shown): ");
    let _ = err.flush();
    tcsetattr(&stdin, SetArg::TCSANOW, &quiet).map_err(|e| fail(&e))?;
    /// Puts the terminal's modes back however the read ends.
    struct Restore<'a>(&'a std::io::Stdin, nix::sys::termios::Termios);
    impl Drop for Restore<'_> {
        fn drop(&mut self) {
            let _ = tcsetattr(self.0, SetArg::TCSANOW, &self.1);
            let _ = writeln!(std::io::stderr());
        }
    }
    let _restore = Restore(&stdin, before);
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        if stdin.lock().read(&mut byte).map_err(|e| fail(&e))? == 0 {
            return Err(format!("cancelled: no value for `{name}` (end of input)"));
        }
        match byte[0] {
            b'\n' | b'\r' => break,
            // Ctrl-C, or Ctrl-D on an empty line.
            0x03 => return Err(format!("cancelled: no value for `{name}`; nothing was run")),
            0x04 if line.is_empty() => {
                return Err(format!("cancelled: no value for `{name}`; nothing was run"));
            }
            // Backspace and Delete take back one character.
            0x08 | 0x7f => {
                while let Some(b) = line.pop() {
                    if b & 0xC0 != 0x80 {
                        break;
                    }
                }
            }
            // Ctrl-U starts again.
            0x15 => line.clear(),
            b => line.push(b),
        }
    }
    String::from_utf8(line).map_err(|_| format!("the value of `{name}` is not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_param_file_is_a_toml_table_of_strings() {
        let values = parse_file("a = \"x\"\nkey = \"\"\"\nline1\nline2\"\"\"\n").unwrap();
        assert_eq!(values["a"], "x");
        assert_eq!(values["key"], "line1\nline2");
        let e = parse_file("a = \"x\"\nport = 5432\n").unwrap_err();
        assert!(e.starts_with("2: `port` is not a string"), "{e}");
        assert!(parse_file("a = ").unwrap_err().contains("not TOML"));
    }
}
