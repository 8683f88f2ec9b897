//! When the UI loop may draw. A frame waits for the frame interval since the last one
//! and, after a resize, for the resizes to stop: dragging a window's corner sends dozens
//! of them, and a frame at each passing size would be a full repaint for nothing.
use std::time::{Duration, Instant};

/// Quiet time after the last resize before the frame at the new size.
pub const SETTLE: Duration = Duration::from_millis(80);
/// While resizes keep coming, a frame at least this often, so a long drag still shows.
pub const SETTLE_MAX: Duration = Duration::from_millis(400);

#[derive(Debug)]
pub struct Pacer {
    interval: Duration,
    last_draw: Option<Instant>,
    /// The first and the last resize since the last frame.
    resizes: Option<(Instant, Instant)>,
    /// How many resize events the next frame shows.
    count: usize,
}

impl Pacer {
    pub fn new(interval: Duration) -> Pacer {
        Pacer {
            interval,
            last_draw: None,
            resizes: None,
            count: 0,
        }
    }

    pub fn resized(&mut self, now: Instant) {
        self.count += 1;
        self.resizes = Some(match self.resizes {
            Some((first, _)) => (first, now),
            None => (now, now),
        });
    }

    /// The earliest instant of the next frame; None: any time.
    pub fn next(&self) -> Option<Instant> {
        let frame = self.last_draw.map(|d| d + self.interval);
        let settled = self
            .resizes
            .map(|(first, last)| (last + SETTLE).min(first + SETTLE_MAX));
        frame.max(settled)
    }

    pub fn may_draw(&self, now: Instant) -> bool {
        self.next().is_none_or(|at| now >= at)
    }

    /// A frame was drawn at `now`; returns how many resize events it shows (it must
    /// then repaint every cell: the terminal may have reflowed the old frame).
    pub fn drawn(&mut self, now: Instant) -> usize {
        self.last_draw = Some(now);
        self.resizes = None;
        std::mem::take(&mut self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRAME: Duration = Duration::from_millis(33);

    /// The UI loop's decisions, driven by a clock of our own: `events` are the instants
    /// resizes arrive at; the loop draws whenever it may and the state is dirty.
    /// Returns the frames drawn, with the resizes each shows.
    fn run(events: &[Instant], until: Instant) -> Vec<(Instant, usize)> {
        let mut p = Pacer::new(FRAME);
        let mut frames = Vec::new();
        let mut dirty = false;
        let mut now = events[0];
        let mut queue = events.iter().peekable();
        while now <= until {
            while queue.peek().is_some_and(|&&t| t <= now) {
                queue.next();
                p.resized(now);
                dirty = true;
            }
            if dirty && p.may_draw(now) {
                frames.push((now, p.drawn(now)));
                dirty = false;
            }
            now += Duration::from_millis(1);
        }
        frames
    }

    #[test]
    fn a_burst_of_100_resizes_arriving_together_is_one_frame() {
        let t0 = Instant::now();
        let burst: Vec<Instant> = (0..100).map(|_| t0).collect();
        assert_eq!(
            run(&burst, t0 + Duration::from_secs(2)),
            [(t0 + SETTLE, 100)]
        );
        // Also spread over 200 ms, one every 2 ms, as a window's corner is dragged.
        let drag: Vec<Instant> = (0..100)
            .map(|i| t0 + Duration::from_millis(2 * i))
            .collect();
        let frames = run(&drag, t0 + Duration::from_secs(2));
        assert_eq!(frames.len(), 1, "{frames:?}");
        assert_eq!(frames[0].1, 100);
        assert_eq!(frames[0].0, drag[99] + SETTLE);
    }

    #[test]
    fn a_long_drag_still_shows_a_frame_now_and_then() {
        let t0 = Instant::now();
        let drag: Vec<Instant> = (0..1000)
            .map(|i| t0 + Duration::from_millis(2 * i))
            .collect();
        let frames = run(&drag, t0 + Duration::from_secs(3));
        // 2 s of resizes: a frame each SETTLE_MAX (the fifth once they stop).
        assert_eq!(frames.len(), 5, "{frames:?}");
        assert_eq!(frames[0].0, t0 + SETTLE_MAX);
        assert_eq!(frames.iter().map(|f| f.1).sum::<usize>(), 1000);
    }

    #[test]
    fn without_resizes_the_frame_interval_alone_paces() {
        let t0 = Instant::now();
        let mut p = Pacer::new(FRAME);
        assert!(p.may_draw(t0), "the first frame at once");
        assert_eq!(p.drawn(t0), 0);
        assert!(!p.may_draw(t0 + Duration::from_millis(10)));
        assert_eq!(p.next(), Some(t0 + FRAME));
        assert!(p.may_draw(t0 + FRAME));
    }
}
