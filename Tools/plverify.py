#!/usr/bin/env python3
"""plverify: an independent verifier for PackLedger ledgers (on-disk format version 1).

This program was written from Schema/FORMAT.md alone (with Schema/ledger.sql, README.md,
PRODUCT.md and DOMAIN.md for context), without reading the Swift sources, to show that the
specification is complete enough for a regulator to re-implement `packledger verify`.

    python3 Tools/plverify.py ledger PATH.db [--json]

It implements FORMAT.md §6 "Verifying a ledger" with the registry rules of §5 and the pack
lifecycle rules of §7. On success it prints `OK: <n> entries, root <base64>` (the RFC 6962
Merkle root over all entry hashes) and exits 0; on the first fault it prints
`FAIL: entry <seq>: <reason>` and exits 1; usage errors and unreadable files exit 2. With
--json it prints {"ok": true, "entries": n, "root": ..., "origin": ...} or
{"ok": false, "entry": seq, "reason": ...} instead. As FORMAT.md §1 says, only the `entries`
table is read; the projections (events, packs, parties, keys) are ignored. Not implemented:
the checks that §9 (added to FORMAT.md later) gives `packledger verify` on the `tree` and
`checkpoints` tables, and `--trusted CHECKPOINT`.

Dependencies: the Python 3.11 standard library and `cryptography` (Ed25519). RFC 8785 (JCS)
canonicalization is implemented here.

Where FORMAT.md is silent or ambiguous, this verifier follows what the reference `packledger`
was observed to do (black-box, through its CLI) and marks the place "Interpretation":
  * "characters" (1-200 chars etc.) are extended grapheme clusters, approximated here;
  * the year range 1970-2200 applies to the year as written, and also to record times `T`;
    all times must be real calendar times (no Feb 30, no second 60, offsets up to 23:59);
  * base64 must be canonical (re-encoding gives the same text);
  * entry 0 gets only the ledger.init rule of §6 step 7 (no 300-second rule);
  * `authorized_from` / `authorized_until` may also be bare YYYY-MM-DD dates (midnight UTC),
    and each may be given alone;
  * `replaced_modules` is a list of 1-1000 distinct ids with pack-id syntax;
  * `recovered_kg` names match [a-z0-9][a-z0-9._-]{0,31};
  * `materials_kg` / `recovered_kg` totals are exact sums of the double values (the
    reference adds them in hash-map order, so its own result can vary from run to run);
  * a registry event's `note` is a member of `data`;
  * the storage class of a column (BLOB or TEXT) does not matter, only its bytes;
  * `application_id` is 0x504B4C47 (FORMAT.md §1's decimal 1347111751 is a typo).

A later `bundle FILE --trust VKEY` subcommand can reuse Fault, the JCS and time helpers,
parse_entry, check_event_envelope, State and the per-kind rule functions.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import math
import re
import sqlite3
import sys
import unicodedata
import urllib.parse
from dataclasses import dataclass, field
from fractions import Fraction

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

# ---------------------------------------------------------------------------------------------
# Constants from FORMAT.md

APPLICATION_ID = 0x504B4C47  # "PKLG" (§1 gives the decimal 1347111751, which is not this value)
USER_VERSION = 1
ENTRY_MAGIC = "packledger/entry/v1"
SIGN_PREFIX = b"packledger/event/v1\n"
ZERO_HASH = bytes(32)
MAX_FUTURE_NS = 300 * 10**9  # §6 step 11
NS = 10**9

PACK_KINDS = ("produced", "sold", "installed", "serviced", "removed", "assessed", "reused",
              "repurposed", "collected", "transferred", "intake", "recovered")
REGISTRY_KINDS = ("ledger.init", "party.registered", "party.key-added", "party.key-revoked")
ROLES = frozenset({"manufacturer", "oem", "distributor", "service", "dismantler", "collector",
                   "repurposer", "recycler", "regulator"})
TERMINAL = frozenset({"recycled", "repurposed"})
NON_TERMINAL = frozenset({"new", "in-service", "removed", "waste", "at-recycler"})

CATEGORIES = frozenset({"portable", "lmt", "sli", "industrial", "ev"})
CHEMISTRIES = frozenset({"lfp", "nmc", "nca", "lmo", "lto", "lmfp", "sodium-ion", "lead-acid",
                         "nimh", "other"})
MATERIALS = frozenset({"li", "co", "ni", "cu", "pb", "mn", "al", "graphite"})
SHARE_MATERIALS = frozenset({"co", "li", "ni", "pb"})
REASONS = frozenset({"end-of-life", "swap", "repair", "vehicle-scrapped"})
GRADES = frozenset({"reuse", "repurpose", "recycle"})

UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
PARTY_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
PACK_RE = re.compile(r"[A-Za-z0-9:._/-]{1,64}")
MARKET_RE = re.compile(r"[A-Z]{2}")
VIN_RE = re.compile(r"[0-9A-HJ-NPR-Z]{17}")
HEX16_RE = re.compile(r"[0-9a-f]{16}")
HEX64_RE = re.compile(r"[0-9a-f]{64}")
SEQ_RE = re.compile(r"0|[1-9][0-9]*")
MATERIAL_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")  # observed, not in FORMAT.md
AT_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
                   r"(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})")
DATE_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
RECORD_TIME_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
                            r"\.([0-9]{6})Z")


class Fault(Exception):
    """A verification fault; the message is the reason printed after `FAIL: entry N: `."""


# ---------------------------------------------------------------------------------------------
# Strict JSON and RFC 8785 canonicalization


def _json_number(text: str) -> float:
    """Every JSON number, with or without a fraction, denotes the nearest IEEE 754 double.

    JCS serializes that double, so `75` and `75.0` both denote 75.0, whose canonical form is
    `75`; the byte comparison with the re-serialization then rejects `75.0`. Keeping integers
    as Python ints would wrongly accept e.g. 12345678901234567890 (canonical:
    12345678901234567000).
    """
    value = float(text)
    if not math.isfinite(value):
        raise Fault(f"number {text[:40]} is not a finite double")
    return value


def _json_constant(name: str):
    raise Fault(f"{name} is not JSON")


def _json_object(pairs):
    obj = {}
    for key, value in pairs:
        if key in obj:
            raise Fault(f"duplicate member name {key!r}")
        obj[key] = value
    return obj


def parse_json_strict(raw: bytes):
    """Parse UTF-8 JSON; numbers become floats, duplicates/NaN/non-finite numbers are faults."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Fault(f"event bytes are not valid UTF-8 ({exc.reason} at byte {exc.start})")
    try:
        return json.loads(text, object_pairs_hook=_json_object, parse_float=_json_number,
                          parse_int=_json_number, parse_constant=_json_constant)
    except json.JSONDecodeError as exc:
        raise Fault(f"event bytes are not valid JSON: {exc.msg} (offset {exc.pos})")
    except RecursionError:
        raise Fault("event JSON is nested too deeply")


