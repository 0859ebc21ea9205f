#!/usr/bin/env bash
# Builds a small demo ledger through the packledger CLI alone: seven parties, packs that go
# through every event kind (including a second-life pack derived from a repurposed one),
# then prints histories and the verification result.
#
#   bash Tools/demo.sh [DIR]      (default DIR: ./demo, recreated each run)
#   PACKLEDGER_BIN=path/to/packledger bash Tools/demo.sh DIR   (use a prebuilt binary)
set -euo pipefail
cd "$(dirname "$0")/.."
# PACKLEDGER_BIN names a prebuilt binary (the test suite uses it; building from inside
# `swift test` would wait on its own build lock).
if [ -n "${PACKLEDGER_BIN:-}" ]; then
  bin="$PACKLEDGER_BIN"
else
  swift build -q 2>&1 | grep -v '^$' || true
  bin="$(swift build --show-bin-path)/packledger"
fi
[ -x "$bin" ] || { echo "demo: no packledger binary at $bin (build failed?)" >&2; exit 1; }
dir="${1:-demo}"
root="$PWD"
rm -rf "$dir" && mkdir -p "$dir" && cd "$dir"
export PACKLEDGER_LEDGER="$PWD/demo.db"
pl() { "$bin" "$@"; }
say() { printf '\n== %s\n' "$*"; }

say "create the ledger"
pl init --origin demo.packledger.example/eu-2026

say "register parties (each key valid from 2020)"
while read -r id roles name; do
  pl keygen --out "$id.key" >/dev/null
  extra=()
  case "$roles" in *recycler*|*repurposer*) extra=(--authorized-from 2021-01-01 --authorized-until 2030-12-31) ;; esac
  pl party add "$id" --name "$name" --role "$roles" --key "$id.key.pub" --valid-from 2020-01-01T00:00:00Z "${extra[@]}"
done <<'PARTIES'
cellco manufacturer CellCo Batteries GmbH
autowerk oem AutoWerk AG
eudist distributor EU Parts Distribution
quickfix service QuickFix Service Network
scrapco dismantler,collector ScrapCo Dismantling
secondlife repurposer SecondLife Storage
metalback recycler MetalBack Recycling
PARTIES
pl party list

rec() { # rec KIND PACK ACTOR AT [DATA]
  local data="${5-}"
  [ -n "$data" ] || data='{}'
  pl record "$1" --pack "$2" --actor "$3" --key "$3.key" --at "$4" --data "$data"
}

say "PACK-EV-0001: production to recycling"
P=PACK-EV-0001
rec produced  $P cellco    2023-03-01T08:00:00Z '{"category":"ev","chemistry":"nmc","mass_kg":452.5,"energy_kwh":77,"materials_kg":{"li":9.2,"co":12.1,"ni":36.4,"mn":11.8,"cu":24.0,"al":60.2,"graphite":48.0},"recycled_share":{"co":0.16,"li":0.06,"ni":0.06},"plant":"Leipzig-2","model":"CC-77N"}'
rec sold      $P cellco    2023-03-20T10:00:00Z '{"market":"DE"}'
rec installed $P autowerk  2023-04-02T09:15:00Z '{"vin":"WAUZZZ8V3KA000123","market":"DE"}'
rec serviced  $P quickfix  2024-05-11T14:00:00Z '{"work":"module 3 replaced after BMS fault","replaced_modules":["PACK-EV-0001/M03"]}'
rec removed   $P quickfix  2025-06-30T11:00:00Z '{"reason":"end-of-life"}'
rec assessed  $P quickfix  2025-07-01T09:00:00Z '{"soh_pct":58.5,"grade":"recycle"}'
rec collected $P scrapco   2025-07-03T08:30:00Z '{"site":"ScrapCo Halle"}'
rec transferred $P scrapco 2025-07-10T12:00:00Z '{"to":"metalback"}'
rec intake    $P metalback 2025-07-11T07:45:00Z '{"mass_kg":451.8}'
rec recovered $P metalback 2025-08-20T16:00:00Z '{"input_kg":451.8,"recycled_output_kg":318.4,"recovered_kg":{"li":4.9,"co":11.2,"ni":34.1,"cu":23.0}}'

