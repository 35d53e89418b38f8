//! The client's address for rate limits: the TCP peer, unless the peer is one of the
//! configured trusted proxies (`limits.trusted_proxies`), in which case the address
//! the proxies report (`Forwarded: for=`, RFC 7239, else `X-Forwarded-For`), read from
//! the right and skipping the trusted hops. Headers from any other peer are ignored:
//! a client cannot choose its own bucket.

use crate::state::SharedState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};

/// A trusted proxy: an address or a CIDR block ("10.0.0.0/8", "2001:db8::/32").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Self> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (s.trim().parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self { net: addr, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// One `for=` value or X-Forwarded-For entry: `192.0.2.1`, `192.0.2.1:8080`,
/// `"[2001:db8::1]:4711"`, `2001:db8::1`. `unknown` and obfuscated names are None.
fn parse_node(s: &str) -> Option<IpAddr> {
    let s = s.trim().trim_matches('"');
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    s.parse::<SocketAddr>().ok().map(|a| a.ip())
}

/// The hops the proxies report, nearest client first (as written, left to right).
fn reported_hops(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<Option<IpAddr>> = headers
        .get_all("forwarded")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|elem| {
            elem.split(';').find_map(|pair| {
                let (k, v) = pair.split_once('=')?;
                k.trim().eq_ignore_ascii_case("for").then(|| parse_node(v))
            })
        })
        .collect();
    if !forwarded.is_empty() {
        return forwarded;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(parse_node)
        .collect()
}

/// The client address for `peer` under `trusted`.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut client = peer;
    for hop in reported_hops(headers).into_iter().rev() {
        match hop {
            Some(ip) => {
                client = ip;
                if !is_trusted(ip) {
                    break;
                }
            }
            // An unusable entry: stop at the last trusted hop we know.
            None => break,
        }
    }
    client
}

/// Whether the client reached us over https: the public URL is https, or a trusted
/// proxy says so (`X-Forwarded-Proto: https`, or `Forwarded: proto=https` of the hop
/// nearest us). A request extension set by [`rewrite`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Https(pub bool);

/// The nearest proxy's word on the client's scheme.
fn forwarded_https(headers: &HeaderMap) -> bool {
    let last = |name: &str| {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .last()
            .map(str::to_owned)
    };
    if let Some(elem) = last("forwarded") {
        if let Some(proto) = elem.split(';').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("proto")
                .then(|| v.trim().trim_matches('"').to_owned())
        }) {
            return proto.eq_ignore_ascii_case("https");
        }
    }
    last("x-forwarded-proto").is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

/// Middleware: replaces the request's `ConnectInfo` with the client address, so every
/// per-IP limit keys on the client, not on the proxy; and notes [`Https`].
pub async fn rewrite(State(state): State<SharedState>, mut req: Request, next: Next) -> Response {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let via_proxy = peer.is_some_and(|p| state.trusted_proxies.iter().any(|c| c.contains(p)));
    let https =
        state.issuer.starts_with("https://") || (via_proxy && forwarded_https(req.headers()));
    req.extensions_mut().insert(Https(https));
    if !state.trusted_proxies.is_empty() {
        if let Some(ConnectInfo(peer)) = req.extensions().get::<ConnectInfo<SocketAddr>>() {
            let ip = client_ip(peer.ip(), req.headers(), &state.trusted_proxies);
            let port = if ip == peer.ip() { peer.port() } else { 0 };
            req.extensions_mut()
                .insert(ConnectInfo(SocketAddr::new(ip, port)));
        }
    }
    next.run(req).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use axum::http::HeaderValue;

    fn h(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.append(*k, HeaderValue::from_str(v).unwrap());
        }
        m
    }

    /// Issue 11 item 5: forwarding headers count only from a trusted proxy.
    #[test]
    fn forwarded_addresses_are_honoured_only_from_trusted_proxies() {
        let trusted = [
            Cidr::parse("10.0.0.0/8").unwrap(),
            Cidr::parse("::1").unwrap(),
        ];
        let proxy: IpAddr = "10.1.2.3".parse().unwrap();
        let stranger: IpAddr = "198.51.100.9".parse().unwrap();
        let xff = h(&[("x-forwarded-for", "203.0.113.5, 10.9.9.9")]);
        assert_eq!(
            client_ip(proxy, &xff, &trusted),
            "203.0.113.5".parse::<IpAddr>().unwrap()
        );
        // The client's own claim of an address before the real one is skipped.
        let spoof = h(&[("x-forwarded-for", "1.2.3.4, 203.0.113.5")]);
        assert_eq!(
            client_ip(proxy, &spoof, &trusted),
            "203.0.113.5".parse::<IpAddr>().unwrap()
        );
        // From anyone else the header is ignored.
        assert_eq!(client_ip(stranger, &xff, &trusted), stranger);
        assert_eq!(client_ip(proxy, &xff, &[]), proxy);
        // RFC 7239 Forwarded wins over X-Forwarded-For, IPv6 in brackets with a port.
        let fwd = h(&[
            ("forwarded", "for=\"[2001:db8:cafe::17]:4711\";proto=https"),
            ("x-forwarded-for", "203.0.113.5"),
        ]);
        assert_eq!(
            client_ip("::1".parse().unwrap(), &fwd, &trusted),
            "2001:db8:cafe::17".parse::<IpAddr>().unwrap()
        );
        // Garbage: the proxy itself.
        let junk = h(&[("x-forwarded-for", "not an address")]);
        assert_eq!(client_ip(proxy, &junk, &trusted), proxy);
        assert_eq!(Cidr::parse("10.0.0.0/33"), None);
    }
}
