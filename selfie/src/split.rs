//! Splitting one baseline JPEG into parts that libjpeg-turbo can decode on two threads.
//!
//! Huffman decoding is sequential: without restart markers, the bit position of a
//! block is known only after every block before it has been decoded. It is also most
//! of the work (on a 12 MP photo, about 3/4 of libjpeg-turbo's full-size decode and
//! nearly all of a scaled one). So the pipeline ([`Plan`])
//!
//! 1. on one thread, decodes the head at once: the whole file with the frame height cut
//!    to the first-choice row (libjpeg-turbo stops after those rows and skips the rest
//!    of the data, reporting only "extraneous bytes", [`is_skipped_tail`]);
//! 2. on the other, skims the entropy-coded data down to that row: it reads the
//!    Huffman codes without storing a coefficient, keeping only each component's DC
//!    predictor (per byte cheaper than libjpeg-turbo's decode, but not by much: so the
//!    head is the larger part); then on to the first row where the data can be cut
//!    at a byte;
//! 3. there makes the middle JPEG (the rows between, when the first choice could not be
//!    cut: its first DC codes re-encoded against a predictor of zero, the bits copied
//!    with a shift, a few rows at most) and the bottom JPEG (the rest of the rows; its
//!    first DC codes re-encoded, the rest of the data copied byte for byte), and
//!    decodes them into the rows below the head.
//!
//! Nothing here decides whether the data is valid: every part goes through libjpeg-turbo,
//! which treats every warning as an error. The skim only has to find the same bit
//! position libjpeg-turbo would; it reads the codes with libjpeg's own loop (including
//! its tolerance of a run past coefficient 63). Anything it does not handle, and any
//! code it cannot read, returns `None`, and the caller decodes the whole file on one
//! thread (where libjpeg-turbo reports what is wrong). Handled: one baseline or
//! extended 8-bit Huffman frame (SOF0/SOF1) of 1–3 components in one interleaved scan,
//! no restart interval: what phone cameras write.
//!
//! The seam is exact: the inverse DCT works per block, and with fast upsampling
//! (replication, which the pipeline uses) no output row reads a neighbouring MCU row.

/// The two JPEGs, and the frame rows (full size) that the top one holds.
#[cfg(test)]
pub(crate) struct Parts {
    pub top: Vec<u8>,
    pub bottom: Vec<u8>,
    pub top_rows: usize,
}

/// A Huffman table as the skim reads it: a lookup on the next `LOOKUP` bits, and the
/// canonical codes per length (libjpeg's `maxcode`/`valoffset`) for longer codes.
struct Table {
    /// Per `LOOKUP`-bit prefix: code length (0 = longer or invalid) and symbol.
    fast: Box<[(u8, u8); 1 << LOOKUP]>,
    /// For AC tables: per prefix, the whole coefficient when code and extra bits fit
    /// in the prefix: bits 0–4 its length, bits 5–8 the zero run, bit 9 end of block;
    /// 0 when they do not fit.
    ac: Box<[u16; 1 << LOOKUP]>,
    /// For AC tables: per prefix, as many whole coefficients as fit in it, read one
    /// after the other: bits 0–3 their length, bits 8–15 how far they move the
    /// coefficient index, bit 16 the last is the end of block; 0 when none fits.
    multi: Box<[u32; 1 << LOOKUP]>,
    maxcode: [i32; 18],
    valoff: [i32; 17],
    symbols: Vec<u8>,
    /// Encoder side: code and length per symbol (length 0 = not in the table).
    codes: [(u16, u8); 256],
}

const LOOKUP: u32 = 11;
const AC_EOB: u16 = 1 << 9;

impl Table {
    fn new(counts: &[u8; 16], symbols: &[u8]) -> Option<Table> {
        let mut fast = Box::new([(0u8, 0u8); 1 << LOOKUP]);
        let mut ac = Box::new([0u16; 1 << LOOKUP]);
        let mut maxcode = [-1i32; 18];
        let mut valoff = [0i32; 17];
        let mut codes = [(0u16, 0u8); 256];
        let mut code: u32 = 0;
        let mut k = 0usize;
        for len in 1..=16u32 {
            let n = usize::from(counts[len as usize - 1]);
            valoff[len as usize] = k as i32 - code as i32;
            for _ in 0..n {
                let &sym = symbols.get(k)?;
                // libjpeg refuses a table whose codes do not fit their lengths.
                if code >= 1 << len {
                    return None;
                }
                codes[usize::from(sym)] = (code as u16, len as u8);
                if len <= LOOKUP {
                    let shift = LOOKUP - len;
                    let base = (code << shift) as usize;
                    let (r, s) = (u16::from(sym >> 4), u32::from(sym & 15));
                    let whole = if len + s <= LOOKUP {
                        let eob = if s == 0 && r != 15 { AC_EOB } else { 0 };
                        (len + s) as u16 | r << 5 | eob
                    } else {
                        0
                    };
                    for i in base..base + (1 << shift) {
                        fast[i] = (len as u8, sym);
                        ac[i] = whole;
                    }
                }
                code += 1;
                k += 1;
            }
            if n > 0 {
                maxcode[len as usize] = code as i32 - 1;
            }
            code <<= 1;
        }
        maxcode[17] = i32::MAX;
        let mut multi = Box::new([0u32; 1 << LOOKUP]);
        let mask = (1u32 << LOOKUP) - 1;
        for (p, m) in multi.iter_mut().enumerate() {
            let (mut len, mut advance, mut eob) = (0u32, 0u32, false);
            while len < LOOKUP {
                let e = ac[((p as u32) << len & mask) as usize];
                let l = u32::from(e & 31);
                if e == 0 || l > LOOKUP - len {
                    break;
                }
                len += l;
                if e & AC_EOB != 0 {
                    eob = true;
                    break;
                }
                advance += u32::from((e >> 5) & 15) + 1;
            }
            if len > 0 {
                *m = len | advance << 8 | u32::from(eob) << 16;
            }
        }
        Some(Table {
            fast,
            ac,
            multi,
            maxcode,
            valoff,
            symbols: symbols[..k].to_vec(),
            codes,
        })
    }
}