say "PACK-EV-0002: repurposed into a second-life storage pack"
P=PACK-EV-0002
rec produced  $P cellco     2023-03-02T08:00:00Z '{"category":"ev","chemistry":"lfp","mass_kg":398,"energy_kwh":60,"materials_kg":{"li":6.1,"cu":21.5,"al":52.0}}'
rec installed $P autowerk   2023-04-05T09:15:00Z '{"vin":"WAUZZZ8V3KA000456","market":"FR"}'
rec removed   $P scrapco    2025-02-14T10:00:00Z '{"reason":"vehicle-scrapped"}'
rec assessed  $P secondlife 2025-02-20T10:00:00Z '{"soh_pct":81,"grade":"repurpose"}'
rec repurposed $P secondlife 2025-03-01T10:00:00Z '{"into":"SL-STOR-0001"}'
rec produced  SL-STOR-0001 secondlife 2025-03-15T10:00:00Z '{"category":"industrial","chemistry":"lfp","mass_kg":420,"energy_kwh":48,"derived_from":["PACK-EV-0002"],"model":"SL-48"}'
rec installed SL-STOR-0001 secondlife 2025-04-01T10:00:00Z '{"asset":"BESS Hamburg-Harburg rack 4"}'

say "PACK-EV-0003: removed for a swap, reused, installed again"
P=PACK-EV-0003
rec produced  $P cellco   2023-05-01T08:00:00Z '{"category":"ev","chemistry":"nca","mass_kg":480,"energy_kwh":82}'
rec sold      $P eudist   2023-05-20T08:00:00Z '{"market":"NL"}'
rec installed $P autowerk 2023-06-01T08:00:00Z '{"vin":"WAUZZZ8V3KA000789"}'
rec removed   $P quickfix 2024-10-01T08:00:00Z '{"reason":"swap"}'
rec reused    $P quickfix 2024-10-02T08:00:00Z
rec installed $P quickfix 2024-10-03T08:00:00Z '{"vin":"WAUZZZ8V3KA000790"}'

say "05BPB01ABC1234R5A0000123 (GB/T 34014 code: manufacturer 05B, pack, type B = LFP): scrapped with the vehicle"
P=05BPB01ABC1234R5A0000123
rec produced  $P cellco    2023-07-01T08:00:00Z '{"category":"ev","chemistry":"lfp","mass_kg":310,"energy_kwh":50}'
rec installed $P autowerk  2023-07-15T08:00:00Z '{"vin":"LSVAU2180N2000001","market":"CN"}'
rec collected $P scrapco   2025-09-01T08:00:00Z
rec intake    $P metalback 2025-09-20T08:00:00Z '{"mass_kg":309.5}'

say "idempotent resubmission: the same event id twice writes one entry"
id=3f2b6a0e-9c41-4d7e-8f15-0a1b2c3d4e5f
pl record serviced --pack PACK-EV-0003 --actor quickfix --key quickfix.key --at 2024-12-01T08:00:00Z --event-id $id --data '{"work":"annual inspection"}'
pl record serviced --pack PACK-EV-0003 --actor quickfix --key quickfix.key --at 2024-12-01T08:00:00Z --event-id $id --data '{"work":"annual inspection"}'

say "a forbidden event is rejected and nothing is written"
if pl record intake --pack PACK-EV-0003 --actor metalback --key metalback.key --at 2025-01-01T00:00:00Z --data '{"mass_kg":480}'; then
  echo "demo: expected a rejection" >&2; exit 1
fi

say "the GB/T 34014 code explained, and the battery passport of the second-life pack"
pl code parse 05BPB01ABC1234R5A0000123
pl passport SL-STOR-0001

say "history of PACK-EV-0001"
pl history PACK-EV-0001
say "history of SL-STOR-0001 (second life)"
pl history SL-STOR-0001
say "packs"
pl packs
say "ledger"
pl info
say "verify"
pl verify

say "checkpoint, witness cosignature, evidence bundle, offline verification"
pl checkpoint --out demo-checkpoint.txt
vkey=$(pl info | awk '/^verifier key/ {print $3}')
pl keygen --out demo-witness.key >/dev/null
wkey=$(pl witness init --state demo-witness.json --name witness.demo.example --key demo-witness.key --log "$vkey")
pl witness cosign demo-checkpoint.txt --state demo-witness.json > demo-cosignature.txt
cat demo-cosignature.txt >> demo-checkpoint.txt
cat demo-checkpoint.txt
pl prove SL-STOR-0001 --checkpoint demo-checkpoint.txt --out SL-STOR-0001.bundle
echo "log key:     $vkey"
echo "witness key: $wkey"
pl verify-bundle SL-STOR-0001.bundle --trust "$vkey" --witness "$wkey" --min-witnesses 1
pl verify --trusted demo-checkpoint.txt
say "EPR report for cellco, 2025 (and an HTML version with charts, signed by the operator)"
pl report epr --producer cellco --year 2025
pl report epr --producer cellco --year 2025 --format html --out epr-cellco-2025.html --sign
say "compliance findings (the demo's history is back-dated, so its uploads are late)"
pl report compliance --format markdown

if python3 -c 'import cryptography' 2>/dev/null; then
  say "independent verifier (Tools/plverify.py, written from Schema/FORMAT.md alone)"
  python3 "$root/Tools/plverify.py" ledger demo.db
fi
