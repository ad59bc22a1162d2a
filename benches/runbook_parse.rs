//! Parse + validate generated runbooks of 10, 1,000 and 10,000 steps.
//! Target (issue 2): 10,000 steps in under 50 ms on the 2-core build machine.

use std::fmt::Write;
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use dr_drill::runbook::check_str;

/// A runbook shaped like real ones, scaled: phases of 100 steps, each step
/// needing its predecessor and a step further back (a DAG with fan-in),
/// templates reading params, nearby upstream outputs and the very first
/// step's output (as every step of a restore reads the picked point), a mix
/// of kinds.
fn generate(steps: usize) -> String {
    let mut t = String::with_capacity(steps * 200);
    t.push_str(
        "[runbook]\nid = \"generated\"\ntitle = \"Generated\"\nrto = \"4h\"\nrpo = \"15m\"\n\n",
    );
    t.push_str("[params]\ntable = { default = \"orders\" }\nrestored = { default = \"orders-restored\" }\n\n");
    for p in 0..steps.div_ceil(100) {
        writeln!(t, "[[phase]]\nid = \"p{p}\"\nbudget = \"30m\"\n").unwrap();
    }
    for i in 0..steps {
        writeln!(t, "[[step]]\nid = \"s{i}\"\nphase = \"p{}\"", i / 100).unwrap();
        if i > 0 {
            let far = i / 3;
            if far != i - 1 {
                writeln!(t, "needs = [\"s{}\", \"s{far}\"]", i - 1).unwrap();
            } else {
                writeln!(t, "needs = [\"s{}\"]", i - 1).unwrap();
            }
        }
        match i % 4 {
            0 => writeln!(t, "kind = \"dynamodb.count\"\ntable = \"{{{{ params.restored }}}}\"\ntimeout = \"10m\"").unwrap(),
            1 => writeln!(
                t,
                "kind = \"check\"\nassert = [{{ value = \"{{{{ steps.s{}.items }}}}\", at_least = 1 }}]",
                i - 1
            )
            .unwrap(),
            2 => writeln!(
                t,
                "kind = \"shell\"\nrun = \"echo {{{{ params.table }}}} {{{{ steps.s{}.items }}}}\"\noutputs = [\"rows\"]\nretry = {{ attempts = 3, backoff = \"30s\" }}",
                i - 2
            )
            .unwrap(),
            _ => writeln!(
                t,
                "kind = \"manual\"\ninstructions = \"Check {{{{ steps.s{}.rows }}}} rows of {{{{ steps.s0.items }}}}\"\nquestion = \"OK?\"",
                i - 1
            )
            .unwrap(),
        }
        if i + 1 == steps {
            t.push_str("ends_rto = true\n");
        }
        t.push('\n');
    }
    t
}

fn parse_and_validate(c: &mut Criterion) {
    let mut group = c.benchmark_group("check_str");
    for steps in [10usize, 1_000, 10_000] {
        let text = generate(steps);
        let checked = check_str(&text);
        assert!(
            checked.diagnostics.is_empty(),
            "generated runbook must be clean: {:?}",
            checked.diagnostics.first()
        );
        group.throughput(Throughput::Bytes(text.len() as u64));
        if steps >= 10_000 {
            group.sample_size(20);
        }
        group.bench_with_input(BenchmarkId::from_parameter(steps), &text, |b, text| {
            b.iter(|| check_str(black_box(text)))
        });
    }
    group.finish();
}

criterion_group!(benches, parse_and_validate, stages);
criterion_main!(benches);

fn stages(c: &mut Criterion) {
    let text = generate(10_000);
    let mut group = c.benchmark_group("stages_10000");
    group.sample_size(20);
    group.bench_function("toml_parse", |b| {
        b.iter(|| {
            let arena = toml_spanner::Arena::new();
            toml_spanner::parse(black_box(&text), &arena)
                .map(|_| ())
                .unwrap();
        })
    });
    group.finish();
}
