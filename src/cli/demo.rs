//! `dr-drill demo`: a shipped runbook in the console, on the simulated
//! world, with the parameters a drill there needs already filled in.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use super::cloud::CloudArgs;
use super::run::{CommonArgs, ConsoleRunbook, interactive};
use crate::runbook::Mode;
use crate::session::tools;

/// A shipped runbook the demo offers, built into the binary, with the
/// parameter values the simulated world needs: its account's role, and
/// local stand-ins for commands that would reach real infrastructure
/// (ECS, kubectl, Vault, terraform).
struct Shipped {
    name: &'static str,
    text: &'static str,
    params: &'static [(&'static str, &'static str)],
    /// What the programs its steps require (`requires`, e.g. PostgreSQL's
    /// client tools) ask of the machine, in words: the demo says it when
    /// one is missing.
    needs_why: &'static str,
    /// How many times faster than real time the world runs, unless
    /// `--speed` says otherwise.
    speed: f64,
}

const SIM_ROLE: &str = "arn:aws:iam::111122223333:role/cabal-backup-role";

const RUNBOOKS: &[Shipped] = &[
    Shipped {
        name: "cabal-backup-posture",
        text: include_str!("../../runbooks/cabal-backup-posture.toml"),
        params: &[],
        needs_why: "",
        speed: 60.0,
    },
    Shipped {
        name: "cabal-addresses-restore",
        text: include_str!("../../runbooks/cabal-addresses-restore.toml"),
        params: &[
            ("role_arn", SIM_ROLE),
            (
                "reconfigure_cmd",
                "echo 'mail tier: regenerating sendmail maps (simulated)'",
            ),
        ],
        needs_why: "",
        speed: 60.0,
    },
    Shipped {
        name: "cabal-pitr-table-restore",
        text: include_str!("../../runbooks/cabal-pitr-table-restore.toml"),
        params: &[(
            "reconfigure_cmd",
            "echo 'mail tier: picking up the restored table (simulated)'",
        )],
        needs_why: "",
        speed: 60.0,
    },
    Shipped {
        name: "cabal-mailbox-restore",
        text: include_str!("../../runbooks/cabal-mailbox-restore.toml"),
        // The sandbox lays the mailstore out under the run's directory
        // (sandbox-efs/<fs-id>/); the files are given the operator's own
        // uid, since giving them another needs root.
        params: &[
            ("user", "dana"),
            ("uid", UID),
            ("file_system_id", "fs-0c4b7e2d91a35f862"),
            ("mount", "sandbox-efs/fs-0c4b7e2d91a35f862"),
            ("role_arn", SIM_ROLE),
        ],
        needs_why: "",
        speed: 60.0,
    },
    Shipped {
        name: "cabal-dr-copyback",
        text: include_str!("../../runbooks/cabal-dr-copyback.toml"),
        params: &[("account_id", "111122223333"), ("role_arn", SIM_ROLE)],
        needs_why: "",
        speed: 60.0,
    },
    Shipped {
        name: "cabal-teardown",
        text: include_str!("../../runbooks/cabal-teardown.toml"),
        params: &[
            ("environment", "development"),
            (
                "destroy_cmd",
                "echo 'destroy workflow: 143 resources destroyed (simulated)'",
            ),
        ],
        needs_why: "",
        speed: 60.0,
    },
    Shipped {
        name: "gtin1-database-restore",
        text: include_str!("../../runbooks/gtin1-database-restore.toml"),
        // Each simulated dump holds its rows as of its own time.
        params: &[],
        needs_why: PG_WHY,
        speed: 60.0,
    },
    Shipped {
        name: "gtin1-media-restore",
        text: include_str!("../../runbooks/gtin1-media-restore.toml"),
        params: &[("prefix", "media/products/a1")],
        needs_why: "",
        // A Bulk restore from Deep Archive takes 12 to 14 hours: 14 s here.
        speed: 3600.0,
    },
    Shipped {
        name: "penguinmails-vault-restore-test",
        text: include_str!("../../runbooks/penguinmails-vault-restore-test.toml"),
        // The simulated snapshots are encrypted under this documented demo
        // key (assets/sandbox/penguinmails.toml); the "snapshot" is a
        // tar.gz of KV paths, which the stand-ins unpack and read.
        params: &[
            (
                "backup_key",
                "73616e64626f782d64656d6f2d6b65792d70656e6775696e6d61696c732d3332",
            ),
            ("vault_token", "sandbox-staging-token"),
            (
                "restore_cmd",
                "mkdir -p staging-vault && tar -C staging-vault -xzf",
            ),
            ("read_cmd", "cd staging-vault && cat"),
        ],
        needs_why: "",
        speed: 60.0,
    },
    Shipped {
        name: "leapmailr-quarterly-drill",
        text: include_str!("../../runbooks/leapmailr-quarterly-drill.toml"),
        params: &[
            ("database", "leapmailr_demo"),
            (
                "stop_cmd",
                "echo 'deployment.apps/backend scaled to 0 replicas (simulated)'",
            ),
            (
                "start_cmd",
                "echo 'deployment.apps/backend scaled to 3 replicas (simulated)'",
            ),
            ("health_cmd", "echo '{\"status\":\"ok\"} (simulated)'"),
        ],
        needs_why: PG_WHY,
        speed: 60.0,
    },
    Shipped {
        name: "cpam-pitr-drill",
        text: include_str!("../../runbooks/cpam-pitr-drill.toml"),
        // The simulated base backup and WAL are real; this is the moment
        // their recovery is known to land on (620 rows).
        params: &[
            ("target_time", CPAM_TARGET),
            ("min_rows", "600"),
            (
                "app_check_cmd",
                "psql -X -At -c 'select 1' && echo 'cpam-api: connected (simulated)'",
            ),
            (
                "metrics_cmd",
                "cat \"$METRICS_FILE\" && echo 'pushed to the pushgateway (simulated)'",
            ),
            (
                "notify_cmd",
                "printf 'to #cpam-dr (simulated): %s\\n' \"$DRILL_SUMMARY\"",
            ),
        ],
        needs_why: "recovers a real PostgreSQL base backup and WAL into a server it starts: \
install PostgreSQL's server (Debian: apt-get install postgresql) and put its programs on PATH \
(export PATH=/usr/lib/postgresql/15/bin:$PATH)",
        speed: 60.0,
    },
];

