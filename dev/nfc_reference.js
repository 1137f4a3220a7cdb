// Writes test/nfc_cases.txt, the cases test/test_nfc.c checks data/nfc.h on: texts and
// their NFC as this node computes it (String.prototype.normalize, what transformers.js
// calls), which is the reference.
// Usage (from the repo root): node dev/nfc_reference.js > test/nfc_cases.txt
// Format: one case a line, the text, a tab, its NFC. Printable ASCII but '\' stands for
// itself; any other code point is written \u{HEX}.
// The cases, all deterministic (a seeded generator):
//   - every code point that NFD changes or that has a nonzero combining class, alone,
//     and (but Hangul syllables) after a base letter
//   - Hangul: every L+V, and random sequences of jamo, syllables and marks
//   - random sequences of the code points that decompositions use and of marks, in
//     shuffled order, and of whole composites with marks
//   - ASCII text with marks, composites and other scripts mixed in
const str = String.fromCodePoint, cps = s => [...s].map(ch => ch.codePointAt(0));
const nfd = s => s.normalize('NFD');

// a code point has a nonzero class exactly when NFD moves it past U+0334 (class 1)
// or U+0345 (class 240)
const swaps = (x, y) => nfd('a' + x + y) === 'a' + y + x;
const isMark = s => swaps(s, '\u0334') || swaps('\u0345', s);

let seed = 20240501; // mulberry32
function random() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = a => a[Math.floor(random() * a.length)];
function shuffle(a) {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

const escape = s => cps(s).map(c => c >= 0x20 && c < 0x7f && c !== 0x5c ? str(c) : '\\u{' + c.toString(16) + '}').join('');
const lines = [];
const emit = s => lines.push(escape(s) + '\t' + escape(s.normalize('NFC')));

// the code points of interest
const decomposable = [], composites = [], marks = [], parts = new Set(); // composites: not Hangul
for (let cp = 0; cp < 0x110000; cp++) {
  if (cp >= 0xd800 && cp <= 0xdfff) continue;
  const s = str(cp), d = nfd(s);
  if (d !== s) {
    decomposable.push(cp);
    if (cp >= 0xac00 && cp <= 0xd7a3) continue;
    composites.push(cp);
    for (const c of cps(d)) parts.add(c);
  } else if (isMark(s)) marks.push(cp);
}
const partList = [...parts];
const letters = [...'aeiouyAEIOUYcnszCNSZ', 'α', 'ω', 'ε', 'ι', 'υ', 'и', 'е', 'у', 'ヘ', 'か'];

for (const cp of [...decomposable, ...marks].sort((a, b) => a - b)) {
  emit(str(cp));
  if (cp < 0xac00 || cp > 0xd7a3) emit(pick(letters) + str(cp));
}

// Hangul
const range = (a, n) => Array.from({ length: n }, (_, i) => str(a + i));
const L = range(0x1100, 19), V = range(0x1161, 21), T = range(0x11a8, 27);
const LV = Array.from({ length: 399 }, (_, i) => str(0xac00 + 28 * i));
for (const l of L) for (const v of V) emit(l + v);
const jamo = [L, V, T, LV, [str(0xac01 + Math.floor(random() * 11171))], ['\u0301', '\u0334', 'a']];
for (let i = 0; i < 2000; i++) {
  let s = '';
  for (let n = 2 + Math.floor(random() * 5); n > 0; n--) s += pick(pick(jamo));
  emit(s);
}

// random sequences
const seconds = marks.filter(m => parts.has(m));
for (let i = 0; i < 4000; i++) {
  // the parts of a composite (or two), shuffled, maybe with a mark or a starter added
  const d = cps(nfd(str(pick(composites))));
  if (random() < 0.3) d.push(...cps(nfd(str(pick(composites)))));
  if (random() < 0.5) d.push(pick(random() < 0.5 ? seconds : marks));
  if (random() < 0.2) d.push(pick(partList));
  emit(str(...shuffle(d)));
}
for (let i = 0; i < 4000; i++) {
  // any of the parts, marks, composites and letters
  let s = '';
  for (let n = 1 + Math.floor(random() * 8); n > 0; n--) {
    const r = random();
    s += r < 0.35 ? str(pick(partList)) : r < 0.6 ? str(pick(seconds)) : r < 0.75 ? str(pick(marks))
       : r < 0.9 ? str(pick(composites)) : pick(letters);
  }
  emit(s);
}

// text
const words = ['the', 'cafe', 'naive', 'resume', 'uber', 'jalapeno', 'Zurich', 'facade', 'Ha Noi',
               'Thu Duc', 'Angstrom', 'ohm', 'koan', 'deja vu', 'Sao Paulo', '1,000', 'x=y+2;', '"quoted"'];
for (let i = 0; i < 600; i++) {
  let s = '';
  for (let n = 3 + Math.floor(random() * 8); n > 0; n--) {
    let w = pick(words);
    const r = random();
    if (r < 0.5) {
      const at = 1 + Math.floor(random() * (w.length - 1));
      w = w.slice(0, at) + str(pick(seconds)) + (random() < 0.3 ? str(pick(seconds)) : '') + w.slice(at);
    } else if (r < 0.7) w += str(pick(composites));
    s += (s ? pick([' ', ' ', ', ', '\n', '\t']) : '') + w;
  }
  emit(s);
}

process.stdout.write(lines.join('\n') + '\n');
