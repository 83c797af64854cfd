//! A station's installed profiles, with the install rules of its version.

use ocpp_types::OcppVersion;

use super::composite::{composite_schedule, CompositeRequest, CompositeSchedule, StationState};
use super::model::{ChargingProfile, InstalledProfile, Purpose};
use super::validate::{
    check_conflicts, validate_profile, ProfileOrigin, StationCapabilities, ValidationContext,
    ValidationError,
};

/// The installed profiles of one station: what SetChargingProfile adds to, ClearChargingProfile
/// removes from and GetCompositeSchedule computes over. Used by the station role to enforce
/// limits and by a CSMS to mirror what it sent.
#[derive(Debug, Clone)]
pub struct ProfileStore {
    version: OcppVersion,
    capabilities: StationCapabilities,
    profiles: Vec<InstalledProfile>,
}

impl ProfileStore {
    /// An empty store following the rules of `version`.
    pub fn new(version: OcppVersion, capabilities: StationCapabilities) -> Self {
        ProfileStore {
            version,
            capabilities,
            profiles: Vec::new(),
        }
    }

    /// The version whose rules apply.
    pub fn version(&self) -> OcppVersion {
        self.version
    }

    /// What the station can do.
    pub fn capabilities(&self) -> &StationCapabilities {
        &self.capabilities
    }

    /// The installed profiles, in installation order.
    pub fn profiles(&self) -> &[InstalledProfile] {
        &self.profiles
    }

    /// Validates `profile` for `evse_id` ([`validate_profile`], then [`check_conflicts`]) and
    /// installs it, returning the profiles it replaced. On error nothing changes.
    pub fn install(
        &mut self,
        evse_id: u32,
        profile: ChargingProfile,
        active_transaction: Option<&str>,
        origin: ProfileOrigin,
    ) -> Result<Vec<InstalledProfile>, ValidationError> {
        let ctx = ValidationContext {
            version: self.version,
            evse_id,
            active_transaction,
            capabilities: &self.capabilities,
            origin,
        };
        validate_profile(&profile, &ctx)?;
        let conflicts = check_conflicts(self.version, evse_id, &profile, &self.profiles)?;
        let mut replaced = Vec::with_capacity(conflicts.replaced.len());
        for &i in conflicts.replaced.iter().rev() {
            replaced.push(self.profiles.remove(i));
        }
        replaced.reverse();
        self.profiles.push(InstalledProfile::new(evse_id, profile));
        Ok(replaced)
    }

    /// Removes the profile with this id.
    pub fn remove(&mut self, id: i64) -> Option<InstalledProfile> {
        let i = self.profiles.iter().position(|p| p.profile.id == id)?;
        Some(self.profiles.remove(i))
    }

    /// Removes every profile `matches` selects (ClearChargingProfile's criteria), returning them.
    pub fn remove_where(
        &mut self,
        mut matches: impl FnMut(&InstalledProfile) -> bool,
    ) -> Vec<InstalledProfile> {
        let (gone, kept) = std::mem::take(&mut self.profiles)
            .into_iter()
            .partition(|p| matches(p));
        self.profiles = kept;
        gone
    }

    /// Removes the TxProfiles of a transaction that ended on `evse_id` (they do not outlive
    /// it): those naming the transaction and, on that EVSE, those naming none (1.6).
    pub fn end_transaction(&mut self, evse_id: u32, transaction_id: &str) -> Vec<InstalledProfile> {
        self.remove_where(|p| {
            p.profile.purpose == Purpose::Tx
                && match p.profile.transaction_id.as_deref() {
                    Some(id) => id == transaction_id,
                    None => p.evse_id == evse_id,
                }
        })
    }

    /// The composite schedule over the installed profiles ([`composite_schedule`]).
    pub fn composite(
        &self,
        request: &CompositeRequest,
        station: &StationState,
    ) -> CompositeSchedule {
        composite_schedule(&self.profiles, request, station)
    }
}