/// The moment the simulated CPAM backup is recovered to.
const CPAM_TARGET: &str = include_str!("../../assets/sandbox/cpam/target.txt").trim_ascii();

/// Stands for the operator's own uid in a demo value.
const UID: &str = "{uid}";

const PG_WHY: &str = "restores a real dump into PostgreSQL: install PostgreSQL's client tools \
(Debian: apt-get install postgresql-client) and point PGHOST, PGPORT and PGUSER at a server \
where you may create databases";

fn shipped(name: &str) -> &'static Shipped {
    RUNBOOKS
        .iter()
        .find(|r| r.name == name)
        .unwrap_or(&RUNBOOKS[0])
}

/// Arguments of `dr-drill demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Which shipped runbook (`--list` shows them).
    #[arg(long, default_value = "cabal-addresses-restore", value_parser = runbook_names())]
    pub runbook: String,
    /// List the shipped runbooks the demo offers, and what each needs.
    #[arg(long)]
    pub list: bool,
    /// Print the `--param NAME=VALUE` arguments the demo gives the runbook,
    /// one per line, and exit (to replay the demo headless with
    /// `dr-drill run RUNBOOK --sandbox --headless`).
    #[arg(long, hide = true)]
    pub print_params: bool,
    /// Simulated time runs this many times faster than real time [default:
    /// 60, or 3600 for gtin1-media-restore, whose Deep Archive restore takes
    /// half a day].
    #[arg(long, value_name = "FACTOR")]
    pub speed: Option<f64>,
    /// Where the demo's runs are kept [default: $DR_DRILL_DATA_DIR, or the user's data directory].
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

fn runbook_names() -> clap::builder::PossibleValuesParser {
    clap::builder::PossibleValuesParser::new(RUNBOOKS.iter().map(|r| r.name))
}

