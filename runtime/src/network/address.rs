//! Address classes: which resolved addresses are public, and what each non-public one is.
//! Checked on the address actually connected to, so a name that resolves to an internal
//! address (an internal DNS entry, or DNS rebinding) is refused like the address itself.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// A class of non-public addresses the operator may allow; every other address is public.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressClass {
    /// 127.0.0.0/8, ::1: this machine.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16 and the shared 100.64/10: internal networks.
    Private,
    /// 169.254/16, fe80::/10: link-local, including cloud metadata services (169.254.169.254).
    LinkLocal,
    /// fc00::/7 (and the deprecated site-local fec0::/10): IPv6 internal networks.
    UniqueLocal,
    /// 0.0.0.0/8, ::, and ranges never routed on the internet (reserved, documentation,
    /// benchmarking, broadcast).
    Unspecified,
    /// 224/4, ff00::/8.
    Multicast,
}

impl AddressClass {
    /// Every non-public class.
    pub const ALL: [AddressClass; 6] = [
        AddressClass::Loopback,
        AddressClass::Private,
        AddressClass::LinkLocal,
        AddressClass::UniqueLocal,
        AddressClass::Unspecified,
        AddressClass::Multicast,
    ];

    /// A short name for messages.
    pub fn name(self) -> &'static str {
        match self {
            AddressClass::Loopback => "loopback",
            AddressClass::Private => "private",
            AddressClass::LinkLocal => "link-local",
            AddressClass::UniqueLocal => "unique-local",
            AddressClass::Unspecified => "unspecified or reserved",
            AddressClass::Multicast => "multicast",
        }
    }
}

impl fmt::Display for AddressClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The class of a non-public address; `None` for a public one. IPv4 addresses written in
/// IPv6 (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`, NAT64 `64:ff9b::a.b.c.d` and the
/// local-use `64:ff9b:1::/48`, 6to4 `2002::/16`, Teredo `2001::/32`) are classed as the IPv4
/// address they carry, since that is where the traffic ends up.
pub fn classify(ip: IpAddr) -> Option<AddressClass> {
    match ip {
        IpAddr::V4(v4) => classify_v4(v4),
        IpAddr::V6(v6) => classify_v6(v6),
    }
}

fn classify_v4(ip: Ipv4Addr) -> Option<AddressClass> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (127, ..) => AddressClass::Loopback,
        (10, ..) | (192, 168, _) => AddressClass::Private,
        (172, b, _) if (16..32).contains(&b) => AddressClass::Private,
        // Shared address space (carrier-grade NAT), internal by definition.
        (100, b, _) if (64..128).contains(&b) => AddressClass::Private,
        (169, 254, _) => AddressClass::LinkLocal,
        (0, ..) => AddressClass::Unspecified,
        (224..=239, ..) => AddressClass::Multicast,
        // Reserved (240/4, broadcast), IETF protocol assignments, documentation, benchmarking.
        (240..=255, ..) | (192, 0, 0) | (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => {
            AddressClass::Unspecified
        }
        (198, 18 | 19, _) => AddressClass::Unspecified,
        _ => return None,
    })
}

