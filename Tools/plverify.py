#!/usr/bin/env python3
"""plverify: an independent verifier for PackLedger ledgers, evidence bundles and tlog-proofs.

This program was written from Schema/FORMAT.md alone (with Schema/ledger.sql, README.md,
PRODUCT.md, DOMAIN.md and shared/conformance/VECTORS.md for context), without reading the
Swift sources, to show that the specification is complete enough for a regulator to
re-implement `packledger verify` and `packledger verify-bundle`.

    python3 Tools/plverify.py ledger PATH.db [--trusted CHECKPOINT_FILE] [--json]
    python3 Tools/plverify.py bundle FILE --trust VKEY [--witness VKEY ...] [--min-witnesses K] [--json]
    python3 Tools/plverify.py proof FILE --trust VKEY [--witness VKEY ...] [--min-witnesses K] [--json]

`ledger` implements FORMAT.md §6 "Verifying a ledger" (with the registry rules of §5, the
pack lifecycle rules of §7 and the batch signatures of §13), then the checks §9 gives
`packledger verify`: the stored `tree` (levels 4 and up) must give the replayed root, and every row of `checkpoints` must be a note signed by an operator
key whose origin is the ledger's and whose root is the replayed root at its size (a size above
the ledger's means entries were removed from the end). With --trusted, the given checkpoint
note must be signed by the operator key and the ledger must have the same root at its size.
It prints `OK: <n> entries, root <base64>` (the RFC 6962 root over all entry hashes) and more,
or `FAIL: entry <seq>: <reason>` (`FAIL: checkpoint ...`, `FAIL: tree: ...` for faults that
belong to no entry).

`bundle` implements §11 (evidence bundles), `proof` §10 (c2sp.org/tlog-proof@v1). Both verify
the checkpoint as a C2SP signed note (§9) under the trusted log key, count witness
cosignatures (§12, type 0x04), and check RFC 9162 inclusion proofs. `bundle` then replays
the included entries with the rules of §6 steps 6-13, a batch member's signature being its
`batch_proof` into the manifest's batch tree (§11, §13). They print
`OK: pack <id> is <status>; <n> entries proven against <origin> size <size>; <k> witness(es)`
and `OK: entry <n> is in <origin> at size <size> (<k> witness(es))`.

Exit status: 0 verified, 1 a fault (the message names the entry where there is one), 2 a usage
error or an unreadable file. --json prints one JSON object instead: {"ok": true, ...} or
{"ok": false, "entry": seq or null, "reason": ...}.

Dependencies: the Python 3 standard library and `cryptography` (Ed25519). RFC 8785 (JCS),
C2SP signed notes and the RFC 6962/9162 Merkle proofs are implemented here.

Where FORMAT.md is silent or ambiguous, this verifier takes the reading below, marked
"Interpretation" in the code. Each was compared with the reference `packledger` (black-box,
through its CLI): "same" or "differs".
  * §12: the cosignature message ends with the checkpoint's note *text* (the body lines the
    operator signed), not with the note including its signature lines (same; the demo's real
    cosignatures verify only this way).
  * §12: a note with a second signature line of a known key that fails is rejected (now
    stated in §12; same).
  * §9: a checkpoint body may carry C2SP tlog-checkpoint extension lines after the three lines
    §9 shows; they are signed and otherwise ignored (same).
  * §9: the `size` and `root` columns of `checkpoints` are copies and are not checked; the
    signed note is (same). The stored `tree` is checked through the nodes a root is assembled
    from, the maximal complete subtrees of level 4 and up (same: other rows are not read).
  * §9: a stored or trusted checkpoint larger than the ledger names the first missing entry
    (same); a bad signature or a different root names no entry (the reference names size - 1
    for a different root).
  * §5, §9: the operator keys are the keys held by `operator`: the `ledger.init` key and any
    added for party `operator` (rotation, now stated in §5; same).
  * §2, §5: `party` of a registry event has the party-id syntax of `actor`.
  * All base64 (signature lines, verifier keys, bundle and tlog-proof fields, checkpoint
    roots) must be canonical, padding bits zero, so that no byte can change unnoticed (§11)
    (same: the reference rejects every one-bit flip of the demo bundle and tlog-proof).
  * Signed notes follow golang.org/x/mod/sumdb/note: at most 100 signature lines (same).
  * §11, §12: witnesses are counted once per distinct witness key; --min-witnesses above the
    number of --witness keys is a usage error (same).
  * §10: the `extra` line (optional in C2SP) is required: it carries the entry (same).
  * §11: step 3 is done for every entry before the replay of step 4, as the steps are written;
    a bundle with faults of both kinds names the step-3 one (differs: the reference does both
    steps entry by entry, so it names the first entry with either fault).
  * §3: `M` of a `batch M I` line has no leading zeros, like `N` and `I` (same).
  * §13: a manifest's `data` is exactly `count` and `root`, so no `note` (now stated; same).
  * §11: a bundle's batch member must be entry M+1+I (now stated in §11; same).
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
import urllib.parse
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (Ed25519PrivateKey,
                                                               Ed25519PublicKey)

# ---------------------------------------------------------------------------------------------
# Constants from FORMAT.md

APPLICATION_ID = 1347112007  # §1: 0x504B4C47, "PKLG"
USER_VERSION = 2
ENTRY_MAGIC = "packledger/entry/v1"
SIGN_PREFIX = b"packledger/event/v1\n"
ZERO_HASH = bytes(32)
EMPTY_ROOT = hashlib.sha256(b"").digest()
MAX_FUTURE_NS = 300 * 10**9  # §6 step 11
NS = 10**9

BUNDLE_FORMAT = "packledger-bundle/v1"  # §11
TLOG_PROOF_MAGIC = b"c2sp.org/tlog-proof@v1"  # §10
SIG_LINE_PREFIX = "\u2014 ".encode()  # "— " (U+2014 EM DASH, space), C2SP signed-note
COSIGNATURE_PREFIX = b"cosignature/v1\ntime "  # §12
ALG_ED25519 = 0x01  # C2SP signed-note Ed25519 signature type
ALG_COSIGNATURE = 0x04  # C2SP tlog-cosignature Ed25519 type
MAX_NOTE_SIGNATURES = 100  # as golang.org/x/mod/sumdb/note (C2SP: at least 16)
MAX_PROOF_HASHES = 63
BATCH_KIND = "batch"  # §13 manifest
MAX_BATCH = 20000  # §13: C from 1 to 20000
TREE_MIN_LEVEL = 4  # §9: `tree` stores the complete interior nodes of level 4 and above

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
DECIMAL_RE = re.compile(r"0|[1-9][0-9]*")
MATERIAL_NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,31}")
AT_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
                   r"(?:\.([0-9]{1,9}))?(Z|[+-][0-9]{2}:[0-9]{2})")
RECORD_TIME_RE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})"
                            r"\.([0-9]{6})Z")
KEY_HASH_RE = re.compile(r"[0-9a-fA-F]{8}")
BATCH_LINE_RE = re.compile(r"batch (0|[1-9][0-9]*) (0|[1-9][0-9]*)")


class Fault(Exception):
    """A verification fault. `entry` is the sequence number it belongs to, if any."""

    def __init__(self, reason: str, entry: int | None = None):
        super().__init__(reason)
        self.reason = reason
        self.entry = entry

    def at_entry(self, seq: int) -> "Fault":
        if self.entry is None:
            self.entry = seq
        return self

    def __str__(self) -> str:
        where = f"entry {self.entry}: " if self.entry is not None else ""
        return where + self.reason


class UsageError(Exception):
    """Bad arguments or an unreadable file (exit status 2)."""


# ---------------------------------------------------------------------------------------------
# Strict JSON and RFC 8785 canonicalization (§2)


def _json_number(text: str) -> float:
    """Every JSON number, with or without a fraction, denotes the nearest IEEE 754 double.

    JCS serializes that double, so `75` and `75.0` both denote 75.0, whose canonical form is
    `75`; the byte comparison with the re-serialization then rejects `75.0`.
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


def parse_json_strict(raw: bytes, what: str = "event bytes"):
    """Parse UTF-8 JSON; numbers become floats; duplicates and non-finite numbers are faults."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Fault(f"{what} are not valid UTF-8 ({exc.reason} at byte {exc.start})")
    try:
        return json.loads(text, object_pairs_hook=_json_object, parse_float=_json_number,
                          parse_int=_json_number, parse_constant=_json_constant)
    except json.JSONDecodeError as exc:
        raise Fault(f"{what} are not valid JSON: {exc.msg} (offset {exc.pos})")
    except RecursionError:
        raise Fault(f"{what}: JSON nested too deeply")


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


def utf16_key(name: str) -> bytes:
    """Sort key: a string's UTF-16 code units (big-endian bytes compare the same way)."""
    return name.encode("utf-16-be", "surrogatepass")


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
        names = sorted(value, key=utf16_key)
        return "{" + ",".join(jcs_string(n) + ":" + jcs(value[n]) for n in names) + "}"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def jcs_bytes(value) -> bytes:
    try:
        return jcs(value).encode("utf-8")
    except UnicodeEncodeError:
        raise Fault("JSON contains a lone surrogate (not valid Unicode)")