def jcs_number(x: float) -> str:
    """ECMAScript Number.prototype.toString for a finite double (RFC 8785 §3.2.2.3)."""
    if x == 0:
        return "0"  # also -0
    if x < 0:
        return "-" + jcs_number(-x)
    mantissa, _, exp = repr(x).partition("e")  # repr gives the shortest round-trip digits
    int_part, _, frac_part = mantissa.partition(".")
    digits = int_part + frac_part
    n = len(int_part) + (int(exp) if exp else 0)  # value = 0.digits * 10^n
    stripped = digits.lstrip("0")
    n -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    e = n - 1
    sign = "+" if e >= 0 else "-"
    head = digits[0] + ("." + digits[1:] if k > 1 else "")
    return f"{head}e{sign}{abs(e)}"


_JCS_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
                "\t": "\\t"}
_JCS_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\]')


def _jcs_escape(m: re.Match) -> str:
    ch = m.group()
    return _JCS_ESCAPES.get(ch) or f"\\u{ord(ch):04x}"


def jcs_string(s: str) -> str:
    """RFC 8785 §3.2.2.2: escape only `"`, `\\` and U+0000-U+001F (short forms where JSON has
    them, else \\u00xx in lowercase hex); everything else is written as is."""
    return '"' + _JCS_NEEDS_ESCAPE.sub(_jcs_escape, s) + '"'


def jcs(value) -> str:
    """RFC 8785 serialization of a parsed JSON value (members sorted by UTF-16 code units)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):  # bool was handled above
        return jcs_number(float(value))
    if isinstance(value, str):
        return jcs_string(value)
    if isinstance(value, list):
        return "[" + ",".join(jcs(v) for v in value) + "]"
    if isinstance(value, dict):
        names = sorted(value, key=lambda name: name.encode("utf-16-be", "surrogatepass"))
        return "{" + ",".join(jcs_string(n) + ":" + jcs(value[n]) for n in names) + "}"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def jcs_bytes(value) -> bytes:
    try:
        return jcs(value).encode("utf-8")
    except UnicodeEncodeError:
        raise Fault("event JSON contains a lone surrogate (not valid Unicode)")


# ---------------------------------------------------------------------------------------------
# Small codecs


def days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 in the proleptic Gregorian calendar."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _days_in_month(y: int, m: int) -> int:
    if m == 2:
        return 29 if (y % 4 == 0 and y % 100 != 0) or y % 400 == 0 else 28
    return 30 if m in (4, 6, 9, 11) else 31


def _civil_ns(y, mo, d, h, mi, s, frac, what) -> int:
    if not (1 <= mo <= 12 and 1 <= d <= _days_in_month(y, mo)):
        raise Fault(f"{what}: no such date")
    if h > 23 or mi > 59 or s > 59:
        raise Fault(f"{what}: no such time of day")
    seconds = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s
    return seconds * NS + int((frac or "0").ljust(9, "0"))


def parse_instant(value, what: str) -> int:
    """An `at`-syntax time (§2) as nanoseconds since the Unix epoch."""
    if not isinstance(value, str):
        raise Fault(f"{what} must be a string")
    m = AT_RE.fullmatch(value)
    if not m:
        raise Fault(f"{what} {value!r} is not an RFC 3339 time of the §2 form")
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    if not 1970 <= y <= 2200:
        raise Fault(f"{what} {value!r}: year outside 1970-2200")
    ns = _civil_ns(y, mo, d, h, mi, s, m.group(7), f"{what} {value!r}")
    zone = m.group(8)
    if zone != "Z":
        oh, om = int(zone[1:3]), int(zone[4:6])
        if oh > 23 or om > 59:
            raise Fault(f"{what} {value!r}: bad UTC offset")
        offset = (oh * 3600 + om * 60) * NS
        ns -= offset if zone[0] == "+" else -offset
    return ns


def parse_instant_or_date(value, what: str) -> int:
    """An `at`-syntax time, or a bare YYYY-MM-DD date meaning 00:00:00Z of that day.

    Interpretation: FORMAT.md §5 says times in `data` use the `at` syntax, but the reference
    accepts bare dates in `authorized_from` / `authorized_until` (compared as midnight UTC).
    """
    m = DATE_RE.fullmatch(value) if isinstance(value, str) else None
    if m is None:
        return parse_instant(value, what)
    y, mo, d = (int(g) for g in m.groups())
    if not 1970 <= y <= 2200:
        raise Fault(f"{what} {value!r}: year outside 1970-2200")
    return _civil_ns(y, mo, d, 0, 0, 0, None, f"{what} {value!r}")


def parse_record_time(value: str) -> int:
    """The header's `time` (§3). Interpretation: the §2 year range 1970-2200 applies too."""
    m = RECORD_TIME_RE.fullmatch(value)
    if not m:
        raise Fault(f"record time {value!r} is not YYYY-MM-DDTHH:MM:SS.ffffffZ")
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    if not 1970 <= y <= 2200:
        raise Fault(f"record time {value!r}: year outside 1970-2200")
    return _civil_ns(y, mo, d, h, mi, s, m.group(7), f"record time {value!r}")


