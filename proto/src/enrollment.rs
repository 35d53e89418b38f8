//! Enrollment state machine.
//!
//! ```text
//! Draft --submit--> Submitted --scan--> Scanned --approve--> Approved --activate--> Activated --set_pin--> PinSet
//!                       |  \               |  \                 |
//!                       |   `--expire--.   |   `--expire--.     `--expire--> Expired
//!                       `--reject--> Rejected <--reject--'
//! any state --reset--> Draft
//! ```
//!
//! `scan` also works from `Scanned` (the resident moved to another desk). The state is
//! pure data, serializable with serde (`{"state": "scanned", "desk": {...}}`), so the
//! wallet can keep it as JSON in its store. [`EnrollmentState::apply_server`] folds the
//! server's status in, moving forward only.

use crate::wire::{EnrollmentStatusResponse, EnrollmentStatusWire};
use serde::{Deserialize, Serialize};

/// The registration desk that scanned the resident in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Desk {
    /// Known when the app read it from the desk QR; the server's status only names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
}

impl Desk {
    pub fn new(id: impl Into<String>, name: impl Into<String>) -> Self {
        Self {
            id: Some(id.into()),
            name: name.into(),
        }
    }

    pub fn named(name: impl Into<String>) -> Self {
        Self {
            id: None,
            name: name.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum EnrollmentState {
    /// Form and selfie being filled in; nothing sent.
    #[default]
    Draft,
    /// Sent to the backend; waiting for a desk visit.
    Submitted,
    /// Scanned in at a desk; waiting for the officer.
    Scanned { desk: Desk },
    /// Approved; the activation code was emailed.
    Approved {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        desk: Option<Desk>,
    },
    /// Code accepted, documents fetched; no PIN yet.
    Activated,
    /// PIN created: enrollment finished.
    PinSet,
    /// Refused by the officer.
    Rejected { reason: String },
    /// The enrollment or its code ran out of time.
    Expired,
}

/// The state's name without its data (for errors and logs: no personal data).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StateKind {
    Draft,
    Submitted,
    Scanned,
    Approved,
    Activated,
    PinSet,
    Rejected,
    Expired,
}

impl StateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StateKind::Draft => "draft",
            StateKind::Submitted => "submitted",
            StateKind::Scanned => "scanned",
            StateKind::Approved => "approved",
            StateKind::Activated => "activated",
            StateKind::PinSet => "pin_set",
            StateKind::Rejected => "rejected",
            StateKind::Expired => "expired",
        }
    }
}

impl std::fmt::Display for StateKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What happened, without its data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnrollmentEvent {
    Submit,
    Scan,
    Approve,
    Reject,
    Expire,
    Activate,
    SetPin,
    Reset,
}

impl EnrollmentEvent {
    pub const ALL: [EnrollmentEvent; 8] = [
        EnrollmentEvent::Submit,
        EnrollmentEvent::Scan,
        EnrollmentEvent::Approve,
        EnrollmentEvent::Reject,
        EnrollmentEvent::Expire,
        EnrollmentEvent::Activate,
        EnrollmentEvent::SetPin,
        EnrollmentEvent::Reset,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EnrollmentEvent::Submit => "submit",
            EnrollmentEvent::Scan => "scan",
            EnrollmentEvent::Approve => "approve",
            EnrollmentEvent::Reject => "reject",
            EnrollmentEvent::Expire => "expire",
            EnrollmentEvent::Activate => "activate",
            EnrollmentEvent::SetPin => "set_pin",
            EnrollmentEvent::Reset => "reset",
        }
    }
}

impl std::fmt::Display for EnrollmentEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum EnrollmentError {
    #[error("cannot {event} an enrollment that is {from}")]
    IllegalTransition {
        from: StateKind,
        event: EnrollmentEvent,
    },
    /// Stored JSON that is not an enrollment state.
    #[error("stored enrollment state is unreadable ({0})")]
    Corrupt(String),
}

