//! `docs/keys.md` lists the console's keys as the keymap table has them:
//! everything after its marker line is generated from
//! `Keymap::default()`, and this test fails when it is stale.

use std::path::Path;

use dr_drill::tui::keymap::{Context, Keymap};

const MARKER: &str =
    "<!-- Generated from src/tui/keymap.rs by tests/it/keys_doc.rs: do not edit below. -->";
const REGENERATE: &str = "UPDATE_KEYS_DOC=1 cargo test --test it keys_doc";

/// Every context, in the order of the help overlay.
const CONTEXTS: [Context; 8] = [
    Context::Global,
    Context::Start,
    Context::Run,
    Context::Picker,
    Context::Dialog,
    Context::Help,
    Context::Input,
    Context::Waiting,
];

/// A new context fails to compile here: add it to `CONTEXTS` too.
fn title(context: Context) -> &'static str {
    match context {
        Context::Global => "Everywhere",
        Context::Start => "Start screen",
        Context::Run => "Run screen",
        Context::Picker => "Recovery point picker",
        Context::Dialog => "Dialogs",
        Context::Help => "Help overlay",
        Context::Input => "Text input (start form, dialogs, search, filter)",
        Context::Waiting => "Run screen, a question put aside",
    }
}

/// The generated part of the doc: one table per context.
fn tables() -> String {
    let keymap = Keymap::default();
    let mut out = String::new();
    for context in CONTEXTS {
        out.push_str(&format!("\n## {}\n\n", title(context)));
        out.push_str("| keys | action |\n| --- | --- |\n");
        for (action, keys) in keymap.table(context) {
            let keys: Vec<String> = keys
                .iter()
                .map(|k| format!("`{}`", k.replace('|', "\\|")))
                .collect();
            out.push_str(&format!(
                "| {} | {} |\n",
                keys.join(", "),
                action.describe()
            ));
        }
    }
    out
}

#[test]
fn docs_keys_md_is_generated_from_the_keymap() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/keys.md");
    let doc = std::fs::read_to_string(&path).unwrap_or_default();
    let Some(at) = doc.find(MARKER) else {
        panic!(
            "docs/keys.md lacks its marker line\n    {MARKER}\nafter the hand-written intro; add it, then regenerate with:\n    {REGENERATE}"
        );
    };
    let head = &doc[..at + MARKER.len()];
    let want = format!("{head}\n{}", tables());
    if std::env::var_os("UPDATE_KEYS_DOC").is_some() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    assert!(
        doc == want,
        "docs/keys.md is stale (the keymap in src/tui/keymap.rs changed); regenerate it with:\n    {REGENERATE}"
    );
}
