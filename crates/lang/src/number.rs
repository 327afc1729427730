//! Terraform's numbers: binary floating point with a 512-bit mantissa, as
//! Go's `big.Float` that cty uses, printed as `Text('f', -1)` prints them
//! (the shortest decimal that reads back to the same value).
//!
//! Each number keeps its precision like `big.Float` does: literals and
//! arithmetic results have 512 bits, integers from functions 64 bits (or
//! more when they need it), and results of float64 functions (`pow`, `log`)
//! 53 bits, so that `tostring(pow(2, 0.5))` prints what Terraform prints.

use std::cmp::Ordering;
use std::fmt;

use num_bigint::{BigInt, BigUint, Sign};
use num_integer::Integer;
use num_traits::{One, ToPrimitive, Zero};

/// The precision of number literals and arithmetic, in bits.
pub const PRECISION: u32 = 512;

/// The largest decimal exponent a literal may have; beyond it a number is
/// rejected instead of computing an enormous power of ten.
const MAX_DECIMAL_EXPONENT: i64 = 20_000;

/// An arbitrary-precision number (or an infinity).
#[derive(Clone)]
pub struct Number {
    repr: Repr,
}

#[derive(Clone)]
enum Repr {
    /// `(-1)^neg * mant * 2^exp`; `mant` is odd or zero and has at most
    /// `prec` bits. Zero keeps its sign (`-0`).
    Finite {
        neg: bool,
        mant: BigUint,
        exp: i64,
        prec: u32,
    },
    Infinite {
        neg: bool,
    },
}

/// A string that is not a number in Terraform's syntax.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a valid number")]
pub struct ParseNumberError {
    pub text: String,
}

impl Number {
    /// Zero.
    pub fn zero() -> Number {
        Number::from_parts(false, BigUint::zero(), 0, 64, false)
    }

    /// Positive or negative infinity.
    pub fn infinity(neg: bool) -> Number {
        Number {
            repr: Repr::Infinite { neg },
        }
    }

    /// An integer (64-bit precision, as cty's `NumberIntVal`).
    pub fn from_i64(i: i64) -> Number {
        Number::from_bigint(&BigInt::from(i))
    }

    /// An unsigned integer.
    pub fn from_u64(u: u64) -> Number {
        Number::from_bigint(&BigInt::from(u))
    }

    /// An integer of any size; the precision is at least 64 bits and grows
    /// so that the integer stays exact.
    pub fn from_bigint(i: &BigInt) -> Number {
        let bits = u32::try_from(i.bits()).unwrap_or(u32::MAX).max(64);
        let (sign, mag) = i.clone().into_parts();
        Number::from_parts(sign == Sign::Minus, mag, 0, bits, false)
    }

    /// A float64 (53-bit precision, as cty's `NumberFloatVal`). NaN becomes
    /// `None`.
    pub fn from_f64(f: f64) -> Option<Number> {
        if f.is_nan() {
            return None;
        }
        if f.is_infinite() {
            return Some(Number::infinity(f < 0.0));
        }
        let neg = f.is_sign_negative();
        let bits = f.abs().to_bits();
        let exp_bits = ((bits >> 52) & 0x7ff) as i64;
        let frac = bits & ((1u64 << 52) - 1);
        let (mant, exp) = if exp_bits == 0 {
            (frac, -1074)
        } else {
            (frac | (1u64 << 52), exp_bits - 1075)
        };
        Some(Number::from_parts(neg, BigUint::from(mant), exp, 53, false))
    }

