#!/usr/bin/env node
// Offline snarkVM oracle for fairdrop's Rust tests.
//
// Reads ONE JSON request from stdin, writes ONE JSON response (one line) to stdout.
// snarkVM is the real one: `@provablehq/sdk` 0.11.10 (snarkVM compiled to WebAssembly).
// Nothing here touches the network: the only download snarkVM attempts (the universal SRS,
// `powers-of-beta-16.usrs`, through a synchronous XMLHttpRequest) is answered from `params_dir`.
// See README.md in this folder for the request/response format and measured timings.
//
// Exit codes: 0 for every answer snarkVM gave (including snarkVM refusing an execution, which is
// `{"ok":false,"error":…}`); 2 for harness failures (bad request, missing parameter file), with
// `{"harness_error":"…"}` on stdout and the message on stderr.

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

// ---------------------------------------------------------------------------------------------
// stdout belongs to the response alone: the SDK and the WASM module print progress with
// console.log ("Loading program", …). Send all of that to stderr (or drop it unless verbose).
const realStdoutWrite = process.stdout.write.bind(process.stdout);
const VERBOSE = !!process.env.FAIRDROP_SNARKVM_VERBOSE;
const toStderr = (...a) => { if (VERBOSE) console.error(...a); };
console.log = toStderr;
console.info = toStderr;
console.debug = toStderr;
console.warn = toStderr;
console.trace = toStderr;

class HarnessError extends Error {}

function finish(obj, code) {
  realStdoutWrite(JSON.stringify(obj) + '\n', () => process.exit(code));
}

function harnessFail(msg) {
  process.stderr.write(`snarkvm harness: ${msg}\n`);
  finish({ harness_error: msg }, 2);
}

// ---------------------------------------------------------------------------------------------
// Offline answer to snarkVM's parameter download.
//
// snarkvm-parameters (wasm build) downloads the SRS like this: `new XMLHttpRequest()`,
// `overrideMimeType("octet/binary; charset=ISO-8859-5")`, `open("GET", url, false)` (synchronous),
// `send()`, then it checks `status == 200`, takes `responseText` and re-encodes that string to
// bytes with the ISO-8859-5 encoder (strict). The URL is
// `https://parameters.provable.com/mainnet/powers-of-beta-16.usrs.84631bc` (file name plus the
// first 7 hex digits of its sha256; a second try goes to an S3 mirror with the same file name), and
// snarkVM checks the sha256 of the bytes it gets against its built-in metadata.
//
// The SDK's Node polyfill (`xmlhttprequest-ssl`, installed only if `globalThis.XMLHttpRequest`
// is unset) would decode the body with `new TextDecoder(charset)`; we install our own class first,
// read the file from `params_dir` and build `responseText` the same way:
// `new TextDecoder("iso-8859-5").decode(bytes)`. WHATWG ISO-8859-5 is a one-to-one single-byte
// table (every byte 0x00-0xFF maps to a distinct code point), so the strict re-encoding in
// snarkVM gives the original bytes back (the checksum check proves it on every run).
const xhrState = { paramsDir: null, missing: null, served: [] };

class OfflineXMLHttpRequest {
  constructor() {
    this.readyState = 0;
    this.status = 0;
    this.statusText = '';
    this.responseText = null;
    this.response = null;
    this._charset = 'utf-8';
  }
  overrideMimeType(mime) {
    const m = /charset=([A-Za-z0-9_-]+)/i.exec(String(mime));
    if (m) this._charset = m[1];
  }
  open(method, url /* , async */) {
    this._method = method;
    this._url = String(url);
    this.readyState = 1;
  }
  setRequestHeader() {}
  getResponseHeader() { return null; }
  getAllResponseHeaders() { return ''; }
  abort() {}
  send() {
    let name;
    try {
      name = path.basename(new URL(this._url).pathname);
    } catch {
      name = path.basename(this._url);
    }
    // `powers-of-beta-16.usrs.84631bc` -> `powers-of-beta-16.usrs`
    const fileName = name.replace(/(\.usrs)\.[0-9a-f]+$/, '$1');
    if (!/\.usrs$/.test(fileName) || !xhrState.paramsDir) {
      this.readyState = 4;
      this.status = 0;
      throw new Error(`offline snarkVM harness: refused network request to ${this._url}`);
    }
    const file = path.join(xhrState.paramsDir, fileName);
    if (!fs.existsSync(file)) {
      if (!xhrState.missing) xhrState.missing = { file, url: this._url };
      this.readyState = 4;
      this.status = 404;
      throw new Error(`offline snarkVM harness: missing parameter file ${file}`);
    }
    const bytes = fs.readFileSync(file);
    this.responseText = new TextDecoder(this._charset).decode(bytes);
    this.response = this.responseText;
    this.status = 200;
    this.statusText = 'OK';
    this.readyState = 4;
    xhrState.served.push(fileName);
  }
}
globalThis.XMLHttpRequest = OfflineXMLHttpRequest;

