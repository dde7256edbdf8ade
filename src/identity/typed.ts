/**
 * Numbers as people type them: copied from a card or a text message with spaces (ASCII, or the
 * ideographic space U+3000), phone numbers grouped with hyphens, digits and letters typed
 * full-width by a Chinese input method (１３９, Ｘ). Each parser compacts its input here first,
 * so every form that asks for a number accepts what was typed, and one rule says what is ignored.
 *
 * @example
 *   compactTyped('110105 19491231 002x');                  // '11010519491231002x'
 *   compactTyped('１３９－１２３４－５６７８', { hyphens: true }); // '13912345678'
 */
export function compactTyped(input: string, options: { hyphens?: boolean } = {}): string {
  // NFKC makes full-width digits, letters, the ideographic space and the full-width hyphen ASCII.
  const text = input.normalize('NFKC').replace(/\s+/g, '');
  return options.hyphens ? text.replace(/[-‐‑‒–—]/g, '') : text;
}