    /// Parses a decimal number as HCL and cty do (`1`, `-2.5`, `1e3`, `.5`,
    /// `5.`), rounding to 512 bits.
    pub fn parse(text: &str) -> Result<Number, ParseNumberError> {
        let err = || ParseNumberError {
            text: text.to_owned(),
        };
        let bytes = text.as_bytes();
        let mut i = 0;
        let mut neg = false;
        if i < bytes.len() && (bytes[i] == b'-' || bytes[i] == b'+') {
            neg = bytes[i] == b'-';
            i += 1;
        }
        let mut digits = String::new();
        let mut frac_len: i64 = 0;
        let mut seen_digit = false;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            digits.push(bytes[i] as char);
            seen_digit = true;
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'.' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                digits.push(bytes[i] as char);
                frac_len += 1;
                seen_digit = true;
                i += 1;
            }
        }
        if !seen_digit {
            return Err(err());
        }
        let mut exp10: i64 = 0;
        if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
            i += 1;
            let mut exp_neg = false;
            if i < bytes.len() && (bytes[i] == b'-' || bytes[i] == b'+') {
                exp_neg = bytes[i] == b'-';
                i += 1;
            }
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            if start == i {
                return Err(err());
            }
            exp10 = text[start..i].parse::<i64>().map_err(|_| err())?;
            if exp_neg {
                exp10 = -exp10;
            }
        }
        if i != bytes.len() {
            return Err(err());
        }
        let n: BigUint = digits.parse().map_err(|_| err())?;
        let e = exp10 - frac_len;
        if n.is_zero() {
            return Ok(Number::from_parts(neg, n, 0, PRECISION, false));
        }
        if e.abs() > MAX_DECIMAL_EXPONENT {
            return Err(err());
        }
        if e >= 0 {
            let v = n * BigUint::from(10u32).pow(e as u32);
            Ok(Number::from_parts(neg, v, 0, PRECISION, false))
        } else {
            let den = BigUint::from(10u32).pow((-e) as u32);
            Ok(divide(neg, &n, 0, &den, 0, PRECISION))
        }
    }

    fn from_parts(neg: bool, mant: BigUint, exp: i64, prec: u32, sticky: bool) -> Number {
        let (mant, exp) = round(mant, exp, prec, sticky, false);
        Number {
            repr: normalize(neg, mant, exp, prec),
        }
    }

    pub fn is_infinite(&self) -> bool {
        matches!(self.repr, Repr::Infinite { .. })
    }

    pub fn is_zero(&self) -> bool {
        matches!(&self.repr, Repr::Finite { mant, .. } if mant.is_zero())
    }

    /// Whether the number is negative (including `-0` and `-Inf`).
    pub fn is_negative(&self) -> bool {
        match &self.repr {
            Repr::Finite { neg, .. } | Repr::Infinite { neg } => *neg,
        }
    }

    /// Whether the number is a whole number (infinities are not).
    pub fn is_integer(&self) -> bool {
        match &self.repr {
            Repr::Finite { mant, exp, .. } => mant.is_zero() || *exp >= 0,
            Repr::Infinite { .. } => false,
        }
    }

    /// The precision in bits (0 for infinities).
    pub fn precision(&self) -> u32 {
        match &self.repr {
            Repr::Finite { prec, .. } => *prec,
            Repr::Infinite { .. } => 0,
        }
    }

    /// The integer value when the number is a whole number.
    pub fn to_bigint(&self) -> Option<BigInt> {
        match &self.repr {
            Repr::Finite { neg, mant, exp, .. } if mant.is_zero() || *exp >= 0 => {
                let mag = if mant.is_zero() {
                    BigUint::zero()
                } else {
                    mant << (*exp as usize)
                };
                Some(BigInt::from_biguint(
                    if *neg { Sign::Minus } else { Sign::Plus },
                    mag,
                ))
            }
            _ => None,
        }
    }

    /// The value as an `i64` when it is a whole number in range.
    pub fn to_i64(&self) -> Option<i64> {
        self.to_bigint()?.to_i64()
    }

    /// The nearest float64 (infinities stay infinite).
    pub fn to_f64(&self) -> f64 {
        match &self.repr {
            Repr::Infinite { neg } => {
                if *neg {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                }
            }
            Repr::Finite { .. } => {
                // The exact decimal parses to the correctly rounded float.
                let d = self.exact_decimal();
                let s = format!(
                    "{}0.{}e{}",
                    if self.is_negative() { "-" } else { "" },
                    if d.digits.is_empty() {
                        "0".to_owned()
                    } else {
                        String::from_utf8_lossy(&d.digits).into_owned()
                    },
                    d.dp
                );
                s.parse::<f64>().unwrap_or(0.0)
            }
        }
    }

    /// The truncated integer part (toward zero).
    pub fn trunc(&self) -> Number {
        self.round_with(|q, _r, _neg| q)
    }

    /// The largest integer not greater than the number.
    pub fn floor(&self) -> Number {
        self.round_with(|q, r, neg| if neg && !r.is_zero() { q + 1u32 } else { q })
    }

    /// The smallest integer not less than the number.
    pub fn ceil(&self) -> Number {
        self.round_with(|q, r, neg| if !neg && !r.is_zero() { q + 1u32 } else { q })
    }

    fn round_with(&self, f: impl Fn(BigUint, BigUint, bool) -> BigUint) -> Number {
        match &self.repr {
            Repr::Finite {
                neg,
                mant,
                exp,
                prec,
            } if *exp < 0 && !mant.is_zero() => {
                let shift = (-*exp) as usize;
                let q = mant >> shift;
                let r = mant - (&q << shift);
                let v = f(q, r, *neg);
                let prec = (*prec).max(u32::try_from(v.bits()).unwrap_or(u32::MAX));
                Number::from_parts(*neg, v, 0, prec, false)
            }
            _ => self.clone(),
        }
    }

    /// `-x`.
    pub fn neg(&self) -> Number {
        let mut n = self.clone();
        match &mut n.repr {
            Repr::Finite { neg, .. } | Repr::Infinite { neg } => *neg = !*neg,
        }
        n
    }

    /// `|x|`.
    pub fn abs(&self) -> Number {
        if self.is_negative() {
            self.neg()
        } else {
            self.clone()
        }
    }

    /// `x + y`; `None` for `Inf + -Inf`.
    pub fn add(&self, other: &Number) -> Option<Number> {
        match (&self.repr, &other.repr) {
            (Repr::Infinite { neg: a }, Repr::Infinite { neg: b }) => {
                (a == b).then(|| self.clone())
            }
            (Repr::Infinite { .. }, _) => Some(self.clone()),
            (_, Repr::Infinite { .. }) => Some(other.clone()),
            (
                Repr::Finite {
                    neg: na,
                    mant: ma,
                    exp: ea,
                    prec: pa,
                },
                Repr::Finite {
                    neg: nb,
                    mant: mb,
                    exp: eb,
                    prec: pb,
                },
            ) => {
                let prec = (*pa).max(*pb);
                if ma.is_zero() && mb.is_zero() {
                    return Some(Number::from_parts(
                        *na && *nb,
                        BigUint::zero(),
                        0,
                        prec,
                        false,
                    ));
                }
                if ma.is_zero() {
                    return Some(other.with_precision(prec));
                }
                if mb.is_zero() {
                    return Some(self.with_precision(prec));
                }
                // When one operand is far below the other's last bit it
                // cannot change the rounded result.
                let top_a = ea + ma.bits() as i64;
                let top_b = eb + mb.bits() as i64;
                let limit = i64::from(prec) + 4;
                if top_a - top_b > limit && *ea > eb + limit {
                    return Some(self.with_precision(prec));
                }
                if top_b - top_a > limit && *eb > ea + limit {
                    return Some(other.with_precision(prec));
                }
                let e = (*ea).min(*eb);
                let a = signed(*na, ma << ((ea - e) as usize));
                let b = signed(*nb, mb << ((eb - e) as usize));
                let sum = a + b;
                let neg = sum.sign() == Sign::Minus;
                let mag = sum.magnitude().clone();
                Some(Number::from_parts(neg, mag, e, prec, false))
            }
        }
    }

    /// `x - y`; `None` for `Inf - Inf`.
    pub fn sub(&self, other: &Number) -> Option<Number> {
        self.add(&other.neg())
    }

    /// `x * y`; `None` for `0 * Inf`.
    pub fn mul(&self, other: &Number) -> Option<Number> {
        let neg = self.is_negative() != other.is_negative();
        match (&self.repr, &other.repr) {
            (Repr::Infinite { .. }, _) | (_, Repr::Infinite { .. }) => {
                if self.is_zero() || other.is_zero() {
                    None
                } else {
                    Some(Number::infinity(neg))
                }
            }
            (
                Repr::Finite {
                    mant: ma,
                    exp: ea,
                    prec: pa,
                    ..
                },
                Repr::Finite {
                    mant: mb,
                    exp: eb,
                    prec: pb,
                    ..
                },
            ) => Some(Number::from_parts(
                neg,
                ma * mb,
                ea + eb,
                (*pa).max(*pb),
                false,
            )),
        }
    }

    /// `x / y`: dividing a non-zero number by zero gives an infinity; `None`
    /// for `0/0` and `Inf/Inf`.
    pub fn div(&self, other: &Number) -> Option<Number> {
        let neg = self.is_negative() != other.is_negative();
        match (&self.repr, &other.repr) {
            (Repr::Infinite { .. }, Repr::Infinite { .. }) => None,
            (Repr::Infinite { .. }, _) => Some(Number::infinity(neg)),
            (_, Repr::Infinite { .. }) => Some(Number::from_parts(
                neg,
                BigUint::zero(),
                0,
                self.precision(),
                false,
            )),
            (
                Repr::Finite {
                    mant: ma,
                    exp: ea,
                    prec: pa,
                    ..
                },
                Repr::Finite {
                    mant: mb,
                    exp: eb,
                    prec: pb,
                    ..
                },
            ) => {
                let prec = (*pa).max(*pb);
                if mb.is_zero() {
                    return if ma.is_zero() {
                        None
                    } else {
                        Some(Number::infinity(neg))
                    };
                }
                if ma.is_zero() {
                    return Some(Number::from_parts(neg, BigUint::zero(), 0, prec, false));
                }
                Some(divide(neg, ma, *ea, mb, *eb, prec))
            }
        }
    }

    /// `x % y` as cty computes it: the remainder of truncated division, with
    /// the sign of `x`; `x % 0` is `x`, and an infinite operand gives
    /// `x * y`. `None` where that product is undefined.
    pub fn rem(&self, other: &Number) -> Option<Number> {
        if self.is_infinite() || other.is_infinite() {
            return self.mul(other);
        }
        if other.is_zero() {
            return Some(self.clone());
        }
        let q = self.div(other)?.trunc();
        let p = q.mul(other)?;
        let r = self.sub(&p)?;
        // Guard against rounding pushing the remainder out of range.
        if r.abs().cmp(&other.abs()) != Ordering::Less {
            return Some(Number::zero());
        }
        Some(r)
    }

    /// The same value with (at least) the given precision.
    fn with_precision(&self, p: u32) -> Number {
        match &self.repr {
            Repr::Finite {
                neg,
                mant,
                exp,
                prec,
            } => Number::from_parts(*neg, mant.clone(), *exp, (*prec).max(p), false),
            Repr::Infinite { .. } => self.clone(),
        }
    }

    /// Numeric comparison (`-0 == 0`).
    fn compare(&self, other: &Number) -> Ordering {
        match (&self.repr, &other.repr) {
            (Repr::Infinite { neg: a }, Repr::Infinite { neg: b }) => b.cmp(a),
            (Repr::Infinite { neg }, _) => {
                if *neg {
                    Ordering::Less
                } else {
                    Ordering::Greater
                }
            }
            (_, Repr::Infinite { neg }) => {
                if *neg {
                    Ordering::Greater
                } else {
                    Ordering::Less
                }
            }
            (
                Repr::Finite {
                    neg: na,
                    mant: ma,
                    exp: ea,
                    ..
                },
                Repr::Finite {
                    neg: nb,
                    mant: mb,
                    exp: eb,
                    ..
                },
            ) => {
                let e = (*ea).min(*eb);
                let a = signed(*na, ma << ((ea - e) as usize));
                let b = signed(*nb, mb << ((eb - e) as usize));
                a.cmp(&b)
            }
        }
    }

    /// The exact decimal expansion of a finite number's magnitude.
    fn exact_decimal(&self) -> Decimal {
        match &self.repr {
            Repr::Finite { mant, exp, .. } => Decimal::from_binary(mant, *exp),
            Repr::Infinite { .. } => Decimal::default(),
        }
    }

    /// Go's `big.Float.Text('f', -1)`: the shortest decimal that reads back
    /// to this number at its precision, never in exponent form. Infinities
    /// print as `+Inf` and `-Inf`.
    pub fn to_text(&self) -> String {
        let (neg, mant, exp, prec) = match &self.repr {
            Repr::Infinite { neg } => return if *neg { "-Inf" } else { "+Inf" }.to_owned(),
            Repr::Finite {
                neg,
                mant,
                exp,
                prec,
            } => (*neg, mant, *exp, *prec),
        };
        let sign = if neg { "-" } else { "" };
        if mant.is_zero() {
            return format!("{sign}0");
        }
        let mut d = Decimal::from_binary(mant, exp);
        round_shortest(&mut d, mant, exp, prec);
        format!("{sign}{}", d.fixed())
    }
}