/// Reads bits of entropy-coded data, removing the stuffed zero after each 0xFF.
/// Positions are counted in unstuffed bits from the start of the data. At a marker
/// (or the end of the data) it feeds zeros, and `overrun` tells if any were used.
struct Bits<'a> {
    data: &'a [u8],
    /// Next byte of `data` to load.
    pos: usize,
    buf: u64,
    /// Valid bits in `buf` (from the top).
    n: u32,
    /// Bits fed into `buf` so far, real or padding.
    fed: u64,
    /// Real bits fed.
    real: u64,
    at_marker: bool,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Bits<'a> {
        Bits {
            data,
            pos: 0,
            buf: 0,
            n: 0,
            fed: 0,
            real: 0,
            at_marker: false,
        }
    }

    /// The next byte to load, both ways: a [`Mark`] at or after the bits consumed.
    fn mark(&self) -> Mark {
        Mark {
            stuffed: self.pos,
            unstuffed: (self.real / 8) as usize,
        }
    }

    /// Bits consumed so far.
    fn consumed(&self) -> u64 {
        self.fed - u64::from(self.n)
    }

    /// Were more bits consumed than the data holds?
    fn overrun(&self) -> bool {
        self.consumed() > self.real
    }

    /// Makes at least 32 bits available.
    #[inline(always)]
    fn ensure(&mut self) {
        if self.n < 32 {
            self.refill();
        }
    }

    #[inline(never)]
    fn refill(&mut self) {
        // Whole bytes at once while none of the next eight is 0xFF.
        if let Some(chunk) = self.data.get(self.pos..self.pos + 8) {
            let w = u64::from_be_bytes([
                chunk[0], chunk[1], chunk[2], chunk[3], chunk[4], chunk[5], chunk[6], chunk[7],
            ]);
            let inv = !w;
            let has_ff = inv.wrapping_sub(0x0101_0101_0101_0101) & !inv & 0x8080_8080_8080_8080;
            if has_ff == 0 {
                let k = (64 - self.n) / 8;
                let taken = w & (!0u64 << (64 - 8 * k));
                self.buf |= taken >> self.n;
                self.n += 8 * k;
                self.pos += k as usize;
                self.fed += u64::from(8 * k);
                self.real += u64::from(8 * k);
                return;
            }
        }
        while self.n <= 56 {
            let mut b = 0u8;
            if !self.at_marker {
                match self.data.get(self.pos) {
                    Some(&0xFF) if self.data.get(self.pos + 1) == Some(&0) => {
                        b = 0xFF;
                        self.pos += 2;
                    }
                    Some(&0xFF) | None => self.at_marker = true,
                    Some(&v) => {
                        b = v;
                        self.pos += 1;
                    }
                }
                if !self.at_marker {
                    self.real += 8;
                }
            }
            self.buf |= u64::from(b) << (56 - self.n);
            self.n += 8;
            self.fed += 8;
        }
    }

    /// The next `k` (≤ 32) bits without consuming them; `ensure` first.
    #[inline(always)]
    fn peek(&self, k: u32) -> u32 {
        (self.buf >> (64 - k)) as u32
    }

    #[inline(always)]
    fn skip(&mut self, k: u32) {
        self.buf <<= k;
        self.n -= k;
    }

    /// Reads `k` ≤ 16 bits.
    #[inline(always)]
    fn get(&mut self, k: u32) -> u32 {
        if k == 0 {
            return 0;
        }
        self.ensure();
        let v = self.peek(k);
        self.skip(k);
        v
    }

    /// Decodes one Huffman symbol (libjpeg's canonical decode).
    #[inline(always)]
    fn symbol(&mut self, t: &Table) -> Option<u8> {
        self.ensure();
        let (len, sym) = t.fast[self.peek(LOOKUP) as usize];
        if len != 0 {
            self.skip(u32::from(len));
            return Some(sym);
        }
        self.symbol_slow(t)
    }

    #[inline(never)]
    fn symbol_slow(&mut self, t: &Table) -> Option<u8> {
        let p = self.peek(16);
        for len in LOOKUP + 1..=16 {
            let code = (p >> (16 - len)) as i32;
            if code <= t.maxcode[len as usize] {
                self.skip(len);
                let i = code + t.valoff[len as usize];
                return usize::try_from(i)
                    .ok()
                    .and_then(|i| t.symbols.get(i).copied());
            }
        }
        None
    }
}

/// JPEG's sign extension of `s` extra bits.
fn extend(v: u32, s: u32) -> i32 {
    if s == 0 {
        0
    } else if v < (1 << (s - 1)) {
        v as i32 - (1 << s) + 1
    } else {
        v as i32
    }
}

struct Component {
    h: usize,
    v: usize,
    dc: usize,
    ac: usize,
}

