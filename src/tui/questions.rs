//! The question overlay's queue: which question is on screen after one
//! is answered (here or elsewhere), and the step it is about in view.

use super::app::{App, Command, Screen};
use super::layer::Overlay;

impl App {
    /// The step the question on screen is about comes into view in the
    /// detail pane (a question waiting behind another moves it when its
    /// turn comes).
    pub(super) fn follow_question(&mut self) {
        let Some(step) = self.prompts.front().map(|p| p.request.step.clone()) else {
            return;
        };
        if let Screen::Run(view) = &mut self.screen
            && let Some(i) = view.steps.iter().position(|s| s.id == step)
            && view.selected != i
        {
            view.selected = i;
            view.scroll = 0;
        }
    }

    /// After the question on screen is gone: the next one, if any, opens;
    /// a picker starts listing, and the gone one's listing (`had_picker`),
    /// if still going, stops.
    pub(super) fn next_question(&mut self, had_picker: bool) -> Vec<Command> {
        let mut commands = Vec::new();
        match self.prompts.front().and_then(|next| next.picker.as_ref()) {
            Some(picker) => {
                self.listing += 1;
                commands.push(Command::ListPoints(self.listing, picker.sources.clone()));
            }
            None if had_picker => commands.push(Command::StopListing),
            None => {}
        }
        if self.prompts.is_empty() {
            self.overlays.close(Overlay::Question);
        }
        self.follow_question();
        commands
    }

    /// Questions answered elsewhere leave the screen: a participant's
    /// answer through the team's inbox, or the step cancelled, closes the
    /// reply channel; a dialog whose answer would go nowhere must not stay
    /// up. The timeline says who answered.
    pub(super) fn drop_answered_elsewhere(&mut self) -> Vec<Command> {
        let Some(front) = self.prompts.front() else {
            return Vec::new();
        };
        let front_gone = front.request.reply.is_closed();
        let had_picker = front.picker.is_some();
        let gone: Vec<String> = self
            .prompts
            .iter()
            .filter(|p| p.request.reply.is_closed())
            .map(|p| p.request.step.clone())
            .collect();
        if gone.is_empty() {
            return Vec::new();
        }
        self.prompts.retain(|p| !p.request.reply.is_closed());
        self.toast(format!(
            "answered elsewhere (see the timeline): {}",
            crate::format::printable(&gone.join(", "))
        ));
        if front_gone {
            self.next_question(had_picker)
        } else {
            Vec::new()
        }
    }
}
