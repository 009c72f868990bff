//! The containment and impact registers' rules (issue 6): asset kinds and the asset state
//! machine, credential kinds and states, data classifications, and how the "isolate" and
//! "image" checklist steps read their progress from the asset records.
//!
//! An asset moves `suspected → compromised → isolated ⇄ imaged → rebuilt → clean`; a
//! suspicion can also be cleared (`suspected → clean`), a compromised asset can be rebuilt
//! straight away (a cloud instance replaced), and a rebuilt or clean asset can be compromised
//! again. Every state after `compromised` and before `clean` means the asset *was*
//! compromised, so the secrets stored on it are.

use std::fmt;
use std::str::FromStr;

use crate::error::DomainError;

macro_rules! names {
    ($ty:ident, $field:literal, $what:literal, { $($v:ident => $s:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$v),+];

            pub fn as_str(self) -> &'static str {
                match self { $($ty::$v => $s),+ }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $crate::names::Named for $ty {
            const FIELD: &'static str = $field;
            fn all() -> &'static [Self] {
                Self::ALL
            }
            fn name(self) -> &'static str {
                self.as_str()
            }
        }

        impl FromStr for $ty {
            type Err = DomainError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $crate::names::Named::parse_name(s)
            }
        }
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AssetKind {
    Host,
    Instance,
    Container,
    Database,
    Bucket,
    Account,
    Network,
}

names!(AssetKind, "kind", "asset kind", {
    Host => "host", Instance => "instance", Container => "container", Database => "database",
    Bucket => "bucket", Account => "account", Network => "network",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AssetState {
    Suspected,
    Compromised,
    Isolated,
    Imaged,
    Rebuilt,
    Clean,
}

names!(AssetState, "state", "asset state", {
    Suspected => "suspected", Compromised => "compromised", Isolated => "isolated",
    Imaged => "imaged", Rebuilt => "rebuilt", Clean => "clean",
});

impl AssetState {
    /// The states an asset may move to from this one.
    pub fn next(self) -> &'static [AssetState] {
        use AssetState::*;
        match self {
            Suspected => &[Compromised, Clean],
            Compromised => &[Isolated, Imaged, Rebuilt],
            Isolated => &[Imaged, Rebuilt],
            Imaged => &[Isolated, Rebuilt],
            Rebuilt => &[Clean, Compromised],
            Clean => &[Suspected, Compromised],
        }
    }

    /// Being in this state means the asset was compromised: the secrets on it are.
    pub fn implies_compromise(self) -> bool {
        matches!(self, Self::Compromised | Self::Isolated | Self::Imaged | Self::Rebuilt)
    }

    /// Checks a move; an illegal one names both states.
    pub fn check_move(self, to: AssetState) -> Result<(), DomainError> {
        if self.next().contains(&to) {
            Ok(())
        } else {
            Err(DomainError::IllegalMove {
                what: "asset",
                from: self.as_str(),
                to: to.as_str(),
                allowed: self.next().iter().map(|s| s.as_str()).collect(),
            })
        }
    }
}

/// Progress of the "isolate affected instances" step from the asset records: of the assets
/// that were ever compromised, how many were isolated and how many imaged (at any time).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContainmentProgress {
    pub isolated: u32,
    pub imaged: u32,
    pub of: u32,
}

impl ContainmentProgress {
    /// `histories`: for each asset, every state it has been in (its first state and each move's
    /// target), in order.
    pub fn from_histories<'a>(histories: impl IntoIterator<Item = &'a [AssetState]>) -> Self {
        let mut p = Self::default();
        for h in histories {
            if !h.iter().any(|s| s.implies_compromise()) {
                continue;
            }
            p.of += 1;
            p.isolated += u32::from(h.contains(&AssetState::Isolated));
            p.imaged += u32::from(h.contains(&AssetState::Imaged));
        }
        p
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialKind {
    SshKey,
    Password,
    ApiKey,
    CloudAccessKey,
    Certificate,
    Token,
    Other,
}

names!(CredentialKind, "kind", "credential kind", {
    SshKey => "ssh_key", Password => "password", ApiKey => "api_key",
    CloudAccessKey => "cloud_access_key", Certificate => "certificate", Token => "token", Other => "other",
});

/// A credential's state. `unaffected` until an asset it is stored on is compromised; then
/// `compromised` until someone rotates or revokes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CredentialState {
    Unaffected,
    Compromised,
    Rotated,
    Revoked,
}

names!(CredentialState, "state", "credential state", {
    Unaffected => "unaffected", Compromised => "compromised", Rotated => "rotated", Revoked => "revoked",
});