# ---------------------------------------------------------------------------------------------
# Times (§2, §3)


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


def _civil_ns(match: re.Match, what: str) -> int:
    """Nanoseconds since the epoch of a matched date-time, ignoring any offset (§2 rules)."""
    y, mo, d, h, mi, s = (int(g) for g in match.groups()[:6])
    if not 1970 <= y <= 2200:
        raise Fault(f"{what}: year outside 1970-2200")
    if not (1 <= mo <= 12 and 1 <= d <= _days_in_month(y, mo)):
        raise Fault(f"{what}: no such date")
    if h > 23 or mi > 59 or s > 59:
        raise Fault(f"{what}: no such time of day")
    seconds = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s
    return seconds * NS + int((match.group(7) or "0").ljust(9, "0"))


def parse_instant(value, what: str) -> int:
    """An `at`-syntax time (§2) as nanoseconds since the Unix epoch."""
    if not isinstance(value, str):
        raise Fault(f"{what} must be a string")
    m = AT_RE.fullmatch(value)
    if not m:
        raise Fault(f"{what} {value!r} is not an RFC 3339 time of the §2 form")
    ns = _civil_ns(m, f"{what} {value!r}")
    zone = m.group(8)
    if zone != "Z":
        oh, om = int(zone[1:3]), int(zone[4:6])
        if oh > 23 or om > 59:
            raise Fault(f"{what} {value!r}: bad UTC offset")
        offset = (oh * 3600 + om * 60) * NS
        ns -= offset if zone[0] == "+" else -offset
    return ns


def parse_record_time(value: str) -> int:
    """The header's `time` (§3): exactly YYYY-MM-DDTHH:MM:SS.ffffffZ, valid under §2's rules."""
    m = RECORD_TIME_RE.fullmatch(value)
    if not m:
        raise Fault(f"record time {value!r} is not YYYY-MM-DDTHH:MM:SS.ffffffZ")
    return _civil_ns(m, f"record time {value!r}")


# ---------------------------------------------------------------------------------------------
# base64, hashes, key ids


def decode_b64(value, length: int | None, what: str) -> bytes:
    """Standard padded base64 (RFC 4648 §4) in canonical form, of `length` bytes if given.

    Interpretation: canonical (padding bits zero) everywhere, also in signature lines and
    verifier keys, where C2SP and x/mod would accept other padding bits: §11 wants no byte of
    a bundle to change unnoticed, and the reference rejects such changes too.
    """
    if not isinstance(value, str) or not value.isascii():
        raise Fault(f"{what} must be a base64 string")
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        raise Fault(f"{what} is not valid base64")
    if length is not None and len(raw) != length:
        raise Fault(f"{what} must encode {length} bytes, not {len(raw)}")
    if base64.b64encode(raw).decode("ascii") != value:
        raise Fault(f"{what} is not canonical base64")
    return raw


def key_id_of(public_key: bytes) -> str:
    """§2: the first 8 bytes of SHA-256 of the raw public key, as 16 hex digits."""
    return hashlib.sha256(public_key).digest()[:8].hex()


