//! HTTP client for the enrollment API and OpenID4VCI. STUB: owned by the server work.
