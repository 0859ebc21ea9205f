#!/usr/bin/env python3
"""Self-checks for Tools/plverify.py, the verifier written from Schema/FORMAT.md alone.

    python3 Tools/test_plverify.py /path/to/demo.db      (a ledger made by Tools/demo.sh)

Copies the ledger into a temporary directory, tampers with the copies (with the append-only
triggers dropped) and checks that the verifier accepts the intact ledger and names the right
entry for each fault. When the demo's key files lie beside the database (Tools/demo.sh writes
them), it also re-signs events so that only a semantic rule (§5, §6, §7) is broken. The last
line printed is `N passed, M failed`; the exit status is 1 if any check failed.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
VERIFIER = os.path.join(HERE, "plverify.py")
REFERENCE = os.path.join(HERE, "..", ".build", "debug", "packledger")
SIGN_PREFIX = b"packledger/event/v1\n"


# ---------------------------------------------------------------------------------------------
# Helpers


def run(*args: str) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, VERIFIER, *args], capture_output=True, text=True)
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def copy_ledger(src: str, dst: str, drop_triggers: bool = True) -> sqlite3.Connection:
    """Copy db + WAL + SHM, fold the WAL in, drop the triggers; returns an open connection."""
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(src + suffix):
            shutil.copy(src + suffix, dst + suffix)
    con = sqlite3.connect(dst)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    if drop_triggers:
        for trigger in ("entries_no_update", "entries_no_delete", "entries_extend_chain"):
            con.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    con.commit()
    return con


def leaf(b: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + b).digest()


def entry(con, seq: int) -> bytes:
    return bytes(con.execute("SELECT bytes FROM entries WHERE seq = ?", (seq,)).fetchone()[0])


def header(b: bytes, name: str) -> bytes:
    for line in b.split(b"\n")[1:6]:
        if line.startswith(name.encode() + b" "):
            return line[len(name) + 1:]
    raise KeyError(name)


def set_header(b: bytes, name: str, value: bytes) -> bytes:
    lines = b.split(b"\n", 6)
    for i in range(1, 6):
        if lines[i].startswith(name.encode() + b" "):
            lines[i] = name.encode() + b" " + value
    return b"\n".join(lines)


def event_of(b: bytes) -> bytes:
    return b.split(b"\n\n", 1)[1]


def put(con, seq: int, b: bytes, rehash: bool = True):
    """Store new bytes for an entry; with rehash, fix its hash and re-chain every later entry."""
    con.execute("UPDATE entries SET bytes = ? WHERE seq = ?", (b, seq))
    if rehash:
        rechain(con, seq)


def rechain(con, start: int):
    """Rewrite prev headers, prev_hash and hash columns from `start` on, as a forger would."""
    row = con.execute("SELECT hash FROM entries WHERE seq = ?", (start - 1,)).fetchone()
    prev = bytes(row[0]) if row else bytes(32)
    for seq, b in con.execute("SELECT seq, bytes FROM entries WHERE seq >= ? ORDER BY seq",
                              (start,)).fetchall():
        b = set_header(bytes(b), "prev", prev.hex().encode())
        h = leaf(b)
        con.execute("UPDATE entries SET bytes = ?, prev_hash = ?, hash = ? WHERE seq = ?",
                    (b, prev, h, seq))
        prev = h


def count(con) -> int:
    return con.execute("SELECT COUNT(*) FROM entries").fetchone()[0]


class Keys:
    """The demo's private keys (FILE.key beside the database), if present."""

    def __init__(self, db: str):
        self.dir = os.path.dirname(os.path.abspath(db))
        self.db = db

    def get(self, party: str):
        from cryptography.hazmat.primitives.serialization import load_pem_private_key
        path = (self.db + ".operator.key" if party == "operator"
                else os.path.join(self.dir, party + ".key"))
        if not os.path.exists(path):
            return None
        with open(path, "rb") as f:
            return load_pem_private_key(f.read(), None)

    def available(self) -> bool:
        return all(self.get(p) is not None for p in ("operator", "metalback", "quickfix"))


