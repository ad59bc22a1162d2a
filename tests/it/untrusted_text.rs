//! Issue #14, item 9: text from outside (a command's output and outputs)
//! is shown as the text it is. In report.md a backtick cannot close its
//! code span and an image cannot load; JUnit XML carries no control
//! characters; the headless printer drops terminal escape sequences.

use assert_cmd::Command;

const RUNBOOK: &str = r#"
[runbook]
id = "untrusted-text"
title = "Untrusted text in outputs"

[[step]]
id = "hostile"
kind = "shell"
run = '''printf 'before\033]2;pwned\007after\n'; printf 'v=a`b ![x](http://evil.example/o.png)\n' >> "$DR_DRILL_OUTPUT"'''
outputs = ["v"]

[[step]]
id = "fails"
kind = "shell"
run = '''printf '![y](http://evil.example/f.png) <img src=x>\033[2J\n' >&2; exit 1'''
on_failure = "continue"
"#;

#[test]
fn hostile_output_is_text_in_reports_and_on_the_terminal() {
    let tmp = tempfile::tempdir().unwrap();
    let runbook = tmp.path().join("untrusted.toml");
    std::fs::write(&runbook, RUNBOOK).unwrap();
    let data = tmp.path().join("data");
    let out = Command::cargo_bin("dr-drill")
        .unwrap()
        .args(["run", runbook.to_str().unwrap(), "--headless"])
        .arg("--data-dir")
        .arg(&data)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("hostile | before]2;pwnedafter"), "{stdout}");
    assert!(
        !stdout.contains(['\x1b', '\x07']),
        "no escape sequence reaches the terminal: {stdout:?}"
    );

    let run = crate::support::drill::run_dir(&data);
    let md = std::fs::read_to_string(run.join("report.md")).unwrap();
    // The output is one code span, fenced by more backticks than it holds.
    assert!(
        md.contains("| ``a`b ![x](http://evil.example/o.png)`` |"),
        "{md}"
    );
    // The error is prose with every Markdown character escaped.
    assert!(
        md.contains(r"\!\[y\](http://evil.example/f.png) \<img src=x\>"),
        "{md}"
    );
    assert!(!md.contains(['\x1b', '\x07']), "{md:?}");
    let xml = std::fs::read_to_string(run.join("report.junit.xml")).unwrap();
    assert!(!xml.contains(['\x1b', '\x07']), "{xml:?}");
    assert!(xml.contains("&lt;img src=x&gt;"), "{xml}");
}
