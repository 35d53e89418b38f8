// @vitest-environment node
// WCAG 2.2 AA: text colours of the palette in style.css against their backgrounds (≥ 4.5:1).
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const css = readFileSync(fileURLToPath(new URL('./style.css', import.meta.url)), 'utf8');
const vars: Record<string, string> = {};
for (const m of css.matchAll(/--([\w-]+):\s*(#[0-9a-fA-F]{6})/g)) vars[m[1]] = m[2];

function lum(hex: string): number {
  const c = [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16) / 255)
    .map((v) => (v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4));
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}
function ratio(a: string, b: string): number {
  const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
}

const v = (name: string) => vars[name] ?? name;
const pairs: Array<[string, string]> = [
  ['text', 'bg'], ['text', 'surface'], ['muted', 'bg'], ['muted', 'surface'],
  ['#ffffff', 'primary'], ['#ffffff', 'primary-dark'], ['primary', 'surface'], ['primary', 'bg'],
  ['primary-dark', 'primary-weak'], ['ok', 'ok-bg'], ['warn', 'warn-bg'], ['danger', 'danger-bg'],
  ['danger', 'surface'], ['#ffffff', 'danger'], ['#ffffff', 'ok'], ['#5b6670', '#e3e8ec'],
  ['#7a858f', '#eceff2'], ['#101820', '#bfe3ea'], ['#101820', '#c4def0'], ['ok', 'surface'],
];

describe('palette contrast (WCAG AA, 4.5:1 for text)', () => {
  it('reads the palette from style.css', () => {
    expect(Object.keys(vars).length).toBeGreaterThan(10);
  });
  for (const [fg, bg] of pairs) {
    it(`${fg} on ${bg}`, () => {
      const r = ratio(v(fg), v(bg));
      // disabled keys are exempt from the minimum (WCAG 1.4.3), but keep them legible
      const min = fg === '#7a858f' ? 3 : 4.5;
      expect(r, `${v(fg)} on ${v(bg)}: ${r.toFixed(2)}`).toBeGreaterThanOrEqual(min);
    });
  }
  it('form field borders are visible (3:1, non-text)', () => {
    expect(ratio(v('field-line'), v('surface'))).toBeGreaterThanOrEqual(3);
  });
});