/// What the headers say, for the one scan.
struct Frame {
    /// Offset of the SOF height field.
    height_at: usize,
    width: usize,
    height: usize,
    /// In scan order.
    comps: Vec<Component>,
    /// End of the SOS segment: the entropy-coded data starts here.
    data_start: usize,
    dc: [Option<Table>; 4],
    ac: [Option<Table>; 4],
}

fn be16(b: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
    ])))
}

/// The frame header as `parse` keeps it.
type Sof = (usize, usize, usize, Vec<(u8, usize, usize)>);

fn parse(bytes: &[u8]) -> Option<Frame> {
    if bytes.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut pos = 2;
    // (offset of the height field, width, height, (id, h, v) per component)
    let mut sof: Option<Sof> = None;
    let mut dc: [Option<Table>; 4] = [None, None, None, None];
    let mut ac: [Option<Table>; 4] = [None, None, None, None];
    loop {
        if *bytes.get(pos)? != 0xFF {
            return None;
        }
        while bytes.get(pos) == Some(&0xFF) {
            pos += 1;
        }
        let marker = *bytes.get(pos)?;
        pos += 1;
        let len = be16(bytes, pos)?;
        let seg = bytes.get(pos + 2..pos + len.checked_sub(2)? + 2)?;
        match marker {
            0xC0 | 0xC1 => {
                if sof.is_some() || *seg.first()? != 8 {
                    return None;
                }
                let h = be16(seg, 1)?;
                let w = be16(seg, 3)?;
                let nf = usize::from(*seg.get(5)?);
                let mut comps = Vec::new();
                for i in 0..nf {
                    let c = seg.get(6 + 3 * i..9 + 3 * i)?;
                    let (hs, vs) = (usize::from(c[1] >> 4), usize::from(c[1] & 15));
                    if !(1..=4).contains(&hs) || !(1..=4).contains(&vs) {
                        return None;
                    }
                    comps.push((c[0], hs, vs));
                }
                sof = Some((pos + 3, w, h, comps));
            }
            // Any other frame type (progressive, lossless, arithmetic, hierarchical).
            0xC2..=0xC3 | 0xC5..=0xC7 | 0xC9..=0xCB | 0xCD..=0xCF => return None,
            0xC4 => {
                let mut at = 0;
                while at < seg.len() {
                    let tc = seg[at] >> 4;
                    let th = usize::from(seg[at] & 15);
                    let counts: [u8; 16] = seg.get(at + 1..at + 17)?.try_into().ok()?;
                    let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
                    let symbols = seg.get(at + 17..at + 17 + total)?;
                    let table = Some(Table::new(&counts, symbols)?);
                    match (tc, th) {
                        (0, 0..=3) => dc[th] = table,
                        (1, 0..=3) => ac[th] = table,
                        _ => return None,
                    }
                    at += 17 + total;
                }
            }
            // A restart interval (even zero, to keep this simple), DNL, or a second SOI.
            0xDD | 0xDC | 0xD8 | 0xD9 | 0xD0..=0xD7 | 0x01 => return None,
            0xDA => {
                let (height_at, width, height, frame_comps) = sof?;
                let ns = usize::from(*seg.first()?);
                if ns != frame_comps.len() || !(1..=3).contains(&ns) || width == 0 || height == 0 {
                    return None;
                }
                let mut comps = Vec::new();
                for i in 0..ns {
                    let s = seg.get(1 + 2 * i..3 + 2 * i)?;
                    let &(_, h, v) = frame_comps.iter().find(|c| c.0 == s[0])?;
                    let (td, ta) = (usize::from(s[1] >> 4), usize::from(s[1] & 15));
                    if td > 3 || ta > 3 {
                        return None;
                    }
                    comps.push(Component {
                        h,
                        v,
                        dc: td,
                        ac: ta,
                    });
                }
                if seg.get(1 + 2 * ns..4 + 2 * ns)? != [0, 63, 0] {
                    return None;
                }
                if ns == 1 {
                    // One component: its MCU is one block whatever its sampling.
                    comps[0].h = 1;
                    comps[0].v = 1;
                }
                return Some(Frame {
                    height_at,
                    width,
                    height,
                    comps,
                    data_start: pos + len,
                    dc,
                    ac,
                });
            }
            _ => {}
        }
        pos += len;
    }
}

/// Reads one block's DC difference.
#[inline]
fn dc_diff(bits: &mut Bits<'_>, t: &Table) -> Option<i32> {
    let s = u32::from(bits.symbol(t)?);
    if s > 15 {
        return None;
    }
    Some(extend(bits.get(s), s))
}

/// Skips one block's AC codes, with libjpeg's loop (a run may pass coefficient 63).
#[inline(always)]
fn skip_ac(bits: &mut Bits<'_>, t: &Table) -> Option<()> {
    let mut k = 1u32;
    while k < 64 {
        bits.ensure();
        let m = t.multi[bits.peek(LOOKUP) as usize];
        // Several coefficients at once when none of them can end the block.
        if m != 0 && k + ((m >> 8) & 0xFF) < 64 {
            bits.skip(m & 15);
            if m & (1 << 16) != 0 {
                break;
            }
            k += (m >> 8) & 0xFF;
            continue;
        }
        let e = t.ac[bits.peek(LOOKUP) as usize];
        if e != 0 {
            bits.skip(u32::from(e & 31));
            if e & AC_EOB != 0 {
                break;
            }
            k += u32::from((e >> 5) & 15) + 1;
            continue;
        }
        let rs = bits.symbol(t)?;
        let (r, s) = (u32::from(rs >> 4), u32::from(rs & 15));
        if s != 0 {
            k += r;
            bits.ensure();
            bits.skip(s);
        } else {
            if r != 15 {
                break;
            }
            k += 15;
        }
        k += 1;
    }
    Some(())
}

