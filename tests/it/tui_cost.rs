//! The run screen's header with the AWS cost so far and the estimate.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use dr_drill::cost::prices::{Money, Prices};
use dr_drill::engine::event::{EventKind, Outcome, RunEvent};
use dr_drill::engine::plan::Plan;
use dr_drill::runbook::Mode;
use dr_drill::tui::app::{App, Msg};
use dr_drill::tui::view::draw;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::tui_view::{app, at};

const PRICES: &str = r#"
[us-east-1]
backup-restore-dynamodb = { usd = "0.15", per = "GB", read = "2026-12-03", source = "https://aws.amazon.com/backup/pricing/" }
"#;

fn event(secs: u64, kind: EventKind) -> Msg {
    Msg::Engine(RunEvent {
        at: at(secs),
        elapsed: Duration::from_secs(secs),
        kind,
    })
}

fn header(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(120, 32)).unwrap();
    terminal.draw(|f| draw(f, app)).unwrap();
    let screen = terminal.backend().to_string();
    screen.lines().take(5).collect::<Vec<_>>().join("\n")
}

fn restored_app(prices: Option<Prices>) -> App {
    let mut app = app();
    app.prices = prices;
    app.cost_estimate = Some(Money(2_380_000));
    let plan = Plan::new(&app.runbook, Mode::Drill).unwrap();
    app.started(&plan, Mode::Drill, Some(at(0)), None, Default::default());
    let finished = |step: &str, outputs: BTreeMap<String, String>| EventKind::StepFinished {
        step: step.into(),
        outcome: Outcome::Succeeded,
        outputs,
        reason: None,
    };
    for msg in [
        event(
            0,
            EventKind::RunStarted {
                run_id: "r1".into(),
                mode: Mode::Drill,
                t0: at(0),
            },
        ),
        event(
            0,
            EventKind::StepStarted {
                step: "pick".into(),
                attempt: 1,
            },
        ),
        event(
            2,
            finished(
                "pick",
                BTreeMap::from([
                    (
                        "arn".to_string(),
                        "arn:aws:backup:us-east-1:111122223333:recovery-point:p1".to_string(),
                    ),
                    ("size_bytes".to_string(), (5u64 << 30).to_string()),
                ]),
            ),
        ),
        event(
            3,
            EventKind::StepStarted {
                step: "restore".into(),
                attempt: 1,
            },
        ),
        event(9, finished("restore", BTreeMap::new())),
    ] {
        app.update(msg);
    }
    app.now = at(10);
    app
}

#[test]
fn the_header_shows_the_cost_so_far_and_the_estimate() {
    let mut prices = Prices::default();
    prices
        .read_file(Path::new("prices.toml"), PRICES, false)
        .unwrap();
    let app = restored_app(Some(prices));
    let header = header(&app);
    // The restore of the picked 5 GB point: 5 × $0.15 = $0.75.
    assert!(header.contains("~$0.75 so far · est. $2.38"), "{header}");
    insta::assert_snapshot!(header);
}

#[test]
fn without_prices_the_header_shows_no_cost() {
    let header = header(&restored_app(None));
    assert!(!header.contains("so far"), "{header}");
}