def decode_b64(value, length: int, what: str) -> bytes:
    """Standard padded base64 of exactly `length` bytes, in canonical form."""
    if not isinstance(value, str) or not value.isascii():
        raise Fault(f"{what} must be a base64 string")
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        raise Fault(f"{what} is not valid base64")
    if len(raw) != length:
        raise Fault(f"{what} must encode {length} bytes, not {len(raw)}")
    if base64.b64encode(raw).decode("ascii") != value:
        raise Fault(f"{what} is not canonical base64")
    return raw


def key_id_of(public_key: bytes) -> str:
    return hashlib.sha256(public_key).digest()[:8].hex()


def leaf_hash(entry_bytes: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + entry_bytes).digest()


def merkle_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 / RFC 9162 Merkle tree hash over already-hashed leaves."""
    if not leaves:
        return hashlib.sha256(b"").digest()

    def mth(lo: int, hi: int) -> bytes:
        if hi - lo == 1:
            return leaves[lo]
        k = 1 << ((hi - lo - 1).bit_length() - 1)  # largest power of two below n
        return hashlib.sha256(b"\x01" + mth(lo, lo + k) + mth(lo + k, hi)).digest()

    return mth(0, len(leaves))


_HANGUL_L = ((0x1100, 0x115F), (0xA960, 0xA97C))
_HANGUL_V = ((0x1160, 0x11A7), (0xD7B0, 0xD7C6))
_HANGUL_T = ((0x11A8, 0x11FF), (0xD7CB, 0xD7FB))
_PREPEND = frozenset([*range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2, 0x110BD,
                      0x110CD])
_PICTOGRAPHIC = ((0x00A9, 0x00A9), (0x00AE, 0x00AE), (0x203C, 0x203C), (0x2049, 0x2049),
                 (0x2122, 0x2122), (0x2139, 0x2139), (0x2194, 0x21AA), (0x231A, 0x23FF),
                 (0x24C2, 0x24C2), (0x25AA, 0x25FE), (0x2600, 0x27BF), (0x2934, 0x2935),
                 (0x2B05, 0x2B55), (0x3030, 0x3030), (0x303D, 0x303D), (0x3297, 0x3299),
                 (0x1F000, 0x1F0FF), (0x1F10D, 0x1F1AD), (0x1F201, 0x1F2FF),
                 (0x1F300, 0x1F3FA), (0x1F400, 0x1FAFF), (0x1FC00, 0x1FFFD))


_INCB_LINKERS = frozenset({0x094D, 0x09CD, 0x0ACD, 0x0B4D, 0x0C4D, 0x0D4D})
_INCB_CONSONANTS = ((0x0915, 0x0939), (0x0958, 0x095F), (0x0978, 0x097F), (0x0995, 0x09A8),
                    (0x09AA, 0x09B0), (0x09B2, 0x09B2), (0x09B6, 0x09B9), (0x09DC, 0x09DD),
                    (0x09DF, 0x09DF), (0x09F0, 0x09F1), (0x0A95, 0x0AA8), (0x0AAA, 0x0AB0),
                    (0x0AB2, 0x0AB3), (0x0AB5, 0x0AB9), (0x0AF9, 0x0AF9), (0x0B15, 0x0B28),
                    (0x0B2A, 0x0B30), (0x0B32, 0x0B33), (0x0B35, 0x0B39), (0x0B5C, 0x0B5D),
                    (0x0B5F, 0x0B5F), (0x0B71, 0x0B71), (0x0C15, 0x0C28), (0x0C2A, 0x0C39),
                    (0x0C58, 0x0C5A), (0x0D15, 0x0D3A))


def _in(cp: int, ranges) -> bool:
    return any(lo <= cp <= hi for lo, hi in ranges)


def _grapheme_class(ch: str) -> str:
    cp = ord(ch)
    if ch == "\r":
        return "CR"
    if ch == "\n":
        return "LF"
    if cp == 0x200D:
        return "ZWJ"
    if 0x1F1E6 <= cp <= 0x1F1FF:
        return "RI"
    if cp in _PREPEND:
        return "Prepend"
    if 0xAC00 <= cp <= 0xD7A3:
        return "LV" if (cp - 0xAC00) % 28 == 0 else "LVT"
    if _in(cp, _HANGUL_L):
        return "L"
    if _in(cp, _HANGUL_V):
        return "V"
    if _in(cp, _HANGUL_T):
        return "T"
    cat = unicodedata.category(ch)
    if (cat in ("Mn", "Me") or cp == 0x200C or 0xE0020 <= cp <= 0xE007F
            or 0x1F3FB <= cp <= 0x1F3FF or 0xFF9E <= cp <= 0xFF9F):
        return "Extend"
    if cat == "Mc":
        return "SpacingMark"
    if cat in ("Cc", "Zl", "Zp", "Cf", "Cs"):
        return "Control"
    if _in(cp, _PICTOGRAPHIC):
        return "ExtPict"
    return "Other"


def nchars(s: str) -> int:
    """The number of characters of a string, as the reference implementation counts them.

    Interpretation: FORMAT.md says "characters" without defining them. The reference
    implementation (observed with the CLI) counts extended grapheme clusters, so
    "e\u0301" x 150 (300 code points) is accepted as 150 characters. This is an
    approximation of UAX #29 (Unicode 15.1, including the Indic conjunct rule GB9c) built
    from `unicodedata`; exact for ASCII and ordinary text.
    """
    if s.isascii():
        return len(s) - s.count("\r\n")
    count = 0
    prev = None
    pict_zwj = False  # inside ExtPict Extend* ZWJ (GB11)
    in_pict = False
    ri_run = 0
    conjunct = 0  # GB9c: 1 after an InCB consonant, 2 once a linker followed it
    for ch in s:
        cls = _grapheme_class(ch)
        consonant = _in(ord(ch), _INCB_CONSONANTS)
        if prev is None:
            brk = True
        elif prev == "CR" and cls == "LF":
            brk = False
        elif prev in ("Control", "CR", "LF") or cls in ("Control", "CR", "LF"):
            brk = True
        elif prev == "L" and cls in ("L", "V", "LV", "LVT"):
            brk = False
        elif prev in ("LV", "V") and cls in ("V", "T"):
            brk = False
        elif prev in ("LVT", "T") and cls == "T":
            brk = False
        elif cls in ("Extend", "ZWJ", "SpacingMark") or prev == "Prepend":
            brk = False
        elif cls == "ExtPict" and pict_zwj:
            brk = False
        elif consonant and conjunct == 2:
            brk = False
        elif prev == "RI" and cls == "RI":
            brk = ri_run % 2 == 0
        else:
            brk = True
        count += brk
        ri_run = ri_run + 1 if cls == "RI" else 0
        if consonant:
            conjunct = 1
        elif conjunct and ord(ch) in _INCB_LINKERS:
            conjunct = 2
        elif not (conjunct and cls in ("Extend", "ZWJ")):
            conjunct = 0
        pict_zwj = in_pict and cls == "ZWJ"
        in_pict = cls == "ExtPict" or (in_pict and cls == "Extend")
        prev = cls
    return count


# ---------------------------------------------------------------------------------------------
# Entries (§3) and events (§2)


@dataclass(frozen=True)
class Entry:
    seq: int
    time: str
    time_ns: int
    prev: bytes
    key_id: str
    sig: bytes
    event_bytes: bytes


def parse_entry(raw: bytes) -> Entry:
    """Parse entry bytes exactly as §3 lays them out."""
    parts = raw.split(b"\n", 7)
    if len(parts) != 8:
        raise Fault("entry bytes do not have six header lines, an empty line and an event")
    try:
        lines = [p.decode("ascii") for p in parts[:7]]
    except UnicodeDecodeError:
        raise Fault("entry header is not ASCII")
    if lines[0] != ENTRY_MAGIC:
        raise Fault(f"first line is not {ENTRY_MAGIC!r}")
    values = []
    for line, name in zip(lines[1:6], ("seq", "time", "prev", "key", "sig")):
        label, sep, value = line.partition(" ")
        if label != name or not sep:
            raise Fault(f"header line {line[:40]!r} is not `{name} <value>`")
        values.append(value)
    if lines[6] != "":
        raise Fault("header is not followed by an empty line")
    seq_s, time_s, prev_s, key_s, sig_s = values
    if not SEQ_RE.fullmatch(seq_s):
        raise Fault(f"header seq {seq_s[:30]!r} is not a decimal without leading zeros")
    time_ns = parse_record_time(time_s)
    if not HEX64_RE.fullmatch(prev_s):
        raise Fault("header prev is not 64 lowercase hex digits")
    if not HEX16_RE.fullmatch(key_s):
        raise Fault("header key is not 16 lowercase hex digits")
    sig = decode_b64(sig_s, 64, "header sig")
    event = parts[7]
    if not event:
        raise Fault("entry has no event bytes")
    if event.endswith(b"\n"):
        raise Fault("entry ends with a line feed")
    return Entry(int(seq_s), time_s, time_ns, bytes.fromhex(prev_s), key_s, sig, event)


@dataclass(frozen=True)
class Event:
    event_id: str
    kind: str
    actor: str
    at: str
    at_ns: int
    subject: str  # `pack` for pack kinds, `party` for registry kinds
    data: dict
    raw: bytes


def check_event_envelope(raw: bytes) -> Event:
    """§6 step 5: strict JSON, JCS-canonical, and the member rules of §2."""
    obj = parse_json_strict(raw)
    if jcs_bytes(obj) != raw:
        raise Fault("event bytes are not JCS-canonical (RFC 8785)")
    if not isinstance(obj, dict):
        raise Fault("event is not a JSON object")
    kind = obj.get("kind")
    if kind in PACK_KINDS:
        subject_name = "pack"
    elif kind in REGISTRY_KINDS:
        subject_name = "party"
    else:
        raise Fault(f"unknown event kind {kind!r}")
    expected = {"event_id", "kind", "actor", "at", "data", subject_name}
    if set(obj) != expected:
        extra, missing = sorted(set(obj) - expected), sorted(expected - set(obj))
        raise Fault(f"{kind} event members: unexpected {extra}, missing {missing}")
    event_id, actor, subject, data = obj["event_id"], obj["actor"], obj[subject_name], obj["data"]
    if not isinstance(event_id, str) or not UUID_RE.fullmatch(event_id):
        raise Fault(f"event_id {event_id!r} is not a UUID")
    if not isinstance(actor, str) or not PARTY_RE.fullmatch(actor):
        raise Fault(f"actor {actor!r} is not a party id")
    at_ns = parse_instant(obj["at"], "at")
    if subject_name == "pack":
        if not isinstance(subject, str) or not PACK_RE.fullmatch(subject):
            raise Fault(f"pack {subject!r} is not a pack id")
    elif not isinstance(subject, str) or not PARTY_RE.fullmatch(subject):
        raise Fault(f"party {subject!r} is not a party id")
    if not isinstance(data, dict):
        raise Fault("data is not an object")
    return Event(event_id, kind, actor, obj["at"], at_ns, subject, data, raw)


# ---------------------------------------------------------------------------------------------
# Replayed state


@dataclass
class Key:
    key_id: str
    party: str  # "operator" for the operator key
    public: Ed25519PublicKey
    valid_from: int
    valid_until: int | None = None

    def valid_at(self, t: int) -> bool:
        return self.valid_from <= t and (self.valid_until is None or t < self.valid_until)


@dataclass
class Party:
    roles: frozenset
    keys: set = field(default_factory=set)


@dataclass
class Pack:
    status: str
    custodian: str
    producer: str
    last_at: int
    into: str | None = None


@dataclass
class State:
    """Everything §6 keeps while replaying: registry, packs and seen event ids."""
    origin: str | None = None
    parties: dict = field(default_factory=dict)   # party id -> Party
    keys: dict = field(default_factory=dict)      # key id -> Key
    packs: dict = field(default_factory=dict)     # pack id -> Pack
    seen_ids: set = field(default_factory=set)    # lowercased event ids


# ---------------------------------------------------------------------------------------------
# `data` field checkers


ABSENT = object()  # an optional `data` member that is not there (JSON null is not absent)


class Data:
    """Typed access to an event's `data`; `done()` rejects members nobody asked for."""

    def __init__(self, data: dict):
        self.data = data
        self.used = {"note"}
        if "note" in data:
            self.text("note", 2000)

    def has(self, name: str) -> bool:
        self.used.add(name)
        return name in self.data

    def get(self, name: str, required: bool):
        """The member's value; ABSENT for a missing optional member."""
        self.used.add(name)
        if name not in self.data:
            if required:
                raise Fault(f"data.{name} is required")
            return ABSENT
        return self.data[name]

    def text(self, name: str, max_len: int = 200, required: bool = True):
        v = self.get(name, required)
        if v is ABSENT:
            return None
        if not isinstance(v, str) or not 1 <= nchars(v) <= max_len:
            raise Fault(f"data.{name} must be a string of 1-{max_len} characters")
        return v

    def enum(self, name: str, allowed, required: bool = True):
        v = self.get(name, required)
        if v is ABSENT:
            return None
        if not isinstance(v, str) or v not in allowed:
            raise Fault(f"data.{name} {v!r} is not one of {sorted(allowed)}")
        return v

    def match(self, name: str, pattern: re.Pattern, what: str, required: bool = True):
        v = self.get(name, required)
        if v is ABSENT:
            return None
        if not isinstance(v, str) or not pattern.fullmatch(v):
            raise Fault(f"data.{name} {v!r} is not {what}")
        return v

    def number(self, name: str, lo: float, hi: float, lo_open: bool = False,
               required: bool = True):
        v = self.get(name, required)
        if v is ABSENT:
            return None
        check_number(v, lo, hi, lo_open, f"data.{name}")
        return v

    def instant(self, name: str, required: bool = True, date_ok: bool = False):
        v = self.get(name, required)
        if v is ABSENT:
            return None
        return (parse_instant_or_date if date_ok else parse_instant)(v, f"data.{name}")

    def done(self):
        extra = sorted(set(self.data) - self.used)
        if extra:
            raise Fault(f"unknown data member {extra[0]!r}")


