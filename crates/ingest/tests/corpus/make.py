#!/usr/bin/env python3
"""Writes the bad-input corpus next to this script, and cases.tsv listing what each file must give.

Run once by hand (needs pyarrow for the Parquet cases); the files are committed. Each row-level
case holds one good row and one bad row: ingest must accept 1 and quarantine 1 under the rule.
"""
import gzip, os, pathlib

HERE = pathlib.Path(__file__).parent
A1 = "aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqmfyhwf"
A2 = "aleo14tlamssdmg3d0p5zmljma573jghe2q9n6wz29qf36re2glcedcpqfg4add"
E1 = "0x5C69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f"
HDR = "timestamp,chain,tx_id,address,action,counterparty,amount,asset,program"
GOOD = f"2024-03-01T00:00:00Z,aleo,at1good,{A1},transfer,{A2},1000000,credits,credits.aleo"

# --- bech32m, to build off-curve / above-modulus addresses -------------------------------
CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
def polymod(values):
    gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3]
    chk = 1
    for v in values:
        b = chk >> 25
        chk = (chk & 0x1ffffff) << 5 ^ v
        for i in range(5):
            chk ^= gen[i] if ((b >> i) & 1) else 0
    return chk
def hrp_expand(h): return [ord(x) >> 5 for x in h] + [0] + [ord(x) & 31 for x in h]
def convertbits(data, frombits, tobits):
    acc = bits = 0; ret = []; maxv = (1 << tobits) - 1
    for v in data:
        acc = (acc << frombits) | v; bits += frombits
        while bits >= tobits:
            bits -= tobits; ret.append((acc >> bits) & maxv)
    if bits: ret.append((acc << (tobits - bits)) & maxv)
    return ret
