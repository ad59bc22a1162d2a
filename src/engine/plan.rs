//! The step graph of one run: the steps that run in its mode, what each
//! needs and what needs it, an order that respects `needs`, and the groups
//! of steps that can run side by side.

use crate::runbook::{Mode, Runbook};

/// The graph the scheduler walks; step numbers index `Runbook::steps`.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The mode the plan is for.
    pub mode: Mode,
    /// Whether each step runs in this mode.
    pub included: Vec<bool>,
    /// The steps each step needs.
    pub needs: Vec<Vec<usize>>,
    /// The steps that need each step.
    pub dependents: Vec<Vec<usize>>,
    /// Included steps, each after everything it needs; main steps first,
    /// then cleanup steps.
    pub order: Vec<usize>,
    /// Groups of steps with no path between them: group k holds the steps
    /// whose longest chain of needs has k links (cleanup groups last).
    pub groups: Vec<Vec<usize>>,
}

/// The runbook's graph is not a DAG of known steps; `check` reports this
/// before a run, so it means the runbook was not checked.
#[derive(Debug, thiserror::Error)]
#[error("the runbook's step graph is invalid ({0}); run `dr-drill check` on it")]
pub struct PlanError(String);

impl Plan {
    /// The plan of `runbook` in `mode`.
    pub fn new(runbook: &Runbook, mode: Mode) -> Result<Plan, PlanError> {
        let n = runbook.steps.len();
        let index = runbook.step_index();
        let included: Vec<bool> = runbook.steps.iter().map(|s| s.runs_in(mode)).collect();
        let mut needs = vec![Vec::new(); n];
        let mut dependents = vec![Vec::new(); n];
        for (i, step) in runbook.steps.iter().enumerate() {
            for need in &step.needs {
                let &d = index.get(need.value.as_str()).ok_or_else(|| {
                    PlanError(format!(
                        "`{}` needs unknown `{}`",
                        step.id.value, need.value
                    ))
                })?;
                if included[i] && !included[d] {
                    return Err(PlanError(format!(
                        "`{}` needs `{}`, which does not run in {} mode",
                        step.id.value,
                        need.value,
                        mode.as_str()
                    )));
                }
                needs[i].push(d);
                dependents[d].push(i);
            }
        }
        // Longest chain of needs, by Kahn's algorithm in runbook order.
        let mut indegree: Vec<usize> = needs.iter().map(Vec::len).collect();
        let mut ready: std::collections::VecDeque<usize> =
            (0..n).filter(|&i| indegree[i] == 0).collect();
        let mut depth = vec![0usize; n];
        let mut topo = Vec::with_capacity(n);
        while let Some(i) = ready.pop_front() {
            topo.push(i);
            for &j in &dependents[i] {
                depth[j] = depth[j].max(depth[i] + 1);
                indegree[j] -= 1;
                if indegree[j] == 0 {
                    ready.push_back(j);
                }
            }
        }
        if topo.len() != n {
            return Err(PlanError("the steps form a cycle".into()));
        }
        // Cleanup runs after every main step, so its groups come after
        // theirs, ordered among themselves by chains of cleanup needs.
        let is_cleanup = |i: usize| runbook.steps[i].cleanup;
        let mut cleanup_depth = vec![0usize; n];
        for &i in &topo {
            for &d in &needs[i] {
                if is_cleanup(d) {
                    cleanup_depth[i] = cleanup_depth[i].max(cleanup_depth[d] + 1);
                }
            }
        }
        let main_groups = topo
            .iter()
            .filter(|&&i| included[i] && !is_cleanup(i))
            .map(|&i| depth[i] + 1)
            .max()
            .unwrap_or(0);
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut order = Vec::new();
        for cleanup_pass in [false, true] {
            for &i in topo
                .iter()
                .filter(|&&i| included[i] && is_cleanup(i) == cleanup_pass)
            {
                order.push(i);
                let group = if cleanup_pass {
                    main_groups + cleanup_depth[i]
                } else {
                    depth[i]
                };
                if groups.len() <= group {
                    groups.resize(group + 1, Vec::new());
                }
                groups[group].push(i);
            }
        }
        groups.retain(|g| !g.is_empty());
        Ok(Plan {
            mode,
            included,
            needs,
            dependents,
            order,
            groups,
        })
    }
}
