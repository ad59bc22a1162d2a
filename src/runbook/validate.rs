//! Checks that need the whole runbook: ids, the `needs` graph, phases,
//! templates (data must flow along the graph), modes and cleanup, and the
//! warnings that save a drill from a surprise.

use std::collections::{HashMap, HashSet};

use super::diagnostic::{Code, Diagnostic, did_you_mean};
use super::field::{Dur, Text};
use super::graph::{Upstream, topological_order};
use super::kinds::{StepAction, StepChecks};
use super::model::{FORMAT_VERSION, Mode, ParamType, Runbook, Span, Spanned, Step};
use super::shell_lex::{self, Reparse};
use super::template::{self, RUN_VARS, Var};

/// Appends every finding about `rb` (parsed from `source`) to `out`.
pub fn validate(rb: &Runbook, source: &str, out: &mut Vec<Diagnostic>) {
    let mut v = Validator { rb, source, out };
    v.header();
    v.params();
    let phases = v.phases();
    let index = v.step_ids();
    v.step_fields(&phases, &index);
    let order = v.needs(&index);
    v.templates(&index, order.as_deref());
    v.rto();
}

struct Validator<'a> {
    rb: &'a Runbook,
    source: &'a str,
    out: &'a mut Vec<Diagnostic>,
}

const ID_HELP: &str = "names use lowercase letters, digits, `-` and `_`, and start with a letter";

fn valid_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

impl<'a> Validator<'a> {
    fn push(&mut self, d: Diagnostic) {
        self.out.push(d);
    }

