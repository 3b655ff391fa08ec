// Test oracle: Jira wiki markup -> Atlassian Document Format (ADF), parsed by
// Atlassian's own published transformer, so gonogo's escaping is judged by the
// parser Jira uses and not by our reading of its rules.
//
// Protocol (one process for many strings, so the tests stay fast):
//   stdin:  a JSON array of wiki-markup strings
//   stdout: a JSON array of the same length; element i is the ADF document for
//           string i, or {"error": "<message>"} if the parser threw on it.
// Exit status is non-zero only when the protocol itself failed (bad stdin).
//
// The parse context maps a few issue keys to URLs so that issue-key auto-links
// (inlineCard nodes) are exercised too; real Jira knows every key on the site.

import { readFileSync } from 'node:fs';
import { WikiMarkupTransformer } from '@atlaskit/editor-wikimarkup-transformer';
import { JSONTransformer } from '@atlaskit/editor-json-transformer';

const ISSUE_KEYS = ['ABC-123', 'BID-1', 'BID-42', 'GONOGO-7'];

function parseContext() {
  // A fresh object per call: the transformer normalises the context in place.
  const inlineCardConversion = {};
  for (const key of ISSUE_KEYS) {
    inlineCardConversion[key] = `https://jira.example.invalid/browse/${key}`;
  }
  return { conversion: { inlineCardConversion, mentionConversion: {} } };
}

function main() {
  const texts = JSON.parse(readFileSync(0, 'utf8'));
  if (!Array.isArray(texts) || !texts.every((t) => typeof t === 'string')) {
    process.stderr.write('render.mjs: stdin must be a JSON array of strings\n');
    process.exit(2);
  }
  const wiki = new WikiMarkupTransformer();
  const json = new JSONTransformer();
  const out = texts.map((text) => {
    try {
      return json.encode(wiki.parse(text, parseContext()));
    } catch (err) {
      return { error: String(err && err.stack ? err.stack : err) };
    }
  });
  process.stdout.write(JSON.stringify(out));
}

main();