def check_number(v, lo: float, hi: float, lo_open: bool, what: str):
    if not isinstance(v, float):
        raise Fault(f"{what} must be a number")
    if (v <= lo if lo_open else v < lo) or v > hi:
        raise Fault(f"{what} {jcs_number(v)} outside {'(' if lo_open else '['}"
                    f"{jcs_number(lo)}, {jcs_number(hi)}]")


def check_amounts(obj, names, limit: float, what: str, limit_name: str):
    """An object of material -> kg, each in [0, limit] and summing to at most limit.

    Interpretation: the sum is the exact sum of the double values (order-independent);
    see the module docstring.
    """
    if not isinstance(obj, dict):
        raise Fault(f"{what} must be an object")
    total = Fraction(0)
    for name, value in obj.items():
        if names is not None and name not in names:
            raise Fault(f"{what}.{name} is not one of {sorted(names)}")
        if names is None and not MATERIAL_RE.fullmatch(name):
            raise Fault(f"{what}: {name[:40]!r} is not a material name")
        check_number(value, 0.0, limit, False, f"{what}.{name}")
        total += Fraction(value)
    if total > Fraction(limit):
        raise Fault(f"{what} adds up to more than {limit_name}")


# ---------------------------------------------------------------------------------------------
# §5 registry rules. Each function checks one event and, when it passes, updates the state.


