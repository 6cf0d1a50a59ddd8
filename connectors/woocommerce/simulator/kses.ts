/**
 * What WordPress does to a product name before it stores it, so the simulator
 * answers names the way a real store does (`Earl Grey &amp; Co`).
 *
 * WooCommerce sets a product's name through `wp_filter_post_kses`
 * (`WC_REST_Products_Controller::prepare_object_for_database`). Of what
 * `wp_kses` does, names meet three parts: `wp_kses_normalize_entities` (a bare
 * `&` becomes `&amp;`, allowed named references stay, numeric ones are padded
 * to three digits or disarmed when not a valid character),
 * `wp_pre_kses_less_than` (a `<` that opens no tag becomes `&lt;`) and
 * `wp_kses_split` (a stray `>` becomes `&gt;`). Tags allowed in posts are
 * kept; the simulator does not strip the disallowed ones.
 * https://developer.wordpress.org/reference/functions/wp_kses_normalize_entities/
 * https://developer.wordpress.org/reference/functions/wp_pre_kses_less_than/
 */
import { NAMED_ENTITIES } from '../entities.ts';

/** `valid_unicode()` of wp-includes/kses.php. */
function validUnicode(i: number): boolean {
  return i === 0x9 || i === 0xa || i === 0xd || (i >= 0x20 && i <= 0xd7ff) || (i >= 0xe000 && i <= 0xfffd) || (i >= 0x10000 && i <= 0x10ffff);
}

/** `wp_kses_normalize_entities($content, 'html')`. */
export function ksesNormalizeEntities(content: string): string {
  return content
    .replaceAll('&', '&amp;')
    .replace(/&amp;([A-Za-z]{2,8}[0-9]{0,2});/g, (whole, name: string) => (NAMED_ENTITIES.has(name) ? `&${name};` : whole))
    .replace(/&amp;#(0*[0-9]{1,7});/g, (_, digits: string) =>
      validUnicode(Number(digits)) ? `&#${(digits.replace(/^0+/, '') || '0').padStart(3, '0')};` : `&amp;#${digits};`,
    )
    .replace(/&amp;#[Xx](0*[0-9A-Fa-f]{1,6});/g, (_, hex: string) =>
      validUnicode(parseInt(hex, 16)) ? `&#x${hex.replace(/^0+/, '')};` : `&amp;#x${hex};`,
    );
}

/** A product name as `wp_filter_post_kses` stores it. */
export function ksesName(name: string): string {
  return ksesNormalizeEntities(name)
    // esc_html() of the stray part: <, > and both quotes.
    .replace(/<[^>]*?((?=<)|>|$)/g, (m) =>
      m.includes('>') ? m : m.replaceAll('<', '&lt;').replaceAll('"', '&quot;').replaceAll("'", '&#039;'),
    )
    .replace(/(<[^>]*>)|>/g, (m, tag: string | undefined) => tag ?? '&gt;');
}