def leaf_hash(entry_bytes: bytes) -> bytes:
    """§4: SHA-256(0x00 ‖ entry bytes), the RFC 6962 leaf hash."""
    return hashlib.sha256(b"\x00" + entry_bytes).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def load_public_key(raw: bytes, what: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise Fault(f"{what} is not an Ed25519 public key")


def ed25519_ok(public: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        public.verify(signature, message)
        return True
    except InvalidSignature:
        return False


# ---------------------------------------------------------------------------------------------
# RFC 6962 / RFC 9162 Merkle trees (§4, §9)


def merkle_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 Merkle tree hash over already-hashed leaves."""
    acc = MerkleAccumulator()
    for h in leaves:
        acc.append(h)
    return acc.root()


class MerkleAccumulator:
    """Appends leaf hashes and gives the root of the tree so far in O(log n).

    It keeps the roots of the maximal complete subtrees, left to right (a "compact range").
    """

    def __init__(self):
        self.size = 0
        self.stack: list[tuple[int, bytes]] = []  # (level, hash)

    def append(self, leaf: bytes):
        level, node = 0, leaf
        while self.stack and self.stack[-1][0] == level:
            node = node_hash(self.stack.pop()[1], node)
            level += 1
        self.stack.append((level, node))
        self.size += 1

    def root(self) -> bytes:
        if not self.stack:
            return EMPTY_ROOT
        root = self.stack[-1][1]
        for _, h in reversed(self.stack[:-1]):
            root = node_hash(h, root)
        return root


def subtree_decomposition(size: int) -> list[tuple[int, int]]:
    """The (level, idx) of the maximal complete subtrees of a tree of `size` leaves, left to
    right: the nodes §9 says a root is assembled from."""
    nodes, start = [], 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            nodes.append((level, start >> level))
            start += 1 << level
    return nodes


def verify_inclusion(leaf: bytes, index: int, size: int, proof: list[bytes],
                     root: bytes) -> None:
    """RFC 9162 §2.1.3.2: raises Fault unless `proof` shows `leaf` at `index` in the tree of
    `size` leaves with `root`. Every hash must be 32 bytes."""
    if len(leaf) != 32 or len(root) != 32 or any(len(p) != 32 for p in proof):
        raise Fault("inclusion proof: hashes must be 32 bytes")
    if not 0 <= index < size:
        raise Fault(f"inclusion proof: index {index} is not below the tree size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise Fault("inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Fault("inclusion proof is too short")
    if r != root:
        raise Fault("inclusion proof does not lead to the checkpoint's root")


def verify_consistency(size1: int, size2: int, proof: list[bytes], root1: bytes,
                       root2: bytes) -> None:
    """RFC 9162 §2.1.4.2: raises Fault unless `proof` shows the tree (size1, root1) is a
    prefix of (size2, root2). A proof from size 0 is refused (§9). For equal sizes the
    proof must be empty and the roots identical (whatever their length)."""
    if size1 == 0:
        raise Fault("consistency proof from size 0 proves nothing")
    if size1 > size2:
        raise Fault(f"consistency proof: size {size1} is above size {size2}")
    if size1 == size2:
        if proof:
            raise Fault("consistency proof between equal sizes must be empty")
        if root1 != root2:
            raise Fault("different roots at the same size")
        return
    if len(root1) != 32 or len(root2) != 32 or any(len(p) != 32 for p in proof):
        raise Fault("consistency proof: hashes must be 32 bytes")
    if size1 & (size1 - 1) == 0:  # a power of two: root1 is the implied first node
        proof = [root1] + list(proof)
    if not proof:
        raise Fault("consistency proof is empty")
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = proof[0]
    for c in proof[1:]:
        if sn == 0:
            raise Fault("consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Fault("consistency proof is too short")
    if fr != root1 or sr != root2:
        raise Fault("consistency proof does not match the roots")


# ---------------------------------------------------------------------------------------------
# C2SP signed notes, checkpoints and cosignatures (§9, §12; VECTORS.md §2-§4)


def valid_key_name(name: str) -> bool:
    """A signed-note key name: non-empty, no whitespace, no `+`."""
    return bool(name) and "+" not in name and not any(c.isspace() for c in name)


def note_key_hash(name: str, key: bytes) -> bytes:
    """C2SP key ID: SHA-256(name ‖ 0x0A ‖ type byte ‖ public key)[:4]; `key` starts with the
    type byte."""
    return hashlib.sha256(name.encode("utf-8") + b"\n" + key).digest()[:4]


@dataclass(frozen=True)
class NoteKey:
    """A C2SP verifier key `NAME+HEX+BASE64(type ‖ Ed25519 public key)`."""
    name: str
    key_hash: bytes  # 4 bytes
    alg: int  # ALG_ED25519 for a log, ALG_COSIGNATURE for a witness
    public: bytes  # 32 raw bytes

    @property
    def text(self) -> str:
        raw = bytes([self.alg]) + self.public
        return f"{self.name}+{self.key_hash.hex()}+{base64.b64encode(raw).decode()}"

    def ed25519(self) -> Ed25519PublicKey:
        return load_public_key(self.public, f"key {self.name}")


def parse_vkey(text: str, alg: int = ALG_ED25519) -> NoteKey:
    """Parse a verifier key, splitting on `+` at most twice (base64 may contain `+`)."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise Fault(f"verifier key {text[:60]!r} is not NAME+KEYID+BASE64")
    name, hex8, b64 = parts
    if not valid_key_name(name) or not KEY_HASH_RE.fullmatch(hex8):
        raise Fault(f"verifier key {text[:60]!r}: bad name or key ID")
    raw = decode_b64(b64, None, "verifier key")
    if not raw:
        raise Fault("verifier key has no key bytes")
    if note_key_hash(name, raw) != bytes.fromhex(hex8):
        raise Fault(f"verifier key {name}+{hex8}: the key ID does not match the key")
    if raw[0] != alg:
        raise Fault(f"verifier key {name}+{hex8}: signature type 0x{raw[0]:02x}, "
                    f"expected 0x{alg:02x}")
    if len(raw) != 33:
        raise Fault(f"verifier key {name}+{hex8}: an Ed25519 key is 32 bytes, not {len(raw) - 1}")
    key = NoteKey(name, bytes.fromhex(hex8), alg, raw[1:])
    key.ed25519()
    return key


def make_note_key(name: str, public: bytes, alg: int = ALG_ED25519) -> NoteKey:
    """The verifier key of a raw Ed25519 public key under `name` (§9, §12)."""
    return NoteKey(name, note_key_hash(name, bytes([alg]) + public), alg, public)


def sign_note(text: bytes, skey: str) -> bytes:
    """Sign a note text with an x/mod signer key `PRIVATE+KEY+NAME+HEX+BASE64(0x01 ‖ seed)`.

    Not used for verification; the self-tests use it to reproduce VECTORS.md §2.1.
    """
    parts = skey.split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise Fault("signer key is not PRIVATE+KEY+NAME+HEX+BASE64")
    name, hex8, b64 = parts[2:]
    raw = decode_b64(b64, None, "signer key")
    if not valid_key_name(name) or len(raw) != 33 or raw[0] != ALG_ED25519:
        raise Fault("signer key: bad name, type or length")
    private = Ed25519PrivateKey.from_private_bytes(raw[1:])
    public = private.public_key().public_bytes_raw()
    key = make_note_key(name, public)
    if key.key_hash.hex() != hex8.lower():
        raise Fault("signer key: the key ID does not match the key")
    if not text.endswith(b"\n"):
        raise Fault("a note text must end with a newline")
    sig = base64.b64encode(key.key_hash + private.sign(text))
    return text + b"\n" + SIG_LINE_PREFIX + name.encode() + b" " + sig + b"\n"


@dataclass
class NoteSignature:
    name: str
    key_hash: bytes
    signature: bytes  # the bytes after the key hash


@dataclass
class Note:
    text: bytes  # the signed text, ending in "\n"
    verified: list  # NoteKey of every known key whose signature verified
    unknown: list  # NoteSignature lines from keys the verifier does not know


def split_note(msg: bytes) -> tuple[bytes, list[NoteSignature]]:
    """Split a signed note into its text and signature lines (C2SP signed-note; VECTORS §2)."""
    try:
        decoded = msg.decode("utf-8")
    except UnicodeDecodeError:
        raise Fault("note is not valid UTF-8")
    if any(c < " " and c != "\n" for c in decoded):
        raise Fault("note contains a control character")
    split = msg.rfind(b"\n\n")
    if split < 0:
        raise Fault("note has no blank line before its signatures")
    text, block = msg[:split + 1], msg[split + 2:]
    if not block or not block.endswith(b"\n"):
        raise Fault("note does not end with a signature line and a newline")
    lines = block[:-1].split(b"\n")
    if len(lines) > MAX_NOTE_SIGNATURES:
        raise Fault(f"note has more than {MAX_NOTE_SIGNATURES} signatures")
    sigs = []
    for line in lines:
        if not line.startswith(SIG_LINE_PREFIX):
            raise Fault("note has a line after the blank line that is not a signature")
        name, space, b64 = line[len(SIG_LINE_PREFIX):].decode("utf-8").partition(" ")
        if not space or not valid_key_name(name) or not b64:
            raise Fault("malformed signature line")
        raw = decode_b64(b64, None, f"signature of {name}")
        if len(raw) < 5:
            raise Fault(f"signature of {name} is too short")
        sigs.append(NoteSignature(name, raw[:4], raw[4:]))
    return text, sigs


def cosignature_message(text: bytes, timestamp: int) -> bytes:
    """§12: `cosignature/v1\\ntime <t>\\n` then the checkpoint note text.

    Interpretation: "the whole checkpoint note text" is the note's text (the body lines the
    operator signed), not the text with its signature lines; the reference agrees.
    """
    return COSIGNATURE_PREFIX + str(timestamp).encode() + b"\n" + text


def open_note(msg: bytes, keys: list[NoteKey], require_verified: bool = True) -> Note:
    """Verify every signature of a known key (ALG_ED25519 or ALG_COSIGNATURE) and ignore the
    others. A known key's failing signature rejects the whole note, and so does a note
    without any signature from a known key."""
    text, sigs = split_note(msg)
    known = {(k.name, k.key_hash): k for k in keys}
    note = Note(text, [], [])
    for sig in sigs:
        key = known.get((sig.name, sig.key_hash))
        if key is None:
            note.unknown.append(sig)
            continue
        if key.alg == ALG_COSIGNATURE:
            ok = len(sig.signature) == 72 and ed25519_ok(
                key.ed25519(), sig.signature[8:],
                cosignature_message(text, int.from_bytes(sig.signature[:8], "big")))
        else:
            ok = len(sig.signature) == 64 and ed25519_ok(key.ed25519(), sig.signature, text)
        if not ok:
            # Interpretation (§12): this holds for every line of a known key, also a
            # repeated one (x/mod and the reference skip repeated lines unverified).
            raise Fault(f"invalid signature for key {key.name}+{key.key_hash.hex()}")
        if key not in note.verified:
            note.verified.append(key)
    if require_verified and not note.verified:
        raise Fault("note has no verifiable signatures")
    return note


@dataclass
class Checkpoint:
    origin: str
    size: int
    root: bytes
    note: bytes
    witnesses: list = field(default_factory=list)  # NoteKey of each verified witness


def parse_checkpoint_body(text: bytes) -> tuple[str, int, bytes]:
    """§9 / c2sp.org/tlog-checkpoint: `<origin>\\n<size>\\n<base64 root>\\n`.

    Interpretation: §9 shows only these three lines but calls the body a C2SP tlog-checkpoint,
    which allows non-empty extension lines after the root; they are accepted (and ignored),
    as the reference does. They are covered by the operator's signature.
    """
    lines = text.split(b"\n")
    if len(lines) < 4 or lines[-1] != b"" or b"" in lines[3:-1]:
        raise Fault("checkpoint body is not origin, size and root lines (and extensions)")
    try:
        origin, size, root = (line.decode("ascii") for line in lines[:3])
    except UnicodeDecodeError:
        raise Fault("checkpoint body is not ASCII")
    if not origin or not all("!" <= c <= "~" and c != "+" for c in origin):
        raise Fault("checkpoint origin must be printable ASCII without space or `+`")
    if not DECIMAL_RE.fullmatch(size):
        raise Fault(f"checkpoint size {size[:30]!r} is not a decimal without leading zeros")
    return origin, int(size), decode_b64(root, 32, "checkpoint root")


def verify_checkpoint(note: bytes, log_key: NoteKey, witness_keys=(),
                      min_witnesses: int = 0) -> Checkpoint:
    """A checkpoint signed by `log_key` under its origin, with at least `min_witnesses` valid
    cosignatures from `witness_keys` (§9, §12). Faults start with `checkpoint: `."""
    try:
        opened = open_note(note, [log_key, *witness_keys], require_verified=False)
        if log_key not in opened.verified:
            raise Fault(f"not signed by the log key {log_key.name}+{log_key.key_hash.hex()}")
        origin, size, root = parse_checkpoint_body(opened.text)
        if origin != log_key.name:
            raise Fault(f"origin {origin!r} is not the log key's name {log_key.name!r}")
        witnesses = [k for k in opened.verified if k.alg == ALG_COSIGNATURE]
        if len(witnesses) < min_witnesses:
            raise Fault(f"{len(witnesses)} valid witness cosignature(s), {min_witnesses} "
                        f"required")
    except Fault as fault:
        raise Fault(f"checkpoint: {fault.reason}")
    return Checkpoint(origin, size, root, note, witnesses)


# ---------------------------------------------------------------------------------------------
# Entries (§3) and events (§2)


@dataclass(frozen=True)
class Entry:
    seq: int
    time: str
    time_ns: int
    prev: bytes
    key_id: str | None  # `key` line of an event signed on its own
    sig: bytes | None  # `sig` line of an event signed on its own
    batch: tuple[int, int] | None  # (M, I) of the `batch` line of a batch member (§13)
    event_bytes: bytes


def parse_entry(raw: bytes) -> Entry:
    """Parse entry bytes exactly as §3 lays them out: six header lines (`key`, `sig`) or, for
    a batch member, five (`batch M I`), an empty line, then the event bytes."""
    end = raw.find(b"\n\n")
    if end < 0:
        raise Fault("entry bytes have no empty line after the header")
    try:
        lines = raw[:end].decode("ascii").split("\n")
    except UnicodeDecodeError:
        raise Fault("entry header is not ASCII")
    if len(lines) not in (5, 6):
        raise Fault(f"entry header has {len(lines)} lines, not 6 (or 5 for a batch member)")
    if lines[0] != ENTRY_MAGIC:
        raise Fault(f"first line is not {ENTRY_MAGIC!r}")
    names = ("seq", "time", "prev", "key", "sig") if len(lines) == 6 else ("seq", "time", "prev")
    values = []
    for line, name in zip(lines[1:], names):
        label, sep, value = line.partition(" ")
        if label != name or not sep:
            raise Fault(f"header line {line[:40]!r} is not `{name} <value>`")
        values.append(value)
    seq_s, time_s, prev_s = values[:3]
    if not DECIMAL_RE.fullmatch(seq_s):
        raise Fault(f"header seq {seq_s[:30]!r} is not a decimal without leading zeros")
    seq = int(seq_s)
    time_ns = parse_record_time(time_s)
    if not HEX64_RE.fullmatch(prev_s):
        raise Fault("header prev is not 64 lowercase hex digits")
    key_id = sig = batch = None
    if len(lines) == 6:
        key_id = values[3]
        if not HEX16_RE.fullmatch(key_id):
            raise Fault("header key is not 16 lowercase hex digits")
        sig = decode_b64(values[4], 64, "header sig")
    else:
        # Interpretation: M, like N, has no leading zeros (§3 says only "decimal").
        m = BATCH_LINE_RE.fullmatch(lines[4])
        if not m:
            raise Fault(f"header line {lines[4][:40]!r} is not `batch <M> <I>` (or `key`, `sig`)")
        batch = (int(m.group(1)), int(m.group(2)))
        if batch[0] >= seq:
            raise Fault(f"batch manifest {batch[0]} is not before entry {seq}")
    event = raw[end + 2:]
    if not event:
        raise Fault("entry has no event bytes")
    if event.endswith(b"\n"):
        raise Fault("entry ends with a line feed")
    return Entry(seq, time_s, time_ns, bytes.fromhex(prev_s), key_id, sig, batch, event)


@dataclass(frozen=True)
class Event:
    event_id: str
    kind: str
    actor: str
    at: str
    at_ns: int
    subject: str  # `pack` for pack kinds, `party` for registry kinds, "" for a manifest
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
    elif kind == BATCH_KIND:
        subject_name = None  # §13: a manifest has no `pack` and no `party`
    else:
        raise Fault(f"unknown event kind {kind!r}")
    expected = {"event_id", "kind", "actor", "at", "data"} | ({subject_name} - {None})
    if set(obj) != expected:
        extra, missing = sorted(set(obj) - expected), sorted(expected - set(obj))
        raise Fault(f"{kind} event members: unexpected {extra}, missing {missing}")
    event_id, actor, data = obj["event_id"], obj["actor"], obj["data"]
    subject = obj[subject_name] if subject_name else ""
    if not isinstance(event_id, str) or not UUID_RE.fullmatch(event_id):
        raise Fault(f"event_id {event_id!r} is not a UUID")
    if not isinstance(actor, str) or not PARTY_RE.fullmatch(actor):
        raise Fault(f"actor {actor!r} is not a party id")
    at_ns = parse_instant(obj["at"], "at")
    if subject_name == "pack":
        if not isinstance(subject, str) or not PACK_RE.fullmatch(subject):
            raise Fault(f"pack {subject!r} is not a pack id")
    elif subject_name and (not isinstance(subject, str) or not PARTY_RE.fullmatch(subject)):
        # Interpretation: §2 gives no syntax for `party`; it is a party id like `actor`.
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
    raw: bytes
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
    operator_key: bytes | None = None  # raw public key named by ledger.init
    parties: dict = field(default_factory=dict)   # party id -> Party
    keys: dict = field(default_factory=dict)      # key id -> Key
    packs: dict = field(default_factory=dict)     # pack id -> Pack
    seen_ids: set = field(default_factory=set)    # lowercased event ids
    parents: dict = field(default_factory=dict)   # component id -> pack id (§7 components)

    def operator_keys(self) -> list[bytes]:
        """Raw keys that may sign checkpoints (§9 "an operator key").

        Interpretation: the keys held by `operator`; §5 gives it only the ledger.init key.
        """
        return [k.raw for k in self.keys.values() if k.party == "operator"]


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
        """A string of 1..max_len characters, i.e. Unicode code points (§5, §7)."""
        v = self.get(name, required)
        if v is ABSENT:
            return None
        if not isinstance(v, str) or not 1 <= len(v) <= max_len:
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

    def instant(self, name: str, required: bool = True):
        """An RFC 3339 instant in the `at` syntax of §2 (§5: times inside `data`)."""
        v = self.get(name, required)
        if v is ABSENT:
            return None
        return parse_instant(v, f"data.{name}")

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


def ieee_sum(obj: dict) -> float:
    """§7 "Sums": IEEE 754 double additions from 0, in ascending member-name order by UTF-16
    code units, one rounding (to nearest, ties to even) per addition."""
    total = 0.0
    for name in sorted(obj, key=utf16_key):
        total += obj[name]
    return total


def check_amounts(obj, names, limit: float, what: str, limit_name: str):
    """An object of material -> kg, each in [0, limit], whose §7 sum is at most limit."""
    if not isinstance(obj, dict):
        raise Fault(f"{what} must be an object")
    for name, value in obj.items():
        if names is not None and name not in names:
            raise Fault(f"{what}.{name} is not one of {sorted(names)}")
        if names is None and not MATERIAL_NAME_RE.fullmatch(name):
            raise Fault(f"{what}: {name[:40]!r} is not a material name")
        check_number(value, 0.0, limit, False, f"{what}.{name}")
    total = ieee_sum(obj)
    if total > limit:
        raise Fault(f"{what} adds up to {jcs_number(total)}, more than {limit_name} "
                    f"{jcs_number(limit)}")


# ---------------------------------------------------------------------------------------------
# §5 registry rules. Each function checks one event and, when it passes, updates the state.


def check_signature(key: Key, entry: Entry):
    """§6 step 10: Ed25519 over "packledger/event/v1\\n" ‖ event bytes."""
    if entry.sig is None or not ed25519_ok(key.public, entry.sig,
                                           SIGN_PREFIX + entry.event_bytes):
        raise Fault(f"signature does not verify under key {key.key_id}")


def apply_ledger_init(state: State, entry: Entry, ev: Event):
    """Entry 0 (§5): origin and operator key; signed by that key, valid from 1970, no end."""
    if ev.kind != "ledger.init":
        raise Fault(f"entry 0 must be ledger.init, not {ev.kind}")
    if ev.actor != "operator" or ev.subject != "operator":
        raise Fault("ledger.init must have actor and party `operator`")
    d = Data(ev.data)
    origin = d.text("origin", 255)
    if not all("!" <= c <= "~" and c != "+" for c in origin):
        raise Fault("data.origin must be printable ASCII without space or `+`")
    raw = decode_b64(d.get("operator_key", True), 32, "data.operator_key")
    d.done()
    kid = key_id_of(raw)
    if entry.key_id != kid:
        raise Fault(f"ledger.init is signed with key {entry.key_id}, not operator_key {kid}")
    key = Key(kid, "operator", load_public_key(raw, "data.operator_key"), raw, 0)
    check_signature(key, entry)
    state.origin = origin
    state.operator_key = raw
    state.keys[kid] = key


def _new_key(state: State, d: Data, name: str, owner: str, valid_from: int) -> Key:
    raw = decode_b64(d.get(name, True), 32, f"data.{name}")
    kid = key_id_of(raw)
    if kid in state.keys:
        raise Fault(f"key {kid} is already registered")
    return Key(kid, owner, load_public_key(raw, f"data.{name}"), raw, valid_from)


def _registered_party(state: State, ev: Event) -> Party:
    party = state.parties.get(ev.subject)
    if party is None:
        raise Fault(f"party {ev.subject!r} is not registered")
    return party


def apply_party_registered(state: State, ev: Event, signing_key: str):
    if ev.subject == "operator" or ev.subject in state.parties:
        raise Fault(f"party {ev.subject!r} cannot be registered again")
    d = Data(ev.data)
    d.text("name", 200)
    roles = d.get("roles", True)
    if (not isinstance(roles, list) or not roles
            or not all(isinstance(r, str) and r in ROLES for r in roles)
            or len(set(roles)) != len(roles)):
        raise Fault("data.roles must be a non-empty list of distinct known roles")
    valid_from = d.instant("key_valid_from", required=False)
    key = _new_key(state, d, "key", ev.subject, ev.at_ns if valid_from is None else valid_from)
    auth_from = d.instant("authorized_from", required=False)
    auth_until = d.instant("authorized_until", required=False)
    if auth_from is not None and auth_until is not None and auth_until <= auth_from:
        raise Fault("data.authorized_until must be after authorized_from")
    d.done()
    state.parties[ev.subject] = Party(frozenset(roles), {key.key_id})
    state.keys[key.key_id] = key


def apply_key_added(state: State, ev: Event, signing_key: str):
    """§5: a registered party's new key, or (party `operator`) a new operator key: rotation."""
    party = None if ev.subject == "operator" else _registered_party(state, ev)
    d = Data(ev.data)
    valid_from = d.instant("valid_from", required=False)
    key = _new_key(state, d, "key", ev.subject, ev.at_ns if valid_from is None else valid_from)
    d.done()
    if party is not None:
        party.keys.add(key.key_id)
    state.keys[key.key_id] = key


def apply_key_revoked(state: State, ev: Event, signing_key: str):
    """§5: ends a key's validity; the operator may not revoke the key signing the revocation."""
    party = None if ev.subject == "operator" else _registered_party(state, ev)
    d = Data(ev.data)
    kid = d.match("key_id", HEX16_RE, "a key id (16 lowercase hex digits)")
    valid_until = d.instant("valid_until", required=False)
    d.done()
    owned = (kid in party.keys) if party is not None else (kid in state.keys and state.keys[kid].party == "operator")
    if not owned:
        raise Fault(f"key {kid} is not a key of {ev.subject}")
    if party is None and kid == signing_key:
        raise Fault("the operator cannot revoke the key that signs the revocation")
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


GBT_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
GBT_DATE = "123456789ABCDEFGHJKLMNPRSTUVWXY"
GBT_MONTH = "123456789ABC"


def check_gbt_code(code: str, where: str) -> str:
    """§7: a 24-character id of capitals and digits is a GB/T 34014 code; returns its level."""
    classes = ([GBT_ALNUM] * 3 + [frozenset("PMC"), frozenset("ABCDEFGZ")] + [GBT_ALNUM] * 9
               + [frozenset(GBT_DATE), frozenset(GBT_MONTH), frozenset(GBT_DATE)] + [frozenset("0123456789")] * 7)
    for i, (c, allowed) in enumerate(zip(code, classes)):
        if c not in allowed:
            raise Fault(f"{where}: battery code position {i + 1} '{c}' is not allowed")
    month, day = GBT_MONTH.index(code[15]) + 1, GBT_DATE.index(code[16]) + 1
    if day > [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]:
        raise Fault(f"{where}: battery code day {day} does not exist in month {month}")
    return code[3]


def is_code_shaped(pid: str) -> bool:
    return len(pid) == 24 and all(c in GBT_ALNUM for c in pid)


def check_produced_data(state: State, ev: Event, d: Data, actor_roles) -> dict:
    if is_code_shaped(ev.subject):
        check_gbt_code(ev.subject, "pack")
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
    components = d.get("components", False)
    if components is not ABSENT:
        if (not isinstance(components, list) or not 1 <= len(components) <= 2000
                or not all(isinstance(c, str) and PACK_RE.fullmatch(c) for c in components)
                or len(set(components)) != len(components)):
            raise Fault("data.components must be 1-2000 distinct ids")
        ancestors, up = {ev.subject}, state.parents.get(ev.subject)
        while up is not None and up not in ancestors:
            ancestors.add(up)
            up = state.parents.get(up)
        for i, c in enumerate(components):
            if c in ancestors:
                raise Fault(f"data.components[{i}]: {c} would make a cycle")
            if is_code_shaped(c) and check_gbt_code(c, f"data.components[{i}]") == "P":
                raise Fault(f"data.components[{i}]: {c} is a pack code, not a module or cell")
            if c in state.parents:
                raise Fault(f"data.components[{i}]: {c} is already a component of {state.parents[c]}")
        for c in components:
            state.parents[c] = ev.subject
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
            raise Fault("at is earlier than the pack's previous event")
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
# §13 batch manifests


@dataclass
class Manifest:
    """A batch manifest (§13): who signed it, with which key, and the batch's tree."""
    seq: int
    actor: str
    key: Key
    count: int
    root: bytes
    leaves: MerkleAccumulator = field(default_factory=MerkleAccumulator)

    @property
    def next_index(self) -> int:
        return self.leaves.size


def check_manifest_data(ev: Event) -> tuple[int, bytes]:
    """§13: `data` is exactly {"count": C, "root": base64}, C a whole number 1..20000."""
    if set(ev.data) != {"count", "root"}:
        raise Fault("a batch manifest's data must be exactly count and root")
    count = ev.data["count"]
    if not isinstance(count, float) or not count.is_integer() or not 1 <= count <= MAX_BATCH:
        raise Fault(f"data.count must be a whole number from 1 to {MAX_BATCH}")
    return int(count), decode_b64(ev.data["root"], 32, "data.root")


def batch_leaf(ev: Event) -> bytes:
    """§13: SHA-256(0x00 ‖ "packledger/event/v1\\n" ‖ event bytes)."""
    return leaf_hash(SIGN_PREFIX + ev.raw)


# ---------------------------------------------------------------------------------------------
# §6 steps 6-13 (and §13): the replay shared by ledgers (§6) and bundles (§11 step 4)


class Replayer:
    """Applies entries, already parsed and checked by §6 steps 1-5, in order.

    `apply_ledger` follows every entry of a ledger (batches must be complete and in order);
    `apply_bundle` follows a bundle's selection (batch members proven one by one).
    """

    def __init__(self):
        self.state = State()
        self.open_batch: Manifest | None = None  # ledger: the batch being read
        self.manifests: dict[int, Manifest] = {}  # bundle: manifests seen, by seq

    # -- ledgers

    def apply_ledger(self, entry: Entry, ev: Event):
        """Steps 6-13 for the next entry of a ledger, with the batch rules of §13."""
        batch = self.open_batch
        if batch is not None:
            if entry.batch is None:
                raise Fault(f"batch {batch.seq} is open: member {batch.next_index} expected, "
                            f"not an entry signed on its own")
            if entry.batch != (batch.seq, batch.next_index):
                raise Fault(f"batch line {entry.batch[0]} {entry.batch[1]} out of order "
                            f"(member {batch.next_index} of batch {batch.seq} expected)")
        elif entry.batch is not None:
            raise Fault("a batch line, but no batch is open")
        self.check_duplicate(ev)  # 6
        if entry.seq == 0:
            self.apply_init(entry, ev)  # 7
        elif batch is not None:
            self.check_member(entry, ev, batch)
            batch.leaves.append(batch_leaf(ev))  # 10, deferred
            if batch.next_index == batch.count:
                self.open_batch = None
                if batch.leaves.root() != batch.root:
                    raise Fault(f"the {batch.count} members of batch {batch.seq} do not hash "
                                f"to its root (a batch signature cannot tell which changed)")
        else:
            manifest = self.check_signed(entry, ev)
            if manifest is not None:
                self.open_batch = manifest
        self.remember(ev)  # 13

    def finish_ledger(self, size: int):
        """After the last entry: a ledger must not end inside a batch (§13)."""
        if self.open_batch is not None:
            raise Fault(f"the ledger ends inside batch {self.open_batch.seq} (member "
                        f"{self.open_batch.next_index} of {self.open_batch.count} is missing)",
                        size)

    # -- bundles

    def apply_bundle(self, index: int, entry: Entry, ev: Event, batch_proof: list | None):
        """Steps 6-13 for the `index`-th entry of a bundle (§11 step 4)."""
        self.check_duplicate(ev)  # 6
        if index == 0:
            self.apply_init(entry, ev)  # 7
        elif entry.batch is not None:
            m, i = entry.batch
            manifest = self.manifests.get(m)
            if manifest is None:
                raise Fault(f"its batch manifest, entry {m}, is not an earlier entry of the bundle")
            # §11: a member sits at M+1+I, as in a ledger; the batch_proof checks I < count.
            if entry.seq != m + 1 + i:
                raise Fault(f"batch member {i} of entry {m} must be entry {m + 1 + i}")

            def step10():
                try:
                    verify_inclusion(batch_leaf(ev), i, manifest.count, batch_proof,
                                     manifest.root)
                except Fault as fault:
                    raise Fault(f"batch_proof: {fault.reason}")

            self.check_member(entry, ev, manifest, step10)
        else:
            manifest = self.check_signed(entry, ev)
            if manifest is not None:
                self.manifests[entry.seq] = manifest
        self.remember(ev)  # 13

    # -- the steps

    def check_duplicate(self, ev: Event):
        """Step 6."""
        if ev.event_id.lower() in self.state.seen_ids:
            raise Fault(f"duplicate event_id {ev.event_id.lower()}")

    def remember(self, ev: Event):
        """Step 13 (the state itself was updated by the rules)."""
        self.state.seen_ids.add(ev.event_id.lower())

    def apply_init(self, entry: Entry, ev: Event):
        """Step 7: entry 0 gets step 11 and the ledger.init rule of §5."""
        if entry.key_id is None:
            raise Fault("entry 0 must be signed on its own")
        self.check_time(entry, ev)
        apply_ledger_init(self.state, entry, ev)

    @staticmethod
    def check_time(entry: Entry, ev: Event):
        """Step 11: `at` at most 300 seconds after the record time."""
        if ev.at_ns > entry.time_ns + MAX_FUTURE_NS:
            raise Fault("at is more than 300 seconds after the record time")

    def check_key(self, key: Key | None, key_id: str, ev: Event) -> Key:
        """Step 9: registered, held by the actor, valid at the event's `at`."""
        if key is None:
            raise Fault(f"key {key_id} is not registered")
        if key.party != ev.actor:
            raise Fault(f"key {key_id} does not belong to {ev.actor}")
        if not key.valid_at(ev.at_ns):
            raise Fault(f"key {key_id} is not valid at {ev.at}")
        return key

    def check_signed(self, entry: Entry, ev: Event) -> Manifest | None:
        """Steps 8-12 for an event signed on its own; returns its Manifest if it is one."""
        state = self.state
        if ev.kind == "ledger.init":
            raise Fault("ledger.init is allowed only as entry 0")
        # 8. actor
        if ev.actor != "operator" and ev.actor not in state.parties:
            raise Fault(f"actor {ev.actor!r} is not a registered party")
        # 9. key
        key = self.check_key(state.keys.get(entry.key_id), entry.key_id, ev)
        # 10. signature
        check_signature(key, entry)
        # 11. not too far in the future
        self.check_time(entry, ev)
        # 12. registry, manifest or lifecycle rules
        if ev.kind in REGISTRY_KINDS:
            if ev.actor != "operator":
                raise Fault(f"{ev.kind} must be stated by the operator")
            REGISTRY_RULES[ev.kind](state, ev, entry.key_id)
            return None
        if ev.actor == "operator":
            what = "batch manifests" if ev.kind == BATCH_KIND else "pack events"
            raise Fault(f"the operator cannot state {what}")
        if ev.kind == BATCH_KIND:
            count, root = check_manifest_data(ev)
            return Manifest(entry.seq, ev.actor, key, count, root)
        apply_pack_event(state, ev)
        return None

    def check_member(self, entry: Entry, ev: Event, manifest: Manifest, step10=None):
        """§13: a batch member gets steps 8, 9 (with the manifest's key), 11 and 12; its
        signature (step 10) is the manifest's, checked through the batch tree."""
        if ev.kind in REGISTRY_KINDS or ev.kind == BATCH_KIND:
            raise Fault(f"a {ev.kind} event cannot be a batch member")
        # 8. actor
        if ev.actor != "operator" and ev.actor not in self.state.parties:
            raise Fault(f"actor {ev.actor!r} is not a registered party")
        # 9. the manifest's key, valid at the member's own `at`
        self.check_key(manifest.key, manifest.key.key_id, ev)
        # 10. in a bundle: the member's batch_proof (a ledger checks the root at the end)
        if step10 is not None:
            step10()
        # 11, 12
        self.check_time(entry, ev)
        if ev.actor == "operator":
            raise Fault("the operator cannot state pack events")
        apply_pack_event(self.state, ev)


# ---------------------------------------------------------------------------------------------
# §6 ledger verification and the §9 checks of the tree and the checkpoints


class LedgerVerifier:
    """Replays the `entries` table row by row (§6 steps 1-13)."""

    def __init__(self, wanted_sizes=()):
        self.replayer = Replayer()
        self.expected_seq = 0
        self.prev_hash = ZERO_HASH
        self.prev_time = None
        self.acc = MerkleAccumulator()
        self.wanted_sizes = set(wanted_sizes)
        self.roots = {0: EMPTY_ROOT}  # size -> root, for the sizes of checkpoints

    @property
    def state(self) -> State:
        return self.replayer.state

    @property
    def size(self) -> int:
        return self.acc.size

    def check_row(self, seq, blob):
        # 1. sequence numbers without gaps
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise Fault("seq column is not an integer")
        if seq > self.expected_seq:
            raise Fault("entry is missing", self.expected_seq)
        if seq != self.expected_seq:
            raise Fault(f"unexpected sequence number (expected {self.expected_seq})")
        if not isinstance(blob, bytes):
            raise Fault("bytes column holds no bytes")
        # 2. entry bytes
        entry = parse_entry(blob)
        if entry.seq != seq:
            raise Fault(f"header seq {entry.seq} does not match the row")
        # 3. hashes and chain (the leaf hash is not stored, §1)
        h = leaf_hash(blob)
        if entry.prev != self.prev_hash:
            raise Fault("prev does not match the previous entry's hash")
        # 4. record time monotonic
        if self.prev_time is not None and entry.time_ns < self.prev_time:
            raise Fault("record time is earlier than the previous entry's")
        # 5. the event
        ev = check_event_envelope(entry.event_bytes)
        # 6-12, with the batch rules of §13
        self.replayer.apply_ledger(entry, ev)
        # 13. remember
        self.prev_hash = h
        self.prev_time = entry.time_ns
        self.acc.append(h)
        if self.acc.size in self.wanted_sizes:
            self.roots[self.acc.size] = self.acc.root()
        self.expected_seq += 1

    def root(self) -> bytes:
        return self.acc.root()


def open_ledger(path: str) -> sqlite3.Connection:
    """Open read-only and check the §1 pragmas."""
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
        raise UsageError(f"{path} is not a PackLedger format-2 ledger "
                         f"(application_id {app_id}, user_version {version})")
    # §1: only the bytes of each column matter, not the SQLite storage class; TEXT is read
    # as raw bytes, never decoded.
    con.text_factory = bytes
    return con


def read_stored_checkpoints(con: sqlite3.Connection) -> list[tuple[int, bytes]]:
    """(id, note) of every row of `checkpoints`; a missing table is a fault (§9)."""
    try:
        rows = con.execute("SELECT id, note FROM checkpoints ORDER BY id").fetchall()
    except sqlite3.Error as exc:
        raise Fault(f"cannot read the checkpoints table: {exc}")
    return [(cid, note if isinstance(note, bytes) else str(note).encode()) for cid, note in rows]


def claimed_size(note: bytes) -> int | None:
    """The size line of a checkpoint note, before any verification (to know which roots to
    keep during the replay)."""
    lines = note.split(b"\n", 3)
    if len(lines) > 2 and DECIMAL_RE.fullmatch(lines[1].decode("ascii", "replace")):
        return int(lines[1])
    return None


def replay_entries(con: sqlite3.Connection, verifier: LedgerVerifier):
    """§6 over the `entries` table; raises Fault naming the first bad entry."""
    try:
        rows = con.execute("SELECT seq, bytes FROM entries ORDER BY seq")
        for seq, blob in rows:
            try:
                verifier.check_row(seq, blob)
            except Fault as fault:
                raise fault.at_entry(seq if isinstance(seq, int) else verifier.expected_seq)
    except sqlite3.Error as exc:
        raise Fault(f"cannot read the entries table: {exc}", verifier.expected_seq)
    if verifier.expected_seq == 0:
        raise Fault("entry is missing (the ledger has no entries)", 0)
    verifier.replayer.finish_ledger(verifier.size)


def check_tree(con: sqlite3.Connection, verifier: LedgerVerifier):
    """§9: the stored `tree` must give the replayed root.

    The root is assembled from the maximal complete subtrees; those of level 4 and above are
    read from `tree`, lower ones recomputed from the entry hashes (the accumulator holds them).
    Interpretation: other rows of `tree` are not read.
    """
    nodes = []
    for (level, idx), (acc_level, computed) in zip(subtree_decomposition(verifier.size),
                                                   verifier.acc.stack):
        assert level == acc_level
        if level < TREE_MIN_LEVEL:
            nodes.append(computed)
            continue
        try:
            row = con.execute("SELECT hash FROM tree WHERE level = ? AND idx = ?",
                              (level, idx)).fetchone()
        except sqlite3.Error as exc:
            raise Fault(f"tree: cannot read the tree table: {exc}")
        if row is None:
            raise Fault(f"tree: no node at level {level} index {idx}")
        nodes.append(bytes(row[0]))
    root = nodes[-1]
    for h in reversed(nodes[:-1]):
        root = node_hash(h, root)
    if root != verifier.root():
        raise Fault("tree: the stored Merkle tree does not give the replayed root")


def check_ledger_checkpoint(note: bytes, verifier: LedgerVerifier, what: str) -> Checkpoint:
    """§9: signed by an operator key under the ledger's origin, size not above the ledger's,
    root equal to the replayed root at its size. Faults start with `what`.

    Interpretation: only the note is checked (not the `size` and `root` columns); a size
    above the ledger's names the first missing entry, other faults name none.
    """
    state = verifier.state
    keys = [make_note_key(state.origin, raw) for raw in state.operator_keys()]
    try:
        opened = open_note(note, keys, require_verified=False)
        if not opened.verified:
            raise Fault(f"not signed by the operator key of {state.origin}")
        origin, size, root = parse_checkpoint_body(opened.text)
        if origin != state.origin:
            raise Fault(f"origin {origin!r} is not the ledger's {state.origin!r}")
    except Fault as fault:
        raise Fault(f"{what}: {fault.reason}")
    if size > verifier.size:
        raise Fault(f"{what} (size {size}) covers more entries than the ledger's "
                    f"{verifier.size}: entries were removed from the end", verifier.size)
    if verifier.roots.get(size) != root:
        raise Fault(f"{what} (size {size}) has a different root than the ledger at that "
                    f"size: entries were changed, removed or reordered")
    return Checkpoint(origin, size, root, note)


@dataclass
class LedgerResult:
    entries: int
    root: bytes
    origin: str
    stored_checkpoints: int
    trusted_size: int | None


def verify_ledger(path: str, trusted: bytes | None = None) -> LedgerResult:
    """The whole `ledger` command: §6 replay, the tree, stored checkpoints, --trusted."""
    con = open_ledger(path)
    try:
        stored, unreadable = [], None
        try:
            stored = read_stored_checkpoints(con)
        except Fault as fault:
            unreadable = fault  # reported after the entries, which come first
        wanted = {s for s in (claimed_size(note) for _, note in stored) if s is not None}
        if trusted is not None and claimed_size(trusted) is not None:
            wanted.add(claimed_size(trusted))
        verifier = LedgerVerifier(wanted)
        replay_entries(con, verifier)
        check_tree(con, verifier)
        if unreadable is not None:
            raise unreadable
        for cid, note in stored:
            check_ledger_checkpoint(note, verifier, f"stored checkpoint {cid}")
        trusted_size = None
        if trusted is not None:
            trusted_size = check_ledger_checkpoint(trusted, verifier, "trusted checkpoint").size
    finally:
        con.close()
    return LedgerResult(verifier.size, verifier.root(), verifier.state.origin, len(stored),
                        trusted_size)


# ---------------------------------------------------------------------------------------------
# §11 evidence bundles


BUNDLE_MEMBERS = {"format", "pack", "checkpoint", "entries"}
BUNDLE_ENTRY_MEMBERS = {"seq", "bytes", "proof"}  # and "batch_proof" for a batch member


@dataclass
class BundleResult:
    pack: str
    status: str
    entries: int
    checkpoint: Checkpoint


def parse_bundle(data: bytes) -> dict:
    """§11 step 1: the canonical byte form (JCS + one line feed), the members, the format."""
    if not data.endswith(b"\n"):
        raise Fault("bundle does not end with a line feed")
    obj = parse_json_strict(data[:-1], "bundle bytes")
    if jcs_bytes(obj) + b"\n" != data:
        raise Fault("bundle is not in canonical form (RFC 8785 JSON and one line feed)")
    if not isinstance(obj, dict) or set(obj) != BUNDLE_MEMBERS:
        raise Fault(f"bundle members must be exactly {sorted(BUNDLE_MEMBERS)}")
    if obj["format"] != BUNDLE_FORMAT:
        raise Fault(f"bundle format is not {BUNDLE_FORMAT!r}")
    if not isinstance(obj["pack"], str) or not PACK_RE.fullmatch(obj["pack"]):
        raise Fault("bundle pack is not a pack id")
    if not isinstance(obj["checkpoint"], str):
        raise Fault("bundle checkpoint is not a string")
    if not isinstance(obj["entries"], list) or not obj["entries"]:
        raise Fault("bundle entries must be a non-empty array")
    return obj


@dataclass
class BundleEntry:
    seq: int
    raw: bytes
    proof: list
    batch_proof: list | None  # only for a batch member (§11, §13)


def decode_hashes(value, what: str) -> list[bytes]:
    """An array of base64 hashes (an inclusion proof)."""
    if not isinstance(value, list) or len(value) > MAX_PROOF_HASHES:
        raise Fault(f"{what} is not an array of at most {MAX_PROOF_HASHES} hashes")
    return [decode_b64(h, 32, f"{what} hash") for h in value]


def parse_bundle_entry(item, index: int, prev_seq: int | None) -> BundleEntry:
    """One member of `entries`: seq strictly increasing from 0, base64 bytes and proofs."""
    if (not isinstance(item, dict)
            or set(item) - {"batch_proof"} != BUNDLE_ENTRY_MEMBERS):
        raise Fault(f"bundle entry #{index} must have exactly {sorted(BUNDLE_ENTRY_MEMBERS)}"
                    f" (and batch_proof for a batch member)")
    seq = item["seq"]
    if not isinstance(seq, float) or not seq.is_integer() or not 0 <= seq < 2**53:
        raise Fault(f"bundle entry #{index}: seq is not a sequence number")
    seq = int(seq)
    if prev_seq is None and seq != 0:
        raise Fault("the first bundle entry must be entry 0", seq)
    if prev_seq is not None and seq <= prev_seq:
        raise Fault(f"seq does not increase (after {prev_seq})", seq)
    try:
        raw = decode_b64(item["bytes"], None, "bytes")
        proof = decode_hashes(item["proof"], "proof")
        batch_proof = (decode_hashes(item["batch_proof"], "batch_proof")
                       if "batch_proof" in item else None)
    except Fault as fault:
        raise fault.at_entry(seq)
    return BundleEntry(seq, raw, proof, batch_proof)


def verify_bundle(data: bytes, log_key: NoteKey, witness_keys=(),
                  min_witnesses: int = 0) -> BundleResult:
    """§11 steps 1-5. Raises Fault (naming the entry where there is one)."""
    obj = parse_bundle(data)
    cp = verify_checkpoint(obj["checkpoint"].encode("utf-8"), log_key, witness_keys,
                           min_witnesses)
    # 3. each entry: seq, §3 decoding, header seq, inclusion, record time, canonical JSON.
    # Interpretation: for all entries before step 4, in the order §11 writes the steps.
    parsed = []
    prev_seq = prev_time = None
    for i, item in enumerate(obj["entries"]):
        be = parse_bundle_entry(item, i, prev_seq)
        try:
            entry = parse_entry(be.raw)
            if entry.seq != be.seq:
                raise Fault(f"header seq {entry.seq} is not the bundle's seq")
            if (entry.batch is None) != (be.batch_proof is None):
                raise Fault("a batch member, and only a batch member, has a batch_proof")
            verify_inclusion(leaf_hash(be.raw), be.seq, cp.size, be.proof, cp.root)
            if prev_time is not None and entry.time_ns < prev_time:
                raise Fault("record time is earlier than the previous included entry's")
            ev = check_event_envelope(entry.event_bytes)
            if be.seq == 0:
                check_init_names_log(ev, cp, log_key)
        except Fault as fault:
            raise fault.at_entry(be.seq)
        parsed.append((be, entry, ev))
        prev_seq, prev_time = be.seq, entry.time_ns
    # 4. replay with §6 steps 6-13 (a batch member's step 10 is its batch_proof, §13)
    replayer = Replayer()
    for i, (be, entry, ev) in enumerate(parsed):
        try:
            replayer.apply_bundle(i, entry, ev, be.batch_proof)
        except Fault as fault:
            raise fault.at_entry(be.seq)
    # 5. the pack
    pack = replayer.state.packs.get(obj["pack"])
    if log_key.public not in replayer.state.operator_keys():
        raise Fault("the trusted log key is not an operator key of this ledger")
    if pack is None:
        raise Fault(f"pack {obj['pack']} does not exist after the replay")
    return BundleResult(obj["pack"], pack.status, len(parsed), cp)


def check_init_names_log(ev: Event, cp: Checkpoint, log_key: NoteKey):
    """§11 step 3: entry 0 names the checkpoint's origin and the trusted log key."""
    if ev.kind != "ledger.init":
        raise Fault(f"entry 0 must be ledger.init, not {ev.kind}")
    if ev.data.get("origin") != cp.origin:
        raise Fault(f"ledger.init names origin {ev.data.get('origin')!r}, not the "
                    f"checkpoint's {cp.origin!r}")
    # §11 step 5: the trusted key must be an operator key after the replay (entry 0's, or one
    # added for `operator` by a rotation), checked once the entries are replayed.


# ---------------------------------------------------------------------------------------------
# §10 c2sp.org/tlog-proof@v1


@dataclass
class TlogProof:
    entry_bytes: bytes
    index: int
    proof: list
    note: bytes


def parse_tlog_proof(data: bytes) -> TlogProof:
    """`c2sp.org/tlog-proof@v1`, `extra <b64>`, `index <N>`, hash lines, an empty line, the
    checkpoint note.

    Interpretation: the `extra` line, optional in C2SP, is required: it carries the entry (§10).
    """
    lines = data.split(b"\n")
    if lines[0] != TLOG_PROOF_MAGIC:
        raise Fault(f"first line is not {TLOG_PROOF_MAGIC.decode()}")
    if len(lines) < 4 or not lines[1].startswith(b"extra "):
        raise Fault("no `extra` line with the entry bytes")
    entry_bytes = decode_b64(lines[1][6:].decode("ascii", "replace"), None, "extra")
    if not lines[2].startswith(b"index "):
        raise Fault("no `index` line")
    index = lines[2][6:].decode("ascii", "replace")
    if not DECIMAL_RE.fullmatch(index):
        raise Fault(f"index {index[:30]!r} is not a decimal without leading zeros")
    proof, i = [], 3
    while i < len(lines) and lines[i] != b"":
        proof.append(decode_b64(lines[i].decode("ascii", "replace"), 32, "proof hash"))
        i += 1
    if i >= len(lines):
        raise Fault("no empty line before the checkpoint")
    if len(proof) > MAX_PROOF_HASHES:
        raise Fault("too many proof hashes")
    note = b"\n".join(lines[i + 1:])
    return TlogProof(entry_bytes, int(index), proof, note)


@dataclass
class ProofResult:
    entry: Entry
    checkpoint: Checkpoint


def verify_tlog_proof(data: bytes, log_key: NoteKey, witness_keys=(),
                      min_witnesses: int = 0) -> ProofResult:
    """§10: the checkpoint, the cosignatures, the entry (§3) at `index`, its inclusion."""
    tp = parse_tlog_proof(data)
    cp = verify_checkpoint(tp.note, log_key, witness_keys, min_witnesses)
    try:
        entry = parse_entry(tp.entry_bytes)
        if entry.seq != tp.index:
            raise Fault(f"the entry's header seq {entry.seq} is not the index")
        verify_inclusion(leaf_hash(tp.entry_bytes), tp.index, cp.size, tp.proof, cp.root)
    except Fault as fault:
        raise fault.at_entry(tp.index)
    return ProofResult(entry, cp)


# ---------------------------------------------------------------------------------------------
# Command line


def read_file(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc}")


def keys_from_args(args) -> tuple[NoteKey, list[NoteKey]]:
    try:
        log_key = parse_vkey(args.trust, ALG_ED25519)
        witnesses = [parse_vkey(w, ALG_COSIGNATURE) for w in args.witness]
    except Fault as fault:
        raise UsageError(f"bad verifier key: {fault.reason}")
    # Interpretation: asking for more cosignatures than there are witness keys is a usage error.
    if not 0 <= args.min_witnesses <= len(witnesses):
        raise UsageError("--min-witnesses must be between 0 and the number of --witness keys")
    return log_key, witnesses


def report(args, ok_text: str, ok_json: dict, fault: Fault | None) -> int:
    """Print the verdict in text or JSON; return the exit status."""
    if fault is not None:
        if args.json:
            print(json.dumps({"ok": False, "entry": fault.entry, "reason": fault.reason}))
        else:
            print(f"FAIL: {fault}")
        return 1
    print(json.dumps({"ok": True, **ok_json}) if args.json else ok_text)
    return 0


def cmd_ledger(args) -> int:
    trusted = read_file(args.trusted) if args.trusted else None
    try:
        r = verify_ledger(args.path, trusted)
    except Fault as fault:
        return report(args, "", {}, fault)
    root = base64.b64encode(r.root).decode("ascii")
    text = (f"OK: {r.entries} entries, root {root}; origin {r.origin}; "
            f"{r.stored_checkpoints} stored checkpoint(s) match")
    if r.trusted_size is not None:
        text += f"; extends the trusted checkpoint of size {r.trusted_size}"
    return report(args, text, {"entries": r.entries, "root": root, "origin": r.origin,
                               "stored_checkpoints": r.stored_checkpoints,
                               "trusted_size": r.trusted_size}, None)


def cmd_bundle(args) -> int:
    log_key, witnesses = keys_from_args(args)
    data = read_file(args.file)
    try:
        r = verify_bundle(data, log_key, witnesses, args.min_witnesses)
    except Fault as fault:
        return report(args, "", {}, fault)
    cp = r.checkpoint
    text = (f"OK: pack {r.pack} is {r.status}; {r.entries} entries proven against "
            f"{cp.origin} size {cp.size}; {len(cp.witnesses)} witness(es)")
    return report(args, text, {
        "pack": r.pack, "status": r.status, "entries": r.entries, "origin": cp.origin,
        "size": cp.size, "root": base64.b64encode(cp.root).decode(),
        "witnesses": [w.name for w in cp.witnesses]}, None)


def cmd_proof(args) -> int:
    log_key, witnesses = keys_from_args(args)
    data = read_file(args.file)
    try:
        r = verify_tlog_proof(data, log_key, witnesses, args.min_witnesses)
    except Fault as fault:
        return report(args, "", {}, fault)
    cp = r.checkpoint
    text = (f"OK: entry {r.entry.seq} is in {cp.origin} at size {cp.size} "
            f"({len(cp.witnesses)} witness(es))")
    return report(args, text, {
        "entry": r.entry.seq, "origin": cp.origin, "size": cp.size,
        "root": base64.b64encode(cp.root).decode(),
        "witnesses": [w.name for w in cp.witnesses],
        "event": r.entry.event_bytes.decode("utf-8", "replace")}, None)


def add_key_options(p: argparse.ArgumentParser):
    p.add_argument("file", help="the file to verify")
    p.add_argument("--trust", required=True, metavar="VKEY",
                   help="the log's verifier key NAME+KEYID+BASE64 (packledger info)")
    p.add_argument("--witness", action="append", default=[], metavar="VKEY",
                   help="a witness verifier key (type 0x04); may be repeated")
    p.add_argument("--min-witnesses", type=int, default=0, metavar="K",
                   help="how many witness cosignatures must verify (default 0)")
    p.add_argument("--json", action="store_true", help="print a JSON object")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="plverify", description="Independent PackLedger verifier (Schema/FORMAT.md v1)")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("ledger", help="verify a ledger database (FORMAT.md §6, §9)")
    p.add_argument("path", help="the ledger's SQLite file")
    p.add_argument("--trusted", metavar="CHECKPOINT_FILE",
                   help="a checkpoint note kept from an earlier visit: the ledger must extend it")
    p.add_argument("--json", action="store_true", help="print a JSON object")
    p.set_defaults(func=cmd_ledger)
    p = sub.add_parser("bundle", help="verify an evidence bundle (FORMAT.md §11)")
    add_key_options(p)
    p.set_defaults(func=cmd_bundle)
    p = sub.add_parser("proof", help="verify a c2sp.org/tlog-proof@v1 file (FORMAT.md §10)")
    add_key_options(p)
    p.set_defaults(func=cmd_proof)
    args = parser.parse_args(argv)  # exits 2 on usage errors
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"plverify: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
