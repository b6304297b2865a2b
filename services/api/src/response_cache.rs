//! Rendered read responses, kept while the data they were rendered from stands.
//!
//! Served data only changes when an import run or the partner sync commits, and each of those raises the store's
//! data revision in the same transaction ([`ikz_store::revision`]). A read route reads the revision first, then
//! looks for a rendering of its URL and format made at that revision; only on a miss does it query and render (a
//! 100-row page: about 600 µs of CPU, a hit: a small fraction of that). Because the revision is read from the
//! database on every request, renderings made before a CLI import or another replica's run are never served after
//! it. A newer revision empties the cache, so stale renderings do not sit on memory.
//!
//! `server.response_cache_mb` bounds the memory (bodies plus keys); 0 turns the cache off.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::web::Bytes;

use crate::format::Format;

/// A response body as rendered, with what the 200 and a 304 need.
#[derive(Debug)]
pub struct Rendered {
    pub body: Bytes,
    /// The ETag (quoted, `W/` for a weak one).
    pub etag: String,
    pub content_type: &'static str,
    /// Headers of the representation besides the ETag (Content-Disposition, Link).
    pub headers: Vec<(HeaderName, HeaderValue)>,
}

/// What a rendering is kept under: the data revision it was made at, its format and its URL.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    revision: i64,
    format: Format,
    /// Path and query string as the client sent them.
    uri: String,
}

impl Key {
    pub fn new(revision: i64, format: Format, uri: String) -> Key {
        Key { revision, format, uri }
    }
}

#[derive(Clone)]
struct ByBytes;

impl quick_cache::Weighter<Key, Arc<Rendered>> for ByBytes {
    fn weight(&self, key: &Key, value: &Arc<Rendered>) -> u64 {
        // Bytes held: body, key and the bookkeeping around them; never 0 (weightless entries are never evicted).
        (value.body.len() + value.etag.len() + key.uri.len() + 128) as u64
    }
}

struct Inner {
    cache: quick_cache::sync::Cache<Key, Arc<Rendered>, ByBytes>,
    /// Renderings larger than this are not kept (a whole-list XLSX would push out hundreds of pages).
    max_entry_bytes: usize,
    /// The newest revision seen; a newer one clears the cache.
    revision: AtomicI64,
}

/// The cache, shared by all workers; cloning shares it.
#[derive(Clone, Default)]
pub struct ResponseCache {
    inner: Option<Arc<Inner>>,
}

/// `server.response_cache_mb` when the config does not say: some 800 pages of 100 schools.
pub const DEFAULT_MEGABYTES: u64 = 64;

/// Typical size of one kept rendering, for the cache's initial table size (a 100-row page is about 80 KB).
const TYPICAL_ENTRY_BYTES: u64 = 16 * 1024;

impl ResponseCache {
    /// A cache holding up to `megabytes` MB of renderings; 0: no cache (every request queries the store).
    pub fn new(megabytes: u64) -> Self {
        if megabytes == 0 {
            return ResponseCache { inner: None };
        }
        let capacity = megabytes.saturating_mul(1024 * 1024);
        let cache = quick_cache::sync::Cache::with_weighter(
            (capacity / TYPICAL_ENTRY_BYTES).max(16) as usize,
            capacity,
            ByBytes,
        );
        let max_entry_bytes = usize::try_from(capacity / 8).unwrap_or(usize::MAX);
        ResponseCache { inner: Some(Arc::new(Inner { cache, max_entry_bytes, revision: AtomicI64::new(i64::MIN) })) }
    }

    /// Is there a cache (does a request need the revision)?
    pub fn enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// The rendering kept under `key`, if any. A key of a newer revision than any seen before drops every older
    /// rendering first.
    pub fn get(&self, key: &Key) -> Option<Arc<Rendered>> {
        let inner = self.inner.as_ref()?;
        inner.advance(key.revision);
        inner.cache.get(key)
    }

    /// Keeps `rendered` under `key` (looked up with [`ResponseCache::get`] before it was rendered).
    pub fn insert(&self, key: Key, rendered: Arc<Rendered>) {
        let Some(inner) = &self.inner else { return };
        // A rendering of a revision older than the newest seen (another request read a newer one meanwhile) would
        // never be served again.
        if rendered.body.len() <= inner.max_entry_bytes && key.revision >= inner.revision.load(Ordering::Acquire) {
            inner.cache.insert(key, rendered);
        }
    }

    /// Renderings kept.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.as_ref().map_or(0, |inner| inner.cache.len())
    }
}

impl Inner {
    /// Notes that the data is at `revision`; the first request to see a newer one drops every older rendering.
    fn advance(&self, revision: i64) {
        let seen = self.revision.load(Ordering::Acquire);
        if revision > seen
            && self.revision.compare_exchange(seen, revision, Ordering::AcqRel, Ordering::Acquire).is_ok()
        {
            self.cache.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(body: &str) -> Arc<Rendered> {
        Arc::new(Rendered {
            body: Bytes::from(body.to_owned()),
            etag: "\"x\"".into(),
            content_type: "application/json",
            headers: Vec::new(),
        })
    }

    fn key(revision: i64, format: Format, uri: &str) -> Key {
        Key::new(revision, format, uri.to_owned())
    }

    #[test]
    fn serves_a_rendering_only_at_its_revision_and_format() {
        let cache = ResponseCache::new(1);
        assert!(cache.get(&key(3, Format::Json, "/api/v1/schools?limit=2")).is_none());
        cache.insert(key(3, Format::Json, "/api/v1/schools?limit=2"), rendered("[1,2]"));
        let hit = cache.get(&key(3, Format::Json, "/api/v1/schools?limit=2")).map(|r| r.body.clone());
        assert_eq!(hit.as_deref(), Some(&b"[1,2]"[..]));
        assert!(cache.get(&key(3, Format::Csv, "/api/v1/schools?limit=2")).is_none());
        assert!(cache.get(&key(3, Format::Json, "/api/v1/schools?limit=3")).is_none());
        // The data moved on: the old rendering is gone and stays gone.
        assert!(cache.get(&key(4, Format::Json, "/api/v1/schools?limit=2")).is_none());
        assert_eq!(cache.len(), 0);
        assert!(cache.get(&key(3, Format::Json, "/api/v1/schools?limit=2")).is_none());
    }

    #[test]
    fn does_not_keep_renderings_of_an_older_revision_or_too_large_ones() {
        let cache = ResponseCache::new(1);
        assert!(cache.get(&key(5, Format::Json, "/a")).is_none());
        cache.insert(key(4, Format::Json, "/a"), rendered("old"));
        assert_eq!(cache.len(), 0);
        cache.insert(key(5, Format::Json, "/b"), rendered(&"x".repeat(200 * 1024)));
        assert_eq!(cache.len(), 0, "larger than an eighth of 1 MB");
        cache.insert(key(5, Format::Json, "/c"), rendered("fits"));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn a_disabled_cache_keeps_nothing() {
        let cache = ResponseCache::new(0);
        assert!(!cache.enabled());
        cache.insert(key(1, Format::Json, "/a"), rendered("a"));
        assert!(cache.get(&key(1, Format::Json, "/a")).is_none());
    }
}