/// Skims one MCU; with `fixes`, notes each component's first DC code.
fn skim_mcu<'t>(
    bits: &mut Bits<'_>,
    pred: &mut [i32; 3],
    tables: &[(&'t Table, &'t Table, usize)],
    mut fixes: Option<&mut Vec<Fix<'t>>>,
) -> Option<()> {
    for (ci, &(dc, ac, blocks)) in tables.iter().enumerate() {
        for b in 0..blocks {
            let start = bits.consumed();
            let diff = dc_diff(bits, dc)?;
            if b == 0 {
                if let Some(f) = fixes.as_deref_mut() {
                    f.push(Fix {
                        start,
                        stop: bits.consumed(),
                        value: pred[ci].wrapping_add(diff),
                        table: dc,
                    });
                }
            }
            pred[ci] = pred[ci].wrapping_add(diff);
            skip_ac(bits, ac)?;
        }
    }
    Some(())
}

/// A place in the entropy-coded data known both ways: unstuffed byte `unstuffed` starts
/// at offset `stuffed` of the stuffed data. [`stuffed_offset`] counts on from it
/// instead of from the start of the data.
#[derive(Clone, Copy, Default)]
struct Mark {
    stuffed: usize,
    unstuffed: usize,
}

/// Offset in the stuffed data of unstuffed byte `u` (the stuffed zero after a 0xFF
/// stays with its 0xFF), counted from `from` (from the start if `u` is before it).
fn stuffed_offset(data: &[u8], from: Mark, u: usize) -> usize {
    let Mark {
        stuffed: mut o,
        unstuffed: mut c,
    } = if from.unstuffed <= u {
        from
    } else {
        Mark::default()
    };
    loop {
        let Some(i) = memchr::memchr(0xFF, data.get(o..).unwrap_or_default()).map(|i| o + i) else {
            return o + (u - c);
        };
        if c + (i - o) >= u {
            return o + (u - c);
        }
        c += i - o + 1;
        o = i + 2;
        if c == u {
            return o.min(data.len());
        }
    }
}

/// A DC code of the bottom part's first MCU, re-encoded against a zero predictor.
#[derive(Clone)]
struct Fix<'t> {
    start: u64,
    stop: u64,
    value: i32,
    table: &'t Table,
}

impl Fix<'_> {
    /// JPEG's size category of the DC value.
    fn category(&self) -> u32 {
        32 - self.value.unsigned_abs().leading_zeros()
    }

    /// Bits of the re-encoded code, if the table has a code for its category.
    fn encoded_len(&self) -> Option<u32> {
        let s = self.category();
        let len = self.table.codes.get(s as usize)?.1;
        (s <= 11 && len > 0).then_some(u32::from(len) + s)
    }
}

/// Rows tried below the first choice for a split whose bits line up.
pub(crate) const MAX_TRIES: usize = 64;

/// Writes bits, stuffing a zero after each 0xFF byte.
struct Writer {
    out: Vec<u8>,
    acc: u64,
    n: u32,
    /// Where the copies' offsets are counted from ([`stuffed_offset`]).
    mark: Mark,
}

impl Writer {
    #[inline]
    fn put(&mut self, v: u32, k: u32) {
        if k == 0 {
            return;
        }
        self.acc = (self.acc << k) | u64::from(v & ((1u32 << k) - 1));
        self.n += k;
        while self.n >= 8 {
            let b = (self.acc >> (self.n - 8)) as u8;
            self.out.push(b);
            if b == 0xFF {
                self.out.push(0);
            }
            self.n -= 8;
        }
        self.acc &= (1u64 << self.n) - 1;
    }

    /// Copies unstuffed bits `[from, to)` of `data`.
    fn copy_bits(&mut self, data: &[u8], from: u64, to: u64) {
        if from >= to {
            return;
        }
        let at = stuffed_offset(data, self.mark, (from / 8) as usize);
        let mut r = Bits::new(data.get(at..).unwrap_or_default());
        r.get((from % 8) as u32);
        let mut left = to - from;
        while left > 0 {
            let k = left.min(16) as u32;
            let v = r.get(k);
            self.put(v, k);
            left -= u64::from(k);
        }
    }

    /// Copies the data from bit `from` through the last of `fixes`, each DC code
    /// re-encoded; returns the bit after it.
    fn fixed(&mut self, data: &[u8], from: u64, fixes: &[Fix<'_>]) -> u64 {
        let mut at = from;
        for f in fixes {
            self.copy_bits(data, at, f.start);
            let s = f.category();
            let (code, len) = f.table.codes[s as usize];
            self.put(u32::from(code), u32::from(len));
            let v = f.value;
            self.put(if v < 0 { (v - 1) as u32 } else { v as u32 }, s);
            at = f.stop;
        }
        at
    }

    fn finish(mut self) -> Vec<u8> {
        self.out.extend_from_slice(&[0xFF, 0xD9]);
        self.out
    }
}

/// End of the entropy-coded data (the 0xFF of the next marker), if that marker is EOI.
#[cfg(test)]
fn scan_end(data: &[u8]) -> Option<usize> {
    let mut pos = 0;
    loop {
        let i = pos + memchr::memchr(0xFF, data.get(pos..)?)?;
        match *data.get(i + 1)? {
            0x00 => pos = i + 2,
            0xD9 => return Some(i),
            _ => return None,
        }
    }
}

fn with_height(header: &[u8], height_at: usize, rows: usize, cap: usize) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(header.len() + cap + 2);
    out.extend_from_slice(header);
    let h = u16::try_from(rows).ok()?.to_be_bytes();
    out.get_mut(height_at..height_at + 2)?.copy_from_slice(&h);
    Some(out)
}

