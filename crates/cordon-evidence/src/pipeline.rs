//! The streaming pipeline: one producer cuts the source into fixed-size chunks and fans
//! each chunk out, by reference count, to one hashing lane per digest (each on its own
//! blocking thread) and to the store writer.
//!
//! Every hand-off is a bounded channel, so the slowest lane sets the pace and the memory in
//! use is bounded: a chunk is alive from the moment the producer cuts it until the slowest
//! consumer has finished with it, so at most `queue_depth` (queued) + 1 (being consumed) +
//! 1 (being handed out) chunks exist at once, whatever the total size
//! ([`PipelineConfig::max_chunks_in_flight`]). Hashing and writing overlap, so the total
//! time approaches the slowest lane's time rather than the sum.

use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;

use crate::digest::{Blake3Digest, DigestKind, DigestValue, LaneHasher, Md5Digest, Sha1Digest, Sha256Digest};
use crate::error::{EvidenceError, Result};
use crate::store::BlobUpload;

/// Chunk size and queue depth of the pipeline.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PipelineConfig {
    chunk_size: usize,
    queue_depth: usize,
}

impl PipelineConfig {
    /// 1 MiB: large enough that per-chunk overhead is negligible, small enough to stay in cache.
    pub const DEFAULT_CHUNK_SIZE: usize = 1 << 20;
    /// Chunks queued per lane.
    pub const DEFAULT_QUEUE_DEPTH: usize = 3;

    /// A configuration; both values are raised to at least 1.
    pub fn new(chunk_size: usize, queue_depth: usize) -> Self {
        Self {
            chunk_size: chunk_size.max(1),
            queue_depth: queue_depth.max(1),
        }
    }

    pub fn chunk_size(&self) -> usize {
        self.chunk_size
    }

    pub fn queue_depth(&self) -> usize {
        self.queue_depth
    }

    /// Upper bound on chunks alive at once: the slowest lane's queue, the chunk it is
    /// working on and the one the producer is handing out.
    pub fn max_chunks_in_flight(&self) -> usize {
        self.queue_depth + 2
    }

    /// Upper bound on pipeline buffer bytes alive at once (plus the one chunk being filled).
    pub fn max_bytes_in_flight(&self) -> u64 {
        (self.max_chunks_in_flight() * self.chunk_size) as u64
    }
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self::new(Self::DEFAULT_CHUNK_SIZE, Self::DEFAULT_QUEUE_DEPTH)
    }
}

/// Counters of one pipeline run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PipelineStats {
    /// Chunks handed out.
    pub chunks: u64,
    /// Most chunks alive at the same time; never above [`PipelineConfig::max_chunks_in_flight`].
    pub peak_chunks_in_flight: usize,
    /// Most chunk bytes alive at the same time.
    pub peak_bytes_in_flight: u64,
}

/// Digests computed by one run; a digest is `Some` when its lane ran.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct ComputedDigests {
    pub sha256: Option<Sha256Digest>,
    pub blake3: Option<Blake3Digest>,
    pub md5: Option<Md5Digest>,
    pub sha1: Option<Sha1Digest>,
}

#[derive(Debug)]
pub(crate) struct PipelineOutput {
    pub size: u64,
    pub digests: ComputedDigests,
    pub stats: PipelineStats,
}

/// Live-chunk accounting.
#[derive(Default)]
struct Gauge {
    chunks: AtomicUsize,
    bytes: AtomicU64,
    peak_chunks: AtomicUsize,
    peak_bytes: AtomicU64,
}

/// A chunk shared by all consumers; counted in the gauge while alive.
struct Chunk {
    data: Bytes,
    gauge: Arc<Gauge>,
}

impl Chunk {
    fn new(data: Bytes, gauge: &Arc<Gauge>) -> Self {
        let chunks = gauge.chunks.fetch_add(1, Ordering::AcqRel) + 1;
        let bytes = gauge.bytes.fetch_add(data.len() as u64, Ordering::AcqRel) + data.len() as u64;
        gauge.peak_chunks.fetch_max(chunks, Ordering::AcqRel);
        gauge.peak_bytes.fetch_max(bytes, Ordering::AcqRel);
        Self {
            data,
            gauge: Arc::clone(gauge),
        }
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        self.gauge.chunks.fetch_sub(1, Ordering::AcqRel);
        self.gauge.bytes.fetch_sub(self.data.len() as u64, Ordering::AcqRel);
    }
}

