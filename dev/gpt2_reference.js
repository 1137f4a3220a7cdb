// Writes test/gpt2_ref/cases.txt: texts and the ids that the reference GPT-2
// encoder (npm package gpt-3-encoder) gives them, for test/test_tokenizer.c.
// Usage (from the repo root):
//   (cd /tmp && npm install gpt-3-encoder)
//   NODE_PATH=/tmp/node_modules node dev/gpt2_reference.js > test/gpt2_ref/cases.txt
// Format: two lines per case, the text as a JSON string, then its ids.
const fs = require('fs');
const { encode } = require('gpt-3-encoder');

const cases = [];
// real GSM8K: the question and the answer of the first 100 test problems
const dir = process.env.GSM8K_DIR || 'data/gsm8k';  // the full GSM8K (data/gsm8k.sh)
const gsm = fs.readFileSync(dir + '/test.jsonl', 'utf8').split('\n').filter(Boolean);
for (const line of gsm.slice(0, 100)) {
  const o = JSON.parse(line);
  cases.push(o.question, o.answer);
}
// hand-picked trouble
cases.push(
  "I'm sure you're right, he'll say it's what they've done, I'd think.",
  "DON'T SHOUT'S 'quoted' ''s '''ll '\"t x'sy",
  "trailing spaces   ", "   leading spaces", "two  spaces  between", "a \n b \n\n  c\n",
  "\ttab\t\tdouble tab \t mixed", "line\r\nwindows\r\n", "\n\n\n", " ", "", "x",
  "non\u00a0breaking\u00a0\u00a0space \u00a0x", "ideographic\u3000space\u2028line\u2029para\ufeffbom",
  "中文分词测试，这是一个句子。", "العربية نص تجريبي ١٢٣", "Русский текст, ёжик!", "हिन्दी पाठ १२३ देवनागरी",
  "emoji 🎉🎉 👍🏽 👨‍👩‍👧 flags 🇫🇷", "combining e\u0301 a\u0308 n\u0303 \u0301start",
  "digits ٣٤٥ ०१२ ໑໒ ①② ½ ¾ Ⅻ 𝟙𝟚", "math 3.14159 -42 1,080 $5.00 10% 2^10 <<48/2=24>>24",
  "json {\"a\":1,\"b\":[1,2],\"c\":\"x\",\"d\":\"y\"} ',' \"],\" '],[' \"\",\"\" ,,,, \",\"",
  "code: for (int i = 0; i < n; i++) { x[i] += y[i]; }   // comment",
  "mixed   \t\n  whitespace\u00a0\n runs \u2003\u2003 em", "ALLCAPS camelCase snake_case kebab-case",
  "long " + "a".repeat(300) + " word", "repeat " + "ab".repeat(100), "!!!???...,,,;;;:::",
  "Ünïcödé Ελληνικά 한국어 日本語のテキスト ภาษาไทย עברית",
  "surrogates 𝒜𝒷𝒸 𐍈 𠜎𠜱", "#### 72", "<<9*2=18>>18 every day"
);
// seeded random strings over an alphabet of pre-tokenizer edge cases
let seed = 12345;
const rnd = n => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
const alphabet = [' ', ' ', '  ', '\t', '\n', '\r', '\u00a0', '\u3000', '\u2028', "'", "'s", "'t", "'re", "'ll",
  's', 't', 'a', 'Z', 'é', 'e\u0301', '1', '23', '٣', '½', ',', '"', '.', '!', '中', 'ж', '🎉', '-', '_', 'x', 'ing'];
for (let k = 0; k < 150; k++) {
  let s = '';
  const n = 1 + rnd(30);
  for (let i = 0; i < n; i++) s += alphabet[rnd(alphabet.length)];
  cases.push(s);
}
for (const text of cases) process.stdout.write(JSON.stringify(text) + '\n' + encode(text).join(' ') + '\n');