/// Where a JPEG is split, from its headers alone, so the top's decode can start at
/// once: the head ([`Plan::head`]) is the rows above `first_row` (MCU rows); the skim
/// then looks for a split row the data can be cut at, from `first_row` down to
/// `last_row`, and [`Plan::bottom`] makes a middle JPEG for the rows between (its bits
/// copied with a shift, which is cheap for a few rows) and the bottom JPEG below (its
/// data copied byte for byte).
pub(crate) struct Plan {
    f: Frame,
    mcus_per_row: usize,
    /// Picture rows per MCU row.
    row_px: usize,
    first_row: usize,
    /// Lowest MCU row tried for the split.
    last_row: usize,
    /// End of the entropy-coded data, from `f.data_start`: the EOI marker's 0xFF.
    data_len: usize,
}

/// The rest of a split JPEG below [`Plan::head_rows`]: the rows down to the split
/// (`middle`, empty when the split is at the first row) and the rows below it.
pub(crate) struct Bottom {
    pub middle: Vec<u8>,
    pub jpeg: Vec<u8>,
    /// Picture rows (full size) above the split: the rows the bottom does not hold.
    pub top_rows: usize,
    /// Offset in the entropy-coded data where the top's data ends (stuffed bytes).
    #[cfg_attr(not(test), allow(dead_code))]
    cut: usize,
}

/// Plans a split at the MCU row nearest `fraction` of the height, searching at most
/// `tries` rows below it; `None` when the JPEG is not one `split` handles.
#[cfg(test)]
pub(crate) fn plan(bytes: &[u8], fraction: f64, tries: usize) -> Option<Plan> {
    let data_start = parse(bytes)?.data_start;
    let end = data_start + scan_end(bytes.get(data_start..)?)?;
    plan_to(bytes, end, fraction, tries)
}

/// [`plan`] for a JPEG whose entropy-coded data ends at `end` (the offset of the EOI
/// marker's 0xFF) with no marker in it but stuffed bytes, as the header walk found
/// (`header::JpegInfo::single_scan_end`): no second scan of the data.
pub(crate) fn plan_to(bytes: &[u8], end: usize, fraction: f64, tries: usize) -> Option<Plan> {
    let f = parse(bytes)?;
    let hmax = f.comps.iter().map(|c| c.h).max()?;
    let vmax = f.comps.iter().map(|c| c.v).max()?;
    let mcus_per_row = f.width.div_ceil(8 * hmax);
    let mcu_rows = f.height.div_ceil(8 * vmax);
    if mcu_rows < 3 {
        return None;
    }
    let first_row = ((mcu_rows as f64 * fraction) as usize).clamp(1, mcu_rows - 2);
    let last_row = (first_row + tries.max(1) - 1).min(mcu_rows - 2);
    for c in &f.comps {
        f.dc[c.dc].as_ref()?;
        f.ac[c.ac].as_ref()?;
    }
    let data_len = end.checked_sub(f.data_start)?;
    if bytes.get(end..end + 2)? != [0xFF, 0xD9] {
        return None;
    }
    Some(Plan {
        f,
        mcus_per_row,
        row_px: 8 * vmax,
        first_row,
        last_row,
        data_len,
    })
}

impl Plan {
    /// Picture rows (full size) that [`Plan::head`] holds.
    pub(crate) fn head_rows(&self) -> usize {
        self.first_row * self.row_px
    }

    /// The whole JPEG with its frame height cut to [`Plan::head_rows`]: libjpeg-turbo
    /// decodes those rows and then skips the rest of the data up to EOI, which it
    /// reports as the warning [`is_skipped_tail`] recognises. A copy; [`Plan::cut_head`]
    /// does the same in the caller's buffer.
    pub(crate) fn head(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        let mut out = bytes.get(..self.end())?.to_vec();
        self.cut_head(&mut out)?;
        Some(out)
    }

    /// The length of the JPEG the plan was made from, through its EOI marker (the data
    /// ends with EOI: `plan` checked).
    pub(crate) fn end(&self) -> usize {
        self.f.data_start + self.data_len + 2
    }

    /// Turns the JPEG the plan was made from (`bytes[..self.end()]`) into the head, in
    /// place: the frame height becomes [`Plan::head_rows`]. No copy of the file;
    /// [`Plan::bottom`] still works on it (it writes its own heights), and
    /// [`Plan::restore`] undoes it.
    pub(crate) fn cut_head(&self, bytes: &mut [u8]) -> Option<()> {
        self.set_height(bytes, self.head_rows())
    }

    /// Undoes [`Plan::cut_head`]: the frame height the file had.
    pub(crate) fn restore(&self, bytes: &mut [u8]) -> Option<()> {
        self.set_height(bytes, self.f.height)
    }

    fn set_height(&self, bytes: &mut [u8], rows: usize) -> Option<()> {
        let h = u16::try_from(rows).ok()?.to_be_bytes();
        bytes
            .get_mut(self.f.height_at..self.f.height_at + 2)?
            .copy_from_slice(&h);
        Some(())
    }

