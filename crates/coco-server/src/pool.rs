//! A small pool of store handles. DuckDB allows one process per file but many
//! connections inside it; each request borrows a handle on a blocking thread so
//! queries never stall the async runtime.

use std::sync::{Arc, Mutex};

use coco_store::{Store, StoreError};
use tokio::sync::Semaphore;

use crate::error::AppError;

pub struct StorePool {
    /// Kept aside to mint a replacement if a borrowed handle is lost to a panic.
    primary: Mutex<Store>,
    idle: Mutex<Vec<Store>>,
    permits: Semaphore,
}

impl StorePool {
    pub fn new(primary: Store, size: usize) -> Result<StorePool, StoreError> {
        let size = size.max(1);
        let idle = (0..size)
            .map(|_| primary.try_clone())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(StorePool {
            primary: Mutex::new(primary),
            idle: Mutex::new(idle),
            permits: Semaphore::new(size),
        })
    }

    /// Runs `work` with a store handle on a blocking thread.
    pub async fn run<T, F>(self: &Arc<Self>, work: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, AppError> + Send + 'static,
    {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| AppError::internal("the store pool is closed"))?;
        let store = self.checkout()?;
        let pool = Arc::clone(self);
        let joined = tokio::task::spawn_blocking(move || {
            let result = work(&store);
            pool.checkin(store);
            result
        })
        .await;
        match joined {
            Ok(result) => result,
            // The handle went down with the panicking task; the next checkout mints one.
            Err(error) => Err(AppError::internal(format!("a request failed: {error}"))),
        }
    }

    fn checkout(&self) -> Result<Store, AppError> {
        let popped = self
            .idle
            .lock()
            .map_err(|_| AppError::internal("store pool poisoned"))?
            .pop();
        match popped {
            Some(store) => Ok(store),
            None => Ok(self
                .primary
                .lock()
                .map_err(|_| AppError::internal("store pool poisoned"))?
                .try_clone()?),
        }
    }

    fn checkin(&self, store: Store) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(store);
        }
    }
}
