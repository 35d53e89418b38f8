//! Shared test support (loopback SMTP receiver, server harness).
