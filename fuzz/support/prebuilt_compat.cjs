// Loads Jazzer.js's libFuzzer addon on a glibc older than the one it was built against.
//
// @jazzer.js/fuzzer 4.0.0 ships only prebuilt addons (its npm package has no C++ sources to
// rebuild). The linux-x64 one was linked on glibc 2.38 / GCC 13 and asks for three symbol
// versions Debian 12 (glibc 2.36, GCC 12) lacks:
//   - GLIBC_2.38 for __isoc23_strtol and __isoc23_strtoul: C23's strtol/strtoul, which differ
//     from the old ones only in also reading a "0b" prefix for base 0 or 2 (libFuzzer parses
//     its -flag=N options with them, never in base 2);
//   - GLIBCXX_3.4.32 for std::ios_base_library_init(), a symbol GCC 13's <iostream> only
//     names (no relocation refers to it) so that libstdc++ initialises std::cout first.
// When loading the addon fails for exactly that reason, this writes a copy into
// .tmp/fuzz/ with the two functions bound to their glibc 2.2.5 versions and the
// GLIBCXX_3.4.32 need marked weak, and loads that copy instead. node_modules is not touched.
// Preloaded with `node --require` by fuzz/run.mjs; does nothing on a system that loads the
// addon as shipped.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');

const SHT_DYNSYM = 11;
const SHT_GNU_VERNEED = 0x6ffffffe;
const SHT_GNU_VERSYM = 0x6fffffff;
const VER_FLG_WEAK = 0x2;

/** Symbols renamed to a suffix of their own name (no string table change needed). */
const RENAMED = { __isoc23_strtol: 'strtol', __isoc23_strtoul: 'strtoul' };

function cstring(buf, at) {
  const end = buf.indexOf(0, at);
  return buf.toString('latin1', at, end);
}

/** The patched addon bytes, or throws if the file is not laid out as expected. */
function patchAddon(input) {
  const buf = Buffer.from(input);
  if (buf.readUInt32BE(0) !== 0x7f454c46 || buf[4] !== 2 || buf[5] !== 1) throw new Error('not a little-endian ELF64 file');
  const shoff = Number(buf.readBigUInt64LE(0x28));
  const shentsize = buf.readUInt16LE(0x3a);
  const shnum = buf.readUInt16LE(0x3c);
  const sections = [];
  for (let i = 0; i < shnum; i++) {
    const at = shoff + i * shentsize;
    sections.push({
      type: buf.readUInt32LE(at + 4),
      offset: Number(buf.readBigUInt64LE(at + 0x18)),
      size: Number(buf.readBigUInt64LE(at + 0x20)),
      link: buf.readUInt32LE(at + 0x28),
      entsize: Number(buf.readBigUInt64LE(at + 0x38)),
    });
  }
  const dynsym = sections.find((s) => s.type === SHT_DYNSYM);
  const versym = sections.find((s) => s.type === SHT_GNU_VERSYM);
  const verneed = sections.find((s) => s.type === SHT_GNU_VERNEED);
  if (!dynsym || !versym || !verneed) throw new Error('no dynamic symbol versioning sections');
  const dynstr = sections[dynsym.link];

  // Walk the version needs: index -> aux entry offset, and each name's (hash, name offset).
  const auxByIndex = new Map();
  const byName = new Map();
  let need = verneed.offset;
  for (;;) {
    const count = buf.readUInt16LE(need + 2);
    let aux = need + buf.readUInt32LE(need + 8);
    for (let i = 0; i < count; i++) {
      const name = cstring(buf, dynstr.offset + buf.readUInt32LE(aux + 8));
      auxByIndex.set(buf.readUInt16LE(aux + 6), aux);
      if (!byName.has(name)) byName.set(name, { hash: buf.readUInt32LE(aux), name: buf.readUInt32LE(aux + 8) });
      const next = buf.readUInt32LE(aux + 12);
      if (next === 0) break;
      aux += next;
    }
    const next = buf.readUInt32LE(need + 12);
    if (next === 0) break;
    need += next;
  }
  const base = byName.get('GLIBC_2.2.5');
  if (!base) throw new Error('no GLIBC_2.2.5 version need to bind to');

  let renamed = 0;
  for (let i = 0; i * dynsym.entsize < dynsym.size; i++) {
    const sym = dynsym.offset + i * dynsym.entsize;
    const nameOffset = buf.readUInt32LE(sym);
    const name = cstring(buf, dynstr.offset + nameOffset);
    const to = RENAMED[name];
    if (to === undefined) continue;
    const aux = auxByIndex.get(buf.readUInt16LE(versym.offset + i * 2) & 0x7fff);
    if (aux === undefined) throw new Error(`${name} has no version need`);
    // Undefined symbols are not in .gnu.hash, so pointing st_name at the name's suffix is enough.
    buf.writeUInt32LE(nameOffset + (name.length - to.length), sym);
    // Its version need (GLIBC_2.38) now names GLIBC_2.2.5, where strtol and strtoul live.
    buf.writeUInt32LE(base.hash, aux);
    buf.writeUInt32LE(base.name, aux + 8);
    renamed++;
  }
  if (renamed !== Object.keys(RENAMED).length) throw new Error(`renamed ${renamed} symbols, expected ${Object.keys(RENAMED).length}`);
  for (const aux of auxByIndex.values()) {
    if (cstring(buf, dynstr.offset + buf.readUInt32LE(aux + 8)) === 'GLIBCXX_3.4.32') {
      buf.writeUInt16LE(buf.readUInt16LE(aux + 4) | VER_FLG_WEAK, aux + 4);
    }
  }
  return buf;
}

const ADDON = `${path.sep}@jazzer.js${path.sep}fuzzer${path.sep}prebuilds${path.sep}fuzzer-linux-x64.node`;
const original = Module._extensions['.node'];
Module._extensions['.node'] = function loadNode(module, filename) {
  if (!filename.endsWith(ADDON)) return original(module, filename);
  try {
    return original(module, filename);
  } catch (error) {
    if (!/GLIBC_2\.38|GLIBCXX_3\.4\.32/.test(String(error?.message))) throw error;
    const dir = path.resolve(__dirname, '../../.tmp/fuzz');
    fs.mkdirSync(dir, { recursive: true });
    const copy = path.join(dir, 'fuzzer-linux-x64.glibc236.node');
    const patched = patchAddon(fs.readFileSync(filename));
    let current = null;
    try {
      current = fs.readFileSync(copy);
    } catch {}
    // Never rewrite the file in place: another fuzzer process may have it mapped. A new
    // file renamed over the old one leaves that process its own copy.
    if (current === null || !current.equals(patched)) {
      const temporary = `${copy}.${process.pid}`;
      fs.writeFileSync(temporary, patched);
      fs.renameSync(temporary, copy);
    }
    return original(module, copy);
  }
};

module.exports = { patchAddon };
