//! IP network functions over IPv4 and IPv6 prefixes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{p, Args, FnError, FnResult, Func, T};
use crate::types::Type;
use crate::value::Value;

pub(crate) static FUNCS: &[Func] = &[
    Func {
        name: "cidrhost",
        params: &[p("prefix", T::String), p("hostnum", T::Number)],
        variadic: None,
        ret: T::String,
        imp: cidrhost,
    },
    Func {
        name: "cidrnetmask",
        params: &[p("prefix", T::String)],
        variadic: None,
        ret: T::String,
        imp: cidrnetmask,
    },
    Func {
        name: "cidrsubnet",
        params: &[
            p("prefix", T::String),
            p("newbits", T::Number),
            p("netnum", T::Number),
        ],
        variadic: None,
        ret: T::String,
        imp: cidrsubnet,
    },
    Func {
        name: "cidrsubnets",
        params: &[p("prefix", T::String)],
        variadic: Some(p("newbits", T::Number)),
        ret: T::ListString,
        imp: cidrsubnets,
    },
];

/// A network: its first address as an integer, prefix length and family.
#[derive(Clone, Copy)]
struct Net {
    addr: u128,
    len: u32,
    v6: bool,
}

impl Net {
    fn bits(&self) -> u32 {
        if self.v6 {
            128
        } else {
            32
        }
    }

    fn mask(&self, len: u32) -> u128 {
        let bits = self.bits();
        let all: u128 = if bits == 128 {
            u128::MAX
        } else {
            (1u128 << bits) - 1
        };
        if len == 0 {
            0
        } else {
            all & !((1u128 << (bits - len)) - 1).min(all)
        }
    }

    fn show_addr(&self, a: u128) -> String {
        if self.v6 {
            Ipv6Addr::from(a).to_string()
        } else {
            Ipv4Addr::from(a as u32).to_string()
        }
    }

    fn show(&self) -> String {
        format!("{}/{}", self.show_addr(self.addr), self.len)
    }
}

fn parse_cidr(s: &str) -> Result<Net, FnError> {
    let bad = || FnError::arg(0, format!("invalid CIDR address: {s}"));
    let (ip, len) = s.split_once('/').ok_or_else(bad)?;
    let ip: IpAddr = ip.parse().map_err(|_| bad())?;
    let len: u32 = len.parse().map_err(|_| bad())?;
    let (addr, v6) = match ip {
        IpAddr::V4(a) => (u128::from(u32::from(a)), false),
        IpAddr::V6(a) => (u128::from(a), true),
    };
    let mut net = Net { addr, len, v6 };
    if len > net.bits() {
        return Err(bad());
    }
    net.addr &= net.mask(len);
    Ok(net)
}

fn cidrhost(a: &Args<'_, '_>) -> FnResult {
    let net = parse_cidr(a.str(0))?;
    let host = a
        .num(1)?
        .to_bigint()
        .ok_or_else(|| FnError::arg(1, "value must be a whole number"))?;
    let host_bits = net.bits() - net.len;
    let size = num_bigint::BigInt::from(1u8) << host_bits;
    let h = if host.sign() == num_bigint::Sign::Minus {
        &size + &host
    } else {
        host.clone()
    };
    if h.sign() == num_bigint::Sign::Minus || h >= size {
        return Err(FnError::call(format!(
            "prefix of {} does not accommodate a host numbered {host}",
            net.len
        )));
    }
    let h: u128 = u128::try_from(&h).map_err(|_| FnError::call("host number out of range"))?;
    Ok(Value::string(net.show_addr(net.addr | h)))
}

fn cidrnetmask(a: &Args<'_, '_>) -> FnResult {
    let net = parse_cidr(a.str(0))?;
    if net.bits() != 32 {
        return Err(FnError::call(format!(
            "IPv6 addresses cannot have a netmask: {}",
            a.str(0)
        )));
    }
    Ok(Value::string(net.show_addr(net.mask(net.len))))
}