    /// Skims to `first_row`, then on to the first row down to `last_row` where the
    /// data can be cut, and makes the middle and bottom JPEGs.
    pub(crate) fn bottom(&self, bytes: &[u8]) -> Option<Bottom> {
        let f = &self.f;
        let mut tables = Vec::new();
        for c in &f.comps {
            let dc = f.dc[c.dc].as_ref()?;
            let ac = f.ac[c.ac].as_ref()?;
            tables.push((dc, ac, c.h * c.v));
        }
        let data = bytes.get(f.data_start..f.data_start + self.data_len)?;
        let mcus_per_row = self.mcus_per_row;
        let mut split_row = self.first_row;
        let mut bits = Bits::new(data);
        let mut pred = [0i32; 3];
        // The offsets of the cut and of the copies are counted from a row above the
        // split, not from the start of the data (a memchr over 60 % of a 4 MB file for
        // each of them).
        let mut mark = Mark::default();
        for row in 0..split_row {
            if row + 1 == split_row {
                mark = bits.mark();
            }
            for _ in 0..mcus_per_row {
                skim_mcu(&mut bits, &mut pred, &tables, None)?;
            }
        }
        // The bottom's first MCU: each component's first DC code is re-encoded against a
        // predictor of zero. The rest of the data is copied byte for byte, so the split
        // row is moved down until the re-encoded head ends on a byte boundary of the
        // original (about one row in eight qualifies): a shifted copy would change the
        // padding at the end, which libjpeg-turbo reports as extraneous bytes.
        let mut first = None;
        let (split_bit, fixes) = loop {
            if split_row > self.last_row {
                return None;
            }
            let split_bit = bits.consumed();
            let mut fixes = Vec::new();
            skim_mcu(&mut bits, &mut pred, &tables, Some(&mut fixes))?;
            if first.is_none() {
                first = Some((split_bit, fixes.clone()));
            }
            let mut out_bits = 0i64;
            for f in &fixes {
                out_bits += i64::from(f.encoded_len()?) - (f.stop - f.start) as i64;
            }
            let last = fixes.last()?.stop;
            out_bits += (last.div_ceil(8) * 8 - split_bit) as i64;
            if out_bits.rem_euclid(8) == 0 {
                break (split_bit, fixes);
            }
            for _ in 1..mcus_per_row {
                skim_mcu(&mut bits, &mut pred, &tables, None)?;
            }
            split_row += 1;
        };
        if bits.overrun() {
            return None;
        }

        let top_rows = split_row * self.row_px;
        let header = &bytes[..f.data_start];
        let cut = stuffed_offset(data, mark, split_bit.div_ceil(8) as usize);
        let middle = match first {
            Some((from, fixes)) if split_row > self.first_row => {
                let rows = top_rows - self.head_rows();
                let mut w = Writer {
                    out: with_height(header, f.height_at, rows, (split_bit - from) as usize / 7)?,
                    acc: 0,
                    n: 0,
                    mark,
                };
                let at = w.fixed(data, from, &fixes);
                w.copy_bits(data, at, split_bit);
                // Fill bits to the byte (libjpeg-turbo ignores them).
                let pad = (8 - w.n % 8) % 8;
                w.put((1 << pad) - 1, pad);
                w.finish()
            }
            _ => Vec::new(),
        };
        let mut w = Writer {
            out: with_height(header, f.height_at, f.height - top_rows, data.len() - cut)?,
            acc: 0,
            n: 0,
            mark,
        };
        let at = w.fixed(data, split_bit, &fixes);
        let aligned = at.div_ceil(8) * 8;
        w.copy_bits(data, at, aligned);
        if w.n != 0 {
            return None;
        }
        let tail = stuffed_offset(data, mark, (aligned / 8) as usize).min(data.len());
        w.out.extend_from_slice(&data[tail..]);
        Some(Bottom {
            middle,
            jpeg: w.finish(),
            top_rows,
            cut,
        })
    }

    /// The top JPEG for `bottom`: the headers with the frame height cut to its
    /// `top_rows`, the data up to the split, EOI.
    #[cfg(test)]
    pub(crate) fn top(&self, bytes: &[u8], bottom: &Bottom) -> Option<Vec<u8>> {
        let header = bytes.get(..self.f.data_start)?;
        let data = bytes.get(self.f.data_start..self.f.data_start + self.data_len)?;
        let mut top = with_height(header, self.f.height_at, bottom.top_rows, bottom.cut)?;
        top.extend_from_slice(data.get(..bottom.cut)?);
        top.extend_from_slice(&[0xFF, 0xD9]);
        Some(top)
    }
}