pub(super) fn run(
    args: &DemoArgs,
    runtime: &tokio::runtime::Runtime,
) -> color_eyre::Result<ExitCode> {
    if args.list {
        for r in RUNBOOKS {
            let title = crate::runbook::check_str(r.text)
                .runbook
                .map(|rb| rb.runbook.title.value)
                .unwrap_or_default();
            println!("{:<34} {title}", r.name);
            let needs = crate::runbook::check_str(r.text)
                .runbook
                .map(|rb| tools::required(&rb).into_keys().collect::<Vec<_>>())
                .unwrap_or_default();
            if !needs.is_empty() {
                println!("{:<34} needs: {}", "", needs.join(", "));
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let shipped = shipped(&args.runbook);
    let checked = crate::runbook::check_str(shipped.text);
    let Some(runbook) = checked.runbook else {
        return Err(color_eyre::eyre::eyre!(
            "the built-in runbook {} does not pass check; this is a bug",
            shipped.name
        ));
    };
    let uid = nix::unistd::getuid().to_string();
    let params: BTreeMap<String, String> = shipped
        .params
        .iter()
        .map(|(k, v)| (k.to_string(), v.replace(UID, &uid)))
        .collect();
    if args.print_params {
        for (k, v) in &params {
            println!("{k}={v}");
        }
        return Ok(ExitCode::SUCCESS);
    }
    if let Some(missing) = tools::missing_message(&runbook) {
        return super::run::usage(format!(
            "the demo of {} {}; {missing}",
            shipped.name, shipped.needs_why,
        ));
    }
    let common = CommonArgs {
        given: super::run::GivenArgs {
            data_dir: args.data_dir.clone(),
            ..Default::default()
        },
        confirms: Vec::new(),
        answers: Vec::new(),
        output: super::run::Output::Text,
        max_parallel: crate::engine::DEFAULT_MAX_PARALLEL as u16,
        cloud: CloudArgs {
            sandbox: true,
            speed: Some(args.speed.unwrap_or(shipped.speed)),
            ..CloudArgs::default()
        },
        archive: Default::default(),
        team: Default::default(),
    };
    let console = ConsoleRunbook {
        runbook,
        text: shipped.text.to_owned(),
        path: PathBuf::from(format!("runbooks/{}.toml", shipped.name)),
        mode: Mode::Drill,
        params,
        roles: Default::default(),
    };
    interactive(runtime, console, &common, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shipped runbook passes check, its demo values name real
    /// parameters, and every required parameter gets one.
    #[test]
    fn every_demo_runbook_checks_and_has_its_parameters() {
        for r in RUNBOOKS {
            let checked = crate::runbook::check_str(r.text);
            let runbook = checked
                .runbook
                .unwrap_or_else(|| panic!("{} does not pass check", r.name));
            assert_eq!(
                runbook.runbook.id.value, r.name,
                "the demo names it by its id"
            );
            for (k, _) in r.params {
                assert!(runbook.param(k).is_some(), "{}: no parameter {k}", r.name);
            }
            for param in &runbook.params {
                let name = &param.name.value;
                if param.required {
                    assert!(
                        r.params.iter().any(|(k, _)| k == name),
                        "{}: required parameter {name} has no demo value",
                        r.name
                    );
                }
            }
        }
    }

    /// A runbook that requires programs says what they ask of the machine,
    /// and one that says so requires them.
    #[test]
    fn the_demo_words_match_what_each_runbook_requires() {
        for r in RUNBOOKS {
            let runbook = crate::runbook::check_str(r.text).runbook.unwrap();
            assert_eq!(
                tools::required(&runbook).is_empty(),
                r.needs_why.is_empty(),
                "{}",
                r.name
            );
        }
    }

    /// The demo offers every runbook in runbooks/.
    #[test]
    fn the_demo_offers_every_shipped_runbook() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("runbooks");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "toml"))
            .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        files.sort();
        let mut offered: Vec<String> = RUNBOOKS.iter().map(|r| r.name.to_owned()).collect();
        offered.sort();
        assert_eq!(offered, files);
    }
}