/// The producer's side of the fan-out.
struct Fanout {
    writer: Option<mpsc::Sender<Arc<Chunk>>>,
    lanes: Vec<mpsc::Sender<Arc<Chunk>>>,
    gauge: Arc<Gauge>,
    chunks: u64,
}

impl Fanout {
    async fn send(&mut self, data: Bytes) -> Result<()> {
        let chunk = Arc::new(Chunk::new(data, &self.gauge));
        self.chunks += 1;
        if let Some(writer) = &self.writer {
            // The writer only hangs up after a failure, which `try_join` reports first.
            writer
                .send(Arc::clone(&chunk))
                .await
                .map_err(|_| EvidenceError::Internal("store writer stopped early".into()))?;
        }
        for lane in &self.lanes {
            lane.send(Arc::clone(&chunk))
                .await
                .map_err(|_| EvidenceError::Internal("a hashing lane stopped early".into()))?;
        }
        Ok(())
    }
}

/// Turns an `AsyncRead` into chunks of exactly `chunk_size` bytes (the last may be
/// shorter). A read error is the source failing: [`EvidenceError::Interrupted`].
pub(crate) fn reader_chunks<R>(reader: R, chunk_size: usize) -> impl Stream<Item = Result<Bytes>>
where
    R: AsyncRead,
{
    futures::stream::try_unfold(Box::pin(reader), move |mut reader| async move {
        let mut buf = BytesMut::with_capacity(chunk_size);
        while buf.len() < chunk_size {
            let n = reader
                .read_buf(&mut buf)
                .await
                .map_err(|e| EvidenceError::Interrupted(Box::new(e)))?;
            if n == 0 {
                break;
            }
        }
        if buf.is_empty() {
            Ok(None)
        } else {
            Ok(Some((buf.freeze(), reader)))
        }
    })
}

