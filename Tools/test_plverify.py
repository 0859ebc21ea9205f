#!/usr/bin/env python3
"""Self-checks for Tools/plverify.py, the verifier written from Schema/FORMAT.md alone.

    python3 Tools/test_plverify.py [DEMO_DIR]

Without DEMO_DIR it runs only the known-answer tests: C2SP signed notes (VECTORS.md §2.1-§2.3),
RFC 6962 hashing, inclusion and consistency proofs (VECTORS.md §1.1-§1.4, the mutations of
§1.6 and every probe JSON under shared/conformance/rfc6962), RFC 8785 (VECTORS.md §6) and the
entry known answer of FORMAT.md §3.

DEMO_DIR is a directory made by `bash Tools/demo.sh DIR`: demo.db, its operator key and the
parties' key files. The script adds what it needs by running the packledger binary (env
PACKLEDGER_BIN, default .build/debug/packledger) when the files are missing: cp1.txt, an
extra entry, cp2.txt, a witness (wit.key, w.json) and its cosignature (cp2w.txt), the
evidence bundle sl.bundle, the tlog-proof e17.tlog-proof, and vkey.txt / wkey.txt with the
log and witness verifier keys; then batch.db, a copy of the ledger with a batch of 3 events
that cellco signed with one signature (`sign --batch`, `import`; FORMAT.md §13), its
checkpoint cp3.txt and the bundle bt.bundle of PACK-BT-0001 (with batch_proofs). Then it
  * tampers with copies of the ledgers (triggers dropped; re-signed with the demo's keys where
    only a rule of §5-§7 or §13 should break) and checks the verdict and the named entry;
  * checks the stored and trusted checkpoints (§9): truncation and rewrites are caught;
  * flips one bit of every byte of the bundles and of the tlog-proof (in-process), swaps the
    checkpoint, changes an index, drops entries, a manifest, a batch_proof and a witness, and
    re-makes bundles with the operator's key, and checks each verdict;
  * runs the reference `packledger verify` / `verify-bundle` on the same files (all of them
    for the named checks, a spread sample of the flips) and checks the verdicts agree; the
    disagreements already reported are printed as NOTE lines, not counted.

The last line printed is `N passed, M failed`; the exit status is 1 if any check failed. If
the `cryptography` package is missing, nothing can be checked: it prints a skip message ending
in `0 passed, 0 failed` and exits 0.
"""

from __future__ import annotations

import atexit
import base64
import glob
import hashlib
import importlib.util
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
VERIFIER = os.path.join(HERE, "plverify.py")
REFERENCE = os.environ.get("PACKLEDGER_BIN",
                           os.path.join(HERE, "..", ".build", "debug", "packledger"))
CONFORMANCE = os.path.join(HERE, "..", "..", "shared", "conformance")
if not os.path.isdir(CONFORMANCE):
    CONFORMANCE = "/work/shared/conformance"
SIGN_PREFIX = b"packledger/event/v1\n"
ALL_TRIGGERS = ("entries_no_update", "entries_no_delete", "entries_extend_chain",
                "tree_no_update", "tree_no_delete", "checkpoints_no_update",
                "checkpoints_no_delete")

if importlib.util.find_spec("cryptography") is None:
    print("SKIP: the Python package `cryptography` is not installed; nothing was checked")
    print("0 passed, 0 failed")
    sys.exit(0)

sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # leave no __pycache__ in Tools/
import plverify as pv  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.serialization import load_pem_private_key  # noqa: E402


class Results:
    """Counts and prints PASS/FAIL lines."""

    def __init__(self):
        self.passed = self.failed = 0

    def check(self, name: str, ok: bool, detail: str = ""):
        self.passed += bool(ok)
        self.failed += not ok
        print(f"{'PASS' if ok else 'FAIL'}  {name}{': ' + detail if detail else ''}")

    def agrees(self, name: str, ok: bool, detail: str, known: str = ""):
        """A comparison with the reference; a known, reported disagreement is only noted."""
        if ok or not known:
            self.check(name + " (reference agrees)", ok, detail)
        else:
            print(f"NOTE  {name} (reference differs, known: {known}): {detail}")

    def raises(self, name: str, fn, *args, contains: str = ""):
        """Passes when fn(*args) raises pv.Fault (whose text contains `contains`)."""
        try:
            fn(*args)
        except pv.Fault as fault:
            self.check(name, contains in str(fault), str(fault)[:120])
            return
        self.check(name, False, "was accepted")


def faults(fn, *args) -> str | None:
    """The Fault text of fn(*args), or None if it passed."""
    try:
        fn(*args)
    except pv.Fault as fault:
        return str(fault)
    return None


# =============================================================================================
# Part 1: known answers (no demo needed)

PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
ENOCH_VKEY = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop"
PETER_TEXT = (b"If you think cryptography is the answer to your problem,\n"
              b"then you don't know what your problem is.\n")
PETER_SIG = ("\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNX"
             "gKvqfqdngotpRZb6KE6RyyBwJnAM=\n").encode()
ENOCH_SIG = ("\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG"
             "01oOTGwnWLox33WWd1RvMc+QQ=\n").encode()