impl EnrollmentState {
    pub fn kind(&self) -> StateKind {
        match self {
            EnrollmentState::Draft => StateKind::Draft,
            EnrollmentState::Submitted => StateKind::Submitted,
            EnrollmentState::Scanned { .. } => StateKind::Scanned,
            EnrollmentState::Approved { .. } => StateKind::Approved,
            EnrollmentState::Activated => StateKind::Activated,
            EnrollmentState::PinSet => StateKind::PinSet,
            EnrollmentState::Rejected { .. } => StateKind::Rejected,
            EnrollmentState::Expired => StateKind::Expired,
        }
    }

    fn illegal(&self, event: EnrollmentEvent) -> EnrollmentError {
        EnrollmentError::IllegalTransition {
            from: self.kind(),
            event,
        }
    }

    /// Draft → Submitted.
    pub fn submit(&self) -> Result<Self, EnrollmentError> {
        match self {
            EnrollmentState::Draft => Ok(EnrollmentState::Submitted),
            _ => Err(self.illegal(EnrollmentEvent::Submit)),
        }
    }

    /// Submitted or Scanned → Scanned at `desk`.
    pub fn scan(&self, desk: Desk) -> Result<Self, EnrollmentError> {
        match self {
            EnrollmentState::Submitted | EnrollmentState::Scanned { .. } => {
                Ok(EnrollmentState::Scanned { desk })
            }
            _ => Err(self.illegal(EnrollmentEvent::Scan)),
        }
    }

    /// Scanned → Approved (the code was emailed).
    pub fn approve(&self) -> Result<Self, EnrollmentError> {
        match self {
            EnrollmentState::Scanned { desk } => Ok(EnrollmentState::Approved {
                desk: Some(desk.clone()),
            }),
            _ => Err(self.illegal(EnrollmentEvent::Approve)),
        }
    }

    /// Submitted or Scanned → Rejected.
    pub fn reject(&self, reason: impl Into<String>) -> Result<Self, EnrollmentError> {
        match self {
            EnrollmentState::Submitted | EnrollmentState::Scanned { .. } => {
                Ok(EnrollmentState::Rejected {
                    reason: reason.into(),
                })
            }
            _ => Err(self.illegal(EnrollmentEvent::Reject)),
        }
    }

    /// Submitted, Scanned or Approved → Expired.
    pub fn expire(&self) -> Result<Self, EnrollmentError> {
        match self {
            EnrollmentState::Submitted
            | EnrollmentState::Scanned { .. }
            | EnrollmentState::Approved { .. } => Ok(EnrollmentState::Expired),
            _ => Err(self.illegal(EnrollmentEvent::Expire)),
        }
    }

    /// Approved → Activated (the code was accepted and the documents fetched).
    pub fn activate(&self) -> Result<Self, EnrollmentError> {
        match self {
            EnrollmentState::Approved { .. } => Ok(EnrollmentState::Activated),
            _ => Err(self.illegal(EnrollmentEvent::Activate)),
        }
    }

    /// Activated → PinSet.
    pub fn set_pin(&self) -> Result<Self, EnrollmentError> {
        match self {
            EnrollmentState::Activated => Ok(EnrollmentState::PinSet),
            _ => Err(self.illegal(EnrollmentEvent::SetPin)),
        }
    }

    /// Any state → Draft (start over, e.g. after a rejection or a device release).
    pub fn reset(&self) -> Result<Self, EnrollmentError> {
        Ok(EnrollmentState::Draft)
    }