def resign(b: bytes, key, new_event: bytes) -> bytes:
    sig = base64.b64encode(key.sign(SIGN_PREFIX + new_event))
    return set_header(b.split(b"\n\n", 1)[0] + b"\n\n" + new_event, "sig", sig)


def seq_of_event(con, needle: bytes) -> int:
    for seq, b in con.execute("SELECT seq, bytes FROM entries ORDER BY seq"):
        if needle in bytes(b):
            return seq
    raise LookupError(needle)


# ---------------------------------------------------------------------------------------------
# The checks. Each returns (expected exit code, expected output prefix or None).

CHECKS = []  # (function, needs the demo's private keys)


def check(fn):
    CHECKS.append((fn, False))
    return fn


def check_with_keys(fn):
    CHECKS.append((fn, True))
    return fn


@check
def intact(con, db, keys):
    """The untouched ledger verifies."""
    return 0, f"OK: {count(con)} entries, root "


@check
def flip_event_byte(con, db, keys):
    """One byte of entry 10's event changed, nothing else: its hash no longer matches."""
    b = bytearray(entry(con, 10))
    b[-5] ^= 0x01
    put(con, 10, bytes(b), rehash=False)
    return 1, "FAIL: entry 10:"


@check
def flip_event_byte_rechained(con, db, keys):
    """A changed event with every hash recomputed: the signature fails at that entry."""
    seq = seq_of_event(con, b'"reason":"end-of-life"')
    put(con, seq, entry(con, seq).replace(b'"reason":"end-of-life"', b'"reason":"repair"'))
    return 1, f"FAIL: entry {seq}: signature"


@check
def change_hash_column(con, db, keys):
    """The stored hash of entry 7 replaced."""
    con.execute("UPDATE entries SET hash = ? WHERE seq = 7", (bytes(32),))
    return 1, "FAIL: entry 7: hash column"


@check
def change_prev_hash_column(con, db, keys):
    """The stored prev_hash of entry 20 replaced."""
    con.execute("UPDATE entries SET prev_hash = ? WHERE seq = 20", (b"\x01" * 32,))
    return 1, "FAIL: entry 20: prev_hash column"


@check
def change_prev_header(con, db, keys):
    """Entry 15's prev header and column changed consistently: the chain breaks there."""
    b = set_header(entry(con, 15), "prev", b"00" * 32)
    con.execute("UPDATE entries SET bytes = ?, prev_hash = ?, hash = ? WHERE seq = 15",
                (b, bytes(32), leaf(b)))
    return 1, "FAIL: entry 15: prev does not match"


@check
def delete_middle_entry(con, db, keys):
    """Entry 17 deleted: entry 17 is missing."""
    con.execute("DELETE FROM entries WHERE seq = 17")
    return 1, "FAIL: entry 17: entry is missing"


def delete_and_renumber(con, victim: int):
    n = count(con)
    con.execute("DELETE FROM entries WHERE seq = ?", (victim,))
    for seq in range(victim + 1, n):
        b = set_header(entry(con, seq), "seq", str(seq - 1).encode())
        con.execute("UPDATE entries SET seq = ?, bytes = ? WHERE seq = ?", (seq - 1, b, seq))
    rechain(con, victim)


@check
def delete_middle_entry_renumbered(con, db, keys):
    """PACK-EV-0001's intake deleted, later entries renumbered and re-chained: its recovery,
    now in the intake's place, is not allowed from status waste."""
    victim = seq_of_event(con, b'"kind":"intake","pack":"PACK-EV-0001"')
    delete_and_renumber(con, victim)
    return 1, f"FAIL: entry {victim}: recovered is not allowed from status waste"


@check
def delete_middle_entry_renumbered_undetectable(con, db, keys):
    """A pack's last event deleted and the chain rewritten: signatures cover only events, so
    without a checkpoint this verifies (a limitation of the format, not of the verifier)."""
    n = count(con)
    delete_and_renumber(con, seq_of_event(con, b'"kind":"recovered","pack":"PACK-EV-0001"'))
    return 0, f"OK: {n - 1} entries"


