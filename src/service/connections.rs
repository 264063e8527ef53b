//! The connection cache, for the operations that write: the token's hash → the participant's
//! connection, from a container-wide cache or one `GetItem`.

use std::num::NonZeroUsize;
use std::sync::{Mutex, MutexGuard, PoisonError};

use lru::LruCache;

use super::Meter;
use crate::domain::{epoch_seconds, Connection, TokenHash};
use crate::error::ApiError;
use crate::store::{Store, StoreError};

/// How many connections a warm container remembers (about 200 bytes each).
const CAPACITY: NonZeroUsize = match NonZeroUsize::new(4096) {
    Some(capacity) => capacity,
    None => unreachable!(),
};

/// Token hash → connection. Safe to trust until `ExpiresAt` because every write re-checks the
/// connection inside its transaction; a refusal there evicts it ([`Connections::refused`]).
pub struct Connections(Mutex<LruCache<TokenHash, Connection>>);

impl Default for Connections {
    fn default() -> Self {
        Self(Mutex::new(LruCache::new(CAPACITY)))
    }
}

impl Connections {
    pub async fn authenticate<S: Store>(
        &self,
        store: &S,
        token_hash: &TokenHash,
        now: std::time::SystemTime,
        meter: &mut Meter,
    ) -> Result<Connection, ApiError> {
        let now = epoch_seconds(now);
        if let Some(connection) = self.cached(token_hash, now) {
            return Ok(connection);
        }
        match meter.dynamodb(store.find_connection(token_hash)).await {
            Ok(Some(connection)) if connection.is_live(now) => {
                self.cache().put(token_hash.clone(), connection.clone());
                Ok(connection)
            }
            Ok(_) => Err(ApiError::AccessDenied),
            Err(error) => Err(error.into()),
        }
    }

    /// Forgets a connection that a transaction found gone.
    pub fn refused<T>(&self, token_hash: &TokenHash, result: &Result<T, StoreError>) {
        if matches!(result, Err(StoreError::ConnectionGone)) {
            self.cache().pop(token_hash);
        }
    }

    fn cached(&self, token_hash: &TokenHash, now: i64) -> Option<Connection> {
        let mut cache = self.cache();
        match cache.get(token_hash) {
            Some(connection) if connection.is_live(now) => Some(connection.clone()),
            Some(_) => {
                cache.pop(token_hash);
                None
            }
            None => None,
        }
    }

    fn cache(&self) -> MutexGuard<'_, LruCache<TokenHash, Connection>> {
        // The cache holds no invariant a panic could break: a poisoned lock is still usable.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