BAD_VKEYS = ("PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
             "PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
EXAMPLE_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
EXAMPLE_NOTE = ("This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnag"
                "v1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n").encode()
SUMDB_VKEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_NOTE = ("go.sum database tree\n6476701\nmb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=\n\n"
              "\u2014 sum.golang.org Az3grsLX85Gz+s1SiTbgkuqxgItqFq7gsMUEyVnrsa9LM7Us9S+1xbFIGu959"
              "49rj4nPRYfvimWEPWL+o3GeoWwOoAw=\n").encode()


def test_note_vectors(R: Results):
    """VECTORS.md §2.1-§2.3: signing, verifying, bad keys, malformed notes."""
    signed = pv.sign_note(PETER_TEXT, PETER_SKEY)
    R.check("note: Sign(PeterNeumann) reproduces the published note byte for byte",
            signed == PETER_TEXT + b"\n" + PETER_SIG)
    peter, enoch = pv.parse_vkey(PETER_VKEY), pv.parse_vkey(ENOCH_VKEY)
    both = PETER_TEXT + b"\n" + PETER_SIG + ENOCH_SIG
    note = pv.open_note(both, [peter])
    R.check("note: {Peter} verifies Peter, leaves Enoch unverified",
            note.verified == [peter] and [s.name for s in note.unknown] == ["EnochRoot"])
    note = pv.open_note(both, [peter, enoch])
    R.check("note: {Peter, Enoch} verifies both", note.verified == [peter, enoch])
    R.raises("note: no known key -> no verifiable signatures", pv.open_note, both, [],
             contains="no verifiable signatures")
    R.raises("note: 101 signatures -> malformed", pv.open_note,
             PETER_TEXT + b"\n" + PETER_SIG * 101, [peter], contains="more than 100")
    R.check("note: 100 copies of one signature are accepted",
            faults(pv.open_note, PETER_TEXT + b"\n" + PETER_SIG * 100, [peter]) is None)
    line = bytearray(PETER_SIG)
    line[60:60] = b"ABCD"
    R.raises("note: ABCD inserted at offset 60 -> invalid signature for PeterNeumann+c74f20a3",
             pv.open_note, PETER_TEXT + b"\n" + bytes(line), [peter],
             contains="invalid signature for key PeterNeumann+c74f20a3")
    malformed = {
        "no blank line": PETER_TEXT + PETER_SIG,
        "no final newline": (PETER_TEXT + b"\n" + PETER_SIG)[:-1],
        "leading \\x01": b"\x01" + PETER_TEXT + b"\n" + PETER_SIG,
        "leading \\xff": b"\xff" + PETER_TEXT + b"\n" + PETER_SIG,
        "key name with a space": PETER_TEXT + b"\n" + PETER_SIG.replace(
            b"PeterNeumann", b"Peter Neumann"),
        "extra line after the signatures": PETER_TEXT + b"\n" + PETER_SIG + b"extra\n",
        "no signature lines": PETER_TEXT + b"\n",
    }
    for what, msg in malformed.items():
        R.raises(f"note: malformed ({what}) is rejected", pv.open_note, msg, [peter])
    for bad in BAD_VKEYS:
        R.raises(f"note: bad vkey {bad[:40]}... is rejected", pv.parse_vkey, bad)
    R.raises("note: a type 0x01 key is not a witness key", pv.parse_vkey, PETER_VKEY,
             pv.ALG_COSIGNATURE)
    R.check("note: C2SP signed-note example verifies (§2.2)",
            faults(pv.open_note, EXAMPLE_NOTE, [pv.parse_vkey(EXAMPLE_VKEY)]) is None)
    sumdb = pv.parse_vkey(SUMDB_VKEY)  # base64 with '+': split on '+' at most twice
    note = pv.open_note(SUMDB_NOTE, [sumdb])
    lines = note.text.split(b"\n")
    R.check("note: the sum.golang.org checkpoint verifies (§2.3)",
            note.verified == [sumdb] and lines[1] == b"6476701"
            and len(pv.decode_b64(lines[2].decode(), 32, "root")) == 32)
    R.raises("note: the sum.golang.org checkpoint with a changed size fails",
             pv.open_note, SUMDB_NOTE.replace(b"6476701", b"6476702"), [sumdb],
             contains="invalid signature")


def test_cosignature_roundtrip(R: Results):
    """§12 with a fresh key: a 0x04 cosignature over the note text verifies and counts."""
    log_priv, wit_priv = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    log = pv.make_note_key("example.org/log", log_priv.public_key().public_bytes_raw())
    wit = pv.make_note_key("example.org/w", wit_priv.public_key().public_bytes_raw(),
                           pv.ALG_COSIGNATURE)
    R.check("cosignature: verifier key text round-trips",
            pv.parse_vkey(wit.text, pv.ALG_COSIGNATURE) == wit and pv.parse_vkey(log.text) == log)
    body = b"example.org/log\n1\n" + base64.b64encode(pv.leaf_hash(b"x")) + b"\n"
    note = body + b"\n" + pv.SIG_LINE_PREFIX + b"example.org/log " + base64.b64encode(
        log.key_hash + log_priv.sign(body)) + b"\n"
    ts = 1679315147

    def cosign(message: bytes) -> bytes:
        sig = wit.key_hash + ts.to_bytes(8, "big") + wit_priv.sign(message)
        return pv.SIG_LINE_PREFIX + b"example.org/w " + base64.b64encode(sig) + b"\n"

    good = note + cosign(pv.cosignature_message(body, ts))
    cp = pv.verify_checkpoint(good, log, [wit], 1)
    R.check("cosignature: valid 0x04 cosignature counts", cp.witnesses == [wit])
    R.raises("cosignature: over the note with its signature lines is invalid",
             pv.verify_checkpoint, note + cosign(pv.cosignature_message(note, ts)), log, [wit], 0,
             contains="invalid signature")
    R.raises("cosignature: missing when one is required", pv.verify_checkpoint, note, log,
             [wit], 1, contains="witness")


def rfc6962_leaves() -> list[bytes]:
    return [bytes.fromhex(h) for h in ("", "00", "10", "2021", "3031", "40414243",
                                        "5051525354555657", "606162636465666768696a6b6c6d6e6f")]


ROOTS_HEX = ["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
             "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
             "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
             "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
             "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
             "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
             "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
             "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
             "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"]
INCLUSION = [(0, 1, []),
             (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                     "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
             (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                     "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                     "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
             (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
             (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                     "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                     "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"])]
CONSISTENCY = [(1, 1, []),
               (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                       "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                       "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
               (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                       "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                       "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
               (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                       "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
               (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                       "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
                       "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"])]


def test_rfc6962_vectors(R: Results):
    """VECTORS.md §1: hashing, roots 0..8, inclusion and consistency tables, §1.6 mutations."""
    leaves = [pv.leaf_hash(x) for x in rfc6962_leaves()]
    R.check("rfc6962: empty leaf hash", leaves[0].hex() == ROOTS_HEX[1])
    R.check("rfc6962: leaf L123456", pv.leaf_hash(b"L123456").hex() ==
            "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56")
    R.check("rfc6962: node(N123, N456)", pv.node_hash(b"N123", b"N456").hex() ==
            "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb")
    R.check("rfc6962: x/mod RecordHash(hello world)",
            base64.b64encode(pv.leaf_hash(b"hello world")).decode() ==
            "TszzRgjTG6xce+z2AG31kAXYKBgQVtCSCE40HmuwBb0=")
    R.check("rfc6962: roots of sizes 0..8",
            all(pv.merkle_root(leaves[:n]).hex() == ROOTS_HEX[n] for n in range(9)))
    roots = [bytes.fromhex(h) for h in ROOTS_HEX]
    for index, size, proof in INCLUSION:
        proof = [bytes.fromhex(h) for h in proof]
        R.check(f"rfc6962: inclusion of leaf {index} in size {size}",
                faults(pv.verify_inclusion, leaves[index], index, size, proof, roots[size])
                is None)
        mutations = inclusion_mutations(leaves[index], index, size, proof, roots[size])
        bad = [what for what, args in mutations if faults(pv.verify_inclusion, *args) is None]
        R.check(f"rfc6962: {len(mutations)} mutations of inclusion ({index}, {size}) fail",
                not bad, f"accepted: {bad}" if bad else "")
    for size1, size2, proof in CONSISTENCY:
        proof = [bytes.fromhex(h) for h in proof]
        R.check(f"rfc6962: consistency {size1} -> {size2}",
                faults(pv.verify_consistency, size1, size2, proof, roots[size1], roots[size2])
                is None)
        mutations = consistency_mutations(size1, size2, proof, roots[size1], roots[size2])
        bad = [what for what, args in mutations if faults(pv.verify_consistency, *args) is None]
        R.check(f"rfc6962: {len(mutations)} mutations of consistency ({size1}, {size2}) fail",
                not bad, f"accepted: {bad}" if bad else "")
    R.raises("rfc6962: a consistency proof from size 0 is refused (§9)",
             pv.verify_consistency, 0, 8, [], roots[0], roots[8])


def inclusion_mutations(leaf, index, size, proof, root):
    """VECTORS.md §1.6 (from trillian's log_verifier_test.go) for inclusion proofs."""
    empty = pv.EMPTY_ROOT
    m = [("index-1", (leaf, index - 1, size, proof, root)),
         ("index+1", (leaf, index + 1, size, proof, root)),
         ("index^2", (leaf, index ^ 2, size, proof, root)),
         ("size*2", (leaf, index, size * 2, proof, root)),
         ("size/2", (leaf, index, size // 2, proof, root)),
         ("wrong leaf", (pv.leaf_hash(b"WrongLeaf"), index, size, proof, root)),
         ("wrong root", (leaf, index, size, proof, empty)),
         ("trailing empty", (leaf, index, size, proof + [b""], root)),
         ("trailing root", (leaf, index, size, proof + [root], root)),
         ("leading empty", (leaf, index, size, [b""] + proof, root)),
         ("leading root", (leaf, index, size, [root] + proof, root))]
    if proof:
        m.append(("last dropped", (leaf, index, size, proof[:-1], root)))
    for i in range(len(proof)):
        m.append((f"proof[{i}] replaced", (leaf, index, size,
                                           proof[:i] + [empty] + proof[i + 1:], root)))
    return m


def consistency_mutations(size1, size2, proof, root1, root2):
    """VECTORS.md §1.6 for consistency proofs (those that apply to the given sizes)."""
    m = [("size1-1", (size1 - 1, size2, proof, root1, root2)),
         ("size1+1", (size1 + 1, size2, proof, root1, root2)),
         ("size1^2", (size1 ^ 2, size2, proof, root1, root2)),
         ("size2*2", (size1, size2 * 2, proof, root1, root2)),
         ("size2/2", (size1, size2 // 2, proof, root1, root2)),
         ("wrong root1", (size1, size2, proof, pv.EMPTY_ROOT, root2)),
         ("wrong root2", (size1, size2, proof, root1, pv.EMPTY_ROOT)),
         ("trailing empty", (size1, size2, proof + [b""], root1, root2)),
         ("trailing root1", (size1, size2, proof + [root1], root1, root2)),
         ("leading empty", (size1, size2, [b""] + proof, root1, root2))]
    if root1 != root2:
        m.append(("swapped roots", (size1, size2, proof, root2, root1)))
    if proof:
        m += [("empty proof", (size1, size2, [], root1, root2)),
              ("truncated", (size1, size2, proof[:-1], root1, root2)),
              ("leading proof[0]", (size1, size2, [proof[0]] + proof, root1, root2))]
        for i in range(len(proof)):
            m.append((f"proof[{i}] replaced", (size1, size2,
                                               proof[:i] + [pv.EMPTY_ROOT] + proof[i + 1:],
                                               root1, root2)))
    # size2*2 or size2/2 can still be a valid pair for a trivial proof (1 -> 1 stays equal)
    return [(w, a) for w, a in m if (a[0], a[1]) != (size1, size2) or w not in
            ("size2*2", "size2/2")]


def _b64(value) -> bytes:
    return base64.b64decode(value or "")


def test_rfc6962_probes(R: Results):
    """Every probe under shared/conformance/rfc6962: wantErr ones must fail, others pass."""
    root = os.path.join(CONFORMANCE, "rfc6962")
    if not os.path.isdir(root):
        print(f"SKIP  rfc6962 probes: {root} not found")
        return
    wrong = []
    count = 0
    for path in sorted(glob.glob(os.path.join(root, "**", "*.json"), recursive=True)):
        with open(path) as f:
            p = json.load(f)
        proof = [_b64(h) for h in p.get("proof") or []]
        if "leafIdx" in p:
            err = faults(pv.verify_inclusion, _b64(p["leafHash"]), p["leafIdx"], p["treeSize"],
                         proof, _b64(p["root"]))
        else:
            err = faults(pv.verify_consistency, p["size1"], p["size2"], proof, _b64(p["root1"]),
                         _b64(p["root2"]))
        count += 1
        if (err is not None) != p["wantErr"]:
            wrong.append(f"{os.path.relpath(path, root)} ({err or 'accepted'})")
    R.check(f"rfc6962: {count} transparency-dev probes give the expected verdict",
            count > 0 and not wrong, "; ".join(wrong[:5]))


def test_jcs_and_entry_vectors(R: Results):
    """VECTORS.md §6 (RFC 8785 sample), FORMAT.md §3 entry known answer, §7 sum example."""
    sample = (r'{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],'
              r'"string":"\u20ac$\u000F\u000aA'"'"r'\u0042\u0022\u005c\\\"\/",'
              r'"literals":[null,true,false]}')
    want = ('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
            '"string":"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}')
    R.check("jcs: RFC 8785 §3.2.3 sample", pv.jcs(pv.parse_json_strict(sample.encode())) == want)
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    priv = Ed25519PrivateKey.from_private_bytes(seed)
    event = (b'{"actor":"maker","at":"2024-02-01T08:00:00Z","data":{"market":"DE"},'
             b'"event_id":"00000000-0000-4000-8000-000000000001","kind":"sold","pack":"PACK-1"}')
    sig = base64.b64encode(priv.sign(SIGN_PREFIX + event))
    kid = pv.key_id_of(priv.public_key().public_bytes_raw())
    entry = (b"packledger/entry/v1\nseq 7\ntime 2024-02-02T09:10:11.123456Z\nprev "
             b"6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d\nkey "
             + kid.encode() + b"\nsig " + sig + b"\n\n" + event)
    R.check("entry: FORMAT.md §3 known answer (key id, signature, entry hash)",
            kid == "21fe31dfa154a261" and sig.startswith(b"Q4HcgPfvwdG9TAT7RvIr")
            and pv.leaf_hash(entry).hex() ==
            "f3bb5fa94cb7f9b1faa0f85252f6b75214e22af37e8517531efaede8da3862c6"
            and pv.parse_entry(entry).seq == 7)
    R.check("sums: {al 0.3, co 0.5, li 0.4} adds up to 1.2000000000000002 (§7)",
            pv.ieee_sum({"li": 0.4, "co": 0.5, "al": 0.3}) == 1.2000000000000002)
    R.raises("sums: ... which exceeds a mass_kg of 1.2", pv.check_amounts,
             {"li": 0.4, "co": 0.5, "al": 0.3}, pv.MATERIALS, 1.2, "data.materials_kg", "mass_kg")


# =============================================================================================
# Part 2: the demo directory


class Demo:
    """Paths of the demo files; creates the missing ones with the packledger binary."""

    FILES = ("cp1.txt", "cp2w.txt", "sl.bundle", "e17.tlog-proof", "vkey.txt", "wkey.txt")

    def __init__(self, directory: str, binary: str | None):
        self.dir = os.path.abspath(directory)
        self.db = os.path.join(self.dir, "demo.db")
        self.bin = binary

    def path(self, name: str) -> str:
        return os.path.join(self.dir, name)

    def pl(self, *args: str, check: bool = True) -> str:
        env = dict(os.environ, PACKLEDGER_LEDGER=self.db)
        proc = subprocess.run([self.bin, *args], cwd=self.dir, env=env, capture_output=True,
                              text=True)
        if check and proc.returncode != 0:
            raise RuntimeError(f"packledger {' '.join(args)}: {proc.stderr.strip()}")
        return proc.stdout

    def prepare(self):
        """Run the README's checkpoint/witness/prove steps for whatever is missing."""
        if all(os.path.exists(self.path(f)) for f in self.FILES):
            return
        if not self.bin:
            raise RuntimeError(f"{self.dir} lacks {self.FILES} and no packledger binary is found")
        if not os.path.exists(self.path("vkey.txt")):
            info = json.loads(self.pl("info", "--format", "json"))
            self.write("vkey.txt", info["verifier_key"] + "\n")
        vkey = self.read("vkey.txt").decode().strip()
        if not all(os.path.exists(self.path(f)) for f in ("cp1.txt", "cp2w.txt", "wkey.txt")):
            self.pl("checkpoint", "--out", "cp1.txt")
            at = "2026-01-01T00:00:00Z"
            if time.time() < 1767225600 + 600:  # the wall clock is before 2026-01-01
                at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
            self.pl("record", "removed", "--pack", "PACK-EV-0003", "--actor", "quickfix",
                    "--key", "quickfix.key", "--at", at, "--data", '{"reason":"repair"}',
                    check=False)
            self.pl("checkpoint", "--out", "cp2.txt")
            proof = self.pl("consistency", "--from", "cp1.txt", "--to", "cp2.txt")
            self.write("p12.txt", proof)
            if not os.path.exists(self.path("wit.key")):
                self.pl("keygen", "--out", "wit.key")
            for stale in ("w.json", "w.json.lock"):
                if os.path.exists(self.path(stale)):
                    os.unlink(self.path(stale))
            wkey = self.pl("witness", "init", "--state", "w.json", "--name",
                           "witness.example/w1", "--key", "wit.key", "--log", vkey).strip()
            self.write("wkey.txt", wkey + "\n")
            self.pl("witness", "cosign", "cp1.txt", "--state", "w.json")
            cosig = self.pl("witness", "cosign", "cp2.txt", "--state", "w.json", "--proof",
                            "p12.txt")
            self.write("cp2w.txt", self.read("cp2.txt") + cosig.encode())
            for stale in ("sl.bundle", "e17.tlog-proof"):
                if os.path.exists(self.path(stale)):
                    os.unlink(self.path(stale))
        if not os.path.exists(self.path("sl.bundle")):
            self.pl("prove", "SL-STOR-0001", "--checkpoint", "cp2w.txt", "--out", "sl.bundle")
        if not os.path.exists(self.path("e17.tlog-proof")):
            self.pl("prove", "--seq", "17", "--format", "tlog-proof", "--out", "e17.tlog-proof")

    BATCH_FILES = ("batch.db", "cp3.txt", "bt.bundle", "member.tlog-proof")
    BATCH_EVENTS = (
        '{"event_id":"00000000-0000-4000-8000-00000000b001","kind":"produced","pack":'
        '"PACK-BT-0001","at":"2025-02-01T08:00:00Z","data":{"category":"ev","chemistry":"lfp",'
        '"mass_kg":300,"energy_kwh":50}}',
        '{"event_id":"00000000-0000-4000-8000-00000000b002","kind":"produced","pack":'
        '"PACK-BT-0002","at":"2025-02-01T08:05:00Z","data":{"category":"ev","chemistry":"nmc",'
        '"mass_kg":310,"energy_kwh":55}}',
        '{"event_id":"00000000-0000-4000-8000-00000000b003","kind":"sold","pack":"PACK-BT-0001",'
        '"at":"2025-02-02T08:00:00Z","data":{"market":"DE"}}')

    def prepare_batch(self) -> str | None:
        """A copy of the ledger, batch.db, with a batch of 3 events signed by cellco (§13),
        its checkpoint cp3.txt and the bundle bt.bundle of PACK-BT-0001. Returns why not."""
        if all(os.path.exists(self.path(f)) for f in self.BATCH_FILES):
            return None
        if not self.bin:
            return "no packledger binary to create " + ", ".join(self.BATCH_FILES)
        self.write("batch.jsonl", "\n".join(self.BATCH_EVENTS) + "\n")
        try:
            self.pl("sign", "batch.jsonl", "--actor", "cellco", "--key", "cellco.key",
                    "--batch", "3", "--out", "batch.signed.jsonl")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(self.path("batch.db" + suffix)):
                    os.unlink(self.path("batch.db" + suffix))
            for suffix in ("", "-wal"):
                if os.path.exists(self.db + suffix):
                    shutil.copy(self.db + suffix, self.path("batch.db" + suffix))
            self.pl("import", "--ledger", "batch.db", "batch.signed.jsonl")
            self.pl("checkpoint", "--ledger", "batch.db", "--operator-key",
                    self.db + ".operator.key", "--out", "cp3.txt")
            self.pl("prove", "PACK-BT-0001", "--ledger", "batch.db", "--checkpoint", "cp3.txt",
                    "--out", "bt.bundle")
            size = int(self.read("cp3.txt").split(b"\n")[1])
            self.pl("prove", "--ledger", "batch.db", "--seq", str(size - 1), "--format",
                    "tlog-proof", "--out", "member.tlog-proof")
        except RuntimeError as exc:
            return str(exc)
        return None

    def read(self, name: str) -> bytes:
        with open(self.path(name), "rb") as f:
            return f.read()

    def write(self, name: str, text):
        with open(self.path(name), "wb") as f:
            f.write(text.encode() if isinstance(text, str) else text)

    def private_key(self, party: str):
        path = self.db + ".operator.key" if party == "operator" else self.path(party + ".key")
        if not os.path.exists(path):
            return None
        with open(path, "rb") as f:
            return load_pem_private_key(f.read(), None)

    def has_keys(self) -> bool:
        return all(self.private_key(p) is not None for p in ("operator", "metalback", "quickfix",
                                                             "cellco"))


def find_reference() -> str | None:
    """A private copy of the packledger binary (a rebuild elsewhere cannot then make it busy)."""
    if not os.path.exists(REFERENCE):
        return None
    directory = tempfile.mkdtemp(prefix="plverify-bin-")
    atexit.register(shutil.rmtree, directory, True)
    copy = os.path.join(directory, "packledger")
    for _ in range(10):
        try:
            shutil.copy(REFERENCE, copy)
            return copy
        except OSError:
            time.sleep(6)
    return None


def run_verifier(*args: str) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, VERIFIER, *args], capture_output=True, text=True)
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def run_reference(binary: str, *args: str) -> tuple[int, str]:
    proc = subprocess.run([binary, *args], capture_output=True, text=True)
    out = (proc.stdout + proc.stderr).strip().splitlines()
    return proc.returncode, out[0] if out else ""


# ---------------------------------------------------------------------------------------------
# Ledger surgery helpers


def copy_ledger(src: str, dst: str) -> sqlite3.Connection:
    """Copy db + WAL, fold the WAL in, drop every trigger; returns an open connection."""
    for suffix in ("", "-wal"):
        if os.path.exists(src + suffix):
            shutil.copy(src + suffix, dst + suffix)
    con = sqlite3.connect(dst)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for trigger in ALL_TRIGGERS:
        con.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    con.commit()
    return con


def leaf(b: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + b).digest()


def blob(value) -> bytes:
    """A column's bytes, whatever its storage class."""
    return value.encode() if isinstance(value, str) else bytes(value)


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
    """Rewrite prev headers from `start` on, as a forger would."""
    row = con.execute("SELECT bytes FROM entries WHERE seq = ?", (start - 1,)).fetchone()
    prev = leaf(bytes(row[0])) if row else bytes(32)
    for seq, b in con.execute("SELECT seq, bytes FROM entries WHERE seq >= ? ORDER BY seq",
                              (start,)).fetchall():
        b = set_header(bytes(b), "prev", prev.hex().encode())
        h = leaf(b)
        con.execute("UPDATE entries SET bytes = ? WHERE seq = ?", (b, seq))
        prev = h


def rebuild_tree(con):
    """Recompute the `tree` table (§9: complete nodes of level 4 and up) from the entries, as
    a careful forger would."""
    con.execute("DELETE FROM tree")
    level_hashes = [leaf(blob(b)) for (b,) in
                    con.execute("SELECT bytes FROM entries ORDER BY seq").fetchall()]
    level = 0
    while len(level_hashes) > 1:
        level += 1
        level_hashes = [pv.node_hash(level_hashes[i], level_hashes[i + 1])
                        for i in range(0, len(level_hashes) - 1, 2)]
        if level >= pv.TREE_MIN_LEVEL:
            con.executemany("INSERT INTO tree (level, idx, hash) VALUES (?, ?, ?)",
                            [(level, i, h) for i, h in enumerate(level_hashes)])


def count(con) -> int:
    return con.execute("SELECT COUNT(*) FROM entries").fetchone()[0]


def resign(b: bytes, key, new_event: bytes) -> bytes:
    sig = base64.b64encode(key.sign(SIGN_PREFIX + new_event))
    return set_header(b.split(b"\n\n", 1)[0] + b"\n\n" + new_event, "sig", sig)


def seq_of_event(con, needle: bytes) -> int:
    for seq, b in con.execute("SELECT seq, bytes FROM entries ORDER BY seq"):
        if needle in bytes(b):
            return seq
    raise LookupError(needle)


def append_event(con, key, event: bytes, key_id: bytes, time_value: bytes | None = None) -> int:
    """Append a newly signed event as entry n, recorded at the last entry's time."""
    n = count(con)
    time_value = time_value or header(entry(con, n - 1), "time")
    b = (b"packledger/entry/v1\nseq %d\ntime %s\nprev %s\nkey %s\nsig %s\n\n" % (
        n, time_value, b"00" * 32, key_id, b"A" * 86 + b"=="))
    con.execute("INSERT INTO entries (seq, bytes) VALUES (?, ?)",
                (n, resign(b, key, event)))
    rechain(con, n)
    return n


def key_of(con, actor: str) -> bytes:
    return header(entry(con, seq_of_event(con, b'"actor":"%s"' % actor.encode())), "key")


def delete_and_renumber(con, victim: int):
    n = count(con)
    con.execute("DELETE FROM entries WHERE seq = ?", (victim,))
    for seq in range(victim + 1, n):
        b = set_header(entry(con, seq), "seq", str(seq - 1).encode())
        con.execute("UPDATE entries SET seq = ?, bytes = ? WHERE seq = ?", (seq - 1, b, seq))
    rechain(con, victim)


def sign_checkpoint(key, name: str, origin: str, size: int, root: bytes) -> bytes:
    """A checkpoint note (§9) over (origin, size, root), signed by `key` under `name`."""
    body = f"{origin}\n{size}\n{base64.b64encode(root).decode()}\n".encode()
    nk = pv.make_note_key(name, key.public_key().public_bytes_raw())
    sig = base64.b64encode(nk.key_hash + key.sign(body))
    return body + b"\n" + pv.SIG_LINE_PREFIX + name.encode() + b" " + sig + b"\n"


def origin_of(con) -> str:
    return json.loads(event_of(entry(con, 0)))["data"]["origin"]


def root_at(con, size: int) -> bytes:
    return pv.merkle_root([leaf(blob(b)) for (b,) in con.execute(
        "SELECT bytes FROM entries WHERE seq < ? ORDER BY seq", (size,)).fetchall()])


def add_stored_checkpoint(con, note: bytes, size: int):
    con.execute("INSERT INTO checkpoints (size, root, note, signed_ns) VALUES (?, ?, ?, ?)",
                (size, bytes(32), note, 0))


# ---------------------------------------------------------------------------------------------
# Ledger checks. Each takes (con, demo, tmp) and returns (exit code, output prefix, extra
# args); the runner rebuilds the tree table afterwards unless the check is marked raw_tree.

LEDGER_CHECKS = []  # (function, needs keys, keep the tree as tampered, known disagreement)
BATCH_CHECKS = []  # the same, on batch.db (a copy of the ledger with a batch, §13)


def ledger_check(needs_keys: bool = False, raw_tree: bool = False, ref_differs: str = "",
                 batch: bool = False):
    """Register a ledger check (on demo.db, or with batch=True on batch.db). `ref_differs`
    names a reported disagreement with the reference: its verdict is then printed as a NOTE
    instead of counted."""
    def register(fn):
        (BATCH_CHECKS if batch else LEDGER_CHECKS).append((fn, needs_keys, raw_tree, ref_differs))
        return fn
    return register


@ledger_check()
def intact(con, demo, tmp):
    """The untouched ledger verifies, with every stored checkpoint."""
    return 0, f"OK: {count(con)} entries, root ", ()


@ledger_check()
def intact_trusted_cp1(con, demo, tmp):
    """The ledger extends the trusted checkpoint cp1.txt."""
    return 0, f"OK: {count(con)} entries", ("--trusted", demo.path("cp1.txt"))


@ledger_check()
def intact_trusted_cp2w(con, demo, tmp):
    """The witnessed checkpoint cp2w.txt (cosignature lines are ignored) is trusted too."""
    return 0, f"OK: {count(con)} entries", ("--trusted", demo.path("cp2w.txt"))


@ledger_check()
def flip_event_byte(con, demo, tmp):
    """One byte of entry 10's event changed, nothing else: its hash no longer matches."""
    b = bytearray(entry(con, 10))
    b[-5] ^= 0x01
    put(con, 10, bytes(b), rehash=False)
    return 1, "FAIL: entry 10:", ()


@ledger_check()
def flip_event_byte_rechained(con, demo, tmp):
    """A changed event with every hash recomputed: the signature fails at that entry."""
    seq = seq_of_event(con, b'"reason":"end-of-life"')
    put(con, seq, entry(con, seq).replace(b'"reason":"end-of-life"', b'"reason":"repair"'))
    return 1, f"FAIL: entry {seq}: signature", ()


@ledger_check()
def change_prev_header(con, demo, tmp):
    """Entry 15's prev header changed: the chain breaks there."""
    b = set_header(entry(con, 15), "prev", b"00" * 32)
    con.execute("UPDATE entries SET bytes = ? WHERE seq = 15", (b,))
    return 1, "FAIL: entry 15: prev does not match", ()


@ledger_check()
def delete_middle_entry(con, demo, tmp):
    """Entry 17 deleted: entry 17 is missing."""
    con.execute("DELETE FROM entries WHERE seq = 17")
    return 1, "FAIL: entry 17: entry is missing", ()


@ledger_check()
def delete_middle_entry_renumbered(con, demo, tmp):
    """PACK-EV-0001's intake deleted, later entries renumbered and re-chained: its recovery,
    now in the intake's place, is not allowed from status waste."""
    victim = seq_of_event(con, b'"kind":"intake","pack":"PACK-EV-0001"')
    delete_and_renumber(con, victim)
    return 1, f"FAIL: entry {victim}: recovered is not allowed from status waste", ()


@ledger_check()
def rewrite_caught_by_stored_checkpoint(con, demo, tmp):
    """A pack's last event deleted, the chain and the tree rewritten: the lifecycle still
    holds, but the stored checkpoints' roots no longer match (§6, §9)."""
    delete_and_renumber(con, seq_of_event(con, b'"kind":"recovered","pack":"PACK-EV-0001"'))
    return 1, "FAIL: stored checkpoint", ()


@ledger_check()
def rewrite_without_checkpoints(con, demo, tmp):
    """The same rewrite with the stored checkpoints deleted too: undetectable from the file
    alone (a limitation of the format that FORMAT.md §6 states)."""
    n = count(con)
    delete_and_renumber(con, seq_of_event(con, b'"kind":"recovered","pack":"PACK-EV-0001"'))
    con.execute("DELETE FROM checkpoints")
    return 0, f"OK: {n - 1} entries", ()


@ledger_check()
def rewrite_caught_by_trusted_checkpoint(con, demo, tmp):
    """... but a checkpoint the verifier kept (cp1.txt) catches it."""
    delete_and_renumber(con, seq_of_event(con, b'"kind":"recovered","pack":"PACK-EV-0001"'))
    con.execute("DELETE FROM checkpoints")
    return 1, "FAIL: trusted checkpoint", ("--trusted", demo.path("cp1.txt"))


@ledger_check()
def truncated_caught_by_stored_checkpoint(con, demo, tmp):
    """The last entry deleted: a stored checkpoint covers more entries than remain."""
    n = count(con)
    con.execute("DELETE FROM entries WHERE seq = ?", (n - 1,))
    return 1, f"FAIL: entry {n - 1}: stored checkpoint", ()


@ledger_check()
def truncated_without_checkpoints(con, demo, tmp):
    """The last entry and the checkpoints covering it deleted: OK with n-1 entries."""
    n = count(con)
    con.execute("DELETE FROM entries WHERE seq = ?", (n - 1,))
    con.execute("DELETE FROM checkpoints WHERE size >= ?", (n,))
    return 0, f"OK: {n - 1} entries", ()


@ledger_check()
def truncated_caught_by_trusted_checkpoint(con, demo, tmp):
    """... but the trusted checkpoint cp2w.txt (size n) shows the truncation."""
    n = count(con)
    con.execute("DELETE FROM entries WHERE seq = ?", (n - 1,))
    con.execute("DELETE FROM checkpoints WHERE size >= ?", (n,))
    return 1, f"FAIL: entry {n - 1}: trusted checkpoint", ("--trusted", demo.path("cp2w.txt"))


@ledger_check()
def truncated_still_extends_cp1(con, demo, tmp):
    """... while the older trusted checkpoint cp1.txt (size n-1) still holds."""
    n = count(con)
    con.execute("DELETE FROM entries WHERE seq = ?", (n - 1,))
    con.execute("DELETE FROM checkpoints WHERE size >= ?", (n,))
    return 0, f"OK: {n - 1} entries", ("--trusted", demo.path("cp1.txt"))


@ledger_check()
def empty_ledger(con, demo, tmp):
    """Every entry deleted: entry 0 is missing."""
    con.execute("DELETE FROM entries")
    return 1, "FAIL: entry 0:", ()


@ledger_check()
def swap_signature(con, demo, tmp):
    """Entry 9's signature replaced by entry 8's (same signer), chain recomputed."""
    put(con, 9, set_header(entry(con, 9), "sig", header(entry(con, 8), "sig")))
    return 1, "FAIL: entry 9: signature", ()


@ledger_check()
def swap_entries(con, demo, tmp):
    """Entries 21 and 22 swapped in place."""
    b21, b22 = entry(con, 21), entry(con, 22)
    put(con, 21, b22, rehash=False)
    put(con, 22, b21, rehash=False)
    return 1, "FAIL: entry 21:", ()


@ledger_check()
def header_seq_mismatch(con, demo, tmp):
    """Entry 5's header seq says 6 (hashes recomputed)."""
    put(con, 5, set_header(entry(con, 5), "seq", b"6"))
    return 1, "FAIL: entry 5: header seq", ()


@ledger_check()
def record_time_backwards(con, demo, tmp):
    """Entry 11 recorded before entry 10 (the time is not signed; hashes recomputed)."""
    put(con, 11, set_header(entry(con, 11), "time", b"2000-01-01T00:00:00.000000Z"))
    return 1, "FAIL: entry 11: record time", ()


@ledger_check()
def record_time_malformed(con, demo, tmp):
    """Entry 11's record time has 3 fraction digits."""
    b = entry(con, 11)
    put(con, 11, set_header(b, "time", header(b, "time")[:23] + b"Z"))
    return 1, "FAIL: entry 11: record time", ()


def _shift_entry0_time(con, delta_us: int):
    """Set entry 0's record time to its `at` + delta (microseconds), re-chained, checkpoints
    removed (their roots would not match the rewritten chain)."""
    b = entry(con, 0)
    at = pv.parse_instant(json.loads(event_of(b))["at"], "at")
    ns = at + delta_us * 1000
    secs, frac = divmod(ns, 10**9)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)) + ".%06dZ" % (frac // 1000)
    put(con, 0, set_header(b, "time", stamp.encode()))
    con.execute("DELETE FROM checkpoints")


@ledger_check()
def entry0_at_300s_after_record_time(con, demo, tmp):
    """Entry 0 recorded exactly 300 s before its `at`: allowed (§5, §6 step 7 -> 11)."""
    _shift_entry0_time(con, -300 * 10**6)
    return 0, f"OK: {count(con)} entries", ()


@ledger_check()
def entry0_at_too_far_ahead(con, demo, tmp):
    """Entry 0 recorded 300.000001 s before its `at`: the 300-second rule fails at entry 0."""
    _shift_entry0_time(con, -300 * 10**6 - 1)
    return 1, "FAIL: entry 0: at is more than 300 seconds", ()


@ledger_check()
def wrong_key_id(con, demo, tmp):
    """Entry 10 claims the key of a party other than its actor."""
    own = header(entry(con, 10), "key")
    other = next(header(entry(con, s), "key") for s in range(1, 10)
                 if header(entry(con, s), "key") != own)
    put(con, 10, set_header(entry(con, 10), "key", other))
    return 1, "FAIL: entry 10: key", ()


@ledger_check()
def duplicate_event(con, demo, tmp):
    """Entry 30's event and signature replaced by entry 29's: a duplicate event id."""
    b29, b30 = entry(con, 29), entry(con, 30)
    b = set_header(b30.split(b"\n\n", 1)[0] + b"\n\n" + event_of(b29), "sig", header(b29, "sig"))
    put(con, 30, set_header(b, "key", header(b29, "key")))
    return 1, "FAIL: entry 30: duplicate event_id", ()


@ledger_check()
def truncated_entry(con, demo, tmp):
    """Entry 25 cut after its header."""
    put(con, 25, entry(con, 25).split(b"\n\n", 1)[0])
    return 1, "FAIL: entry 25:", ()


@ledger_check()
def non_canonical_event(con, demo, tmp):
    """Entry 26's event with a space added (hashes recomputed)."""
    put(con, 26, entry(con, 26).replace(b'","kind"', b'", "kind"'))
    return 1, "FAIL: entry 26: event bytes are not JCS-canonical", ()


@ledger_check()
def bytes_column_as_text(con, demo, tmp):
    """Entry 4's bytes stored with TEXT storage class: the same bytes, so accepted (§1)."""
    con.execute("UPDATE entries SET bytes = CAST(bytes AS TEXT) WHERE seq = 4")
    return 0, f"OK: {count(con)} entries", ()


@ledger_check()
def seq_gap_at_end(con, demo, tmp):
    """The last entry renumbered n: entry n-1 is missing."""
    n = count(con)
    con.execute("UPDATE entries SET seq = ? WHERE seq = ?", (n, n - 1))
    return 1, f"FAIL: entry {n - 1}: entry is missing", ()


@ledger_check(raw_tree=True)
def tree_node_changed(con, demo, tmp):
    """A tree node the root is assembled from replaced (§9)."""
    level, idx = next(n for n in pv.subtree_decomposition(count(con))
                      if n[0] >= pv.TREE_MIN_LEVEL)
    con.execute("UPDATE tree SET hash = ? WHERE level = ? AND idx = ?", (bytes(32), level, idx))
    return 1, "FAIL: tree:", ()


@ledger_check(raw_tree=True)
def tree_node_missing(con, demo, tmp):
    """A tree node the root is assembled from deleted (§9)."""
    level, idx = next(n for n in pv.subtree_decomposition(count(con))
                      if n[0] >= pv.TREE_MIN_LEVEL)
    con.execute("DELETE FROM tree WHERE level = ? AND idx = ?", (level, idx))
    return 1, "FAIL: tree:", ()


@ledger_check()
def checkpoint_column_copies_ignored(con, demo, tmp):
    """The size and root columns of a stored checkpoint changed: only the note counts."""
    con.execute("UPDATE checkpoints SET size = 1, root = ? WHERE id = "
                "(SELECT MIN(id) FROM checkpoints)", (bytes(32),))
    return 0, f"OK: {count(con)} entries", ()


@ledger_check()
def checkpoint_note_flipped(con, demo, tmp):
    """One byte of a stored checkpoint's root line changed: its signature fails."""
    cid, note = con.execute("SELECT id, note FROM checkpoints ORDER BY id").fetchone()
    note = bytearray(note)
    note[note.index(b"\n", note.index(b"\n") + 1) + 3] ^= 0x01
    con.execute("UPDATE checkpoints SET note = ? WHERE id = ?", (bytes(note), cid))
    return 1, f"FAIL: stored checkpoint {cid}", ()


@ledger_check(needs_keys=True)
def checkpoint_signed_by_a_party(con, demo, tmp):
    """A stored checkpoint signed by a party's key under the origin: not an operator key."""
    n = count(con)
    add_stored_checkpoint(con, sign_checkpoint(demo.private_key("quickfix"), origin_of(con),
                                               origin_of(con), n, root_at(con, n)), n)
    return 1, "FAIL: stored checkpoint", ()


@ledger_check(needs_keys=True)
def checkpoint_of_other_origin(con, demo, tmp):
    """A stored checkpoint by the operator key for another origin (and key name)."""
    n = count(con)
    add_stored_checkpoint(con, sign_checkpoint(demo.private_key("operator"), "other.example/log",
                                               "other.example/log", n, root_at(con, n)), n)
    return 1, "FAIL: stored checkpoint", ()


@ledger_check(needs_keys=True)
def checkpoint_with_wrong_root(con, demo, tmp):
    """A stored checkpoint, correctly signed, whose root is the root of another size."""
    add_stored_checkpoint(con, sign_checkpoint(demo.private_key("operator"), origin_of(con),
                                               origin_of(con), 10, root_at(con, 11)), 10)
    return 1, "FAIL: stored checkpoint", ()


@ledger_check(needs_keys=True)
def checkpoint_added_by_operator(con, demo, tmp):
    """A correct new checkpoint of size 10 signed with the operator key: accepted."""
    add_stored_checkpoint(con, sign_checkpoint(demo.private_key("operator"), origin_of(con),
                                               origin_of(con), 10, root_at(con, 10)), 10)
    return 0, f"OK: {count(con)} entries", ()


@ledger_check(needs_keys=True)
def trusted_checkpoint_by_a_party(con, demo, tmp):
    """A trusted checkpoint file signed by a party's key: not the operator's."""
    n = count(con)
    path = os.path.join(tmp, "party-checkpoint.txt")
    with open(path, "wb") as f:
        f.write(sign_checkpoint(demo.private_key("quickfix"), origin_of(con), origin_of(con), n,
                                root_at(con, n)))
    return 1, "FAIL: trusted checkpoint", ("--trusted", path)


# Re-signed forgeries: need the demo's private keys.

@ledger_check(needs_keys=True)
def resigned_out_of_range(con, demo, tmp):
    """The intake of PACK-EV-0001 re-signed with mass_kg 0 (outside (0, 50000])."""
    seq = seq_of_event(con, b'"data":{"mass_kg":451.8}')
    b = entry(con, seq)
    put(con, seq, resign(b, demo.private_key("metalback"),
                         event_of(b).replace(b'"mass_kg":451.8', b'"mass_kg":0')))
    return 1, f"FAIL: entry {seq}: data.mass_kg", ()


@ledger_check(needs_keys=True)
def resigned_unknown_field(con, demo, tmp):
    """A removal re-signed with a misspelt field."""
    seq = seq_of_event(con, b'"reason":"swap"')
    b = entry(con, seq)
    forged = event_of(b).replace(b'"reason":"swap"', b'"raeson":"swap","reason":"swap"')
    put(con, seq, resign(b, demo.private_key("quickfix"), forged))
    return 1, f"FAIL: entry {seq}: unknown data member", ()


@ledger_check(needs_keys=True)
def resigned_wrong_transition(con, demo, tmp):
    """The recovery of PACK-EV-0001 re-signed as an intake (from at-recycler: not allowed)."""
    seq = seq_of_event(con, b'"kind":"recovered","pack":"PACK-EV-0001"')
    b = entry(con, seq)
    ev = event_of(b)
    data_start = ev.index(b'"data":{') + len(b'"data":')
    data_end = ev.index(b',"event_id"')
    ev = ev[:data_start] + b'{"mass_kg":451.8}' + ev[data_end:]
    put(con, seq, resign(b, demo.private_key("metalback"), ev.replace(b'"recovered"', b'"intake"')))
    return 1, f"FAIL: entry {seq}: intake is not allowed", ()


@ledger_check(needs_keys=True)
def resigned_wrong_role(con, demo, tmp):
    """A service's removal re-signed as a recycler's statement (metalback's key and id)."""
    seq = seq_of_event(con, b'"reason":"swap"')
    b = set_header(entry(con, seq), "key", key_of(con, "metalback"))
    forged = event_of(b).replace(b'"actor":"quickfix"', b'"actor":"metalback"')
    put(con, seq, resign(b, demo.private_key("metalback"), forged))
    return 1, f"FAIL: entry {seq}: metalback holds none of the roles", ()


@ledger_check(needs_keys=True)
def revoked_key_used_later(con, demo, tmp):
    """The operator revokes quickfix's key as of 2020-06-01; a later quickfix event fails."""
    kid = key_of(con, "quickfix")
    append_event(con, demo.private_key("operator"), (
        b'{"actor":"operator","at":"2020-06-01T00:00:00Z","data":{"key_id":"' + kid +
        b'"},"event_id":"00000000-0000-4000-8000-0000000000aa","kind":"party.key-revoked",'
        b'"party":"quickfix"}'), key_of(con, "operator"))
    serviced = entry(con, seq_of_event(con, b'"kind":"serviced","pack":"PACK-EV-0003"'))
    seq = append_event(con, demo.private_key("quickfix"),
                       event_of(serviced).replace(b"3f2b6a0e", b"3f2b6a0f"), kid)
    return 1, f"FAIL: entry {seq}: key {kid.decode()} is not valid", ()


@ledger_check(needs_keys=True)
def operator_states_pack_event(con, demo, tmp):
    """An operator-signed `sold`: pack events are for parties only."""
    seq = append_event(con, demo.private_key("operator"), (
        b'{"actor":"operator","at":"2025-01-01T00:00:00Z","data":{"market":"DE"},'
        b'"event_id":"00000000-0000-4000-8000-0000000000ab","kind":"sold","pack":"PACK-EV-0003"}'),
        key_of(con, "operator"))
    return 1, f"FAIL: entry {seq}: the operator cannot state pack events", ()


@ledger_check(needs_keys=True)
def event_after_terminal_status(con, demo, tmp):
    """A transfer of the recycled PACK-EV-0001: nothing may follow a terminal status."""
    seq = append_event(con, demo.private_key("metalback"), (
        b'{"actor":"metalback","at":"2025-09-01T00:00:00Z","data":{"to":"cellco"},'
        b'"event_id":"00000000-0000-4000-8000-0000000000ac","kind":"transferred",'
        b'"pack":"PACK-EV-0001"}'), key_of(con, "metalback"))
    return 1, f"FAIL: entry {seq}: pack PACK-EV-0001 is recycled", ()


def _produced(con, demo, eid: str, data: bytes, at: bytes = b"2025-01-01T00:00:00Z") -> int:
    return append_event(con, demo.private_key("cellco"), (
        b'{"actor":"cellco","at":"' + at + b'","data":' + data + b',"event_id":'
        b'"00000000-0000-4000-8000-0000000000' + eid.encode() + b'","kind":"produced",'
        b'"pack":"PACK-T-' + eid.encode() + b'"}'), key_of(con, "cellco"))


@ledger_check(needs_keys=True)
def materials_sum_rounds_over_mass(con, demo, tmp):
    """§7 Sums: {al 0.3, co 0.5, li 0.4} adds up to 1.2000000000000002 > mass_kg 1.2."""
    seq = _produced(con, demo, "b1", b'{"category":"portable","chemistry":"lfp","energy_kwh":0,'
                    b'"mass_kg":1.2,"materials_kg":{"al":0.3,"co":0.5,"li":0.4}}')
    return 1, f"FAIL: entry {seq}: data.materials_kg adds up", ()


@ledger_check(needs_keys=True)
def materials_sum_fits_mass(con, demo, tmp):
    """... and fits a mass_kg of 1.2000000000000002."""
    _produced(con, demo, "b2", b'{"category":"portable","chemistry":"lfp","energy_kwh":0,'
              b'"mass_kg":1.2000000000000002,"materials_kg":{"al":0.3,"co":0.5,"li":0.4}}')
    return 0, f"OK: {count(con)} entries", ()


@ledger_check(needs_keys=True)
def text_length_in_code_points(con, demo, tmp):
    """`plant` of 100 "e + combining acute" (200 code points): allowed (1-200 characters)."""
    _produced(con, demo, "b3", b'{"category":"ev","chemistry":"lfp","energy_kwh":1,'
              b'"mass_kg":10,"plant":"' + "e\u0301".encode() * 100 + b'"}')
    return 0, f"OK: {count(con)} entries", ()


@ledger_check(needs_keys=True)
def text_too_long_in_code_points(con, demo, tmp):
    """`plant` of 100 "e + combining acute" and one more "e" (201 code points, 101 grapheme
    clusters): too long, since characters are code points (§5)."""
    seq = _produced(con, demo, "b4", b'{"category":"ev","chemistry":"lfp","energy_kwh":1,'
                    b'"mass_kg":10,"plant":"' + "e\u0301".encode() * 100 + b'e"}')
    return 1, f"FAIL: entry {seq}: data.plant", ()


@ledger_check(needs_keys=True)
def at_more_than_300s_after_record_time(con, demo, tmp):
    """An event whose `at` is 301 s after its record time (§6 step 11)."""
    last = header(entry(con, count(con) - 1), "time").decode()
    ns = pv.parse_record_time(last) + 301 * 10**9
    at = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + ".%06dZ" % (
        ns % 10**9 // 1000)
    seq = _produced(con, demo, "b5", b'{"category":"ev","chemistry":"lfp","energy_kwh":1,'
                    b'"mass_kg":10}', at.encode())
    return 1, f"FAIL: entry {seq}: at is more than 300 seconds", ()


def _register(con, demo, party: str, data: bytes) -> int:
    public = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    return append_event(con, demo.private_key("operator"), (
        b'{"actor":"operator","at":"2025-01-01T00:00:00Z","data":{' + data + b'"key":"'
        + base64.b64encode(public) + b'","name":"T","roles":["recycler"]},"event_id":'
        b'"00000000-0000-4000-8000-0000000000c' + party[-1].encode() + b'","kind":'
        b'"party.registered","party":"' + party.encode() + b'"}'), key_of(con, "operator"))


@ledger_check(needs_keys=True)
def authorization_as_bare_date(con, demo, tmp):
    """`authorized_from` as a bare date: §5 wants RFC 3339 instants."""
    seq = _register(con, demo, "t1", b'"authorized_from":"2021-01-01",')
    return 1, f"FAIL: entry {seq}: data.authorized_from", ()


@ledger_check(needs_keys=True)
def authorization_as_instants(con, demo, tmp):
    """`authorized_from`/`authorized_until` as instants, until after from: accepted."""
    _register(con, demo, "t2", b'"authorized_from":"2021-01-01T00:00:00Z",'
              b'"authorized_until":"2021-01-01T00:00:00.000000001Z",')
    return 0, f"OK: {count(con)} entries", ()


@ledger_check(needs_keys=True)
def authorization_until_not_after_from(con, demo, tmp):
    """`authorized_until` equal to `authorized_from`: the window would be empty."""
    seq = _register(con, demo, "t3", b'"authorized_from":"2021-01-01T00:00:00Z",'
                    b'"authorized_until":"2021-01-01T01:00:00+01:00",')
    return 1, f"FAIL: entry {seq}: data.authorized_until", ()


def _operator_event(con, demo, kind: str, data: bytes, party: bytes = b"operator") -> int:
    return append_event(con, demo.private_key("operator"), (
        b'{"actor":"operator","at":"2025-01-01T00:00:00Z","data":{' + data + b'},"event_id":'
        b'"00000000-0000-4000-8000-0000000000d' + str(len(kind) % 10).encode() + b'","kind":"'
        + kind.encode() + b'","party":"' + party + b'"}'), key_of(con, "operator"))


def _new_public_b64() -> bytes:
    return base64.b64encode(Ed25519PrivateKey.generate().public_key().public_bytes_raw())


@ledger_check(needs_keys=True)
def second_ledger_init(con, demo, tmp):
    """A second ledger.init (§5: entry 0 and only entry 0)."""
    seq = _operator_event(con, demo, "ledger.init", b'"operator_key":"' + _new_public_b64()
                          + b'","origin":"other.example/log"')
    return 1, f"FAIL: entry {seq}: ledger.init is allowed only as entry 0", ()


@ledger_check(needs_keys=True)
def operator_key_added(con, demo, tmp):
    """party.key-added for `operator`: a new operator key (rotation, §5) is accepted."""
    _operator_event(con, demo, "party.key-added", b'"key":"' + _new_public_b64() + b'"')
    return 0, "OK:", ()


@ledger_check(needs_keys=True)
def operator_key_revoked(con, demo, tmp):
    """party.key-revoked of the operator key by that same key: refused (§5)."""
    seq = _operator_event(con, demo, "party.key-revoked",
                          b'"key_id":"' + key_of(con, "operator") + b'"')
    return 1, f"FAIL: entry {seq}: the operator cannot revoke the key that signs the revocation", ()


@ledger_check(needs_keys=True)
def party_named_operator(con, demo, tmp):
    """party.registered of a party called `operator` (§5: not operator)."""
    seq = _operator_event(con, demo, "party.registered", b'"key":"' + _new_public_b64()
                          + b'","name":"X","roles":["oem"]')
    return 1, f"FAIL: entry {seq}: party 'operator' cannot be registered", ()


def manifest_seq(con) -> tuple[int, int]:
    """(M, C) of the batch manifest in the ledger."""
    seq = seq_of_event(con, b'"kind":"batch"')
    return seq, int(json.loads(event_of(entry(con, seq)))["data"]["count"])


def header_of(b: bytes) -> bytes:
    return b.split(b"\n\n", 1)[0]


def rebatch(con, demo, events: list[bytes], party: str = "cellco", data_extra: dict = None,
            manifest_actor: str | None = None):
    """Replace the batch's member events and re-sign the manifest over their new root with
    `party`'s key (as the actor could); `data_extra` adds members to the manifest's data."""
    m, count = manifest_seq(con)
    assert len(events) == count
    root = pv.merkle_root([leaf(SIGN_PREFIX + e) for e in events])
    man = entry(con, m)
    mev = json.loads(event_of(man))
    mev["data"].update({"root": base64.b64encode(root).decode()}, **(data_extra or {}))
    if manifest_actor:
        mev["actor"] = manifest_actor
    man = set_header(man, "key", key_of(con, party))
    put(con, m, resign(man, demo.private_key(party), pv.jcs_bytes(mev)), rehash=False)
    for i, e in enumerate(events):
        put(con, m + 1 + i, header_of(entry(con, m + 1 + i)) + b"\n\n" + e, rehash=False)
    rechain(con, m)
    con.execute("DELETE FROM checkpoints WHERE size > ?", (m,))
    return m, count


def member_events(con) -> list[bytes]:
    m, count = manifest_seq(con)
    return [event_of(entry(con, m + 1 + i)) for i in range(count)]


@ledger_check(batch=True)
def batch_intact(con, demo, tmp):
    """The ledger with a batch of 3 events under one signature verifies (§13)."""
    return 0, f"OK: {count(con)} entries", ()


@ledger_check(batch=True)
def batch_member_changed(con, demo, tmp):
    """A member's event changed (chain and tree rewritten): the batch root no longer matches;
    the fault is reported at the last member."""
    m, c = manifest_seq(con)
    put(con, m + 1, entry(con, m + 1).replace(b'"mass_kg":300', b'"mass_kg":301'))
    return 1, f"FAIL: entry {m + c}: the {c} members of batch {m}", ()


@ledger_check(batch=True, needs_keys=True)
def batch_member_changed_and_resigned(con, demo, tmp):
    """... and the manifest re-signed by the actor over the new root: valid again."""
    events = member_events(con)
    events[0] = events[0].replace(b'"mass_kg":300', b'"mass_kg":301')
    rebatch(con, demo, events)
    return 0, f"OK: {count(con)} entries", ()


@ledger_check(batch=True)
def batch_ledger_ends_inside(con, demo, tmp):
    """The last member deleted (and the checkpoints covering it): the ledger ends inside the
    batch, a fault at the missing member."""
    n = count(con)
    con.execute("DELETE FROM entries WHERE seq = ?", (n - 1,))
    con.execute("DELETE FROM checkpoints WHERE size >= ?", (n,))
    return 1, f"FAIL: entry {n - 1}: the ledger ends inside batch", ()


@ledger_check(batch=True, needs_keys=True)
def batch_member_signed_on_its_own(con, demo, tmp):
    """Member 1 replaced by the same event signed on its own: a batch is open (§13)."""
    m, _ = manifest_seq(con)
    b = entry(con, m + 2)
    own = (header_of(b).rsplit(b"\n", 1)[0] + b"\nkey " + key_of(con, "cellco") + b"\nsig "
           + b"A" * 86 + b"==\n\n" + event_of(b))
    put(con, m + 2, resign(own, demo.private_key("cellco"), event_of(b)))
    return 1, f"FAIL: entry {m + 2}: batch {m} is open", ()


@ledger_check(batch=True)
def batch_line_without_batch(con, demo, tmp):
    """An entry before the manifest given a batch line: no batch is open."""
    m, _ = manifest_seq(con)
    b = entry(con, m - 1)
    lines = header_of(b).split(b"\n")
    put(con, m - 1, b"\n".join(lines[:4] + [b"batch %d 0" % (m - 2)]) + b"\n\n" + event_of(b))
    return 1, f"FAIL: entry {m - 1}: a batch line, but no batch is open", ()


@ledger_check(batch=True)
def batch_lines_out_of_order(con, demo, tmp):
    """Members 0 and 1 swap their batch lines."""
    m, _ = manifest_seq(con)
    put(con, m + 1, set_header(entry(con, m + 1), "batch", b"%d 1" % m))
    put(con, m + 2, set_header(entry(con, m + 2), "batch", b"%d 0" % m))
    return 1, f"FAIL: entry {m + 1}: batch line {m} 1 out of order", ()


@ledger_check(batch=True)
def batch_members_reordered(con, demo, tmp):
    """Members 0 and 1 swap their events: the root differs (reported at the last member)."""
    m, c = manifest_seq(con)
    e1, e2 = entry(con, m + 1), entry(con, m + 2)
    put(con, m + 1, header_of(e1) + b"\n\n" + event_of(e2), rehash=False)
    put(con, m + 2, header_of(e2) + b"\n\n" + event_of(e1), rehash=False)
    rechain(con, m + 1)
    return 1, f"FAIL: entry {m + c}: the {c} members of batch {m}", ()


@ledger_check(batch=True)
def batch_manifest_number_with_leading_zero(con, demo, tmp):
    """`batch 0M 0`: M written with a leading zero."""
    m, _ = manifest_seq(con)
    put(con, m + 1, set_header(entry(con, m + 1), "batch", b"0%d 0" % m))
    return 1, f"FAIL: entry {m + 1}: header line", ()


@ledger_check(batch=True, needs_keys=True)
def batch_with_a_registry_member(con, demo, tmp):
    """A registry event (by the batch's actor) as member 1, manifest re-signed."""
    events = member_events(con)
    events[1] = (b'{"actor":"cellco","at":"2025-02-01T08:05:00Z","data":{"key":"'
                 + _new_public_b64() + b'"},"event_id":"00000000-0000-4000-8000-00000000b0f1",'
                 b'"kind":"party.key-added","party":"cellco"}')
    m, _ = rebatch(con, demo, events)
    return 1, f"FAIL: entry {m + 2}: a party.key-added event cannot be a batch member", ()


@ledger_check(batch=True, needs_keys=True)
def batch_with_another_actor(con, demo, tmp):
    """Member 1 stated by autowerk inside cellco's batch: the manifest's key is not its."""
    events = member_events(con)
    events[1] = (b'{"actor":"autowerk","at":"2025-02-01T08:05:00Z","data":{"market":"FR"},'
                 b'"event_id":"00000000-0000-4000-8000-00000000b0f2","kind":"sold",'
                 b'"pack":"PACK-BT-0001"}')
    m, _ = rebatch(con, demo, events)
    return 1, f"FAIL: entry {m + 2}: key", ()


@ledger_check(batch=True, needs_keys=True)
def batch_member_before_key_validity(con, demo, tmp):
    """Member 0 dated 2019, before cellco's key is valid (2020): step 9 uses the member's
    own `at`."""
    events = member_events(con)
    events[0] = events[0].replace(b"2025-02-01T08:00:00Z", b"2019-06-01T08:00:00Z")
    m, _ = rebatch(con, demo, events)
    return 1, f"FAIL: entry {m + 1}: key", ()


@ledger_check(batch=True, needs_keys=True,
              ref_differs="the reference accepts a note in a manifest's data")
def batch_manifest_with_a_note(con, demo, tmp):
    """A manifest whose data has a note besides count and root (§13: exactly those two)."""
    m, _ = rebatch(con, demo, member_events(con), data_extra={"note": "x"})
    return 1, f"FAIL: entry {m}: a batch manifest's data must be exactly", ()


@ledger_check(batch=True, needs_keys=True)
def batch_manifest_by_the_operator(con, demo, tmp):
    """A manifest stated and signed by the operator (members re-stated by the operator)."""
    events = [e.replace(b'"actor":"cellco"', b'"actor":"operator"') for e in member_events(con)]
    m, _ = rebatch(con, demo, events, party="operator", manifest_actor="operator")
    return 1, f"FAIL: entry {m}: the operator cannot state batch manifests", ()


def run_ledger_checks(R: Results, demo: Demo, ref: str | None, tmp: str, source: str,
                      checks: list, label: str = "ledger"):
    """Each ledger check on its own copy of `source`; plverify's verdict, then the
    reference's."""
    for fn, needs_keys, raw_tree, ref_differs in checks:
        name = f"{label}: {fn.__name__}"
        if needs_keys and not demo.has_keys():
            print(f"SKIP  {name}: demo key files not found in {demo.dir}")
            continue
        db = os.path.join(tmp, fn.__name__ + ".db")
        con = copy_ledger(source, db)
        try:
            want_code, want_prefix, extra = fn(con, demo, tmp)
            if not raw_tree:
                rebuild_tree(con)
            con.commit()
        finally:
            con.close()
        code, out = run_verifier("ledger", db, *extra)
        ok = code == want_code and out.startswith(want_prefix)
        R.check(name, ok, out[:150] if ok else f"got exit {code} {out!r}, want {want_prefix!r}")
        if ref:
            ref_code, ref_out = run_reference(ref, "verify", "--ledger", db, *extra)
            R.agrees(name, (ref_code == 0) == (want_code == 0),
                     f"reference exit {ref_code}: {ref_out[:120]}", ref_differs)


# ---------------------------------------------------------------------------------------------
# Bundles (§11) and tlog-proofs (§10)


class Keys:
    """The log and witness verifier keys of the demo."""

    def __init__(self, demo: Demo):
        self.vkey = demo.read("vkey.txt").decode().strip()
        self.wkey = demo.read("wkey.txt").decode().strip()
        self.log = pv.parse_vkey(self.vkey)
        self.witness = pv.parse_vkey(self.wkey, pv.ALG_COSIGNATURE)


def bundle_with(bundle: dict, **changes) -> bytes:
    """A copy of the bundle object with members replaced, in canonical byte form."""
    obj = dict(bundle, **changes)
    return pv.jcs_bytes(obj) + b"\n"


def flip_positions(size: int, budget: int) -> list[int]:
    """Every position when it fits the budget, else an even spread."""
    if size <= budget:
        return list(range(size))
    return sorted({i * (size - 1) // (budget - 1) for i in range(budget)})


def run_flips(R: Results, label: str, data: bytes, verify, ref: str | None, ref_args,
              tmp: str, ref_sample: int = 60):
    """Flip the low bit of each byte (every byte if it takes < ~20 s in-process)."""
    start = time.perf_counter()
    accepted, positions = [], list(range(len(data)))
    for n, i in enumerate(positions):
        b = bytearray(data)
        b[i] ^= 0x01
        if faults(verify, bytes(b)) is None:
            accepted.append(i)
        if time.perf_counter() - start > 20:
            positions = positions[:n + 1] + flip_positions(len(data), 2000)[::7]
            break
    elapsed = time.perf_counter() - start
    R.check(f"{label}: every one-bit flip of {len(positions)} of {len(data)} bytes is rejected",
            not accepted, f"{elapsed:.1f} s" + (f"; accepted at {accepted[:10]}" if accepted
                                               else ""))
    if not ref:
        return
    disagree = []
    for i in flip_positions(len(data), ref_sample):
        b = bytearray(data)
        b[i] ^= 0x01
        path = os.path.join(tmp, "flipped")
        with open(path, "wb") as f:
            f.write(bytes(b))
        code, _ = run_reference(ref, "verify-bundle", path, *ref_args)
        if (code == 0) != (i in accepted):
            disagree.append(i)
    R.check(f"{label}: the reference rejects the same {ref_sample} sampled flips", not disagree,
            f"disagree at {disagree[:10]}" if disagree else "")


def compare_file(R: Results, name: str, data: bytes, want_ok: bool, verify, ref, ref_args,
                 tmp: str, contains: str = "", ref_differs: str = ""):
    """One bundle/proof through plverify (in-process) and the reference."""
    err = faults(verify, data)
    ok = (err is None) == want_ok and (want_ok or contains in err)
    R.check(name, ok, err or "accepted")
    if ref:
        path = os.path.join(tmp, "file")
        with open(path, "wb") as f:
            f.write(data)
        code, out = run_reference(ref, "verify-bundle", path, *ref_args)
        R.agrees(name, (code == 0) == want_ok,
                 f"reference exit {code}: {out[:120]}", ref_differs)


def run_bundle_checks(R: Results, demo: Demo, keys: Keys, ref: str | None, tmp: str):
    data = demo.read("sl.bundle")
    bundle = json.loads(data)
    w_args = ("--trust", keys.vkey, "--witness", keys.wkey, "--min-witnesses", "1")

    def verify_w1(b):
        return pv.verify_bundle(b, keys.log, [keys.witness], 1)

    def verify_w0(b):
        return pv.verify_bundle(b, keys.log, [keys.witness], 0)

    w0_args = ("--trust", keys.vkey, "--witness", keys.wkey)
    compare_file(R, "bundle: genuine, 1 witness required", data, True, verify_w1, ref, w_args,
                 tmp)
    code, out = run_verifier("bundle", demo.path("sl.bundle"), *w_args)
    R.check("bundle: CLI prints the OK line", code == 0 and out.startswith(
        "OK: pack SL-STOR-0001 is ") and f"entries proven against {keys.log.name} size " in out,
        out)
    code, out = run_verifier("bundle", demo.path("sl.bundle"), "--trust", keys.vkey,
                             "--witness", keys.wkey, "--min-witnesses", "2")
    R.check("bundle: --min-witnesses above the witness keys is a usage error", code == 2, out)
    cp = bundle["checkpoint"]
    unwitnessed = cp[:cp.index("\n\u2014 ")] + "\n" + cp.split("\n")[4] + "\n"
    compare_file(R, "bundle: witness cosignature removed, 1 required",
                 bundle_with(bundle, checkpoint=unwitnessed), False, verify_w1, ref, w_args, tmp,
                 "witness")
    compare_file(R, "bundle: witness cosignature removed, none required",
                 bundle_with(bundle, checkpoint=unwitnessed), True, verify_w0, ref, w0_args, tmp)
    lines = cp.split("\n")
    sig = base64.b64decode(lines[5].split(" ")[2])
    bad = base64.b64encode(sig[:-1] + bytes([sig[-1] ^ 1])).decode()
    corrupt = "\n".join(lines[:5] + [" ".join(lines[5].split(" ")[:2] + [bad])] + lines[6:])
    compare_file(R, "bundle: corrupt cosignature of a known witness",
                 bundle_with(bundle, checkpoint=corrupt), False, verify_w0, ref, w0_args, tmp,
                 "invalid signature")
    compare_file(R, "bundle: corrupt cosignature of an unknown witness is ignored",
                 bundle_with(bundle, checkpoint=corrupt), True,
                 lambda b: pv.verify_bundle(b, keys.log), ref, ("--trust", keys.vkey), tmp)
    compare_file(R, "bundle: checkpoint swapped for cp1.txt (smaller tree)",
                 bundle_with(bundle, checkpoint=demo.read("cp1.txt").decode()), False, verify_w0,
                 ref, w0_args, tmp, "inclusion proof")
    entries = bundle["entries"]
    k = len(entries) // 2
    moved = dict(entries[k], seq=entries[k]["seq"] + 1)
    if k + 1 < len(entries) and moved["seq"] == entries[k + 1]["seq"]:
        moved["seq"] = entries[k]["seq"] - 1
    compare_file(R, f"bundle: entry {entries[k]['seq']} given as seq {moved['seq']}",
                 bundle_with(bundle, entries=entries[:k] + [moved] + entries[k + 1:]), False,
                 verify_w0, ref, w0_args, tmp)
    swapped = dict(entries[k], proof=entries[k + 1]["proof"])
    compare_file(R, "bundle: an entry with its neighbour's proof",
                 bundle_with(bundle, entries=entries[:k] + [swapped] + entries[k + 1:]), False,
                 verify_w0, ref, w0_args, tmp, "inclusion proof")
    reg = next(e for e in entries if b'"party.registered","party":"secondlife"'
               in base64.b64decode(e["bytes"]))
    compare_file(R, "bundle: secondlife's registration left out",
                 bundle_with(bundle, entries=[e for e in entries if e is not reg]), False,
                 verify_w0, ref, w0_args, tmp, "not a registered party")
    produced = next(e for e in entries if b'"kind":"produced","pack":"SL-STOR-0001"'
                    in base64.b64decode(e["bytes"]))
    compare_file(R, "bundle: the pack's produced entry left out",
                 bundle_with(bundle, entries=[e for e in entries if e is not produced]), False,
                 verify_w0, ref, w0_args, tmp)
    compare_file(R, "bundle: entry 0 left out",
                 bundle_with(bundle, entries=entries[1:]), False, verify_w0, ref, w0_args, tmp,
                 "entry 0")
    compare_file(R, "bundle: two entries in reverse order",
                 bundle_with(bundle, entries=entries[:k] + [entries[k + 1], entries[k]]
                             + entries[k + 2:]), False, verify_w0, ref, w0_args, tmp)
    compare_file(R, "bundle: pack set to an included predecessor (a valid selection)",
                 bundle_with(bundle, pack="PACK-EV-0002"), True, verify_w0, ref, w0_args, tmp)
    compare_file(R, "bundle: pack set to a pack it does not include",
                 bundle_with(bundle, pack="PACK-EV-0003"), False, verify_w0, ref, w0_args, tmp,
                 "does not exist")
    compare_file(R, "bundle: format string changed",
                 bundle_with(bundle, format="packledger-bundle/v2"), False, verify_w0, ref,
                 w0_args, tmp, "format")
    compare_file(R, "bundle: an extra member",
                 bundle_with(bundle, comment="x"), False, verify_w0, ref, w0_args, tmp,
                 "members")
    compare_file(R, "bundle: pretty-printed (not the canonical byte form)",
                 json.dumps(bundle, indent=1, sort_keys=True, ensure_ascii=False).encode()
                 + b"\n", False, verify_w0, ref, w0_args, tmp, "canonical")
    compare_file(R, "bundle: no final line feed", data[:-1], False, verify_w0, ref, w0_args,
                 tmp)
    compare_file(R, "bundle: two final line feeds", data + b"\n", False, verify_w0, ref,
                 w0_args, tmp)
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    wrong_log = pv.make_note_key(keys.log.name, other)
    compare_file(R, "bundle: verified against another log key of the same name", data, False,
                 lambda b: pv.verify_bundle(b, wrong_log), ref, ("--trust", wrong_log.text),
                 tmp, "not signed by the log key")
    run_flips(R, "bundle", data, verify_w1, ref, w_args, tmp)


def audit_path(index: int, leaves: list[bytes]) -> list[bytes]:
    """RFC 6962 PATH(m, D[n]): the inclusion proof, leaf sibling first."""
    if len(leaves) == 1:
        return []
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    if index < k:
        return audit_path(index, leaves[:k]) + [pv.merkle_root(leaves[k:])]
    return audit_path(index - k, leaves[k:]) + [pv.merkle_root(leaves[:k])]


def forge_bundle(bundle: dict, log_priv, origin: str, replace=None, body_extra: bytes = b"",
                 extra_sig: bool = False, batch_proofs=None) -> bytes:
    """The bundle's entries (some replaced: seq -> entry bytes; batch_proofs: seq -> hashes)
    in a made-up tree of the same size, whose other leaves are filler, with a checkpoint
    signed by `log_priv` under `origin` (with extension lines `body_extra`, and a bad second
    signature line)."""
    replace, batch_proofs = replace or {}, batch_proofs or {}
    old_batch_proofs = {e["seq"]: e["batch_proof"] for e in bundle["entries"]
                        if "batch_proof" in e}
    size = int(bundle["checkpoint"].split("\n")[1])
    chosen = [(e["seq"], replace.get(e["seq"], base64.b64decode(e["bytes"])))
              for e in bundle["entries"]]
    leaves = [leaf(b"filler %d" % i) for i in range(size)]
    for seq, b in chosen:
        leaves[seq] = leaf(b)
    body = (f"{origin}\n{size}\n{base64.b64encode(pv.merkle_root(leaves)).decode()}\n"
            .encode() + body_extra)
    nk = pv.make_note_key(origin, log_priv.public_key().public_bytes_raw())
    note = body + b"\n" + pv.SIG_LINE_PREFIX + origin.encode() + b" " + base64.b64encode(
        nk.key_hash + log_priv.sign(body)) + b"\n"
    if extra_sig:
        note += pv.SIG_LINE_PREFIX + origin.encode() + b" " + base64.b64encode(
            nk.key_hash + log_priv.sign(b"something else\n")) + b"\n"
    entries = [{"seq": seq, "bytes": base64.b64encode(b).decode(),
                "proof": [base64.b64encode(h).decode() for h in audit_path(seq, leaves)]}
               for seq, b in chosen]
    for e in entries:
        if e["seq"] in batch_proofs:
            e["batch_proof"] = [base64.b64encode(h).decode() for h in batch_proofs[e["seq"]]]
        elif e["seq"] in old_batch_proofs:
            e["batch_proof"] = old_batch_proofs[e["seq"]]
    return bundle_with(bundle, checkpoint=note.decode(), entries=entries)


def run_forged_bundle_checks(R: Results, demo: Demo, keys: Keys, ref: str | None, tmp: str):
    """Bundles re-made with the operator's key (or another): what only a signer could do."""
    if not demo.has_keys():
        print("SKIP  forged bundles: demo key files not found")
        return
    bundle = json.loads(demo.read("sl.bundle"))
    op = demo.private_key("operator")
    origin = keys.log.name
    args = ("--trust", keys.vkey)

    def verify(b):
        return pv.verify_bundle(b, keys.log)

    compare_file(R, "forged bundle: re-made tree and checkpoint, same entries", forge_bundle(
        bundle, op, origin), True, verify, ref, args, tmp)
    compare_file(R, "forged bundle: checkpoint with a C2SP extension line", forge_bundle(
        bundle, op, origin, body_extra=b"extension line\n"), True, verify, ref, args, tmp)
    compare_file(R, "forged bundle: a second, failing signature line of the log key",
                 forge_bundle(bundle, op, origin, extra_sig=True), False, verify, ref, args, tmp,
                 "invalid signature", ref_differs="the reference, like x/mod, skips a known "
                 "key's repeated signature lines")
    other = Ed25519PrivateKey.generate()
    other_key = pv.make_note_key(origin, other.public_key().public_bytes_raw())
    compare_file(R, "forged bundle: log key other than ledger.init's operator_key",
                 forge_bundle(bundle, other, origin), False,
                 lambda b: pv.verify_bundle(b, other_key), ref, ("--trust", other_key.text), tmp,
                 "not an operator key")
    op_other = pv.make_note_key("other.example/log", op.public_key().public_bytes_raw())
    compare_file(R, "forged bundle: checkpoint origin other than ledger.init's",
                 forge_bundle(bundle, op, "other.example/log"), False,
                 lambda b: pv.verify_bundle(b, op_other), ref, ("--trust", op_other.text), tmp,
                 "origin")
    entries = {e["seq"]: base64.b64decode(e["bytes"]) for e in bundle["entries"]}
    seqs = sorted(entries)
    k = seqs[len(seqs) // 2]
    before = header(entries[seqs[len(seqs) // 2 - 1]], "time").decode()
    earlier = before[:20] + "%06dZ" % max(int(before[20:26]) - 1, 0)
    if earlier != before:
        compare_file(R, f"forged bundle: entry {k} recorded before the previous included entry",
                     forge_bundle(bundle, op, origin, {k: set_header(entries[k], "time",
                                                                      earlier.encode())}),
                     False, verify, ref, args, tmp, "record time")
    at0 = pv.parse_instant(json.loads(event_of(entries[0]))["at"], "at") - 301 * 10**9
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at0 // 10**9)) + ".%06dZ" % (
        at0 % 10**9 // 1000)
    compare_file(R, "forged bundle: entry 0 recorded 301 s before its at",
                 forge_bundle(bundle, op, origin, {0: set_header(entries[0], "time",
                                                                  stamp.encode())}),
                 False, verify, ref, args, tmp, "300 seconds")
    last = seqs[-1]
    copy = set_header(entries[seqs[-2]], "seq", str(last).encode())
    compare_file(R, f"forged bundle: entry {last} replaced by a copy of entry {seqs[-2]}",
                 forge_bundle(bundle, op, origin, {last: copy}), False, verify, ref, args, tmp,
                 "duplicate event_id")


def run_batch_bundle_checks(R: Results, demo: Demo, keys: Keys, ref: str | None, tmp: str):
    """§11 with batch members (§13): batch_proof and manifest."""
    data = demo.read("bt.bundle")
    bundle = json.loads(data)
    args = ("--trust", keys.vkey)

    def verify(b):
        return pv.verify_bundle(b, keys.log)

    compare_file(R, "batch bundle: genuine", data, True, verify, ref, args, tmp)
    compare_file(R, "batch member tlog-proof (five header lines): genuine",
                 demo.read("member.tlog-proof"), True,
                 lambda b: pv.verify_tlog_proof(b, keys.log), ref, args, tmp)
    entries = bundle["entries"]
    manifest = next(e for e in entries if b'"kind":"batch"' in base64.b64decode(e["bytes"]))
    members = [e for e in entries if "batch_proof" in e]

    def with_entries(new_entries) -> bytes:
        return bundle_with(bundle, entries=new_entries)

    def replaced(old, new) -> list:
        return [new if e is old else e for e in entries]

    compare_file(R, "batch bundle: the manifest left out",
                 with_entries([e for e in entries if e is not manifest]), False, verify, ref,
                 args, tmp, "manifest")
    compare_file(R, "batch bundle: a member without its batch_proof",
                 with_entries(replaced(members[0], {k: v for k, v in members[0].items()
                                                    if k != "batch_proof"})),
                 False, verify, ref, args, tmp, "batch_proof")
    compare_file(R, "batch bundle: the manifest with a batch_proof",
                 with_entries(replaced(manifest, dict(manifest,
                                                      batch_proof=members[0]["batch_proof"]))),
                 False, verify, ref, args, tmp, "batch_proof")
    if len(members) > 1:
        first = dict(members[0], batch_proof=members[-1]["batch_proof"])
        compare_file(R, "batch bundle: a member with another member's batch_proof",
                     with_entries(replaced(members[0], first)), False, verify, ref, args, tmp,
                     "batch_proof")
    compare_file(R, "batch bundle: a member with an empty batch_proof",
                 with_entries(replaced(members[0], dict(members[0], batch_proof=[]))), False,
                 verify, ref, args, tmp, "batch_proof")
    run_flips(R, "batch bundle", data, verify, ref, args, tmp)
    if not demo.has_keys() or len(members) < 2:
        return
    # A member given another position in a re-signed batch (seq no longer M + 1 + I).
    con = sqlite3.connect(demo.path("batch.db"))
    try:
        m, c = manifest_seq(con)
        events = [event_of(entry(con, m + 1 + i)) for i in range(c)]
        man = entry(con, m)
        last = entry(con, m + c)
    finally:
        con.close()
    order = [0, c - 1] + list(range(1, c - 1))  # the last member moves to index 1
    new_events = [events[i] for i in order]
    leaves = [leaf(SIGN_PREFIX + e) for e in new_events]
    mev = json.loads(event_of(man))
    mev["data"]["root"] = base64.b64encode(pv.merkle_root(leaves)).decode()
    new_man = resign(man, demo.private_key("cellco"), pv.jcs_bytes(mev))
    moved = set_header(last, "batch", b"%d 1" % m)
    forged = forge_bundle(bundle, demo.private_key("operator"), keys.log.name,
                          {m: new_man, m + c: moved},
                          batch_proofs={m + 1: audit_path(0, leaves),
                                        m + c: audit_path(1, leaves)})
    # §11: a member's seq must be M + 1 + I, so the moved member is rejected.
    compare_file(R, f"forged batch bundle: entry {m + c} as member 1 of a re-signed batch",
                 forged, False, verify, ref, args, tmp)


def run_proof_checks(R: Results, demo: Demo, keys: Keys, ref: str | None, tmp: str):
    data = demo.read("e17.tlog-proof")
    args = ("--trust", keys.vkey)

    def verify(b):
        return pv.verify_tlog_proof(b, keys.log)

    compare_file(R, "tlog-proof: genuine", data, True, verify, ref, args, tmp)
    code, out = run_verifier("proof", demo.path("e17.tlog-proof"), *args)
    R.check("tlog-proof: CLI prints the OK line", code == 0 and out.startswith(
        f"OK: entry 17 is in {keys.log.name} at size "), out)
    compare_file(R, "tlog-proof: 1 witness required, none present", data, False,
                 lambda b: pv.verify_tlog_proof(b, keys.log, [keys.witness], 1), ref,
                 args + ("--witness", keys.wkey, "--min-witnesses", "1"), tmp, "witness")
    compare_file(R, "tlog-proof: index 16 (wrong index)", data.replace(b"\nindex 17\n",
                 b"\nindex 16\n"), False, verify, ref, args, tmp)
    lines = data.split(b"\n")
    note_start = lines.index(b"") + 1
    swapped = b"\n".join(lines[:note_start]) + b"\n" + demo.read("cp1.txt")
    compare_file(R, "tlog-proof: checkpoint swapped for cp1.txt", swapped, False, verify, ref,
                 args, tmp, "inclusion proof")
    compare_file(R, "tlog-proof: witnessed checkpoint cp2w.txt, 1 witness required",
                 b"\n".join(lines[:note_start]) + b"\n" + demo.read("cp2w.txt"), True,
                 lambda b: pv.verify_tlog_proof(b, keys.log, [keys.witness], 1), ref,
                 args + ("--witness", keys.wkey, "--min-witnesses", "1"), tmp)
    compare_file(R, "tlog-proof: last proof hash dropped",
                 b"\n".join(lines[:note_start - 2] + lines[note_start - 1:]), False, verify, ref,
                 args, tmp, "inclusion proof")
    compare_file(R, "tlog-proof: no extra line", b"\n".join(lines[:1] + lines[2:]), False, verify,
                 ref, args, tmp)
    run_flips(R, "tlog-proof", data, verify, ref, args, tmp)


# =============================================================================================


def main() -> int:
    if len(sys.argv) > 2 or (len(sys.argv) == 2 and not os.path.exists(sys.argv[1])):
        print("usage: python3 Tools/test_plverify.py [DEMO_DIR]", file=sys.stderr)
        return 2
    R = Results()
    start = time.perf_counter()
    test_note_vectors(R)
    test_cosignature_roundtrip(R)
    test_rfc6962_vectors(R)
    test_rfc6962_probes(R)
    test_jcs_and_entry_vectors(R)
    if len(sys.argv) == 2:
        directory = sys.argv[1]
        if os.path.isfile(directory):  # the former CLI took the path of demo.db
            directory = os.path.dirname(os.path.abspath(directory))
        ref = find_reference()
        if ref is None:
            print(f"NOTE  no packledger binary at {REFERENCE}: no comparison with the reference")
        demo = Demo(directory, ref)
        try:
            demo.prepare()
        except (RuntimeError, OSError, ValueError) as exc:
            R.check("demo: prepare the demo directory", False, str(exc))
        else:
            keys = Keys(demo)
            with tempfile.TemporaryDirectory(prefix="plverify-test-") as tmp:
                code, out = run_verifier()
                R.check("cli: no arguments is a usage error", code == 2, f"exit {code}")
                code, out = run_verifier("ledger", os.path.join(tmp, "missing.db"))
                R.check("cli: a missing file is a usage error", code == 2, f"exit {code}")
                code, out = run_verifier("bundle", demo.path("sl.bundle"), "--trust", "x+y+z")
                R.check("cli: a bad verifier key is a usage error", code == 2, out)
                junk = os.path.join(tmp, "junk.db")
                with open(junk, "wb") as f:
                    f.write(b"not a database" * 100)
                code, out = run_verifier("ledger", junk)
                R.check("cli: not a database is a usage error", code == 2, out)
                other = os.path.join(tmp, "appid.db")
                con = copy_ledger(demo.db, other)
                con.execute("PRAGMA application_id = 1")
                con.commit()
                con.close()
                code, out = run_verifier("ledger", other)
                R.check("cli: a wrong application_id is a usage error", code == 2, out)
                run_ledger_checks(R, demo, ref, tmp, demo.db, LEDGER_CHECKS)
                run_bundle_checks(R, demo, keys, ref, tmp)
                run_forged_bundle_checks(R, demo, keys, ref, tmp)
                run_proof_checks(R, demo, keys, ref, tmp)
                why = demo.prepare_batch()
                if why:
                    R.check("batch: prepare batch.db, cp3.txt and bt.bundle", False, why)
                else:
                    run_ledger_checks(R, demo, ref, tmp, demo.path("batch.db"), BATCH_CHECKS,
                                      "batch ledger")
                    run_batch_bundle_checks(R, demo, keys, ref, tmp)
    print(f"(took {time.perf_counter() - start:.1f} s)")
    print(f"{R.passed} passed, {R.failed} failed")
    return 1 if R.failed else 0


if __name__ == "__main__":
    sys.exit(main())
