/**
 * Names as WordPress stores them (HTML references), decoded at the mapping
 * edge; variation titles built as WooCommerce builds them. The shapes come
 * from the WooCommerce 7.9 recording.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeEntities, parseOrder, variationTitle } from '../../../connectors/woocommerce/mapping.ts';
import { ksesName } from '../../../connectors/woocommerce/simulator/kses.ts';

interface Case {
  request: { body: Record<string, unknown> | null };
  response: { body: Record<string, unknown> & Array<Record<string, unknown>> };
}
const { cases } = JSON.parse(
  readFileSync(new URL('../../../../shared/fixtures/woocommerce/captures/rest-v3.json', import.meta.url), 'utf8'),
) as { cases: Record<string, Case> };

describe('decodeEntities', () => {
  it('decodes named, decimal and hex references in one pass', () => {
    expect(decodeEntities('Tea &ndash; Earl Grey &amp; Co')).toBe('Tea – Earl Grey & Co');
    expect(decodeEntities('Caf&eacute; &#8220;No&#039;1&#8221; &#x2013; &#X2014; &frac12; &sup2; &euro;')).toBe('Café “No\'1” – — ½ ² €');
    // Old stores wrote windows-1252 code points: browsers show &#150; as an en dash.
    expect(decodeEntities('Tea &#150; Earl Grey')).toBe('Tea – Earl Grey');
    // Once only: an encoded reference is text, not a dash.
    expect(decodeEntities('&amp;ndash; &amp;amp;')).toBe('&ndash; &amp;');
  });

  it('leaves what is not a reference as written', () => {
    for (const s of ['AT&T', 'R&D;', '&unknown;', '&Ndash;', '&#0;', '&#xD800;', '&#x110000;', '& amp;', 'no entities']) {
      expect(decodeEntities(s)).toBe(s);
    }
  });

  it('gives back the text WordPress encoded (wp_filter_post_kses) for names', () => {
    const names = ['Tea – Earl Grey & Co', 'Ben & Jerry\'s "Half Baked"', 'Size > 3 < 5', 'A&B&amp;C', 'Crème brûlée ½ kg', '&#39; &#x41;'];
    const stored = names.map(ksesName);
    expect(stored).toEqual([
      'Tea – Earl Grey &amp; Co',
      'Ben &amp; Jerry\'s "Half Baked"',
      'Size &gt; 3 &lt; 5',
      'A&amp;B&amp;C',
      'Crème brûlée ½ kg',
      '&#039; &#x41;',
    ]);
    expect(stored.map(decodeEntities)).toEqual(['Tea – Earl Grey & Co', 'Ben & Jerry\'s "Half Baked"', 'Size > 3 < 5', 'A&B&C', 'Crème brûlée ½ kg', '\' A']);
  });
});

describe('variation titles', () => {
  it('build the recorded variation name from the parent and the attributes', () => {
    const parent = cases.productCreateVariable!.response.body;
    const variation = cases.variationCreate!.response.body;
    // The variations endpoint sends no name at all; the products endpoint and order lines do.
    expect(variation).not.toHaveProperty('name');
    const title = variationTitle(String(parent.name), variation.attributes as unknown as Array<{ name: string; option: string }>);
    expect(title).toBe(cases.productBySkuVariation!.response.body[0]!.name);
    const line = (cases.orderCreate!.response.body.line_items as Array<{ variation_id: number; name: string }>).find((l) => l.variation_id === variation.id);
    expect(title).toBe(line!.name);
  });

  it('follow WooCommerce: values joined by ", ", none from 3 attributes or with a multi-word name', () => {
    expect(variationTitle('T-shirt', [{ name: 'Color', option: 'Blue' }, { name: 'Size', option: 'L' }])).toBe('T-shirt - Blue, L');
    expect(variationTitle('T-shirt', [{ name: 'Shirt size', option: 'L' }])).toBe('T-shirt - L');
    expect(variationTitle('T-shirt', [{ name: 'Color', option: 'Blue' }, { name: 'Shirt size', option: 'L' }])).toBe('T-shirt');
    expect(variationTitle('T-shirt', [{ name: 'A', option: '1' }, { name: 'B', option: '2' }, { name: 'C', option: '3' }])).toBe('T-shirt');
    expect(variationTitle('T-shirt', [{ name: 'Color', option: '' }, { name: 'Size', option: 'L' }])).toBe('T-shirt - L');
  });
});

describe('order line titles', () => {
  it('decode the names of the recorded order once WordPress has encoded them', () => {
    const raw = structuredClone(cases.orderCreate!.response.body) as unknown as { line_items: Array<{ name: string }> };
    raw.line_items[0]!.name = 'Tea &ndash; Earl Grey &amp; Co';
    raw.line_items[1]!.name = 'Caf&eacute; Tee &#8211; S';
    const order = parseOrder(raw);
    expect(order.lines.map((l) => l.title)).toEqual(['Tea – Earl Grey & Co', 'Café Tee – S']);
  });
});
