//! Work read but not finished, per partition: what a service that finishes
//! records out of order (an alerter's deliveries in parallel, the seasonal
//! checks waiting for their turn) may commit.

use std::collections::{BTreeMap, BTreeSet};

/// Offsets read and work still pending, per `(topic, partition)`: what may
/// be committed is one past the newest record read, held back to the oldest
/// record whose work is not finished, so a crash hands that work over
/// again and loses none.
#[derive(Debug, Default)]
pub struct Inflight {
    read: BTreeMap<(String, i32), i64>,
    pending: BTreeMap<(String, i32), BTreeSet<i64>>,
}

impl Inflight {
    /// A record at `offset` was read (and needs no more work).
    pub fn read(&mut self, topic: &str, partition: i32, offset: i64) {
        let next = self.read.entry((topic.to_owned(), partition)).or_insert(0);
        *next = (*next).max(offset + 1);
    }

    /// The work of the record at `offset` started.
    pub fn start(&mut self, topic: &str, partition: i32, offset: i64) {
        self.read(topic, partition, offset);
        self.pending
            .entry((topic.to_owned(), partition))
            .or_default()
            .insert(offset);
    }

    /// The work of the record at `offset` is finished.
    pub fn finish(&mut self, topic: &str, partition: i32, offset: i64) {
        if let Some(set) = self.pending.get_mut(&(topic.to_owned(), partition)) {
            set.remove(&offset);
        }
    }

    /// Records whose work is not finished.
    pub fn pending(&self) -> usize {
        self.pending.values().map(BTreeSet::len).sum()
    }

    /// The next offsets that may be committed.
    pub fn commit_target(&self) -> BTreeMap<(String, i32), i64> {
        let mut target = self.read.clone();
        for (key, offsets) in &self.pending {
            if let (Some(slot), Some(oldest)) = (target.get_mut(key), offsets.first()) {
                *slot = (*slot).min(*oldest);
            }
        }
        target
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commits_stop_before_the_oldest_unfinished_work() {
        let mut f = Inflight::default();
        f.read("a", 0, 4);
        f.start("a", 0, 5);
        f.start("a", 0, 7);
        f.read("a", 0, 9);
        f.read("a", 1, 2);
        let t = f.commit_target();
        assert_eq!(t[&("a".to_owned(), 0)], 5);
        assert_eq!(t[&("a".to_owned(), 1)], 3);
        f.finish("a", 0, 5);
        assert_eq!(f.commit_target()[&("a".to_owned(), 0)], 7);
        f.finish("a", 0, 7);
        assert_eq!(f.commit_target()[&("a".to_owned(), 0)], 10);
        assert_eq!(f.pending(), 0);
    }
}