// ---------------------------------------------------------------------------------------------
// A snarkVM panic (e.g. integer overflow on `add`) is a WASM trap, `RuntimeError: unreachable`,
// raised inside a spawned future: it never rejects the promise, it surfaces as an uncaught
// exception. Route it to the pending call instead of dying; the module keeps working afterwards
// (checked: executions after a trap give correct results).
let pendingTrap = null;
process.on('uncaughtException', (e) => {
  if (pendingTrap) {
    const reject = pendingTrap;
    pendingTrap = null;
    reject(e);
  } else {
    harnessFail(`uncaught exception: ${e && e.stack ? e.stack : e}`);
  }
});
process.on('unhandledRejection', (e) => {
  harnessFail(`unhandled rejection: ${e && e.stack ? e.stack : e}`);
});

async function guarded(promiseFn) {
  const trap = new Promise((_, reject) => { pendingTrap = reject; });
  try {
    return await Promise.race([promiseFn(), trap]);
  } finally {
    pendingTrap = null;
  }
}

function errText(e) {
  if (e instanceof WebAssembly.RuntimeError) {
    return `snarkVM panicked (WASM trap: ${e.message}); natively this is a halt, e.g. integer overflow`;
  }
  if (e instanceof Error) return e.message;
  return String(e);
}

// ---------------------------------------------------------------------------------------------
function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', (c) => chunks.push(c));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    process.stdin.on('error', reject);
  });
}

const sha256hex = (s) => crypto.createHash('sha256').update(s).digest('hex');

// snarkVM prints plaintext over several lines ("{\n  a: 1u32,\n  b: 2field\n}"); the one-line
// form is the one people write ("{ a: 1u32, b: 2field }", "[1field, 2field]").
function compact(s) {
  return String(s)
    .replace(/\{\s+/g, '{ ')
    .replace(/\s+\}/g, ' }')
    .replace(/\[\s+/g, '[')
    .replace(/\s+\]/g, ']')
    .replace(/,\s+/g, ', ');
}

// Default signer: snarkVM's own test key (address aleo1wvgwnqvy46qq0zemj0k6sfp3zv0mp77rw97khvwuhac05yuwscxqmfyhwf),
// so `self.caller` / `self.signer` are deterministic.
const DEFAULT_PRIVATE_KEY = 'APrivateKey1zkp8cC4jgHEBnbtu3xxs1Ndja2EMizcvTRDq5Nikdkukg1p';

function need(req, key, type) {
  const v = req[key];
  const ok = type === 'array' ? Array.isArray(v) : typeof v === type;
  if (!ok) throw new HarnessError(`request field "${key}" must be a${type === 'array' ? 'n array' : ' ' + type}`);
  return v;
}

function checkInputs(list, what) {
  if (!list.every((x) => typeof x === 'string')) throw new HarnessError(`${what} must hold strings (Aleo plaintext)`);
}

function setParamsDir(req, mode) {
  if (mode !== 'execute') return;
  const dir = need(req, 'params_dir', 'string');
  const base = path.join(dir, 'powers-of-beta-16.usrs');
  if (!fs.existsSync(base)) throw new HarnessError(`missing parameter file ${base}`);
  xhrState.paramsDir = path.resolve(dir);
}

function modeOf(req, dflt) {
  const mode = req.mode ?? dflt;
  if (mode !== 'execute' && mode !== 'evaluate') throw new HarnessError(`"mode" must be "execute" or "evaluate", got ${JSON.stringify(mode)}`);
  return mode;
}

// ---------------------------------------------------------------------------------------------
let sdk;

function loadProgram(source) {
  try {
    return sdk.Program.fromString(source);
  } catch (e) {
    return { error: errText(e) };
  }
}

