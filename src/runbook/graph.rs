//! The `needs` graph of a runbook's steps: a topological order (or the
//! cycle that prevents one) and "is this step upstream of that one?".
//! Reads steps only; reporting is `validate`'s business.

use std::collections::HashMap;

use fixedbitset::FixedBitSet;

use super::model::Step;

/// Answers "is step `t` upstream of step `s`?". A direct `needs` entry
/// answers at once; otherwise the sets of ancestors of every step are built
/// once, in topological order, so each further question costs one bit test
/// whatever the shape of the graph (many steps reading one early step, or
/// each reading a distant one). With a cycle there is no order and no
/// answer: the cycle is reported, and upstream checks are skipped.
pub(super) struct Upstream<'a> {
    steps: &'a [Step],
    /// Step ids to their index.
    pub(super) index: &'a HashMap<&'a str, usize>,
    order: Option<&'a [usize]>,
    ancestors: std::cell::OnceCell<Vec<FixedBitSet>>,
}

impl<'a> Upstream<'a> {
    /// The questions about `steps`, whose topological `order` is known
    /// unless the graph has a cycle.
    pub(super) fn new(
        steps: &'a [Step],
        index: &'a HashMap<&'a str, usize>,
        order: Option<&'a [usize]>,
    ) -> Self {
        Self {
            steps,
            index,
            order,
            ancestors: Default::default(),
        }
    }

    fn needs(&self, i: usize) -> impl Iterator<Item = usize> + '_ {
        self.steps[i]
            .needs
            .iter()
            .filter_map(|n| self.index.get(n.value.as_str()).copied())
    }

    /// Whether step `t` is upstream of step `s`.
    pub(super) fn reaches(&self, s: usize, t: usize) -> bool {
        if self.needs(s).any(|d| d == t) {
            return true;
        }
        let Some(order) = self.order else { return true };
        let ancestors = self.ancestors.get_or_init(|| {
            let n = self.steps.len();
            let mut sets = vec![FixedBitSet::with_capacity(n); n];
            for &i in order {
                let mut set = FixedBitSet::with_capacity(n);
                for d in self.needs(i) {
                    set.union_with(&sets[d]);
                    set.insert(d);
                }
                sets[i] = set;
            }
            sets
        });
        ancestors[s].contains(t)
    }
}

/// The steps in a topological order of the `needs` graph (each after the
/// steps it needs), or a cycle as step indexes in dependency order (each
/// needs the one before it, the first needs the last).
pub(super) fn topological_order(
    steps: &[Step],
    index: &HashMap<&str, usize>,
) -> Result<Vec<usize>, Vec<usize>> {
    // Kahn's algorithm: what remains after peeling ready steps is cyclic.
    let n = steps.len();
    let mut indegree = vec![0usize; n];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, step) in steps.iter().enumerate() {
        for need in &step.needs {
            if let Some(&d) = index.get(need.value.as_str()) {
                indegree[i] += 1;
                dependents[d].push(i);
            }
        }
    }
    let mut ready: Vec<usize> = (0..n).filter(|&i| indegree[i] == 0).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(i) = ready.pop() {
        order.push(i);
        for &j in &dependents[i] {
            indegree[j] -= 1;
            if indegree[j] == 0 {
                ready.push(j);
            }
        }
    }
    if order.len() == n {
        return Ok(order);
    }
    // Walk `needs` edges inside the remainder until a step repeats.
    let start = (0..n)
        .find(|&i| indegree[i] > 0)
        .expect("Kahn left steps behind, so one has indegree");
    let mut path = vec![start];
    let mut on_path = HashMap::from([(start, 0usize)]);
    let mut current = start;
    loop {
        let next = steps[current]
            .needs
            .iter()
            .filter_map(|need| index.get(need.value.as_str()).copied())
            .find(|&d| indegree[d] > 0)
            .expect("a step left by Kahn needs another one left");
        if let Some(&at) = on_path.get(&next) {
            let mut cycle = path[at..].to_vec();
            // `path` follows needs edges; report in dependency order.
            cycle.reverse();
            return Err(cycle);
        }
        on_path.insert(next, path.len());
        path.push(next);
        current = next;
    }
}