fn subnet(net: Net, newbits: i64, netnum: &num_bigint::BigInt) -> Result<Net, FnError> {
    if newbits < 0 {
        return Err(FnError::arg(1, "must extend prefix by at least one bit"));
    }
    let newlen = net.len as i64 + newbits;
    if newlen > net.bits() as i64 {
        return Err(FnError::call(format!(
            "insufficient address space to extend prefix of {} by {newbits}",
            net.len
        )));
    }
    let max = num_bigint::BigInt::from(1u8) << (newbits as u32);
    if netnum.sign() == num_bigint::Sign::Minus || *netnum >= max {
        return Err(FnError::call(format!(
            "prefix extension of {newbits} does not accommodate a subnet numbered {netnum}"
        )));
    }
    let n: u128 =
        u128::try_from(netnum).map_err(|_| FnError::call("subnet number out of range"))?;
    let shift = net.bits() - newlen as u32;
    let addr = if shift >= 128 {
        net.addr
    } else {
        net.addr | (n << shift)
    };
    Ok(Net {
        addr,
        len: newlen as u32,
        v6: net.v6,
    })
}

fn cidrsubnet(a: &Args<'_, '_>) -> FnResult {
    let net = parse_cidr(a.str(0))?;
    let newbits = a.int(1)?;
    let netnum = a
        .num(2)?
        .to_bigint()
        .ok_or_else(|| FnError::arg(2, "value must be a whole number"))?;
    Ok(Value::string(subnet(net, newbits, &netnum)?.show()))
}

fn cidrsubnets(a: &Args<'_, '_>) -> FnResult {
    let net = parse_cidr(a.str(0))?;
    let bits = net.bits();
    let full: u128 = if net.v6 {
        u128::MAX
    } else {
        u128::from(u32::MAX)
    };
    let last_of = |n: &Net| n.addr | (!n.mask(n.len) & full);
    let net_last = last_of(&net);
    let mut out = Vec::new();
    // The subnet just before the network, at the first requested length.
    let mut current: Option<Net> = None;
    for i in 1..a.len() {
        let newbits = a.int(i)?;
        let len = net.len as i64 + newbits;
        if newbits < 1 {
            return Err(FnError::arg(i, "must extend prefix by at least one bit"));
        }
        if newbits > 32 {
            return Err(FnError::arg(
                i,
                "may not extend prefix by more than 32 bits",
            ));
        }
        if len > bits as i64 {
            return Err(FnError::arg(
                i,
                format!(
                    "would extend prefix to {len} bits, which is too long for an {} address",
                    if net.v6 { "IPv6" } else { "IPv4" }
                ),
            ));
        }
        let len = len as u32;
        let probe = Net {
            addr: 0,
            len,
            v6: net.v6,
        };
        let start = match current {
            None => net.addr & probe.mask(len),
            Some(cur) => {
                let cur_last = last_of(&cur);
                let containing = Net {
                    addr: cur_last & probe.mask(len),
                    len,
                    v6: net.v6,
                };
                let next = last_of(&containing).wrapping_add(1);
                if next == 0 || (!net.v6 && next > u128::from(u32::MAX)) {
                    return Err(FnError::call(format!(
                        "not enough remaining address space for a subnet with a prefix of {len} bits after {}",
                        cur.show()
                    )));
                }
                next & probe.mask(len)
            }
        };
        let sub = Net {
            addr: start,
            len,
            v6: net.v6,
        };
        if sub.addr < net.addr || sub.addr > net_last {
            let after = current.map(|c| c.show()).unwrap_or_else(|| net.show());
            return Err(FnError::call(format!(
                "not enough remaining address space for a subnet with a prefix of {len} bits after {after}"
            )));
        }
        out.push(Value::string(sub.show()));
        current = Some(sub);
    }
    Ok(Value::list(Type::String, out))
}