// One function of one program, with its keys kept in memory for every execution of the batch.
class FunctionRunner {
  constructor(req, mode) {
    this.program = need(req, 'program', 'string');
    this.function = need(req, 'function', 'string');
    this.mode = mode;
    this.imports = req.imports ?? undefined; // { "other.aleo": "<source>" }
    this.edition = req.edition ?? undefined;
    this.privateKey = sdk.PrivateKey.from_string(req.private_key ?? DEFAULT_PRIVATE_KEY);
    this.viewKey = this.privateKey.to_view_key();
    this.provingKey = null;
    this.verifyingKey = null;
    this.keyCacheDir = req.key_cache_dir ?? null;
    this.keySource = null;
    if (this.keyCacheDir && mode === 'execute') {
      const tag = sha256hex(`${this.program}\n--\n${this.function}\n--\n${JSON.stringify(this.imports ?? null)}\n--\n${this.edition ?? ''}`).slice(0, 24);
      this.keyFile = path.join(this.keyCacheDir, `${tag}.pk`);
      this.vkFile = path.join(this.keyCacheDir, `${tag}.vk`);
      if (fs.existsSync(this.keyFile) && fs.existsSync(this.vkFile)) {
        const t = Date.now();
        this.provingKey = sdk.ProvingKey.fromBytes(new Uint8Array(fs.readFileSync(this.keyFile)));
        this.verifyingKey = sdk.VerifyingKey.fromBytes(new Uint8Array(fs.readFileSync(this.vkFile)));
        this.keySource = 'key_cache_dir';
        this.keyLoadMs = Date.now() - t;
      }
    }
  }

  async run(inputs) {
    const t0 = Date.now();
    try {
      const outputs = this.mode === 'execute' ? await this.execute(inputs) : await this.evaluate(inputs);
      return { ok: true, outputs, outputs_compact: outputs.map(compact), ms: Date.now() - t0, ...this.keyInfo() };
    } catch (e) {
      if (xhrState.missing) {
        throw new HarnessError(`missing parameter file ${xhrState.missing.file} (snarkVM asked for ${xhrState.missing.url})`);
      }
      if (e instanceof HarnessError) throw e;
      return { ok: false, error: errText(e), ms: Date.now() - t0, ...this.keyInfo() };
    }
  }

  keyInfo() {
    if (this.mode !== 'execute') return {};
    const info = { keys: this.keySource ?? 'none' };
    // The circuit's size, as its verifying key records it (for docs/benchmarks.md).
    if (this.verifyingKey && typeof this.verifyingKey.numConstraints === 'function') {
      info.constraints = this.verifyingKey.numConstraints();
    }
    return info;
  }

  // Proof-less execution through the circuit. The SDK's `ProgramManager.executeFunctionOffline`
  // (exported as `ProgramManagerBase`) with `prove_execution = false` builds no proof, but it
  // still runs `Process::execute`, which evaluates every instruction in console mode (an
  // `assert.eq` failure is reported here, before any key work), synthesises the circuit and needs
  // the proving key: without keys it synthesises them (this is where the SRS is read; ~40-85 s),
  // with `cache = true` it hands them back in the response, and given keys it inserts them and
  // skips synthesis. ProvingKey/VerifyingKey objects are moved into the call, so we pass copies.
  async execute(inputs) {
    const haveKeys = !!this.provingKey;
    const resp = await guarded(() => sdk.ProgramManagerBase.executeFunctionOffline(
      this.privateKey, this.program, this.function, inputs,
      false, // prove_execution
      !haveKeys, // cache: return the synthesised keys
      this.imports,
      haveKeys ? this.provingKey.copy() : undefined,
      haveKeys ? this.verifyingKey.copy() : undefined,
      undefined, undefined, this.edition,
    ));
    if (!haveKeys) {
      const kp = resp.getKeys();
      this.provingKey = kp.provingKey();
      this.verifyingKey = kp.verifyingKey();
      this.keySource = 'synthesized';
      this.synthesizedInThisRun = true;
      if (this.keyFile) {
        fs.mkdirSync(this.keyCacheDir, { recursive: true });
        const tmp = `${this.keyFile}.tmp-${process.pid}`;
        fs.writeFileSync(tmp, this.provingKey.toBytes());
        fs.renameSync(tmp, this.keyFile);
        fs.writeFileSync(`${this.vkFile}.tmp-${process.pid}`, this.verifyingKey.toBytes());
        fs.renameSync(`${this.vkFile}.tmp-${process.pid}`, this.vkFile);
      }
    } else if (this.keySource === 'synthesized' || this.keySource === 'in_memory') {
      this.keySource = 'in_memory';
    }
    return resp.getOutputs().map((o) => String(o));
  }