impl Number {
    /// Go's `big.Float.Text` for the `e`, `f` and `g` formats with a
    /// precision (`-1`: the shortest that reads back). Finite numbers only.
    pub fn go_text(&self, fmt: char, prec: i64) -> String {
        let (neg, mant, exp, bits) = match &self.repr {
            Repr::Infinite { neg } => return if *neg { "-Inf" } else { "+Inf" }.to_owned(),
            Repr::Finite {
                neg,
                mant,
                exp,
                prec,
            } => (*neg, mant, *exp, *prec),
        };
        let mut d = Decimal::from_binary(mant, exp);
        let shortest = prec < 0;
        let mut prec = prec;
        if shortest {
            round_shortest(&mut d, mant, exp, bits);
            let len = d.digits.len() as i64;
            prec = match fmt {
                'e' => len - 1,
                'f' => (len - d.dp).max(0),
                _ => len,
            };
        } else {
            let n = match fmt {
                'e' => 1 + prec,
                'f' => d.dp + prec,
                _ => {
                    if prec == 0 {
                        prec = 1;
                    }
                    prec
                }
            };
            if n >= 0 {
                d.round(n as usize);
            }
        }
        let body = match fmt {
            'e' => fmt_e(&d, prec),
            'f' => fmt_f(&d, prec),
            _ => {
                let len = d.digits.len() as i64;
                let mut eprec = prec;
                if eprec > len && len >= d.dp {
                    eprec = len;
                }
                if shortest {
                    eprec = 6;
                }
                let e = d.dp - 1;
                if e < -4 || e >= eprec {
                    let p = if prec > len { len } else { prec };
                    fmt_e(&d, p - 1)
                } else {
                    let p = if prec > d.dp { len } else { prec };
                    fmt_f(&d, (p - d.dp).max(0))
                }
            }
        };
        if neg {
            format!("-{body}")
        } else {
            body
        }
    }
}