def apply_ledger_init(state: State, entry: Entry, ev: Event):
    if ev.kind != "ledger.init":
        raise Fault(f"entry 0 must be ledger.init, not {ev.kind}")
    if ev.actor != "operator" or ev.subject != "operator":
        raise Fault("ledger.init must have actor and party `operator`")
    d = Data(ev.data)
    origin = d.text("origin", 255)
    if not all("!" <= c <= "~" and c != "+" for c in origin):
        raise Fault("data.origin must be printable ASCII without space or `+`")
    public = decode_b64(d.get("operator_key", True), 32, "data.operator_key")
    d.done()
    kid = key_id_of(public)
    if entry.key_id != kid:
        raise Fault(f"ledger.init is signed with key {entry.key_id}, not operator_key {kid}")
    key = Key(kid, "operator", Ed25519PublicKey.from_public_bytes(public), 0)
    check_signature(key, entry)
    state.origin = origin
    state.keys[kid] = key


def _new_key(state: State, d: Data, name: str) -> tuple[str, Ed25519PublicKey]:
    public = decode_b64(d.get(name, True), 32, f"data.{name}")
    kid = key_id_of(public)
    if kid in state.keys:
        raise Fault(f"key {kid} is already registered")
    try:
        return kid, Ed25519PublicKey.from_public_bytes(public)
    except ValueError:
        raise Fault(f"data.{name} is not an Ed25519 public key")


