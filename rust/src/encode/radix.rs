//! A radix heap: a min-priority queue for keys that never go below the last key popped.
//!
//! Why: BPE merge ranks of a well-formed vocabulary only grow while one piece is encoded (a merge
//! makes a token, and a pair holding that token merges into a later one), so a monotone queue
//! fits. Keys sit in 65 buckets by the highest bit in which they differ from the last key popped;
//! a pop empties the lowest non-empty bucket into lower ones. Every key moves down at most 64
//! times, and buckets are appended and read in order, so it stays fast when a binary heap of
//! millions of entries would miss the cache at every level.
//!
//! A push below the last popped key is refused (`push` returns false): the caller falls back to
//! a binary heap, which takes any order.

pub(super) struct RadixHeap {
    last: u64,
    len: usize,
    buckets: [Vec<u64>; 65],
    /// Reused when a bucket is redistributed, so its allocation is kept.
    scratch: Vec<u64>,
}

#[inline]
fn bucket_of(last: u64, key: u64) -> usize {
    (64 - (key ^ last).leading_zeros()) as usize
}

impl RadixHeap {
    pub(super) fn with_capacity(n: usize) -> Self {
        let mut buckets: [Vec<u64>; 65] = std::array::from_fn(|_| Vec::new());
        // Initial keys all differ from 0 in their top bits: most land in a few high buckets.
        buckets[64].reserve(n);
        RadixHeap {
            last: 0,
            len: 0,
            buckets,
            scratch: Vec::new(),
        }
    }

    /// Adds `key`; false (and nothing added) when `key` is below the last key popped.
    #[inline]
    pub(super) fn push(&mut self, key: u64) -> bool {
        if key < self.last {
            return false;
        }
        self.buckets[bucket_of(self.last, key)].push(key);
        self.len += 1;
        true
    }

    /// Removes and returns the smallest key.
    pub(super) fn pop(&mut self) -> Option<u64> {
        if self.len == 0 {
            return None;
        }
        if self.buckets[0].is_empty() {
            let i = (1..65).find(|&i| !self.buckets[i].is_empty())?;
            std::mem::swap(&mut self.buckets[i], &mut self.scratch);
            let new_last = self.scratch.iter().copied().min()?;
            self.last = new_last;
            for &key in &self.scratch {
                // Every key of bucket i differs from the new minimum below bit i: it moves down.
                self.buckets[bucket_of(new_last, key)].push(key);
            }
            self.scratch.clear();
        }
        self.len -= 1;
        self.buckets[0].pop()
    }
}

#[cfg(test)]
mod tests {
    use super::RadixHeap;

    #[test]
    fn pops_in_order_and_refuses_keys_below_the_last_pop() {
        let mut seed = 0x9E3779B97F4A7C15u64;
        let mut rnd = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut q = RadixHeap::with_capacity(0);
        let mut model: Vec<u64> = Vec::new();
        let mut last = 0u64;
        for step in 0..20_000 {
            if step % 3 != 2 {
                let key = last + rnd() % (1 << (rnd() % 40));
                assert!(q.push(key));
                model.push(key);
            } else {
                model.sort_unstable_by(|a, b| b.cmp(a));
                let want = model.pop();
                assert_eq!(q.pop(), want);
                if let Some(k) = want {
                    last = k;
                    if k > 0 {
                        assert!(!q.push(k - 1));
                    }
                }
            }
        }
        model.sort_unstable_by(|a, b| b.cmp(a));
        while let Some(k) = model.pop() {
            assert_eq!(q.pop(), Some(k));
        }
        assert_eq!(q.pop(), None);
    }
}
