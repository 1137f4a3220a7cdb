#!/usr/bin/env python3
"""
Prints the C tables of data/nfc.h (Unicode NFC) from this machine's node, whose
String.prototype.normalize is the reference, after checking them against it for every
code point.

    python3 dev/nfc_tables.py > /tmp/nfc_tables.h

and the output replaces the lines between the "---- begin tables" and "---- end tables"
markers of data/nfc.h, for example with
    sed -i -e '/^\/\/ ---- begin tables/,/^\/\/ ---- end tables/{//!d}' \
           -e '/^\/\/ ---- begin tables/r /tmp/nfc_tables.h' data/nfc.h

Sources: node (`String.fromCodePoint(cp).normalize('NFD' / 'NFC')`) gives every code
point's full decomposition and composition. Node has no API for combining classes, so
they are read off its canonical reordering: 'a x y' becomes 'a y x' under NFD exactly
when 0 < ccc(y) < ccc(x). Python's unicodedata (an older Unicode) supplies one mark per
class value as a yardstick; every mark node reorders is placed among them, and must match
exactly one. The one-level decomposition mappings come from unicodedata where it knows
the code point; the few newer composites are split from node's data as (NFC of all but
the last code point, the last). The checks at the end run this exact algorithm on the
tables, in Python, for every code point, against node's NFD and NFC.

Standard library and node only. Writes the checks' summary to stderr.
"""
import json, subprocess, sys, unicodedata

S_BASE, L_BASE, V_BASE, T_BASE = 0xAC00, 0x1100, 0x1161, 0x11A7
L_COUNT, V_COUNT, T_COUNT = 19, 21, 28
S_COUNT = L_COUNT * V_COUNT * T_COUNT

# Runs in node with the yardstick marks [[class, cp], ...] on stdin; prints
#   changed: [cp, NFD, NFC, NFC of NFD without its last code point] for every code point
#            NFD changes (code point lists)
#   marks:   [cp, classes it sorts before, classes it sorts after] for every other code
#            point NFD moves past U+0334 (class 1) or U+0345 (class 240), i.e. class > 0
NODE_PROBE = r"""
const refs = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const str = String.fromCodePoint, cps = s => [...s].map(ch => ch.codePointAt(0));
const swaps = (x, y) => x !== y && ('a' + x + y).normalize('NFD') === 'a' + y + x;
const changed = [], marks = [];
for (let cp = 0; cp < 0x110000; cp++) {
  if (cp >= 0xd800 && cp <= 0xdfff) continue;
  const s = str(cp), d = s.normalize('NFD');
  if (d !== s) {
    const head = [...d].slice(0, -1).join('');
    changed.push([cp, cps(d), cps(s.normalize('NFC')), cps(head.normalize('NFC'))]);
  } else if (swaps(s, '\u0334') || swaps('\u0345', s)) {
    marks.push([cp, refs.filter(([k, r]) => swaps(str(r), s)).map(([k]) => k),
                    refs.filter(([k, r]) => swaps(s, str(r))).map(([k]) => k)]);
  }
}
console.log(JSON.stringify({ unicode: process.versions.unicode, node: process.version, changed, marks }));
"""


def fail(msg):
    sys.exit("nfc_tables.py: " + msg)


def is_hangul(cp):
    return S_BASE <= cp < S_BASE + S_COUNT


def known_to_python(cp):
    return unicodedata.category(chr(cp)) != "Cn"


def yardsticks():
    """one mark per class value of Python's Unicode: the first with no decomposition"""
    refs = {}
    for cp in range(0x110000):
        k = unicodedata.combining(chr(cp))
        if k and k not in refs and unicodedata.decomposition(chr(cp)) == "":
            refs[k] = cp
    return sorted(refs.items())


def classes_from_node(marks, refs):
    """the combining class of every mark node reorders, placed among the yardsticks"""
    ccc, disagree = {}, []
    for cp, before, after in marks:
        equal = [k for k, _ in refs if k not in before and k not in after]
        if len(equal) != 1:
            fail(f"U+{cp:04X} sorts between the yardstick classes, not with one")
        k = equal[0]
        if sorted(before) != [r for r, _ in refs if r > k] or sorted(after) != [r for r, _ in refs if r < k]:
            fail(f"U+{cp:04X}: node's ordering is not that of one class")
        if known_to_python(cp) and unicodedata.combining(chr(cp)) != k:
            disagree.append(cp)
        ccc[cp] = k
    return ccc, disagree


