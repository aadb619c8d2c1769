/**
 * Finds where members sit in JSON text that JSON.parse has already accepted, so a value the
 * sidecar only passes through is stored as the exact text received, never decoded and re-encoded
 * (spec: semantics.md §1.2, Tandem note). Hand-written because no JSON library returns source
 * ranges; it relies on the input being valid JSON and only skips over values.
 */

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

function skipWs(s: string, i: number): number {
  while (i < s.length && WS.has(s.charCodeAt(i))) i++;
  return i;
}

/** Index just past the string token starting at `i` (a `"`). */
function skipString(s: string, i: number): number {
  i++;
  for (;;) {
    const c = s.charCodeAt(i);
    if (c === 0x5c) i += 2;
    else if (c === 0x22) return i + 1;
    else i++;
  }
}

/** Index just past the JSON value starting at `i`. */
function skipValue(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c === 0x22) return skipString(s, i);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (;;) {
      const d = s.charCodeAt(i);
      if (d === 0x22) {
        i = skipString(s, i);
        continue;
      }
      if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
  }
  // number, true, false, null
  while (i < s.length) {
    const d = s.charCodeAt(i);
    if (d === 0x2c || d === 0x7d || d === 0x5d || WS.has(d)) break;
    i++;
  }
  return i;
}

/**
 * For a JSON array of objects, the source text of member `name` in each element (the last one when
 * repeated, as JSON.parse keeps), or undefined where an element lacks it or is not an object.
 * @example rawMembers('[{"key":"a","value": {"x" : 1}}]', "value") // ['{"x" : 1}']
 */
export function rawMembers(text: string, name: string): (string | undefined)[] {
  const out: (string | undefined)[] = [];
  let i = skipWs(text, 0);
  if (text.charCodeAt(i) !== 0x5b) return out;
  i = skipWs(text, i + 1);
  if (text.charCodeAt(i) === 0x5d) return out;
  for (;;) {
    let found: string | undefined;
    if (text.charCodeAt(i) === 0x7b) {
      i = skipWs(text, i + 1);
      while (text.charCodeAt(i) !== 0x7d) {
        const keyEnd = skipString(text, i);
        const rawKey = text.slice(i + 1, keyEnd - 1);
        const key = rawKey.includes("\\") ? (JSON.parse(text.slice(i, keyEnd)) as string) : rawKey;
        i = skipWs(text, skipWs(text, keyEnd) + 1); // past ':'
        const end = skipValue(text, i);
        if (key === name) found = text.slice(i, end);
        i = skipWs(text, end);
        if (text.charCodeAt(i) === 0x2c) i = skipWs(text, i + 1);
      }
      i++;
    } else {
      i = skipValue(text, i);
    }
    out.push(found);
    i = skipWs(text, i);
    if (text.charCodeAt(i) !== 0x2c) return out;
    i = skipWs(text, i + 1);
  }
}
