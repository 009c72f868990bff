//! [`S3BlobStore`]: the write-once, content-addressed [`BlobStore`] on an S3-compatible
//! bucket, for several Cordon nodes sharing one evidence locker.
//!
//! Write-once comes from the bucket, not from this code: it must have Object Lock enabled
//! with a default **COMPLIANCE** retention, so every object version is locked as it is
//! written and no one (root account included) can delete or overwrite it before the
//! retention ends. [`S3BlobStore::open`] reads the bucket's Object Lock configuration and
//! [`BlobStore::stat`] reports blobs as write-protected only when that retention is in force.
//!
//! Layout in the bucket (under an optional prefix): `objects/<sha256 hex>`.
//!
//! An upload's key is its SHA-256, known only once the last byte arrived, and a locked bucket
//! cannot delete a staging object afterwards. So an upload is first spooled to a local
//! [`LocalBlobStore`] (durable, digest checked by the ingest pipeline), then copied to the
//! bucket under its final key and removed locally:
//! - up to [`S3BlobStore::single_put_max`] bytes (32 MiB by default): one `PUT` with
//!   `If-None-Match: *` — a key that exists already is "already stored";
//! - larger: `HEAD` first (already stored?), then a multipart upload of
//!   [`S3BlobStore::part_size`] parts. Two nodes racing to store the same large blob may both
//!   upload; the bucket then holds two locked versions of identical bytes.
//!
//! Reads are ranged `GET`s. [`BlobStore::cleanup_leftovers`] removes local spool files a
//! crash left; incomplete multipart uploads are the bucket's lifecycle rule's to abort
//! (`AbortIncompleteMultipartUpload`).
//!
//! Credentials, region and endpoint come from the usual `AWS_*` variables (`AWS_ACCESS_KEY_ID`,
//! `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT_URL`, `AWS_ALLOW_HTTP`), as every S3
//! tool reads them.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use futures::TryStreamExt;
use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey, AwsAuthorizer, S3ConditionalPut};
use object_store::path::Path;
use object_store::{
    GetOptions, GetRange, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, WriteMultipart,
};
use tokio::io::AsyncReadExt;

use crate::error::{EvidenceError, Result};
use crate::key::{BlobKey, ByteRange};
use crate::local::LocalBlobStore;
use crate::store::{
    BlobMeta, BlobReader, BlobStore, BlobUpload, CleanupReport, ContentDigests, StoredBlob, UploadHint,
};

/// Where an S3 evidence locker is: `s3://bucket` or `s3://bucket/prefix`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Key prefix, without leading or trailing `/` (empty: the bucket's root).
    pub prefix: String,
}

impl std::str::FromStr for S3Location {
    type Err = EvidenceError;

    fn from_str(url: &str) -> Result<Self> {
        let bad = |why: &str| EvidenceError::Internal(format!("`{url}` is not an evidence bucket URL: {why}"));
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| bad("it must start with s3://"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.';
        if bucket.len() < 3 || bucket.len() > 63 || !bucket.chars().all(valid) {
            return Err(bad(
                "the bucket name must be 3–63 lower-case letters, digits, '-' or '.'",
            ));
        }
        Ok(S3Location {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
        })
    }
}

/// Object Lock as the bucket reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ObjectLock {
    /// `Enabled` in the bucket's configuration.
    pub enabled: bool,
    /// The default retention's mode (`COMPLIANCE`, `GOVERNANCE`), if there is one.
    pub default_mode: Option<String>,
}

impl ObjectLock {
    /// New objects are locked and no one can lift the lock.
    pub fn protects_writes(&self) -> bool {
        self.enabled && self.default_mode.as_deref() == Some("COMPLIANCE")
    }
}

/// A content-addressed, write-once blob store in an S3 bucket with Object Lock. Cheap to
/// clone.
#[derive(Clone, Debug)]
pub struct S3BlobStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    s3: AmazonS3,
    location: S3Location,
    spool: LocalBlobStore,
    lock: ObjectLock,
    single_put_max: u64,
    part_size: usize,
}