/// Runs the pipeline over `source` until it ends: hashes with one lane per `kinds` entry
/// and, when `writer` is given, writes every chunk to it. Stops early (with
/// `LengthMismatch`) once more than `declared_len` bytes arrive.
///
/// Dropping the returned future stops everything: the lanes see their channels close.
pub(crate) async fn run<S>(
    source: S,
    writer: Option<&mut (dyn BlobUpload + '_)>,
    kinds: &[DigestKind],
    config: &PipelineConfig,
    declared_len: Option<u64>,
) -> Result<PipelineOutput>
where
    S: Stream<Item = Result<Bytes>>,
{
    let chunk_size = config.chunk_size;
    let depth = config.queue_depth;
    let gauge = Arc::new(Gauge::default());

    let mut lane_senders = Vec::with_capacity(kinds.len());
    let mut lane_handles = Vec::with_capacity(kinds.len());
    for &kind in kinds {
        let (tx, mut rx) = mpsc::channel::<Arc<Chunk>>(depth);
        lane_senders.push(tx);
        lane_handles.push(tokio::task::spawn_blocking(move || {
            let mut hasher = LaneHasher::new(kind);
            while let Some(chunk) = rx.blocking_recv() {
                hasher.update(&chunk.data);
            }
            hasher.finish()
        }));
    }

    let (writer_tx, writer_rx) = match writer {
        Some(_) => {
            let (tx, rx) = mpsc::channel::<Arc<Chunk>>(depth);
            (Some(tx), Some(rx))
        }
        None => (None, None),
    };
    let mut fanout = Fanout {
        writer: writer_tx,
        lanes: lane_senders,
        gauge: Arc::clone(&gauge),
        chunks: 0,
    };

    let produce = async move {
        let mut source = pin!(source);
        let mut pending = BytesMut::new();
        let mut total: u64 = 0;
        while let Some(item) = source.next().await {
            let mut data = item?;
            total += data.len() as u64;
            if let Some(declared) = declared_len
                && total > declared
            {
                return Err(EvidenceError::LengthMismatch {
                    declared,
                    received: total,
                });
            }
            while !data.is_empty() {
                if pending.is_empty() && data.len() >= chunk_size {
                    // Already a full chunk: hand it on without copying.
                    fanout.send(data.split_to(chunk_size)).await?;
                } else {
                    if pending.capacity() < chunk_size {
                        pending = BytesMut::with_capacity(chunk_size);
                    }
                    let take = (chunk_size - pending.len()).min(data.len());
                    pending.extend_from_slice(&data.split_to(take));
                    if pending.len() == chunk_size {
                        fanout.send(std::mem::take(&mut pending).freeze()).await?;
                    }
                }
            }
        }
        if !pending.is_empty() {
            fanout.send(pending.freeze()).await?;
        }
        Ok::<_, EvidenceError>((total, fanout.chunks))
        // `fanout` is dropped here: every channel closes and the consumers finish.
    };

    let write = async move {
        if let (Some(writer), Some(mut rx)) = (writer, writer_rx) {
            while let Some(chunk) = rx.recv().await {
                writer.write(chunk.data.clone()).await?;
            }
        }
        Ok::<_, EvidenceError>(())
    };

    let ((size, chunks), ()) = futures::future::try_join(produce, write).await?;

    let mut digests = ComputedDigests::default();
    for handle in lane_handles {
        match handle.await.map_err(EvidenceError::worker_failed)? {
            DigestValue::Sha256(d) => digests.sha256 = Some(d),
            DigestValue::Blake3(d) => digests.blake3 = Some(d),
            DigestValue::Md5(d) => digests.md5 = Some(d),
            DigestValue::Sha1(d) => digests.sha1 = Some(d),
        }
    }
    let stats = PipelineStats {
        chunks,
        peak_chunks_in_flight: gauge.peak_chunks.load(Ordering::Acquire),
        peak_bytes_in_flight: gauge.peak_bytes.load(Ordering::Acquire),
    };
    Ok(PipelineOutput { size, digests, stats })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(data: &[u8], sizes: &[usize]) -> Vec<Result<Bytes>> {
        let mut out = Vec::new();
        let mut rest = data;
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes[i % sizes.len()].min(rest.len());
            out.push(Ok(Bytes::copy_from_slice(&rest[..n])));
            rest = &rest[n..];
            i += 1;
        }
        out
    }

    #[tokio::test]
    async fn chunking_preserves_bytes_for_any_piece_sizes() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i * 31 % 251) as u8).collect();
        let want = blake3::hash(&data);
        for chunk_size in [1, 7, 64, 4096, 20_000] {
            for sizes in [&[1usize][..], &[3, 100, 5000], &[4096], &[10_000]] {
                let config = PipelineConfig::new(chunk_size, 2);
                let source = futures::stream::iter(pieces(&data, sizes));
                let out = run(source, None, &[DigestKind::Blake3], &config, None).await.unwrap();
                assert_eq!(out.size, data.len() as u64);
                assert_eq!(
                    out.digests.blake3.unwrap().as_bytes(),
                    want.as_bytes(),
                    "chunk {chunk_size}, pieces {sizes:?}"
                );
                assert_eq!(out.stats.chunks, data.len().div_ceil(chunk_size) as u64);
                assert!(out.stats.peak_chunks_in_flight <= config.max_chunks_in_flight());
            }
        }
    }

    #[tokio::test]
    async fn reader_chunks_are_full_sized() {
        let data = vec![7u8; 10_000];
        let chunks: Vec<Bytes> = reader_chunks(&data[..], 4096).map(|c| c.unwrap()).collect().await;
        let sizes: Vec<usize> = chunks.iter().map(Bytes::len).collect();
        assert_eq!(sizes, [4096, 4096, 1808]);
    }

    #[tokio::test]
    async fn declared_length_overrun_stops_early() {
        let source = futures::stream::iter(pieces(&[0u8; 100], &[10]));
        let err = run(
            source,
            None,
            &[DigestKind::Sha256],
            &PipelineConfig::default(),
            Some(35),
        )
        .await
        .unwrap_err();
        assert!(matches!(
            err,
            EvidenceError::LengthMismatch {
                declared: 35,
                received: 40
            }
        ));
    }
}