impl CredentialState {
    /// Whether a person may set `to` (rotation and revocation; compromise is Cordon's call,
    /// made from the assets).
    pub fn check_manual_move(self, to: CredentialState) -> Result<(), DomainError> {
        use CredentialState::*;
        let allowed: &[CredentialState] = match self {
            Unaffected | Compromised => &[Rotated, Revoked],
            Rotated => &[Revoked],
            Revoked => &[],
        };
        if allowed.contains(&to) {
            Ok(())
        } else {
            Err(DomainError::IllegalMove {
                what: "credential",
                from: self.as_str(),
                to: to.as_str(),
                allowed: allowed.iter().map(|s| s.as_str()).collect(),
            })
        }
    }

    /// Whether an asset's compromise turns this credential compromised (a rotated credential
    /// was replaced after the fact; a revoked one grants nothing).
    pub fn falls_with_asset(self) -> bool {
        matches!(self, Self::Unaffected)
    }

    /// Still to rotate or revoke.
    pub fn is_unrotated(self) -> bool {
        matches!(self, Self::Compromised)
    }
}

/// How sensitive exposed data is: the usual four levels, and the regulated categories that
/// drive notification duties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Classification {
    Public,
    Internal,
    Confidential,
    Restricted,
    /// Personal data (GDPR "personal data", US "PII").
    Pii,
    /// Protected health information (HIPAA).
    Phi,
    /// Payment card data (PCI DSS).
    Pci,
    /// Secrets: keys, passwords, tokens.
    Credentials,
}

names!(Classification, "classification", "classification", {
    Public => "public", Internal => "internal", Confidential => "confidential", Restricted => "restricted",
    Pii => "pii", Phi => "phi", Pci => "pci", Credentials => "credentials",
});

impl Classification {
    /// Whether exposing such data can oblige the company to notify someone.
    pub fn is_regulated(self) -> bool {
        matches!(self, Self::Pii | Self::Phi | Self::Pci)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AssetState::*;

    #[test]
    fn the_responders_path_is_legal() {
        let path = [Suspected, Compromised, Isolated, Imaged, Rebuilt, Clean];
        for w in path.windows(2) {
            assert!(w[0].check_move(w[1]).is_ok(), "{} -> {}", w[0], w[1]);
        }
        assert!(Suspected.check_move(Clean).is_ok());
        assert!(Compromised.check_move(Imaged).is_ok());
        assert!(Imaged.check_move(Isolated).is_ok());
        assert!(Rebuilt.check_move(Compromised).is_ok());
    }

    #[test]
    fn shortcuts_and_standing_still_are_refused() {
        for (from, to) in [
            (Suspected, Isolated),
            (Suspected, Rebuilt),
            (Clean, Isolated),
            (Isolated, Clean),
            (Compromised, Clean),
            (Compromised, Suspected),
            (Compromised, Compromised),
        ] {
            let e = from.check_move(to).unwrap_err();
            assert_eq!(e.code(), "illegal_transition");
            assert!(e.to_string().contains(from.as_str()) && e.to_string().contains(to.as_str()));
        }
    }

    #[test]
    fn every_state_between_compromise_and_clean_implies_compromise() {
        let implied: Vec<_> = AssetState::ALL.iter().filter(|s| s.implies_compromise()).collect();
        assert_eq!(implied, [&Compromised, &Isolated, &Imaged, &Rebuilt]);
    }

    #[test]
    fn progress_counts_assets_that_were_compromised() {
        let a: &[AssetState] = &[Suspected, Compromised, Isolated, Imaged];
        let b: &[AssetState] = &[Compromised, Isolated];
        let c: &[AssetState] = &[Compromised];
        let d: &[AssetState] = &[Suspected, Clean];
        let p = ContainmentProgress::from_histories([a, b, c, d]);
        assert_eq!(
            p,
            ContainmentProgress {
                isolated: 2,
                imaged: 1,
                of: 3
            }
        );
    }

    #[test]
    fn credentials_rotate_and_revoke_by_hand_only() {
        use CredentialState::*;
        assert!(Compromised.check_manual_move(Rotated).is_ok());
        assert!(Unaffected.check_manual_move(Revoked).is_ok());
        assert!(Rotated.check_manual_move(Revoked).is_ok());
        assert!(Unaffected.check_manual_move(Compromised).is_err());
        assert!(Revoked.check_manual_move(Rotated).is_err());
        assert!(Unaffected.falls_with_asset() && !Rotated.falls_with_asset());
    }

    #[test]
    fn names_round_trip() {
        for k in AssetKind::ALL {
            assert_eq!(k.as_str().parse::<AssetKind>().unwrap(), *k);
        }
        for c in Classification::ALL {
            assert_eq!(c.as_str().parse::<Classification>().unwrap(), *c);
        }
        assert_eq!("ssh_key".parse::<CredentialKind>().unwrap(), CredentialKind::SshKey);
        assert!("laptop".parse::<AssetKind>().is_err());
    }
}