/// What [`S3BlobStore::open_with`] takes besides the bucket; unset values come from the
/// `AWS_*` environment.
#[derive(Clone, Default)]
pub struct S3Options {
    /// `http(s)://host:port` of an S3-compatible server (path-style requests).
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    /// Objects up to this size are stored with one conditional `PUT` (default 32 MiB).
    pub single_put_max: Option<u64>,
    /// Part size of larger objects' multipart uploads (default 16 MiB, at least 5 MiB).
    pub part_size: Option<usize>,
}

impl std::fmt::Debug for S3Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Options")
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .field("single_put_max", &self.single_put_max)
            .field("part_size", &self.part_size)
            .finish()
    }
}

impl S3Options {
    fn builder(&self, bucket: &str) -> AmazonS3Builder {
        let mut b = AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(e) = &self.endpoint {
            b = b.with_endpoint(e);
        }
        if let Some(r) = &self.region {
            b = b.with_region(r);
        }
        if let Some(k) = &self.access_key_id {
            b = b.with_access_key_id(k);
        }
        if let Some(k) = &self.secret_access_key {
            b = b.with_secret_access_key(k);
        }
        // A plain-HTTP endpoint (a server on loopback or a private network) is what was asked for.
        if b.get_config_value(&AmazonS3ConfigKey::Endpoint)
            .is_some_and(|e| e.starts_with("http://"))
        {
            b = b.with_allow_http(true);
        }
        b
    }
}

impl S3BlobStore {
    /// Objects up to this size are stored with one conditional `PUT`.
    pub const DEFAULT_SINGLE_PUT_MAX: u64 = 32 << 20;
    /// Part size of larger objects' multipart uploads.
    pub const DEFAULT_PART_SIZE: usize = 16 << 20;

    /// Opens the locker in `location` with the `AWS_*` environment's settings, spooling
    /// uploads under `spool_dir`.
    pub async fn open(location: S3Location, spool_dir: impl Into<PathBuf>) -> Result<Self> {
        Self::open_with(location, spool_dir, &S3Options::default()).await
    }

    /// Opens the locker in `location`; reads the bucket's Object Lock configuration (a
    /// bucket that cannot be reached is an error).
    pub async fn open_with(location: S3Location, spool_dir: impl Into<PathBuf>, options: &S3Options) -> Result<Self> {
        let builder = options.builder(&location.bucket);
        let lock = object_lock(&location, &builder).await?;
        let s3 = builder
            .with_conditional_put(S3ConditionalPut::ETagMatch)
            .build()
            .map_err(store_error("configuring the evidence bucket"))?;
        let spool = LocalBlobStore::new(spool_dir).await?;
        if !lock.protects_writes() {
            tracing::warn!(
                bucket = %location.bucket,
                ?lock,
                "the evidence bucket has no default COMPLIANCE retention: stored evidence is not write-protected"
            );
        }
        Ok(Self {
            inner: Arc::new(Inner {
                s3,
                location,
                spool,
                lock,
                single_put_max: options.single_put_max.unwrap_or(Self::DEFAULT_SINGLE_PUT_MAX),
                part_size: options.part_size.unwrap_or(Self::DEFAULT_PART_SIZE).max(5 << 20),
            }),
        })
    }

    /// The bucket's Object Lock as read at open.
    pub fn object_lock(&self) -> &ObjectLock {
        &self.inner.lock
    }

    /// The largest object stored with one `PUT`.
    pub fn single_put_max(&self) -> u64 {
        self.inner.single_put_max
    }

    /// The part size of multipart uploads.
    pub fn part_size(&self) -> usize {
        self.inner.part_size
    }

    /// The object key of a blob.
    pub fn object_key(&self, key: &BlobKey) -> String {
        self.inner.path(key).to_string()
    }
}

impl Inner {
    fn objects(&self) -> Path {
        match self.location.prefix.as_str() {
            "" => Path::from("objects"),
            p => Path::from(format!("{p}/objects")),
        }
    }

