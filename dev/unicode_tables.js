// Prints the C range tables for \p{L} and \p{N} used by tokenizer.c's
// pre-tokenizer, enumerated from this node's own regex engine (the same engine
// the gpt-3-encoder reference runs on), so the two agree code point for code point.
// Usage: node dev/unicode_tables.js   (paste the output into tokenizer.c)
function ranges(re) {
  const out = [];
  let start = -1;
  for (let cp = 0; cp <= 0x110000; cp++) {
    const ok = cp < 0x110000 && !(cp >= 0xD800 && cp <= 0xDFFF) && re.test(String.fromCodePoint(cp));
    if (ok && start < 0) start = cp;
    if (!ok && start >= 0) { out.push([start, cp - 1]); start = -1; }
  }
  return out;
}
function emit(name, re) {
  const r = ranges(re);
  const cells = r.map(([a, b]) => `{0x${a.toString(16)},0x${b.toString(16)}}`);
  let s = `static const uint32_t ${name}[][2] = { // ${r.length} ranges, Unicode ${process.versions.unicode}\n`;
  for (let i = 0; i < cells.length; i += 6) s += '    ' + cells.slice(i, i + 6).join(',') + ',\n';
  console.log(s + '};');
}
emit('UNI_LETTER', /^\p{L}$/u);
emit('UNI_NUMBER', /^\p{N}$/u);
const ws = ranges(/^\s$/u).map(([a, b]) => `0x${a.toString(16)}-0x${b.toString(16)}`);
console.log('// JS \\s: ' + ws.join(' '));