def _registered_party(state: State, ev: Event) -> Party:
    party = state.parties.get(ev.subject)
    if party is None:
        raise Fault(f"party {ev.subject!r} is not registered")
    return party


def apply_party_registered(state: State, ev: Event):
    if ev.subject == "operator" or ev.subject in state.parties:
        raise Fault(f"party {ev.subject!r} cannot be registered again")
    d = Data(ev.data)
    d.text("name", 200)
    roles = d.get("roles", True)
    if (not isinstance(roles, list) or not roles or len(set(map(str, roles))) != len(roles)
            or not all(isinstance(r, str) and r in ROLES for r in roles)):
        raise Fault("data.roles must be a non-empty list of distinct known roles")
    kid, public = _new_key(state, d, "key")
    valid_from = d.instant("key_valid_from", required=False)
    auth_from = d.instant("authorized_from", required=False, date_ok=True)
    auth_until = d.instant("authorized_until", required=False, date_ok=True)
    if auth_from is not None and auth_until is not None and auth_until <= auth_from:
        raise Fault("data.authorized_until must be after authorized_from")
    d.done()
    state.parties[ev.subject] = Party(frozenset(roles), {kid})
    state.keys[kid] = Key(kid, ev.subject, public, ev.at_ns if valid_from is None else valid_from)


def apply_key_added(state: State, ev: Event):
    party = _registered_party(state, ev)
    d = Data(ev.data)
    kid, public = _new_key(state, d, "key")
    valid_from = d.instant("valid_from", required=False)
    d.done()
    party.keys.add(kid)
    state.keys[kid] = Key(kid, ev.subject, public, ev.at_ns if valid_from is None else valid_from)


def apply_key_revoked(state: State, ev: Event):
    party = _registered_party(state, ev)
    d = Data(ev.data)
    kid = d.match("key_id", HEX16_RE, "a key id (16 lowercase hex digits)")
    valid_until = d.instant("valid_until", required=False)
    d.done()
    if kid not in party.keys:
        raise Fault(f"key {kid} is not a key of {ev.subject}")
    key = state.keys[kid]
    if key.valid_until is not None:
        raise Fault(f"key {kid} is already revoked")
    until = ev.at_ns if valid_until is None else valid_until
    if until < key.valid_from:
        raise Fault(f"revocation time is before key {kid}'s valid_from")
    key.valid_until = until


REGISTRY_RULES = {
    "party.registered": apply_party_registered,
    "party.key-added": apply_key_added,
    "party.key-revoked": apply_key_revoked,
}


# ---------------------------------------------------------------------------------------------
# §7 pack lifecycle rules: (roles or None for "any", from statuses, to status or None)

LIFECYCLE = {
    "produced": ({"manufacturer", "repurposer"}, None, "new"),
    "sold": ({"manufacturer", "oem", "distributor"}, {"new"}, "new"),
    "installed": ({"oem", "service", "repurposer"}, {"new"}, "in-service"),
    "serviced": ({"oem", "service"}, {"in-service"}, "in-service"),
    "removed": ({"oem", "service", "dismantler"}, {"in-service"}, "removed"),
    "assessed": ({"service", "dismantler", "repurposer", "recycler"},
                 {"new", "removed", "waste"}, None),
    "reused": ({"service", "repurposer"}, {"removed"}, "new"),
    "repurposed": ({"repurposer"}, {"removed", "waste"}, "repurposed"),
    "collected": ({"collector", "dismantler", "oem", "service", "recycler"},
                  {"removed", "in-service"}, "waste"),
    "transferred": (None, NON_TERMINAL, None),
    "intake": ({"recycler"}, {"waste", "removed"}, "at-recycler"),
    "recovered": ({"recycler"}, {"at-recycler"}, "recycled"),
}
TAKES_CUSTODY = frozenset({"produced", "installed", "removed", "collected", "intake"})


def check_produced_data(state: State, ev: Event, d: Data, actor_roles) -> dict:
    d.enum("category", CATEGORIES)
    d.enum("chemistry", CHEMISTRIES)
    mass = d.number("mass_kg", 0.0, 50000.0, lo_open=True)
    d.number("energy_kwh", 0.0, 50000.0)
    if d.has("materials_kg"):
        check_amounts(d.data["materials_kg"], MATERIALS, mass, "data.materials_kg", "mass_kg")
    if d.has("recycled_share"):
        shares = d.data["recycled_share"]
        if not isinstance(shares, dict):
            raise Fault("data.recycled_share must be an object")
        for name, v in shares.items():
            if name not in SHARE_MATERIALS:
                raise Fault(f"data.recycled_share.{name} is not one of {sorted(SHARE_MATERIALS)}")
            check_number(v, 0.0, 1.0, False, f"data.recycled_share.{name}")
    d.text("plant", required=False)
    d.text("model", required=False)
    producer = d.match("producer", PARTY_RE, "a party id", required=False)
    if producer is not None and producer not in state.parties:
        raise Fault(f"data.producer {producer!r} is not a registered party")
    derived = d.get("derived_from", False)
    if derived is not ABSENT:
        if (not isinstance(derived, list) or not 1 <= len(derived) <= 256
                or not all(isinstance(p, str) and PACK_RE.fullmatch(p) for p in derived)
                or len(set(derived)) != len(derived)):
            raise Fault("data.derived_from must be 1-256 distinct pack ids")
        for source in derived:
            pack = state.packs.get(source)
            if pack is None or pack.status != "repurposed" or pack.into != ev.subject:
                raise Fault(f"derived_from pack {source!r} was not repurposed into {ev.subject}")
    elif "manufacturer" not in actor_roles:
        raise Fault("a repurposer without the manufacturer role must give derived_from")
    return {"producer": producer or ev.actor}