fn fmt_e(d: &Decimal, prec: i64) -> String {
    let mut s = String::new();
    s.push(if d.digits.is_empty() {
        '0'
    } else {
        d.digits[0] as char
    });
    if prec > 0 {
        s.push('.');
        for i in 1..=prec as usize {
            s.push(d.at(i) as char);
        }
    }
    let e = if d.digits.is_empty() { 0 } else { d.dp - 1 };
    let sign = if e < 0 { '-' } else { '+' };
    let e = e.abs();
    if e < 10 {
        s.push_str(&format!("e{sign}0{e}"));
    } else {
        s.push_str(&format!("e{sign}{e}"));
    }
    s
}

fn fmt_f(d: &Decimal, prec: i64) -> String {
    let mut s = String::new();
    if d.dp > 0 {
        for i in 0..d.dp as usize {
            s.push(d.at(i) as char);
        }
    } else {
        s.push('0');
    }
    if prec > 0 {
        s.push('.');
        for i in 1..=prec {
            let idx = d.dp + i - 1;
            s.push(if idx < 0 {
                '0'
            } else {
                d.at(idx as usize) as char
            });
        }
    }
    s
}

fn signed(neg: bool, mag: BigUint) -> BigInt {
    BigInt::from_biguint(if neg { Sign::Minus } else { Sign::Plus }, mag)
}

