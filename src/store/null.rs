//! A store that keeps nothing, for the `noop` strategy: the harness
//! measurement must not include SQLite's cost of seeding users.

use super::{OpCounts, Profile, RefreshRow, SessionRow, StateSize, Store, StoreResult, UserRow};
use crate::time::Millis;

/// Accepts every write, finds nothing, and counts no operation.
pub struct NullStore;

impl Store for NullStore {
    fn describe(&self) -> String {
        "none".to_string()
    }

    fn seed_user(&mut self, _profile: &Profile) -> StoreResult<()> {
        Ok(())
    }

    fn find_user(&mut self, _id: u64) -> StoreResult<Option<UserRow>> {
        Ok(None)
    }

    fn update_user(&mut self, _profile: &Profile) -> StoreResult<()> {
        Ok(())
    }

    fn set_user_revoked_before(&mut self, _user_id: u64, _before: Millis) -> StoreResult<()> {
        Ok(())
    }

    fn create_session(&mut self, _token: &str, _user_id: u64, _expires: Millis) -> StoreResult<()> {
        Ok(())
    }

    fn session_and_user(&mut self, _token: &str) -> StoreResult<Option<(SessionRow, Profile)>> {
        Ok(None)
    }

    fn update_session_expiry(&mut self, _token: &str, _expires: Millis) -> StoreResult<()> {
        Ok(())
    }

    fn delete_session(&mut self, _token: &str) -> StoreResult<()> {
        Ok(())
    }

    fn delete_user_sessions(&mut self, _user_id: u64) -> StoreResult<()> {
        Ok(())
    }

    fn session_state(&mut self, _now: Millis) -> StoreResult<StateSize> {
        Ok(StateSize::default())
    }

    fn deny_token(&mut self, _jti: &str, _expires: Millis) -> StoreResult<()> {
        Ok(())
    }

    fn deny_user_before(
        &mut self,
        _user_id: u64,
        _before: Millis,
        _expires: Millis,
    ) -> StoreResult<()> {
        Ok(())
    }

    fn is_denied(&mut self, _jti: &str, _user_id: u64, _issued_at: Millis) -> StoreResult<bool> {
        Ok(false)
    }

    fn denylist_state(&mut self, _now: Millis) -> StoreResult<StateSize> {
        Ok(StateSize::default())
    }

    fn insert_refresh(&mut self, _token: &str, _row: &RefreshRow) -> StoreResult<()> {
        Ok(())
    }

    fn find_refresh(&mut self, _token: &str) -> StoreResult<Option<RefreshRow>> {
        Ok(None)
    }

    fn mark_refresh_used(&mut self, _token: &str) -> StoreResult<()> {
        Ok(())
    }

    fn delete_refresh_family(&mut self, _family: &str) -> StoreResult<()> {
        Ok(())
    }

    fn delete_user_refresh(&mut self, _user_id: u64) -> StoreResult<()> {
        Ok(())
    }

    fn refresh_state(&mut self, _now: Millis) -> StoreResult<StateSize> {
        Ok(StateSize::default())
    }

    fn counts(&self) -> OpCounts {
        OpCounts::default()
    }
}