    fn check_id(&mut self, what: &str, id: &Spanned<String>) {
        if !valid_id(&id.value) {
            self.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    id.span,
                    format!("{what} `{}` is not a valid name", id.value),
                )
                .with_help(ID_HELP),
            );
        }
    }

    fn header(&mut self) {
        let h = &self.rb.runbook;
        if let Some(format) = &h.format
            && format.value != FORMAT_VERSION
        {
            self.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        format.span,
                        format!("runbook format {} is not supported by this dr-drill", format.value),
                    )
                    .with_help(format!("this build reads format {FORMAT_VERSION}; upgrade dr-drill or rewrite the runbook")),
                );
        }
        self.check_id("runbook id", &h.id);
        if h.title.value.trim().is_empty() {
            self.push(
                Diagnostic::error(Code::InvalidValue, h.title.span, "the title is empty")
                    .with_help("say in one line what this runbook restores"),
            );
        }
    }

    fn params(&mut self) {
        for p in &self.rb.params {
            self.check_id("parameter", &p.name);
            self.no_repeats("`choices`", &p.choices);
            if let (Some(default), false) = (&p.default, p.choices.is_empty())
                && !p.choices.iter().any(|c| c.value == default.value)
            {
                let choices: Vec<&str> = p.choices.iter().map(|c| c.value.as_str()).collect();
                self.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        default.span,
                        format!(
                            "the default of `{}` is not one of its choices",
                            p.name.value
                        ),
                    )
                    .with_help(format!("use one of: {}", choices.join(", "))),
                );
            }
            if p.required && p.default.is_some() {
                self.push(
                    Diagnostic::error(
                        Code::Conflict,
                        p.name.span,
                        format!("parameter `{}` is required and also has a default", p.name.value),
                    )
                    .with_help("remove `required = true` (the default makes a value certain) or remove the default"),
                );
            }
            if p.secret && p.default.is_some() {
                self.push(
                    Diagnostic::warning(
                        Code::SecretDefault,
                        p.name.span,
                        format!(
                            "secret parameter `{}` has a default written in the runbook",
                            p.name.value
                        ),
                    )
                    .with_help("give secrets at run time (--param NAME=VALUE), not in the file"),
                );
            }
        }
    }

    fn phases(&mut self) -> HashMap<&'a str, Span> {
        let rb: &'a Runbook = self.rb;
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for phase in &rb.phases {
            self.check_id("phase id", &phase.id);
            if let Some(first) = seen.insert(&phase.id.value, phase.id.span) {
                self.push(
                    Diagnostic::error(
                        Code::DuplicateId,
                        phase.id.span,
                        format!("phase `{}` is declared twice", phase.id.value),
                    )
                    .with_label("declared again here")
                    .with_note(first, "first declared here")
                    .with_help("give each phase its own id"),
                );
            }
        }
        let used: HashSet<&str> = rb
            .steps
            .iter()
            .filter_map(|s| s.phase.as_ref())
            .map(|p| p.value.as_str())
            .collect();
        // A misspelt phase on a step leaves its phase empty: the unknown-phase
        // error says it all, so hold the empty-phase warnings back then.
        if used.iter().any(|u| !seen.contains_key(u)) {
            return seen;
        }
        for phase in &rb.phases {
            if !used.contains(phase.id.value.as_str()) {
                self.push(
                    Diagnostic::warning(
                        Code::EmptyPhase,
                        phase.id.span,
                        format!("phase `{}` has no steps", phase.id.value),
                    )
                    .with_help(format!(
                        "add `phase = \"{}\"` to its steps, or remove the phase",
                        phase.id.value
                    )),
                );
            }
        }
        seen
    }

    fn step_ids(&mut self) -> HashMap<&'a str, usize> {
        let rb: &'a Runbook = self.rb;
        let mut index: HashMap<&str, usize> = HashMap::with_capacity(rb.steps.len());
        for (i, step) in rb.steps.iter().enumerate() {
            self.check_id("step id", &step.id);
            if let Some(&first) = index.get(step.id.value.as_str()) {
                self.push(
                    Diagnostic::error(
                        Code::DuplicateId,
                        step.id.span,
                        format!("step `{}` is declared twice", step.id.value),
                    )
                    .with_label("declared again here")
                    .with_note(rb.steps[first].id.span, "first declared here")
                    .with_help("give each step its own id"),
                );
            } else {
                index.insert(&step.id.value, i);
            }
        }
        index
    }

    fn step_fields(&mut self, phases: &HashMap<&str, Span>, index: &HashMap<&str, usize>) {
        let rb = self.rb;
        let mut ends_rto: Option<&Step> = None;
        for step in &rb.steps {
            if let Some(phase) = &step.phase
                && !phases.contains_key(phase.value.as_str())
            {
                let declared: Vec<&str> = rb.phases.iter().map(|p| p.id.value.as_str()).collect();
                let help = match did_you_mean(&phase.value, declared.iter().copied()) {
                    Some(close) => format!("did you mean `{close}`?"),
                    None if declared.is_empty() => {
                        format!("declare it: [[phase]] id = \"{}\"", phase.value)
                    }
                    None => format!(
                        "declare it with [[phase]], or use one of: {}",
                        declared.join(", ")
                    ),
                };
                self.push(
                    Diagnostic::error(
                        Code::UnknownPhase,
                        phase.span,
                        format!(
                            "step `{}` names unknown phase `{}`",
                            step.id.value, phase.value
                        ),
                    )
                    .with_help(help),
                );
            }
            if let Some(retry) = &step.retry
                && retry.attempts.value == 0
            {
                self.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        retry.attempts.span,
                        "`attempts` counts the first try and must be at least 1",
                    )
                    .with_help("write `attempts = 3` for the first try and two retries"),
                );
            }
            if step.ends_rto {
                if step.cleanup {
                    self.push(
                        Diagnostic::error(Code::Conflict, step.id.span, format!("cleanup step `{}` cannot end the RTO clock", step.id.value))
                            .with_help("cleanup happens after recovery; mark the step that restores service with `ends_rto = true`"),
                    );
                }
                if let Some(first) = ends_rto {
                    self.push(
                        Diagnostic::error(Code::Conflict, step.id.span, "more than one step has `ends_rto = true`")
                            .with_note(first.id.span, "this step ends the RTO clock too")
                            .with_help("the RTO clock stops once: keep `ends_rto` on the step that restores service"),
                    );
                } else {
                    ends_rto = Some(step);
                }
            }
            if step.timeout.is_none()
                && let Some(polled) = step.action.polled_until_done()
            {
                self.push(
                    Diagnostic::warning(
                        Code::WaitWithoutTimeout,
                        step.id.span,
                        format!(
                            "{} step `{}` has no timeout",
                            step.action.kind(),
                            step.id.value
                        ),
                    )
                    .with_label(format!("{polled} may be polled forever"))
                    .with_help("add `timeout = \"30m\"` (or what the wait can take at most)"),
                );
            }
            if let Some(confirm) = &step.confirm
                && confirm.value.trim().is_empty()
            {
                self.push(
                    Diagnostic::error(
                        Code::InvalidValue,
                        confirm.span,
                        format!("step `{}` has an empty `confirm`", step.id.value),
                    )
                    .with_label("a bare Enter would confirm it")
                    .with_help("name what the step destroys, e.g. confirm = \"{{ params.table }}\", or remove `confirm` to type what the kind acts on"),
                );
            }
            if step.is_destructive() && step.confirm_text().is_none() {
                self.push(
                    Diagnostic::warning(
                        Code::NoConfirmText,
                        step.id.span,
                        format!("destructive step `{}` has no confirm text", step.id.value),
                    )
                    .with_label("the operator will have to type the step id")
                    .with_help("add `confirm = \"...\"` naming what is destroyed, e.g. the table or vault name"),
                );
            }
            self.no_repeats("`needs`", &step.needs);
            for need in &step.needs {
                if let Some(&dep) = index.get(need.value.as_str()) {
                    self.mode_and_cleanup(step, need, &rb.steps[dep]);
                }
            }
            self.step_rules(step);
        }
    }

    /// Reports the second and later occurrences of a value in a list.
    fn no_repeats(&mut self, what: &str, items: &[Spanned<String>]) {
        let mut seen: HashMap<&str, Span> = HashMap::new();
        for item in items {
            if let Some(first) = seen.insert(&item.value, item.span) {
                self.push(
                    Diagnostic::error(
                        Code::DuplicateId,
                        item.span,
                        format!("`{}` is listed twice in {what}", item.value),
                    )
                    .with_note(first, "first listed here")
                    .with_help("remove the repeat"),
                );
            }
        }
    }

    /// A template inside single quotes in a shell command would never
    /// expand: dr-drill passes values through the environment. A template
    /// where the shell parses its value again (`eval`, `trap`, `sh -c`,
    /// `ssh`, arithmetic) would run a `$(…)` in the value, unless it names
    /// a parameter declared `type = "command"`.
    fn shell_quoting(&mut self, command: &Spanned<String>) {
        let Ok(segments) = shell_lex::place(&command.value) else {
            return;
        };
        for (segment, placed) in segments {
            let template::Segment::Var(var, range) = segment else {
                continue;
            };
            // The same template may stand twice: point at this one.
            let needle = &command.value[range.clone()];
            let nth = command.value[..range.start].matches(needle).count();
            let span = self.locate_nth(command.span, needle, nth);
            if placed.quoting == template::Quoting::Single {
                self.push(
                    Diagnostic::error(Code::Template, span, format!("`{{{{ {var} }}}}` stands inside single quotes in a shell command"))
                        .with_label("nothing expands inside '...'")
                        .with_help("close the quotes around it: 'restoring '{{ params.table }}; dr-drill passes the value safely itself"),
                );
                continue;
            }
            let Some(reparse) = placed.reparse else {
                continue;
            };
            // A command the operator gives is code by declaration; a
            // number parameter is checked to be digits before the run.
            let numeric = matches!(reparse, Reparse::Arithmetic | Reparse::DoubleBracket);
            if let Var::Param(name) = &var
                && self.rb.params.iter().any(|p| {
                    &p.name.value == name
                        && (p.kind == ParamType::Command || numeric && p.kind == ParamType::Number)
                })
            {
                continue;
            }
            let (label, help) = reparse_words(reparse, &var);
            self.push(
                Diagnostic::error(
                    Code::Template,
                    span,
                    format!(
                        "`{{{{ {var} }}}}` stands where the shell parses its value a second time"
                    ),
                )
                .with_label(label)
                .with_help(help),
            );
        }
    }

    /// Rules about one step's own fields that toml reading cannot express.
    fn step_rules(&mut self, step: &Step) {
        let conflict = |span: Span, message: String, help: &str| {
            Diagnostic::error(Code::Conflict, span, message).with_help(help.to_string())
        };
        if let Some(retry) = &step.retry
            && let (Some(backoff), Some(max)) = (retry.backoff, retry.max_backoff)
            && backoff.0 > max.0
        {
            self.push(conflict(
                retry.attempts.span,
                "`backoff` is longer than `max_backoff`".into(),
                "make `max_backoff` at least `backoff`, or drop it",
            ));
        }
        if let Some(owner) = &step.owner {
            self.check_id("`owner`", owner);
        }
        step.action.check(&mut StepView { v: self, step });
    }

    /// A decryption key comes from one secret parameter: written in the
    /// file or taken from a plain one, it would sit in the runbook or the
    /// journal.
    fn secret_key(&mut self, key: &Spanned<String>) {
        let Ok(segments) = template::parse(&key.value) else {
            return; // reported by the template checks
        };
        let mut params = Vec::new();
        let mut other = false;
        for segment in &segments {
            match segment {
                template::Segment::Var(Var::Param(p), _) => params.push(p.as_str()),
                template::Segment::Literal(text) if text.trim().is_empty() => {}
                _ => other = true,
            }
        }
        let help = "declare the key as `key_param = { required = true, secret = true }` under [params] and write key = \"{{ params.key_param }}\"";
        if other || params.len() != 1 {
            self.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    key.span,
                    "`key` must be exactly one secret parameter, `{{ params.NAME }}`",
                )
                .with_help(help),
            );
            return;
        }
        let name = params[0];
        if let Some(p) = self.rb.params.iter().find(|p| p.name.value == name)
            && !p.secret
        {
            self.push(
                Diagnostic::error(
                    Code::InvalidValue,
                    key.span,
                    format!("`key` reads parameter `{name}`, which is not secret: the key would be shown and journaled"),
                )
                .with_help(format!("add `secret = true` to parameter `{name}`")),
            );
        }
    }

    /// A step must not depend on one that will not run when it runs.
    fn mode_and_cleanup(&mut self, step: &Step, need: &Spanned<String>, dep: &Step) {
        if !step.cleanup && dep.cleanup {
            self.push(
                Diagnostic::error(Code::Conflict, need.span, format!("step `{}` needs cleanup step `{}`", step.id.value, dep.id.value))
                    .with_help("cleanup steps run after all others; mark this step `cleanup = true` too, or drop the dependency"),
            );
        }
        for mode in [Mode::Drill, Mode::Incident] {
            if step.runs_in(mode) && !dep.runs_in(mode) {
                self.push(
                    Diagnostic::error(
                        Code::Conflict,
                        need.span,
                        format!(
                            "step `{}` runs in {} mode but needs `{}`, which runs only in {} mode",
                            step.id.value,
                            mode.as_str(),
                            dep.id.value,
                            dep.only_in.as_ref().map_or("", |m| m.value.as_str())
                        ),
                    )
                    .with_help(format!(
                        "add `only_in = \"{}\"` to `{}` as well, or drop the dependency",
                        dep.only_in.as_ref().map_or("", |m| m.value.as_str()),
                        step.id.value
                    )),
                );
                break;
            }
        }
    }

    /// Checks `needs` references and, when they all resolve, looks for a
    /// cycle. Returns a topological order when the graph is a DAG.
    fn needs(&mut self, index: &HashMap<&str, usize>) -> Option<Vec<usize>> {
        let steps = &self.rb.steps;
        let mut ok = true;
        for step in steps {
            for need in &step.needs {
                if need.value == step.id.value {
                    ok = false;
                    self.push(
                        Diagnostic::error(
                            Code::Cycle,
                            need.span,
                            format!("step `{}` needs itself", step.id.value),
                        )
                        .with_help("remove it from its own `needs`"),
                    );
                } else if !index.contains_key(need.value.as_str()) {
                    ok = false;
                    let help = match did_you_mean(&need.value, index.keys().copied()) {
                        Some(close) => format!("did you mean `{close}`?"),
                        None => "name the id of a step declared in this runbook".to_string(),
                    };
                    self.push(
                        Diagnostic::error(
                            Code::UnknownStep,
                            need.span,
                            format!(
                                "step `{}` needs unknown step `{}`",
                                step.id.value, need.value
                            ),
                        )
                        .with_help(help),
                    );
                }
            }
        }
        if !ok {
            return None;
        }
        match topological_order(steps, index) {
            Ok(order) => Some(order),
            Err(cycle) => {
                let path: Vec<&str> = cycle
                    .iter()
                    .chain(cycle.first())
                    .map(|&i| steps[i].id.value.as_str())
                    .collect();
                let first = &steps[cycle[0]];
                let mut d = Diagnostic::error(
                    Code::Cycle,
                    first.id.span,
                    format!("the steps form a cycle: {}", path.join(" -> ")),
                )
                .with_label("this step is part of the cycle")
                .with_help("a step cannot wait for itself; remove one of these `needs` entries");
                let closed: Vec<usize> = cycle.iter().chain(cycle.first()).copied().collect();
                for pair in closed.windows(2) {
                    let (from, to) = (&steps[pair[0]], &steps[pair[1]]);
                    if let Some(n) = to.needs.iter().find(|n| n.value == from.id.value) {
                        d = d.with_note(
                            n.span,
                            format!("`{}` needs `{}`", to.id.value, from.id.value),
                        );
                    }
                }
                self.push(d);
                None
            }
        }
    }

    fn templates(&mut self, index: &HashMap<&str, usize>, order: Option<&[usize]>) {
        let rb = self.rb;
        let upstream = Upstream::new(&rb.steps, index, order);
        for (si, step) in rb.steps.iter().enumerate() {
            for text in &step.templated {
                let refs = match template::references(&text.value) {
                    Ok(refs) => refs,
                    Err(e) => {
                        let span = self.locate(text.span, &text.value[e.range.clone()]);
                        self.push(
                            Diagnostic::error(Code::Template, span, e.message).with_help(e.help),
                        );
                        continue;
                    }
                };
                for (var, range) in refs {
                    let span = self.locate(text.span, &text.value[range]);
                    if let Some(d) = self.check_var(si, step, &var, span, &upstream) {
                        self.push(d);
                    }
                }
            }
        }
    }

    fn check_var(
        &self,
        si: usize,
        step: &Step,
        var: &Var,
        span: Span,
        upstream: &Upstream<'_>,
    ) -> Option<Diagnostic> {
        let index = upstream.index;
        let rb = self.rb;
        let error = |message: String, help: String| {
            Some(Diagnostic::error(Code::Template, span, message).with_help(help))
        };
        match var {
            Var::Param(name) => {
                if rb.param(name).is_some() {
                    return None;
                }
                let names = rb.params.iter().map(|p| p.name.value.as_str());
                let help = match did_you_mean(name, names) {
                    Some(close) => format!("did you mean `params.{close}`?"),
                    None => format!("declare it under [params]: {name} = {{ default = \"...\" }}"),
                };
                error(
                    format!("`{{{{ params.{name} }}}}` names an unknown parameter"),
                    help,
                )
            }
            Var::Run(name) => {
                if RUN_VARS.contains(&name.as_str()) {
                    return None;
                }
                error(
                    format!("`{{{{ run.{name} }}}}` is not a run variable"),
                    format!("the run variables are: {}", RUN_VARS.join(", ")),
                )
            }
            Var::StepOutput {
                step: target,
                output,
            } => {
                let Some(&ti) = index.get(target.as_str()) else {
                    let help = match did_you_mean(target, index.keys().copied()) {
                        Some(close) => format!("did you mean `steps.{close}`?"),
                        None => "name a step declared in this runbook".to_string(),
                    };
                    return error(
                        format!("`{{{{ steps.{target}.{output} }}}}` names an unknown step"),
                        help,
                    );
                };
                if ti == si {
                    return error(
                        format!("step `{}` reads its own output `{output}`", step.id.value),
                        "a step's outputs exist once it has finished; read them in a later step that needs this one".to_string(),
                    );
                }
                if !upstream.reaches(si, ti) {
                    return error(
                        format!(
                            "step `{}` reads `steps.{target}.{output}`, but `{target}` is not upstream of it",
                            step.id.value
                        ),
                        format!(
                            "data flows along the graph: add `{target}` to this step's `needs` (or to a step it needs)"
                        ),
                    );
                }
                let outputs = rb.steps[ti].action.outputs();
                if outputs.contains(&output.as_str()) {
                    return None;
                }
                let kind = rb.steps[ti].action.kind();
                let mut help = match did_you_mean(output, outputs.iter().copied()) {
                    Some(close) => format!("did you mean `steps.{target}.{close}`? "),
                    None => String::new(),
                };
                if matches!(rb.steps[ti].action, StepAction::Shell(_)) {
                    help.push_str(&format!(
                        "declare it on `{target}`: outputs = [\"{output}\"]; it has: {}",
                        outputs.join(", ")
                    ));
                } else {
                    help.push_str(&format!(
                        "a `{kind}` step has the outputs: {}",
                        outputs.join(", ")
                    ));
                }
                error(
                    format!("step `{target}` ({kind}) has no output `{output}`"),
                    help,
                )
            }
        }
    }

    /// The span of `needle` inside the string written at `span`, or the
    /// whole string when escapes make the raw text differ.
    /// The `nth` (from 0) occurrence of `needle` in the source of `span`.
    fn locate_nth(&self, span: Span, needle: &str, nth: usize) -> Span {
        let raw = self.source.get(span.start..span.end).unwrap_or("");
        match raw.match_indices(needle).nth(nth) {
            Some((i, _)) => Span::new(span.start + i, span.start + i + needle.len()),
            None => self.locate(span, needle),
        }
    }

    fn locate(&self, span: Span, needle: &str) -> Span {
        let raw = self.source.get(span.start..span.end).unwrap_or("");
        match raw.find(needle) {
            Some(i) => Span::new(span.start + i, span.start + i + needle.len()),
            None => span,
        }
    }

    fn rto(&mut self) {
        let rb = self.rb;
        let Some(rto) = &rb.runbook.rto else { return };
        let ends: Vec<&Step> = rb.steps.iter().filter(|s| s.ends_rto).collect();
        if ends.is_empty() {
            self.push(
                Diagnostic::warning(
                    Code::NoRtoEnd,
                    rto.span,
                    "an RTO target is set but no step ends the RTO clock",
                )
                .with_label("the RTO cannot be measured")
                .with_help("mark the step that restores service with `ends_rto = true`"),
            );
            return;
        }
        for mode in [Mode::Drill, Mode::Incident] {
            if !ends.iter().any(|s| s.runs_in(mode)) {
                self.push(
                    Diagnostic::warning(
                        Code::NoRtoEnd,
                        ends[0].id.span,
                        format!("in {} mode no step ends the RTO clock", mode.as_str()),
                    )
                    .with_label(format!(
                        "this step runs only in {} mode",
                        ends[0].only_in.as_ref().map_or("", |m| m.value.as_str())
                    ))
                    .with_help("end the RTO on a step that runs in both modes"),
                );
            }
        }
    }
}