@check
def delete_last_entry(con, db, keys):
    """Entry n-1 deleted: undetectable without a checkpoint (FORMAT.md §6), so OK with n-1."""
    n = count(con)
    con.execute("DELETE FROM entries WHERE seq = ?", (n - 1,))
    return 0, f"OK: {n - 1} entries"


@check
def empty_ledger(con, db, keys):
    """Every entry deleted: entry 0 is missing."""
    con.execute("DELETE FROM entries")
    return 1, "FAIL: entry 0:"


@check
def swap_signature(con, db, keys):
    """Entry 9's signature replaced by entry 8's (same signer), chain recomputed."""
    put(con, 9, set_header(entry(con, 9), "sig", header(entry(con, 8), "sig")))
    return 1, "FAIL: entry 9: signature"


@check
def swap_entries(con, db, keys):
    """Entries 21 and 22 swapped in place."""
    b21, b22 = entry(con, 21), entry(con, 22)
    put(con, 21, b22, rehash=False)
    put(con, 22, b21, rehash=False)
    return 1, "FAIL: entry 21:"


@check
def header_seq_mismatch(con, db, keys):
    """Entry 5's header seq says 6 (hashes recomputed)."""
    put(con, 5, set_header(entry(con, 5), "seq", b"6"))
    return 1, "FAIL: entry 5: header seq"


@check
def record_time_backwards(con, db, keys):
    """Entry 11 recorded before entry 10 (the time is not signed; hashes recomputed)."""
    put(con, 11, set_header(entry(con, 11), "time", b"2000-01-01T00:00:00.000000Z"))
    return 1, "FAIL: entry 11: record time"


@check
def record_time_malformed(con, db, keys):
    """Entry 11's record time has 3 fraction digits."""
    b = entry(con, 11)
    put(con, 11, set_header(b, "time", header(b, "time")[:23] + b"Z"))
    return 1, "FAIL: entry 11: record time"


@check
def event_too_far_ahead(con, db, keys):
    """Entries 0 and 1 dated 1970 (times are not signed): entry 1's `at` is > T + 300 s."""
    for seq in (0, 1):
        put(con, seq, set_header(entry(con, seq), "time", b"1970-01-01T00:00:00.000000Z"))
    return 1, "FAIL: entry 1: at is more than 300 seconds"


@check
def wrong_key_id(con, db, keys):
    """Entry 10 claims the key of a party other than its actor."""
    own = header(entry(con, 10), "key")
    other = next(header(entry(con, s), "key") for s in range(1, 10)
                 if header(entry(con, s), "key") != own)
    put(con, 10, set_header(entry(con, 10), "key", other))
    return 1, "FAIL: entry 10: key"


@check
def duplicate_event(con, db, keys):
    """Entry 30's event and signature replaced by entry 29's: a duplicate event id."""
    b29, b30 = entry(con, 29), entry(con, 30)
    b = set_header(b30.split(b"\n\n", 1)[0] + b"\n\n" + event_of(b29), "sig", header(b29, "sig"))
    put(con, 30, set_header(b, "key", header(b29, "key")))
    return 1, "FAIL: entry 30: duplicate event_id"


@check
def truncated_entry(con, db, keys):
    """Entry 25 cut after its header."""
    put(con, 25, entry(con, 25).split(b"\n\n", 1)[0])
    return 1, "FAIL: entry 25:"


@check
def non_canonical_event(con, db, keys):
    """Entry 26's event with a space added (hashes recomputed)."""
    put(con, 26, entry(con, 26).replace(b'","kind"', b'", "kind"'))
    return 1, "FAIL: entry 26: event bytes are not JCS-canonical"


@check
def hash_column_as_hex_text(con, db, keys):
    """Entry 4's hash column stored as hex text instead of 32 bytes."""
    con.execute("UPDATE entries SET hash = hex(hash) WHERE seq = 4")
    return 1, "FAIL: entry 4: hash column"


@check
def bytes_column_as_text(con, db, keys):
    """Entry 4's bytes stored with TEXT storage class: the same bytes, so accepted."""
    con.execute("UPDATE entries SET bytes = CAST(bytes AS TEXT) WHERE seq = 4")
    return 0, f"OK: {count(con)} entries"