    /// Finished one way or another: nothing more will come from the server.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            EnrollmentState::PinSet | EnrollmentState::Rejected { .. } | EnrollmentState::Expired
        )
    }

    /// Waiting on the backend (worth polling its status).
    pub fn is_pending(&self) -> bool {
        matches!(
            self,
            EnrollmentState::Submitted
                | EnrollmentState::Scanned { .. }
                | EnrollmentState::Approved { .. }
        )
    }

    pub fn desk(&self) -> Option<&Desk> {
        match self {
            EnrollmentState::Scanned { desk } => Some(desk),
            EnrollmentState::Approved { desk } => desk.as_ref(),
            _ => None,
        }
    }

    pub fn reject_reason(&self) -> Option<&str> {
        match self {
            EnrollmentState::Rejected { reason } => Some(reason),
            _ => None,
        }
    }

    /// The server status this state corresponds to (None for a draft; PinSet is
    /// `activated` on the server).
    pub fn wire_status(&self) -> Option<EnrollmentStatusWire> {
        Some(match self {
            EnrollmentState::Draft => return None,
            EnrollmentState::Submitted => EnrollmentStatusWire::Submitted,
            EnrollmentState::Scanned { .. } => EnrollmentStatusWire::Scanned,
            EnrollmentState::Approved { .. } => EnrollmentStatusWire::Approved,
            EnrollmentState::Activated | EnrollmentState::PinSet => EnrollmentStatusWire::Activated,
            EnrollmentState::Rejected { .. } => EnrollmentStatusWire::Rejected,
            EnrollmentState::Expired => EnrollmentStatusWire::Expired,
        })
    }

    /// Position on the happy path, for "forward only".
    fn rank(&self) -> u8 {
        match self {
            EnrollmentState::Draft => 0,
            EnrollmentState::Submitted => 1,
            EnrollmentState::Scanned { .. } => 2,
            EnrollmentState::Approved { .. } => 3,
            EnrollmentState::Activated => 4,
            EnrollmentState::PinSet => 5,
            EnrollmentState::Rejected { .. } | EnrollmentState::Expired => 6,
        }
    }

    /// Folds the server's status into the local state, moving forward only: a status
    /// behind the local state (a stale poll) changes nothing, and neither does anything
    /// once the local state is final or activated (activation happened on this device).
    /// `desk_name` and `reject_reason` come from the status answer; a desk already known
    /// locally (with its id) is kept when the names agree.
    pub fn apply_server(
        &self,
        status: EnrollmentStatusWire,
        desk_name: Option<&str>,
        reject_reason: Option<&str>,
    ) -> EnrollmentState {
        if self.is_final() || matches!(self, EnrollmentState::Activated) {
            return self.clone();
        }
        let desk = || -> Option<Desk> {
            match (self.desk(), desk_name) {
                (Some(d), Some(n)) if d.name == n => Some(d.clone()),
                (_, Some(n)) => Some(Desk::named(n)),
                (d, None) => d.cloned(),
            }
        };
        let target = match status {
            EnrollmentStatusWire::Submitted => EnrollmentState::Submitted,
            EnrollmentStatusWire::Scanned => EnrollmentState::Scanned {
                desk: desk().unwrap_or_else(|| Desk::named("")),
            },
            EnrollmentStatusWire::Approved => EnrollmentState::Approved { desk: desk() },
            EnrollmentStatusWire::Activated => EnrollmentState::Activated,
            EnrollmentStatusWire::Rejected => EnrollmentState::Rejected {
                reason: reject_reason.unwrap_or_default().to_owned(),
            },
            EnrollmentStatusWire::Expired => EnrollmentState::Expired,
        };
        let moves_on = target.rank() > self.rank()
            // same step, newer desk details (e.g. re-scanned at another desk)
            || (target.rank() == self.rank() && target.desk() != self.desk() && desk_name.is_some());
        if moves_on {
            target
        } else {
            self.clone()
        }
    }

    /// [`apply_server`](Self::apply_server) with a whole status answer.
    pub fn apply_status(&self, resp: &EnrollmentStatusResponse) -> EnrollmentState {
        self.apply_server(
            resp.status,
            resp.desk_name.as_deref(),
            resp.reject_reason.as_deref(),
        )
    }

    pub fn to_json(&self) -> String {
        // A derived Serialize of strings and unit variants cannot fail.
        serde_json::to_string(self).expect("enrollment state always serializes")
    }

    pub fn from_json(json: &str) -> Result<Self, EnrollmentError> {
        serde_json::from_str(json).map_err(|e| {
            EnrollmentError::Corrupt(format!(
                "{:?} at line {} column {}",
                e.classify(),
                e.line(),
                e.column()
            ))
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use EnrollmentEvent as E;
    use EnrollmentState as S;

    fn desk() -> Desk {
        Desk::new("desk-1", "Disdukcapil Palembang, Loket 1")
    }

    fn all_states() -> Vec<S> {
        vec![
            S::Draft,
            S::Submitted,
            S::Scanned { desk: desk() },
            S::Approved { desk: Some(desk()) },
            S::Activated,
            S::PinSet,
            S::Rejected {
                reason: "Foto buram".into(),
            },
            S::Expired,
        ]
    }

    fn fire(s: &S, e: E) -> Result<S, EnrollmentError> {
        match e {
            E::Submit => s.submit(),
            E::Scan => s.scan(Desk::new("desk-2", "Loket 2")),
            E::Approve => s.approve(),
            E::Reject => s.reject("Data tidak cocok"),
            E::Expire => s.expire(),
            E::Activate => s.activate(),
            E::SetPin => s.set_pin(),
            E::Reset => s.reset(),
        }
    }

    /// The full transition table: (from, event) -> Some(to kind) when legal.
    fn expected(from: StateKind, e: E) -> Option<StateKind> {
        use StateKind as K;
        match (from, e) {
            (_, E::Reset) => Some(K::Draft),
            (K::Draft, E::Submit) => Some(K::Submitted),
            (K::Submitted | K::Scanned, E::Scan) => Some(K::Scanned),
            (K::Scanned, E::Approve) => Some(K::Approved),
            (K::Submitted | K::Scanned, E::Reject) => Some(K::Rejected),
            (K::Submitted | K::Scanned | K::Approved, E::Expire) => Some(K::Expired),
            (K::Approved, E::Activate) => Some(K::Activated),
            (K::Activated, E::SetPin) => Some(K::PinSet),
            _ => None,
        }
    }

    #[test]
    fn every_transition_legal_and_illegal() {
        let mut legal = 0;
        let mut illegal = 0;
        for s in all_states() {
            for e in E::ALL {
                match (fire(&s, e), expected(s.kind(), e)) {
                    (Ok(to), Some(want)) => {
                        assert_eq!(to.kind(), want, "{:?} --{e}-->", s.kind());
                        legal += 1;
                    }
                    (Err(err), None) => {
                        assert_eq!(
                            err,
                            EnrollmentError::IllegalTransition {
                                from: s.kind(),
                                event: e
                            }
                        );
                        illegal += 1;
                    }
                    (got, want) => panic!("{:?} --{e}--> got {got:?}, want {want:?}", s.kind()),
                }
            }
        }
        assert_eq!(legal + illegal, 64);
        assert_eq!(legal, 19);
    }

    #[test]
    fn happy_path_carries_desk() {
        let s = S::default().submit().unwrap();
        let s = s.scan(desk()).unwrap();
        assert_eq!(s.desk(), Some(&desk()));
        let s = s.approve().unwrap();
        assert_eq!(s.desk().unwrap().name, "Disdukcapil Palembang, Loket 1");
        let s = s.activate().unwrap().set_pin().unwrap();
        assert_eq!(s, S::PinSet);
        assert!(s.is_final());
        assert_eq!(s.wire_status(), Some(EnrollmentStatusWire::Activated));
    }

    #[test]
    fn rejection_keeps_reason_and_reset_starts_over() {
        let s = S::Submitted.reject("Foto buram").unwrap();
        assert_eq!(s.reject_reason(), Some("Foto buram"));
        assert!(s.is_final());
        assert_eq!(s.reset().unwrap(), S::Draft);
    }

    #[test]
    fn illegal_transition_error_message_and_detail() {
        let err = S::Draft.approve().unwrap_err();
        assert_eq!(
            err.to_string(),
            "cannot approve an enrollment that is draft"
        );
        assert_eq!(
            err,
            EnrollmentError::IllegalTransition {
                from: StateKind::Draft,
                event: EnrollmentEvent::Approve
            }
        );
    }

    #[test]
    fn json_round_trip() {
        for s in all_states() {
            let json = s.to_json();
            assert_eq!(S::from_json(&json).unwrap(), s, "{json}");
        }
        assert_eq!(
            S::Scanned { desk: desk() }.to_json(),
            r#"{"state":"scanned","desk":{"id":"desk-1","name":"Disdukcapil Palembang, Loket 1"}}"#
        );
        assert_eq!(S::PinSet.to_json(), r#"{"state":"pin_set"}"#);
        assert_eq!(
            S::from_json(r#"{"state":"approved"}"#).unwrap(),
            S::Approved { desk: None }
        );
        let err = S::from_json(r#"{"state":"flying"}"#).unwrap_err();
        assert!(matches!(err, EnrollmentError::Corrupt(_)));
        assert!(!err.to_string().contains("flying"));
        assert!(S::from_json("").is_err());
    }

    #[test]
    fn server_status_moves_forward() {
        use EnrollmentStatusWire as W;
        let s = S::Submitted;
        // skipped a poll: straight to approved
        let a = s.apply_server(W::Approved, Some("Loket 3"), None);
        assert_eq!(
            a,
            S::Approved {
                desk: Some(Desk::named("Loket 3"))
            }
        );
        // scanned with the locally known desk keeps its id
        let sc = S::Scanned { desk: desk() };
        let same = sc.apply_server(W::Scanned, Some("Disdukcapil Palembang, Loket 1"), None);
        assert_eq!(same, sc);
        let ap = sc.apply_server(W::Approved, Some("Disdukcapil Palembang, Loket 1"), None);
        assert_eq!(ap, S::Approved { desk: Some(desk()) });
        // a stale status never moves back
        assert_eq!(ap.apply_server(W::Submitted, None, None), ap);
        assert_eq!(ap.apply_server(W::Scanned, Some("x"), None), ap);
        // re-scanned at another desk
        let moved = sc.apply_server(W::Scanned, Some("Loket 9"), None);
        assert_eq!(moved.desk(), Some(&Desk::named("Loket 9")));
        // rejection and expiry
        assert_eq!(
            sc.apply_server(W::Rejected, None, Some("Foto buram")),
            S::Rejected {
                reason: "Foto buram".into()
            }
        );
        assert_eq!(ap.apply_server(W::Expired, None, None), S::Expired);
        assert_eq!(
            S::Submitted
                .apply_server(W::Rejected, None, None)
                .reject_reason(),
            Some("")
        );
        // activation seen on the server
        assert_eq!(ap.apply_server(W::Activated, None, None), S::Activated);
        // nothing changes a final or activated state
        for local in [
            S::Activated,
            S::PinSet,
            S::Expired,
            S::Rejected { reason: "r".into() },
        ] {
            for w in [
                W::Submitted,
                W::Scanned,
                W::Approved,
                W::Activated,
                W::Rejected,
                W::Expired,
            ] {
                assert_eq!(local.apply_server(w, Some("d"), Some("r2")), local);
            }
        }
        // a draft with a server answer (e.g. submit answered, state not yet saved)
        assert_eq!(
            S::Draft.apply_server(W::Submitted, None, None),
            S::Submitted
        );
        // submitted, same status: unchanged
        assert_eq!(
            S::Submitted.apply_server(W::Submitted, None, None),
            S::Submitted
        );
    }

    #[test]
    fn apply_whole_response() {
        let resp = EnrollmentStatusResponse {
            enrollment_id: "e1".into(),
            status: EnrollmentStatusWire::Scanned,
            desk_name: Some("Loket 2".into()),
            reject_reason: None,
            credential_offer: None,
            code_expires_at: None,
            code_attempts_left: None,
            email_masked: None,
            desk_confirm_code: None,
        };
        assert_eq!(
            S::Submitted.apply_status(&resp),
            S::Scanned {
                desk: Desk::named("Loket 2")
            }
        );
    }

    #[test]
    fn wire_status_of_each_state() {
        use EnrollmentStatusWire as W;
        let got: Vec<_> = all_states().iter().map(S::wire_status).collect();
        assert_eq!(
            got,
            vec![
                None,
                Some(W::Submitted),
                Some(W::Scanned),
                Some(W::Approved),
                Some(W::Activated),
                Some(W::Activated),
                Some(W::Rejected),
                Some(W::Expired)
            ]
        );
        assert!(S::Scanned { desk: desk() }.is_pending());
        assert!(!S::Draft.is_pending());
    }
}