def check_pack_data(state: State, ev: Event, pack: Pack | None, actor_roles) -> dict:
    """Validate `data` for a pack kind; returns extra effects (producer, into, custodian)."""
    d = Data(ev.data)
    effects: dict = {}
    kind = ev.kind
    if kind == "produced":
        effects = check_produced_data(state, ev, d, actor_roles)
    elif kind == "sold":
        d.match("market", MARKET_RE, "two capital letters")
    elif kind == "installed":
        vin = d.match("vin", VIN_RE, "a 17-character VIN", required=False)
        asset = d.text("asset", required=False)
        if vin is None and asset is None:
            raise Fault("installed needs data.vin or data.asset")
        d.match("market", MARKET_RE, "two capital letters", required=False)
    elif kind == "serviced":
        d.text("work", 2000)
        modules = d.get("replaced_modules", False)
        if modules is not ABSENT and not (
                isinstance(modules, list) and 1 <= len(modules) <= 1000
                and all(isinstance(m, str) and PACK_RE.fullmatch(m) for m in modules)
                and len(set(modules)) == len(modules)):
            raise Fault("data.replaced_modules must be a list of 1-1000 distinct module ids")
    elif kind == "removed":
        d.enum("reason", REASONS)
    elif kind == "assessed":
        d.number("soh_pct", 0.0, 100.0)
        d.enum("grade", GRADES)
    elif kind == "repurposed":
        into = d.match("into", PACK_RE, "a pack id")
        if into == ev.subject or into in state.packs:
            raise Fault(f"data.into {into!r} must be a new pack other than this one")
        effects["into"] = into
    elif kind == "collected":
        d.text("site", required=False)
    elif kind == "transferred":
        to = d.match("to", PARTY_RE, "a party id")
        if to not in state.parties:
            raise Fault(f"data.to {to!r} is not a registered party")
        if to == pack.custodian:
            raise Fault("data.to is already the custodian")
        effects["custodian"] = to
    elif kind == "intake":
        d.number("mass_kg", 0.0, 50000.0, lo_open=True)
    elif kind == "recovered":
        input_kg = d.number("input_kg", 0.0, 50000.0, lo_open=True)
        d.number("recycled_output_kg", 0.0, input_kg)
        check_amounts(d.get("recovered_kg", True), None, input_kg, "data.recovered_kg",
                      "input_kg")
    d.done()
    return effects


def apply_pack_event(state: State, ev: Event):
    """§7: role, from-status, time order, data, then the state change."""
    roles, from_statuses, to_status = LIFECYCLE[ev.kind]
    actor_roles = state.parties[ev.actor].roles
    if roles is not None and not roles & actor_roles:
        raise Fault(f"{ev.actor} holds none of the roles {sorted(roles)} needed for {ev.kind}")
    pack = state.packs.get(ev.subject)
    if ev.kind == "produced":
        if pack is not None:
            raise Fault(f"pack {ev.subject} already exists")
    else:
        if pack is None:
            raise Fault(f"pack {ev.subject} does not exist")
        if pack.status in TERMINAL:
            raise Fault(f"pack {ev.subject} is {pack.status}; nothing may follow")
        if pack.status not in from_statuses:
            raise Fault(f"{ev.kind} is not allowed from status {pack.status}")
        if ev.kind == "transferred" and ev.actor != pack.custodian:
            raise Fault(f"{ev.actor} is not the custodian ({pack.custodian}) of {ev.subject}")
        if ev.at_ns < pack.last_at:
            raise Fault(f"at is earlier than the pack's previous event")
    effects = check_pack_data(state, ev, pack, actor_roles)
    if pack is None:
        state.packs[ev.subject] = Pack("new", ev.actor, effects["producer"], ev.at_ns)
        return
    if to_status is not None:
        pack.status = to_status
    if ev.kind in TAKES_CUSTODY:
        pack.custodian = ev.actor
    if "custodian" in effects:
        pack.custodian = effects["custodian"]
    if "into" in effects:
        pack.into = effects["into"]
    pack.last_at = ev.at_ns


# ---------------------------------------------------------------------------------------------
# §6 ledger verification


def check_signature(key: Key, entry: Entry):
    try:
        key.public.verify(entry.sig, SIGN_PREFIX + entry.event_bytes)
    except InvalidSignature:
        raise Fault(f"signature does not verify under key {key.key_id}")