def one_level(cp, nfd, nfc, head):
    """the canonical decomposition mapping of cp: one code point or two"""
    if known_to_python(cp):
        m = unicodedata.decomposition(chr(cp))
        if not m or m.startswith("<"):
            fail(f"U+{cp:04X}: node decomposes it, unicodedata has no canonical mapping")
        return [int(h, 16) for h in m.split()]
    if nfc != [cp] or len(head) != 1:
        fail(f"U+{cp:04X}: newer than unicodedata and not a primary composite")
    return [head[0], nfd[-1]]


def ranges(values):
    """{first, last, value} for the runs of consecutive code points of equal value"""
    out = []
    for cp in sorted(values):
        if out and out[-1][1] == cp - 1 and out[-1][2] == values[cp]:
            out[-1][1] = cp
        else:
            out.append([cp, cp, values[cp]])
    return out


class Model:
    """NFC as data/nfc.h computes it, on the tables, to check them against node"""

    def __init__(self, ccc, pairs, singles, compose):
        self.ccc, self.pairs, self.singles, self.compose = ccc, pairs, singles, compose

    def decompose(self, cp):
        if is_hangul(cp):
            s = cp - S_BASE
            jamo = [L_BASE + s // (V_COUNT * T_COUNT), V_BASE + s % (V_COUNT * T_COUNT) // T_COUNT]
            return jamo + ([T_BASE + s % T_COUNT] if s % T_COUNT else [])
        if cp in self.pairs:
            return self.decompose(self.pairs[cp][0]) + self.decompose(self.pairs[cp][1])
        if cp in self.singles:
            return self.decompose(self.singles[cp])
        return [cp]

    def nfd(self, cps):
        out = [d for cp in cps for d in self.decompose(cp)]
        i = 0
        while i < len(out):
            j = i
            while j < len(out) and self.ccc.get(out[j], 0):
                j += 1
            out[i:j] = sorted(out[i:j], key=lambda c: self.ccc[c])
            i = j + 1
        return out

    def composite(self, a, b):
        if L_BASE <= a < L_BASE + L_COUNT and V_BASE <= b < V_BASE + V_COUNT:
            return S_BASE + ((a - L_BASE) * V_COUNT + b - V_BASE) * T_COUNT
        if is_hangul(a) and (a - S_BASE) % T_COUNT == 0 and T_BASE < b < T_BASE + T_COUNT:
            return a + b - T_BASE
        return self.compose.get((a, b))

    def nfc(self, cps):
        out, starter, last = [], None, 0
        for c in self.nfd(cps):
            k = self.ccc.get(c, 0)
            if starter is not None and (last == 0 or last < k):
                comp = self.composite(out[starter], c)
                if comp is not None:
                    out[starter] = comp
                    continue
            if k == 0:
                starter = len(out)
            last = k
            out.append(c)
        return out


def cells(rows, width=100):
    """C initializer rows, packed into lines at most width columns wide"""
    lines, line = [], "    "
    for r in rows:
        cell = r + ","
        if len(line) + len(cell) > width:
            lines.append(line)
            line = "    "
        line += cell
    return "\n".join(lines + [line])


def row(*fields):
    """a C initializer row: code points (ints) in hex, other fields (strs) as they are"""
    return "{" + ",".join(f"0x{f:x}" if isinstance(f, int) else f for f in fields) + "}"


def main():
    refs = yardsticks()
    run = subprocess.run(["node", "-e", NODE_PROBE], input=json.dumps([[k, cp] for k, cp in refs]),
                         capture_output=True, text=True, check=True)
    node = json.loads(run.stdout)
    ccc, disagree = classes_from_node(node["marks"], refs)

    changed = {cp: (nfd, nfc, head) for cp, nfd, nfc, head in node["changed"]}
    pairs, singles = {}, {}
    for cp, (nfd, nfc, head) in changed.items():
        if not is_hangul(cp):
            m = one_level(cp, nfd, nfc, head)
            if len(m) == 2:
                pairs[cp] = m
            else:
                singles[cp] = m[0]
    # decomposable code points are never reordered past in NFD (they are gone): their
    # class is unicodedata's; the ones newer than it are primary composites, class 0
    for cp in list(pairs) + list(singles):
        k = unicodedata.combining(chr(cp)) if known_to_python(cp) else 0
        if k:
            ccc[cp] = k

    primary = {cp for cp, m in pairs.items() if changed[cp][1] == [cp]}
    compose = {tuple(pairs[cp]): cp for cp in primary}
    if any(ccc.get(cp, 0) or ccc.get(pairs[cp][0], 0) for cp in primary):
        fail("a primary composite or its first code point is not a starter")

    # the checks: every code point's NFD and NFC as node has them
    model = Model(ccc, pairs, singles, compose)
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        nfd, nfc, _ = changed.get(cp, ([cp], [cp], None))
        if model.nfd([cp]) != nfd or model.nfc([cp]) != nfc:
            fail(f"U+{cp:04X}: the tables give NFD {model.nfd([cp])} NFC {model.nfc([cp])}, node {nfd} {nfc}")

    # NFC_QC=Maybe: starters that compose with the code point before them
    maybe = {b: 1 for a, b in compose if not ccc.get(b, 0)}
    maybe.update({cp: 1 for cp in range(V_BASE, V_BASE + V_COUNT)})
    maybe.update({cp: 1 for cp in range(T_BASE + 1, T_BASE + T_COUNT)})
    not_quick = set(ccc) | set(maybe) | set(singles) | (set(pairs) - primary)
    # the most code points per UTF-8 byte any code point's NFD has
    per_byte = max(-(-len(nfd) // len(chr(cp).encode())) for cp, (nfd, _, _) in changed.items())

    by_cp = sorted(pairs)
    if len(by_cp) > 0xFFFF:
        fail("too many pairs for the uint16_t indexes of NFC_COMPOSE")
    index = {cp: i for i, cp in enumerate(by_cp)}
    single_runs = ranges({cp: 0 for cp in singles})
    at = 0
    for r in single_runs:
        r[2], at = at, at + r[1] - r[0] + 1

    u, py = node["unicode"], unicodedata.unidata_version
    ccc_ranges = ranges({cp: k for cp, k in ccc.items() if k})
    print(f"// generated by dev/nfc_tables.py from node {node['node']} (Unicode {u}) and Python's")
    print(f"// unicodedata (Unicode {py}); checked against node for every code point")
    print(f"#define NFC_QUICK_BELOW 0x{min(not_quick):x} // code points below are NFC_QC=Yes, class 0")
    print(f"#define NFC_UNITS_PER_BYTE {per_byte} // NFD has at most this many code points per UTF-8 byte")
    print()
    print(f"// canonical combining classes: {{first, last, class}}, {len(ccc_ranges)} ranges; others are 0")
    print("static const uint32_t NFC_CCC[][3] = {")
    print(cells(row(a, b, str(k)) for a, b, k in ccc_ranges))
    print("};")
    print(f"// starters that may compose with the code point before them (NFC_QC=Maybe): {{first, last}}")
    print("static const uint32_t NFC_MAYBE[][2] = {")
    print(cells(row(a, b) for a, b, _ in ranges(maybe)))
    print("};")
    print(f"// canonical decompositions into two code points: {{cp, first, second}}, {len(by_cp)}, by cp")
    print("static const uint32_t NFC_PAIRS[][3] = {")
    print(cells(row(cp, *pairs[cp]) for cp in by_cp))
    print("};")
    print(f"// the primary composites (the pairs not excluded from composition): {len(primary)} indexes")
    print("// into NFC_PAIRS, sorted by {first, second}")
    print("static const uint16_t NFC_COMPOSE[] = {")
    print(cells(str(index[cp]) for cp in sorted(primary, key=lambda cp: pairs[cp])))
    print("};")
    print(f"// canonical decompositions into one code point ({len(singles)}): runs {{first, last, at}}; code")
    print("// point first + i decomposes to NFC_SINGLE_TO[at + i]")
    print("static const uint32_t NFC_SINGLE[][3] = {")
    print(cells(row(a, b, str(at)) for a, b, at in single_runs))
    print("};")
    print("static const uint32_t NFC_SINGLE_TO[] = {")
    print(cells(f"0x{singles[cp]:x}" for cp in sorted(singles)))
    print("};")

    print(f"nfc_tables.py: node {node['node']} Unicode {u}, unicodedata {py}; {len(ccc_ranges)} class ranges, "
          f"{len(pairs)} pairs ({len(primary)} compose), {len(singles)} singletons; "
          f"{len(disagree)} classes differ from unicodedata; NFD and NFC of all code points agree with node",
          file=sys.stderr)


if __name__ == "__main__":
    main()