@check
def seq_gap_at_end(con, db, keys):
    """The last entry renumbered n: entry n-1 is missing."""
    n = count(con)
    con.execute("UPDATE entries SET seq = ? WHERE seq = ?", (n, n - 1))
    return 1, f"FAIL: entry {n - 1}: entry is missing"


# Re-signed forgeries: need the demo's private keys.

@check_with_keys
def resigned_out_of_range(con, db, keys):
    """The intake of PACK-EV-0001 re-signed with mass_kg 0 (outside (0, 50000])."""
    seq = seq_of_event(con, b'"data":{"mass_kg":451.8}')
    b = entry(con, seq)
    put(con, seq, resign(b, keys.get("metalback"),
                         event_of(b).replace(b'"mass_kg":451.8', b'"mass_kg":0')))
    return 1, f"FAIL: entry {seq}: data.mass_kg"


@check_with_keys
def resigned_unknown_field(con, db, keys):
    """A removal re-signed with a misspelt field."""
    seq = seq_of_event(con, b'"reason":"swap"')
    b = entry(con, seq)
    forged = event_of(b).replace(b'"reason":"swap"', b'"raeson":"swap","reason":"swap"')
    put(con, seq, resign(b, keys.get("quickfix"), forged))
    return 1, f"FAIL: entry {seq}: unknown data member"


@check_with_keys
def resigned_wrong_transition(con, db, keys):
    """The recovery of PACK-EV-0001 re-signed as an intake (from at-recycler: not allowed)."""
    seq = seq_of_event(con, b'"kind":"recovered","pack":"PACK-EV-0001"')
    b = entry(con, seq)
    ev = event_of(b)
    data_start = ev.index(b'"data":{') + len(b'"data":')
    data_end = ev.index(b',"event_id"')
    ev = ev[:data_start] + b'{"mass_kg":451.8}' + ev[data_end:]
    put(con, seq, resign(b, keys.get("metalback"), ev.replace(b'"recovered"', b'"intake"')))
    return 1, f"FAIL: entry {seq}: intake is not allowed"


@check_with_keys
def resigned_wrong_role(con, db, keys):
    """A service's removal re-signed as a recycler's statement (metalback's key and id)."""
    seq = seq_of_event(con, b'"reason":"swap"')
    b = entry(con, seq)
    metalback_kid = header(entry(con, seq_of_event(con, b'"actor":"metalback"')), "key")
    b = set_header(b, "key", metalback_kid)
    forged = event_of(b).replace(b'"actor":"quickfix"', b'"actor":"metalback"')
    put(con, seq, resign(b, keys.get("metalback"), forged))
    return 1, f"FAIL: entry {seq}: metalback holds none of the roles"


def append_event(con, key, event: bytes, key_id: bytes) -> int:
    """Append a newly signed event as entry n, recorded at the last entry's time."""
    n = count(con)
    last = entry(con, n - 1)
    b = (b"packledger/entry/v1\nseq %d\ntime %s\nprev %s\nkey %s\nsig %s\n\n" % (
        n, header(last, "time"), b"00" * 32, key_id, b"A" * 86 + b"=="))
    con.execute("INSERT INTO entries VALUES (?, ?, ?, ?)", (n, resign(b, key, event), b"", b""))
    rechain(con, n)
    return n


@check_with_keys
def revoked_key_used_later(con, db, keys):
    """The operator revokes quickfix's key as of 2020-06-01; a later quickfix event fails."""
    kid = header(entry(con, seq_of_event(con, b'"actor":"quickfix"')), "key")
    op_kid = header(entry(con, 0), "key")
    append_event(con, keys.get("operator"), (
        b'{"actor":"operator","at":"2020-06-01T00:00:00Z","data":{"key_id":"' + kid +
        b'"},"event_id":"00000000-0000-4000-8000-0000000000aa","kind":"party.key-revoked",'
        b'"party":"quickfix"}'), op_kid)
    serviced = entry(con, seq_of_event(con, b'"kind":"serviced","pack":"PACK-EV-0003"'))
    seq = append_event(con, keys.get("quickfix"),
                       event_of(serviced).replace(b"3f2b6a0e", b"3f2b6a0f"), kid)
    return 1, f"FAIL: entry {seq}: key {kid.decode()} is not valid"


