/**
 * Number literals that JSON.parse turns into ±Infinity (1e999, -1e999), by their path in the
 * document ("parameters.k1[0][0][0]"), so that an error can quote the literal rather than print
 * Infinity as JSON (null). Node 20's JSON.parse gives no access to the source text, so the text,
 * already known to be valid JSON, is scanned here: only where a non-finite number was found.
 */

type Frame = { array: true; index: number } | { array: false; key: string; expectKey: boolean };

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const STRING = /"(?:[^"\\]|\\.)*"/y;

function pathOf(stack: Frame[]): string {
  let p = '';
  for (const f of stack) p += f.array ? `[${f.index}]` : p === '' ? f.key : `.${f.key}`;
  return p;
}

/** Path -> literal of every number in `text` (valid JSON) that overflows to ±Infinity; a later duplicate key wins, as in JSON.parse. */
export function overflowingNumbers(text: string): Map<string, string> {
  const found = new Map<string, string>();
  const stack: Frame[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const top = stack[stack.length - 1];
    if (c === '{') {
      stack.push({ array: false, key: '', expectKey: true });
      i++;
    } else if (c === '[') {
      stack.push({ array: true, index: 0 });
      i++;
    } else if (c === '}' || c === ']') {
      stack.pop();
      i++;
    } else if (c === ',') {
      if (top?.array) top.index++;
      else if (top) top.expectKey = true;
      i++;
    } else if (c === ':') {
      if (top && !top.array) top.expectKey = false;
      i++;
    } else if (c === '"') {
      STRING.lastIndex = i;
      const m = STRING.exec(text);
      if (!m) break; // cannot happen in valid JSON
      if (top && !top.array && top.expectKey) top.key = JSON.parse(m[0]) as string;
      i += m[0].length;
    } else if (c === '-' || (c >= '0' && c <= '9')) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (!m) break;
      if (!Number.isFinite(Number(m[0]))) found.set(pathOf(stack), m[0]);
      else found.delete(pathOf(stack));
      i += m[0].length;
    } else {
      i++; // whitespace, true, false, null
    }
  }
  return found;
}