/// Rounds `mant * 2^exp` to `prec` bits, to nearest with ties to even;
/// `sticky` says that the true value is a little above `mant * 2^exp`.
fn round(mant: BigUint, exp: i64, prec: u32, sticky: bool, _neg: bool) -> (BigUint, i64) {
    let bits = mant.bits();
    let prec = u64::from(prec.max(1));
    if bits <= prec {
        return (mant, exp);
    }
    let shift = (bits - prec) as usize;
    let kept = &mant >> shift;
    let rest = &mant - (&kept << shift);
    let half = BigUint::one() << (shift - 1);
    let up = match rest.cmp(&half) {
        Ordering::Greater => true,
        Ordering::Less => false,
        Ordering::Equal => sticky || kept.is_odd(),
    };
    let kept = if up { kept + 1u32 } else { kept };
    (kept, exp + shift as i64)
}

fn normalize(neg: bool, mut mant: BigUint, mut exp: i64, prec: u32) -> Repr {
    if mant.is_zero() {
        return Repr::Finite {
            neg,
            mant,
            exp: 0,
            prec,
        };
    }
    let tz = mant.trailing_zeros().unwrap_or(0);
    if tz > 0 {
        mant >>= tz as usize;
        exp += tz as i64;
    }
    Repr::Finite {
        neg,
        mant,
        exp,
        prec,
    }
}

