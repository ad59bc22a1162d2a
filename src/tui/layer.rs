//! Which layer is on top, decided in one place. The screen (start or run)
//! is at the bottom; over it, in a fixed order, the overlays that are
//! open: the first question (a dialog, or the recovery point picker), the
//! "start despite failed checks?" dialog, the "leave?" dialog, the help.
//! Only the top layer reads keys; drawing goes from the bottom up. This module holds no state of the layers
//! themselves, only which are open.

/// An overlay over the screen, lowest first: a later one is drawn over an
/// earlier one and takes the keys from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Overlay {
    /// The first question waiting (the step waits while it is put aside).
    Question,
    /// "Start despite failed checks?" (start screen).
    StartDespite,
    /// "Leave?"
    Quit,
    /// The key help.
    Help,
}

/// The overlays open, lowest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overlays(Vec<Overlay>);

impl Overlays {
    /// Opens `overlay` at its place in the stack (once).
    pub fn open(&mut self, overlay: Overlay) {
        if let Err(at) = self.0.binary_search(&overlay) {
            self.0.insert(at, overlay);
        }
    }

    /// Closes `overlay`, if open.
    pub fn close(&mut self, overlay: Overlay) {
        self.0.retain(|o| *o != overlay);
    }

    /// Whether `overlay` is open.
    pub fn is_open(&self, overlay: Overlay) -> bool {
        self.0.contains(&overlay)
    }

    /// The overlays open, lowest first.
    pub fn iter(&self) -> impl Iterator<Item = Overlay> + '_ {
        self.0.iter().copied()
    }
}

/// A layer as keys and drawing see it: the screen, or what an overlay
/// shows now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// The start form.
    Start,
    /// The run screen.
    Run,
    /// The first question's dialog (a pick's once a point is chosen).
    Question,
    /// The first question's recovery point picker.
    Picker,
    /// "Start despite failed checks?"
    StartDespite,
    /// The "leave?" dialog.
    Quit,
    /// The key help.
    Help,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlays_stack_in_their_fixed_order_whatever_opens_first() {
        let mut o = Overlays::default();
        o.open(Overlay::Help);
        o.open(Overlay::Question);
        o.open(Overlay::Quit);
        o.open(Overlay::Question);
        assert_eq!(
            o.iter().collect::<Vec<_>>(),
            [Overlay::Question, Overlay::Quit, Overlay::Help]
        );
        o.close(Overlay::Quit);
        assert!(!o.is_open(Overlay::Quit));
        assert_eq!(o.iter().last(), Some(Overlay::Help));
    }
}