  // Console-only evaluation, no circuit, no keys, no SRS (~1 s): the SDK's
  // `buildAuthorizationUnchecked` runs snarkVM's `Stack::evaluate` over the call graph (failing
  // asserts and halts are reported exactly as in `execute`) and records the transitions; private
  // outputs are encrypted there, so we decrypt the transition with its transition view key.
  // This is not what the brief calls "execute" (no circuit is built, so circuit-only failures
  // would go unseen); it is offered as `"mode":"evaluate"` because it needs no SRS and no keys.
  // (The *checked* `authorize` runs the circuit in authorize mode and does NOT check `assert.*`.)
  async evaluate(inputs) {
    const auth = await guarded(() => sdk.ProgramManagerBase.buildAuthorizationUnchecked(
      this.privateKey, this.program, this.function, inputs, this.imports, this.edition,
    ));
    const programId = sdk.Program.fromString(this.program).id();
    const transitions = auth.transitions();
    const top = transitions.filter((t) => t.programId() === programId && t.functionName() === this.function).pop()
      ?? transitions[transitions.length - 1];
    const plain = top.decryptTransition(top.tvk(this.viewKey));
    // The transition's JSON carries every output as snarkVM prints it (plaintext, future, record).
    return JSON.parse(plain.toString()).outputs.map((o) => String(o.value));
  }
}

// --- plaintext type inference (for psd2 without an explicit "type") ---------------------------
function tokenize(s) {
  const toks = [];
  const re = /\s*([{}\[\],:]|[^\s{}\[\],:]+)/gy;
  let m;
  let pos = 0;
  while ((m = re.exec(s)) !== null) { toks.push(m[1]); pos = re.lastIndex; }
  if (s.slice(pos).trim() !== '') throw new HarnessError(`cannot parse plaintext ${JSON.stringify(s)}`);
  return toks;
}

const LITERAL_SUFFIX = /(field|group|scalar|u128|u64|u32|u16|u8|i128|i64|i32|i16|i8)$/;

function inferType(value) {
  const toks = tokenize(value);
  let i = 0;
  const structs = new Map(); // signature -> name
  const decls = [];
  const parse = () => {
    const t = toks[i++];
    if (t === undefined) throw new HarnessError('unexpected end of plaintext');
    if (t === '[') {
      const elems = [];
      while (toks[i] !== ']') {
        elems.push(parse());
        if (toks[i] === ',') i++;
        else if (toks[i] !== ']') throw new HarnessError(`expected , or ] in ${value}`);
      }
      i++;
      if (elems.length === 0) throw new HarnessError('empty array');
      if (!elems.every((e) => e === elems[0])) throw new HarnessError(`array elements of different types in ${value}`);
      return `[${elems[0]}; ${elems.length}u32]`;
    }
    if (t === '{') {
      const members = [];
      while (toks[i] !== '}') {
        const name = toks[i++];
        if (toks[i++] !== ':') throw new HarnessError(`expected : after ${name}`);
        members.push([name, parse()]);
        if (toks[i] === ',') i++;
        else if (toks[i] !== '}') throw new HarnessError(`expected , or } in ${value}`);
      }
      i++;
      const sig = members.map(([n, ty]) => `${n}:${ty}`).join(';');
      if (!structs.has(sig)) {
        const name = `s${structs.size}`;
        structs.set(sig, name);
        decls.push(`struct ${name}:\n${members.map(([n, ty]) => `    ${n} as ${ty};`).join('\n')}\n`);
      }
      return structs.get(sig);
    }
    if (t === 'true' || t === 'false') return 'boolean';
    if (/^aleo1/.test(t)) return 'address';
    if (/^sign1/.test(t)) return 'signature';
    const m = LITERAL_SUFFIX.exec(t);
    if (m) return m[1];
    throw new HarnessError(`cannot infer the type of literal ${t}`);
  };
  const ty = parse();
  if (i !== toks.length) throw new HarnessError(`trailing text in plaintext ${value}`);
  return { type: ty, declarations: decls.join('\n') };
}

const HASHES = { psd2: 'hash.psd2', psd4: 'hash.psd4', psd8: 'hash.psd8', bhp256: 'hash.bhp256', bhp512: 'hash.bhp512', bhp768: 'hash.bhp768', bhp1024: 'hash.bhp1024', ped64: 'hash.ped64', ped128: 'hash.ped128' };

const stripField = (s) => String(s).replace(/field$/, '');