    fn path(&self, key: &BlobKey) -> Path {
        self.objects().join(key.to_hex())
    }

    /// Copies the spooled blob `key` (of `size` bytes) into the bucket; `false` when the
    /// bucket had it already.
    async fn push(&self, key: &BlobKey, size: u64) -> Result<bool> {
        match self.push_spooled(key, size).await {
            // Another upload of the same bytes on this node finished first and removed the
            // spooled file once it was in the bucket.
            Err(EvidenceError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                match self.already_stored(key, size).await? {
                    true => Ok(false),
                    false => Err(EvidenceError::io("reading a spooled upload")(source)),
                }
            }
            other => other,
        }
    }

    async fn push_spooled(&self, key: &BlobKey, size: u64) -> Result<bool> {
        let path = self.path(key);
        let file = self.spool.object_path(key);
        if size <= self.single_put_max {
            let bytes = tokio::fs::read(&file)
                .await
                .map_err(EvidenceError::io("reading a spooled upload"))?;
            let opts = PutOptions {
                mode: PutMode::Create,
                ..PutOptions::default()
            };
            return match self.s3.put_opts(&path, PutPayload::from(bytes), opts).await {
                Ok(_) => Ok(true),
                Err(object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. }) => {
                    self.already_stored(key, size).await?;
                    Ok(false)
                }
                Err(e) => Err(store_error("storing an evidence object")(e)),
            };
        }
        if self.already_stored(key, size).await? {
            return Ok(false);
        }
        let upload = self
            .s3
            .put_multipart(&path)
            .await
            .map_err(store_error("starting a multipart upload"))?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, self.part_size);
        let mut f = tokio::fs::File::open(&file)
            .await
            .map_err(EvidenceError::io("opening a spooled upload"))?;
        let mut buf = vec![0u8; self.part_size];
        loop {
            let n = f
                .read(&mut buf)
                .await
                .map_err(EvidenceError::io("reading a spooled upload"))?;
            if n == 0 {
                break;
            }
            // At most two parts in flight: memory stays at a few part sizes.
            if let Err(e) = writer.wait_for_capacity(2).await {
                let _ = writer.abort().await;
                return Err(store_error("uploading an evidence part")(e));
            }
            writer.write(&buf[..n]);
        }
        writer
            .finish()
            .await
            .map_err(store_error("completing a multipart upload"))?;
        Ok(true)
    }

    async fn stat(&self, key: &BlobKey) -> Result<Option<u64>> {
        match self.s3.head(&self.path(key)).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(store_error("reading an evidence object's metadata")(e)),
        }
    }

    /// Whether the bucket holds `key` (one `HEAD`); a stored object of another size than
    /// `size` is [`EvidenceError::StoredCopyDiffers`].
    async fn already_stored(&self, key: &BlobKey, size: u64) -> Result<bool> {
        match self.stat(key).await? {
            Some(stored) if stored != size => Err(EvidenceError::StoredCopyDiffers {
                key: *key,
                stored_size: stored,
                new_size: size,
            }),
            found => Ok(found.is_some()),
        }
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn begin(&self, hint: &UploadHint) -> Result<Box<dyn BlobUpload>> {
        let spooled = self.inner.spool.begin(hint).await?;
        Ok(Box::new(S3Upload {
            inner: Arc::clone(&self.inner),
            spooled,
        }))
    }

    async fn open(&self, key: &BlobKey, range: Option<ByteRange>) -> Result<BlobReader> {
        let size = self
            .inner
            .stat(key)
            .await?
            .ok_or(EvidenceError::NotFound { key: *key })?;
        let range = range.unwrap_or(ByteRange::full(size)).within(size)?;
        if range.start() == range.end() {
            return Ok(BlobReader::new(range, size, Box::pin(tokio::io::empty())));
        }
        let opts = GetOptions {
            range: Some(GetRange::Bounded(range.start()..range.end())),
            ..GetOptions::default()
        };
        let got = match self.inner.s3.get_opts(&self.inner.path(key), opts).await {
            Ok(got) => got,
            Err(object_store::Error::NotFound { .. }) => return Err(EvidenceError::NotFound { key: *key }),
            Err(e) => return Err(store_error("reading an evidence object")(e)),
        };
        let stream = got.into_stream().map_err(io::Error::other);
        let reader = tokio_util::io::StreamReader::new(stream);
        Ok(BlobReader::new(range, size, Box::pin(reader.take(range.len()))))
    }

    async fn stat(&self, key: &BlobKey) -> Result<Option<BlobMeta>> {
        Ok(self.inner.stat(key).await?.map(|size| BlobMeta {
            size,
            write_protected: self.inner.lock.protects_writes(),
        }))
    }

    async fn list(&self) -> Result<Vec<BlobKey>> {
        let objects = self.inner.objects();
        let mut keys: Vec<BlobKey> = self
            .inner
            .s3
            .list(Some(&objects))
            .map_err(|e| store_error("listing evidence objects")(e))
            .try_filter_map(|meta| async move {
                let name = meta.location.filename().unwrap_or_default();
                match name.parse::<BlobKey>() {
                    Ok(key) => Ok(Some(key)),
                    Err(_) => {
                        tracing::warn!(key = %meta.location, "unexpected object in the evidence bucket");
                        Ok(None)
                    }
                }
            })
            .try_collect()
            .await?;
        keys.sort();
        keys.dedup();
        Ok(keys)
    }

    async fn cleanup_leftovers(&self) -> Result<CleanupReport> {
        // Interrupted uploads, and blobs spooled but never copied (a crash between the two:
        // no evidence record points at them).
        let mut report = self.inner.spool.cleanup_leftovers().await?;
        for key in self.inner.spool.list().await? {
            let path = self.inner.spool.object_path(&key);
            let bytes = tokio::fs::metadata(&path).await.map(|m| m.len()).unwrap_or(0);
            match tokio::fs::remove_file(&path).await {
                Ok(()) => {
                    report.removed += 1;
                    report.bytes += bytes;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(EvidenceError::io("removing a spooled upload")(e)),
            }
        }
        Ok(report)
    }
}

/// An upload spooled locally, copied to the bucket when finished.
struct S3Upload {
    inner: Arc<Inner>,
    spooled: Box<dyn BlobUpload>,
}

#[async_trait]
impl BlobUpload for S3Upload {
    async fn write(&mut self, chunk: Bytes) -> Result<()> {
        self.spooled.write(chunk).await
    }

    async fn finish(self: Box<Self>, digests: &ContentDigests) -> Result<StoredBlob> {
        let S3Upload { inner, spooled } = *self;
        let key = spooled.finish(digests).await?.key;
        let pushed = inner.push(&key, digests.size).await;
        // The spooled copy goes either way: in the bucket it is durable and locked; after a
        // failure the upload is reported failed and nothing records it.
        let file = inner.spool.object_path(&key);
        if let Err(e) = tokio::fs::remove_file(&file).await
            && e.kind() != io::ErrorKind::NotFound
        {
            tracing::warn!(path = %file.display(), error = %e, "could not remove a spooled upload; the next start will");
        }
        let newly_stored = pushed?;
        tracing::debug!(%key, size = digests.size, newly_stored, bucket = %inner.location.bucket, "evidence object stored");
        Ok(StoredBlob { key, newly_stored })
    }

    async fn abort(self: Box<Self>) -> Result<()> {
        self.spooled.abort().await
    }
}

fn store_error(op: &'static str) -> impl FnOnce(object_store::Error) -> EvidenceError {
    move |e| EvidenceError::io(op)(io::Error::other(e.to_string()))
}

/// Reads the bucket's Object Lock configuration (`GET ?object-lock`, signed with the same
/// credentials as every other request).
async fn object_lock(location: &S3Location, builder: &AmazonS3Builder) -> Result<ObjectLock> {
    let op = "reading the evidence bucket's Object Lock configuration";
    let region = builder
        .get_config_value(&AmazonS3ConfigKey::Region)
        .unwrap_or_else(|| "us-east-1".to_owned());
    let base = match builder.get_config_value(&AmazonS3ConfigKey::Endpoint) {
        Some(endpoint) => format!("{}/{}", endpoint.trim_end_matches('/'), location.bucket),
        None => format!("https://{}.s3.{region}.amazonaws.com", location.bucket),
    };
    let url = format!("{base}?object-lock");
    let credential = object_store::aws::AwsCredential {
        key_id: builder
            .get_config_value(&AmazonS3ConfigKey::AccessKeyId)
            .unwrap_or_default(),
        secret_key: builder
            .get_config_value(&AmazonS3ConfigKey::SecretAccessKey)
            .unwrap_or_default(),
        token: builder.get_config_value(&AmazonS3ConfigKey::Token),
    };
    let mut request = http::Request::builder()
        .method(http::Method::GET)
        .uri(&url)
        .body(object_store::client::HttpRequestBody::from(Vec::new()))
        .map_err(|e| EvidenceError::io(op)(io::Error::other(e)))?;
    AwsAuthorizer::new(&credential, "s3", &region)
        .try_authorize(&mut request, None)
        .map_err(store_error(op))?;
    let client = reqwest::Client::new();
    let mut send = client.get(&url);
    for (name, value) in request.headers() {
        send = send.header(name, value);
    }
    let response = send
        .send()
        .await
        .map_err(|e| EvidenceError::io(op)(io::Error::other(e)))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|e| EvidenceError::io(op)(io::Error::other(e)))?;
    if status.as_u16() == 404 && body.contains("ObjectLockConfigurationNotFound") {
        return Ok(ObjectLock {
            enabled: false,
            default_mode: None,
        });
    }
    if !status.is_success() {
        return Err(EvidenceError::io(op)(io::Error::other(format!("{status}: {body}"))));
    }
    Ok(parse_object_lock(&body))
}

