//! Documents on their way to tantivy's indexing threads, counted. tantivy's queue holds up to
//! 10 000 batches, which at 256 documents a batch is millions of documents: as long as the
//! parser outruns the indexing threads (it does while they write a segment out), that queue is
//! where an ingest's memory grew with the source. Each document here carries its estimated
//! size and gives it back when tantivy is done with it (on drop), and the writer waits while
//! more than the budget is pending.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use tantivy::TantivyDocument;
use tantivy::schema::document::Document;

/// How long the writer waits between looks at the gauge.
const TICK: Duration = Duration::from_millis(50);
/// How long nothing may be taken before the writer gives up (a segment write takes seconds).
const STALLED: Duration = Duration::from_secs(600);

/// Estimated bytes of documents handed to tantivy and not yet indexed.
#[derive(Debug)]
pub(crate) struct Pending {
    bytes: AtomicUsize,
    limit: usize,
    waiting: AtomicBool,
    lock: Mutex<()>,
    freed: Condvar,
}

impl Pending {
    pub(crate) fn new(limit: usize) -> Arc<Pending> {
        Arc::new(Pending {
            bytes: AtomicUsize::new(0),
            limit,
            waiting: AtomicBool::new(false),
            lock: Mutex::new(()),
            freed: Condvar::new(),
        })
    }

    /// Whether `more` bytes fit now (always when nothing is pending, so one document larger
    /// than the limit still goes).
    pub(crate) fn fits(&self, more: usize) -> bool {
        let now = self.bytes.load(Ordering::SeqCst);
        now == 0 || now + more <= self.limit
    }

    /// Waits until `more` bytes fit; `false` when nothing was taken for [`STALLED`] (the
    /// indexing threads stopped). The caller must have handed every document it holds to
    /// tantivy first, or it would wait for itself.
    pub(crate) fn wait_for_room(&self, more: usize) -> bool {
        let mut guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.waiting.store(true, Ordering::SeqCst);
        let mut last = self.bytes.load(Ordering::SeqCst);
        let mut idle = Duration::ZERO;
        let mut ok = true;
        while !self.fits(more) {
            // The timeout only guards against a missed wake-up; the drop side notifies.
            guard = self
                .freed
                .wait_timeout(guard, TICK)
                .unwrap_or_else(|e| e.into_inner())
                .0;
            let now = self.bytes.load(Ordering::SeqCst);
            if now < last {
                idle = Duration::ZERO;
            } else {
                idle += TICK;
                if idle >= STALLED {
                    ok = false;
                    break;
                }
            }
            last = now;
        }
        self.waiting.store(false, Ordering::SeqCst);
        ok
    }

    /// Wraps a document, counting `size` bytes until it is dropped.
    pub(crate) fn count(self: &Arc<Self>, doc: TantivyDocument, size: usize) -> Counted {
        self.bytes.fetch_add(size, Ordering::SeqCst);
        Counted {
            doc,
            size,
            gauge: self.clone(),
        }
    }

    /// Bytes pending now.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.bytes.load(Ordering::SeqCst)
    }

    fn release(&self, size: usize) {
        self.bytes.fetch_sub(size, Ordering::SeqCst);
        if self.waiting.load(Ordering::SeqCst) {
            let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            self.freed.notify_all();
        }
    }
}

/// A document whose estimated size counts as pending until tantivy drops it (after indexing
/// it, or when a rollback discards the queue).
pub(crate) struct Counted {
    doc: TantivyDocument,
    size: usize,
    gauge: Arc<Pending>,
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.gauge.release(self.size);
    }
}

impl Document for Counted {
    type Value<'a> = <TantivyDocument as Document>::Value<'a>;
    type FieldsValuesIter<'a> = <TantivyDocument as Document>::FieldsValuesIter<'a>;

    fn iter_fields_and_values(&self) -> Self::FieldsValuesIter<'_> {
        self.doc.iter_fields_and_values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_gives_the_bytes_back_and_wakes_the_writer() {
        let p = Pending::new(1000);
        let a = p.count(TantivyDocument::new(), 600);
        assert!(p.fits(400) && !p.fits(401));
        let waiter = {
            let p = p.clone();
            std::thread::spawn(move || p.wait_for_room(900))
        };
        drop(a);
        assert!(waiter.join().unwrap());
        assert_eq!(p.bytes(), 0);
        assert!(p.fits(5000), "one document larger than the limit still goes alone");
    }
}
