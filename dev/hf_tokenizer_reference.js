// Writes the ids that transformers.js (npm package @lenml/tokenizers, its tokenizer
// code without the rest) gives the texts of test/gpt2_ref/cases.txt, plus a few with
// special tokens, under a tokenizer.json that `tokenizer export-hf` wrote: the
// reference for test/test_tokenizer.c's check that the exported file encodes exactly
// as this project's own encoder does.
// Usage (from the repo root): the tokenizers of the GSM8K fixture files, exported, then
//   (cd /tmp && npm install @lenml/tokenizers@3.7.2)
//   ./tokenizer train --vocab-size 1024 --split-digits --out /tmp/split.tok test/gsm8k/train.jsonl test/gsm8k/test.jsonl
//   ./tokenizer export-hf --model /tmp/split.tok test/hf_tok/split.json
//   NODE_PATH=/tmp/node_modules node dev/hf_tokenizer_reference.js test/hf_tok/split.json > test/hf_tok/split_cases.txt
// and the same without --split-digits for test/hf_tok/bytelevel.json.
// Format: two lines per case, the text as a JSON string, then its ids (as cases.txt).
const fs = require('fs');
const { TokenizerLoader } = require('@lenml/tokenizers');

const tokenizerJSON = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const tokenizer = TokenizerLoader.fromPreTrained({ tokenizerJSON, tokenizerConfig: {} });
const lines = fs.readFileSync('test/gpt2_ref/cases.txt', 'utf8').split('\n');
const cases = [];
for (let i = 0; i + 1 < lines.length; i += 2) cases.push(JSON.parse(lines[i]));
cases.push('<|endoftext|>', 'a<|endoftext|>b', ' <|endoftext|> 12 <|endoftext|><|endoftext|>\n', '<|endoftext');
for (const text of cases) {
  const ids = tokenizer.encode(text, { add_special_tokens: false });
  process.stdout.write(JSON.stringify(text) + '\n' + ids.join(' ') + '\n');
}