fn classify_v6(ip: Ipv6Addr) -> Option<AddressClass> {
    if ip.is_loopback() {
        return Some(AddressClass::Loopback);
    }
    if ip.is_unspecified() {
        return Some(AddressClass::Unspecified);
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return classify_v4(v4);
    }
    let s = ip.segments();
    // IPv4-compatible (::a.b.c.d, deprecated) and NAT64 (64:ff9b::/96) carry an IPv4 address.
    if s[..6] == [0; 6] || s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [a, b] = s[6].to_be_bytes();
        let [c, d] = s[7].to_be_bytes();
        return classify_v4(Ipv4Addr::new(a, b, c, d));
    }
    let b = ip.octets();
    let v4 = |at: [usize; 4]| classify_v4(Ipv4Addr::new(b[at[0]], b[at[1]], b[at[2]], b[at[3]]));
    // Local-use NAT64 (RFC 8215): the prefix length is the network's choice, so the IPv4 address
    // is checked at each place RFC 6052 may put it for prefixes of /48 and longer (octet 8 is
    // reserved; the octets after the address are zero, which rules places out), and refused
    // if any reading is not public.
    if s[..3] == [0x64, 0xff9b, 1] {
        let places: [([usize; 4], usize); 4] =
            [([6, 7, 9, 10], 11), ([7, 9, 10, 11], 12), ([9, 10, 11, 12], 13), ([12, 13, 14, 15], 16)];
        return places
            .into_iter()
            .filter(|(_, rest)| b[*rest..].iter().all(|x| *x == 0))
            .find_map(|(at, _)| v4(at));
    }
    // 6to4 (RFC 3056): 2002:AABB:CCDD::/48 routes to a.b.c.d.
    if s[0] == 0x2002 {
        return v4([2, 3, 4, 5]);
    }
    // Teredo (RFC 4380): 2001:0000:SERVER:flags:port:CLIENT, the client's address inverted.
    if s[..2] == [0x2001, 0] {
        let client = Ipv4Addr::new(!b[12], !b[13], !b[14], !b[15]);
        return v4([4, 5, 6, 7]).or_else(|| classify_v4(client));
    }
    Some(match s[0] {
        x if x & 0xffc0 == 0xfe80 => AddressClass::LinkLocal,
        x if x & 0xfe00 == 0xfc00 || x & 0xffc0 == 0xfec0 => AddressClass::UniqueLocal,
        x if x & 0xff00 == 0xff00 => AddressClass::Multicast,
        // Documentation (2001:db8::/32) and discard-only (100::/64) ranges.
        0x2001 if s[1] == 0xdb8 => AddressClass::Unspecified,
        0x0100 if s[1..4] == [0, 0, 0] => AddressClass::Unspecified,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(s: &str) -> Option<AddressClass> {
        classify(s.parse().unwrap())
    }

    #[test]
    fn every_non_public_range_has_its_class_and_public_addresses_none() {
        use AddressClass::*;
        let cases = [
            ("127.0.0.1", Some(Loopback)),
            ("127.255.0.9", Some(Loopback)),
            ("::1", Some(Loopback)),
            ("10.1.2.3", Some(Private)),
            ("172.16.0.1", Some(Private)),
            ("172.31.255.255", Some(Private)),
            ("192.168.1.1", Some(Private)),
            ("100.64.0.1", Some(Private)),
            ("169.254.169.254", Some(LinkLocal)),
            ("fe80::1", Some(LinkLocal)),
            ("fd00::1", Some(UniqueLocal)),
            ("fc00::5", Some(UniqueLocal)),
            ("0.0.0.0", Some(Unspecified)),
            ("::", Some(Unspecified)),
            ("255.255.255.255", Some(Unspecified)),
            ("192.0.2.10", Some(Unspecified)),
            ("2001:db8::1", Some(Unspecified)),
            ("224.0.0.1", Some(Multicast)),
            ("ff02::1", Some(Multicast)),
            ("::ffff:127.0.0.1", Some(Loopback)),
            ("::ffff:10.0.0.1", Some(Private)),
            ("::ffff:169.254.169.254", Some(LinkLocal)),
            ("::127.0.0.1", Some(Loopback)),
            ("64:ff9b::a9fe:a9fe", Some(LinkLocal)),
            // Local-use NAT64 with a /96 and a /48 prefix, 6to4, Teredo (server, then client).
            ("64:ff9b:1::a9fe:a9fe", Some(LinkLocal)),
            ("64:ff9b:1:7f00:0:100::", Some(Loopback)),
            ("64:ff9b:1::808:808", None),
            ("2002:a00:1::1", Some(Private)),
            ("2002:7f00:1::1", Some(Loopback)),
            ("2002:808:808::1", None),
            ("2001:0:a00:1::1", Some(Private)),
            ("2001:0:808:808:0:0:5601:fefe", Some(LinkLocal)),
            ("2001:0:808:808:0:0:f7f7:f7f7", None),
            ("8.8.8.8", None),
            ("172.32.0.1", None),
            ("100.128.0.1", None),
            ("64.41.200.249", None),
            ("2600:1f18::1", None),
            ("::ffff:8.8.8.8", None),
        ];
        for (addr, want) in cases {
            assert_eq!(class(addr), want, "{addr}");
        }
    }
}
