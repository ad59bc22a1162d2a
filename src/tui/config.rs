//! The console's user config file, `<config dir>/dr-drill/config.toml`
//! (`~/.config/dr-drill/config.toml` on Linux, or `$DR_DRILL_CONFIG`):
//!
//! ```toml
//! theme = "light"            # dark (default), light or mono
//!
//! [keys.run]                 # a context: global, start, run, picker, dialog,
//!                            # help, input, waiting
//! quit = ["x", "ctrl-q"]     # an action and the keys that do it
//!
//! [prices.us-east-1]         # AWS prices for the cost estimate (src/cost/prices.rs)
//! ```
//!
//! A bad file is an error naming the file, line and field; the console does
//! not start on a config it cannot read.

use std::path::{Path, PathBuf};

use super::keymap::{Action, Context, Key, Keymap};
use super::theme::ThemeName;
use crate::runbook::diagnostic::line_col;

/// What the config file sets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Config {
    /// The colour theme.
    pub theme: ThemeName,
    /// Key bindings, defaults with the file's changes.
    pub keymap: Keymap,
}

/// A config file that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}:{column}: {message}")]
pub struct ConfigError {
    /// The file.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong and what to write instead.
    pub message: String,
}

/// Where the config file is looked for.
pub fn path() -> Option<PathBuf> {
    crate::cost::prices::config_path()
}

/// Reads the config file, if there is one.
pub fn load() -> Result<Config, ConfigError> {
    match path() {
        Some(p) if p.exists() => {
            let text = std::fs::read_to_string(&p).map_err(|e| ConfigError {
                path: p.display().to_string(),
                line: 1,
                column: 1,
                message: format!("cannot read it: {e}"),
            })?;
            parse(&p, &text)
        }
        _ => Ok(Config::default()),
    }
}

fn serde_name<T: serde::de::DeserializeOwned>(name: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

/// Parses a config file's text; `path` is for messages.
pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let error = |offset: u32, message: String| {
        let (line, column) = line_col(text, offset as usize);
        ConfigError {
            path: path.display().to_string(),
            line,
            column,
            message,
        }
    };
    let arena = toml_spanner::Arena::new();
    let doc = toml_spanner::parse(text, &arena)
        .map_err(|e| error(e.span().start, format!("not valid TOML: {e}")))?;
    let mut config = Config::default();
    for (key, item) in doc.table() {
        match key.as_str() {
            "theme" => {
                let name = item.as_str().unwrap_or_default();
                config.theme = serde_name(name).ok_or_else(|| {
                    error(
                        item.span().start,
                        format!("`theme` is `{name}`; write \"dark\", \"light\" or \"mono\""),
                    )
                })?;
            }
            "keys" => {
                let Some(contexts) = item.as_table() else {
                    return Err(error(
                        item.span().start,
                        "`keys` must be a table of contexts, e.g. [keys.run]".into(),
                    ));
                };
                for (context_key, actions) in contexts {
                    let context: Context = serde_name(context_key.as_str()).ok_or_else(|| {
                        error(
                            actions.span().start,
                            format!(
                                "`{}` is not a context; use global, start, run, picker, dialog, help, input or waiting",
                                context_key.as_str()
                            ),
                        )
                    })?;
                    let Some(actions) = actions.as_table() else {
                        return Err(error(
                            actions.span().start,
                            "a context maps actions to keys, e.g. quit = [\"x\"]".into(),
                        ));
                    };
                    for (action_key, keys) in actions {
                        let action: Action = serde_name(action_key.as_str()).ok_or_else(|| {
                            error(
                                keys.span().start,
                                format!(
                                    "`{}` is not an action (see docs/keys.md for the names, e.g. quit, help, search)",
                                    action_key.as_str()
                                ),
                            )
                        })?;
                        let items: Vec<&toml_spanner::Item<'_>> = match keys.as_array() {
                            Some(a) => a.iter().collect(),
                            None => vec![keys],
                        };
                        let mut parsed = Vec::new();
                        for k in items {
                            let text = k.as_str().ok_or_else(|| {
                                error(k.span().start, "a key is a string, e.g. \"ctrl-q\"".into())
                            })?;
                            parsed.push(Key::parse(text).map_err(|e| error(k.span().start, e))?);
                        }
                        config.keymap.rebind(context, action, &parsed);
                    }
                }
            }
            // Read by `crate::cost::prices` (the cost estimate), not the console.
            "prices" => {}
            other => {
                return Err(error(
                    item.span().start,
                    format!(
                        "unknown setting `{other}`; the settings are `theme`, `[keys.CONTEXT]` and `[prices.REGION]`"
                    ),
                ));
            }
        }
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    #[test]
    fn a_theme_and_a_rebound_key() {
        let c = parse(
            Path::new("config.toml"),
            "theme = \"light\"\n[keys.run]\nquit = [\"x\", \"ctrl-q\"]\n",
        )
        .unwrap();
        assert_eq!(c.theme, ThemeName::Light);
        let x = KeyEvent::new(KeyCode::Char('x'), KeyModifiers::NONE);
        assert_eq!(c.keymap.action(Context::Run, &x), Some(Action::Quit));
    }

    #[test]
    fn a_prices_table_is_left_to_the_cost_estimate() {
        let c = parse(
            Path::new("config.toml"),
            "theme = \"mono\"\n[prices.us-east-1]\ns3-transfer-out = { usd = \"0.05\", per = \"GB\", read = \"2026-12-01\", source = \"https://example.com\" }\n",
        )
        .unwrap();
        assert_eq!(c.theme, ThemeName::Mono);
    }

    #[test]
    fn mistakes_name_the_line_and_what_to_write() {
        let e = parse(Path::new("c.toml"), "theme = \"solarized\"\n").unwrap_err();
        assert_eq!((e.line, e.column), (1, 9));
        assert!(e.message.contains("\"dark\", \"light\" or \"mono\""), "{e}");
        let e = parse(Path::new("c.toml"), "[keys.run]\nexplode = [\"x\"]\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().starts_with("c.toml:2:"), "{e}");
        let e = parse(Path::new("c.toml"), "[keys.run]\nquit = [\"hyper-x\"]\n").unwrap_err();
        assert!(e.message.contains("is not a key"), "{e}");
    }
}