/// The parts of a `GetObjectLockConfiguration` answer that matter here.
fn parse_object_lock(xml: &str) -> ObjectLock {
    let element = |name: &str| -> Option<String> {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let start = xml.find(&open)? + open.len();
        let end = start + xml[start..].find(&close)?;
        Some(xml[start..end].trim().to_owned())
    };
    let retention = element("DefaultRetention");
    ObjectLock {
        enabled: element("ObjectLockEnabled").as_deref() == Some("Enabled"),
        default_mode: retention.and_then(|r| {
            let start = r.find("<Mode>")? + "<Mode>".len();
            let end = start + r[start..].find("</Mode>")?;
            Some(r[start..end].trim().to_owned())
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_and_bad_ones_are_refused() {
        let l: S3Location = "s3://cordon-evidence/site-a/".parse().unwrap();
        assert_eq!((l.bucket.as_str(), l.prefix.as_str()), ("cordon-evidence", "site-a"));
        let l: S3Location = "s3://evidence".parse().unwrap();
        assert_eq!(l.prefix, "");
        for bad in ["evidence", "s3://", "s3://Evidence", "s3://ab", "https://evidence"] {
            assert!(bad.parse::<S3Location>().is_err(), "{bad}");
        }
    }

    #[test]
    fn object_lock_answers_are_read() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention><Mode>COMPLIANCE</Mode><Days>1</Days></DefaultRetention></Rule></ObjectLockConfiguration>"#;
        let lock = parse_object_lock(xml);
        assert!(lock.protects_writes(), "{lock:?}");
        let governance = parse_object_lock(&xml.replace("COMPLIANCE", "GOVERNANCE"));
        assert_eq!(governance.default_mode.as_deref(), Some("GOVERNANCE"));
        assert!(!governance.protects_writes());
        let no_rule = parse_object_lock(
            "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled></ObjectLockConfiguration>",
        );
        assert!(no_rule.enabled && !no_rule.protects_writes());
    }
}