/// Is this libjpeg-turbo's message for the data a [`Plan::head`] leaves undecoded
/// ("Corrupt JPEG data: N extraneous bytes before marker 0xd9")? Any other warning or
/// error is not.
pub(crate) fn is_skipped_tail(message: &str) -> bool {
    message
        .strip_prefix("Corrupt JPEG data: ")
        .and_then(|m| m.strip_suffix(" extraneous bytes before marker 0xd9"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Splits a JPEG at the MCU row nearest `fraction` of its height (see the module
/// documentation); `None` when it cannot (the caller decodes it whole).
#[cfg(test)]
pub(crate) fn split(bytes: &[u8], fraction: f64) -> Option<Parts> {
    let plan = plan(bytes, fraction, MAX_TRIES)?;
    let bottom = plan.bottom(bytes)?;
    Some(Parts {
        top: plan.top(bytes, &bottom)?,
        top_rows: bottom.top_rows,
        bottom: bottom.jpeg,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Noisy pixels (so codes of many lengths appear).
    fn noise(w: usize, h: usize, c: usize) -> Vec<u8> {
        let mut seed = 0x1234_5678u32;
        (0..w * h * c)
            .map(|i| {
                seed ^= seed << 13;
                seed ^= seed >> 17;
                seed ^= seed << 5;
                ((i / c) % 199 + (seed % 40) as usize + i % c * 30) as u8
            })
            .collect()
    }

    /// An interleaved baseline JPEG as cameras write it: libjpeg-turbo's encoder,
    /// colour (with the given subsampling) or grey, standard or optimised tables.
    pub(crate) fn sample(
        w: usize,
        h: usize,
        subsamp: Option<turbojpeg::Subsamp>,
        optimize: bool,
    ) -> Vec<u8> {
        let mut c = turbojpeg::Compressor::new().unwrap();
        c.set_quality(92).unwrap();
        c.set_optimize(optimize).unwrap();
        let (ch, format) = match subsamp {
            Some(s) => {
                c.set_subsamp(s).unwrap();
                (3, turbojpeg::PixelFormat::RGB)
            }
            None => {
                c.set_subsamp(turbojpeg::Subsamp::Gray).unwrap();
                (1, turbojpeg::PixelFormat::GRAY)
            }
        };
        let px = noise(w, h, ch);
        c.compress_to_vec(turbojpeg::Image {
            pixels: &px[..],
            width: w,
            pitch: w * ch,
            height: h,
            format,
        })
        .unwrap()
    }

    fn decode(jpeg: &[u8], gray: bool, scale: usize) -> (usize, usize, Vec<u8>) {
        let mut d = turbojpeg::Decompressor::new().unwrap();
        let f = turbojpeg::ScalingFactor::new(scale, 8);
        d.set_scaling_factor(f).unwrap();
        d.set_fast_upsample(true).unwrap();
        let h = d.read_header(jpeg).unwrap().scaled(f);
        let (c, format) = if gray {
            (1, turbojpeg::PixelFormat::GRAY)
        } else {
            (3, turbojpeg::PixelFormat::RGB)
        };
        let mut px = vec![0u8; h.width * h.height * c];
        d.decompress(
            jpeg,
            turbojpeg::Image {
                pixels: &mut px[..],
                width: h.width,
                pitch: h.width * c,
                height: h.height,
                format,
            },
        )
        .unwrap();
        (h.width, h.height, px)
    }

    #[test]
    fn the_two_parts_decode_to_the_whole_picture() {
        use turbojpeg::Subsamp as S;
        let cases = [
            (803, 611, Some(S::None), false),
            (803, 611, Some(S::Sub2x2), true),
            (640, 480, Some(S::Sub2x1), false),
            (333, 517, None, true),
            (96, 1200, Some(S::Sub2x2), false),
            (1201, 905, Some(S::Sub1x2), false),
        ];
        for (w, h, sampling, optimized) in cases {
            let gray = sampling.is_none();
            let jpeg = sample(w, h, sampling, optimized);
            for fraction in [0.1, 0.5, 0.77] {
                let parts = split(&jpeg, fraction).unwrap();
                for scale in [8, 3, 1] {
                    let (fw, fh, whole) = decode(&jpeg, gray, scale);
                    let (tw, th, top) = decode(&parts.top, gray, scale);
                    let (bw, bh, bottom) = decode(&parts.bottom, gray, scale);
                    assert_eq!((tw, bw, th + bh), (fw, fw, fh));
                    assert_eq!(
                        th,
                        turbojpeg::ScalingFactor::new(scale, 8).scale(parts.top_rows)
                    );
                    let joined = [top, bottom].concat();
                    assert!(
                        joined == whole,
                        "{w}x{h} {sampling:?} gray {gray} at {fraction}, {scale}/8"
                    );
                }
            }
        }
    }

    /// The head (the whole file, its frame height cut), the middle and the bottom of a
    /// plan decode to the whole picture; the head's only complaint is the skipped tail.
    #[test]
    fn head_middle_and_bottom_decode_to_the_whole_picture() {
        use turbojpeg::Subsamp as S;
        let cases = [
            (803, 611, Some(S::None), false),
            (803, 611, Some(S::Sub2x2), true),
            (640, 480, Some(S::Sub2x1), false),
            (333, 517, None, true),
            (1201, 905, Some(S::Sub1x2), false),
        ];
        let mut middles = 0;
        for (w, h, sampling, optimized) in cases {
            let gray = sampling.is_none();
            let c = if gray { 1 } else { 3 };
            let jpeg = sample(w, h, sampling, optimized);
            for fraction in [0.1, 0.5, 0.6, 0.77] {
                let plan = plan(&jpeg, fraction, MAX_TRIES).unwrap();
                let bottom = plan.bottom(&jpeg).unwrap();
                let head = plan.head(&jpeg).unwrap();
                for scale in [8, 3] {
                    let f = turbojpeg::ScalingFactor::new(scale, 8);
                    let (fw, _, whole) = decode(&jpeg, gray, scale);
                    let mut d = turbojpeg::Decompressor::new().unwrap();
                    d.set_scaling_factor(f).unwrap();
                    d.set_fast_upsample(true).unwrap();
                    let hh = d.read_header(&head).unwrap().scaled(f);
                    assert_eq!(hh.height, f.scale(plan.head_rows()));
                    let mut top = vec![0u8; hh.width * hh.height * c];
                    let format = if gray {
                        turbojpeg::PixelFormat::GRAY
                    } else {
                        turbojpeg::PixelFormat::RGB
                    };
                    let img = turbojpeg::Image {
                        pixels: &mut top[..],
                        width: hh.width,
                        pitch: hh.width * c,
                        height: hh.height,
                        format,
                    };
                    match d.decompress(&head, img) {
                        Err(turbojpeg::Error::TurboJpegError(m)) => {
                            assert!(is_skipped_tail(&m), "{m}")
                        }
                        other => panic!("{other:?}"),
                    }
                    let mut joined = top;
                    if !bottom.middle.is_empty() {
                        middles += 1;
                        let (mw, mh, middle) = decode(&bottom.middle, gray, scale);
                        assert_eq!(mw, fw);
                        assert_eq!(mh, f.scale(bottom.top_rows) - f.scale(plan.head_rows()));
                        joined.extend_from_slice(&middle);
                    }
                    joined.extend_from_slice(&decode(&bottom.jpeg, gray, scale).2);
                    assert!(
                        joined == whole,
                        "{w}x{h} {sampling:?} gray {gray} at {fraction}, {scale}/8"
                    );
                }
            }
        }
        assert!(middles > 0);
    }

    /// Counting from a mark the reader took gives the offsets counting from the start.
    #[test]
    fn stuffed_offsets_from_a_mark() {
        let data = [
            1u8, 0xFF, 0, 2, 0xFF, 0, 0xFF, 0, 3, 4, 0xFF, 0, 5, 6, 7, 8, 9, 10,
        ];
        let mut bits = Bits::new(&data);
        bits.get(8);
        let mark = bits.mark();
        assert!(mark.unstuffed > 1);
        for u in 0..12 {
            let whole = stuffed_offset(&data, Mark::default(), u);
            assert_eq!(stuffed_offset(&data, mark, u), whole, "{u}");
        }
        assert_eq!(stuffed_offset(&data, Mark::default(), 4), 6);
    }

    #[test]
    fn only_the_skipped_tail_is_expected() {
        assert!(is_skipped_tail(
            "Corrupt JPEG data: 1234 extraneous bytes before marker 0xd9"
        ));
        for m in [
            "Corrupt JPEG data: 1234 extraneous bytes before marker 0xd0",
            "Corrupt JPEG data:  extraneous bytes before marker 0xd9",
            "Corrupt JPEG data: bad Huffman code",
            "Corrupt JPEG data: premature end of data segment",
            "Premature end of JPEG file",
        ] {
            assert!(!is_skipped_tail(m), "{m}");
        }
    }

    /// Damaged data: whenever both parts decode, the whole file decodes to the same
    /// pixels (the split never accepts what libjpeg-turbo refuses, nor changes a pixel).
    #[test]
    fn damaged_data_splits_only_into_the_same_picture() {
        let jpeg = sample(200, 640, Some(turbojpeg::Subsamp::Sub2x2), false);
        let data_start = parse(&jpeg).unwrap().data_start;
        let mut seed = 0x2545_F491u32;
        let mut split_ok = 0;
        for _ in 0..300 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let mut m = jpeg.clone();
            let at = data_start + (seed as usize >> 8) % (jpeg.len() - data_start - 2);
            m[at] ^= 1 << (seed % 8);
            let Some(parts) = split(&m, 0.5) else {
                continue;
            };
            let decode = |j: &[u8]| {
                let mut d = turbojpeg::Decompressor::new().unwrap();
                d.set_fast_upsample(true).unwrap();
                let h = d.read_header(j).ok()?;
                let mut px = vec![0u8; h.width * h.height * 3];
                d.decompress(
                    j,
                    turbojpeg::Image {
                        pixels: &mut px[..],
                        width: h.width,
                        pitch: h.width * 3,
                        height: h.height,
                        format: turbojpeg::PixelFormat::RGB,
                    },
                )
                .ok()?;
                Some(px)
            };
            if let (Some(top), Some(bottom)) = (decode(&parts.top), decode(&parts.bottom)) {
                split_ok += 1;
                let whole = decode(&m).expect("the parts decoded, so must the whole");
                assert!([top, bottom].concat() == whole, "flip at {at}");
            }
        }
        // Most single-bit flips still decode (into a different picture): 206 of 300.
        assert!(split_ok > 10, "{split_ok}");
    }

    #[test]
    fn declines_what_it_does_not_handle() {
        let jpeg = sample(64, 48, Some(turbojpeg::Subsamp::Sub2x2), false);
        // Too few MCU rows to split.
        let tiny = sample(16, 16, Some(turbojpeg::Subsamp::Sub2x2), false);
        assert!(split(&tiny, 0.5).is_none());
        // Cut short: the skim runs out of data or finds no EOI.
        assert!(split(&jpeg[..jpeg.len() / 2], 0.5).is_none());
        // A restart interval.
        let mut dri = jpeg[..2].to_vec();
        dri.extend_from_slice(&[0xFF, 0xDD, 0, 4, 0, 1]);
        dri.extend_from_slice(&jpeg[2..]);
        assert!(split(&dri, 0.5).is_none());
        // Separate scans per component (jpeg-encoder writes subsampled pictures so).
        let mut sep = Vec::new();
        let mut e = jpeg_encoder::Encoder::new(&mut sep, 90);
        e.set_sampling_factor(jpeg_encoder::SamplingFactor::F_2_2);
        e.encode(&noise(64, 48, 3), 64, 48, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        assert!(split(&sep, 0.5).is_none());
        // Progressive.
        let mut c = turbojpeg::Compressor::new().unwrap();
        c.set_progressive(true).unwrap();
        let img = turbojpeg::Image::mandelbrot(64, 64, turbojpeg::PixelFormat::RGB);
        let prog = c.compress_to_vec(img.as_deref()).unwrap();
        assert!(split(&prog, 0.5).is_none());
    }
}
