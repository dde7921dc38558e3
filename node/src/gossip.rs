//! How many gossip pushes each feed may make: a token bucket per feed.
//!
//! automerge pays each applied change in proportion to the whole document, so a feed
//! pushing thousands of single changes would cost the node far more than the same changes
//! in one batch (docs/benchmarks.md). Past its budget a feed's pushes are ignored (not
//! blamed: an honest burst, an import, is allowed) and its changes come by sync sessions,
//! in batches. Time is an input.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use entraide_crdt::FeedId;

/// Pushes a feed may make at once.
pub const GOSSIP_BURST: f64 = 60.0;
/// Pushes a feed earns back per second.
pub const GOSSIP_PER_SECOND: f64 = 1.0;
/// How often at most a sync round is started because pushes went past their budget.
pub const THROTTLED_ROUND_EVERY: Duration = Duration::from_secs(2);
/// Most feeds whose gossip budget is tracked (feeds at full budget are forgotten first).
pub const MAX_GOSSIP_BUDGETS: usize = 4096;

/// The gossip budgets of every feed.
#[derive(Debug, Default)]
pub(crate) struct GossipBudget {
    /// Per feed: pushes still allowed, and when that was computed.
    feeds: HashMap<FeedId, (f64, Instant)>,
    /// When a sync round was last started for pushes past their budget.
    last_round: Option<Instant>,
}

impl GossipBudget {
    /// Takes one push from `feed`'s budget at `now`; false when it is spent (or when
    /// [`MAX_GOSSIP_BUDGETS`] feeds all pushed recently and this one is new).
    pub(crate) fn take(&mut self, feed: FeedId, now: Instant) -> bool {
        let refill = |(tokens, at): (f64, Instant)| {
            (tokens + now.saturating_duration_since(at).as_secs_f64() * GOSSIP_PER_SECOND)
                .min(GOSSIP_BURST)
        };
        if self.feeds.len() >= MAX_GOSSIP_BUDGETS && !self.feeds.contains_key(&feed) {
            self.feeds.retain(|_, b| refill(*b) < GOSSIP_BURST);
            if self.feeds.len() >= MAX_GOSSIP_BUDGETS {
                return false;
            }
        }
        let budget = self.feeds.entry(feed).or_insert((GOSSIP_BURST, now));
        let tokens = refill(*budget);
        if tokens >= 1.0 {
            *budget = (tokens - 1.0, now);
            true
        } else {
            *budget = (tokens, now);
            false
        }
    }

    /// Whether a push past its budget should start a sync round now (at most one every
    /// [`THROTTLED_ROUND_EVERY`]), which then fetches the changes in batches.
    pub(crate) fn round_due(&mut self, now: Instant) -> bool {
        let due = self
            .last_round
            .is_none_or(|at| now.saturating_duration_since(at) >= THROTTLED_ROUND_EVERY);
        if due {
            self.last_round = Some(now);
        }
        due
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use entraide_crdt::AuthorId;

    fn feed(n: u32) -> FeedId {
        let mut id = [0u8; 32];
        id[..4].copy_from_slice(&n.to_be_bytes());
        FeedId::first(AuthorId(id))
    }

    #[test]
    fn a_feed_pushes_a_burst_then_one_a_second() {
        let mut budget = GossipBudget::default();
        let t = Instant::now();
        let taken = (0..100).filter(|_| budget.take(feed(1), t)).count();
        assert_eq!(taken, GOSSIP_BURST as usize);
        assert!(!budget.take(feed(1), t + Duration::from_millis(500)));
        assert!(budget.take(feed(1), t + Duration::from_millis(1000)));
        assert!(!budget.take(feed(1), t + Duration::from_millis(1100)));
        // Another feed has its own budget.
        assert!(budget.take(feed(2), t));
        // A long pause refills up to the burst, no more.
        let later = t + Duration::from_secs(3600);
        let taken = (0..100).filter(|_| budget.take(feed(1), later)).count();
        assert_eq!(taken, GOSSIP_BURST as usize);
    }

    #[test]
    fn the_budgets_are_bounded_and_full_ones_are_forgotten_first() {
        let mut budget = GossipBudget::default();
        let t = Instant::now();
        for n in 0..MAX_GOSSIP_BUDGETS as u32 {
            assert!(budget.take(feed(n), t));
        }
        // Every feed pushed just now: no room for a new one.
        assert!(!budget.take(feed(u32::MAX), t));
        // A minute later every budget is full again and forgotten: room.
        assert!(budget.take(feed(u32::MAX), t + Duration::from_secs(60)));
        assert!(budget.feeds.len() <= MAX_GOSSIP_BUDGETS);
    }

    #[test]
    fn rounds_for_throttled_pushes_are_spaced() {
        let mut budget = GossipBudget::default();
        let t = Instant::now();
        assert!(budget.round_due(t));
        assert!(!budget.round_due(t + Duration::from_secs(1)));
        assert!(budget.round_due(t + THROTTLED_ROUND_EVERY));
    }
}