def bech32m(hrp, data8):
    data = convertbits(data8, 8, 5)
    pm = polymod(hrp_expand(hrp) + data + [0] * 6) ^ 0x2bc830a3
    chk = [(pm >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[d] for d in data + chk)

R = 8444461749428370424248824938781546531375899335154063827935233455917409239041
def on_curve(x):
    num = (1 + x * x) % R; den = (1 - 3021 * x * x) % R
    return den != 0 and pow(num * den % R, (R - 1) // 2, R) in (0, 1)
off_x = next(x for x in range(1, 1000) if not on_curve(x))
OFF = bech32m("aleo", list(off_x.to_bytes(32, "little")))
ABOVE = bech32m("aleo", list((R + 5).to_bytes(32, "little")))
assert bech32m("aleo", list(int.from_bytes(bytes.fromhex("00" * 32), "little").to_bytes(32, "little")))

cases = []
def w(name, content, expect):
    p = HERE / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode())
    cases.append((name, expect))
def row_case(name, bad_row, rule, header=HDR):
    w(name, f"{header}\n{GOOD}\n{bad_row}\n", f"rule:{rule}")
def bad(**kw):
    f = dict(timestamp="2024-03-02T00:00:00Z", chain="aleo", tx_id="at1bad", address=A1, action="swap",
             counterparty="", amount="5", asset="credits", program="aleoswap.aleo")
    f.update(kw)
    return ",".join(f[k] for k in HDR.split(","))

# File-level: the run stops with exit 2 and writes nothing.
w("empty.csv", "", "exit2:empty file")
w("wrong_header.csv", "time,net,wallet,what\n2024-03-01T00:00:00Z,aleo,x,y\n", "exit2:lacks required column")
w("missing_header.csv", f"{GOOD}\n", "exit2:lacks required column")
w("missing_required_column.csv", "timestamp,chain,address,amount\n2024-03-01T00:00:00Z,aleo," + A1 + ",5\n", "exit2:action")
w("duplicate_column.csv", "timestamp,chain,address,action,address\n", "exit2:twice")
w("header_not_utf8.csv", b"timestamp,ch\xffain,address,action\n", "exit2:not UTF-8")
full = gzip.compress(f"{HDR}\n{GOOD}\n".encode() * 50)
w("truncated.csv.gz", full[: len(full) // 2], "exit2:gzip")
w("not_gzip.csv.gz", f"{HDR}\n{GOOD}\n", "exit2:gzip")
w("not_parquet.parquet", f"{HDR}\n{GOOD}\n", "exit2:not a readable Parquet")
w("unknown_extension.txt", f"{HDR}\n{GOOD}\n", "exit2:cannot tell the format")
w("empty.jsonl", "\n\n", "exit2:empty file")
w("empty.parquet", "", "exit2:empty file")

# Row-level: quarantined with the rule, the good row kept.
row_case("aleo_bad_checksum.csv", bad(address=A1[:-1] + "q"), "address.aleo.checksum")
row_case("aleo_bech32_not_bech32m.csv", bad(address="aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqw45mtt"), "address.aleo.bech32_not_bech32m")
row_case("aleo_wrong_hrp.csv", bad(address="aleb1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqddt8zj"), "address.aleo.hrp")
row_case("aleo_31_byte_payload.csv", bad(address="aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwsc8ghggt"), "address.aleo.payload_length")
row_case("aleo_off_curve.csv", bad(address=OFF), "address.aleo.off_curve")
row_case("aleo_x_above_modulus.csv", bad(address=ABOVE), "address.aleo.x_above_modulus")
row_case("evm_eip55_mismatch.csv", bad(address="0x5c69bEe701ef814a2B6a3EDD4B1652CB9cc5aA6f"), "address.evm.eip55")
row_case("evm_short.csv", bad(address="0x5c69bee701ef814a2b6a3edd4b1652cb9cc5aa"), "address.evm.length")
row_case("unknown_address_form.csv", bad(address="alice.eth"), "address.unknown_format")
row_case("counterparty_bad.csv", bad(action="transfer", counterparty="0xZZ69bee701ef814a2b6a3edd4b1652cb9cc5aa6f"), "counterparty.evm.hex")
row_case("transfer_without_counterparty.csv", bad(action="transfer"), "counterparty.missing")
row_case("amount_negative.csv", bad(amount="-5"), "amount.negative")
row_case("amount_fractional.csv", bad(amount="1.5"), "amount.fractional")
row_case("amount_exponent.csv", bad(amount="1e6"), "amount.exponent")
row_case("amount_over_2_128.csv", bad(amount=str(2**128)), "amount.overflow")
row_case("amount_not_a_number.csv", bad(amount="ten"), "amount.format")
row_case("timestamp_unknown_form.csv", bad(timestamp="31/01/2024 12:00"), "timestamp.format")
row_case("timestamp_out_of_range.csv", bad(timestamp="1999-12-31T23:59:59Z"), "timestamp.range")
row_case("timestamp_missing.csv", bad(timestamp=""), "timestamp.missing")
row_case("chain_bad.csv", bad(chain="Aleo Mainnet"), "chain.format")
row_case("action_bad.csv", bad(action="Swap!"), "action.format")
row_case("tx_id_over_long.csv", bad(tx_id="a" * 129), "tx_id.format")
row_case("program_over_long.csv", bad(program="p" * 65), "program.format")
row_case("field_count.csv", bad() + ",extra", "csv.field_count")
w("non_utf8.csv", f"{HDR}\n{GOOD}\n".encode() + bad(program="caf\udce9").encode("utf-8", "surrogateescape") + b"\n", "rule:encoding.utf8")
w("nul_byte.csv", f"{HDR}\n{GOOD}\n" + bad(asset="cred\x00its") + "\n", "rule:field.nul")
w("duplicates.csv", f"{HDR}\n{GOOD}\n{GOOD}\n", "dup:1")
w("bad_row.csv.gz", gzip.compress(f"{HDR}\n{GOOD}\n{bad(amount='-1')}\n".encode()), "rule:amount.negative")
J_GOOD = '{"timestamp":1709251200,"chain":"aleo","tx_id":"at1good","address":"%s","action":"swap","amount":5}' % A1
w("jsonl_syntax.jsonl", J_GOOD + "\n" + '{"timestamp":1709251200,"chain":"aleo"\n', "rule:json.syntax")
w("jsonl_not_object.jsonl", J_GOOD + "\n[1,2,3]\n", "rule:json.not_object")
w("jsonl_bool_amount.jsonl", J_GOOD + "\n" + J_GOOD.replace('"amount":5', '"amount":true') + "\n", "rule:json.type")
w("jsonl_float_amount.jsonl", J_GOOD + "\n" + J_GOOD.replace('"amount":5', '"amount":2.5').replace("at1good", "at1b") + "\n", "rule:amount.fractional")
w("jsonl_huge_amount.jsonl", J_GOOD + "\n" + J_GOOD.replace('"amount":5', '"amount":%d' % 2**128).replace("at1good", "at1b") + "\n", "rule:amount.overflow")

import pyarrow as pa, pyarrow.parquet as pq
def pq_write(name, cols, expect):
    pq.write_table(pa.table(cols), HERE / name)
    cases.append((name, expect))
base = dict(timestamp=pa.array([1709251200, 1709251300], pa.int64()), chain=["aleo", "aleo"],
            address=[A1, A1], action=["swap", "swap"])
pq_write("parquet_amount_float.parquet", dict(base, amount=pa.array([1.5, 2.0], pa.float64())), "exit2:column `amount` has type")
pq_write("parquet_timestamp_float.parquet", dict(base, timestamp=pa.array([1.0, 2.0], pa.float64())), "exit2:column `timestamp` has type")
pq_write("parquet_address_int.parquet", dict(base, address=pa.array([1, 2], pa.int64())), "exit2:column `address` has type")
pq_write("parquet_bad_address.parquet", dict(base, address=[A1, OFF]), "rule:address.aleo.off_curve")
pq_write("parquet_negative_amount.parquet", dict(base, amount=pa.array([5, -5], pa.int64())), "rule:amount.negative")

with open(HERE / "cases.tsv", "w") as f:
    f.write("# file\texpect (exit2:<text in the error> | rule:<quarantine rule> | dup:<n>)\n")
    for n, e in cases:
        f.write(f"{n}\t{e}\n")
print(len(cases), "cases")