/// The validator as a kind's checks see it: about one step.
struct StepView<'v, 'a, 's> {
    v: &'v mut Validator<'a>,
    step: &'s Step,
}

impl StepChecks for StepView<'_, '_, '_> {
    fn timeout(&self) -> Option<&Spanned<Dur>> {
        self.step.timeout.as_ref()
    }

    fn push(&mut self, diagnostic: Diagnostic) {
        self.v.push(diagnostic);
    }

    fn no_repeats(&mut self, what: &str, items: &[Spanned<String>]) {
        self.v.no_repeats(what, items);
    }

    fn check_id(&mut self, what: &str, id: &Spanned<String>) {
        self.v.check_id(what, id);
    }

    fn shell_quoting(&mut self, command: &Text) {
        self.v.shell_quoting(command);
    }

    fn secret_key(&mut self, key: &Text) {
        self.v.secret_key(key);
    }
}

/// What a context that parses a value twice does, and the safe pattern.
fn reparse_words(reparse: Reparse, var: &Var) -> (String, String) {
    let command = "; if the value is a command the operator gives, declare its parameter `type = \"command\"`";
    match reparse {
        Reparse::ShellC(shell) => (
            format!("`{shell}` runs its command string as a script: a `$(…)` in the value would run"),
            format!("pass the value as an argument after the script: {shell} '… \"$1\"' _ {{{{ {var} }}}}{command}"),
        ),
        Reparse::SuC => (
            "`su -c` runs its command as a script: a `$(…)` in the value would run".into(),
            format!("keep the value out of the command string: sudo -u USER sh -c '… \"$1\"' _ {{{{ {var} }}}}{command}"),
        ),
        Reparse::Eval => (
            "`eval` parses the value again: a `$(…)` in it would run".into(),
            format!("run the command without eval: cmd {{{{ {var} }}}}, or pass the value as an argument: sh -c '… \"$1\"' _ {{{{ {var} }}}}{command}"),
        ),
        Reparse::Trap => (
            "`trap` parses its action again when the signal comes: a `$(…)` in the value would run".into(),
            format!("put the value in a variable and quote it inside a single-quoted action: v={{{{ {var} }}}}; trap 'rm -f \"$v\"' EXIT"),
        ),
        Reparse::Ssh => (
            "`ssh` joins its arguments into one line the remote shell parses: a `$(…)` in the value would run there".into(),
            format!("send the value on standard input: printf '%s\\n' {{{{ {var} }}}} | ssh HOST 'read -r v; … \"$v\"'"),
        ),
        Reparse::Arithmetic => (
            "`$(( ))`, `(( ))` and `let` evaluate the value as an expression, and bash runs a `$(…)` in an array index".into(),
            format!("check that it is a number first: n={{{{ {var} }}}}; case $n in ''|*[!0-9]*) echo \"not a number: $n\" >&2; exit 2;; esac; echo $((n + 1)), or declare the parameter `type = \"number\"`"),
        ),
        Reparse::DoubleBracket => (
            "bash's `[[ … -eq … ]]` evaluates its operands as expressions: a `$(…)` in an array index would run".into(),
            format!("compare with `[`, which takes numbers only: [ {{{{ {var} }}}} -eq 3 ]"),
        ),
    }
}