@check_with_keys
def operator_states_pack_event(con, db, keys):
    """An operator-signed `sold`: pack events are for parties only."""
    seq = append_event(con, keys.get("operator"), (
        b'{"actor":"operator","at":"2025-01-01T00:00:00Z","data":{"market":"DE"},'
        b'"event_id":"00000000-0000-4000-8000-0000000000ab","kind":"sold","pack":"PACK-EV-0003"}'),
        header(entry(con, 0), "key"))
    return 1, f"FAIL: entry {seq}: the operator cannot state pack events"


@check_with_keys
def event_after_terminal_status(con, db, keys):
    """A transfer of the recycled PACK-EV-0001: nothing may follow a terminal status."""
    intake = entry(con, seq_of_event(con, b'"kind":"intake","pack":"PACK-EV-0001"'))
    seq = append_event(con, keys.get("metalback"), (
        b'{"actor":"metalback","at":"2025-09-01T00:00:00Z","data":{"to":"cellco"},'
        b'"event_id":"00000000-0000-4000-8000-0000000000ac","kind":"transferred",'
        b'"pack":"PACK-EV-0001"}'), header(intake, "key"))
    return 1, f"FAIL: entry {seq}: pack PACK-EV-0001 is recycled"


# ---------------------------------------------------------------------------------------------


def main() -> int:
    if len(sys.argv) != 2 or not os.path.exists(sys.argv[1]):
        print("usage: python3 Tools/test_plverify.py /path/to/demo.db", file=sys.stderr)
        return 2
    src = os.path.abspath(sys.argv[1])
    keys = Keys(src)
    passed = failed = 0

    def report(name: str, ok: bool, detail: str):
        nonlocal passed, failed
        passed += ok
        failed += not ok
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")

    with tempfile.TemporaryDirectory(prefix="plverify-test-") as tmp:
        # Usage and unreadable files: exit 2.
        code, out = run()
        report("usage_error", code == 2, f"exit {code}")
        junk = os.path.join(tmp, "junk.db")
        with open(junk, "wb") as f:
            f.write(b"not a database" * 100)
        code, out = run("ledger", junk)
        report("not_a_database", code == 2, f"exit {code}")
        code, out = run("ledger", os.path.join(tmp, "missing.db"))
        report("missing_file", code == 2, f"exit {code}")
        other = os.path.join(tmp, "appid.db")
        con = copy_ledger(src, other)
        con.execute("PRAGMA application_id = 1")
        con.commit()
        con.close()
        code, out = run("ledger", other)
        report("wrong_application_id", code == 2, f"exit {code}")

        # The intact ledger agrees with the reference implementation's root, when built.
        start = time.perf_counter()
        code, out = run("ledger", src, "--json")
        elapsed = time.perf_counter() - start
        report("json_output", code == 0 and out.startswith('{"ok": true'), out[:100])
        if os.path.exists(REFERENCE):
            info = subprocess.run([REFERENCE, "info", "--ledger", src], capture_output=True,
                                  text=True).stdout
            roots = [line.split()[-1] for line in info.splitlines() if line.startswith("root")]
            code, out = run("ledger", src)
            report("root_matches_reference", bool(roots) and out.endswith(roots[0]),
                   f"{out} / reference {roots[:1]}")

        for fn, needs_keys in CHECKS:
            name = fn.__name__
            if needs_keys and not keys.available():
                print(f"SKIP  {name}: demo key files not found beside {src}")
                continue
            db = os.path.join(tmp, name + ".db")
            con = copy_ledger(src, db)
            try:
                want_code, want_prefix = fn(con, db, keys)
                con.commit()
            finally:
                con.close()
            code, out = run("ledger", db)
            ok = code == want_code and (want_prefix is None or out.startswith(want_prefix))
            report(name, ok, out if ok else f"got exit {code} {out!r}, want {want_prefix!r}")
    print(f"(verifying the intact ledger took {elapsed * 1000:.0f} ms including start-up)")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