/// `(ma * 2^ea) / (mb * 2^eb)` rounded to `prec` bits.
fn divide(neg: bool, ma: &BigUint, ea: i64, mb: &BigUint, eb: i64, prec: u32) -> Number {
    let want = i64::from(prec) + 2;
    let shift = (want + mb.bits() as i64 - ma.bits() as i64).max(0);
    let num = ma << (shift as usize);
    let (q, r) = num.div_rem(mb);
    Number::from_parts(neg, q, ea - eb - shift, prec, !r.is_zero())
}

/// A non-negative decimal `0.digits * 10^dp` without leading or trailing
/// zero digits (as Go's `big` decimal type).
#[derive(Debug, Clone, Default)]
struct Decimal {
    digits: Vec<u8>,
    dp: i64,
}

impl Decimal {
    fn from_binary(mant: &BigUint, exp: i64) -> Decimal {
        let (int, point_shift) = if exp >= 0 {
            (mant << (exp as usize), 0i64)
        } else {
            (mant * BigUint::from(5u32).pow((-exp) as u32), -exp)
        };
        let s = int.to_str_radix(10);
        let mut d = Decimal {
            dp: s.len() as i64 - point_shift,
            digits: s.into_bytes(),
        };
        d.trim();
        d
    }

    fn trim(&mut self) {
        while self.digits.last() == Some(&b'0') {
            self.digits.pop();
        }
        if self.digits.is_empty() {
            self.dp = 0;
        }
    }

    fn at(&self, i: usize) -> u8 {
        self.digits.get(i).copied().unwrap_or(b'0')
    }

    fn round_down(&mut self, n: usize) {
        if n < self.digits.len() {
            self.digits.truncate(n);
            self.trim();
        }
    }

    fn round_up(&mut self, n: usize) {
        if n >= self.digits.len() {
            return;
        }
        let mut n = n;
        while n > 0 && self.digits[n - 1] >= b'9' {
            n -= 1;
        }
        if n == 0 {
            self.digits = vec![b'1'];
            self.dp += 1;
            return;
        }
        self.digits[n - 1] += 1;
        self.digits.truncate(n);
    }

    fn round(&mut self, n: usize) {
        if n >= self.digits.len() {
            return;
        }
        let up = if self.digits[n] == b'5' && n + 1 == self.digits.len() {
            n > 0 && (self.digits[n - 1] - b'0') & 1 != 0
        } else {
            self.digits[n] >= b'5'
        };
        if up {
            self.round_up(n);
        } else {
            self.round_down(n);
        }
    }

    /// `%f` form with as many digits as there are.
    fn fixed(&self) -> String {
        let digits = std::str::from_utf8(&self.digits).unwrap_or("0");
        if digits.is_empty() {
            return "0".to_owned();
        }
        let len = digits.len() as i64;
        if self.dp <= 0 {
            format!("0.{}{}", "0".repeat((-self.dp) as usize), digits)
        } else if self.dp >= len {
            format!("{}{}", digits, "0".repeat((self.dp - len) as usize))
        } else {
            let (int, frac) = digits.split_at(self.dp as usize);
            format!("{int}.{frac}")
        }
    }
}

