/**
 * pdfkit, with the metrics of its standard fonts parsed once per process.
 *
 * Why: pdfkit parses a standard font's AFM file (Helvetica: 3,000 lines of
 * widths and kerning pairs, read with a regular expression a line) for every
 * document that uses it, and a label uses two. That parse was 8 % of the
 * daemon's CPU in `npm run bench -- fulfilment`, more than drawing the labels.
 *
 * How: the parsed tables (`AFMFont.parse` fills `attributes`, `glyphWidths`,
 * `boundingBoxes`, `kernPairs`, which pdfkit only reads afterwards) are kept
 * per file content and handed to every later font with the same content. The
 * class is reached through a probe document's default font, so this depends
 * on no export pdfkit does not make; if pdfkit's shape changes, nothing is
 * patched and it parses as before. The documents are byte for byte the same
 * (`test/fulfilment/label.test.ts`).
 */
import PDFDocument from 'pdfkit';

interface AfmTables {
  attributes: unknown;
  glyphWidths: unknown;
  boundingBoxes: unknown;
  kernPairs: unknown;
}
interface AfmPrototype {
  parse(this: AfmTables, contents: string): void;
  __csCached?: boolean;
}

/** Parses kept so far (one per standard font used); exported for the test that checks they are reused. */
export const parsedFonts = new Map<string, AfmTables>();

function cacheFontMetrics(): void {
  const probe = new PDFDocument({ autoFirstPage: false }) as unknown as { _font?: { font?: { constructor?: { prototype?: AfmPrototype } } } };
  const proto = probe._font?.font?.constructor?.prototype;
  if (!proto || typeof proto.parse !== 'function' || proto.__csCached) return;
  const parse = proto.parse;
  proto.parse = function (this: AfmTables, contents: string) {
    const kept = parsedFonts.get(contents);
    if (kept) {
      Object.assign(this, kept);
      return;
    }
    parse.call(this, contents);
    parsedFonts.set(contents, { attributes: this.attributes, glyphWidths: this.glyphWidths, boundingBoxes: this.boundingBoxes, kernPairs: this.kernPairs });
  };
  proto.__csCached = true;
}

cacheFontMetrics();

export default PDFDocument;
