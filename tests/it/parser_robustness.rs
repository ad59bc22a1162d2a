//! The checker never panics: not on arbitrary bytes, not on mutations of
//! real runbooks. Errors are findings, never crashes.

use dr_drill::runbook::check_str;
use proptest::prelude::*;

const SHIPPED: &str = include_str!("../../runbooks/cabal-addresses-restore.toml");

/// Fragments that tend to reach deep paths: templates, tables, durations.
const SNIPPETS: &[&str] = &[
    "{{",
    "}}",
    "{{ steps.",
    "{{ params.",
    "\"",
    "\"\"\"",
    "[[step]]\n",
    "[[phase]]\n",
    "[params]\n",
    "=",
    "[",
    "]",
    "{",
    "}",
    "\n",
    "needs = [\"pick\"]\n",
    "kind = \"wait\"\n",
    "timeout = \"0s\"\n",
    "retry = { attempts = 0 }\n",
    "id = \"pick\"\n",
    "ends_rto = true\n",
    "only_in = \"incident\"\n",
    "\\u",
    "é",
    "2026-11-21T00:00:00Z",
];

#[derive(Debug, Clone)]
enum Mutation {
    Delete(usize, usize),
    Insert(usize, usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0usize..40).prop_map(|(at, len)| Mutation::Delete(at, len)),
        (any::<usize>(), 0..SNIPPETS.len()).prop_map(|(at, s)| Mutation::Insert(at, s)),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

fn apply(text: &str, mutations: &[Mutation]) -> String {
    let mut text = text.to_string();
    for m in mutations {
        let boundary = |t: &str, at: usize| {
            let mut at = at % (t.len() + 1);
            while !t.is_char_boundary(at) {
                at -= 1;
            }
            at
        };
        match *m {
            Mutation::Delete(at, len) => {
                let start = boundary(&text, at);
                let end = boundary(&text, (start + len).min(text.len()));
                text.replace_range(start..end.max(start), "");
            }
            Mutation::Insert(at, s) => {
                let at = boundary(&text, at);
                text.insert_str(at, SNIPPETS[s]);
            }
            Mutation::DuplicateLine(i) | Mutation::SwapLines(i, _) if text.lines().count() == 0 => {
                let _ = i;
            }
            Mutation::DuplicateLine(i) => {
                let mut lines: Vec<&str> = text.lines().collect();
                let i = i % lines.len();
                lines.insert(i, lines[i]);
                text = lines.join("\n");
            }
            Mutation::SwapLines(a, b) => {
                let mut lines: Vec<&str> = text.lines().collect();
                let n = lines.len();
                lines.swap(a % n, b % n);
                text = lines.join("\n");
            }
        }
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let text = String::from_utf8_lossy(&bytes);
        let checked = check_str(&text);
        // Every diagnostic renders, whatever its span.
        for d in &checked.diagnostics {
            let _ = d.render("fuzz.toml", &text, false);
        }
    }

    #[test]
    fn mutated_runbooks_never_panic(mutations in proptest::collection::vec(mutation(), 1..8)) {
        let text = apply(SHIPPED, &mutations);
        let checked = check_str(&text);
                for d in &checked.diagnostics {
            let _ = d.render("mutated.toml", &text, false);
            let _ = d.locate("mutated.toml", &text);
        }
    }

    /// Well-formed TOML with random graphs (cycles, self-needs, unknown
    /// ids), templates, modes and cleanup flags: this drives the validator,
    /// which arbitrary bytes rarely reach.
    #[test]
    fn random_step_graphs_never_panic(steps in proptest::collection::vec(random_step(), 1..25)) {
        let text = runbook_text(&steps);
        let checked = check_str(&text);
        for d in &checked.diagnostics {
            let _ = d.render("graph.toml", &text, false);
            let _ = d.locate("graph.toml", &text);
        }
    }
}

#[derive(Debug, Clone)]
struct RandomStep {
    kind: usize,
    needs: Vec<usize>,
    reads: Vec<(usize, usize)>,
    param: usize,
    phase: usize,
    flags: u8,
}

fn random_step() -> impl Strategy<Value = RandomStep> {
    (
        0usize..5,
        proptest::collection::vec(0usize..30, 0..4),
        proptest::collection::vec((0usize..30, 0usize..4), 0..3),
        0usize..3,
        0usize..4,
        any::<u8>(),
    )
        .prop_map(|(kind, needs, reads, param, phase, flags)| RandomStep {
            kind,
            needs,
            reads,
            param,
            phase,
            flags,
        })
}

const OUTPUTS: &[&str] = &["items", "exit_code", "rows", "answer"];

fn runbook_text(steps: &[RandomStep]) -> String {
    let mut t = String::from(
        "[runbook]\nid = \"graph\"\ntitle = \"Graph\"\nrto = \"1h\"\n\n[params]\ntable = { default = \"t\" }\nvault = { required = true }\n\n",
    );
    for p in ["assess", "restore", "verify"] {
        t.push_str(&format!("[[phase]]\nid = \"{p}\"\n\n"));
    }
    for (i, s) in steps.iter().enumerate() {
        let reads: String = s
            .reads
            .iter()
            .map(|(step, out)| format!(" {{{{ steps.s{step}.{} }}}}", OUTPUTS[*out]))
            .collect();
        let param = ["table", "vault", "missing"][s.param];
        t.push_str(&format!("[[step]]\nid = \"s{i}\"\n"));
        if s.phase < 3 {
            t.push_str(&format!(
                "phase = \"{}\"\n",
                ["assess", "restore", "verify"][s.phase]
            ));
        }
        let needs: Vec<String> = s.needs.iter().map(|n| format!("\"s{n}\"")).collect();
        t.push_str(&format!("needs = [{}]\n", needs.join(", ")));
        match s.kind {
            0 => t.push_str(&format!("kind = \"shell\"\nrun = \"echo {{{{ params.{param} }}}}{reads}\"\noutputs = [\"rows\"]\n")),
            1 => t.push_str(&format!("kind = \"manual\"\ninstructions = \"Check{reads}\"\nquestion = \"ok?\"\n")),
            2 => t.push_str(&format!("kind = \"check\"\nassert = [{{ value = \"x{reads}\", at_least = 1 }}]\n")),
            3 => t.push_str("kind = \"wait\"\nrun = \"true\"\ntimeout = \"5m\"\n"),
            _ => t.push_str(&format!("kind = \"dynamodb.copy-table\"\nfrom = \"a{reads}\"\nto = \"{{{{ params.{param} }}}}\"\n")),
        }
        if s.flags & 1 != 0 {
            t.push_str("ends_rto = true\n");
        }
        if s.flags & 2 != 0 {
            t.push_str("cleanup = true\n");
        }
        if s.flags & 4 != 0 {
            t.push_str("only_in = \"drill\"\n");
        }
        if s.flags & 8 != 0 {
            t.push_str("on_failure = \"continue\"\nretry = { attempts = 2, backoff = \"5s\" }\n");
        }
        t.push('\n');
    }
    t
}