/// Go's `roundShortest`: shortens `d` (the exact decimal of `mant * 2^exp`)
/// to the fewest digits that still round to the same `prec`-bit float.
fn round_shortest(d: &mut Decimal, mant: &BigUint, exp: i64, prec: u32) {
    if d.digits.is_empty() {
        return;
    }
    let bits = mant.bits() as i64;
    let s = bits - (i64::from(prec) + 1);
    let (m, e) = if s < 0 {
        (mant << ((-s) as usize), exp + s)
    } else {
        (mant >> (s as usize), exp + s)
    };
    let lower = Decimal::from_binary(&(&m - 1u32), e);
    let upper = Decimal::from_binary(&(&m + 1u32), e);
    let inclusive = !m.bit(1);
    for i in 0..d.digits.len() {
        let l = lower.at(i);
        let u = upper.at(i);
        let c = d.digits[i];
        let okdown = l != c || inclusive && i + 1 == lower.digits.len();
        let okup = c != u && (inclusive || c + 1 < u || i + 1 < upper.digits.len());
        match (okdown, okup) {
            (true, true) => {
                d.round(i + 1);
                return;
            }
            (true, false) => {
                d.round_down(i + 1);
                return;
            }
            (false, true) => {
                d.round_up(i + 1);
                return;
            }
            (false, false) => {}
        }
    }
}

impl PartialEq for Number {
    fn eq(&self, other: &Number) -> bool {
        self.compare(other) == Ordering::Equal
    }
}

impl Eq for Number {}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Numeric order (`-0 == 0`, infinities at the ends).
impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        self.compare(other)
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({})", self.to_text())
    }
}

impl std::str::FromStr for Number {
    type Err = ParseNumberError;
    fn from_str(s: &str) -> Result<Number, ParseNumberError> {
        Number::parse(s)
    }
}

impl From<i64> for Number {
    fn from(i: i64) -> Number {
        Number::from_i64(i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(expr: &str, want: &str) {
        let n = Number::parse(expr).unwrap();
        assert_eq!(n.to_text(), want, "{expr}");
    }

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    #[test]
    fn literals_print_as_written() {
        check("1", "1");
        check("0.1", "0.1");
        check("2.50", "2.5");
        check("1e3", "1000");
        check("1.5e-3", "0.0015");
        check("12345678901234567890", "12345678901234567890");
        check("-0.0", "-0");
        check("007", "7");
        check(".5", "0.5");
        check("5.", "5");
    }

    #[test]
    fn arithmetic_is_exact_where_terraform_is() {
        assert_eq!(n("0.1").add(&n("0.2")).unwrap().to_text(), "0.3");
        assert_eq!(
            n("12345678901234567890").add(&n("1")).unwrap().to_text(),
            "12345678901234567891"
        );
        assert_eq!(n("10").div(&n("4")).unwrap().to_text(), "2.5");
        assert_eq!(n("-7").rem(&n("3")).unwrap().to_text(), "-1");
        assert_eq!(n("7").rem(&n("-3")).unwrap().to_text(), "1");
        assert_eq!(n("5.5").rem(&n("2")).unwrap().to_text(), "1.5");
        assert_eq!(n("1").div(&n("0")).unwrap().to_text(), "+Inf");
        let third = n("1").div(&n("3")).unwrap();
        assert!(third.to_text().starts_with("0.33333333333333333333"));
        assert_eq!(third.to_f64(), 1.0 / 3.0);
        assert_eq!(
            n("1e20").add(&n("0.5")).unwrap().ceil().to_text(),
            "100000000000000000001"
        );
    }

    #[test]
    fn float64_values_print_shortest() {
        assert_eq!(Number::from_f64(0.1).unwrap().to_text(), "0.1");
        assert_eq!(
            Number::from_f64(2f64.sqrt()).unwrap().to_text(),
            "1.4142135623730951"
        );
        assert_eq!(Number::from_i64(-42).to_text(), "-42");
    }

    #[test]
    fn bad_literals_are_rejected() {
        for bad in ["", "-", "1e", "0x10", "1_000", " 1", "Infinity", "1.2.3"] {
            assert!(Number::parse(bad).is_err(), "{bad}");
        }
    }
}
