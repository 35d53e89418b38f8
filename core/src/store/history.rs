//! Histori Aktivitas entries as the store keeps them and the UI shows them.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum HistoryKind {
    Registered,
    DeskScanned,
    Approved,
    Rejected,
    Activated,
    PinSet,
    Unlocked,
    UnlockFailed,
    PinChanged,
    DocumentsRefreshed,
    DocumentsWiped,
    DeviceReleased,
    DeviceRevoked,
    /// "Lupa PIN": a code to reset the PIN was mailed.
    PinResetRequested,
    /// Fields shared with a verifier (OpenID4VP); detail: to whom and which fields.
    Presented,
    /// A verifier's request declined; detail: to whom.
    PresentationDeclined,
    /// "Periksa KTP": the resident checked someone else's IKD; detail: which check and
    /// the verdict (nothing of what the other person shared).
    Checked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct HistoryEntry {
    /// RFC 3339
    pub at: String,
    pub kind: HistoryKind,
    /// Non-personal detail, e.g. a desk name.
    pub detail: Option<String>,
}