class LedgerVerifier:
    """Replays the `entries` table row by row (§6)."""

    def __init__(self):
        self.state = State()
        self.expected_seq = 0
        self.prev_hash = ZERO_HASH
        self.prev_time = None
        self.hashes: list[bytes] = []

    def check_row(self, seq, blob, prev_col, hash_col):
        # 1. sequence numbers without gaps
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise Fault("seq column is not an integer")
        if seq > self.expected_seq:
            raise Fault("entry is missing")  # reported under the missing number
        if seq != self.expected_seq:
            raise Fault(f"unexpected sequence number (expected {self.expected_seq})")
        if not isinstance(blob, bytes):
            raise Fault("bytes column holds no bytes")
        # 2. entry bytes
        entry = parse_entry(blob)
        if entry.seq != seq:
            raise Fault(f"header seq {entry.seq} does not match the row")
        # 3. hashes and chain
        h = leaf_hash(blob)
        if hash_col != h:
            raise Fault("hash column does not match the entry hash")
        if prev_col != entry.prev:
            raise Fault("prev_hash column does not match the header's prev")
        if entry.prev != self.prev_hash:
            raise Fault("prev does not match the previous entry's hash")
        # 4. record time monotonic
        if self.prev_time is not None and entry.time_ns < self.prev_time:
            raise Fault("record time is earlier than the previous entry's")
        # 5. the event
        ev = check_event_envelope(entry.event_bytes)
        # 6. duplicates
        eid = ev.event_id.lower()
        if eid in self.state.seen_ids:
            raise Fault(f"duplicate event_id {eid}")
        # 7. entry 0
        if seq == 0:
            apply_ledger_init(self.state, entry, ev)  # and "continue": no step 8-12
        else:
            self.check_event(entry, ev)
        # 13. remember
        self.state.seen_ids.add(eid)
        self.prev_hash = h
        self.prev_time = entry.time_ns
        self.hashes.append(h)
        self.expected_seq += 1

    @staticmethod
    def check_time(entry: Entry, ev: Event):
        if ev.at_ns > entry.time_ns + MAX_FUTURE_NS:
            raise Fault("at is more than 300 seconds after the record time")

    def check_event(self, entry: Entry, ev: Event):
        state = self.state
        if ev.kind == "ledger.init":
            raise Fault("ledger.init is allowed only as entry 0")
        # 8. actor
        if ev.actor != "operator" and ev.actor not in state.parties:
            raise Fault(f"actor {ev.actor!r} is not a registered party")
        # 9. key
        key = state.keys.get(entry.key_id)
        if key is None:
            raise Fault(f"key {entry.key_id} is not registered")
        if key.party != ev.actor:
            raise Fault(f"key {entry.key_id} does not belong to {ev.actor}")
        if not key.valid_at(ev.at_ns):
            raise Fault(f"key {entry.key_id} is not valid at {ev.at}")
        # 10. signature
        check_signature(key, entry)
        # 11. not too far in the future
        self.check_time(entry, ev)
        # 12. registry or lifecycle rules
        if ev.kind in REGISTRY_KINDS:
            if ev.actor != "operator":
                raise Fault(f"{ev.kind} must be stated by the operator")
            REGISTRY_RULES[ev.kind](state, ev)
        else:
            if ev.actor == "operator":
                raise Fault("the operator cannot state pack events")
            apply_pack_event(state, ev)

    def root(self) -> bytes:
        return merkle_root(self.hashes)


class UsageError(Exception):
    pass


def open_ledger(path: str) -> sqlite3.Connection:
    try:
        with open(path, "rb"):
            pass
        con = sqlite3.connect(f"file:{urllib.parse.quote(path)}?mode=ro", uri=True)
        app_id = con.execute("PRAGMA application_id").fetchone()[0]
        version = con.execute("PRAGMA user_version").fetchone()[0]
    except (OSError, sqlite3.Error) as exc:
        raise UsageError(f"cannot read {path}: {exc}")
    if app_id != APPLICATION_ID or version != USER_VERSION:
        con.close()
        raise UsageError(f"{path} is not a PackLedger v1 ledger "
                         f"(application_id {app_id}, user_version {version})")
    return con


def verify_ledger(path: str) -> tuple[LedgerVerifier, int | None, str | None]:
    """Returns (verifier, first bad seq or None, reason or None)."""
    con = open_ledger(path)
    # Interpretation: a column value's SQLite storage class (BLOB or TEXT) does not matter,
    # only its bytes; TEXT is read as raw bytes, never decoded.
    con.text_factory = bytes
    verifier = LedgerVerifier()
    try:
        rows = con.execute("SELECT seq, bytes, prev_hash, hash FROM entries ORDER BY seq")
        for seq, blob, prev_col, hash_col in rows:
            try:
                verifier.check_row(seq, blob, prev_col, hash_col)
            except Fault as fault:
                missing = isinstance(seq, int) and seq > verifier.expected_seq
                return verifier, verifier.expected_seq if missing else seq, str(fault)
    except sqlite3.Error as exc:
        raise UsageError(f"cannot read entries of {path}: {exc}")
    finally:
        con.close()
    if verifier.expected_seq == 0:
        return verifier, 0, "entry is missing (the ledger has no entries)"
    return verifier, None, None


def cmd_ledger(args) -> int:
    verifier, bad, reason = verify_ledger(args.path)
    if bad is not None:
        if args.json:
            print(json.dumps({"ok": False, "entry": bad, "reason": reason}))
        else:
            print(f"FAIL: entry {bad}: {reason}")
        return 1
    n = len(verifier.hashes)
    root = base64.b64encode(verifier.root()).decode("ascii")
    if args.json:
        print(json.dumps({"ok": True, "entries": n, "root": root,
                          "origin": verifier.state.origin}))
    else:
        print(f"OK: {n} entries, root {root}")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="plverify",
                                     description="Independent PackLedger verifier (FORMAT.md v1)")
    sub = parser.add_subparsers(dest="command", required=True)
    p_ledger = sub.add_parser("ledger", help="verify a ledger database (FORMAT.md §6)")
    p_ledger.add_argument("path", help="the ledger's SQLite file")
    p_ledger.add_argument("--json", action="store_true", help="print a JSON object")
    p_ledger.set_defaults(func=cmd_ledger)
    args = parser.parse_args(argv)  # exits 2 on usage errors
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"plverify: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
