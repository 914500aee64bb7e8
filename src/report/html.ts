/** Putting text and data into the self-contained HTML pages (the report, the drawing pad, compare's page). */
import { pageKindTags, type PageKind } from '../io/page-kind.js';

/** JSON that can sit inside a <script> element. */
export function embed(x: unknown): string {
  return JSON.stringify(x).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * JavaScript source that can sit inside a <script> element: "</script" and "<!--" cannot occur in
 * it (written as "<\/script" and "<\!--", the same in a string, a regular expression or a comment).
 */
export function inlineScript(source: string): string {
  return source.replace(/<\/(script)/gi, '<\\/$1').replace(/<!--/g, '<\\!--');
}

export const escapeHtml = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/**
 * The start of every page of cnn-train, up to its title: the generator and kind tags are what let a
 * later run recognise the page as its own, of the same kind, and replace it (src/io/output-paths.ts).
 */
export function pageHead(title: string, kind: PageKind): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
${pageKindTags(kind)}
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>`;
}
