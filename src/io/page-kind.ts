/**
 * The kinds of HTML page cnn-train writes, named in each page's head, so that an output option
 * replaces only a page of its own kind (src/io/output-paths.ts): `cnn-eval --draw r.html` never
 * replaces the report r.html, nor `--report pad.html` the pad.
 */
export type PageKind = 'report' | 'pad' | 'compare';

export const PAGE_KIND_META = 'cnn-train-page';

export const PAGE_KIND_NAME: Record<PageKind, string> = {
  report: 'a cnn-train report',
  pad: 'a cnn-train drawing pad',
  compare: 'a cnn-train compare page',
};

/** The page's own tags: the generator (any page of cnn-train) and its kind. */
export function pageKindTags(kind: PageKind): string {
  return `<meta name="generator" content="cnn-train">\n<meta name="${PAGE_KIND_META}" content="${kind}">`;
}