// ---------------------------------------------------------------------------------------------
async function handle(req) {
  if (req === null || typeof req !== 'object' || Array.isArray(req)) throw new HarnessError('request must be a JSON object');
  switch (req.op) {
    case 'execute': {
      const mode = modeOf(req, 'execute');
      setParamsDir(req, mode);
      const inputs = need(req, 'inputs', 'array');
      checkInputs(inputs, '"inputs"');
      const prog = loadProgram(need(req, 'program', 'string'));
      if (prog.error) return { ok: false, error: prog.error };
      const r = await new FunctionRunner(req, mode).run(inputs);
      return r;
    }
    case 'execute_many': {
      const mode = modeOf(req, 'execute');
      setParamsDir(req, mode);
      const list = need(req, 'inputs_list', 'array');
      list.forEach((l, k) => { if (!Array.isArray(l)) throw new HarnessError(`inputs_list[${k}] must be an array`); checkInputs(l, `inputs_list[${k}]`); });
      const prog = loadProgram(need(req, 'program', 'string'));
      if (prog.error) return { results: list.map(() => ({ ok: false, error: prog.error })) };
      const runner = new FunctionRunner(req, mode);
      const results = [];
      for (const inputs of list) results.push(await runner.run(inputs));
      const out = { results };
      if (runner.keyLoadMs !== undefined) out.key_load_ms = runner.keyLoadMs;
      return out;
    }
    case 'plaintext_to_fields': {
      const value = need(req, 'value', 'string');
      let p;
      try { p = sdk.Plaintext.fromString(value); } catch (e) { return { ok: false, error: errText(e) }; }
      return { fields: p.toFields().map(stripField) };
    }
    case 'psd2': case 'psd4': case 'psd8':
    case 'bhp256': case 'bhp512': case 'bhp768': case 'bhp1024': case 'ped64': case 'ped128': {
      // `hash.psd2 value into r as field`, computed by snarkVM running a generated program.
      const value = need(req, 'value', 'string');
      const mode = modeOf(req, 'evaluate');
      setParamsDir(req, mode);
      let type = req.type;
      let declarations = req.declarations ?? '';
      if (type === undefined) ({ type, declarations } = inferType(value));
      else if (typeof type !== 'string') throw new HarnessError('"type" must be a string');
      const program = `program ${req.op}_probe.aleo;\n\n${declarations}\nfunction h:\n    input r0 as ${type}.public;\n    ${HASHES[req.op]} r0 into r1 as field;\n    output r1 as field.public;\n`;
      const prog = loadProgram(program);
      if (prog.error) return { ok: false, error: prog.error, program };
      const r = await new FunctionRunner({ ...req, program, function: 'h' }, mode).run([value]);
      if (!r.ok) return { ok: false, error: r.error, program };
      return { ok: true, field: stripField(r.outputs[0]), type, ms: r.ms, ...(r.constraints !== undefined ? { constraints: r.constraints } : {}) };
    }
    case 'hash_many': {
      // Poseidon2 sponge over raw field elements (no type tags): hash_many(domain, fields).
      const fields = need(req, 'fields', 'array');
      const domain = req.domain ?? 'AleoPoseidon2';
      const rate = req.rate ?? 2;
      const cls = { 2: sdk.Poseidon2, 4: sdk.Poseidon4, 8: sdk.Poseidon8 }[rate];
      if (!cls) throw new HarnessError('"rate" must be 2, 4 or 8');
      const h = cls.setup(domain);
      const fs_ = fields.map((f) => sdk.Field.fromString(/field$/.test(String(f)) ? String(f) : `${f}field`));
      const n = req.outputs ?? 1;
      if (n === 1) return { field: stripField(h.hash(fs_)) };
      return { fields: h.hashMany(fs_, n).map(stripField) };
    }
    case 'program_check': {
      const prog = loadProgram(need(req, 'program', 'string'));
      if (prog.error) return { ok: false, error: prog.error };
      return { ok: true, id: prog.id(), functions: prog.getFunctions() };
    }
    case 'batch': {
      // Several requests in one process (saves the ~5 s WASM start-up per request).
      const reqs = need(req, 'requests', 'array');
      const results = [];
      for (const r of reqs) results.push(await handle(r));
      return { results };
    }
    default:
      throw new HarnessError(`unknown op ${JSON.stringify(req.op)}`);
  }
}

async function main() {
  let req;
  try {
    req = JSON.parse(await readStdin());
  } catch (e) {
    return harnessFail(`request is not JSON: ${errText(e)}`);
  }
  sdk = await import('@provablehq/sdk/mainnet.js');
  if (!VERBOSE && typeof sdk.setLogLevel === 'function') {
    try { sdk.setLogLevel('silent'); } catch { /* older SDKs */ }
  }
  const t0 = Date.now();
  try {
    const res = await handle(req);
    finish({ ...res, total_ms: Date.now() - t0 }, 0);
  } catch (e) {
    if (e instanceof HarnessError) return harnessFail(e.message);
    return harnessFail(`harness failure: ${e && e.stack ? e.stack : e}`);
  }
}

main();
